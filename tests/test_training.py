import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from optimum import exact_optimum
from scipy import sparse
from scipy.optimize import minimize_scalar

from skadam import Adam, _training
from skadam._linear_loss import LinearModelLoss
from skadam._losses import HalfBinomialLoss, HalfMultinomialLoss, HalfSquaredError
from skadam._penalties import L1Penalty, L2Penalty
from skadam._scaling import Standardization
from skadam._status import Status
from skadam._training import (
    FullBatch,
    Minibatches,
    NoImprovement,
    decision_values,
    train,
)

BASE = {
    "squared": HalfSquaredError,
    "binary_logistic": HalfBinomialLoss,
    "multinomial": HalfMultinomialLoss,
}


@pytest.fixture
def problem(rng):
    X = rng.normal(size=(50, 3))
    Y = (X @ np.array([[1.0], [-2.0], [0.5]]) > 0).astype(float)
    return X, Y, rng.uniform(0.5, 2.0, size=50)


def make_loss(kind, alpha=0.0):
    return LinearModelLoss(BASE[kind](), L2Penalty(alpha))


def run(
    kind,
    learning_rate,
    coef,
    X,
    Y,
    s,
    batch_size,
    *,
    alpha=0.0,
    rows=None,
    tol=None,
    n_iter_no_change=10,
    **kwargs,
):
    """Train ``coef`` in place from a fresh Adam state; return the result."""
    loss, adam = make_loss(kind, alpha), Adam(learning_rate=learning_rate)
    source = Minibatches(loss, X, Y, s, batch_size, rows)
    stopping = None if tol is None else NoImprovement(tol, n_iter_no_change)
    identity = Standardization.identity(X.shape[1], X.dtype)
    return train(
        loss, identity, adam, coef, adam.init(coef), source, stopping=stopping, **kwargs
    )


class Recorder:
    """A loss that records the rows each call of ``sums`` is given."""

    def __init__(self):
        self.calls = []

    def sums(self, coef, X, Y, s, out):
        self.calls.append((X.copy(), Y.copy(), s.copy()))
        out[...] = 0
        return 0.0, out


def test_every_training_row_once_per_epoch(problem):
    X, _, s = problem
    rows = np.arange(50)[::2]
    tagged = np.arange(50.0)[:, None]  # Y holds the row number
    recorder = Recorder()
    batches = Minibatches(recorder, X, tagged, s, batch_size=7, rows=rows)
    seen = []
    for share, sums in batches.epoch(True, np.random.RandomState(0)):
        sums(np.zeros((1, 4)), np.empty((1, 4)))
        Xb, Yb, sb = recorder.calls[-1]
        index = Yb[:, 0].astype(int)
        assert_array_equal(Xb, X[index])
        assert_array_equal(sb, s[index])
        assert share == len(index) / 25
        seen.extend(index)
    assert sorted(seen) == list(rows)
    assert batches.weight_sum == pytest.approx(s[rows].sum())


def test_full_batch_uses_x_itself_and_minibatches_are_row_major(problem):
    X, Y, s = problem
    ((share, _),) = list(
        Minibatches(make_loss("squared"), X, Y, s, None).epoch(True, None)
    )
    assert share == 1.0
    assert Minibatches(None, X, Y, s, 10).X is X  # C-ordered: no copy
    assert Minibatches(None, np.asfortranarray(X), Y, s, 10).X.flags.c_contiguous
    assert Minibatches(None, sparse.csc_matrix(X), Y, s, 10).X.format == "csr"
    csc = sparse.csc_matrix(X)
    assert Minibatches(None, csc, Y, s, None).X is csc  # full batch: used as is


def test_large_batches_are_chunked_without_changing_the_step(problem, monkeypatch):
    X, Y, s = problem

    def fit():
        coef = np.zeros((1, 4))
        rows = np.arange(50)[1:]  # rows given: the batch is gathered
        run(
            "binary_logistic",
            0.1,
            coef,
            X,
            Y,
            s,
            None,
            alpha=0.1,
            rows=rows,
            max_epochs=3,
        )
        return coef

    whole = fit()
    monkeypatch.setattr(_training, "CHUNK_ROWS", 8)
    assert_allclose(fit(), whole, rtol=1e-12)


def test_full_batch_training_equals_a_hand_written_adam_loop(problem):
    X, Y, s = problem
    loss = make_loss("binary_logistic", 0.01)
    adam = Adam(learning_rate=0.05)
    coef, expected = np.zeros((1, 4)), np.zeros((1, 4))
    average = np.empty_like(coef)
    result = run(
        "binary_logistic",
        0.05,
        coef,
        X,
        Y,
        s,
        None,
        alpha=0.01,
        max_epochs=20,
        average=average,
    )
    state, losses = adam.init(expected), []
    for _ in range(20):
        value, grad = loss.loss_gradient(expected, X, Y, s)
        losses.append(value - loss.penalty.value(expected[:, :-1]))
        adam.step(expected, grad, state)
        losses[-1] += loss.penalty.value(expected[:, :-1])
    assert_allclose(coef, expected, rtol=1e-13)
    assert_array_equal(average, coef)  # one step an epoch: nothing to average
    assert_allclose(result.loss_curve, losses, rtol=1e-13)
    assert result.status is Status.MAX_ITER and result.n_epochs == 20


def test_a_full_batch_callable_trains_like_the_arrays(problem):
    # The seam for other data sources (a Dask reduction): the same run.
    X, Y, s = problem
    loss = make_loss("binary_logistic", 0.01)
    in_memory = np.zeros((1, 4))
    run("binary_logistic", 0.05, in_memory, X, Y, s, None, alpha=0.01, max_epochs=20)
    coef, adam = np.zeros((1, 4)), Adam(learning_rate=0.05)
    source = FullBatch(lambda c: loss.sums(c, X, Y, s), s.sum())
    identity = Standardization.identity(3, X.dtype)
    train(loss, identity, adam, coef, adam.init(coef), source, max_epochs=20)
    assert_allclose(coef, in_memory, rtol=1e-12)


def test_training_in_standardised_coordinates_follows_the_chain_rule(problem):
    X, Y, s = problem
    loss = make_loss("binary_logistic", 0.3)
    scaling = Standardization(np.array([1.0, -2.0, 0.5]), np.array([2.0, 0.5, 1.0]))
    coef, adam = np.full((1, 4), 0.1), Adam(learning_rate=0.05)
    infos = []

    def stopping(info):
        infos.append(info)
        return True

    source = Minibatches(loss, X, Y, s, None)
    result = train(
        loss,
        scaling,
        adam,
        coef,
        adam.init(coef),
        source,
        max_epochs=5,
        stopping=stopping,
    )
    assert result.status is Status.CONVERGED and result.n_epochs == 1
    ((info,),) = [infos]
    value, grad = info.full_objective()
    raw = scaling.to_raw(coef)
    expected_value, raw_grad = loss.loss_gradient(raw, X, Y, s)
    assert_allclose(value, expected_value, rtol=1e-12)
    # d f(to_raw(c)) / dc, by the chain rule written out.
    expected = raw_grad.copy()
    expected[:, :3] = (raw_grad[:, :3] - np.outer(raw_grad[:, 3], scaling.mean)) * 2
    expected[:, :3] *= scaling.factor / 2
    assert_allclose(grad, expected, rtol=1e-12)
    assert info.monitored == info.loss and info.epoch == 1


def test_average_is_the_mean_of_the_epoch_iterates(problem):
    X, Y, s = problem
    loss, adam = make_loss("binary_logistic"), Adam(learning_rate=0.1)
    coef = np.zeros((1, 4))
    average = np.empty_like(coef)
    run(
        "binary_logistic",
        0.1,
        coef,
        X,
        Y,
        s,
        10,
        max_epochs=1,
        shuffle=False,
        average=average,
    )
    replay, iterates = np.zeros((1, 4)), []
    replay_state = adam.init(replay)
    for lo in range(0, 50, 10):
        rows = slice(lo, lo + 10)
        _, grad = loss.sums(replay, X[rows], Y[rows], s[rows])
        adam.step(replay, grad / (s.sum() * 10 / 50), replay_state)
        iterates.append(replay.copy())
    assert_allclose(coef, iterates[-1], rtol=1e-13)
    assert_allclose(average, np.mean(iterates, axis=0), rtol=1e-13)


def test_stopping_after_n_iter_no_change_epochs(problem):
    X, _, s = problem
    result = run(
        "squared",
        0.1,
        np.zeros((1, 4)),
        X,
        X[:, :1],
        s,
        None,
        max_epochs=10_000,
        tol=1e-3,
        n_iter_no_change=4,
    )
    assert result.status is Status.CONVERGED
    curve = np.array(result.loss_curve)
    best_before = np.minimum.accumulate(curve)[-5]
    assert np.all(curve[-4:] > best_before - 1e-3)
    assert curve[-5] <= np.minimum.accumulate(curve)[-6] - 1e-3


class Info:
    def __init__(self, loss):
        self.monitored = loss


def test_no_improvement_tells_a_plateau_from_progress():
    # "No improvement by tol" counts a plateau and a worsening alike, and an
    # improvement by tol resets the count.
    rule = NoImprovement(tol=0.1, n_iter_no_change=2)
    assert [rule(Info(v)) for v in [1.0, 0.95, 0.95]] == [False, False, True]
    rule = NoImprovement(tol=0.1, n_iter_no_change=2)
    assert [rule(Info(v)) for v in [1.0, 0.85, 0.7, 0.65]] == [False] * 4
    assert not any(NoImprovement(None, 1)(Info(1.0)) for _ in range(3))


def test_validation_loss_restores_the_best_coefficients(problem):
    X, Y, s = problem
    coef = np.zeros((1, 4))
    losses = iter([0.5, 0.1, 0.3, 0.4, 0.2, 0.4])
    seen = []

    def validation(c):
        seen.append(c.copy())
        return next(losses), 10.0 * len(seen)  # the score is only recorded

    result = run(
        "binary_logistic",
        0.1,
        coef,
        X,
        Y,
        s,
        None,
        max_epochs=6,
        tol=0.0,
        n_iter_no_change=3,
        validation=validation,
    )
    assert result.validation_losses == [0.5, 0.1, 0.3, 0.4, 0.2]
    assert result.validation_scores == [10.0, 20.0, 30.0, 40.0, 50.0]
    assert result.status is Status.CONVERGED and result.best_validation_score == 20.0
    assert_array_equal(coef, seen[1])


@pytest.mark.parametrize("where", ["all", "one"])
def test_nonfinite_stops_with_the_epoch_start_coefficients(problem, where):
    X, Y, s = problem
    coef = np.ones((1, 4))
    if where == "one":  # a single NaN in a gradient that is otherwise small
        X = X.copy()
        X[3, 1] = np.nan
        result = run("squared", 0.1, coef, X, Y, s, None, max_epochs=5)
    else:
        result = run("squared", 1e200, coef, X, Y, s, None, alpha=1.0, max_epochs=5)
    assert result.status is Status.NONFINITE and result.n_epochs == 0
    assert_array_equal(coef, np.ones((1, 4)))


def test_decision_values_in_chunks(problem, monkeypatch):
    X, _, _ = problem
    monkeypatch.setattr(_training, "CHUNK_ROWS", 7)
    loss = make_loss("multinomial")
    coef = np.arange(12.0).reshape(3, 4)
    rows = np.array([3, 1, 40, 41, 42, 0, 5, 6, 7, 8, 9, 10, 11])
    assert_allclose(
        decision_values(loss, coef, X, rows), loss.raw_prediction(coef, X[rows])
    )
    assert decision_values(loss, coef, X, rows[:0]).shape == (0, 3)


def test_fits_in_threads_leave_the_blas_threads_alone(problem, monkeypatch):
    # The one-thread BLAS limit for small problems is process-wide state:
    # fits running at once in several threads would set and restore it in an
    # interleaved order and leave it behind, so only the main thread sets it.
    import contextlib
    import threading

    from joblib import Parallel, delayed

    X, Y, s = problem
    limited_in = []

    class Controller:
        def limit(self, limits, user_api):
            limited_in.append(threading.current_thread())
            return contextlib.nullcontext()

    monkeypatch.setattr(_training, "_controller", Controller())

    def fit(seed):
        rng = np.random.RandomState(seed)
        run(
            "binary_logistic", 0.01, np.zeros((1, 4)), X, Y, s, 4, max_epochs=3, rng=rng
        )

    Parallel(n_jobs=2, backend="threading")(delayed(fit)(i) for i in range(4))
    assert limited_in == []
    fit(0)
    assert limited_in == [threading.main_thread()]


def test_a_proximal_penalty_needs_the_optimizers_step_size():
    class NoStepSize:
        def step(self, x, grad, state):
            return x

    X, Y = np.ones((4, 2)), np.ones((4, 1))
    loss = LinearModelLoss(HalfSquaredError(), L1Penalty(0.1))
    coef = np.zeros((1, 3))
    source = Minibatches(loss, X, Y, np.ones(4), batch_size=None)
    with pytest.raises(ValueError, match="NoStepSize has no step_size"):
        train(loss, Standardization.identity(2, X.dtype), NoStepSize(), coef,
              None, source, max_epochs=1)  # fmt: skip


# -- the certified stopping rule ------------------------------------------------


def _gap_rule(loss, d, tol=1e-4, **kwargs):
    identity = Standardization.identity(d, np.float64)
    return _training.RelativeGap(tol, 5, loss.penalty, identity, True, **kwargs)


@pytest.mark.parametrize("kind", ["squared", "binary_logistic"])
def test_relative_gap_bounds_the_exact_gap(problem, kind):
    # At points along the way to the optimum, with the intercept at its own
    # optimum (g_b = 0, where the bound is the duality gap itself): the
    # bound is at least the true relative gap, against the optimum computed
    # by L-BFGS-B (scipy) on the objective written out in tests/optimum.py.
    X, Y, _ = problem
    alpha = 0.05
    loss = make_loss(kind, alpha)
    best = exact_optimum(X, Y, alpha, kind != "squared")[2]
    rule = _gap_rule(loss, X.shape[1])
    for shrink in [0.0, 0.5, 0.9, 0.99]:
        coef = np.zeros((1, 4))
        W = exact_optimum(X, Y, alpha, kind != "squared")[0]
        coef[:, :3] = shrink * W
        # the intercept's optimum for these weights, by a 1-d solve

        def f(c, coef=coef):
            coef[0, 3] = c
            return loss.loss(coef, X, Y)

        coef[0, 3] = minimize_scalar(f, bounds=(-20, 20), method="bounded").x
        value, grad = loss.loss_gradient(coef, X, Y)
        bound = rule.bound(coef, value, grad)
        assert bound >= (value - best) / value * (1 - 1e-6)


def test_relative_gap_without_penalty_is_the_largest_gradient():
    loss = make_loss("squared", 0.0)
    rule = _gap_rule(loss, 2)
    grad = np.array([[0.1, -0.3, 0.2]])
    assert rule.bound(np.zeros((1, 3)), 1.0, grad) == 0.3
    assert rule.describe().startswith("the largest gradient component")


def test_relative_gap_stops_minibatches_at_the_noise_floor():
    # With minibatches the rule also stops after n_iter_no_change epochs
    # without a relative improvement of tol; under full batch it never does.
    loss = make_loss("squared", 1.0)
    flat = np.array([[1.0, 0.0, 0.0]])  # a bound far above tol
    for n_steps, expected in [(10, True), (1, False)]:
        rule = _gap_rule(loss, 2)
        stops = [
            rule(
                _training.EpochInfo(
                    epoch,
                    1.0,
                    None,
                    np.zeros((1, 3)),
                    lambda: (1.0, flat),
                    flat,
                    n_steps,
                )
            )
            for epoch in range(1, 7)
        ]
        assert stops[-1] is expected and not any(stops[:-1])


def test_relative_gap_takes_the_exact_objective_without_an_epoch_gradient():
    # Sparse minibatches (EpochInfo.gradient None): the rule judges the
    # exact objective at the returned point, one pass each epoch, and stops
    # when it has settled even though the epoch objective keeps falling by
    # ten times tol per epoch.
    loss = make_loss("squared", 1.0)
    flat = np.array([[1.0, 0.0, 0.0]])  # a bound far above tol
    calls = []

    def exact():
        calls.append(1)
        return 1.0, flat

    def judged(gradient, n_epochs):
        rule = _gap_rule(loss, 2)
        falling = [2.0 - 1e-2 * epoch for epoch in range(1, n_epochs + 1)]
        return [
            rule(_training.EpochInfo(k, f, None, np.zeros((1, 3)), exact, gradient, 10))
            for k, f in enumerate(falling, start=1)
        ]

    assert judged(None, 6) == [False] * 5 + [True] and len(calls) == 6
    # The same epochs judged on the falling epoch objective never stop.
    assert not any(judged(flat, 9))


def test_row_slice_equals_scipys(rng):
    X = sparse.random(50, 7, density=0.3, format="csr", random_state=0)
    for lo, hi in [(0, 50), (0, 10), (13, 29), (40, 60), (50, 50)]:
        part = _training._row_slice(X, lo, hi)
        assert part.shape == X[lo:hi].shape
        np.testing.assert_array_equal(part.toarray(), X[lo:hi].toarray())
    assert _training._row_slice(X, 0, 50) is X
    dense = rng.normal(size=(5, 2))
    assert _training._row_slice(dense, 1, 3).base is dense


def test_stall_halving_halves_after_patience_steps():
    rate = _training.StepFactor(0.3)
    halving = _training.StallHalving(rate, patience=3)
    for value in [1.0, 0.9, 0.95, 0.95, 0.95]:
        halving(value)
    assert rate.value == 0.5 and rate(1) == 0.15
    halving(0.8)  # a new minimum: the count starts again
    assert halving.count == 0


def _full_batch_run(X, Y, s, stopping):
    """20 full-batch epochs; the coefficients and the passes over the rows."""
    loss, adam, coef = make_loss("binary_logistic", 0.01), Adam(0.1), np.zeros((1, 4))
    source = Minibatches(loss, X, Y, s, None)
    calls, original = [], source.total
    source.total = lambda c, out: calls.append(1) or original(c, out)
    identity = Standardization.identity(3, X.dtype)
    train(loss, identity, adam, coef, adam.init(coef), source, max_epochs=20,
          stopping=stopping)  # fmt: skip
    return coef, len(calls)


def test_full_batch_reuses_the_checked_gradient_bit_for_bit(problem):
    # A rule that calls full_objective() each epoch makes the next step
    # reuse it: the trajectory is the one without the rule, bit for bit,
    # and the rule costs one pass in all (the last check).
    X, Y, s = problem
    plain, plain_passes = _full_batch_run(X, Y, s, None)
    checked, checked_passes = _full_batch_run(
        X, Y, s, lambda info: info.full_objective() and False
    )
    assert_array_equal(checked, plain)
    assert (plain_passes, checked_passes) == (20, 21)
