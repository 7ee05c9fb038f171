import numpy as np
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import check_grad

from skadam._penalties import L2Penalty


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
