"""SciPy's custom-method contract, checked through ``scipy.optimize.minimize``."""

import itertools
import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import (
    Bounds,
    NonlinearConstraint,
    OptimizeResult,
    OptimizeWarning,
    basinhopping,
    minimize,
    minimize_scalar,
    rosen,
    rosen_der,
)

from skadam import AdamMinimizer, adam_minimize

CENTER = np.array([1.0, -2.0, 0.5])
STOP_MESSAGE = "`callback` raised `StopIteration`."
MAXITER_MESSAGE = "Maximum number of iterations has been exceeded."


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
    "value", [np.array([2.0]), np.array(2.0), np.float32(2.0), 2, np.array([[2.0]])]
)
def test_fun_may_return_any_single_real_value(value):
    res = run(lambda x: value, jac=g_quad, options={"maxiter": 2})
    assert type(res.fun) is float and res.fun == 2.0


@pytest.mark.parametrize("value", [np.ones(2), None, "1.0", 1j])
def test_fun_returning_no_single_real_value_raises(value):
    with pytest.raises(ValueError, match="fun must return a real scalar"):
        run(lambda x: value, jac=g_quad)


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


# -- stopping ----------------------------------------------------------------


def test_maxiter():
    res = run(f_quad, jac=g_quad, options={"maxiter": 7})
    assert (res.success, res.status, res.message) == (False, 1, MAXITER_MESSAGE)
    assert res.nit == 7


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
    assert "not finite at the result" in res.message


# -- x0, options, pickling ----------------------------------------------------


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


def test_float32_x0_keeps_its_dtype():
    res = run(
        f_quad,
        x0=np.zeros(3, dtype=np.float32),
        jac=g_quad,
        options={**FAST, "gtol": 1e-3},
    )
    assert res.success and res.x.dtype == np.float32


def test_unknown_option_warns_with_its_name():
    with pytest.warns(OptimizeWarning, match="learning_rat"):
        run(f_quad, jac=g_quad, options={"learning_rat": 0.1, "maxiter": 3})
    with pytest.warns(OptimizeWarning, match="momentum"):
        AdamMinimizer(momentum=0.9)


@pytest.mark.parametrize(
    "options",
    [
        {"learning_rate": 0.0},
        {"beta_1": 1.0},
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
        {"disp": 2},
        {"return_best": "no"},
    ],
)
def test_bad_options_raise(options):
    name = next(iter(options))
    with pytest.raises(ValueError, match=name):
        run(f_quad, jac=g_quad, options=options)


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


# -- where SciPy passes methods on --------------------------------------------


def test_basinhopping():
    def f(x):
        return float(np.cos(3 * x[0]) + 0.1 * x[0] ** 2)

    def df(x):
        return np.array([-3 * np.sin(3 * x[0]) + 0.2 * x[0]])

    kwargs = {"method": adam_minimize, "jac": df, "options": {"learning_rate": 0.05}}
    res = basinhopping(f, [2.0], niter=5, minimizer_kwargs=kwargs, rng=0)
    assert res.lowest_optimization_result.success
    # The global minimum of cos(3x) + 0.1 x^2 is near x = +-1.0.
    assert abs(abs(res.x[0]) - 1.0) < 0.05
    assert res.nfev > 0 and res.njev > 0


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


@pytest.mark.parametrize("keep", ["array", "view", "none"])
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
        return 2.0 * (x - center)

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
