"""scikit-learn estimators trained with skadam's Adam.

:class:`AdamLinearRegressor` and :class:`AdamLogisticClassifier` minimise::

    (1 / sum(s)) * sum_i s_i * L_i  +  P(W)

(intercept not penalised, ``s`` the sample weights times the class weights,
``L`` a loss of :mod:`skadam._losses`, ``P`` an L2, L1 or elastic-net
penalty of :mod:`skadam._penalties`, optionally with ``W >= 0``)
with a :class:`~skadam._linear_loss.LinearModelLoss` (the per-sample losses
of :mod:`skadam._losses`, the penalty of :mod:`skadam._penalties`), by the
epoch loop of :mod:`skadam._training`, in the standardised coordinates of
:mod:`skadam._scaling`.  This module validates the input, encodes the
targets and turns the packed coefficients into scikit-learn's fitted
attributes; it is the only user of scikit-learn's developer API in skadam.

One fitting path: ``fit`` and ``partial_fit`` both call ``_fit``, which
differ in ``reset`` (a cold start or a continued one) and in the epochs to
run; every data source then trains through ``_fit_source`` (the seam that
:mod:`skadam.dask` uses).
"""

import dataclasses
import math
import warnings
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from scipy import sparse
from scipy.special import expit, log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, compute_class_weight
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.multiclass import (
    check_classification_targets,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from ._adam import _number, state_is_finite
from ._linear_loss import LinearModelLoss
from ._losses import (
    HalfBinomialLoss,
    HalfMultinomialLoss,
    HalfSquaredError,
    regression_loss,
)
from ._optimizers import ALGORITHMS, make_optimizer
from ._penalties import make_penalty
from ._scaling import (
    Standardization,
    WeightedMoments,
    feature_standardization,
    normalized_weights,
    target_scaling,
)
from ._sparse import sparse_batch_size, use_lazy
from ._status import Status
from ._training import (
    Minibatches,
    RelativeGap,
    StallHalving,
    StepFactor,
    decision_values,
    train,
)

__all__ = ["AdamLinearRegressor", "AdamLogisticClassifier"]

#: Up to this many training rows, ``batch_size="auto"`` means full batch.
AUTO_FULL_BATCH_ROWS = 4096
#: Minibatch size of ``batch_size="auto"`` above :data:`AUTO_FULL_BATCH_ROWS`.
AUTO_BATCH_SIZE = 512
#: On data with more than this many minibatches of AUTO_BATCH_SIZE rows per
#: epoch, "auto" takes batches of ``n_rows / AUTO_STEPS``, up to
#: AUTO_MAX_BATCH_SIZE rows: each step's fixed cost (a few dozen NumPy calls)
#: is then spread over more rows, and an epoch still has AUTO_STEPS steps
#: (up to 819,200 rows; measured on a 1,000,000 x 50 Poisson fit: 4096-row
#: batches fit in 0.77x the time of 1024-row ones, in the same 7 epochs, at a
#: held-out deviance 1e-5 relative above PoissonRegressor's).
AUTO_STEPS = 200
AUTO_MAX_BATCH_SIZE = 4096


#: ``learning_rate="auto"``: the step size under full batch, where the
#: objective is exact and a large step only shortens the travel to the
#: optimum (measured on ten datasets: 19,482 steps in all at 0.3 against
#: 31,667 at 0.1), and under minibatches, whose noise floor it sets.
AUTO_FULL_BATCH_LEARNING_RATE = 0.3
AUTO_MINIBATCH_LEARNING_RATE = 0.01


def _is_full_batch(source):
    """Whether one batch of ``source`` holds all its training rows."""
    size = getattr(source, "batch_size", None)  # FullBatch: none, one batch
    return size is None or size >= source.n_rows


def _learning_rate(estimator, full_batch):
    """The learning rate or schedule that ``learning_rate`` means here.

    The full-batch rate of ``"auto"`` was measured for the squared error and
    the logistic losses only (their curvature is bounded on standardised
    features); the others keep the minibatch rate: a log link's curvature
    grows with ``exp(Xw + b)``, and Huber's and the quantile loss's kinks
    make a large constant step cycle.
    """
    if isinstance(estimator.learning_rate, str):  # "auto"
        if full_batch and estimator._smooth_bounded_loss():
            return AUTO_FULL_BATCH_LEARNING_RATE
        return AUTO_MINIBATCH_LEARNING_RATE
    return _number(estimator.learning_rate)


def _summed_duplicates(X):
    """``X``, with repeated entries of a sparse matrix summed (a copy if any).

    SciPy reads repeated ``(row, column)`` entries as their sum, but the
    feature statistics count stored values: a column of repeated 1.0 entries
    looked constant, and its coefficient was frozen at 0. Products are
    unaffected; the input is never modified.
    """
    if sparse.issparse(X) and not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()
    return X


def _make_optimizer(estimator, full_batch=False):
    """The optimizer of ``estimator``'s hyperparameters: the one place they meet.

    Under full batch its learning rate is a
    :class:`~skadam._training.StepFactor` on the estimator's
    ``_step_factor_``, which :class:`~skadam._training.StallHalving` may
    halve (see :func:`_make_stopping`).
    """
    lr = _learning_rate(estimator, full_batch)
    if full_batch:
        lr = StepFactor(lr, getattr(estimator, "_step_factor_", 1.0))
    hyperparameters = {
        "learning_rate": lr,
        "beta_1": estimator.beta_1,
        "beta_2": estimator.beta_2,
        "epsilon": estimator.epsilon,
        "max_grad_norm": estimator.max_grad_norm,
    }
    if estimator.amsgrad or estimator.algorithm == "adam":
        # Only Adam has it: make_optimizer names the algorithm that lacks it.
        hyperparameters["amsgrad"] = estimator.amsgrad
    return make_optimizer(estimator.algorithm, **hyperparameters)


def _make_stopping(estimator, optimizer, full_batch):
    """The stopping rule of a ``fit`` (:class:`skadam._training.RelativeGap`).

    Under full batch it also drives the stall halving of ``optimizer``'s
    learning rate (a :class:`~skadam._training.StepFactor`).
    """
    loss = estimator._linear_loss()
    halving = StallHalving(optimizer.learning_rate) if full_batch else None
    return RelativeGap(
        None if estimator.tol is None else float(estimator.tol),
        estimator.n_iter_no_change,
        loss.penalty,
        estimator._scaling_,
        loss.fit_intercept,
        halving=halving,
        differentiable=loss.base_loss.differentiable,
    )


def _continue_state(state, estimator):
    """The optimizer state of a continued fit, after hyperparameter changes.

    ``algorithm`` fixes the state's kind: another one raises a ValueError.
    Within Adam only ``amsgrad`` shapes the state: switched on, the running
    maximum starts from the current ``v`` (as if AMSGrad had begun now);
    switched off, the maximum is dropped. The state is changed in place.
    """
    expected = ALGORITHMS[estimator.algorithm]._state_class
    if type(state) is not expected:
        raise ValueError(
            f"algorithm={estimator.algorithm!r}, but the fitted model was "
            f"trained with another algorithm (its state is "
            f"{type(state).__name__}), which a continued fit cannot carry "
            "over; use warm_start=False (or a new estimator) to start afresh."
        )
    if not hasattr(state, "v_max"):
        return state
    if estimator.amsgrad and state.v_max is None:
        state.v_max = state.v.copy()
    elif not estimator.amsgrad and state.v_max is not None:
        state.v_max = None
    return state


def check_classes(classes):
    """``partial_fit``'s ``classes`` as the sorted distinct labels.

    Validated as scikit-learn validates ``y`` (``type_of_target``): finite,
    1-D, labels rather than continuous values; a ``ValueError`` names
    ``classes``. Duplicates are dropped, as ``SGDClassifier.partial_fit``
    (``unique_labels``) drops them.
    """
    try:
        labels = np.asarray(classes)
    except ValueError:  # ragged nesting
        labels = np.asarray(classes, dtype=object)
    if labels.ndim != 1:
        raise ValueError(
            f"classes must be 1-D, one label per class, got shape {labels.shape}."
        )
    if labels.size == 0:
        raise ValueError("classes must hold at least two labels, got none.")
    kind = type_of_target(labels, input_name="classes")  # raises on NaN, inf
    if kind not in ("binary", "multiclass"):
        raise ValueError(f"classes must be class labels, got {kind} values {labels}.")
    try:  # as given: an array of a list mixing strings and numbers is all strings
        labels = unique_labels(
            classes if isinstance(classes, (list, tuple)) else labels
        )
    except ValueError as error:
        raise ValueError(f"classes: {error}") from None
    if labels.size < 2:
        raise ValueError(
            f"classes must hold at least two distinct labels, got {labels.tolist()}."
        )
    return labels


#: Parameters a continued fit (``warm_start``, ``partial_fit``) cannot change:
#: they fix the trained coordinates (``fit_intercept``: the coefficients'
#: shape; ``loss``: the targets' encoding and scaling; ``algorithm``: the kind
#: of optimizer state).
_FIXED_BY_FIT = ("fit_intercept", "loss", "algorithm")


class _AdamLinearModel(BaseEstimator):
    """Shared fitting code; subclasses encode the targets and name the loss."""

    _parameter_constraints: ClassVar[dict] = {
        "penalty": [StrOptions({"l2", "l1", "elasticnet"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "positive": ["boolean"],
        "fit_intercept": ["boolean"],
        "learning_rate": [
            Interval(Real, 0, None, closed="neither"),
            StrOptions({"auto"}),
            callable,
        ],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        # Strictly positive: a coordinate with zero gradients would give 0/0.
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "amsgrad": ["boolean"],
        "algorithm": [StrOptions(set(ALGORITHMS))],
        "max_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
            None,
        ],
        "sparse_updates": [StrOptions({"auto", "lazy", "exact"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        penalty="l2",
        alpha=1e-4,
        l1_ratio=0.15,
        positive=False,
        fit_intercept=True,
        learning_rate="auto",
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        amsgrad=False,
        algorithm="adam",
        max_grad_norm=None,
        batch_size="auto",
        sparse_updates="auto",
        max_iter=10_000,
        tol=1e-4,
        n_iter_no_change=5,
        shuffle=True,
        random_state=None,
        early_stopping=False,
        validation_fraction=0.1,
        warm_start=False,
        verbose=0,
    ):
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.positive = positive
        self.fit_intercept = fit_intercept
        self.learning_rate = learning_rate
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.amsgrad = amsgrad
        self.algorithm = algorithm
        self.max_grad_norm = max_grad_norm
        self.batch_size = batch_size
        self.sparse_updates = sparse_updates
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.shuffle = shuffle
        self.random_state = random_state
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.warm_start = warm_start
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def _validate_params(self):
        """scikit-learn's check, reading a 0-d array as the real number it holds.

        As the optimizers and ``adam_minimize`` read it (NumPy reductions
        return 0-d arrays); the values are used as floats.
        """
        params = self.get_params(deep=False)
        for name, constraints in self._parameter_constraints.items():
            if any(isinstance(c, Interval) and c.type is Real for c in constraints):
                params[name] = _number(params[name])
        validate_parameter_constraints(
            self._parameter_constraints, params, caller_name=type(self).__name__
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model with Adam, for at most ``max_iter`` epochs.

        With ``warm_start=True`` and a fitted model, training continues from
        the fitted coefficients and Adam state (moments and step count).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; float32 input is kept float32.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; integer weights act as repetitions and
            zero weights as absent samples (exactly, under full batch).
            Only their ratios matter (they are divided by their maximum).

        Returns
        -------
        self : object
            The fitted estimator.

        Raises
        ------
        ValueError
            On invalid input, all-zero weights, or (warm start) features,
            outputs or classes other than the fitted ones.
        """
        reset = not (self.warm_start and hasattr(self, "adam_state_"))
        return self._fit(X, y, sample_weight, reset=reset, max_epochs=self.max_iter)

    def _partial_fit(self, X, y, sample_weight, classes=None):
        if self.early_stopping:
            # As in scikit-learn's SGD and MLP estimators: one epoch on the
            # given rows leaves nothing to hold out or to stop.
            raise ValueError(
                "partial_fit does not support early_stopping=True; set "
                "early_stopping=False, or use fit."
            )
        reset = not hasattr(self, "adam_state_")
        return self._fit(
            X, y, sample_weight, reset=reset, max_epochs=None, classes=classes
        )

    def _fit(self, X, y, sample_weight, *, reset, max_epochs, classes=None):
        """The one fitting path of in-memory data.

        ``max_epochs=None`` is ``partial_fit``: one epoch over rows that are
        one batch of a stream, see :meth:`_fit_source`.
        """
        if not reset:
            self._check_continuation()
        X, y = self._validate_training_data(X, y, reset=reset)
        self._check_targets(y, classes, reset=reset, stream=max_epochs is None)
        s = self._weights(X, y, sample_weight)
        dtype = X.dtype if reset else self._coef_.dtype
        X = X.astype(dtype, copy=False)
        if reset:
            self._init_targets(y, s)
        Y, s = self._encode_targets(y, dtype), s.astype(dtype)
        self._base_loss().check_y(Y)  # the loss's domain (issue 10's GLMs)
        rows, val_rows = self._split_rows(y, reset, stream=max_epochs is None)
        train_s = s
        if rows is not None:  # the validation rows count for nothing in training
            train_s = np.zeros_like(s)
            train_s[rows] = s[rows]
        n_rows = X.shape[0] if rows is None else len(rows)
        source = Minibatches(
            self._linear_loss(), X, Y, s, self._batch_size(n_rows, X), rows
        )
        lazy = self._lazy_updates(source)
        moments = None
        if reset and max_epochs is not None:
            moments = WeightedMoments.from_array(X, train_s)
        target_mean = (train_s.astype(np.float64) @ Y) / source.weight_sum
        return self._fit_source(
            source,
            reset=reset,
            max_epochs=max_epochs,
            dtype=dtype,
            feature_moments=moments,
            target_mean=target_mean,
            constant_loss=self._constant_loss(Y, train_s, target_mean),
            validation=None
            if val_rows is None
            else self._validation(X, Y, s, val_rows),
            lazy=lazy,
        )

    def _validate_training_data(self, X, y, *, reset):
        """``validate_data`` as ``fit`` does it: float32 kept, else float64.

        Part of the seam of :meth:`_fit_source`; :mod:`skadam.dask` runs it on
        each row block (``reset=False``, after a ``reset=True`` call on the
        first rows has set ``n_features_in_`` and ``feature_names_in_``).
        """
        X, y = validate_data(
            self,
            X,
            y,
            reset=reset,
            accept_sparse=("csr", "csc"),
            dtype=[np.float64, np.float32],
            **self._y_validation,
        )
        return _summed_duplicates(X), y

    def _fit_source(
        self,
        source,
        *,
        reset,
        max_epochs,
        dtype=None,
        feature_moments=None,
        target_mean=None,
        constant_loss=None,
        validation=None,
        lazy=False,
    ):
        """Train from any data source and set the fitted attributes as ``fit`` does.

        The seam between the estimators and their data: in-memory arrays
        (:meth:`_fit`) and :mod:`skadam.dask` both train through it. Private,
        but stable for :mod:`skadam.dask`. Before calling it, the caller

        1. validates the data and sets ``n_features_in_`` (and
           ``feature_names_in_``): ``self._validate_training_data(X, y,
           reset=...)``;
        2. checks the targets: ``self._check_targets(y, classes, reset=...,
           stream=max_epochs is None)`` with the labels (a classifier's
           ``classes_`` are set here on a cold start: pass ``classes`` when
           ``y`` is too large to hold); on a cold start, the regressor's
           target scaling comes from the moments of the 2-D targets,
           ``self._set_target_scaling(WeightedMoments, y_1d)`` (in memory:
           ``self._init_targets(y, s)``);
        3. encodes every row block: ``Y = self._encode_targets(y, dtype)`` and
           ``s = self._weights(X, y, sample_weight)`` (sample times class
           weights, divided by their largest value: over all blocks, in
           float64, then cast to ``dtype``; ``block=True`` gives a block's
           undivided weights);
        4. sums with ``self._linear_loss().sums(raw_coef, X, Y, s)`` per block
           (the raw coefficients it is given are in ``dtype``).

        Parameters
        ----------
        source : data source
            :class:`skadam._training.Minibatches`,
            :class:`skadam._training.FullBatch` (e.g. a Dask reduction of
            :meth:`skadam._linear_loss.LinearModelLoss.sums` over row
            blocks of the encoded data, built with ``self._linear_loss()``),
            or anything with the interface in :mod:`skadam._training`.
            Its sums are in the dtype of the coefficients: the data's dtype,
            float32 or float64.
        reset : bool
            Cold start: new standardisation, coefficients, optimizer state and
            random stream. Otherwise continue from the fitted state.
        dtype : {numpy.float32, numpy.float64}, optional
            Of the coefficients, on a cold start (required then): the data's.
        max_epochs : int or None
            Epochs to run at most (``fit``: ``max_iter``). None is
            ``partial_fit``: one epoch over rows that are one batch of a
            stream, so nothing is inferred from them about the whole data:
            a cold start trains the raw coefficients (no standardisation)
            from a zero intercept, and no stopping rule, validation or
            convergence warning applies.
        feature_moments : WeightedMoments, optional
            Of the training rows' features with the training weights; on a
            cold ``fit`` they define the standardisation (merge the
            moments of blocks with :meth:`WeightedMoments.merge`).
        target_mean : ndarray of shape (n_outputs,), optional
            Weighted mean of the encoded targets over the training rows:
            the intercept starts at the loss's optimal constant for it
            (``self._base_loss().constant_raw_prediction(target_mean)``).
        constant_loss : float, optional
            The objective of that constant model (of ``W = 0`` and a zero
            intercept without ``fit_intercept``) over the training rows: a
            ``fit`` that ends more than 1% above it warns. None skips that
            check.
        validation : callable, optional
            ``validation(raw_coef) -> (loss, score)`` on held-out rows.
        lazy : bool, default=False
            Lazy steps (``sparse_updates``; ``source``: :class:`Minibatches`
            of a sparse matrix): a cold start then scales the features
            without centring them, and a continued fit whose scaling is
            centred takes exact steps.

        Returns
        -------
        self : object
        """
        stream = max_epochs is None
        if reset:
            self._start(dtype, feature_moments, None if stream else target_mean)
            if lazy:  # centring would give every column a gradient at every step
                # Uncentred features: the intercept's optimum is no longer
                # known to be 0, so it is trained and counted by the rule.
                self._scaling_ = dataclasses.replace(
                    self._scaling_,
                    mean=np.zeros_like(self._scaling_.mean),
                    freeze_intercept=False,
                )
        else:
            self._check_continuation()
            # New data may need another intercept.
            self._scaling_.freeze_intercept = False
            _continue_state(self.adam_state_, self)
        full_batch = not stream and _is_full_batch(source)
        # Hyperparameters may change between fits: a new optimizer each time.
        optimizer = _make_optimizer(self, full_batch)
        stopping = None if stream else _make_stopping(self, optimizer, full_batch)
        result = train(
            self._linear_loss(),
            self._scaling_,
            optimizer,
            self._coef_,
            self.adam_state_,
            source,
            max_epochs=1 if stream else max_epochs,
            stopping=stopping,
            average=self._coef_average_,
            shuffle=self.shuffle,
            rng=self._rng_,
            validation=validation,
            verbose=self.verbose,
            lazy=lazy and not self._scaling_.centred,
        )
        if full_batch:  # the halving follows the run, like the optimizer state
            self._step_factor_ = optimizer.learning_rate.value
        self._record(result, validation)
        if not stream:
            self._warn(result, source, constant_loss, max_epochs, stopping)
        elif result.status is Status.NONFINITE:  # partial_fit's only warning
            self._warn_nonfinite(result)
        return self

    def _constant_loss(self, Y, s, target_mean):
        """The objective of the best constant model (W = 0), from Y alone."""
        constant = self._base_loss().constant_raw_prediction(target_mean)
        if not self.fit_intercept:
            constant = np.zeros_like(constant)
        Z = np.broadcast_to(constant.astype(Y.dtype), Y.shape)
        return self._base_loss().loss(Y, Z, s) / float(np.sum(s, dtype=np.float64))

    def _check_continuation(self):
        """Raise a ValueError naming a parameter of _FIXED_BY_FIT that changed."""
        params = self.get_params(deep=False)
        for name, fitted in getattr(self, "_fixed_params_", {}).items():
            if params[name] != fitted:
                raise ValueError(
                    f"{name}={params[name]!r}, but the fitted model was trained "
                    f"with {name}={fitted!r}, which a continued fit cannot "
                    "change; use warm_start=False (or a new estimator) to start "
                    "afresh."
                )

    def _start(self, dtype, feature_moments, target_mean):
        """Fresh standardisation, coefficients, optimizer state and random stream."""
        params = self.get_params(deep=False)
        self._fixed_params_ = {n: params[n] for n in _FIXED_BY_FIT if n in params}
        d = self.n_features_in_
        if feature_moments is None:
            self._scaling_ = Standardization.identity(d, dtype)
        else:
            self._scaling_ = feature_standardization(
                feature_moments, np.max(self._penalty().l2), self.fit_intercept
            )
            self._scaling_.freeze_intercept = self._intercept_is_known()
        coef = np.zeros(self._linear_loss().coef_shape(self._n_outputs(), d), dtype)
        if self.fit_intercept and target_mean is not None:
            # Optimal while W = 0; in trained coordinates too, as b' = b then.
            coef[:, -1] = self._base_loss().constant_raw_prediction(target_mean)
        self._coef_, self._coef_average_ = coef, coef.copy()
        self.adam_state_ = _make_optimizer(self).init(coef)
        self._step_factor_ = 1.0
        self._rng_ = check_random_state(self.random_state)
        self.loss_curve_ = []
        self.validation_scores_ = [] if self.early_stopping else None
        self.best_validation_score_ = None

    def _intercept_is_known(self):
        """Whether the trained intercept's optimum is known to be 0 (frozen there)."""
        return False

    def _smooth_bounded_loss(self):
        """Whether the loss is the squared error or a logistic loss (see
        :func:`_learning_rate`)."""
        return getattr(self, "loss", "squared_error") == "squared_error"

    def _linear_loss(self):
        """The objective: this estimator's loss and penalty on packed coef."""
        return LinearModelLoss(self._base_loss(), self._penalty(), self.fit_intercept)

    def _penalty(self):
        """The penalty on the trained weights (see the regressor's override)."""
        return make_penalty(
            self.penalty, float(self.alpha), float(self.l1_ratio), self.positive
        )

    def _lazy_updates(self, source):
        """Whether minibatch steps are lazy (see ``sparse_updates``)."""
        minibatches = sparse.issparse(source.X) and source.batch_size < source.n_rows
        if self.sparse_updates == "exact" or not minibatches:
            return False
        if self.sparse_updates == "lazy":
            return True
        penalty, n_outputs = self._linear_loss().penalty, source.Y.shape[1]
        return use_lazy(source.X, source.batch_size, penalty, source.n_rows, n_outputs)

    def _batch_size(self, n_rows, X=None):
        if self.batch_size != "auto":
            return self.batch_size
        if n_rows <= AUTO_FULL_BATCH_ROWS:
            return n_rows
        if sparse.issparse(X) and self.sparse_updates != "exact":
            return sparse_batch_size(X)
        return min(max(AUTO_BATCH_SIZE, n_rows // AUTO_STEPS), AUTO_MAX_BATCH_SIZE)

    def _weights(self, X, y, sample_weight, *, block=False):
        """Sample weights times class weights, divided by their maximum (float64).

        ``block=True`` (one row block of many, :mod:`skadam.dask`): the
        product itself, which may be all zero; the caller divides every
        block by the largest weight of all blocks.
        """
        # Raises on negative weights and (not for a block) all-zero weights.
        s = _check_sample_weight(
            sample_weight,
            X,
            dtype=np.float64,
            ensure_non_negative=True,
            allow_all_zero_weights=block,
        )
        s = self._class_weights(y, s)
        if block:
            return s
        if not np.any(s):
            raise ValueError("All sample weights times class weights are zero.")
        return normalized_weights(s)

    def _class_weights(self, y, s):
        return s

    def _init_targets(self, y, s):
        """Fix the encoding of the targets that needs their statistics (cold start)."""

    def _split_rows(self, y, reset, stream):
        """Training and validation rows (None, None: all rows, no validation).

        The split is drawn once, at the first fit with ``early_stopping``, and
        kept by continued fits on as many rows: rows trained on never become
        validation rows (the leak scikit-learn fixed in its gradient
        boosting).
        """
        if not self.early_stopping or stream:
            return None, None
        kept = None if reset else getattr(self, "_validation_split_", None)
        if kept is not None and len(kept) == len(y):
            val_mask = kept
        else:
            val_mask = np.zeros(len(y), bool)
            val_mask[self._draw_validation_rows(y)] = True
        if (
            np.count_nonzero(val_mask) < 2
        ):  # a score of one row is undefined (R^2) or 0/1
            raise ValueError(
                f"The validation set has {np.count_nonzero(val_mask)} row; "
                "early_stopping needs at least 2: increase validation_fraction "
                "or the number of samples."
            )
        self._validation_split_ = val_mask
        return np.flatnonzero(~val_mask), np.flatnonzero(val_mask)

    def _draw_validation_rows(self, y):
        """The validation rows of a new split (stratified for a classifier)."""
        fraction = float(self.validation_fraction)
        try:
            _, val_rows = train_test_split(
                np.arange(len(y)),
                test_size=fraction,
                random_state=check_random_state(self.random_state),
                stratify=self._stratify(y),
            )
        except ValueError as error:  # too few rows, or rows of a class
            reason = str(error).rstrip(".")
            raise ValueError(
                f"early_stopping cannot split n_samples={len(y)} into training "
                f"and validation sets with validation_fraction={fraction}: {reason} "
                "(scikit-learn's train_test_split). Change validation_fraction "
                "or the number of samples, or set early_stopping=False."
            ) from error
        return val_rows

    def _stratify(self, y):
        return None

    def _validation(self, X, Y, s, rows):
        """The validation loss (monitored) and score (recorded) of raw ``coef``."""
        Y_val, s_val = Y[rows], s[rows]
        if not np.any(s_val):
            raise ValueError(
                "The sample weights of the validation set are all zero; use "
                "another random_state or validation_fraction."
            )
        weight_sum = float(np.sum(s_val, dtype=np.float64))
        loss = self._linear_loss()

        def validation(coef):
            Z = decision_values(loss, coef, X, rows)
            value = loss.base_loss.loss(Y_val, Z, s_val) / weight_sum
            return value, self._score_decisions(Z, Y_val, s_val)

        return validation

    def _record(self, result, validation):
        """Turn the training result into the fitted attributes."""
        W, b = self._linear_loss().weight_intercept(
            self._scaling_.to_raw(self._coef_average_)
        )
        b = np.zeros(W.shape[0], W.dtype) if b is None else b
        self.coef_, self.intercept_ = self._unpack(W.copy(), b.copy())
        self.n_iter_ = result.n_epochs  # this fit's, as scikit-learn's
        self.t_ = self.adam_state_.step
        self.loss_curve_.extend(result.loss_curve)
        if validation is not None:
            if self.validation_scores_ is None:  # early_stopping set since
                self.validation_scores_ = []
            self.validation_scores_.extend(result.validation_scores)
            self.best_validation_score_ = result.best_validation_score

    def _warn_nonfinite(self, result):
        """ConvergenceWarning for a run stopped by a non-finite value."""
        if state_is_finite(self.adam_state_):
            cause = (
                "the loss or its gradient became non-finite; try a smaller "
                f"learning_rate (got {self.learning_rate})"
            )
        else:
            dtype = self._coef_.dtype
            cause = (
                "the optimizer's second moment overflowed: a gradient entry's "
                f"square exceeds the largest {dtype} (|gradient| above about "
                f"{math.sqrt(np.finfo(dtype).max):.2g}), after which its "
                "coefficient would never move again. Scale the features and "
                "targets (partial_fit and continued fits keep the scaling of "
                "the first fit)"
                + (" or use float64" if dtype == np.float32 else "")
                + "; the optimizer state keeps the overflow: start afresh with "
                "fit and warm_start=False (or a new estimator; partial_fit "
                "continues from that state)"
            )
        warnings.warn(
            f"{self.algorithm} diverged in epoch {result.n_epochs + 1}: {cause}. "
            "Training stopped with the coefficients of the start of that epoch, "
            "the last with a finite objective.",
            ConvergenceWarning,
            stacklevel=7,  # the user's fit or partial_fit call
        )

    def _warn(self, result, source, constant_loss, max_epochs, stopping):
        """ConvergenceWarning: non-finite, out of epochs, or worse than a constant."""
        if result.status is Status.NONFINITE:
            self._warn_nonfinite(result)
            return
        if result.status is Status.MAX_ITER and self.tol is not None:
            warnings.warn(
                f"{self.algorithm} reached max_iter={max_epochs} epochs before "
                "converging: "
                f"{stopping.describe()}, above tol={self.tol}. Increase "
                "max_iter, or tol to accept a less accurate objective.",
                ConvergenceWarning,
                stacklevel=4,
            )
        if constant_loss is not None:
            self._check_beats_constant(result, source, constant_loss)

    def _check_beats_constant(self, result, source, constant_value):
        """Warn when the fit is worse than the best constant model (W = 0).

        Worse means a training objective more than 1% above. This happens
        when Adam's steps are far too large for the scale of the
        coefficients (a huge learning_rate; unscaled features after
        partial_fit): the objective jumps up and the run stops for lack of
        improvement.
        """
        # A margin, as with uninformative features the optimum is only a hair
        # below the constant model and minibatch noise can cross it.
        limit = 1.01 * constant_value + 1e-6
        final = result.objective  # exact, if the stopping rule computed it
        if final is None:
            if not result.loss_curve or not result.loss_curve[-1] > limit:
                return  # the cheap test first
            raw = self._scaling_.to_raw(self._coef_average_)
            final = _objective(self._linear_loss(), source, raw)
        if final > limit:
            warnings.warn(
                f"The fitted model's training objective ({final:.4g}) is worse "
                f"than the best constant model's ({constant_value:.4g}): Adam's "
                "steps are too large for the coefficients; lower the "
                f"learning_rate (got {self.learning_rate}), or, after "
                "partial_fit, scale the features.",
                ConvergenceWarning,
                stacklevel=5,
            )

    def _decision(self, X):
        check_is_fitted(self)
        X = validate_data(
            self,
            X,
            reset=False,
            accept_sparse=("csr", "csc"),
            dtype=[np.float64, np.float32],
        )
        coef = np.atleast_2d(self.coef_)
        return np.asarray(X @ coef.T) + self.intercept_


def _objective(loss, source, raw_coef):
    """The objective at raw coefficients over all of ``source``'s rows."""
    grad = np.empty_like(raw_coef)
    with np.errstate(over="ignore", invalid="ignore"):
        loss_sum = source.total(raw_coef, grad)
        return loss.objective_from_sums(raw_coef, loss_sum, grad, source.weight_sum)[0]


class AdamLinearRegressor(RegressorMixin, _AdamLinearModel):
    """Linear regression with a choice of loss and penalty, trained with Adam.

    Minimises, over the coefficients ``W`` and intercept ``b``::

        (1 / sum(s)) * sum_i s_i * L(y_i, f_i)  +  P(W),    f_i = x_i W^T + b

    with ``s`` the sample weights (ones by default), ``P`` the ``penalty``
    (never on the intercept) and, with the residual ``r = y - f``:

    - ``"squared_error"``: ``L = r**2 / 2``;
    - ``"huber"``: ``L = r**2 / 2`` if ``|r| <= delta``, else
      ``delta * (|r| - delta / 2)``;
    - ``"quantile"``: ``L = max(quantile * r, (quantile - 1) * r)``;
    - ``"poisson"``, ``"gamma"``, ``"tweedie"``: half the unit deviance of
      ``y`` at the mean ``mu = exp(f)`` (log link; ``predict`` returns
      ``mu``): ``y log(y / mu) - y + mu``, ``log(mu / y) + y / mu - 1``, and
      the Tweedie deviance of ``power`` (see
      :func:`sklearn.metrics.mean_tweedie_deviance`).

    Each is scikit-learn's objective: ``"squared_error"`` with ``"l2"`` is
    ``Ridge(alpha=n_samples * alpha)``, with ``"elasticnet"``
    ``ElasticNet(alpha, l1_ratio)``, with ``"l1"`` ``Lasso(alpha)``;
    ``"quantile"`` with ``"l1"`` is ``QuantileRegressor(quantile, alpha)``;
    ``"poisson"``, ``"gamma"`` and ``"tweedie"`` with ``"l2"`` are
    ``PoissonRegressor(alpha)``, ``GammaRegressor(alpha)`` and
    ``TweedieRegressor(power, alpha, link="log")``; ``"huber"`` is the loss
    of ``SGDRegressor(loss="huber", epsilon=delta)`` (``HuberRegressor``
    fits a scale as well, another objective). ``y`` may have several
    columns (multi-output regression), except with the log-link losses.

    Parameters
    ----------
    loss : {"squared_error", "huber", "quantile", "poisson", "gamma", \
            "tweedie"}, default="squared_error"
        The per-sample loss ``L`` above. Targets outside its domain raise a
        ``ValueError`` naming the loss: ``"poisson"`` needs ``y >= 0`` (not
        all 0), ``"gamma"`` ``y > 0``, ``"tweedie"`` ``y >= 0`` for
        ``1 <= power < 2`` and ``y > 0`` for ``power >= 2``.
    delta : float, default=1.0
        Huber's threshold, ``> 0``, in the units of ``y``: residuals larger
        than ``delta`` count linearly. 1.0 suits targets with unit noise;
        set it near 1.35 times the noise's standard deviation (the 95 %
        efficiency choice of ``HuberRegressor``'s ``epsilon=1.35``, which
        is in units of its fitted scale). ``epsilon`` is Adam's.
    quantile : float, default=0.5
        The quantile ``"quantile"`` predicts, in ``(0, 1)`` (0.5: the
        median, least absolute deviations).
    power : float, default=1.5
        The Tweedie power of ``"tweedie"``: ``0`` (normal, any ``y``),
        ``1`` (Poisson), ``(1, 2)`` (compound Poisson-Gamma, e.g. claim
        amounts with exact zeros), ``2`` (Gamma), ``3`` (inverse Gaussian);
        powers in ``(0, 1)`` raise a ``ValueError`` naming the loss.
    penalty : {"l2", "l1", "elasticnet"}, default="l2"
        The penalty ``P(W)`` on the coefficients (never the intercept):
        ``alpha / 2 * ||W||_F^2`` (``"l2"``), ``alpha * ||W||_1`` (``"l1"``)
        or ``alpha * (l1_ratio * ||W||_1 + (1 - l1_ratio) / 2 * ||W||_F^2)``
        (``"elasticnet"``). The L1 part is applied by a proximal step after
        each Adam step (soft-thresholding with Adam's per-coordinate step,
        see Notes), which gives exact zeros.
    alpha : float, default=1e-4
        Penalty strength, ``>= 0``, on the scale of the mean loss: with
        ``"l2"``, ``alpha`` here is ``Ridge(alpha=n_samples * alpha)`` and
        ``LogisticRegression(C=1 / (n_samples * alpha))``; with ``"l1"`` and
        ``"elasticnet"`` it is ``Lasso``'s and ``ElasticNet``'s ``alpha``.
    l1_ratio : float, default=0.15
        The L1 share of ``"elasticnet"``, in ``[0, 1]`` (``SGDRegressor``'s
        default); ignored by the other penalties.
    positive : bool, default=False
        Constrain the coefficients to be ``>= 0`` (the intercept stays free),
        by projection after each step, as ``ElasticNet(positive=True)``.
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept.
    learning_rate : "auto", float or callable, default="auto"
        The optimizer's step size, for the coefficients of the standardised
        features (see Notes). ``"auto"``: 0.3 under full batch (one step
        per epoch) with ``loss="squared_error"``, 0.01 with the other losses
        (a log link's curvature grows with ``exp(Xw + b)``; Huber's and the
        quantile loss's kinks make a large constant step cycle), with
        minibatches and in ``partial_fit`` (the step sets the minibatch
        noise floor). A callable is a schedule of the
        1-based update count ``t`` (:mod:`skadam`'s schedules, e.g.
        :class:`~skadam.WarmupCosineDecay`): ``t`` runs on across
        ``warm_start`` fits and ``partial_fit`` calls (``t_``), so two
        continued fits of 5 epochs equal one of 10. Under full batch the step is
        halved whenever the objective has gone 250 steps without a new
        minimum (constant-step Adam may cycle instead of converging when
        its step is too large); that factor is kept by continued fits.
        A number may come as a 0-d NumPy array (as NumPy reductions return
        it), here and for every real-valued parameter; it is used as a float.
    beta_1 : float, default=0.9
        Decay rate of Adam's first-moment estimate, in ``[0, 1)``.
    beta_2 : float, default=0.999
        Decay rate of Adam's second-moment estimate, in ``[0, 1)``.
    epsilon : float, default=1e-8
        Added to Adam's denominator; strictly positive, so that a
        coefficient whose gradient is always zero stays finite.
    amsgrad : bool, default=False
        Use the AMSGrad variant (running maximum of the second moment);
        ``algorithm="adam"`` only (others raise a ``ValueError``).
    algorithm : {"adam", "nadam", "radam", "adamax", "schedulefree_adamw"}, \
            default="adam"
        The optimizer (:func:`skadam.make_optimizer`): :class:`~skadam.Adam`,
        :class:`~skadam.NAdam`, :class:`~skadam.RAdam`,
        :class:`~skadam.Adamax` or :class:`~skadam.ScheduleFreeAdamW`. All
        take ``learning_rate``, ``beta_1``, ``beta_2``, ``epsilon`` and
        ``max_grad_norm`` (for schedule-free, ``beta_1`` is the
        interpolation weight, in ``(0, 1)``); ``amsgrad`` is Adam's alone.
        With schedule-free, ``coef_`` is its averaged point (``eval_params``)
        and the gradient point and base sequence stay in ``adam_state_``
        for continued fits. A continued fit (``warm_start``,
        ``partial_fit``) with another ``algorithm`` raises a
        ``ValueError``: refit with ``warm_start=False``.
    max_grad_norm : float or None, default=None
        Clip the global L2 norm of each step's gradient (trained
        coordinates) to this value before the update, as torch's
        ``clip_grad_norm_``; None: no clipping.
    batch_size : "auto", int or None, default="auto"
        Rows per minibatch. None means full batch (one Adam step per
        epoch). ``"auto"`` means full batch up to 4096 training rows, 512
        rows above, and ``n_samples / 200`` rows (at most 4096) from 102,400;
        on sparse ``X`` above 4096 rows (unless ``sparse_updates="exact"``),
        minibatches of about ``n_features / 2`` stored values, 512 to 4096
        rows (:func:`skadam._sparse.sparse_batch_size`).
    sparse_updates : {"auto", "lazy", "exact"}, default="auto"
        How minibatch steps update the coefficients when ``X`` is sparse.
        ``"exact"``: Adam on every coefficient at every step, as on dense
        data. ``"lazy"``: only the coefficients of the columns the minibatch
        touches, and their moments (lazy Adam, as TensorFlow Addons'
        ``LazyAdam`` and ``torch.optim.SparseAdam``; see
        :meth:`skadam.Adam.lazy_step`), with the L2 penalty of each column
        divided by the probability that a minibatch touches it, so that the
        penalised objective is the same. A step then costs the touched
        columns instead of all ``n_features``; the result is an
        approximation of the exact path's (the moments of untouched columns
        do not decay), the same under full batch. ``"auto"``: lazy when
        ``X`` is sparse, trained in minibatches, the penalty has no L1 part
        and no ``positive``, and a cost model says a lazy step is cheaper
        (few touched columns, several outputs: measured 8.6x faster per
        epoch on 20-class text, 1.6x slower on binary;
        :func:`skadam._sparse.use_lazy`); exact otherwise. Dense ``X`` and
        full batch always take the exact path. See the
        performance page of the documentation.
    max_iter : int, default=10_000
        Maximum number of epochs (passes over the training data; under full
        batch, Adam steps). A ``fit`` that runs out of them before meeting
        ``tol`` warns (``ConvergenceWarning``, quoting the measure).
    tol : float or None, default=1e-4
        The relative accuracy of the objective: training stops when the
        duality-gap bound ``||g||^2 / (2 alpha f)`` (``g`` the objective's
        gradient in the coefficients, ``f`` the objective) certifies ``f``
        within a relative ``tol`` of its minimum (see Notes). With
        ``alpha=0`` there is no bound: the criterion is ``max |g| <= tol``
        (standardised coordinates), as in lbfgs. Also the relative
        improvement that ``n_iter_no_change`` counts. None: run all
        ``max_iter`` epochs.
    n_iter_no_change : int, default=5
        With minibatches, epochs in a row in which the objective (on dense
        ``X`` the epoch's, on sparse ``X`` the exact one at the returned
        tail average) does not improve on its best by a relative ``tol``,
        after which the run stops (the noise floor of minibatch Adam, where
        the bound may not reach ``tol``); with
        ``early_stopping``, the same count on the validation loss. Not
        used by full-batch training without ``early_stopping``, which only
        the bound stops; under full batch the validation window is 250
        steps.
    shuffle : bool, default=True
        Shuffle the training rows at each epoch (minibatches only).
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling and the validation split. Pass an int for
        reproducible results.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training rows, drawn with
        :func:`~sklearn.model_selection.train_test_split` on the row indices
        with ``random_state`` (stratified for the classifier), monitor the
        loss on them after each epoch (the mean log-loss or squared error,
        which unlike accuracy changes with every step), stop after
        ``n_iter_no_change`` epochs (full batch: 250 steps) without a
        relative improvement of ``tol``, or when the training objective is
        within ``tol`` of its minimum, and restore the coefficients of the
        epoch with the lowest validation loss. The validation set needs at
        least 2 rows (the classifier's, one of each class, and its training
        rows too): a split that cannot be drawn raises a ``ValueError``
        naming ``validation_fraction``.
        Not supported by ``partial_fit``, which raises a ``ValueError`` (as
        scikit-learn's SGD and MLP estimators do).
    validation_fraction : float, default=0.1
        Fraction of the rows held out with ``early_stopping``, in ``(0, 1)``.
    warm_start : bool, default=False
        Continue a fitted model: ``fit`` starts from the current iterate
        and Adam state (moments and step count) and random stream, with
        the same validation rows under ``early_stopping`` (drawn once).
        Changed hyperparameters apply: ``amsgrad`` switched on starts its
        running maximum from the current second moment.
        The features (and ``n_features_in_``) and the number of outputs
        must not change: a ``ValueError`` says so.
    verbose : int, default=0
        Print one line per epoch (objective, and validation score if any).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_outputs, n_features)
        Coefficients; 1-D for a single output, including a ``y`` of shape
        ``(n_samples, 1)``, as in :class:`~sklearn.linear_model.Ridge`.
    intercept_ : float or ndarray of shape (n_outputs,)
        Intercept (0 when ``fit_intercept=False``); a float when ``y`` is
        1-D, an array of shape ``(1,)`` when it is a column (as in
        :class:`~sklearn.linear_model.Ridge`).
    n_iter_ : int
        Number of epochs run by the last ``fit`` (at most ``max_iter``; 1
        after ``partial_fit``), as in scikit-learn's SGD and MLP estimators.
    t_ : int
        Number of Adam updates taken in all, ``adam_state_.step`` (the
        running total over ``warm_start`` fits and ``partial_fit`` calls).
    adam_state_ : AdamState or the state of ``algorithm``
        The optimizer's moments and step count, kept so that ``warm_start`` and
        ``partial_fit`` continue where training stopped; the moments are
        those of the coefficients of the standardised features (see Notes).
    loss_curve_ : list of float
        Training objective of each epoch (the minibatch losses accumulated
        during the epoch plus the penalty at its end), on the internally
        standardised targets (see Notes).
    validation_scores_ : list of float or None
        Score on the held-out rows after each epoch (R^2), with
        ``early_stopping``; None otherwise.
    best_validation_score_ : float or None
        Score of the epoch with the lowest validation loss, whose
        coefficients are restored.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during ``fit``, when ``X`` has string
        column names.

    See Also
    --------
    AdamLogisticClassifier : Logistic regression trained with Adam.
    sklearn.linear_model.Ridge : The same objective, solved exactly.
    sklearn.linear_model.ElasticNet : With ``penalty="elasticnet"``.
    sklearn.linear_model.QuantileRegressor : With ``loss="quantile"``.
    sklearn.linear_model.PoissonRegressor : With ``loss="poisson"``.
    sklearn.linear_model.SGDRegressor : Linear models trained with SGD.

    Notes
    -----
    Training runs epochs of Adam steps (:class:`skadam.Adam`) on
    minibatches gathered by index from ``X`` (never a copy of ``X``; a
    column-major ``X`` is made row-major once when minibatches are used).
    ``coef_`` and ``intercept_`` are the average of the iterates of the last
    epoch, which removes most of the minibatch noise; under full batch this
    is the last iterate. A run whose objective becomes non-finite (a far too
    large ``learning_rate``) stops with a ``ConvergenceWarning`` and the
    coefficients of the start of that epoch, never NaN; a ``fit`` that ends
    with a training objective more than 1% above the best constant model's
    (``coef_ = 0``) warns too.

    ``fit`` runs Adam on the coefficients of the standardised features
    (minus their weighted mean when there is an intercept, divided by their
    weighted standard deviation, raised where needed so that no value
    exceeds 3 in size, as a rare category's would, and at least
    ``sqrt(alpha)``), without ever forming them: an exact change of
    variables (``coef_`` is always for the raw features, and the optimum is
    the same) that makes the coefficients
    Adam sees about 1 in size whatever the units and offsets of ``X``, so
    that millimetres, kilometres and calendar years train alike. Only the
    penalty depends on the units, as in :class:`~sklearn.linear_model.Ridge`.
    The statistics are fixed by a cold ``fit`` and kept by ``warm_start``.
    Means and variances accumulate in float64, centred (two passes), for
    any dtype and format of ``X``; a feature spread less than the rounding
    of its values is a constant, whose coefficient is exactly 0 with an
    intercept (as with :class:`~sklearn.linear_model.Ridge`). A cold
    ``partial_fit`` neither standardises the features nor trusts its batch
    for the intercept (kept at the centred targets' 0, and trained): scale
    the features first, e.g. with a
    :class:`~sklearn.preprocessing.StandardScaler` fitted beforehand; this
    is the one difference between ``fit`` and ``partial_fit``. Like
    that scaler, the standardisation is swayed by outliers, which shrink the
    rest of their feature's values and slow its training down: clip them,
    or put a :class:`~sklearn.preprocessing.QuantileTransformer` in front.

    The L1 part of ``"l1"`` and ``"elasticnet"``, and ``positive``, are
    applied after every Adam step by their proximal operator with Adam's
    per-coordinate step ``eta = lr_t / (sqrt(v_hat) + epsilon)``
    (:meth:`skadam.Adam.step_size`): ``W <- sign(W) max(|W| - eta alpha
    l1_ratio, 0)``, then ``W <- max(W, 0)`` with ``positive``. This is the
    preconditioned proximal gradient step of ProxGen (Yun, Lozano & Yang,
    NeurIPS 2021) with Adam's diagonal preconditioner; coefficients whose
    optimum is 0 become exactly 0, as with coordinate descent or SAGA. With
    minibatches ``coef_`` averages the last epoch's iterates: a coefficient
    is exactly 0 there when it was 0 all epoch long, which holds once
    training has settled.

    ``score`` is the coefficient of determination R^2 of ``predict`` (the
    mean ``mu`` with the log-link losses), as for every scikit-learn
    regressor including ``SGDRegressor``; for the deviance of a GLM or the
    pinball loss use :func:`sklearn.metrics.d2_tweedie_score`,
    :func:`~sklearn.metrics.d2_pinball_score`,
    :func:`~sklearn.metrics.d2_absolute_error_score` or
    :func:`~sklearn.metrics.mean_poisson_deviance` (with
    :func:`~sklearn.metrics.make_scorer` in a grid search).

    The defaults reach the documented optimum: full batch on small data
    (deterministic, and integer weights equal repetitions exactly) with a
    ``learning_rate`` of 0.3, and training until the objective is
    certified within a relative ``tol=1e-4`` of its minimum. The
    certificate is the duality gap of L2-regularised empirical risk
    minimisation (Shalev-Shwartz and Zhang, 2013): the residuals form a
    dual point whose gap is ``||g_W||^2 / (2 alpha)``, ``g_W`` the
    gradient in the raw coefficients (the intercept's gradient counts
    alike: no proof there, measured conservative; with an L1 part the
    least-norm subgradient is used, and without an L2 part, which
    leaves no bound, ``max |g| <= tol``); see
    :class:`skadam._training.RelativeGap`. Measured on five bundled
    datasets, standardised or raw: objective within 1.2e-4 relative of the
    optimum, probabilities within 0.006, in 100-6600 steps. On large data,
    minibatches of 512 rows (up to 4096 above 102,400 rows: 200 steps per
    epoch are plenty there, and larger batches cost less per row) at
    ``learning_rate`` 0.01, stopped by the bound or, as minibatch noise
    keeps the gradient off zero, at the noise floor (``n_iter_no_change=5`` epochs
    without a relative improvement of ``tol``: with tail averaging,
    waiting longer buys no accuracy).

    With ``"squared_error"``, ``"huber"`` and ``"quantile"`` the targets
    are standardised internally (per output: minus the weighted mean,
    divided by the weighted standard deviation ``c``; ``delta`` becomes
    ``delta / c`` and the penalty's strengths are rescaled to match, see
    :mod:`skadam._penalties`); the log-link losses train on ``y`` as it is,
    whose scale only moves the intercept. This is an exact
    reparametrisation: the objective in the units of ``y`` is the one in
    standardised units times the variance, at the same ``alpha``, so the
    optimum maps back exactly. It puts the coefficients on the unit scale at
    which Adam's steps are meaningful, whatever the units of ``y``. The
    scaling is fixed at the first fit (or ``partial_fit``) and kept by
    ``warm_start`` and ``partial_fit``.

    With ``batch_size=None`` (full batch) the stopping rule is exact at any
    size of data: use it when the certified optimum matters more than time.

    References
    ----------
    D. P. Kingma and J. Ba, "Adam: A Method for Stochastic Optimization",
    ICLR 2015, https://arxiv.org/abs/1412.6980

    J. Yun, A. C. Lozano and E. Yang, "Adaptive Proximal Gradient Methods
    for Structured Neural Networks", NeurIPS 2021 (ProxGen).

    S. Shalev-Shwartz and T. Zhang, "Stochastic Dual Coordinate Ascent
    Methods for Regularized Loss Minimization", JMLR 14, 2013.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skadam import AdamLinearRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> model = make_pipeline(StandardScaler(), AdamLinearRegressor(random_state=0))
    >>> model.fit(X, y).score(X, y) > 0.5
    True
    >>> model[-1].coef_.shape, model[-1].n_iter_ > 1
    ((10,), True)
    """

    _parameter_constraints: ClassVar[dict] = {
        **_AdamLinearModel._parameter_constraints,
        "loss": [
            StrOptions(
                {"squared_error", "huber", "quantile", "poisson", "gamma", "tweedie"}
            )
        ],
        "delta": [Interval(Real, 0, None, closed="neither")],
        "quantile": [Interval(Real, 0, 1, closed="neither")],
        "power": [Interval(Real, None, None, closed="neither")],
    }

    def __init__(
        self,
        loss="squared_error",
        *,
        delta=1.0,
        quantile=0.5,
        power=1.5,
        penalty="l2",
        alpha=1e-4,
        l1_ratio=0.15,
        positive=False,
        fit_intercept=True,
        learning_rate="auto",
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        amsgrad=False,
        algorithm="adam",
        max_grad_norm=None,
        batch_size="auto",
        sparse_updates="auto",
        max_iter=10_000,
        tol=1e-4,
        n_iter_no_change=5,
        shuffle=True,
        random_state=None,
        early_stopping=False,
        validation_fraction=0.1,
        warm_start=False,
        verbose=0,
    ):
        super().__init__(
            penalty=penalty,
            alpha=alpha,
            l1_ratio=l1_ratio,
            positive=positive,
            fit_intercept=fit_intercept,
            learning_rate=learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
            algorithm=algorithm,
            max_grad_norm=max_grad_norm,
            batch_size=batch_size,
            sparse_updates=sparse_updates,
            max_iter=max_iter,
            tol=tol,
            n_iter_no_change=n_iter_no_change,
            shuffle=shuffle,
            random_state=random_state,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            warm_start=warm_start,
            verbose=verbose,
        )
        self.loss = loss
        self.delta = delta
        self.quantile = quantile
        self.power = power

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # As PoissonRegressor, GammaRegressor and TweedieRegressor's tags.
        tags.target_tags.multi_output = not self._is_glm()
        tags.target_tags.positive_only = self._is_glm()
        return tags

    def _is_glm(self):
        return self.loss in {"poisson", "gamma", "tweedie"}

    @property
    def _y_validation(self):
        # The log-link losses take one output, as scikit-learn's GLMs do.
        return {"multi_output": not self._is_glm(), "y_numeric": True}

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Run one epoch of Adam over ``(X, y)``, keeping the Adam state.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._partial_fit(X, y, sample_weight)

    def predict(self, X):
        """Predict with the linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predictions; 1-D for a single output, whether ``y`` was 1-D or a
            column, as in :class:`~sklearn.linear_model.Ridge`.
        """
        Z = self._unscaled_loss().inverse_link(self._decision(X))
        return Z.ravel() if Z.shape[1] == 1 else Z

    def _unscaled_loss(self):
        """The per-sample loss in the units of ``y``."""
        return regression_loss(
            self.loss,
            delta=float(self.delta),
            quantile=float(self.quantile),
            power=float(self.power),
        )

    def _base_loss(self):
        """The loss of the trained (rescaled) targets."""
        loss = self._unscaled_loss()
        if loss.target_scale_degree is None:
            return loss
        return loss.scaled(self._y_scale_)

    def _penalty(self):
        """The penalty on the weights of the rescaled targets.

        Training on ``y / c`` (per output) with a loss of degree ``k``
        divides the objective by ``c**k``: the penalty on the trained weights
        ``W / c`` then has strengths ``l1 c**(1 - k)`` and ``l2 c**(2 - k)``
        (see :meth:`skadam._penalties.ElasticNetPenalty.scaled`).
        """
        penalty = super()._penalty()
        k = self._unscaled_loss().target_scale_degree
        if k is None or not hasattr(self, "_y_scale_"):
            return penalty
        c = np.asarray(self._y_scale_, np.float64)[:, None]
        return penalty.scaled(c ** (1 - k), c ** (2 - k))

    def _n_outputs(self):
        return len(self._y_shift_)

    def _intercept_is_known(self):
        if not isinstance(self._unscaled_loss(), HalfSquaredError):
            return False
        # For centred features and targets the optimal intercept (in trained
        # coordinates) is 0 whatever the weights: holding it there spares Adam
        # the rounding noise of its near-zero gradient, which its normalised
        # steps would amplify. Not when some rows are held out for validation.
        return self.fit_intercept and not self.early_stopping

    def _check_targets(self, y, classes, *, reset, stream):
        n_outputs = 1 if y.ndim == 1 else y.shape[1]
        if not reset and n_outputs != len(self._y_shift_):
            raise ValueError(
                f"y has {n_outputs} outputs, but the model was fitted "
                f"with {len(self._y_shift_)}."
            )

    def _init_targets(self, y, s):
        Y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        moments = WeightedMoments.from_array(Y, s)
        self._set_target_scaling(moments, y.ndim == 1)

    def _set_target_scaling(self, moments, y_1d):
        """Fix the target scaling from the targets' moments (a cold start).

        Part of the seam of :meth:`_fit_source`: ``moments`` are the
        :class:`~skadam._scaling.WeightedMoments` of the 2-D targets with the
        normalised sample weights; ``y_1d`` says whether ``y`` was 1-D (then
        ``predict`` and ``intercept_`` are 1-D and scalar).
        """
        self._y_shift_, self._y_scale_ = target_scaling(moments, self.fit_intercept)
        if self._unscaled_loss().target_scale_degree is None:
            # The log link: scaling y only moves the intercept; y stays as is.
            self._y_shift_ = np.zeros_like(self._y_shift_)
            self._y_scale_ = np.ones_like(self._y_scale_)
        self._y_1d_ = bool(y_1d)

    def _encode_targets(self, y, dtype):
        Y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        return ((Y - self._y_shift_) / self._y_scale_).astype(dtype)

    def _score_decisions(self, Z, Y, s):
        # R^2 of the predictions (the inverse link of Z), unchanged by the
        # per-output affine scaling of the targets.
        return r2_score(Y, self._base_loss().inverse_link(Z), sample_weight=s)

    def _unpack(self, W, b):
        scale = self._y_scale_.astype(W.dtype)
        W *= scale[:, None]
        b = (b * scale + self._y_shift_.astype(W.dtype)).astype(W.dtype)
        # Shapes as in Ridge: coef_ is 1-D for a single output, also when y
        # is a column; intercept_ is a scalar only for a 1-D y.
        if W.shape[0] == 1:
            return W[0], b[0] if self._y_1d_ else b
        return W, b


class AdamLogisticClassifier(ClassifierMixin, _AdamLinearModel):
    """Logistic regression, binary or multinomial, trained with Adam.

    Minimises, over the coefficients ``W`` and intercepts ``b``::

        (1 / sum(s)) * sum_i s_i * L_i  +  P(W)

    with ``L_i`` the negative log-likelihood of the true class of sample
    ``i``: the binary logistic loss with ``coef_`` of shape
    ``(1, n_features)`` for two classes, the multinomial (softmax) loss with
    ``coef_`` of shape ``(n_classes, n_features)`` for more. ``s`` are the
    sample weights times the class weights, and ``P`` the ``penalty`` on
    ``W`` (never the intercepts), so that with unit weights the minimiser
    is ``LogisticRegression(C=1 / (n_samples * alpha), l1_ratio=...)``'s
    (``l1_ratio=0`` for ``"l2"``, ``1`` for ``"l1"``, ``l1_ratio`` for
    ``"elasticnet"``). ``positive=True`` constrains ``W >= 0`` (sign
    constraints, e.g. monotone effects), which no scikit-learn classifier
    offers.

    Parameters
    ----------
    penalty : {"l2", "l1", "elasticnet"}, default="l2"
        The penalty ``P(W)`` on the coefficients (never the intercept):
        ``alpha / 2 * ||W||_F^2`` (``"l2"``), ``alpha * ||W||_1`` (``"l1"``)
        or ``alpha * (l1_ratio * ||W||_1 + (1 - l1_ratio) / 2 * ||W||_F^2)``
        (``"elasticnet"``). The L1 part is applied by a proximal step after
        each Adam step (soft-thresholding with Adam's per-coordinate step,
        see Notes), which gives exact zeros.
    alpha : float, default=1e-4
        Penalty strength, ``>= 0``, on the scale of the mean loss: with
        ``"l2"``, ``alpha`` here is ``Ridge(alpha=n_samples * alpha)`` and
        ``LogisticRegression(C=1 / (n_samples * alpha))``; with ``"l1"`` and
        ``"elasticnet"`` it is ``Lasso``'s and ``ElasticNet``'s ``alpha``.
    l1_ratio : float, default=0.15
        The L1 share of ``"elasticnet"``, in ``[0, 1]`` (``SGDRegressor``'s
        default); ignored by the other penalties.
    positive : bool, default=False
        Constrain the coefficients to be ``>= 0`` (the intercept stays free),
        by projection after each step, as ``ElasticNet(positive=True)``.
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept.
    learning_rate : "auto", float or callable, default="auto"
        The optimizer's step size, for the coefficients of the standardised
        features (see Notes). ``"auto"``: 0.3 under full batch (one step
        per epoch), 0.01 with minibatches and in ``partial_fit`` (the step
        sets the minibatch noise floor). A callable is a schedule of the
        1-based update count ``t`` (:mod:`skadam`'s schedules, e.g.
        :class:`~skadam.WarmupCosineDecay`): ``t`` runs on across
        ``warm_start`` fits and ``partial_fit`` calls (``t_``), so two
        continued fits of 5 epochs equal one of 10. Under full batch the step is
        halved whenever the objective has gone 250 steps without a new
        minimum (constant-step Adam may cycle instead of converging when
        its step is too large); that factor is kept by continued fits.
        A number may come as a 0-d NumPy array (as NumPy reductions return
        it), here and for every real-valued parameter; it is used as a float.
    beta_1 : float, default=0.9
        Decay rate of Adam's first-moment estimate, in ``[0, 1)``.
    beta_2 : float, default=0.999
        Decay rate of Adam's second-moment estimate, in ``[0, 1)``.
    epsilon : float, default=1e-8
        Added to Adam's denominator; strictly positive, so that a
        coefficient whose gradient is always zero stays finite.
    amsgrad : bool, default=False
        Use the AMSGrad variant (running maximum of the second moment);
        ``algorithm="adam"`` only (others raise a ``ValueError``).
    algorithm : {"adam", "nadam", "radam", "adamax", "schedulefree_adamw"}, \
            default="adam"
        The optimizer (:func:`skadam.make_optimizer`): :class:`~skadam.Adam`,
        :class:`~skadam.NAdam`, :class:`~skadam.RAdam`,
        :class:`~skadam.Adamax` or :class:`~skadam.ScheduleFreeAdamW`. All
        take ``learning_rate``, ``beta_1``, ``beta_2``, ``epsilon`` and
        ``max_grad_norm`` (for schedule-free, ``beta_1`` is the
        interpolation weight, in ``(0, 1)``); ``amsgrad`` is Adam's alone.
        With schedule-free, ``coef_`` is its averaged point (``eval_params``)
        and the gradient point and base sequence stay in ``adam_state_``
        for continued fits. A continued fit (``warm_start``,
        ``partial_fit``) with another ``algorithm`` raises a
        ``ValueError``: refit with ``warm_start=False``.
    max_grad_norm : float or None, default=None
        Clip the global L2 norm of each step's gradient (trained
        coordinates) to this value before the update, as torch's
        ``clip_grad_norm_``; None: no clipping.
    batch_size : "auto", int or None, default="auto"
        Rows per minibatch. None means full batch (one Adam step per
        epoch). ``"auto"`` means full batch up to 4096 training rows, 512
        rows above, and ``n_samples / 200`` rows (at most 4096) from 102,400;
        on sparse ``X`` above 4096 rows (unless ``sparse_updates="exact"``),
        minibatches of about ``n_features / 2`` stored values, 512 to 4096
        rows (:func:`skadam._sparse.sparse_batch_size`).
    sparse_updates : {"auto", "lazy", "exact"}, default="auto"
        How minibatch steps update the coefficients when ``X`` is sparse.
        ``"exact"``: Adam on every coefficient at every step, as on dense
        data. ``"lazy"``: only the coefficients of the columns the minibatch
        touches, and their moments (lazy Adam, as TensorFlow Addons'
        ``LazyAdam`` and ``torch.optim.SparseAdam``; see
        :meth:`skadam.Adam.lazy_step`), with the L2 penalty of each column
        divided by the probability that a minibatch touches it, so that the
        penalised objective is the same. A step then costs the touched
        columns instead of all ``n_features``; the result is an
        approximation of the exact path's (the moments of untouched columns
        do not decay), the same under full batch. ``"auto"``: lazy when
        ``X`` is sparse, trained in minibatches, the penalty has no L1 part
        and no ``positive``, and a cost model says a lazy step is cheaper
        (few touched columns, several outputs: measured 8.6x faster per
        epoch on 20-class text, 1.6x slower on binary;
        :func:`skadam._sparse.use_lazy`); exact otherwise. Dense ``X`` and
        full batch always take the exact path. See the
        performance page of the documentation.
    max_iter : int, default=10_000
        Maximum number of epochs (passes over the training data; under full
        batch, Adam steps). A ``fit`` that runs out of them before meeting
        ``tol`` warns (``ConvergenceWarning``, quoting the measure).
    tol : float or None, default=1e-4
        The relative accuracy of the objective: training stops when the
        duality-gap bound ``||g||^2 / (2 alpha f)`` (``g`` the objective's
        gradient in the coefficients, ``f`` the objective) certifies ``f``
        within a relative ``tol`` of its minimum (see Notes). With
        ``alpha=0`` there is no bound: the criterion is ``max |g| <= tol``
        (standardised coordinates), as in lbfgs. Also the relative
        improvement that ``n_iter_no_change`` counts. None: run all
        ``max_iter`` epochs.
    n_iter_no_change : int, default=5
        With minibatches, epochs in a row in which the objective (on dense
        ``X`` the epoch's, on sparse ``X`` the exact one at the returned
        tail average) does not improve on its best by a relative ``tol``,
        after which the run stops (the noise floor of minibatch Adam, where
        the bound may not reach ``tol``); with
        ``early_stopping``, the same count on the validation loss. Not
        used by full-batch training without ``early_stopping``, which only
        the bound stops; under full batch the validation window is 250
        steps.
    shuffle : bool, default=True
        Shuffle the training rows at each epoch (minibatches only).
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling and the validation split. Pass an int for
        reproducible results.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training rows, drawn with
        :func:`~sklearn.model_selection.train_test_split` on the row indices
        with ``random_state`` (stratified for the classifier), monitor the
        loss on them after each epoch (the mean log-loss or squared error,
        which unlike accuracy changes with every step), stop after
        ``n_iter_no_change`` epochs (full batch: 250 steps) without a
        relative improvement of ``tol``, or when the training objective is
        within ``tol`` of its minimum, and restore the coefficients of the
        epoch with the lowest validation loss. The validation set needs at
        least 2 rows (the classifier's, one of each class, and its training
        rows too): a split that cannot be drawn raises a ``ValueError``
        naming ``validation_fraction``.
        Not supported by ``partial_fit``, which raises a ``ValueError`` (as
        scikit-learn's SGD and MLP estimators do).
    validation_fraction : float, default=0.1
        Fraction of the rows held out with ``early_stopping``, in ``(0, 1)``.
    warm_start : bool, default=False
        Continue a fitted model: ``fit`` starts from the current iterate
        and Adam state (moments and step count) and random stream, with
        the same validation rows under ``early_stopping`` (drawn once).
        Changed hyperparameters apply: ``amsgrad`` switched on starts its
        running maximum from the current second moment.
        The features (and ``n_features_in_``) must not change, nor the set
        of classes in ``y``: a ``ValueError`` says so.
    verbose : int, default=0
        Print one line per epoch (objective, and validation score if any).
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplying the sample weights: a dict
        ``{class_label: weight}`` of finite, non-negative weights (others
        raise a ``ValueError`` naming the class), or ``"balanced"`` for
        ``n_samples / (n_classes * np.bincount(y))`` (not with
        ``partial_fit``, which does not see the class frequencies).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (any sortable labels: ints, strings).
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Coefficients; one row for two classes (the log-odds of
        ``classes_[1]``).
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts (zeros when ``fit_intercept=False``).
    n_iter_ : int
        Number of epochs run by the last ``fit`` (at most ``max_iter``; 1
        after ``partial_fit``), as in scikit-learn's SGD and MLP estimators.
    t_ : int
        Number of Adam updates taken in all, ``adam_state_.step`` (the
        running total over ``warm_start`` fits and ``partial_fit`` calls).
    adam_state_ : AdamState or the state of ``algorithm``
        The optimizer's moments and step count, kept so that ``warm_start`` and
        ``partial_fit`` continue where training stopped; the moments are
        those of the coefficients of the standardised features (see Notes).
    loss_curve_ : list of float
        Training objective of each epoch (the minibatch losses accumulated
        during the epoch plus the penalty at its end).
    validation_scores_ : list of float or None
        Score on the held-out rows after each epoch (accuracy), with
        ``early_stopping``; None otherwise.
    best_validation_score_ : float or None
        Score of the epoch with the lowest validation loss, whose
        coefficients are restored.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during ``fit``, when ``X`` has string
        column names.

    See Also
    --------
    AdamLinearRegressor : Linear regression (many losses) trained with Adam.
    sklearn.linear_model.LogisticRegression : The same objective, solved
        exactly (``l1_ratio=1`` for ``penalty="l1"``).
    sklearn.neural_network.MLPClassifier : With ``hidden_layer_sizes=()``
        and ``solver="adam"``, a logistic regression trained with Adam.

    Notes
    -----
    Training runs epochs of Adam steps (:class:`skadam.Adam`) on
    minibatches gathered by index from ``X`` (never a copy of ``X``; a
    column-major ``X`` is made row-major once when minibatches are used).
    ``coef_`` and ``intercept_`` are the average of the iterates of the last
    epoch, which removes most of the minibatch noise; under full batch this
    is the last iterate. A run whose objective becomes non-finite (a far too
    large ``learning_rate``) stops with a ``ConvergenceWarning`` and the
    coefficients of the start of that epoch, never NaN; a ``fit`` that ends
    with a training objective more than 1% above the best constant model's
    (``coef_ = 0``) warns too.

    ``fit`` runs Adam on the coefficients of the standardised features
    (minus their weighted mean when there is an intercept, divided by their
    weighted standard deviation, raised where needed so that no value
    exceeds 3 in size, as a rare category's would, and at least
    ``sqrt(alpha)``), without ever forming them: an exact change of
    variables (``coef_`` is always for the raw features, and the optimum is
    the same) that makes the coefficients
    Adam sees about 1 in size whatever the units and offsets of ``X``, so
    that millimetres, kilometres and calendar years train alike. Only the
    penalty depends on the units, as in :class:`~sklearn.linear_model.Ridge`.
    A cold ``fit`` fixes the statistics, which ``warm_start`` keeps: means
    and variances in float64 with a centred two-pass formula (dense, CSR or
    CSC ``X``, float32 or float64), and a feature whose spread is within the
    rounding of its values taken for constant, with a zero coefficient when
    ``fit_intercept``. ``partial_fit`` trains the raw features, and its cold
    start puts the intercept at 0, as :class:`~sklearn.linear_model.SGDClassifier`
    does (a stream's first batch may hold one class only): scale the
    features first, e.g. with a :class:`~sklearn.preprocessing.StandardScaler`
    fitted beforehand. That is the one way the two paths differ. Like
    that scaler, the standardisation is swayed by outliers, which shrink the
    rest of their feature's values and slow its training down: clip them,
    or put a :class:`~sklearn.preprocessing.QuantileTransformer` in front.

    The L1 part of ``"l1"`` and ``"elasticnet"``, and ``positive``, are
    applied after every Adam step by their proximal operator with Adam's
    per-coordinate step, which gives exact zeros: see
    :class:`AdamLinearRegressor`'s Notes and :mod:`skadam._penalties`.

    The defaults reach the documented optimum: full batch on small data
    (deterministic, and integer weights equal repetitions exactly) with a
    ``learning_rate`` of 0.3, and training until the objective is
    certified within a relative ``tol=1e-4`` of its minimum. The
    certificate is the duality gap of L2-regularised empirical risk
    minimisation (Shalev-Shwartz and Zhang, 2013): the residuals form a
    dual point whose gap is ``||g_W||^2 / (2 alpha)``, ``g_W`` the
    gradient in the raw coefficients (the intercept's gradient counts
    alike: no proof there, measured conservative; with an L1 part the
    least-norm subgradient is used, and without an L2 part, which
    leaves no bound, ``max |g| <= tol``); see
    :class:`skadam._training.RelativeGap`. Measured on five bundled
    datasets, standardised or raw: objective within 1.2e-4 relative of the
    optimum, probabilities within 0.006, in 100-6600 steps. On large data,
    minibatches of 512 rows (up to 4096 above 102,400 rows: 200 steps per
    epoch are plenty there, and larger batches cost less per row) at
    ``learning_rate`` 0.01, stopped by the bound or, as minibatch noise
    keeps the gradient off zero, at the noise floor (``n_iter_no_change=5`` epochs
    without a relative improvement of ``tol``: with tail averaging,
    waiting longer buys no accuracy). In ``fit`` the
    intercepts start at their optimum for zero coefficients, the log of the
    (weighted) class priors.

    With ``batch_size=None`` (full batch) the stopping rule is exact at any
    size of data: use it when the certified optimum matters more than time.

    References
    ----------
    D. P. Kingma and J. Ba, "Adam: A Method for Stochastic Optimization",
    ICLR 2015, https://arxiv.org/abs/1412.6980

    J. Yun, A. C. Lozano and E. Yang, "Adaptive Proximal Gradient Methods
    for Structured Neural Networks", NeurIPS 2021 (ProxGen).

    S. Shalev-Shwartz and T. Zhang, "Stochastic Dual Coordinate Ascent
    Methods for Regularized Loss Minimization", JMLR 14, 2013.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skadam import AdamLogisticClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> model = make_pipeline(StandardScaler(), AdamLogisticClassifier(random_state=0))
    >>> model.fit(X, y).score(X, y) > 0.9
    True
    >>> model[-1].coef_.shape, model.predict_proba(X[:2]).shape
    ((3, 4), (2, 3))
    """

    _y_validation: ClassVar[dict] = {"multi_output": False}
    _parameter_constraints: ClassVar[dict] = {
        **_AdamLinearModel._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        *,
        penalty="l2",
        alpha=1e-4,
        l1_ratio=0.15,
        positive=False,
        fit_intercept=True,
        learning_rate="auto",
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        amsgrad=False,
        algorithm="adam",
        max_grad_norm=None,
        batch_size="auto",
        sparse_updates="auto",
        max_iter=10_000,
        tol=1e-4,
        n_iter_no_change=5,
        shuffle=True,
        random_state=None,
        early_stopping=False,
        validation_fraction=0.1,
        warm_start=False,
        verbose=0,
        class_weight=None,
    ):
        super().__init__(
            penalty=penalty,
            alpha=alpha,
            l1_ratio=l1_ratio,
            positive=positive,
            fit_intercept=fit_intercept,
            learning_rate=learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
            algorithm=algorithm,
            max_grad_norm=max_grad_norm,
            batch_size=batch_size,
            sparse_updates=sparse_updates,
            max_iter=max_iter,
            tol=tol,
            n_iter_no_change=n_iter_no_change,
            shuffle=shuffle,
            random_state=random_state,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            warm_start=warm_start,
            verbose=verbose,
        )
        self.class_weight = class_weight

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Run one epoch of Adam over ``(X, y)``, keeping the Adam state.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels.
        classes : array-like of shape (n_classes,), default=None
            All the classes; required on the first call, and ``y`` must only
            contain these. Later calls may omit it, or pass the same classes
            (in any order); other classes raise a ``ValueError``. Validated
            as ``y`` is: NaN, infinity, a 2-D array or continuous values raise
            a ``ValueError`` naming ``classes``; repeated labels count once
            (as in ``SGDClassifier.partial_fit``).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.

        Returns
        -------
        self : object
            The updated estimator.
        """
        if not hasattr(self, "adam_state_"):
            if classes is None:
                raise ValueError(
                    "classes must be passed on the first call to partial_fit."
                )
        if isinstance(self.class_weight, str):
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit, whose "
                "batches do not show the class frequencies; pass a dict, e.g. "
                "from sklearn.utils.compute_class_weight."
            )
        return self._partial_fit(X, y, sample_weight, classes=classes)

    def decision_function(self, X):
        """Decision values ``X @ coef_.T + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes, the log-odds of ``classes_[1]``.
        """
        Z = self._decision(X)
        return Z[:, 0] if Z.shape[1] == 1 else Z

    def predict(self, X):
        """Predict the most probable class.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted labels, taken from ``classes_``.
        """
        Z = self.decision_function(X)
        index = (Z > 0).astype(int) if Z.ndim == 1 else Z.argmax(axis=1)
        return self.classes_[index]

    def predict_proba(self, X):
        """Class probabilities (logistic or softmax of the decision values).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities, columns in the order of ``classes_``.
        """
        Z = self.decision_function(X)
        if Z.ndim == 1:
            p = expit(Z)
            return np.column_stack([1 - p, p])
        return softmax(Z, axis=1)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, computed stably.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities, columns in the order of ``classes_``.
        """
        Z = self.decision_function(X)
        if Z.ndim == 1:
            return -np.logaddexp(0, np.column_stack([Z, -Z]))
        return log_softmax(Z, axis=1)

    def _base_loss(self):
        return HalfBinomialLoss() if len(self.classes_) == 2 else HalfMultinomialLoss()

    def _n_outputs(self):
        return 1 if len(self.classes_) == 2 else len(self.classes_)

    def _check_targets(self, y, classes, *, reset, stream):
        """Set ``classes_`` (cold start) or check that a continued fit keeps them."""
        check_classification_targets(y)
        if classes is not None:
            classes = check_classes(classes)
        if reset:
            self.classes_ = np.unique(y) if classes is None else classes
            if len(self.classes_) < 2:
                raise ValueError(
                    "AdamLogisticClassifier needs samples of at least 2 classes, "
                    f"but the data contains only one class: {self.classes_[0]!r}."
                )
        else:
            if stream:  # partial_fit: y may hold a subset of the classes
                new, what = classes, f"classes={np.asarray(classes).tolist()}"
            else:  # warm_start fit: y must hold the same classes
                new, what = np.unique(y), f"y has classes {np.unique(y).tolist()}"
            if new is not None and not np.array_equal(new, self.classes_):
                raise ValueError(
                    f"{what}, but the fitted model has classes_ "
                    f"{self.classes_.tolist()}, which a continued fit keeps; use "
                    "warm_start=False (or a new estimator) to fit other classes."
                )
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(
                f"y contains classes {unknown.tolist()} that are not in "
                f"classes_ {self.classes_.tolist()}."
            )

    def _class_weights(self, y, s):
        if self.class_weight is None:
            return s
        weights = compute_class_weight(self.class_weight, classes=self.classes_, y=y)
        bad = ~(np.isfinite(weights) & (weights >= 0))
        if bad.any():
            raise ValueError(
                "class_weight must be finite and non-negative; got "
                + ", ".join(
                    f"{float(weights[k])!r} for class {self.classes_[k].tolist()!r}"
                    for k in np.flatnonzero(bad)
                )
                + "."
            )
        return s * weights[np.searchsorted(self.classes_, y)]

    def _encode_targets(self, y, dtype):
        index = np.searchsorted(self.classes_, y)
        if len(self.classes_) == 2:
            return (index == 1).astype(dtype)[:, None]
        return (index[:, None] == np.arange(len(self.classes_))).astype(dtype)

    def _stratify(self, y):
        return y

    def _score_decisions(self, Z, Y, s):
        if Y.shape[1] == 1:
            correct = (Z[:, 0] > 0) == (Y[:, 0] == 1)
        else:
            correct = Z.argmax(axis=1) == Y.argmax(axis=1)
        return float(np.dot(s, correct) / s.sum())

    def _unpack(self, W, b):
        return W, b
