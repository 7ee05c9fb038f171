import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse

from skadam import Adam, _training
from skadam._loss import LinearLoss
from skadam._training import Minibatches, decision_values, train


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    Y = (X @ np.array([[1.0], [-2.0], [0.5]]) > 0).astype(float)
    return X, Y, rng.uniform(0.5, 2.0, size=50)


def run(kind, learning_rate, coef, batches, **kwargs):
    """Train ``coef`` in place from a fresh Adam state; return the result."""
    adam = Adam(learning_rate=learning_rate)
    return train(LinearLoss(kind), adam, coef, adam.init(coef), batches, **kwargs)


def test_every_training_row_once_per_epoch(problem):
    X, _, s = problem
    rows = np.arange(50)[::2]
    tagged = np.arange(50.0)[:, None]  # Y holds the row number
    batches = Minibatches(X, tagged, s, batch_size=7, rows=rows)
    seen = []
    for chunks, share in batches.epoch(True, np.random.RandomState(0)):
        ((Xb, Yb, sb),) = chunks
        index = Yb[:, 0].astype(int)
        assert_array_equal(Xb, X[index])
        assert_array_equal(sb, s[index])
        assert share == len(index) / 25
        seen.extend(index)
    assert sorted(seen) == list(rows)
    assert batches.weight_sum == pytest.approx(s[rows].sum())


def test_full_batch_uses_x_itself_and_minibatches_reuse_one_buffer(problem):
    X, Y, s = problem
    ((chunks, share),) = list(Minibatches(X, Y, s, None).epoch(True, None))
    assert next(iter(chunks))[0] is X and share == 1.0
    batches = Minibatches(X, Y, s, 10)
    assert batches.X is X  # C-ordered: no copy
    buffers = {
        next(chunks)[0].__array_interface__["data"][0]
        for chunks, _ in batches.epoch(True, np.random.RandomState(0))
    }
    assert len(buffers) == 1
    # Unshuffled minibatches are views of X.
    for chunks, _ in batches.epoch(False, None):
        assert np.shares_memory(next(chunks)[0], X)


def test_column_major_input_is_made_row_major_once(problem):
    X, Y, s = problem
    assert Minibatches(np.asfortranarray(X), Y, s, 10).X.flags.c_contiguous
    assert Minibatches(sparse.csc_matrix(X), Y, s, 10).X.format == "csr"
    csc = sparse.csc_matrix(X)
    assert Minibatches(csc, Y, s, None).X is csc  # full batch: used as is


def test_large_batches_are_chunked_without_changing_the_step(problem, monkeypatch):
    X, Y, s = problem
    loss = LinearLoss("binary_logistic")

    def run():
        coef = np.zeros((1, 4))
        adam = Adam(learning_rate=0.1)
        rows = np.arange(50)[1:]  # rows given: the batch is gathered
        batches = Minibatches(X, Y, s, None, rows=rows)
        train(loss, adam, coef, adam.init(coef), batches, alpha=0.1, max_epochs=3)
        return coef

    whole = run()
    monkeypatch.setattr(_training, "CHUNK_ROWS", 8)
    assert_allclose(run(), whole, rtol=1e-12)


def test_full_batch_training_equals_a_hand_written_adam_loop(problem):
    X, Y, s = problem
    loss = LinearLoss("binary_logistic")
    adam = Adam(learning_rate=0.05)
    coef, expected = np.zeros((1, 4)), np.zeros((1, 4))
    average = np.empty_like(coef)
    result = train(
        loss,
        adam,
        coef,
        adam.init(coef),
        Minibatches(X, Y, s, None),
        alpha=0.01,
        max_epochs=20,
        average=average,
    )
    state, losses = adam.init(expected), []
    for _ in range(20):
        value, grad = loss.objective(expected, X, Y, s, 0.01)
        losses.append(value - loss.penalty(expected, 0.01))
        adam.step(expected, grad, state)
        losses[-1] += loss.penalty(expected, 0.01)
    assert_allclose(coef, expected, rtol=1e-13)
    assert_array_equal(average, coef)  # one step an epoch: nothing to average
    assert_allclose(result.loss_curve, losses, rtol=1e-13)
    assert result.status == "max_iter" and result.n_epochs == 20


def test_average_is_the_mean_of_the_epoch_iterates(problem):
    X, Y, s = problem
    loss, adam = LinearLoss("binary_logistic"), Adam(learning_rate=0.1)
    coef = np.zeros((1, 4))
    state = adam.init(coef)
    average = np.empty_like(coef)
    batches = Minibatches(X, Y, s, 10)
    train(
        loss,
        adam,
        coef,
        state,
        batches,
        alpha=0.0,
        max_epochs=1,
        shuffle=False,
        average=average,
    )
    replay, iterates = np.zeros((1, 4)), []
    replay_state = adam.init(replay)
    for lo in range(0, 50, 10):
        rows = slice(lo, lo + 10)
        _, grad = loss.weighted_sums(replay, X[rows], Y[rows], s[rows])
        adam.step(replay, grad / (s.sum() * 10 / 50), replay_state)
        iterates.append(replay.copy())
    assert_allclose(coef, iterates[-1], rtol=1e-13)
    assert_allclose(average, np.mean(iterates, axis=0), rtol=1e-13)


def test_stopping_after_n_iter_no_change_epochs(problem):
    X, _, s = problem
    batches = Minibatches(X, X[:, :1], s, None)
    result = run(
        "squared",
        0.1,
        np.zeros((1, 4)),
        batches,
        alpha=0.0,
        max_epochs=10_000,
        tol=1e-3,
        n_iter_no_change=4,
    )
    assert result.status == "converged"
    curve = np.array(result.loss_curve)
    best_before = np.minimum.accumulate(curve)[-5]
    assert np.all(curve[-4:] > best_before - 1e-3)
    assert curve[-5] <= np.minimum.accumulate(curve)[-6] - 1e-3


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
        Minibatches(X, Y, s, None),
        alpha=0.0,
        max_epochs=6,
        tol=0.0,
        n_iter_no_change=3,
        validation=validation,
    )
    assert result.validation_losses == [0.5, 0.1, 0.3, 0.4, 0.2]
    assert result.validation_scores == [10.0, 20.0, 30.0, 40.0, 50.0]
    assert result.status == "converged" and result.best_validation_score == 20.0
    assert_array_equal(coef, seen[1])


def test_divergence_stops_with_the_epoch_start_coefficients(problem):
    X, Y, s = problem
    coef = np.ones((1, 4))
    result = run(
        "squared", 1e200, coef, Minibatches(X, Y, s, None), alpha=1.0, max_epochs=5
    )
    assert result.status == "diverged" and result.n_epochs == 0
    assert_array_equal(coef, np.ones((1, 4)))


def test_decision_values_in_chunks(problem, monkeypatch):
    X, _, _ = problem
    monkeypatch.setattr(_training, "CHUNK_ROWS", 7)
    loss = LinearLoss("multinomial")
    coef = np.arange(12.0).reshape(3, 4)
    rows = np.array([3, 1, 40, 41, 42, 0, 5, 6, 7, 8, 9, 10, 11])
    assert_allclose(
        decision_values(loss, coef, X, rows), loss.decision_function(coef, X[rows])
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
        coef = np.zeros((1, 4))
        batches = Minibatches(X, Y, s, batch_size=4)
        rng = np.random.RandomState(seed)
        run("binary_logistic", 0.01, coef, batches, alpha=0.0, max_epochs=3, rng=rng)

    Parallel(n_jobs=2, backend="threading")(delayed(fit)(i) for i in range(4))
    assert limited_in == []
    fit(0)
    assert limited_in == [threading.main_thread()]
