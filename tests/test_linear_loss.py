import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import sparse
from scipy.optimize import check_grad
from scipy.special import expit, softmax
from sklearn.metrics import log_loss

from skadam._linear_loss import LinearModelLoss
from skadam._losses import HalfBinomialLoss, HalfMultinomialLoss, HalfSquaredError
from skadam._penalties import L2Penalty

KINDS = ["squared", "binary_logistic", "multinomial"]
N_OUTPUTS = {"squared": 2, "binary_logistic": 1, "multinomial": 3}
BASE = {
    "squared": HalfSquaredError,
    "binary_logistic": HalfBinomialLoss,
    "multinomial": HalfMultinomialLoss,
}


def make_loss(kind, fit_intercept=True, alpha=0.0):
    return LinearModelLoss(BASE[kind](), L2Penalty(alpha), fit_intercept)


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
    alpha = 0.7
    loss = make_loss(kind, fit_intercept, alpha)
    coef = rng.normal(size=loss.coef_shape(Y.shape[1], X.shape[1]))
    W = coef[:, : X.shape[1]]
    Z = X @ W.T + (coef[:, -1] if fit_intercept else 0.0)
    loss_sum, _ = loss.sums(coef, X, Y, s)
    assert_allclose(loss_sum, reference_loss_sum(kind, Z, Y, s), rtol=1e-10)
    expected = loss_sum / s.sum() + 0.5 * alpha * np.sum(W**2)
    assert_allclose(loss.loss(coef, X, Y, s), expected, rtol=1e-12)
    assert_allclose(loss.loss_gradient(coef, X, Y, s)[0], expected, rtol=1e-12)
    assert_allclose(loss.raw_prediction(coef, X), Z, rtol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_gradient_matches_finite_differences(rng, kind, fit_intercept):
    X, Y, s = make_problem(rng, kind)
    loss = make_loss(kind, fit_intercept, 0.3)
    shape = loss.coef_shape(Y.shape[1], X.shape[1])

    def fun(c):
        return loss.loss(c.reshape(shape), X, Y, s)

    def jac(c):
        return loss.gradient(c.reshape(shape), X, Y, s).ravel()

    c0 = rng.normal(size=shape).ravel()
    grad_norm = np.linalg.norm(jac(c0))
    assert grad_norm > 0.1
    assert check_grad(fun, jac, c0) < 1e-6 * grad_norm
    assert_allclose(loss.loss_gradient(c0.reshape(shape), X, Y, s)[1].ravel(), jac(c0))


@pytest.mark.parametrize("kind", KINDS)
def test_chunk_sums_add_up(rng, kind):
    X, Y, s = make_problem(rng, kind, n=50)
    loss = make_loss(kind, alpha=0.2)
    coef = rng.normal(size=loss.coef_shape(Y.shape[1], X.shape[1]))
    full_loss, full_grad = loss.sums(coef, X, Y, s)
    chunks = [slice(0, 7), slice(7, 30), slice(30, 50)]
    parts = [loss.sums(coef, X[c], Y[c], s[c]) for c in chunks]
    assert_allclose(sum(p[0] for p in parts), full_loss, rtol=1e-12)
    assert_allclose(sum(p[1] for p in parts), full_grad, rtol=1e-12, atol=1e-12)
    # The sums over all rows give the objective.
    value, grad = loss.objective_from_sums(
        coef, sum(p[0] for p in parts), sum(p[1] for p in parts), s.sum()
    )
    expected_value, expected_grad = loss.loss_gradient(coef, X, Y, s)
    assert_allclose(value, expected_value, rtol=1e-12)
    assert_allclose(grad, expected_grad, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("container", [sparse.csr_matrix, sparse.csc_array])
def test_sparse_equals_dense(rng, kind, container):
    X, Y, s = make_problem(rng, kind)
    X[rng.random(X.shape) < 0.6] = 0.0
    loss = make_loss(kind, alpha=0.1)
    coef = rng.normal(size=loss.coef_shape(Y.shape[1], X.shape[1]))
    dense = loss.loss_gradient(coef, X, Y, s)
    sp = loss.loss_gradient(coef, container(X), Y, s)
    assert_allclose(sp[0], dense[0], rtol=1e-12)
    assert_allclose(sp[1], dense[1], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kind", KINDS)
def test_unit_weights_equal_no_weights_and_out_is_used(rng, kind):
    X, Y, _ = make_problem(rng, kind)
    loss = make_loss(kind, alpha=0.2)
    coef = rng.normal(size=loss.coef_shape(Y.shape[1], X.shape[1]))
    out = np.empty_like(coef)
    _, grad = loss.sums(coef, X, Y, None, gradient_out=out)
    assert grad is out
    value, grad = loss.loss_gradient(coef, X, Y, None)
    ref_value, ref_grad = loss.loss_gradient(coef, X, Y, np.ones(len(X)))
    assert_allclose(value, ref_value, rtol=1e-13)
    assert_allclose(grad, ref_grad, rtol=1e-13)


@pytest.mark.parametrize("kind", KINDS)
def test_float32_stays_float32(rng, kind):
    X, Y, s = make_problem(rng, kind, dtype=np.float32)
    loss = make_loss(kind, alpha=0.1)
    coef = rng.normal(size=loss.coef_shape(Y.shape[1], X.shape[1])).astype(np.float32)
    value, grad = loss.loss_gradient(coef, X, Y, s)
    assert grad.dtype == np.float32
    assert loss.raw_prediction(coef, sparse.csr_matrix(X)).dtype == np.float32
    value64, grad64 = loss.loss_gradient(
        coef.astype(float), X.astype(float), Y.astype(float), s.astype(float)
    )
    assert_allclose(value, value64, rtol=1e-5)
    assert_allclose(grad, grad64, rtol=1e-4, atol=1e-5)


def test_inputs_are_not_modified(rng):
    X, Y, s = make_problem(rng, "multinomial")
    loss = make_loss("multinomial", alpha=0.5)
    coef = rng.normal(size=loss.coef_shape(3, X.shape[1]))
    copies = [a.copy() for a in (coef, X, Y, s)]
    loss.loss_gradient(coef, X, Y, s)
    loss.loss(coef, X, Y, s)
    for before, after in zip(copies, (coef, X, Y, s), strict=True):
        assert_allclose(after, before, rtol=0)
