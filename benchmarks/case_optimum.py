"""Time to reach 1e-4 relative suboptimality of the objective.

On the binary and regression problems of the ``estimators`` case, with the
same penalised objective for everyone (``benchmarks/_data.py``; skadam's
default ``alpha`` and the matching ``C = 1 / (alpha n)`` of
``LogisticRegression`` and ``alpha * n`` of ``Ridge``). The optimum ``f*`` is
the best value found by a tightly converged L-BFGS (or the exact ridge
solve). An iterative solver's time to the target is the time of the shortest
fit, over a growing iteration budget (``max_iter``, no other stopping rule),
whose result is within ``1e-4 * |f*|`` of ``f*``. Each budget is fitted once,
so these times are single measurements.
"""

import time
import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge

from skadam import AdamLinearRegressor, AdamLogisticClassifier

from . import _data
from ._timing import ratios

NAME = "optimum"
UNIT = "s to 1e-4"
ALPHA = 1e-4  # skadam's default
TARGET = 1e-4


def timed_fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        est.fit(X, y)
        return time.perf_counter() - start


def solvers(kind, n):
    if kind == "binary":
        return {
            "skadam": lambda k: AdamLogisticClassifier(
                max_iter=k, tol=None, random_state=0
            ),
            "lbfgs": lambda k: LogisticRegression(
                C=1 / (ALPHA * n), max_iter=k, tol=1e-15
            ),
        }
    return {
        "skadam": lambda k: AdamLinearRegressor(max_iter=k, tol=None, random_state=0)
    }


def reference(kind, X, y, n):
    if kind == "binary":
        est = LogisticRegression(C=1 / (ALPHA * n), tol=1e-15, max_iter=10_000)
    else:
        est = Ridge(alpha=ALPHA * n, solver="cholesky")
    seconds = timed_fit(est, X, y)
    return est, seconds


def trajectory(make, kind, X, y, f_star, budgets):
    """Fit with growing budgets until the target is met; return the path."""
    path = []
    for k in budgets:
        est = make(k)
        seconds = timed_fit(est, X, y)
        f = _data.objective(kind, X, y, est.coef_, est.intercept_, ALPHA)
        path.append({"max_iter": k, "seconds": seconds, "subopt": _subopt(f, f_star)})
        if path[-1]["subopt"] <= TARGET:
            break
    return path


def _subopt(f, f_star):
    return max(f - f_star, 0.0) / abs(f_star)


def run_problem(kind, n, d, quick):
    data = (
        _data.regression(n, d) if kind == "regression" else _data.classification(n, d)
    )
    X, y = data[0], data[2]
    ref, ref_seconds = reference(kind, X, y, n)
    f_star = _data.objective(kind, X, y, ref.coef_, ref.intercept_, ALPHA)
    budgets = [1, 2, 4] if quick else [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96]
    results, paths = {}, {}
    for name, make in solvers(kind, n).items():
        path = trajectory(make, kind, X, y, f_star, budgets)
        paths[f"{kind}:{name}"] = path
        if path[-1]["subopt"] <= TARGET:
            seconds = path[-1]["seconds"]
            results[f"{kind}:{name}"] = {"median": seconds, "samples": [seconds]}
    if kind == "regression":  # the direct solve is exact: its time is the time
        results[f"{kind}:Ridge"] = {"median": ref_seconds, "samples": [ref_seconds]}
    return results, paths


def run(quick):
    n, d = (5_000, 20) if quick else (200_000, 100)
    results, paths = {}, {}
    for kind in ("binary", "regression"):
        res, path = run_problem(kind, n, d, quick)
        results.update(res)
        paths.update(path)
    ratio = (
        ratios(results, "binary:skadam", ["binary:lbfgs"])
        if ("binary:skadam" in results)
        else {}
    )
    if "regression:skadam" in results:
        ratio.update(ratios(results, "regression:skadam", ["regression:Ridge"]))
    reached = {name: path[-1]["subopt"] <= TARGET for name, path in paths.items()}
    return {
        "unit": UNIT,
        "params": {
            "n_train": n,
            "d": d,
            "alpha": ALPHA,
            "target": TARGET,
            "repeats": 1,
        },
        "results": results,
        "ratios": ratio,
        "paths": paths,
        "targets": {
            f"{name} reaches 1e-4": {"value": paths[name][-1]["subopt"], "met": ok}
            for name, ok in reached.items()
        },
    }
