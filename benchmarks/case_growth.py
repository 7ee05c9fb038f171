"""Fit time against the number of rows n and of features d.

``AdamLogisticClassifier`` for 5 epochs (``max_iter=5, tol=None``, so that
the time measures the work per epoch, not how soon a stopping rule fires),
and ``LogisticRegression()`` with its defaults for reference, on the binary
problem of the ``estimators`` case: n from 10**4 to 10**6 at d = 100, and d
from 10 to 1000 at n = 10**5. One fit per point.
"""

import time
import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from skadam import AdamLogisticClassifier

from . import _data
from ._timing import ratios

NAME = "growth"
UNIT = "s/fit"
MAKERS = {
    "skadam_5_epochs": lambda: AdamLogisticClassifier(
        max_iter=5, tol=None, random_state=0
    ),
    "LogisticRegression": LogisticRegression,
}


def fit_seconds(make, X, y):
    est = make()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        est.fit(X, y)
        return time.perf_counter() - start


def sweep(points, shape):
    """``{maker: [(point, seconds), ...]}`` for data of ``shape(point)``."""
    series = {name: [] for name in MAKERS}
    for point in points:
        n, d = shape(point)
        X, _, y, _ = _data.classification(n + n // 4, d)
        for name, make in MAKERS.items():
            series[name].append((point, fit_seconds(make, X, y)))
    return series


def run(quick):
    ns = [1_000, 3_000] if quick else [10_000, 30_000, 100_000, 300_000, 1_000_000]
    ds = [5, 20] if quick else [10, 30, 100, 300, 1000]
    n_fixed, d_fixed = (2_000, 10) if quick else (100_000, 100)
    series = {
        "n": sweep(ns, lambda n: (n, d_fixed)),
        "d": sweep(ds, lambda d: (n_fixed, d)),
    }
    results = {}
    for axis, by_maker in series.items():
        for name, points in by_maker.items():
            for point, seconds in points:
                results[f"{name}@{axis}={point}"] = {
                    "median": seconds,
                    "samples": [seconds],
                }
    ratio = {}
    for name in MAKERS:
        ratio.update(ratios(results, f"{name}@n={ns[-1]}", [f"{name}@n={ns[0]}"]))
        ratio.update(ratios(results, f"{name}@d={ds[-1]}", [f"{name}@d={ds[0]}"]))
    return {
        "unit": UNIT,
        "params": {
            "ns": ns,
            "ds": ds,
            "n_fixed": n_fixed,
            "d_fixed": d_fixed,
            "repeats": 1,
        },
        "results": results,
        "ratios": ratio,
        "series": series,
        "targets": {},
    }
