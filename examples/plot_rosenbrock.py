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
# A callback records the path of each method: SciPy calls ``callback(xk)``
# after every iteration with the current point. (The other style,
# ``callback(intermediate_result)``, would also hand over ``f``, which costs
# Adam one extra function value per update.)

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


paths, results = {}, {}
for name, method in methods.items():
    path = [x0.copy()]

    def record(xk, path=path):
        path.append(np.copy(xk))

    jac = None if name == "Nelder-Mead" else rosen_der
    results[name] = minimize(rosen, x0, jac=jac, method=method, callback=record)
    paths[name] = np.array(path)

print(f"{'method':12} {'nit':>6} {'nfev':>6} {'njev':>6} {'f(x)':>10}")
for name, res in results.items():
    njev = res.get("njev", 0)
    print(f"{name:12} {res.nit:6d} {res.nfev:6d} {njev:6d} {res.fun:10.2e}")

# %%
# The paths
# ---------
# The Rosenbrock function has a long, curved, flat-bottomed valley, and all
# four methods follow it from the start on the left to the minimum at
# :math:`(1, 1)`. What differs is the number of steps: the quasi-Newton methods
# learn the valley's curvature and take long steps along it; Adam's steps are
# at most about ``learning_rate`` per coordinate, whatever the size of the
# gradient, so it walks the valley in many short steps (the markers of the
# other methods show their iterates; Adam's are too dense to mark).

grid_x, grid_y = np.meshgrid(np.linspace(-1.6, 1.4, 300), np.linspace(-0.6, 1.6, 300))
grid_f = rosen(np.stack([grid_x, grid_y]))

fig, ax = plt.subplots(figsize=(7, 5), layout="constrained")
ax.contourf(
    grid_x,
    grid_y,
    grid_f,
    levels=np.logspace(-2, 3.5, 23),
    cmap="Greys",
    alpha=0.6,
    norm="log",
)
styles = {"Adam": "-", "BFGS": "o-", "L-BFGS-B": "s-", "Nelder-Mead": "^-"}
for name, path in paths.items():
    lw = 3 if name == "Adam" else 1
    ax.plot(path[:, 0], path[:, 1], styles[name], ms=3.5, lw=lw, label=name)
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
# Adam's ``f`` hovers around 1 for hundreds of updates while it walks along the
# flat valley floor, then drops fast once the valley narrows to the minimum.

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
