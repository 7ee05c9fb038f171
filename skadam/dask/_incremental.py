"""Block-wise training on Dask collections: dask-ml's wrapper, checked and fixed."""

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
from dask_ml.metrics.scorer import check_scoring
from dask_ml.wrappers import Incremental as _DaskMLIncremental
from dask_ml.wrappers import copy_learned_attributes
from sklearn.base import is_regressor
from sklearn.utils import check_random_state

from ._blocks import as_dask_array, check_row_chunks

__all__ = ["Incremental"]


class Incremental(_DaskMLIncremental):
    """:class:`dask_ml.wrappers.Incremental`, checked and fixed for skadam's uses.

    Same parameters, methods and behaviour as dask-ml's wrapper: ``fit`` makes
    one pass over the blocks of a Dask array or DataFrame, calling the
    wrapped estimator's ``partial_fit`` on one block at a time on the
    workers; ``partial_fit`` continues from the current state, so a loop of
    ``partial_fit`` calls makes several epochs.  The differences:

    - ``fit`` and ``partial_fit`` first call :func:`check_row_chunks`, so that
      an ``X`` chunked along its columns raises a ``ValueError`` instead of
      training on its first column block only;
    - Dask DataFrames and Series are optimised (``.optimize()``) before
      dask-ml builds its graph, which otherwise fails on DataFrames whose
      partitions are not stored under their own name (after
      ``repartition``, for example);
    - 2-D targets (multi-output regression) work: dask-ml would pass
      ``partial_fit`` a block key instead of a block;
    - ``predict`` on a Dask array gives 2-D predictions for multi-output
      targets;
    - ``score`` of a regressor computes R² itself: dask-ml's R² fails on
      Dask arrays.

    Parameters
    ----------
    estimator : estimator object
        The estimator to train block by block; it must have ``partial_fit``
        (both skadam estimators do, keeping their Adam state across calls).
    scoring : str or callable, default=None
        Scorer used by ``score``; None means the estimator's own ``score``
        (R², computed with Dask here, for a regressor).
    shuffle_blocks : bool, default=True
        Visit the blocks in a random order on each pass (``False``: in order).
        The rows inside a block are not shuffled by this.
    random_state : int, RandomState instance or None, default=None
        Seeds the order of the blocks when ``shuffle_blocks`` is true.
    assume_equal_chunks : bool, default=True
        Passed on to dask-ml's block-wise ``fit``, which accepts it and, in
        the dask-ml releases supported, does not use it.
    predict_meta, predict_proba_meta, transform_meta : array-like, default=None
        Empty arrays or pandas objects of the type that ``predict``,
        ``predict_proba`` and ``transform`` return, which Dask needs for
        some outputs; None lets dask-ml infer them.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> from skadam import AdamLinearRegressor
    >>> from skadam.dask import Incremental
    >>> rng = np.random.default_rng(0)
    >>> X = da.from_array(rng.normal(size=(400, 3)), chunks=(100, 3))
    >>> y = X @ da.from_array(np.array([1.0, 2.0, 3.0]))
    >>> estimator = AdamLinearRegressor(batch_size=32, random_state=0)
    >>> model = Incremental(estimator, shuffle_blocks=False)
    >>> for epoch in range(5):
    ...     model = model.partial_fit(X, y)
    >>> model.estimator_.t_  # 5 epochs x 4 blocks x 4 minibatches
    80
    >>> round(model.score(X, y), 2)
    0.95
    >>> model.fit(X.rechunk({1: 2}), y)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: X is chunked along its columns (column chunks (2, 1)): ...
    """

    def fit(self, X, y=None, sample_weight=None, **fit_params):
        """One epoch over the blocks, from a fresh clone of ``estimator``.

        Parameters
        ----------
        X : dask.array.Array or dask.dataframe.DataFrame, shape (n_samples, n_features)
            Training data, chunked along the rows only.
        y : dask.array.Array, dask.dataframe.Series or DataFrame
            Targets, with the same row blocks as ``X``.
        sample_weight : ndarray, dask.array.Array or dask.dataframe.Series \
                of shape (n_samples,), default=None
            Weights of the rows of ``X``, split along its row blocks: the
            ``partial_fit`` call on a block gets the weights of that block's
            rows (dask-ml's wrapper would pass all of them to every block,
            dask-ml#262).
        **fit_params
            Passed to every ``partial_fit`` call, such as ``classes``.

        Returns
        -------
        self : object
            The wrapper; the fitted estimator is ``estimator_``.

        Raises
        ------
        ValueError
            If ``X`` is chunked along its columns, or if ``sample_weight``
            does not have one value per row of ``X`` (the message names both
            lengths).
        """
        check_row_chunks(X, y)
        if sample_weight is not None:
            fit_params["sample_weight"] = sample_weight
        return super().fit(_lowered(X), _lowered_target(y), **fit_params)

    def partial_fit(self, X, y=None, sample_weight=None, **fit_params):
        """One more epoch over the blocks, continuing from ``estimator_``.

        Same parameters, splitting of the weights and errors as :meth:`fit`;
        the epoch starts from ``estimator_`` (a clone of ``estimator`` on the
        first call) instead of a fresh clone.

        Parameters
        ----------
        X : dask.array.Array or dask.dataframe.DataFrame
            Training data, ``(n_samples, n_features)``, in row blocks.
        y : dask.array.Array, dask.dataframe.Series or DataFrame
            Targets or labels, in the row blocks of ``X``.
        sample_weight : array-like or Dask collection, default=None
            One weight per row of ``X``, shape ``(n_samples,)``; each block's
            ``partial_fit`` gets its own rows' weights.
        **fit_params
            Given to the estimator's ``partial_fit`` on every block
            (``classes``, for example).

        Returns
        -------
        self : object
            The wrapper, with the updated estimator in ``estimator_``.
        """
        check_row_chunks(X, y)
        if sample_weight is not None:
            fit_params["sample_weight"] = sample_weight
        return super().partial_fit(_lowered(X), _lowered_target(y), **fit_params)

    def _fit_for_estimator(self, estimator, X, y, **fit_kwargs):
        """dask-ml's block loop, or ours when weights must follow the blocks."""
        lazy = dask.is_dask_collection(X) or dask.is_dask_collection(y)
        if "sample_weight" not in fit_kwargs or not lazy:
            return super()._fit_for_estimator(estimator, X, y, **fit_kwargs)
        check_scoring(estimator, self.scoring)
        weights = _weight_blocks(fit_kwargs.pop("sample_weight"), X)
        order = list(range(len(weights)))
        if self.shuffle_blocks:  # the order dask-ml's loop would take
            check_random_state(self.random_state).shuffle(order)
        step = dask.delayed(_partial_fit_block, pure=False)
        x_blocks, y_blocks = _blocks_of(X), _blocks_of(y)
        if len(y_blocks) != len(x_blocks):  # dask-ml's loop asserts this too
            raise ValueError(
                f"X has {len(x_blocks)} row blocks but y has {len(y_blocks)}: "
                "give y the row chunks of X."
            )
        for i in order:
            estimator = step(
                estimator, x_blocks[i], y_blocks[i], weights[i], fit_kwargs
            )
        result = estimator.compute()
        copy_learned_attributes(result, self)
        self.estimator_ = result
        return self

    def predict(self, X):
        """Predict for ``X``, lazily for Dask inputs.

        As :meth:`dask_ml.wrappers.Incremental.predict`, and a Dask array
        ``X`` also gives 2-D predictions (multi-output regression), which
        dask-ml's wrapper would force into one column.

        Parameters
        ----------
        X : dask.array.Array, dask.dataframe.DataFrame or array-like
            Samples.

        Returns
        -------
        y : dask.array.Array, Dask collection or ndarray
            Predictions, shaped like the training targets.
        """
        X = _lowered(X)
        if isinstance(X, da.Array):
            X, estimator = self._check_array(X), self._postfit_estimator
            meta = estimator.predict(np.zeros((1, X.shape[1]), X.dtype))
            if meta.ndim == 2:
                chunks = (X.chunks[0], (meta.shape[1],))
                return X.map_blocks(
                    _predict_block, estimator, chunks=chunks, dtype=meta.dtype
                )
        return super().predict(X)

    def score(self, X, y, compute=True):
        """Score on ``X`` and ``y``; R² for a regressor, computed by Dask.

        For a regressor with ``scoring`` None or ``"r2"`` and Dask inputs, the
        coefficient of determination (averaged uniformly over outputs, as
        :func:`sklearn.metrics.r2_score`) is computed here with Dask
        reductions: dask-ml's own R² fails on Dask arrays.  Otherwise, as
        :meth:`dask_ml.wrappers.Incremental.score`.

        Parameters
        ----------
        X : dask.array.Array or dask.dataframe.DataFrame
            Samples.
        y : dask.array.Array or dask.dataframe.Series
            True targets or labels.
        compute : bool, default=True
            Whether to compute the score, or return it lazily.

        Returns
        -------
        score : float or dask.delayed.Delayed
            The score; a lazy value when ``compute=False``.
        """
        X, y = _lowered(X), _lowered(y)
        lazy = dask.is_dask_collection(X) or dask.is_dask_collection(y)
        if lazy and self.scoring in (None, "r2") and is_regressor(self.estimator):
            return _r2_score(y, self.predict(X), compute)
        return super().score(X, y, compute=compute)


def _predict_block(X, estimator):
    return estimator.predict(X)


def _lowered_target(y):
    """``y`` as :func:`_lowered`; a 2-D Dask array becomes a DataFrame.

    dask-ml addresses the blocks of ``y`` as ``(name, i)``, the key of a 1-D
    block or of a partition: the blocks of a 2-D array (multi-output
    targets) are ``(name, i, 0)``, and ``partial_fit`` would receive the key.
    """
    if isinstance(y, da.Array) and y.ndim == 2:
        y = dd.from_dask_array(y)
    return _lowered(y)


def _lowered(data):
    """A Dask DataFrame whose partitions are stored under its own name.

    dask-ml builds its training graph from keys ``(X._name, i)``.  The
    partitions of a DataFrame expression that is not lowered yet (after
    ``repartition``, for example) are stored under other names, and
    ``partial_fit`` would receive the key itself instead of the data.
    """
    if isinstance(data, (dd.DataFrame, dd.Series)):
        return data.optimize()
    return data


def _r2_score(y_true, y_pred, compute):
    """R² of each output, averaged, in one pass over the blocks.

    Each block gives its size, mean, sum of squared deviations and sum of
    squared residuals; the blocks are merged as in Chan, Golub & LeVeque's
    parallel variance, which keeps the total sum of squares accurate.
    Predictions on a DataFrame come with unknown block sizes, so this works
    block by block instead of with Dask array arithmetic.
    """
    pairs = zip(_blocks_of(y_true), _blocks_of(y_pred), strict=True)
    sums = [dask.delayed(_r2_block_sums)(t, p) for t, p in pairs]
    score = dask.delayed(_r2_from_sums)(sums)
    return score.compute() if compute else score


def _blocks_of(data):
    blocks = data.to_delayed()
    return list(blocks.ravel()) if isinstance(blocks, np.ndarray) else blocks


def _r2_block_sums(y_true, y_pred):
    y_true = np.asarray(y_true, dtype=np.float64).reshape(len(y_true), -1)
    y_pred = np.asarray(y_pred, dtype=np.float64).reshape(y_true.shape)
    mean = y_true.mean(axis=0) if len(y_true) else np.zeros(y_true.shape[1])
    deviations = ((y_true - mean) ** 2).sum(axis=0)
    return len(y_true), mean, deviations, ((y_true - y_pred) ** 2).sum(axis=0)


def _r2_from_sums(sums):
    n, mean, total, residual = 0, 0.0, 0.0, 0.0
    for n_b, mean_b, total_b, residual_b in sums:
        if n_b:
            delta = mean_b - mean
            total = total + total_b + delta**2 * n * n_b / (n + n_b)
            mean = mean + delta * n_b / (n + n_b)
            n, residual = n + n_b, residual + residual_b
    # As scikit-learn: a constant target scores 1 if predicted exactly, else 0.
    safe = np.where(total > 0, total, 1.0)
    exact = np.where(residual == 0, 1.0, 0.0)
    return float(np.mean(np.where(total > 0, 1.0 - residual / safe, exact)))


def _partial_fit_block(estimator, X, y, sample_weight, fit_kwargs):
    estimator.partial_fit(X, y, sample_weight=sample_weight, **fit_kwargs)
    return estimator


def _weight_blocks(sample_weight, X):
    """``sample_weight`` split along the row blocks of ``X``: a list of blocks.

    Raises a ``ValueError`` naming both lengths when ``sample_weight`` does
    not have one value per row of ``X``.
    """
    rows = as_dask_array(X).chunks[0]
    n_rows = sum(rows)
    if dask.is_dask_collection(sample_weight):
        sample_weight = as_dask_array(sample_weight)
    else:
        sample_weight = np.asarray(sample_weight)
    if sample_weight.ndim != 1 or sample_weight.shape[0] != n_rows:
        raise ValueError(
            f"sample_weight has shape {sample_weight.shape}, but X has "
            f"{n_rows} rows: pass one weight per row, shape ({n_rows},)."
        )
    if isinstance(sample_weight, np.ndarray):
        return np.split(sample_weight, np.cumsum(rows)[:-1])
    return list(sample_weight.rechunk({0: rows}).to_delayed().ravel())
