"""Tests for skadam on Dask: block-wise training, searches, distributed objective.

They run on a real ``LocalCluster`` of two worker processes bound to
127.0.0.1 (conftest.py's ``loopback_cluster``: process workers pickle every
task and result, which an in-process cluster would not), started once and
closed when this module ends.  Every test runs under a time limit, so that a
hang fails instead of blocking CI.  The docstring examples of ``skadam.dask``
run with every other doctest, in tests/test_docs.py.
"""

import contextlib
import itertools
import pickle
import signal
import subprocess
import sys
import time
import warnings

import dask
import dask.array as da
import joblib
import numpy as np
import psutil
import pytest
from distributed import Client, get_task_stream
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import minimize
from scipy.stats import loguniform
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error, r2_score
from sklearn.model_selection import (
    GridSearchCV,
    HalvingRandomSearchCV,
    RandomizedSearchCV,
)

from skadam import AdamLinearRegressor, AdamLogisticClassifier, adam_minimize
from skadam._linear_loss import LinearModelLoss
from skadam._losses import HalfBinomialLoss, HalfMultinomialLoss, HalfSquaredError
from skadam._penalties import L2Penalty
from skadam.dask import (
    DaskLinearObjective,
    Incremental,
    check_row_chunks,
    fit_full_batch,
)

_BASE_LOSSES = {
    "squared": HalfSquaredError,
    "binary_logistic": HalfBinomialLoss,
    "multinomial": HalfMultinomialLoss,
}


class LinearLoss:
    """The in-memory objective of a loss kind, as the estimators compute it."""

    def __init__(self, kind, fit_intercept=True):
        self.kind, self.fit_intercept = kind, fit_intercept

    def coef_shape(self, n_outputs, n_features):
        return (n_outputs, n_features + int(self.fit_intercept))

    def objective(self, coef, X, Y, sample_weight, alpha):
        loss = LinearModelLoss(
            _BASE_LOSSES[self.kind](), L2Penalty(alpha), self.fit_intercept
        )
        return loss.loss_gradient(coef, X, Y, sample_weight)


LOOPBACK = {"127.0.0.1", "::1"}
TEST_TIME_LIMIT = 60  # seconds, per test (the whole file takes far less)


@contextlib.contextmanager
def time_limit(seconds):
    """Raise ``TimeoutError`` in the main thread after ``seconds``."""

    def _raise(signum, frame):
        raise TimeoutError(f"gave up after {seconds} s")

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(autouse=True)
def _bounded_in_time():
    with time_limit(TEST_TIME_LIMIT):
        yield


@pytest.fixture(scope="module")
def client(loopback_cluster):
    """A client of the conftest's cluster: two worker processes, 127.0.0.1."""
    with time_limit(TEST_TIME_LIMIT):
        client = Client(loopback_cluster, timeout="20s")
    try:
        yield client
    finally:
        with time_limit(TEST_TIME_LIMIT):
            client.close()


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_import_skadam_does_not_import_dask():
    code = (
        "import sys, skadam\n"
        "bad = sorted(m for m in sys.modules\n"
        "             if m.split('.')[0] in ('dask', 'distributed', 'dask_ml'))\n"
        "assert not bad, bad\n"
        "import skadam.dask\n"
        "assert 'distributed' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_cluster_uses_loopback_only(client):
    assert client.submit(sum, [1, 2], pure=False).result() == 3
    workers = client.scheduler_info()["workers"]
    assert len(workers) == 2
    assert all(addr.startswith("tcp://127.0.0.1:") for addr in workers)
    me = psutil.Process()
    connections = [
        c for p in [me, *me.children(recursive=True)] for c in p.net_connections()
    ]
    listening = [c.laddr for c in connections if c.status == psutil.CONN_LISTEN]
    # The scheduler, its dashboard, and per worker: nanny, worker, HTTP server.
    assert len(listening) >= 8
    assert {addr.ip for addr in listening} <= LOOPBACK
    assert {c.raddr.ip for c in connections if c.raddr} <= LOOPBACK


# --- check_row_chunks ------------------------------------------------------


def test_check_row_chunks_names_the_column_chunks():
    X = da.zeros((20, 5), chunks=(10, (2, 3)))
    with pytest.raises(ValueError, match=r"X is chunked along its columns.*\(2, 3\)"):
        check_row_chunks(X)
    Y = da.zeros((20, 4), chunks=(10, 2))
    with pytest.raises(ValueError, match=r"y is chunked along its columns"):
        check_row_chunks(X.rechunk({1: -1}), Y)
    check_row_chunks(X.rechunk({1: -1}), Y.rechunk({1: -1}))
    check_row_chunks(np.zeros((3, 2)), np.zeros(3))


# --- DaskLinearObjective ---------------------------------------------------


def _problem(rng, kind, n=230, d=4, n_outputs=2):
    """Data with uneven row blocks, weights, and the in-memory targets ``Y``."""
    X = rng.normal(size=(n, d))
    sw = rng.uniform(0.0, 2.0, size=n)
    if kind == "squared":
        y = X @ rng.normal(size=(d, n_outputs)) + rng.normal(size=n_outputs)
        Y, classes = y, None
    else:
        n_classes = 2 if kind == "binary_logistic" else 3
        labels = np.array(["ant", "bee", "cat"][:n_classes])
        y = labels[rng.integers(n_classes, size=n)]
        classes = labels
        Y = (y[:, None] == labels).astype(float)
        if kind == "binary_logistic":
            Y = Y[:, 1:]
    chunks = (100, 80, 50)
    dX = da.from_array(X, chunks=(chunks, d))
    dy = da.from_array(y, chunks=(chunks,) + ((n_outputs,) if y.ndim == 2 else ()))
    dsw = da.from_array(sw, chunks=(chunks,))
    return (X, y, Y, sw, classes), (dX, dy, dsw)


@pytest.mark.parametrize("kind", ["squared", "binary_logistic", "multinomial"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_objective_matches_in_memory_loss(client, rng, kind, fit_intercept):
    (X, _, Y, sw, classes), (dX, dy, dsw) = _problem(rng, kind)
    loss = LinearLoss(kind, fit_intercept)
    with DaskLinearObjective(
        dX,
        dy,
        loss=kind,
        alpha=0.3,
        fit_intercept=fit_intercept,
        sample_weight=dsw,
        client=client,
    ) as objective:
        assert objective.n_blocks == 3
        assert objective.coef_shape == loss.coef_shape(Y.shape[1], X.shape[1])
        assert_allclose(objective.weight_sum, sw.sum(), rtol=1e-12)
        for _ in range(2):
            coef = rng.normal(size=objective.coef_shape)
            value, grad = objective(coef.ravel())
            expected_value, expected_grad = loss.objective(coef, X, Y, sw, 0.3)
            assert_allclose(value, expected_value, rtol=1e-12)
            assert_allclose(grad, expected_grad.ravel(), rtol=1e-10, atol=1e-13)
    if classes is not None:
        assert_array_equal(objective.classes, classes)


def test_objective_squared_matches_the_formula(client, rng):
    """An oracle written out here, independent of skadam._linear_loss."""
    (X, y, _, sw, _), (dX, dy, dsw) = _problem(rng, "squared")
    alpha = 0.7
    W, b = rng.normal(size=(2, 4)), rng.normal(size=2)
    R = X @ W.T + b - y
    expected = 0.5 * np.sum(sw[:, None] * R**2) / sw.sum() + 0.5 * alpha * np.sum(W**2)
    grad_W = (sw[:, None] * R).T @ X / sw.sum() + alpha * W
    grad_b = (sw[:, None] * R).sum(axis=0) / sw.sum()
    objective = DaskLinearObjective(
        dX, dy, alpha=alpha, sample_weight=dsw, client=client
    )
    value, grad = objective(np.column_stack([W, b]))
    objective.close()
    assert_allclose(value, expected, rtol=1e-12)
    assert_allclose(grad, np.column_stack([grad_W, grad_b]).ravel(), rtol=1e-10)


def test_objective_is_one_task_per_worker_per_call(client, rng):
    _, (dX, dy, _) = _problem(rng, "squared")
    objective = DaskLinearObjective(dX, dy, client=client)
    holders = [worker for worker, _ in objective._groups]
    with get_task_stream(client=client) as stream:
        for _ in range(3):
            objective(np.zeros(objective.coef_shape))
    objective.close()
    tasks = stream.data
    # The blocks were computed once, at construction: each call runs one task
    # per worker holding blocks, where they are, and never the graph that made
    # X and y.
    assert sorted(task["worker"] for task in tasks) == sorted(3 * holders)
    assert all("_loss_sums" in str(task["key"]) for task in tasks)
    assert not [
        action
        for task in tasks
        for action in task["startstops"]
        if action["action"] == "transfer"
    ]


def _keys_on_workers(client):
    return set().union(*client.has_what().values())


def test_close_releases_the_blocks(client, rng):
    _, (dX, dy, _) = _problem(rng, "squared")
    objective = DaskLinearObjective(dX, dy, client=client)
    keys = {block.key for block in objective._blocks}
    assert len(keys) == 3
    assert keys <= _keys_on_workers(client)
    objective.close()
    for _ in range(100):  # the workers drop released keys asynchronously
        if not keys & _keys_on_workers(client):
            break
        time.sleep(0.05)
    assert not keys & _keys_on_workers(client)


def test_minimize_on_the_cluster_follows_the_in_memory_run(client, rng):
    (X, _, Y, sw, _), (dX, dy, dsw) = _problem(rng, "multinomial")
    loss = LinearLoss("multinomial", True)
    options = {"learning_rate": 0.05, "maxiter": 60, "gtol": 0.0}
    x0 = np.zeros(loss.coef_shape(3, 4)).ravel()

    def in_memory(coef):
        value, grad = loss.objective(coef.reshape(3, 5), X, Y, sw, 0.01)
        return value, grad.ravel()

    expected = minimize(in_memory, x0, method=adam_minimize, jac=True, options=options)
    with DaskLinearObjective(
        dX, dy, loss="multinomial", alpha=0.01, sample_weight=dsw, client=client
    ) as objective:
        result = minimize(
            objective, x0, method=adam_minimize, jac=True, options=options
        )
    assert result.nit == expected.nit == 60
    assert_allclose(result.x, expected.x, rtol=1e-8, atol=1e-10)
    assert_allclose(result.fun, expected.fun, rtol=1e-10)


def test_closing_one_objective_leaves_another_on_the_same_data(client, rng):
    _, (dX, dy, _) = _problem(rng, "squared")
    first = DaskLinearObjective(dX, dy, client=client)
    second = DaskLinearObjective(dX, dy, client=client)
    coef = np.ones(first.coef_shape)
    expected = first(coef)
    first.close()
    value, grad = second(coef)
    second.close()
    assert_allclose(value, expected[0], rtol=1e-14)
    assert_allclose(grad, expected[1], rtol=1e-14)


def test_objective_accepts_dataframes(client, rng):
    import dask.dataframe as dd
    import pandas as pd

    (X, y, Y, _, _), _ = _problem(rng, "binary_logistic")
    df = dd.from_pandas(pd.DataFrame(X, columns=list("abcd")), npartitions=3)
    labels = dd.from_pandas(pd.Series(y), npartitions=3)
    coef = rng.normal(size=(1, 5))
    with DaskLinearObjective(df, labels, loss="binary_logistic", client=client) as obj:
        assert obj.n_blocks == 3
        value, grad = obj(coef)
    expected = LinearLoss("binary_logistic").objective(coef, X, Y, None, 0.0)
    assert_allclose(value, expected[0], rtol=1e-12)
    assert_allclose(grad, expected[1].ravel(), rtol=1e-10)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"X": "column chunks"}, "X is chunked along its columns"),
        ({"X": "nan"}, "X contains NaN or infinity"),
        ({"y": "short"}, "X has 230 rows but y has 229"),
        ({"sample_weight": "negative"}, "sample_weight must be non-negative"),
        ({"sample_weight": "zero"}, "weights sum to 0.0"),
        ({"loss": "hinge"}, "loss must be one of"),
        ({"classes": ["ant", "bee", "cat"]}, "binary_logistic needs 2 classes"),
        ({"classes": ["ant", "cat"]}, "labels .*bee.* not in classes"),
    ],
)
def test_objective_rejects_bad_input(client, rng, change, message):
    (X, y, _, sw, _), _ = _problem(rng, "binary_logistic")
    X, sw = X.copy(), sw.copy()
    args = {"loss": "binary_logistic", "classes": None}
    column_chunks = change.pop("X", None)
    if column_chunks == "nan":
        X[150, 2] = np.nan
    if change.pop("y", None):
        y = y[:-1]
    weights = change.pop("sample_weight", None)
    if weights:
        sw[7] = -1.0 if weights == "negative" else sw[7]
        sw = np.zeros_like(sw) if weights == "zero" else sw
    args.update(change)
    dX = da.from_array(X, chunks=(100, 2 if column_chunks == "column chunks" else 4))
    with pytest.raises(ValueError, match=message):
        DaskLinearObjective(
            dX,
            da.from_array(y, chunks=100),
            sample_weight=da.from_array(sw),
            client=client,
            **args,
        )


# --- Route 1: Incremental ---------------------------------------------------


def _classification(rng, n=400, d=5, n_classes=3):
    X = rng.normal(size=(n, d))
    logits = X @ rng.normal(size=(d, n_classes))
    y = np.array(["ant", "bee", "cat"])[logits.argmax(axis=1)]
    return X, y


def _regression(rng, n=400, d=5):
    X = rng.normal(size=(n, d))
    return X, 50.0 + X @ rng.normal(size=d) * 10 + rng.normal(size=n)


CHUNKS = (120, 120, 100, 60)


def _blocks(X, y):
    bounds = np.cumsum((0, *CHUNKS))
    return [(X[a:b], y[a:b]) for a, b in itertools.pairwise(bounds)]


def _as_dask(X, y, frame):
    if frame:
        import dask.dataframe as dd
        import pandas as pd

        columns = [f"f{i}" for i in range(X.shape[1])]
        divisions = tuple(np.cumsum((0, *CHUNKS)))
        divisions = (*divisions[:-1], divisions[-1] - 1)
        df = pd.DataFrame(X, columns=columns)
        dX = dd.from_pandas(df, npartitions=1).repartition(divisions=divisions)
        target = pd.Series(y) if y.ndim == 1 else pd.DataFrame(y)
        dy = dd.from_pandas(target, npartitions=1).repartition(divisions=divisions)
        return dX, dy, [(df.iloc[a:b], yb) for (a, b), (_, yb) in _ranges(X, y)]
    dX = da.from_array(X, chunks=(CHUNKS, -1))
    return dX, da.from_array(y, chunks=(CHUNKS, -1)[: y.ndim]), _blocks(X, y)


def _ranges(X, y):
    bounds = np.cumsum((0, *CHUNKS))
    return [((a, b), (None, y[a:b])) for a, b in itertools.pairwise(bounds)]


def _assert_same_model(model, expected):
    assert model.t_ == expected.t_ > 0
    assert model.n_iter_ == expected.n_iter_
    assert_allclose(model.coef_, expected.coef_, rtol=1e-12, atol=1e-14)
    assert_allclose(model.intercept_, expected.intercept_, rtol=1e-12, atol=1e-14)
    assert_allclose(model.loss_curve_, expected.loss_curve_, rtol=1e-12)


@pytest.mark.parametrize("frame", [False, True], ids=["array", "dataframe"])
@pytest.mark.parametrize("kind", ["classifier", "regressor", "two outputs"])
def test_incremental_matches_the_same_partial_fits_in_memory(client, rng, kind, frame):
    if kind == "classifier":
        X, y = _classification(rng)
        estimator = AdamLogisticClassifier(batch_size=32, random_state=0)
        fit_params = {"classes": ["ant", "bee", "cat"]}
    else:
        X, y = _regression(rng)
        if kind == "two outputs":
            y = np.column_stack([y, rng.normal(size=len(y))])
        estimator = AdamLinearRegressor(batch_size=32, random_state=0)
        fit_params = {}
    dX, dy, blocks = _as_dask(X, y, frame)
    model = Incremental(estimator, shuffle_blocks=False)
    expected = clone(estimator)
    for _ in range(3):  # epochs; the estimator also shuffles within blocks
        assert model.partial_fit(dX, dy, **fit_params) is model
        for Xb, yb in blocks:
            expected.partial_fit(Xb, yb, **fit_params)
    _assert_same_model(model.estimator_, expected)
    assert_allclose(model.coef_, expected.coef_, rtol=1e-12, atol=1e-14)
    if frame:
        assert_array_equal(model.estimator_.feature_names_in_, dX.columns)
    predictions = model.predict(dX)
    assert dask.is_dask_collection(predictions)
    predicted, expected_predictions = (
        predictions.compute(),
        expected.predict(blocks_X(blocks)),
    )
    if kind == "classifier":
        assert_array_equal(predicted, expected_predictions)
    else:
        assert_allclose(predicted, expected_predictions, rtol=1e-12)


def blocks_X(blocks):
    import pandas as pd

    parts = [Xb for Xb, _ in blocks]
    return pd.concat(parts) if hasattr(parts[0], "iloc") else np.vstack(parts)


def test_incremental_fit_is_one_epoch_from_a_clone(client, rng):
    X, y = _classification(rng)
    estimator = AdamLogisticClassifier(batch_size=50, random_state=1)
    dX, dy, blocks = _as_dask(X, y, frame=False)
    model = Incremental(estimator, shuffle_blocks=False)
    classes = ["ant", "bee", "cat"]
    for _ in range(2):  # fit starts again from a clone every time
        assert model.fit(dX, dy, classes=classes) is model
    expected = clone(estimator)
    for Xb, yb in blocks:
        expected.partial_fit(Xb, yb, classes=classes)
    _assert_same_model(model.estimator_, expected)
    assert not hasattr(estimator, "coef_")


def test_incremental_shuffled_blocks_follow_the_wrappers_order(client, rng):
    X, y = _regression(rng)
    dX, dy, blocks = _as_dask(X, y, frame=False)
    estimator = AdamLinearRegressor(batch_size=40, random_state=0)
    model = Incremental(estimator, shuffle_blocks=True, random_state=3)
    model.partial_fit(dX, dy).partial_fit(dX, dy)
    # dask-ml draws the block order from random_state, the same every call.
    order = np.arange(len(blocks))
    np.random.RandomState(3).shuffle(order)
    expected = clone(estimator)
    for _ in range(2):
        for i in order:
            expected.partial_fit(*blocks[i])
    assert not np.array_equal(order, np.arange(len(blocks)))
    _assert_same_model(model.estimator_, expected)


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_incremental_rejects_column_chunks(client, rng, method):
    X, y = _regression(rng)
    dX = da.from_array(X, chunks=(100, 3))
    model = Incremental(AdamLinearRegressor())
    with pytest.raises(ValueError, match=r"X is chunked along its columns.*\(3, 2\)"):
        getattr(model, method)(dX, da.from_array(y, chunks=100))
    assert not hasattr(model, "estimator_")


def _same_object(obj):
    return obj


@pytest.mark.parametrize("route", ["pickle", "worker process"])
def test_round_trip_in_the_middle_of_training(client, rng, route):
    X, y = _classification(rng)
    blocks = _blocks(X, y)
    classes = ["ant", "bee", "cat"]
    model = AdamLogisticClassifier(batch_size=16, random_state=0)
    model.partial_fit(*blocks[0], classes=classes)
    if route == "pickle":
        restored = pickle.loads(pickle.dumps(model))
    else:  # to a worker process and back, as Incremental moves it
        restored = client.submit(_same_object, model, pure=False).result()
    assert restored is not model
    for Xb, yb in blocks[1:]:
        model.partial_fit(Xb, yb, classes=classes)
        restored.partial_fit(Xb, yb, classes=classes)
    # Moments, step count and random stream all survived the round trip.
    assert restored.t_ == model.t_
    assert_array_equal(restored.coef_, model.coef_)
    assert_array_equal(restored.intercept_, model.intercept_)


@pytest.mark.parametrize("scoring", [None, "r2"])
@pytest.mark.parametrize("layout", ["array", "dataframe", "two outputs"])
def test_incremental_r2_of_a_regressor_equals_scikit_learns(
    client, rng, scoring, layout
):
    X, y = _regression(rng)
    if layout == "two outputs":
        y = np.column_stack([y, -2.0 * y + rng.normal(size=len(y))])
        dX, dy = da.from_array(X, chunks=100), da.from_array(y, chunks=100)
    else:
        dX, dy, _ = _as_dask(X, y, frame=layout == "dataframe")
    model = Incremental(AdamLinearRegressor(random_state=0), scoring=scoring)
    model.fit(dX, dy)
    predictions = model.estimator_.predict(dX.compute())
    assert_allclose(model.score(dX, dy), r2_score(y, predictions), rtol=1e-10)
    lazy = model.score(dX, dy, compute=False)
    assert dask.is_dask_collection(lazy)
    assert_allclose(lazy.compute(), r2_score(y, predictions), rtol=1e-10)


def test_incremental_r2_of_a_constant_target(client):
    X = np.ones((40, 2))
    dX, dy = da.from_array(X, chunks=10), da.from_array(np.full(40, 3.0), chunks=10)
    model = Incremental(AdamLinearRegressor()).fit(dX, dy)
    expected = r2_score(np.full(40, 3.0), model.estimator_.predict(X))
    assert model.score(dX, dy) == expected


def test_incremental_scores_with_dask_ml_scorers(client, rng):
    X, y = _regression(rng)
    dX, dy, _ = _as_dask(X, y, frame=False)
    model = Incremental(
        AdamLinearRegressor(random_state=0), scoring="neg_mean_squared_error"
    )
    model.fit(dX, dy)
    expected = -mean_squared_error(y, model.estimator_.predict(X))
    assert_allclose(model.score(dX, dy), expected, rtol=1e-10)
    Xc, yc = _classification(rng)
    dXc, dyc, _ = _as_dask(Xc, yc, frame=False)
    classifier = Incremental(AdamLogisticClassifier(batch_size=16, random_state=0))
    for _ in range(3):
        classifier.partial_fit(dXc, dyc, classes=["ant", "bee", "cat"])
    accuracy = classifier.estimator_.score(Xc, yc)
    assert_allclose(classifier.score(dXc, dyc), accuracy)
    assert accuracy > 0.8


# --- Route 2: searches through joblib's Dask backend -----------------------


def _search_runs_on_the_cluster(client, search, X, y):
    """Fit ``search`` on the cluster; return it and the tasks the workers ran."""
    with get_task_stream(client=client) as stream:
        with joblib.parallel_backend("dask", scatter=[X, y]):
            search.fit(X, y)
    return search, stream.data


def _assert_fits_ran_on_the_workers(client, tasks):
    # joblib groups calls into batches of its own choosing: count batches.
    fits = [task for task in tasks if "fit_and_score" in str(task["key"])]
    assert len(fits) >= 2
    assert {task["worker"] for task in fits} <= set(client.scheduler_info()["workers"])


def test_grid_search_on_the_cluster_matches_in_memory(client, rng):
    X, y = _classification(rng)
    grid = {"alpha": [1e-4, 1e-2], "learning_rate": [0.01, 0.1]}
    estimator = AdamLogisticClassifier(batch_size=32, max_iter=20, random_state=0)
    search = GridSearchCV(estimator, grid, cv=3, n_jobs=-1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search, tasks = _search_runs_on_the_cluster(client, search, X, y)
        expected = GridSearchCV(estimator, grid, cv=3, n_jobs=1).fit(X, y)
    _assert_fits_ran_on_the_workers(client, tasks)
    assert_allclose(
        search.cv_results_["mean_test_score"],
        expected.cv_results_["mean_test_score"],
    )
    assert search.best_params_ == expected.best_params_
    assert_allclose(search.best_estimator_.coef_, expected.best_estimator_.coef_)


def test_randomized_and_halving_searches_on_the_cluster(client, rng):
    X, y = _regression(rng)
    distributions = {"alpha": loguniform(1e-5, 1e-1), "learning_rate": [0.01, 0.1]}
    estimator = AdamLinearRegressor(batch_size=64, max_iter=30, random_state=0)
    searches = [
        RandomizedSearchCV(estimator, distributions, n_iter=4, cv=3, random_state=0),
        HalvingRandomSearchCV(
            estimator,
            distributions,
            n_candidates=4,
            cv=3,
            min_resources=100,
            random_state=0,
        ),
    ]
    for search in searches:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            expected = clone(search).fit(X, y)
            search.set_params(n_jobs=-1)
            search, tasks = _search_runs_on_the_cluster(client, search, X, y)
        _assert_fits_ran_on_the_workers(client, tasks)
        assert_allclose(
            search.cv_results_["mean_test_score"],
            expected.cv_results_["mean_test_score"],
        )
        assert search.best_params_ == expected.best_params_
        assert search.best_score_ > 0.9  # R^2 of the best candidate


# --- fit_full_batch --------------------------------------------------------


def _adam_in_memory(loss, X, Y, alpha, shape, options):
    def objective(coef):
        value, grad = loss.objective(coef.reshape(shape), X, Y, None, alpha)
        return value, grad.ravel()

    x0 = np.zeros(np.prod(shape))
    return minimize(objective, x0, method=adam_minimize, jac=True, options=options)


def test_fit_full_batch_classifier_follows_adam_in_memory(client, rng):
    X, y = _classification(rng)
    dX, dy, _ = _as_dask(X, y, frame=False)
    classifier = AdamLogisticClassifier(
        alpha=1e-3, learning_rate=0.05, max_iter=40, tol=None
    )
    assert fit_full_batch(classifier, dX, dy, client=client) is classifier
    Y = (y[:, None] == np.array(["ant", "bee", "cat"])).astype(float)
    options = {"learning_rate": 0.05, "maxiter": 40, "gtol": 0.0}
    expected = _adam_in_memory(LinearLoss("multinomial"), X, Y, 1e-3, (3, 6), options)
    coef = expected.x.reshape(3, 6)
    assert_array_equal(classifier.classes_, ["ant", "bee", "cat"])
    assert_allclose(classifier.coef_, coef[:, :5], rtol=1e-8, atol=1e-12)
    assert_allclose(classifier.intercept_, coef[:, 5], rtol=1e-8, atol=1e-12)
    assert classifier.n_iter_ == classifier.t_ == 40
    assert len(classifier.loss_curve_) == 40
    assert_allclose(classifier.loss_curve_[-1], expected.fun, rtol=1e-10)
    decision = X @ coef[:, :5].T + coef[:, 5]
    assert_array_equal(classifier.predict(X), classifier.classes_[decision.argmax(1)])
    assert classifier.score(X, y) > 0.8


def _frames(X, y):
    import dask.dataframe as dd
    import pandas as pd

    df = pd.DataFrame(X, columns=list("abcd"))
    y = pd.Series(y) if y.ndim == 1 else pd.DataFrame(y)
    return df, dd.from_pandas(df, npartitions=3), dd.from_pandas(y, npartitions=3)


def test_fit_full_batch_regressor_reaches_the_ridge_optimum(client, rng):
    X = rng.normal(size=(300, 4))
    Y = X @ rng.normal(size=(4, 2)) + 1.5 + 0.1 * rng.normal(size=(300, 1))
    df, dX, dY = _frames(X, Y)
    regressor = AdamLinearRegressor(alpha=0.01, learning_rate=0.1, max_iter=1000)
    fit_full_batch(regressor, dX, dY.to_dask_array(lengths=True), gtol=1e-7)
    ridge = Ridge(alpha=300 * 0.01).fit(X, Y)
    assert_allclose(regressor.coef_, ridge.coef_, atol=1e-5)
    assert_allclose(regressor.intercept_, ridge.intercept_, atol=1e-5)
    assert regressor.n_iter_ < 1000  # stopped on gtol
    assert_array_equal(regressor.feature_names_in_, list("abcd"))
    assert_allclose(regressor.predict(df), ridge.predict(X), atol=1e-4)


def test_fit_full_batch_regressor_with_1d_targets(client, rng):
    X = rng.normal(size=(300, 4)).astype(np.float32)
    y = X @ rng.normal(size=4).astype(np.float32) + 1.0
    df, dX, dy = _frames(X, y)
    regressor = AdamLinearRegressor(alpha=0.0, learning_rate=0.1, max_iter=30)
    regressor.set_params(tol=None).fit(X[:50], y[:50])  # state to be replaced
    assert fit_full_batch(regressor, dX, dy) is regressor
    options = {"learning_rate": 0.1, "maxiter": 30, "gtol": 0.0}
    expected = _adam_in_memory(
        LinearLoss("squared"), X, y[:, None].astype(float), 0.0, (1, 5), options
    )
    assert regressor.coef_.dtype == np.float32
    assert regressor.coef_.shape == (4,)
    assert_allclose(regressor.coef_, expected.x[:4], rtol=1e-5)
    assert_allclose(regressor.intercept_, expected.x[4], rtol=1e-5)
    assert regressor.n_iter_ == regressor.t_ == 30
    predictions = regressor.predict(df)
    assert predictions.shape == (300,)
    assert predictions.dtype == np.float32
    # No Adam state is left from the earlier fit: partial_fit starts afresh.
    assert not hasattr(regressor, "adam_state_")
    regressor.set_params(batch_size=None).partial_fit(X, y)
    assert regressor.t_ == 1


def test_fit_full_batch_column_target_has_the_in_memory_shapes(client, rng):
    X = rng.normal(size=(120, 4))
    y = (X @ np.array([1.0, -2.0, 0.5, 0.0]) + 1.0)[:, None]  # a column
    _, dX, dy = _frames(X, y)
    dy = dy.to_dask_array(lengths=True)
    params = dict(learning_rate=0.1, max_iter=50, tol=None)
    on_cluster = fit_full_batch(AdamLinearRegressor(**params), dX, dy)
    in_memory = AdamLinearRegressor(**params).fit(X, y)
    assert on_cluster.coef_.shape == in_memory.coef_.shape == (4,)
    assert on_cluster.intercept_.shape == in_memory.intercept_.shape == (1,)
    assert on_cluster.predict(X).shape == in_memory.predict(X).shape


def test_fit_full_batch_warns_and_rejects(client, rng):
    X, y = _classification(rng)
    dX, dy, _ = _as_dask(X, y, frame=False)
    with pytest.raises(ValueError, match="class_weight"):
        fit_full_batch(AdamLogisticClassifier(class_weight="balanced"), dX, dy)
    with pytest.warns(ConvergenceWarning, match="maxiter=5 steps"):
        fit_full_batch(AdamLogisticClassifier(max_iter=5), dX, dy, client=client)


@pytest.mark.parametrize(
    "estimator",
    [
        AdamLinearRegressor("poisson", penalty="l1", alpha=1e-3, batch_size=32),
        AdamLinearRegressor("quantile", quantile=0.8, positive=True, batch_size=32),
        AdamLogisticClassifier(penalty="elasticnet", l1_ratio=0.5, batch_size=32),
    ],
    ids=["poisson-l1", "quantile-positive", "logistic-elasticnet"],
)
def test_incremental_trains_every_loss_and_penalty_as_in_memory(client, rng, estimator):
    # Issue 10: Incremental runs the estimators' partial_fit, so the losses
    # and penalties stream from Dask exactly as from memory.
    X, y = _regression(rng)
    fit_params = {}
    if isinstance(estimator, AdamLogisticClassifier):
        y = (y > 50).astype(int)
        fit_params = {"classes": [0, 1]}
    elif estimator.loss == "poisson":
        y = np.round(np.exp((y - 50) / 30))
    X = X / 3
    estimator.set_params(random_state=0)
    dX, dy, blocks = _as_dask(X, y, False)
    model = Incremental(estimator, shuffle_blocks=False)
    expected = clone(estimator)
    for _ in range(2):
        model.partial_fit(dX, dy, **fit_params)
        for Xb, yb in blocks:
            expected.partial_fit(Xb, yb, **fit_params)
    _assert_same_model(model.estimator_, expected)


def test_fit_full_batch_refuses_the_losses_and_penalties_it_does_not_minimise(
    client, rng
):
    X, y = _regression(rng)
    dX, dy, _ = _as_dask(X, y, False)
    for estimator in (
        AdamLinearRegressor("huber"),
        AdamLinearRegressor(penalty="l1"),
        AdamLogisticClassifier(positive=True),
    ):
        with pytest.raises(ValueError, match=r"use skadam\.dask\.Incremental"):
            fit_full_batch(estimator, dX, dy, client=client)
