"""Run skadam's benchmarks and write a JSON file, reST tables and a plot.

Usage, from the repository root::

    python -m benchmarks [--quick] [--cases overhead,large,...] [--out DIR]

It writes ``latest.json`` (everything measured), ``latest.inc`` (reST tables,
for ``.. include::``) and ``latest.png`` into ``DIR`` (default
``benchmarks/results``; the documentation's copy is ``docs/benchmarks``).

``--quick`` runs every case at toy sizes (seconds); it exists to keep the
runner working, and its numbers mean nothing. Needs the ``bench`` extra
(``pip install ".[bench]"``: torch, numba, matplotlib, dask).
"""

import argparse
import datetime
import importlib
import json
import os
import platform
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: python benchmarks/run.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    __package__ = "benchmarks"

from benchmarks.report import plot, rst_table

# Case name -> module in this package; each module has NAME and run(quick).
CASES = {
    "overhead": "benchmarks.case_overhead",
    "large": "benchmarks.case_large",
    "estimators": "benchmarks.case_estimators",
    "optimum": "benchmarks.case_optimum",
    "memory": "benchmarks.case_memory",
    "growth": "benchmarks.case_growth",
    "quality": "benchmarks.case_quality",
    "crossover": "benchmarks.case_crossover",
    "dask": "benchmarks.case_dask",
    "sparse": "benchmarks.case_sparse",
    "stochastic": "benchmarks.case_stochastic",
    "losses": "benchmarks.case_losses",
}
DEFAULT_OUT = Path(__file__).resolve().parent / "results"


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="toy sizes, seconds")
    parser.add_argument(
        "--cases", default=",".join(CASES), help="comma-separated subset of cases"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    args = parser.parse_args(argv)
    args.cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = sorted(set(args.cases) - set(CASES))
    if unknown:
        parser.error(f"unknown case(s) {unknown}; choose from {sorted(CASES)}")
    return args


def environment():
    versions = {}
    for name in ("numpy", "scipy", "sklearn", "torch", "numba", "skadam"):
        try:
            versions[name] = importlib.import_module(name).__version__
        except ImportError:
            versions[name] = None
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "versions": versions,
    }


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    report = {"quick": args.quick, "environment": environment(), "cases": {}}
    for name in args.cases:
        print(f"[benchmarks] {name} ...", flush=True)
        module = importlib.import_module(CASES[name])
        report["cases"][name] = module.run(args.quick)
        for key, value in report["cases"][name]["ratios"].items():
            print(f"    {key:45s} {value:8.3f}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(report, indent=2))
    (args.out / "latest.inc").write_text(rst_table(report))
    plot(report, args.out / "latest.png")
    print(f"[benchmarks] wrote {args.out / 'latest.json'}, .inc (reST) and .png")
    return report


if __name__ == "__main__":
    main()
