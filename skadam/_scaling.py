"""Weighted, numerically sound statistics of features and targets.

The estimators train the coefficients of standardised features (and
targets), which they never form: :class:`Standardization` is the change of
variables, and :func:`feature_standardization` / :func:`target_scaling`
derive it from :class:`WeightedMoments`.

Every mean and variance accumulates in float64 with a centred formula,
whatever the dtype of the data: a two-pass formula over row chunks for dense
arrays (never a float64 copy of the whole array), the centred two-pass
kernels of :func:`sklearn.utils.sparsefuncs.mean_variance_axis` for CSR and
CSC matrices (never densified), and Chan, Golub & LeVeque's pairwise update
(:meth:`WeightedMoments.merge`) to combine blocks, as a Dask reduction
would.  The raw-moment formula ``E[x^2] - E[x]^2`` in the data's dtype,
used before, took ``1e5 + N(0, 1)`` in float32 for a constant.

A feature is constant when its values are all equal, or when its spread is
below the rounding of its values in their dtype (standard deviation at most
:data:`ROUNDING_ULPS` units in the last place of its largest magnitude).

References
----------
T. F. Chan, G. H. Golub and R. J. LeVeque, "Algorithms for computing the
sample variance: analysis and recommendations", The American Statistician
37(3), 1983.
"""

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from sklearn.utils.sparsefuncs import mean_variance_axis

from ._adam import _numba_installed

__all__ = [
    "Standardization",
    "WeightedMoments",
    "feature_standardization",
    "normalized_weights",
    "target_scaling",
]

#: A spread of at most this many units in the last place of a column's
#: largest magnitude is rounding, not signal.
ROUNDING_ULPS = 4
#: Elements per float64 chunk in the dense two-pass formula (512 KiB).
_CHUNK_ELEMENTS = 1 << 16


def normalized_weights(sample_weight):
    """Return the weights divided by their maximum, in float64.

    The objective is normalised by the sum of the weights, so it does not
    change; but a sum that overflows (weights of 1e307 each) no longer does.

    Parameters
    ----------
    sample_weight : ndarray of shape (n,)
        Finite, non-negative weights, not all zero.

    Returns
    -------
    weights : ndarray of shape (n,), float64
        Weights in ``[0, 1]`` with maximum 1.
    """
    s = np.asarray(sample_weight, dtype=np.float64)
    return s / s.max()


@dataclass
class WeightedMoments:
    """Weighted mean, centred sum of squares and range of each column.

    Attributes
    ----------
    weight_sum : float
        Sum of the weights.
    mean : ndarray of shape (d,), float64
        Weighted means.
    m2 : ndarray of shape (d,), float64
        Weighted centred sums of squares in units of ``unit**2``,
        ``sum_i w_i ((x_ij - mean_j) / unit_j)^2``.
    unit : ndarray of shape (d,), float64
        Powers of two (exact to divide by) that keep the squares of columns
        near the float range finite.
    low, high : ndarray of shape (d,), float64
        Minimum and maximum over the rows of positive weight.
    dtype : numpy.dtype
        The data's dtype (whose rounding decides what is constant).

    Examples
    --------
    >>> import numpy as np
    >>> from skadam._scaling import WeightedMoments
    >>> X = (1e5 + np.array([[-1.0], [0.0], [1.0]])).astype(np.float32)
    >>> moments = WeightedMoments.from_array(X, np.ones(3))
    >>> moments.mean.tolist(), moments.variance.tolist()
    ([100000.0], [0.6666666666666666])
    """

    weight_sum: float
    mean: np.ndarray
    m2: np.ndarray
    unit: np.ndarray
    low: np.ndarray
    high: np.ndarray
    dtype: np.dtype

    @classmethod
    def from_array(cls, X, weights):
        """Moments of the columns of ``X`` (dense, CSR or CSC), weighted.

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n, d)
            float32 or float64 data; not copied as a whole, not densified.
        weights : ndarray of shape (n,)
            Non-negative weights with a positive sum (normalise them with
            :func:`normalized_weights` first if their sum may overflow).

        Returns
        -------
        moments : WeightedMoments
        """
        w = np.asarray(weights, dtype=np.float64)
        weight_sum = float(w.sum())
        low, high = _column_range(X, w > 0)
        if sparse.issparse(X):
            mean, m2 = _sparse_mean_m2(X, w, weight_sum)
            m2 = np.maximum(m2, 0.0)  # its correction term may leave -1e-31
            unit = np.ones_like(mean)
        else:
            unit = _power_of_two_above(np.maximum(np.abs(low), np.abs(high)))
            mean, m2 = _dense_mean_m2(X, w, weight_sum, unit)
        return cls(weight_sum, mean, m2, unit, low, high, np.dtype(X.dtype))

    def merge(self, other):
        """Return the moments of the rows of both (Chan et al.'s update)."""
        total = self.weight_sum + other.weight_sum
        if not other.weight_sum:
            return self
        if not self.weight_sum:
            return other
        unit = np.maximum(self.unit, other.unit)
        delta = (other.mean - self.mean) / unit
        share = other.weight_sum / total
        return WeightedMoments(
            total,
            self.mean + delta * unit * share,
            self.m2 * (self.unit / unit) ** 2
            + other.m2 * (other.unit / unit) ** 2
            + delta**2 * self.weight_sum * share,
            unit,
            np.minimum(self.low, other.low),
            np.maximum(self.high, other.high),
            np.promote_types(self.dtype, other.dtype),
        )

    @property
    def variance(self):
        """Weighted (population) variance of each column (inf if it overflows)."""
        with np.errstate(over="ignore"):
            return self.m2 / self.weight_sum * self.unit**2

    @property
    def std(self):
        """Weighted (population) standard deviation of each column, float64."""
        return np.sqrt(self.m2 / self.weight_sum) * self.unit

    @property
    def constant(self):
        """Boolean mask of the columns whose spread is only rounding."""
        largest = np.maximum(np.abs(self.low), np.abs(self.high))
        rounding = ROUNDING_ULPS * np.finfo(self.dtype).eps * largest
        return (self.low == self.high) | (self.std <= rounding)


def _power_of_two_above(values):
    """The smallest powers of two at least ``values`` (1 for zeros)."""
    _, exponent = np.frexp(values)
    return np.ldexp(1.0, np.where(values > 0, exponent, 0))


def _sparse_mean_m2(X, w, weight_sum):
    """Centred two-pass kernels accumulating in float64, never densified.

    :func:`~sklearn.utils.sparsefuncs.mean_variance_axis` (checked in
    ``sklearn/utils/sparsefuncs_fast.pyx``) takes the weights in ``X``'s
    dtype; float32 data goes through it in float64 chunks (of columns for
    CSC, of rows for CSR, merged by Chan's update), so that the weights are
    not rounded to float32 and no float64 copy of ``X`` is made.
    """
    if X.dtype == np.float64:
        mean, variance = mean_variance_axis(X, axis=0, weights=w)
        return mean, variance * weight_sum
    if X.format == "csc":
        step = max(1, X.shape[1] // 16)
        parts = [
            mean_variance_axis(X[:, j : j + step].astype(np.float64), 0, weights=w)
            for j in range(0, X.shape[1], step)
        ]
        mean = np.concatenate([p[0] for p in parts])
        return mean, np.concatenate([p[1] for p in parts]) * weight_sum
    total = None
    step = max(1, _CHUNK_ELEMENTS // max(1, X.shape[1]))
    for lo in range(0, X.shape[0], step):
        w_c = w[lo : lo + step]
        if not w_c.sum():
            continue
        mean, variance = mean_variance_axis(
            X[lo : lo + step].astype(np.float64), 0, weights=w_c
        )
        ones = np.ones_like(mean)
        part = WeightedMoments(
            float(w_c.sum()), mean, variance * w_c.sum(), ones, ones, ones, X.dtype
        )
        total = part if total is None else total.merge(part)
    return total.mean, total.m2


def _dense_mean_m2(X, w, weight_sum, unit):
    """Two passes over float64 row chunks: the mean, then the centred squares."""
    step = max(1, _CHUNK_ELEMENTS // max(1, X.shape[1]))
    mean = np.zeros(X.shape[1])
    for lo in range(0, X.shape[0], step):
        mean += w[lo : lo + step] @ X[lo : lo + step].astype(np.float64)
    mean /= weight_sum
    m2 = np.zeros(X.shape[1])
    for lo in range(0, X.shape[0], step):
        D = X[lo : lo + step].astype(np.float64)
        D -= mean
        D /= unit  # exact; keeps the squares of huge values finite
        D *= D
        m2 += w[lo : lo + step] @ D
    return mean, m2


def _column_range(X, rows):
    """Minimum and maximum of each column over ``rows`` (a boolean mask), float64."""
    if not sparse.issparse(X):
        # fmin/fmax equal min/max on finite X (validated) and run about 4x
        # faster down the columns of a C-ordered array.
        where = rows[:, None]
        low = np.fmin.reduce(X, axis=0, where=where, initial=np.inf)
        high = np.fmax.reduce(X, axis=0, where=where, initial=-np.inf)
        return low.astype(np.float64), high.astype(np.float64)
    low, high = np.full(X.shape[1], np.inf), np.full(X.shape[1], -np.inf)
    if X.format == "csc":  # column slices are cheap
        step = max(1, X.shape[1] // 16)
        for j in range(0, X.shape[1], step):
            chunk = X[:, j : j + step][rows]
            low[j : j + step] = chunk.min(axis=0).toarray().ravel()
            high[j : j + step] = chunk.max(axis=0).toarray().ravel()
        return low, high
    # CSR: the stored values (compiled when numba is installed, else in
    # chunks of rows), then the implicit zeros.
    stored = np.zeros(X.shape[1], dtype=np.int64)
    if _numba_installed():
        from ._numba import csr_column_range

        rows = np.asarray(rows, dtype=bool)
        csr_column_range(X.indptr, X.indices, X.data, rows, low, high, stored)
    else:
        step = 1024
        for lo in range(0, X.shape[0], step):
            chunk = X[lo : lo + step][rows[lo : lo + step]]
            np.minimum.at(low, chunk.indices, chunk.data)
            np.maximum.at(high, chunk.indices, chunk.data)
            stored += np.bincount(chunk.indices, minlength=X.shape[1])
    zeros = stored < np.count_nonzero(rows)
    low[zeros], high[zeros] = np.minimum(low[zeros], 0), np.maximum(high[zeros], 0)
    return low, high


@dataclass
class Standardization:
    """The change of variables between trained and raw coefficients.

    The trained coefficients ``(W', b')`` are those of the features
    ``(x - mean) * factor``: the raw ones are ``W = W' * factor`` (columnwise)
    and ``b = b' - W @ mean``.  ``X - mean`` is never formed.  A zero
    ``factor`` freezes a coefficient at 0 (a constant feature, whose effect
    the intercept takes).

    Attributes
    ----------
    mean : ndarray of shape (d,)
        Feature offsets (zeros without an intercept, which absorbs them).
    factor : ndarray of shape (d,)
        One over the feature scales; 0 for frozen features.
    freeze_intercept : bool
        Report a zero gradient for ``b'`` (held at its optimum, 0, for the
        squared loss on centred features and targets: Adam would otherwise
        amplify the rounding noise of its near-zero gradient).
    centred : bool
        Whether any ``mean`` is non-zero, fixed at construction (``mean`` is
        not changed afterwards; a new object replaces it).

    Examples
    --------
    >>> import numpy as np
    >>> from skadam._scaling import Standardization
    >>> scaling = Standardization(np.array([200.0, 0.0]), np.array([0.01, 1.0]))
    >>> scaling.to_raw(np.array([[0.5, -1.0, 2.0]])).tolist()
    [[0.005, -1.0, 1.0]]
    """

    mean: np.ndarray
    factor: np.ndarray
    freeze_intercept: bool = False
    # Set at construction: the steps ask it twice each, and np.any over
    # 2**18 offsets costs 50 microseconds.
    centred: bool = field(init=False, repr=False)

    def __post_init__(self):
        self.centred = bool(np.any(self.mean))

    def __setstate__(self, state):
        # Estimators pickled before ``centred`` existed continue training.
        self.__dict__.update(state)
        if "centred" not in state:
            self.centred = bool(np.any(self.mean))

    @classmethod
    def identity(cls, n_features, dtype):
        """Train the raw coefficients themselves."""
        return cls(np.zeros(n_features, dtype), np.ones(n_features, dtype))

    def to_raw(self, coef):
        """Raw coefficients, packed like ``coef`` (shape (K, d + fit_intercept))."""
        d = len(self.factor)
        raw = np.empty_like(coef)
        W = np.multiply(coef[:, :d], self.factor, out=raw[:, :d])  # one pass
        raw[:, d:] = coef[:, d:]
        if raw.shape[1] > d and self.centred:
            raw[:, -1] -= W @ self.mean
        return raw

    def chain(self, grad):
        """Turn a gradient in raw coefficients into one in trained ones, in place."""
        d = len(self.factor)
        gW = grad[:, :d]
        if grad.shape[1] > d:
            if self.centred:  # not after scaling alone (sparse X)
                gW -= np.outer(grad[:, -1], self.mean)
            if self.freeze_intercept:
                grad[:, -1] = 0
        gW *= self.factor
        return grad


def feature_standardization(moments, alpha, center):
    """The :class:`Standardization` of the features, from their moments.

    The scale is the weighted standard deviation (root mean square without
    centring), at least a third of the largest deviation from the mean (so
    that no standardised value exceeds 3 in size, as a rare category's 1
    would: Adam moves every coefficient by about ``learning_rate``), and at
    least ``sqrt(alpha)`` (the penalty's curvature ``alpha / scale**2`` stays
    at most 1). With ``center``, constant features (see
    :attr:`WeightedMoments.constant`) are frozen at a zero coefficient;
    without, they are scaled by their size, like an intercept.

    Parameters
    ----------
    moments : WeightedMoments
    alpha : float
    center : bool
        Whether the model has an intercept to absorb the means.

    Returns
    -------
    standardization : Standardization
        Arrays in the data's dtype.
    """
    constant = moments.constant
    mean = moments.mean.copy() if center else np.zeros_like(moments.mean)
    # hypot: the root mean square without centring, without overflow.
    scale = moments.std if center else np.hypot(moments.std, moments.mean)
    largest = np.maximum(moments.high - mean, mean - moments.low)
    scale[np.isinf(scale)] = largest[np.isinf(scale)]  # sparse squares overflowed
    scale = np.maximum(scale, largest / 3)
    scale = np.maximum(scale, np.sqrt(alpha))
    scale[~(scale > 0)] = 1.0
    factor = 1.0 / scale
    if center:
        mean[constant], factor[constant] = 0.0, 0.0
    return Standardization(mean.astype(moments.dtype), factor.astype(moments.dtype))


def target_scaling(moments, center):
    """Per-output shift (the weighted mean, if centring) and scale of the targets.

    Training on ``(Y - shift) / scale`` is an exact reparametrisation of the
    objective (per output it is multiplied by ``scale**2`` at the same
    ``alpha``) that puts the coefficients on the unit scale at which Adam's
    steps are meaningful.  A constant output is not rescaled, and is shifted
    by its exact value, so that it is fitted exactly.

    Parameters
    ----------
    moments : WeightedMoments
        Of the targets, shape (n, n_outputs).
    center : bool
        Whether the model has an intercept.

    Returns
    -------
    shift, scale : ndarray of shape (n_outputs,)
        In the targets' dtype.
    """
    constant = moments.constant
    shift = moments.mean.copy() if center else np.zeros_like(moments.mean)
    # hypot: the root mean square without centring, without overflow.
    scale = moments.std if center else np.hypot(moments.std, moments.mean)
    largest = np.maximum(moments.high - shift, shift - moments.low)
    scale[np.isinf(scale)] = largest[np.isinf(scale)]  # sparse squares overflowed
    scale[~(scale > 0)] = 1.0
    if center:
        scale[constant], shift[constant] = 1.0, moments.low[constant]
    return shift.astype(moments.dtype), scale.astype(moments.dtype)
