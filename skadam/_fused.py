"""The Adam update element by element, in one pass: compiled or interpreted.

:class:`skadam.Adam` writes its update as a dozen whole-array NumPy
operations: the reference implementation, readable, but it makes about twelve
passes over memory per step and pays a dozen ufunc calls even for two
parameters. :func:`adam_kernel` below does the same arithmetic, in the same
order and the same precision (so the results are identical), one element at a
time. It is used in two ways:

- **compiled by numba** (optional: ``pip install skadam[fast]``) for arrays of
  at least :data:`NUMBA_MIN_SIZE` parameters. The compiled loop reads ``x, g,
  m, v`` and writes ``x, m, v`` once per element, the memory-bandwidth floor of
  Adam (56 bytes per float64 parameter), and above :data:`PARALLEL_MIN_SIZE`
  it runs on all cores. numba is imported the first time such an array is
  stepped (never when skadam is imported) and the kernel is compiled once and
  cached on disk (``cache=True``); smaller problems never pay that import.
- **interpreted by Python** on lists of floats for float64 arrays of at most
  :data:`PYTHON_MAX_SIZE` parameters, where a few dozen float operations cost
  less than a dozen ufunc calls. Python floats are IEEE doubles, so this is
  exact too.

Anything else (other sizes without numba, non-contiguous arrays, a gradient of
another dtype) takes the NumPy path.
"""

import math

import numpy as np

__all__ = ["fused_step"]

# Thresholds measured with ``python -m benchmarks`` on a 2-core x86-64 machine.
# Up to this many float64 parameters the interpreted kernel beats NumPy.
PYTHON_MAX_SIZE = 4
# From this many parameters a step saves enough (tens of microseconds) to
# justify importing numba, which costs about 0.4 s once per process.
NUMBA_MIN_SIZE = 20_000
# From this many parameters the threaded kernel beats the serial one.
PARALLEL_MIN_SIZE = 200_000

# Replaced by numba.prange when the kernels are compiled (see _compile).
prange = range

# None: not tried yet; False: numba is unavailable; else (serial, parallel).
_kernels = None


def adam_kernel(x, g, m, v, v_max, b1, omb1, b2, omb2, eps, sc2, lr_c1, wd, dec,
                coupled_l2, decoupled, amsgrad):  # fmt: skip
    """Apply one Adam step to the flat sequences ``x``, ``m``, ``v`` in place.

    Per element, with ``omb = 1 - beta`` (see :class:`skadam.Adam`)::

        g <- x * wd + g                              (coupled_l2)
        x <- x * dec,  dec = 1 - lr * wd             (decoupled)
        m <- m * b1 + g * omb1
        v <- v * b2 + (g * g) * omb2
        v_max <- max(v_max, v), used in place of v   (amsgrad)
        x <- x - (m / (sqrt(v) / sc2 + eps)) * lr_c1

    with ``sc2 = sqrt(1 - beta_2**t)`` and ``lr_c1 = lr / (1 - beta_1**t)``.
    The scalars must already have the arrays' precision (NumPy rounds a Python
    float to float32 before multiplying a float32 array; so must the caller).
    """
    for i in prange(len(x)):
        xi = x[i]
        gi = g[i]
        if coupled_l2:
            gi = xi * wd + gi
        if decoupled:
            xi = xi * dec
        mi = m[i] * b1 + gi * omb1
        vi = v[i] * b2 + (gi * gi) * omb2
        m[i] = mi
        v[i] = vi
        if amsgrad:
            vm = v_max[i]
            # np.maximum semantics: a NaN in either operand wins.
            vi = vi if (vi > vm or vi != vi) else vm
            v_max[i] = vi
        x[i] = xi - (mi / (math.sqrt(vi) / sc2 + eps)) * lr_c1


def fused_step(x, grad, m, v, v_max, scalars, flags):
    """Run :func:`adam_kernel` if it applies; return whether it ran.

    Parameters
    ----------
    x, grad, m, v : ndarray
        Parameters, gradient and moments; ``x``, ``m``, ``v`` are updated.
    v_max : ndarray or None
        AMSGrad maximum (updated), or ``None``.
    scalars : tuple of float
        ``(b1, omb1, b2, omb2, eps, sc2, lr_c1, wd, dec)`` as Python floats.
    flags : tuple of bool
        ``(coupled_l2, decoupled, amsgrad)``.

    Returns
    -------
    ran : bool
        ``False``, with nothing changed, when neither form of the kernel
        applies to these arrays; the caller then uses NumPy.
    """
    if type(grad) is not np.ndarray or grad.dtype != x.dtype or grad is x:
        return False
    if x.size <= PYTHON_MAX_SIZE and x.dtype == np.float64 and x.ndim == 1:
        return _interpreted(x, grad, m, v, v_max, scalars, flags)
    if x.size < NUMBA_MIN_SIZE or not _contiguous(x, grad, m, v, v_max):
        return False
    if _kernels is None:
        _compile()
    if not _kernels:
        return False
    arrays = [a.reshape(-1) for a in (x, grad, m, v, v if v_max is None else v_max)]
    as_dtype = x.dtype.type  # see adam_kernel: scalars in the arrays' precision
    kernel = _kernels[x.size >= PARALLEL_MIN_SIZE]
    kernel(*arrays, *map(as_dtype, scalars), *flags)
    return True


def _interpreted(x, grad, m, v, v_max, scalars, flags):
    xs, ms, vs = x.tolist(), m.tolist(), v.tolist()
    vms = vs if v_max is None else v_max.tolist()
    adam_kernel(xs, grad.tolist(), ms, vs, vms, *scalars, *flags)
    x[...] = xs
    m[...] = ms
    v[...] = vs
    if v_max is not None:
        v_max[...] = vms
    return True


def _contiguous(*arrays):
    return all(a is None or a.flags.c_contiguous for a in arrays)


def _compile():
    """Build the serial and threaded kernels, or record that numba is absent."""
    global _kernels, prange
    try:
        import numba
    except ImportError:
        _kernels = False
        return
    prange = numba.prange
    # error_model="numpy": division by zero gives inf/nan as in NumPy instead of
    # raising, which also lets LLVM vectorise the loop.
    options = {"cache": True, "error_model": "numpy", "nogil": True}
    _kernels = (
        numba.njit(**options)(adam_kernel),
        numba.njit(parallel=True, **options)(adam_kernel),
    )
