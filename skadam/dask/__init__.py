"""Run skadam on a Dask cluster (optional; ``pip install ".[dask]"``).

``import skadam`` never imports Dask; importing this package does.  It adds a
few small pieces to what Dask and dask-ml already provide:

- :class:`DaskLinearObjective` (``_objective.py``): the loss and gradient of
  a linear model (:class:`skadam._linear_loss.LinearModelLoss`) over data
  kept on the workers, evaluated as one reduction per call, so that
  ``scipy.optimize.minimize(objective, x0, method=adam_minimize, jac=True)``
  takes one round trip to the cluster per Adam step.
- :func:`fit_full_batch` (``_full_batch.py``): an estimator's own full-batch
  ``fit`` (``batch_size=None``), with its statistics, target encoding and
  sample weights computed block by block on the workers and one reduction
  per Adam step; the fitted attributes mean what they mean after ``fit``.
- :class:`Incremental` (``_incremental.py``): :class:`dask_ml.wrappers.Incremental`
  that refuses an ``X`` chunked along its columns (:func:`check_row_chunks`;
  dask-ml's own wrapper hands each call of ``partial_fit`` only the first
  column block, which trains a model on a subset of the features without
  any error), splits ``sample_weight`` along the row blocks, and accepts
  every Dask DataFrame.
- ``_blocks.py``: row blocks checked, aligned and kept on the workers, with
  one task per worker per reduction.

Hyperparameter searches (``joblib.parallel_backend("dask")``) need nothing
from skadam: see the "Scaling out" page of the documentation.
"""

from ._blocks import check_row_chunks
from ._full_batch import fit_full_batch
from ._incremental import Incremental
from ._objective import DaskLinearObjective

__all__ = ["DaskLinearObjective", "Incremental", "check_row_chunks", "fit_full_batch"]
