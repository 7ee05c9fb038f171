"""Tests of the Adam core: parity with references, exactness, state, validation."""

import copy
import io
import math
import pickle
import re
import tracemalloc
import warnings

import numpy as np
import pytest
import torch  # test-only oracle, a declared test dependency
from numpy.testing import assert_allclose, assert_array_equal

from skadam import Adam, AdamState

N_STEPS = 250
BACKENDS = ["numpy", "numba", "auto"]


def make_quadratic(d=12, seed=0):
    """Return ``grad(x)`` of ``0.5 (x - c)' A (x - c)``, eigenvalues 0.01..100."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    a = (q * np.logspace(-2, 2, d)) @ q.T
    c = rng.uniform(1.0, 3.0, d) * rng.choice([-1.0, 1.0], d)

    def grad(x):
        return a @ (x - c)

    return grad, c


def skadam_trajectory(grad_fn, x0, n_steps=N_STEPS, **params):
    adam = Adam(**params)
    x = np.array(x0, dtype=float)
    state = adam.init(x)
    traj = []
    for _ in range(n_steps):
        adam.step(x, grad_fn(x), state)
        traj.append(x.copy())
    return np.array(traj)


def torch_trajectory(
    grad_fn, x0, n_steps=N_STEPS, adamw=False, max_grad_norm=None, **params
):
    p = torch.tensor(np.array(x0, dtype=float), dtype=torch.float64)
    p.requires_grad_(False)
    opt_class = torch.optim.AdamW if adamw else torch.optim.Adam
    opt = opt_class([p], foreach=False, **params)
    traj = []
    for _ in range(n_steps):
        p.grad = torch.from_numpy(grad_fn(p.numpy().copy()))
        if max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_([p], max_grad_norm, foreach=False)
        opt.step()
        traj.append(p.numpy().copy())
    return np.array(traj)


def algorithm_1(grad_fn, x0, alpha, beta_1, beta_2, epsilon, n_steps=N_STEPS):
    """Algorithm 1 of Kingma & Ba (2014), transcribed line by line."""
    theta = np.array(x0, dtype=float)
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    t = 0
    traj = []
    for _ in range(n_steps):
        t = t + 1
        g = grad_fn(theta)
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g**2
        m_hat = m / (1 - beta_1**t)
        v_hat = v / (1 - beta_2**t)
        theta = theta - alpha * m_hat / (np.sqrt(v_hat) + epsilon)
        traj.append(theta.copy())
    return np.array(traj)


def lesson_ADAM(beta1, beta2, epsilon, grad, m_prev, v_prev, learning_rate):
    """The lesson's own ``ADAM`` function (no bias correction), verbatim."""
    m = beta1 * m_prev + (1 - beta1) * grad
    v = beta2 * v_prev + (1 - beta2) * np.power(grad, 2)
    updates = learning_rate * m / (np.sqrt(v) + epsilon)
    return updates, m, v


# ---------------------------------------------------------------- parity


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"amsgrad": True},
        {"weight_decay": 0.1},
        {"weight_decay": 0.1, "amsgrad": True},
    ],
    ids=["adam", "amsgrad", "coupled-l2", "coupled-l2-amsgrad"],
)
def test_parity_with_torch_adam(params):
    grad_fn, c = make_quadratic()
    x0 = np.zeros_like(c)
    ours = skadam_trajectory(grad_fn, x0, learning_rate=0.05, **params)
    ref = torch_trajectory(grad_fn, x0, lr=0.05, **params)
    # The run must actually travel, or the comparison would be vacuous.
    assert np.abs(ours[-1] - x0).max() > 1.0
    assert_allclose(ours, ref, rtol=1e-10, atol=0)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_parity_with_torch_adamw(amsgrad):
    grad_fn, c = make_quadratic()
    x0 = np.zeros_like(c)
    ours = skadam_trajectory(
        grad_fn,
        x0,
        learning_rate=0.05,
        weight_decay=0.1,
        decoupled_weight_decay=True,
        amsgrad=amsgrad,
    )
    ref = torch_trajectory(
        grad_fn, x0, adamw=True, lr=0.05, weight_decay=0.1, amsgrad=amsgrad
    )
    assert_allclose(ours, ref, rtol=1e-10, atol=0)


@pytest.mark.parametrize(
    "params, adamw",
    [
        ({}, False),
        ({"amsgrad": True}, False),
        ({"weight_decay": 0.1}, False),
        ({"weight_decay": 0.1}, True),
    ],
    ids=["adam", "amsgrad", "coupled-l2", "adamw"],
)
@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_max_grad_norm_equals_torch_clip_grad_norm_then_adam(params, adamw, backend):
    grad_fn, c = make_quadratic()
    x0 = np.zeros_like(c)
    max_norm = 20.0  # the first gradients are clipped, the later ones are not
    norms = np.linalg.norm(grad_fn(x0)), np.linalg.norm(grad_fn(c * 0.99))
    assert norms[0] > max_norm > norms[1]
    ours = skadam_trajectory(
        grad_fn,
        x0,
        learning_rate=0.05,
        max_grad_norm=max_norm,
        decoupled_weight_decay=adamw,
        backend=backend,
        **params,
    )
    ref = torch_trajectory(
        grad_fn, x0, adamw=adamw, max_grad_norm=max_norm, lr=0.05, **params
    )
    unclipped = skadam_trajectory(grad_fn, x0, learning_rate=0.05, **params)
    assert np.abs(unclipped - ours).max() > 1e-3  # clipping changed the run
    assert_allclose(ours, ref, rtol=1e-10, atol=1e-14)


def test_parity_with_torch_non_default_betas():
    grad_fn, c = make_quadratic(d=7, seed=3)
    params = {"beta_1": 0.5, "beta_2": 0.9, "epsilon": 1e-3}
    ours = skadam_trajectory(grad_fn, -c, learning_rate=0.01, **params)
    ref = torch_trajectory(grad_fn, -c, lr=0.01, betas=(0.5, 0.9), eps=1e-3)
    assert_allclose(ours, ref, rtol=1e-10, atol=0)


@pytest.mark.parametrize("beta_2", [0.999, 0.9999])
def test_parity_with_algorithm_1(beta_2):
    grad_fn, c = make_quadratic(seed=1)
    x0 = np.zeros_like(c)
    ours = skadam_trajectory(grad_fn, x0, learning_rate=0.03, beta_2=beta_2)
    ref = algorithm_1(grad_fn, x0, 0.03, 0.9, beta_2, 1e-8)
    assert_allclose(ours, ref, rtol=1e-10, atol=0)


def test_schedule_matches_algorithm_1_with_alpha_t():
    grad_fn, c = make_quadratic(seed=2)
    x0 = np.zeros_like(c)

    def schedule(t):
        return 0.05 / math.sqrt(t)

    ours = skadam_trajectory(grad_fn, x0, learning_rate=schedule)
    theta, m, v = x0.copy(), np.zeros_like(x0), np.zeros_like(x0)
    ref = []
    for t in range(1, N_STEPS + 1):
        g = grad_fn(theta)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g**2
        m_hat, v_hat = m / (1 - 0.9**t), v / (1 - 0.999**t)
        theta = theta - schedule(t) * m_hat / (np.sqrt(v_hat) + 1e-8)
        ref.append(theta)
    assert_allclose(ours, np.array(ref), rtol=1e-10, atol=0)


def run_lesson_loop(grad_fn, x0, n_steps, lr=0.02, beta1=0.9, beta2=0.9999):
    coordinates = np.array(x0, dtype=float)
    m_prev = np.zeros(len(coordinates))
    v_prev = np.zeros(len(coordinates))
    traj = []
    for _ in range(n_steps):
        grad = grad_fn(coordinates)
        updates, m_prev, v_prev = lesson_ADAM(
            beta1, beta2, 1e-8, grad, m_prev, v_prev, lr
        )
        coordinates -= updates
        traj.append(coordinates.copy())
    return np.array(traj)


@pytest.mark.parametrize("problem", ["lesson", "quadratic"])
def test_no_bias_correction_matches_lesson_adam(problem):
    if problem == "lesson":
        grad_fn, x0, n = (lambda x: 2 * x), np.array([3.0, 4.0]), 151
    else:
        grad_fn, c = make_quadratic(seed=4)
        x0, n = np.zeros_like(c), N_STEPS
    ours = skadam_trajectory(
        grad_fn,
        x0,
        n_steps=n,
        learning_rate=0.02,
        beta_2=0.9999,
        bias_correction=False,
    )
    assert_allclose(ours, run_lesson_loop(grad_fn, x0, n), rtol=1e-10, atol=0)


def test_no_bias_correction_reproduces_lesson_printout(published_lesson_states):
    traj = skadam_trajectory(
        lambda x: 2 * x,
        [3.0, 4.0],
        n_steps=151,
        learning_rate=0.02,
        beta_2=0.9999,
        bias_correction=False,
    )
    assert_allclose(traj[::30], published_lesson_states, rtol=0, atol=5e-9)


# ---------------------------------------------------------- one-step exact


def notes_reference_step(x, g, m, v, t, lr, beta_1, beta_2, epsilon):
    """The update exactly as written in ``Adam``'s Notes, in that order."""
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * (g * g)
    x = x - (m / (np.sqrt(v) / math.sqrt(1 - beta_2**t) + epsilon)) * (
        lr / (1 - beta_1**t)
    )
    return x, m, v


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("d", [2, 5, 100_000])
def test_one_step_bit_exact_with_injected_state(dtype, d, backend, rng):
    x = rng.standard_normal(d).astype(dtype)
    g = rng.standard_normal(d).astype(dtype)
    m = (0.1 * rng.standard_normal(d)).astype(dtype)
    v = rng.uniform(0.0, 0.5, d).astype(dtype)
    t = 7
    hp = {"learning_rate": 0.003, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-6}
    x_ref, m_ref, v_ref = notes_reference_step(
        x, g, m, v, t + 1, hp["learning_rate"], hp["beta_1"], hp["beta_2"], 1e-6
    )
    assert x_ref.dtype == dtype
    state = AdamState(step=t, m=m.copy(), v=v.copy())
    x_out = x.copy()
    Adam(**hp, backend=backend).step(x_out, g, state)
    assert state.step == t + 1
    assert_array_equal(state.m, m_ref)
    assert_array_equal(state.v, v_ref)
    assert_array_equal(x_out, x_ref)


# ---------------------------------------------------- arrays and memory


VARIANTS = [
    {},
    {"amsgrad": True},
    {"weight_decay": 0.01},
    {"weight_decay": 0.01, "decoupled_weight_decay": True},
    {"bias_correction": False},
    {"learning_rate": lambda t: 1e-3 / t},
]
VARIANT_IDS = ["adam", "amsgrad", "l2", "adamw", "no-bias-corr", "schedule"]


@pytest.mark.parametrize("params", VARIANTS, ids=VARIANT_IDS)
@pytest.mark.parametrize("grad_dtype", [np.float32, np.float64])
def test_float32_stays_float32(params, grad_dtype, rng):
    adam = Adam(**params)
    x = rng.standard_normal(50).astype(np.float32)
    state = adam.init(x)
    for _ in range(5):
        adam.step(x, rng.standard_normal(50).astype(grad_dtype), state)
    arrays = [x, state.m, state.v] + ([state.v_max] if adam.amsgrad else [])
    assert [a.dtype for a in arrays] == [np.float32] * len(arrays)
    assert np.all(np.isfinite(x))


def peak_step_memory(adam, d, n_steps=5):
    x = np.ones(d)
    grad = np.full(d, 0.5)
    state = adam.init(x)
    adam.step(x, grad, state)  # first step may compile or import
    tracemalloc.start()
    try:
        for _ in range(n_steps):
            adam.step(x, grad, state)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert state.step == n_steps + 1
    return peak


@pytest.mark.slow
@pytest.mark.parametrize("params", VARIANTS, ids=VARIANT_IDS)
def test_numba_steps_allocate_no_parameter_sized_arrays(params):
    d = 2_000_000  # one parameter-sized float64 array is 16 MB
    # A quarter of that: room for unrelated allocations (a Dask cluster's
    # threads) that a tracer sees, none for a parameter-sized array.
    assert peak_step_memory(Adam(**params, backend="numba"), d) < 8 * d / 4


@pytest.mark.slow
@pytest.mark.parametrize("params", VARIANTS, ids=VARIANT_IDS)
def test_numpy_steps_allocate_at_most_two_temporaries(params):
    # The documented cost of the NumPy backend: one temporary (two under
    # coupled L2, whose g + wd * x is a new array) alive at a time.
    d = 2_000_000
    size = 8 * d
    peak = peak_step_memory(Adam(**params, backend="numpy"), d)
    assert peak < 2.5 * size
    if "weight_decay" not in params or params.get("decoupled_weight_decay"):
        assert peak < 1.5 * size


@pytest.mark.parametrize("params", VARIANTS, ids=VARIANT_IDS)
def test_grad_is_not_modified(params, rng):
    adam = Adam(**params)
    x = rng.standard_normal(30)
    grad = rng.standard_normal(30)
    grad_before = grad.copy()
    state = adam.init(x)
    for _ in range(3):
        adam.step(x, grad, state)
    assert_array_equal(grad, grad_before)


def test_step_returns_x_updated_in_place():
    x = np.array([1.0, -2.0])
    adam = Adam(learning_rate=0.5)
    out = adam.step(x, np.array([1.0, -1.0]), adam.init(x))
    assert out is x
    # The first bias-corrected step moves each coordinate by about lr * sign(g).
    assert_allclose(x, [0.5, -1.5], rtol=1e-7)


@pytest.mark.parametrize("params", VARIANTS, ids=VARIANT_IDS)
@pytest.mark.parametrize("d", [3, 50, 30_000])
def test_out_receives_the_step_and_x_is_kept(params, d, rng):
    adam = Adam(**params)
    x0 = rng.standard_normal(d)
    x_in, state_in = x0.copy(), adam.init(x0)
    x_out, state_out = x0.copy(), adam.init(x0)
    for _ in range(3):
        grad = rng.standard_normal(d)
        adam.step(x_in, grad, state_in)
        before = x_out.copy()
        new = adam.step(x_out, grad, state_out, out=np.empty_like(x_out))
        assert_array_equal(x_out, before)
        x_out = new
    assert_array_equal(x_out, x_in)
    assert_array_equal(state_out.m, state_in.m)
    assert state_out.step == 3


def _reversed_view_of_new_out():
    out = np.ones(3)
    return out[::-1], np.ones(3), out


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: (np.ones(3), np.ones(3), np.empty(4)), "shape"),
        (lambda: (np.ones(3), np.ones(3), np.empty(3, dtype=np.float32)), "dtype"),
        (lambda: (np.ones(3), np.ones(3), [0.0, 0.0, 0.0]), "got list"),
        (lambda: (np.ones(3), np.ones(3), np.ones(3)[::-1]), None),
        (_reversed_view_of_new_out, "overlap"),
        (lambda: (lambda g: (np.ones(3), g, g))(np.ones(3)), "overlap"),
        (lambda: (lambda b: (np.ones(3), b[1:], b[:3]))(np.ones(4)), "overlap"),
    ],
    ids=["shape", "dtype", "list", "view-ok", "x-views-out", "grad", "grad-overlap"],
)
def test_bad_out_is_rejected(make, match):
    x, g, out = make()
    x_before = np.array(x)
    adam = Adam()
    state = adam.init(x)
    if match is None:  # a view that overlaps nothing is a fine out
        assert adam.step(x, g, state, out=out) is out
        assert state.step == 1
        return
    with pytest.raises(ValueError, match=match):
        adam.step(x, g, state, out=out)
    assert state.step == 0
    assert_array_equal(x, x_before)


@pytest.mark.parametrize("name", ["m", "v", "v_max"])
@pytest.mark.parametrize("view", [False, True])
@pytest.mark.parametrize("d", [3, 30_000])
def test_out_overlapping_the_state_is_refused_before_anything_moves(name, view, d):
    # out=state.m would receive the new x and lose the moment: refused.
    adam = Adam(learning_rate=0.1, amsgrad=True)
    x = np.ones(d)
    state = adam.init(x)
    state.m[:], state.v[:], state.v_max[:] = 0.5, 0.25, 0.25
    target = getattr(state, name)
    out = target[::-1] if view else target
    arrays = [x, state.m, state.v, state.v_max]
    before = snapshot(*arrays)
    message = re.escape(f"out must not overlap state.{name}")
    with pytest.raises(ValueError, match=message):
        adam.step(x, np.ones(d), state, out=out)
    assert_unchanged(arrays, before)
    assert state.step == 0


@pytest.mark.parametrize("name", ["m", "v", "v_max"])
@pytest.mark.parametrize("alias", ["x", "grad", "x-view", "other-moment"])
def test_state_arrays_aliasing_inputs_are_refused(name, alias, backend):
    adam = Adam(amsgrad=True, backend=backend)
    x, grad = np.full(4, 2.0), np.ones(4)
    state = adam.init(x)
    other = "v" if name == "m" else "m"
    shared = {"x": x, "grad": grad, "x-view": x[:], "other-moment": None}[alias]
    setattr(state, name, getattr(state, other) if shared is None else shared)
    arrays = [x, grad, state.m, state.v, state.v_max]
    before = snapshot(*arrays)
    with pytest.raises(ValueError, match="must not overlap state"):
        adam.step(x, grad, state)
    assert_unchanged(arrays, before)
    assert state.step == 0


def test_interleaved_state_arrays_share_no_element_and_are_accepted():
    buffer = np.zeros(6)
    adam = Adam(learning_rate=0.1)
    x, state = np.ones(3), AdamState(step=0, m=buffer[::2], v=buffer[1::2])
    adam.step(x, np.ones(3), state)  # the first step: lr * sign(g)
    assert_allclose(x, 0.9, rtol=1e-7)
    assert_allclose(buffer, [0.1, 0.001] * 3)


def test_lazy_step_refuses_a_state_aliasing_x():
    adam = Adam()
    x = np.ones((1, 4))
    state = adam.init(x)
    state.v = x
    with pytest.raises(ValueError, match=r"x must not overlap state\.v"):
        adam.lazy_step(x, np.ones((1, 2)), state, [0, 2])
    assert_array_equal(x, 1.0)
    assert state.step == 0


def test_grad_may_be_a_list():
    x = np.zeros(3)
    adam = Adam(learning_rate=0.1)
    adam.step(x, [1.0, -1.0, 0.0], adam.init(x))
    assert_allclose(x, [-0.1, 0.1, 0.0], rtol=1e-7)


# ---------------------------------------------------------- save/resume


def roundtrip_dict(state):
    return AdamState.from_dict(state.to_dict())


def roundtrip_savez(state):
    buf = io.BytesIO()
    np.savez(buf, **state.to_dict())
    buf.seek(0)
    with np.load(buf) as data:
        return AdamState.from_dict(data)


def roundtrip_pickle(state):
    return pickle.loads(pickle.dumps(state))


def roundtrip_method_copy(state):
    return state.copy()


def roundtrip_deepcopy(state):
    return copy.deepcopy(state)


@pytest.mark.parametrize(
    "roundtrip",
    [
        roundtrip_dict,
        roundtrip_savez,
        roundtrip_pickle,
        roundtrip_method_copy,
        roundtrip_deepcopy,
    ],
)
@pytest.mark.parametrize("params", VARIANTS[:4], ids=VARIANT_IDS[:4])
def test_resumed_run_equals_uninterrupted_run(roundtrip, params):
    grad_fn, _ = make_quadratic(d=6, seed=5)
    adam = Adam(learning_rate=0.05, **params)
    x_full = np.zeros(6)
    state_full = adam.init(x_full)
    for _ in range(100):
        adam.step(x_full, grad_fn(x_full), state_full)

    x = np.zeros(6)
    state = adam.init(x)
    for _ in range(40):
        adam.step(x, grad_fn(x), state)
    saved_x, saved = x.copy(), roundtrip(state)
    # Keep stepping the original: the saved copy must not share its arrays.
    for _ in range(5):
        adam.step(x, grad_fn(x), state)
    assert saved.step == 40
    x = saved_x
    for _ in range(60):
        adam.step(x, grad_fn(x), saved)
    assert saved.step == 100
    assert_array_equal(x, x_full)
    assert_array_equal(saved.m, state_full.m)
    assert_array_equal(saved.v, state_full.v)
    if adam.amsgrad:
        assert_array_equal(saved.v_max, state_full.v_max)


def test_to_dict_omits_missing_v_max():
    x = np.zeros(2)
    assert set(Adam().init(x).to_dict()) == {"step", "m", "v"}
    assert set(Adam(amsgrad=True).init(x).to_dict()) == {"step", "m", "v", "v_max"}


def test_init_gives_zero_moments_of_xs_shape_and_dtype():
    x = np.ones((3, 4), dtype=np.float32)
    state = Adam(amsgrad=True).init(x)
    assert state.step == 0
    for a in (state.m, state.v, state.v_max):
        assert a.shape == (3, 4)
        assert a.dtype == np.float32
        assert not a.any()
        assert not np.shares_memory(a, x)


# ------------------------------------------------------------- schedule


def test_schedule_is_called_with_one_based_step_numbers():
    calls = []

    def schedule(t):
        calls.append(t)
        return 0.01

    adam = Adam(learning_rate=schedule)
    x = np.ones(3)
    state = adam.init(x)
    for _ in range(5):
        adam.step(x, x, state)
    assert calls == [1, 2, 3, 4, 5]


def test_schedule_returning_zero_leaves_x_unchanged():
    adam = Adam(learning_rate=lambda t: 0.0)
    x = np.array([1.0, 2.0])
    state = adam.init(x)
    adam.step(x, np.array([3.0, -4.0]), state)
    assert_array_equal(x, [1.0, 2.0])
    assert state.step == 1


@pytest.mark.parametrize("bad", [-0.1, math.nan, math.inf, "0.1", None, True])
def test_schedule_bad_values_are_rejected(bad):
    adam = Adam(learning_rate=lambda t: bad)
    x = np.ones(2)
    state = adam.init(x)
    with pytest.raises(ValueError, match=re.escape(repr(bad))) as exc:
        adam.step(x, x, state)
    assert "learning_rate(1)" in str(exc.value)
    assert_array_equal(x, [1.0, 1.0])
    assert state.step == 0


# ----------------------------------------------------------- validation


BAD_HYPERPARAMETERS = [
    ("learning_rate", 0.0),
    ("learning_rate", -1e-3),
    ("learning_rate", math.nan),
    ("learning_rate", math.inf),
    ("learning_rate", "0.01"),
    ("learning_rate", True),
    ("learning_rate", None),
    ("beta_1", -0.1),
    ("beta_1", 1.0),
    ("beta_1", 1.5),
    ("beta_1", math.nan),
    ("beta_2", -1e-9),
    ("beta_2", 1.0),
    ("beta_2", math.nan),
    ("epsilon", -1e-8),
    ("epsilon", math.inf),
    ("epsilon", math.nan),
    ("weight_decay", -0.5),
    ("weight_decay", math.inf),
    ("weight_decay", "1"),
]


@pytest.mark.parametrize("name, bad", BAD_HYPERPARAMETERS)
def test_bad_hyperparameters_raise_naming_the_value(name, bad):
    with pytest.raises(ValueError, match=re.escape(repr(bad))) as exc:
        Adam(**{name: bad})
    assert name in str(exc.value)


@pytest.mark.parametrize(
    "params",
    [
        {"learning_rate": 1e-12},
        {"beta_1": 0.0, "beta_2": 0.0},
        {"epsilon": 0.0},
        {"weight_decay": 0.0},
        {"learning_rate": np.float32(0.1), "beta_1": np.float64(0.5)},
    ],
)
def test_boundary_hyperparameters_are_accepted(params):
    adam = Adam(**params)
    x = np.array([1.0, -1.0])
    adam.step(x, np.array([0.5, 0.5]), adam.init(x))
    assert np.all(np.isfinite(x))


@pytest.mark.parametrize(
    "x",
    [[1.0, 2.0], np.array([1, 2]), np.array([1.0, 2.0], dtype=np.float16)],
    ids=["list", "int", "float16"],
)
def test_init_rejects_non_float_arrays(x):
    with pytest.raises(ValueError, match="float32 or float64"):
        Adam().init(x)


def test_step_rejects_grad_of_wrong_shape():
    x = np.zeros(3)
    adam = Adam()
    with pytest.raises(ValueError, match=re.escape("grad has shape (2,)")):
        adam.step(x, np.zeros(2), adam.init(x))


@pytest.mark.parametrize(
    "x_other",
    [np.zeros(4), np.zeros(3, dtype=np.float32), np.zeros((3, 1))],
    ids=["shape", "dtype", "ndim"],
)
def test_step_rejects_state_made_for_other_parameters(x_other):
    adam = Adam()
    state = adam.init(np.zeros(3))
    with pytest.raises(ValueError, match="state was made for shape"):
        adam.step(x_other, np.zeros_like(x_other), state)
    assert state.step == 0


def test_step_rejects_non_array_x():
    adam = Adam()
    state = adam.init(np.zeros(2))
    with pytest.raises(ValueError, match="got list"):
        adam.step([0.0, 0.0], np.zeros(2), state)


def test_amsgrad_needs_state_with_v_max():
    x = np.zeros(3)
    state = Adam().init(x)
    with pytest.raises(ValueError, match="v_max"):
        Adam(amsgrad=True).step(x, np.ones(3), state)
    assert state.step == 0


def test_repr_lists_hyperparameters():
    text = repr(Adam(learning_rate=0.5, amsgrad=True))
    assert text.startswith("Adam(learning_rate=0.5, beta_1=0.9")
    assert "amsgrad=True" in text


@pytest.mark.parametrize(
    "name", ["bias_correction", "amsgrad", "decoupled_weight_decay"]
)
@pytest.mark.parametrize("bad", ["False", None, 2, 0.5, np.array([1, 0])])
def test_flags_must_be_booleans(name, bad):
    with pytest.raises(ValueError, match=f"{name} must be True or False"):
        Adam(**{name: bad})


@pytest.mark.parametrize("bad", ["fast", None, "NUMPY"])
def test_unknown_backend_is_refused(bad):
    with pytest.raises(ValueError, match="backend must be one of"):
        Adam(backend=bad)


@pytest.mark.parametrize("bad", [0.0, -1.0, math.inf, math.nan, "1"])
def test_bad_max_grad_norm_is_refused(bad):
    with pytest.raises(ValueError, match="max_grad_norm"):
        Adam(max_grad_norm=bad)


INTERVAL = re.compile(r"must be in ([\[(])(.+?), (.+?)([\])]), got")


@pytest.mark.parametrize("name, bad", BAD_HYPERPARAMETERS)
def test_messages_never_contradict_themselves(name, bad):
    # "must be in (0, inf], got inf" would claim a range that holds the value.
    with pytest.raises(ValueError) as exc:
        Adam(**{name: bad})
    match = INTERVAL.search(str(exc.value))
    if match is None:
        assert "real number" in str(exc.value)
        return
    lo_bracket, lo, hi, hi_bracket = match.groups()
    lo, hi = float(lo), float(hi)
    assert not (hi == math.inf and hi_bracket == "]")
    above = bad > lo if lo_bracket == "(" else bad >= lo
    below = bad < hi if hi_bracket == ")" else bad <= hi
    assert not (above and below), str(exc.value)


# ------------------------------------------------- validate before mutate


@pytest.fixture(params=["numpy", "numba"])
def backend(request):
    return request.param


def snapshot(*arrays):
    return [None if a is None else np.array(a) for a in arrays]


def assert_unchanged(arrays, before):
    for a, b in zip(arrays, before, strict=True):
        if a is not None:
            assert_array_equal(a, b)


@pytest.mark.parametrize("which", ["x", "m", "v", "v_max", "out"])
@pytest.mark.parametrize("d", [5, 30_000])
def test_read_only_array_raises_before_anything_moves(which, d, backend):
    adam = Adam(amsgrad=True, backend=backend)
    x = np.ones(d)
    state = adam.init(x)
    state.m[:] = 0.5
    out = np.zeros(d) if which == "out" else None
    target = {"x": x, "out": out}.get(which)
    if target is None:
        target = getattr(state, which)
    target.flags.writeable = False
    arrays = [x, state.m, state.v, state.v_max, out]
    before = snapshot(*arrays)
    with pytest.raises(ValueError, match="read-only"):
        adam.step(x, np.ones(d), state, out=out)
    assert_unchanged(arrays, before)
    assert state.step == 0


@pytest.mark.parametrize(
    "grad, match",
    [
        (np.ones(4, dtype=complex), "real numbers"),
        (np.array(["a"] * 4), "real numbers"),
        (None, "shape"),
        (np.ones((4, 1)), "shape"),
        ([1.0, 2.0], "shape"),
    ],
    ids=["complex", "str", "None", "2-d", "short-list"],
)
def test_bad_grad_raises_before_anything_moves(grad, match, backend):
    adam = Adam(weight_decay=0.1, decoupled_weight_decay=True, backend=backend)
    x = np.ones(4)
    state = adam.init(x)
    before = snapshot(x, state.m, state.v)
    with pytest.raises(ValueError, match=match):
        adam.step(x, grad, state)
    assert_unchanged([x, state.m, state.v], before)
    assert state.step == 0


def test_state_of_another_algorithm_is_refused():
    x = np.ones(3)
    with pytest.raises(ValueError, match="state must be an instance of AdamState"):
        Adam().step(x, x.copy(), {"step": 0, "m": x, "v": x})


@pytest.mark.parametrize("bad_step", [-1, 1.5, "3", None])
def test_bad_step_count_raises_before_anything_moves(bad_step):
    adam = Adam()
    x = np.ones(3)
    state = adam.init(x)
    state.step = bad_step
    with pytest.raises(ValueError, match="step must be an integer >= 0"):
        adam.step(x, np.ones(3), state)
    assert_array_equal(x, np.ones(3))
    assert not state.m.any()


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
@pytest.mark.parametrize("dtype, g", [(np.float64, 1e200), (np.float32, 1e30)])
def test_an_overflowing_square_freezes_x_as_in_torch(dtype, g, backend):
    # The step keeps torch's arithmetic even there: v = inf, x does not move.
    # (adam_minimize and the estimators detect it and report it.)
    x = np.array([1.0, 2.0], dtype)
    grad = np.array([g, 1.0], dtype)
    adam = Adam(learning_rate=0.1, backend=backend)
    state = adam.init(x)
    adam.step(x, grad, state)
    torch_dtype = torch.float64 if dtype == np.float64 else torch.float32
    p = torch.tensor([1.0, 2.0], dtype=torch_dtype)
    opt = torch.optim.Adam([p], lr=0.1, foreach=False)
    p.grad = torch.from_numpy(grad)
    opt.step()
    assert_array_equal(x, p.numpy())
    assert_array_equal(state.v, opt.state[p]["exp_avg_sq"].numpy())
    assert x[0] == 1.0 and state.v[0] == np.inf and x[1] < 2.0


@pytest.mark.parametrize("d", [1, 16, 30_000])
def test_epsilon_zero_gives_nan_silently_at_every_size_and_backend(d, backend):
    # A coordinate whose gradients have all been zero: 0 / (sqrt(0) + 0).
    adam = Adam(epsilon=0.0, backend=backend)
    x = np.ones(d)
    grad = np.zeros(d)
    grad[1:] = 1.0
    state = adam.init(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        adam.step(x, grad, state)
    assert np.isnan(x[0])
    assert np.all(np.isfinite(x[1:]))
    assert state.step == 1


# ------------------------------------------------------------- from_dict


def test_from_dict_refuses_integer_moments():
    # An integer v would be truncated to 0 at every step.
    d = {"step": 3, "m": np.zeros(3), "v": np.ones(3, dtype=np.int64)}
    with pytest.raises(ValueError, match="v must be a float32 or float64 array"):
        AdamState.from_dict(d)


@pytest.mark.parametrize(
    "d, match",
    [
        ({"step": 1, "m": np.zeros(3), "v": np.zeros(4)}, "v has shape"),
        ({"step": 1, "m": np.zeros(3), "v": np.zeros(3, np.float32)}, "dtype"),
        ({"step": 1.5, "m": np.zeros(3), "v": np.zeros(3)}, "step must be"),
        ({"step": -2, "m": np.zeros(3), "v": np.zeros(3)}, "step must be"),
        ({"step": 1, "m": np.zeros(3)}, "missing \\['v'\\]"),
        ({"step": 1, "m": np.zeros(3), "v": np.zeros(3), "u": 1}, "unknown"),
    ],
    ids=["shape", "dtype", "float-step", "negative-step", "missing", "unknown"],
)
def test_from_dict_validates(d, match):
    with pytest.raises(ValueError, match=match):
        AdamState.from_dict(d)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_from_dict_keeps_float_dtype_and_copies(dtype):
    m = np.arange(3, dtype=dtype)
    state = AdamState.from_dict({"step": np.int64(4), "m": m, "v": m, "v_max": m})
    assert type(state.step) is int
    for a in (state.m, state.v, state.v_max):
        assert a.dtype == dtype
        assert not np.shares_memory(a, m)


# ------------------------------------------------------------- protocol


def test_objective_gradient_adds_coupled_l2_only(rng):
    x, grad = rng.standard_normal(4), rng.standard_normal(4)
    assert_allclose(Adam(weight_decay=0.3).objective_gradient(x, grad), grad + 0.3 * x)
    assert Adam().objective_gradient(x, grad) is grad
    adamw = Adam(weight_decay=0.3, decoupled_weight_decay=True)
    assert adamw.objective_gradient(x, grad) is grad
    assert Adam(max_grad_norm=1e-3).objective_gradient(x, grad) is grad


def test_eval_params_is_x_itself():
    adam = Adam()
    x = np.ones(3)
    assert adam.eval_params(x, adam.init(x)) is x


def test_learning_rate_at_follows_the_schedule():
    assert Adam(learning_rate=0.25).learning_rate_at(7) == 0.25
    assert Adam(learning_rate=lambda t: 1.0 / t).learning_rate_at(4) == 0.25


# lazy_step: the update of the touched columns only (LazyAdam, SparseAdam).


def _lazy_algorithms():
    from skadam import NAdam, RAdam
    from skadam._optimizers import Adamax, ScheduleFreeAdamW

    return [
        Adam(learning_rate=0.05),
        Adam(learning_rate=0.05, amsgrad=True, weight_decay=0.1),
        Adam(weight_decay=0.1, decoupled_weight_decay=True, max_grad_norm=0.5),
        Adam(backend="numba"),
        NAdam(),
        RAdam(),
        Adamax(),
        ScheduleFreeAdamW(),
    ]


@pytest.mark.parametrize("opt", _lazy_algorithms(), ids=repr)
def test_lazy_step_on_every_column_is_step(opt, rng):
    x = rng.normal(size=(3, 7))
    x_lazy = x.copy()
    state, state_lazy = opt.init(x), opt.init(x_lazy)
    for _ in range(20):
        g = rng.normal(size=x.shape)
        opt.step(x, g, state)
        opt.lazy_step(x_lazy, g, state_lazy, np.arange(7))
    assert_array_equal(x_lazy, x)
    for name, value in state.to_dict().items():
        assert_array_equal(state_lazy.to_dict()[name], value)


@pytest.mark.parametrize("opt", _lazy_algorithms(), ids=repr)
def test_lazy_step_is_step_on_the_gathered_columns(opt, rng):
    # The definition: the columns in index take step() with the full state's
    # step count; the other columns and their moments do not change.
    x = rng.normal(size=(2, 9)).astype(np.float32)
    state = opt.init(x)
    for _ in range(3):
        opt.step(x, rng.normal(size=x.shape), state)
    index = np.array([0, 4, 5, 8])
    rest = np.setdiff1d(np.arange(9), index)
    g = rng.normal(size=(2, 4))
    sub = x[:, index].copy()
    sub_state = type(state)(
        **{
            k: v[:, index].copy() if isinstance(v, np.ndarray) else v
            for k, v in state.to_dict().items()
        }
    )
    opt.step(sub, g, sub_state)
    before, before_state = x.copy(), state.copy()
    opt.lazy_step(x, g, state, index)
    assert x.dtype == np.float32
    assert_array_equal(x[:, index], sub)
    assert_array_equal(x[:, rest], before[:, rest])
    for name, value in state.to_dict().items():
        if isinstance(value, np.ndarray):
            assert_array_equal(value[:, index], getattr(sub_state, name))
            assert_array_equal(value[:, rest], getattr(before_state, name)[:, rest])
    assert state.step == before_state.step + 1


def test_lazy_step_is_exact_on_columns_never_touched(rng):
    # With m = v = 0 (never a non-zero gradient) and no weight decay, the
    # exact step with a zero gradient leaves a column where it is: so does
    # skipping it.
    adam = Adam(learning_rate=0.1)
    x = rng.normal(size=(2, 6))
    x_lazy = x.copy()
    state, state_lazy = adam.init(x), adam.init(x_lazy)
    index = np.array([1, 2, 4])
    for _ in range(30):
        g = np.zeros_like(x)
        g[:, index] = rng.normal(size=(2, 3))
        adam.step(x, g, state)
        adam.lazy_step(x_lazy, g[:, index], state_lazy, index)
    assert_array_equal(x_lazy, x)


def test_lazy_step_equals_torch_sparse_adam(rng):
    # torch.optim.SparseAdam is lazy Adam in the "epsilon-hat" form; with
    # epsilon = 0 (torch needs > 0: 1e-300) the two forms are the same update.
    d, k = 40, 6
    x = rng.normal(size=d)
    p = torch.tensor(x.copy(), requires_grad=True)
    reference = torch.optim.SparseAdam([p], lr=0.01, eps=1e-300)
    adam = Adam(learning_rate=0.01, epsilon=0.0)
    state = adam.init(x)
    for _ in range(100):
        index = np.sort(rng.choice(d, k, replace=False))
        g = rng.normal(size=k)
        p.grad = torch.sparse_coo_tensor(
            torch.from_numpy(index)[None],
            torch.from_numpy(g),
            (d,),
            check_invariants=True,
        )
        reference.step()
        adam.lazy_step(x, g, state, index)
    assert_allclose(x, p.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    ("index", "message"),
    [
        (np.array([[0, 1]]), "1-D array of integers"),
        (np.array([0.0, 1.0]), "1-D array of integers"),
        (np.array([0, 9]), r"in \[0, 5\)"),
        (np.array([-1, 2]), r"in \[0, 5\)"),
        (np.array([2, 1]), "strictly increasing"),
        (np.array([1, 1]), "strictly increasing"),
    ],
)
def test_lazy_step_refuses_bad_index_and_writes_nothing(index, message):
    adam = Adam()
    x = np.ones((1, 5))
    state = adam.init(x)
    with pytest.raises(ValueError, match=message):
        adam.lazy_step(x, np.ones((1, index.size)), state, index)
    assert_array_equal(x, 1.0)
    assert state.step == 0 and not state.m.any()


def test_lazy_step_refuses_a_gradient_of_another_shape():
    adam = Adam()
    x = np.ones((1, 5))
    state = adam.init(x)
    with pytest.raises(ValueError, match="shape"):
        adam.lazy_step(x, np.ones((1, 3)), state, [0, 1])
    assert_array_equal(x, 1.0)
    assert state.step == 0


# ---------------------------------------------------------------- step_size


@pytest.mark.parametrize("amsgrad", [False, True])
def test_step_size_is_torch_adams_step_over_m_hat(rng, amsgrad):
    # torch.optim.Adam's step divided by its bias-corrected first moment is
    # the per-coordinate step the proximal step needs.
    x_t = torch.tensor(rng.normal(size=6), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([x_t], lr=0.05, amsgrad=amsgrad, foreach=False)
    adam = Adam(learning_rate=0.05, amsgrad=amsgrad)
    x = x_t.detach().numpy().copy()
    state = adam.init(x)
    for t in range(1, 30):
        g = rng.normal(size=6) * (1 + t % 3)
        before = x_t.detach().clone()
        x_t.grad = torch.tensor(g)
        opt.step()
        adam.step(x, g, state)
        m_hat = opt.state[x_t]["exp_avg"].numpy() / (1 - 0.9**t)
        torch_eta = (before - x_t.detach()).numpy() / m_hat
        assert_allclose(adam.step_size(state), torch_eta, rtol=1e-8)


def test_step_size_needs_a_stepped_state():
    adam = Adam()
    with pytest.raises(ValueError, match="taken a step"):
        adam.step_size(adam.init(np.zeros(2)))
    state = Adam(learning_rate=0.1, bias_correction=False, epsilon=0.5).init(
        np.zeros(1)
    )
    Adam(learning_rate=0.1, bias_correction=False, epsilon=0.5).step(
        np.zeros(1), np.array([1.0]), state
    )
    # Without bias correction: lr / (sqrt(v) + eps), v = (1 - beta_2) g**2.
    expected = 0.1 / (np.sqrt(0.001) + 0.5)
    eta = Adam(learning_rate=0.1, bias_correction=False, epsilon=0.5).step_size(state)
    assert_allclose(eta, [expected])
