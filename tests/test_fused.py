"""The one-pass kernel (numba-compiled or interpreted) equals the NumPy path."""

import subprocess
import sys
from pathlib import Path

import numba  # noqa: F401  (a test dependency: the compiled path must be tested)
import numpy as np
import pytest
from numpy.testing import assert_array_equal, assert_array_max_ulp

import skadam._adam
from skadam import Adam, _fused

VARIANTS = [
    {},
    {"amsgrad": True},
    {"weight_decay": 0.05},
    {"weight_decay": 0.05, "decoupled_weight_decay": True},
    {"weight_decay": 0.05, "decoupled_weight_decay": True, "amsgrad": True},
    {"bias_correction": False},
    {"bias_correction": False, "amsgrad": True, "weight_decay": 0.05},
    {"learning_rate": lambda t: 0.01 / t, "beta_1": 0.5, "epsilon": 0.0},
]
IDS = ["adam", "ams", "l2", "adamw", "adamw-ams", "nobc", "nobc-ams-l2", "sched"]

# One size per form of the kernel: interpreted, numba serial, numba threaded
# (the threaded form is switched on at a smaller size for the tests).
SIZES = {
    "interpreted": _fused.PYTHON_MAX_SIZE,
    "serial": _fused.NUMBA_MIN_SIZE,
    "threaded": 2 * _fused.NUMBA_MIN_SIZE,
}


@pytest.fixture(autouse=True)
def small_threaded_size(monkeypatch):
    monkeypatch.setattr(_fused, "PARALLEL_MIN_SIZE", SIZES["threaded"])


@pytest.fixture
def numpy_only(monkeypatch):
    """Make Adam.step take its NumPy path whatever the arrays."""
    monkeypatch.setattr(skadam._adam, "fused_step", lambda *args: False)


def run(params, x0, grads, out_of_place=False):
    adam = Adam(**params)
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


def make_problem(d, dtype, n_steps=20, shape=None, seed=0):
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(d).astype(dtype)
    # Gradients of varied scale and sign, some exactly zero, so that v decays
    # and AMSGrad's maximum matters.
    scales = np.geomspace(10.0, 1e-3, n_steps)
    grads = [(s * rng.standard_normal(d)).astype(dtype) for s in scales]
    for g in grads[5::5]:
        g[::7] = 0.0
    if shape is not None:
        x0 = x0.reshape(shape)
        grads = [g.reshape(shape) for g in grads]
    return x0, grads


def assert_same(ours, ref, dtype):
    for a, b in zip(ours, ref, strict=True):
        assert a.dtype == b.dtype == dtype
        # One ufunc of NumPy and one operation of the kernel round identically:
        # the paths agree exactly in practice; allow 1 ulp, not more.
        assert_array_max_ulp(a, b, maxulp=1)


@pytest.mark.parametrize("out_of_place", [False, True], ids=["inplace", "out"])
@pytest.mark.parametrize("params", VARIANTS, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("form", list(SIZES))
def test_kernel_equals_numpy_path(form, dtype, params, out_of_place, monkeypatch):
    # (float32 arrays of interpreted size stay on NumPy: see the next tests.)
    x0, grads = make_problem(SIZES[form], dtype)
    ours, state = run(params, x0, grads, out_of_place)
    monkeypatch.setattr(skadam._adam, "fused_step", lambda *args: False)
    ref, ref_state = run(params, x0, grads)
    assert_same(ours, ref, dtype)
    assert_same([state.m, state.v], [ref_state.m, ref_state.v], dtype)
    if state.v_max is not None:
        assert_same([state.v_max], [ref_state.v_max], dtype)


def test_each_form_is_really_used(monkeypatch):
    calls = []
    real = _fused.adam_kernel

    def spy(*args):
        calls.append(type(args[0]).__name__)
        return real(*args)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_fused, "adam_kernel", spy)
        assert _fused.fused_step(*_arrays(SIZES["interpreted"]), *_plain())
    assert calls == ["list"]

    if _fused._kernels is None:
        _fused._compile()
    assert _fused._kernels, "numba is installed, so the compiled kernels exist"
    serial, threaded = _fused._kernels

    def spy_on(kernel, name):
        def spy(*args):
            calls.append(name)
            return kernel(*args)

        return spy

    spies = (spy_on(serial, "serial"), spy_on(threaded, "threaded"))
    monkeypatch.setattr(_fused, "_kernels", spies)
    for form in ("serial", "threaded"):
        assert _fused.fused_step(*_arrays(SIZES[form]), *_plain())
    assert calls == ["list", "serial", "threaded"]


def _arrays(d, dtype=np.float64):
    x = np.ones(d, dtype)
    return x, np.full(d, 0.5, dtype), np.zeros(d, dtype), np.zeros(d, dtype), None, None


def _plain():
    return ((0.9, 0.1, 0.999, 0.001, 1e-8, 0.1, 0.01, None, None),)


@pytest.mark.parametrize(
    "case",
    [
        "grad-float32",
        "grad-list",
        "grad-is-x",
        "x-strided",
        "grad-strided",
        "too-small-for-numba",
        "float32-too-small",
    ],
)
def test_kernel_declines_what_it_does_not_handle(case):
    d = SIZES["serial"]
    x, g, m, v, _, _ = _arrays(2 * d)
    x, g, m, v = x[:d], g[:d], m[:d], v[:d]
    if case == "grad-float32":
        g = g.astype(np.float32)
    elif case == "grad-list":
        g = g.tolist()
    elif case == "grad-is-x":
        g = x
    elif case == "x-strided":
        x, m, v = (a.base[::2] for a in (x, m, v))
    elif case == "grad-strided":
        g = g.base[::2]
    elif case == "too-small-for-numba":
        x, g, m, v = (a[:100] for a in (x, g, m, v))
    elif case == "float32-too-small":
        x, g, m, v = (a[:2].astype(np.float32) for a in (x, g, m, v))
    before = [np.array(a) for a in (x, m, v)]
    assert not _fused.fused_step(x, g, m, v, None, None, *_plain())
    for a, b in zip((x, m, v), before, strict=True):
        assert_array_equal(a, b)


@pytest.mark.parametrize("shape", [(2, 2), (200, 150), (3, 200, 500)])
def test_multidimensional_parameters(shape, numpy_only):
    x0, grads = make_problem(int(np.prod(shape)), np.float64, shape=shape)
    ref, _ = run({"amsgrad": True}, x0, grads)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(skadam._adam, "fused_step", _fused.fused_step)
        ours, _ = run({"amsgrad": True}, x0, grads)
    assert ours[-1].shape == shape
    assert_same(ours, ref, np.float64)


def test_nan_and_inf_propagate_as_in_numpy(monkeypatch):
    d = SIZES["serial"]
    x0 = np.ones(d)
    grads = [np.ones(d) for _ in range(3)]
    grads[0][:3] = [np.nan, np.inf, -np.inf]
    grads[1][3] = np.nan
    ours, state = run({"amsgrad": True}, x0, grads)
    monkeypatch.setattr(skadam._adam, "fused_step", lambda *args: False)
    with np.errstate(invalid="ignore"):
        ref, ref_state = run({"amsgrad": True}, x0, grads)
    assert_array_equal(ours[-1], ref[-1])
    assert_array_equal(state.v_max, ref_state.v_max)
    assert np.isnan(ours[-1][:4]).all()


def test_without_numba_adam_uses_numpy(monkeypatch):
    monkeypatch.setattr(_fused, "_kernels", False)
    x, g, m, v, _, _ = _arrays(SIZES["threaded"])
    assert not _fused.fused_step(x, g, m, v, None, None, *_plain())
    x0, grads = make_problem(SIZES["serial"], np.float64, n_steps=3)
    ours, _ = run({}, x0, grads)
    assert np.all(ours[-1] != x0)


def test_numba_is_not_imported_by_importing_skadam():
    code = "import sys, skadam; print('numba' in sys.modules)"
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=root,
    )
    assert out.stdout.strip() == "False"
