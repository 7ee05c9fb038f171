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
from scipy.special import expit, logit

__all__ = [
    "LOSSES",
    "BaseLoss",
    "HalfBinomialLoss",
    "HalfMultinomialLoss",
    "HalfSquaredError",
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


class HalfSquaredError(BaseLoss):
    """``L = 1/2 * ||y - z||^2``, identity link (least squares).

    Examples
    --------
    >>> import numpy as np
    >>> from skadam._losses import HalfSquaredError
    >>> HalfSquaredError().loss(np.array([[1.0], [3.0]]), np.array([[0.0], [1.0]]))
    2.5
    """

    name = "squared_error"

    def _per_row_and_gradient(self, y, G):
        G -= y
        return 0.5 * np.einsum("ij,ij->i", G, G)

    def link(self, y_pred):
        return y_pred

    def inverse_link(self, raw_prediction):
        return raw_prediction

    def constant_raw_prediction(self, y_mean):
        return np.asarray(y_mean, dtype=np.float64)


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


#: The losses by the name an estimator asks for.
LOSSES = {
    "squared_error": HalfSquaredError,
    "binary_log_loss": HalfBinomialLoss,
    "multinomial_log_loss": HalfMultinomialLoss,
}
