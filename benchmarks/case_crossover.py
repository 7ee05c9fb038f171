"""Where each form of skadam's update pays: the thresholds of ``skadam._fused``.

One float64 Adam step, by size, in each form (see ``skadam/_fused.py``):

- ``numpy``: the NumPy code path of :class:`skadam.Adam`;
- ``interpreted``: the element-wise kernel run by Python on floats;
- ``numba_serial`` / ``numba_threaded``: the kernel compiled by numba.

Each form is timed over the sizes where the choice between forms is made;
the thresholds in ``skadam/_fused.py`` come from these curves.
"""

import time

import numpy as np

from skadam import Adam, _fused

from ._timing import compare

NAME = "crossover"
UNIT = "us/step"


def forms(d):
    rng = np.random.default_rng(0)
    x, g = rng.standard_normal(d), rng.standard_normal(d)
    m, v = np.zeros(d), np.zeros(d)
    adam = Adam()
    state = adam.init(x)
    scalars = (0.9, 0.1, 0.999, 0.001, 1e-8, 0.5, 0.01, None, None)
    if _fused._kernels is None:
        _fused._compile()
    serial, threaded = _fused._kernels or (None, None)
    calls = {
        "numpy": lambda: adam._numpy_step(x, g, state, 0.001, 0.1, 0.001),
        "interpreted": lambda: _fused._interpreted(x, g, m, v, None, None, scalars),
    }
    if serial is not None:
        calls["numba_serial"] = lambda: serial(x, g, m, v, None, None, *scalars)
        calls["numba_threaded"] = lambda: threaded(x, g, m, v, None, None, *scalars)
    return calls


def per_step_us(call, repeat):
    def run():
        start = time.perf_counter()
        for _ in range(repeat):
            call()
        return (time.perf_counter() - start) / repeat * 1e6

    return run


def run(quick):
    sizes = [1, 2, 4, 8, 16, 100, 1_000, 10_000, 30_000, 100_000, 300_000, 1_000_000]
    if quick:
        sizes = [2, 16, 1_000]
    repeats = 3 if quick else 7
    series, results = {}, {}
    for d in sizes:
        calls = forms(d)
        if d > 64:  # Python on floats is hopeless beyond a handful
            calls.pop("interpreted")
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
