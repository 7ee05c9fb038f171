"""Row blocks of Dask collections: checked, aligned, and kept on the workers.

:func:`check_row_chunks` refuses data chunked along its columns;
:func:`aligned_arrays` turns ``X``, ``y`` and the sample weights into Dask
arrays with the same row blocks; :class:`WorkerBlocks` computes one object
per row block, keeps it in the memory of the worker that computed it, and
reduces over them with one task per worker (one round trip per reduction).
"""

import dask.array as da
import dask.dataframe as dd
from distributed import default_client, wait

__all__ = [
    "WorkerBlocks",
    "aligned_arrays",
    "as_dask_array",
    "check_row_chunks",
    "row_blocks",
]


def check_row_chunks(X, y=None):
    """Raise a ``ValueError`` unless ``X`` is chunked along its rows only.

    Parameters
    ----------
    X : dask.array.Array, dask.dataframe.DataFrame or array-like
        The design matrix.  Dask DataFrames are partitioned by rows, and
        in-memory arrays are a single block, so only 2-D Dask arrays are
        checked.
    y : dask.array.Array or array-like, optional
        The targets; a Dask array must not be chunked along its columns
        either.

    Raises
    ------
    ValueError
        If ``X`` or ``y`` has more than one block along axis 1.  The message
        names the column chunks and gives the fix, ``X.rechunk({1: -1})``.

    Examples
    --------
    >>> import dask.array as da
    >>> from skadam.dask import check_row_chunks
    >>> X = da.zeros((100, 6), chunks=(50, 3))
    >>> check_row_chunks(X)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: X is chunked along its columns (column chunks (3, 3)): ...
    >>> check_row_chunks(X.rechunk({1: -1}))
    """
    for name, arr in (("X", X), ("y", y)):
        if isinstance(arr, da.Array) and arr.ndim == 2 and arr.numblocks[1] > 1:
            raise ValueError(
                f"{name} is chunked along its columns (column chunks "
                f"{arr.chunks[1]}): each block must hold all the columns, or "
                f"block-wise training sees only some features. Use "
                f"{name}.rechunk({{1: -1}}) first."
            )


def as_dask_array(data):
    """``data`` as a Dask array; a Dask DataFrame or Series with known row chunks."""
    if isinstance(data, (dd.DataFrame, dd.Series)):
        # Lengths make the row chunks known, so y can be aligned with X.
        return data.to_dask_array(lengths=True)
    return da.asarray(data)


def aligned_arrays(X, y, sample_weight=None):
    """Return ``X``, ``y`` and the weights as Dask arrays with ``X``'s row chunks.

    Parameters
    ----------
    X : dask.array.Array, dask.dataframe.DataFrame or array-like of shape (n, d)
    y : dask.array.Array, dask.dataframe.Series or array-like of shape (n,) or (n, k)
    sample_weight : dask.array.Array or array-like of shape (n,), optional

    Returns
    -------
    X, y, sample_weight : dask.array.Array
        ``sample_weight`` stays None when not given.

    Raises
    ------
    ValueError
        If ``X`` is not 2-D, is chunked along its columns, or if ``y`` or the
        weights do not have one value (row) per row of ``X``; the message
        names both lengths.
    """
    X, y = as_dask_array(X), as_dask_array(y)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D, got shape {X.shape}.")
    check_row_chunks(X, y)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]}.")
    y = y.rechunk({0: X.chunks[0]})
    if sample_weight is not None:
        sample_weight = as_dask_array(sample_weight)
        if sample_weight.shape != (X.shape[0],):
            raise ValueError(
                f"sample_weight must have shape ({X.shape[0]},), "
                f"got {sample_weight.shape}."
            )
        sample_weight = sample_weight.rechunk({0: X.chunks[0]})
    return X, y, sample_weight


def row_blocks(*arrays):
    """The delayed row blocks of aligned Dask arrays, zipped (None stays None)."""
    columns = [None if a is None else list(a.to_delayed().ravel()) for a in arrays]
    n_blocks = len(next(c for c in columns if c is not None))
    columns = [[None] * n_blocks if c is None else c for c in columns]
    return list(zip(*columns, strict=True))


class WorkerBlocks:
    """One computed object per row block, kept where it was computed.

    Parameters
    ----------
    blocks : list of dask.delayed.Delayed
        One per row block; each should have a key of its own (``pure=False``)
        so that closing these blocks never cancels another object's.
    client : distributed.Client, default=None
        None uses the default client.

    Raises
    ------
    Exception
        The first error raised on a worker while computing a block (a
        ``ValueError`` for invalid data, for example).
    """

    def __init__(self, blocks, client=None):
        client = default_client() if client is None else client
        self._adopt(client, client.compute(list(blocks)))

    def _adopt(self, client, futures):
        self.client, self.futures = client, futures
        wait(futures)
        failed = [future for future in futures if future.status == "error"]
        if failed:
            error = failed[0].exception()  # the worker's error, e.g. NaN in X
            self.close()
            raise error
        self.groups = _blocks_by_worker(client, futures)

    def __len__(self):
        return len(self.futures)

    def reduce(self, func, *args):
        """``func(*args, blocks)`` on every worker's blocks, gathered in a list.

        One task per worker, placed where its blocks are, so that a call costs
        one round trip and moves no data but ``args`` and the results.
        """
        return self.client.gather(
            [
                self.client.submit(
                    func,
                    *args,
                    blocks,
                    workers=[worker],
                    allow_other_workers=True,
                    pure=False,
                )
                for worker, blocks in self.groups
            ]
        )

    def map(self, func, *args):
        """New :class:`WorkerBlocks` of ``func(block, *args)``, on the same workers."""
        futures = [
            self.client.submit(func, block, *args, workers=[worker], pure=False)
            for worker, blocks in self.groups
            for block in blocks
        ]
        mapped = object.__new__(WorkerBlocks)
        mapped._adopt(self.client, futures)
        return mapped

    def close(self):
        """Release the blocks kept on the workers.

        By dropping the references to them, not by cancelling them: blocks
        mapped from these (:meth:`map`) are computed from them and would be
        cancelled too.
        """
        self.futures, self.groups = [], []


def _blocks_by_worker(client, blocks):
    """``[(worker address, [blocks it holds]), ...]``, in a stable order."""
    who_has = client.who_has(blocks)
    groups = {}
    for block in blocks:
        groups.setdefault(who_has[block.key][0], []).append(block)
    return sorted(groups.items())
