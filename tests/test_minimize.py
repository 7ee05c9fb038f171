"""SciPy's custom-method contract, checked through ``scipy.optimize.minimize``."""

import inspect
import itertools
import os
import pickle
import time
import tracemalloc

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from quadratic import CENTER, FAST, Counted, f_quad, fg_quad, g_quad, run
from scipy import sparse
from scipy.optimize import (
    Bounds,
    OptimizeResult,
    OptimizeWarning,
    basinhopping,
    dual_annealing,
    minimize,
    minimize_scalar,
    rosen,
    rosen_der,
)

import skadam
from skadam import AdamMinimizer, adam_minimize
from skadam._optimizers import make_optimizer

STOP_MESSAGE = "`callback` raised `StopIteration`."
MAXITER_MESSAGE = "Maximum number of iterations has been exceeded."


def seeded():
    """Seed basinhopping or dual_annealing with a fresh ``default_rng(0)``.

    SciPy 1.15 renamed their ``seed`` keyword to ``rng``. Both names take a
    Generator, so SciPy 1.11 and today's SciPy draw the same random steps.
    """
    name = "rng" if "rng" in inspect.signature(basinhopping).parameters else "seed"
    return {name: np.random.default_rng(0)}


# -- gradients ---------------------------------------------------------------


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


def _huge_slope(slope, dtype=np.float64):
    """f(x) = slope * x[0] + x[0]**2: finite, with a gradient near ``slope``."""
    return {
        "fun": lambda x: float(slope * x[0] + x[0] ** 2),
        "x0": np.zeros(1, dtype),
        "jac": lambda x: np.array([slope + 2 * x[0]], dtype),
    }


@pytest.mark.filterwarnings("error::RuntimeWarning")  # the run reports it
@pytest.mark.parametrize("algorithm", ["adam", "nadam", "radam", "schedulefree_adamw"])
@pytest.mark.parametrize("slope, dtype", [(1e200, np.float64), (1e20, np.float32)])
def test_a_squared_gradient_that_overflows_stops_with_status_2(algorithm, slope, dtype):
    # g * g overflows: v = inf and every later step is m / inf = 0, a frozen x.
    problem = _huge_slope(slope, dtype)
    res = minimize(**problem, method=adam_minimize,
                   options={"algorithm": algorithm, "maxiter": 100})  # fmt: skip
    assert (res.success, res.status, res.nit) == (False, 2, 0)
    assert "overflows its second moment" in res.message
    assert_array_equal(res.x, [0.0])  # the iterate before the update
    # ... and the state that belongs to it: the rejected update left no trace.
    assert res.state.step == 0 and np.all(res.state.v == 0)


def test_an_overflow_later_in_a_run_keeps_the_state_of_the_result():
    # The gradient jumps to 1e160 when x[0] enters (0.5, 0.6): the run stops
    # there, res.state is that of res.iterate, and continuing from both with
    # the ordinary gradient reaches the optimum.
    def fun(x):
        g = 2 * (x - 1)
        if 0.5 < x[0] < 0.6:
            g[0] = 1e160
        return float(np.sum((x - 1) ** 2)), g

    res = minimize(fun, np.zeros(3), jac=True, method=adam_minimize,
                   options={"learning_rate": 0.1, "maxiter": 300})  # fmt: skip
    assert res.status == 2 and res.state.step == res.nit > 0
    assert np.all(np.isfinite(res.state.v))
    again = minimize(lambda x: (float(np.sum((x - 1) ** 2)), 2 * (x - 1)),
                     res.iterate, jac=True, method=adam_minimize,
                     options={"learning_rate": 0.1, "maxiter": 2000,
                              "initial_state": res.state})  # fmt: skip
    assert again.status == 0
    assert_allclose(again.x, np.ones(3), atol=1e-4)


def test_a_non_finite_initial_state_is_refused():
    state = skadam.Adam().init(np.zeros(3))
    state.v[1] = np.inf
    with pytest.raises(ValueError, match="initial_state holds non-finite values"):
        run(f_quad, jac=g_quad, options={"initial_state": state})


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_an_overflowing_moment_stops_either_backend_and_minibatches(backend, rng):
    problem = _huge_slope(1e200)
    adam = skadam.Adam(backend=backend)
    res = minimize(**problem, method=adam_minimize, options={"algorithm": adam})
    assert (res.status, res.nit) == (2, 0)
    X = rng.normal(size=(40, 2))

    def linear(w, X, y):  # finite values, gradients near 1e200
        return float(np.mean(y * (X @ w))), X.T @ y / len(y)

    res = minimize(linear, np.zeros(2), args=(X, 1e200 * X[:, 0]),
                   jac=True, method=adam_minimize,
                   options={"batch_size": 8, "return_all": True})  # fmt: skip
    assert (res.status, res.nit) == (2, 0) and "overflows" in res.message
    assert_array_equal(res.x, [0.0, 0.0])
    assert len(res.allvecs) == 1


def test_adamax_squares_nothing_and_keeps_moving():
    # Adamax's step under a constant gradient is lr * sign(g) (u = |g| + eps).
    res = minimize(**_huge_slope(1e200), method=adam_minimize,
                   options={"algorithm": "adamax", "learning_rate": 0.1,
                            "maxiter": 10})  # fmt: skip
    assert res.status == 1
    assert_allclose(res.x, [-1.0], rtol=1e-12)


def test_large_but_squarable_gradients_are_no_false_alarm():
    # Adam's step under a constant gradient g is lr * g / (|g| + eps) = lr.
    res = minimize(**_huge_slope(1e150), method=adam_minimize,
                   options={"learning_rate": 0.1, "maxiter": 5})  # fmt: skip
    assert res.status == 1
    assert_allclose(res.x, [-0.5], rtol=1e-12)


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
def test_an_overflow_of_coupled_weight_decay_is_caught_at_the_end():
    # g + weight_decay * x = 1e300 squares to inf though g = 0.
    res = minimize(lambda x: 0.0, [1e300], jac=lambda x: np.zeros(1),
                   method=adam_minimize,
                   options={"weight_decay": 1.0, "maxiter": 5})  # fmt: skip
    assert (res.success, res.status) == (False, 2)
    assert "state is not finite at the end" in res.message


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


def test_options_may_be_0d_arrays():
    # The first Adam step is lr * sign(g) (epsilon 0): one update moves
    # x0 = 1 to 1 - lr.
    options = {"learning_rate": np.array(0.25), "maxiter": np.array(1),
               "epsilon": np.array(0.0), "gtol": np.array(1e-9)}  # fmt: skip
    res = minimize(lambda x: float(x @ x), np.ones(2), jac=lambda x: 2 * x,
                   method=adam_minimize, options=options)  # fmt: skip
    assert res.nit == 1 and res.status == 1
    assert_array_equal(res.x, [0.75, 0.75])
    assert AdamMinimizer(**options)(lambda x: float(x @ x), np.ones(2)).nit == 1


@pytest.mark.parametrize("call", ["function", "minimizer"])
def test_a_direct_call_without_x0_raises_instead_of_going_scalar(call):
    method = adam_minimize if call == "function" else AdamMinimizer()
    with pytest.raises(TypeError, match="needs x0"):
        method(rosen)
    # minimize_scalar passes bracket (None here) instead of x0: still scalar.
    res = minimize_scalar(lambda x: (x - 2.0) ** 2, method=method,
                          options={"learning_rate": 0.05})  # fmt: skip
    assert res.success and abs(res.x - 2.0) < 1e-4


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
    # What the run holds, counted in arrays the size of x, at update 3 and at
    # update 40. Only allocations made with skadam or this file on the stack
    # are counted: other threads (a Dask cluster left by another test) are
    # not this run's and must not disturb the measure.
    n = 50_000
    center = np.linspace(-1.0, 1.0, n)
    held = {}

    def callback(xk):
        nit = len(held) + 1
        if nit in (3, 40):
            snapshot = tracemalloc.take_snapshot().filter_traces(OURS)
            held[nit] = sum(s.size for s in snapshot.statistics("filename"))
        held.setdefault(nit, None)

    def run_for(maxiter, callback=None):
        minimize(
            lambda x: float((x - center) @ (x - center)),
            np.zeros(n),
            method=adam_minimize,
            jac=lambda x: 2.0 * (x - center),
            callback=callback,
            options={"maxiter": maxiter, "gtol": 0.0, **options},
        )

    run_for(1)  # untraced warm-up: imports and compiled kernels
    tracemalloc.start(50)
    try:
        run_for(40, callback)
    finally:
        tracemalloc.stop()
    short, long = held[3] / (8 * n), held[40] / (8 * n)
    # About ten arrays: iterate, previous iterate, gradient, moments,
    # scratch, the callback's copy, and with return_best the best iterate.
    assert long <= 12 and long <= short + 0.5


OURS = [
    tracemalloc.Filter(
        True, os.path.join(os.path.dirname(skadam.__file__), "*"), all_frames=True
    ),
    tracemalloc.Filter(True, __file__, all_frames=True),
]


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


# -- holes found by mutation (issue 9) -----------------------------------------


def test_ftol_is_relative_to_f():
    # f is near 1000, so the relative test (ftol * |f|) and an absolute one
    # (ftol) stop at different updates; the run must stop at the relative one.
    seen, ftol = [], 1e-6

    def fun(x):
        return 1000.0 + f_quad(x)

    res = run(
        fun,
        jac=g_quad,
        callback=record_new_style(seen),
        options={"learning_rate": 0.05, "maxiter": 3000, "gtol": 0.0, "ftol": ftol},
    )
    assert res.success and "ftol" in res.message
    f = [fun(np.zeros(3))] + [r.fun for r in seen]
    changes = [abs(a - b) for a, b in itertools.pairwise(f)]
    relative = [c <= ftol * max(abs(a), abs(b), 1.0) for c, (a, b) in
                zip(changes, itertools.pairwise(f), strict=True)]  # fmt: skip
    assert relative[-1] and not any(relative[:-1])
    assert changes[-1] > ftol  # an absolute test would not have stopped here


@pytest.mark.parametrize("d", [3, 20, 5000])
def test_one_nan_inside_a_small_gradient_is_caught(d):
    # One NaN among small finite entries (not an all-inf gradient).
    center = np.linspace(0.1, 0.2, d)
    seen = []

    def jac(x):
        g = 2.0 * (x - center)
        if x[0] > 0.05:
            g[d // 2] = np.nan
        return g

    res = minimize(
        lambda x: float((x - center) @ (x - center)),
        np.zeros(d),
        jac=jac,
        method=adam_minimize,
        callback=seen.append,
        options={"learning_rate": 0.01},
    )
    assert (res.success, res.status) == (False, 2)
    assert np.isfinite(res.x).all() and np.isfinite(res.jac).all()
    assert_array_equal(res.x, seen[-1])
    assert res.x[0] <= 0.05


def test_gtol_with_decoupled_weight_decay_tests_the_gradient_itself():
    # Decoupled decay is no term of the objective: gtol tests g, not
    # g + weight_decay * x (which stays near weight_decay * |x| ~ 0.02 here).
    wd, gtol = 0.01, 1e-3
    options = {
        "learning_rate": 0.01,
        "maxiter": 20_000,
        "weight_decay": wd,
        "decoupled_weight_decay": True,
        "gtol": gtol,
    }
    res = run(f_quad, jac=g_quad, options=options)
    assert res.success and res.message.endswith("(max |gradient| <= gtol).")
    assert np.abs(res.jac).max() <= gtol
    assert np.abs(res.jac + wd * res.x).max() > 10 * gtol


class NaNAfterOneStep:
    """A protocol optimizer whose first update makes x NaN (as epsilon=0 can)."""

    def init(self, x):
        return skadam.AdamState(step=0, m=np.zeros_like(x), v=np.zeros_like(x))

    def step(self, x, grad, state):
        x[:] = np.nan
        state.step += 1
        return x


def test_a_non_finite_x_is_never_a_success():
    # jac hides the NaN (nan_to_num): gtol is met at a NaN x.
    res = run(
        lambda x: 0.0,
        jac=lambda x: np.nan_to_num(x - 1.0),
        options={"algorithm": NaNAfterOneStep(), "gtol": 1e-3},
    )
    assert (res.success, res.status) == (False, 2)
    assert "x is not finite" in res.message


def test_epsilon_zero_never_reports_success():
    # A gradient entry that is 0 from the start gives 0 / 0 with epsilon=0.
    center = np.r_[np.zeros(10), np.ones(10)]
    with np.errstate(all="ignore"):
        res = minimize(
            lambda x: float(np.nansum((x - center) ** 2)),
            np.zeros(20),
            jac=lambda x: np.nan_to_num(2.0 * (x - center)),
            method=adam_minimize,
            options={"epsilon": 0.0, "learning_rate": 0.05},
        )
    assert not (res.success and not np.isfinite(res.x).all())
    if not np.isfinite(res.x).all():
        assert res.status == 2


@pytest.mark.parametrize(
    "options",
    [
        {"maxiter": np.inf, "gtol": 0.0},
        {"maxiter": np.inf, "gtol": 0.0, "ftol": 0.0, "xtol": 0.0},
    ],
)
def test_a_run_with_no_stopping_criterion_is_refused(options):
    with pytest.raises(ValueError, match="would never stop"):
        run(f_quad, jac=g_quad, options=options)
    with pytest.raises(ValueError, match="would never stop"):
        AdamMinimizer(**options)
    # A time budget is a criterion.
    res = run(f_quad, jac=g_quad, options={**options, "maxtime": 0.05})
    assert res.status == 3


@pytest.mark.parametrize(
    "name, value, rule",
    [
        ("maxiter", -1, "an integer >= 0 or inf"),
        ("maxiter", 2.5, "an integer >= 0 or inf"),
        ("maxiter", np.nan, "an integer >= 0 or inf"),
        ("maxtime", 0.0, "> 0 (inf for no limit)"),
        ("maxtime", -np.inf, "> 0 (inf for no limit)"),
        ("maxtime", np.nan, "> 0 (inf for no limit)"),
        ("gtol", -np.inf, "a real number >= 0"),
        ("gtol", np.nan, "a real number >= 0"),
        ("batch_size", 0, "None or an int >= 1"),
        ("workers", 0, "an int >= 1, -1 (one per CPU)"),
    ],
)
def test_option_errors_never_contradict_themselves(name, value, rule):
    # The message states a rule the value breaks, and names the value.
    with pytest.raises(ValueError) as error:
        run(f_quad, jac=g_quad, options={name: value})
    message = str(error.value)
    assert message.startswith(f"{name} must be") and rule in message
    assert message.endswith(f"got {value!r}.")


def stops(kind):
    """Runs that end with each status, for the message checks."""
    options = {
        "converged": {},
        "max_iter": {"maxiter": 5},
        "callback": {},
        "max_time": {"maxtime": 1e-9, "gtol": 0.0},
        "best": {"learning_rate": 1.5, "maxiter": 30, "return_best": True},
    }[kind]

    def callback(xk):
        if kind == "callback":
            raise StopIteration

    return run(f_quad, jac=g_quad, callback=callback, options={**FAST, **options})


@pytest.mark.parametrize(
    "kind", ["converged", "max_iter", "callback", "max_time", "best"]
)
def test_status_and_message_agree(kind):
    res = stops(kind)
    assert res.success == (res.status == 0)
    assert res.success == res.message.startswith("Optimization terminated successfully")
    assert ("successfully" in res.message) == res.success


# -- issue 12: resume, return_all, maxtime, workers, minibatches ---------------

LONG = {"learning_rate": 0.01, "gtol": 0.0}


@pytest.mark.parametrize(
    "extra",
    [{}, {"amsgrad": True}, {"learning_rate": decaying_rate}, {"weight_decay": 0.1}],
    ids=["adam", "amsgrad", "schedule", "coupled-decay"],
)
def test_100_then_100_more_from_the_state_equal_200(extra):
    options = {**LONG, **extra}
    whole = minimize(
        rosen, [-1.2, 1.0], jac=rosen_der, method=adam_minimize,
        options={**options, "maxiter": 200},
    )  # fmt: skip
    first = minimize(
        rosen, [-1.2, 1.0], jac=rosen_der, method=adam_minimize,
        options={**options, "maxiter": 100},
    )  # fmt: skip
    state = pickle.loads(pickle.dumps(first.state))  # a checkpoint on disk
    second = minimize(
        rosen, first.x, jac=rosen_der, method=adam_minimize,
        options={**options, "maxiter": 100, "initial_state": state},
    )  # fmt: skip
    assert_array_equal(second.x, whole.x)
    assert second.fun == whole.fun
    assert second.state.step == whole.state.step == 200
    for name, value in whole.state.to_dict().items():
        assert_array_equal(second.state.to_dict()[name], value)


def test_initial_state_is_copied_not_modified():
    first = run(f_quad, jac=g_quad, options={**FAST, "maxiter": 10})
    saved = first.state.copy()
    run(
        f_quad,
        x0=first.x,
        jac=g_quad,
        options={"maxiter": 10, "initial_state": first.state},
    )
    assert first.state.step == saved.step == 10
    assert_array_equal(first.state.m, saved.m)


@pytest.mark.parametrize(
    "state, match",
    [
        (
            skadam.Adam().init(np.zeros(2)),
            r"initial_state.m must have x0's shape \(3,\)",
        ),
        (skadam.Adam().init(np.zeros(3, np.float32)), "dtype float64"),
        ({"step": 0}, "initial_state must be a AdamState"),
    ],
)
def test_an_initial_state_that_does_not_fit_raises(state, match):
    with pytest.raises(ValueError, match=match):
        run(f_quad, jac=g_quad, options={"initial_state": state})


class MomentumState:
    """The state of MomentumSGD: a step count and a velocity."""

    def __init__(self, step, velocity):
        self.step, self.velocity = step, velocity

    def copy(self):
        return MomentumState(self.step, self.velocity.copy())

    def to_dict(self):
        return {"step": self.step, "velocity": self.velocity}


class MomentumSGD:
    """A protocol optimizer that is not skadam's: heavy-ball gradient descent."""

    def init(self, x):
        return MomentumState(0, np.zeros_like(x))

    def step(self, x, grad, state):
        state.velocity *= 0.9
        state.velocity -= 0.01 * grad
        x += state.velocity
        state.step += 1
        return x


def resumed_and_whole(options):
    """30 updates, then 30 more from the state; and 60 in one call."""
    whole = run(f_quad, jac=g_quad, options={**options, "maxiter": 60})
    first = run(f_quad, jac=g_quad, options={**options, "maxiter": 30})
    second = run(
        f_quad, x0=first.iterate, jac=g_quad,
        options={**options, "maxiter": 30, "initial_state": first.state},
    )  # fmt: skip
    return second, whole


def test_resume_works_with_any_optimizer_of_the_protocol():
    options = {"algorithm": MomentumSGD(), "gtol": 0.0}
    second, whole = resumed_and_whole(options)
    assert_array_equal(second.x, whole.x)
    assert isinstance(whole.state, MomentumState) and whole.state.step == 60
    # Its hyperparameters are its own: options for Adam are refused.
    with pytest.raises(ValueError, match="set learning_rate on that object"):
        run(f_quad, jac=g_quad, options={**options, "learning_rate": 0.1})


@pytest.mark.parametrize("jac", [g_quad, True])
def test_return_all_keeps_every_iterate_and_the_values_computed(jac):
    seen = []
    fun = fg_quad if jac is True else f_quad
    res = run(fun, jac=jac, callback=seen.append, options={**FAST, "return_all": True})
    assert len(res.allvecs) == len(res.allfuns) == res.nit + 1
    assert_array_equal(res.allvecs[0], np.zeros(3))
    assert_array_equal(np.array(res.allvecs[1:]), np.array(seen))
    assert_array_equal(res.allvecs[-1], res.x)
    assert res.allfuns[-1] == res.fun
    if jac is True:  # f comes with every gradient
        assert res.allfuns == [f_quad(x) for x in res.allvecs]
    else:  # f is computed only at the end
        assert res.allfuns[:-1] == [None] * res.nit
    assert "allvecs" not in run(f_quad, jac=g_quad)


def test_return_all_stops_at_the_last_finite_iterate():
    res = run(
        nan_below(0.5, np.nan),
        jac=True,
        options={"learning_rate": 0.1, "return_all": True},
    )
    assert res.status == 2 and len(res.allvecs) == res.nit + 1
    assert_array_equal(res.allvecs[-1], res.x)
    assert np.isfinite(res.allfuns).all()


def test_maxtime_stops_after_the_first_update_past_the_budget():
    ends = []

    def slow_jac(x):
        time.sleep(0.02)
        return g_quad(x)

    def callback(xk):
        ends.append(time.perf_counter())

    started = time.perf_counter()
    res = run(f_quad, jac=slow_jac, callback=callback, options={"maxtime": 0.1})
    assert (res.success, res.status) == (False, 3)
    assert "time budget ran out" in res.message and "maxtime=0.1 s" in res.message
    assert ends[-1] - started > 0.1  # past the budget ...
    # ... for the first time (the run's clock starts a little after ours).
    assert all(end - started <= 0.1 + 0.02 for end in ends[:-1])
    assert 1 <= res.nit == len(ends) <= 6


class LazyAnnotations:
    """A function whose annotations raise NameError when read.

    What Python 3.14 does for ``def f(intermediate_result: Thing)`` when
    ``Thing`` is imported only under ``typing.TYPE_CHECKING``: annotations are
    evaluated lazily, when something asks for them.
    """

    def __init__(self, function):
        self.function = function
        self.__name__ = function.__name__
        self.__code__ = function.__code__
        self.__defaults__, self.__kwdefaults__ = None, None

    @property
    def __annotations__(self):
        raise NameError("name 'Thing' is not defined")

    def __call__(self, *args, **kwargs):
        return self.function(*args, **kwargs)


def test_callback_style_without_evaluating_annotations():
    seen = []

    def new(intermediate_result):
        seen.append(intermediate_result)

    def old(xk):
        seen.append(xk)

    with pytest.raises(NameError):  # the simulation does what 3.14 would
        inspect.signature(LazyAnnotations(new))
    res = run(f_quad, jac=g_quad, callback=LazyAnnotations(new), options={"maxiter": 3})
    assert [type(r) for r in seen] == [OptimizeResult] * 3 and res.nit == 3
    seen.clear()
    run(f_quad, jac=g_quad, callback=LazyAnnotations(old), options={"maxiter": 3})
    assert [type(r) for r in seen] == [np.ndarray] * 3


def logistic(w, X, y, alpha):
    """Mean logistic loss + alpha/2 |coef|^2 and its gradient; intercept last."""
    z = X @ w[:-1] + w[-1]
    loss = np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * alpha * w[:-1] @ w[:-1]
    r = (0.5 * (1.0 + np.tanh(0.5 * z)) - y) / len(y)
    g = np.empty_like(w)
    g[:-1] = X.T @ r + alpha * w[:-1]
    g[-1] = r.sum()
    return loss, g


@pytest.fixture
def classification(rng):
    n, d = 20_000, 10
    X = rng.standard_normal((n, d))
    z = X @ rng.uniform(-2, 2, d) + 0.5
    y = (rng.random(n) < 0.5 * (1.0 + np.tanh(0.5 * z))).astype(float)
    return X, y, 1e-3


def test_minibatches_reach_the_full_batch_optimum(classification):
    args = classification
    optimum = minimize(
        logistic, np.zeros(11), args=args, jac=True, method="L-BFGS-B",
        options={"gtol": 1e-10},
    )  # fmt: skip
    res = minimize(
        logistic, np.zeros(11), args=args, jac=True, method=adam_minimize,
        options={"batch_size": 256, "rng": 0},
    )  # fmt: skip
    assert res.fun <= 1.01 * optimum.fun
    assert np.linalg.norm(res.x - optimum.x) <= 0.01 * np.linalg.norm(optimum.x)
    # fun and jac at res.x on the full data; every call counted.
    full_f, full_g = logistic(res.x, *args)
    assert res.fun == full_f
    assert_array_equal(res.jac, full_g)
    assert res.nit == 10_000 and res.nfev == res.njev == res.nit + 1
    again = minimize(
        logistic, np.zeros(11), args=args, jac=True, method=adam_minimize,
        options={"batch_size": 256, "rng": 0, "maxiter": 500},
    )  # fmt: skip
    same = minimize(
        logistic, np.zeros(11), args=args, jac=True, method=adam_minimize,
        options={"batch_size": 256, "rng": np.random.default_rng(0), "maxiter": 500},
    )  # fmt: skip
    other = minimize(
        logistic, np.zeros(11), args=args, jac=True, method=adam_minimize,
        options={"batch_size": 256, "rng": 1, "maxiter": 500},
    )  # fmt: skip
    assert_array_equal(again.x, same.x)
    assert not np.array_equal(again.x, other.x)


def test_minibatch_run_resumed_at_an_epoch_boundary_equals_one_run(classification):
    X, y, alpha = (a[:1000] if np.ndim(a) else a for a in classification)
    options = {"batch_size": 100, "gtol": 0.0, "learning_rate": 0.01}

    def fit(x0, maxiter, rng, state=None):
        return minimize(
            logistic, x0, args=(X, y, alpha), jac=True, method=adam_minimize,
            options={**options, "maxiter": maxiter, "rng": rng, "initial_state": state},
        )  # fmt: skip

    whole = fit(np.zeros(11), 200, np.random.default_rng(3))
    rng = np.random.default_rng(3)
    first = fit(np.zeros(11), 100, rng)
    second = fit(first.x, 100, rng, first.state)
    assert_array_equal(second.x, whole.x)


def test_minibatch_gtol_is_tested_on_the_epoch_means():
    # A quadratic mean over rows: the epoch's mean gradient is the full one.
    X = np.linspace(-1.0, 1.0, 64)[:, np.newaxis] + np.array([1.0, -2.0, 0.5])

    def fg(w, X):
        return 0.5 * np.mean(np.sum((w - X) ** 2, axis=1)), np.mean(w - X, axis=0)

    res = minimize(
        fg, np.zeros(3), args=(X,), jac=True, method=adam_minimize,
        options={"batch_size": 16, "learning_rate": 0.05, "gtol": 1e-3, "rng": 0},
    )  # fmt: skip
    assert res.success and "gtol" in res.message
    assert res.nit % 4 == 0  # at the end of an epoch


# -- issue 11: the algorithm and gradient clipping ----------------------------


def test_hyperparameters_reach_the_optimizer_factory(monkeypatch):
    calls = []

    def factory(algorithm, **hyperparameters):
        calls.append((algorithm, hyperparameters))
        return skadam.Adam(learning_rate=0.05)

    monkeypatch.setattr(skadam._minimize, "_make_optimizer", factory)
    common = {"learning_rate": 0.05, "beta_1": 0.8, "beta_2": 0.99,
              "epsilon": 1e-7, "weight_decay": 0.01}  # fmt: skip
    run(f_quad, jac=g_quad, options={**common, "maxiter": 2})
    # Switches left at their defaults are not passed: not every algorithm
    # has them, and every algorithm's default is Adam's.
    assert calls[-1] == ("adam", common)
    switches = {"bias_correction": False, "amsgrad": True,
                "decoupled_weight_decay": True, "max_grad_norm": 0.5}  # fmt: skip
    run(f_quad, jac=g_quad, options={**switches, "algorithm": "other", "maxiter": 2})
    name, hyperparameters = calls[-1]
    assert name == "other" and hyperparameters.items() >= switches.items()


def test_an_unknown_algorithm_is_named():
    with pytest.raises(ValueError, match=r"algorithm must be one of .*got 'sgd'"):
        run(f_quad, jac=g_quad, options={"algorithm": "sgd"})
    with pytest.raises(ValueError, match="optimizer with init"):
        run(f_quad, jac=g_quad, options={"algorithm": object()})


@pytest.mark.parametrize("algorithm", sorted(skadam._optimizers.ALGORITHMS))
def test_every_algorithm_converges_and_resumes_from_its_state(algorithm):
    options = {"algorithm": algorithm, "learning_rate": 0.05, "gtol": 0.0}
    res = run(f_quad, jac=g_quad, options={**options, "maxiter": 3000})
    assert_allclose(res.x, CENTER, atol=1e-3)
    second, whole = resumed_and_whole(options)
    assert_array_equal(second.x, whole.x)


class AveragedSGD:
    """A protocol optimizer that evaluates at the running mean of its iterates
    (as schedule-free AdamW evaluates at its averaged point)."""

    def init(self, x):
        return MomentumState(0, x.copy())  # velocity holds the mean here

    def step(self, x, grad, state):
        x -= 0.1 * grad
        state.step += 1
        state.velocity += (x - state.velocity) / (state.step + 1)
        return x

    def eval_params(self, x, state):
        return state.velocity.copy()


def test_the_result_is_the_optimizers_evaluation_point():
    seen = []
    fun, jac = Counted(f_quad), Counted(g_quad)
    res = run(
        fun, jac=jac, callback=seen.append,
        options={"algorithm": AveragedSGD(), "maxiter": 20},
    )  # fmt: skip
    assert_allclose(res.x, np.mean([np.zeros(3), *seen], axis=0))
    assert_array_equal(res.iterate, seen[-1])
    assert res.fun == f_quad(res.x)
    assert_array_equal(res.jac, g_quad(res.x))
    assert_array_equal(fun.points[-1], res.x)


def test_minibatch_return_all_and_a_non_finite_minibatch():
    X = np.linspace(-1.0, 1.0, 40)[:, np.newaxis] + CENTER

    def fg(w, X):
        f, g = 0.5 * np.mean(np.sum((w - X) ** 2, axis=1)), np.mean(w - X, axis=0)
        return (np.nan if w[0] > 0.5 else f), g

    res = minimize(
        fg, np.zeros(3), args=(X,), jac=True, method=adam_minimize,
        options={"batch_size": 8, "learning_rate": 0.05, "return_all": True,
                 "rng": 0},
    )  # fmt: skip
    assert (res.status, res.success) == (2, False)
    assert "not finite after" in res.message and res.x[0] <= 0.5
    assert len(res.allvecs) == len(res.allfuns) == res.nit + 1
    assert_array_equal(res.allvecs[-1], res.x)
    assert res.allfuns[-1] == res.fun == fg(res.x, X)[0]


def _least_squares(w, X, y):
    r = X @ w - y
    return 0.5 * np.mean(r**2), X.T @ r / len(y)


def test_minibatches_take_any_sparse_format(rng):
    # COO (no row indexing) is sliced as CSR: the same run as from CSR.
    X = rng.normal(size=(200, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    options = {"batch_size": 32, "rng": 0, "maxiter": 50, "learning_rate": 0.05}
    runs = [
        minimize(_least_squares, np.zeros(3), args=(S(X), y), jac=True,
                 method=adam_minimize, options=options).x
        for S in (sparse.coo_matrix, sparse.csr_matrix)
    ]  # fmt: skip
    assert_array_equal(runs[0], runs[1])


def test_minibatches_of_no_rows_are_refused():
    with pytest.raises(ValueError, match="0 rows"):
        empty = (np.zeros((0, 3)), np.zeros(0))
        minimize(_least_squares, np.zeros(3), args=empty, jac=True,
                 method=adam_minimize, options={"batch_size": 32})  # fmt: skip


@pytest.mark.parametrize(
    "option, message",
    [
        ({"rng": 0}, r"rng is unused without batch_size \(it applies"),
        ({"batch_args": [0]}, r"batch_args is unused without batch_size \(it"),
        ({"rng": 0, "batch_args": [0]}, r"batch_args and rng are unused .*they"),
    ],
)
def test_batch_options_without_batch_size_warn(option, message, rng):
    X = rng.normal(size=(20, 3))
    with pytest.warns(OptimizeWarning, match=message) as record:
        minimize(_least_squares, np.zeros(3), args=(X, X[:, 0]), jac=True,
                 method=adam_minimize, options={**option, "maxiter": 2})  # fmt: skip
    assert issubclass(record[0].category, UserWarning)


@pytest.mark.parametrize("name", ["adam", "nadam", "radam", "adamax"])
@pytest.mark.parametrize("size", [2, 999, 1000])
def test_the_loop_takes_the_steps_of_the_public_step(name, size):
    # The loop checks its inputs once and then skips the per-step checks
    # below OUT_MIN_SIZE parameters (and writes into its spare buffer from
    # there): either way its iterates are those of a loop around step().
    rng = np.random.default_rng(0)
    A = rng.uniform(0.5, 2.0, size)

    def jac(x):
        return A * (x - 1.0)

    x0 = rng.normal(size=size)
    res = minimize(
        lambda x: 0.5 * np.sum(A * (x - 1.0) ** 2), x0, jac=jac,
        method=adam_minimize,
        options={"algorithm": name, "learning_rate": 0.05, "maxiter": 15,
                 "gtol": 0, "return_all": True},
    )  # fmt: skip
    opt = make_optimizer(name, learning_rate=0.05)
    x = x0.copy()
    state = opt.init(x)
    expected = [x.copy()]
    for _ in range(15):
        opt.step(x, jac(x), state)
        expected.append(x.copy())
    assert res.nit == 15
    assert_array_equal(np.array(res.allvecs), np.array(expected))
    assert_array_equal(res.state.m, state.m)
