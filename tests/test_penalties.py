import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import check_grad, minimize_scalar

from skadam._penalties import ElasticNetPenalty, L1Penalty, L2Penalty, make_penalty


def test_l2_value_gradient_and_identity_prox(rng):
    W = rng.normal(size=(2, 4))
    penalty = L2Penalty(0.3)
    assert_allclose(penalty.value(W), 0.15 * np.sum(W**2))
    assert (
        check_grad(
            lambda w: penalty.value(w.reshape(W.shape)),
            lambda w: penalty.gradient(w.reshape(W.shape)).ravel(),
            W.ravel(),
        )
        < 1e-6
    )
    G = np.ones_like(W)
    assert penalty.add_gradient(W, G) is G
    assert_allclose(G, 1 + 0.3 * W)
    # L2 is all smooth: nothing is left for the proximal step.
    before = W.copy()
    assert not penalty.has_prox
    assert penalty.prox(W, np.full_like(W, 0.1)) is W
    assert_array_equal(W, before)


def test_zero_alpha_is_no_penalty(rng):
    W = rng.normal(size=(1, 3))
    G = np.zeros_like(W)
    assert L2Penalty(0.0).value(W) == 0.0
    assert_array_equal(L2Penalty(0.0).add_gradient(W, G), 0.0)


def _prox_by_minimization(w, t, l1, l2_positive=False):
    """argmin_u l1 |u| + (u - w)**2 / (2 t), u >= 0 if asked, by scipy."""
    bounds = (0, None) if l2_positive else (None, None)
    return minimize_scalar(
        lambda u: l1 * abs(u) + (u - w) ** 2 / (2 * t),
        bounds=(bounds[0] if bounds[0] is not None else -50, 50),
        method="bounded",
        options={"xatol": 1e-12},
    ).x


@pytest.mark.parametrize("positive", [False, True])
def test_prox_is_the_minimiser_of_the_proximal_problem(rng, positive):
    W = rng.normal(scale=2, size=(2, 5))
    step = rng.uniform(0.1, 2.0, size=W.shape)
    penalty = ElasticNetPenalty(0.8, l1_ratio=0.5, positive=positive)
    expected = [
        _prox_by_minimization(w, t, 0.4, positive)
        for w, t in zip(W.ravel(), step.ravel(), strict=True)
    ]
    out = penalty.prox(W.copy(), step)
    assert_allclose(out.ravel(), expected, atol=1e-7)
    assert np.count_nonzero(out == 0) > 0  # exact zeros, not small values
    assert penalty.has_prox


def test_l1_l2_and_elasticnet_values(rng):
    W = rng.normal(size=(2, 4))
    assert_allclose(L1Penalty(0.3).value(W), 0.3 * np.abs(W).sum())
    enet = ElasticNetPenalty(0.3, l1_ratio=0.25)
    expected = 0.3 * (0.25 * np.abs(W).sum() + 0.75 / 2 * np.sum(W**2))
    assert_allclose(enet.value(W), expected)
    assert_allclose(enet.gradient(W), 0.3 * 0.75 * W)
    assert not L2Penalty(0.3).has_prox and L2Penalty(0.3, positive=True).has_prox
    assert_array_equal(L2Penalty(0, True).prox(np.array([[-1.0, 2.0]]), 1.0), [[0, 2]])
    assert repr(make_penalty("elasticnet", 0.1, 0.5, True)) == (
        "ElasticNetPenalty(alpha=0.1, l1_ratio=0.5, positive=True)"
    )
    assert isinstance(make_penalty("l1", 0.1), L1Penalty)
    assert isinstance(make_penalty("l2", 0.1), L2Penalty)


def test_scaled_strengths_per_output(rng):
    W = rng.normal(size=(2, 3))
    c = np.array([[2.0], [0.5]])
    scaled = ElasticNetPenalty(0.4, 0.5).scaled(c, c**2)
    assert_allclose(scaled.l1, 0.2 * c)
    assert_allclose(
        scaled.value(W),
        np.sum(0.2 * c * np.abs(W)) + 0.5 * np.sum(0.2 * c**2 * W**2),
    )


def test_stationarity_is_the_least_norm_subgradient():
    l1 = 0.5
    W = np.array([[0.0, 0.0, 0.0, 2.0, -1.0]])
    G = np.array([[0.3, -0.9, 0.7, -0.5, 0.2]])
    expected = [[0.0, -0.4, 0.2, 0.0, -0.3]]
    assert_allclose(L1Penalty(l1).stationarity(W, G), expected)
    # W >= 0: at 0 only a gradient below -l1 is a direction of descent.
    assert_allclose(
        L1Penalty(l1, positive=True).stationarity(W.clip(0), G.clip(-1, 0)),
        [[0.0, -0.4, 0.0, 0.0, 0.0]],
    )
    assert_allclose(L2Penalty(0.1).stationarity(W, G), G)
