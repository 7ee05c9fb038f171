"""The Adam update rule and its state.

This module owns the update of Kingma & Ba (2014), Algorithm 1, and nothing else.
It imports only NumPy, so that people who write their own training loops can use
it directly::

    t      <- t + 1
    lr_t   <- learning_rate            (or learning_rate(t) for a schedule)
    g      <- grad + weight_decay * x  (coupled L2; skipped if decoupled)
    x      <- x * (1 - lr_t * weight_decay)  (decoupled, "AdamW")
    m      <- beta_1 * m + (1 - beta_1) * g
    v      <- beta_2 * v + (1 - beta_2) * g**2
    v_max  <- max(v_max, v)            (AMSGrad; v_max replaces v below)
    x      <- x - lr_t * m_hat / (sqrt(v_hat) + epsilon)

with ``m_hat = m / (1 - beta_1**t)`` and ``v_hat = v / (1 - beta_2**t)`` (both
skipped with ``bias_correction=False``).  Epsilon sits outside the square root,
as in ``torch.optim.Adam`` and ``optax.adam``.
"""

import math
from dataclasses import dataclass, field
from numbers import Real

import numpy as np

from ._fused import fused_step

__all__ = ["Adam", "AdamState"]


@dataclass
class AdamState:
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
    # Scratch space reused across steps so that a step allocates no d-sized
    # arrays; it carries no information and is not saved.
    _work: list = field(default_factory=list, repr=False, compare=False)

    def copy(self):
        """Return a deep copy of the state (scratch space excluded).

        Returns
        -------
        state : AdamState
            A new state whose arrays are copies of this one's.
        """
        return AdamState(**{k: _copy(v) for k, v in self.to_dict().items()})

    def to_dict(self):
        """Return the state as a dict of ``step``, ``m``, ``v`` and ``v_max``.

        ``v_max`` is omitted when it is ``None``, so the dict can be passed to
        :func:`numpy.savez` as it is.

        Returns
        -------
        d : dict
            The state's fields (the arrays themselves, not copies).
        """
        d = {"step": self.step, "m": self.m, "v": self.v}
        if self.v_max is not None:
            d["v_max"] = self.v_max
        return d

    @classmethod
    def from_dict(cls, d):
        """Rebuild a state from :meth:`to_dict` output (or an ``np.load`` file).

        Parameters
        ----------
        d : mapping
            Holds ``step``, ``m``, ``v`` and optionally ``v_max``.

        Returns
        -------
        state : AdamState
            A new state holding copies of the arrays.
        """
        v_max = d["v_max"] if "v_max" in d else None
        return cls(
            step=int(d["step"]),
            m=np.array(d["m"]),
            v=np.array(d["v"]),
            v_max=None if v_max is None else np.array(v_max),
        )

    def __getstate__(self):
        return self.to_dict()

    def __setstate__(self, d):
        self.__init__(**d)


def _copy(value):
    return value.copy() if isinstance(value, np.ndarray) else value


def _check_real(name, value, low, high, low_open=False, high_open=False):
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name} must be a real number, got {value!r}.")
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if too_low or too_high or not math.isfinite(value):
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        raise ValueError(f"{name} must be in {lo}{low}, {high}{hi}, got {value!r}.")


class Adam:
    """Adam hyperparameters and the in-place update rule (Algorithm 1).

    Parameters
    ----------
    learning_rate : float or callable, default=0.001
        Step size ``alpha``. A callable is a schedule: it is called with the
        step number ``t`` (1 for the first update) and returns the step size.
    beta_1 : float, default=0.9
        Decay rate of the first-moment estimate, in ``[0, 1)``.
    beta_2 : float, default=0.999
        Decay rate of the second-moment estimate, in ``[0, 1)``.
    epsilon : float, default=1e-8
        Added to ``sqrt(v_hat)`` (outside the square root), ``>= 0``.
    bias_correction : bool, default=True
        Divide ``m`` and ``v`` by ``1 - beta**t``. ``False`` gives the
        uncorrected update ``x -= lr * m / (sqrt(v) + epsilon)``.
    amsgrad : bool, default=False
        Use the running maximum of ``v`` in the denominator (as torch does:
        the maximum of the raw ``v``, then bias-corrected).
    weight_decay : float, default=0.0
        L2 penalty factor, ``>= 0``.
    decoupled_weight_decay : bool, default=False
        ``False``: coupled L2, ``grad += weight_decay * x`` (``torch.optim.Adam``).
        ``True``: decoupled decay, ``x *= 1 - lr * weight_decay`` before the
        step (``torch.optim.AdamW``).

    See Also
    --------
    AdamState : The state the update reads and writes.
    adam_minimize : Adam as a :func:`scipy.optimize.minimize` method.

    Notes
    -----
    The update, with ``t`` the step number after increment::

        m <- beta_1 * m + (1 - beta_1) * g
        v <- beta_2 * v + (1 - beta_2) * (g * g)
        x <- x - (m / (sqrt(v) / sqrt(1 - beta_2**t) + epsilon))
                 * (lr / (1 - beta_1**t))

    which is Algorithm 1 of Kingma & Ba (2014), ``x - lr * m_hat / (sqrt(v_hat) +
    epsilon)``, with the two bias corrections folded into scalars (exactly the
    arrangement of ``torch.optim.Adam``). Keras and scikit-learn's MLP use the
    "epsilon-hat" form ``x - lr_t * m / (sqrt(v) + epsilon)`` with
    ``lr_t = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)``. The two agree when
    their epsilon is ``epsilon * sqrt(1 - beta_2**t)``: so the same value of
    epsilon weighs more in the epsilon-hat form early on (as much as
    ``epsilon / sqrt(1 - beta_2**t)`` here), and the two forms converge as
    ``t`` grows.

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
    ):
        if not callable(learning_rate):
            _check_real("learning_rate", learning_rate, 0, math.inf, low_open=True)
        _check_real("beta_1", beta_1, 0, 1, high_open=True)
        _check_real("beta_2", beta_2, 0, 1, high_open=True)
        _check_real("epsilon", epsilon, 0, math.inf)
        _check_real("weight_decay", weight_decay, 0, math.inf)
        self.learning_rate = learning_rate
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self.bias_correction = bool(bias_correction)
        self.amsgrad = bool(amsgrad)
        self.weight_decay = float(weight_decay)
        self.decoupled_weight_decay = bool(decoupled_weight_decay)

    def __repr__(self):
        names = [
            "learning_rate",
            "beta_1",
            "beta_2",
            "epsilon",
            "bias_correction",
            "amsgrad",
            "weight_decay",
            "decoupled_weight_decay",
        ]
        return f"Adam({', '.join(f'{n}={getattr(self, n)!r}' for n in names)})"

    def init(self, x):
        """Return a fresh :class:`AdamState` for parameters shaped like ``x``.

        Parameters
        ----------
        x : ndarray of float32 or float64
            The parameters the state will update.

        Returns
        -------
        state : AdamState
            Zero moments of ``x``'s shape and dtype, ``step=0``.
        """
        x = _check_params(x)
        return AdamState(
            step=0,
            m=np.zeros_like(x),
            v=np.zeros_like(x),
            v_max=np.zeros_like(x) if self.amsgrad else None,
        )

    def learning_rate_at(self, t):
        """Return the step size for step number ``t`` (1-based), validated.

        Parameters
        ----------
        t : int
            Step number, 1 for the first update.

        Returns
        -------
        learning_rate : float
            ``learning_rate``, or ``learning_rate(t)`` for a schedule.
        """
        lr = self.learning_rate
        if callable(lr):
            lr = lr(t)
            _check_real(f"learning_rate({t})", lr, 0, math.inf)
        return float(lr)

    def step(self, x, grad, state, out=None):
        """Take one Adam step, updating ``x`` (or ``out``) and ``state`` in place.

        Parameters
        ----------
        x : ndarray of float32 or float64
            Parameters, updated in place unless ``out`` is given.
        grad : array-like
            Gradient at ``x``, same shape. It is not modified.
        state : AdamState
            State from :meth:`init` (or a saved one), updated in place.
        out : ndarray, optional
            Array of ``x``'s shape and dtype, not overlapping ``x`` or
            ``grad``, that receives the updated parameters; ``x`` is then left
            unchanged. This saves a copy when the previous iterate must be kept.

        Returns
        -------
        x : ndarray
            The updated parameters: ``out`` if given, else the ``x`` passed
            in, for chaining.
        """
        _check_step_args(x, grad, state, self.amsgrad)
        if out is None:
            out = x
        elif out is not x:
            _check_out(out, x, grad)
        t = state.step + 1
        lr = self.learning_rate_at(t)
        c1, c2 = 1.0, 1.0
        if self.bias_correction:
            c1, c2 = 1.0 - self.beta_1**t, 1.0 - self.beta_2**t
        if not self._fused_step(x, grad, state, lr, c1, c2, out):
            if out is not x:
                np.copyto(out, x)
            self._numpy_step(out, grad, state, lr, c1, c2)
        state.step = t
        return out

    def _numpy_step(self, x, grad, state, lr, c1, c2):
        """The reference update in NumPy, in place, through scratch buffers."""
        w, g = _work_buffers(state, x, grad, need_grad_copy=self._coupled_decay)
        if self._coupled_decay:
            np.multiply(x, self.weight_decay, out=g)
            g += grad
            grad = g
        elif self.weight_decay and self.decoupled_weight_decay:
            x *= 1.0 - lr * self.weight_decay
        _update_moments(state, grad, w, self.beta_1, self.beta_2)
        denom_source = state.v
        if self.amsgrad:
            np.maximum(state.v_max, state.v, out=state.v_max)
            denom_source = state.v_max
        # denom = sqrt(v) / sqrt(c2) + eps; x -= (m / denom) * (lr / c1)
        np.sqrt(denom_source, out=w)
        if c2 != 1.0:
            w /= math.sqrt(c2)
        w += self.epsilon
        np.divide(state.m, w, out=w)
        w *= lr / c1
        x -= w

    def _fused_step(self, x, grad, state, lr, c1, c2, out):
        """The same update in one pass (see skadam._fused); False if not used."""
        b1, b2, wd = self.beta_1, self.beta_2, self.weight_decay
        decoupled = bool(wd) and self.decoupled_weight_decay
        scalars = (b1, 1.0 - b1, b2, 1.0 - b2, self.epsilon, math.sqrt(c2), lr / c1,
                   wd if self._coupled_decay else None,
                   1.0 - lr * wd if decoupled else None)  # fmt: skip
        v_max = state.v_max if self.amsgrad else None
        out = None if out is x else out
        return fused_step(x, grad, state.m, state.v, v_max, out, scalars)

    @property
    def _coupled_decay(self):
        return bool(self.weight_decay) and not self.decoupled_weight_decay


def _update_moments(state, grad, w, beta_1, beta_2):
    """m <- b1 m + (1-b1) g and v <- b2 v + (1-b2) g*g, in place, via ``w``."""
    state.m *= beta_1
    np.multiply(grad, 1.0 - beta_1, out=w)
    state.m += w
    state.v *= beta_2
    np.multiply(grad, grad, out=w)
    w *= 1.0 - beta_2
    state.v += w


def _work_buffers(state, x, grad, need_grad_copy):
    """Return the scratch arrays ``(w, g)`` (``g`` is None unless needed)."""
    n = 2 if need_grad_copy else 1
    work = state._work
    if len(work) < n or work[0].shape != x.shape or work[0].dtype != x.dtype:
        work[:] = [np.empty_like(x) for _ in range(n)]
    return work[0], (work[1] if need_grad_copy else None)


def _check_params(x):
    if not isinstance(x, np.ndarray) or x.dtype not in (np.float32, np.float64):
        raise ValueError(
            "Adam updates parameters in place: x must be a float32 or float64 "
            f"NumPy array, got {type(x).__name__}"
            f"{' of dtype ' + str(x.dtype) if isinstance(x, np.ndarray) else ''}."
        )
    return x


def _check_step_args(x, grad, state, amsgrad):
    m = state.m
    if (
        type(x) is np.ndarray
        and type(grad) is np.ndarray
        and grad.shape == x.shape == m.shape
        and x.dtype is m.dtype
        and (state.v_max is not None or not amsgrad)
    ):
        return  # the common case, checked cheaply: steps can be microseconds
    _check_params(x)
    if np.shape(grad) != x.shape:
        raise ValueError(f"grad has shape {np.shape(grad)}, expected {x.shape}.")
    if m.shape != x.shape or m.dtype != x.dtype:
        raise ValueError(
            f"state was made for shape {m.shape} and dtype {m.dtype}, "
            f"got x with shape {x.shape} and dtype {x.dtype}."
        )
    if amsgrad and state.v_max is None:
        raise ValueError("amsgrad=True needs a state with v_max; use Adam.init.")


def _check_out(out, x, grad):
    if type(out) is not np.ndarray or out.shape != x.shape or out.dtype != x.dtype:
        got = type(out).__name__
        if isinstance(out, np.ndarray):
            got += f" of shape {out.shape} and dtype {out.dtype}"
        raise ValueError(
            f"out must be a NumPy array of x's shape {x.shape} and dtype "
            f"{x.dtype}, got {got}."
        )
    owners = out.base is None and x.base is None and getattr(grad, "base", 0) is None
    if owners and out is not grad:
        return  # distinct arrays that own their memory cannot overlap
    if np.may_share_memory(out, x) or np.may_share_memory(out, grad):
        raise ValueError("out must not overlap x or grad; pass out=None to update x.")
