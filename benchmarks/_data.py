"""Synthetic problems shared by the estimator cases, and their objective.

The objective is written out here, independently of skadam's own loss code,
so that suboptimality is measured by something skadam does not compute::

    f(W, b) = mean_i L_i + (alpha / 2) * ||W||^2

with ``L_i = log(1 + exp(z_i)) - y_i z_i`` (binary logistic) or
``L_i = (y_i - z_i)**2 / 2`` (squared), ``z = X @ W + b``.
"""

import numpy as np
from sklearn.datasets import make_classification, make_regression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

N_TEST = 50_000


def classification(n, d, n_classes=2, dtype=np.float64, seed=0):
    """Standardised ``make_classification`` data: ``Xtr, Xte, ytr, yte``."""
    n_test = min(N_TEST, n // 4)
    X, y = make_classification(
        n_samples=n + n_test,
        n_features=d,
        n_informative=max(2, min(d // 2, 50)),
        n_classes=n_classes,
        random_state=seed,
    )
    X = StandardScaler().fit_transform(X).astype(dtype)
    return train_test_split(X, y, train_size=n, random_state=seed)


def regression(n, d, dtype=np.float64, seed=0):
    """Standardised ``make_regression`` data (y too): ``Xtr, Xte, ytr, yte``."""
    n_test = min(N_TEST, n // 4)
    X, y = make_regression(
        n_samples=n + n_test, n_features=d, noise=10.0, random_state=seed
    )
    X = StandardScaler().fit_transform(X).astype(dtype)
    y = (y - y.mean()) / y.std()
    return train_test_split(X, y, train_size=n, random_state=seed)


def objective(kind, X, y, coef, intercept, alpha):
    """The penalised objective of a fitted linear model (float64)."""
    w = np.ravel(coef).astype(np.float64)
    z = X @ w + float(np.ravel(intercept)[0])
    if kind == "binary":
        losses = np.logaddexp(0.0, z) - y * z
    else:
        losses = 0.5 * (y - z) ** 2
    return float(np.mean(losses) + 0.5 * alpha * (w @ w))
