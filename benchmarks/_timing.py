"""Side-by-side timing: alternating runs in one process, medians and ratios.

Absolute times on a shared machine are noise; what a benchmark can report
honestly is how contenders compare when measured under the same conditions.
Every repetition runs every contender once, in an order that alternates
between repetitions, so slow drifts of the machine affect all alike.
"""

import gc
import statistics
import time


def clock(fn, *args):
    """Run ``fn(*args)`` once and return the elapsed seconds."""
    gc.collect()
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def compare(contenders, repeats, warmup=1):
    """Time contenders alternately and summarise each one's samples.

    Parameters
    ----------
    contenders : dict of str to callable
        Each callable runs the workload once and returns its cost in the
        case's unit (for example seconds per iteration), measured inside so
        that setup is excluded.
    repeats : int
        Measured repetitions per contender.
    warmup : int, default=1
        Unmeasured runs first (compilation, caches, lazy imports).

    Returns
    -------
    results : dict
        ``{name: {"median": float, "min": float, "samples": list}}``.
    """
    names = list(contenders)
    for _ in range(warmup):
        for name in names:
            contenders[name]()
    samples = {name: [] for name in names}
    for r in range(repeats):
        for name in names if r % 2 == 0 else reversed(names):
            samples[name].append(float(contenders[name]()))
    return {
        name: {
            "median": statistics.median(values),
            "min": min(values),
            "samples": values,
        }
        for name, values in samples.items()
    }


def ratios(results, ours, anchors):
    """``{f"{ours}/{anchor}": median ratio}`` for each anchor present."""
    mine = results[ours]["median"]
    return {
        f"{ours}/{anchor}": mine / results[anchor]["median"]
        for anchor in anchors
        if anchor in results
    }
