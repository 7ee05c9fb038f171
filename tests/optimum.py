"""The estimators' exact optimum, computed independently of skadam.

The objective is written out here, as the estimators document it::

    f(W, b) = (1/n) sum_i L_i(x_i W^T + b) + (alpha / 2) ||W||_F^2

(``L`` the half squared error, or the logistic / multinomial negative
log-likelihood), and minimised by scipy's L-BFGS-B at a tight ``gtol`` on the
standardised features (``W = V / sd``, ``b = c - W @ mean``): the same
objective, well conditioned, so L-BFGS-B reaches it (on raw wine,
``LogisticRegression`` stops 2.9 % above it). The gradient of the result is
checked, so that the oracle vouches for itself.
"""

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp, softmax


def encode(y, classes):
    """One-hot targets, or one column of 0/1 for two classes."""
    index = np.searchsorted(classes, y)
    if len(classes) == 2:
        return (index == 1).astype(float)[:, None]
    return (index[:, None] == np.arange(len(classes))).astype(float)


def objective(W, b, X, Y, alpha, logistic):
    """``f(W, b)`` and its gradient ``(dW, db)``; ``Y`` from :func:`encode`."""
    Z = X @ W.T + b
    n = len(X)
    if not logistic:
        R = Z - Y
        value = 0.5 * np.sum(R**2) / n
    elif Y.shape[1] == 1:  # binary: log(1 + e^z) - y z
        value = np.sum(np.logaddexp(0.0, Z) - Y * Z) / n
        R = 1.0 / (1.0 + np.exp(-Z)) - Y
    else:
        value = np.sum(logsumexp(Z, axis=1) - np.sum(Y * Z, axis=1)) / n
        R = softmax(Z, axis=1) - Y
    value += 0.5 * alpha * np.sum(W**2)
    return value, R.T @ X / n + alpha * W, R.sum(axis=0) / n


def exact_optimum(X, Y, alpha, logistic, gtol=1e-12):
    """Return ``(W, b, f*)`` for raw ``X`` (shape (n, d)), ``Y`` (shape (n, K)).

    Least squares: the closed form (the normal equations of the centred
    data). Logistic: L-BFGS-B. Raises AssertionError when the gradient at the
    result (in standardised coordinates) is not tiny.
    """
    if not logistic:
        mean, y_mean = X.mean(axis=0), Y.mean(axis=0)
        Xc = X - mean
        A = Xc.T @ Xc / len(X) + alpha * np.eye(X.shape[1])
        W = np.linalg.solve(A, Xc.T @ (Y - y_mean) / len(X)).T
        b = y_mean - W @ mean
        return W, b, objective(W, b, X, Y, alpha, logistic)[0]
    mean, sd = X.mean(axis=0), X.std(axis=0)
    sd[sd == 0] = 1.0
    Xs = (X - mean) / sd
    K, d = Y.shape[1], X.shape[1]

    def fg(packed):
        V, c = packed[: K * d].reshape(K, d), packed[K * d :]
        # The same objective in (V, c): the penalty of W = V / sd.
        value, dV, dc = objective(V, c, Xs, Y, 0.0, logistic)
        value += 0.5 * alpha * np.sum((V / sd) ** 2)
        dV += alpha * V / sd**2
        return value, np.concatenate([dV.ravel(), dc])

    x = np.zeros(K * (d + 1))
    for _ in range(3):  # restarts drop a stale curvature memory
        result = minimize(
            fg,
            x,
            jac=True,
            method="L-BFGS-B",
            options={"gtol": gtol, "ftol": 0.0, "maxiter": 100_000, "maxcor": 50},
        )
        x = result.x
    V, c = result.x[: K * d].reshape(K, d), result.x[K * d :]
    W = V / sd
    b = c - W @ mean
    gmax = np.max(np.abs(fg(result.x)[1]))
    assert gmax < 1e-8, (gmax, result.message)
    return W, b, objective(W, b, X, Y, alpha, logistic)[0]
