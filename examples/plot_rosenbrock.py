"""
=====================================================
Adam against SciPy's methods on the Rosenbrock valley
=====================================================

:func:`skadam.adam_minimize` is a method for :func:`scipy.optimize.minimize`,
so it can be compared with SciPy's own methods on equal terms: same function,
same starting point, same call. Here the contenders are BFGS and L-BFGS-B
(quasi-Newton, with line searches), Nelder-Mead (no gradients at all) and Adam,
on the Rosenbrock function from the classic start :math:`(-1.2, 1)`.
"""

# %%
# Run the four methods
# --------------------
# A callback records the path of each method. SciPy calls it after every
# iteration with an ``intermediate_result`` holding the current point.

import time

import matplotlib.pyplot as plt
import numpy as np
from scipy.optimize import minimize, rosen, rosen_der

from skadam import AdamMinimizer

x0 = np.array([-1.2, 1.0])
methods = {
    "Adam": AdamMinimizer(learning_rate=0.05, maxiter=10_000, gtol=1e-5),
    "BFGS": "BFGS",
    "L-BFGS-B": "L-BFGS-B",
    "Nelder-Mead": "Nelder-Mead",
}

paths, results, times = {}, {}, {}
for name, method in methods.items():
    path = [x0.copy()]

    def record(intermediate_result, path=path):
        path.append(np.copy(intermediate_result.x))

    jac = None if name == "Nelder-Mead" else rosen_der
    start = time.perf_counter()
    results[name] = minimize(rosen, x0, jac=jac, method=method, callback=record)
    times[name] = time.perf_counter() - start
    paths[name] = np.array(path)

print(f"{'method':12} {'nit':>6} {'nfev':>6} {'njev':>6} {'f(x)':>10}  time")
for name, res in results.items():
    njev = res.get("njev", 0)
    print(
        f"{name:12} {res.nit:6d} {res.nfev:6d} {njev:6d} {res.fun:10.2e}"
        f"  {times[name] * 1e3:.1f} ms"
    )

# %%
# The paths
# ---------
# The Rosenbrock function has a long, curved, flat-bottomed valley. The
# quasi-Newton methods learn its curvature and follow the valley in a few
# dozen steps. Adam's steps are about ``learning_rate`` long in each
# coordinate whatever the gradient's size: it runs down into the valley, then
# walks along it with momentum, zig-zagging across the narrow floor.

grid_x, grid_y = np.meshgrid(np.linspace(-1.6, 1.4, 300), np.linspace(-0.6, 1.6, 300))
grid_f = rosen(np.stack([grid_x, grid_y]))

fig, ax = plt.subplots(figsize=(7, 5), layout="constrained")
ax.contour(grid_x, grid_y, grid_f, levels=np.logspace(-1, 3, 15), cmap="Greys")
styles = {"Adam": "-", "BFGS": "o-", "L-BFGS-B": "s-", "Nelder-Mead": "^-"}
for name, path in paths.items():
    ax.plot(path[:, 0], path[:, 1], styles[name], ms=3, lw=1.2, label=name)
ax.plot(*x0, "ko", label="start")
ax.plot(1, 1, "r*", ms=14, label="minimum (1, 1)")
ax.set(xlabel="x", ylabel="y", title="Paths on the Rosenbrock function")
ax.legend(loc="lower right")

# %%
# f against iterations
# --------------------
# An iteration means different things: one Adam update costs one gradient,
# one BFGS iteration a line search (a few function and gradient calls), one
# Nelder-Mead iteration one or two function values. The table above gives the
# evaluation counts; the plot shows progress per iteration, on log axes.

fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
for name, path in paths.items():
    values = rosen(path.T)
    ax.loglog(np.arange(1, len(values) + 1), values, label=name)
ax.set(xlabel="iteration + 1", ylabel="f(x)", title="Rosenbrock: f against iterations")
ax.legend()
plt.show()

# %%
# What this shows
# ---------------
# On a smooth, deterministic, low-dimensional problem, BFGS-type methods win by
# orders of magnitude: they use curvature, Adam does not. Adam earns its place
# where they cannot go: noisy or sampled gradients (the estimators train on
# mini-batches), problems too large for a line search, or when the same
# optimizer as in a neural-network library is wanted. Its ``learning_rate`` is
# the main knob: larger steps reach the valley sooner but rattle along it.
