"""Test scores of the estimators' defaults against LogisticRegression / Ridge.

Each estimator runs in a Pipeline after StandardScaler on scikit-learn's bundled
datasets, over several random train/test splits; the targets are used as they
come.  Run: ``python benchmarks/bench_estimator_quality.py [param=value ...]``
(the optional parameters are passed to both skadam estimators).
"""

import sys
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

CLASSIFICATION = ["iris", "wine", "breast_cancer", "digits"]
REGRESSION = ["diabetes", "linnerud"]


def compare(name, params, n_splits=5):
    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    is_clf = name in CLASSIFICATION
    ours = (AdamLogisticClassifier if is_clf else AdamLinearRegressor)(**params)
    ref = LogisticRegression(max_iter=10_000) if is_clf else Ridge()
    scores, ref_scores, epochs, seconds, warned = [], [], [], 0.0, 0
    for seed in range(n_splits):
        split = train_test_split(
            X, y, random_state=seed, stratify=y if is_clf else None
        )
        X_train, X_test, y_train, y_test = split
        model = make_pipeline(StandardScaler(), ours.set_params(random_state=seed))
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            model.fit(X_train, y_train)
        seconds += time.perf_counter() - start
        warned += len(caught)
        scores.append(model.score(X_test, y_test))
        epochs.append(model[-1].n_iter_)
        reference = make_pipeline(StandardScaler(), ref).fit(X_train, y_train)
        ref_scores.append(reference.score(X_test, y_test))
    return np.mean(scores), np.mean(ref_scores), np.mean(epochs), seconds, warned


def main(argv):
    params = {}
    for arg in argv:
        key, value = arg.split("=")
        params[key] = eval(value)  # numbers, None, strings in quotes
    metric = {True: "accuracy", False: "R^2"}
    print(f"params: {params}")
    print(
        f"{'dataset':14} {'metric':9} {'skadam':>8} {'sklearn':>8} {'epochs':>7} "
        f"{'fit s':>6} warnings"
    )
    for name in CLASSIFICATION + REGRESSION:
        mean, ref, epochs, seconds, warned = compare(name, params)
        print(
            f"{name:14} {metric[name in CLASSIFICATION]:9} {mean:8.4f} {ref:8.4f} "
            f"{epochs:7.0f} {seconds:6.2f} {warned}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
