"""Full-batch fits of the estimators on data kept on a Dask cluster."""

import warnings

import dask.dataframe as dd
import numpy as np
from scipy.optimize import minimize
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning

from .._minimize import adam_minimize
from ._blocks import as_dask_array
from ._objective import DaskLinearObjective, _check_classes

__all__ = ["fit_full_batch"]


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
    kind = "squared"
    if is_classifier(estimator):
        classes = _check_classes("multinomial", as_dask_array(y), classes)
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
