"""Penalties on the weights ``W`` of a linear model (never the intercept).

Every penalty here is the elastic net, with an optional sign constraint::

    P(W) = sum(l1 * |W|) + sum(l2 / 2 * W**2)  (+ the indicator of W >= 0)

split in two parts, as proximal gradient methods need it:

- the smooth part ``sum(l2 / 2 * W**2)``, whose gradient :meth:`add_gradient`
  adds to the loss gradient before the optimizer's step;
- the non-smooth part ``sum(l1 * |W|)`` (and, with ``positive``, the
  constraint ``W >= 0``), applied after the step by the proximal operator
  :meth:`prox` with the step each coordinate just took: soft-thresholding
  by ``step * l1``, then the projection ``W <- max(W, 0)``.  With Adam's
  per-coordinate step ``eta = lr_t / (sqrt(v_hat) + epsilon)``
  (:meth:`skadam.Adam.step_size`) this is the preconditioned proximal
  gradient step of ProxGen (Yun, Lozano & Yang, "Adaptive proximal gradient
  methods for structured neural networks", NeurIPS 2021, eq. (3) with a
  diagonal preconditioner ``C_t = diag(sqrt(v_hat) + epsilon)``)::

      W <- prox_{eta * h}(W - eta * m_hat),   h = l1 |.| (+ indicator of W >= 0)

  for which a diagonal preconditioner makes the proximal problem separable,
  one soft-thresholding per coordinate.  Coordinates whose optimum is 0
  become exactly 0, as in coordinate descent (``Lasso``, ``ElasticNet``) and
  SAGA, and not merely small as with a subgradient.

``l1`` and ``l2`` are floats or arrays that broadcast against ``W`` (one
value per output, shape ``(K, 1)``: a regressor trained on rescaled targets
rescales the penalty per output, see :meth:`ElasticNetPenalty.scaled`).

In trained coordinates ``W' = W / f`` (:class:`skadam._scaling.Standardization`,
``f >= 0`` its ``factor``) the proximal step is ``prox(W', eta * f)``: the
non-smooth part is positively homogeneous of degree 1, so
``prox_{eta f**2 h}(f W') / f = prox_{eta f h}(W')``, and a frozen feature
(``f = 0``) is left at 0.

A stopping rule for a non-smooth penalty cannot test the gradient, which
does not vanish at the optimum: :meth:`stationarity` gives the least-norm
element of the subdifferential of the objective, zero exactly at the
optimum (for L2 alone, the gradient itself).
"""

import numpy as np

__all__ = ["ElasticNetPenalty", "L1Penalty", "L2Penalty", "make_penalty"]


class ElasticNetPenalty:
    """``P(W) = alpha * (l1_ratio ||W||_1 + (1 - l1_ratio) / 2 ||W||_F^2)``.

    The penalty of ``ElasticNet(alpha, l1_ratio)`` and of
    ``LogisticRegression(l1_ratio=l1_ratio, C=1 / (n * alpha))``; ``positive``
    adds the constraint ``W >= 0`` (``ElasticNet(positive=True)``).

    Parameters
    ----------
    alpha : float
        Penalty strength, ``>= 0``, on the scale of the mean loss.
    l1_ratio : float
        Share of the L1 part, in ``[0, 1]``.
    positive : bool, default=False
        Constrain the weights to be ``>= 0`` (by projection, in :meth:`prox`).

    Attributes
    ----------
    l1, l2 : float or ndarray
        The strengths ``alpha * l1_ratio`` and ``alpha * (1 - l1_ratio)``.
    has_prox : bool
        Whether :meth:`prox` does anything (L1 part or ``positive``); the
        training loop skips it if not.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam._penalties import ElasticNetPenalty
    >>> W = np.array([[1.0, -2.0]])
    >>> penalty = ElasticNetPenalty(0.5, l1_ratio=0.5)
    >>> penalty.value(W)
    1.375
    >>> penalty.prox(W, np.full_like(W, 4.0)).tolist()  # threshold 4 * 0.25
    [[0.0, -1.0]]
    """

    def __init__(self, alpha, l1_ratio, positive=False):
        self.alpha, self.l1_ratio = alpha, float(l1_ratio)
        self.positive = bool(positive)
        self._set_strengths(
            np.multiply(alpha, self.l1_ratio), np.multiply(alpha, 1 - self.l1_ratio)
        )

    def _set_strengths(self, l1, l2):
        self.l1 = l1 if np.ndim(l1) else float(l1)
        self.l2 = l2 if np.ndim(l2) else float(l2)
        self.has_prox = bool(np.any(self.l1)) or self.positive

    def __repr__(self):
        return (
            f"{type(self).__name__}(alpha={self.alpha!r}, l1_ratio={self.l1_ratio!r}"
            f", positive={self.positive!r})"
        )

    def scaled(self, l1_factor, l2_factor):
        """The same penalty with its strengths multiplied (a new object).

        A regressor trained on targets divided by ``c`` (per output) with a
        loss of degree ``k`` (``L(c y, c z) = c**k L(y, z)``) minimises the
        objective divided by ``c**k``, whose penalty on the rescaled weights
        ``W / c`` has ``l1 * c**(1 - k)`` and ``l2 * c**(2 - k)``.

        Parameters
        ----------
        l1_factor, l2_factor : float or ndarray of shape (K, 1)

        Returns
        -------
        penalty : ElasticNetPenalty
        """
        new = ElasticNetPenalty.__new__(type(self))
        new.alpha, new.l1_ratio, new.positive = self.alpha, self.l1_ratio, self.positive
        new._set_strengths(self.l1 * l1_factor, self.l2 * l2_factor)
        return new

    def value(self, W):
        """Return ``P(W)`` as a float (the constraint, if any, is not checked)."""
        value = 0.0
        if np.any(self.l1):
            value += float(np.sum(self.l1 * np.abs(W)))
        if np.any(self.l2):
            value += 0.5 * float(np.sum(self.l2 * (W * W)))
        return value

    def gradient(self, W):
        """Return the gradient of the smooth part, ``l2 * W`` (a new array)."""
        return self.l2 * W

    def add_gradient(self, W, grad_W):
        """Add the gradient of the smooth part to ``grad_W``, in place."""
        if np.any(self.l2):
            grad_W += self.l2 * W
        return grad_W

    def prox(self, W, step):
        """Proximal step of the non-smooth part, in place.

        ``W <- sign(W) * max(|W| - step * l1, 0)`` (soft-thresholding), then
        ``W <- max(W, 0)`` with ``positive``: the minimiser over ``U`` of
        ``sum(l1 |U|) + sum((U - W)**2 / (2 step))`` (subject to ``U >= 0``).

        Parameters
        ----------
        W : ndarray of shape (K, d)
            Weights after the optimizer's step, updated in place.
        step : ndarray of shape (K, d) or float
            The step size each coordinate just took (``>= 0``).

        Returns
        -------
        W : ndarray
        """
        if np.any(self.l1):
            shrunk = np.abs(W) - np.asarray(step * self.l1, W.dtype)
            np.maximum(shrunk, 0, out=shrunk)
            if self.positive:  # soft-threshold then project: max(W - t, 0)
                np.copyto(W, np.where(W > 0, shrunk, 0))
            else:
                np.copysign(shrunk, W, out=W)
        elif self.positive:
            np.maximum(W, 0, out=W)
        return W

    @property
    def strong_convexity(self):
        """The modulus ``mu`` of strong convexity the penalty gives.

        The smallest L2 strength, ``min(l2)`` (``alpha * (1 - l1_ratio)``
        before any rescaling): :class:`skadam._training.RelativeGap` bounds
        the objective's gap by ``||g||^2 / (2 mu)``, and falls back to
        ``max |g|`` when ``mu = 0`` (no penalty, or pure L1).
        """
        return float(np.min(self.l2))

    def stationarity(self, W, grad_W):
        """Least-norm subgradient of ``loss + P`` in ``W`` (0 at the optimum).

        Parameters
        ----------
        W : ndarray of shape (K, d)
            Weights (feasible: ``W >= 0`` with ``positive``).
        grad_W : ndarray of shape (K, d)
            Gradient in ``W`` of the loss plus the smooth part (as the loop
            computes it: :meth:`add_gradient` applied).

        Returns
        -------
        g : ndarray of shape (K, d)
            ``grad_W + l1 sign(W)`` where ``W != 0``; at ``W = 0`` the
            soft-thresholded ``grad_W`` (its part beyond ``[-l1, l1]``), and
            with ``positive`` only its negative part beyond ``-l1``.  Its
            norm is a stopping measure, as the gradient's norm is for L2.
        """
        g = np.array(grad_W, dtype=np.result_type(grad_W, np.float32))
        l1 = np.broadcast_to(np.asarray(self.l1, g.dtype), g.shape)
        nonzero = W != 0
        g[nonzero] += (l1 * np.sign(W))[nonzero]
        at_zero = ~nonzero
        z = g[at_zero]
        t = l1[at_zero]
        if self.positive:  # subdifferential at 0: g + (-inf, l1]
            g[at_zero] = np.minimum(z + t, 0)
        else:
            g[at_zero] = np.sign(z) * np.maximum(np.abs(z) - t, 0)
        return g


class L2Penalty(ElasticNetPenalty):
    """``P(W) = (alpha / 2) * ||W||_F^2``, the ridge penalty.

    Parameters
    ----------
    alpha : float
        Penalty strength, ``>= 0``, on the scale of the mean loss (so that
        ``alpha`` here is ``Ridge(alpha=n_samples * alpha)``).
    positive : bool, default=False
        Constrain the weights to be ``>= 0``.

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

    def __init__(self, alpha, positive=False):
        super().__init__(alpha, 0.0, positive)

    def __repr__(self):
        return f"L2Penalty(alpha={self.alpha!r}, positive={self.positive!r})"


class L1Penalty(ElasticNetPenalty):
    """``P(W) = alpha * ||W||_1``, the lasso penalty.

    Parameters
    ----------
    alpha : float
        Penalty strength, ``>= 0`` (``Lasso(alpha)``,
        ``QuantileRegressor(alpha=alpha)``).
    positive : bool, default=False
        Constrain the weights to be ``>= 0``.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam._penalties import L1Penalty
    >>> W = np.array([[0.3, -2.0]])
    >>> L1Penalty(0.5).prox(W, 1.0).tolist()
    [[0.0, -1.5]]
    """

    def __init__(self, alpha, positive=False):
        super().__init__(alpha, 1.0, positive)

    def __repr__(self):
        return f"L1Penalty(alpha={self.alpha!r}, positive={self.positive!r})"


def make_penalty(penalty, alpha, l1_ratio=0.15, positive=False):
    """Build the penalty named by the estimators' ``penalty`` parameter.

    Parameters
    ----------
    penalty : {"l2", "l1", "elasticnet"}
    alpha : float
    l1_ratio : float
        Used by ``"elasticnet"`` only.
    positive : bool

    Returns
    -------
    penalty : ElasticNetPenalty

    Examples
    --------
    >>> from skadam._penalties import make_penalty
    >>> make_penalty("l1", 0.1)
    L1Penalty(alpha=0.1, positive=False)
    """
    if penalty == "l1":
        return L1Penalty(alpha, positive)
    if penalty == "elasticnet":
        return ElasticNetPenalty(alpha, l1_ratio, positive)
    return L2Penalty(alpha, positive)
