"""Adam as a :func:`scipy.optimize.minimize` method.

This module speaks SciPy: :func:`adam_minimize` takes SciPy's arguments and its
own options as keywords, runs the loop (deterministic, or over shuffled
minibatches of ``args``), decides why it stopped in the words of
:class:`skadam._status.Status` and builds the
:class:`scipy.optimize.OptimizeResult`. Turning ``fun``/``jac``/``args``/
``x0``/``bounds`` into one value-and-gradient object is
:mod:`skadam._objective`'s job; the update rule is the optimizer's.
"""

import copy
import difflib
import inspect
import math
import os
import sys
import time
import warnings
from numbers import Integral, Real

import numpy as np
import scipy
from scipy.optimize import OptimizeResult, OptimizeWarning

from ._adam import _number, state_is_finite
from ._objective import (
    Minibatches,
    Objective,
    ScalarFun,
    Workers,
    check_batches,
    check_rel_step,
    refuse_constraints,
    scalar_x0,
    start,
)
from ._optimizers import make_optimizer as _make_optimizer
from ._status import SCIPY_STATUS, Status

__all__ = ["AdamMinimizer", "adam_minimize"]

# One message per Status; {detail} names the criterion or the circumstance.
# The integers SciPy expects come from SCIPY_STATUS when the result is built.
_MESSAGES = {
    Status.CONVERGED: "Optimization terminated successfully ({detail}).",
    Status.MAX_ITER: "Maximum number of iterations has been exceeded.",
    Status.NONFINITE: "Stopped: {detail}.",
    Status.CALLBACK: "`callback` raised `StopIteration`.",
    Status.MAX_TIME: "Stopped: the time budget ran out ({detail}).",
}
_CRITERIA = {
    "gtol": "max |gradient| <= gtol",
    "pgtol": "max |projected gradient| <= gtol",
    "gtol+l2": "max |gradient + weight_decay * x| <= gtol",
    "pgtol+l2": "max |projected (gradient + weight_decay * x)| <= gtol",
    "ftol": "|f change| <= ftol * max(|f|, 1)",
    "xtol": "max |step| <= xtol",
}
# The options every algorithm takes, passed to the optimizer.
_HYPERPARAMETERS = ("learning_rate", "beta_1", "beta_2", "epsilon", "weight_decay")
# Switches not every algorithm has (Adam has them all), passed on only when
# set away from their defaults (which are Adam's, and every algorithm's).
_SWITCHES = ("bias_correction", "amsgrad", "decoupled_weight_decay", "max_grad_norm")
_FLAGS = ("bias_correction", "amsgrad", "decoupled_weight_decay", "return_best",
          "return_all")  # fmt: skip


# The algorithms the option takes by name.
def _objective_gradient(optimizer):
    """``optimizer.objective_gradient``; ``grad`` itself for optimizers without it."""
    return getattr(optimizer, "objective_gradient", lambda x, grad: grad)


def _eval_params(optimizer, x, state):
    """The point to report: ``optimizer.eval_params`` (schedule-free), else x."""
    method = getattr(optimizer, "eval_params", None)
    return x if method is None else method(x, state)


# -- options -----------------------------------------------------------------


def _configure(options):
    """Validate every option before anything runs; return them and the optimizer.

    ``options`` maps every option name to its value (defaults filled in). A
    0-d array counts as the number it holds (NumPy reductions return them).
    """
    options = {name: _number(value) for name, value in options.items()}
    for name in _FLAGS:
        # bool("False") is True: a string or other object is a mistake.
        if not _is_flag(options[name], top=1):
            raise ValueError(f"{name} must be True or False, got {options[name]!r}.")
        options[name] = bool(options[name])
    # disp may be a level: minimize_scalar passes disp=True on as 2.
    if not _is_flag(options["disp"], top=math.inf):
        raise ValueError(
            f"disp must be True, False or an int >= 0, got {options['disp']!r}."
        )
    if options["tol"] is not None:
        _check_tolerance("tol", options["tol"])
    if options["gtol"] is None:  # tol sets gtol, as for BFGS
        options["gtol"] = 1e-5 if options["tol"] is None else options["tol"]
    for name in ("gtol", "ftol", "xtol"):
        _check_tolerance(name, options[name])
    options["maxiter"] = _check_maxiter(options["maxiter"])
    options["maxtime"] = _check_maxtime(options["maxtime"])
    _check_some_criterion(options)
    check_rel_step(options["finite_diff_rel_step"], None)
    Workers(options["workers"])  # validates
    check_batches(options["batch_size"], options["batch_args"])
    _warn_unused_batch_options(options)
    return options, _optimizer(options)


def _warn_unused_batch_options(options):
    """``batch_args`` and ``rng`` do nothing without ``batch_size``: say so."""
    if options["batch_size"] is not None:
        return
    unused = [n for n in ("batch_args", "rng") if options[n] is not None]
    if unused:
        words = ("are", "they apply") if len(unused) > 1 else ("is", "it applies")
        warnings.warn(
            f"{' and '.join(unused)} {words[0]} unused without batch_size "
            f"({words[1]} to minibatches only).",
            OptimizeWarning,
            stacklevel=_user_stacklevel(),
        )


def _optimizer(options):
    """The optimizer the options describe (``algorithm`` a name or an object)."""
    algorithm = options["algorithm"]
    if isinstance(algorithm, str):
        hyperparameters = {name: options[name] for name in _HYPERPARAMETERS}
        for name in _SWITCHES:
            if _is_set(options, name):
                hyperparameters[name] = options[name]
        return _make_optimizer(algorithm, **hyperparameters)
    if not all(callable(getattr(algorithm, m, None)) for m in ("init", "step")):
        raise ValueError(
            "algorithm must be a name or an optimizer with init(x) and "
            f"step(x, grad, state), got {algorithm!r}."
        )
    changed = [n for n in (*_HYPERPARAMETERS, *_SWITCHES) if _is_set(options, n)]
    if changed:
        raise ValueError(
            f"With an optimizer object as algorithm, set {', '.join(changed)} on "
            "that object, not as options of adam_minimize."
        )
    return algorithm


def _is_set(options, name):
    value, default = options[name], _DEFAULTS[name]
    return value is not default and value != default


def _is_flag(value, top):
    if isinstance(value, bool | np.bool_):
        return True
    return isinstance(value, Integral) and 0 <= value <= top


def _check_tolerance(name, value):
    if isinstance(value, bool) or not isinstance(value, Real) or not value >= 0:
        raise ValueError(f"{name} must be a real number >= 0, got {value!r}.")


def _check_maxiter(maxiter):
    """``maxiter`` as an int; integral floats such as ``1e4`` and ``inf`` pass."""
    if not isinstance(maxiter, bool) and isinstance(maxiter, Real) and maxiter >= 0:
        if maxiter == math.inf:
            return math.inf
        if float(maxiter).is_integer():
            return int(maxiter)
    raise ValueError(
        f"maxiter must be an integer >= 0 or inf (no limit), got {maxiter!r}."
    )


def _check_maxtime(maxtime):
    if isinstance(maxtime, bool) or not isinstance(maxtime, Real) or not maxtime > 0:
        raise ValueError(
            "maxtime must be a number of seconds > 0 (inf for no limit), "
            f"got {maxtime!r}."
        )
    return float(maxtime)


def _check_some_criterion(options):
    """Refuse a run that nothing but an exception could stop."""
    tolerances = (options["gtol"], options["ftol"], options["xtol"])
    if options["maxiter"] == math.inf and options["maxtime"] == math.inf:
        if not any(tolerances):
            raise ValueError(
                "maxiter=inf with gtol, ftol and xtol all 0 and no maxtime would "
                "never stop: give maxiter a number, a tolerance > 0, or maxtime."
            )


# Names other libraries use for skadam's options; None where a close name
# would mislead (L-BFGS-B's eps is a step size).
_ALIASES = {
    "lr": "learning_rate",
    "alpha": "learning_rate",
    "step_size": "learning_rate",
    "beta1": "beta_1",
    "beta2": "beta_2",
    "max_iter": "maxiter",
    "seed": "rng",
    "random_state": "rng",
    "eps": None,
}


def _warn_unknown(unknown):
    """Warn about unknown options (ignored), naming the option probably meant."""
    if unknown:
        warnings.warn(
            f"Unknown solver options: {', '.join(map(_with_hint, sorted(unknown)))}",
            OptimizeWarning,
            stacklevel=_user_stacklevel(),
        )


def _with_hint(name):
    """``name``, with the option probably meant (``lr (did you mean ...?)``)."""
    if name in _ALIASES:
        meant = _ALIASES[name]
    else:
        meant = next(iter(difflib.get_close_matches(name, _DEFAULTS, n=1)), None)
    return f"{name} (did you mean {meant}?)" if meant else name


# Warnings point at the first frame outside these folders (skadam, SciPy):
# the user's call, however many of SciPy's and skadam's frames lie between
# (basinhopping's, for one, pass through scipy/_lib).
_INTERNAL = tuple(os.path.dirname(path) + os.sep for path in (__file__, scipy.__file__))


def _user_stacklevel():
    frame, level = inspect.currentframe(), 0
    while frame is not None and frame.f_code.co_filename.startswith(_INTERNAL):
        frame, level = frame.f_back, level + 1
    return level


# -- callbacks ---------------------------------------------------------------


def _new_style(callback):
    """True for ``callback(intermediate_result)``, chosen by the parameter name.

    Annotations are not evaluated: on Python 3.14 they are lazy, and one that
    names an import made only under ``typing.TYPE_CHECKING`` would raise
    ``NameError`` (SciPy's issue 23913). The names come from the code object
    when the signature cannot be built at all.
    """
    try:
        parameters = list(_signature(callback).parameters)
    except NameError:
        parameters = _parameter_names(callback)
    except (TypeError, ValueError):
        return False
    return parameters == ["intermediate_result"]


def _signature(callback):
    if sys.version_info >= (3, 14):
        import annotationlib

        return inspect.signature(
            callback, annotation_format=annotationlib.Format.FORWARDREF
        )
    return inspect.signature(callback)


def _parameter_names(callback):
    """Parameter names from the code object, without touching annotations."""
    code = getattr(callback, "__code__", None)
    skip = 1 if inspect.ismethod(callback) else 0  # self
    if code is None:  # a callable object: its __call__, without self
        code, skip = getattr(type(callback).__call__, "__code__", None), 1
    if code is None:
        return []
    names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
    return list(names[skip:])


# -- stopping ----------------------------------------------------------------


def _max_abs(a):
    """max |a|, NaN if ``a`` holds a NaN, so one value also flags non-finite ones."""
    if a.size <= 8:
        # Python floats beat two ufunc calls for a few values. The sum is NaN
        # if any value is (a max over NaNs would depend on their order).
        values = a.ravel().tolist()
        if math.isnan(sum(values)):
            return math.nan
        return max(map(abs, values), default=0.0)
    return float(np.maximum(a.max(), -a.min()))  # no temporary array


def _close(f_old, f, ftol):
    """The relative change test of ftol (SciPy's L-BFGS-B form)."""
    return abs(f_old - f) <= ftol * max(abs(f_old), abs(f), 1.0)


def _nonfinite(f, gmax):
    return not (math.isfinite(gmax) and (f is None or math.isfinite(f)))


class _Stopper:
    """Stopping decisions, and the callback (which may stop the run)."""

    def __init__(self, options, bounds, callback, optimizer, dtype):
        self.maxiter, self.bounds, self.callback = options["maxiter"], bounds, callback
        self.gtol, self.ftol, self.xtol = (options[k] for k in ("gtol", "ftol", "xtol"))
        self.maxtime, self.started = options["maxtime"], time.perf_counter()
        self.new_style = callback is not None and _new_style(callback)
        self.objective_gradient = _objective_gradient(optimizer)
        # f is evaluated on every iteration only when something reads it.
        self.need_f = bool(self.ftol or self.new_style or options["return_best"])
        self.detail = ""
        # A gradient entry below this has a square far from overflowing: the
        # moments need no check after updates that took only such entries.
        self.square_safe = math.sqrt(np.finfo(dtype).max) / 4
        self.gmax = 0.0  # max |g| of the gradient the next update takes

    def at_start(self, x, f, g):
        """Status at x0 (nit=0), or None to start iterating."""
        self.gmax = _max_abs(g)
        if _nonfinite(f, self.gmax):
            self.detail = "the function value or the gradient is not finite at x0"
            return Status.NONFINITE
        if self.gtol and self.gradient_small(x, g):
            return Status.CONVERGED
        return Status.MAX_ITER if self.maxiter == 0 else None

    def check(self, nit, x_old, x, f_old, f, g):
        """Status after update ``nit`` moved ``x_old`` to ``x``, or None."""
        self.gmax = _max_abs(g)
        if _nonfinite(f, self.gmax):
            self.detail = (
                f"the function value or the gradient is not finite after update "
                f"{nit}; the result is the last iterate where both were finite"
            )
            return Status.NONFINITE
        if self.callback is not None and self.callback_stops(nit, x, f, g):
            return Status.CALLBACK
        if (self.gtol or self.ftol) and self.converged(x, g, f_old, f):
            return Status.CONVERGED
        if not self.xtol and nit < self.maxiter and self.maxtime == math.inf:
            return None  # the common case, without a call (microseconds count)
        return self.after_update(nit, x_old, x)

    def overflowed(self, nit, state):
        """Whether update ``nit`` left a non-finite state; ``detail`` says so.

        Called only when ``gmax > square_safe``: no smaller gradient entry
        can overflow a moment (coupled weight decay aside, which
        :func:`_check_returned` catches at the end).
        """
        if state_is_finite(state):
            return False
        self.detail = (
            f"the optimizer's state is not finite after update {nit}: the "
            f"square of a gradient entry (max |g| = {self.gmax:.3g}) overflows "
            "its second moment, after which that entry would never move "
            "again; the result is the iterate before that update. Rescale "
            "the problem (or use algorithm='adamax', which squares nothing)"
        )
        return True

    def converged(self, x, g, f_old, f):
        """Whether gtol or ftol is met (and ``detail`` says which)."""
        if self.gtol and self.gradient_small(x, g):
            return True
        if self.ftol and f_old is not None and _close(f_old, f, self.ftol):
            self.detail = _CRITERIA["ftol"]
            return True
        return False

    def after_update(self, nit, x_old, x):
        """xtol, maxiter and maxtime, which need no evaluation."""
        if self.xtol and _max_abs(x - x_old) <= self.xtol:
            self.detail = _CRITERIA["xtol"]
            return Status.CONVERGED
        if nit >= self.maxiter:
            return Status.MAX_ITER
        if self.maxtime != math.inf:
            elapsed = time.perf_counter() - self.started
            if elapsed > self.maxtime:
                self.detail = (
                    f"maxtime={self.maxtime:g} s; update {nit} ended after "
                    f"{elapsed:.3g} s"
                )
                return Status.MAX_TIME
        return None

    def gradient_small(self, x, g):
        objective_g = self.objective_gradient(x, g)
        coupled = objective_g is not g
        if self.bounds is not None:
            objective_g = x - np.clip(x - objective_g, *self.bounds)
        if not _max_abs(objective_g) <= self.gtol:  # NaN is not small
            return False
        key = ("gtol" if self.bounds is None else "pgtol") + ("+l2" if coupled else "")
        self.detail = _CRITERIA[key]
        return True

    def callback_stops(self, nit, x, f, g):
        try:
            if self.new_style:
                result = OptimizeResult(x=x.copy(), fun=f, jac=g.copy(), nit=nit)
                self.callback(intermediate_result=result)
            else:
                self.callback(x.copy())
        except StopIteration:
            return True
        return False

    def message(self, status):
        return _MESSAGES[status].format(detail=self.detail)


class _Record:
    """What the run keeps besides the iterate: the best one, and all of them."""

    def __init__(self, return_best, return_all):
        self.return_best, self.return_all = return_best, return_all
        self.keeps = bool(return_best or return_all)  # else offer() does nothing
        self.best = None  # (x, f, g, nit)
        self.allvecs, self.allfuns = [], []

    def offer(self, x, f, g, nit):
        if self.return_all:
            self.allvecs.append(x.copy())
            self.allfuns.append(f)
        if self.return_best and (self.best is None or f < self.best[1]):
            self.best = (x.copy(), f, g.copy(), nit)

    def drop_last(self):
        """Forget the last iterate offered: it comes back as the result."""
        if self.return_all and self.allvecs:
            self.allvecs.pop()
            self.allfuns.pop()


# -- the loops ---------------------------------------------------------------


def _run(objective, optimizer, state, x, stopper, record):
    """Updates from ``x`` until ``stopper`` says stop.

    Returns ``(x, f, g, nit, status)`` at the final iterate; ``f`` is None
    when nothing needed it.
    """
    need_f, bounds = stopper.need_f, stopper.bounds
    f, g = objective.evaluate(x, need_f)
    status, nit = stopper.at_start(x, f, g), 0
    if status is not Status.NONFINITE:
        record.offer(x, f, g, 0)
    step = _Stepper(optimizer, x, g, state) if status is None else None
    while status is None:
        if stopper.gmax > stopper.square_safe:  # rare: a moment may overflow
            x_new, status = _guarded_step(step, x, g, state, stopper, nit)
            if status is not None:
                break  # x and state are those before the update
        else:
            x_new = step(x, g, state)
        if bounds is not None:
            np.clip(x_new, *bounds, out=x_new)
        f_new, g_new = objective.evaluate(x_new, need_f)
        status = stopper.check(nit + 1, x, x_new, f, f_new, g_new)
        if status is Status.NONFINITE:
            break  # x is the last iterate where both were finite
        x, f, g, nit = x_new, f_new, g_new, nit + 1
        if record.keeps:
            record.offer(x, f, g, nit)
    return x, f, g, nit, status


def _guarded_step(step, x, g, state, stopper, nit):
    """An update whose gradient's square may overflow: ``(x_new, status)``.

    NumPy's overflow warning is silenced (the run reports it); if the state
    overflowed, it goes back to what it was before the update, so that
    ``res.state`` belongs to ``res.iterate``, and the status is NONFINITE.
    """
    saved = copy.deepcopy(vars(state)) if hasattr(state, "__dict__") else None
    with np.errstate(over="ignore", invalid="ignore"):
        x_new = step(x, g, state)
    if not stopper.overflowed(nit + 1, state):
        return x_new, None
    if saved is not None:
        vars(state).update(saved)
    return x_new, Status.NONFINITE


#: Parameters from which the loop has the optimizer write its update into the
#: spare buffer (``out=``) instead of stepping a copy in place.
OUT_MIN_SIZE = 1000


class _Stepper:
    """One update of ``x`` into a second buffer, leaving ``x`` as it was.

    The loop keeps the previous iterate (to return it if the next point is
    not finite, and for ``xtol``) without a copy when the optimizer can write
    its update elsewhere (``Adam.step(..., out=...)``) and ``x`` has at least
    :data:`OUT_MIN_SIZE` entries; otherwise it steps a copy in place. The two
    buffers alternate; the user only sees copies.

    With skadam's own optimizers the step's input checks run once, here, on
    the first ``x``, ``g`` and ``state`` (a ValueError before any update);
    the updates then skip them (``_step_unchecked``): the loop allocates the
    buffers, and every gradient comes from ``skadam._objective._gradient``
    in ``x``'s shape and dtype, a new array the loop never writes.
    """

    def __init__(self, optimizer, x, g, state):
        self.step, self.spare = optimizer.step, np.empty_like(x)
        # Below OUT_MIN_SIZE parameters a copy costs less than the checks of
        # ``out`` (measured: 0.7 microseconds an iteration on 2 parameters).
        self.takes_out = x.size >= OUT_MIN_SIZE and "out" in _parameter_names(
            optimizer.step
        )
        unchecked = getattr(optimizer, "_step_unchecked", None)
        if unchecked is not None and not self.takes_out:
            optimizer._check_inputs(x, g, state)  # writes nothing
            self.step = unchecked

    def __call__(self, x, g, state):
        new, self.spare = self.spare, x
        if self.takes_out:
            return self.step(x, g, state, out=new)
        np.copyto(new, x)
        return self.step(new, g, state)


def _run_minibatches(objective, optimizer, state, x, stopper, record, batches):
    """Updates over shuffled minibatches until ``stopper`` says stop.

    ``fun``/``jac`` see minibatches; gtol and ftol are tested at the end of
    each epoch on the epoch's means (weighted by batch size) of the
    minibatch values and gradients. Returns ``(nit, status)``.
    """
    nit, status, f_epoch_old = 0, None, None
    x_old = np.empty_like(x)
    while status is None:
        f_sum, g_sum = 0.0, np.zeros_like(x)
        for args, rows in batches.epoch():
            objective.args = args
            f, g = objective.evaluate(x, stopper.need_f)
            stopper.gmax = _max_abs(g)
            if _nonfinite(f, stopper.gmax):
                status = _batch_nonfinite(stopper, nit, x, x_old, record)
                nit = max(nit - 1, 0)
                break
            record.offer(x, f, g, nit)
            if stopper.gtol:  # the epoch's means, for the tests at its end
                g_sum += rows * g
            if stopper.ftol:
                f_sum += rows * f
            status = _batch_update(optimizer, state, x, x_old, g, stopper, nit, record)
            if status is not None:
                break
            nit += 1
            if stopper.callback is not None and stopper.callback_stops(nit, x, f, g):
                status = Status.CALLBACK
            status = status or stopper.after_update(nit, x_old, x)
            if status is not None:
                break
        else:
            f_epoch = f_sum / batches.n
            if stopper.converged(x, g_sum / batches.n, f_epoch_old, f_epoch):
                status = Status.CONVERGED
            f_epoch_old = f_epoch
    objective.args = batches.args
    return nit, status


def _batch_update(optimizer, state, x, x_old, g, stopper, nit, record):
    """Update ``x`` in place (keeping ``x_old``); NONFINITE if the state overflowed."""
    np.copyto(x_old, x)
    if stopper.gmax > stopper.square_safe:  # rare: a moment may overflow
        _, status = _guarded_step(optimizer.step, x, g, state, stopper, nit)
        if status is not None:
            np.copyto(x, x_old)  # the iterate before that update is the result
            record.drop_last()  # which the run appends again
            return status
    else:
        optimizer.step(x, g, state)
    if stopper.bounds is not None:
        np.clip(x, *stopper.bounds, out=x)
    return None


def _batch_nonfinite(stopper, nit, x, x_old, record):
    """Go back to the previous iterate after a non-finite minibatch value."""
    where = "x0" if nit == 0 else "the iterate before"
    stopper.detail = (
        f"the function value or the gradient on a minibatch is not finite after "
        f"{nit} updates; the result is {where}"
    )
    if nit > 0:
        np.copyto(x, x_old)
        record.drop_last()
    return Status.NONFINITE


# -- the result ---------------------------------------------------------------


def _finish(objective, optimizer, state, x, f, g, nit, status, stopper, record):
    """Build the OptimizeResult; evaluates f and g at the returned x if unknown."""
    message, iterate, best = stopper.message(status), x, record.best
    if best is not None and best[3] != nit:
        x, f, g = best[0], best[1], best[2]
        message += f" Returning the best iterate seen, after update {best[3]}."
    point = x if x is not iterate else _eval_params(optimizer, x, state)
    if point is not x:  # schedule-free: report the averaged point
        x, f, g = point, *objective.evaluate(point, True)
        if status is Status.CONVERGED:
            message += " (Tested where the gradients were taken; x is the average.)"
    elif f is None:
        f = objective.value(x)
        if record.return_all:  # now known at the last iterate
            record.allfuns[-1] = f
    if status is not Status.NONFINITE:
        status, message = _check_returned(
            x, f, g, state, stopper.need_f, status, message
        )
    result = OptimizeResult(
        x=x,
        fun=f,
        jac=g.copy(),  # jac may reuse its output buffer after the run
        nit=nit,
        nfev=objective.nfev,
        njev=objective.njev,
        status=SCIPY_STATUS[status],
        success=status is Status.CONVERGED,
        message=message,
        state=state,
        iterate=iterate,
    )
    if record.return_all:
        result.allvecs, result.allfuns = record.allvecs, record.allfuns
    return result


def _check_returned(x, f, g, state, checked_before, status, message):
    """NONFINITE, with its message, if the returned point or state is unusable."""
    if not (math.isfinite(f) and math.isfinite(_max_abs(g))):
        hint = (
            " It was not evaluated at the iterates before (callable jac); ftol "
            "or return_best=True make it checked at every iterate."
        )
        return Status.NONFINITE, (
            "The function value or the gradient is not finite at the returned x."
            + ("" if checked_before else hint)
        )
    if not np.isfinite(x).all():
        return Status.NONFINITE, (
            "Stopped: x is not finite, though the function value and the "
            "gradient there are (the update produced a NaN or an infinity)."
        )
    if not state_is_finite(state):
        # Missed by _Stopper.overflowed: an overflow of coupled weight decay
        # (weight_decay * x), or in another optimizer's own state.
        return Status.NONFINITE, (
            "Stopped: the optimizer's state is not finite at the end of the run "
            "(a moment overflowed), so some entries of x stopped moving at an "
            "unknown update. Rescale the problem."
        )
    return status, message


def _verbose(result):
    """Print the end-of-run summary (``disp=True``); the module's only printer."""
    print(result.message)
    print(f"         Current function value: {result.fun:.6g}")
    print(f"         Iterations: {result.nit}")
    print(f"         Function evaluations: {result.nfev}")
    print(f"         Gradient evaluations: {result.njev}")


def _initial_state(optimizer, x, initial_state):
    """A fresh state, or a copy of ``initial_state`` checked against ``x``."""
    fresh = optimizer.init(x)
    if initial_state is None:
        return fresh
    if type(initial_state) is not type(fresh):
        raise ValueError(
            f"initial_state must be a {type(fresh).__name__} (the state of "
            f"{type(optimizer).__name__}), got {type(initial_state).__name__}."
        )
    given = initial_state.to_dict()
    for name, value in fresh.to_dict().items():
        if isinstance(value, np.ndarray) and not (
            isinstance(given.get(name), np.ndarray)
            and given[name].shape == value.shape
            and given[name].dtype == value.dtype
        ):
            got = (
                getattr(given.get(name), "shape", None),
                getattr(given.get(name), "dtype", None),
            )
            raise ValueError(
                f"initial_state.{name} must have x0's shape {value.shape} and "
                f"dtype {value.dtype}, got {got[0]} and {got[1]}."
            )
    if not state_is_finite(initial_state):
        raise ValueError(
            "initial_state holds non-finite values (an overflowed second "
            "moment, or NaN): continuing from it would not move those entries."
        )
    return initial_state.copy()


def _solve(fun, x0, args, jac, bounds, constraints, callback, options, optimizer):
    """Normalise the inputs, run the loop, and build the result."""
    refuse_constraints(constraints)
    args = args if isinstance(args, tuple) else (args,)
    x, box = start(x0, bounds)
    rel_step = check_rel_step(options["finite_diff_rel_step"], x.size)
    state = _initial_state(optimizer, x, options["initial_state"])
    batches = None
    if options["batch_size"] is not None:
        batches = Minibatches(
            args, options["batch_size"], options["batch_args"], options["rng"]
        )
    record = _Record(options["return_best"], options["return_all"])
    with Workers(options["workers"]) as workers:
        objective = Objective(fun, jac, args, box, rel_step, workers)
        stopper = _Stopper(options, box, callback, optimizer, x.dtype)
        if batches is None:
            x, f, g, nit, status = _run(objective, optimizer, state, x, stopper, record)
        else:
            nit, status = _run_minibatches(
                objective, optimizer, state, x, stopper, record, batches
            )
            f, g = objective.evaluate(x, True)  # on the full data
        result = _finish(
            objective, optimizer, state, x, f, g, nit, status, stopper, record
        )
    if batches is not None and record.return_all:
        result.allvecs.append(result.x.copy())
        result.allfuns.append(result.fun)
    if options["disp"]:
        _verbose(result)
    return result


class _NotGiven:
    """The default of ``bracket``: minimize_scalar passes one, None included."""

    def __repr__(self):
        return "<not given>"


_NOT_GIVEN = _NotGiven()


def adam_minimize(
    fun,
    x0=None,
    args=(),
    jac=None,
    hess=None,
    hessp=None,
    bounds=None,
    constraints=None,
    callback=None,
    *,
    learning_rate=0.001,
    beta_1=0.9,
    beta_2=0.999,
    epsilon=1e-8,
    bias_correction=True,
    amsgrad=False,
    weight_decay=0.0,
    decoupled_weight_decay=False,
    max_grad_norm=None,
    algorithm="adam",
    maxiter=10_000,
    gtol=None,
    ftol=0.0,
    xtol=0.0,
    tol=None,
    maxtime=math.inf,
    disp=False,
    return_best=False,
    return_all=False,
    initial_state=None,
    finite_diff_rel_step=None,
    workers=None,
    batch_size=None,
    batch_args=None,
    rng=None,
    bracket=_NOT_GIVEN,
    **unknown_options,
):
    """Minimize a scalar function with Adam: a ``scipy.optimize.minimize`` method.

    Pass it as ``method=adam_minimize`` to :func:`scipy.optimize.minimize`
    (which fills in the arguments below and passes ``options`` as keywords),
    or call it directly with the same arguments. :class:`AdamMinimizer`
    holds stored option defaults.

    Parameters
    ----------
    fun : callable
        ``fun(x, *args) -> float``, or ``-> (float, ndarray)`` with ``jac=True``.
        Any real scalar, or an array holding one value, is accepted. ``fun``
        and ``jac`` receive their own copy of ``x``: they may keep or modify
        it without affecting the run or the result.
    x0 : ndarray of shape (n,)
        Starting point. It is copied (never modified); float32 stays float32,
        any other dtype (integers included) becomes float64. It must be
        finite once clipped into the bounds (``ValueError`` otherwise). It may
        be omitted (as :func:`scipy.optimize.minimize_scalar` does): the
        problem then has one scalar variable (see Notes).
    args : tuple, default=()
        Extra arguments passed to ``fun`` and ``jac``; with ``batch_size``,
        the sample arrays among them are passed as minibatches (see Notes).
    jac : callable, True or None, default=None
        ``jac(x, *args) -> ndarray`` of shape (n,) (a list, a column, a row or a
        ``numpy.matrix`` of n entries, or a scalar when n is 1, is accepted, as
        L-BFGS-B accepts them; ``res.jac`` is a copy; a complex gradient raises a
        ``ValueError``, as a complex ``fun`` does, rather than losing its
        imaginary part); ``True`` if ``fun`` returns ``(f, g)``; ``None``
        (SciPy also turns ``False``, ``'2-point'``, ``'3-point'`` and ``'cs'``
        into ``None``) for forward finite differences, which cost ``n + 1``
        calls of ``fun`` per iteration.
    hess, hessp : object, optional
        Accepted for SciPy's method contract and ignored: Adam is first order.
    bounds : sequence of (low, high) pairs or scipy.optimize.Bounds, optional
        ``None`` or ``+-inf`` in a pair means unbounded; scalar ``Bounds``
        broadcast; a single ``(low, high)`` is accepted for one variable.
        Enforced by projection: ``x0`` is clipped into the box, and so is
        every iterate; ``fun`` and ``jac`` are only ever evaluated inside it,
        finite-difference steps included, so ``keep_feasible`` always holds.
        A variable fixed by ``low == high`` stays there; with finite
        differences its gradient entry is not estimated and reads 0. With
        float32 ``x0``, bounds are rounded inwards to float32; a box with no
        float32 value inside (a fixed variable at 0.1, say) gives the nearest
        float32. NaN bounds raise a ``ValueError``.
    constraints : empty sequence or None
        Anything else raises a ``ValueError``: Adam cannot honour constraints.
    callback : callable, optional
        Called after every update. ``callback(intermediate_result)`` (chosen
        when that is its only parameter's name, as SciPy does; annotations
        are never evaluated) receives an :class:`~scipy.optimize.OptimizeResult`
        with ``x``, ``fun``, ``jac`` and ``nit``; this style makes ``fun`` be
        evaluated every iteration. Any other callable is called as
        ``callback(xk)`` with a copy of ``x``. Raising ``StopIteration`` in
        either stops the run (status 99); the return value is ignored (as
        SciPy ignores it). Any other exception propagates, as from ``fun``.

    Returns
    -------
    result : scipy.optimize.OptimizeResult
        ``x`` (a new array), ``fun`` and ``jac`` at ``x``, ``nit`` (number of
        updates), ``nfev`` and ``njev`` (calls of the user's ``fun`` and
        ``jac``; with ``jac=True`` each call of ``fun`` counts in both),
        ``status``, ``success`` and ``message`` (see Notes), ``state``, the
        optimizer state after the last update, and ``iterate``, the last
        iterate, the point that state belongs to (continue a run with
        ``x0=res.iterate`` and ``initial_state=res.state``). ``iterate`` is
        ``res.x`` itself unless ``return_best`` returned an earlier iterate
        or the optimizer evaluates at an average (schedule-free AdamW).
        With ``return_all``, ``allvecs`` and ``allfuns`` too. ``fun`` is a
        Python float; ``x`` and ``jac`` have ``x``'s dtype. There is no
        ``hess_inv``: Adam builds no curvature model.

    Other Parameters
    ----------------
    learning_rate : float or callable, default=0.001
        Step size; a callable ``learning_rate(t)`` of the update number ``t``
        (from 1) is a schedule. Here and in every numeric option, a 0-d NumPy
        array (what NumPy reductions return) counts as the number it holds.
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam's decay rates and denominator offset (see :class:`skadam.Adam`).
    bias_correction, amsgrad : bool, default=True, False
        Adam variants (see :class:`skadam.Adam`). These and the other flags
        take ``True``/``False`` or 0/1; anything else raises a ``ValueError``.
    weight_decay : float, default=0.0
        L2 factor; coupled, or AdamW-style with ``decoupled_weight_decay=True``.
    decoupled_weight_decay : bool, default=False
        Decay the parameters directly instead of adding to the gradient.
    max_grad_norm : float, optional
        Clip the gradient's L2 norm to this value before each update (as
        ``torch.nn.utils.clip_grad_norm_``); None (default) does not clip.
    algorithm : str or optimizer object, default="adam"
        The update rule: ``"adam"``, ``"nadam"``, ``"radam"``, ``"adamax"`` or
        ``"schedulefree_adamw"`` (see :func:`skadam.make_optimizer`), built
        with the hyperparameters above. The options every algorithm takes
        (``learning_rate``, ``beta_1``, ``beta_2``, ``epsilon``,
        ``weight_decay``) are always passed, with the defaults shown here;
        ``bias_correction``, ``amsgrad``, ``decoupled_weight_decay`` and
        ``max_grad_norm`` only when set, and an algorithm that has no such
        switch raises a ``ValueError``. Or an object with the optimizer
        protocol (``init(x)``, ``step(x, grad, state)``, optionally
        ``eval_params`` and ``objective_gradient``; see :class:`skadam.Adam`),
        used as it is: its hyperparameters are its own, so the options above
        must then keep their defaults (``ValueError`` otherwise). When the
        optimizer evaluates elsewhere than where it takes gradients
        (schedule-free AdamW's averaged point), ``res.x``, ``res.fun`` and
        ``res.jac`` are at its evaluation point.
    maxiter : int, default=10000
        Maximum number of updates. An integral float (``1e4``) is accepted,
        and ``inf`` leaves the stopping to the tolerances or ``maxtime``.
    gtol : float, optional
        Stop when ``max |g| <= gtol``; default ``tol`` if given, else 1e-5.
        With bounds the projected gradient ``x - clip(x - g, lb, ub)`` is
        tested, as by L-BFGS-B. With coupled ``weight_decay``, Adam minimizes
        ``fun(x) + weight_decay / 2 * |x|^2``, so ``g + weight_decay * x`` is
        tested (``res.jac`` stays the gradient of ``fun``); decoupled decay
        is no gradient term, so ``g`` is tested.
    ftol : float, default=0.0
        Stop when ``|f_k - f_{k+1}| <= ftol * max(|f_k|, |f_{k+1}|, 1)``.
        Makes ``fun`` be evaluated every iteration.
    xtol : float, default=0.0
        Stop when no entry of ``x`` moved by more than ``xtol`` in one update.
        Adam's steps are about ``learning_rate`` whatever the gradient's
        scale, so ``xtol`` must be well below ``learning_rate``.
    tol : float, optional
        ``minimize(tol=...)`` arrives here; it sets ``gtol`` unless ``gtol``
        is given.
    maxtime : float, default=inf
        Time budget in seconds, from the start of the call: the run stops
        after the first update that ends past it (status 3, ``success=False``).
    disp : bool or int, default=False
        Print a short summary at the end when true (any int >= 0 is
        accepted: ``minimize_scalar`` passes ``disp=True`` on as 2).
    return_best : bool, default=False
        Return the iterate with the lowest ``fun`` seen (Adam is not a descent
        method) instead of the last one. Makes ``fun`` be evaluated every
        iteration; ``nit`` still counts every update and the message names
        the update that produced the returned iterate. Not with ``batch_size``
        (minibatch values do not compare).
    return_all : bool, default=False
        Also return ``allvecs``, a copy of every iterate from ``x0`` to the
        last one, and ``allfuns``, the value of ``fun`` at each where it was
        computed (None where not; see Notes).
    initial_state : optimizer state, optional
        Continue a run: pass ``res.state`` with ``x0=res.iterate``. It is copied,
        and must fit ``x0`` (``ValueError`` otherwise). Default: a fresh state.
    finite_diff_rel_step : float or array of shape (n,), optional
        Relative step ``h = rel_step * max(1, |x_i|)`` of the finite
        differences, ``> 0``; default ``sqrt(machine epsilon)`` of ``x``'s
        dtype. Forward differences are off by about ``h * f'' / 2``: about
        1e-8 in float64, but 3e-4 in float32, above the default ``gtol``.
    workers : int or map-like callable, optional
        Evaluate the finite-difference points in parallel: an int is a
        :class:`multiprocessing.Pool` of that many processes (-1: one per
        CPU) open for the call (``fun`` and ``args`` must then pickle); a
        callable is used as ``workers(function, points)``, e.g. ``Pool.map``
        (as SciPy's BFGS). Results and ``nfev`` equal the serial run's.
    batch_size : int, optional
        Stochastic mode: pass shuffled minibatches of this many samples to
        ``fun``/``jac`` instead of the full ``args`` (see Notes).
    batch_args : sequence of int, optional
        Indices of the ``args`` to slice into minibatches. Default: every
        NumPy array or SciPy sparse matrix in ``args`` with as many rows as
        the first one. Without ``batch_size`` it is unused, and an
        ``OptimizeWarning`` says so (as for ``rng``).
    rng : int, numpy.random.Generator or None, optional
        Seed or generator of the shuffling (``numpy.random.default_rng``).
    bracket : sequence or None, optional
        Passed by :func:`scipy.optimize.minimize_scalar`, ``None`` included,
        in place of ``x0`` (see Notes).
    **unknown_options : dict
        Ignored, with an ``OptimizeWarning`` that names each one (and the
        option probably meant), as SciPy's own methods warn.

    Raises
    ------
    TypeError
        If neither ``x0`` nor ``bracket`` is given (``adam_minimize(fun)``):
        there is no starting point.
    ValueError
        For a bad option value (naming it), constraints, bad ``x0``,
        ``bounds``, gradients, ``initial_state``, or a run with no stopping
        criterion (``maxiter=inf``, every tolerance 0 and no ``maxtime``).

    See Also
    --------
    AdamMinimizer : The same method with stored option defaults.
    skadam.Adam : The update rule.

    Notes
    -----
    A tolerance of 0 disables its criterion; ``ftol`` and ``xtol`` default to
    0 because Adam's steps and function values need not shrink steadily.

    ``fun`` is evaluated every iteration only when something reads it (finite
    differences, ``jac=True``, ``ftol > 0``, ``return_best``, a new-style
    callback); otherwise once, at the returned ``x``. So ``allfuns`` holds
    numbers only then. Non-finite values are detected where ``fun`` and
    ``jac`` are evaluated; the result is then the last iterate where both
    were finite. A non-finite ``x`` (``epsilon=0`` can divide 0 by 0) is
    never reported as a success, nor is a non-finite optimizer state: a
    gradient entry whose square overflows (``|g|`` above about 1.3e154 in
    float64, 1.8e19 in float32) makes the second moment infinite and would
    freeze that entry of ``x`` (as in torch); the run stops after that
    update, with status 2, the iterate before it and the state before it
    (an ``initial_state`` with non-finite values raises a ValueError).

    **Resuming.** ``res.state`` is the optimizer's state after the last
    update and ``res.iterate`` the iterate it belongs to (``res.x`` for
    Adam); ``minimize(fun, res.iterate, ..., options={"initial_state":
    res.state})`` continues the run exactly: 100 updates and then 100 more
    equal 200 in one call, bit for bit (deterministic mode). The state
    pickles. After a non-finite value (status 2) the state is one update
    ahead of ``res.x``.

    **Stochastic mode** (``batch_size``). Each epoch shuffles the samples and
    passes the sliced arguments (rows ``i`` of each, see ``batch_args``) to
    ``fun`` and ``jac``, one minibatch per update; the last minibatch of an
    epoch may be smaller. ``fun`` should be a mean over the rows it gets, so
    that a minibatch's value estimates the full one. ``nit`` and
    ``maxiter`` count updates (minibatches), as in the deterministic mode;
    ``xtol``, ``maxtime`` and the callback act after every update (its
    ``fun`` and ``jac`` are the minibatch values the update used); ``gtol``
    and ``ftol`` are tested at the end of each epoch on the epoch's means
    of the minibatch gradients and values (weighted by batch size), which
    cost nothing more. ``nfev`` and ``njev`` count every call, minibatch or
    full. The returned ``fun`` and ``jac`` are computed on the full data at
    ``res.x``, and ``allfuns`` holds minibatch values except the last.
    Continuing a run is exact when it stopped at the end of an epoch and
    the same Generator is passed as ``rng``.

    ======  ==============================================================
    status  meaning
    ======  ==============================================================
    0       converged; the message names the criterion (gtol, ftol, xtol)
    1       ``maxiter`` updates taken (SciPy's message)
    2       a non-finite ``fun``, gradient, ``x`` or optimizer state
    3       ``maxtime`` ran out
    99      the callback raised ``StopIteration`` (SciPy's message)
    ======  ==============================================================

    :func:`scipy.optimize.minimize_scalar` calls a custom method without
    ``x0`` but with ``bracket`` (``None`` when its caller gave none; a call
    with neither ``x0`` nor ``bracket`` raises a ``TypeError`` rather than
    guess that the problem is scalar): Adam then starts from the middle of a
    three-point ``bracket`` or the mean of a two-point one, else 0; with
    ``bounds``, from their midpoint if both are finite, else from that
    start clipped into them. Gradients come from finite differences.
    SciPy's ``basinhopping`` and ``dual_annealing`` accept ``adam_minimize``
    and ``AdamMinimizer`` in ``minimizer_kwargs``.

    References
    ----------
    .. [1] D. P. Kingma and J. Ba, "Adam: A Method for Stochastic
       Optimization", ICLR 2015, arXiv:1412.6980 (Algorithm 1).
    .. [2] SciPy's contract for custom methods of
       :func:`scipy.optimize.minimize` ("Custom minimizers"), and its
       ``_minimize_bfgs`` for the option names ``gtol``, ``return_all``,
       ``workers`` and ``finite_diff_rel_step``.
    .. [3] A. Defazio et al., "The Road Less Scheduled", NeurIPS 2024,
       arXiv:2405.15682 (schedule-free AdamW, evaluated at the average).

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.optimize import minimize, rosen, rosen_der
    >>> from skadam import adam_minimize
    >>> res = minimize(rosen, [-1.2, 1.0], method=adam_minimize, jac=rosen_der,
    ...                options={"learning_rate": 0.01, "maxiter": 20_000})
    >>> res.success, np.round(res.x, 4)
    (True, array([1., 1.]))

    Continue a run from its state:

    >>> first = minimize(rosen, [-1.2, 1.0], method=adam_minimize, jac=rosen_der,
    ...                  options={"learning_rate": 0.01, "maxiter": 100})
    >>> more = minimize(rosen, first.x, method=adam_minimize, jac=rosen_der,
    ...                 options={"learning_rate": 0.01, "maxiter": 100,
    ...                          "initial_state": first.state})
    >>> more.state.step
    200

    Minibatches of the sample arrays in ``args`` (a mean of squares here):

    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 2))
    >>> y = X @ np.array([1.0, -2.0])
    >>> def fg(w, X, y):
    ...     r = X @ w - y
    ...     return 0.5 * np.mean(r**2), X.T @ r / len(y)
    >>> res = minimize(fg, np.zeros(2), args=(X, y), jac=True,
    ...                method=adam_minimize,
    ...                options={"batch_size": 20, "learning_rate": 0.05,
    ...                         "gtol": 1e-4, "rng": 0})
    >>> res.success, np.round(res.x, 3)
    (True, array([ 1., -2.]))
    """
    given = dict(locals())  # first statement: exactly the parameters
    if x0 is None and bracket is _NOT_GIVEN:
        raise TypeError(
            "adam_minimize needs x0, the starting point: minimize(fun, x0, "
            "method=adam_minimize), or adam_minimize(fun, x0). (Only "
            "minimize_scalar calls it without x0; it passes bracket instead.)"
        )
    options = {name: value for name, value in given.items() if name in _DEFAULTS}
    _warn_unknown(unknown_options)
    options, optimizer = _configure(options)
    if options["return_best"] and options["batch_size"] is not None:
        raise ValueError(
            "return_best=True does not work with batch_size: the minibatch "
            "values of fun do not compare."
        )
    if x0 is None:
        x0 = scalar_x0(bracket, bounds)  # given: minimize_scalar's call
        result = _solve(
            ScalarFun(fun), [x0], args, None, bounds, None, callback, options,
            optimizer,
        )  # fmt: skip
        result.x, result.jac = result.x[0], result.jac[0]
        return result
    return _solve(fun, x0, args, jac, bounds, constraints, callback, options, optimizer)


_DEFAULTS = {
    name: parameter.default
    for name, parameter in inspect.signature(adam_minimize).parameters.items()
    if parameter.kind is inspect.Parameter.KEYWORD_ONLY
}
del _DEFAULTS["bracket"]  # an argument of minimize_scalar's call, not an option


class AdamMinimizer:
    """:func:`adam_minimize` with stored option defaults; picklable.

    Parameters
    ----------
    *args
        Not accepted: options are keywords only. ``minimize(method=AdamMinimizer)``
        (the class instead of an instance) ends up here and raises a
        ``TypeError`` saying so.
    **options
        Any option of :func:`adam_minimize` (``tol`` included). They are
        validated now (unknown names warn with ``OptimizeWarning`` and are
        dropped); options given at call time, e.g. ``minimize(options=...)``,
        override them. The instance pickles when its options do: a
        ``learning_rate`` schedule must then be a module-level function (or
        another picklable callable), not a lambda or a local function.

    See Also
    --------
    adam_minimize : The method and its options.

    Examples
    --------
    >>> import pickle
    >>> from scipy.optimize import minimize
    >>> from skadam import AdamMinimizer
    >>> method = AdamMinimizer(learning_rate=0.1, maxiter=500)
    >>> res = minimize(lambda x: (x**2).sum(), [3.0, 4.0], method=method,
    ...                jac=lambda x: 2 * x, options={"gtol": 1e-3})
    >>> res.success
    True
    >>> pickle.loads(pickle.dumps(method))
    AdamMinimizer(learning_rate=0.1, maxiter=500)
    """

    def __init__(self, *args, **options):
        if args:  # minimize(method=AdamMinimizer) calls the class with (fun, x0)
            raise TypeError(
                "AdamMinimizer takes options as keywords only; pass an instance, "
                "method=AdamMinimizer(...), not the class."
            )
        _warn_unknown(set(options) - set(_DEFAULTS))
        self.options = {k: v for k, v in options.items() if k in _DEFAULTS}
        _configure({**_DEFAULTS, **self.options})

    def __call__(self, fun, x0=None, *args, **kwargs):
        """Run :func:`adam_minimize` (same arguments), stored options as defaults."""
        stored = dict(self.options)
        if kwargs.get("tol") is not None and "gtol" not in kwargs:
            stored.pop("gtol", None)  # a call-time tol beats a stored gtol
        return adam_minimize(fun, x0, *args, **{**stored, **kwargs})

    def __repr__(self):
        items = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"AdamMinimizer({items})"

    def __eq__(self, other):
        if (
            not isinstance(other, AdamMinimizer)
            or self.options.keys() != other.options.keys()
        ):
            return False
        # array_equal, as finite_diff_rel_step may be an array.
        return all(np.array_equal(v, other.options[k]) for k, v in self.options.items())

    __hash__ = None
