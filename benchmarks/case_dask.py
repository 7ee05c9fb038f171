"""What going through a Dask cluster costs, against the same work in memory.

A local cluster of two single-threaded worker processes, bound to 127.0.0.1,
holds the data (20 features); every contender is timed in milliseconds:

- ``skadam_dask_objective_small`` / ``memory_objective_small``: one call of
  :class:`skadam.dask.DaskLinearObjective` (one Adam step of a full-batch fit,
  one round trip to the workers) on 10,000 rows in 8 blocks, against the
  same objective and gradient in NumPy on the same rows in memory (checked
  equal to the cluster's before timing).  The arithmetic is negligible: the
  difference is the fixed per-step overhead.
- ``skadam_dask_objective_large`` / ``memory_objective_large``: the same on
  1,000,000 rows (100,000 with ``--quick``), where the two workers share the
  arithmetic.
- ``skadam_dask_incremental`` / ``memory_incremental``: milliseconds per
  block of one epoch of ``Incremental(AdamLinearRegressor(...)).partial_fit``
  over 50 blocks of 4,000 rows (10 of 2,000 with ``--quick``), against the
  same ``partial_fit`` calls in memory.  The difference is the per-block
  overhead.
"""

import itertools

import dask
import dask.array as da
import numpy as np
from distributed import Client, LocalCluster

from skadam import AdamLinearRegressor
from skadam.dask import DaskLinearObjective, Incremental

from ._timing import clock, compare, ratios

NAME = "dask"
UNIT = "ms (per call or per block)"
N_FEATURES = 20
ALPHA = 1e-3


def _data(n_rows, n_blocks, seed=0):
    """The same data on the cluster (generated there) and in memory."""
    rng = da.random.default_rng(seed)
    chunk = -(-n_rows // n_blocks)
    dX = rng.normal(size=(n_rows, N_FEATURES), chunks=(chunk, -1))
    w = np.linspace(-1.0, 1.0, N_FEATURES)
    dy = dX @ w + rng.normal(size=n_rows, chunks=chunk)
    dX, dy = dask.persist(dX, dy)
    X, y = dask.compute(dX, dy)
    return X, y, dX, dy


def _squared_objective(coef, X, y, alpha):
    """DaskLinearObjective's squared-loss objective and gradient, in NumPy.

    ``f = mean((X @ w + b - y)**2 / 2) + alpha / 2 * ||w||^2`` with
    ``coef = [w, b]`` (the intercept last and not penalised).
    """
    w, b = coef[:-1], coef[-1]
    residual = X @ w + b - y
    value = 0.5 * (residual @ residual) / len(y) + 0.5 * alpha * (w @ w)
    grad = np.append(residual @ X / len(y) + alpha * w, residual.mean())
    return value, grad


def _objective_contenders(client, n_rows, label):
    """Cluster and in-memory objective calls; the cluster one stays open."""
    X, y, dX, dy = _data(n_rows, 8)
    objective = DaskLinearObjective(dX, dy, alpha=ALPHA, client=client)
    coef = np.full(objective.coef_shape, 0.1).ravel()
    # The two contenders must do the same work: same value, same gradient.
    expected = _squared_objective(coef, X, y, ALPHA)
    for ours, theirs in zip(objective(coef), expected, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10)
    return objective, {
        f"skadam_dask_objective_{label}": lambda: clock(objective, coef) * 1e3,
        f"memory_objective_{label}": lambda: (
            clock(_squared_objective, coef, X, y, ALPHA) * 1e3
        ),
    }


def _incremental_contenders(n_rows, n_blocks):
    X, y, dX, dy = _data(n_rows, n_blocks)
    bounds = itertools.pairwise(np.cumsum((0, *dX.chunks[0])))
    blocks = [(X[a:b], y[a:b]) for a, b in bounds]
    # dask-ml names its graph after the estimator's parameters, and a result
    # the scheduler still holds would be reused: a new seed for every run.
    seeds = itertools.count(1)

    def on_cluster():
        estimator = AdamLinearRegressor(batch_size=256, random_state=next(seeds))
        model = Incremental(estimator, shuffle_blocks=False)
        return clock(model.partial_fit, dX, dy) * 1e3 / n_blocks

    def in_memory():
        estimator = AdamLinearRegressor(batch_size=256, random_state=next(seeds))
        return clock(_partial_fit_blocks, estimator, blocks) * 1e3 / n_blocks

    return {"skadam_dask_incremental": on_cluster, "memory_incremental": in_memory}


def _partial_fit_blocks(estimator, blocks):
    for X, y in blocks:
        estimator.partial_fit(X, y)


def run(quick):
    repeats = 3 if quick else 15
    large = 100_000 if quick else 1_000_000
    n_rows, n_blocks = (20_000, 10) if quick else (200_000, 50)
    with (
        LocalCluster(
            processes=True,
            n_workers=2,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
        ) as cluster,
        Client(cluster) as client,
    ):
        small_objective, contenders = _objective_contenders(client, 10_000, "small")
        large_objective, more = _objective_contenders(client, large, "large")
        contenders.update(more)
        contenders.update(_incremental_contenders(n_rows, n_blocks))
        results = compare(contenders, repeats)
        small_objective.close()
        large_objective.close()
    ratio = {}
    for what in ("objective_small", "objective_large", "incremental"):
        ratio.update(ratios(results, f"skadam_dask_{what}", [f"memory_{what}"]))
    step = _difference(results, "objective_small")
    block = _difference(results, "incremental")
    return {
        "unit": UNIT,
        "params": {
            "repeats": repeats,
            "n_features": N_FEATURES,
            "objective_rows": [10_000, large],
            "objective_blocks": 8,
            "incremental_rows": n_rows,
            "incremental_blocks": n_blocks,
            "workers": "2 processes x 1 thread, 127.0.0.1",
        },
        "results": results,
        "ratios": ratio,
        "overheads_ms": {"per_objective_call": step, "per_incremental_block": block},
        "targets": {
            "objective overhead per step <= 50 ms": {
                "value": step,
                "met": step <= 50.0,
            },
            "Incremental overhead per block <= 50 ms": {
                "value": block,
                "met": block <= 50.0,
            },
        },
    }


def _difference(results, what):
    return (
        results[f"skadam_dask_{what}"]["median"] - results[f"memory_{what}"]["median"]
    )
