"""Adam as a :func:`scipy.optimize.minimize` method.

This module speaks SciPy: it normalises ``fun``/``jac``/``args``/``bounds``/
``callback``, runs a deterministic Adam loop (the update itself lives in
:mod:`skadam._adam`), counts evaluations of the user's functions, decides why
it stopped and returns an :class:`scipy.optimize.OptimizeResult`.
"""

import difflib
import inspect
import math
import os
import sys
import warnings
from numbers import Integral, Real

import numpy as np
import scipy
from scipy.optimize import Bounds, OptimizeResult, OptimizeWarning

from ._adam import Adam

__all__ = ["AdamMinimizer", "adam_minimize"]

_DEFAULTS = {
    "learning_rate": 0.001,
    "beta_1": 0.9,
    "beta_2": 0.999,
    "epsilon": 1e-8,
    "bias_correction": True,
    "amsgrad": False,
    "weight_decay": 0.0,
    "decoupled_weight_decay": False,
    "maxiter": 10_000,
    "gtol": 1e-5,
    "ftol": 0.0,
    "xtol": 0.0,
    "disp": False,
    "return_best": False,
    "finite_diff_rel_step": None,
}
# The options that configure the update rule itself.
_ADAM_OPTIONS = tuple(inspect.signature(Adam).parameters)
# The options that must be True or False (0 and 1 pass too).
_FLAGS = ("bias_correction", "amsgrad", "decoupled_weight_decay", "return_best")

# Status codes (documented in adam_minimize's Notes).
_CONVERGED, _MAXITER, _NONFINITE, _CALLBACK_STOP = 0, 1, 2, 99
# SciPy's own wording; converged and non-finite messages name their detail.
_MESSAGES = {
    _MAXITER: "Maximum number of iterations has been exceeded.",
    _CALLBACK_STOP: "`callback` raised `StopIteration`.",
}
_CRITERIA = {
    "gtol": "max |gradient| <= gtol",
    "pgtol": "max |projected gradient| <= gtol",
    "gtol+l2": "max |gradient + weight_decay * x| <= gtol",
    "pgtol+l2": "max |projected (gradient + weight_decay * x)| <= gtol",
    "ftol": "|f change| <= ftol * max(|f|, 1)",
    "xtol": "max |step| <= xtol",
}


def _resolve_tol(options):
    """Map SciPy's ``tol`` onto ``gtol`` (as BFGS does) unless ``gtol`` is set."""
    options = dict(options)
    tol = options.pop("tol", None)
    if tol is not None:
        _check_tolerance("tol", tol)
        options.setdefault("gtol", tol)
    return options


def _check_options(options):
    """Warn about unknown options and validate the known ones eagerly.

    Returns the options with defaults filled in (``maxiter`` and
    ``finite_diff_rel_step`` normalised) and the configured :class:`Adam`.
    """
    unknown = sorted(set(options) - set(_DEFAULTS))
    if unknown:
        warnings.warn(
            f"Unknown solver options: {', '.join(map(_with_hint, unknown))}",
            OptimizeWarning,
            stacklevel=_user_stacklevel(),
        )
    opts = {**_DEFAULTS, **{k: v for k, v in options.items() if k in _DEFAULTS}}
    for name in _FLAGS:
        # bool("False") is True: a string or other object is a mistake.
        if not _is_flag(opts[name], top=1):
            raise ValueError(f"{name} must be True or False, got {opts[name]!r}.")
    # disp may be a level: minimize_scalar passes disp=True on as 2.
    if not _is_flag(opts["disp"], top=math.inf):
        raise ValueError(
            f"disp must be True, False or an int >= 0, got {opts['disp']!r}."
        )
    adam = Adam(**{k: opts[k] for k in _ADAM_OPTIONS})
    opts["maxiter"] = _check_maxiter(opts["maxiter"])
    for name in ("gtol", "ftol", "xtol"):
        _check_tolerance(name, opts[name])
    opts["finite_diff_rel_step"] = _check_rel_step(opts["finite_diff_rel_step"])
    return opts, adam


# Names other libraries use for skadam's options; None where a close name
# would mislead (L-BFGS-B's eps is a step size, BFGS's return_all a history).
_ALIASES = {
    "lr": "learning_rate",
    "alpha": "learning_rate",
    "step_size": "learning_rate",
    "beta1": "beta_1",
    "beta2": "beta_2",
    "max_iter": "maxiter",
    "eps": None,
    "return_all": None,
}


def _with_hint(name):
    """``name``, with the option probably meant (``lr (did you mean ...?)``)."""
    if name in _ALIASES:
        meant = _ALIASES[name]
    else:
        meant = next(iter(difflib.get_close_matches(name, _DEFAULTS, n=1)), None)
    return f"{name} (did you mean {meant}?)" if meant else name


def _is_flag(value, top):
    if isinstance(value, bool | np.bool_):
        return True
    return isinstance(value, Integral) and 0 <= value <= top


# Warnings point at the first frame outside these folders (skadam, SciPy):
# the user's call, however many of SciPy's and skadam's frames lie between
# (basinhopping's, for one, pass through scipy/_lib).
_INTERNAL = tuple(os.path.dirname(path) + os.sep for path in (__file__, scipy.__file__))


def _user_stacklevel():
    frame, level = inspect.currentframe(), 0
    while frame is not None and frame.f_code.co_filename.startswith(_INTERNAL):
        frame, level = frame.f_back, level + 1
    return level


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
    raise ValueError(f"maxiter must be an integer >= 0, got {maxiter!r}.")


def _check_rel_step(value):
    """None, or a float array of relative steps > 0 (a scalar or one per entry)."""
    if value is None:
        return None
    try:
        rel = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        rel = None
    if rel is None or rel.ndim > 1 or not np.all((rel > 0) & np.isfinite(rel)):
        raise ValueError(
            "finite_diff_rel_step must be None or real numbers > 0 (a scalar or "
            f"one per variable), got {value!r}."
        )
    return rel


# From this many variables, the copies of x handed to the user's functions
# reuse memory (see _Objective._copy); smaller ones come from NumPy's cache.
_RECYCLE_MIN_SIZE = 4096


class _Objective:
    """The user's ``fun``/``jac`` with ``args``, counting every call.

    ``evaluate(x, need_f)`` returns ``(f, g)``; ``f`` is None when it was
    neither needed nor obtained for free (a separate ``jac``).
    """

    def __init__(self, fun, jac, args, bounds, rel_step):
        self.fun, self.args, self.nfev, self.njev = fun, args, 0, 0
        self.bounds, self._spare = bounds, None
        combined = _combined_function(fun, jac)
        if combined is not None:
            self.combined, self.evaluate = combined, self._evaluate_combined
        elif callable(jac):
            self.jac, self.evaluate = jac, self._evaluate_jac
        else:
            self.rel_step, self.evaluate = rel_step, self._evaluate_fd

    def value(self, x):
        # The user's functions get their own copy of x, as SciPy's methods
        # give: what they keep or modify is never an iterate or the result.
        return self._call_fun(self._copy(x))

    def _copy(self, x):
        """A copy of ``x`` for the user, in the last copy's memory if unused.

        Fresh memory for a large array costs page faults on every call (more
        than the copy itself); the last copy is reused only when nothing but
        this object refers to it any more.
        """
        if x.size < _RECYCLE_MIN_SIZE:
            return x.copy()
        spare, self._spare = self._spare, None
        if spare is None or spare.shape != x.shape or not _unshared(spare):
            spare = np.empty_like(x)
        np.copyto(spare, x)
        self._spare = spare
        return spare

    def _call_fun(self, x):
        self.nfev += 1
        return _scalar(self.fun(x, *self.args))

    def _evaluate_jac(self, x, need_f):
        self.njev += 1
        g = _gradient(self.jac(self._copy(x), *self.args), x)
        return (self.value(x) if need_f else None), g

    def _evaluate_combined(self, x, need_f):
        self.nfev += 1
        self.njev += 1
        out = self.combined(self._copy(x), *self.args)
        try:
            f, g = out
        except (TypeError, ValueError):
            raise ValueError(
                f"With jac=True, fun must return (f, gradient), got {out!r:.80}"
            ) from None
        return _scalar(f), _gradient(g, x)

    def _evaluate_fd(self, x, need_f):
        """Forward differences; every point evaluated lies inside the bounds."""
        f = self.value(x)
        rel = self.rel_step
        if rel is None:
            rel = math.sqrt(np.finfo(x.dtype).eps)
        h = rel * np.maximum(1.0, np.abs(x))
        moved = x + h if self.bounds is None else _moved_inside(x, h, *self.bounds)
        # In x's dtype, so a step that rounds away is seen as no step.
        moved = moved.astype(x.dtype, copy=False)
        g = np.zeros_like(x)
        for i in np.flatnonzero(moved != x):
            xh = x.copy()
            xh[i] = moved[i]
            g[i] = (self._call_fun(xh) - f) / (xh[i] - x[i])
        return f, g


def _moved_inside(x, h, lb, ub):
    """The coordinates ``x_i + h_i`` moved so that they stay inside the bounds.

    Forward where the step fits, else backward, else as far as the wider side
    allows (as SciPy's ``approx_derivative`` does). A variable fixed by its
    bounds does not move, and its gradient entry is not estimated.
    """
    up, down = ub - x, x - lb
    h = np.where(h <= up, h, np.where(h <= down, -h, np.where(up >= down, up, -down)))
    # Rounding must not carry x + h across a bound.
    return np.clip(x + h, lb, ub)


def _combined_function(fun, jac):
    """Return the function that gives ``(f, g)`` together, or None.

    ``jac=True`` passed directly means ``fun`` returns ``(f, g)``. Through
    ``minimize``, SciPy wraps such a ``fun`` in a memoizing object and passes
    its bound ``derivative`` method as ``jac``: calling the wrapped function
    ourselves keeps ``nfev``/``njev`` equal to the calls of the user's function.
    """
    if jac is True:
        return fun
    owner = getattr(jac, "__self__", None)
    inner = getattr(owner, "fun", None)
    # SciPy's class is private: recognise it by name, not by import.
    if (
        owner is fun
        and type(owner).__name__ == "MemoizeJac"
        and getattr(jac, "__name__", "") == "derivative"
        and callable(inner)
    ):
        return inner
    return None


def _scalar(f):
    """``fun``'s value as a float; an array holding one value is accepted."""
    # Python floats and NumPy float64 (a float subclass) are the common case.
    if isinstance(f, float):
        return float(f)
    # Objects too (Fraction, Decimal, ...): float() decides, as for BFGS.
    try:
        value = np.asarray(f)
        if value.size == 1 and value.dtype.kind in "biufO":
            return float(value.item())
    except (TypeError, ValueError):
        pass
    hint = " (with jac=True, fun may return (f, gradient))"
    raise ValueError(
        "fun must return a real scalar (or an array holding one)"
        f"{hint if isinstance(f, tuple) else ''}, got {f!r:.80}"
    )


def _gradient(g, x):
    """The gradient as an array of x's shape and dtype.

    Not copied, as SciPy's methods do not copy it: it is used before ``jac``
    is called again, and whatever keeps it longer (the result, the best
    iterate, a callback) copies it, in case ``jac`` reuses a buffer. A
    column, a row or a ``numpy.matrix`` with one entry per variable (and a
    scalar for one variable) is accepted, as L-BFGS-B accepts them.
    """
    if g is None:  # NumPy would read None as NaN
        raise ValueError(
            "The gradient is None; jac (or fun with jac=True) must return it."
        )
    try:
        g = np.asarray(g, dtype=x.dtype)
    except (TypeError, ValueError):
        raise ValueError(
            f"The gradient must be real numbers, one per variable, got {g!r:.80}"
        ) from None
    if g.shape != x.shape and g.size == x.size and max(g.shape, default=1) == g.size:
        g = g.reshape(x.shape)
    return g


def _prepare_x0(x0):
    """Return a new 1-D float array (float32 kept, anything else float64)."""
    x = np.atleast_1d(np.asarray(x0))
    if x.ndim != 1:
        raise ValueError(f"x0 must be one-dimensional, got shape {x.shape}.")
    if np.iscomplexobj(x):
        raise ValueError("x0 must be real; Adam does not handle complex x0.")
    # dtype.type, so that big-endian float32 data also stays float32 (native).
    dtype = x.dtype.type if x.dtype.type in (np.float32, np.float64) else np.float64
    return np.array(x, dtype=dtype)


def _prepare_bounds(bounds, n, dtype):
    """Return ``(lb, ub)`` arrays of length ``n``, or None if nothing is bounded."""
    if bounds is None:
        return None
    lb, ub = _bound_arrays(bounds, n)
    if np.isnan(lb).any() or np.isnan(ub).any():
        raise ValueError(
            "bounds must not be NaN (nor None inside Bounds): use -inf/inf, or "
            "None in (low, high) pairs, for no bound."
        )
    if np.any(lb > ub):
        i = np.flatnonzero(lb > ub)[0]
        raise ValueError(
            f"Each lower bound must be <= its upper bound; variable {i} has "
            f"lower bound {lb[i]} > upper bound {ub[i]}."
        )
    if np.any(lb == np.inf) or np.any(ub == -np.inf):
        raise ValueError(
            "A lower bound of +inf or an upper bound of -inf is unreachable."
        )
    if not (np.isfinite(lb).any() or np.isfinite(ub).any()):
        return None
    return _in_dtype(lb, ub, dtype)


def _bound_arrays(bounds, n):
    """Float64 ``(lb, ub)`` of length ``n`` from ``Bounds`` or ``(low, high)`` pairs."""
    if isinstance(bounds, Bounds):
        lb, ub = bounds.lb, bounds.ub
    else:
        pairs = list(bounds)
        if n == 1 and len(pairs) == 2 and all(np.ndim(b) == 0 for b in pairs):
            pairs = [pairs]  # one (low, high) pair for a one-variable problem
        if len(pairs) != n:
            raise ValueError(
                f"bounds needs one (low, high) pair per variable, {n} in all; "
                f"got {len(pairs)} (Bounds(lb, ub) broadcasts scalars)."
            )
        bad = [pair for pair in pairs if not _is_pair(pair)]
        if bad:
            raise ValueError(
                f"Each entry of bounds must be a (low, high) pair: {bad[0]!r}"
            )
        lb = [-np.inf if low is None else low for low, _ in pairs]
        ub = [np.inf if high is None else high for _, high in pairs]
    try:
        lb, ub = (np.asarray(b, dtype=float) for b in (lb, ub))
    except (TypeError, ValueError):
        raise ValueError("bounds must be real numbers or None.") from None
    try:
        return np.broadcast_to(lb, (n,)), np.broadcast_to(ub, (n,))
    except ValueError:
        raise ValueError(f"bounds do not broadcast to x0's {n} entries.") from None


def _is_pair(pair):
    try:
        return len(pair) == 2 and not isinstance(pair, str)
    except TypeError:
        return False


def _in_dtype(lb, ub, dtype):
    """The bounds in x's dtype, rounded inwards so that clipping stays feasible.

    Only float32 rounds: a float32 bound could otherwise lie just outside the
    float64 bound the user gave. A fixed variable keeps the nearest value.
    """
    if dtype == lb.dtype:
        return lb, ub
    low, high = lb.astype(dtype), ub.astype(dtype)
    with np.errstate(under="ignore"):  # the step next to 0 is subnormal
        low = np.where(low < lb, np.nextafter(low, dtype.type(np.inf)), low)
        high = np.where(high > ub, np.nextafter(high, dtype.type(-np.inf)), high)
    crossed = low > high
    low[crossed] = high[crossed] = lb[crossed].astype(dtype)
    return low, high


def _refuse_constraints(constraints):
    if constraints is None:
        return
    if isinstance(constraints, list | tuple | dict) and len(constraints) == 0:
        return
    raise ValueError(
        "Adam cannot honour constraints (only bounds, by projection); "
        f"got constraints={constraints!r}. Use method='SLSQP', 'COBYQA' or "
        "'trust-constr' for constrained problems."
    )


def _callback_style(callback):
    """True for ``callback(intermediate_result)``, chosen by the parameter name."""
    try:
        parameters = inspect.signature(callback).parameters
    except (TypeError, ValueError):
        return False
    return set(parameters) == {"intermediate_result"}


def _max_abs(a):
    """max |a|, NaN if ``a`` holds a NaN, so one value also flags non-finite ones."""
    if a.size <= 8:
        # Python floats beat two ufunc calls for a few values. The sum is NaN
        # if any value is (a max over NaNs would depend on their order).
        values = a.ravel().tolist()
        if math.isnan(sum(values)):
            return math.nan
        return max(map(abs, values), default=0.0)
    if a.size < 4096:
        return float(np.abs(a).max())
    return float(np.maximum(a.max(), -a.min()))  # no temporary array


def _projected_gradient_max(x, g, lb, ub):
    """max |x - clip(x - g, lb, ub)|: the projected gradient L-BFGS-B tests."""
    return _max_abs(x - np.clip(x - g, lb, ub))


class _Stopper:
    """Stopping decisions, and the callback (which may stop the run)."""

    def __init__(self, opts, bounds, callback):
        self.maxiter, self.bounds, self.callback = opts["maxiter"], bounds, callback
        self.gtol, self.ftol, self.xtol = opts["gtol"], opts["ftol"], opts["xtol"]
        self.new_style = callback is not None and _callback_style(callback)
        # Coupled L2 makes Adam minimize fun + l2/2 |x|^2: test that gradient.
        self.l2 = 0.0 if opts["decoupled_weight_decay"] else opts["weight_decay"]
        # f is evaluated on every iteration only when something reads it.
        self.need_f = bool(self.ftol or self.new_style or opts["return_best"])
        self.detail = ""

    def at_start(self, x, f, g):
        """Status at x0 (nit=0), or None to start iterating."""
        gmax = _max_abs(g)
        if _nonfinite(f, gmax):
            self.detail = "the function value or the gradient is not finite at x0"
            return _NONFINITE
        if self.gtol and self._gradient_small(x, g, gmax):
            return _CONVERGED
        return _MAXITER if self.maxiter == 0 else None

    def check(self, nit, x_old, x, f_old, f, g):
        """Status after update ``nit`` moved ``x_old`` to ``x``, or None."""
        gmax = _max_abs(g)
        if _nonfinite(f, gmax):
            self.detail = (
                f"the function value or the gradient is not finite after update "
                f"{nit}; the result is the last iterate where both were finite"
            )
            return _NONFINITE
        if self.callback is not None and self._callback_stops(nit, x, f, g):
            return _CALLBACK_STOP
        if self.gtol and self._gradient_small(x, g, gmax):
            return _CONVERGED
        if self.ftol and abs(f_old - f) <= self.ftol * max(abs(f_old), abs(f), 1.0):
            self.detail = _CRITERIA["ftol"]
            return _CONVERGED
        if self.xtol and _max_abs(x - x_old) <= self.xtol:
            self.detail = _CRITERIA["xtol"]
            return _CONVERGED
        return _MAXITER if nit >= self.maxiter else None

    def _gradient_small(self, x, g, gmax):
        key = "gtol" if self.bounds is None else "pgtol"
        if self.l2:
            g, key = g + self.l2 * x, key + "+l2"
            gmax = _max_abs(g)
        self.detail = _CRITERIA[key]
        if self.bounds is None:
            return gmax <= self.gtol
        return _projected_gradient_max(x, g, *self.bounds) <= self.gtol

    def _callback_stops(self, nit, x, f, g):
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
        if status == _CONVERGED:
            return f"Optimization terminated successfully ({self.detail})."
        if status == _NONFINITE:
            return f"Stopped: {self.detail}."
        return _MESSAGES[status]


def _nonfinite(f, gmax):
    return not (math.isfinite(gmax) and (f is None or math.isfinite(f)))


class _Best:
    """The iterate with the lowest f seen so far (``return_best=True``)."""

    def __init__(self, x, f, g):
        self.x, self.f, self.g, self.nit = x, f, g.copy(), 0

    def offer(self, x, f, g, nit):
        if f < self.f:
            self.x, self.f, self.g, self.nit = x, f, g.copy(), nit


def _run(objective, x, adam, stopper, return_best):
    """Adam updates from ``x`` until ``stopper`` says stop.

    Every update writes a new iterate, so the arrays handed to the user's
    functions and the callback are never modified afterwards: the memory of an
    old iterate is reused only when nothing else refers to it any more.
    """
    state = adam.init(x)
    need_f, bounds = stopper.need_f, stopper.bounds
    f, g = objective.evaluate(x, need_f)
    if g.shape != x.shape:
        raise ValueError(f"The gradient has shape {g.shape}; x0 has shape {x.shape}.")
    status, nit = stopper.at_start(x, f, g), 0
    best = _Best(x, f, g) if return_best else None
    spare = None
    while status is None:
        out = spare if spare is not None and _unshared(spare) else np.empty_like(x)
        spare = None
        x_new = adam.step(x, g, state, out=out)
        if bounds is not None:
            np.clip(x_new, bounds[0], bounds[1], out=x_new)
        f_new, g_new = objective.evaluate(x_new, need_f)
        status = stopper.check(nit + 1, x, x_new, f, f_new, g_new)
        if status == _NONFINITE:
            break
        spare, x, f, g, nit = x, x_new, f_new, g_new, nit + 1
        if best is not None:
            best.offer(x, f, g, nit)
    return x, f, g, nit, status, best


def _unshared(a):
    """Whether ``a`` is referred to by one variable of the caller and nothing else.

    ``a`` is then counted three times (that variable, this parameter, the
    argument of getrefcount), one more than a new object held by one local
    variable. Comparing with such a probe, at the same moment and in the same
    frame, keeps the test right whatever the CPython version counts or a
    tracer holds. Without sys.getrefcount (other interpreters) nothing is
    reused.
    """
    if not hasattr(sys, "getrefcount"):
        return False
    probe = object()
    return sys.getrefcount(a) <= sys.getrefcount(probe) + 1


def _result(objective, stopper, x, f, g, nit, status, best):
    """Build the OptimizeResult; evaluates f at x (counted) if it is unknown."""
    message = stopper.message(status)
    if best is not None and best.nit != nit:
        x, f, g = best.x, best.f, best.g
        message += f" Returning the best iterate seen, after update {best.nit}."
    if f is None:
        f = objective.value(x)
        if not math.isfinite(f) and status != _NONFINITE:
            status = _NONFINITE
            message = (
                "The function value is not finite at the returned x. It was not "
                "evaluated at the iterates before (callable jac); ftol or "
                "return_best=True make it checked at every iterate."
            )
    return OptimizeResult(
        x=x,
        fun=f,
        jac=g.copy(),  # jac may reuse its output buffer after the run
        nit=nit,
        nfev=objective.nfev,
        njev=objective.njev,
        status=status,
        success=status == _CONVERGED,
        message=message,
    )


def _verbose(result):
    """Print the end-of-run summary (``disp=True``); the module's only printer."""
    print(result.message)
    print(f"         Current function value: {result.fun:.6g}")
    print(f"         Iterations: {result.nit}")
    print(f"         Function evaluations: {result.nfev}")
    print(f"         Gradient evaluations: {result.njev}")


def _start(x0, bounds):
    """The starting point, projected into the box, and the box (or None)."""
    x = _prepare_x0(x0)
    box = _prepare_bounds(bounds, x.size, x.dtype)
    if box is not None:
        np.clip(x, box[0], box[1], out=x)
    if not np.isfinite(x).all():
        i = np.flatnonzero(~np.isfinite(x))[0]
        raise ValueError(f"x0 must be finite (inside the bounds); x0[{i}] is {x[i]}.")
    return x, box


def _solve(fun, x0, args, jac, bounds, constraints, callback, options):
    """Normalise the inputs, run Adam, and build the result."""
    opts, adam = _check_options(options)
    _refuse_constraints(constraints)
    args = args if isinstance(args, tuple) else (args,)
    x, box = _start(x0, bounds)
    rel_step = opts["finite_diff_rel_step"]
    if rel_step is not None and rel_step.size not in (1, x.size):
        raise ValueError(
            f"finite_diff_rel_step has {rel_step.size} entries, x0 has {x.size}."
        )
    objective = _Objective(fun, jac, args, box, rel_step)
    stopper = _Stopper(opts, box, callback)
    *state, best = _run(objective, x, adam, stopper, opts["return_best"])
    result = _result(objective, stopper, *state, best)
    if opts["disp"]:
        _verbose(result)
    return result


def _solve_scalar(fun, args, bracket, bounds, options):
    """Adam for ``minimize_scalar``, which passes ``bracket`` and no ``x0``.

    The start is the middle point of a three-point ``bracket`` or the mean of
    a two-point one, else 0; with ``bounds``, their midpoint if both are
    finite, else that start clipped into them.
    """
    if bracket is None:
        x0 = 0.0
    elif len(bracket) in (2, 3):
        x0 = bracket[1] if len(bracket) == 3 else 0.5 * (bracket[0] + bracket[1])
    else:
        raise ValueError(f"bracket must hold 2 or 3 points, got {bracket!r}.")
    box = _prepare_bounds(bounds, 1, np.dtype(np.float64))
    if box is not None:
        low, high = box[0][0], box[1][0]
        finite = math.isfinite(low) and math.isfinite(high)
        x0 = 0.5 * (low + high) if finite else min(max(x0, low), high)

    def scalar_fun(x, *args):
        return fun(x[0], *args)

    result = _solve(scalar_fun, [x0], args, None, bounds, None, None, options)
    result.x, result.jac = result.x[0], result.jac[0]
    return result


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
    **options,
):
    """Minimize a scalar function with Adam: a ``scipy.optimize.minimize`` method.

    Pass it as ``method=adam_minimize`` to :func:`scipy.optimize.minimize`
    (which fills in the arguments below), or call it directly with the same
    arguments. :class:`AdamMinimizer` holds stored option defaults.

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
        be omitted only by :func:`scipy.optimize.minimize_scalar` (see Notes).
    args : tuple, default=()
        Extra arguments passed to ``fun`` and ``jac``.
    jac : callable, True or None, default=None
        ``jac(x, *args) -> ndarray`` of shape (n,) (a list, a column, a row or a
        ``numpy.matrix`` of n entries, or a scalar when n is 1, is accepted, as
        L-BFGS-B accepts them; ``res.jac`` is a copy); ``True`` if ``fun`` returns
        ``(f, g)``; ``None`` (SciPy also turns ``False``, ``'2-point'``,
        ``'3-point'`` and ``'cs'`` into ``None``) for forward finite
        differences, which cost ``n + 1`` calls of ``fun`` per iteration.
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
        when that is its only parameter's name, as SciPy does) receives an
        :class:`~scipy.optimize.OptimizeResult` with ``x``, ``fun``, ``jac``
        and ``nit``; this style makes ``fun`` be evaluated every iteration.
        Any other callable is called as ``callback(xk)`` with a copy of ``x``.
        Raising ``StopIteration`` in either stops the run (status 99); the
        return value is ignored (as SciPy ignores it: returning ``True`` does
        not stop the run). Any other exception propagates, as from ``fun``.
    **options
        The options below (Other Parameters), e.g. ``minimize(options=...)``;
        ``minimize(tol=...)`` arrives as ``options["tol"]``. An unknown name
        is ignored with an ``OptimizeWarning`` that names it (and the option
        probably meant), as SciPy's own methods warn; a known option with a
        bad value raises a ``ValueError`` that names it.

    Returns
    -------
    result : scipy.optimize.OptimizeResult
        ``x`` (a new array), ``fun`` and ``jac`` at ``x``, ``nit`` (number of
        Adam updates), ``nfev`` and ``njev`` (calls of the user's ``fun`` and
        ``jac``; with ``jac=True`` each call of ``fun`` counts in both),
        ``status``, ``success`` and ``message`` (see Notes). ``fun`` is a
        Python float; ``x`` and ``jac`` have ``x``'s dtype (float32 or
        float64). There is no ``hess_inv``: Adam builds no curvature model.

    Other Parameters
    ----------------
    learning_rate : float or callable, default=0.001
        Step size; a callable ``learning_rate(t)`` of the update number ``t``
        (from 1) is a schedule.
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam's decay rates and denominator offset (see :class:`skadam.Adam`).
    bias_correction, amsgrad : bool, default=True, False
        Adam variants (see :class:`skadam.Adam`). These and the other
        flags (``decoupled_weight_decay``, ``return_best``) take
        ``True``/``False`` or 0/1; anything else raises a ``ValueError``.
    weight_decay : float, default=0.0
        L2 factor; coupled, or AdamW-style with ``decoupled_weight_decay=True``.
    decoupled_weight_decay : bool, default=False
        Decay the parameters directly instead of adding to the gradient.
    maxiter : int, default=10000
        Maximum number of updates. An integral float (``1e4``) is accepted,
        and ``inf`` leaves the stopping to the tolerances.
    gtol : float, default=1e-5
        Stop when ``max |g| <= gtol`` (with bounds, the projected gradient
        ``x - clip(x - g, lb, ub)``, as L-BFGS-B: at a bound-constrained optimum
        the gradient itself is not zero). ``tol`` sets ``gtol``, as for BFGS.
        With coupled ``weight_decay``, Adam minimizes
        ``fun(x) + weight_decay / 2 * |x|^2``, so ``g + weight_decay * x`` is
        tested (``res.jac`` stays the gradient of ``fun``). Decoupled decay
        is no gradient term: ``g`` is tested, which a large decay can keep
        from ever being met.
    ftol : float, default=0.0
        Stop when ``|f_k - f_{k+1}| <= ftol * max(|f_k|, |f_{k+1}|, 1)``.
        Makes ``fun`` be evaluated every iteration.
    xtol : float, default=0.0
        Stop when the largest absolute change of an entry of ``x`` in one
        update is ``<= xtol``. Adam's steps are about ``learning_rate`` in
        size whatever the gradient's scale, so ``xtol`` must be well below
        ``learning_rate`` (at ``xtol >= learning_rate`` the first update
        already meets it).
    disp : bool or int, default=False
        Print a short summary at the end when true (any int >= 0 is
        accepted: ``minimize_scalar`` passes ``disp=True`` on as 2).
    return_best : bool, default=False
        Return the iterate with the lowest ``fun`` seen (Adam is not a descent
        method) instead of the last one. Makes ``fun`` be evaluated every
        iteration. ``nit`` still counts every update taken; the message names
        the update that produced the returned iterate. ``status`` and
        ``success`` say why the run stopped: the returned iterate (and its
        ``jac``) need not meet the criterion that stopped it.
    finite_diff_rel_step : float or array of shape (n,), optional
        Relative step ``h = rel_step * max(1, |x_i|)`` of the finite
        differences (one for all variables, or one per variable), ``> 0``;
        default ``sqrt(machine epsilon)`` of ``x``'s dtype. Forward differences
        are off by about ``h * f'' / 2``: about 1e-8 in float64, but 3e-4 in
        float32, above the default ``gtol`` (a gradient that small is then
        noise; raise ``gtol`` or pass ``jac``).

    See Also
    --------
    AdamMinimizer : The same method with stored option defaults.
    skadam.Adam : The update rule.

    Notes
    -----
    A tolerance of 0 disables its criterion; ``ftol`` and ``xtol`` default to
    0 because Adam's steps and function values need not shrink steadily.

    Each call starts Adam afresh (zero moments, update number 1): calling
    ``minimize`` again from ``res.x`` is not the same as a longer run. To
    continue a run with its moments, drive :class:`skadam.Adam` and its
    :class:`skadam.AdamState` directly.

    ``fun`` is evaluated every iteration only when something reads it (finite
    differences, ``jac=True``, ``ftol > 0``, ``return_best``, a new-style
    callback); otherwise once, at the returned ``x``. Non-finite values are
    detected where ``fun`` and ``jac`` are evaluated: if only ``jac`` is
    evaluated during the run and ``fun`` turns out NaN or infinite at the end,
    the result is that last iterate with status 2 and ``success=False``, and
    the message says so (``ftol`` or ``return_best`` would have stopped at the
    first such iterate, or returned the best finite one).

    ======  ==============================================================
    status  meaning
    ======  ==============================================================
    0       converged; the message names the criterion (gtol, ftol, xtol)
    1       ``maxiter`` updates taken (SciPy's message)
    2       a non-finite ``fun`` or gradient: the result is the last
            iterate where both were finite (or, when ``fun`` is only
            evaluated at the end, the iterate where it is not; see above)
    99      the callback raised ``StopIteration`` (SciPy's message)
    ======  ==============================================================

    :func:`scipy.optimize.minimize_scalar` calls a custom method without
    ``x0`` but with ``bracket``: Adam then starts from the middle of a
    three-point ``bracket`` or the mean of a two-point one, else 0; with
    ``bounds`` (a pair, ``None`` or infinite ends allowed, or ``Bounds``),
    from their midpoint if both are finite, else from that start clipped into
    them. Gradients come from finite differences.

    SciPy's global optimizers that take ``minimizer_kwargs={"method": ...}``
    and pass it to :func:`~scipy.optimize.minimize` (``basinhopping``,
    ``dual_annealing``) accept ``adam_minimize`` and ``AdamMinimizer``;
    ``shgo`` accepts only method names (it calls ``method.lower()``).

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.optimize import minimize, rosen, rosen_der
    >>> from skadam import adam_minimize
    >>> res = minimize(rosen, [-1.2, 1.0], method=adam_minimize, jac=rosen_der,
    ...                options={"learning_rate": 0.01, "maxiter": 20_000})
    >>> res.success, np.round(res.x, 4)
    (True, array([1., 1.]))
    """
    options = _resolve_tol(options)
    if x0 is None:
        if "bracket" not in options:
            raise TypeError("adam_minimize() needs x0, the starting point.")
        bracket = options.pop("bracket")
        return _solve_scalar(fun, args, bracket, bounds, options)
    return _solve(fun, x0, args, jac, bounds, constraints, callback, options)


class AdamMinimizer:
    """:func:`adam_minimize` with stored option defaults; picklable.

    Parameters
    ----------
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
        options = _resolve_tol(options)
        _check_options(options)
        self.options = {k: v for k, v in options.items() if k in _DEFAULTS}

    def __call__(self, fun, x0=None, *args, **kwargs):
        """Run :func:`adam_minimize` (same arguments), stored options as defaults."""
        kwargs = {**self.options, **_resolve_tol(kwargs)}
        return adam_minimize(fun, x0, *args, **kwargs)

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
