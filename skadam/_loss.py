"""Loss and gradient of penalised linear models on a packed coefficient array.

The coefficients of a linear model with ``K`` outputs and ``d`` features are
packed in one 2-D array ``coef`` of shape ``(K, d + fit_intercept)``: the
weights ``W = coef[:, :d]`` and, when ``fit_intercept`` is true, the intercept
``b = coef[:, -1]`` in the last column.  The decision values are
``Z = X @ W.T + b``, of shape ``(n, K)``.

The objective minimised by the estimators is::

    f(coef) = (1 / sum(s)) * sum_i s_i * L_i  +  (alpha / 2) * ||W||_F^2

with ``s`` the sample weights (all ones when not given) and the intercept not
penalised.  The per-sample loss ``L_i`` and the encoding of the targets ``Y``
(always a 2-D float array of shape ``(n, K)``) depend on ``kind``:

``"squared"``
    ``L_i = 1/2 * ||Y_i - Z_i||^2``; ``Y`` holds the real targets, one column
    per output.
``"binary_logistic"``
    ``L_i = log(1 + exp(Z_i)) - Y_i * Z_i``, the negative log-likelihood of
    ``P(y=1) = expit(Z_i)``; ``K = 1`` and ``Y`` is a 0/1 column.
``"multinomial"``
    ``L_i = logsumexp(Z_i) - sum_k Y_ik * Z_ik``, the negative log-likelihood
    of ``P(y=k) = softmax(Z_i)_k``; ``Y`` is the one-hot encoding of the
    classes, ``K`` columns (any rows that sum to one work).

Both logistic losses are computed in their log-sum-exp forms, so decision
values of any size (``|Z| >= 1e3`` included) give finite losses and
gradients without overflow warnings.

:meth:`LinearLoss.weighted_sums` returns the unpenalised sums
``sum_i s_i * L_i`` and their gradient over the rows it is given, so that sums
over row chunks add up to the sum over all rows; :meth:`LinearLoss.objective`
adds the normalisation and the penalty.
"""

import numpy as np
from scipy.special import expit

__all__ = ["LinearLoss", "ScaledLoss"]

_KINDS = ("squared", "binary_logistic", "multinomial")


class LinearLoss:
    """Loss and gradient of a linear model, on packed coefficients.

    Parameters
    ----------
    kind : {"squared", "binary_logistic", "multinomial"}
        The per-sample loss, see the module docstring for the formulas and
        the encoding of ``Y``.
    fit_intercept : bool, default=True
        Whether the last column of ``coef`` is an (unpenalised) intercept.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam._loss import LinearLoss
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    >>> Y = np.array([[1.0], [0.0], [1.0]])
    >>> loss = LinearLoss("binary_logistic", fit_intercept=True)
    >>> coef = np.zeros((1, 3))
    >>> value, grad = loss.objective(coef, X, Y, None, alpha=0.0)
    >>> round(value, 6), grad.round(3).tolist()
    (0.693147, [[0.0, -0.333, -0.167]])
    """

    def __init__(self, kind, fit_intercept=True):
        if kind not in _KINDS:
            raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}.")
        self.kind = kind
        self.fit_intercept = bool(fit_intercept)

    def __repr__(self):
        return f"LinearLoss({self.kind!r}, fit_intercept={self.fit_intercept})"

    def coef_shape(self, n_outputs, n_features):
        """Shape of the packed ``coef`` for ``n_outputs`` and ``n_features``."""
        return (n_outputs, n_features + int(self.fit_intercept))

    def split(self, coef):
        """Return the views ``(W, b)`` of ``coef``; ``b`` is None without intercept."""
        if self.fit_intercept:
            return coef[:, :-1], coef[:, -1]
        return coef, None

    def decision_function(self, coef, X):
        """Return the decision values ``Z = X @ W.T + b``, shape ``(n, K)``."""
        W, b = self.split(coef)
        Z = np.asarray(X @ W.T)
        if b is not None:
            Z += b
        return Z

    def weighted_sums(self, coef, X, Y, sample_weight=None, out=None):
        """Unpenalised weighted loss sum and its gradient over the given rows.

        Parameters
        ----------
        coef : ndarray of shape (K, d + fit_intercept)
            Packed coefficients, intercept in the last column.
        X : {ndarray, sparse matrix} of shape (n, d)
            Rows of the design matrix; dense or sparse (CSR or CSC).
        Y : ndarray of shape (n, K)
            Targets, encoded as in the module docstring.
        sample_weight : ndarray of shape (n,) or None
            Non-negative weights ``s``; None means all ones.
        out : ndarray of shape coef.shape, optional
            Where to write the gradient (avoids an allocation per call).

        Returns
        -------
        loss_sum : float
            ``sum_i s_i * L_i``.
        grad_sum : ndarray of shape coef.shape
            Its gradient with respect to ``coef`` (``out`` when given).
        """
        Z = self.decision_function(coef, X)
        loss_sum = self._loss_and_residual(Z, Y, sample_weight)
        return loss_sum, self._gradient(Z, X, coef, out)

    def loss_sum(self, Z, Y, sample_weight=None):
        """Return ``sum_i s_i * L_i`` for the decision values ``Z`` (kept)."""
        return self._loss_and_residual(Z.copy(), Y, sample_weight)

    def objective(self, coef, X, Y, sample_weight, alpha, weight_sum=None, out=None):
        """Penalised objective and its gradient (see the module docstring).

        Parameters
        ----------
        coef, X, Y, sample_weight, out
            As in :meth:`weighted_sums`.
        alpha : float
            L2 penalty on ``W`` (the intercept is not penalised).
        weight_sum : float, optional
            The normaliser ``sum(s)``; defaults to the sum of ``sample_weight``
            over the given rows (``n`` when ``sample_weight`` is None).  Pass
            the total over all rows when the rows are a chunk of the data.

        Returns
        -------
        loss : float
            ``weighted_sums / weight_sum + (alpha / 2) * ||W||_F^2``.
        grad : ndarray of shape coef.shape
            Its gradient (``out`` when given).
        """
        if weight_sum is None:
            weight_sum = (
                X.shape[0] if sample_weight is None else float(np.sum(sample_weight))
            )
        loss_sum, grad = self.weighted_sums(coef, X, Y, sample_weight, out=out)
        return loss_sum / weight_sum + self.penalise(
            coef, grad, alpha, weight_sum
        ), grad

    def penalise(self, coef, grad, alpha, weight_sum):
        """Turn a gradient sum into the objective's gradient, in place.

        Divides ``grad`` by ``weight_sum``, adds ``alpha * W`` to its weight
        part, and returns the penalty value ``(alpha / 2) * ||W||_F^2``.
        """
        self.penalise_gradient(coef, grad, alpha, weight_sum)
        return self.penalty(coef, alpha)

    def penalise_gradient(self, coef, grad, alpha, weight_sum):
        """:meth:`penalise` without the penalty value (for steps that need none)."""
        grad /= weight_sum
        if alpha:
            gW, _ = self.split(grad)
            gW += alpha * self.split(coef)[0]

    def penalty(self, coef, alpha):
        """Return the penalty ``(alpha / 2) * ||W||_F^2`` (intercept excluded)."""
        if not alpha:
            return 0.0
        W, _ = self.split(coef)
        return 0.5 * alpha * float(np.vdot(W, W))

    def _loss_and_residual(self, Z, Y, s):
        """Return ``sum_i s_i L_i`` and overwrite ``Z`` with ``s_i dL_i/dZ_i``."""
        if self.kind == "squared":
            Z -= Y
            per_row = 0.5 * np.einsum("ij,ij->i", Z, Z)
        elif self.kind == "binary_logistic":
            per_row = np.logaddexp(0, Z[:, 0]) - Y[:, 0] * Z[:, 0]
            expit(Z, out=Z)
            Z -= Y
        else:
            per_row = _softmax_in_place(Z, Y)
            Z -= Y
        if s is None:
            return float(per_row.sum())
        Z *= s[:, None]
        return float(np.dot(per_row, s))

    def _gradient(self, R, X, coef, out):
        """Gradient of the loss sum from the weighted residual ``R``."""
        grad = np.empty_like(coef) if out is None else out
        gW, gb = self.split(grad)
        # Dense or sparse X. For dense X, BLAS runs X.T @ R (a few columns)
        # 1.5x faster than R.T @ X.
        gW[...] = (X.T @ R).T
        if gb is not None:  # as a product: R.sum(axis=0) is slow on short rows
            gb[...] = np.ones(len(R), R.dtype) @ R
        return grad


def _softmax_in_place(Z, Y):
    """Overwrite ``Z`` with its row-wise softmax; return ``logsumexp(Z_i) - Y_i . Z_i``.

    The returned value is ``-sum_k Y_ik log p_ik`` as the rows of ``Y`` sum
    to one. The row maximum is subtracted first, so that ``exp`` never
    overflows and the row sums are at least 1. One ``exp`` pass, no temporary
    of the size of ``Z``.
    """
    # NumPy reduces along rows of a few elements slowly (about 3 ns per
    # element); along the columns of the transposed copy it is 5x faster.
    Z -= np.ascontiguousarray(Z.T).max(axis=0)[:, None]
    per_row = -np.einsum("ij,ij->i", Y, Z)
    np.exp(Z, out=Z)
    row_sums = Z @ np.ones(Z.shape[1], Z.dtype)
    Z /= row_sums[:, None]
    per_row += np.log(row_sums)
    return per_row


class ScaledLoss(LinearLoss):
    """:class:`LinearLoss` on the coefficients of standardised features.

    The packed ``coef`` holds the coefficients of the model on the features
    ``(X - mean) / scale``: ``W' = W * scale`` (columnwise) and
    ``b' = b + W @ mean``. ``X - mean`` is never formed (sparse ``X`` stays
    sparse). The loss, the objective (penalty on the raw ``W``) and the
    decision values are those of the raw coefficients :meth:`raw` returns: an
    exact change of variables, so the optimum is the same. What changes is
    the size of the coefficients an optimiser sees, about 1 whatever the
    units and offsets of ``X``: the size at which Adam's steps of about
    ``learning_rate`` are meaningful.

    Parameters
    ----------
    kind, fit_intercept
        As in :class:`LinearLoss`.
    scale : ndarray of shape (n_features,)
        Positive feature scales.
    mean : ndarray of shape (n_features,), optional
        Feature means (zeros by default); nonzero only with an intercept,
        which absorbs the shift.
    fixed_intercept : bool, default=False
        Report a zero gradient for ``b'``, so that Adam leaves it where it
        is (for the squared loss on centred features and targets its optimum
        is 0).

    Examples
    --------
    >>> import numpy as np
    >>> from skadam._loss import LinearLoss, ScaledLoss
    >>> X = np.array([[100.0, 1.0], [300.0, 0.0], [200.0, 1.0]])
    >>> Y = np.array([[1.0], [0.0], [1.0]])
    >>> mean, scale = np.array([200.0, 0.0]), np.array([100.0, 1.0])
    >>> loss = ScaledLoss("squared", True, scale, mean)
    >>> coef = np.array([[0.5, -1.0, 2.0]])
    >>> loss.raw(coef).tolist()
    [[0.005, -1.0, 1.0]]
    >>> value = loss.objective(coef, X, Y, None, alpha=0.1)[0]
    >>> raw_value = LinearLoss("squared").objective(loss.raw(coef), X, Y, None, 0.1)[0]
    >>> bool(np.isclose(value, raw_value))
    True
    """

    def __init__(self, kind, fit_intercept, scale, mean=None, fixed_intercept=False):
        super().__init__(kind, fit_intercept)
        self.scale = scale
        self.mean = np.zeros_like(scale) if mean is None else mean
        self.fixed_intercept = fixed_intercept

    def raw(self, coef):
        """Return the coefficients for the raw features, packed like ``coef``."""
        raw = coef.copy()
        W, b = self.split(raw)
        W /= self.scale
        if b is not None:
            b -= W @ self.mean
        return raw

    def decision_function(self, coef, X):
        """Return the decision values ``Z = X @ W.T + b`` of the raw model."""
        return super().decision_function(self.raw(coef), X)

    def weighted_sums(self, coef, X, Y, sample_weight=None, out=None):
        """As :meth:`LinearLoss.weighted_sums`; the gradient is in ``coef``'s terms."""
        loss_sum, grad = super().weighted_sums(coef, X, Y, sample_weight, out=out)
        gW, gb = self.split(grad)  # chain rule through W' / scale, b' - W @ mean
        if gb is not None:
            gW -= np.outer(gb, self.mean)
            if self.fixed_intercept:
                gb[...] = 0
        gW /= self.scale
        return loss_sum, grad

    def penalise_gradient(self, coef, grad, alpha, weight_sum):
        """As :meth:`LinearLoss.penalise_gradient`; the penalty is on the raw ``W``."""
        grad /= weight_sum
        if alpha:
            self.split(grad)[0][...] += alpha * self.split(coef)[0] / self.scale**2

    def penalty(self, coef, alpha):
        """Return ``(alpha / 2) * ||W||_F^2`` of the raw ``W``."""
        return super().penalty(self.raw(coef), alpha)
