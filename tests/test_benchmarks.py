"""The benchmark runner keeps working (``--quick``); no timing is asserted."""

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
