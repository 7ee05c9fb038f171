"""SciPy's inputs turned into one value-and-gradient object.

:func:`skadam.adam_minimize` receives what :func:`scipy.optimize.minimize`
receives: ``fun``, ``jac`` in one of its forms, ``args``, ``x0`` and
``bounds``. This module normalises them: the starting point as a fresh float
array, the bounds as two arrays in its dtype, and an :class:`Objective` whose
``evaluate(x, need_f)`` returns ``(f, g)`` whatever the form of ``jac`` (a
callable, ``True``, or finite differences), counting every call of the user's
functions in ``nfev`` and ``njev``. The user's functions always receive their
own copy of ``x``. In the stochastic mode, :class:`Minibatches` cuts the
sample arrays of ``args`` into shuffled minibatches.
"""

import math
import multiprocessing
from numbers import Integral

import numpy as np
import scipy.sparse
from scipy.optimize import Bounds

__all__ = [
    "Minibatches",
    "Objective",
    "ScalarFun",
    "Workers",
    "check_batches",
    "check_rel_step",
    "prepare_bounds",
    "refuse_constraints",
    "scalar_x0",
    "start",
]


class Objective:
    """The user's ``fun``/``jac`` with ``args``, counting every call.

    Parameters
    ----------
    fun, jac : callable, True or None
        As passed by :func:`scipy.optimize.minimize`.
    args : tuple
        Extra arguments; :attr:`args` may be replaced between calls (the
        minibatches of the stochastic mode).
    bounds : tuple of two ndarray or None
        ``(lb, ub)`` from :func:`prepare_bounds`; finite-difference points
        stay inside them.
    rel_step : ndarray or None
        From :func:`check_rel_step`.
    workers : callable
        A map-like callable for the finite-difference evaluations.

    Notes
    -----
    ``evaluate(x, need_f)`` returns ``(f, g)``; ``f`` is None when it was
    neither needed nor obtained for free (a separate ``jac``).
    """

    def __init__(self, fun, jac, args, bounds, rel_step=None, workers=map):
        self.fun, self.args, self.nfev, self.njev = fun, args, 0, 0
        self.bounds, self.rel_step, self.workers = bounds, rel_step, workers
        combined = _combined_function(fun, jac)
        if combined is not None:
            self.combined, self.evaluate = combined, self._evaluate_combined
        elif callable(jac):
            self.jac, self.evaluate = jac, self._evaluate_jac
        else:
            self.evaluate = self._evaluate_fd

    def value(self, x):
        """``fun`` at a copy of ``x``, as a float (one call, counted)."""
        # The user's functions get their own copy of x, as SciPy's methods
        # give: what they keep or modify is never an iterate or the result.
        self.nfev += 1
        return _scalar(self.fun(x.copy(), *self.args))

    def _evaluate_jac(self, x, need_f):
        self.njev += 1
        g = _gradient(self.jac(x.copy(), *self.args), x, "jac")
        return (self.value(x) if need_f else None), g

    def _evaluate_combined(self, x, need_f):
        self.nfev += 1
        self.njev += 1
        out = self.combined(x.copy(), *self.args)
        try:
            f, g = out
        except (TypeError, ValueError):
            raise ValueError(
                f"With jac=True, fun must return (f, gradient), got {out!r:.80}"
            ) from None
        return _scalar(f), _gradient(g, x, "fun (with jac=True)")

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
        index = np.flatnonzero(moved != x)
        points = []
        for i in index:
            xh = x.copy()
            xh[i] = moved[i]
            points.append(xh)
        self.nfev += len(points)
        values = self.workers(_FunWithArgs(self.fun, self.args), points)
        g = np.zeros_like(x)
        g[index] = (np.fromiter(values, float, len(points)) - f) / (moved - x)[index]
        return f, g


class _FunWithArgs:
    """``fun(x, *args)`` as a one-argument picklable callable, for ``map``."""

    def __init__(self, fun, args):
        self.fun, self.args = fun, args

    def __call__(self, x):
        return _scalar(self.fun(x, *self.args))


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


def _gradient(g, x, source):
    """The gradient as an array of x's shape and dtype.

    Not copied, as SciPy's methods do not copy it: it is used before ``jac``
    is called again, and whatever keeps it longer (the result, the best
    iterate, a callback) copies it, in case ``jac`` reuses a buffer. A
    column, a row or a ``numpy.matrix`` with one entry per variable (and a
    scalar for one variable) is accepted, as L-BFGS-B accepts them. A complex
    gradient is refused, as a complex ``fun`` is: casting would drop its
    imaginary part. ``source`` names the function that returned it.
    """
    if type(g) is np.ndarray and g.dtype is x.dtype and g.shape == x.shape:
        return g  # the common case (x's dtype is real), checked cheaply
    if g is None:  # NumPy would read None as NaN
        raise ValueError(
            "The gradient is None; jac (or fun with jac=True) must return it."
        )
    try:
        if g.dtype.kind == "c" if type(g) is np.ndarray else np.iscomplexobj(g):
            raise TypeError("complex")
        g = np.asarray(g, dtype=x.dtype)
    except (TypeError, ValueError):
        raise ValueError(
            f"{source} must return real numbers, one per variable, got {g!r:.80}"
        ) from None
    if g.shape != x.shape and g.size == x.size and max(g.shape, default=1) == g.size:
        g = g.reshape(x.shape)
    if g.shape != x.shape:
        raise ValueError(f"The gradient has shape {g.shape}; x0 has shape {x.shape}.")
    return g


def check_rel_step(value, n):
    """None, or a float array of relative steps > 0 (a scalar or one per entry)."""
    if value is None:
        return None
    try:  # a complex step would be cast to its real part
        rel = None if np.iscomplexobj(value) else np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        rel = None
    if rel is None or rel.ndim > 1 or not np.all((rel > 0) & np.isfinite(rel)):
        raise ValueError(
            "finite_diff_rel_step must be None or real numbers > 0 (a scalar or "
            f"one per variable), got {value!r}."
        )
    if n is not None and rel.size not in (1, n):
        raise ValueError(f"finite_diff_rel_step has {rel.size} entries, x0 has {n}.")
    return rel


class Workers:
    """The map that evaluates finite-difference points, as a context manager.

    ``workers`` is None or 1 (the built-in ``map``, in this process), an int
    (a :class:`multiprocessing.Pool` of that many processes, ``-1`` for one
    per CPU, open for the run only), or a map-like callable
    ``workers(function, iterable)`` used as it is (``Pool.map``,
    ``concurrent.futures.Executor.map``, ...). SciPy's BFGS takes the same
    option under the same name.
    """

    def __init__(self, workers):
        if workers is None or callable(workers):
            self.processes = None
        elif isinstance(workers, Integral) and not isinstance(workers, bool):
            if workers == 0 or workers < -1:
                raise ValueError(
                    "workers must be None, an int >= 1, -1 (one per CPU) or a "
                    f"map-like callable, got {workers!r}."
                )
            self.processes = None if workers == 1 else workers
        else:
            raise ValueError(
                "workers must be None, an int >= 1, -1 (one per CPU) or a "
                f"map-like callable, got {workers!r}."
            )
        self.workers, self.pool = workers, None

    def __enter__(self):
        if self.processes is not None:
            count = None if self.processes == -1 else self.processes
            self.pool = multiprocessing.Pool(count)
            return self.pool.map
        return self.workers if callable(self.workers) else map

    def __exit__(self, *exc):
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None


def start(x0, bounds):
    """The starting point, projected into the box, and the box (or None).

    Returns
    -------
    x : ndarray of shape (n,)
        A new float32 (kept) or float64 array, inside the bounds and finite.
    box : tuple of two ndarray of shape (n,), or None
        ``(lb, ub)`` in ``x``'s dtype, None when nothing is bounded.
    """
    x = _prepare_x0(x0)
    box = prepare_bounds(bounds, x.size, x.dtype)
    if box is not None:
        np.clip(x, box[0], box[1], out=x)
    if not np.isfinite(x).all():
        i = np.flatnonzero(~np.isfinite(x))[0]
        raise ValueError(f"x0 must be finite (inside the bounds); x0[{i}] is {x[i]}.")
    return x, box


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


def scalar_x0(bracket, bounds):
    """The start for ``minimize_scalar``, which passes ``bracket`` and no ``x0``.

    The middle point of a three-point ``bracket`` or the mean of a two-point
    one, else 0; with ``bounds``, their midpoint if both are finite, else that
    start clipped into them.
    """
    if bracket is None:
        x0 = 0.0
    elif len(bracket) in (2, 3):
        x0 = bracket[1] if len(bracket) == 3 else 0.5 * (bracket[0] + bracket[1])
    else:
        raise ValueError(f"bracket must hold 2 or 3 points, got {bracket!r}.")
    box = prepare_bounds(bounds, 1, np.dtype(np.float64))
    if box is not None:
        low, high = box[0][0], box[1][0]
        finite = math.isfinite(low) and math.isfinite(high)
        x0 = 0.5 * (low + high) if finite else min(max(x0, low), high)
    return x0


def prepare_bounds(bounds, n, dtype):
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
        if np.iscomplexobj(lb) or np.iscomplexobj(ub):  # not cast to the real part
            raise TypeError
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


def refuse_constraints(constraints):
    """Raise unless ``constraints`` is None or empty: Adam only projects."""
    if constraints is None:
        return
    if isinstance(constraints, list | tuple | dict) and len(constraints) == 0:
        return
    raise ValueError(
        "Adam cannot honour constraints (only bounds, by projection); "
        f"got constraints={constraints!r}. Use method='SLSQP', 'COBYQA' or "
        "'trust-constr' for constrained problems."
    )


class ScalarFun:
    """``minimize_scalar``'s ``fun`` of a number, called with a 1-element array."""

    def __init__(self, fun):
        self.fun = fun

    def __call__(self, x, *args):
        return self.fun(x[0], *args)


def check_batches(batch_size, batch_args):
    if batch_size is not None and (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, Integral)
        or batch_size < 1
    ):
        raise ValueError(f"batch_size must be None or an int >= 1, got {batch_size!r}.")
    if batch_args is not None:
        indices = list(batch_args) if isinstance(batch_args, list | tuple) else None
        if not indices or not all(
            isinstance(i, Integral) and not isinstance(i, bool) for i in indices
        ):
            raise ValueError(
                "batch_args must be None or a non-empty sequence of indices "
                f"into args, got {batch_args!r}."
            )


class Minibatches:
    """Shuffled minibatches of the arguments that hold one row per sample.

    The sliced arguments are ``batch_args`` (indices into ``args``), or by
    default every NumPy array or SciPy sparse matrix in ``args`` whose first
    dimension equals that of the first such argument.
    """

    def __init__(self, args, batch_size, batch_args, rng):
        self.sliced = sliced_args(args, batch_args)
        # Rows are taken by index: sparse formats without row indexing (COO,
        # DIA, ...) become CSR once.
        args = tuple(
            a.tocsr()
            if i in self.sliced and scipy.sparse.issparse(a) and a.format != "csr"
            and a.format != "csc"
            else a
            for i, a in enumerate(args)
        )  # fmt: skip
        self.args, self.batch_size = args, batch_size
        self.n = args[self.sliced[0]].shape[0]
        if self.n == 0:
            raise ValueError(
                "batch_size needs samples, but the arrays of args that hold "
                "them have 0 rows."
            )
        try:
            self.rng = np.random.default_rng(rng)
        except (TypeError, ValueError):
            raise ValueError(
                f"rng must be None, an int or a numpy.random.Generator, got {rng!r}."
            ) from None

    def epoch(self):
        """Yield ``(args, rows)`` for each minibatch of one shuffled pass."""
        order = self.rng.permutation(self.n)
        for begin in range(0, self.n, self.batch_size):
            rows = order[begin : begin + self.batch_size]
            args = list(self.args)
            for i in self.sliced:
                args[i] = self.args[i][rows]
            yield tuple(args), rows.size


def sliced_args(args, batch_args):
    def is_rows(a):
        return (isinstance(a, np.ndarray) and a.ndim >= 1) or scipy.sparse.issparse(a)

    if batch_args is None:
        arrays = [i for i, a in enumerate(args) if is_rows(a)]
        if not arrays:
            raise ValueError(
                "batch_size needs the samples in args (NumPy arrays or sparse "
                "matrices with one row per sample); args holds none."
            )
        n = args[arrays[0]].shape[0]
        return [i for i in arrays if args[i].shape[0] == n]
    bad = [i for i in batch_args if not -len(args) <= i < len(args)]
    if bad or not all(is_rows(args[i]) for i in batch_args):
        raise ValueError(
            f"batch_args {list(batch_args)} must index arrays in args (which "
            f"holds {len(args)} arguments)."
        )
    lengths = {args[i].shape[0] for i in batch_args}
    if len(lengths) > 1:
        raise ValueError(
            f"The arguments batch_args names have different numbers of rows: "
            f"{sorted(lengths)}."
        )
    return list(batch_args)
