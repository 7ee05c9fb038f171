"""Why a run stopped: one vocabulary for the minimizer and the training loop.

:func:`skadam.adam_minimize` and the estimators' training loop both end with
one of these; the minimizer turns it into SciPy's integer ``status`` only when
it builds the :class:`scipy.optimize.OptimizeResult` (:data:`SCIPY_STATUS`).
"""

import enum

__all__ = ["SCIPY_STATUS", "Status"]


class Status(enum.Enum):
    """Why a run of Adam updates stopped.

    Attributes
    ----------
    CONVERGED
        A stopping criterion (a tolerance) was met.
    MAX_ITER
        The budget of updates (minimizer) or epochs (estimators) ran out.
    NONFINITE
        The function value or the gradient became NaN or infinite; the run
        ended on the last iterate where both were finite.
    CALLBACK
        The user's callback raised ``StopIteration``.
    MAX_TIME
        The time budget ran out.
    """

    CONVERGED = "converged"
    MAX_ITER = "max_iter"
    NONFINITE = "nonfinite"
    CALLBACK = "callback"
    MAX_TIME = "max_time"


#: SciPy's integer ``status`` for each :class:`Status`.
SCIPY_STATUS = {
    Status.CONVERGED: 0,
    Status.MAX_ITER: 1,
    Status.NONFINITE: 2,
    Status.MAX_TIME: 3,
    Status.CALLBACK: 99,
}
