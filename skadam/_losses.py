"""Per-sample losses of linear models, on raw predictions.

Each loss is a small class after the per-sample losses of scikit-learn's
``sklearn/_loss/loss.py``: the loss ``L(y, z)`` of one sample with encoded
targets ``y`` and raw predictions (decision values) ``z``, its gradient
``dL/dz``, the link that maps predictions to raw predictions, the constant
raw prediction that is optimal when all coefficients are zero (where the
intercept starts), and a check of the targets' domain.  Targets and raw
predictions are 2-D arrays of shape ``(n, K)``; the targets are encoded by
the estimator (real targets, a 0/1 column, one-hot rows).

:meth:`BaseLoss.loss_gradient` returns the weighted *sum* over the rows it is
given, so that sums over row chunks add up to the sum over all rows; the
normalisation by ``sum(s)`` and the penalty are added by
:class:`skadam._linear_loss.LinearModelLoss`.

A new loss is one subclass: ``_per_row_and_gradient`` (the formula),
``link``, ``inverse_link``, ``constant_raw_prediction`` and, if its targets
have a restricted domain, ``check_y``.
"""

import numpy as np
from scipy.special import expit, logit, xlogy

__all__ = [
    "LOSSES",
    "BaseLoss",
    "HalfBinomialLoss",
    "HalfGammaLoss",
    "HalfMultinomialLoss",
    "HalfPoissonLoss",
    "HalfSquaredError",
    "HalfTweedieLoss",
    "HuberLoss",
    "PinballLoss",
    "regression_loss",
]

#: Probabilities are clipped to [_P_MIN, 1 - _P_MIN] for the starting
#: intercept, so that a class with (almost) no weight starts finite.
_P_MIN = 1e-12


class BaseLoss:
    """Interface of a per-sample loss; subclasses give the formulas.

    All methods accept float32 or float64 arrays and return the input's
    dtype; none modifies its inputs except where ``gradient_out`` says so.
    """

    #: The name used in error messages and by the estimators.
    name = None
    #: How the loss scales with the targets: ``L(c y, c z) = c**k L(y, z)``
    #: for ``c > 0`` (with the loss's parameters in the units of ``y``), so
    #: that a regressor may train on targets divided by ``c``; None: the
    #: targets are not rescaled (the log-link losses, the classifiers).
    target_scale_degree = None
    #: Whether the loss has a gradient everywhere. A kink (the quantile
    #: loss's) keeps the gradient from vanishing at the optimum, so the
    #: stopping rule watches the objective's progress instead.
    differentiable = True

    def scaled(self, scale):
        """The same loss for targets divided by ``scale`` (shape (K,)).

        Only losses with parameters in the units of ``y`` (Huber's
        ``delta``) change; the others return themselves.
        """
        return self

    def loss(self, y, raw_prediction, sample_weight=None):
        """Return ``sum_i s_i * L(y_i, z_i)`` over the given rows.

        Parameters
        ----------
        y : ndarray of shape (n, K)
            Encoded targets.
        raw_prediction : ndarray of shape (n, K)
            Raw predictions ``z`` (decision values); not modified.
        sample_weight : ndarray of shape (n,) or None
            Weights ``s``; None means all ones.

        Returns
        -------
        loss_sum : float
        """
        return self.loss_gradient(y, raw_prediction.copy(), sample_weight, True)[0]

    def gradient(self, y, raw_prediction, sample_weight=None):
        """Return ``s_i * dL/dz_i``, an array of shape (n, K) (a new array)."""
        return self.loss_gradient(y, raw_prediction, sample_weight)[1]

    def loss_gradient(self, y, raw_prediction, sample_weight=None, in_place=False):
        """Return the weighted loss sum and the weighted gradient rows.

        Parameters
        ----------
        y, raw_prediction, sample_weight
            As in :meth:`loss`.
        in_place : bool, default=False
            Overwrite ``raw_prediction`` with the gradient (saves an array
            of the size of the batch on every step of training).

        Returns
        -------
        loss_sum : float
            ``sum_i s_i * L(y_i, z_i)``, accumulated in float64.
        gradient : ndarray of shape (n, K)
            ``s_i * dL/dz_i`` (``raw_prediction`` itself when ``in_place``).
        """
        G = raw_prediction if in_place else raw_prediction.copy()
        per_row = self._per_row_and_gradient(y, G)
        if sample_weight is None:
            return float(np.sum(per_row, dtype=np.float64)), G
        G *= sample_weight[:, None]
        return float(np.dot(per_row.astype(np.float64, copy=False), sample_weight)), G

    def _per_row_and_gradient(self, y, G):
        """Return the per-row losses; overwrite ``G`` (raw predictions) with dL/dz."""
        raise NotImplementedError

    def link(self, y_pred):
        """Map predictions (means, probabilities) to raw predictions."""
        raise NotImplementedError

    def inverse_link(self, raw_prediction):
        """Map raw predictions to predictions (means, probabilities)."""
        raise NotImplementedError

    def constant_raw_prediction(self, y_mean):
        """The raw prediction minimising the mean loss when ``W = 0``.

        Parameters
        ----------
        y_mean : ndarray of shape (K,)
            Weighted mean of the encoded targets.

        Returns
        -------
        raw : ndarray of shape (K,)
            Where the intercept starts in a cold ``fit``.
        """
        raise NotImplementedError

    def check_y(self, y):
        """Raise a ``ValueError`` naming the loss if ``y`` is outside its domain."""

    def __repr__(self):
        return f"{type(self).__name__}()"


class _IdentityLinkLoss(BaseLoss):
    """A loss on raw predictions that are the predictions (identity link).

    The intercept starts at the weighted mean of ``y``: the optimum of the
    squared error, and for Huber's and the quantile loss only a start (their
    own optimal constants need the data).
    """

    def link(self, y_pred):
        return y_pred

    def inverse_link(self, raw_prediction):
        return raw_prediction

    def constant_raw_prediction(self, y_mean):
        return np.asarray(y_mean, dtype=np.float64)


class HalfSquaredError(_IdentityLinkLoss):
    """``L = 1/2 * ||y - z||^2``, identity link (least squares).

    Examples
    --------
    >>> import numpy as np
    >>> from skadam._losses import HalfSquaredError
    >>> HalfSquaredError().loss(np.array([[1.0], [3.0]]), np.array([[0.0], [1.0]]))
    2.5
    """

    name = "squared_error"
    target_scale_degree = 2

    def _per_row_and_gradient(self, y, G):
        G -= y
        return 0.5 * np.einsum("ij,ij->i", G, G)


class HalfBinomialLoss(BaseLoss):
    """``L = log(1 + exp(z)) - y * z``, logit link (binary logistic regression).

    The negative log-likelihood of ``P(y = 1) = expit(z)`` for ``y`` in
    {0, 1} (one column, ``K = 1``), computed as ``logaddexp(0, z) - y z``,
    finite for any ``z``.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam._losses import HalfBinomialLoss
    >>> round(HalfBinomialLoss().loss(np.array([[1.0]]), np.array([[0.0]])), 6)
    0.693147
    """

    name = "log_loss"

    def _per_row_and_gradient(self, y, G):
        per_row = np.logaddexp(0, G[:, 0]) - y[:, 0] * G[:, 0]
        expit(G, out=G)
        G -= y
        return per_row

    def link(self, y_pred):
        return logit(y_pred)

    def inverse_link(self, raw_prediction):
        return expit(raw_prediction)

    def constant_raw_prediction(self, y_mean):
        return logit(np.clip(np.asarray(y_mean, np.float64), _P_MIN, 1 - _P_MIN))

    def check_y(self, y):
        if not np.all((y == 0) | (y == 1)):
            raise ValueError("The log_loss (binary) needs targets encoded as 0 or 1.")


class HalfMultinomialLoss(BaseLoss):
    """``L = logsumexp(z) - sum_k y_k z_k``, softmax link (multinomial).

    The negative log-likelihood of ``P(y = k) = softmax(z)_k`` for one-hot
    (or any probability) rows ``y``; the row maximum is subtracted before
    ``exp``, so no ``z`` overflows.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam._losses import HalfMultinomialLoss
    >>> y, z = np.array([[0.0, 1.0, 0.0]]), np.zeros((1, 3))
    >>> round(HalfMultinomialLoss().loss(y, z), 6)  # log(3)
    1.098612
    """

    name = "log_loss"

    def _per_row_and_gradient(self, y, G):
        # NumPy reduces along rows of a few elements slowly (about 3 ns per
        # element); along the columns of the transposed copy it is 5x faster.
        G -= np.ascontiguousarray(G.T).max(axis=0)[:, None]
        per_row = -np.einsum("ij,ij->i", y, G)
        np.exp(G, out=G)
        row_sums = G @ np.ones(G.shape[1], G.dtype)
        G /= row_sums[:, None]
        per_row += np.log(row_sums)
        G -= y
        return per_row

    def link(self, y_pred):
        log_p = np.log(y_pred)
        return log_p - log_p.mean(axis=-1, keepdims=True)

    def inverse_link(self, raw_prediction):
        z = raw_prediction - raw_prediction.max(axis=-1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=-1, keepdims=True)

    def constant_raw_prediction(self, y_mean):
        p = np.clip(np.asarray(y_mean, np.float64), _P_MIN, None)
        return self.link(p / p.sum())

    def check_y(self, y):
        if not np.allclose(y.sum(axis=1), 1.0):
            raise ValueError("The log_loss (multinomial) needs one-hot encoded rows.")


class HuberLoss(_IdentityLinkLoss):
    """Huber's loss of the residual ``r = y - z``, identity link.

    ``L = r**2 / 2`` if ``|r| <= delta``, else ``delta * (|r| - delta / 2)``
    (Huber 1964), summed over the outputs: quadratic near 0 and linear in
    the tails, so that outliers pull on the fit with a bounded force.  This
    is the loss of ``SGDRegressor(loss="huber", epsilon=delta)`` (which
    calls it ``epsilon``); ``HuberRegressor`` minimises another objective,
    with a scale fitted jointly.

    Parameters
    ----------
    delta : float or ndarray of shape (K,)
        Threshold, ``> 0``, in the units of ``y`` (one per output).

    Examples
    --------
    >>> import numpy as np
    >>> from skadam._losses import HuberLoss
    >>> HuberLoss(1.0).loss(np.array([[0.5], [3.0]]), np.zeros((2, 1)))
    2.625
    """

    name = "huber"
    target_scale_degree = 2

    def __init__(self, delta):
        self.delta = delta

    def __repr__(self):
        return f"HuberLoss(delta={self.delta!r})"

    def scaled(self, scale):
        return HuberLoss(np.asarray(self.delta, np.float64) / scale)

    def _per_row_and_gradient(self, y, G):
        G -= y  # -r
        delta = np.asarray(self.delta, G.dtype)
        size = np.abs(G)
        per_elem = np.where(size <= delta, 0.5 * G * G, delta * (size - 0.5 * delta))
        np.clip(G, -delta, delta, out=G)
        return per_elem.sum(axis=1)


class PinballLoss(_IdentityLinkLoss):
    """The pinball (check) loss of quantile regression, identity link.

    ``L = max(q r, (q - 1) r)`` with ``r = y - z``, summed over the outputs
    (Koenker & Bassett 1978): its minimiser over constants is the
    ``q``-quantile of ``y``.  The loss of ``QuantileRegressor(quantile=q)``.
    At ``r = 0`` the gradient returned is 0, the subgradient of least norm.

    Parameters
    ----------
    quantile : float
        ``q``, in ``(0, 1)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam._losses import PinballLoss
    >>> PinballLoss(0.9).loss(np.array([[1.0], [-1.0]]), np.zeros((2, 1)))
    1.0
    """

    name = "quantile"
    target_scale_degree = 1
    differentiable = False

    def __init__(self, quantile):
        self.quantile = float(quantile)

    def __repr__(self):
        return f"PinballLoss(quantile={self.quantile!r})"

    def _per_row_and_gradient(self, y, G):
        q = self.quantile
        G -= y  # -r
        per_elem = np.maximum(-q * G, (1.0 - q) * G)
        # dL/dz: -q where r > 0, 1 - q where r < 0, 0 where r = 0.
        G[...] = np.where(G < 0, -q, np.where(G > 0, 1.0 - q, 0.0))
        return per_elem.sum(axis=1)


class HalfTweedieLoss(BaseLoss):
    """Half the Tweedie unit deviance with a log link, ``mu = exp(z)``.

    For the power ``p`` (``p <= 0`` or ``p >= 1``)::

        L = y**(2-p) / ((1-p)(2-p)) - y mu**(1-p) / (1-p) + mu**(2-p) / (2-p)

    (``y**(2-p)`` taken as ``max(y, 0)**(2-p)``), with its limits
    ``L = y log(y / mu) - y + mu`` at ``p = 1`` (Poisson) and
    ``L = log(mu / y) + y / mu - 1`` at ``p = 2`` (Gamma), and
    ``(y - mu)**2 / 2`` at ``p = 0``.  It is half of
    :func:`sklearn.metrics.mean_tweedie_deviance`'s unit deviance, constant
    terms included (so that ``L = 0`` when ``mu = y``), and the loss of
    ``TweedieRegressor(power=p, link="log")``; its gradient is
    ``dL/dz = mu**(2-p) - y mu**(1-p)``.  Targets: any real for ``p <= 0``,
    ``y >= 0`` for ``1 <= p < 2``, ``y > 0`` for ``p >= 2``.

    Parameters
    ----------
    power : float
        ``p``; values in ``(0, 1)`` raise a ``ValueError`` (no Tweedie
        distribution exists there).

    Examples
    --------
    >>> import numpy as np
    >>> from skadam._losses import HalfTweedieLoss
    >>> HalfTweedieLoss(1.5).loss(np.array([[2.0]]), np.log([[2.0]]))
    0.0
    """

    name = "tweedie"

    def __init__(self, power):
        power = float(power)
        if 0 < power < 1:
            raise ValueError(
                f"The tweedie loss needs power <= 0 or power >= 1, got {power!r}: "
                "no Tweedie distribution has a power in (0, 1)."
            )
        self.power = power

    def __repr__(self):
        return f"{type(self).__name__}(power={self.power!r})"

    def _per_row_and_gradient(self, y, G):
        p = self.power
        mu = np.exp(G)
        if p == 1:
            # y log(y / mu) - y + mu with log(mu) = G: one logarithm fewer
            # and no division (xlogy(0, 0) = 0).
            per_elem = xlogy(y, y) - y * (G + 1.0) + mu
            np.subtract(mu, y, out=G)
        elif p == 2:
            ratio = y / mu
            per_elem = -np.log(ratio) + ratio - 1.0
            np.subtract(1.0, ratio, out=G)
        else:
            mu1 = mu ** (1.0 - p)  # mu**(1-p); mu**(2-p) = mu1 * mu
            mu2 = mu1 * mu
            y2 = np.maximum(y, 0) ** (2.0 - p) / ((1.0 - p) * (2.0 - p))
            per_elem = y2 - y * mu1 / (1.0 - p) + mu2 / (2.0 - p)
            np.subtract(mu2, y * mu1, out=G)
        return per_elem.sum(axis=1)

    def link(self, y_pred):
        return np.log(y_pred)

    def inverse_link(self, raw_prediction):
        return np.exp(raw_prediction)

    def constant_raw_prediction(self, y_mean):
        # The weighted mean is the optimal constant mean of every Tweedie
        # deviance: the gradient at a constant mu is sum s (mu - y) mu**(1-p).
        with np.errstate(divide="ignore"):
            return np.log(np.asarray(y_mean, dtype=np.float64))

    def check_y(self, y):
        p = self.power
        if p <= 0:
            ok, domain = np.all(np.isfinite(y)), "finite"
        elif p < 2:
            ok, domain = np.all(y >= 0), "non-negative (y >= 0)"
        else:
            ok, domain = np.all(y > 0), "positive (y > 0)"
        if not ok:
            raise ValueError(
                f"The {self.name} loss{self._power_words()} needs {domain} "
                "targets; y has values outside that domain."
            )
        if p > 0 and not np.any(y > 0):
            raise ValueError(
                f"The {self.name} loss{self._power_words()} needs some "
                "positive targets: all are 0, whose fit has an infinitely "
                "negative intercept."
            )

    def _power_words(self):
        return f" (power={self.power!r})"


class HalfPoissonLoss(HalfTweedieLoss):
    """Half the Poisson deviance, ``L = y log(y / mu) - y + mu``, ``mu = exp(z)``.

    The loss of ``PoissonRegressor``; ``HalfTweedieLoss(power=1)``.  Targets
    ``y >= 0`` (counts, or rates with exposure as the sample weight), not
    all 0.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam._losses import HalfPoissonLoss
    >>> round(HalfPoissonLoss().loss(np.array([[0.0], [2.0]]), np.zeros((2, 1))), 6)
    1.386294
    """

    name = "poisson"

    def __init__(self):
        super().__init__(1.0)

    def __repr__(self):
        return "HalfPoissonLoss()"

    def _power_words(self):
        return ""


class HalfGammaLoss(HalfTweedieLoss):
    """Half the Gamma deviance, ``L = log(mu / y) + y / mu - 1``, ``mu = exp(z)``.

    The loss of ``GammaRegressor``; ``HalfTweedieLoss(power=2)``.  Targets
    ``y > 0``.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam._losses import HalfGammaLoss
    >>> HalfGammaLoss().loss(np.array([[1.0]]), np.zeros((1, 1)))
    0.0
    """

    name = "gamma"

    def __init__(self):
        super().__init__(2.0)

    def __repr__(self):
        return "HalfGammaLoss()"

    def _power_words(self):
        return ""


def regression_loss(loss, *, delta=1.0, quantile=0.5, power=1.5):
    """The per-sample loss of :class:`skadam.AdamLinearRegressor`'s ``loss``.

    Parameters
    ----------
    loss : {"squared_error", "huber", "quantile", "poisson", "gamma", "tweedie"}
    delta, quantile, power : float
        The parameters of ``"huber"``, ``"quantile"`` and ``"tweedie"``.

    Returns
    -------
    base_loss : BaseLoss

    Examples
    --------
    >>> from skadam._losses import regression_loss
    >>> regression_loss("tweedie", power=1.2)
    HalfTweedieLoss(power=1.2)
    """
    if loss == "huber":
        return HuberLoss(delta)
    if loss == "quantile":
        return PinballLoss(quantile)
    if loss == "tweedie":
        return HalfTweedieLoss(power)
    return REGRESSION_LOSSES[loss]()


#: The losses by the name an estimator asks for.
LOSSES = {
    "squared_error": HalfSquaredError,
    "binary_log_loss": HalfBinomialLoss,
    "multinomial_log_loss": HalfMultinomialLoss,
}

#: The regressor's losses without parameters, by name.
REGRESSION_LOSSES = {
    "squared_error": HalfSquaredError,
    "poisson": HalfPoissonLoss,
    "gamma": HalfGammaLoss,
}
