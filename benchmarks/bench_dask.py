"""Overheads of skadam on Dask, against the same work in memory.

Two measurements, on a local cluster of two single-threaded worker processes
bound to 127.0.0.1:

- ``objective``: seconds per call of :class:`skadam.dask.DaskLinearObjective`
  (one Adam step of a full-batch fit: one round trip to the workers) against
  :meth:`skadam._loss.LinearLoss.objective` on the same data in memory, for a
  few data sizes and numbers of row blocks.  The difference is the per-step
  overhead of running on the cluster.
- ``incremental``: seconds per block of ``Incremental(...).partial_fit`` (one
  epoch over a Dask array, one ``partial_fit`` call per block on the
  workers) against the same ``partial_fit`` calls in memory.  The difference
  divided by the number of blocks is the per-block overhead.

Run ``python benchmarks/bench_dask.py [--quick] [--output results.json]``;
the results are printed as a table and written as JSON (to stdout without
``--output``).
"""

import argparse
import itertools
import json
import platform
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np

# Runnable from a checkout without installing skadam.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dask
import dask.array as da
import distributed
from distributed import Client, LocalCluster

from skadam import AdamLinearRegressor
from skadam._loss import LinearLoss
from skadam.dask import DaskLinearObjective, Incremental

N_FEATURES = 20


def _median_seconds(func, repeat):
    func()  # warm-up: first calls pay for imports and connections
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _data(n_rows, n_blocks, seed=0):
    """The same data on the cluster (generated there) and in memory."""
    rng = da.random.default_rng(seed)
    chunk = -(-n_rows // n_blocks)
    dX = rng.normal(size=(n_rows, N_FEATURES), chunks=(chunk, -1))
    dy = dX @ np.linspace(-1.0, 1.0, N_FEATURES) + rng.normal(size=n_rows, chunks=chunk)
    dX, dy = dask.persist(dX, dy)
    X, y = dask.compute(dX, dy)
    return X, y, dX, dy


def bench_objective(client, sizes, repeat):
    """Seconds per objective-and-gradient call, on the cluster and in memory."""
    rows = []
    loss = LinearLoss("squared", fit_intercept=True)
    for n_rows, n_blocks in sizes:
        X, y, dX, dy = _data(n_rows, n_blocks)
        coef = np.full(loss.coef_shape(1, N_FEATURES), 0.1)
        in_memory = _median_seconds(
            partial(loss.objective, coef, X, y[:, None], None, 1e-3), repeat
        )
        with DaskLinearObjective(dX, dy, alpha=1e-3, client=client) as objective:
            on_cluster = _median_seconds(partial(objective, coef), repeat)
        rows.append(
            {
                "n_rows": n_rows,
                "n_blocks": n_blocks,
                "in_memory_s": in_memory,
                "cluster_s": on_cluster,
                "overhead_s": on_cluster - in_memory,
            }
        )
    return rows


def bench_incremental(client, sizes, repeat):
    """Seconds per block of one epoch of Incremental, and in memory."""
    rows = []
    for n_rows, n_blocks in sizes:
        X, y, dX, dy = _data(n_rows, n_blocks)
        blocks = [(X[s], y[s]) for s in _block_slices(dX.chunks[0])]
        estimator = AdamLinearRegressor(batch_size=256, random_state=0)

        def in_memory(estimator=estimator, blocks=blocks):
            model = estimator.__class__(**estimator.get_params())
            for Xb, yb in blocks:
                model.partial_fit(Xb, yb)

        seeds = itertools.count(1)

        def on_cluster(estimator=estimator, dX=dX, dy=dy, seeds=seeds):
            # dask-ml names its graph after the estimator's parameters, and a
            # result the scheduler still holds would be reused: a new seed
            # per run makes every run compute.
            model = estimator.set_params(random_state=next(seeds))
            Incremental(model, shuffle_blocks=False).partial_fit(dX, dy)

        t_memory = _median_seconds(in_memory, repeat)
        t_cluster = _median_seconds(on_cluster, repeat)
        rows.append(
            {
                "n_rows": n_rows,
                "n_blocks": n_blocks,
                "in_memory_s": t_memory,
                "cluster_s": t_cluster,
                "overhead_per_block_s": (t_cluster - t_memory) / n_blocks,
            }
        )
    return rows


def _block_slices(chunks):
    bounds = np.cumsum((0, *chunks))
    return [slice(a, b) for a, b in itertools.pairwise(bounds)]


def _table(title, rows):
    keys = list(rows[0])
    lines = [title, "  ".join(f"{k:>20}" for k in keys)]
    for row in rows:
        lines.append(
            "  ".join(
                f"{v:>20.6f}" if isinstance(v, float) else f"{v:>20}"
                for v in row.values()
            )
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, smaller runs")
    parser.add_argument("--output", type=Path, help="write the JSON here")
    args = parser.parse_args(argv)
    if args.quick:
        objective_sizes = [(10_000, 2), (200_000, 8)]
        incremental_sizes = [(20_000, 10)]
        repeat = 5
    else:
        objective_sizes = [
            (10_000, 2),
            (10_000, 16),
            (1_000_000, 2),
            (1_000_000, 8),
            (1_000_000, 32),
        ]
        incremental_sizes = [(20_000, 10), (200_000, 50)]
        repeat = 20
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
        results = {
            "benchmark": "dask",
            "quick": args.quick,
            "machine": {
                "python": platform.python_version(),
                "dask": dask.__version__,
                "distributed": distributed.__version__,
                "n_workers": 2,
                "threads_per_worker": 1,
            },
            "objective": bench_objective(client, objective_sizes, repeat),
            "incremental": bench_incremental(
                client, incremental_sizes, max(3, repeat // 4)
            ),
        }
    print(_table("objective (seconds per call)", results["objective"]), file=sys.stderr)
    print(_table("incremental (one epoch)", results["incremental"]), file=sys.stderr)
    text = json.dumps(results, indent=2)
    if args.output:
        args.output.write_text(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
