import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from scipy.optimize import check_grad
from scipy.special import expit, softmax
from sklearn.metrics import log_loss

from skadam._loss import LinearLoss, ScaledLoss

KINDS = ["squared", "binary_logistic", "multinomial"]
N_OUTPUTS = {"squared": 2, "binary_logistic": 1, "multinomial": 3}


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def make_problem(rng, kind, n=30, d=5, dtype=np.float64):
    K = N_OUTPUTS[kind]
    X = rng.normal(size=(n, d))
    if kind == "squared":
        Y = rng.normal(size=(n, K))
    elif kind == "binary_logistic":
        Y = rng.integers(0, 2, size=(n, 1)).astype(float)
    else:
        Y = np.eye(K)[rng.integers(0, K, size=n)]
    s = rng.uniform(0.1, 2.0, size=n)
    return X.astype(dtype), Y.astype(dtype), s.astype(dtype)


def reference_loss_sum(kind, Z, Y, s):
    """Weighted loss sum computed independently of skadam."""
    if kind == "squared":
        return 0.5 * np.sum(s[:, None] * (Y - Z) ** 2)
    if kind == "binary_logistic":
        p = expit(Z[:, 0])
        proba = np.column_stack([1 - p, p])
        y = Y[:, 0]
    else:
        proba, y = softmax(Z, axis=1), Y.argmax(axis=1)
    labels = np.arange(proba.shape[1])
    return log_loss(y, proba, sample_weight=s, normalize=False, labels=labels)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_loss_value_matches_reference(rng, kind, fit_intercept):
    X, Y, s = make_problem(rng, kind)
    loss = LinearLoss(kind, fit_intercept)
    coef = rng.normal(size=loss.coef_shape(Y.shape[1], X.shape[1]))
    W = coef[:, : X.shape[1]]
    Z = X @ W.T + (coef[:, -1] if fit_intercept else 0.0)
    loss_sum, _ = loss.weighted_sums(coef, X, Y, s)
    assert_allclose(loss_sum, reference_loss_sum(kind, Z, Y, s), rtol=1e-10)

    alpha = 0.7
    value, _ = loss.objective(coef, X, Y, s, alpha)
    expected = loss_sum / s.sum() + 0.5 * alpha * np.sum(W**2)
    assert_allclose(value, expected, rtol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_gradient_matches_finite_differences(rng, kind, fit_intercept):
    X, Y, s = make_problem(rng, kind)
    loss = LinearLoss(kind, fit_intercept)
    shape = loss.coef_shape(Y.shape[1], X.shape[1])

    def fun(c):
        return loss.objective(c.reshape(shape), X, Y, s, 0.3)[0]

    def jac(c):
        return loss.objective(c.reshape(shape), X, Y, s, 0.3)[1].ravel()

    c0 = rng.normal(size=shape).ravel()
    grad_norm = np.linalg.norm(jac(c0))
    assert grad_norm > 0.1
    assert check_grad(fun, jac, c0) < 1e-6 * grad_norm


@pytest.mark.parametrize("kind", ["binary_logistic", "multinomial"])
@pytest.mark.parametrize("scale", [1e3, 1e5, 1e300])
def test_logistic_losses_stable_at_huge_decision_values(rng, kind, scale):
    X, Y, _ = make_problem(rng, kind, n=8, d=2)
    loss = LinearLoss(kind, fit_intercept=False)
    # Decision values of size `scale`, with a unique maximum in every row.
    coef = np.zeros(loss.coef_shape(Y.shape[1], 2))
    coef[:, 0] = scale * np.array([1.0, -1.0, -2.0])[: Y.shape[1]]
    X = np.zeros_like(X)
    X[:, 0] = np.sign(rng.normal(size=8))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss_sum, grad = loss.weighted_sums(coef, X, Y, None)
    Z = X @ coef.T
    # With |Z| huge the loss of a sample is its margin violation, exactly.
    if kind == "binary_logistic":
        expected = np.sum(np.maximum(Z[:, 0], 0) - Y[:, 0] * Z[:, 0])
        P = (Z > 0).astype(float)
    else:
        expected = np.sum(Z.max(axis=1) - np.sum(Y * Z, axis=1))
        P = (Z == Z.max(axis=1, keepdims=True)).astype(float)
    assert np.isfinite(loss_sum) and np.all(np.isfinite(grad))
    assert_allclose(loss_sum, expected, rtol=1e-12)
    assert_allclose(grad, (P - Y).T @ X, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_chunk_sums_add_up(rng, kind):
    X, Y, s = make_problem(rng, kind, n=50)
    loss = LinearLoss(kind)
    coef = rng.normal(size=loss.coef_shape(Y.shape[1], X.shape[1]))
    full_loss, full_grad = loss.weighted_sums(coef, X, Y, s)
    chunks = [slice(0, 7), slice(7, 30), slice(30, 50)]
    parts = [loss.weighted_sums(coef, X[c], Y[c], s[c]) for c in chunks]
    assert_allclose(sum(p[0] for p in parts), full_loss, rtol=1e-12)
    assert_allclose(sum(p[1] for p in parts), full_grad, rtol=1e-12, atol=1e-12)

    # objective on one chunk with the total weight is that chunk's share
    value, grad = loss.objective(coef, X[:7], Y[:7], s[:7], 0.0, s.sum())
    assert_allclose(value, parts[0][0] / s.sum(), rtol=1e-12)
    assert_allclose(grad, parts[0][1] / s.sum(), rtol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("container", [sparse.csr_matrix, sparse.csc_array])
def test_sparse_equals_dense(rng, kind, container):
    X, Y, s = make_problem(rng, kind)
    X[rng.random(X.shape) < 0.6] = 0.0
    loss = LinearLoss(kind)
    coef = rng.normal(size=loss.coef_shape(Y.shape[1], X.shape[1]))
    dense = loss.objective(coef, X, Y, s, 0.1)
    sp = loss.objective(coef, container(X), Y, s, 0.1)
    assert_allclose(sp[0], dense[0], rtol=1e-12)
    assert_allclose(sp[1], dense[1], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kind", KINDS)
def test_unit_weights_equal_no_weights_and_out_is_used(rng, kind):
    X, Y, _ = make_problem(rng, kind)
    loss = LinearLoss(kind)
    coef = rng.normal(size=loss.coef_shape(Y.shape[1], X.shape[1]))
    out = np.empty_like(coef)
    value, grad = loss.objective(coef, X, Y, None, 0.2, out=out)
    assert grad is out
    ref_value, ref_grad = loss.objective(coef, X, Y, np.ones(len(X)), 0.2)
    assert_allclose(value, ref_value, rtol=1e-13)
    assert_allclose(grad, ref_grad, rtol=1e-13)


@pytest.mark.parametrize("kind", KINDS)
def test_float32_stays_float32(rng, kind):
    X, Y, s = make_problem(rng, kind, dtype=np.float32)
    loss = LinearLoss(kind)
    coef = rng.normal(size=loss.coef_shape(Y.shape[1], X.shape[1])).astype(np.float32)
    value, grad = loss.objective(coef, X, Y, s, 0.1)
    assert grad.dtype == np.float32
    assert loss.decision_function(coef, sparse.csr_matrix(X)).dtype == np.float32
    value64, grad64 = loss.objective(
        coef.astype(float), X.astype(float), Y.astype(float), s.astype(float), 0.1
    )
    assert_allclose(value, value64, rtol=1e-5)
    assert_allclose(grad, grad64, rtol=1e-4, atol=1e-5)


def test_inputs_are_not_modified(rng):
    X, Y, s = make_problem(rng, "multinomial")
    loss = LinearLoss("multinomial")
    coef = rng.normal(size=loss.coef_shape(3, X.shape[1]))
    copies = [a.copy() for a in (coef, X, Y, s)]
    loss.objective(coef, X, Y, s, 0.5)
    for before, after in zip(copies, (coef, X, Y, s), strict=True):
        assert_allclose(after, before, rtol=0)


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError, match="kind must be one of"):
        LinearLoss("hinge")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_scaled_loss_is_the_raw_loss_in_other_coordinates(rng, kind, fit_intercept):
    X, Y, s = make_problem(rng, kind)
    d = X.shape[1]
    X = X + rng.uniform(-50, 50, size=d)  # offsets, taken out by mean
    scale = 10.0 ** rng.uniform(-2, 3, size=d)
    mean = X.mean(axis=0) if fit_intercept else np.zeros(d)
    scaled = ScaledLoss(kind, fit_intercept, scale, mean)
    shape = scaled.coef_shape(Y.shape[1], d)
    coef = rng.normal(size=shape)
    # The raw coefficients, by the formulas of the docstring.
    raw = coef.copy()
    raw[:, :d] /= scale
    if fit_intercept:
        raw[:, -1] -= raw[:, :d] @ mean
    assert_allclose(scaled.raw(coef), raw, rtol=1e-12)
    # The same objective and decision values as the raw coefficients on the
    # raw loss; the gradient with respect to the standardised coefficients.
    raw_loss = LinearLoss(kind, fit_intercept)
    value, _ = scaled.objective(coef, X, Y, s, 0.3)
    assert_allclose(value, raw_loss.objective(raw, X, Y, s, 0.3)[0], rtol=1e-10)
    Z = raw_loss.decision_function(raw, X)
    assert_allclose(scaled.decision_function(coef, X), Z, rtol=1e-10, atol=1e-10)

    def fun(c):
        return scaled.objective(c.reshape(shape), X, Y, s, 0.3)[0]

    def jac(c):
        return scaled.objective(c.reshape(shape), X, Y, s, 0.3)[1].ravel()

    grad_norm = np.linalg.norm(jac(coef.ravel()))
    assert check_grad(fun, jac, coef.ravel()) < 1e-6 * grad_norm


def test_scaled_loss_with_a_fixed_intercept(rng):
    X, Y, s = make_problem(rng, "squared")
    scale, mean = X.std(axis=0), X.mean(axis=0)
    coef = rng.normal(size=(Y.shape[1], X.shape[1] + 1))
    free = ScaledLoss("squared", True, scale, mean)
    fixed = ScaledLoss("squared", True, scale, mean, fixed_intercept=True)
    _, grad = free.objective(coef, X, Y, s, 0.3)
    _, grad_fixed = fixed.objective(coef, X, Y, s, 0.3)
    assert np.all(grad[:, -1] != 0)
    assert_array_equal(grad_fixed[:, -1], 0.0)
    assert_array_equal(grad_fixed[:, :-1], grad[:, :-1])


@pytest.mark.parametrize("kind", KINDS)
def test_loss_sum_of_decision_values(rng, kind):
    X, Y, s = make_problem(rng, kind)
    loss = LinearLoss(kind)
    coef = rng.normal(size=loss.coef_shape(Y.shape[1], X.shape[1]))
    Z = loss.decision_function(coef, X)
    before = Z.copy()
    assert_allclose(loss.loss_sum(Z, Y, s), reference_loss_sum(kind, Z, Y, s))
    assert_array_equal(Z, before)
