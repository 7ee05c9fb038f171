"""
=============================================
Bound constraints by projection, and L-BFGS-B
=============================================

:func:`skadam.adam_minimize` accepts ``bounds`` like SciPy's bounded methods.
Adam itself knows nothing of feasible sets, so skadam *projects*: ``x0`` and
every iterate are clipped into the box. This example compares projected Adam
with L-BFGS-B, SciPy's method for bound-constrained problems, first on a
two-dimensional problem where the paths can be drawn, then on non-negative
least squares.
"""

# %%
# A quadratic whose minimum lies outside the box
# ----------------------------------------------
# :math:`f(x) = (x - c)^\top A (x - c)` with an ill-conditioned :math:`A` and
# its centre :math:`c` outside the box :math:`[-1, 1] \times [-1, 0.5]`. The
# constrained minimum lies on the boundary.

import matplotlib.pyplot as plt
import numpy as np
from scipy.optimize import Bounds, minimize, nnls

from skadam import AdamMinimizer

A = np.array([[3.0, 2.0], [2.0, 6.0]])
c = np.array([-0.2, 1.5])


def f(x):
    d = x - c
    return d @ A @ d


def grad(x):
    return 2 * A @ (x - c)


box = Bounds([-1.0, -1.0], [1.0, 0.5])
x0 = np.array([-0.9, 0.1])


def run(method):
    path = [np.clip(x0, box.lb, box.ub)]

    def record(intermediate_result):
        path.append(np.copy(intermediate_result.x))

    res = minimize(f, x0, jac=grad, method=method, bounds=box, callback=record)
    return res, np.array(path)


adam_res, adam_path = run(AdamMinimizer(learning_rate=0.05, maxiter=2000, gtol=1e-6))
lbfgs_res, lbfgs_path = run("L-BFGS-B")
print(f"Adam:     x = {adam_res.x}, f = {adam_res.fun:.6f}, nit = {adam_res.nit}")
print(f"L-BFGS-B: x = {lbfgs_res.x}, f = {lbfgs_res.fun:.6f}, nit = {lbfgs_res.nit}")

# %%
# Every Adam iterate is feasible. Where the unconstrained step would leave the
# box, projection puts it back on the edge, and the iterates then slide along
# the edge to the constrained minimum, which both methods find.

gx, gy = np.meshgrid(np.linspace(-1.3, 1.3, 200), np.linspace(-1.2, 1.8, 200))
d = np.stack([gx - c[0], gy - c[1]])
gf = np.einsum("i...,ij,j...->...", d, A, d)

fig, ax = plt.subplots(figsize=(6.5, 5), layout="constrained")
ax.contour(gx, gy, gf, levels=20, cmap="Greys")
ax.add_patch(
    plt.Rectangle(
        box.lb, *(box.ub - box.lb), fc="tab:green", alpha=0.15, label="feasible box"
    )
)
ax.plot(*adam_path.T, "-", lw=1.5, label=f"projected Adam ({adam_res.nit} updates)")
ax.plot(*lbfgs_path.T, "s--", ms=5, label=f"L-BFGS-B ({lbfgs_res.nit} iterations)")
ax.plot(*c, "r*", ms=12, label="unconstrained minimum")
ax.set(xlabel="$x_1$", ylabel="$x_2$", title="Minimizing over a box")
ax.set_aspect("equal")
ax.legend(loc="lower right", fontsize="small")

# %%
# Non-negative least squares
# --------------------------
# A larger bound-constrained problem: :math:`\min_x \tfrac12\|Bx - y\|^2`
# subject to :math:`x \ge 0`, with 30 coefficients of which a third are zero at
# the solution. :func:`scipy.optimize.nnls` solves it exactly and serves as the
# reference. ``bounds`` given as ``(low, high)`` pairs, ``None`` for no bound.

rng = np.random.default_rng(0)
B = rng.normal(size=(100, 30))
x_true = np.abs(rng.normal(size=30)) * (rng.random(30) > 0.33)
y = B @ x_true + 0.5 * rng.normal(size=100)


def lsq(x):
    r = B @ x - y
    return 0.5 * r @ r, B.T @ r


bounds = [(0, None)] * 30
x_ref, _ = nnls(B, y)
adam_nnls = minimize(
    lsq,
    np.ones(30),
    jac=True,
    method=AdamMinimizer(learning_rate=0.02, maxiter=5000, gtol=1e-6),
    bounds=bounds,
)
lbfgs_nnls = minimize(lsq, np.ones(30), jac=True, method="L-BFGS-B", bounds=bounds)
for name, res in [("Adam", adam_nnls), ("L-BFGS-B", lbfgs_nnls)]:
    err = np.max(np.abs(res.x - x_ref))
    print(f"{name:8}: nit = {res.nit:5d}, max |x - x_nnls| = {err:.1e}")

# %%
# Both find the coefficients of :func:`~scipy.optimize.nnls`, zeros included:
# the projection sets coefficients exactly to 0, not merely close to it.

fig, ax = plt.subplots(figsize=(7, 3.5), layout="constrained")
idx = np.arange(30)
ax.bar(idx - 0.2, x_ref, width=0.4, label="nnls (exact)", color="0.7")
ax.plot(idx, adam_nnls.x, "o", label="projected Adam")
ax.plot(idx, lbfgs_nnls.x, "x", label="L-BFGS-B")
ax.set(xlabel="coefficient", ylabel="value", title="Non-negative least squares")
ax.set_ylim(top=1.3 * x_ref.max())
ax.legend(ncols=3, loc="upper center")
plt.show()

# %%
# Projection or L-BFGS-B?
# -----------------------
# L-BFGS-B needs far fewer iterations here: the problems are smooth and
# deterministic. Projection is what makes bounds available to Adam when Adam
# is the right tool (noisy gradients, or a model trained with Adam anyway), and
# it keeps every iterate feasible, so a function that is undefined outside the
# box is never evaluated there.
