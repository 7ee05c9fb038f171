"""The objective of a linear model over data kept on a Dask cluster.

:class:`DaskLinearObjective` is the loss and gradient of
:class:`skadam._linear_loss.LinearModelLoss` (the estimators' objective),
summed over row blocks that stay on the workers: one round trip per call,
for ``scipy.optimize.minimize(objective, x0, method=adam_minimize,
jac=True)``.  :func:`loss_sums` and :func:`block_weight_sum` are the
reductions it runs; :func:`skadam.dask.fit_full_batch` runs them too.
"""

import dask
import dask.array as da
import numpy as np
from distributed import default_client
from sklearn.preprocessing import label_binarize

from .._linear_loss import LinearModelLoss
from .._linear_model import check_classes
from .._losses import HalfBinomialLoss, HalfMultinomialLoss, HalfSquaredError
from .._penalties import L2Penalty
from ._blocks import WorkerBlocks, aligned_arrays, row_blocks

__all__ = ["DaskLinearObjective", "block_weight_sum", "loss_sums"]

_LOSSES = ("squared", "binary_logistic", "multinomial")
_BASE_LOSSES = dict(
    zip(_LOSSES, (HalfSquaredError, HalfBinomialLoss, HalfMultinomialLoss), strict=True)
)


class DaskLinearObjective:
    """Loss and gradient of a linear model over data kept on a Dask cluster.

    The rows of ``X``, the encoded targets and the sample weights are computed
    once and kept in the workers' memory, one piece per row block.  Each call
    sends ``coef`` to the workers, runs one task per worker that adds up
    :meth:`skadam._linear_loss.LinearModelLoss.sums` over the blocks that worker
    holds, and gathers the sums: one round trip per call, whatever the number
    of blocks, and no data moved but ``coef`` and the sums.  The sums are
    then normalised and penalised on the client, giving the estimators'
    objective::

        f(coef) = (1 / sum(s)) * sum_i s_i * L_i  +  (alpha / 2) * ||W||_F^2

    with the intercept (last column of ``coef``) not penalised.

    Parameters
    ----------
    X : dask.array.Array or dask.dataframe.DataFrame of shape (n_samples, n_features)
        Chunked along the rows only.  In-memory arrays are accepted and sent
        to the cluster as one block.
    y : dask.array.Array or dask.dataframe.Series
        Real targets of shape ``(n_samples,)`` or ``(n_samples, n_outputs)``
        for ``loss="squared"``; class labels of shape ``(n_samples,)`` for
        the logistic losses.
    loss : {"squared", "binary_logistic", "multinomial"}, default="squared"
        The per-sample loss, as in :mod:`skadam._linear_loss`.
    alpha : float, default=0.0
        L2 penalty on the weights.
    fit_intercept : bool, default=True
        Whether ``coef`` ends with an (unpenalised) intercept column.
    sample_weight : dask.array.Array of shape (n_samples,), default=None
        Non-negative weights ``s``; None means all ones.
    classes : array-like, default=None
        The class labels (logistic losses only), validated as the
        classifier's ``partial_fit`` validates them (1-D, finite labels; a
        ``ValueError`` names ``classes``), sorted, each once.  For
        ``"binary_logistic"`` the second class is the positive one.  None
        computes them from ``y`` (one pass over the data).
    client : distributed.Client, default=None
        The client to run on; None uses the default client.

    Attributes
    ----------
    coef_shape : tuple of int
        Shape ``(n_outputs, n_features + fit_intercept)`` of the packed
        coefficients; ``__call__`` takes them flattened.
    classes : ndarray or None
        The class labels (logistic losses), else None.
    dtype : numpy.dtype
        The floating dtype of ``X`` on the workers (float32 is kept,
        anything else becomes float64).
    weight_sum : float
        ``sum(s)`` over all rows.
    n_blocks : int
        Number of row blocks kept on the workers.

    See Also
    --------
    fit_full_batch : Fit an estimator with this objective.
    skadam.adam_minimize : The minimizer to run on it.

    Notes
    -----
    ``X`` and ``y`` are computed when the objective is created, and the
    blocks stay in the workers' memory until :meth:`close` is called (or the
    ``with`` block ends), so the cluster must hold the data.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> from distributed import Client, LocalCluster
    >>> from scipy.optimize import minimize
    >>> from skadam import adam_minimize
    >>> from skadam.dask import DaskLinearObjective
    >>> cluster = LocalCluster(n_workers=1, processes=False,
    ...                        dashboard_address="127.0.0.1:0",
    ...                        worker_dashboard_address="127.0.0.1:0")
    >>> client = Client(cluster)
    >>> X = da.from_array(np.arange(20.0).reshape(10, 2) / 10, chunks=(5, 2))
    >>> y = X @ da.from_array(np.array([1.0, -1.0])) + 0.5
    >>> with DaskLinearObjective(X, y, loss="squared") as objective:
    ...     result = minimize(objective, np.zeros(3), method=adam_minimize,
    ...                       jac=True, options={"learning_rate": 0.1,
    ...                                          "maxiter": 3000})
    >>> objective.coef_shape
    (1, 3)
    >>> bool(result.fun < 1e-4)
    True
    >>> client.close(); cluster.close()
    """

    def __init__(
        self,
        X,
        y,
        *,
        loss="squared",
        alpha=0.0,
        fit_intercept=True,
        sample_weight=None,
        classes=None,
        client=None,
    ):
        if loss not in _LOSSES:
            raise ValueError(f"loss must be one of {_LOSSES}, got {loss!r}.")
        self.client = default_client() if client is None else client
        self.alpha = float(alpha)
        self.loss = LinearModelLoss(
            _BASE_LOSSES[loss](), L2Penalty(alpha), fit_intercept
        )
        X, y, sample_weight = aligned_arrays(X, y, sample_weight)
        if loss == "squared":
            self.classes = None
            n_outputs = 1 if y.ndim == 1 else y.shape[1]
        else:
            self.classes = _check_classes(loss, y, classes)
            n_outputs = 1 if loss == "binary_logistic" else len(self.classes)
        self.coef_shape = self.loss.coef_shape(n_outputs, X.shape[1])
        self.dtype = _float_dtype(X.dtype)
        # Keys of their own, so that closing one objective never cancels the
        # blocks of another one made from the same data.
        prepare = dask.delayed(_prepare_block, pure=False)
        self._blocks = WorkerBlocks(
            [
                prepare(*block, loss, self.classes)
                for block in row_blocks(X, y, sample_weight)
            ],
            self.client,
        )
        self.n_blocks = len(self._blocks)
        self.weight_sum = sum(self._blocks.reduce(block_weight_sum))
        if not self.weight_sum > 0:
            self.close()
            raise ValueError(
                f"The sample weights sum to {self.weight_sum}; it must be > 0."
            )

    def __call__(self, coef):
        """Return the objective and its gradient, both at ``coef``.

        Parameters
        ----------
        coef : array-like of shape (n_outputs * (n_features + fit_intercept),)
            Packed coefficients, flattened (any shape with that many
            elements works; ``coef_shape`` is the 2-D layout).

        Returns
        -------
        value : float
        grad : ndarray of shape (coef.size,)
        """
        coef = np.asarray(coef, dtype=np.float64).reshape(self.coef_shape)
        parts = self._blocks.reduce(loss_sums, self.loss, coef)
        loss_sum = sum(part[0] for part in parts)
        grad = np.sum([part[1] for part in parts], axis=0)
        value, grad = self.loss.objective_from_sums(
            coef, loss_sum, grad, self.weight_sum
        )
        return value, grad.ravel()

    def close(self):
        """Release the blocks kept on the workers."""
        self._blocks.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def _check_classes(loss, y, classes):
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D for loss={loss!r}, got shape {y.shape}.")
    if classes is None:
        classes = da.unique(y).compute()
    else:
        classes = check_classes(classes)  # finite, 1-D labels, each once
    if loss == "binary_logistic" and len(classes) != 2:
        raise ValueError(f"binary_logistic needs 2 classes, got {classes!r}.")
    if loss == "multinomial" and len(classes) < 2:
        raise ValueError(f"multinomial needs at least 2 classes, got {classes!r}.")
    return classes


def _float_dtype(dtype):
    # As the estimators: float32 stays float32, anything else becomes float64.
    return np.dtype(dtype) if dtype in (np.float32, np.float64) else np.float64


def _prepare_block(X, y, sample_weight, loss, classes):
    """Validate one row block and encode its targets (runs on a worker)."""
    X = np.asarray(X)
    dtype = _float_dtype(X.dtype)
    X = X.astype(dtype, copy=False)
    if loss == "squared":
        Y = np.asarray(y, dtype=dtype).reshape(len(y), -1)
    else:
        unknown = np.setdiff1d(np.asarray(y), classes)
        if unknown.size:
            raise ValueError(f"y has labels {unknown!r} not in classes {classes!r}.")
        Y = label_binarize(y, classes=classes).astype(dtype)
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=dtype)
    for name, arr in (("X", X), ("y", Y), ("sample_weight", sample_weight)):
        if arr is not None and not np.isfinite(arr).all():
            raise ValueError(f"{name} contains NaN or infinity.")
    if sample_weight is not None and (sample_weight < 0).any():
        raise ValueError("sample_weight must be non-negative.")
    return X, Y, sample_weight


def block_weight_sum(blocks):
    """Sum of the weights of ``[(X, Y, s), ...]`` (None: ones), in float64."""
    return sum(
        float(X.shape[0] if s is None else np.sum(s, dtype=np.float64))
        for X, _, s in blocks
    )


def loss_sums(loss, coef, blocks):
    """:meth:`LinearModelLoss.sums` added up over ``[(X, Y, s), ...]``."""
    loss_sum, grad_sum = 0.0, np.zeros(coef.shape)
    for X, Y, sample_weight in blocks:
        # In X's precision, as the estimators: float64 coefficients would make
        # NumPy copy a float32 block to float64 at every step.
        value, grad = loss.sums(coef.astype(X.dtype), X, Y, sample_weight)
        loss_sum += value
        grad_sum += grad
    return loss_sum, grad_sum
