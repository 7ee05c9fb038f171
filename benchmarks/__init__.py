"""skadam's benchmark suite: skadam and the alternatives side by side.

Run ``python -m benchmarks`` (or ``python benchmarks/run.py``) from the
repository root; ``--quick`` runs every case at toy sizes in seconds. See
``docs/performance.rst``.
"""
