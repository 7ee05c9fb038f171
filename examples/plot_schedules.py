"""
=====================================================
Constant rate, warmup + cosine decay, schedule-free
=====================================================

Three ways to set Adam's step size, on one problem: L2-regularised logistic
regression on the (standardised) breast cancer data.

- a **constant** learning rate;
- a **linear warmup followed by a cosine decay**
  (:class:`skadam.WarmupCosineDecay`, optax's
  ``warmup_cosine_decay_schedule``), a callable of the update count ``t``;
- **schedule-free AdamW** (:class:`skadam.ScheduleFreeAdamW`, Defazio et
  al., 2024), which needs no schedule: it averages its iterates and
  evaluates at the average.

First through :func:`scipy.optimize.minimize` with ``method=adam_minimize``
(options ``learning_rate`` and ``algorithm``), then through
:class:`skadam.AdamLogisticClassifier` (parameters ``learning_rate`` and
``algorithm``). Each curve is the objective of the point each run returns
after ``n`` steps, so that schedule-free is measured at its averaged point.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from scipy.optimize import minimize
from scipy.special import log_expit
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler

from skadam import AdamLogisticClassifier, WarmupCosineDecay, adam_minimize

X, y = load_breast_cancer(return_X_y=True)
X = StandardScaler().fit_transform(X)
alpha, n_steps = 1e-3, 400
steps = np.unique(np.geomspace(1, n_steps, 25).astype(int))


def objective(w):
    """Mean logistic loss plus (alpha/2)||coef||^2; intercept last, unpenalised."""
    z = X @ w[:-1] + w[-1]
    value = -np.mean(y * log_expit(z) + (1 - y) * log_expit(-z))
    return value + 0.5 * alpha * w[:-1] @ w[:-1]


def gradient(w):
    residual = 1 / (1 + np.exp(-(X @ w[:-1] + w[-1]))) - y
    coef = X.T @ residual / len(y) + alpha * w[:-1]
    return np.append(coef, residual.mean())


# %%
# Through ``minimize``
# --------------------
# Each setting runs for ``n`` updates from zero, for a range of ``n``; the
# schedule's cosine ends at the last ``n``.
settings = {
    "constant 0.05": dict(learning_rate=0.05),
    "warmup 20 + cosine, peak 0.1": dict(
        learning_rate=WarmupCosineDecay(0.1, 20, n_steps)
    ),
    "schedule-free, 0.05": dict(algorithm="schedulefree_adamw", learning_rate=0.05),
}
x0 = np.zeros(X.shape[1] + 1)
minimize_curves = {
    label: [
        minimize(
            objective,
            x0,
            jac=gradient,
            method=adam_minimize,
            options=dict(maxiter=int(n), **options),
        ).fun
        for n in steps
    ]
    for label, options in settings.items()
}

# %%
# Through the estimator
# ---------------------
# The same three settings as estimator parameters (full batch: one update an
# epoch; ``tol=None`` runs exactly ``max_iter`` of them).


def estimator_objective(model):
    w = np.append(model.coef_.ravel(), model.intercept_)
    return objective(w)


estimator_curves = {
    label: [
        estimator_objective(
            AdamLogisticClassifier(
                alpha=alpha, batch_size=None, max_iter=int(n), tol=None, **options
            ).fit(X, y)
        )
        for n in steps
    ]
    for label, options in settings.items()
}

# %%
# The curves
# ----------
# The objective above the optimum (found by L-BFGS-B), against the number
# of updates. Warmup + cosine reaches a low value at the end of its schedule,
# which has to be chosen in advance; schedule-free gets there without one.

# Made and drawn in one cell: the gallery saves a figure when its cell ends.
best = minimize(
    objective, x0, jac=gradient, method="L-BFGS-B", options=dict(gtol=1e-10)
).fun  # the optimum, for reference
fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
for ax, curves, title in [
    (axes[0], minimize_curves, "minimize(method=adam_minimize)"),
    (axes[1], estimator_curves, "AdamLogisticClassifier"),
]:
    for label, curve in curves.items():
        ax.plot(steps, np.asarray(curve) - best, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("updates")
    ax.set_title(title)
    ax.legend()
axes[0].set_ylabel("objective - optimum (L-BFGS-B)")
fig.tight_layout()
plt.show()
