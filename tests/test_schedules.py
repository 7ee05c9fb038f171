"""Learning-rate schedules against torch's schedulers on a real optimizer."""

import copy
import pickle

import numpy as np
import pytest
import torch  # test-only oracle
from numpy.testing import assert_allclose
from sklearn.base import clone
from torch.optim import lr_scheduler

from skadam import (
    Adam,
    ConstantSchedule,
    ExponentialDecay,
    InverseTimeDecay,
    LinearWarmup,
    WarmupCosineDecay,
)

N = 120


def torch_rates(make_scheduler, base_lr, n=N):
    """The rate a torch optimizer uses at updates 1..n under a scheduler."""
    p = torch.zeros(2, requires_grad=True)
    opt = torch.optim.SGD([p], lr=base_lr)
    scheduler = make_scheduler(opt)
    rates = []
    for _ in range(n):
        rates.append(opt.param_groups[0]["lr"])
        p.grad = torch.ones(2)
        opt.step()
        scheduler.step()
    return np.array(rates)


def warmup_cosine_torch(opt, init, peak, warmup, decay_steps, end):
    warm = lr_scheduler.LinearLR(opt, start_factor=init / peak, total_iters=warmup)
    cosine = lr_scheduler.CosineAnnealingLR(
        opt, T_max=decay_steps - warmup, eta_min=end
    )
    return lr_scheduler.SequentialLR(opt, [warm, cosine], milestones=[warmup])


CASES = [
    (
        ConstantSchedule(0.03),
        0.03,
        lambda opt: lr_scheduler.LambdaLR(opt, lambda k: 1.0),
        N,
    ),
    (
        InverseTimeDecay(0.1, power=0.25),
        0.1,
        lambda opt: lr_scheduler.LambdaLR(opt, lambda k: 1 / (k + 1) ** 0.25),
        N,
    ),
    (
        ExponentialDecay(0.1, decay_rate=0.97),
        0.1,
        lambda opt: lr_scheduler.ExponentialLR(opt, gamma=0.97),
        N,
    ),
    (
        LinearWarmup(0.2, warmup_steps=30, init_value=0.01),
        0.2,
        lambda opt: lr_scheduler.LinearLR(opt, start_factor=0.05, total_iters=30),
        N,
    ),
    (
        WarmupCosineDecay(0.2, 20, 100, init_value=0.01, end_value=0.002),
        0.2,
        lambda opt: warmup_cosine_torch(opt, 0.01, 0.2, 20, 100, 0.002),
        101,  # torch's cosine rises again after T_max; ours stays at end_value
    ),
    (
        WarmupCosineDecay(0.2, 0, 50, end_value=0.0),
        0.2,
        lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=50, eta_min=0.0),
        51,
    ),
]
IDS = ["constant", "inverse-time", "exponential", "linear-warmup", "warmup-cosine",
       "cosine"]  # fmt: skip


@pytest.mark.parametrize("schedule, base_lr, make_scheduler, n", CASES, ids=IDS)
def test_schedule_equals_torch_scheduler(schedule, base_lr, make_scheduler, n):
    ours = np.array([schedule(t) for t in range(1, n + 1)])
    ref = torch_rates(make_scheduler, base_lr, n)
    assert_allclose(ours, ref, rtol=1e-12, atol=1e-15)


def test_inverse_time_is_scikit_learn_invscaling():
    # sklearn's SGD: eta = eta0 / pow(t, power_t), t counting from 1.
    schedule = InverseTimeDecay(0.5, power=0.3)
    assert_allclose(
        [schedule(t) for t in (1, 2, 10)], [0.5 / t**0.3 for t in (1, 2, 10)]
    )


def test_warmup_cosine_stays_at_end_value_after_decay_steps():
    schedule = WarmupCosineDecay(1.0, 5, 10, end_value=0.1)
    assert schedule(11) == schedule(500) == pytest.approx(0.1, abs=1e-15)


def test_adam_with_a_schedule_equals_torch_adam_with_its_scheduler(rng):
    a = np.diag(np.logspace(-1, 1, 6))
    c = rng.standard_normal(6)

    def grad(x):
        return a @ (x - c)

    schedule = WarmupCosineDecay(0.1, 10, 150, init_value=0.001, end_value=0.001)
    adam = Adam(learning_rate=schedule)
    x = np.zeros(6)
    state = adam.init(x)
    ours = []
    for _ in range(150):
        adam.step(x, grad(x), state)
        ours.append(x.copy())

    p = torch.zeros(6, dtype=torch.float64)
    opt = torch.optim.Adam([p], lr=0.1, foreach=False)
    scheduler = warmup_cosine_torch(opt, 0.001, 0.1, 10, 150, 0.001)
    ref = []
    for _ in range(150):
        p.grad = torch.from_numpy(grad(p.numpy().copy()))
        opt.step()
        scheduler.step()
        ref.append(p.numpy().copy())
    assert_allclose(ours, ref, rtol=1e-10, atol=1e-13)


SCHEDULES = [case[0] for case in CASES]


@pytest.mark.parametrize("schedule", SCHEDULES, ids=IDS)
def test_pickle_copy_clone_repr_and_equality(schedule):
    for other in (
        pickle.loads(pickle.dumps(schedule)),
        copy.deepcopy(schedule),
        clone(schedule, safe=False),
        eval(repr(schedule), vars(__import__("skadam"))),
    ):
        assert other == schedule
        assert hash(other) == hash(schedule)
        assert other(7) == schedule(7)
    assert schedule != ConstantSchedule(123.0)


def test_repr_reads_as_the_call_that_makes_it():
    assert repr(LinearWarmup(0.1, 5)) == (
        "LinearWarmup(peak_value=0.1, warmup_steps=5, init_value=0.0)"
    )


@pytest.mark.parametrize("t", [0, -1, 1.5, True, "2", None])
def test_t_must_be_a_positive_int(t):
    with pytest.raises(ValueError, match="t must be an update count"):
        ConstantSchedule(0.1)(t)


def test_numpy_integers_are_update_counts():
    assert ExponentialDecay(1.0, 0.5)(np.int64(2)) == 0.5


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: ConstantSchedule(-1.0), "value"),
        (lambda: ConstantSchedule(float("inf")), "value"),
        (lambda: InverseTimeDecay(0.1, power=-0.5), "power"),
        (lambda: ExponentialDecay(0.1, decay_rate=0.0), "decay_rate"),
        (lambda: ExponentialDecay(0.1, decay_rate=1.5), "decay_rate"),
        (lambda: LinearWarmup(0.1, warmup_steps=0), "warmup_steps"),
        (lambda: LinearWarmup(0.1, warmup_steps=2.0), "warmup_steps"),
        (lambda: WarmupCosineDecay(0.1, 10, 10), "decay_steps"),
        (lambda: WarmupCosineDecay(0.1, -1, 10), "warmup_steps"),
        (lambda: WarmupCosineDecay(0.1, 1, 10, end_value=float("nan")), "end_value"),
    ],
)
def test_bad_parameters_raise_naming_them(make, name):
    with pytest.raises(ValueError, match=name):
        make()
