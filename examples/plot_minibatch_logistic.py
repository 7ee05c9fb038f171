"""
=========================================================
Logistic regression by ``minimize``, one minibatch a step
=========================================================

SciPy has no stochastic method, yet most objectives people minimise with
Adam are means over data. With ``batch_size``, :func:`skadam.adam_minimize`
hands your ``fun`` a shuffled minibatch of the sample arrays in ``args`` at
every update. Here it fits an L2-regularised logistic regression written by
hand, on the breast cancer data, and meets two estimators that minimise the
same objective: :class:`skadam.AdamLogisticClassifier` and scikit-learn's
:class:`~sklearn.linear_model.LogisticRegression`. The end shows the
checkpoint/resume recipe: a run saved half-way and continued equals the run
in one go, bit for bit.
"""

# %%
# The data and the objective
# --------------------------
# The features are standardised (Adam's step is the same size in every
# coordinate, so features on wildly different scales slow it down). The
# objective is the mean logistic loss plus ``alpha / 2 * |coef|**2``, with
# the intercept as the last entry of ``w``: the objective of
# ``LogisticRegression(C=1 / (n_samples * alpha))`` and of
# ``AdamLogisticClassifier(alpha=alpha)``.

import pickle

import matplotlib.pyplot as plt
import numpy as np
from scipy.optimize import minimize
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skadam import AdamLogisticClassifier, adam_minimize

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
y_train = y_train.astype(float)
n_samples, n_features = X_train.shape
alpha = 1e-2


def logistic(w, X, y, alpha):
    """Mean logistic loss + alpha/2 |coef|^2, and its gradient."""
    z = X @ w[:-1] + w[-1]
    loss = np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * alpha * w[:-1] @ w[:-1]
    r = (0.5 * (1.0 + np.tanh(0.5 * z)) - y) / len(y)
    return loss, np.append(X.T @ r + alpha * w[:-1], r.sum())


args = (X_train, y_train, alpha)

# %%
# Three fits of one objective
# ---------------------------
# ``X_train`` and ``y_train`` have one row per sample, so both are sliced
# into minibatches of 32 rows; ``alpha``, a number, is passed as it is. An
# epoch is ``ceil(426 / 32) = 14`` updates, and ``maxiter`` counts updates.
# ``return_all=True`` keeps every iterate, to draw the path.

batch, epochs = 32, 100
per_epoch = -(-n_samples // batch)
res = minimize(
    logistic,
    np.zeros(n_features + 1),
    args=args,
    jac=True,
    method=adam_minimize,
    options={
        "batch_size": batch,
        "learning_rate": 0.01,
        "maxiter": epochs * per_epoch,
        "gtol": 0.0,
        "rng": 0,
        "return_all": True,
    },
)
sklearn_lr = LogisticRegression(C=1 / (n_samples * alpha), tol=1e-10).fit(
    X_train, y_train
)
estimator = AdamLogisticClassifier(alpha=alpha, random_state=0).fit(X_train, y_train)
best = logistic(np.append(sklearn_lr.coef_, sklearn_lr.intercept_), *args)[0]


def accuracy(w):
    return np.mean(((X_test @ w[:-1] + w[-1]) > 0) == y_test)


print(f"{'':28s} objective   test accuracy")
for name, w in [
    ("minimize, minibatches", res.x),
    ("AdamLogisticClassifier", np.append(estimator.coef_, estimator.intercept_)),
    ("LogisticRegression", np.append(sklearn_lr.coef_, sklearn_lr.intercept_)),
]:
    print(f"{name:28s} {logistic(w, *args)[0]:.6f}   {accuracy(w):.3f}")
print(f"minimize: {res.nit} updates, {res.nfev} calls of fun, {res.message}")

# %%
# The path, on the full data
# --------------------------
# ``res.allfuns`` holds the minibatch values the updates used; the full-data
# objective along the path is computed here from ``res.allvecs``. The
# minibatch noise leaves a gap that a smaller ``learning_rate`` (or a
# decaying schedule) would shrink.

gap = [logistic(w, *args)[0] - best for w in res.allvecs[::per_epoch]]
fig, ax = plt.subplots(figsize=(6, 4))
ax.semilogy(np.arange(len(gap)), np.maximum(gap, 1e-12))
ax.set_xlabel("epoch")
ax.set_ylabel("objective - LogisticRegression's optimum")
ax.set_title("adam_minimize with batch_size=32")
fig.tight_layout()

# %%
# Checkpoint and resume
# ---------------------
# ``res.state`` is Adam's state after the last update; saved with ``res.x``,
# it lets a later call continue the run with ``initial_state``. In the
# stochastic mode a continuation is exact when the first call stopped at the
# end of an epoch and both calls draw from the same Generator.

options = {"batch_size": batch, "learning_rate": 0.01, "gtol": 0.0}
half = epochs // 2 * per_epoch
rng = np.random.default_rng(0)
first = minimize(logistic, np.zeros(n_features + 1), args=args, jac=True,
                 method=adam_minimize,
                 options={**options, "maxiter": half, "rng": rng})  # fmt: skip
checkpoint = pickle.dumps((first.x, first.state, rng))  # to disk, say

x, state, rng = pickle.loads(checkpoint)
second = minimize(logistic, x, args=args, jac=True, method=adam_minimize,
                  options={**options, "maxiter": half, "rng": rng,
                           "initial_state": state})  # fmt: skip
whole = minimize(logistic, np.zeros(n_features + 1), args=args, jac=True,
                 method=adam_minimize,
                 options={**options, "maxiter": 2 * half, "rng": 0})  # fmt: skip
print("resumed run equals the run in one go:", np.array_equal(second.x, whole.x))
