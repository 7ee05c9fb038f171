"""Full-batch fits of the estimators on data kept on a Dask cluster.

:func:`fit_full_batch` is an estimator's own full-batch ``fit``, with the
rows in blocks on the workers: every step that ``fit`` takes over the
in-memory rows is one reduction over the blocks here.  It goes through the
estimators' seam, :meth:`skadam._linear_model._AdamLinearModel._fit_source`,
and calls the estimator's own methods for everything that ``fit`` computes
from the data (validation, labels, weights, target scaling and encoding,
the constant model's loss); what it adds is where each runs and how the
blocks' parts are merged.
"""

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
from distributed import default_client
from sklearn.base import is_classifier, is_regressor

from .._scaling import WeightedMoments
from .._training import FullBatch
from ._blocks import WorkerBlocks, aligned_arrays
from ._objective import block_weight_sum, loss_sums

__all__ = ["fit_full_batch"]


def fit_full_batch(estimator, X, y, sample_weight=None, *, classes=None, client=None):
    """Fit a skadam estimator by full-batch Adam on data kept on a Dask cluster.

    Does what ``estimator.set_params(batch_size=None).fit(X, y,
    sample_weight)`` does in memory, with the rows in row blocks on the
    workers: the same standardisation of the features (and, for the
    regressor, of the targets), the same starting intercept, the same Adam
    steps and stopping rule (``max_iter`` epochs at most, ``tol`` and
    ``n_iter_no_change``), the same warnings, and the same fitted attributes.
    Each epoch is one full-batch step: one round trip to the workers, each
    summing the loss and gradient over the blocks it holds
    (:meth:`skadam._linear_loss.LinearModelLoss.sums`).

    Parameters
    ----------
    estimator : AdamLinearRegressor or AdamLogisticClassifier
        The estimator to fit, in place.  Its ``batch_size`` and ``shuffle``
        are not used (full batch).  With ``warm_start=True`` and a fitted
        estimator, training continues from its state, as ``fit`` does.
    X : dask.array.Array or dask.dataframe.DataFrame of shape (n_samples, n_features)
        Chunked along the rows only.  In-memory arrays are accepted and sent
        to the cluster as one block.
    y : dask.array.Array, dask.dataframe.Series or DataFrame
        Targets of shape ``(n_samples,)`` or ``(n_samples, n_outputs)``
        (regressor) or class labels of shape ``(n_samples,)`` (classifier).
    sample_weight : dask.array.Array or array-like of shape (n_samples,), default=None
        Non-negative weights, not all zero; None means all ones.
    classes : array-like, default=None
        All class labels (classifier): ``classes_`` on a cold start.  None
        takes the labels found in ``y`` (one more pass over ``y``).
    client : distributed.Client, default=None
        The client to run on; None uses the default client.

    Returns
    -------
    estimator : object
        The estimator, fitted: ``coef_``, ``intercept_``, ``n_iter_``
        (epochs, here full-batch steps), ``t_``, ``loss_curve_``,
        ``adam_state_``, ``n_features_in_`` (and ``feature_names_in_`` for a
        DataFrame with string column names), ``classes_`` (classifier) mean
        what they mean after ``fit``.

    Raises
    ------
    ValueError
        On invalid data (as ``fit``, raised from the worker that found it),
        all-zero weights, ``early_stopping=True`` (no validation rows are
        held out from data on a cluster) or ``class_weight="balanced"``
        (pass a dict of class weights instead).

    Warns
    -----
    ConvergenceWarning
        As ``fit``: out of epochs, non-finite objective, or worse than the
        best constant model.

    See Also
    --------
    DaskLinearObjective : The objective alone, for :func:`skadam.adam_minimize`.
    Incremental : Minibatch training, one row block at a time.

    Notes
    -----
    The blocks (validated, targets encoded) stay in the workers' memory for
    the whole fit and are released at the end.  Before training, a few
    reductions compute the largest weight, the moments of the features and
    targets (Chan, Golub & LeVeque's merge of per-block moments) and the
    weighted target mean; then every Adam step costs one round trip.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> from distributed import Client, LocalCluster
    >>> from skadam import AdamLogisticClassifier
    >>> from skadam.dask import fit_full_batch
    >>> cluster = LocalCluster(n_workers=1, processes=False,
    ...                        dashboard_address="127.0.0.1:0",
    ...                        worker_dashboard_address="127.0.0.1:0")
    >>> client = Client(cluster)
    >>> X = da.from_array(np.linspace(-1, 1, 40).reshape(20, 2), chunks=(10, 2))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> clf = AdamLogisticClassifier(learning_rate=0.1, max_iter=200, tol=None)
    >>> clf = fit_full_batch(clf, X, y)
    >>> clf.classes_, clf.coef_.shape, clf.n_iter_
    (array([0, 1]), (1, 2), 200)
    >>> clf.score(X.compute(), y.compute())
    1.0
    >>> client.close(); cluster.close()
    """
    estimator._validate_params()  # as fit's _fit_context
    _check_supported(estimator)
    client = default_client() if client is None else client
    reset = not (estimator.warm_start and hasattr(estimator, "adam_state_"))
    dX, dy, dw = aligned_arrays(X, y, sample_weight)
    dtype = _check_first_rows(estimator, X, dX, dy, classes, reset)
    if not reset:  # a continued fit keeps its coefficients' dtype, as fit
        dtype = estimator.coef_.dtype
    blocks = _validated_blocks(estimator, X, (dX, dy, dw), dtype, client)
    try:
        encoded, statistics = _encoded_blocks(estimator, blocks, dy.ndim, reset)
    finally:
        blocks.close()
    try:
        loss = estimator._linear_loss()

        def reduction(coef):  # one round trip: every worker's blocks at once
            parts = encoded.reduce(loss_sums, loss, coef)
            return sum(p[0] for p in parts), np.sum([p[1] for p in parts], axis=0)

        return estimator._fit_source(
            FullBatch(reduction, statistics["weight_sum"]),
            reset=reset,
            max_epochs=estimator.max_iter,
            dtype=dtype,
            **{k: v for k, v in statistics.items() if k != "weight_sum"},
        )
    finally:
        encoded.close()


def _check_supported(estimator):
    if estimator.early_stopping:
        raise ValueError(
            "fit_full_batch does not support early_stopping=True: it holds no "
            "rows out of data on a cluster; set early_stopping=False."
        )
    if isinstance(getattr(estimator, "class_weight", None), str):
        raise ValueError(
            "fit_full_batch does not support class_weight='balanced', whose "
            "class frequencies each row block would compute alone; pass a "
            "dict, e.g. from sklearn.utils.compute_class_weight."
        )


def _check_first_rows(estimator, X, dX, dy, classes, reset):
    """Validate the first row as ``fit`` does, set the labels; the data's dtype.

    ``n_features_in_`` and ``feature_names_in_`` come from that row (a
    DataFrame's names from its first partition with rows), ``classes_``
    from ``classes`` or all of ``y``.
    """
    if isinstance(X, dd.DataFrame):
        head = X.head(1, npartitions=-1, compute=True)
    else:
        head = dX[:1].compute()
    X_head, y_head = estimator._validate_training_data(
        head, dy[:1].compute(), reset=reset
    )
    labels = y_head
    if is_classifier(estimator):
        labels = np.asarray(classes) if classes is not None else _labels(dy)
    estimator._check_targets(labels, classes, reset=reset, stream=False)
    return X_head.dtype


def _labels(dy):
    return da.unique(dy).compute()


def _validated_blocks(estimator, X, arrays, dtype, client):
    """:func:`_validated_block` of every row block, kept on the workers.

    A DataFrame's blocks are its partitions, so that their column names are
    checked against ``feature_names_in_``.
    """
    dX, dy, dw = arrays
    data = X if isinstance(X, dd.DataFrame) else dX
    x_blocks = _delayed_blocks(data)
    w_blocks = [None] * len(x_blocks) if dw is None else _delayed_blocks(dw)
    validate = dask.delayed(_validated_block, pure=False)
    return WorkerBlocks(
        [
            validate(*block, estimator, dtype)
            for block in zip(x_blocks, _delayed_blocks(dy), w_blocks, strict=True)
        ],
        client,
    )


def _delayed_blocks(data):
    blocks = data.to_delayed()
    return list(blocks.ravel()) if isinstance(blocks, np.ndarray) else list(blocks)


def _encoded_blocks(estimator, blocks, y_ndim, reset):
    """The training blocks and the arguments of ``_fit_source`` they give.

    Three reductions: the largest weight (every block is divided by it, as
    ``fit`` divides all its weights), the moments (features; the
    regressor's targets, which fix its target scaling), then, on the
    encoded blocks, the weighted target mean and the constant model's loss.
    """
    largest = max(blocks.reduce(_largest_weight))
    if not largest > 0:
        raise ValueError("All sample weights times class weights are zero.")
    statistics = {}
    if reset:
        parts = blocks.reduce(_moments, largest, is_regressor(estimator))
        features, targets = _merged(parts)
        statistics["feature_moments"] = features
        if is_regressor(estimator):
            estimator._set_target_scaling(targets, y_ndim == 1)
    encoded = blocks.map(_encoded_block, estimator, largest)
    try:
        parts = encoded.reduce(_target_sums)
        weight_sum = sum(p[0] for p in parts)
        target_mean = np.sum([p[1] for p in parts], axis=0) / weight_sum
        constant = sum(encoded.reduce(_constant_loss_sum, estimator, target_mean))
    except BaseException:
        encoded.close()
        raise
    statistics.update(
        weight_sum=weight_sum,
        target_mean=target_mean,
        constant_loss=constant / weight_sum,
    )
    return encoded, statistics


def _merged(parts):
    """Merge ``[(feature_moments, target_moments), ...]`` into one pair."""
    merged = [None, None]
    for part in parts:
        for k, moments in enumerate(part):
            if moments is not None:
                merged[k] = moments if merged[k] is None else merged[k].merge(moments)
    return merged


# --- what runs on the workers ----------------------------------------------


def _validated_block(X, y, sample_weight, estimator, dtype):
    """One row block validated as ``fit`` validates its data, with its weights.

    The weights are the estimator's, not yet divided by the largest one.
    """
    X, y = estimator._validate_training_data(X, y, reset=False)
    if is_classifier(estimator):  # every label among classes_
        estimator._check_targets(y, None, reset=False, stream=True)
    s = estimator._weights(X, y, sample_weight, block=True)
    return X.astype(dtype, copy=False), y, s


def _largest_weight(blocks):
    return max((float(s.max(initial=0.0)) for _, _, s in blocks), default=0.0)


def _moments(largest, of_targets, blocks):
    """Moments of the features (and targets) over ``blocks``, merged."""
    merged = (None, None)
    for X, y, s in blocks:
        s = s / largest
        if not s.any():  # no weight: no moments (a 0 / 0 mean)
            continue
        part = (
            WeightedMoments.from_array(X, s.astype(X.dtype)),
            WeightedMoments.from_array(
                np.asarray(y, dtype=np.float64).reshape(len(y), -1), s
            )
            if of_targets
            else None,
        )
        merged = _merged([merged, part])
    return merged


def _encoded_block(block, estimator, largest):
    """``(X, Y, s)`` as ``fit`` trains on them: encoded targets, weights in dtype."""
    X, y, s = block
    Y = estimator._encode_targets(y, X.dtype)
    estimator._base_loss().check_y(Y)  # the loss's domain, as fit
    return X, Y, (s / largest).astype(X.dtype)


def _target_sums(blocks):
    """``(sum(s), s @ Y)`` over ``blocks``, in float64."""
    weighted = sum(s.astype(np.float64) @ Y for _, Y, s in blocks)
    return block_weight_sum(blocks), weighted


def _constant_loss_sum(estimator, target_mean, blocks):
    """``sum_i s_i L_i`` of the best constant model over ``blocks``."""
    total = 0.0
    for _, Y, s in blocks:
        weight = float(np.sum(s, dtype=np.float64))
        if weight > 0:  # the estimator's value is a mean over the block
            total += estimator._constant_loss(Y, s, target_mean) * weight
    return total
