"""The Adam update rule, its state, and the plumbing every algorithm shares.

This module imports only NumPy. :meth:`Adam._numpy_update` is the update of
Kingma & Ba (2014), Algorithm 1, in one screen; :mod:`skadam._numba` holds an
optional compiled kernel of the same arithmetic, chosen by ``backend=`` (and
imported only when that backend runs). :class:`OptimizerState` and
:class:`_Optimizer` hold what every algorithm of :mod:`skadam._optimizers`
shares: saving a state, validating hyperparameters and inputs before anything
is written, gradient clipping and the learning-rate schedule.
"""

import dataclasses
import inspect
import math
from importlib.util import find_spec
from numbers import Integral, Real

import numpy as np

__all__ = ["Adam", "AdamState"]

BACKENDS = ("auto", "numpy", "numba")
# backend="auto" runs the numba kernel from this many parameters (and NumPy
# below): from about here one step saves tens of microseconds (NumPy 72 us,
# numba 15 us per float64 step at d = 30,000 on a 2-core x86-64 machine), which
# pays for importing numba (about 0.4 s, once per process) over a few thousand
# steps. See docs/performance.rst and the "crossover" benchmark.
NUMBA_MIN_SIZE = 20_000
# torch.nn.utils.clip_grad_norm_ divides by (norm + 1e-6); skadam does too,
# so that clipped runs equal torch's (optax's clip_by_global_norm has no guard).
CLIP_EPS = 1e-6
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


class OptimizerState:
    """Generic methods of the state records (a dataclass per algorithm).

    A state holds ``step`` (updates taken), float arrays of the parameters'
    shape and dtype (``None`` where a variant does not need one) and, for some
    algorithms, float scalars named in ``_scalars``. Nothing else: no scratch.
    """

    _scalars = ()

    def copy(self):
        """Return a deep copy of the state.

        Returns
        -------
        state : same type as self
            A new state whose arrays are copies of this one's.
        """
        return type(self)(**{k: _copy(v) for k, v in self.to_dict().items()})

    def to_dict(self):
        """Return the fields as a dict, leaving out those that are ``None``.

        The dict can be passed to :func:`numpy.savez` as it is.

        Returns
        -------
        d : dict
            ``step``, the arrays (themselves, not copies) and any scalars.
        """
        items = ((f.name, getattr(self, f.name)) for f in dataclasses.fields(self))
        return {k: v for k, v in items if v is not None}

    @classmethod
    def from_dict(cls, d):
        """Rebuild a state from :meth:`to_dict` output (or an ``np.load`` file).

        Parameters
        ----------
        d : mapping
            The fields of :meth:`to_dict`: ``step``, the arrays, any scalars.

        Returns
        -------
        state : same type as the class
            A new state holding copies of the arrays.

        Raises
        ------
        ValueError
            If a field is missing or unknown, ``step`` is not an integer
            ``>= 0``, an array is not float32/float64 (an integer moment would
            be truncated at every step), or the arrays differ in shape or dtype.
        """
        names = [f.name for f in dataclasses.fields(cls)]
        required = [f.name for f in dataclasses.fields(cls) if f.default is not None]
        unknown = sorted(set(d) - set(names))
        missing = [k for k in required if k not in d]
        if unknown or missing:
            optional = [k for k in names if k not in required]
            raise ValueError(
                f"{cls.__name__}.from_dict needs {required}"
                + (f" (and optionally {optional})" if optional else "")
                + f"; missing {missing}, unknown {unknown}."
            )
        fields = {"step": _check_step_count(d["step"])}
        for name in cls._scalars:
            fields[name] = _float_scalar(name, d[name])
        arrays = [k for k in names if k in d and k != "step" and k not in cls._scalars]
        for name in arrays:
            fields[name] = _float_array(name, d[name])
        first = fields[arrays[0]]
        for name in arrays[1:]:
            a = fields[name]
            if a.shape != first.shape or a.dtype != first.dtype:
                raise ValueError(
                    f"{name} has shape {a.shape} and dtype {a.dtype}; "
                    f"{arrays[0]} has shape {first.shape} and dtype {first.dtype}."
                )
        return cls(**fields)

    def _arrays(self):
        """``(name, array)`` for each array field, ``None`` ones included."""
        skip = ("step", *self._scalars)
        fields = dataclasses.fields(self)
        return [(f.name, getattr(self, f.name)) for f in fields if f.name not in skip]


def state_is_finite(state):
    """Whether every float array of an optimizer state is finite.

    Each update keeps torch's arithmetic, in which a gradient entry whose
    square overflows (``|g|`` above about 1.3e154 in float64, 1.8e19 in
    float32) makes the second moment ``v`` infinite: that entry's steps are
    then ``m / inf = 0`` and it stops moving, with no error. The loops that
    manage a run (:func:`skadam.adam_minimize`, the estimators' training)
    call this to report it. Any object is accepted: its attributes that are
    float arrays are checked (True when it has none).
    """
    values = vars(state).values() if hasattr(state, "__dict__") else ()
    return all(
        np.isfinite(a).all()
        for a in values
        if isinstance(a, np.ndarray) and a.dtype.kind == "f"
    )


def _copy(value):
    return value.copy() if isinstance(value, np.ndarray) else value


def _check_step_count(step):
    a = np.asarray(step)  # np.load gives a 0-d array
    if a.ndim or a.dtype.kind not in "iu" or a < 0:
        raise ValueError(f"step must be an integer >= 0, got {step!r}.")
    return int(a)


def _float_scalar(name, value):
    value = float(np.asarray(value))
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}.")
    return value


def _float_array(name, value):
    a = np.array(value)  # a copy: the state must not share the caller's arrays
    if a.dtype not in _FLOATS:
        raise ValueError(
            f"{name} must be a float32 or float64 array, got dtype {a.dtype}."
        )
    return a


@dataclasses.dataclass
class AdamState(OptimizerState):
    """The mutable state of one Adam run.

    Parameters
    ----------
    step : int
        Number of updates taken so far (``t`` in Algorithm 1).
    m : ndarray
        First-moment (mean) estimate, same shape and dtype as the parameters.
    v : ndarray
        Second raw-moment estimate, same shape and dtype as the parameters.
    v_max : ndarray or None
        Running maximum of ``v`` (AMSGrad only), else ``None``.

    Notes
    -----
    The state is a plain record: it pickles, copies with :meth:`copy`, and
    round-trips through :meth:`to_dict` / :meth:`from_dict` (for example with
    :func:`numpy.savez`), so a run can be saved and resumed exactly.
    :meth:`from_dict` refuses integer arrays and arrays of different shapes;
    :meth:`Adam.step` refuses a state whose arrays do not match ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam import Adam
    >>> x = np.zeros(3)
    >>> state = Adam().init(x)
    >>> state.step, state.m.shape, state.v_max is None
    (0, (3,), True)
    """

    step: int
    m: np.ndarray
    v: np.ndarray
    v_max: np.ndarray | None = None


def _number(value):
    """A 0-d NumPy array of numbers as the Python number it holds, else ``value``.

    NumPy reductions return 0-d arrays (``np.median``, ``x.sum(keepdims=...)``
    and friends); they are numbers wherever a number is taken.
    """
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        return value.item()
    return value


def _check_real(name, value, low, high=math.inf, low_open=False, high_open=True):
    """Return ``value`` as a float if it is a finite real in the interval.

    A 0-d array counts as the number it holds; anything else raises a
    ValueError naming ``name``.
    """
    value = _number(value)
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name} must be a real number, got {value!r}.")
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if too_low or too_high or not math.isfinite(value):
        lo = "(" if low_open else "["
        hi = ")" if high_open or high == math.inf else "]"
        raise ValueError(f"{name} must be in {lo}{low}, {high}{hi}, got {value!r}.")
    return float(value)


def _check_flag(name, value):
    # bool("False") is True: a string or any other object is a mistake.
    is_flag = isinstance(value, bool | np.bool_) or (
        isinstance(value, Integral) and value in (0, 1)
    )
    if not is_flag:
        raise ValueError(f"{name} must be True or False, got {value!r}.")
    return bool(value)


def _check_backend(backend):
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}.")
    if backend == "numba" and find_spec("numba") is None:
        raise ImportError(
            "backend='numba' needs numba, which is not installed: install "
            "skadam's fast extra (pip install '.[fast]' in its checkout) or "
            "numba itself, or use backend='auto' or 'numpy'."
        )
    return backend


def _check_params(x):
    if not isinstance(x, np.ndarray) or x.dtype not in _FLOATS:
        dtype = f" of dtype {x.dtype}" if isinstance(x, np.ndarray) else ""
        raise ValueError(
            "The optimizers update parameters in place: x must be a float32 or "
            f"float64 NumPy array, got {type(x).__name__}{dtype}."
        )
    return x


def _check_index(index, n):
    """``index`` as a 1-D int array of distinct columns in ``[0, n)``."""
    index = np.asarray(index)
    if index.ndim != 1 or (index.size and index.dtype.kind not in "iu"):
        raise ValueError(
            f"index must be a 1-D array of integers, got shape {index.shape} "
            f"and dtype {index.dtype}."
        )
    index = index.astype(np.intp, copy=False)
    if index.size and (index.min() < 0 or index.max() >= n):
        raise ValueError(f"index must be in [0, {n}), got values outside.")
    if index.size > 1 and not (index[1:] > index[:-1]).all():  # O(k), no sort
        raise ValueError("index must be strictly increasing (no column twice).")
    return index


def _check_writeable(name, a):
    if not a.flags.writeable:
        raise ValueError(f"{name} is read-only; the update writes it in place.")


class _Optimizer:
    """The protocol every algorithm shares (see :class:`Adam`).

    Subclasses set ``_state_class``, store each constructor argument under its
    own name (the repr lists them), write ``step`` and may override
    ``_initial_arrays`` (a fresh state's arrays) and ``_state_arrays`` (the
    arrays a step writes, checked against ``x`` before it writes any).
    """

    _state_class = AdamState

    def __repr__(self):
        names = inspect.signature(type(self)).parameters
        args = ", ".join(f"{n}={getattr(self, n)!r}" for n in names)
        return f"{type(self).__name__}({args})"

    def init(self, x):
        """Return a fresh state for parameters shaped like ``x``.

        Parameters
        ----------
        x : ndarray of float32 or float64
            The parameters the state will update; not modified.

        Returns
        -------
        state : OptimizerState
            The algorithm's state record (:class:`AdamState` for :class:`Adam`)
            with ``step=0``, zero moments of ``x``'s shape and dtype, and the
            record's default scalars.
        """
        x = _check_params(x)
        return self._state_class(step=0, **self._initial_arrays(x))

    def _initial_arrays(self, x):
        """The arrays of a fresh state: zeros for each field without a default."""
        fields = dataclasses.fields(self._state_class)
        names = [f.name for f in fields if f.default is dataclasses.MISSING]
        return {name: np.zeros_like(x) for name in names if name != "step"}

    def _set_common(self, learning_rate, epsilon, weight_decay, max_grad_norm, **betas):
        """Validate and store the hyperparameters every algorithm has."""
        if not callable(learning_rate):  # stored as a float
            learning_rate = _check_real(
                "learning_rate", learning_rate, 0, low_open=True
            )
        self.learning_rate = learning_rate
        for name, beta in betas.items():
            setattr(self, name, _check_real(name, beta, 0, 1))
        self.epsilon = _check_real("epsilon", epsilon, 0)
        self.weight_decay = _check_real("weight_decay", weight_decay, 0)
        if max_grad_norm is not None:
            max_grad_norm = _check_real(
                "max_grad_norm", max_grad_norm, 0, low_open=True
            )
        self.max_grad_norm = max_grad_norm

    def learning_rate_at(self, t):
        """Return the step size of update number ``t`` (1-based), validated.

        Parameters
        ----------
        t : int
            Update number, 1 for the first update.

        Returns
        -------
        learning_rate : float
            ``learning_rate``, or ``learning_rate(t)`` for a schedule.

        Raises
        ------
        ValueError
            If a schedule returns anything but a finite real ``>= 0``.
        """
        lr = self.learning_rate
        if callable(lr):
            return _check_real(f"learning_rate({t})", lr(t), 0)
        return lr

    def eval_params(self, x, state):
        """Return the point to evaluate and predict at: ``x`` itself.

        Parameters
        ----------
        x : ndarray
            The parameters the optimizer updates.
        state : OptimizerState
            The state of the run (unused here; schedule-free averaging uses it).

        Returns
        -------
        x : ndarray
            The same object.
        """
        return x

    def objective_gradient(self, x, grad):
        """Return the gradient of the objective the update minimizes.

        With coupled ``weight_decay`` the update minimizes
        ``f(x) + weight_decay / 2 * ||x||**2``: its gradient is
        ``grad + weight_decay * x``. Otherwise (no decay, or decoupled decay,
        which minimizes nothing extra) it is ``grad`` itself. Clipping does not
        change the objective. A stopping rule tests this gradient.

        Parameters
        ----------
        x : ndarray
            Parameters.
        grad : ndarray
            Gradient of ``f`` at ``x``.

        Returns
        -------
        gradient : ndarray
            A new array under coupled decay, else ``grad`` (the same object).
        """
        if self.weight_decay and not getattr(self, "decoupled_weight_decay", True):
            return grad + self.weight_decay * x
        return grad

    def lazy_step(self, x, grad, state, index):
        """Take one step on the columns ``index`` of ``x`` only (lazy update).

        The update of :meth:`step` applied to ``x[..., index]`` and to the
        same columns of every state array, with the step count ``t`` of the
        whole state: the other columns, their moments included, are left as
        they are, as if their gradient had not been computed rather than
        computed as zero. This is "lazy Adam" (TensorFlow Addons'
        ``LazyAdam``; ``torch.optim.SparseAdam`` for Adam without the other
        options): for sparse data, where a minibatch touches few columns,
        a step costs the touched columns instead of all of them.

        It is an approximation of :meth:`step` with a gradient that is zero
        outside ``index``: there, the exact step would still decay ``m`` and
        ``v`` and move ``x`` by ``lr * m_hat / (sqrt(v_hat) + epsilon)``.
        Both agree exactly when ``index`` holds every column, or when the
        skipped columns have ``m = v = 0`` and no weight decay; the tests
        check both against :meth:`step`. Clipping uses the norm of the
        given ``grad`` and weight decay (coupled or decoupled) applies to
        the updated columns only.

        Parameters
        ----------
        x : ndarray of float32 or float64 of shape (..., n)
            Parameters; the columns ``index`` of the last axis are updated
            in place.
        grad : array-like of shape (..., len(index))
            The gradient at those columns, in ``index``'s order; converted to
            ``x``'s dtype and not modified.
        state : OptimizerState
            The optimizer's state for ``x`` (from :meth:`init`); its arrays
            are updated at ``index``, and ``step`` advances by one.
        index : array-like of int of shape (k,)
            Strictly increasing column numbers in ``[0, n)`` (for example
            ``numpy.unique`` of a sparse minibatch's column indices).

        Returns
        -------
        x : ndarray
            The ``x`` passed in, for chaining.

        Raises
        ------
        ValueError
            As :meth:`step` does, and if ``index`` is not a 1-D, strictly
            increasing array of integers in ``[0, n)``; nothing is written
            then.

        References
        ----------
        TensorFlow Addons, ``tfa.optimizers.LazyAdam``
        (``tensorflow_addons/optimizers/lazy_adam.py``); PyTorch,
        ``torch.optim.SparseAdam`` (``torch/optim/sparse_adam.py``).

        Examples
        --------
        >>> import numpy as np
        >>> from skadam import Adam
        >>> adam = Adam(learning_rate=0.1)
        >>> x = np.zeros((1, 5))
        >>> state = adam.init(x)
        >>> _ = adam.lazy_step(x, np.array([[1.0, -2.0]]), state, [1, 3])
        >>> x.round(3).tolist(), state.step
        ([[0.0, -0.1, 0.0, 0.1, 0.0]], 1)
        """
        x = _check_params(x)
        index = _check_index(index, x.shape[-1])
        full = self._state_arrays(state)  # also checks the state's type
        for name, a in full:
            if a.shape != x.shape:
                raise ValueError(
                    f"state.{name} has shape {a.shape}, x has shape {x.shape}."
                )
        _check_writeable("x", x)
        _check_no_overlap(
            full, x=x, grad=grad if isinstance(grad, np.ndarray) else None
        )
        if self._lazy_compiled(x, grad, state, index):
            return x
        # np.take gives C-contiguous copies (what the numba backend needs).
        sub = np.take(x, index, axis=-1)
        sub_state = dataclasses.replace(
            state, **{name: np.take(a, index, axis=-1) for name, a in full}
        )
        self.step(sub, grad, sub_state)  # validates grad before writing
        x[..., index] = sub
        for name, a in full:
            a[..., index] = getattr(sub_state, name)
        names = {name for name, _ in full}
        for f in dataclasses.fields(state):  # the step count and any scalars
            if f.name not in names:
                setattr(state, f.name, getattr(sub_state, f.name))
        return x

    def _lazy_compiled(self, x, grad, state, index):
        """Run :meth:`lazy_step` compiled if the algorithm can; return whether."""
        return False

    def _state_arrays(self, state):
        """``(name, array)`` for each array a step writes."""
        return state._arrays()

    def _check_step(self, x, grad, state, out=None):
        """Validate one step's inputs, writing nothing; return ``(grad, t, lr)``.

        ``grad`` comes back as an array of ``x``'s shape and dtype (converted,
        or copied when it overlaps ``x``, which the update writes). No state
        array may overlap ``x``, ``grad``, another state array or ``out``
        (Adam's, when it is not ``x``), which overlaps neither ``x`` nor
        ``grad`` either.
        """
        grad, t = self._check_inputs(x, grad, state, out)
        return grad, t, self.learning_rate_at(t)

    def _check_inputs(self, x, grad, state, out=None):
        """The checks of :meth:`_check_step` without the schedule: ``(grad, t)``."""
        if not isinstance(state, self._state_class):
            raise ValueError(
                f"state must be an instance of {self._state_class.__name__} (from "
                f"{type(self).__name__}.init), got {type(state).__name__}."
            )
        arrays = self._state_arrays(state)
        if not _fast_path_ok(x, grad, arrays):
            grad = _check_step_slow(x, grad, arrays, state)
        if out is not None:
            _check_out(out, x, grad, arrays)
        step = state.step
        if type(step) is not int or step < 0:
            step = _check_step_count(step)
        return grad, step + 1

    def _step_unchecked(self, x, grad, state):
        """:meth:`step` for a loop that owns its inputs and checked them once.

        The same update, without the per-call checks of ``x``, ``grad`` and
        ``state`` (about 1.3 microseconds, a fifth of a step on two
        parameters). For skadam's minimizer, which allocates ``x``'s buffers,
        receives ``grad`` in ``x``'s shape and dtype from its own validation,
        and checks the state with :meth:`_check_inputs` before its first update.
        The schedule's value is still checked.
        """
        t = state.step + 1
        return self._advance(x, grad, state, t, self.learning_rate_at(t))

    def _clip_scale(self, grad):
        """The factor that clips ``grad``'s global L2 norm, or None (no change).

        ``min(1, max_grad_norm / (norm + 1e-6))`` as in torch's
        ``clip_grad_norm_``; a NaN or infinite norm gives NaN or 0, as there.
        """
        if self.max_grad_norm is None:
            return None
        scale = self.max_grad_norm / (float(np.linalg.norm(grad)) + CLIP_EPS)
        return None if scale >= 1.0 else scale

    def _clipped(self, grad):
        scale = self._clip_scale(grad)
        return grad if scale is None else grad * scale


def _fast_path_ok(x, grad, arrays):
    """The common case, checked cheaply: a step can take microseconds.

    Arrays of the right kind that own their memory and are distinct objects,
    so that none can overlap another.
    """
    if not (
        type(x) is np.ndarray
        and type(grad) is np.ndarray
        and grad.dtype is x.dtype
        and grad.shape == x.shape
        and x.dtype in _FLOATS
        and x.flags.writeable
        and x.base is None
        and grad.base is None
        and grad is not x
    ):
        return False
    for _, a in arrays:
        if not (
            type(a) is np.ndarray
            and a.dtype is x.dtype
            and a.shape == x.shape
            and a.flags.writeable
            and a.base is None
            and a is not x
            and a is not grad
        ):
            return False
    if len(arrays) == 2:  # the common case, four times faster than a set
        return arrays[0][1] is not arrays[1][1]
    return len({id(a) for _, a in arrays}) == len(arrays)


def _check_step_slow(x, grad, arrays, state):
    _check_params(x)
    _check_writeable("x", x)
    grad_array = np.asarray(grad)
    if grad_array.shape != x.shape:
        raise ValueError(f"grad has shape {grad_array.shape}, expected {x.shape}.")
    if grad_array.dtype.kind not in "fiu":
        raise ValueError(f"grad must be real numbers, got dtype {grad_array.dtype}.")
    for name, a in arrays:
        if not isinstance(a, np.ndarray):
            raise ValueError(f"state.{name} must be an array, got {a!r}.")
        if a.shape != x.shape or a.dtype != x.dtype:
            raise ValueError(
                f"state was made for shape {a.shape} and dtype {a.dtype} "
                f"(state.{name}), got x with shape {x.shape} and dtype {x.dtype}."
            )
        _check_writeable(f"state.{name}", a)
    grad = np.asarray(grad_array, dtype=x.dtype)
    if grad is x or np.may_share_memory(grad, x):
        grad = grad.copy()  # the update writes x before it is done with g
    _check_no_overlap(arrays, x=x, grad=grad)
    return grad


def _check_out(out, x, grad, arrays):
    if type(out) is not np.ndarray or out.shape != x.shape or out.dtype != x.dtype:
        got = type(out).__name__
        if isinstance(out, np.ndarray):
            got += f" of shape {out.shape} and dtype {out.dtype}"
        raise ValueError(
            f"out must be a NumPy array of x's shape {x.shape} and dtype "
            f"{x.dtype}, got {got}."
        )
    _check_writeable("out", out)
    if out.base is None and x.base is None and grad.base is None and out is not grad:
        for _, a in arrays:  # (a loop: a step can take microseconds)
            if a is out:
                break
        else:
            return  # distinct arrays that own their memory cannot overlap
    if np.may_share_memory(out, x) or np.may_share_memory(out, grad):
        raise ValueError("out must not overlap x or grad; pass out=None to update x.")
    _check_no_overlap(arrays, out=out)


def _check_no_overlap(arrays, x=None, grad=None, out=None):
    """Refuse a state array that shares memory with another input of the step.

    The update writes each state array while it still reads ``x``, ``grad``,
    ``out`` and the other state arrays (``out=state.m`` would overwrite the
    moment with the new parameters): any overlap silently corrupts both.
    """
    others = {"x": x, "grad": grad, "out": out}
    values = [a for _, a in arrays]
    values += [a for a in others.values() if a is not None]
    if len({id(a) for a in values if a.base is None}) == len(values):
        return  # distinct arrays that own their memory cannot overlap
    named = [(f"state.{name}", a) for name, a in arrays]
    named += [(name, a) for name, a in others.items() if a is not None]
    for i, (name, a) in enumerate(named[: len(arrays)]):
        for other, b in named[i + 1 :]:
            if np.may_share_memory(a, b) and np.shares_memory(a, b):
                raise ValueError(
                    f"{other} must not overlap {name}: the step writes {name} "
                    f"while it still uses {other}. Give each its own memory "
                    "(init() or state.copy() for a state, another array for out)."
                )


class Adam(_Optimizer):
    """Adam hyperparameters and the in-place update rule (Algorithm 1).

    Parameters
    ----------
    learning_rate : float or callable, default=0.001
        Step size ``alpha``, ``> 0``, stored as a float (a NumPy number or a
        0-d array, as NumPy reductions return, counts as the number it holds,
        here and for the other real hyperparameters). A callable is a
        schedule (see :mod:`skadam` schedules such as
        :class:`WarmupCosineDecay`): it is called with the update number
        ``t`` (1 for the first update) and returns the step size, a finite
        float ``>= 0``.
    beta_1 : float, default=0.9
        Decay rate of the first-moment estimate, in ``[0, 1)``.
    beta_2 : float, default=0.999
        Decay rate of the second-moment estimate, in ``[0, 1)``.
    epsilon : float, default=1e-8
        Added to ``sqrt(v_hat)`` (outside the square root), ``>= 0``. With
        ``epsilon=0`` a coordinate whose gradients have all been zero gets
        ``0 / 0 = nan``, silently, with either backend (as in torch).
    bias_correction : bool, default=True
        Divide ``m`` and ``v`` by ``1 - beta**t``. ``False`` gives the
        uncorrected update ``x -= lr * m / (sqrt(v) + epsilon)``.
    amsgrad : bool, default=False
        Use the running maximum of ``v`` in the denominator (as torch does:
        the maximum of the raw ``v``, then bias-corrected).
    weight_decay : float, default=0.0
        Decay factor, ``>= 0``.
    decoupled_weight_decay : bool, default=False
        ``False``: coupled L2, ``g += weight_decay * x`` (``torch.optim.Adam``).
        ``True``: decoupled decay, ``x *= 1 - lr * weight_decay`` before the
        step (``torch.optim.AdamW``).
    max_grad_norm : float or None, default=None
        If set, ``> 0``: the gradient is first scaled by
        ``min(1, max_grad_norm / (||grad||_2 + 1e-6))``, its global L2 norm
        clipped as by ``torch.nn.utils.clip_grad_norm_`` (and, but for the
        ``1e-6``, optax's ``clip_by_global_norm``), before weight decay.
    backend : {"auto", "numpy", "numba"}, default="auto"
        ``"numpy"``: the reference update (:meth:`_numpy_update`).
        ``"numba"``: the same arithmetic compiled by numba, one pass over
        memory (``pip install '.[fast]'``; ImportError without numba;
        x, the state and ``out`` must be C-contiguous). ``"auto"``: numba when
        it is installed, ``x.size >= 20_000`` (``NUMBA_MIN_SIZE``) and the
        arrays are C-contiguous; NumPy otherwise. Both give the same results
        (to 1 ulp; in practice bit for bit).

    See Also
    --------
    AdamState : The state the update reads and writes.
    NAdam, RAdam, Adamax, ScheduleFreeAdamW : The other algorithms.
    adam_minimize : Adam as a :func:`scipy.optimize.minimize` method.

    Notes
    -----
    One step, Kingma & Ba (2014), Algorithm 1, with ``t`` the update number::

        g <- grad * min(1, max_grad_norm / (||grad|| + 1e-6))   (clipping)
        g <- g + weight_decay * x                  (coupled L2)
        x <- x * (1 - lr_t * weight_decay)         (decoupled, AdamW)
        m <- beta_1 * m + (1 - beta_1) * g
        v <- beta_2 * v + (1 - beta_2) * (g * g)
        v_max <- max(v_max, v)                     (AMSGrad; replaces v below)
        x <- x - (m / (sqrt(v) / sqrt(1 - beta_2**t) + epsilon))
                 * (lr_t / (1 - beta_1**t))

    which is ``x - lr_t * m_hat / (sqrt(v_hat) + epsilon)`` with the two bias
    corrections folded into scalars (exactly the arrangement of
    ``torch.optim.Adam``). Keras and scikit-learn's MLP use the "epsilon-hat"
    form ``x - lr_t * m / (sqrt(v) + epsilon)`` with
    ``lr_t = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)``. The two agree when
    their epsilon is ``epsilon * sqrt(1 - beta_2**t)``: so the same value of
    epsilon weighs more in the epsilon-hat form early on (as much as
    ``epsilon / sqrt(1 - beta_2**t)`` here), and the two forms converge as
    ``t`` grows.

    The NumPy backend allocates one temporary of ``x``'s size per step (two
    with clipping or coupled L2, one more when ``grad`` is not of ``x``'s
    dtype); the numba backend allocates none.

    A gradient entry whose square overflows (``|g|`` above about 1.3e154 in
    float64, 1.8e19 in float32) makes ``v`` infinite, and every later step
    of that entry ``m / inf = 0``: it stops moving, with no error (a NumPy
    ``RuntimeWarning`` only). The step keeps this arithmetic, as
    ``torch.optim.Adam`` does (from a gradient about 32 times larger: it
    multiplies by ``1 - beta_2`` first); :func:`adam_minimize` stops such a
    run with status 2 and the estimators with a ``ConvergenceWarning``. A
    loop of your own can test ``np.isfinite(state.v).all()``, or rescale
    the problem: the steps do not depend on the gradient's scale.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam import Adam
    >>> adam = Adam(learning_rate=0.1)
    >>> x = np.array([3.0, 4.0])
    >>> state = adam.init(x)
    >>> for _ in range(200):
    ...     _ = adam.step(x, 2 * x, state)   # gradient of ||x||^2
    >>> bool(np.all(np.abs(x) < 0.05)), state.step
    (True, 200)
    """

    _state_class = AdamState

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        *,
        bias_correction=True,
        amsgrad=False,
        weight_decay=0.0,
        decoupled_weight_decay=False,
        max_grad_norm=None,
        backend="auto",
    ):
        self._set_common(
            learning_rate, epsilon, weight_decay, max_grad_norm, beta_1=beta_1,
            beta_2=beta_2,
        )  # fmt: skip
        self.bias_correction = _check_flag("bias_correction", bias_correction)
        self.amsgrad = _check_flag("amsgrad", amsgrad)
        self.decoupled_weight_decay = _check_flag(
            "decoupled_weight_decay", decoupled_weight_decay
        )
        self.backend = _check_backend(backend)

    def _initial_arrays(self, x):
        arrays = {"m": np.zeros_like(x), "v": np.zeros_like(x)}
        if self.amsgrad:
            arrays["v_max"] = np.zeros_like(x)
        return arrays

    def step(self, x, grad, state, out=None):
        """Take one Adam step, updating ``x`` (or ``out``) and ``state`` in place.

        Every input is checked before anything is written: on a ValueError,
        ``x``, ``out`` and ``state`` are unchanged.

        Parameters
        ----------
        x : ndarray of float32 or float64
            Parameters, updated in place unless ``out`` is given.
        grad : array-like
            Gradient at ``x``, same shape; converted to ``x``'s dtype. It is
            not modified.
        state : AdamState
            State from :meth:`init` (or a saved one), updated in place.
        out : ndarray, optional
            Array of ``x``'s shape and dtype, not overlapping ``x``, ``grad``
            or the state's arrays, that receives the updated parameters; ``x``
            is then left unchanged. This saves a copy when the previous
            iterate must be kept.

        Returns
        -------
        x : ndarray
            The updated parameters: ``out`` if given, else the ``x`` passed
            in, for chaining.

        Raises
        ------
        ValueError
            If ``x``, ``grad``, ``out`` or ``state`` do not match, an array to
            be written is read-only, a state array shares memory with ``x``,
            ``grad``, ``out`` or another state array, the schedule returns a
            bad value, or ``backend="numba"`` gets arrays that are not
            C-contiguous.
        """
        grad, t, lr = self._check_step(x, grad, state, None if out is x else out)
        return self._advance(x, grad, state, t, lr, out)

    def _advance(self, x, grad, state, t, lr, out=None):
        """The update of :meth:`step` on checked inputs (see ``_step_unchecked``)."""
        if self._use_numba(x, state, out):
            self._numba_update(x, grad, state, lr, t, out)
        else:
            if out is not None and out is not x:
                np.copyto(out, x)
                x = out
            if self.epsilon == 0.0:
                # 0 / 0 where v is 0: nan, as from the numba kernel, no warning.
                with np.errstate(divide="ignore", invalid="ignore"):
                    self._numpy_update(x, grad, state, lr, t)
            else:
                self._numpy_update(x, grad, state, lr, t)
        state.step = t
        return x if out is None else out

    def _numpy_update(self, x, grad, state, lr, t):
        """Kingma & Ba (2014), Algorithm 1, one step in place, in its order.

        ``w`` is the step's one temporary; ``g`` is ``grad`` unless clipping
        or coupled L2 makes a new array. Folded as torch.optim.Adam folds it.
        """
        b1, b2, wd = self.beta_1, self.beta_2, self.weight_decay
        m, v = state.m, state.v
        g = grad
        if self.max_grad_norm is not None:
            g = self._clipped(grad)  # clip_by_global_norm, before anything else
        if wd and not self.decoupled_weight_decay:
            g = x * wd + g  # coupled L2: the gradient of f + wd/2 ||x||^2
        if wd and self.decoupled_weight_decay:
            x *= 1.0 - lr * wd  # AdamW (Loshchilov & Hutter 2019, Alg. 2)
        w = np.empty_like(x)
        m *= b1  # m_t = b1 m_{t-1} + (1 - b1) g_t
        m += np.multiply(g, 1.0 - b1, out=w)
        v *= b2  # v_t = b2 v_{t-1} + (1 - b2) g_t^2
        np.multiply(g, g, out=w)
        w *= 1.0 - b2
        v += w
        if self.amsgrad:  # Reddi et al. (2018): the maximum of the raw v_t
            v = np.maximum(state.v_max, v, out=state.v_max)
        c1, c2 = 1.0, 1.0
        if self.bias_correction:
            c1, c2 = 1.0 - b1**t, 1.0 - b2**t
        np.sqrt(v, out=w)  # w = sqrt(v_hat) + eps
        if c2 != 1.0:  # (dividing by 1 changes nothing)
            w /= math.sqrt(c2)
        w += self.epsilon
        np.divide(m, w, out=w)  # x_t = x_{t-1} - lr m_hat / (sqrt(v_hat) + eps)
        w *= lr / c1
        x -= w

    def step_size(self, state):
        """Return the per-coordinate step of the last update.

        ``eta = lr_t / (sqrt(v_hat_t) + epsilon)`` (``v_max`` under AMSGrad,
        ``v_hat = v`` without bias correction), so that the last
        :meth:`step` was ``x <- x - eta * m_hat`` (before decoupled weight
        decay, if any). A proximal method applies a non-smooth penalty ``h``
        after the step as ``x <- prox_{eta h}(x)``, coordinate by
        coordinate: the preconditioned proximal gradient step of ProxGen
        (Yun, Lozano & Yang, NeurIPS 2021, eq. (3), with
        ``C_t = diag(sqrt(v_hat) + epsilon)``). The update itself does not
        change; this reads the state it left.

        Parameters
        ----------
        state : AdamState
            The state after at least one :meth:`step`.

        Returns
        -------
        eta : ndarray
            A new array of the parameters' shape and dtype, ``> 0``.

        Raises
        ------
        ValueError
            If ``state`` is not an :class:`AdamState` that has taken a step.

        Examples
        --------
        >>> import numpy as np
        >>> from skadam import Adam
        >>> adam = Adam(learning_rate=0.1, epsilon=0.0)
        >>> x = np.array([1.0, -1.0])
        >>> state = adam.init(x)
        >>> _ = adam.step(x, np.array([2.0, -0.5]), state)
        >>> adam.step_size(state).tolist()  # lr / |g| at the first step
        [0.05, 0.2]
        """
        if not isinstance(state, AdamState) or state.step < 1:
            raise ValueError(
                "step_size needs the AdamState of a run that has taken a step; "
                f"got {type(state).__name__} at step {getattr(state, 'step', None)}."
            )
        t = state.step
        v = state.v_max if self.amsgrad and state.v_max is not None else state.v
        c2 = 1.0 - self.beta_2**t if self.bias_correction else 1.0
        eta = np.sqrt(v)
        if c2 != 1.0:
            eta /= math.sqrt(c2)
        eta += self.epsilon
        return np.divide(self.learning_rate_at(t), eta, out=eta)

    def _use_numba(self, x, state, out):
        if self.backend == "numpy" or (
            self.backend == "auto" and x.size < NUMBA_MIN_SIZE
        ):
            return False
        arrays = [a for _, a in self._state_arrays(state)] + [x]
        contiguous = all(a.flags.c_contiguous for a in arrays) and (
            out is None or out.flags.c_contiguous
        )
        if self.backend == "numba":
            if not contiguous:
                raise ValueError(
                    "backend='numba' needs C-contiguous x, out and state arrays "
                    "(np.ascontiguousarray); backend='numpy' takes any layout."
                )
            return True
        return x.size >= NUMBA_MIN_SIZE and contiguous and _numba_installed()

    def _numba_update(self, x, grad, state, lr, t, out):
        """The same step, compiled: see :func:`skadam._numba.adam_step`."""
        from ._numba import adam_step  # numba is imported only when used

        out = None if out is x else out
        adam_step(x, grad, state.m, state.v, state.v_max, out,
                  self._kernel_scalars(grad, lr, t))  # fmt: skip

    def _lazy_compiled(self, x, grad, state, index):
        """The numba backend's lazy step: in place at ``index``, no gathers."""
        if not self._use_numba(x, state, None):
            return False
        grad = np.asarray(grad)
        shape = (*x.shape[:-1], len(index))
        if grad.shape != shape or grad.dtype.kind not in "fiu":
            raise ValueError(
                f"grad must be a real array of shape {shape}, got shape "
                f"{grad.shape} and dtype {grad.dtype}."
            )
        for name, a in self._state_arrays(state):
            _check_writeable(f"state.{name}", a)
        t = _check_step_count(state.step) + 1
        lr = self.learning_rate_at(t)
        grad = np.ascontiguousarray(grad, dtype=x.dtype)
        from ._numba import lazy_adam_step  # numba is imported only when used

        lazy_adam_step(x, grad, state.m, state.v, state.v_max, index,
                       self._kernel_scalars(grad, lr, t))  # fmt: skip
        state.step = t
        return True

    def _kernel_scalars(self, grad, lr, t):
        """The scalars of the compiled kernels (see :func:`skadam._numba.adam_step`)."""
        b1, b2, wd = self.beta_1, self.beta_2, self.weight_decay
        c1, c2 = 1.0, 1.0
        if self.bias_correction:
            c1, c2 = 1.0 - b1**t, 1.0 - b2**t
        decoupled = bool(wd) and self.decoupled_weight_decay
        return (b1, 1.0 - b1, b2, 1.0 - b2, self.epsilon, math.sqrt(c2),
                lr / c1, self._clip_scale(grad),
                wd if wd and not decoupled else None,
                1.0 - lr * wd if decoupled else None)  # fmt: skip

    def _state_arrays(self, state):
        arrays = [("m", state.m), ("v", state.v)]
        if self.amsgrad:
            if state.v_max is None:
                raise ValueError(
                    "amsgrad=True needs a state with v_max; use Adam.init."
                )
            arrays.append(("v_max", state.v_max))
        return arrays


_NUMBA = []  # [bool] once looked up


def _numba_installed():
    if not _NUMBA:
        _NUMBA.append(find_spec("numba") is not None)
    return _NUMBA[0]
