"""Run skadam on a Dask cluster (optional; ``pip install ".[dask]"``).

``import skadam`` never imports Dask; importing this module does.  It adds a
few small pieces to what Dask and dask-ml already provide:

- :class:`DaskLinearObjective`: the loss and gradient of a linear model
  (:mod:`skadam._linear_loss`) over data kept on the workers, evaluated as one
  reduction per call, so that
  ``scipy.optimize.minimize(objective, x0, method=adam_minimize, jac=True)``
  takes one round trip to the cluster per Adam step;
  :func:`fit_full_batch` runs that for an estimator and sets its fitted
  attributes.
- :class:`Incremental`: :class:`dask_ml.wrappers.Incremental` that refuses an
  ``X`` chunked along its columns (:func:`check_row_chunks`; dask-ml's own
  wrapper hands each call of ``partial_fit`` only the first column block,
  which trains a model on a subset of the features without any error), and
  that accepts every Dask DataFrame.

Hyperparameter searches (``joblib.parallel_backend("dask")``) need nothing
from skadam: see the "Scaling out" page of the documentation.
"""

import warnings

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
from dask_ml.wrappers import Incremental as _DaskMLIncremental
from distributed import default_client, wait
from scipy.optimize import minimize
from sklearn.base import is_classifier, is_regressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import label_binarize

from ._linear_loss import LinearModelLoss
from ._losses import HalfBinomialLoss, HalfMultinomialLoss, HalfSquaredError
from ._minimize import adam_minimize
from ._penalties import L2Penalty

__all__ = ["DaskLinearObjective", "Incremental", "check_row_chunks", "fit_full_batch"]

_LOSSES = ("squared", "binary_logistic", "multinomial")
_BASE_LOSSES = dict(
    zip(_LOSSES, (HalfSquaredError, HalfBinomialLoss, HalfMultinomialLoss), strict=True)
)


def check_row_chunks(X, y=None):
    """Raise a ``ValueError`` unless ``X`` is chunked along its rows only.

    Parameters
    ----------
    X : dask.array.Array, dask.dataframe.DataFrame or array-like
        The design matrix.  Dask DataFrames are partitioned by rows, and
        in-memory arrays are a single block, so only 2-D Dask arrays are
        checked.
    y : dask.array.Array or array-like, optional
        The targets; a Dask array must not be chunked along its columns
        either.

    Raises
    ------
    ValueError
        If ``X`` or ``y`` has more than one block along axis 1.  The message
        names the column chunks and gives the fix, ``X.rechunk({1: -1})``.

    Examples
    --------
    >>> import dask.array as da
    >>> from skadam.dask import check_row_chunks
    >>> X = da.zeros((100, 6), chunks=(50, 3))
    >>> check_row_chunks(X)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: X is chunked along its columns (column chunks (3, 3)): ...
    >>> check_row_chunks(X.rechunk({1: -1}))
    """
    for name, arr in (("X", X), ("y", y)):
        if isinstance(arr, da.Array) and arr.ndim == 2 and arr.numblocks[1] > 1:
            raise ValueError(
                f"{name} is chunked along its columns (column chunks "
                f"{arr.chunks[1]}): each block must hold all the columns, or "
                f"block-wise training sees only some features. Use "
                f"{name}.rechunk({{1: -1}}) first."
            )


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

    def fit(self, X, y=None, **fit_params):
        """One epoch over the blocks, from a fresh clone of ``estimator``.

        Parameters
        ----------
        X : dask.array.Array or dask.dataframe.DataFrame
            Training data, chunked along the rows only.
        y : dask.array.Array, dask.dataframe.Series or DataFrame
            Targets, with the same row blocks as ``X``.
        **fit_params
            Passed to every ``partial_fit`` call, such as ``classes``.

        Returns
        -------
        self : object
            The wrapper; the fitted estimator is ``estimator_``.
        """
        check_row_chunks(X, y)
        return super().fit(_lowered(X), _lowered_target(y), **fit_params)

    def partial_fit(self, X, y=None, **fit_params):
        """One more epoch over the blocks, continuing from ``estimator_``.

        Parameters
        ----------
        X : dask.array.Array or dask.dataframe.DataFrame
            Training data, chunked along the rows only.
        y : dask.array.Array, dask.dataframe.Series or DataFrame
            Targets, with the same row blocks as ``X``.
        **fit_params
            Passed to every ``partial_fit`` call, such as ``classes``.

        Returns
        -------
        self : object
            The wrapper; the fitted estimator is ``estimator_``.
        """
        check_row_chunks(X, y)
        X, y = _lowered(X), _lowered_target(y)
        return super().partial_fit(X, y, **fit_params)

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
        The class labels, sorted (logistic losses only).  For
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
        X, y, sample_weight = _aligned_arrays(X, y, sample_weight)
        if loss == "squared":
            self.classes = None
            n_outputs = 1 if y.ndim == 1 else y.shape[1]
        else:
            self.classes = _check_classes(loss, y, classes)
            n_outputs = 1 if loss == "binary_logistic" else len(self.classes)
        self.coef_shape = self.loss.coef_shape(n_outputs, X.shape[1])
        self.dtype = _float_dtype(X.dtype)
        self._blocks = self.client.compute(
            _prepared_blocks(X, y, sample_weight, loss, self.classes)
        )
        self.n_blocks = len(self._blocks)
        wait(self._blocks)
        for block in self._blocks:
            if block.status == "error":
                block.result()  # raises the worker's error, e.g. NaN in X
        self._groups = _blocks_by_worker(self.client, self._blocks)
        self.weight_sum = sum(self._reduce(_weight))
        if not self.weight_sum > 0:
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
        parts = self._reduce(_loss_sums, self.loss, coef)
        loss_sum = sum(part[0] for part in parts)
        grad = np.sum([part[1] for part in parts], axis=0)
        value, grad = self.loss.objective_from_sums(
            coef, loss_sum, grad, self.weight_sum
        )
        return value, grad.ravel()

    def _reduce(self, func, *args):
        """``func(*args, blocks)`` on every worker's blocks, gathered.

        One task per worker, placed where its blocks are, so that a call costs
        one round trip and moves no data but ``args`` and the results.
        """
        return self.client.gather(
            [
                self.client.submit(
                    func,
                    *args,
                    blocks,
                    workers=[worker],
                    allow_other_workers=True,
                    pure=False,
                )
                for worker, blocks in self._groups
            ]
        )

    def close(self):
        """Release the blocks kept on the workers."""
        self.client.cancel(self._blocks)
        self._blocks, self._groups = [], []

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def fit_full_batch(
    estimator, X, y, sample_weight=None, *, classes=None, client=None, **options
):
    """Fit a skadam estimator by full-batch Adam on data kept on a Dask cluster.

    Minimises the estimator's objective (its ``alpha`` and ``fit_intercept``)
    over all of ``X`` at every step, with :func:`skadam.adam_minimize` on a
    :class:`DaskLinearObjective`: one round trip to the cluster per step.
    Adam's hyperparameters (``learning_rate``, ``beta_1``, ``beta_2``,
    ``epsilon``, ``amsgrad``) come from the estimator, ``maxiter`` from its
    ``max_iter`` and ``gtol`` from its ``tol``; ``options`` override them
    (any option of :func:`skadam.adam_minimize`).

    Parameters
    ----------
    estimator : AdamLinearRegressor or AdamLogisticClassifier
        The estimator to fit, in place.  Its ``class_weight`` must be None
        (pass ``sample_weight`` instead).
    X : dask.array.Array or dask.dataframe.DataFrame of shape (n_samples, n_features)
        Chunked along the rows only.
    y : dask.array.Array or dask.dataframe.Series
        Targets (regressor) or class labels (classifier).
    sample_weight : dask.array.Array of shape (n_samples,), default=None
        Non-negative sample weights.
    classes : array-like, default=None
        All class labels (classifier); None computes them from ``y``.
    client : distributed.Client, default=None
        The client to run on; None uses the default client.
    **options
        Options for :func:`skadam.adam_minimize`, overriding the estimator's.

    Returns
    -------
    estimator : object
        The estimator, with ``coef_``, ``intercept_``, ``n_features_in_``
        (and ``feature_names_in_`` for a DataFrame), ``classes_``
        (classifier), ``n_iter_`` and ``t_`` (Adam steps) and ``loss_curve_``
        (the objective at every step) set.  It predicts like an estimator
        fitted in memory.  It keeps no Adam state: a later ``partial_fit``
        or warm-started ``fit`` starts a new run.

    Warns
    -----
    ConvergenceWarning
        If ``maxiter`` steps end before ``gtol`` is reached (never when the
        estimator's ``tol`` is None and no ``gtol`` is given).

    Notes
    -----
    The learning rate acts on the coefficients as they are.  The estimators'
    ``fit`` rescales regression targets to unit scale first; here, targets
    far from unit scale need a larger ``learning_rate`` or standardising.

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
    if getattr(estimator, "class_weight", None) is not None:
        raise ValueError(
            "fit_full_batch does not apply class_weight; pass the weights as "
            "sample_weight, or set class_weight=None."
        )
    _check_squared_or_logistic_l2(estimator)
    kind = "squared"
    if is_classifier(estimator):
        classes = _check_classes("multinomial", _as_dask_array(y), classes)
        kind = "binary_logistic" if len(classes) == 2 else "multinomial"
    objective = DaskLinearObjective(
        X,
        y,
        loss=kind,
        alpha=estimator.alpha,
        fit_intercept=estimator.fit_intercept,
        sample_weight=sample_weight,
        classes=classes,
        client=client,
    )
    with objective:
        result, loss_curve = _run_adam(estimator, objective, options)
    _set_fitted(estimator, objective, X, y, result, loss_curve)
    return estimator


def _check_squared_or_logistic_l2(estimator):
    """fit_full_batch minimises the L2 objective only: refuse anything else.

    The other losses and penalties (issue 10) train on Dask data through
    :class:`Incremental` (``partial_fit``), which runs the estimators' code.
    """
    loss = getattr(estimator, "loss", "squared_error")
    if loss != "squared_error" or estimator.penalty != "l2" or estimator.positive:
        raise ValueError(
            "fit_full_batch supports loss='squared_error' (or the classifier's "
            "log-loss) with penalty='l2' and positive=False, got "
            f"loss={loss!r}, penalty={estimator.penalty!r}, "
            f"positive={estimator.positive!r}; use skadam.dask.Incremental, "
            "which trains every loss and penalty by partial_fit."
        )


def _run_adam(estimator, objective, options):
    tol = estimator.tol
    options = {
        "learning_rate": estimator.learning_rate,
        "beta_1": estimator.beta_1,
        "beta_2": estimator.beta_2,
        "epsilon": estimator.epsilon,
        "amsgrad": estimator.amsgrad,
        "maxiter": estimator.max_iter,
        "gtol": 0.0 if tol is None else tol,
        **options,
    }
    loss_curve = []

    def record(intermediate_result):
        loss_curve.append(float(intermediate_result.fun))

    x0 = np.zeros(np.prod(objective.coef_shape))
    result = minimize(
        objective, x0, method=adam_minimize, jac=True, callback=record, options=options
    )
    if result.status == 1 and options["gtol"] > 0:
        warnings.warn(
            f"Adam reached maxiter={options['maxiter']} steps before the "
            f"gradient fell below gtol={options['gtol']}; increase max_iter "
            "or the learning_rate.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return result, loss_curve


def _set_fitted(estimator, objective, X, y, result, loss_curve):
    """Set the fitted attributes the estimators' ``fit`` would set."""
    coef = result.x.reshape(objective.coef_shape).astype(objective.dtype)
    W, b = objective.loss.weight_intercept(coef)
    b = np.zeros(W.shape[0], W.dtype) if b is None else b
    if is_classifier(estimator):
        estimator.classes_ = objective.classes
    elif W.shape[0] == 1:
        # Shapes as the in-memory fit and Ridge: coef_ is 1-D for one output,
        # also when y is a column; intercept_ is a scalar only for a 1-D y.
        W, b = W[0], (b[0] if y.ndim == 1 else b)
    # The regressor's predict returns 1-D predictions for 1-D training targets.
    estimator._y_1d_ = y.ndim == 1
    estimator.coef_, estimator.intercept_ = W.copy(), b.copy()
    estimator.n_features_in_ = X.shape[1]
    if isinstance(X, dd.DataFrame):
        estimator.feature_names_in_ = np.asarray(X.columns, dtype=object)
    elif hasattr(estimator, "feature_names_in_"):
        del estimator.feature_names_in_
    estimator.n_iter_ = estimator.t_ = int(result.nit)
    estimator.loss_curve_ = loss_curve
    # State of an earlier fit would make partial_fit continue from it.
    for name in ("adam_state_", "validation_scores_", "best_validation_score_"):
        estimator.__dict__.pop(name, None)


def _as_dask_array(data):
    if isinstance(data, (dd.DataFrame, dd.Series)):
        # Lengths make the row chunks known, so y can be aligned with X.
        return data.to_dask_array(lengths=True)
    return da.asarray(data)


def _aligned_arrays(X, y, sample_weight):
    """Return X, y and the weights as Dask arrays with the same row chunks."""
    X, y = _as_dask_array(X), _as_dask_array(y)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D, got shape {X.shape}.")
    check_row_chunks(X, y)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]}.")
    y = y.rechunk({0: X.chunks[0]})
    if sample_weight is not None:
        sample_weight = _as_dask_array(sample_weight)
        if sample_weight.shape != (X.shape[0],):
            raise ValueError(
                f"sample_weight must have shape ({X.shape[0]},), "
                f"got {sample_weight.shape}."
            )
        sample_weight = sample_weight.rechunk({0: X.chunks[0]})
    return X, y, sample_weight


def _check_classes(loss, y, classes):
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D for loss={loss!r}, got shape {y.shape}.")
    if classes is None:
        classes = da.unique(y).compute()
    classes = np.asarray(classes)
    if loss == "binary_logistic" and len(classes) != 2:
        raise ValueError(f"binary_logistic needs 2 classes, got {classes!r}.")
    if loss == "multinomial" and len(classes) < 2:
        raise ValueError(f"multinomial needs at least 2 classes, got {classes!r}.")
    return classes


def _prepared_blocks(X, y, sample_weight, loss, classes):
    """One delayed ``(X, Y, s)`` per row block, ``Y`` encoded for ``loss``."""
    x_blocks = X.to_delayed().ravel()
    y_blocks = y.to_delayed().ravel()
    s_blocks = (
        [None] * len(x_blocks)
        if sample_weight is None
        else sample_weight.to_delayed().ravel()
    )
    # Keys of their own, so that closing one objective never cancels the
    # blocks of another one made from the same data.
    prepare = dask.delayed(_prepare_block, pure=False)
    return [
        prepare(xb, yb, sb, loss, classes)
        for xb, yb, sb in zip(x_blocks, y_blocks, s_blocks, strict=True)
    ]


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


def _blocks_by_worker(client, blocks):
    """``[(worker address, [blocks it holds]), ...]``, in a stable order."""
    who_has = client.who_has(blocks)
    groups = {}
    for block in blocks:
        groups.setdefault(who_has[block.key][0], []).append(block)
    return sorted(groups.items())


def _weight(blocks):
    return sum(
        float(X.shape[0] if s is None else s.sum(dtype=np.float64))
        for X, _, s in blocks
    )


def _loss_sums(loss, coef, blocks):
    loss_sum, grad_sum = 0.0, np.zeros(coef.shape)
    for X, Y, sample_weight in blocks:
        # In X's precision, as the estimators: float64 coefficients would make
        # NumPy copy a float32 block to float64 at every step.
        value, grad = loss.sums(coef.astype(X.dtype), X, Y, sample_weight)
        loss_sum += value
        grad_sum += grad
    return loss_sum, grad_sum
