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
    holders = [worker for worker, _ in objective._blocks.groups]
    with get_task_stream(client=client) as stream:
        for _ in range(3):
            objective(np.zeros(objective.coef_shape))
    objective.close()
    tasks = stream.data
    # The blocks were computed once, at construction: each call runs one task
    # per worker holding blocks, where they are, and never the graph that made
    # X and y.
    assert sorted(task["worker"] for task in tasks) == sorted(3 * holders)
    assert all("loss_sums" in str(task["key"]) for task in tasks)
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
    keys = {block.key for block in objective._blocks.futures}
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
        ({"classes": [0.0, np.nan]}, "Input classes contains NaN"),
        ({"classes": [["ant", "bee"]]}, "classes must be 1-D"),
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


@pytest.mark.parametrize("weights", ["numpy", "dask"])
@pytest.mark.parametrize("frame", [False, True], ids=["array", "dataframe"])
def test_incremental_splits_sample_weight_along_the_blocks(client, rng, frame, weights):
    # dask-ml#262: dask-ml's wrapper gives every block all the weights.
    X, y = _classification(rng)
    w = rng.uniform(0.0, 2.0, size=len(y))
    dX, dy, blocks = _as_dask(X, y, frame)
    dw = w if weights == "numpy" else da.from_array(w, chunks=150)
    classes = ["ant", "bee", "cat"]
    estimator = AdamLogisticClassifier(batch_size=32, random_state=0)
    model = Incremental(estimator, shuffle_blocks=True, random_state=3)
    model.fit(dX, dy, sample_weight=dw, classes=classes).partial_fit(
        dX, dy, sample_weight=dw, classes=classes
    )
    order = np.arange(len(blocks))
    np.random.RandomState(3).shuffle(order)  # dask-ml's order, every call
    bounds = np.cumsum((0, *CHUNKS))
    expected = clone(estimator)
    for _ in range(2):
        for i in order:
            Xb, yb = blocks[i]
            wb = w[bounds[i] : bounds[i + 1]]
            expected.partial_fit(Xb, yb, classes=classes, sample_weight=wb)
    _assert_same_model(model.estimator_, expected)


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_incremental_rejects_weights_of_another_length(client, rng, method):
    X, y = _regression(rng)
    dX, dy, _ = _as_dask(X, y, frame=False)
    model = Incremental(AdamLinearRegressor())
    with pytest.raises(ValueError, match=r"shape \(399,\), but X has 400 rows"):
        getattr(model, method)(dX, dy, sample_weight=np.ones(399))
    assert not hasattr(model, "estimator_")
    with pytest.raises(ValueError, match="X has 4 row blocks but y has 2"):
        getattr(model, method)(dX, dy.rechunk(200), sample_weight=np.ones(400))


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


def _full_batch_problem(rng, kind):
    """Data with offsets and scales (the standardisation must match) and weights."""
    X = rng.normal(size=(400, 5)) * [1.0, 10.0, 100.0, 0.1, 1.0] + 5.0
    logits = (X - 5.0) / [1.0, 10.0, 100.0, 0.1, 1.0] @ rng.normal(size=(5, 3))
    y = {
        "binary": np.array(["no", "yes"])[(logits[:, 0] > 0).astype(int)],
        "multiclass": np.array(["ant", "bee", "cat"])[logits.argmax(axis=1)],
        "one output": 50.0 + 10.0 * logits[:, 0] + rng.normal(size=400),
        "two outputs": 50.0 + 10.0 * logits[:, :2] + rng.normal(size=(400, 2)),
    }[kind]
    Estimator = AdamLinearRegressor if "output" in kind else AdamLogisticClassifier
    return X, y, rng.uniform(0.0, 3.0, size=400), Estimator


def _assert_same_fit(model, expected, rtol=1e-9):
    assert model.n_iter_ == expected.n_iter_
    assert model.t_ == expected.t_ == model.adam_state_.step
    assert model.coef_.shape == expected.coef_.shape
    assert model.coef_.dtype == expected.coef_.dtype
    assert np.shape(model.intercept_) == np.shape(expected.intercept_)
    assert_allclose(model.coef_, expected.coef_, rtol=rtol, atol=1e-12)
    assert_allclose(model.intercept_, expected.intercept_, rtol=rtol, atol=1e-12)
    assert_allclose(model.loss_curve_, expected.loss_curve_, rtol=rtol)


@pytest.mark.parametrize("frame", [False, True], ids=["array", "dataframe"])
@pytest.mark.parametrize("kind", ["binary", "multiclass", "one output", "two outputs"])
def test_fit_full_batch_equals_the_full_batch_fit_in_memory(client, rng, kind, frame):
    # The oracle: the estimator's own fit on the same rows, in memory.
    X, y, w, Estimator = _full_batch_problem(rng, kind)
    params = dict(
        batch_size=None, learning_rate=0.01, alpha=1e-3, max_iter=80, tol=None
    )
    expected = Estimator(**params).fit(X, y, sample_weight=w)
    dX, dy, blocks = _as_dask(X, y, frame)
    dw = da.from_array(w, chunks=150)  # other chunks than X's: realigned
    model = Estimator(**params)
    assert fit_full_batch(model, dX, dy, dw, client=client) is model
    _assert_same_fit(model, expected)
    if frame:
        assert_array_equal(model.feature_names_in_, dX.columns)
    else:
        assert not hasattr(model, "feature_names_in_")
    predicted = model.predict(blocks_X(blocks))  # a DataFrame if fitted on one
    if Estimator is AdamLogisticClassifier:
        assert_array_equal(model.classes_, expected.classes_)
        assert_array_equal(predicted, expected.predict(X))
    else:
        assert_allclose(predicted, expected.predict(X), rtol=1e-9)


def test_fit_full_batch_stops_as_fit_does(client, rng):
    X, y, w, _ = _full_batch_problem(rng, "one output")
    params = dict(batch_size=None, learning_rate=0.1, max_iter=500, tol=1e-3)
    expected = AdamLinearRegressor(**params).fit(X, y, sample_weight=w)
    assert expected.n_iter_ < 500  # the stopping rule fired
    model = fit_full_batch(
        AdamLinearRegressor(**params), *_as_dask(X, y, False)[:2], w, client=client
    )
    _assert_same_fit(model, expected)


def test_fit_full_batch_reaches_the_ridge_optimum(client, rng):
    X, y, w, _ = _full_batch_problem(rng, "two outputs")
    dX, dy, _ = _as_dask(X, y, frame=False)
    regressor = AdamLinearRegressor(
        alpha=0.01, learning_rate=0.05, max_iter=1000, tol=None
    )
    fit_full_batch(regressor, dX, dy, w, client=client)
    # (1/sum(s)) sum s_i r_i^2 / 2 + alpha/2 |W|^2 is Ridge's objective / sum(s).
    ridge = Ridge(alpha=w.sum() * 0.01).fit(X, y, sample_weight=w)
    assert_allclose(regressor.coef_, ridge.coef_, rtol=1e-8, atol=1e-8)
    assert_allclose(regressor.intercept_, ridge.intercept_, rtol=1e-8)


def test_fit_full_batch_keeps_float32_and_a_1d_target(client, rng):
    X, y, _, _ = _full_batch_problem(rng, "one output")
    X = X.astype(np.float32)
    params = dict(batch_size=None, learning_rate=0.01, max_iter=30, tol=None)
    expected = AdamLinearRegressor(**params).fit(X, y)
    model = AdamLinearRegressor(**params).fit(X[:50], y[:50])  # to be replaced
    fit_full_batch(model, *_as_dask(X, y, False)[:2], client=client)
    # Block sums add up in float64 on the client: float32 rounding differs.
    _assert_same_fit(model, expected, rtol=1e-4)
    assert model.predict(X).dtype == np.float32
    assert model.predict(X).shape == (400,)


def test_fit_full_batch_column_target_has_the_in_memory_shapes(client, rng):
    X, y, _, _ = _full_batch_problem(rng, "one output")
    y = y[:, None]  # a column
    params = dict(batch_size=None, learning_rate=0.01, max_iter=20, tol=None)
    expected = AdamLinearRegressor(**params).fit(X, y)
    model = fit_full_batch(
        AdamLinearRegressor(**params), *_as_dask(X, y, False)[:2], client=client
    )
    _assert_same_fit(model, expected)
    assert model.coef_.shape == (5,)
    assert model.intercept_.shape == (1,)


def test_fit_full_batch_warm_start_continues_as_fit(client, rng):
    X, y, w, _ = _full_batch_problem(rng, "multiclass")
    params = dict(
        batch_size=None, learning_rate=0.01, max_iter=15, tol=None, warm_start=True
    )
    expected = AdamLogisticClassifier(**params).fit(X, y, sample_weight=w)
    expected.fit(X, y, sample_weight=w)
    dX, dy, _ = _as_dask(X, y, frame=False)
    model = AdamLogisticClassifier(**params)
    for _ in range(2):
        fit_full_batch(model, dX, dy, w, client=client)
    _assert_same_fit(model, expected)
    assert model.t_ == 30


def test_fit_full_batch_block_of_zero_weights_counts_for_nothing(client, rng):
    X, y, w, _ = _full_batch_problem(rng, "binary")
    w[: CHUNKS[0]] = 0.0  # the whole first block
    params = dict(batch_size=None, learning_rate=0.01, max_iter=30, tol=None)
    expected = AdamLogisticClassifier(**params).fit(X, y, sample_weight=w)
    dX, dy, _ = _as_dask(X, y, frame=False)
    model = fit_full_batch(AdamLogisticClassifier(**params), dX, dy, w, client=client)
    _assert_same_fit(model, expected)


def test_fit_full_batch_takes_one_task_per_worker_per_step(client, rng):
    X, y, _, _ = _full_batch_problem(rng, "binary")
    dX, dy, _ = _as_dask(X, y, frame=False)
    model = AdamLogisticClassifier(batch_size=None, max_iter=7, tol=None)
    with get_task_stream(client=client) as stream:
        fit_full_batch(model, dX, dy, client=client)
    steps = [task for task in stream.data if "loss_sums" in str(task["key"])]
    # Seven steps, and the objective at the last iterate (the stopping rule's).
    assert len(steps) == (7 + 1) * len(client.scheduler_info()["workers"])


def test_fit_full_batch_warns_as_fit(client, rng):
    X, y, _, _ = _full_batch_problem(rng, "binary")
    dX, dy, _ = _as_dask(X, y, frame=False)
    with pytest.warns(ConvergenceWarning, match="max_iter=5 epochs"):
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


@pytest.mark.parametrize(
    "estimator",
    [
        AdamLinearRegressor("poisson", penalty="l1", alpha=1e-3),
        AdamLinearRegressor("huber", delta=5.0, positive=True),
        AdamLogisticClassifier(penalty="elasticnet", l1_ratio=0.5, alpha=1e-3),
    ],
    ids=["poisson-l1", "huber-positive", "logistic-elasticnet"],
)
def test_fit_full_batch_trains_every_loss_and_penalty_as_fit(client, rng, estimator):
    # fit_full_batch goes through the estimators' own training code, so the
    # losses, the proximal step and the projection come along: the oracle is
    # the same estimator's fit(batch_size=None) in memory.
    X, y = _regression(rng)
    if isinstance(estimator, AdamLogisticClassifier):
        y = (y > 50).astype(int)
    elif estimator.loss == "poisson":
        y = np.round(np.exp((y - 50) / 30))
    estimator.set_params(batch_size=None, learning_rate=0.01, max_iter=60, tol=None)
    expected = clone(estimator).fit(X, y)
    dX, dy, _ = _as_dask(X, y, False)
    model = fit_full_batch(estimator, dX, dy, client=client)
    _assert_same_fit(model, expected)


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(class_weight="balanced"), "class_weight='balanced'"),
        (dict(early_stopping=True), "early_stopping"),
        (dict(weights="zero"), "All sample weights times class weights are zero"),
        (
            dict(weights="short"),
            r"sample_weight must have shape \(400,\), got \(399,\)",
        ),
        (dict(classes=["ant", "bee"]), "not in classes_"),
        (dict(nan=True), "Input X contains NaN"),
        (dict(alpha=-1.0), "alpha"),
    ],
)
def test_fit_full_batch_rejects(client, rng, change, message):
    X, y = _classification(rng)
    weights = {"zero": np.zeros(400), "short": np.ones(399)}.get(
        change.pop("weights", None)
    )
    classes = change.pop("classes", None)
    if change.pop("nan", False):
        X[350, 2] = np.nan  # in the last block: raised on a worker
    dX, dy, _ = _as_dask(X, y, frame=False)
    with pytest.raises(ValueError, match=message):
        fit_full_batch(
            AdamLogisticClassifier(**change),
            dX,
            dy,
            weights,
            classes=classes,
            client=client,
        )
