"""SciPy's custom-method contract, checked through ``scipy.optimize.minimize``."""

import inspect
import itertools
import pickle
from fractions import Fraction

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import (
    Bounds,
    NonlinearConstraint,
    OptimizeResult,
    OptimizeWarning,
    basinhopping,
    dual_annealing,
    minimize,
    minimize_scalar,
    rosen,
    rosen_der,
)

from skadam import AdamMinimizer, adam_minimize

CENTER = np.array([1.0, -2.0, 0.5])
STOP_MESSAGE = "`callback` raised `StopIteration`."
MAXITER_MESSAGE = "Maximum number of iterations has been exceeded."


def seeded():
    """Seed basinhopping or dual_annealing with a fresh ``default_rng(0)``.

    SciPy 1.15 renamed their ``seed`` keyword to ``rng``. Both names take a
    Generator, so SciPy 1.11 and today's SciPy draw the same random steps.
    """
    name = "rng" if "rng" in inspect.signature(basinhopping).parameters else "seed"
    return {name: np.random.default_rng(0)}


@pytest.fixture
def rng():
    return np.random.default_rng(0)


class Counted:
    """Wrap a function: count its calls, keep copies of the points and args."""

    def __init__(self, function):
        self.function, self.calls, self.points, self.args = function, 0, [], []

    def __call__(self, x, *args):
        self.calls += 1
        self.points.append(np.array(x, copy=True))
        self.args.append(args)
        return self.function(x, *args)


def f_quad(x, center=CENTER):
    return float(np.sum((x - center) ** 2))


def g_quad(x, center=CENTER):
    return 2.0 * (x - center)


def fg_quad(x, center=CENTER):
    return f_quad(x, center), g_quad(x, center)


FAST = {"learning_rate": 0.05, "maxiter": 3000}


def run(fun, x0=(0.0, 0.0, 0.0), **kwargs):
    kwargs.setdefault("options", FAST)
    return minimize(fun, np.array(x0), method=adam_minimize, **kwargs)


# -- gradients ---------------------------------------------------------------


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


def test_return_best_with_a_jac_that_reuses_its_output_buffer():
    buffer = np.empty(3)

    def jac(x):
        buffer[:] = g_quad(x)
        return buffer

    options = {"learning_rate": 1.5, "maxiter": 30, "return_best": True}
    res = run(f_quad, jac=jac, options=options)
    assert "Returning the best iterate" in res.message
    assert_array_equal(res.jac, g_quad(res.x))


def test_minimize_inside_the_objective():
    # Each outer evaluation runs an inner Adam; neither disturbs the other.
    def inner_min(shift):
        res = minimize(
            lambda y: float((y[0] - shift) ** 2),
            [0.0],
            method=adam_minimize,
            jac=lambda y: 2 * (y - shift),
            options={"learning_rate": 0.1, "gtol": 1e-8},
        )
        return res.fun

    def fun(x):
        return f_quad(x) + inner_min(x[0])

    res = run(fun, jac=g_quad, options={**FAST, "ftol": 1e-300})
    plain = run(f_quad, jac=g_quad, options={**FAST, "ftol": 1e-300})
    assert_array_equal(res.x, plain.x)
    assert res.fun == pytest.approx(f_quad(res.x), abs=1e-12)


def test_hess_and_hessp_are_accepted_and_ignored():
    plain = run(f_quad, jac=g_quad)
    with_hess = run(f_quad, jac=g_quad, hess=lambda x: 2 * np.eye(3))
    with_hessp = run(f_quad, jac=g_quad, hessp=lambda x, p: 2 * p)
    assert_array_equal(with_hess.x, plain.x)
    assert_array_equal(with_hessp.x, plain.x)


# -- bounds and constraints --------------------------------------------------


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


# -- callbacks ---------------------------------------------------------------


def test_old_style_callback_gets_copies_and_cannot_disturb_the_run():
    seen = []

    def callback(xk):
        seen.append(xk.copy())
        xk[:] = 1e6  # must not reach the optimizer

    fun = Counted(f_quad)
    res = run(fun, jac=g_quad, callback=callback)
    plain = run(f_quad, jac=g_quad)
    assert_array_equal(res.x, plain.x)
    assert len(seen) == res.nit
    assert_array_equal(seen[-1], res.x)
    assert fun.calls == res.nfev == 1  # the old style needs no f per iteration


def test_new_style_callback_gets_an_intermediate_result():
    seen = []

    def callback(intermediate_result):
        seen.append(intermediate_result)

    fun = Counted(f_quad)
    res = run(fun, jac=g_quad, callback=callback)
    assert [r.nit for r in seen] == list(range(1, res.nit + 1))
    for r in seen:
        assert isinstance(r, OptimizeResult)
        assert r.fun == f_quad(r.x)
        assert_array_equal(r.jac, g_quad(r.x))
    assert_array_equal(seen[-1].x, res.x)
    # This style evaluates f at every iterate, x0 included.
    assert fun.calls == res.nfev == res.nit + 1


@pytest.mark.parametrize("style", ["old", "new"])
def test_stop_iteration_from_the_callback(style):
    seen = []

    def old(xk):
        seen.append(xk)
        if len(seen) == 3:
            raise StopIteration

    def new(intermediate_result):
        old(intermediate_result.x)

    res = run(f_quad, jac=g_quad, callback=old if style == "old" else new)
    assert (res.success, res.status, res.message) == (False, 99, STOP_MESSAGE)
    assert res.nit == 3
    assert_array_equal(res.x, seen[-1])
    assert res.fun == f_quad(res.x)


class Recorder:
    """A callable object and a bound method, both new-style by their name."""

    def __init__(self):
        self.results = []

    def __call__(self, intermediate_result):
        self.results.append(intermediate_result)

    def record(self, intermediate_result):
        self.results.append(intermediate_result)


@pytest.mark.parametrize("kind", ["object", "bound method"])
def test_new_style_callback_as_object_or_bound_method(kind):
    recorder = Recorder()
    callback = recorder if kind == "object" else recorder.record
    res = run(f_quad, jac=g_quad, callback=callback)
    assert len(recorder.results) == res.nit
    last = recorder.results[-1]
    assert isinstance(last, OptimizeResult) and last.nit == res.nit
    assert_array_equal(last.x, res.x)


def test_stop_iteration_on_the_first_update():
    def stop(intermediate_result):
        raise StopIteration

    res = run(f_quad, jac=g_quad, callback=stop)
    assert (res.status, res.nit) == (99, 1)


@pytest.mark.parametrize("style", ["old", "new"])
def test_the_callbacks_return_value_is_ignored_as_scipy_does(style):
    def old(xk):
        return True

    def new(intermediate_result):
        return True

    res = run(f_quad, jac=g_quad, callback=old if style == "old" else new)
    assert res.success and res.nit == run(f_quad, jac=g_quad).nit


def test_callback_errors_propagate():
    def callback(xk):
        raise KeyError("from the callback")

    with pytest.raises(KeyError, match="from the callback"):
        run(f_quad, jac=g_quad, callback=callback)


def failing_on_call(n, function):
    calls = itertools.count(1)

    def wrapped(x, *args):
        if next(calls) == n:
            raise KeyError(f"call {n}")
        return function(x, *args)

    return wrapped


@pytest.mark.parametrize(
    "kwargs",
    [
        {"fun": failing_on_call(5, f_quad), "jac": g_quad, "options": {"ftol": 1e-9}},
        {"fun": failing_on_call(5, f_quad)},
        {"fun": failing_on_call(5, fg_quad), "jac": True},
        {"fun": f_quad, "jac": failing_on_call(5, g_quad)},
        # StopIteration from fun is an error too, not the callback's signal.
        {"fun": f_quad, "jac": lambda x: next(iter(()))},
    ],
    ids=["fun", "fun-finite-differences", "fun-jac-true", "jac", "jac-stopiteration"],
)
def test_errors_in_the_users_functions_propagate(kwargs):
    with pytest.raises((KeyError, StopIteration)):
        run(**kwargs)


# -- stopping ----------------------------------------------------------------


def test_maxiter():
    res = run(f_quad, jac=g_quad, options={"maxiter": 7})
    assert (res.success, res.status, res.message) == (False, 1, MAXITER_MESSAGE)
    assert res.nit == 7


@pytest.mark.parametrize("method", [adam_minimize, "BFGS"])
def test_maxiter_zero_evaluates_x0_only(method):
    # As BFGS does: no update, f and the gradient at x0, status 1.
    fun, jac, seen = Counted(f_quad), Counted(g_quad), []
    res = minimize(
        fun,
        [0.0, 0.0, 0.0],
        jac=jac,
        method=method,
        callback=seen.append,
        options={"maxiter": 0},
    )
    assert (res.success, res.status, res.nit, seen) == (False, 1, 0, [])
    assert_array_equal(res.x, np.zeros(3))
    assert res.fun == f_quad(np.zeros(3))
    assert_array_equal(res.jac, g_quad(np.zeros(3)))
    assert (res.nfev, res.njev) == (fun.calls, jac.calls) == (1, 1)


def record_new_style(seen):
    def callback(intermediate_result):
        seen.append(intermediate_result)

    return callback


def test_gtol_stops_at_the_first_iterate_that_meets_it():
    seen = []
    res = run(
        f_quad,
        jac=g_quad,
        callback=record_new_style(seen),
        options={**FAST, "gtol": 1e-3},
    )
    assert res.success and "gtol" in res.message
    assert np.abs(res.jac).max() <= 1e-3
    assert all(np.abs(r.jac).max() > 1e-3 for r in seen[:-1])


def test_tol_sets_gtol_and_explicit_gtol_wins():
    res = minimize(
        f_quad, np.zeros(3), method=adam_minimize, jac=g_quad, tol=1e-2, options=FAST
    )
    assert res.success and "gtol" in res.message
    assert 1e-3 < np.abs(res.jac).max() <= 1e-2
    strict = minimize(
        f_quad,
        np.zeros(3),
        method=adam_minimize,
        jac=g_quad,
        tol=1e-2,
        options={**FAST, "gtol": 1e-6},
    )
    assert np.abs(strict.jac).max() <= 1e-6


def test_ftol():
    seen = []
    res = run(
        f_quad,
        jac=g_quad,
        callback=record_new_style(seen),
        options={**FAST, "gtol": 0.0, "ftol": 1e-6},
    )
    assert res.success and "ftol" in res.message
    f = [f_quad(np.zeros(3))] + [r.fun for r in seen]
    met = [
        abs(a - b) <= 1e-6 * max(abs(a), abs(b), 1.0) for a, b in itertools.pairwise(f)
    ]
    assert met[-1] and not any(met[:-1])
    assert len(met) == res.nit


def test_xtol():
    seen = []
    res = run(
        f_quad,
        jac=g_quad,
        callback=seen.append,
        options={**FAST, "gtol": 0.0, "xtol": 1e-5},
    )
    assert res.success and "xtol" in res.message
    steps = np.abs(np.diff([np.zeros(3), *seen], axis=0)).max(axis=1)
    assert steps[-1] <= 1e-5 and np.all(steps[:-1] > 1e-5)


def flat(x):
    return 1.0


def zero_gradient(x):
    return np.zeros_like(x)


@pytest.mark.parametrize("name", ["gtol", "ftol", "xtol"])
def test_each_tolerance_is_live_and_zero_disables_it(name):
    # On a flat function every criterion holds at once: with only ``name``
    # switched on, the run stops at once; switched off, it runs to maxiter.
    off = {"gtol": 0.0, "ftol": 0.0, "xtol": 0.0, "maxiter": 20}
    res = run(flat, jac=zero_gradient, options={**off, name: 1e-8})
    assert res.success and name in res.message
    assert res.nit == (0 if name == "gtol" else 1)
    res = run(flat, jac=zero_gradient, options=off)
    assert (res.status, res.nit) == (1, 20)


def test_gtol_with_coupled_weight_decay_tests_the_penalized_gradient():
    # Coupled L2 minimizes |x - c|^2 + wd/2 |x|^2, whose minimizer is
    # c / (1 + wd/2); there the gradient of f alone is -wd x, not 0.
    wd = 0.1
    res = run(f_quad, jac=g_quad, options={**FAST, "weight_decay": wd})
    assert res.success and "weight_decay * x" in res.message
    assert_allclose(res.x, CENTER / (1 + wd / 2), atol=1e-4)
    assert_allclose(res.jac, g_quad(res.x))  # still the gradient of fun
    assert np.abs(res.jac + wd * res.x).max() <= 1e-5


def test_ftol_and_return_best_evaluate_f_every_iteration():
    for extra in ({"ftol": 1e-30}, {"return_best": True}):
        fun, jac = Counted(f_quad), Counted(g_quad)
        res = run(fun, jac=jac, options={**FAST, "maxiter": 50, **extra})
        assert fun.calls == res.nfev == jac.calls == res.njev == 51


def test_return_best_returns_the_lowest_iterate():
    seen = []
    options = {"learning_rate": 1.0, "maxiter": 20, "return_best": True}
    res = run(f_quad, jac=g_quad, callback=record_new_style(seen), options=options)
    best = min(seen, key=lambda r: r.fun)
    assert best.nit < res.nit == 20  # a large step overshoots: not the last
    assert seen[-1].fun > best.fun
    assert_array_equal(res.x, best.x)
    assert res.fun == best.fun and "best iterate" in res.message


def test_learning_rate_schedule():
    steps = []

    def schedule(t):
        steps.append(t)
        return 0.5 / np.sqrt(t)

    res = run(f_quad, jac=g_quad, options={"learning_rate": schedule, "maxiter": 300})
    assert steps == list(range(1, res.nit + 1))
    assert_allclose(res.x, CENTER, atol=1e-3)


# -- non-finite values ---------------------------------------------------------


def nan_below(threshold, value):
    def fg(x):
        f, g = fg_quad(x)
        return (value, g) if x[0] > threshold else (f, g)

    return fg


def test_non_finite_function_value():
    seen = []
    res = run(
        nan_below(0.5, np.nan),
        x0=[0.0, 0.0, 0.0],
        jac=True,
        callback=seen.append,
        options={"learning_rate": 0.1},
    )
    assert (res.success, res.status) == (False, 2)
    assert "not finite" in res.message
    assert_array_equal(res.x, seen[-1])
    assert res.x[0] <= 0.5 and np.isfinite(res.fun)
    assert res.nit == len(seen)


def test_non_finite_gradient():
    seen = []

    def jac(x):
        return np.full_like(x, np.inf) if x[0] > 0.5 else g_quad(x)

    res = run(f_quad, jac=jac, callback=seen.append, options={"learning_rate": 0.1})
    assert (res.success, res.status) == (False, 2)
    assert_array_equal(res.x, seen[-1])
    assert np.all(np.isfinite(res.jac)) and res.fun == f_quad(res.x)


def test_non_finite_at_x0():
    res = run(lambda x: (np.nan, g_quad(x)), jac=True)
    assert (res.success, res.status, res.nit) == (False, 2, 0)
    assert "x0" in res.message
    assert_array_equal(res.x, np.zeros(3))


def test_non_finite_f_is_caught_at_the_result_when_not_evaluated_before():
    # With a callable jac and nothing reading f, f is first evaluated at the end.
    fun = Counted(lambda x: np.nan)
    res = run(fun, jac=g_quad)
    assert (res.success, res.status, fun.calls) == (False, 2, 1)
    assert "not finite at the returned x" in res.message


def test_f_turning_nan_mid_run_with_a_callable_jac():
    def fun(x):
        return np.nan if x[0] > 0.5 else f_quad(x)

    res = run(fun, jac=g_quad)
    # f is only evaluated at the end: the last iterate, flagged as unusable.
    assert (res.success, res.status) == (False, 2) and np.isnan(res.fun)
    assert res.x[0] > 0.5 and "return_best" in res.message
    res = run(fun, jac=g_quad, options={**FAST, "return_best": True})
    assert res.x[0] <= 0.5 and res.fun == f_quad(res.x)
    assert res.status == 2 and "last iterate where both were finite" in res.message


# -- x0, options, pickling ----------------------------------------------------


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


@pytest.mark.parametrize(
    "name, meant",
    [
        ("lr", "learning_rate"),
        ("beta1", "beta_1"),
        ("max_iter", "maxiter"),
        ("gtl", "gtol"),
    ],
)
def test_unknown_option_warning_suggests_the_option_meant(name, meant):
    with pytest.warns(OptimizeWarning, match=rf"{name} \(did you mean {meant}\?\)"):
        run(f_quad, jac=g_quad, options={name: 1, "maxiter": 1})


def test_unknown_option_warns_with_its_name():
    with pytest.warns(OptimizeWarning, match="learning_rat"):
        run(f_quad, jac=g_quad, options={"learning_rat": 0.1, "maxiter": 3})
    with pytest.warns(OptimizeWarning, match="momentum"):
        AdamMinimizer(momentum=0.9)


ODD = {"odd_option": 1, "maxiter": 1}


@pytest.mark.parametrize(
    "call",
    [
        lambda: minimize(f_quad, np.zeros(3), method=adam_minimize, options=ODD),
        lambda: minimize(f_quad, np.zeros(3), method=AdamMinimizer(), options=ODD),
        lambda: adam_minimize(f_quad, np.zeros(3), **ODD),
        lambda: minimize_scalar(lambda x: x**2, method=AdamMinimizer(), options=ODD),
        lambda: AdamMinimizer(**ODD),
        lambda: basinhopping(
            f_quad,
            np.zeros(3),
            niter=1,
            minimizer_kwargs={"method": adam_minimize, "options": ODD},
            **seeded(),
        ),
    ],
    ids=[
        "minimize",
        "minimize-instance",
        "direct",
        "minimize_scalar",
        "init",
        "basinhopping",
    ],
)
def test_unknown_option_warning_points_at_the_users_call(call):
    with pytest.warns(OptimizeWarning, match="odd_option") as record:
        call()
    assert {w.filename for w in record} == {__file__}


@pytest.mark.parametrize(
    "options",
    [
        {"learning_rate": 0.0},
        {"learning_rate": "0.01"},
        {"learning_rate": None},
        {"beta_1": 1.0},
        {"beta_2": -0.1},
        {"epsilon": -1.0},
        {"weight_decay": -0.1},
        {"ftol": None},
        {"xtol": np.nan},
        {"maxiter": -1},
        {"gtol": -1e-3},
        {"maxiter": 2.5},
        {"maxiter": np.nan},
        {"finite_diff_rel_step": -1.0},
        {"finite_diff_rel_step": 0.0},
        {"finite_diff_rel_step": [1e-6, 1e-6]},
        {"bias_correction": "False"},
        {"amsgrad": None},
        {"decoupled_weight_decay": "yes"},
        {"disp": "yes"},
        {"disp": -1},
        {"return_best": "no"},
    ],
)
def test_bad_options_raise(options):
    name = next(iter(options))
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        run(f_quad, jac=g_quad, options=options)


@pytest.mark.parametrize(
    "options", [{"learning_rate": -1.0}, {"amsgrad": "yes"}, {"tol": -1}]
)
def test_minimizer_validates_its_options_when_made(options):
    with pytest.raises(ValueError, match=next(iter(options))):
        AdamMinimizer(**options)


def test_a_bad_tol_is_named_tol():
    with pytest.raises(ValueError, match="tol must be"):
        minimize(f_quad, np.zeros(3), method=adam_minimize, jac=g_quad, tol=-1.0)


@pytest.mark.parametrize("maxiter", [7.0, np.float64(7), np.int64(7)])
def test_integral_maxiter_of_any_type(maxiter):
    # SciPy's own methods take options={"maxiter": 1e4}.
    res = run(f_quad, jac=g_quad, options={"maxiter": maxiter})
    assert res.nit == 7 and res.status == 1


def test_infinite_maxiter_runs_until_a_tolerance_is_met():
    res = run(f_quad, jac=g_quad, options={"learning_rate": 0.05, "maxiter": np.inf})
    assert res.success and np.abs(res.jac).max() <= 1e-5


def test_flags_take_zero_and_one():
    as_bools = run(f_quad, jac=g_quad, options={**FAST, "bias_correction": False})
    as_ints = run(f_quad, jac=g_quad, options={**FAST, "bias_correction": 0})
    assert_array_equal(as_ints.x, as_bools.x)


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


def test_passing_the_class_instead_of_an_instance_says_so():
    with pytest.raises(TypeError, match=r"method=AdamMinimizer\(...\), not the class"):
        minimize(f_quad, np.zeros(3), method=AdamMinimizer, jac=g_quad)


def test_minimizer_defaults_and_overrides():
    method = AdamMinimizer(learning_rate=0.05, maxiter=7)
    res = minimize(f_quad, np.zeros(3), method=method, jac=g_quad)
    assert res.nit == 7
    direct = adam_minimize(
        f_quad, np.zeros(3), jac=g_quad, learning_rate=0.05, maxiter=7
    )
    assert_array_equal(res.x, direct.x)
    res = minimize(
        f_quad, np.zeros(3), method=method, jac=g_quad, options={"maxiter": 3}
    )
    assert res.nit == 3


def test_call_time_tol_overrides_a_stored_gtol():
    method = AdamMinimizer(learning_rate=0.05, gtol=0.0, maxiter=3000)
    res = minimize(f_quad, np.zeros(3), method=method, jac=g_quad, tol=1e-2)
    assert res.success and np.abs(res.jac).max() <= 1e-2


def decaying_rate(t):
    return 0.1 / np.sqrt(t)


def test_minimizer_with_a_module_level_schedule_pickles():
    method = AdamMinimizer(learning_rate=decaying_rate, maxiter=50)
    clone = pickle.loads(pickle.dumps(method))
    assert clone.options["learning_rate"] is decaying_rate
    a = minimize(f_quad, np.zeros(3), method=method, jac=g_quad)
    b = minimize(f_quad, np.zeros(3), method=clone, jac=g_quad)
    assert_array_equal(a.x, b.x)


def test_minimizer_equality_with_an_array_option():
    rel = [1e-6, 1e-7, 1e-8]
    method = AdamMinimizer(finite_diff_rel_step=np.array(rel))
    assert method == AdamMinimizer(finite_diff_rel_step=np.array(rel))
    assert method == pickle.loads(pickle.dumps(method))
    assert method != AdamMinimizer(finite_diff_rel_step=np.array(rel[::-1]))
    assert method != AdamMinimizer()


def test_minimizer_pickle_round_trip():
    method = AdamMinimizer(learning_rate=0.05, beta_2=0.99, maxiter=50)
    clone = pickle.loads(pickle.dumps(method))
    assert clone == method and clone is not method
    a = minimize(f_quad, np.zeros(3), method=method, jac=g_quad)
    b = minimize(f_quad, np.zeros(3), method=clone, jac=g_quad)
    assert_array_equal(a.x, b.x)
    assert pickle.loads(pickle.dumps(adam_minimize)) is adam_minimize


def test_disp_prints_a_summary(capsys):
    res = run(f_quad, jac=g_quad, options={**FAST, "disp": True})
    out = capsys.readouterr().out
    assert res.message in out and f"Iterations: {res.nit}" in out
    run(f_quad, jac=g_quad)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("options", [{}, {"ftol": 1e-12, "return_best": True}])
def test_memory_does_not_grow_with_the_iterations(options):
    import tracemalloc

    n = 50_000
    center = np.linspace(-1.0, 1.0, n)

    def run_for(maxiter):
        minimize(
            lambda x: float((x - center) @ (x - center)),
            np.zeros(n),
            method=adam_minimize,
            jac=lambda x: 2.0 * (x - center),
            options={"maxiter": maxiter, "gtol": 0.0, **options},
        )

    def peak(maxiter):
        tracemalloc.start()
        run_for(maxiter)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak / (8 * n)

    run_for(1)  # untraced warm-up: imports and compiled kernels
    # About ten arrays the size of x at once (iterate, next iterate, gradient,
    # moments, scratch, and the user's temporaries), however long it runs.
    short, long = peak(3), peak(40)
    assert long <= 14 and long <= short + 0.5


# -- where SciPy passes methods on --------------------------------------------


def test_basinhopping():
    def f(x):
        return float(np.cos(3 * x[0]) + 0.1 * x[0] ** 2)

    def df(x):
        return np.array([-3 * np.sin(3 * x[0]) + 0.2 * x[0]])

    kwargs = {"method": adam_minimize, "jac": df, "options": {"learning_rate": 0.05}}
    res = basinhopping(f, [2.0], niter=5, minimizer_kwargs=kwargs, **seeded())
    assert res.lowest_optimization_result.success
    # The global minimum of cos(3x) + 0.1 x^2 is near x = +-1.0.
    assert abs(abs(res.x[0]) - 1.0) < 0.05
    assert res.nfev > 0 and res.njev > 0


def test_basinhopping_with_bounds_and_an_instance():
    fun = Counted(lambda x: float(np.cos(3 * x[0]) + 0.1 * x[0] ** 2))
    kwargs = {
        "method": AdamMinimizer(learning_rate=0.05),
        "bounds": [(0.0, 3.0)],
    }
    # Steps of 2 from 2.5 leave the box; the local searches start inside.
    res = basinhopping(
        fun, [2.5], niter=5, stepsize=2.0, minimizer_kwargs=kwargs, **seeded()
    )
    points = np.array(fun.points)
    assert points.min() >= 0.0 and points.max() <= 3.0
    assert res.lowest_optimization_result.success
    # On [0, 3] the minimum of cos(3x) + 0.1 x^2 is near x = 1.0.
    assert abs(res.x[0] - 1.0) < 0.05
    assert res.nfev == fun.calls


def test_dual_annealing():
    def f(x):
        return float(np.sum((x - 0.3) ** 2) + 0.1 * np.sum(np.cos(5 * x)))

    kwargs = {"method": adam_minimize, "options": {"learning_rate": 0.02}}
    res = dual_annealing(
        f, [(-2, 2), (-2, 2)], maxiter=20, minimizer_kwargs=kwargs, **seeded()
    )
    # The global minimum of each coordinate's (x - 0.3)^2 + 0.1 cos(5x) is
    # at x = 0.4742 (where 2 (x - 0.3) = 0.5 sin(5x)).
    assert_allclose(res.x, [0.4742, 0.4742], atol=1e-3)


def test_minimize_scalar():
    fun = Counted(lambda x: (x - 2.0) ** 2)
    res = minimize_scalar(
        fun, bracket=(0.0, 1.0), method=adam_minimize, options={"learning_rate": 0.05}
    )
    assert res.success and np.ndim(res.x) == 0
    assert abs(res.x - 2.0) < 1e-4 and res.nfev == fun.calls
    res = minimize_scalar(
        fun, bounds=(-1.0, 1.0), method=adam_minimize, options={"learning_rate": 0.05}
    )
    assert res.success and abs(res.x - 1.0) < 1e-8


@pytest.mark.parametrize(
    "bounds, expected",
    [
        (Bounds(-1.0, 1.0), 1.0),
        ((0.0, np.inf), 2.0),
        ((None, 1.5), 1.5),
        ((5.0, None), 5.0),
    ],
)
def test_minimize_scalar_bounds_of_every_form(bounds, expected):
    fun = Counted(lambda x: (x - 2.0) ** 2)
    res = minimize_scalar(
        fun, bounds=bounds, method=adam_minimize, options={"learning_rate": 0.05}
    )
    assert res.success and abs(res.x - expected) < 1e-4
    points = np.array(fun.points)
    assert np.all(np.isfinite(points))


def test_minimize_scalar_with_disp(capsys):
    # minimize_scalar hands disp=True on as disp=2.
    res = minimize_scalar(
        lambda x: (x - 2.0) ** 2, method=adam_minimize, options={"disp": True}
    )
    assert f"Iterations: {res.nit}" in capsys.readouterr().out


def test_minimize_scalar_bad_bracket():
    with pytest.raises(ValueError, match="bracket must hold 2 or 3 points"):
        minimize_scalar(lambda x: x**2, bracket=(1.0,), method=adam_minimize)


# -- convergence ---------------------------------------------------------------


def test_random_convex_quadratic_converges(rng):
    n = 10
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    a = (q * np.logspace(-1, 1, n)) @ q.T
    b = rng.standard_normal(n)
    solution = np.linalg.solve(a, b)

    res = minimize(
        lambda x: 0.5 * x @ a @ x - b @ x,
        np.zeros(n),
        method=adam_minimize,
        jac=lambda x: a @ x - b,
        options={"maxiter": 20_000},
    )
    # Default options except maxiter: at the default learning rate of 0.001,
    # reaching a solution ~7 away takes more than 7000 updates.
    assert res.success
    assert np.abs(res.jac).max() <= 1e-5
    # |x - x*| <= |g| / lambda_min with lambda_min = 0.1.
    assert np.linalg.norm(res.x - solution) <= 10 * np.linalg.norm(res.jac) + 1e-12


def test_rosenbrock_from_the_classic_start():
    res = minimize(
        rosen,
        [-1.2, 1.0],
        method=adam_minimize,
        jac=rosen_der,
        options={"maxiter": 20_000},
    )
    assert res.success and res.status == 0
    assert np.abs(rosen_der(res.x)).max() <= 1e-5
    assert_allclose(res.x, [1.0, 1.0], atol=1e-4)


@pytest.mark.parametrize("keep", ["array", "view", "none", "modify"])
@pytest.mark.parametrize("d", [3, 5000])
def test_points_kept_by_the_user_are_never_overwritten(keep, d):
    # The loop recycles the memory of old iterates nobody refers to; arrays
    # (or views of them) that the user's functions keep must stay as they were.
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


def test_docstring_examples_run():
    import doctest

    import skadam._minimize

    result = doctest.testmod(skadam._minimize, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 4 and result.failed == 0


def test_kept_points_survive_a_tracer_that_reads_every_frame():
    # Tracers and debuggers that read frame.f_locals hold extra references
    # while they run; the test of whether old memory may be reused must stay
    # on the safe side under them.
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
