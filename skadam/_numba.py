"""Adam's update compiled by numba: ``Adam(backend="numba")``.

:meth:`skadam.Adam._numpy_update` is the reference: a dozen whole-array NumPy
operations, about twelve passes over memory per step. :func:`adam_step` does the
same arithmetic, in the same order and precision (the results are equal to
1 ulp, in practice bit for bit), in one pass: it reads ``x, g, m, v`` and writes
``x, m, v`` once per element, the memory-bandwidth floor of Adam (56 bytes per
float64 parameter), and allocates nothing.

numba is optional (``pip install '.[fast]'``). This module imports it, so
skadam imports this module only when the numba backend runs, never at
``import skadam``. The kernel is compiled once per combination of dtype and
variant and cached on disk (``cache=True``).
"""

import math

import numba
import numpy as np

__all__ = ["adam_step", "lazy_adam_step"]


# error_model="numpy": a division by zero gives inf/nan as in NumPy instead of
# raising, which also lets LLVM vectorise the loop.
@numba.njit(cache=True, error_model="numpy", nogil=True, inline="always")
def _adam_element(xi, gi, mi, vi, vmi, b1, omb1, b2, omb2, eps, sc2, lr_c1, clip,
                  l2, decay):  # fmt: skip
    """One element's step: return the new ``(x, m, v, v_max)``."""
    if clip is not None:
        gi = gi * clip
    if l2 is not None:
        gi = xi * l2 + gi
    if decay is not None:
        xi = xi * decay
    mi = mi * b1 + gi * omb1
    vi = vi * b2 + (gi * gi) * omb2
    vd = vi
    if vmi is not None:
        # np.maximum semantics: a NaN in either operand wins.
        vd = vi if (vi > vmi or vi != vi) else vmi
    return xi - (mi / (math.sqrt(vd) / sc2 + eps)) * lr_c1, mi, vi, vd


@numba.njit(cache=True, error_model="numpy", nogil=True)
def _adam_kernel(x, g, m, v, v_max, out, b1, omb1, b2, omb2, eps, sc2, lr_c1,
                 clip, l2, decay):  # fmt: skip
    """One Adam step on flat arrays; see :meth:`skadam.Adam._numpy_update`.

    Per element, with ``omb = 1 - beta``, ``sc2 = sqrt(1 - beta_2**t)`` and
    ``lr_c1 = lr / (1 - beta_1**t)``::

        g <- g * clip; g <- x * l2 + g; x <- x * decay
        m <- m * b1 + g * omb1
        v <- v * b2 + (g * g) * omb2
        v_max <- max(v_max, v), used in place of v   (AMSGrad)
        x <- x - (m / (sqrt(v) / sc2 + eps)) * lr_c1

    Each optional part is off when its argument is None (``clip``, ``l2``,
    ``decay``, ``v_max``): numba compiles a version per combination with the
    dead branches removed. ``out=None`` updates ``x``, else ``x`` is only read.
    """
    for i in range(x.size):
        vmi = None if v_max is None else v_max[i]
        new, m[i], v[i], vd = _adam_element(x[i], g[i], m[i], v[i], vmi, b1, omb1,
                                            b2, omb2, eps, sc2, lr_c1, clip, l2,
                                            decay)  # fmt: skip
        if v_max is not None:
            v_max[i] = vd
        if out is None:
            x[i] = new
        else:
            out[i] = new


@numba.njit(cache=True, error_model="numpy", nogil=True)
def _lazy_adam_kernel(x, g, m, v, v_max, index, b1, omb1, b2, omb2, eps, sc2,
                      lr_c1, clip, l2, decay):  # fmt: skip
    """The same step on the columns ``index`` of 2-D ``x`` (``g``: those columns)."""
    for r in range(x.shape[0]):
        for jj in range(index.size):
            j = index[jj]
            vmi = None if v_max is None else v_max[r, j]
            new, m[r, j], v[r, j], vd = _adam_element(
                x[r, j], g[r, jj], m[r, j], v[r, j], vmi, b1, omb1, b2, omb2, eps,
                sc2, lr_c1, clip, l2, decay)  # fmt: skip
            if v_max is not None:
                v_max[r, j] = vd
            x[r, j] = new


def adam_step(x, grad, m, v, v_max, out, scalars):
    """Run the compiled kernel on C-contiguous arrays of one float dtype.

    Parameters
    ----------
    x, m, v : ndarray
        Parameters and moments, C-contiguous, one shape and dtype; ``m`` and
        ``v`` are updated, and ``x`` too unless ``out`` is given.
    grad : ndarray
        Gradient of ``x``'s shape and dtype, not modified (any layout: a
        non-contiguous gradient is copied).
    v_max : ndarray or None
        AMSGrad maximum (updated), or ``None``.
    out : ndarray or None
        C-contiguous, receives the new parameters; ``None`` updates ``x``.
    scalars : tuple
        ``(b1, omb1, b2, omb2, eps, sc2, lr_c1, clip, l2, decay)``: floats,
        ``clip``, ``l2`` and ``decay`` None when unused. They are rounded to the
        arrays' precision first, as NumPy rounds a Python float before
        multiplying a float32 array.
    """
    grad = grad if grad.flags.c_contiguous else grad.copy()
    arrays = (x, grad, m, v, v_max, out)
    if x.ndim != 1:  # C-contiguous: reshape gives views
        arrays = [None if a is None else a.reshape(-1) for a in arrays]
    if x.dtype != np.float64:  # Python floats are float64 already
        as_dtype = x.dtype.type
        scalars = [None if c is None else as_dtype(c) for c in scalars]
    _adam_kernel(*arrays, *scalars)


def lazy_adam_step(x, grad, m, v, v_max, index, scalars):
    """Run the compiled step on the columns ``index`` of C-contiguous arrays.

    Parameters
    ----------
    x, m, v, v_max : ndarray of shape (..., n)
        As in :func:`adam_step` (``v_max`` may be None); updated at the
        columns ``index`` of the last axis only.
    grad : ndarray of shape (..., len(index))
        The gradient at those columns, of ``x``'s dtype.
    index : ndarray of intp of shape (k,)
        Distinct columns in ``[0, n)``.
    scalars : tuple
        As in :func:`adam_step`.
    """
    n, k = x.shape[-1], index.size
    x2, m2, v2 = (a.reshape(-1, n) for a in (x, m, v))
    vm2 = None if v_max is None else v_max.reshape(-1, n)
    g2 = np.ascontiguousarray(grad).reshape(-1, k)
    if x.dtype != np.float64:
        as_dtype = x.dtype.type
        scalars = [None if c is None else as_dtype(c) for c in scalars]
    _lazy_adam_kernel(x2, g2, m2, v2, vm2, index, *scalars)


# The lazy epochs' minibatch products (skadam._sparse): a CSR minibatch taken
# to the columns it touches, without SciPy's per-matrix overhead (each step
# costs tens of microseconds, SciPy's constructors alone about as much).


@numba.njit(cache=True, nogil=True)
def batch_columns(indptr, indices, data, rows, marker):
    """Rows ``rows`` of a CSR matrix on their own columns, renumbered.

    One random access per stored value (into ``marker``, of ``n_features``
    entries): the columns are numbered in the order first seen, then put in
    increasing order by a scan of ``marker`` (or a sort, when they are few),
    and the values renumbered through a table of the touched columns only.

    Parameters
    ----------
    indptr, indices, data : ndarray
        The CSR matrix.
    rows : ndarray of intp
        The minibatch's rows.
    marker : ndarray of int32 of shape (n_features,)
        All -1; left so.

    Returns
    -------
    columns : ndarray of intp of shape (k,)
        The touched columns, increasing.
    sub_indptr, sub_indices, sub_data : ndarray
        The minibatch as CSR of shape ``(len(rows), k)``.
    """
    nnz = 0
    for r in rows:
        nnz += indptr[r + 1] - indptr[r]
    seen = np.empty(nnz, np.intp)
    sub_indptr = np.empty(rows.size + 1, np.intp)
    sub_indices = np.empty(nnz, np.intp)
    sub_data = np.empty(nnz, data.dtype)
    k = q = 0
    sub_indptr[0] = 0
    for i in range(rows.size):
        r = rows[i]
        for p in range(indptr[r], indptr[r + 1]):
            j = indices[p]
            c = marker[j]
            if c < 0:
                c = k
                marker[j] = k
                seen[k] = j
                k += 1
            sub_indices[q] = c
            sub_data[q] = data[p]
            q += 1
        sub_indptr[i + 1] = q
    rank = np.empty(k, np.intp)
    if 64 * k < marker.size:  # few columns: sorting them is the cheaper way
        columns = np.sort(seen[:k])
        for c in range(k):
            rank[marker[columns[c]]] = c
    else:  # many: one sequential scan of the marker beats a sort
        columns = np.empty(k, np.intp)
        c = 0
        for j in range(marker.size):
            if marker[j] >= 0:
                rank[marker[j]] = c
                columns[c] = j
                c += 1
    for c in range(k):
        marker[columns[c]] = -1
    for q in range(nnz):
        sub_indices[q] = rank[sub_indices[q]]
    return columns, sub_indptr, sub_indices, sub_data


@numba.njit(cache=True, nogil=True)
def csr_times_transposed(indptr, indices, data, W, Z):
    """``Z += X @ W.T`` for CSR ``X`` of shape (n, k), ``W`` (K, k), ``Z`` (n, K)."""
    for i in range(indptr.size - 1):
        for p in range(indptr[i], indptr[i + 1]):
            j, a = indices[p], data[p]
            for r in range(W.shape[0]):
                Z[i, r] += a * W[r, j]


@numba.njit(cache=True, nogil=True)
def transposed_csr_times(indptr, indices, data, R, G):
    """``G += (X.T @ R).T`` for CSR ``X`` (n, k), ``R`` (n, K), ``G`` (K, k)."""
    for i in range(indptr.size - 1):
        for p in range(indptr[i], indptr[i + 1]):
            j, a = indices[p], data[p]
            for r in range(R.shape[1]):
                G[r, j] += a * R[i, r]


@numba.njit(cache=True, nogil=True)
def csr_column_range(indptr, indices, data, rows, low, high, stored):
    """Per column of a CSR matrix: minimum and maximum stored value, and count.

    Over the rows where ``rows`` (bool, one per row) is True; ``low``,
    ``high`` (float64, start at +inf and -inf) and ``stored`` (int64, start
    at 0) are updated in place. One sequential pass (NumPy's ``ufunc.at``
    costs about ten times more). ``data`` is finite (validated).
    """
    for i in range(indptr.size - 1):
        if not rows[i]:
            continue
        for p in range(indptr[i], indptr[i + 1]):
            j, a = indices[p], data[p]
            if a < low[j]:
                low[j] = a
            if a > high[j]:
                high[j] = a
            stored[j] += 1
