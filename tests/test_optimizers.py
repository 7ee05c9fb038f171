"""NAdam, RAdam, Adamax and schedule-free AdamW against their references."""

import io
import pickle

import numpy as np
import pytest
import schedulefree  # test-only oracle (torch-based)
import torch  # test-only oracle
from numpy.testing import assert_allclose, assert_array_equal

from skadam import (
    Adam,
    Adamax,
    AdamaxState,
    NAdam,
    NAdamState,
    RAdam,
    RAdamState,
    ScheduleFreeAdamW,
    ScheduleFreeState,
    make_optimizer,
)
from skadam._optimizers import ALGORITHMS

N_STEPS = 200
D = 10


@pytest.fixture(autouse=True)
def torch_float64():
    # torch keeps scalar state (NAdam's mu_product, the step) in the default
    # dtype: float64, so that the reference is a float64 computation.
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


@pytest.fixture
def problem(rng):
    """``grad(x)`` of a quadratic with curvatures 0.01..100, and a start."""
    q, _ = np.linalg.qr(rng.standard_normal((D, D)))
    a = (q * np.logspace(-2, 2, D)) @ q.T
    c = rng.uniform(1.0, 3.0, D) * rng.choice([-1.0, 1.0], D)
    return (lambda x: a @ (x - c)), np.zeros(D)


def ours(opt, grad_fn, x0, n_steps=N_STEPS):
    x = x0.copy()
    state = opt.init(x)
    xs, evals = [], []
    for _ in range(n_steps):
        opt.step(x, grad_fn(x), state)
        xs.append(x.copy())
        evals.append(np.array(opt.eval_params(x, state)))
    return np.array(xs), np.array(evals)


def torch_run(opt_class, grad_fn, x0, clip=None, n_steps=N_STEPS, **kwargs):
    p = torch.tensor(x0.copy())
    opt = opt_class([p], foreach=False, **kwargs)
    schedule_free = hasattr(opt, "train")
    if schedule_free:
        opt.train()
    ys, xs = [], []
    for _ in range(n_steps):
        p.grad = torch.from_numpy(grad_fn(p.numpy().copy()))
        if clip is not None:
            torch.nn.utils.clip_grad_norm_([p], clip, foreach=False)
        opt.step()
        ys.append(p.numpy().copy())
        if schedule_free:
            opt.eval()  # p becomes the averaged point x
            xs.append(p.numpy().copy())
            opt.train()
    return np.array(ys), np.array(xs)


def assert_travels_and_matches(ours_traj, ref_traj, x0):
    assert np.abs(ref_traj[-1] - x0).max() > 0.5  # else the test is vacuous
    assert_allclose(ours_traj, ref_traj, rtol=1e-10, atol=1e-12)


TORCH_NAMES = {"learning_rate": "lr", "epsilon": "eps"}


def torch_kwargs(params):
    kwargs = {TORCH_NAMES.get(k, k): v for k, v in params.items()}
    betas = (kwargs.pop("beta_1", 0.9), kwargs.pop("beta_2", 0.999))
    kwargs.pop("max_grad_norm", None)
    return {**kwargs, "betas": betas}


FAMILY = [
    (NAdam, torch.optim.NAdam, {}),
    (NAdam, torch.optim.NAdam, {"weight_decay": 0.1}),
    (NAdam, torch.optim.NAdam, {"weight_decay": 0.1, "decoupled_weight_decay": True}),
    (NAdam, torch.optim.NAdam, {"momentum_decay": 0.02, "beta_1": 0.8}),
    (NAdam, torch.optim.NAdam, {"max_grad_norm": 20.0}),
    (RAdam, torch.optim.RAdam, {}),
    (RAdam, torch.optim.RAdam, {"weight_decay": 0.1}),
    (RAdam, torch.optim.RAdam, {"weight_decay": 0.1, "decoupled_weight_decay": True}),
    (RAdam, torch.optim.RAdam, {"beta_2": 0.99, "epsilon": 1e-3}),
    (RAdam, torch.optim.RAdam, {"max_grad_norm": 20.0}),
    (Adamax, torch.optim.Adamax, {}),
    (Adamax, torch.optim.Adamax, {"weight_decay": 0.1}),
    (Adamax, torch.optim.Adamax, {"beta_2": 0.9, "epsilon": 1e-3}),
    (Adamax, torch.optim.Adamax, {"max_grad_norm": 20.0}),
]
FAMILY_IDS = [
    "nadam", "nadam-l2", "nadamw", "nadam-psi", "nadam-clip",
    "radam", "radam-l2", "radamw", "radam-betas", "radam-clip",
    "adamax", "adamax-l2", "adamax-betas", "adamax-clip",
]  # fmt: skip


@pytest.mark.parametrize("ours_class, torch_class, params", FAMILY, ids=FAMILY_IDS)
def test_trajectory_equals_torch(ours_class, torch_class, params, problem):
    grad_fn, x0 = problem
    params = {"learning_rate": 0.05, **params}
    xs, evals = ours(ours_class(**params), grad_fn, x0)
    ref, _ = torch_run(
        torch_class, grad_fn, x0, clip=params.get("max_grad_norm"),
        **torch_kwargs(params),
    )  # fmt: skip
    assert_travels_and_matches(xs, ref, x0)
    assert_array_equal(evals, xs)  # eval_params is x itself


SCHEDULE_FREE = [
    {},
    {"warmup_steps": 20},
    {"weight_decay": 0.05},
    {"warmup_steps": 20, "weight_decay": 0.05, "r": 0.5, "weight_lr_power": 1.0},
    {"beta_1": 0.5, "beta_2": 0.99, "epsilon": 1e-4, "max_grad_norm": 20.0},
]


@pytest.mark.parametrize(
    "params", SCHEDULE_FREE, ids=["plain", "warmup", "decay", "all", "betas-clip"]
)
def test_schedule_free_y_and_x_equal_the_reference(params, problem):
    grad_fn, x0 = problem
    params = {"learning_rate": 0.05, **params}
    ys, xs = ours(ScheduleFreeAdamW(**params), grad_fn, x0)
    ref_y, ref_x = torch_run(
        schedulefree.AdamWScheduleFree, grad_fn, x0,
        clip=params.get("max_grad_norm"), **torch_kwargs(params),
    )  # fmt: skip
    assert_travels_and_matches(ys, ref_y, x0)
    assert_travels_and_matches(xs, ref_x, x0)
    assert not np.allclose(xs, ys)  # the averaged point is not y


# ------------------------------------------------------------------ protocol

CLASSES = [NAdam, RAdam, Adamax, ScheduleFreeAdamW]


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_and_shape_are_kept(cls, dtype, rng):
    opt = cls(weight_decay=0.1)
    x = rng.standard_normal((3, 4)).astype(dtype)
    state = opt.init(x)
    for _ in range(5):
        assert opt.step(x, rng.standard_normal((3, 4)), state) is not None
    arrays = [a for _, a in state._arrays()] + [x, opt.eval_params(x, state)]
    assert all(a.dtype == dtype and a.shape == (3, 4) for a in arrays)
    assert np.all(np.isfinite(x))
    assert state.step == 5


@pytest.mark.parametrize("cls", CLASSES)
def test_read_only_x_raises_before_the_state_moves(cls):
    opt = cls()
    x = np.ones(4)
    state = opt.init(x)
    before = state.copy()
    x.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        opt.step(x, np.ones(4), state)
    assert_states_equal(state, before)


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("alias", ["x", "grad"])
def test_state_arrays_aliasing_x_or_grad_are_refused(cls, alias):
    opt = cls()
    x, grad = np.full(4, 2.0), np.ones(4)
    for name, _ in opt.init(x)._arrays():
        state = opt.init(x)
        setattr(state, name, x if alias == "x" else grad)
        before = [x.copy(), grad.copy()]
        message = rf"{alias} must not overlap state\.{name}"
        with pytest.raises(ValueError, match=message):
            opt.step(x, grad, state)
        assert_array_equal(x, before[0])
        assert_array_equal(grad, before[1])
        assert state.step == 0


@pytest.mark.parametrize("name", sorted(ALGORITHMS))
def test_a_0d_array_is_a_number_stored_as_a_float(name):
    # NumPy reductions return 0-d arrays; np.float32(0.1) was already taken.
    opt = make_optimizer(
        name, learning_rate=np.array(0.1), beta_2=np.array(0.99),
        epsilon=np.array(0.0), max_grad_norm=np.array(10),
    )  # fmt: skip
    assert type(opt.learning_rate) is float and opt.learning_rate == 0.1
    assert type(opt.beta_2) is float and opt.beta_2 == 0.99
    assert type(opt.max_grad_norm) is float and opt.max_grad_norm == 10.0
    with pytest.raises(ValueError, match="learning_rate must be a real number"):
        make_optimizer(name, learning_rate=np.array([0.1]))
    with pytest.raises(ValueError, match=r"learning_rate must be in \(0"):
        make_optimizer(name, learning_rate=np.array(-0.1))


def test_a_0d_array_learning_rate_takes_the_first_step_of_its_value():
    # Adam's first bias-corrected step (epsilon 0) is lr * sign(g) exactly.
    for lr in (np.array(0.25), np.array(0.25, dtype=np.float32)):
        adam = Adam(learning_rate=lr, epsilon=0.0)
        x = np.array([1.0, -1.0])
        adam.step(x, np.array([3.0, -0.5]), adam.init(x))
        assert_array_equal(x, [0.75, -0.75])


def assert_states_equal(a, b):
    assert type(a) is type(b)
    for (name, x), (_, y) in zip(a._arrays(), b._arrays(), strict=True):
        assert_array_equal(x, y, err_msg=name)
    assert a.step == b.step
    for name in a._scalars:
        assert getattr(a, name) == getattr(b, name)


def savez_roundtrip(state):
    buf = io.BytesIO()
    np.savez(buf, **state.to_dict())
    buf.seek(0)
    with np.load(buf) as data:
        return type(state).from_dict(data)


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize(
    "roundtrip",
    [lambda s: s.copy(), lambda s: pickle.loads(pickle.dumps(s)), savez_roundtrip],
    ids=["copy", "pickle", "savez"],
)
def test_resumed_run_equals_uninterrupted_run(cls, roundtrip, problem):
    grad_fn, x0 = problem
    opt = cls(learning_rate=0.05, weight_decay=0.01)
    x_full = x0.copy()
    full = opt.init(x_full)
    for _ in range(30):
        opt.step(x_full, grad_fn(x_full), full)
    x = x0.copy()
    state = opt.init(x)
    for _ in range(12):
        opt.step(x, grad_fn(x), state)
    x_saved, saved = x.copy(), roundtrip(state)
    opt.step(x, grad_fn(x), state)  # the saved copy must not share its arrays
    for _ in range(18):
        opt.step(x_saved, grad_fn(x_saved), saved)
    assert_array_equal(x_saved, x_full)
    assert_states_equal(saved, full)


@pytest.mark.parametrize(
    "state_class, d, match",
    [
        (NAdamState, {"step": 1, "m": np.zeros(2), "v": np.zeros(2, int),
                      "mu_product": 0.9}, "float32 or float64"),
        (AdamaxState, {"step": 1, "m": np.zeros(2), "u": np.zeros(3)}, "shape"),
        (RAdamState, {"step": 1, "m": np.zeros(2)}, "missing"),
        (ScheduleFreeState, {"step": 1, "z": np.zeros(2), "v": np.zeros(2),
                             "weight_sum": np.nan, "lr_max": 0.1}, "finite"),
    ],
    ids=["int", "shape", "missing", "nan-scalar"],
)  # fmt: skip
def test_from_dict_validates(state_class, d, match):
    with pytest.raises(ValueError, match=match):
        state_class.from_dict(d)


def test_objective_gradient_is_the_coupled_l2_gradient_only(rng):
    x, g = rng.standard_normal(3), rng.standard_normal(3)
    assert_array_equal(NAdam(weight_decay=0.5).objective_gradient(x, g), g + 0.5 * x)
    assert_array_equal(Adamax(weight_decay=0.5).objective_gradient(x, g), g + 0.5 * x)
    for opt in [
        RAdam(weight_decay=0.5, decoupled_weight_decay=True),
        ScheduleFreeAdamW(weight_decay=0.5),
        NAdam(),
    ]:
        assert opt.objective_gradient(x, g) is g


def test_eval_params_of_schedule_free_is_a_new_array():
    opt = ScheduleFreeAdamW()
    y = np.ones(3)
    state = opt.init(y)
    opt.step(y, np.arange(3.0), state)
    x = opt.eval_params(y, state)
    assert not np.shares_memory(x, y)


@pytest.mark.parametrize(
    "cls, name, bad",
    [
        (NAdam, "momentum_decay", -0.1),
        (ScheduleFreeAdamW, "beta_1", 0.0),
        (ScheduleFreeAdamW, "warmup_steps", 2.5),
        (ScheduleFreeAdamW, "warmup_steps", -1),
        (ScheduleFreeAdamW, "r", -1.0),
        (ScheduleFreeAdamW, "weight_lr_power", float("inf")),
        (RAdam, "beta_2", 1.0),
        (Adamax, "learning_rate", 0.0),
    ],
)
def test_bad_hyperparameters_raise_naming_them(cls, name, bad):
    with pytest.raises(ValueError, match=name):
        cls(**{name: bad})


# ---------------------------------------------------------------- by name


def test_algorithms_map_names_to_classes():
    assert ALGORITHMS == {
        "adam": Adam,
        "nadam": NAdam,
        "radam": RAdam,
        "adamax": Adamax,
        "schedulefree_adamw": ScheduleFreeAdamW,
    }


@pytest.mark.parametrize("name", sorted(ALGORITHMS))
def test_make_optimizer_passes_hyperparameters_on(name):
    opt = make_optimizer(name, learning_rate=0.25, max_grad_norm=3.0)
    assert type(opt) is ALGORITHMS[name]
    assert opt.learning_rate == 0.25
    assert opt.max_grad_norm == 3.0
    assert repr(opt).startswith(f"{type(opt).__name__}(learning_rate=0.25")


@pytest.mark.parametrize(
    "name, params, match",
    [
        ("adamw", {}, "algorithm must be one of"),
        (None, {}, "algorithm must be one of"),
        ("nadam", {"amsgrad": True}, "'nadam' takes no amsgrad"),
        ("adamax", {"decoupled_weight_decay": True}, "takes no decoupled"),
        ("schedulefree_adamw", {"bias_correction": False}, "takes no bias"),
        ("radam", {"learning_rate": -1.0}, "learning_rate must be in"),
    ],
)
def test_make_optimizer_refuses_what_the_algorithm_does_not_take(name, params, match):
    with pytest.raises(ValueError, match=match):
        make_optimizer(name, **params)
