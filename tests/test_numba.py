"""The numba backend equals the NumPy reference, through Adam's public switch."""

import subprocess
import sys
from pathlib import Path

import numba  # noqa: F401  (a test dependency: the compiled path must be tested)
import numpy as np
import pytest
from numpy.testing import assert_array_equal, assert_array_max_ulp

from skadam import Adam
from skadam._adam import NUMBA_MIN_SIZE

ROOT = Path(__file__).resolve().parents[1]

VARIANTS = [
    {},
    {"amsgrad": True},
    {"weight_decay": 0.05},
    {"weight_decay": 0.05, "decoupled_weight_decay": True},
    {"weight_decay": 0.05, "decoupled_weight_decay": True, "amsgrad": True},
    {"bias_correction": False},
    {"bias_correction": False, "amsgrad": True, "weight_decay": 0.05},
    {"learning_rate": lambda t: 0.01 / t, "beta_1": 0.5, "epsilon": 0.0},
    {"max_grad_norm": 0.5},
    {"max_grad_norm": 0.5, "weight_decay": 0.05, "amsgrad": True},
]
IDS = ["adam", "ams", "l2", "adamw", "adamw-ams", "nobc", "nobc-ams-l2", "sched",
       "clip", "clip-l2-ams"]  # fmt: skip


def run(params, backend, x0, grads, out_of_place=False):
    adam = Adam(**params, backend=backend)
    x = x0.copy()
    state = adam.init(x)
    xs = []
    for g in grads:
        if out_of_place:
            x_before = x.copy()
            x = adam.step(x, g, state, out=np.empty_like(x))
            assert_array_equal(xs[-1] if xs else x0, x_before)
        else:
            adam.step(x, g, state)
        xs.append(x.copy())
    return xs, state


def make_problem(shape, dtype, n_steps=20, seed=0):
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(shape).astype(dtype)
    # Gradients of varied scale and sign, some exactly zero, so that v decays,
    # AMSGrad's maximum matters and clipping both acts and does not.
    scales = np.geomspace(10.0, 1e-3, n_steps)
    grads = [(s * rng.standard_normal(shape)).astype(dtype) for s in scales]
    for g in grads[5::5]:
        g.reshape(-1)[::7] = 0.0
    return x0, grads


def assert_same(ours, ref, dtype):
    for a, b in zip(ours, ref, strict=True):
        assert a.dtype == b.dtype == dtype
        # One ufunc of NumPy and one operation of the kernel round identically:
        # the backends agree exactly in practice; allow 1 ulp, not more.
        assert_array_max_ulp(a, b, maxulp=1)


@pytest.mark.parametrize("out_of_place", [False, True], ids=["inplace", "out"])
@pytest.mark.parametrize("params", VARIANTS, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(7,), (1000,), (30, 40)])
def test_numba_equals_numpy(shape, dtype, params, out_of_place):
    x0, grads = make_problem(shape, dtype)
    ours, state = run(params, "numba", x0, grads, out_of_place)
    ref, ref_state = run(params, "numpy", x0, grads)
    assert ours[-1].shape == shape
    assert not np.array_equal(ref[-1], x0)
    assert_same(ours, ref, dtype)
    assert_same([state.m, state.v], [ref_state.m, ref_state.v], dtype)
    if state.v_max is not None:
        assert_same([state.v_max], [ref_state.v_max], dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_auto_equals_numpy_at_the_numba_size(dtype):
    x0, grads = make_problem((NUMBA_MIN_SIZE,), dtype, n_steps=5)
    ours, _ = run({"amsgrad": True}, "auto", x0, grads)
    ref, _ = run({"amsgrad": True}, "numpy", x0, grads)
    assert_same(ours, ref, dtype)


def run_in_subprocess(code):
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.mark.parametrize(
    "d, expected", [(NUMBA_MIN_SIZE - 1, "False"), (NUMBA_MIN_SIZE, "True")]
)
def test_auto_runs_numba_from_the_documented_size(d, expected):
    code = (
        "import sys, numpy as np; from skadam import Adam\n"
        f"x = np.ones({d}); a = Adam(); a.step(x, x.copy(), a.init(x))\n"
        "print('skadam._numba' in sys.modules)"
    )
    assert run_in_subprocess(code) == expected


def test_auto_takes_numpy_for_non_contiguous_arrays(rng):
    x0 = rng.standard_normal((2, NUMBA_MIN_SIZE)).T  # F-ordered
    adam = Adam()
    x = x0.copy(order="F")
    state = adam.init(x)
    assert not state.m.flags.c_contiguous
    adam.step(x, np.ones_like(x), state)
    ref = Adam(backend="numpy")
    x_ref = x0.copy()
    ref.step(x_ref, np.ones_like(x_ref), ref.init(x_ref))
    assert_array_equal(x, x_ref)


def test_numba_backend_without_numba_raises_naming_the_extra():
    code = (
        "import sys; sys.modules['numba'] = None\n"
        "import numpy as np; from skadam import Adam\n"
        "try:\n    Adam(backend='numba')\n"
        "except ImportError as e:\n    print(e)\n"
        "x = np.ones(50_000); a = Adam(); a.step(x, x.copy(), a.init(x))\n"
        "print(a.backend, 'skadam._numba' in sys.modules)"
    )
    message, auto = run_in_subprocess(code).splitlines()
    assert ".[fast]" in message
    assert auto == "auto False"


def test_numba_is_not_imported_by_importing_skadam():
    code = "import sys, skadam; print('numba' in sys.modules)"
    assert run_in_subprocess(code) == "False"


def test_nan_and_inf_propagate_as_in_numpy():
    x0 = np.ones(40)
    grads = [np.ones(40) for _ in range(3)]
    grads[0][:3] = [np.nan, np.inf, -np.inf]
    grads[1][3] = np.nan
    ours, state = run({"amsgrad": True}, "numba", x0, grads)
    with np.errstate(invalid="ignore"):
        ref, ref_state = run({"amsgrad": True}, "numpy", x0, grads)
    assert_array_equal(ours[-1], ref[-1])
    assert_array_equal(state.v_max, ref_state.v_max)
    assert np.isnan(ours[-1][:4]).all()


def strided(a):
    return np.repeat(a, 2)[::2]


@pytest.mark.parametrize(
    "grad",
    [
        lambda x: x.astype(np.float32),
        lambda x: x.tolist(),
        lambda x: np.arange(x.size),
        strided,
        lambda x: x,
    ],
    ids=["float32", "list", "int", "strided", "grad-is-x"],
)
def test_numba_takes_any_gradient_the_numpy_backend_takes(grad, rng):
    x0 = rng.standard_normal(50)
    xs = {}
    for backend in ("numba", "numpy"):
        adam = Adam(backend=backend, weight_decay=0.1, decoupled_weight_decay=True)
        x = x0.copy()
        adam.step(x, grad(x), adam.init(x))
        xs[backend] = x
    assert_array_equal(xs["numba"], xs["numpy"])


@pytest.mark.parametrize("which", ["x", "m", "out"])
def test_numba_refuses_non_contiguous_arrays_before_writing(which):
    adam = Adam(backend="numba")
    x = np.ones(20)
    state = adam.init(x)
    out = None
    if which == "x":
        x = strided(x)
        state = adam.init(x)
    elif which == "m":
        state.m = strided(state.m)
    else:
        out = strided(np.zeros(20))
    before = [x.copy(), state.m.copy(), state.v.copy()]
    with pytest.raises(ValueError, match="C-contiguous"):
        adam.step(x, np.ones(20), state, out=out)
    for a, b in zip([x, state.m, state.v], before, strict=True):
        assert_array_equal(a, b)
    assert state.step == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"amsgrad": True, "weight_decay": 0.01},
        {"weight_decay": 0.1, "decoupled_weight_decay": True, "max_grad_norm": 0.1},
    ],
)
def test_lazy_step_numba_equals_numpy(params, dtype, rng):
    x0 = rng.normal(size=(3, 50)).astype(dtype)
    xs = {}
    for backend in ("numba", "numpy"):
        adam = Adam(learning_rate=0.05, backend=backend, **params)
        x, steps = x0.copy(), np.random.default_rng(1)
        state = adam.init(x)
        for _ in range(30):
            index = np.sort(steps.choice(50, 12, replace=False))
            adam.lazy_step(x, steps.normal(size=(3, 12)), state, index)
        xs[backend] = (x, state)
    assert xs["numba"][0].dtype == dtype
    assert_array_equal(xs["numba"][0], xs["numpy"][0])
    assert_array_equal(xs["numba"][1].v, xs["numpy"][1].v)
