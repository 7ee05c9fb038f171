"""Lazy epochs on sparse data: exact under full batch, close under minibatches."""

import tracemalloc

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.linear_model import Ridge
from sklearn.metrics import log_loss

from skadam import Adam, AdamLinearRegressor, AdamLogisticClassifier
from skadam._linear_loss import LinearModelLoss
from skadam._losses import HalfBinomialLoss
from skadam._penalties import L1Penalty, L2Penalty
from skadam._scaling import Standardization
from skadam._sparse import (
    LazyEpochs,
    sparse_batch_size,
    touch_probability,
    use_lazy,
)
from skadam._training import Minibatches, train


def text_like(rng, n=3000, d=5000, per_row=20):
    """Zipf-like sparse rows (a few frequent columns, many rare) and labels."""
    p = 1.0 / np.arange(1, d + 1) ** 1.1
    cols = rng.choice(d, size=(n, per_row), p=p / p.sum())
    rows = np.repeat(np.arange(n), per_row)
    X = sparse.csr_matrix((np.ones(n * per_row), (rows, cols.ravel())), shape=(n, d))
    X.data = 1.0 + np.log(X.data)
    w = rng.normal(size=d)
    y = (X @ w + rng.logistic(size=n) > 0).astype(int)
    return X, y


def test_touch_probability_against_counting(rng):
    X, _ = text_like(rng, n=200, d=50, per_row=3)
    draws = np.array(
        [
            np.bincount(X[rng.choice(200, 20, replace=False)].indices, minlength=50) > 0
            for _ in range(4000)
        ]
    )
    assert_allclose(touch_probability(X, 20), draws.mean(axis=0), atol=0.03)
    stored = np.bincount(X.indices, minlength=50) > 0
    assert_array_equal(touch_probability(X.tocsc(), 200), stored.astype(float))


def _train(X, Y, lazy, batch_size, epochs=5, dtype=np.float64):
    loss = LinearModelLoss(HalfBinomialLoss(), L2Penalty(1e-3))
    d = X.shape[1]
    scaling = Standardization(np.zeros(d, dtype), np.linspace(0.5, 2, d).astype(dtype))
    adam = Adam(learning_rate=0.05)
    coef, average = np.zeros((1, d + 1), dtype), np.zeros((1, d + 1), dtype)
    source = Minibatches(loss, X, Y, np.ones(X.shape[0], dtype), batch_size)
    train(loss, scaling, adam, coef, adam.init(coef), source, max_epochs=epochs,
          average=average, rng=np.random.RandomState(0), lazy=lazy)  # fmt: skip
    return coef, average


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lazy_epochs_equal_exact_ones_under_full_batch(dtype, rng):
    # Every stored column is touched at every step, p_j = 1, and the columns
    # never stored keep m = v = w = 0 on both paths.
    X, y = text_like(rng, n=400, d=600)
    X = X.astype(dtype)
    Y = y[:, None].astype(dtype)
    exact, exact_average = _train(X, Y, lazy=False, batch_size=None, dtype=dtype)
    lazy, lazy_average = _train(X, Y, lazy=True, batch_size=None, dtype=dtype)
    assert lazy.dtype == dtype
    # float32: the products sum in another order, and Adam's normalised step
    # turns rounding of a near-zero gradient into up to lr * 0.02.
    tol = 2e-3 if dtype == np.float32 else 1e-10
    assert_allclose(lazy, exact, rtol=tol, atol=tol)
    assert_allclose(lazy_average, exact_average, rtol=tol, atol=tol)


def test_lazy_average_is_the_average_of_the_iterates(rng):
    # The catch-up of the untouched columns gives the exact tail average.
    X, y = text_like(rng, n=300, d=400)
    loss = LinearModelLoss(HalfBinomialLoss(), L2Penalty(1e-3))
    scaling = Standardization(np.zeros(400), np.ones(400))
    adam = Adam(learning_rate=0.05)
    coef, average = np.zeros((1, 401)), np.zeros((1, 401))
    source = Minibatches(loss, X, y[:, None] * 1.0, np.ones(300), 50)
    epochs = LazyEpochs(loss, scaling, adam, coef, adam.init(coef), source)
    iterates = []
    step = adam.lazy_step

    def recording_step(x, grad, state, index):
        step(x, grad, state, index)
        iterates.append(x.copy())

    adam.lazy_step = recording_step
    epochs.run(True, np.random.RandomState(0), average)
    assert len(iterates) == 6
    assert_allclose(average, np.mean(iterates, axis=0), rtol=1e-12, atol=1e-15)


def test_lazy_fit_is_close_to_exact_fit_on_held_out_data(rng):
    # The approximation's stated tolerance: held-out log-loss within 2% of
    # the exact path's (docs/performance.rst).
    X, y = text_like(rng, n=12_000, d=20_000)
    X_test, y_test = X[10_000:], y[10_000:]
    X, y = X[:10_000], y[:10_000]
    params = dict(random_state=0, batch_size=512, max_iter=20, tol=None)
    lazy = AdamLogisticClassifier(sparse_updates="lazy", **params).fit(X, y)
    exact = AdamLogisticClassifier(sparse_updates="exact", **params).fit(X, y)
    ll_lazy = log_loss(y_test, lazy.predict_proba(X_test))
    ll_exact = log_loss(y_test, exact.predict_proba(X_test))
    assert ll_lazy <= 1.02 * ll_exact
    assert not np.allclose(lazy.coef_, exact.coef_)  # the switch switches


@pytest.mark.parametrize("container", [sparse.csr_matrix, sparse.csc_matrix])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lazy_fit_serves_csr_and_csc_and_keeps_float32(container, dtype, rng):
    X, y = text_like(rng, n=5000, d=8000)
    X = container(X.astype(dtype))
    params = dict(random_state=0, max_iter=3, tol=None, sparse_updates="lazy")
    model = AdamLogisticClassifier(**params)
    model.fit(X, y)
    assert model.coef_.dtype == dtype
    assert model.score(X, y) > 0.7
    csr = AdamLogisticClassifier(**params)
    assert_allclose(csr.fit(X.tocsr(), y).coef_, model.coef_, rtol=1e-5)


def test_auto_chooses_lazy_steps_where_they_are_cheaper(rng):
    X, _ = text_like(rng, n=5000, d=20_000)
    B = sparse_batch_size(X)
    penalty = L2Penalty(1e-4)
    # The cost model: an exact step costs K * n_features, a lazy one three
    # times the minibatch's stored values plus K * its touched columns.
    assert use_lazy(X, B, penalty, 5000, n_outputs=10)
    assert not use_lazy(X, B, penalty, 5000, n_outputs=1)
    assert not use_lazy(X, 5000, penalty, 5000, 10)  # full batch: exact anyway
    assert not use_lazy(X.toarray(), B, penalty, 5000, 10)
    assert not use_lazy(X, B, L1Penalty(1e-4), 5000, 10)  # a proximal step
    assert not use_lazy(X, B, L2Penalty(1e-4, positive=True), 5000, 10)
    dense_sparse = sparse.csr_matrix(np.ones((5000, 20)))
    assert not use_lazy(dense_sparse, 512, penalty, 5000, 10)  # all touched


def test_sparse_updates_lazy_is_exact_without_minibatches(rng):
    X, y = text_like(rng, n=600, d=900)
    params = dict(batch_size=None, max_iter=50, tol=None)
    lazy = AdamLogisticClassifier(sparse_updates="lazy", **params).fit(X, y)
    exact = AdamLogisticClassifier(sparse_updates="exact", **params).fit(X, y)
    assert_array_equal(lazy.coef_, exact.coef_)


def test_lazy_fit_allocates_nothing_of_batch_by_features(rng):
    # One dense minibatch would be 2048 x 2**18 x 8 bytes = 4.3 GB; the lazy
    # fit needs a few coefficient-sized arrays (2**18 x 8 bytes = 2 MB each).
    n, d = 6000, 2**18
    cols = rng.integers(0, 2000, size=(n, 30)) ** 2 % d
    X = sparse.csr_matrix(
        (np.ones(n * 30), (np.repeat(np.arange(n), 30), cols.ravel())), shape=(n, d)
    )
    y = (X[:, :1000].sum(axis=1).A.ravel() > 0).astype(int)
    model = AdamLogisticClassifier(
        random_state=0, max_iter=2, tol=None, sparse_updates="lazy"
    )
    tracemalloc.start()
    try:
        model.fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * d * 8


def test_regressor_takes_lazy_steps_too(rng):
    X, _ = text_like(rng, n=6000, d=20_000)
    w = rng.normal(size=20_000)
    y = X @ w
    model = AdamLinearRegressor(
        random_state=0, max_iter=5, tol=None, sparse_updates="lazy"
    ).fit(X, y)
    assert model.score(X, y) > 0.5


def test_lazy_regressor_trains_and_certifies_its_intercept():
    # Lazy steps scale the features without centring them: the intercept's
    # optimum (in trained coordinates) is then no longer 0, so it is neither
    # held there nor left out of the stopping bound. Features with large
    # means and positive weights put Ridge's intercept far from mean(y).
    rng = np.random.default_rng(0)
    n, d = 20_000, 2_000
    X = sparse.random(n, d, density=0.01, format="csr", random_state=0) * 3
    w = np.abs(rng.normal(size=d))
    y = X @ w + 5.0 + 0.1 * rng.normal(size=n)
    ridge = Ridge(alpha=n * 1e-4).fit(X, y)
    model = AdamLinearRegressor(
        random_state=0, batch_size=256, sparse_updates="lazy"
    ).fit(X, y)
    assert not model._scaling_.centred and not model._scaling_.freeze_intercept
    assert abs(y.mean() - ridge.intercept_) > 20  # a frozen intercept is far off
    assert_allclose(model.intercept_, ridge.intercept_, atol=0.05)
