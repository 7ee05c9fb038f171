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

__all__ = ["adam_step"]


# error_model="numpy": a division by zero gives inf/nan as in NumPy instead of
# raising, which also lets LLVM vectorise the loop.
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
        xi = x[i]
        gi = g[i]
        if clip is not None:
            gi = gi * clip
        if l2 is not None:
            gi = xi * l2 + gi
        if decay is not None:
            xi = xi * decay
        mi = m[i] * b1 + gi * omb1
        vi = v[i] * b2 + (gi * gi) * omb2
        m[i] = mi
        v[i] = vi
        if v_max is not None:
            vm = v_max[i]
            # np.maximum semantics: a NaN in either operand wins.
            vi = vi if (vi > vm or vi != vi) else vm
            v_max[i] = vi
        new = xi - (mi / (math.sqrt(vi) / sc2 + eps)) * lr_c1
        if out is None:
            x[i] = new
        else:
            out[i] = new


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
