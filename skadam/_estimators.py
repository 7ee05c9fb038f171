"""scikit-learn estimators trained with skadam's Adam.

:class:`AdamLinearRegressor` and :class:`AdamLogisticClassifier` minimise::

    (1 / sum(s)) * sum_i s_i * L_i  +  (alpha / 2) * ||W||_F^2

(intercept not penalised, ``s`` the sample weights times the class weights)
with the losses of :mod:`skadam._loss`, by the minibatch loop of
:mod:`skadam._training` and the update rule of :mod:`skadam._adam`.  This
module validates the input, encodes the targets and turns the packed
coefficients into scikit-learn's fitted attributes; it is the only user of
scikit-learn's developer API in skadam.
"""

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
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from ._adam import Adam
from ._loss import ScaledLoss
from ._training import CHUNK_ROWS, Minibatches, decision_values, train

__all__ = ["AdamLinearRegressor", "AdamLogisticClassifier"]

#: Up to this many training rows, ``batch_size="auto"`` means full batch.
AUTO_FULL_BATCH_ROWS = 4096
#: Minibatch size of ``batch_size="auto"`` above :data:`AUTO_FULL_BATCH_ROWS`.
AUTO_BATCH_SIZE = 512
#: On data with more than this many minibatches of AUTO_BATCH_SIZE rows per
#: epoch, "auto" takes batches of ``n_rows / AUTO_STEPS``, up to
#: AUTO_MAX_BATCH_SIZE rows: each step's fixed cost (a few dozen NumPy calls)
#: is then spread over more rows, and an epoch still has AUTO_STEPS steps.
AUTO_STEPS = 200
AUTO_MAX_BATCH_SIZE = 1024


class _AdamLinearModel(BaseEstimator):
    """Shared fitting code; subclasses encode the targets and name the loss."""

    _parameter_constraints: ClassVar[dict] = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        # Strictly positive: a coordinate with zero gradients would give 0/0.
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "amsgrad": ["boolean"],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
            None,
        ],
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
        alpha=1e-4,
        fit_intercept=True,
        learning_rate=0.01,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        amsgrad=False,
        batch_size="auto",
        max_iter=1000,
        tol=1e-4,
        n_iter_no_change=5,
        shuffle=True,
        random_state=None,
        early_stopping=False,
        validation_fraction=0.1,
        warm_start=False,
        verbose=0,
    ):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.learning_rate = learning_rate
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.amsgrad = amsgrad
        self.batch_size = batch_size
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

        Returns
        -------
        self : object
            The fitted estimator.
        """
        keep = self.warm_start and hasattr(self, "adam_state_")
        return self._fit(X, y, sample_weight, incremental=False, keep=keep)

    def _partial_fit(self, X, y, sample_weight, classes=None):
        if self.early_stopping:
            # As in scikit-learn's SGD and MLP estimators: one epoch on the
            # given rows leaves nothing to hold out or to stop.
            raise ValueError(
                "partial_fit does not support early_stopping=True; set "
                "early_stopping=False, or use fit."
            )
        keep = hasattr(self, "adam_state_")
        return self._fit(
            X, y, sample_weight, incremental=True, keep=keep, classes=classes
        )

    def _fit(self, X, y, sample_weight, *, incremental, keep, classes=None):
        X, y = self._validate_fit_data(X, y, keep)
        Y, s = self._encode(X, y, sample_weight, keep, classes, incremental)
        if not keep:
            self._start(X, Y, s, incremental)
        else:
            # New data may need another intercept.
            self._loss_.fixed_intercept = False
            if X.dtype != self._coef_.dtype:
                X, Y, s = (a.astype(self._coef_.dtype) for a in (X, Y, s))
        rows, val_rows = self._split_rows(y, incremental)
        batch_size = self._batch_size(X.shape[0] if rows is None else len(rows))
        validation = None if val_rows is None else self._validation(X, Y, s, val_rows)
        result = train(
            self._loss_,
            self._make_adam(),  # hyperparameters may change between warm fits
            self._coef_,
            self.adam_state_,
            Minibatches(X, Y, s, batch_size, rows),
            alpha=self.alpha,
            max_epochs=1 if incremental else self.max_iter,
            average=self._coef_average_,
            shuffle=self.shuffle,
            rng=self._rng_,
            tol=None if incremental else self.tol,
            n_iter_no_change=self.n_iter_no_change,
            validation=validation,
            verbose=self.verbose,
        )
        self._record(result, incremental)
        # Not after partial_fit: its batch may hold a single class, which a
        # constant model fits perfectly.
        if result.status != "diverged" and not incremental:
            self._check_beats_constant(result, X, Y, s)
        return self

    def _validate_fit_data(self, X, y, keep):
        X, y = validate_data(
            self,
            X,
            y,
            reset=not keep,
            accept_sparse=("csr", "csc"),
            dtype=[np.float64, np.float32],
            **self._y_validation,
        )
        return X, y

    def _sample_weight(self, X, sample_weight):
        s = _check_sample_weight(
            sample_weight, X, dtype=X.dtype, ensure_non_negative=True
        )
        if sample_weight is not None and not np.any(s):
            raise ValueError("All sample weights are zero: nothing to fit.")
        return s

    def _start(self, X, Y, s, incremental):
        """Fresh coefficients, Adam state and random stream (a cold start).

        ``fit`` trains the coefficients of the standardised features (see
        :class:`~skadam._loss.ScaledLoss`); ``partial_fit`` those of the raw
        features, as its first batch need not represent the data.
        """
        if incremental:
            mean, scale = np.zeros(X.shape[1], X.dtype), np.ones(X.shape[1], X.dtype)
        else:
            mean, scale = _feature_scaling(X, s, self.alpha, self.fit_intercept)
        # For centred features and targets the optimal intercept (in these
        # coordinates) is 0 whatever the weights: holding it there spares Adam
        # the rounding noise of its near-zero gradient, which its normalised
        # steps would amplify. Not when some rows are held out for validation.
        hold = (
            self._loss_kind == "squared"
            and self.fit_intercept
            and not incremental
            and not self.early_stopping
        )
        self._loss_ = ScaledLoss(self._loss_kind, self.fit_intercept, scale, mean, hold)
        self._coef_ = np.zeros(self._loss_.coef_shape(Y.shape[1], X.shape[1]), X.dtype)
        if self.fit_intercept:
            self._coef_[:, -1] = self._initial_intercept(Y, s)
        self._coef_average_ = self._coef_.copy()
        self.adam_state_ = self._make_adam().init(self._coef_)
        self._rng_ = check_random_state(self.random_state)
        self.n_iter_ = 0
        self.loss_curve_ = []
        self.validation_scores_ = [] if self.early_stopping else None
        self.best_validation_score_ = None

    def _make_adam(self):
        return Adam(
            learning_rate=self.learning_rate,
            beta_1=self.beta_1,
            beta_2=self.beta_2,
            epsilon=self.epsilon,
            amsgrad=self.amsgrad,
        )

    def _batch_size(self, n_rows):
        if self.batch_size != "auto":
            return self.batch_size
        if n_rows <= AUTO_FULL_BATCH_ROWS:
            return n_rows
        return min(max(AUTO_BATCH_SIZE, n_rows // AUTO_STEPS), AUTO_MAX_BATCH_SIZE)

    def _split_rows(self, y, incremental):
        """Training and validation rows (None, None: all rows, no validation)."""
        if not self.early_stopping or incremental:
            return None, None
        stratify = y if self._loss_kind != "squared" else None
        rows, val_rows = train_test_split(
            np.arange(len(y)),
            test_size=self.validation_fraction,
            random_state=self._rng_,
            stratify=stratify,
        )
        if len(val_rows) < 2:  # a score of one row is undefined (R^2) or 0/1
            raise ValueError(
                f"The validation set has {len(val_rows)} row; early_stopping "
                "needs at least 2: increase validation_fraction or the number "
                "of samples."
            )
        return np.sort(rows), np.sort(val_rows)

    def _validation(self, X, Y, s, rows):
        """The validation loss (monitored) and score (recorded) of ``coef``."""
        Y_val, s_val = Y[rows], s[rows]
        if not np.any(s_val):
            raise ValueError(
                "The sample weights of the validation set are all zero; use "
                "another random_state or validation_fraction."
            )
        weight_sum = s_val.sum()

        def validation(coef):
            Z = decision_values(self._loss_, coef, X, rows)
            loss = self._loss_.loss_sum(Z, Y_val, s_val) / weight_sum
            return loss, self._score_decisions(Z, Y_val, s_val)

        return validation

    def _record(self, result, incremental):
        """Turn the training result into the fitted attributes, and warn."""
        self._set_coef_attributes()
        self.n_iter_ += result.n_epochs
        self.t_ = self.adam_state_.step
        self.loss_curve_.extend(result.loss_curve)
        if self.validation_scores_ is not None and not incremental:
            self.validation_scores_.extend(result.validation_scores)
            self.best_validation_score_ = result.best_validation_score
        if result.status == "diverged":
            warnings.warn(
                f"Adam diverged in epoch {result.n_epochs + 1}: the loss or its "
                "gradient became non-finite. Training stopped with the "
                "coefficients of the start of that epoch, the last with a finite "
                f"objective; try a smaller learning_rate (got {self.learning_rate}).",
                ConvergenceWarning,
                stacklevel=3,
            )
        elif result.status == "max_iter" and not incremental and self.tol is not None:
            warnings.warn(
                f"Adam reached max_iter={self.max_iter} epochs before the "
                f"objective stopped improving by tol={self.tol}; increase "
                "max_iter or the learning_rate.",
                ConvergenceWarning,
                stacklevel=3,
            )

    def _check_beats_constant(self, result, X, Y, s):
        """Warn when the fit is worse than the best constant model (W = 0).

        Worse means a training objective more than 1% above. This happens
        when Adam's steps are far too large for the scale of the
        coefficients (a huge learning_rate; unscaled features after
        partial_fit): the objective jumps up and the run stops for lack of
        improvement.
        """
        # A margin, as with uninformative features the optimum is only a hair
        # below the constant model and minibatch noise can cross it.
        constant = self._constant_objective(Y, s)
        limit = 1.01 * constant + 1e-6
        if not result.loss_curve[-1] > limit:  # cheap test before the exact one
            return
        final, _ = self._loss_.objective(self._coef_average_, X, Y, s, self.alpha)
        if final > limit:
            warnings.warn(
                f"The fitted model's training objective ({final:.4g}) is worse "
                f"than the best constant model's ({constant:.4g}): Adam's steps "
                "are too large for the coefficients; lower the learning_rate "
                f"(got {self.learning_rate}), or, after partial_fit, scale "
                "the features.",
                ConvergenceWarning,
                stacklevel=3,
            )

    def _set_coef_attributes(self):
        """Set ``coef_`` and ``intercept_`` from the packed coefficients."""
        W, b = self._loss_.split(self._loss_.raw(self._coef_average_))
        b = np.zeros(W.shape[0], W.dtype) if b is None else b
        self.coef_, self.intercept_ = self._unpack(W.copy(), b.copy())

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


class AdamLinearRegressor(RegressorMixin, _AdamLinearModel):
    """Least squares with an L2 penalty (ridge regression), trained with Adam.

    Minimises, over the coefficients ``W`` and intercept ``b``::

        (1 / sum(s)) * sum_i s_i * 1/2 * ||y_i - (x_i W^T + b)||^2
            + (alpha / 2) * ||W||_F^2

    with ``s`` the sample weights (ones by default), so that with unit
    weights the minimiser is ``Ridge(alpha=n_samples * alpha)``'s. ``y`` may
    have several columns (multi-output regression).

    Parameters
    ----------
    alpha : float, default=1e-4
        L2 penalty on the coefficients (not the intercept), on the scale of
        the mean loss: ``alpha`` here is ``Ridge(alpha=n_samples * alpha)``
        and ``LogisticRegression(C=1 / (n_samples * alpha))``.
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept.
    learning_rate : float, default=0.01
        Adam's step size, for the coefficients of the standardised
        features (see Notes).
    beta_1 : float, default=0.9
        Decay rate of Adam's first-moment estimate, in ``[0, 1)``.
    beta_2 : float, default=0.999
        Decay rate of Adam's second-moment estimate, in ``[0, 1)``.
    epsilon : float, default=1e-8
        Added to Adam's denominator; strictly positive, so that a
        coefficient whose gradient is always zero stays finite.
    amsgrad : bool, default=False
        Use the AMSGrad variant (running maximum of the second moment).
    batch_size : "auto", int or None, default="auto"
        Rows per minibatch. None means full batch (one Adam step per
        epoch). ``"auto"`` means full batch up to 4096 training rows, 512
        rows above, and ``n_samples / 200`` rows (at most 1024) from 102,400.
    max_iter : int, default=1000
        Maximum number of epochs (passes over the training data).
    tol : float or None, default=1e-4
        The run has converged when the training objective (or, with
        ``early_stopping``, the validation loss) has not improved by at
        least ``tol`` for ``n_iter_no_change`` epochs in a row. None: run all
        ``max_iter`` epochs.
    n_iter_no_change : int, default=5
        Epochs without improvement before stopping.
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
        ``n_iter_no_change`` epochs without an improvement of ``tol``, and
        restore the coefficients of the epoch with the lowest validation
        loss. The validation set needs at least 2 rows.
        Not supported by ``partial_fit``, which raises a ``ValueError`` (as
        scikit-learn's SGD and MLP estimators do).
    validation_fraction : float, default=0.1
        Fraction of the rows held out with ``early_stopping``, in ``(0, 1)``.
    warm_start : bool, default=False
        Continue a fitted model: ``fit`` starts from the current iterate
        and Adam state (moments and step count) and random stream.
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
        Number of epochs run (summed over ``warm_start`` fits and
        ``partial_fit`` calls).
    t_ : int
        Number of Adam steps taken, ``adam_state_.step``.
    adam_state_ : AdamState
        Adam's moments and step count, kept so that ``warm_start`` and
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
    ``partial_fit`` does not standardise (its first batch need not represent
    the data): scale the features first, e.g. with a
    :class:`~sklearn.preprocessing.StandardScaler` fitted beforehand. Like
    that scaler, the standardisation is swayed by outliers, which shrink the
    rest of their feature's values and slow its training down: clip them,
    or put a :class:`~sklearn.preprocessing.QuantileTransformer` in front.

    The defaults: a ``learning_rate`` of 0.01 (ten times Adam's usual value:
    the objective is convex and the coefficients on a unit scale), full
    batch on small data (deterministic, it reaches the exact optimum, and
    integer weights equal repetitions exactly), minibatches of 512 rows on
    large data (up to 1024 above 102,400 rows: 200 steps per epoch are
    plenty there, and larger batches cost less per row), and scikit-learn's
    stopping rule with ``tol=1e-4`` (as in
    :class:`~sklearn.neural_network.MLPClassifier`) and
    ``n_iter_no_change=5`` (as in :class:`~sklearn.linear_model.SGDClassifier`:
    with tail averaging, waiting longer buys no accuracy).

    The targets are standardised internally (per output: minus the weighted
    mean, divided by the weighted standard deviation). This is an exact
    reparametrisation: the objective in the units of ``y`` is the one in
    standardised units times the variance, at the same ``alpha``, so the
    optimum maps back exactly. It puts the coefficients on the unit scale at
    which Adam's steps are meaningful, whatever the units of ``y``. The
    scaling is fixed at the first fit (or ``partial_fit``) and kept by
    ``warm_start`` and ``partial_fit``.

    With ``batch_size=None``, a large ``max_iter`` and a small ``tol`` the
    fit reaches the optimum of the objective above.

    References
    ----------
    D. P. Kingma and J. Ba, "Adam: A Method for Stochastic Optimization",
    ICLR 2015, https://arxiv.org/abs/1412.6980

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

    _loss_kind = "squared"
    _y_validation: ClassVar[dict] = {"multi_output": True, "y_numeric": True}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

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
        Z = self._decision(X)
        return Z.ravel() if Z.shape[1] == 1 else Z

    def _encode(self, X, y, sample_weight, keep, classes, incremental):
        s = self._sample_weight(X, sample_weight)
        y_1d = y.ndim == 1
        Y = np.asarray(y, dtype=X.dtype).reshape(len(y), -1)
        if keep:
            if Y.shape[1] != self._y_shift_.shape[0]:
                raise ValueError(
                    f"y has {Y.shape[1]} outputs, but the model was fitted "
                    f"with {self._y_shift_.shape[0]}."
                )
        else:
            self._y_1d_ = y_1d
            self._y_shift_, self._y_scale_ = _target_scaling(Y, s, self.fit_intercept)
        return (Y - self._y_shift_) / self._y_scale_, s

    def _initial_intercept(self, Y, s):
        # The targets are centred with the weighted mean: 0 is optimal at W=0.
        return 0.0

    def _constant_objective(self, Y, s):
        # Half the weighted variance of each output (mean square without
        # intercept), as the constant model predicts the weighted mean.
        w = s / s.sum()
        R = Y - w @ Y if self.fit_intercept else Y
        return 0.5 * float(w @ np.einsum("ij,ij->i", R, R))

    def _score_decisions(self, Z, Y, s):
        # R^2 is unchanged by the per-output affine scaling of the targets.
        return r2_score(Y, Z, sample_weight=s)

    def _unpack(self, W, b):
        W *= self._y_scale_[:, None]
        b = b * self._y_scale_ + self._y_shift_
        # Shapes as in Ridge: coef_ is 1-D for a single output, also when y
        # is a column; intercept_ is a scalar only for a 1-D y.
        if W.shape[0] == 1:
            return W[0], b[0] if self._y_1d_ else b
        return W, b


class AdamLogisticClassifier(ClassifierMixin, _AdamLinearModel):
    """Logistic regression, binary or multinomial, trained with Adam.

    Minimises, over the coefficients ``W`` and intercepts ``b``::

        (1 / sum(s)) * sum_i s_i * L_i  +  (alpha / 2) * ||W||_F^2

    with ``L_i`` the negative log-likelihood of the true class of sample
    ``i``: the binary logistic loss with ``coef_`` of shape
    ``(1, n_features)`` for two classes, the multinomial (softmax) loss with
    ``coef_`` of shape ``(n_classes, n_features)`` for more. ``s`` are the
    sample weights times the class weights, so that with unit weights the
    minimiser is ``LogisticRegression(C=1 / (n_samples * alpha))``'s.

    Parameters
    ----------
    alpha : float, default=1e-4
        L2 penalty on the coefficients (not the intercept), on the scale of
        the mean loss: ``alpha`` here is ``Ridge(alpha=n_samples * alpha)``
        and ``LogisticRegression(C=1 / (n_samples * alpha))``.
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept.
    learning_rate : float, default=0.01
        Adam's step size, for the coefficients of the standardised
        features (see Notes).
    beta_1 : float, default=0.9
        Decay rate of Adam's first-moment estimate, in ``[0, 1)``.
    beta_2 : float, default=0.999
        Decay rate of Adam's second-moment estimate, in ``[0, 1)``.
    epsilon : float, default=1e-8
        Added to Adam's denominator; strictly positive, so that a
        coefficient whose gradient is always zero stays finite.
    amsgrad : bool, default=False
        Use the AMSGrad variant (running maximum of the second moment).
    batch_size : "auto", int or None, default="auto"
        Rows per minibatch. None means full batch (one Adam step per
        epoch). ``"auto"`` means full batch up to 4096 training rows, 512
        rows above, and ``n_samples / 200`` rows (at most 1024) from 102,400.
    max_iter : int, default=1000
        Maximum number of epochs (passes over the training data).
    tol : float or None, default=1e-4
        The run has converged when the training objective (or, with
        ``early_stopping``, the validation loss) has not improved by at
        least ``tol`` for ``n_iter_no_change`` epochs in a row. None: run all
        ``max_iter`` epochs.
    n_iter_no_change : int, default=5
        Epochs without improvement before stopping.
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
        ``n_iter_no_change`` epochs without an improvement of ``tol``, and
        restore the coefficients of the epoch with the lowest validation
        loss. The validation set needs at least 2 rows.
        Not supported by ``partial_fit``, which raises a ``ValueError`` (as
        scikit-learn's SGD and MLP estimators do).
    validation_fraction : float, default=0.1
        Fraction of the rows held out with ``early_stopping``, in ``(0, 1)``.
    warm_start : bool, default=False
        Continue a fitted model: ``fit`` starts from the current iterate
        and Adam state (moments and step count) and random stream.
        The features (and ``n_features_in_``) must not change, nor the set
        of classes in ``y``: a ``ValueError`` says so.
    verbose : int, default=0
        Print one line per epoch (objective, and validation score if any).
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplying the sample weights: a dict
        ``{class_label: weight}``, or ``"balanced"`` for
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
        Number of epochs run (summed over ``warm_start`` fits and
        ``partial_fit`` calls).
    t_ : int
        Number of Adam steps taken, ``adam_state_.step``.
    adam_state_ : AdamState
        Adam's moments and step count, kept so that ``warm_start`` and
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
    AdamLinearRegressor : Ridge regression trained with Adam.
    sklearn.linear_model.LogisticRegression : The same objective, solved
        exactly.
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
    The statistics are fixed by a cold ``fit`` and kept by ``warm_start``.
    ``partial_fit`` does not standardise (its first batch need not represent
    the data): scale the features first, e.g. with a
    :class:`~sklearn.preprocessing.StandardScaler` fitted beforehand. Like
    that scaler, the standardisation is swayed by outliers, which shrink the
    rest of their feature's values and slow its training down: clip them,
    or put a :class:`~sklearn.preprocessing.QuantileTransformer` in front.

    The defaults: a ``learning_rate`` of 0.01 (ten times Adam's usual value:
    the objective is convex and the coefficients on a unit scale), full
    batch on small data (deterministic, it reaches the exact optimum, and
    integer weights equal repetitions exactly), minibatches of 512 rows on
    large data (up to 1024 above 102,400 rows: 200 steps per epoch are
    plenty there, and larger batches cost less per row), and scikit-learn's
    stopping rule with ``tol=1e-4`` (as in
    :class:`~sklearn.neural_network.MLPClassifier`) and
    ``n_iter_no_change=5`` (as in :class:`~sklearn.linear_model.SGDClassifier`:
    with tail averaging, waiting longer buys no accuracy). The intercepts start
    at their optimum for zero coefficients, the log of the (weighted) class
    priors.

    With ``batch_size=None``, a large ``max_iter`` and a small ``tol`` the
    fit reaches the optimum of the objective above.

    References
    ----------
    D. P. Kingma and J. Ba, "Adam: A Method for Stochastic Optimization",
    ICLR 2015, https://arxiv.org/abs/1412.6980

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
        alpha=1e-4,
        fit_intercept=True,
        learning_rate=0.01,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        amsgrad=False,
        batch_size="auto",
        max_iter=1000,
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
            alpha=alpha,
            fit_intercept=fit_intercept,
            learning_rate=learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
            batch_size=batch_size,
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

    @property
    def _loss_kind(self):
        return "binary_logistic" if len(self.classes_) == 2 else "multinomial"

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
            (in any order); other classes raise a ``ValueError``.
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

    def _encode(self, X, y, sample_weight, keep, classes, incremental):
        check_classification_targets(y)
        if keep:
            self._check_same_classes(y, classes, incremental)
        else:
            self.classes_ = np.unique(y if classes is None else classes)
            if len(self.classes_) < 2:
                raise ValueError(
                    "AdamLogisticClassifier needs samples of at least 2 classes, "
                    f"but the data contains only one class: {self.classes_[0]!r}."
                )
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(
                f"y contains classes {unknown.tolist()} that are not in "
                f"classes_ {self.classes_.tolist()}."
            )
        index = np.searchsorted(self.classes_, y)
        s = self._sample_weight(X, sample_weight)
        if self.class_weight is not None:
            weights = compute_class_weight(
                self.class_weight, classes=self.classes_, y=y
            )
            s = s * weights[index].astype(X.dtype)
        if not np.any(s):
            raise ValueError("All sample weights times class weights are zero.")
        K = len(self.classes_)
        if K == 2:
            return (index == 1).astype(X.dtype)[:, None], s
        return (index[:, None] == np.arange(K)).astype(X.dtype), s

    def _check_same_classes(self, y, classes, incremental):
        """A continued fit keeps ``classes_`` (and the shape of ``coef_``)."""
        if incremental:  # partial_fit: y may hold a subset of the classes
            new = None if classes is None else np.unique(classes)
            what = f"classes={np.asarray(classes).tolist()}"
        else:  # warm_start fit: y must hold the same classes
            new, what = np.unique(y), f"y has classes {np.unique(y).tolist()}"
        if new is not None and not np.array_equal(new, self.classes_):
            raise ValueError(
                f"{what}, but the fitted model has classes_ "
                f"{self.classes_.tolist()}, which a continued fit keeps; use "
                "warm_start=False (or a new estimator) to fit other classes."
            )

    def _initial_intercept(self, Y, s):
        # The intercept that is optimal while W = 0: the log class priors.
        prior = (s @ Y) / s.sum()
        if Y.shape[1] == 1:
            prior = np.array([1 - prior[0], prior[0]])
        log_prior = np.log(np.clip(prior, 1e-12, None))
        if Y.shape[1] == 1:
            return log_prior[1] - log_prior[0]
        return log_prior - log_prior.mean()

    def _constant_objective(self, Y, s):
        # The entropy of the weighted class priors (log(n_classes) without
        # intercept, as the constant model then predicts uniform probabilities).
        if not self.fit_intercept:
            return float(np.log(len(self.classes_)))
        prior = (s @ Y) / s.sum()
        if Y.shape[1] == 1:
            prior = np.array([1 - prior[0], prior[0]])
        prior = prior[prior > 0]
        return float(-np.dot(prior, np.log(prior)))

    def _score_decisions(self, Z, Y, s):
        if Y.shape[1] == 1:
            correct = (Z[:, 0] > 0) == (Y[:, 0] == 1)
        else:
            correct = Z.argmax(axis=1) == Y.argmax(axis=1)
        return float(np.dot(s, correct) / s.sum())

    def _unpack(self, W, b):
        return W, b


def _target_scaling(Y, s, fit_intercept):
    """Per-output weighted mean (if centring) and scale of the targets.

    Training on ``(Y - shift) / scale`` is an exact reparametrisation of the
    objective (per output it is multiplied by ``scale**2`` at the same
    ``alpha``); it puts the targets, hence the coefficients, on a unit scale,
    the scale at which Adam's step size is meaningful.
    """
    w = s / s.sum()
    shift = w @ Y if fit_intercept else np.zeros(Y.shape[1], Y.dtype)
    R = Y - shift
    largest = np.abs(R).max(axis=0)  # divided out first: squares may overflow
    largest[~(largest > 0)] = 1.0
    scale = largest * np.sqrt(w @ (R / largest) ** 2)
    # A constant output (up to the rounding of its mean) is not rescaled, and
    # is shifted by its value itself: a residual of rounding errors would
    # send Adam, whose steps do not shrink with the gradient, off the optimum.
    constant = ~(scale > 1e-10 * np.abs(shift))
    scale[constant] = 1.0
    if fit_intercept:
        shift[constant] = Y[np.argmax(s), constant]
    return shift.astype(Y.dtype), scale.astype(Y.dtype)


def _feature_scaling(X, s, alpha, center):
    """Weighted mean (if centring) and scale of each feature.

    The scale is the weighted standard deviation (root mean square without
    centring), at least a third of the largest deviation from the mean (see
    below), and at least ``sqrt(alpha)``: in the rescaled coordinates the
    curvature of the loss along a coefficient is at most about 1, and the
    floor keeps that of the penalty, ``alpha / scale**2``, at most 1 too (a
    tinier feature is all but penalised away anyway). No temporary the size
    of ``X`` is made for dense ``X``.
    """
    w = s.astype(np.float64) / np.sum(s, dtype=np.float64)
    # w in X's dtype: float64 w @ float32 X would copy X to float64 first.
    mean = (
        np.ravel(w.astype(X.dtype, copy=False) @ X) if center else np.zeros(X.shape[1])
    )
    # Squares beyond the float range are handled below, as overflow.
    with np.errstate(over="ignore", invalid="ignore"):
        mean_square = _weighted_mean_square(X, w)
        scale = np.sqrt(np.clip(mean_square - mean**2, 0, None))
    # A constant feature (up to rounding) is not centred, which would leave
    # only rounding noise; it is divided by its size, like the intercept.
    constant = ~(scale > 1e-10 * np.abs(mean))
    mean[constant] = 0.0
    scale[constant] = np.sqrt(mean_square[constant])
    low, high = _column_range(X, s > 0)
    largest = np.maximum(high - mean, mean - low)
    scale[np.isinf(scale)] = largest[np.isinf(scale)]  # squares overflowed
    # Adam moves every coefficient by about learning_rate, so a rare value
    # many standard deviations out (a rare category's 1) would move the
    # decision values by far more: no value ends up beyond 3 in size.
    scale = np.maximum(scale, largest / 3)
    scale = np.maximum(scale, np.sqrt(alpha))
    scale[~(scale > 0)] = 1.0
    return mean.astype(X.dtype), scale.astype(X.dtype)


def _weighted_mean_square(X, w):
    """``w @ X**2`` without a temporary the size of ``X``."""
    if not sparse.issparse(X):
        return np.einsum("i,ij,ij->j", w, X, X)
    if X.format == "csc":  # slices of columns are cheap
        step = max(1, X.shape[1] // 16)
        parts = [w @ X[:, j : j + step].power(2) for j in range(0, X.shape[1], step)]
        return np.concatenate([np.ravel(part) for part in parts])
    X = X.tocsr()
    total = np.zeros(X.shape[1])
    for lo in range(0, X.shape[0], CHUNK_ROWS):
        total += np.ravel(w[lo : lo + CHUNK_ROWS] @ X[lo : lo + CHUNK_ROWS].power(2))
    return total


def _column_range(X, rows):
    """Minimum and maximum of each column over the ``rows`` (a boolean mask)."""
    if not sparse.issparse(X):
        # fmin/fmax equal min/max on finite X (validated) and run about 4x
        # faster down the columns of a C-ordered array.
        where = rows[:, None]
        low = np.fmin.reduce(X, axis=0, where=where, initial=np.inf)
        return low, np.fmax.reduce(X, axis=0, where=where, initial=-np.inf)
    low, high = np.full(X.shape[1], np.inf), np.full(X.shape[1], -np.inf)
    if X.format == "csc":  # column slices are cheap
        step = max(1, X.shape[1] // 16)
        for j in range(0, X.shape[1], step):
            chunk = X[:, j : j + step][rows]
            low[j : j + step] = chunk.min(axis=0).toarray().ravel()
            high[j : j + step] = chunk.max(axis=0).toarray().ravel()
        return low, high
    # CSR, in chunks of rows: the stored values, then the implicit zeros.
    stored = np.zeros(X.shape[1], dtype=np.int64)
    step = CHUNK_ROWS // 8
    for lo in range(0, X.shape[0], step):
        chunk = X[lo : lo + step][rows[lo : lo + step]]
        np.minimum.at(low, chunk.indices, chunk.data)
        np.maximum.at(high, chunk.indices, chunk.data)
        stored += np.bincount(chunk.indices, minlength=X.shape[1])
    zeros = stored < np.count_nonzero(rows)
    low[zeros], high[zeros] = np.minimum(low[zeros], 0), np.maximum(high[zeros], 0)
    return low, high
