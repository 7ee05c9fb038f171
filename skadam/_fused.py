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
import types

import numpy as np

__all__ = ["fused_step"]

# Thresholds, from the "crossover" case of ``python -m benchmarks`` on a
# 2-core x86-64 machine (one float64 step: NumPy about 5 us up to d = 100).
# Up to this many float64 parameters the interpreted kernel beats NumPy
# (about 1.1 us at d = 2, 3.7 us at d = 16).
PYTHON_MAX_SIZE = 16
# From this many parameters a step saves tens of microseconds (NumPy 72 us,
# numba 15 us at d = 30,000): enough to pay for importing numba (about 0.4 s,
# once per process) over a run of a few thousand steps. Smaller problems
# never import it.
NUMBA_MIN_SIZE = 20_000
# From this many parameters the threaded kernel is used. On an idle machine
# it overtakes the serial one near d = 10,000 (2x faster from 10**5), but
# when every core is busy each threaded step can wait a scheduler time slice
# (about 7 ms measured, against 0.9 ms serial at d = 10**6): threads are used
# only where a serial step takes that long itself.
PARALLEL_MIN_SIZE = 4_000_000

# The kernel's loop when Python runs it; _compile swaps in numba's parallel
# range (which numba's serial build runs as a plain loop).
prange = range

# None: not tried yet; False: numba is unavailable; else (serial, parallel).
_kernels = None


def adam_kernel(x, g, m, v, v_max, out, b1, omb1, b2, omb2, eps, sc2, lr_c1, l2,
                decay):  # fmt: skip
    """Apply one Adam step to the flat sequences ``x`` (or ``out``), ``m``, ``v``.

    Per element, with ``omb = 1 - beta`` (see :class:`skadam.Adam`)::

        g <- x * l2 + g                              (coupled L2)
        x <- x * decay,  decay = 1 - lr * wd         (decoupled decay)
        m <- m * b1 + g * omb1
        v <- v * b2 + (g * g) * omb2
        v_max <- max(v_max, v), used in place of v   (AMSGrad)
        x <- x - (m / (sqrt(v) / sc2 + eps)) * lr_c1

    with ``sc2 = sqrt(1 - beta_2**t)`` and ``lr_c1 = lr / (1 - beta_1**t)``.
    Each optional part is off when its argument is None (``l2``, ``decay``,
    ``v_max``); ``out=None`` updates ``x`` in place, else ``x`` is only read.
    numba compiles a version per combination with the dead branches removed,
    which lets LLVM vectorise the loop. The scalars must already have the
    arrays' precision (NumPy rounds a Python float to float32 before
    multiplying a float32 array; so must the caller).
    """
    for i in prange(len(x)):
        xi = x[i]
        gi = g[i]
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


def fused_step(x, grad, m, v, v_max, out, scalars):
    """Run :func:`adam_kernel` if it applies; return whether it ran.

    Parameters
    ----------
    x, grad, m, v : ndarray
        Parameters, gradient and moments; ``m`` and ``v`` are updated.
    v_max : ndarray or None
        AMSGrad maximum (updated), or ``None``.
    out : ndarray or None
        Receives the new parameters, an array not overlapping ``x`` or
        ``grad``; ``None`` updates ``x`` in place.
    scalars : tuple
        ``(b1, omb1, b2, omb2, eps, sc2, lr_c1, l2, decay)``: Python floats,
        ``l2`` and ``decay`` None when unused.

    Returns
    -------
    ran : bool
        ``False``, with nothing changed, when neither form of the kernel
        applies to these arrays; the caller then uses NumPy.
    """
    if type(grad) is not np.ndarray or grad.dtype != x.dtype or grad is x:
        return False
    if x.size <= PYTHON_MAX_SIZE and x.dtype == np.float64 and x.ndim == 1:
        return _interpreted(x, grad, m, v, v_max, out, scalars)
    if x.size < NUMBA_MIN_SIZE or not _contiguous(x, grad, m, v, v_max, out):
        return False
    if _kernels is None:
        _compile()
    if not _kernels:
        return False
    arrays = [None if a is None else a.reshape(-1) for a in (x, grad, m, v, v_max, out)]
    as_dtype = x.dtype.type  # see adam_kernel: scalars in the arrays' precision
    scalars = [None if c is None else as_dtype(c) for c in scalars]
    _kernels[x.size >= PARALLEL_MIN_SIZE](*arrays, *scalars)
    return True


def _interpreted(x, grad, m, v, v_max, out, scalars):
    xs, ms, vs = x.tolist(), m.tolist(), v.tolist()
    vms = None if v_max is None else v_max.tolist()
    adam_kernel(xs, grad.tolist(), ms, vs, vms, None, *scalars)
    (x if out is None else out)[...] = xs
    m[...] = ms
    v[...] = vs
    if v_max is not None:
        v_max[...] = vms
    return True


def _contiguous(*arrays):
    return all(a is None or a.flags.c_contiguous for a in arrays)


def _compile():
    """Build the serial and threaded kernels, or record that numba is absent."""
    global _kernels
    try:
        import numba
    except ImportError:
        _kernels = False
        return
    _kernels = (_jit(numba, parallel=False), _jit(numba, parallel=True))


def _jit(numba, parallel):
    compiled_globals = {**globals(), "prange": numba.prange}
    kernel = types.FunctionType(adam_kernel.__code__, compiled_globals)
    # numba's on-disk cache is keyed by name and signature, not by options:
    # the serial and threaded builds need names of their own.
    kernel.__qualname__ = f"adam_kernel_{'parallel' if parallel else 'serial'}"
    # error_model="numpy": division by zero gives inf/nan as in NumPy instead of
    # raising, which also lets LLVM vectorise the loop.
    options = {"cache": True, "error_model": "numpy", "nogil": True}
    return numba.njit(parallel=parallel, **options)(kernel)
