"""Per-iteration time of ``minimize(..., method=adam_minimize)`` vs the lesson's loop.

A shortcut for the ``overhead`` case of the benchmark suite (see
``benchmarks/case_overhead.py``), which times the lesson's own loop, skadam's
minimizer and core, and a ``torch.optim.Adam`` loop side by side.

Run from the repository root: ``python -m benchmarks.minimize_overhead``.
"""

from benchmarks.run import main

if __name__ == "__main__":
    main(["--cases", "overhead"])
