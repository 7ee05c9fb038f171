"""Estimators, defaults against defaults, on standardised 200,000 x 100 data.

For each problem every contender is fitted with its default parameters
(``random_state=0`` where it has one); the fit time is measured, and the
model's quality on held-out data is recorded with it (test log-loss and
accuracy for the classifiers, test mean squared error for the regressors),
since a fast fit that is worse is no win. Problems: ``binary`` and
``multiclass`` (10 classes) from ``make_classification``; ``regression`` from
``make_regression``.
"""

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import (
    LogisticRegression,
    Ridge,
    SGDClassifier,
    SGDRegressor,
)
from sklearn.metrics import log_loss, mean_squared_error
from sklearn.neural_network import MLPClassifier, MLPRegressor

from skadam import AdamLinearRegressor, AdamLogisticClassifier

from . import _data
from ._timing import compare, ratios

NAME = "estimators"
UNIT = "s/fit"

CLASSIFIERS = {
    "skadam": lambda: AdamLogisticClassifier(random_state=0),
    "MLP_adam": lambda: MLPClassifier(
        hidden_layer_sizes=(), solver="adam", random_state=0
    ),
    "LogisticRegression": LogisticRegression,
    "SGD_log_loss": lambda: SGDClassifier(loss="log_loss", random_state=0),
}
REGRESSORS = {
    "skadam": lambda: AdamLinearRegressor(random_state=0),
    "MLP_adam": lambda: MLPRegressor(
        hidden_layer_sizes=(), solver="adam", random_state=0
    ),
    "Ridge": Ridge,
    "SGDRegressor": lambda: SGDRegressor(random_state=0),
}


def fitter(make, X, y, fitted, key):
    def run():
        est = make()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start = time.perf_counter()
            est.fit(X, y)
            seconds = time.perf_counter() - start
        fitted[key] = est
        return seconds

    return run


def problem(name, n, d):
    if name == "regression":
        return _data.regression(n, d), REGRESSORS
    n_classes = 10 if name == "multiclass" else 2
    return _data.classification(n, d, n_classes=n_classes), CLASSIFIERS


def quality(est, Xte, yte):
    if hasattr(est, "predict_proba"):
        return {
            "test_log_loss": log_loss(yte, est.predict_proba(Xte)),
            "test_accuracy": est.score(Xte, yte),
        }
    return {"test_mse": mean_squared_error(yte, est.predict(Xte))}


def run_problem(name, n, d, repeats):
    (Xtr, Xte, ytr, yte), makers = problem(name, n, d)
    fitted = {}
    contenders = {
        f"{name}:{key}": fitter(make, Xtr, ytr, fitted, key)
        for key, make in makers.items()
    }
    results = compare(contenders, repeats, warmup=0)
    for key, est in fitted.items():
        results[f"{name}:{key}"].update(quality(est, Xte, yte))
        results[f"{name}:{key}"]["n_iter"] = _n_iter(est)
    anchors = [f"{name}:{key}" for key in makers if key != "skadam"]
    return results, ratios(results, f"{name}:skadam", anchors)


def _n_iter(est):
    n_iter = getattr(est, "n_iter_", None)
    return None if n_iter is None else int(np.max(n_iter))


def run(quick):
    n, d = (5_000, 20) if quick else (200_000, 100)
    repeats = 1 if quick else 3
    results, ratio, targets = {}, {}, {}
    for name in ("binary", "multiclass", "regression"):
        res, rat = run_problem(name, n, d, repeats)
        results.update(res)
        ratio.update(rat)
        targets.update(_targets(name, res, rat))
    return {
        "unit": UNIT,
        "params": {"n_train": n, "d": d, "repeats": repeats},
        "results": results,
        "ratios": ratio,
        "targets": targets,
    }


def _targets(name, results, ratio):
    speed = ratio[f"{name}:skadam/{name}:MLP_adam"]
    metric = "test_mse" if name == "regression" else "test_log_loss"
    ours = results[f"{name}:skadam"][metric]
    theirs = results[f"{name}:MLP_adam"][metric]
    return {
        f"{name}: skadam/MLP_adam fit time <= 0.2": {
            "value": speed,
            "met": speed <= 0.2,
        },
        f"{name}: skadam {metric} <= MLP_adam's": {
            "value": ours / theirs,
            "met": ours <= theirs,
        },
    }
