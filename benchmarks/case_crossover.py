"""Where the numba backend pays: the threshold of ``Adam(backend="auto")``.

One float64 Adam step, by size, through the public backend switch:

- ``numpy``: ``Adam(backend="numpy").step``, the reference update;
- ``numba``: ``Adam(backend="numba").step``, the compiled one-pass kernel.

Each is timed over the sizes where the choice between them is made;
``skadam._adam.NUMBA_MIN_SIZE`` (the "auto" rule) comes from these curves.
"""

import time
from importlib.util import find_spec

import numpy as np

from skadam import Adam

from ._timing import compare

NAME = "crossover"
UNIT = "us/step"


def forms(d):
    rng = np.random.default_rng(0)
    g = rng.standard_normal(d)
    backends = ["numpy"] + (["numba"] if find_spec("numba") else [])
    calls = {}
    for backend in backends:
        adam = Adam(backend=backend)
        x = rng.standard_normal(d)
        state = adam.init(x)
        calls[backend] = lambda adam=adam, x=x, state=state: adam.step(x, g, state)
    return calls


def per_step_us(call, repeat):
    def run():
        start = time.perf_counter()
        for _ in range(repeat):
            call()
        return (time.perf_counter() - start) / repeat * 1e6

    return run


def run(quick):
    sizes = [2, 16, 100, 1_000, 10_000, 30_000, 100_000, 300_000, 1_000_000]
    if quick:
        sizes = [2, 16, 1_000]
    repeats = 3 if quick else 7
    series, results = {}, {}
    for d in sizes:
        calls = forms(d)
        repeat = max(1, min(2000, 2_000_000 // (d * 20)))
        timings = compare(
            {k: per_step_us(c, repeat) for k, c in calls.items()}, repeats
        )
        for name, res in timings.items():
            results[f"{name}@d={d}"] = res
            series.setdefault(name, []).append((d, res["median"]))
    return {
        "unit": UNIT,
        "params": {"sizes": sizes, "repeats": repeats},
        "results": results,
        "ratios": {},
        "series": {"d": series},
        "targets": {},
    }
