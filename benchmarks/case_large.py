"""One Adam step on a large float64 parameter vector (d = 10**7).

Adam is memory-bound at this size: a step must read x, g, m, v and write x,
m, v, 56 bytes per parameter, and anything more is extra passes over memory.
Contenders, each with its own x, m, v and a shared gradient:

- ``adam_step``: :meth:`skadam.Adam.step` with ``backend="auto"`` (the
  one-pass numba kernel when numba is installed, else NumPy);
- ``minimize_iteration``: one iteration of ``minimize(..., method=adam_minimize)``
  whose ``jac`` returns a precomputed gradient, timed between consecutive
  ``jac`` calls (the step plus everything the minimizer does around it);
- ``numpy_backend``: ``Adam(backend="numpy").step`` (in place, one temporary);
- ``numpy_temporaries``: Algorithm 1 written with NumPy expressions;
- ``torch_fused``, ``torch_foreach``, ``torch_single``: ``torch.optim.Adam``
  with ``fused=True``, ``foreach=True`` and ``foreach=False``;
- ``copy``: ``np.copyto`` of one vector, to measure the memory bandwidth
  (16 bytes per parameter), from which each contender's time is expressed as
  "bytes per parameter" moved at that bandwidth.
"""

import statistics
import time
from importlib.util import find_spec

import numpy as np
from scipy.optimize import minimize

from skadam import Adam, adam_minimize

from ._timing import compare, ratios

NAME = "large"
UNIT = "ms/step"
ADAM_BYTES = 56  # read x, g, m, v and write x, m, v, 8 bytes each


def timed(fn):
    def run():
        start = time.perf_counter()
        fn()
        return (time.perf_counter() - start) * 1e3

    return run


def adam_step(x0, g, backend="auto"):
    adam = Adam(backend=backend)
    x = x0.copy()
    state = adam.init(x)
    return timed(lambda: adam.step(x, g, state))


def numpy_temporaries(x0, g):
    box = {"x": x0.copy(), "m": np.zeros_like(x0), "v": np.zeros_like(x0), "t": 0}

    def step():
        box["t"] += 1
        t = box["t"]
        box["m"] = 0.9 * box["m"] + 0.1 * g
        box["v"] = 0.999 * box["v"] + 0.001 * g**2
        m_hat = box["m"] / (1 - 0.9**t)
        v_hat = box["v"] / (1 - 0.999**t)
        box["x"] = box["x"] - 0.001 * m_hat / (np.sqrt(v_hat) + 1e-8)

    return timed(step)


def torch_step(x0, g, **kind):
    import torch

    p = torch.from_numpy(x0.copy())
    p.grad = torch.from_numpy(g)
    opt = torch.optim.Adam([p], **kind)
    return timed(opt.step)


def minimize_iteration(x0, g, n_iter):
    def run():
        stamps = []

        def jac(x):
            stamps.append(time.perf_counter())
            return g

        options = {"maxiter": n_iter, "gtol": 0.0}
        minimize(lambda x: 0.0, x0, jac=jac, method=adam_minimize, options=options)
        return statistics.median(np.diff(stamps)) * 1e3

    return run


def copy_vector(x0):
    dst = np.empty_like(x0)
    return timed(lambda: np.copyto(dst, x0))


def contenders(d, quick):
    rng = np.random.default_rng(0)
    x0, g = rng.standard_normal(d), rng.standard_normal(d)
    return {
        "adam_step": adam_step(x0, g),
        "minimize_iteration": minimize_iteration(x0, g, 3 if quick else 6),
        "numpy_backend": adam_step(x0, g, "numpy"),
        "numpy_temporaries": numpy_temporaries(x0, g),
        "torch_fused": torch_step(x0, g, fused=True),
        "torch_foreach": torch_step(x0, g, foreach=True),
        "torch_single": torch_step(x0, g, foreach=False),
        "copy": copy_vector(x0),
    }


def run(quick):
    import torch

    d = 10**5 if quick else 10**7
    repeats = 3 if quick else 11
    results = compare(contenders(d, quick), repeats)
    # Memory bandwidth from the copy (16 bytes per parameter), and what each
    # contender's time amounts to in bytes per parameter at that bandwidth.
    bandwidth = 16 * d / (results["copy"]["median"] * 1e-3)
    for res in results.values():
        res["bytes_per_param"] = res["median"] * 1e-3 * bandwidth / d
    floor_ms = ADAM_BYTES * d / bandwidth * 1e3
    anchors = ["torch_fused", "torch_foreach", "torch_single", "numpy_temporaries"]
    ratio = ratios(results, "adam_step", anchors)
    ratio.update(ratios(results, "minimize_iteration", ["torch_fused"]))
    ratio.update(ratios(results, "numpy_backend", ["torch_fused"]))
    ratio.update(ratios(results, "numpy_temporaries", ["torch_fused"]))
    step, it = ratio["adam_step/torch_fused"], ratio["minimize_iteration/torch_fused"]
    return {
        "unit": UNIT,
        "params": {
            "d": d,
            "repeats": repeats,
            "torch_threads": torch.get_num_threads(),
            "numba_installed": find_spec("numba") is not None,
        },
        "results": results,
        "ratios": ratio,
        "bandwidth_GBps": bandwidth / 1e9,
        "adam_floor_ms": floor_ms,
        "targets": {
            "adam_step/torch_fused <= 1.5": {"value": step, "met": step <= 1.5},
            "minimize_iteration/torch_fused <= 1.5": {"value": it, "met": it <= 1.5},
        },
    }
