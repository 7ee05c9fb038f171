"""Peak memory that AdamLogisticClassifier().fit allocates beyond X.

Fits the defaults on a standardised ``n_samples x 100`` float64 problem
(1e6 rows by default: X is 800 MB) and reports the peak of the memory
allocated during ``fit`` (traced with :mod:`tracemalloc`, which sees NumPy's
allocations), as a fraction of ``X.nbytes``.
Run: ``python benchmarks/bench_estimator_memory.py [n_samples]``.
"""

import sys
import time
import tracemalloc
import warnings

import numpy as np

from skadam import AdamLinearRegressor, AdamLogisticClassifier


def make_problem(n_samples, n_features=100, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    w = rng.standard_normal(n_features) / np.sqrt(n_features)
    z = X @ w
    return X, (z + rng.standard_normal(n_samples) > 0).astype(int), z


def peak_fraction(model, X, y):
    warnings.simplefilter("ignore")
    tracemalloc.start()
    start = time.perf_counter()
    model.fit(X, y)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / X.nbytes, seconds


def main(n_samples=1_000_000):
    X, y, z = make_problem(n_samples)
    print(f"X: {X.shape}, {X.nbytes / 1e6:.0f} MB")
    for model, target in [
        (AdamLogisticClassifier(random_state=0), y),
        (AdamLinearRegressor(random_state=0), z),
    ]:
        fraction, seconds = peak_fraction(model, X, target)
        print(
            f"{type(model).__name__:24} peak {fraction:.3f} x X.nbytes, "
            f"{model.n_iter_} epochs, {seconds:.1f} s"
        )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
