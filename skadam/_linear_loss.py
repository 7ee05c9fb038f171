"""Loss and gradient of a penalised linear model on packed coefficients.

After scikit-learn's ``sklearn/linear_model/_linear_loss.py``: the
coefficients of a model with ``K`` outputs and ``d`` features are packed in
one array ``coef`` of shape ``(K, d + fit_intercept)``, the weights
``W = coef[:, :d]`` and, with ``fit_intercept``, the intercept
``b = coef[:, -1]`` in the last column.  The raw predictions are
``Z = X @ W.T + b``, shape ``(n, K)``.  The objective is::

    f(coef) = (1 / sum(s)) * sum_i s_i * L(y_i, Z_i)  +  P(W)

with ``s`` the sample weights (ones when not given), ``L`` a per-sample loss
of :mod:`skadam._losses` and ``P`` a penalty of :mod:`skadam._penalties`
(the intercept is never penalised).

:meth:`LinearModelLoss.sums` gives the unnormalised, unpenalised sums
``sum_i s_i L_i`` and their gradient over the rows it is given: sums over
row chunks (or over the blocks of a Dask array) add up to the sums over all
rows, and :meth:`LinearModelLoss.objective_from_sums` turns them into ``f``
and its gradient.  :meth:`~LinearModelLoss.loss`,
:meth:`~LinearModelLoss.loss_gradient` and :meth:`~LinearModelLoss.gradient`
are ``f`` itself, with scikit-learn's names.
"""

import numpy as np

__all__ = ["LinearModelLoss"]


class LinearModelLoss:
    """A per-sample loss and a penalty, for a linear model on packed coef.

    Parameters
    ----------
    base_loss : skadam._losses.BaseLoss
        The per-sample loss ``L``.
    penalty : skadam._penalties.L2Penalty
        The penalty ``P`` on ``W``.
    fit_intercept : bool, default=True
        Whether the last column of ``coef`` is an unpenalised intercept.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam._linear_loss import LinearModelLoss
    >>> from skadam._losses import HalfBinomialLoss
    >>> from skadam._penalties import L2Penalty
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    >>> Y = np.array([[1.0], [0.0], [1.0]])
    >>> loss = LinearModelLoss(HalfBinomialLoss(), L2Penalty(0.0))
    >>> value, grad = loss.loss_gradient(np.zeros((1, 3)), X, Y)
    >>> round(value, 6), grad.round(3).tolist()
    (0.693147, [[0.0, -0.333, -0.167]])
    """

    def __init__(self, base_loss, penalty, fit_intercept=True):
        self.base_loss = base_loss
        self.penalty = penalty
        self.fit_intercept = bool(fit_intercept)

    def __repr__(self):
        return (
            f"LinearModelLoss({self.base_loss!r}, {self.penalty!r}, "
            f"fit_intercept={self.fit_intercept})"
        )

    def coef_shape(self, n_outputs, n_features):
        """Shape of the packed ``coef``: ``(n_outputs, n_features + fit_intercept)``."""
        return (n_outputs, n_features + int(self.fit_intercept))

    def weight_intercept(self, coef):
        """Return the views ``(W, b)`` of ``coef``; ``b`` is None without intercept."""
        if self.fit_intercept:
            return coef[:, :-1], coef[:, -1]
        return coef, None

    def raw_prediction(self, coef, X):
        """Return ``Z = X @ W.T + b``, shape ``(n, K)``, in ``X``'s dtype."""
        W, b = self.weight_intercept(coef)
        Z = np.asarray(X @ W.T)
        if b is not None:
            Z += b
        return Z

    def sums(self, coef, X, y, sample_weight=None, gradient_out=None):
        """Weighted loss sum and its gradient over the given rows (no penalty).

        Parameters
        ----------
        coef : ndarray of shape (K, d + fit_intercept)
            Packed coefficients, in ``X``'s dtype.
        X : {ndarray, sparse matrix} of shape (n, d)
            Dense, CSR or CSC.
        y : ndarray of shape (n, K)
            Encoded targets.
        sample_weight : ndarray of shape (n,) or None
            Weights ``s``; None means all ones.
        gradient_out : ndarray of shape coef.shape, optional
            Receives the gradient (saves an allocation per step).

        Returns
        -------
        loss_sum : float
            ``sum_i s_i L(y_i, Z_i)``.
        grad_sum : ndarray of shape coef.shape
            Its gradient in ``coef`` (``gradient_out`` when given).
        """
        Z = self.raw_prediction(coef, X)
        loss_sum, R = self.base_loss.loss_gradient(y, Z, sample_weight, in_place=True)
        grad = np.empty_like(coef) if gradient_out is None else gradient_out
        gW, gb = self.weight_intercept(grad)
        # For dense X, BLAS runs X.T @ R (a few columns) 1.5x faster than R.T @ X.
        gW[...] = (X.T @ R).T
        if gb is not None:  # as a product: R.sum(axis=0) is slow on short rows
            gb[...] = np.ones(len(R), R.dtype) @ R
        return loss_sum, grad

    def objective_from_sums(self, coef, loss_sum, grad_sum, weight_sum):
        """Turn :meth:`sums` (over all rows) into ``f`` and its gradient.

        ``grad_sum`` is overwritten with the gradient of ``f``: divided by
        ``weight_sum``, plus the gradient of the penalty's smooth part.

        Returns
        -------
        value : float
        grad : ndarray (``grad_sum``)
        """
        self.gradient_from_sums(coef, grad_sum, weight_sum)
        W, _ = self.weight_intercept(coef)
        return loss_sum / weight_sum + self.penalty.value(W), grad_sum

    def gradient_from_sums(self, coef, grad_sum, weight_sum):
        """The gradient part of :meth:`objective_from_sums` alone, in place.

        A training step needs no objective value: this spares it the
        penalty's value, a pass over the coefficients.

        Returns
        -------
        grad : ndarray (``grad_sum``)
        """
        grad_sum /= weight_sum
        W, _ = self.weight_intercept(coef)
        self.penalty.add_gradient(W, self.weight_intercept(grad_sum)[0])
        return grad_sum

    def loss_gradient(self, coef, X, y, sample_weight=None):
        """Return ``f(coef)`` and its gradient over the rows of ``X``."""
        loss_sum, grad = self.sums(coef, X, y, sample_weight)
        return self.objective_from_sums(
            coef, loss_sum, grad, _weight_sum(X, sample_weight)
        )

    def loss(self, coef, X, y, sample_weight=None):
        """Return ``f(coef)`` over the rows of ``X`` (a float)."""
        Z = self.raw_prediction(coef, X)
        loss_sum = self.base_loss.loss_gradient(y, Z, sample_weight, in_place=True)[0]
        W, _ = self.weight_intercept(coef)
        return loss_sum / _weight_sum(X, sample_weight) + self.penalty.value(W)

    def gradient(self, coef, X, y, sample_weight=None):
        """Return the gradient of ``f`` at ``coef``, shaped like ``coef``."""
        return self.loss_gradient(coef, X, y, sample_weight)[1]


def _weight_sum(X, sample_weight):
    if sample_weight is None:
        return float(X.shape[0])
    return float(np.sum(sample_weight, dtype=np.float64))
