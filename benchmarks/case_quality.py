"""Test scores of the estimators' defaults against LogisticRegression / Ridge.

On scikit-learn's bundled datasets, targets as they come, each model in a
``make_pipeline(StandardScaler(), model)``, over several random train/test
splits (stratified for the classifiers): ``AdamLogisticClassifier()`` against
``LogisticRegression(max_iter=10_000)`` (accuracy) and
``AdamLinearRegressor()`` against ``Ridge()`` (R²), skadam with
``random_state`` set to the split's seed. The timed contenders are the fits
(seconds per fit, one sample per split); under ``scores`` each dataset
records both mean test scores, skadam's mean number of epochs and how many
of its fits ended with a ``ConvergenceWarning``.
"""

import time
import warnings

import numpy as np
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skadam import AdamLinearRegressor, AdamLogisticClassifier

from ._timing import compare, ratios

NAME = "quality"
UNIT = "s/fit"
CLASSIFICATION = ["iris", "wine", "breast_cancer", "digits"]
REGRESSION = ["diabetes", "linnerud"]
# The largest shortfall of skadam's mean test score the target accepts.
TOLERANCE = 0.01


def _models(name, seed):
    if name in CLASSIFICATION:
        return {
            "skadam": AdamLogisticClassifier(random_state=seed),
            "reference": LogisticRegression(max_iter=10_000),
        }
    return {"skadam": AdamLinearRegressor(random_state=seed), "reference": Ridge()}


def _fitter(name, key, splits, record):
    """A contender: each call fits on the next split and returns its seconds."""
    seeds = iter(range(len(splits)))

    def fit_next_split():
        seed = next(seeds)
        X_train, X_test, y_train, y_test = splits[seed]
        model = make_pipeline(StandardScaler(), _models(name, seed)[key])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            start = time.perf_counter()
            model.fit(X_train, y_train)
            seconds = time.perf_counter() - start
        record[key].append(model.score(X_test, y_test))
        if key == "skadam":
            record["epochs"].append(model[-1].n_iter_)
            record["warnings"] += sum(
                issubclass(w.category, ConvergenceWarning) for w in caught
            )
        return seconds

    return fit_next_split


def run_dataset(name, n_splits):
    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    stratify = y if name in CLASSIFICATION else None
    splits = [
        train_test_split(X, y, random_state=seed, stratify=stratify)
        for seed in range(n_splits)
    ]
    record = {"skadam": [], "reference": [], "epochs": [], "warnings": 0}
    contenders = {
        f"{name}:{key}": _fitter(name, key, splits, record)
        for key in ("skadam", "reference")
    }
    results = compare(contenders, n_splits, warmup=0)
    scores = {
        "metric": "accuracy" if name in CLASSIFICATION else "R^2",
        "skadam": float(np.mean(record["skadam"])),
        "reference": float(np.mean(record["reference"])),
        "skadam_epochs": float(np.mean(record["epochs"])),
        "skadam_convergence_warnings": record["warnings"],
    }
    return results, ratios(results, f"{name}:skadam", [f"{name}:reference"]), scores


def _target(name, scores):
    gap = scores["reference"] - scores["skadam"]
    return {
        f"{name}: skadam's test score >= reference's - {TOLERANCE}": {
            "value": gap,
            "met": bool(gap <= TOLERANCE),
        }
    }


def run(quick):
    names = ["iris", "diabetes"] if quick else CLASSIFICATION + REGRESSION
    n_splits = 2 if quick else 5
    runs = {name: run_dataset(name, n_splits) for name in names}
    scores = {name: scores for name, (_, _, scores) in runs.items()}
    return {
        "unit": UNIT,
        "params": {"datasets": names, "repeats": n_splits, "tolerance": TOLERANCE},
        "results": {k: v for res, _, _ in runs.values() for k, v in res.items()},
        "ratios": {k: v for _, rat, _ in runs.values() for k, v in rat.items()},
        "scores": scores,
        "targets": {
            k: v for name in names for k, v in _target(name, scores[name]).items()
        },
    }
