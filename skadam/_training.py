"""Minibatch training of a packed linear model with the Adam core.

:func:`train` runs epochs of Adam steps on the objective of a
:class:`~skadam._loss.LinearLoss` and decides when to stop; it knows nothing of
scikit-learn.  One epoch is one pass over the training rows in minibatches of
:class:`Minibatches`.  The rows of a minibatch are gathered by index (or
sliced, without shuffling) into a reused buffer, so ``X`` is never copied as a
whole; a batch larger than :data:`CHUNK_ROWS` rows is processed in chunks whose
gradient sums are added up.

Stopping follows scikit-learn's SGD and MLP estimators: after each epoch the
monitored loss (the training objective, or a validation loss when one is
given) is compared with the best so far; after ``n_iter_no_change`` epochs in
a row without an improvement of at least ``tol`` the run has converged.  With
a validation loss the best coefficients are restored at the end.

A run that produces a non-finite loss or gradient stops at once and goes back
to the coefficients at the start of that epoch, the last ones with a finite
objective (status ``"diverged"``), so a too large learning rate never leaves
NaN or infinite coefficients behind.
"""

import contextlib
import math
import threading
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from threadpoolctl import ThreadpoolController

__all__ = ["CHUNK_ROWS", "Minibatches", "TrainResult", "decision_values", "train"]

#: Rows processed at once when a batch is gathered (bounds the scratch memory).
CHUNK_ROWS = 8192
#: Below this many multiply-adds per matrix product, BLAS runs on one thread:
#: threads cost more than they save on products this small, a lot more on a
#: busy machine.
SINGLE_THREAD_WORK = 4_000_000
_controller = None


class Minibatches:
    """The training rows of ``(X, Y, sample_weight)``, served in minibatches.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Design matrix; never copied as a whole, except once when minibatch
        rows have to be gathered from a column-major layout (CSC or Fortran
        order), whose rows cannot be gathered fast.
    Y : ndarray of shape (n_samples, n_outputs)
        Encoded targets (see :mod:`skadam._loss`).
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
        Sum of ``sample_weight`` over the training rows (the objective's
        normaliser).
    """

    def __init__(self, X, Y, sample_weight, batch_size, rows=None):
        self.n_rows = X.shape[0] if rows is None else len(rows)
        self.batch_size = min(batch_size or self.n_rows, self.n_rows)
        self.rows = rows
        s = sample_weight if rows is None else sample_weight[rows]
        self.weight_sum = float(np.sum(s, dtype=np.float64))
        full_pass = rows is None and self.batch_size == self.n_rows
        if not full_pass:
            X = _row_major(X)
        self.X, self.Y, self.sample_weight = X, Y, sample_weight
        self._buffers = None

    def epoch(self, shuffle, rng):
        """Yield the minibatches of one epoch.

        Each minibatch is an iterable of chunks ``(X_c, Y_c, s_c)`` (use each
        chunk before taking the next: they share a buffer), together with its
        share of the data, ``n_rows_in_batch / n_rows``.
        """
        n, B = self.n_rows, self.batch_size
        if self.rows is None and B == n:
            yield [(self.X, self.Y, self.sample_weight)], 1.0
            return
        order = self.rows
        if shuffle and B < n:  # one batch of all rows: the order is immaterial
            order = rng.permutation(n if order is None else order)
        for start in range(0, n, B):
            stop = min(start + B, n)
            yield self._chunks(order, start, stop), (stop - start) / n

    def _chunks(self, order, start, stop):
        # A generator: each chunk is gathered into the shared buffer only
        # once the previous one has been used.
        for lo in range(start, stop, CHUNK_ROWS):
            hi = min(lo + CHUNK_ROWS, stop)
            if order is None:  # in order, unshuffled: a slice is enough
                yield self._take(slice(lo, hi))
            else:  # rows in increasing order are gathered faster
                yield self._take(np.sort(order[lo:hi]))

    def _take(self, index):
        arrays = (self.X, self.Y, self.sample_weight)
        if isinstance(index, slice):
            return tuple(a[index] for a in arrays)
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
            if buffer is None
            else np.take(a, index, axis=0, out=buffer[: len(index)], mode="clip")
            for a, buffer in zip(arrays, self._buffers, strict=True)
        )


def _row_major(X):
    """``X`` in a layout whose rows can be gathered fast (copied once if not).

    Gathering rows of a column-major array (CSC, or Fortran order as pandas
    often gives) is orders of magnitude slower than of a row-major one.
    """
    if sparse.issparse(X):
        return X if X.format == "csr" else X.tocsr()
    return np.ascontiguousarray(X)


@dataclass
class TrainResult:
    """What :func:`train` did.

    Attributes
    ----------
    status : {"converged", "max_iter", "diverged"}
        Why the run stopped.
    n_epochs : int
        Epochs completed.
    loss_curve : list of float
        Training objective of each epoch (minibatch losses accumulated
        during the epoch, plus the penalty at the end of the epoch).
    validation_losses, validation_scores : list of float
        Validation loss and score after each epoch (empty without
        validation).
    best_validation_score : float or None
        Score of the epoch with the lowest validation loss, whose
        coefficients are restored.
    """

    status: str
    n_epochs: int = 0
    loss_curve: list = field(default_factory=list)
    validation_losses: list = field(default_factory=list)
    validation_scores: list = field(default_factory=list)
    best_validation_score: float | None = None

    def record(self, epoch_loss, validation, coef):
        """Append one epoch; return the monitored loss (validation or training)."""
        self.n_epochs += 1
        self.loss_curve.append(epoch_loss)
        if validation is None:
            return epoch_loss
        loss, score = validation(coef)
        self.validation_losses.append(loss)
        self.validation_scores.append(score)
        return loss

    def describe_last(self):
        """One line on the last epoch, for ``verbose``."""
        line = f"Epoch {self.n_epochs}: loss = {self.loss_curve[-1]:.8g}"
        if self.validation_scores:
            line += f", validation score = {self.validation_scores[-1]:.8g}"
        return line


class _Stopping:
    """The no-improvement counter of scikit-learn's SGD and MLP estimators."""

    def __init__(self, tol, n_iter_no_change):
        self.tol, self.patience = tol, n_iter_no_change
        self.best = math.inf
        self.count = 0

    def update(self, loss):
        """Record ``loss``; return ``(is_new_best, should_stop)``."""
        if self.tol is not None and loss > self.best - self.tol:
            self.count += 1
        else:
            self.count = 0
        is_best = loss < self.best
        self.best = min(self.best, loss)
        return is_best, self.tol is not None and self.count >= self.patience


def train(
    loss,
    adam,
    coef,
    state,
    batches,
    *,
    alpha,
    max_epochs,
    average=None,
    shuffle=True,
    rng=None,
    tol=None,
    n_iter_no_change=10,
    validation=None,
    verbose=0,
):
    """Run Adam epochs on ``loss``'s penalised objective, updating ``coef``.

    Parameters
    ----------
    loss : LinearLoss
        The loss; its :meth:`~LinearLoss.weighted_sums` gives the gradients.
    adam : Adam
        The update rule.
    coef : ndarray
        Packed coefficients (the Adam iterate), updated in place.
    state : AdamState
        Adam state for ``coef``, updated in place (so a later call continues
        with the same moments and step count).
    batches : Minibatches
        The training rows.
    alpha : float
        L2 penalty of the objective.
    max_epochs : int
        Maximum number of passes over the training rows.
    average : ndarray, optional
        Receives the average of the iterates over the last epoch (tail
        averaging): with minibatches it is much closer to the optimum than
        the last, noisy, iterate; with full batch it is the last iterate.
        When given, it is the result that is scored and restored.
    shuffle : bool, default=True
        Shuffle the rows at each epoch (with ``rng``).
    rng : numpy.random.RandomState, optional
        Random generator for shuffling; it advances, so a later call
        continues the same random stream.
    tol : float or None, default=None
        Minimum improvement of the monitored loss; None never stops early.
    n_iter_no_change : int, default=10
        Epochs without improvement after which the run has converged.
    validation : callable, optional
        ``validation(coef) -> (loss, score)`` on held-out rows. When given,
        the loss (lower is better) is monitored instead of the training
        objective, and the coefficients with the lowest one are restored at
        the end; the score is only recorded. A loss, unlike a score such as
        accuracy, changes with every step, so that ``n_iter_no_change``
        epochs without progress mean the same thing for any batch size.
    verbose : int, default=0
        Print one line per epoch when positive.

    Returns
    -------
    result : TrainResult
        Status, epochs run and the histories.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam import Adam
    >>> from skadam._loss import LinearLoss
    >>> from skadam._training import Minibatches, train
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> Y = X @ np.array([[1.0], [-2.0], [0.5]]) + 3.0
    >>> loss, adam = LinearLoss("squared"), Adam(learning_rate=0.1)
    >>> coef = np.zeros((1, 4))
    >>> batches = Minibatches(X, Y, np.ones(200), batch_size=None)
    >>> result = train(loss, adam, coef, adam.init(coef), batches, alpha=0.0,
    ...                max_epochs=3000, tol=1e-12, n_iter_no_change=50)
    >>> result.status, coef.round(3).tolist()
    ('converged', [[1.0, -2.0, 0.5, 3.0]])
    """
    epochs = _Epochs(loss, adam, coef, state, batches, alpha)
    output = coef if average is None else average
    result = TrainResult(status="max_iter")
    stopping = _Stopping(tol, n_iter_no_change)
    best = None
    # Overflow is detected (and reported) through the non-finite loss.
    with np.errstate(over="ignore", invalid="ignore"), _blas_threads(batches, coef):
        for _ in range(max_epochs):
            epoch_loss = epochs.run(shuffle, rng, average)
            if epoch_loss is None:
                result.status = "diverged"
                _log(verbose, f"Epoch {result.n_epochs + 1}: diverged, stopping.")
                break
            monitored = result.record(epoch_loss, validation, output)
            is_best, stop = stopping.update(monitored)
            if is_best and validation is not None:
                best = output.copy()
            _log(verbose, result.describe_last())
            if stop:
                result.status = "converged"
                break
    if best is not None:
        output[...] = best
        epoch = int(np.argmin(result.validation_losses))
        result.best_validation_score = result.validation_scores[epoch]
    return result


class _Epochs:
    """Adam steps over the minibatches, with the buffers they reuse."""

    def __init__(self, loss, adam, coef, state, batches, alpha):
        self.loss, self.adam, self.coef, self.state = loss, adam, coef, state
        self.batches, self.alpha = batches, alpha
        self.grad, self.scratch = np.empty_like(coef), np.empty_like(coef)

    def run(self, shuffle, rng, average=None):
        """One pass; return the epoch's objective, or None on divergence."""
        loss, coef, batches = self.loss, self.coef, self.batches
        start = coef.copy()
        if average is not None:
            average[...] = 0
        loss_total, n_steps = 0.0, 0
        for chunks, share in batches.epoch(shuffle, rng):
            loss_sum = self._gradient_sum(chunks)
            if not (math.isfinite(loss_sum) and np.isfinite(self.grad).all()):
                return self._diverged(start, average)
            # The minibatch gradient is an unbiased estimate of the objective's.
            loss.penalise_gradient(
                coef, self.grad, self.alpha, batches.weight_sum * share
            )
            self.adam.step(coef, self.grad, self.state)
            loss_total += loss_sum
            n_steps += 1
            if average is not None:
                average += coef
        if average is not None:
            average /= n_steps
        epoch_loss = loss_total / batches.weight_sum + loss.penalty(coef, self.alpha)
        return (
            epoch_loss if math.isfinite(epoch_loss) else self._diverged(start, average)
        )

    def _diverged(self, start, average):
        """Go back to the start of the epoch; return None (no epoch loss).

        The coefficients at the start of the epoch are the last ones whose
        objective (penalty included) was finite.
        """
        self.coef[...] = start
        if average is not None:
            average[...] = self.coef
        return None

    def _gradient_sum(self, chunks):
        """Loss sum of a minibatch; its gradient sum goes to ``self.grad``."""
        loss_sum = 0.0
        for i, (X, Y, s) in enumerate(chunks):
            out = self.scratch if i else self.grad
            value, _ = self.loss.weighted_sums(self.coef, X, Y, s, out=out)
            if i:
                self.grad += self.scratch
            loss_sum += value
        return loss_sum


def _blas_threads(batches, coef):
    """One BLAS thread for small minibatches (see SINGLE_THREAD_WORK).

    Only in the main thread: the limit is global state that fits running at
    once in other threads (joblib's threading backend) would set and restore
    in an interleaved order, leaving BLAS limited after they all finish.
    """
    global _controller
    if threading.current_thread() is not threading.main_thread():
        return contextlib.nullcontext()
    rows = min(batches.batch_size, CHUNK_ROWS)
    if batches.rows is None and batches.batch_size == batches.n_rows:
        rows = batches.n_rows
    if rows * coef.size > SINGLE_THREAD_WORK:
        return contextlib.nullcontext()
    if _controller is None:  # inspecting the loaded libraries takes a while
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")


def decision_values(loss, coef, X, rows):
    """Decision values of ``X[rows]``, computed chunk by chunk (no copy of X)."""
    parts = [
        loss.decision_function(coef, X[rows[lo : lo + CHUNK_ROWS]])
        for lo in range(0, len(rows), CHUNK_ROWS)
    ]
    return np.concatenate(parts) if parts else np.empty((0, coef.shape[0]))


def _log(verbose, message):
    """The one place that prints progress."""
    if verbose:
        print(message, flush=True)
