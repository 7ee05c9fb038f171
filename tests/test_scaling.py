import tracemalloc

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from scipy.optimize import check_grad

from skadam import _scaling
from skadam._linear_loss import LinearModelLoss
from skadam._losses import HalfSquaredError
from skadam._penalties import L2Penalty
from skadam._scaling import (
    Standardization,
    WeightedMoments,
    feature_standardization,
    normalized_weights,
    target_scaling,
)

CONTAINERS = [np.asarray, sparse.csr_matrix, sparse.csc_matrix]


def exact_moments(X, w):
    """Weighted mean and variance from the float64 values, by NumPy."""
    X = np.asarray(X, dtype=np.float64)
    mean = np.average(X, axis=0, weights=w)
    return mean, np.average((X - mean) ** 2, axis=0, weights=w)


@pytest.mark.parametrize("container", CONTAINERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("offset", [0.0, 1e3, 1e5, 1e8])
def test_moments_are_those_of_the_stored_values(rng, container, dtype, offset):
    # E[x^2] - E[x]^2 in float32 makes 1e5 + N(0, 1) a constant; the centred
    # float64 formulas give the variance of the values as stored.
    X = (offset + rng.normal(size=(500, 3))).astype(dtype)
    X[:, 2] = 0.0
    X[::7, 2] = 1.0  # a sparse-looking column
    w = rng.uniform(0.0, 2.0, size=500)
    moments = WeightedMoments.from_array(container(X), w)
    mean, variance = exact_moments(X, w)
    assert_allclose(moments.mean, mean, rtol=1e-12)
    assert_allclose(moments.variance, variance, rtol=1e-6, atol=1e-12)
    assert_array_equal(moments.low, X[w > 0].min(axis=0))
    assert_array_equal(moments.high, X[w > 0].max(axis=0))
    assert moments.weight_sum == pytest.approx(w.sum())
    assert not moments.constant.any() or (offset == 1e8 and dtype == np.float32)


@pytest.mark.parametrize("container", CONTAINERS)
def test_merged_blocks_equal_the_whole(rng, container):
    X = 1e6 + rng.normal(size=(300, 4))
    w = rng.uniform(0.5, 2.0, size=300)
    whole = WeightedMoments.from_array(container(X), w)
    parts = [
        WeightedMoments.from_array(container(X[c]), w[c])
        for c in (slice(0, 10), slice(10, 200), slice(200, 300))
    ]
    merged = parts[0].merge(parts[1]).merge(parts[2])
    assert_allclose(merged.mean, whole.mean, rtol=1e-14)
    assert_allclose(merged.variance, whole.variance, rtol=1e-9)
    assert_array_equal(merged.low, whole.low)
    assert_array_equal(merged.high, whole.high)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("container", CONTAINERS)
def test_a_constant_decimal_column_is_constant(rng, container, dtype):
    X = np.column_stack([np.full(1000, 14.62), rng.normal(size=1000)]).astype(dtype)
    moments = WeightedMoments.from_array(container(X), rng.uniform(0.1, 1.0, 1000))
    assert_array_equal(moments.constant, [True, False])
    scaling = feature_standardization(moments, alpha=0.0, center=True)
    assert_array_equal(scaling.factor[0], 0.0)  # its coefficient stays 0
    # Without an intercept a constant column is one, scaled by its size.
    scaling = feature_standardization(moments, alpha=0.0, center=False)
    assert_allclose(1 / scaling.factor[0], 14.62, rtol=1e-6)


def test_values_beyond_the_square_range_have_a_finite_scale(rng):
    units = np.array([1e300, 1.0])
    X = rng.normal(size=(100, 2)) * units
    expected = (X / units).std(axis=0) * units  # NumPy's squares would overflow
    moments = WeightedMoments.from_array(X, np.ones(100))
    assert_allclose(moments.std, expected, rtol=1e-12)
    _, scale = target_scaling(moments, center=True)
    assert_allclose(scale, expected, rtol=1e-12)


def test_target_scaling_shifts_a_constant_output_by_its_value(rng):
    Y = np.column_stack([np.full(50, 0.1 + 0.2), rng.normal(size=50)])
    shift, scale = target_scaling(WeightedMoments.from_array(Y, np.ones(50)), True)
    assert shift[0] == Y[0, 0] and scale[0] == 1.0
    assert_array_equal((Y[:, 0] - shift[0]) / scale[0], 0.0)


def test_normalized_weights_do_not_overflow():
    w = normalized_weights(np.full(10, 1e307))
    assert_array_equal(w, 1.0)
    assert np.isfinite(w.sum())


def test_dense_moments_make_no_float64_copy_of_x(rng):
    X = rng.standard_normal((50_000, 100), dtype=np.float32)
    w = np.ones(50_000)
    tracemalloc.start()
    WeightedMoments.from_array(X, w)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak <= 0.1 * X.nbytes


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_standardization_is_a_change_of_variables(rng, fit_intercept):
    X = rng.normal(size=(40, 3)) + np.array([50.0, -3.0, 0.0])
    Y = rng.normal(size=(40, 2))
    loss = LinearModelLoss(HalfSquaredError(), L2Penalty(0.3), fit_intercept)
    mean = X.mean(axis=0) if fit_intercept else np.zeros(3)
    scaling = Standardization(mean, np.array([0.5, 2.0, 0.0]))
    shape = loss.coef_shape(2, 3)
    coef = rng.normal(size=shape)
    raw = coef.copy()
    raw[:, :3] *= scaling.factor  # the formulas of the docstring
    if fit_intercept:
        raw[:, -1] -= raw[:, :3] @ mean
    assert_allclose(scaling.to_raw(coef), raw, rtol=1e-12)

    def fun(c):
        return loss.loss(scaling.to_raw(c.reshape(shape)), X, Y)

    def jac(c):
        raw_grad = loss.gradient(scaling.to_raw(c.reshape(shape)), X, Y)
        return scaling.chain(raw_grad).ravel()

    grad = jac(coef.ravel())
    assert check_grad(fun, jac, coef.ravel()) < 1e-6 * np.linalg.norm(grad)
    assert_array_equal(grad.reshape(shape)[:, 2], 0.0)  # a frozen feature


def test_frozen_intercept_has_zero_gradient(rng):
    grad = rng.normal(size=(2, 4))
    expected = grad.copy()
    scaling = Standardization(np.ones(3), np.ones(3), freeze_intercept=True)
    scaling.chain(grad)
    assert_array_equal(grad[:, -1], 0.0)
    assert_allclose(grad[:, :3], expected[:, :3] - expected[:, 3:])


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_csr_column_range_equals_the_dense_one(monkeypatch, rng, compiled, dtype):
    # The compiled pass (numba) and the NumPy chunks, against min/max of the
    # dense rows: implicit zeros count, unselected rows do not.
    monkeypatch.setattr(_scaling, "_numba_installed", lambda: compiled)
    dense = rng.normal(size=(3000, 40)) * (rng.uniform(size=(3000, 40)) < 0.05)
    dense[:, 3] = np.abs(dense[:, 3]) + 1.0  # stored in every row: no zeros
    dense[:, 7] = 0.0  # never stored
    X = sparse.csr_matrix(dense.astype(dtype))
    rows = rng.uniform(size=3000) < 0.7
    low, high = _scaling._column_range(X, rows)
    assert low.dtype == high.dtype == np.float64
    assert_array_equal(low, dense.astype(dtype)[rows].min(axis=0))
    assert_array_equal(high, dense.astype(dtype)[rows].max(axis=0))


def test_a_standardization_pickled_before_centred_existed_gets_it():
    # Estimators pickled before Standardization.centred (a field fixed at
    # construction) continue training after unpickling.
    import pickle

    for mean, centred in [(np.array([0.0, 2.0]), True), (np.zeros(2), False)]:
        scaling = _scaling.Standardization(mean, np.ones(2))
        assert scaling.centred is centred
        del scaling.__dict__["centred"]  # as an older version pickled it
        restored = pickle.loads(pickle.dumps(scaling))
        assert restored.centred is centred
        assert_array_equal(
            restored.to_raw(np.ones((1, 3))), [[1.0, 1.0, 1.0 - mean.sum()]]
        )
