"""Per-epoch overhead of ``adam_minimize``'s stochastic mode (``batch_size``).

The problem: a hand-written L2-regularised logistic regression, mean loss and
gradient on packed coefficients (intercept last), 20,000 x 10 float64 data,
minibatches of 256 rows (79 updates per epoch), Adam's default
hyperparameters. Contenders, the same epochs of updates:

- ``minimize_minibatch``: ``scipy.optimize.minimize(..., method=adam_minimize,
  jac=True, options={"batch_size": 256, ...})`` with ``gtol=0`` (the run is
  a fixed number of updates); it includes the full-data ``fun``/``jac`` at the
  result, one call;
- ``numpy_minibatch_loop``: the loop a user would write by hand: a
  permutation per epoch, rows gathered with ``X[rows]``, the same loss
  function, and Adam's update written in NumPy.

Their ratio is the price of the minimizer's machinery per epoch (copies of
``x`` for the user's function, the stopping tests, the callback and history
hooks). Public API only.
"""

import math

import numpy as np
from scipy.optimize import minimize

from skadam import adam_minimize

from ._timing import clock, compare, ratios

NAME = "stochastic"
UNIT = "ms/epoch"
BATCH = 256


def logistic(w, X, y, alpha):
    z = X @ w[:-1] + w[-1]
    loss = np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * alpha * w[:-1] @ w[:-1]
    r = (0.5 * (1.0 + np.tanh(0.5 * z)) - y) / len(y)
    g = np.empty_like(w)
    g[:-1] = X.T @ r + alpha * w[:-1]
    g[-1] = r.sum()
    return loss, g


def data(n, d):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d))
    z = X @ rng.uniform(-2, 2, d) + 0.5
    y = (rng.random(n) < 0.5 * (1.0 + np.tanh(0.5 * z))).astype(float)
    return X, y, 1e-3


def minimize_epochs(args, epochs):
    updates = epochs * math.ceil(len(args[1]) / BATCH)
    options = {"batch_size": BATCH, "maxiter": updates, "gtol": 0.0, "rng": 0}
    x0 = np.zeros(args[0].shape[1] + 1)
    res = minimize(logistic, x0, args=args, jac=True, method=adam_minimize,
                   options=options)  # fmt: skip
    if res.nit != updates:
        raise RuntimeError(f"stopped after {res.nit} of {updates} updates")


def numpy_epochs(args, epochs, lr=0.001, b1=0.9, b2=0.999, eps=1e-8):
    X, y, alpha = args
    rng = np.random.default_rng(0)
    w = np.zeros(X.shape[1] + 1)
    m, v, t = np.zeros_like(w), np.zeros_like(w), 0
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for begin in range(0, len(y), BATCH):
            rows = order[begin : begin + BATCH]
            _, g = logistic(w, X[rows], y[rows], alpha)
            t += 1
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            w -= lr / (1 - b1**t) * m / (np.sqrt(v / (1 - b2**t)) + eps)
    logistic(w, X, y, alpha)  # the full-data value at the end, as minimize


def per_epoch_ms(run, args, epochs):
    def contender():
        return clock(run, args, epochs) / epochs * 1e3

    return contender


def run(quick):
    n, epochs = (2_000, 2) if quick else (20_000, 20)
    repeats = 3 if quick else 9
    args = data(n, 10)
    contenders = {
        "minimize_minibatch": per_epoch_ms(minimize_epochs, args, epochs),
        "numpy_minibatch_loop": per_epoch_ms(numpy_epochs, args, epochs),
    }
    results = compare(contenders, repeats)
    ratio = ratios(results, "minimize_minibatch", ["numpy_minibatch_loop"])
    value = ratio["minimize_minibatch/numpy_minibatch_loop"]
    return {
        "unit": UNIT,
        "params": {
            "n": n,
            "d": 10,
            "batch_size": BATCH,
            "epochs": epochs,
            "repeats": repeats,
        },
        "results": results,
        "ratios": ratio,
        "targets": {
            "minimize_minibatch/numpy_minibatch_loop <= 1.5": {
                "value": value,
                "met": value <= 1.5,
            }
        },
    }
