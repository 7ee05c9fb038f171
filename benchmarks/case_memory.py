"""Memory of ``fit`` beyond X, sparse input, and the float32 path.

Peak memory is measured with :mod:`tracemalloc` (NumPy and SciPy report their
allocations to it) while ``fit`` runs, X having been created before. Rows:

- ``skadam_dense`` / ``MLP_adam_dense``: float64 X of n x 100 (n = 10**6);
- ``skadam_regressor_dense``: ``AdamLinearRegressor`` on the same X, with a
  real target (the regressor also scales the target);
- ``skadam_sparse``: a CSR X of the same shape with 1% non-zeros (a fit that
  densified it would allocate the dense size);
- ``X_dense`` / ``X_sparse``: the sizes of the inputs, for the ratios.

The float32 path is timed against float64 on the same data (``float32_fit``
and ``float64_fit``, in seconds, under ``timing``).
"""

import time
import tracemalloc
import warnings

import numpy as np
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from skadam import AdamLinearRegressor, AdamLogisticClassifier

from . import _data
from ._timing import compare, ratios

NAME = "memory"
UNIT = "MB"


def peak_fit_mb(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        tracemalloc.start()
        try:
            est.fit(X, y)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return peak / 1e6


def sparse_problem(n, d, density=0.01, seed=0):
    rng = np.random.default_rng(seed)
    X = sparse.random(n, d, density=density, format="csr", random_state=rng)
    y = (X @ rng.standard_normal(d) > 0).astype(int)
    return X, y


def fit_seconds(X, y):
    def run():
        est = AdamLogisticClassifier(max_iter=5, tol=None, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start = time.perf_counter()
            est.fit(X, y)
            seconds = time.perf_counter() - start
        assert est.coef_.dtype == X.dtype
        return seconds

    return run


def run(quick):
    n, d = (20_000, 100) if quick else (1_000_000, 100)
    X, _, y, _ = _data.classification(n + n // 4, d)
    # A real target on the same X: a fixed linear rule (its values don't matter).
    z = X @ np.linspace(-1.0, 1.0, d)
    Xs, ys = sparse_problem(n, d)
    mlp = MLPClassifier(hidden_layer_sizes=(), solver="adam", random_state=0)
    results = {
        "X_dense": X.nbytes / 1e6,
        "skadam_dense": peak_fit_mb(AdamLogisticClassifier(random_state=0), X, y),
        "MLP_adam_dense": peak_fit_mb(mlp, X, y),
        "skadam_regressor_dense": peak_fit_mb(
            AdamLinearRegressor(random_state=0), X, z
        ),
        "X_sparse": (Xs.data.nbytes + Xs.indices.nbytes + Xs.indptr.nbytes) / 1e6,
        "skadam_sparse": peak_fit_mb(AdamLogisticClassifier(random_state=0), Xs, ys),
    }
    results = {k: {"median": v, "samples": [v]} for k, v in results.items()}
    ratio = ratios(results, "skadam_dense", ["X_dense"])
    ratio.update(ratios(results, "MLP_adam_dense", ["X_dense"]))
    ratio.update(ratios(results, "skadam_regressor_dense", ["X_dense"]))
    ratio.update(ratios(results, "skadam_sparse", ["X_dense", "X_sparse"]))
    timing = compare(
        {
            "float32_fit": fit_seconds(X.astype(np.float32), y),
            "float64_fit": fit_seconds(X, y),
        },
        repeats=1 if quick else 3,
    )
    f32 = timing["float32_fit"]["median"] / timing["float64_fit"]["median"]
    dense, densified = ratio["skadam_dense/X_dense"], ratio["skadam_sparse/X_dense"]
    regressor = ratio["skadam_regressor_dense/X_dense"]
    return {
        "unit": UNIT,
        "params": {"n": n, "d": d, "sparse_density": 0.01, "repeats": 1},
        "results": results,
        "ratios": ratio,
        "timing": timing,
        "targets": {
            "skadam peak beyond X <= 0.1 X": {"value": dense, "met": dense <= 0.1},
            "regressor peak beyond X <= 0.1 X": {
                "value": regressor,
                "met": regressor <= 0.1,
            },
            "sparse X not densified (peak < 0.5 dense X)": {
                "value": densified,
                "met": densified < 0.5,
            },
            "float32 fit time / float64 < 1": {"value": f32, "met": f32 < 1.0},
        },
    }
