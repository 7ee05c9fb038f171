"""Lazy minibatch epochs for sparse data: each step costs the touched columns.

On sparse data (hashed or tf-idf text: hundreds of thousands of columns, tens
of non-zeros a row) a minibatch touches a few thousand columns, but the exact
epoch of :mod:`skadam._training` updates every coefficient, both moments and
the L2 penalty's gradient at every step: about ten times the minibatch's own
work. :class:`LazyEpochs` runs the same epochs with
:meth:`skadam.Adam.lazy_step` (TensorFlow Addons' ``LazyAdam``,
``torch.optim.SparseAdam``) on the columns the minibatch touches, and
nothing else per step:

- the minibatch is taken to its own columns (``k`` of them, renumbered
  ``0..k-1``), so the products, the gradient and the update are of size
  ``K x k``, never ``batch x n_features`` nor ``K x n_features``;
- the L2 penalty's gradient ``alpha * w_j`` is added on the touched columns
  only, divided by ``p_j``, the probability that a minibatch touches column
  ``j`` (from the column's document frequency): lazy Adam averages a
  column's gradient over the steps that touch it, and the data term's
  average over those steps is its full-data gradient divided by ``p_j``. So
  the fixed point of the lazy step is the minimiser of the same penalised
  objective (``data + alpha/2 ||W||^2``) as the exact path's: rare words
  are not under-regularised;
- the tail average of the iterates (see :func:`skadam._training.train`) is
  kept exactly, by counting for each column the steps since it last changed
  (the catch-up trick of SGD on sparse data: Bottou, "Stochastic Gradient
  Descent Tricks", 2012, section 5.1, and scikit-learn's averaged SGD);
- the standardisation scales the columns but does not centre them (centring
  would give every column a gradient at every step); this is an exact
  reparametrisation, as centring is.

What is approximate is the moment update: a column that a minibatch does not
touch keeps its ``m`` and ``v`` instead of decaying them, and does not move.
Under full batch every column with a non-zero is touched at every step, and
the lazy epoch is the exact one. The estimators choose it with
``sparse_updates="auto"`` (see :func:`use_lazy`) and the exact path with
``sparse_updates="exact"``.
"""

import math

import numpy as np
from scipy import sparse
from scipy.special import gammaln

from ._adam import _numba_installed
from ._training import _Epochs

__all__ = [
    "LAZY_VALUE_COST",
    "LazyEpochs",
    "sparse_batch_size",
    "touch_probability",
    "use_lazy",
]

#: Work of a lazy step per stored value of its minibatch, in units of an exact
#: step's work per coefficient (profiled: about 127 ns against 44 ns).
LAZY_VALUE_COST = 3.0


#: ``batch_size="auto"`` on sparse data: minibatches of about
#: ``n_features / SPARSE_BATCH_NNZ_RATIO`` stored values, from
#: SPARSE_MIN_BATCH_SIZE to SPARSE_MAX_BATCH_SIZE rows.
SPARSE_BATCH_NNZ_RATIO = 2
SPARSE_MIN_BATCH_SIZE = 512
SPARSE_MAX_BATCH_SIZE = 4096
#: Stored values counted at once (bounds the scratch memory of the counts).
CHUNK_VALUES = 1 << 16


def sparse_batch_size(X):
    """Rows per minibatch of ``batch_size="auto"`` for sparse ``X`` (lazy steps).

    A lazy step costs a fixed part (a pass over the column marker, of
    ``n_features`` entries, and a few dozen NumPy calls) plus a part per stored
    value of its rows. Minibatches of about ``n_features / 2`` stored values
    make the fixed part at most about as large as the rest; measured on the
    text-like data of the ``sparse`` benchmark (``2**18`` columns, 60
    non-zeros a row): 2,048 rows a minibatch reach a lower training
    objective per epoch than 512 or 1,024 (the lazy moments are less stale
    when each step touches more columns) at the same held-out log-loss, in
    fewer, cheaper epochs.

    Parameters
    ----------
    X : sparse matrix of shape (n_samples, n_features)

    Returns
    -------
    batch_size : int
        ``n_features / (2 * nnz per row)``, clipped to ``[512, 4096]``.

    Examples
    --------
    >>> from scipy import sparse
    >>> from skadam._sparse import sparse_batch_size
    >>> X = sparse.random(10_000, 2**18, density=60 / 2**18, format="csr", rng=0)
    >>> sparse_batch_size(X)
    2184
    """
    per_row = max(X.nnz / max(X.shape[0], 1), 1.0)
    rows = int(X.shape[1] / (SPARSE_BATCH_NNZ_RATIO * per_row))
    return min(max(rows, SPARSE_MIN_BATCH_SIZE), SPARSE_MAX_BATCH_SIZE)


def touch_probability(X, batch_size):
    """Probability that a random minibatch of ``batch_size`` rows touches each column.

    Parameters
    ----------
    X : sparse matrix of shape (n_samples, n_features)
        CSR or CSC (stored zeros count as non-zeros).
    batch_size : int
        Rows per minibatch, drawn without replacement.

    Returns
    -------
    p : ndarray of float64 of shape (n_features,)
        ``1 - C(n - df_j, B) / C(n, B)``, with ``df_j`` the rows in which
        column ``j`` is stored, ``n`` the rows and ``B = batch_size``: 1 for
        every stored column when ``B >= n`` (full batch).

    Examples
    --------
    >>> from scipy import sparse
    >>> from skadam._sparse import touch_probability
    >>> X = sparse.csr_matrix([[1.0, 0.0], [0.0, 2.0], [0.0, 3.0], [0.0, 4.0]])
    >>> touch_probability(X, 2).round(6).tolist()
    [0.5, 1.0]
    """
    n, d = X.shape
    if X.format == "csc":
        df = np.diff(X.indptr)
    else:  # in chunks: bincount would copy all int32 indices to intp at once
        df = np.zeros(d, np.intp)
        for lo in range(0, X.nnz, CHUNK_VALUES):
            df += np.bincount(X.indices[lo : lo + CHUNK_VALUES], minlength=d)
    B = min(batch_size, n)
    rest = n - df  # rows without the column: the batch misses it if all are such
    log_miss = gammaln(rest + 1.0) - gammaln(np.maximum(rest - B, 0) + 1.0)
    log_miss -= gammaln(n + 1.0) - gammaln(n - B + 1.0)
    return np.where(rest >= B, -np.expm1(np.minimum(log_miss, 0.0)), 1.0)


def use_lazy(X, batch_size, penalty, n_rows, n_outputs=1):
    """Whether ``sparse_updates="auto"`` trains ``X`` with :class:`LazyEpochs`.

    Yes when ``X`` is sparse, trained in minibatches (``batch_size < n_rows``),
    the penalty has no proximal step (L2 or none: no L1 part, not
    ``positive``), and a cost model of one step says the lazy step is the
    cheaper::

        LAZY_VALUE_COST * nnz_batch + K * k  <  K * n_features

    with ``nnz_batch`` the stored values of a minibatch, ``k`` the columns it
    touches on average (the sum of :func:`touch_probability`) and ``K`` the
    outputs: the exact step passes over all ``K * n_features`` coefficients
    a few times, the lazy one over the minibatch's values (more work per
    value: taking the rows to their columns, :data:`LAZY_VALUE_COST` times
    an exact step's work per coefficient, measured) and its ``K * k``
    coefficients. Measured on the ``sparse`` benchmark's data (2**18
    columns, 2,184-row minibatches touching 10% of them): binary, the exact
    step is 1.6x faster per epoch (the rule says exact); 20 classes, the lazy
    one is 8.6x faster (lazy).

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    batch_size : int
        Rows per minibatch.
    penalty : object
        The objective's penalty.
    n_rows : int
        Training rows.
    n_outputs : int, default=1
        ``K``: rows of the coefficients (classes of a multinomial model).

    Returns
    -------
    lazy : bool

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import sparse
    >>> from skadam._penalties import L2Penalty
    >>> from skadam._sparse import use_lazy
    >>> X = sparse.random(10_000, 50_000, density=1e-4, format="csr", rng=0)
    >>> use_lazy(X, 256, L2Penalty(1e-4), 10_000, n_outputs=1)
    True
    >>> use_lazy(X.toarray(), 256, L2Penalty(1e-4), 10_000)
    False
    """
    if not sparse.issparse(X) or batch_size >= n_rows:
        return False
    if getattr(penalty, "has_prox", True):  # an L1 part or positive=True
        return False
    nnz_batch = batch_size * X.nnz / max(X.shape[0], 1)
    touched = float(np.sum(touch_probability(X, batch_size)))
    lazy_work = LAZY_VALUE_COST * nnz_batch + n_outputs * touched
    return lazy_work < n_outputs * X.shape[1]


class LazyEpochs(_Epochs):
    """Epochs of lazy optimizer steps over sparse minibatches.

    The drop-in for the exact epochs of :func:`skadam._training.train`
    (``lazy=True`` there): its ``run`` replaces theirs; the full objective
    and the return to the start of an epoch on a non-finite value are
    theirs.

    Parameters
    ----------
    loss : LinearModelLoss
        With a penalty without proximal step (``penalty.has_prox`` False:
        its gradient is ``penalty.l2 * W``).
    scaling : Standardization
        With zero ``mean`` (scaling only).
    optimizer : object
        With ``lazy_step(x, grad, state, index)``
        (:meth:`skadam.Adam.lazy_step`).
    coef : ndarray of shape (K, d + fit_intercept)
        Trained coefficients, updated in place.
    state : object
        The optimizer's state for ``coef``.
    source : Minibatches
        Over a CSR matrix.
    """

    def __init__(self, loss, scaling, optimizer, coef, state, source):
        if scaling.centred:
            raise ValueError("LazyEpochs needs a standardisation without centring.")
        super().__init__(loss, scaling, optimizer, coef, state, source)
        self.grad = None  # the exact loop's coefficient-sized buffer: unused here
        self.gradient_sum = None  # the stopping rule takes the exact objective
        X = source.X
        self.d = X.shape[1]
        p = touch_probability(X, source.batch_size)
        p[p == 0] = 1.0  # never touched: never used
        # The penalty's gradient in trained coordinates: the raw one,
        # alpha_j * w_j = alpha_j * factor_j * w'_j, times factor_j (chain).
        factor = scaling.factor.astype(np.float64)
        self.curvature = (factor**2 / p).astype(coef.dtype)
        l2 = loss.penalty.l2  # a float, or per output (K, 1) for a regressor
        self.l2 = l2.astype(coef.dtype) if np.ndim(l2) else l2
        self.factor = scaling.factor
        self.intercept = coef.shape[1] > self.d
        self._compiled = _numba_installed()
        self._marker = np.full(self.d, -1, dtype=np.int32)  # half the cache misses

    def run(self, shuffle, rng, average=None):
        """One pass; return the epoch's objective, or None if non-finite."""
        source, coef = self.source, self.coef
        start = coef.copy()
        last = np.zeros(coef.shape[1], dtype=np.intp) if average is not None else None
        if average is not None:
            average[...] = 0
        loss_total, n_steps = 0.0, 0
        for rows, share in self._batches(shuffle, rng):
            index, X = self._own_columns(rows)
            sub = np.take(coef, index, axis=1)
            Y, s = source.Y[rows], source.sample_weight[rows]
            grad, loss_sum = self._gradient(
                index, sub, X, Y, s, source.weight_sum * share
            )
            if grad is None:
                return self._nonfinite(start, average)
            if average is not None:  # the iterates each column held since it changed
                average[:, index] += sub * (n_steps - last[index])
                last[index] = n_steps
            self.optimizer.lazy_step(coef, grad, self.state, index)
            loss_total += loss_sum
            n_steps += 1
        self.n_steps = n_steps
        if average is not None:
            average += coef * (n_steps - last)
            average /= n_steps
        W, _ = self.loss.weight_intercept(self.scaling.to_raw(coef))
        epoch_loss = loss_total / source.weight_sum + self.loss.penalty.value(W)
        return self._epoch_result(epoch_loss, start, average)

    def _batches(self, shuffle, rng):
        """``(rows, share)`` per minibatch, as :class:`Minibatches` orders them."""
        source = self.source
        n, B = source.n_rows, source.batch_size
        order = np.arange(n) if source.rows is None else source.rows
        if shuffle and B < n:
            order = rng.permutation(order)
        for lo in range(0, n, B):
            hi = min(lo + B, n)
            yield np.sort(order[lo:hi]), (hi - lo) / n

    def _own_columns(self, rows):
        """The touched columns (increasing; then the intercept's) and the rows.

        The rows come as CSR ``(indptr, indices, data)`` on those columns
        alone, renumbered (``X[rows][:, columns]``).
        """
        X = self.source.X
        if self._compiled:
            from ._numba import batch_columns

            columns, *batch = batch_columns(
                X.indptr, X.indices, X.data, rows, self._marker
            )
        else:
            X = X[rows]
            marker = self._marker
            marker[X.indices] = 0
            columns = np.flatnonzero(marker >= 0)
            marker[columns] = np.arange(len(columns))
            batch = [X.indptr, marker[X.indices], X.data]
            marker[columns] = -1
        if self.intercept:
            columns = np.append(columns, self.d)
        return columns, batch

    def _gradient(self, index, sub, batch, Y, s, weight_sum):
        """The objective's gradient (trained coordinates) on ``sub``'s columns.

        ``sub``: the trained coefficients of the columns ``index`` (the
        intercept last); ``batch``: the rows on them. Returns
        ``(grad, loss_sum)``, or ``(None, None)`` when either is not finite.
        """
        k = sub.shape[1] - self.intercept
        factor = self.factor[index[:k]]
        raw = sub.copy()
        raw[:, :k] *= factor  # raw coefficients: the standardisation only scales
        Z = np.zeros((len(Y), sub.shape[0]), sub.dtype)
        grad = np.zeros_like(sub)
        if self._compiled:
            from ._numba import csr_times_transposed, transposed_csr_times

            csr_times_transposed(*batch, raw, Z)
        else:
            X = sparse.csr_matrix(tuple(batch[::-1]), shape=(len(Y), k))
            Z += X @ raw[:, :k].T
        if self.intercept:
            Z += raw[:, k]
        loss_sum, R = self.loss.base_loss.loss_gradient(Y, Z, s, in_place=True)
        if self._compiled:
            transposed_csr_times(*batch, R, grad)
        else:
            grad[:, :k] = (X.T @ R).T
        if self.intercept:
            grad[:, k] = np.ones(len(R), R.dtype) @ R
        grad /= weight_sum
        grad[:, :k] *= factor  # the chain rule into trained coordinates
        grad[:, :k] += self.l2 * self.curvature[index[:k]] * sub[:, :k]
        if not (math.isfinite(loss_sum) and np.isfinite(grad).all()):
            return None, None
        return grad, loss_sum
