"""
==============================================
Scaling out: two million rows on Dask workers
==============================================

skadam's estimators and minimizer run on a `Dask <https://www.dask.org>`_
cluster without any code of their own for it. This example trains a logistic
regression on two million rows held by Dask workers, in two ways, and times
each against the same training in this process:

- block by block with ``Incremental`` (Adam state carried from block to
  block, the result identical to the in-memory ``partial_fit`` loop);
- full-batch Adam with :func:`skadam.dask.fit_full_batch`, where every step
  is one reduction over the workers' blocks.

See :doc:`/scaling` for the third route (hyperparameter searches) and the
known limits.
"""

# %%
# A local cluster
# ---------------
# Two workers with one thread each, listening on this machine only. The
# workers are threads here so that the example also runs as a plain script;
# ``processes=True`` (the default) gives worker processes, which then need
# an ``if __name__ == "__main__":`` guard in a script. On a real cluster,
# replace these lines with ``client = Client("tcp://<scheduler>:8786")``;
# nothing below changes.

import time

import dask
import dask.array as da
import matplotlib.pyplot as plt
import numpy as np
from distributed import Client, LocalCluster
from sklearn.base import clone

from skadam import AdamLogisticClassifier
from skadam.dask import Incremental, fit_full_batch

cluster = LocalCluster(
    n_workers=2,
    threads_per_worker=1,
    processes=False,
    dashboard_address="127.0.0.1:0",
    worker_dashboard_address="127.0.0.1:0",
)
client = Client(cluster)

# %%
# Two million rows, generated on the workers
# ------------------------------------------
# 20 float32 features, labels from a noisy linear rule, in 8 row blocks of
# 250,000 rows. ``persist`` keeps the blocks in the workers' memory; the
# in-memory runs below use a copy in this process.

n_rows, n_features, n_blocks = 2_000_000, 20, 8
rows_per_block = n_rows // n_blocks
rng = da.random.default_rng(0)
X = rng.normal(size=(n_rows, n_features), chunks=(rows_per_block, -1))
X = X.astype(np.float32)
w = np.linspace(-1.0, 1.0, n_features)
noise = rng.logistic(size=n_rows, chunks=rows_per_block)
y = (X @ w + noise > 0).astype(np.int64)
X, y = dask.persist(X, y)

X_memory, y_memory = dask.compute(X, y)
blocks = [
    (X_memory[i : i + rows_per_block], y_memory[i : i + rows_per_block])
    for i in range(0, n_rows, rows_per_block)
]
print(f"X: {X.shape} {X.dtype}, {X.nbytes / 1e6:.0f} MB in {X.numblocks[0]} blocks")

# %%
# Route 1: block by block, with ``Incremental``
# ----------------------------------------------
# Each ``partial_fit`` of the wrapper is one epoch: the estimator visits the
# blocks one after the other on the workers, minibatches of 4096 rows within
# each block. The same calls in memory give the same model.

estimator = AdamLogisticClassifier(batch_size=4096, learning_rate=0.01, random_state=0)
n_epochs = 2

start = time.perf_counter()
model = Incremental(estimator, shuffle_blocks=False)
for _ in range(n_epochs):
    model.partial_fit(X, y, classes=[0, 1])
incremental_cluster = time.perf_counter() - start

start = time.perf_counter()
in_memory = clone(estimator)
for _ in range(n_epochs):
    for X_block, y_block in blocks:
        in_memory.partial_fit(X_block, y_block, classes=[0, 1])
incremental_memory = time.perf_counter() - start

difference = np.abs(model.estimator_.coef_ - in_memory.coef_).max()
print(
    f"Incremental: {incremental_cluster:.1f} s on the cluster, "
    f"{incremental_memory:.1f} s in memory; largest coefficient difference "
    f"{difference:.1e}"
)

# %%
# Route 3: full-batch Adam, one reduction per step
# ------------------------------------------------
# :func:`~skadam.dask.fit_full_batch` evaluates the loss and gradient over
# all two million rows at every step: each worker sums over its own blocks
# and only the sums travel. In memory, the estimator's own full-batch fit
# (``batch_size=None``) does the same number of steps.

n_steps = 40
full_batch = AdamLogisticClassifier(
    batch_size=None, learning_rate=0.05, max_iter=n_steps, tol=None
)

start = time.perf_counter()
on_cluster = fit_full_batch(clone(full_batch), X, y)
full_batch_cluster = time.perf_counter() - start

start = time.perf_counter()
full_batch_memory_model = clone(full_batch).fit(X_memory, y_memory)
full_batch_memory = time.perf_counter() - start

print(
    f"Full batch, {n_steps} steps: {full_batch_cluster:.1f} s on the cluster, "
    f"{full_batch_memory:.1f} s in memory"
)
print(
    f"Accuracy on the cluster fit: {on_cluster.score(X_memory, y_memory):.4f}, "
    f"in-memory fit: {full_batch_memory_model.score(X_memory, y_memory):.4f}"
)

# %%
# Timings and the full-batch objective
# ------------------------------------
# Left: seconds for the same work in this process and on the two workers.
# Right: the full-batch objective at every step on the cluster.
#
# Here the two workers share this machine's cores with this process, so the
# cluster cannot be faster; what the timings show is the price of going
# through Dask. The block route gains memory, not speed: blocks are visited
# one after the other, and only one needs to be in memory. The full-batch
# route pays one round trip per step, and spreads each step over the
# workers, which on a real cluster bring their own cores and memory.

fig, (ax_time, ax_loss) = plt.subplots(1, 2, figsize=(10, 4))
labels = [f"Incremental\n{n_epochs} epochs", f"full batch\n{n_steps} steps"]
positions = np.arange(len(labels))
ax_time.bar(
    positions - 0.2, [incremental_memory, full_batch_memory], 0.4, label="in memory"
)
ax_time.bar(
    positions + 0.2,
    [incremental_cluster, full_batch_cluster],
    0.4,
    label="2 Dask workers",
)
ax_time.set_xticks(positions, labels)
ax_time.set_ylabel("seconds")
ax_time.set_title(f"Training on {n_rows:,} rows")
ax_time.legend()
ax_loss.plot(np.arange(1, n_steps + 1), on_cluster.loss_curve_)
ax_loss.set_xlabel("Adam step")
ax_loss.set_ylabel("objective")
ax_loss.set_title("Full-batch objective on the cluster")
fig.tight_layout()
plt.show()

# %%
# Closing the cluster releases the workers and their memory.

client.close()
cluster.close()
