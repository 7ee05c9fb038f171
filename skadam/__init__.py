"""skadam: Adam, from scratch in NumPy, for SciPy and scikit-learn users.

Three ways in:

- :func:`adam_minimize` / :class:`AdamMinimizer`: a ``scipy.optimize.minimize``
  method, ``minimize(f, x0, method=adam_minimize)``.
- :class:`AdamLinearRegressor` / :class:`AdamLogisticClassifier`: scikit-learn
  estimators trained with skadam's own Adam.
- :class:`Adam` / :class:`AdamState`: the update rule and its state, for your
  own training loops.
"""

from ._adam import Adam, AdamState
from ._linear_model import AdamLinearRegressor, AdamLogisticClassifier
from ._minimize import AdamMinimizer, adam_minimize
from ._optimizers import (
    Adamax,
    AdamaxState,
    NAdam,
    NAdamState,
    RAdam,
    RAdamState,
    ScheduleFreeAdamW,
    ScheduleFreeState,
    make_optimizer,
)
from ._schedules import (
    ConstantSchedule,
    ExponentialDecay,
    InverseTimeDecay,
    LinearWarmup,
    WarmupCosineDecay,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "Adam",
    "AdamLinearRegressor",
    "AdamLogisticClassifier",
    "AdamMinimizer",
    "AdamState",
    "Adamax",
    "AdamaxState",
    "ConstantSchedule",
    "ExponentialDecay",
    "InverseTimeDecay",
    "LinearWarmup",
    "NAdam",
    "NAdamState",
    "RAdam",
    "RAdamState",
    "ScheduleFreeAdamW",
    "ScheduleFreeState",
    "WarmupCosineDecay",
    "adam_minimize",
    "make_optimizer",
]
