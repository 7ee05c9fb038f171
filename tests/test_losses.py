import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import minimize
from scipy.special import expit, softmax
from sklearn.metrics import mean_pinball_loss, mean_tweedie_deviance

from skadam._losses import (
    HalfBinomialLoss,
    HalfGammaLoss,
    HalfMultinomialLoss,
    HalfPoissonLoss,
    HalfSquaredError,
    HalfTweedieLoss,
    HuberLoss,
    PinballLoss,
    regression_loss,
)

GLMS = [
    HalfPoissonLoss(),
    HalfGammaLoss(),
    HalfTweedieLoss(0.0),
    HalfTweedieLoss(1.5),
    HalfTweedieLoss(3.0),
]
LOSSES = [
    HalfSquaredError(),
    HalfBinomialLoss(),
    HalfMultinomialLoss(),
    HuberLoss(np.array([0.5, 2.0])),
    *GLMS,
]


def targets(rng, loss, n=40):
    if isinstance(loss, HalfTweedieLoss):
        return rng.gamma(2.0, size=(n, 2))
    if isinstance(loss, HalfSquaredError | HuberLoss | PinballLoss):
        return rng.normal(size=(n, 2))
    if isinstance(loss, HalfBinomialLoss):
        return rng.integers(0, 2, size=(n, 1)).astype(float)
    return np.eye(3)[rng.integers(0, 3, size=n)]


@pytest.mark.parametrize("loss", LOSSES, ids=repr)
def test_gradient_rows_match_finite_differences(rng, loss):
    y = targets(rng, loss)
    Z = rng.normal(size=y.shape)
    s = rng.uniform(0.5, 2.0, size=len(y))
    _, G = loss.loss_gradient(y, Z, s)
    h = 1e-6
    for k in range(y.shape[1]):
        E = np.zeros_like(Z)
        E[:, k] = h
        # Row by row: the loss of one row moves with its own z only.
        numeric = [
            (
                loss.loss(y[i : i + 1], Z[i : i + 1] + E[i : i + 1], s[i : i + 1])
                - loss.loss(y[i : i + 1], Z[i : i + 1] - E[i : i + 1], s[i : i + 1])
            )
            / (2 * h)
            for i in range(len(y))
        ]
        assert_allclose(G[:, k], numeric, rtol=1e-5, atol=1e-7)
    assert_allclose(loss.gradient(y, Z, s), G)


@pytest.mark.parametrize(
    "loss", [loss for loss in LOSSES if not isinstance(loss, HuberLoss)], ids=repr
)
def test_constant_raw_prediction_minimises_the_mean_loss(rng, loss):
    y = targets(rng, loss)
    s = rng.uniform(0.5, 2.0, size=len(y))
    y_mean = s @ y / s.sum()
    start = loss.constant_raw_prediction(y_mean)

    def mean_loss(b):
        return loss.loss(y, np.tile(b, (len(y), 1)), s) / s.sum()

    best = minimize(mean_loss, np.zeros(y.shape[1]), method="BFGS", tol=1e-12)
    assert mean_loss(start) <= best.fun + 1e-10


def test_links_are_inverses_and_match_scipy(rng):
    Z = rng.normal(size=(5, 3))
    assert_allclose(HalfMultinomialLoss().inverse_link(Z), softmax(Z, axis=1))
    P = HalfMultinomialLoss().inverse_link(Z)
    assert_allclose(
        HalfMultinomialLoss().inverse_link(HalfMultinomialLoss().link(P)), P
    )
    z = rng.normal(size=(5, 1))
    assert_allclose(HalfBinomialLoss().inverse_link(z), expit(z))
    assert_allclose(HalfBinomialLoss().link(expit(z)), z)
    assert_array_equal(HalfSquaredError().link(z), z)


@pytest.mark.parametrize("scale", [1e3, 1e5, 1e300])
@pytest.mark.parametrize("loss", LOSSES[1:3], ids=repr)
def test_logistic_losses_stable_at_huge_raw_predictions(rng, loss, scale):
    y = targets(rng, loss, n=8)
    if y.shape[1] == 1:
        Z = scale * rng.choice([-1.0, 1.0], size=y.shape)
    else:  # a unique maximum in every row
        Z = scale * np.array([rng.permutation([2.0, -1.0, 1.0]) for _ in y])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss_sum, G = loss.loss_gradient(y, Z)
    # With |Z| huge the loss of a sample is its margin violation, exactly.
    if y.shape[1] == 1:
        expected = np.sum(np.maximum(Z[:, 0], 0) - y[:, 0] * Z[:, 0])
        P = (Z > 0).astype(float)
    else:
        expected = np.sum(Z.max(axis=1) - np.sum(y * Z, axis=1))
        P = (Z == Z.max(axis=1, keepdims=True)).astype(float)
    assert_allclose(loss_sum, expected, rtol=1e-12)
    assert_allclose(G, P - y, atol=1e-12)


def test_in_place_writes_the_gradient_into_the_raw_predictions(rng):
    loss = HalfMultinomialLoss()
    y = targets(rng, loss)
    Z = rng.normal(size=y.shape)
    before = Z.copy()
    expected = loss.loss_gradient(y, Z)
    assert_array_equal(Z, before)  # not in place: kept
    value, G = loss.loss_gradient(y, Z, in_place=True)
    assert G is Z and value == expected[0]
    assert_allclose(G, expected[1])


def test_y_domain_checks_name_the_loss():
    with pytest.raises(ValueError, match="log_loss"):
        HalfBinomialLoss().check_y(np.array([[0.5]]))
    with pytest.raises(ValueError, match="log_loss"):
        HalfMultinomialLoss().check_y(np.array([[0.5, 0.0]]))
    HalfSquaredError().check_y(np.array([[-3.0]]))


@pytest.mark.parametrize("loss", GLMS, ids=repr)
def test_tweedie_losses_are_half_sklearns_deviance(rng, loss):
    y = rng.gamma(2.0, size=(30, 1))
    y[:5] = 0.0 if loss.power < 2 else y[:5]  # zeros where the domain allows
    z = rng.normal(size=(30, 1))
    s = rng.uniform(0.5, 2.0, size=30)
    expected = mean_tweedie_deviance(
        y[:, 0], np.exp(z[:, 0]), sample_weight=s, power=loss.power
    )
    assert_allclose(loss.loss(y, z, s) / s.sum(), expected / 2, rtol=1e-12)
    assert_allclose(loss.inverse_link(z), np.exp(z))
    assert_allclose(loss.link(np.exp(z)), z)


def test_pinball_loss_is_sklearns_and_its_gradient_a_subgradient(rng):
    y, z = rng.normal(size=(50, 1)), rng.normal(size=(50, 1))
    z[:3] = y[:3]  # on the kink
    for q in (0.1, 0.5, 0.9):
        loss = PinballLoss(q)
        value, G = loss.loss_gradient(y, z)
        assert_allclose(value / 50, mean_pinball_loss(y, z, alpha=q), rtol=1e-12)
        assert_array_equal(G[:3], 0.0)  # the least-norm subgradient
        assert_array_equal(G[3:], np.where(y[3:] > z[3:], -q, 1 - q))


def test_huber_loss_formula_and_scaling(rng):
    y, z = rng.normal(scale=3, size=(50, 1)), rng.normal(size=(50, 1))
    r = y - z
    delta = 1.5
    expected = np.where(
        np.abs(r) <= delta, r**2 / 2, delta * (np.abs(r) - delta / 2)
    ).sum()
    assert_allclose(HuberLoss(delta).loss(y, z), expected, rtol=1e-12)
    # Degree 2: L(c y, c z; delta) = c**2 L(y, z; delta / c).
    c = 7.0
    scaled = HuberLoss(delta).scaled(np.array([c]))
    assert_allclose(scaled.loss(y / c, z / c) * c**2, expected, rtol=1e-12)
    assert HuberLoss.target_scale_degree == 2
    assert PinballLoss.target_scale_degree == 1
    assert HalfPoissonLoss.target_scale_degree is None


@pytest.mark.parametrize(
    ("loss", "y", "match"),
    [
        (HalfPoissonLoss(), [[-1.0], [2.0]], "poisson loss needs non-negative"),
        (HalfPoissonLoss(), [[0.0], [0.0]], "poisson loss needs some positive"),
        (HalfGammaLoss(), [[0.0], [2.0]], "gamma loss needs positive"),
        (HalfTweedieLoss(1.5), [[-1.0]], r"tweedie loss \(power=1.5\)"),
        (HalfTweedieLoss(0.0), [[np.inf]], "tweedie loss .* finite"),
    ],
)
def test_glm_target_domains_name_the_loss(loss, y, match):
    with pytest.raises(ValueError, match=match):
        loss.check_y(np.array(y))


def test_tweedie_power_between_0_and_1_names_the_loss():
    with pytest.raises(ValueError, match="tweedie loss needs power <= 0 or"):
        HalfTweedieLoss(0.5)
    assert repr(regression_loss("tweedie", power=1.0)) == "HalfTweedieLoss(power=1.0)"
    assert repr(regression_loss("huber", delta=2.0)) == "HuberLoss(delta=2.0)"
    HalfTweedieLoss(0.0).check_y(np.array([[-3.0]]))  # normal: any real
