"""
The lesson, reproduced: Adam on x² + y²
=======================================

skadam starts from a lesson that writes Adam from scratch in NumPy and runs it
on ``f(x, y) = x² + y²`` from ``(3, 4)`` with ``learning_rate=0.02``,
``beta1=0.9``, ``beta2=0.9999``, ``epsilon=1e-8`` and no bias correction,
printing the state after epochs 0, 30, ..., 150. Here the same run goes
through :func:`scipy.optimize.minimize` with ``method=adam_minimize`` and prints
the lesson's lines digit for digit. Then we switch the bias correction of
Kingma & Ba's Algorithm 1 back on and look at what changes.
"""

# %%
# The lesson's problem and settings
# ---------------------------------
# The lesson's loop runs 151 epochs (``range(max_epochs + 1)``), one update
# each, so ``maxiter=151``: ``nit`` counts updates, and epoch ``k`` ends with
# update ``k + 1``. ``gtol=0`` switches the gradient test off so that all 151
# updates are taken, as in the lesson.
import matplotlib.pyplot as plt
import numpy as np
from scipy.optimize import minimize

from skadam import adam_minimize


def f(x):
    return x[0] ** 2 + x[1] ** 2


def df(x):
    return np.array([2 * x[0], 2 * x[1]])


lesson_options = {
    "learning_rate": 0.02,
    "beta_1": 0.9,
    "beta_2": 0.9999,
    "epsilon": 1e-8,
    "bias_correction": False,
    "maxiter": 151,
    "gtol": 0.0,
}

# %%
# The lesson's printed output, through ``minimize``
# -------------------------------------------------
# A callback whose parameter is named ``intermediate_result`` receives the
# iterate and the update count ``nit`` after every update (this style also
# evaluates ``f`` at each iterate; ``callback(xk)`` would not).


def print_lesson_epochs(intermediate_result):
    epoch = intermediate_result.nit - 1
    if epoch % 30 == 0:
        print(f"Epoch {epoch}, current state: {intermediate_result.x}")


x0 = np.array([3.0, 4.0])
lesson = minimize(
    f,
    x0,
    method=adam_minimize,
    jac=df,
    callback=print_lesson_epochs,
    options=lesson_options,
)

# %%
# What bias correction changes
# ----------------------------
# ``m`` and ``v`` start at zero, so early on they underestimate the moments.
# Without the correction the first step is ``lr * (1 - beta_1) / sqrt(1 -
# beta_2)`` per coordinate, ten times the learning rate here (3 -> 2.8 after
# epoch 0), a factor set by the betas that fades only over thousands of
# updates. With it, as in Algorithm 1 of Kingma & Ba, every step is about
# ``learning_rate`` from the first update, whatever the betas: that is why it
# is skadam's default, as it is torch's and optax's. What differs is the step
# size, not the direction: at the lesson's learning rate the corrected run
# moves ten times slower at first; given the lesson's first step,
# ``learning_rate=0.2``, it ends as close to the minimum.
corrected = {
    learning_rate: minimize(
        f,
        x0,
        method=adam_minimize,
        jac=df,
        options={
            **lesson_options,
            "bias_correction": True,
            "learning_rate": learning_rate,
        },
    )
    for learning_rate in (0.02, 0.2)
}
print(f"After epoch 150 without bias correction: {lesson.x}, f = {lesson.fun:.3g}")
for learning_rate, result in corrected.items():
    print(
        f"After epoch 150 with bias correction, learning_rate={learning_rate:g}: "
        f"{result.x}, f = {result.fun:.3g}"
    )

# %%
# Both trajectories
# -----------------
# An old-style callback, ``callback(xk)``, receives a copy of each iterate:
# ``list.append`` collects the path.


def trajectory(bias_correction, learning_rate):
    path = [x0]
    options = {
        **lesson_options,
        "bias_correction": bias_correction,
        "learning_rate": learning_rate,
    }
    minimize(f, x0, method=adam_minimize, jac=df, callback=path.append, options=options)
    return np.array(path)


fig, ax = plt.subplots(figsize=(5.5, 6.5), layout="constrained")
grid = np.linspace(-1.0, 4.5, 200)
xx, yy = np.meshgrid(grid, grid)
ax.contour(xx, yy, xx**2 + yy**2, levels=15, colors="0.8")
for bias_correction, learning_rate, label in [
    (False, 0.02, "the lesson: no bias correction, learning_rate=0.02"),
    (True, 0.02, "bias correction (the default), learning_rate=0.02"),
    (True, 0.2, "bias correction, learning_rate=0.2"),
]:
    path = trajectory(bias_correction, learning_rate)
    ax.plot(path[:, 0], path[:, 1], ".-", markersize=3, label=label)
ax.plot(0, 0, "k*", label="minimum")
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.set_title("Adam on x² + y², 151 updates from (3, 4)")
fig.legend(loc="outside lower center", fontsize="small")
plt.show()
