"""Minibatch training of a packed linear model with an Adam-family optimizer.

:func:`train` runs epochs of optimizer steps on the objective of a
:class:`~skadam._linear_loss.LinearModelLoss`, in the coordinates of a
:class:`~skadam._scaling.Standardization`, and decides when to stop; it
knows nothing of scikit-learn.  It returns a :class:`TrainResult` whose
``status`` is a :class:`skadam._status.Status`.

The rows come from a *data source*, anything with

``weight_sum`` : float
    Sum of the (encoded) sample weights over the training rows: the
    objective's normaliser.
``epoch(shuffle, rng)``
    An iterable of ``(share, sums)`` pairs, one per minibatch: ``share`` is
    the minibatch's fraction of the training rows and ``sums(coef, out)``
    returns ``sum_i s_i L_i`` over the minibatch for the *raw* packed
    coefficients ``coef``, writing its gradient into ``out``.
``total(coef, out)``
    The same over all training rows.
``rows_per_product`` : int or None
    Rows in one matrix product (to choose the BLAS threads); None: unknown.

:class:`Minibatches` serves in-memory arrays; :class:`FullBatch` wraps any
callable that returns the sums over all rows (a Dask reduction, for
example): every epoch is then one full-batch step.

Stopping is a pluggable rule: called after each epoch with an
:class:`EpochInfo`, it returns whether to stop.  :class:`RelativeGap` (the
estimators' rule) stops when the objective is certified within a relative
``tol`` of its minimum; :class:`NoImprovement` is scikit-learn's SGD and MLP
rule.  :class:`StallHalving` is the full-batch step-size safeguard that
:class:`RelativeGap` drives.  A penalty with a non-smooth part (L1,
``positive``) is applied after each optimizer step by its proximal operator
with the optimizer's per-coordinate step (``optimizer.step_size(state)``, see
:mod:`skadam._penalties`).  Two more things are done
one way only: with a validation loss, the coefficients of the epoch with
the lowest one are restored at the end; a non-finite loss or gradient stops
the run at once, and so does an optimizer state left non-finite at the end of
an epoch (an overflowed second moment, see :func:`skadam._adam.state_is_finite`):
the run goes back to the coefficients of the start of that epoch, the last
ones with a finite objective (:attr:`Status.NONFINITE`).
"""

import contextlib
import math
import threading
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from threadpoolctl import ThreadpoolController

from ._adam import state_is_finite
from ._status import Status

__all__ = [
    "CHUNK_ROWS",
    "EpochInfo",
    "FullBatch",
    "Minibatches",
    "NoImprovement",
    "RelativeGap",
    "StallHalving",
    "StepFactor",
    "TrainResult",
    "decision_values",
    "train",
]

#: Rows processed at once when a batch is gathered (bounds the scratch memory).
CHUNK_ROWS = 8192
#: Below this many multiply-adds per matrix product, BLAS runs on one thread:
#: threads cost more than they save on products this small, a lot more on a
#: busy machine.
SINGLE_THREAD_WORK = 4_000_000
#: Full batch: steps without a new minimum of the objective after which
#: :class:`StallHalving` halves the step size; also the window of the
#: validation rule of early stopping, as one epoch is one step there.
#: Measured: normal full-batch runs at learning rate 0.1 go at most 154 steps
#: without a new minimum (ten datasets), so 250 leaves them untouched.
STALL_STEPS = 250
_controller = None


class Minibatches:
    """The training rows of in-memory ``(X, Y, sample_weight)``, in minibatches.

    Parameters
    ----------
    loss : LinearModelLoss
        Gives the sums of each chunk of rows.
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Design matrix; never copied as a whole, except once when minibatch
        rows have to be gathered from a column-major layout (CSC or Fortran
        order), whose rows cannot be gathered fast.
    Y : ndarray of shape (n_samples, n_outputs)
        Encoded targets.
    sample_weight : ndarray of shape (n_samples,)
        Non-negative weights with a positive sum over ``rows``.
    batch_size : int or None
        Rows per minibatch; None (or more than the rows) means full batch.
    rows : ndarray of int or None, default=None
        The training rows (for example without a validation split); None
        means all rows.

    Attributes
    ----------
    n_rows : int
        Number of training rows.
    weight_sum : float
        Sum of ``sample_weight`` over the training rows, in float64.
    """

    def __init__(self, loss, X, Y, sample_weight, batch_size, rows=None):
        self.loss = loss
        self.n_rows = X.shape[0] if rows is None else len(rows)
        self.batch_size = min(batch_size or self.n_rows, self.n_rows)
        self.rows = rows
        s = sample_weight if rows is None else sample_weight[rows]
        self.weight_sum = float(np.sum(s, dtype=np.float64))
        self._full_pass = rows is None and self.batch_size == self.n_rows
        if not self._full_pass:
            X = _row_major(X)
        self.X, self.Y, self.sample_weight = X, Y, sample_weight
        rows = self.n_rows if self._full_pass else min(self.batch_size, CHUNK_ROWS)
        if sparse.issparse(X):  # the work is in the non-zeros: count dense rows
            rows = math.ceil(rows * X.nnz / max(1, X.shape[0] * X.shape[1]))
        self.rows_per_product = rows
        # Rows summed at a time. Each chunk but the first adds a gradient of
        # the coefficients' size, so a sparse chunk holds at least 16 times
        # that many stored values (text: all of 100,000 rows at once).
        self.chunk_rows = CHUNK_ROWS
        if sparse.issparse(X) and X.nnz:
            per_row = X.nnz / X.shape[0]
            self.chunk_rows = max(CHUNK_ROWS, math.ceil(16 * X.shape[1] / per_row))
        self._buffers = None

    def epoch(self, shuffle, rng):
        """Yield ``(share, sums)`` for each minibatch of one epoch."""
        n, B = self.n_rows, self.batch_size
        if self._full_pass:
            yield 1.0, self.total
            return
        order = self.rows
        if shuffle and B < n:  # one batch of all rows: the order is immaterial
            order = rng.permutation(n if order is None else order)
        for start in range(0, n, B):
            stop = min(start + B, n)
            yield (stop - start) / n, self._sums_of(order, start, stop)

    def total(self, coef, out):
        """Loss sum over all training rows; its gradient sum goes to ``out``."""
        if self._full_pass:
            return self.loss.sums(coef, self.X, self.Y, self.sample_weight, out)[0]
        return self._sums_of(self.rows, 0, self.n_rows)(coef, out)

    def _sums_of(self, order, start, stop):
        def sums(coef, out):
            loss_sum, scratch = 0.0, None
            for lo in range(start, stop, self.chunk_rows):
                hi = min(lo + self.chunk_rows, stop)
                X, Y, s = self._take(order, lo, hi)
                if lo == start:
                    loss_sum += self.loss.sums(coef, X, Y, s, out)[0]
                else:  # a large batch, in chunks whose sums add up
                    scratch = np.empty_like(out) if scratch is None else scratch
                    loss_sum += self.loss.sums(coef, X, Y, s, scratch)[0]
                    out += scratch
            return loss_sum

        return sums

    def _take(self, order, lo, hi):
        arrays = (self.X, self.Y, self.sample_weight)
        if order is None:  # in order, unshuffled: a slice is enough
            return tuple(_row_slice(a, lo, hi) for a in arrays)
        index = np.sort(order[lo:hi])  # rows in increasing order gather faster
        if self._buffers is None:
            rows = min(self.batch_size, CHUNK_ROWS)
            self._buffers = [
                None if sparse.issparse(a) else np.empty((rows, *a.shape[1:]), a.dtype)
                for a in arrays
            ]
        # take into reused buffers is 2x faster than fancy indexing; mode="clip"
        # lets it write straight into them (the indices are valid).
        return tuple(
            a[index]
            if buffer is None or len(buffer) < len(index)  # total(): larger chunks
            else np.take(a, index, axis=0, out=buffer[: len(index)], mode="clip")
            for a, buffer in zip(arrays, self._buffers, strict=True)
        )


def _row_slice(a, lo, hi):
    """Rows ``lo:hi`` of an array or a CSR matrix, from its arrays' slices.

    SciPy's CSR row slice extracts the rows one by one (``get_csr_submatrix``):
    measured on a 100,000-row text matrix, a full pass in chunks cost more
    than its products.  Here the stored values are one contiguous slice
    (SciPy may still copy it when it is a small part of ``X``: one memcpy).
    """
    if not sparse.issparse(a):
        return a[lo:hi]
    hi = min(hi, a.shape[0])
    if lo == 0 and hi == a.shape[0]:
        return a
    start, stop = a.indptr[lo], a.indptr[hi]
    return sparse.csr_matrix(
        (a.data[start:stop], a.indices[start:stop], a.indptr[lo : hi + 1] - start),
        shape=(hi - lo, a.shape[1]),
        copy=False,
    )


def _row_major(X):
    """``X`` in a layout whose rows can be gathered fast (copied once if not)."""
    if sparse.issparse(X):
        return X if X.format == "csr" else X.tocsr()
    return np.ascontiguousarray(X)


class FullBatch:
    """A data source of one batch: all rows, summed by a callable.

    Parameters
    ----------
    sums : callable
        ``sums(coef) -> (loss_sum, grad_sum)``: ``sum_i s_i L_i`` over all
        training rows for the raw packed ``coef`` and its gradient (an array
        of ``coef``'s shape), for example one reduction over the blocks of a
        Dask array, each block giving
        :meth:`~skadam._linear_loss.LinearModelLoss.sums`.
    weight_sum : float
        Sum of the sample weights over all rows.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam._training import FullBatch
    >>> source = FullBatch(lambda coef: (float(coef @ coef), 2 * coef), 1.0)
    >>> [share for share, _ in source.epoch(True, None)]
    [1.0]
    """

    rows_per_product = None

    def __init__(self, sums, weight_sum):
        self._sums = sums
        self.weight_sum = float(weight_sum)

    def epoch(self, shuffle, rng):
        """One batch of all rows."""
        yield 1.0, self.total

    def total(self, coef, out):
        """Loss sum over all rows; its gradient sum goes to ``out``."""
        loss_sum, grad_sum = self._sums(coef)
        out[...] = grad_sum
        return float(loss_sum)


@dataclass
class EpochInfo:
    """What a stopping rule sees after an epoch.

    Attributes
    ----------
    epoch : int
        Epochs completed in this run (1 after the first).
    loss : float
        Training objective of the epoch (minibatch losses accumulated
        during the epoch, plus the penalty at its end).
    validation_loss : float or None
        Loss on held-out rows, when there are some.
    coef : ndarray
        The iterate that would be returned now (trained coordinates).
    full_objective : callable
        ``full_objective() -> (value, grad)``: the objective and its
        gradient (trained coordinates) at ``coef`` over all training rows;
        one more pass over the data, computed only when called.  Under full
        batch it is free: the next epoch's step reuses it.
    gradient : ndarray or None
        Dense minibatches: the epoch-averaged gradient of the objective
        (trained coordinates), the minibatch gradients weighted by their
        share of the rows; over one pass they partition the rows, so this is
        the gradient at the epoch's tail average up to second-order terms,
        at no cost.  None elsewhere (see :class:`RelativeGap`).
    n_steps : int
        Optimizer steps in the epoch (1: full batch).
    """

    epoch: int
    loss: float
    validation_loss: float | None
    coef: np.ndarray
    full_objective: object
    gradient: np.ndarray | None = None
    n_steps: int = 1

    @property
    def monitored(self):
        """The validation loss if any, else the training objective."""
        return self.loss if self.validation_loss is None else self.validation_loss


class NoImprovement:
    """Stop after ``n_iter_no_change`` epochs without improving by ``tol``.

    The rule of scikit-learn's SGD and MLP estimators, on
    :attr:`EpochInfo.monitored`.  A stopping rule is any object with
    ``__call__(info: EpochInfo) -> bool`` (True: stop, converged); a new
    one is made for each run.

    Parameters
    ----------
    tol : float or None
        Minimum improvement; None never stops.
    n_iter_no_change : int
        Epochs in a row without improvement after which the run stops.
    """

    def __init__(self, tol, n_iter_no_change):
        self.tol, self.patience = tol, n_iter_no_change
        self.best = math.inf
        self.count = 0

    def __call__(self, info):
        if self.tol is None:
            return False
        loss = info.monitored
        self.count = self.count + 1 if loss > self.best - self.tol else 0
        self.best = min(self.best, loss)
        return self.count >= self.patience


class StepFactor:
    """The factor by which :class:`StallHalving` has cut the step size.

    A learning rate (a float, or a schedule of the update count ``t``) times
    :attr:`value`; a picklable callable of ``t`` to hand to an optimizer.
    The factor is training state: it follows the run (kept across continued
    fits, like the optimizer state), and is reset by a cold start.

    Parameters
    ----------
    learning_rate : float or callable
        The step size, or a schedule ``learning_rate(t)``.
    value : float, default=1.0
        The factor so far.

    Examples
    --------
    >>> from skadam._training import StepFactor
    >>> rate = StepFactor(0.3)
    >>> rate.value = 0.5
    >>> rate(7)
    0.15
    """

    def __init__(self, learning_rate, value=1.0):
        self.learning_rate, self.value = learning_rate, float(value)

    def __call__(self, t):
        lr = self.learning_rate
        return (lr(t) if callable(lr) else lr) * self.value

    def __repr__(self):
        return f"StepFactor({self.learning_rate!r}, value={self.value!r})"


class StallHalving:
    """Full-batch safeguard: halve the step size when the objective stalls.

    Constant-step Adam can settle into a bounded cycle instead of converging
    when its step is too large for the problem (measured: step 0.3 on a
    2000 x 100 problem with redundant features cycles for 20,000 steps, 0.15
    converges in 177).  When the objective has gone ``patience`` steps
    without a new minimum, :attr:`StepFactor.value` is halved.  Called with
    the exact objective at each full-batch iterate.

    Parameters
    ----------
    rate : StepFactor
        The optimizer's learning rate, whose factor is halved.
    patience : int, default=STALL_STEPS
        Steps without a new minimum before halving.
    """

    def __init__(self, rate, patience=STALL_STEPS):
        self.rate, self.patience = rate, patience
        self.best, self.count = math.inf, 0

    def __call__(self, objective):
        """Record the objective of one full-batch iterate."""
        if objective < self.best:
            self.best, self.count = objective, 0
            return
        self.count += 1
        if self.count >= self.patience:
            self.rate.value *= 0.5
            self.count = 0


class RelativeGap:
    r"""Stop when the objective is certified within a relative ``tol`` of its minimum.

    For an objective ``f(W, b) = (1/sum s) sum_i s_i L_i(x_i W^T + b) + P(W)``
    with convex losses and a penalty ``P`` that makes ``f`` ``mu``-strongly
    convex in ``W`` (``mu = alpha`` for the L2 penalty ``alpha/2 ||W||^2``),
    any subgradient ``g`` of ``f`` in the raw weights ``W`` bounds the
    distance to the optimum::

        f(W, b) - min_W f(., b)  <=  ||g||^2 / (2 mu).                    (1)

    For the L2 penalty (1) is an equality with the Fenchel duality gap of
    regularised empirical risk minimisation: the residuals
    ``-dL_i/dz_i`` are a dual point whose gap is exactly ``||grad_W f||^2 /
    (2 alpha)`` (the primal-dual pair of Shalev-Shwartz and Zhang, 2013;
    Ndiaye et al., 2017, build the same dual point for their gap safe
    rules).  The rule measures the relative bound

        bound = (||g_W||^2 + ||g_b||^2) / (2 mu f)

    and stops when ``bound <= tol``: ``tol`` is the relative accuracy of the
    objective.  The intercept's gradient is counted with ``mu`` as well: it
    is no proof there (the intercept is not penalised), but measured
    conservative (gap / bound <= 0.97 at every stop on ten datasets); with
    ``g_b = 0`` the bound is exact.  ``g_W`` is the gradient in the raw
    weights at fixed centred intercept, the trained gradient divided by the
    standardisation's factor (the penalty's metric).

    The penalty supplies ``mu`` (``strong_convexity``) and the subgradient
    of least norm (``stationarity(W, grad_W)``, for the L2 penalty
    ``grad_W`` itself; an L1 penalty would soft-threshold).  With ``mu = 0``
    (``alpha = 0``) no bound exists; the criterion is then lbfgs's,
    ``max |g| <= tol`` in trained (standardised) coordinates.

    Under full batch, ``f`` and ``g`` are exact at the iterate returned
    (:attr:`EpochInfo.full_objective`, which the next step reuses).  Under
    minibatches on sparse ``X`` they are exact too, at the epoch's tail
    average that a stop returns: one more pass over the rows, in order,
    which costs a small part of a sparse epoch (whose steps update every
    coefficient, or gather the touched columns).  There the epoch objective,
    accumulated at the moving iterates, misleads: measured on sparse text
    with 20 classes and lazy steps, it kept falling by a little more than
    ``tol`` per epoch for 100 epochs while the tail average's objective had
    settled after one.  Under minibatches on dense ``X``, where that pass
    would add about a third of an epoch, they are the epoch objective and
    the epoch-averaged gradient (:attr:`EpochInfo.gradient`).  Minibatch
    noise puts a floor under the bound (constant-step Adam does not converge
    exactly, and the bound is loose by the ratio of the loss's curvature to
    ``mu``), so a minibatch run also stops when the objective has not
    improved on its best by a relative ``tol`` for ``n_iter_no_change``
    epochs in a row.  With a validation loss (early
    stopping) the run stops when that loss has not improved by a relative
    ``tol`` for ``n_iter_no_change`` epochs (full batch: ``patience``
    steps), or when the training bound is met.

    Parameters
    ----------
    tol : float or None
        Relative accuracy of the objective; None never stops.
    n_iter_no_change : int
        Minibatches and validation: epochs without a relative improvement of
        ``tol`` after which the run stops.
    penalty : penalty of :mod:`skadam._penalties`
        With ``strong_convexity`` and ``stationarity``.
    scaling : Standardization
        The trained coordinates.
    fit_intercept : bool
        Whether the last column of the coefficients is the intercept.
    halving : StallHalving, optional
        Fed the exact objective of each full-batch iterate.
    patience : int, default=STALL_STEPS
        The validation window under full batch, in steps; also, for a loss
        that is not differentiable everywhere (the quantile loss, whose
        gradient does not vanish at its optimum), the full-batch window:
        such a run also stops after ``patience`` steps without a relative
        improvement of ``tol`` of the objective.
    differentiable : bool, default=True
        Whether the loss has a gradient everywhere.

    Attributes
    ----------
    measure : float
        The last value compared with ``tol`` (the bound, or ``max |g|``).

    References
    ----------
    S. Shalev-Shwartz and T. Zhang, "Stochastic Dual Coordinate Ascent
    Methods for Regularized Loss Minimization", JMLR 14, 2013.
    E. Ndiaye, O. Fercoq, A. Gramfort and J. Salmon, "Gap Safe Screening
    Rules for Sparsity Enforcing Penalties", JMLR 18, 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam._penalties import L2Penalty
    >>> from skadam._scaling import Standardization
    >>> from skadam._training import EpochInfo, RelativeGap
    >>> rule = RelativeGap(1e-4, 5, L2Penalty(0.1), Standardization.identity(
    ...     2, np.float64), fit_intercept=True)
    >>> coef = np.zeros((1, 3))  # an objective of 0.5 there, and a gradient:
    >>> point = lambda g: lambda: (0.5, np.array([[g, 0.0, 0.0]]))
    >>> rule(EpochInfo(1, 0.5, None, coef, point(1e-2))), rule.measure
    (False, 0.001)
    >>> rule(EpochInfo(2, 0.5, None, coef, point(1e-3)))
    True
    """

    def __init__(
        self,
        tol,
        n_iter_no_change,
        penalty,
        scaling,
        fit_intercept,
        *,
        halving=None,
        patience=STALL_STEPS,
        differentiable=True,
    ):
        self.tol, self.n_iter_no_change = tol, n_iter_no_change
        self.penalty, self.scaling = penalty, scaling
        self.fit_intercept, self.halving = fit_intercept, halving
        self.patience = patience
        self.differentiable = differentiable
        self.measure = math.inf
        self._train_plateau = _Plateau()
        self._validation_plateau = _Plateau()

    def __call__(self, info):
        full_batch = info.n_steps == 1
        if full_batch or info.gradient is None:  # exact (see above)
            value, grad = info.full_objective()
        else:
            value, grad = info.loss, info.gradient
        if full_batch and self.halving is not None:
            self.halving(value)
        if self.tol is None:
            return False
        self.measure = self.bound(info.coef, value, grad)
        if self.measure <= self.tol:
            return True
        if info.validation_loss is not None:
            window = self.patience if full_batch else self.n_iter_no_change
            count = self._validation_plateau(info.validation_loss, self.tol)
            return count >= window
        if full_batch:  # exact: only the bound may stop a smooth loss
            if self.differentiable:
                return False
            return self._train_plateau(value, self.tol) >= self.patience
        return self._train_plateau(value, self.tol) >= self.n_iter_no_change

    def bound(self, coef, value, grad):
        """The relative gap bound (or ``max |g|`` when ``mu = 0``) at ``coef``.

        Parameters
        ----------
        coef : ndarray of shape (K, d + fit_intercept)
            Trained coefficients.
        value : float
            The objective there.
        grad : ndarray of shape coef.shape
            Its gradient in trained coordinates.

        Returns
        -------
        measure : float
        """
        d = len(self.scaling.factor)
        factor = self.scaling.factor.astype(np.float64)
        free = factor > 0  # frozen (constant) features: held at 0
        g_raw = np.divide(
            grad[:, :d], factor, out=np.zeros(grad[:, :d].shape), where=free
        )
        if self.penalty.has_prox:  # the subgradient depends on W then
            W = self.scaling.to_raw(coef)[:, :d].astype(np.float64, copy=False)
            g_raw = self.penalty.stationarity(W, g_raw)
        g_b = grad[:, d:].astype(np.float64) if self.fit_intercept else grad[:, :0]
        mu = self.penalty.strong_convexity
        if not mu > 0:
            return float(
                max(
                    np.max(np.abs(g_raw * factor), initial=0.0),
                    np.max(np.abs(g_b), initial=0.0),
                )
            )
        squares = float(np.vdot(g_raw, g_raw) + np.vdot(g_b, g_b))
        if squares == 0.0:
            return 0.0
        return squares / (2.0 * mu * value) if value > 0 else math.inf

    def describe(self):
        """The measure in words, for the ConvergenceWarning."""
        if self.penalty.strong_convexity > 0:
            return f"the relative duality-gap bound is {self.measure:.3g}"
        return f"the largest gradient component is {self.measure:.3g}"


class _Plateau:
    """Epochs in a row without a relative improvement of ``tol`` on the best."""

    def __init__(self):
        self.best, self.count = math.inf, 0

    def __call__(self, value, tol):
        self.count = 0 if value < self.best * (1.0 - tol) else self.count + 1
        self.best = min(self.best, value)
        return self.count


@dataclass
class TrainResult:
    """What :func:`train` did.

    Attributes
    ----------
    status : Status
        ``CONVERGED`` (the stopping rule fired), ``MAX_ITER`` (``max_epochs``
        ran out) or ``NONFINITE``.
    n_epochs : int
        Epochs completed.
    loss_curve : list of float
        Training objective of each epoch.
    validation_losses, validation_scores : list of float
        After each epoch (empty without validation).
    best_validation_score : float or None
        Score of the epoch with the lowest validation loss, whose
        coefficients are restored.
    objective : float or None
        The exact training objective at the returned coefficients, when the
        stopping rule computed it in the last epoch (and no earlier epoch's
        coefficients were restored); None otherwise.
    """

    status: Status = Status.MAX_ITER
    n_epochs: int = 0
    loss_curve: list = field(default_factory=list)
    validation_losses: list = field(default_factory=list)
    validation_scores: list = field(default_factory=list)
    best_validation_score: float | None = None
    objective: float | None = None

    def describe_last(self):
        """One line on the last epoch, for ``verbose``."""
        line = f"Epoch {self.n_epochs}: loss = {self.loss_curve[-1]:.8g}"
        if self.validation_scores:
            line += f", validation score = {self.validation_scores[-1]:.8g}"
        return line


def train(
    loss,
    scaling,
    optimizer,
    coef,
    state,
    source,
    *,
    max_epochs,
    stopping=None,
    average=None,
    shuffle=True,
    rng=None,
    validation=None,
    verbose=0,
    lazy=False,
):
    """Run optimizer epochs on ``loss``'s objective, updating ``coef``.

    Parameters
    ----------
    loss : LinearModelLoss
        The objective, on raw coefficients.
    scaling : Standardization
        The trained coordinates: ``coef`` holds ``(W', b')`` and the loss
        sees ``scaling.to_raw(coef)``.
    optimizer : object
        With ``step(x, grad, state)`` and ``eval_params(x, state)`` (the
        optimizer protocol, e.g. :class:`skadam.Adam`) and, when
        ``loss.penalty.has_prox``, ``step_size(state)``
        (:meth:`skadam.Adam.step_size`).
    coef : ndarray of shape (K, d + fit_intercept)
        Packed coefficients in trained coordinates, updated in place.
    state : object
        The optimizer's state for ``coef``, updated in place (a later call
        continues with the same moments and step count).
    source : Minibatches, FullBatch or any data source (module docstring)
        The training rows.
    max_epochs : int
        Maximum number of passes over the training rows.
    stopping : callable, optional
        ``stopping(EpochInfo) -> bool``; None runs all ``max_epochs``.
    average : ndarray, optional
        Receives the average of the iterates over the last epoch (tail
        averaging): with minibatches it is much closer to the optimum than
        the last iterate; with full batch it is the last iterate. With an
        optimizer whose ``eval_params`` is another point (schedule-free
        AdamW's average ``x``), it receives that point instead. When
        given, it is the result that is scored and restored; required
        with such an optimizer.
    shuffle : bool, default=True
        Shuffle the rows at each epoch (with ``rng``).
    rng : numpy.random.RandomState, optional
        Random generator for shuffling; it advances.
    validation : callable, optional
        ``validation(raw_coef) -> (loss, score)`` on held-out rows; the
        coefficients with the lowest loss are restored at the end.
    verbose : int, default=0
        Print one line per epoch when positive.
    lazy : bool, default=False
        Run :class:`skadam._sparse.LazyEpochs`: each step updates only the
        columns its minibatch touches (``source``: :class:`Minibatches` of
        a CSR matrix; ``optimizer``: with ``lazy_step``; ``scaling``:
        without centring; L2 penalty). An approximation of the exact
        epochs, equal to them under full batch.

    Returns
    -------
    result : TrainResult

    Examples
    --------
    >>> import numpy as np
    >>> from skadam import Adam
    >>> from skadam._linear_loss import LinearModelLoss
    >>> from skadam._losses import HalfSquaredError
    >>> from skadam._penalties import L2Penalty
    >>> from skadam._scaling import Standardization
    >>> from skadam._training import Minibatches, NoImprovement, train
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> Y = X @ np.array([[1.0], [-2.0], [0.5]]) + 3.0
    >>> loss = LinearModelLoss(HalfSquaredError(), L2Penalty(0.0))
    >>> adam, coef = Adam(learning_rate=0.1), np.zeros((1, 4))
    >>> source = Minibatches(loss, X, Y, np.ones(200), batch_size=None)
    >>> result = train(loss, Standardization.identity(3, X.dtype), adam, coef,
    ...                adam.init(coef), source, max_epochs=3000,
    ...                stopping=NoImprovement(1e-12, 50))
    >>> result.status.value, coef.round(3).tolist()
    ('converged', [[1.0, -2.0, 0.5, 3.0]])
    """
    if lazy:
        from ._sparse import LazyEpochs  # imports this module

        epochs = LazyEpochs(loss, scaling, optimizer, coef, state, source)
    else:
        epochs = _Epochs(loss, scaling, optimizer, coef, state, source)
    output = coef if average is None else average
    result, best = TrainResult(), None
    # Overflow is detected (and reported) through the non-finite loss.
    with np.errstate(over="ignore", invalid="ignore"), _blas_threads(source, coef):
        for _ in range(max_epochs):
            epochs.exact_value = None
            epoch_loss = epochs.run(shuffle, rng, average)
            if average is not None and epoch_loss is not None:
                evaluated = optimizer.eval_params(coef, state)
                if evaluated is not coef:  # schedule-free: its averaged point
                    average[...] = evaluated
            if epoch_loss is None:
                result.status = Status.NONFINITE
                _log(verbose, f"Epoch {result.n_epochs + 1}: non-finite, stopping.")
                break
            result.n_epochs += 1
            result.loss_curve.append(epoch_loss)
            info = EpochInfo(
                result.n_epochs,
                epoch_loss,
                None,
                output,
                epochs.objective_at(output),
                epochs.gradient_sum,
                epochs.n_steps,
            )
            if validation is not None:
                info.validation_loss, score = validation(scaling.to_raw(output))
                result.validation_losses.append(info.validation_loss)
                result.validation_scores.append(score)
                if info.validation_loss <= min(result.validation_losses):
                    best = output.copy()
            _log(verbose, result.describe_last())
            if stopping is not None and stopping(info):
                result.status = Status.CONVERGED
                break
    if best is not None:
        output[...] = best
        epoch = int(np.argmin(result.validation_losses))
        result.best_validation_score = result.validation_scores[epoch]
    else:
        result.objective = epochs.exact_value
    return result


class _Epochs:
    """Optimizer steps over the minibatches, with the buffers they reuse."""

    def __init__(self, loss, scaling, optimizer, coef, state, source):
        self.loss, self.scaling, self.optimizer = loss, scaling, optimizer
        self.coef, self.state, self.source = coef, state, source
        self.grad = np.empty_like(coef)
        # The epoch-averaged gradient, on dense rows only (EpochInfo.gradient).
        dense = not sparse.issparse(getattr(source, "X", None))
        self.gradient_sum = np.empty_like(coef) if dense else None
        self.n_steps = 0
        # The value of full_objective() in this epoch, if it was called.
        self.exact_value = None
        # (point, loss sum, gradient) of the last full_objective() call: a
        # full-batch step at that point reuses it instead of a second pass.
        self._known = None

    def run(self, shuffle, rng, average=None):
        """One pass; return the epoch's objective, or None if non-finite."""
        coef, source = self.coef, self.source
        start = coef.copy()
        if average is not None:
            average[...] = 0
        if self.gradient_sum is not None:
            self.gradient_sum[...] = 0
        loss_total, n_steps = 0.0, 0
        for share, sums in source.epoch(shuffle, rng):
            # The minibatch gradient is an unbiased estimate of the objective's.
            loss_sum = self._known_gradient(share)
            if loss_sum is None:
                loss_sum = self._gradient(sums, source.weight_sum * share)
            if loss_sum is None:
                return self._nonfinite(start, average)
            if self.gradient_sum is not None:
                self.gradient_sum += share * self.grad
            self.optimizer.step(coef, self.grad, self.state)
            if self.loss.penalty.has_prox:
                self._proximal_step()
            loss_total += loss_sum
            n_steps += 1
            if average is not None:
                average += coef
        self.n_steps = n_steps
        if average is not None:
            average /= n_steps
        W, _ = self.loss.weight_intercept(self.scaling.to_raw(coef))
        epoch_loss = loss_total / source.weight_sum + self.loss.penalty.value(W)
        return self._epoch_result(epoch_loss, start, average)

    def _epoch_result(self, epoch_loss, start, average):
        """The epoch's objective; None, back at ``start``, if it is not finite.

        Nor if the optimizer's state is not: a gradient entry whose square
        overflows leaves an infinite second moment, whose coordinate would
        never move again while the objective stays finite.
        """
        if math.isfinite(epoch_loss) and state_is_finite(self.state):
            return epoch_loss
        return self._nonfinite(start, average)

    def _proximal_step(self):
        """The penalty's non-smooth part, after the step (see skadam._penalties).

        With the optimizer's per-coordinate step ``eta`` in trained
        coordinates ``W' = W / factor`` it is ``prox(W', eta * factor)``.
        """
        step_size = getattr(self.optimizer, "step_size", None)
        if step_size is None:
            raise ValueError(
                f"{type(self.optimizer).__name__} has no step_size(state), which "
                "the proximal step of an L1 penalty or positive=True needs; use "
                "Adam."
            )
        d = len(self.scaling.factor)
        eta = step_size(self.state)[:, :d]
        eta *= self.scaling.factor
        self.loss.penalty.prox(self.coef[:, :d], eta)

    def _gradient(self, sums, weight_sum, coef=None):
        """Loss sum; the objective's gradient (trained coordinates) to self.grad.

        None when the loss or the gradient is not finite.
        """
        raw = self.scaling.to_raw(self.coef if coef is None else coef)
        loss_sum = sums(raw, self.grad)
        if not (math.isfinite(loss_sum) and np.isfinite(self.grad).all()):
            return None
        self.loss.gradient_from_sums(raw, self.grad, weight_sum)
        self.scaling.chain(self.grad)
        return loss_sum

    def objective_at(self, coef):
        """A callable giving the full objective and gradient at ``coef``."""

        def full_objective():
            grad = np.empty_like(coef)
            raw = self.scaling.to_raw(coef)
            loss_sum = self.source.total(raw, grad)
            value, grad = self.loss.objective_from_sums(
                raw, loss_sum, grad, self.source.weight_sum
            )
            self.scaling.chain(grad)
            if self.n_steps <= 1:  # full batch: the next step starts here
                self._known = (coef.copy(), loss_sum, grad.copy())
            self.exact_value = value
            return value, grad

        return full_objective

    def _known_gradient(self, share):
        """A full batch at the point of the last full_objective(): its loss sum.

        The gradient goes to self.grad; None when it has to be computed.  The
        same sums of the same rows in the same order: bit for bit the step
        that computing it would take.
        """
        known, self._known = self._known, None
        if known is None or share != 1.0 or not np.array_equal(known[0], self.coef):
            return None
        loss_sum, grad = known[1], known[2]
        if not (math.isfinite(loss_sum) and np.isfinite(grad).all()):
            return None
        self.grad[...] = grad
        return loss_sum

    def _nonfinite(self, start, average):
        """Go back to the start of the epoch; return None (no epoch loss)."""
        self.coef[...] = start
        if average is not None:
            average[...] = self.coef
        return None


def _blas_threads(source, coef):
    """One BLAS thread for small minibatches (see SINGLE_THREAD_WORK).

    Only in the main thread: the limit is global state that fits running at
    once in other threads (joblib's threading backend) would set and restore
    in an interleaved order, leaving BLAS limited after they all finish.
    """
    global _controller
    rows = source.rows_per_product
    if threading.current_thread() is not threading.main_thread() or rows is None:
        return contextlib.nullcontext()
    if rows * coef.size > SINGLE_THREAD_WORK:
        return contextlib.nullcontext()
    if _controller is None:  # inspecting the loaded libraries takes a while
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")


def decision_values(loss, coef, X, rows):
    """Raw predictions of ``X[rows]``, chunk by chunk (no copy of X)."""
    parts = [
        loss.raw_prediction(coef, X[rows[lo : lo + CHUNK_ROWS]])
        for lo in range(0, len(rows), CHUNK_ROWS)
    ]
    return np.concatenate(parts) if parts else np.empty((0, coef.shape[0]))


def _log(verbose, message):
    """The one place that prints progress."""
    if verbose:
        print(message, flush=True)
