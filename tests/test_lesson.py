"""The lesson skadam starts from, reproduced to its printed digits.

The expected values below are typed in from the lesson's text: they are
external data, not output of skadam.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from numpy.testing import assert_allclose
from scipy.optimize import minimize

from skadam import adam_minimize
from skadam.__main__ import LESSON_OPTIONS

ROOT = Path(__file__).resolve().parents[1]

# The lesson's printed output, verbatim. The published text shows single
# spaces where NumPy prints two ("[-0.02001478  0.0301726 ]"), so lines are
# compared with runs of spaces collapsed.
LESSON_OUTPUT = """\
Epoch 0, current state: [2.80000003 3.80000002]
Epoch 30, current state: [ 0.27175946 -0.35494334]
Epoch 60, current state: [-0.07373187 -0.06706317]
Epoch 90, current state: [-0.02001478 0.0301726 ]
Epoch 120, current state: [ 0.00082782 -0.0039881 ]
Epoch 150, current state: [ 0.00094425 -0.00038352]
"""


def collapse_spaces(text):
    return [" ".join(line.split()) for line in text.splitlines()]


def lesson_states():
    """States after epochs 0, 30, ..., 150, i.e. after updates 1, 31, ..., 151."""
    path = []
    result = minimize(
        lambda x: x[0] ** 2 + x[1] ** 2,
        np.array([3.0, 4.0]),
        method=adam_minimize,
        jac=lambda x: np.array([2 * x[0], 2 * x[1]]),
        callback=path.append,
        options=LESSON_OPTIONS,
    )
    assert result.nit == len(path) == 151
    return np.array(path[::30])


def test_trajectory_matches_the_lesson_to_the_printed_digits(published_lesson_states):
    states = lesson_states()
    # Within half a unit of the 8th decimal, and printed the same way.
    assert_allclose(states, published_lesson_states, rtol=0, atol=5e-9)
    printed = "".join(
        f"Epoch {30 * k}, current state: {state}\n" for k, state in enumerate(states)
    )
    assert collapse_spaces(printed) == collapse_spaces(LESSON_OUTPUT)


def run_python(*args):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return collapse_spaces(done.stdout)


def test_python_m_skadam_prints_the_lesson():
    lines = run_python("-m", "skadam")
    epoch_lines = [line for line in lines if line.startswith("Epoch")]
    assert epoch_lines == collapse_spaces(LESSON_OUTPUT)
    # One line says what the lesson is before its lines are printed.
    intro = lines[: lines.index(epoch_lines[0])]
    assert intro[0].startswith("The Adam lesson skadam starts from")
    assert "f(x, y) = x^2 + y^2" in intro[0] and "digit for digit" in intro[0]
    # The default (bias-corrected) run is shown with the reason it differs:
    # given the lesson's first step it ends as close to the minimum.
    default_runs = [line for line in lines if line.startswith("learning_rate=")]
    assert [line.split(":")[0] for line in default_runs] == [
        "learning_rate=0.02",
        "learning_rate=0.2",
    ]
    assert "first step [0.2 0.2]" in default_runs[1]
    assert any("that is why it is the default" in line for line in lines)


def test_the_example_script_prints_the_lesson():
    lines = run_python(str(ROOT / "examples" / "plot_lesson.py"))
    assert lines[:6] == collapse_spaces(LESSON_OUTPUT)
    assert any("with bias correction" in line for line in lines[6:])
