"""The Adam family beyond Adam: NAdam, RAdam, Adamax and schedule-free AdamW.

Each algorithm is a small class with the protocol of :class:`skadam.Adam`
(``init``, ``step``, ``eval_params``, ``objective_gradient``,
``learning_rate_at``) and its own state record; its update is written once,
in NumPy, in the order of its paper's algorithm box, and is tested step for
step against torch's implementation (``torch.optim.NAdam``, ``RAdam``,
``Adamax``) or the ``schedulefree`` package's ``AdamWScheduleFree``.
:func:`make_optimizer` builds one by name.
"""

import dataclasses
import inspect
import math
from numbers import Integral

import numpy as np

from ._adam import Adam, OptimizerState, _check_flag, _check_real, _number
from ._adam import _Optimizer as _AdamOptimizer

__all__ = [
    "ALGORITHMS",
    "Adamax",
    "AdamaxState",
    "NAdam",
    "NAdamState",
    "RAdam",
    "RAdamState",
    "ScheduleFreeAdamW",
    "ScheduleFreeState",
    "make_optimizer",
]


class _Optimizer(_AdamOptimizer):
    """A protocol class whose ``step`` validates, clips, then runs ``_update``."""

    def step(self, x, grad, state):
        """Take one step, updating ``x`` and ``state`` in place.

        Every input is checked before anything is written: on a ValueError,
        ``x`` and ``state`` are unchanged.

        Parameters
        ----------
        x : ndarray of float32 or float64
            Parameters, updated in place.
        grad : array-like
            Gradient at ``x``, same shape; converted to ``x``'s dtype, not
            modified.
        state : OptimizerState
            State from :meth:`init`, updated in place.

        Returns
        -------
        x : ndarray
            The ``x`` passed in, for chaining.

        Raises
        ------
        ValueError
            If ``x``, ``grad`` or ``state`` do not match, an array to be
            written is read-only, a state array shares memory with ``x``,
            ``grad`` or another state array, or the schedule returns a bad
            value.
        """
        grad, t, lr = self._check_step(x, grad, state)
        return self._advance(x, grad, state, t, lr)

    def _advance(self, x, grad, state, t, lr):
        """The update of :meth:`step` on checked inputs (see ``_step_unchecked``)."""
        g = self._clipped(grad)
        if self.epsilon == 0.0:
            # 0 / 0 where nothing has been seen yet: nan, as in torch, silently.
            with np.errstate(divide="ignore", invalid="ignore"):
                self._update(x, g, state, lr, t)
        else:
            self._update(x, g, state, lr, t)
        state.step = t
        return x

    def _weight_decay(self, x, g, lr):
        """Coupled L2 (returned in ``g``) or decoupled decay (applied to ``x``)."""
        wd = self.weight_decay
        if wd and not self.decoupled_weight_decay:
            return x * wd + g
        if wd:
            x *= 1.0 - lr * wd
        return g


# --------------------------------------------------------------------- NAdam


@dataclasses.dataclass
class NAdamState(OptimizerState):
    """The state of one :class:`NAdam` run.

    Parameters
    ----------
    step : int
        Updates taken so far.
    m, v : ndarray
        First and second raw-moment estimates, of the parameters' shape and dtype.
    mu_product : float, default=1.0
        Product of the momentum coefficients ``mu_1 ... mu_t`` so far.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam import NAdam
    >>> NAdam().init(np.zeros(2)).mu_product
    1.0
    """

    _scalars = ("mu_product",)

    step: int
    m: np.ndarray
    v: np.ndarray
    mu_product: float = 1.0


class NAdam(_Optimizer):
    """Adam with Nesterov momentum (Dozat, 2016), as ``torch.optim.NAdam``.

    Parameters
    ----------
    learning_rate : float or callable, default=0.002
        Step size, ``> 0``, or a schedule of the update number ``t``.
    beta_1, beta_2 : float, default=0.9, 0.999
        Decay rates of the moments, in ``[0, 1)``.
    epsilon : float, default=1e-8
        Added to ``sqrt(v_hat)``, ``>= 0``.
    momentum_decay : float, default=0.004
        ``psi`` of the momentum schedule ``mu_t = beta_1 (1 - 0.96**(t psi) / 2)``,
        ``>= 0`` (torch's ``momentum_decay``).
    weight_decay : float, default=0.0
        Decay factor, ``>= 0``, coupled (L2) or decoupled.
    decoupled_weight_decay : bool, default=False
        ``True``: ``x *= 1 - lr * weight_decay`` before the step (NAdamW).
    max_grad_norm : float or None, default=None
        Clip the gradient's global L2 norm first (see :class:`Adam`).

    See Also
    --------
    Adam : The same protocol and the other shared parameters.

    Notes
    -----
    Dozat (2016), "Incorporating Nesterov Momentum into Adam", Algorithm 2,
    with torch's momentum schedule. Update number ``t``::

        mu_t = beta_1 (1 - 0.5 * 0.96**(t psi)),  prod_t = mu_1 ... mu_t
        m <- beta_1 m + (1 - beta_1) g;   v <- beta_2 v + (1 - beta_2) g**2
        d = sqrt(v / (1 - beta_2**t)) + epsilon
        x <- x - lr (1 - mu_t) / (1 - prod_t) * g / d
               - lr mu_{t+1} / (1 - prod_t mu_{t+1}) * m / d

    Examples
    --------
    >>> import numpy as np
    >>> from skadam import NAdam
    >>> opt = NAdam(learning_rate=0.1)
    >>> x = np.array([3.0, 4.0])
    >>> state = opt.init(x)
    >>> for _ in range(200):
    ...     _ = opt.step(x, 2 * x, state)
    >>> bool(np.all(np.abs(x) < 0.1))
    True
    """

    _state_class = NAdamState

    def __init__(self, learning_rate=0.002, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 *, momentum_decay=0.004, weight_decay=0.0,
                 decoupled_weight_decay=False, max_grad_norm=None):  # fmt: skip
        self._set_common(learning_rate, epsilon, weight_decay, max_grad_norm,
                         beta_1=beta_1, beta_2=beta_2)  # fmt: skip
        self.momentum_decay = _check_real("momentum_decay", momentum_decay, 0)
        self.decoupled_weight_decay = _check_flag(
            "decoupled_weight_decay", decoupled_weight_decay
        )

    def _update(self, x, g, state, lr, t):
        """Dozat (2016), Algorithm 2, with torch's ``mu_t`` schedule."""
        b1, b2, psi = self.beta_1, self.beta_2, self.momentum_decay
        g = self._weight_decay(x, g, lr)
        mu = b1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
        state.mu_product *= mu
        state.m *= b1
        state.m += (1.0 - b1) * g
        state.v *= b2
        state.v += (1.0 - b2) * (g * g)
        denom = np.sqrt(state.v / (1.0 - b2**t))
        denom += self.epsilon
        x -= (lr * (1.0 - mu) / (1.0 - state.mu_product)) * (g / denom)
        x -= (lr * mu_next / (1.0 - state.mu_product * mu_next)) * (state.m / denom)


# --------------------------------------------------------------------- RAdam


@dataclasses.dataclass
class RAdamState(OptimizerState):
    """The state of one :class:`RAdam` run.

    Parameters
    ----------
    step : int
        Updates taken so far.
    m, v : ndarray
        First and second raw-moment estimates, of the parameters' shape and dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam import RAdam
    >>> RAdam().init(np.zeros(2)).step
    0
    """

    step: int
    m: np.ndarray
    v: np.ndarray


class RAdam(_Optimizer):
    """Rectified Adam (Liu et al., 2020), as ``torch.optim.RAdam``.

    Parameters
    ----------
    learning_rate : float or callable, default=0.001
        Step size, ``> 0``, or a schedule of the update number ``t``.
    beta_1, beta_2 : float, default=0.9, 0.999
        Decay rates of the moments, in ``[0, 1)``.
    epsilon : float, default=1e-8
        Added to ``sqrt(v)`` (uncorrected, as torch does), ``>= 0``.
    weight_decay : float, default=0.0
        Decay factor, ``>= 0``, coupled (L2) or decoupled.
    decoupled_weight_decay : bool, default=False
        ``True``: ``x *= 1 - lr * weight_decay`` before the step.
    max_grad_norm : float or None, default=None
        Clip the gradient's global L2 norm first (see :class:`Adam`).

    See Also
    --------
    Adam : The same protocol and the other shared parameters.

    Notes
    -----
    Liu et al. (2020), "On the Variance of the Adaptive Learning Rate and
    Beyond", Algorithm 2. With ``rho_inf = 2 / (1 - beta_2) - 1`` and
    ``rho_t = rho_inf - 2 t beta_2**t / (1 - beta_2**t)``, the adaptive step is
    taken only once its variance is tractable (``rho_t > 5``)::

        m_hat = m / (1 - beta_1**t)
        r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
        x <- x - lr m_hat r_t sqrt(1 - beta_2**t) / (sqrt(v) + epsilon)  if rho_t > 5
        x <- x - lr m_hat                                                otherwise

    Examples
    --------
    >>> import numpy as np
    >>> from skadam import RAdam
    >>> opt = RAdam(learning_rate=0.1)
    >>> x = np.array([3.0, -4.0])
    >>> opt.step(x, np.array([1.0, -1.0]), opt.init(x))  # rho_1 <= 5: x - lr g
    array([ 2.9, -3.9])
    """

    _state_class = RAdamState

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 *, weight_decay=0.0, decoupled_weight_decay=False,
                 max_grad_norm=None):  # fmt: skip
        self._set_common(learning_rate, epsilon, weight_decay, max_grad_norm,
                         beta_1=beta_1, beta_2=beta_2)  # fmt: skip
        self.decoupled_weight_decay = _check_flag(
            "decoupled_weight_decay", decoupled_weight_decay
        )

    def _update(self, x, g, state, lr, t):
        """Liu et al. (2020), Algorithm 2."""
        b1, b2 = self.beta_1, self.beta_2
        g = self._weight_decay(x, g, lr)
        state.m *= b1
        state.m += (1.0 - b1) * g
        state.v *= b2
        state.v += (1.0 - b2) * (g * g)
        c1, c2 = 1.0 - b1**t, 1.0 - b2**t
        m_hat = state.m / c1
        rho_inf = 2.0 / (1.0 - b2) - 1.0
        rho_t = rho_inf - 2.0 * t * b2**t / c2
        if rho_t > 5.0:
            rect = math.sqrt(
                (rho_t - 4) * (rho_t - 2) * rho_inf
                / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
            )  # fmt: skip
            x -= m_hat * lr * (math.sqrt(c2) / (np.sqrt(state.v) + self.epsilon)) * rect
        else:
            x -= m_hat * lr  # un-adapted momentum SGD while rho_t <= 5


# -------------------------------------------------------------------- Adamax


@dataclasses.dataclass
class AdamaxState(OptimizerState):
    """The state of one :class:`Adamax` run.

    Parameters
    ----------
    step : int
        Updates taken so far.
    m : ndarray
        First-moment estimate, of the parameters' shape and dtype.
    u : ndarray
        Exponentially weighted infinity norm of the gradients.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam import Adamax
    >>> Adamax().init(np.zeros(2)).u
    array([0., 0.])
    """

    step: int
    m: np.ndarray
    u: np.ndarray


class Adamax(_Optimizer):
    """Adam with the infinity norm (Kingma & Ba, 2014), as ``torch.optim.Adamax``.

    Parameters
    ----------
    learning_rate : float or callable, default=0.002
        Step size, ``> 0``, or a schedule of the update number ``t``.
    beta_1, beta_2 : float, default=0.9, 0.999
        Decay rates of the first moment and of the infinity norm, in ``[0, 1)``.
    epsilon : float, default=1e-8
        Added to ``|g|`` inside the maximum (as torch does), ``>= 0``.
    weight_decay : float, default=0.0
        Coupled L2 factor, ``>= 0`` (torch's Adamax has no decoupled form).
    max_grad_norm : float or None, default=None
        Clip the gradient's global L2 norm first (see :class:`Adam`).

    See Also
    --------
    Adam : The same protocol and the other shared parameters.

    Notes
    -----
    Kingma & Ba (2014), Algorithm 2 (Section 7.1)::

        g <- g + weight_decay * x
        m <- beta_1 m + (1 - beta_1) g
        u <- max(beta_2 u, |g| + epsilon)
        x <- x - lr / (1 - beta_1**t) * m / u

    Examples
    --------
    >>> import numpy as np
    >>> from skadam import Adamax
    >>> opt = Adamax(epsilon=0.0)
    >>> x = np.zeros(2)
    >>> state = opt.init(x)
    >>> _ = opt.step(x, np.array([0.5, -2.0]), state)
    >>> state.u  # the largest |g| so far, decayed by beta_2 each step
    array([0.5, 2. ])
    """

    _state_class = AdamaxState
    decoupled_weight_decay = False

    def __init__(self, learning_rate=0.002, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 *, weight_decay=0.0, max_grad_norm=None):  # fmt: skip
        self._set_common(learning_rate, epsilon, weight_decay, max_grad_norm,
                         beta_1=beta_1, beta_2=beta_2)  # fmt: skip

    def _update(self, x, g, state, lr, t):
        """Kingma & Ba (2014), Algorithm 2."""
        b1 = self.beta_1
        g = self._weight_decay(x, g, lr)
        state.m *= b1
        state.m += (1.0 - b1) * g
        state.u *= self.beta_2
        np.maximum(state.u, np.abs(g) + self.epsilon, out=state.u)
        x -= (lr / (1.0 - b1**t)) * (state.m / state.u)


# ------------------------------------------------------- schedule-free AdamW


@dataclasses.dataclass
class ScheduleFreeState(OptimizerState):
    """The state of one :class:`ScheduleFreeAdamW` run.

    Parameters
    ----------
    step : int
        Updates taken so far.
    z : ndarray
        The base sequence ``z`` of the paper (the plain AdamW iterates).
    v : ndarray
        Second raw-moment estimate.
    weight_sum : float, default=0.0
        Sum of the averaging weights so far.
    lr_max : float, default=0.0
        Largest (warmed-up) learning rate so far.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam import ScheduleFreeAdamW
    >>> y = np.ones(2)
    >>> ScheduleFreeAdamW().init(y).z
    array([1., 1.])
    """

    _scalars = ("weight_sum", "lr_max")

    step: int
    z: np.ndarray
    v: np.ndarray
    weight_sum: float = 0.0
    lr_max: float = 0.0


class ScheduleFreeAdamW(_Optimizer):
    """Schedule-free AdamW (Defazio et al., 2024): no schedule to tune.

    The optimizer steps the point ``y`` at which gradients are taken; the base
    sequence ``z`` and the averaging weights live in the state, and
    :meth:`eval_params` returns the averaged point ``x`` to evaluate and
    predict with. Equal step for step to ``schedulefree.AdamWScheduleFree``.

    Parameters
    ----------
    learning_rate : float or callable, default=0.0025
        Step size ``gamma``, ``> 0`` (a schedule is allowed but defeats the
        purpose).
    beta_1 : float, default=0.9
        Interpolation between ``z`` and ``x`` where gradients are taken, in
        ``(0, 1)``.
    beta_2 : float, default=0.999
        Decay rate of the second moment, in ``[0, 1)``.
    epsilon : float, default=1e-8
        Added to ``sqrt(v_hat)``, ``>= 0``.
    weight_decay : float, default=0.0
        Decoupled decay, ``>= 0``: ``weight_decay * y`` is added to the
        normalised gradient, as in the reference.
    warmup_steps : int, default=0
        Linear warmup: the step size is ``gamma * min(1, t / warmup_steps)``.
    r : float, default=0.0
        Polynomial weighting of the average, weights ``t**r``, ``>= 0``.
    weight_lr_power : float, default=2.0
        Weights also grow as ``lr_max**weight_lr_power``, ``>= 0``.
    max_grad_norm : float or None, default=None
        Clip the gradient's global L2 norm first (see :class:`Adam`).

    See Also
    --------
    Adam : AdamW is ``Adam(decoupled_weight_decay=True)``, with a schedule to tune.

    Notes
    -----
    Defazio et al. (2024), "The Road Less Scheduled", Algorithm 1, written on
    ``y = (1 - beta_1) z + beta_1 x``. Update ``t``, with ``gamma_t`` the
    warmed-up step size::

        v <- beta_2 v + (1 - beta_2) g**2
        d = g / (sqrt(v / (1 - beta_2**t)) + epsilon) + weight_decay * y
        w_t = t**r * max(gamma_1..gamma_t)**weight_lr_power
        c = w_t / (w_1 + ... + w_t)
        y <- (1 - c) y + c z + gamma_t (beta_1 (1 - c) - 1) d
        z <- z - gamma_t d

    and the averaged point is ``x = y + (1 - 1 / beta_1) (z - y)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam import ScheduleFreeAdamW
    >>> opt = ScheduleFreeAdamW(learning_rate=0.1)
    >>> y = np.array([3.0, 4.0])
    >>> state = opt.init(y)
    >>> for _ in range(300):
    ...     _ = opt.step(y, 2 * y, state)
    >>> x = opt.eval_params(y, state)
    >>> bool(np.all(np.abs(x) < 0.1))
    True
    """

    _state_class = ScheduleFreeState
    decoupled_weight_decay = True

    def __init__(self, learning_rate=0.0025, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 *, weight_decay=0.0, warmup_steps=0, r=0.0, weight_lr_power=2.0,
                 max_grad_norm=None):  # fmt: skip
        _check_real("beta_1", beta_1, 0, 1, low_open=True)  # eval_params / beta_1
        self._set_common(learning_rate, epsilon, weight_decay, max_grad_norm,
                         beta_1=beta_1, beta_2=beta_2)  # fmt: skip
        warmup_steps = _number(warmup_steps)
        if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, Integral):
            raise ValueError(f"warmup_steps must be an int >= 0, got {warmup_steps!r}.")
        self.warmup_steps = int(_check_real("warmup_steps", warmup_steps, 0))
        self.r = _check_real("r", r, 0)
        self.weight_lr_power = _check_real("weight_lr_power", weight_lr_power, 0)

    def _initial_arrays(self, x):
        return {"z": x.copy(), "v": np.zeros_like(x)}  # y = z = x at the start

    def eval_params(self, x, state):
        """Return the averaged point ``x`` of the paper, to evaluate and predict at.

        Parameters
        ----------
        x : ndarray
            The point ``y`` that :meth:`step` updates.
        state : ScheduleFreeState
            The state of the same run.

        Returns
        -------
        x_avg : ndarray
            A new array, ``y + (1 - 1 / beta_1) (z - y)``.
        """
        y = x
        return y + (1.0 - 1.0 / self.beta_1) * (state.z - y)

    def _update(self, y, g, state, lr, t):
        """Defazio et al. (2024), Algorithm 1, on ``y``."""
        b1, b2 = self.beta_1, self.beta_2
        if t <= self.warmup_steps:
            lr = lr * t / self.warmup_steps
        state.lr_max = max(lr, state.lr_max)
        weight = t**self.r * state.lr_max**self.weight_lr_power
        state.weight_sum += weight
        c = weight / state.weight_sum if state.weight_sum else 0.0
        state.v *= b2
        state.v += (1.0 - b2) * (g * g)
        d = g / (np.sqrt(state.v / (1.0 - b2**t)) + self.epsilon)
        if self.weight_decay:
            d += self.weight_decay * y  # decoupled: added after normalising
        y += c * (state.z - y)
        y += (lr * (b1 * (1.0 - c) - 1.0)) * d
        state.z -= lr * d


# ------------------------------------------------------------------ by name

ALGORITHMS = {
    "adam": Adam,
    "nadam": NAdam,
    "radam": RAdam,
    "adamax": Adamax,
    "schedulefree_adamw": ScheduleFreeAdamW,
}


def make_optimizer(algorithm, **hyperparameters):
    """Build the optimizer named ``algorithm`` with these hyperparameters.

    Parameters
    ----------
    algorithm : {"adam", "nadam", "radam", "adamax", "schedulefree_adamw"}
        A key of :data:`ALGORITHMS`.
    **hyperparameters
        Constructor arguments of that class (for example ``learning_rate``).

    Returns
    -------
    optimizer : Adam, NAdam, RAdam, Adamax or ScheduleFreeAdamW
        The configured optimizer.

    Raises
    ------
    ValueError
        If ``algorithm`` is unknown, a hyperparameter is not one that algorithm
        takes (``amsgrad`` with ``"nadam"``), or a value is invalid.

    Examples
    --------
    >>> from skadam import make_optimizer
    >>> make_optimizer("radam", learning_rate=0.01)
    RAdam(learning_rate=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-08, \
weight_decay=0.0, decoupled_weight_decay=False, max_grad_norm=None)
    """
    if not isinstance(algorithm, str) or algorithm not in ALGORITHMS:
        raise ValueError(
            f"algorithm must be one of {sorted(ALGORITHMS)}, got {algorithm!r}."
        )
    cls = ALGORITHMS[algorithm]
    accepted = inspect.signature(cls).parameters
    unknown = sorted(set(hyperparameters) - set(accepted))
    if unknown:
        raise ValueError(
            f"algorithm {algorithm!r} takes no {', '.join(unknown)}; it takes "
            f"{', '.join(accepted)}."
        )
    return cls(**hyperparameters)
