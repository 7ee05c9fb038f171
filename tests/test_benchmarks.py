"""The benchmark runner keeps working (``--quick``); no timing is asserted."""

import ast
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--out", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return out, json.loads((out / "latest.json").read_text())


@pytest.mark.slow
def test_quick_run_writes_json_table_and_plot(quick_report):
    out, report = quick_report
    assert report["quick"] is True
    assert {"date", "python", "versions", "cpu_count"} <= set(report["environment"])
    from benchmarks.run import CASES

    assert set(report["cases"]) == set(CASES)
    assert (out / "latest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = (out / "latest.inc").read_text()
    assert table.startswith(".. list-table:: Targets")
    for name in CASES:
        assert f".. list-table:: {name}" in table


@pytest.mark.slow
def test_every_case_reports_medians_ratios_and_targets(quick_report):
    _, report = quick_report
    for name, case in report["cases"].items():
        assert {"unit", "params", "results", "ratios", "targets"} <= set(case), name
        for contender, res in case["results"].items():
            assert len(res["samples"]) == case["params"]["repeats"], contender
            assert res["median"] > 0 and math.isfinite(res["median"]), contender
        for key, value in case["ratios"].items():
            ours, anchor = key.split("/")
            expected = (
                case["results"][ours]["median"] / case["results"][anchor]["median"]
            )
            assert value == pytest.approx(expected), key
        for target in case["targets"].values():
            assert isinstance(target["met"], bool)
            assert math.isfinite(target["value"])


def test_unknown_case_is_an_error():
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--cases", "nonsense"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0
    assert "unknown case" in proc.stderr


def test_runs_as_a_script_too():
    proc = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--quick" in proc.stdout


@pytest.mark.slow
def test_quality_case_scores_every_dataset_against_its_reference(quick_report):
    _, report = quick_report
    case = report["cases"]["quality"]
    datasets = case["params"]["datasets"]
    assert {"iris", "diabetes"} <= set(datasets)  # a classifier and a regressor
    assert set(case["scores"]) == set(datasets)
    for name in datasets:
        scores = case["scores"][name]
        assert scores["metric"] in ("accuracy", "R^2")
        assert {f"{name}:skadam", f"{name}:reference"} <= set(case["results"])
        for key in ("skadam", "reference", "skadam_epochs"):
            assert math.isfinite(scores[key]), (name, key)
        assert scores["skadam_epochs"] >= 1
        assert 0 <= scores["skadam_convergence_warnings"] <= case["params"]["repeats"]
    assert len(case["targets"]) == len(datasets)


@pytest.mark.slow
def test_cases_record_what_the_removed_scripts_measured(quick_report):
    # bench_estimator_speed.py printed test accuracy, bench_estimator_memory.py
    # the regressor's peak memory: the cases now do.
    _, report = quick_report
    estimators = report["cases"]["estimators"]["results"]
    for problem in ("binary", "multiclass"):
        accuracy = estimators[f"{problem}:skadam"]["test_accuracy"]
        assert 0 <= accuracy <= 1
    memory = report["cases"]["memory"]
    assert memory["results"]["skadam_regressor_dense"]["median"] > 0
    assert "skadam_regressor_dense/X_dense" in memory["ratios"]


@pytest.mark.slow
def test_dask_case_compares_the_same_objective(quick_report):
    # The case checks its in-memory NumPy objective against the cluster's
    # before timing (it raises otherwise); both contenders are reported.
    _, report = quick_report
    results = report["cases"]["dask"]["results"]
    for size in ("small", "large"):
        assert {f"skadam_dask_objective_{size}", f"memory_objective_{size}"} <= set(
            results
        )


BENCHMARKS = ROOT / "benchmarks"
# One runner (run.py, with __main__.py for "python -m benchmarks"), one timing
# harness (_timing.py), shared data and the report; everything else is a case.
SUPPORT = {
    "__init__.py",
    "__main__.py",
    "run.py",
    "_timing.py",
    "_data.py",
    "report.py",
}


def test_one_runner_one_harness_and_cases_only():
    from benchmarks.run import CASES

    files = {p.name for p in BENCHMARKS.glob("*.py")}
    cases = files - SUPPORT
    assert all(name.startswith("case_") for name in cases), sorted(cases)
    assert {f"case_{name}.py" for name in CASES} == cases


def _private_skadam_uses(path):
    """Imports of, or attribute reads from, skadam's private modules."""
    uses = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "skadam"
        ):
            names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            uses += [n for n in names if "._" in n]
        elif isinstance(node, ast.Import):
            uses += [a.name for a in node.names if a.name.startswith("skadam._")]
        elif isinstance(node, ast.Name) and node.id == "eval":
            uses.append("eval")
    return uses


def test_cases_use_the_public_api_only():
    checked = sorted(BENCHMARKS.glob("*.py"))
    assert BENCHMARKS / "case_dask.py" in checked
    uses = {p.name: _private_skadam_uses(p) for p in checked}
    assert {name: found for name, found in uses.items() if found} == {}
