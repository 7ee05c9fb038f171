"""Learning-rate schedules: small callables of the 1-based update count ``t``.

A schedule is passed wherever a learning rate is (``Adam(learning_rate=...)``
and the other algorithms): the optimizer calls it with ``t = 1`` for the first
update. Schedules are plain objects: they pickle, compare equal when their
parameters are equal, and print as the call that makes them, so scikit-learn's
``clone`` and ``GridSearchCV`` handle them like any other parameter value.

Each follows an optax or torch counterpart, with optax's 0-based ``count`` (and
torch's scheduler epoch) equal to ``t - 1``: ``schedule(t)`` is the rate torch
uses for update ``t`` after ``t - 1`` calls of ``scheduler.step()``.
"""

import inspect
import math
from numbers import Integral

from ._adam import _check_real, _number

__all__ = [
    "ConstantSchedule",
    "ExponentialDecay",
    "InverseTimeDecay",
    "LinearWarmup",
    "WarmupCosineDecay",
]


class _Schedule:
    """Validation of ``t``, repr, equality and hashing from the constructor."""

    def __call__(self, t):
        if isinstance(t, bool) or not isinstance(t, Integral) or t < 1:
            raise ValueError(f"t must be an update count, an int >= 1, got {t!r}.")
        return float(self._value(int(t) - 1))

    def _params(self):
        names = inspect.signature(type(self)).parameters
        return {name: getattr(self, name) for name in names}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return self._params() == other._params()

    def __hash__(self):
        return hash((type(self).__name__, *self._params().values()))


def _check_steps(name, value, low):
    value = _number(value)  # a 0-d array counts as its number
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}.")
    return int(value)


class ConstantSchedule(_Schedule):
    """The same learning rate at every update (optax's ``constant_schedule``).

    Parameters
    ----------
    value : float
        The learning rate, finite and ``>= 0``.

    See Also
    --------
    InverseTimeDecay : A rate that decreases as ``t**-power``.

    Examples
    --------
    >>> from skadam import ConstantSchedule
    >>> ConstantSchedule(0.01)(1000)
    0.01
    """

    def __init__(self, value):
        self.value = _check_real("value", value, 0)

    def _value(self, k):
        return self.value


class InverseTimeDecay(_Schedule):
    """``init_value / t**power``: scikit-learn's ``learning_rate="invscaling"``.

    Parameters
    ----------
    init_value : float
        The rate of the first update (``eta0``), finite and ``>= 0``.
    power : float, default=0.5
        The exponent (``power_t``), finite and ``>= 0``.

    See Also
    --------
    ExponentialDecay : A geometric decrease.

    Notes
    -----
    Equals ``torch.optim.lr_scheduler.LambdaLR`` with
    ``lambda k: 1 / (k + 1)**power``. With ``power=0.5`` it is the
    ``alpha / sqrt(t)`` of Kingma & Ba (2014), Section 4.

    Examples
    --------
    >>> from skadam import InverseTimeDecay
    >>> InverseTimeDecay(0.1, power=0.5)(4)
    0.05
    """

    def __init__(self, init_value, power=0.5):
        self.init_value = _check_real("init_value", init_value, 0)
        self.power = _check_real("power", power, 0)

    def _value(self, k):
        return self.init_value / (k + 1) ** self.power


class ExponentialDecay(_Schedule):
    """``init_value * decay_rate**(t - 1)``: torch's ``ExponentialLR``.

    Parameters
    ----------
    init_value : float
        The rate of the first update, finite and ``>= 0``.
    decay_rate : float
        The factor per update (torch's ``gamma``), in ``(0, 1]``.

    See Also
    --------
    WarmupCosineDecay : Warmup, then a cosine decay to a floor.

    Notes
    -----
    optax's ``exponential_decay(init_value, transition_steps=1, decay_rate)``.

    Examples
    --------
    >>> from skadam import ExponentialDecay
    >>> ExponentialDecay(1.0, decay_rate=0.5)(3)
    0.25
    """

    def __init__(self, init_value, decay_rate):
        self.init_value = _check_real("init_value", init_value, 0)
        self.decay_rate = _check_real("decay_rate", decay_rate, 0, 1, True, False)

    def _value(self, k):
        return self.init_value * self.decay_rate**k


class LinearWarmup(_Schedule):
    """A linear ramp from ``init_value`` to ``peak_value``, then constant.

    Parameters
    ----------
    peak_value : float
        The rate from update ``warmup_steps + 1`` on, finite and ``>= 0``.
    warmup_steps : int
        Length of the ramp in updates, ``>= 1``.
    init_value : float, default=0.0
        The rate of the first update, finite and ``>= 0``.

    See Also
    --------
    WarmupCosineDecay : The same ramp followed by a cosine decay.

    Notes
    -----
    ``init_value + (peak_value - init_value) * min(t - 1, warmup_steps) /
    warmup_steps``: optax's ``linear_schedule(init_value, peak_value,
    warmup_steps)`` and torch's ``LinearLR(start_factor=init_value /
    peak_value, total_iters=warmup_steps)``. As there, the first update uses
    ``init_value`` (0 by default: that update only fills the moments).

    Examples
    --------
    >>> from skadam import LinearWarmup
    >>> w = LinearWarmup(1.0, warmup_steps=4)
    >>> [w(t) for t in range(1, 7)]
    [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    """

    def __init__(self, peak_value, warmup_steps, init_value=0.0):
        self.peak_value = _check_real("peak_value", peak_value, 0)
        self.warmup_steps = _check_steps("warmup_steps", warmup_steps, 1)
        self.init_value = _check_real("init_value", init_value, 0)

    def _value(self, k):
        frac = min(k, self.warmup_steps) / self.warmup_steps
        return self.init_value + (self.peak_value - self.init_value) * frac


class WarmupCosineDecay(_Schedule):
    """Linear warmup to ``peak_value``, then a half cosine down to ``end_value``.

    Parameters
    ----------
    peak_value : float
        The rate at the end of the warmup, finite and ``>= 0``.
    warmup_steps : int
        Length of the linear warmup in updates, ``>= 0``.
    decay_steps : int
        Total length, warmup included (as optax counts it), ``> warmup_steps``;
        from update ``decay_steps + 1`` on the rate stays at ``end_value``.
    init_value : float, default=0.0
        The rate of the first update, finite and ``>= 0``.
    end_value : float, default=0.0
        The final rate, finite and ``>= 0``.

    See Also
    --------
    LinearWarmup : The warmup alone.
    skadam.ScheduleFreeAdamW : Removes the need for a decay schedule.

    Notes
    -----
    With ``k = t - 1`` and ``D = decay_steps - warmup_steps``: the linear
    ramp of :class:`LinearWarmup` for ``k < warmup_steps``, then, with
    ``j = min(k - warmup_steps, D)``,
    ``end_value + (peak_value - end_value) * (1 + cos(pi * j / D)) / 2``.
    This is optax's ``warmup_cosine_decay_schedule`` and, over the first
    ``decay_steps + 1`` updates, torch's ``SequentialLR`` of ``LinearLR`` and
    ``CosineAnnealingLR(T_max=D, eta_min=end_value)`` (which rises again
    after ``T_max``, where this one stays at ``end_value``). Loshchilov &
    Hutter (2017), "SGDR", give the cosine; Goyal et al. (2017) the warmup.

    Examples
    --------
    >>> from skadam import WarmupCosineDecay
    >>> s = WarmupCosineDecay(1.0, warmup_steps=2, decay_steps=6)
    >>> [round(s(t), 3) for t in range(1, 9)]
    [0.0, 0.5, 1.0, 0.854, 0.5, 0.146, 0.0, 0.0]
    """

    def __init__(
        self, peak_value, warmup_steps, decay_steps, init_value=0.0, end_value=0.0
    ):
        self.peak_value = _check_real("peak_value", peak_value, 0)
        self.warmup_steps = _check_steps("warmup_steps", warmup_steps, 0)
        self.decay_steps = _check_steps("decay_steps", decay_steps, warmup_steps + 1)
        self.init_value = _check_real("init_value", init_value, 0)
        self.end_value = _check_real("end_value", end_value, 0)

    def _value(self, k):
        warmup, peak, end = self.warmup_steps, self.peak_value, self.end_value
        if k < warmup:
            return self.init_value + (peak - self.init_value) * k / warmup
        span = self.decay_steps - warmup
        j = min(k - warmup, span)
        return end + (peak - end) * (1.0 + math.cos(math.pi * j / span)) / 2.0
