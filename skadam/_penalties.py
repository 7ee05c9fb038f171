"""Penalties on the weights ``W`` of a linear model (never the intercept).

A penalty is split in two parts, as proximal gradient methods need it:

- a smooth part, whose gradient :meth:`L2Penalty.add_gradient` adds to the
  loss gradient before the optimizer's step;
- a non-smooth part, applied after the step by the proximal operator
  :meth:`L2Penalty.prox` with the step each coordinate just took (Adam's
  per-coordinate step ``lr_t / (sqrt(v_hat) + epsilon)``), as in proximal
  and preconditioned proximal Adam.

:class:`L2Penalty`, ``(alpha / 2) * ||W||_F^2``, is all smooth: its
``prox`` is the identity and ``has_prox`` is False, so the training loop
skips it.  An L1 or elastic-net penalty is then one class whose ``prox``
soft-thresholds ``W`` by ``step * alpha * l1_ratio``; ``positive=True`` is
the projection ``W <- max(W, 0)`` in the same ``prox``.

``prox`` works on the raw weights.  The estimators train ``W' = W / f``
(:class:`skadam._scaling.Standardization`, ``f`` its ``factor``); for a
penalty ``P`` separable over coordinates, the proximal step in trained
coordinates with steps ``eta`` is ``W' <- prox(f * W', eta * f**2) / f``
(substitute ``W = f W'`` in the proximal problem), and frozen features
(``f = 0``) stay at 0.  The training loop does not call ``prox`` yet: the
per-coordinate step needs the optimizer's preconditioner
(``lr_t / (sqrt(v_hat) + epsilon)`` for Adam), which the optimizer protocol
does not expose today.
"""

import numpy as np

__all__ = ["L2Penalty"]


class L2Penalty:
    """``P(W) = (alpha / 2) * ||W||_F^2``, the ridge penalty.

    Parameters
    ----------
    alpha : float
        Penalty strength, ``>= 0``, on the scale of the mean loss (so that
        ``alpha`` here is ``Ridge(alpha=n_samples * alpha)``).

    Examples
    --------
    >>> import numpy as np
    >>> from skadam._penalties import L2Penalty
    >>> W = np.array([[1.0, -2.0]])
    >>> L2Penalty(0.5).value(W)
    1.25
    >>> L2Penalty(0.5).gradient(W).tolist()
    [[0.5, -1.0]]
    """

    #: Whether :meth:`prox` does anything (the training loop skips it if not).
    has_prox = False

    def __init__(self, alpha):
        self.alpha = float(alpha)

    def __repr__(self):
        return f"L2Penalty(alpha={self.alpha!r})"

    def value(self, W):
        """Return ``P(W)`` as a float."""
        if not self.alpha:
            return 0.0
        return 0.5 * self.alpha * float(np.vdot(W, W))

    def gradient(self, W):
        """Return the gradient of the smooth part, ``alpha * W`` (a new array)."""
        return self.alpha * W

    def add_gradient(self, W, grad_W):
        """Add the gradient of the smooth part to ``grad_W``, in place."""
        if self.alpha:
            grad_W += self.alpha * W
        return grad_W

    def prox(self, W, step):
        """Proximal step of the non-smooth part, in place: none for L2.

        Parameters
        ----------
        W : ndarray of shape (K, d)
            Weights after the optimizer's step, updated in place.
        step : ndarray of shape (K, d)
            The step size each coordinate just took.

        Returns
        -------
        W : ndarray
        """
        return W
