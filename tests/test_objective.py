"""SciPy's inputs (fun, jac, args, x0, bounds) as skadam._objective turns them
into one value-and-gradient object, checked through ``scipy.optimize.minimize``."""

from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from quadratic import CENTER, FAST, Counted, f_quad, fg_quad, g_quad, run
from scipy.optimize import Bounds, NonlinearConstraint, minimize

from skadam import adam_minimize


def test_callable_jac_counts_and_converges():
    fun, jac = Counted(f_quad), Counted(g_quad)
    res = run(fun, jac=jac)
    assert res.success and res.status == 0
    assert_allclose(res.x, CENTER, atol=1e-4)
    # One gradient per iterate (x0 included), fun only once, at the result.
    assert (res.njev, res.nfev) == (jac.calls, fun.calls) == (res.nit + 1, 1)
    assert_array_equal(fun.points[-1], res.x)
    assert res.fun == f_quad(res.x)
    assert_array_equal(res.jac, g_quad(res.x))


def test_jac_true_calls_the_combined_function_once_per_point():
    fg = Counted(fg_quad)
    res = run(fg, jac=True)
    assert res.success
    assert_allclose(res.x, CENTER, atol=1e-4)
    assert fg.calls == res.nit + 1
    assert res.nfev == res.njev == fg.calls
    assert res.fun == f_quad(res.x)


def test_a_users_own_derivative_method_is_a_plain_jac():
    # An object with fun and derivative methods, passed as fun and jac,
    # is not SciPy's jac=True wrapper: derivative is the gradient.
    class Model:
        def __call__(self, x):
            return f_quad(x)

        def fun(self, x):
            raise AssertionError("fun is not the objective here")

        def derivative(self, x):
            return g_quad(x)

    model = Model()
    res = run(model, jac=model.derivative)
    assert res.success and res.nfev == 1 and res.njev == res.nit + 1


def test_jac_true_when_called_directly():
    fg = Counted(fg_quad)
    res = adam_minimize(fg, np.zeros(3), jac=True, **FAST)
    assert res.success
    assert_allclose(res.x, CENTER, atol=1e-4)
    assert res.nfev == res.njev == fg.calls == res.nit + 1


@pytest.mark.parametrize("jac", [None, False, "2-point", "3-point", "cs"])
def test_finite_differences(jac):
    fun = Counted(f_quad)
    res = run(fun, jac=jac)
    assert res.success
    assert_allclose(res.x, CENTER, atol=1e-4)
    # Forward differences: n + 1 calls per iterate, all counted, no jac calls.
    assert res.nfev == fun.calls == (res.nit + 1) * (CENTER.size + 1)
    assert res.njev == 0
    assert_allclose(res.jac, g_quad(res.x), atol=1e-6)


@pytest.mark.parametrize(
    "shape_it",
    [
        lambda g: g.tolist(),
        lambda g: tuple(g),
        lambda g: g[:, np.newaxis],
        lambda g: g[np.newaxis, :],
        lambda g: g.reshape(1, -1).view(np.matrix),
    ],
    ids=["list", "tuple", "column", "row", "matrix"],
)
def test_gradient_as_list_tuple_column_row_or_matrix(shape_it):
    # L-BFGS-B accepts all of these; the values are what matters.
    plain = run(f_quad, jac=g_quad)
    res = run(f_quad, jac=lambda x: shape_it(g_quad(x)))
    assert res.jac.shape == (3,)
    assert_array_equal(res.x, plain.x)


def test_scalar_gradient_for_one_variable():
    res = run(lambda x: (x[0] - 2.0) ** 2, x0=[0.0], jac=lambda x: 2 * (x[0] - 2.0))
    assert res.success and res.jac.shape == (1,)
    assert_allclose(res.x, [2.0], atol=1e-4)


@pytest.mark.parametrize(
    "value",
    [
        np.array([2.0]),
        np.array(2.0),
        np.float32(2.0),
        2,
        np.array([[2.0]]),
        Fraction(2),
    ],
)
def test_fun_may_return_any_single_real_value(value):
    res = run(lambda x: value, jac=g_quad, options={"maxiter": 2})
    assert type(res.fun) is float and res.fun == 2.0


@pytest.mark.parametrize("value", [np.ones(2), None, "1.0", 1j])
def test_fun_returning_no_single_real_value_raises(value):
    with pytest.raises(ValueError, match="fun must return a real scalar"):
        run(lambda x: value, jac=g_quad)


def test_fun_returning_f_and_g_without_jac_true_says_so():
    with pytest.raises(ValueError, match=r"with jac=True, fun may return"):
        run(fg_quad, jac=None)


def test_jac_true_with_a_fun_returning_only_f_raises():
    with pytest.raises(ValueError, match=r"jac=True, fun must return \(f, gradient\)"):
        run(f_quad, jac=True)


def test_the_users_functions_get_copies_they_may_keep_or_modify():
    received, modified, buffer = [], [], np.empty(3)

    def fun(x):
        modified.append(x)
        value = f_quad(x)
        x[:] = 1e6  # a careless in-place edit must not reach the optimizer
        return value

    def jac(x):
        received.append(x)
        buffer[:] = g_quad(x)  # a reused output buffer
        return buffer

    res = run(fun, jac=jac, options={**FAST, "ftol": 1e-300})
    plain = run(f_quad, jac=g_quad, options={**FAST, "ftol": 1e-300})
    assert_array_equal(res.x, plain.x)
    assert_array_equal(res.jac, plain.jac)
    buffer[:] = np.nan
    res.x[:] = -1.0
    assert np.all(np.isfinite(res.jac))
    assert not any(np.shares_memory(res.x, x) for x in received + modified)
    assert len(modified) == res.nfev and np.all(np.array(modified) == 1e6)


def test_finite_differences_stay_inside_the_bounds():
    fun = Counted(f_quad)
    bounds = [(None, 0.5), (-1.0, None), (None, None)]
    res = run(fun, x0=[0.5, -1.0, 0.0], bounds=bounds)
    assert res.success
    assert_allclose(res.x, [0.5, -1.0, 0.5], atol=1e-4)
    points = np.array(fun.points)
    assert points[:, 0].max() <= 0.5 and points[:, 1].min() >= -1.0


def test_args_reach_fun_and_jac():
    center = np.array([3.0, -1.0, 2.0])
    fun, jac = Counted(f_quad), Counted(g_quad)
    res = run(fun, jac=jac, args=(center,))
    assert_allclose(res.x, center, atol=1e-4)
    for recorded in fun.args + jac.args:
        assert len(recorded) == 1 and recorded[0] is center


@pytest.mark.parametrize("call", ["minimize", "direct"])
def test_args_that_are_not_a_tuple_are_one_argument(call):
    # SciPy wraps a non-tuple args as (args,); a direct call does the same.
    center = np.array([3.0, -1.0, 2.0])
    fun = Counted(f_quad)
    if call == "minimize":
        res = run(fun, jac=g_quad, args=center)
    else:
        res = adam_minimize(fun, np.zeros(3), args=center, jac=g_quad, **FAST)
    assert_allclose(res.x, center, atol=1e-4)
    assert all(len(a) == 1 and a[0] is center for a in fun.args)


def check_bounded_run(bounds, low, high, expected):
    seen = []
    fun, jac = Counted(f_quad), Counted(g_quad)
    res = run(fun, x0=[5.0, -5.0, 5.0], jac=jac, bounds=bounds, callback=seen.append)
    assert res.success and "projected gradient" in res.message
    assert_allclose(res.x, expected, atol=1e-4)
    # At a bound-constrained optimum the gradient itself is far from zero.
    assert np.abs(res.jac).max() > 0.5
    for x in [*seen, *jac.points, *fun.points, res.x]:
        assert np.all(x >= low) and np.all(x <= high)


def test_bounds_as_pairs_with_none():
    bounds = [(None, 0.5), (-1.0, None), (0.0, 1.0)]
    low, high = [-np.inf, -1.0, 0.0], [0.5, np.inf, 1.0]
    check_bounded_run(bounds, low, high, expected=[0.5, -1.0, 0.5])


def test_bounds_as_an_array_of_pairs_with_infinities():
    bounds = np.array([[-np.inf, 0.5], [-1.0, np.inf], [0.0, 1.0]])
    low, high = bounds[:, 0], bounds[:, 1]
    check_bounded_run(bounds, low, high, expected=[0.5, -1.0, 0.5])


def test_bounds_object_with_scalar_broadcast():
    check_bounded_run(Bounds(-1.0, 0.25), -1.0, 0.25, expected=[0.25, -1.0, 0.25])


@pytest.mark.parametrize(
    "bounds",
    [
        [(1.0, 0.0), (None, None), (None, None)],
        [(0.0, 1.0)],
        (0.0, 1.0),
        [(np.nan, 1.0), (None, None), (None, None)],
        [(np.inf, np.inf), (None, None), (None, None)],
        [(0.0, 1.0, 2.0), (None, None), (None, None)],
        [(0.0, "one"), (None, None), (None, None)],
        Bounds([0.0, 0.0], [1.0, 1.0]),
    ],
)
def test_bad_bounds_raise(bounds):
    with pytest.raises(ValueError, match="bound"):
        run(f_quad, jac=g_quad, bounds=bounds)


@pytest.mark.parametrize("bounds", [(0.0, 0.5), [0.0, 0.5], np.array([0.0, 0.5])])
def test_one_pair_for_one_variable(bounds):
    res = run(lambda x: (x[0] - 2.0) ** 2, x0=[0.0], bounds=bounds)
    assert res.success and res.x.tolist() == [0.5]


@pytest.mark.parametrize("keep_feasible", [False, True])
def test_finite_differences_with_fixed_and_narrow_variables(keep_feasible):
    # Variable 0 is fixed and variable 1's box is narrower than the step.
    low, high = [0.3, 0.2, -np.inf], [0.3, 0.2 + 1e-9, np.inf]
    fun = Counted(f_quad)
    res = run(fun, bounds=Bounds(low, high, keep_feasible=keep_feasible))
    assert res.success
    assert_allclose(res.x, [0.3, 0.2 + 1e-9, CENTER[2]], atol=1e-4)
    points = np.array(fun.points)
    assert np.all(points >= low) and np.all(points <= high)
    # The fixed variable's gradient is not estimated: 3 calls per iterate.
    assert res.nfev == fun.calls == (res.nit + 1) * 3
    assert res.jac[0] == 0.0
    assert_allclose(res.jac[1], g_quad(res.x)[1], rtol=1e-3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bounds_raise_no_floating_point_errors(dtype):
    # Users may run with np.seterr(all="raise"); skadam's own arithmetic on
    # zero and infinite bounds must not trip it.
    with np.errstate(all="raise"):
        res = run(
            f_quad,
            x0=np.zeros(3, dtype=dtype),
            bounds=[(0.0, np.inf), (-np.inf, 0.0), (0.0, 0.0)],
        )
    assert res.success
    assert_allclose(res.x, [1.0, -2.0, 0.0], atol=1e-3)


def test_float32_iterates_respect_float64_bounds():
    # 0.1 has no float32 value; the nearest one, 0.10000000149, is infeasible.
    seen = []
    res = run(
        f_quad,
        x0=np.zeros(3, dtype=np.float32),
        jac=g_quad,
        bounds=[(0.1, 0.1), (-0.1, None), (None, 0.1)],
        callback=seen.append,
    )
    assert res.x.dtype == np.float32
    for x in [*seen, res.x]:
        x = x.astype(np.float64)
        assert x[1] >= -0.1 and x[2] <= 0.1
    assert res.x[0] == np.float32(0.1)  # fixed: the nearest float32
    assert res.x[2] == np.nextafter(np.float32(0.1), np.float32(0))


@pytest.mark.parametrize("jac", [None, lambda x: 2 * x])
def test_no_variables(jac):
    res = minimize(lambda x: 1.5, np.zeros(0), method=adam_minimize, jac=jac)
    assert (res.success, res.nit, res.fun, res.x.shape) == (True, 0, 1.5, (0,))


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("jac", [None, g_quad])
def test_non_finite_x0_raises(value, jac):
    fun = Counted(f_quad)
    with pytest.raises(ValueError, match=r"x0 must be finite.*x0\[1\]"):
        run(fun, x0=[0.0, value, 0.0], jac=jac)
    assert fun.calls == 0


def test_infinite_x0_clipped_to_a_finite_bound_is_fine():
    res = run(f_quad, x0=[np.inf, 0.0, 0.0], jac=g_quad, bounds=[(None, 0.0)] * 3)
    assert res.success and res.x[0] == 0.0


def test_x0_is_never_modified():
    x0 = np.array([5.0, 5.0, 5.0])
    res = minimize(
        f_quad, x0, method=adam_minimize, jac=g_quad, bounds=[(0, 1)] * 3, options=FAST
    )
    assert_array_equal(x0, [5.0, 5.0, 5.0])
    assert not np.shares_memory(res.x, x0)


@pytest.mark.parametrize("call", ["minimize", "direct"])
def test_integer_x0_gives_floats(call):
    if call == "minimize":
        res = minimize(
            f_quad, [0, 0, 0], method=adam_minimize, jac=g_quad, options=FAST
        )
    else:
        res = adam_minimize(f_quad, [0, 0, 0], jac=g_quad, **FAST)
    assert res.x.dtype == np.float64
    assert_allclose(res.x, CENTER, atol=1e-4)


@pytest.mark.parametrize("x0", [0.0, 0, np.array(0.0), [0.0], (0.0,), np.float32(0)])
@pytest.mark.parametrize("call", ["minimize", "direct"])
def test_scalar_like_x0_gives_one_variable(x0, call):
    def fun(x):
        return float((x[0] - 2.0) ** 2)

    if call == "minimize":
        res = minimize(fun, x0, method=adam_minimize, options=FAST)
    else:
        res = adam_minimize(fun, x0, **FAST)
    assert res.x.shape == res.jac.shape == (1,)
    expected = np.float32 if isinstance(x0, np.float32) else np.float64
    assert res.x.dtype == expected
    assert_allclose(res.x, [2.0], atol=1e-3)


@pytest.mark.parametrize("dtype", [">f4", "<f4", ">f8"])
def test_x0_of_either_byte_order_keeps_its_precision(dtype):
    res = run(f_quad, x0=np.zeros(3, dtype=dtype), jac=g_quad, options={"maxiter": 3})
    assert res.x.dtype == np.dtype(dtype).newbyteorder("=")


@pytest.mark.parametrize("jac", [g_quad, None, True])
def test_float32_x0_keeps_its_dtype(jac):
    fun, seen = (fg_quad if jac is True else f_quad), []
    res = run(
        fun,
        x0=np.zeros(3, dtype=np.float32),
        jac=jac,
        callback=lambda intermediate_result: seen.append(intermediate_result),
        options={**FAST, "gtol": 1e-2},
    )
    assert res.success and res.x.dtype == res.jac.dtype == np.float32
    assert type(res.fun) is float  # BFGS would give whatever fun returned
    dtypes = {r.x.dtype for r in seen} | {r.jac.dtype for r in seen}
    assert dtypes == {np.dtype(np.float32)}


def test_one_relative_step_per_variable():
    fun = Counted(f_quad)
    rel = np.array([1e-3, 1e-6, 1e-9])
    res = run(
        fun, x0=[2.0, 2.0, 2.0], options={"maxiter": 0, "finite_diff_rel_step": rel}
    )
    steps = np.array(fun.points[1:]) - 2.0
    assert_allclose(np.diag(steps), 2.0 * rel, rtol=1e-6)
    assert res.nfev == 4


def test_gradient_of_the_wrong_shape_raises():
    with pytest.raises(ValueError, match="gradient has shape"):
        run(f_quad, jac=lambda x: np.zeros(2))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"jac": lambda x: None}, "gradient is None"),
        ({"fun": lambda x: (1.0, None), "jac": True}, "gradient is None"),
        ({"jac": lambda x: ["a", "b", "c"]}, "real numbers, one per variable"),
        ({"jac": lambda x: [[1.0], [2.0, 3.0]]}, "real numbers, one per variable"),
    ],
)
def test_a_gradient_that_is_no_array_of_numbers_raises(kwargs, match):
    kwargs.setdefault("fun", f_quad)
    with pytest.raises(ValueError, match=match):
        run(**kwargs)


@pytest.mark.filterwarnings("error")  # a ComplexWarning would mean a cast
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"jac": lambda x: g_quad(x) + 1j}, r"^jac must return real numbers"),
        ({"jac": lambda x: g_quad(x) + 0j}, r"^jac must return real numbers"),
        ({"jac": lambda x: [1j, 0.0, 0.0]}, r"^jac must return real numbers"),
        (
            {"fun": lambda x: (f_quad(x), g_quad(x) + 1j), "jac": True},
            r"^fun \(with jac=True\) must return real numbers",
        ),
        ({"fun": lambda x: f_quad(x) + 1j, "jac": None}, "^fun must return a real"),
    ],
    ids=["jac", "jac-zero-imaginary", "jac-list", "jac-true", "finite-differences"],
)
def test_a_complex_gradient_is_refused_not_cast(kwargs, match):
    kwargs.setdefault("fun", f_quad)
    with pytest.raises(ValueError, match=match):
        run(**kwargs)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"bounds": np.array([[0, 1 + 1j], [0, 1], [0, 1]])}, "bounds must be real"),
        ({"bounds": [(0, 1j), (0, 1), (0, 1)]}, "bounds must be real"),
        ({"bounds": Bounds(np.zeros(3) + 0j, np.ones(3))}, "bounds must be real"),
        (
            {"options": {"finite_diff_rel_step": np.array(1e-6 + 1j)}},
            "finite_diff_rel_step must be None or real numbers",
        ),
    ],
    ids=["pairs", "python-complex", "Bounds", "rel-step"],
)
def test_complex_bounds_and_steps_are_refused_not_cast(kwargs, match):
    with pytest.raises(ValueError, match=match):
        run(f_quad, **kwargs)


@pytest.mark.parametrize("keep", ["array", "view", "none", "modify"])
@pytest.mark.parametrize("d", [3, 5000])
def test_points_kept_by_the_user_are_never_overwritten(keep, d):
    # The loop updates its iterate in place; the arrays (or views of them)
    # that the user's functions keep are copies and must stay as they were.
    center = np.linspace(-1.0, 1.0, d)
    kept, snapshots = [], []

    def jac(x):
        if keep == "array":
            kept.append(x)
        elif keep == "view":
            kept.append(x[: d // 2 + 1])
        snapshots.append(np.array(x[: d // 2 + 1], copy=True))
        g = 2.0 * (x - center)
        if keep == "modify":  # scribbling on its copy must not change the run
            x[:] = np.nan
        return g

    res = minimize(
        lambda x: 0.0,
        np.zeros(d),
        jac=jac,
        method=adam_minimize,
        options={"learning_rate": 0.1, "maxiter": 30, "gtol": 0.0},
    )
    assert res.nit == 30
    assert len(snapshots) == 31
    for k, snap in zip(kept, snapshots, strict=False):
        assert_array_equal(k[: d // 2 + 1], snap)
    # The run itself is unaffected by what the user keeps.
    ref = minimize(
        lambda x: 0.0,
        np.zeros(d),
        jac=lambda x: 2.0 * (x - center),
        method=adam_minimize,
        options={"learning_rate": 0.1, "maxiter": 30, "gtol": 0.0},
    )
    assert_array_equal(res.x, ref.x)


def test_kept_points_survive_a_tracer_that_reads_every_frame():
    # Tracers and debuggers that read frame.f_locals hold extra references
    # while they run; the copies handed to the user must not depend on who
    # else refers to them.
    import sys

    def tracer(frame, event, arg):
        frame.f_locals  # noqa: B018  (materialise the frame's locals)
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        test_points_kept_by_the_user_are_never_overwritten("array", 5000)
    finally:
        sys.settrace(previous)


# -- constraints, workers, minibatches of args ---------------------------------


def mapped(function, iterable):
    """A map-like callable, as SciPy's workers option takes."""
    mapped.calls += 1
    return list(map(function, iterable))


mapped.calls = 0


@pytest.mark.parametrize("kind", ["processes", "map", "threads"])
def test_workers_give_the_serial_result_and_counts(kind):
    mapped.calls = 0
    serial = run(f_quad, options={**FAST, "maxiter": 20})
    with ThreadPoolExecutor(2) as executor:
        workers = {"processes": 2, "map": mapped, "threads": executor.map}[kind]
        parallel = run(f_quad, options={**FAST, "maxiter": 20, "workers": workers})
    assert_array_equal(parallel.x, serial.x)
    assert (parallel.nfev, parallel.njev) == (serial.nfev, serial.njev) == (84, 0)
    if kind == "map":
        assert mapped.calls == 21  # one map per gradient


@pytest.mark.parametrize("workers", [0, -2, 1.5, "4", True])
def test_bad_workers_raise(workers):
    with pytest.raises(ValueError, match=r"^workers must be"):
        run(f_quad, options={"workers": workers})


def recording(seen):
    def fg(w, *args):
        seen.append([np.shape(a) for a in args])
        return 0.0, np.ones(3)

    return fg


def test_which_args_are_sliced():
    seen = []
    X, y, weights = np.ones((10, 3)), np.ones(10), np.ones(3)
    res = minimize(
        recording(seen), np.zeros(3), args=(X, y, 0.5, weights, "text"),
        jac=True, method=adam_minimize,
        options={"batch_size": 4, "maxiter": 3},
    )  # fmt: skip
    # Arrays with the first array's rows are sliced; the rest pass unchanged.
    assert res.nit == 3
    batches = [[(4, 3), (4,), (), (3,), ()], [(4, 3), (4,), (), (3,), ()]]
    assert seen[:2] == batches and seen[-1] == [(10, 3), (10,), (), (3,), ()]
    # batch_args names the sliced arguments: y is kept whole here.
    seen.clear()
    minimize(
        recording(seen), np.zeros(3), args=(X, y), jac=True, method=adam_minimize,
        options={"batch_size": 4, "maxiter": 1, "batch_args": [0]},
    )  # fmt: skip
    assert seen[0] == [(4, 3), (10,)]


def test_minibatches_cover_every_row_once_per_epoch():
    rows = []
    X = np.arange(10.0)[:, np.newaxis]

    def jac(w, X):
        rows.extend(X[:, 0].tolist())
        return np.ones(1)

    res = minimize(
        lambda w, X: 0.0, [0.0], args=(X,), jac=jac, method=adam_minimize,
        options={"batch_size": 4, "maxiter": 6, "rng": 0, "gtol": 0.0},
    )  # fmt: skip
    # Two epochs of batches of 4, 4 and 2 rows, then the full data at res.x.
    assert res.nit == 6 and res.njev == 7
    assert sorted(rows[:10]) == sorted(rows[10:20]) == list(range(10))
    assert rows[:10] != rows[10:20]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"args": (0.5,)}, "batch_size needs the samples in args"),
        (
            {"options": {"batch_size": 4, "return_best": True}},
            "return_best=True does not",
        ),
        ({"options": {"batch_size": 4, "rng": "seed"}}, "^rng must be"),
        ({"options": {"batch_size": 4, "batch_args": [5]}}, "^batch_args"),
        ({"options": {"batch_size": 4, "batch_args": 0}}, "^batch_args"),
        ({"options": {"batch_size": 2.0}}, "^batch_size must be"),
    ],
)
def test_bad_minibatch_options_raise(kwargs, match):
    kwargs = {"args": (np.ones((8, 3)),), "options": {"batch_size": 4}, **kwargs}
    with pytest.raises(ValueError, match=match):
        minimize(
            lambda w, *a: 0.0,
            np.zeros(3),
            jac=lambda w, *a: w,
            method=adam_minimize,
            **kwargs,
        )


@pytest.mark.parametrize(
    "constraints",
    [
        {"type": "eq", "fun": lambda x: x[0]},
        [{"type": "ineq", "fun": lambda x: x[0]}],
        NonlinearConstraint(lambda x: x[0], 0.0, 1.0),
    ],
)
def test_constraints_are_refused(constraints):
    with pytest.raises(ValueError, match="Adam cannot honour constraints"):
        run(f_quad, jac=g_quad, constraints=constraints)
