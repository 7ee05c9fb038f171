"""
=================================================
Loss curves for learning rates and batch sizes
=================================================

Every fitted :class:`skadam.AdamLogisticClassifier` (and
:class:`skadam.AdamLinearRegressor`) records the training objective of each
epoch in ``loss_curve_``. Here we compare how it falls on the digits dataset
for a few Adam learning rates (full batch: one Adam step per epoch) and a few
batch sizes (minibatches: many steps per epoch, each on fewer rows).

``tol=None`` makes every run last ``max_iter`` epochs, so that the curves
have the same length.
"""

# %%
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

from skadam import AdamLogisticClassifier

X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X)
epochs = 60

# %%
# Learning rates, full batch
# --------------------------
# A small step makes steady but slow progress; a larger one falls faster.
# Too large a step oscillates around the optimum instead: a ``loss_curve_``
# that goes up and down says to lower ``learning_rate``.
lr_curves = {}
for learning_rate in [0.001, 0.01, 0.1]:
    model = AdamLogisticClassifier(
        learning_rate=learning_rate, batch_size=None, max_iter=epochs, tol=None
    ).fit(X, y)
    lr_curves[f"learning_rate={learning_rate:g}"] = model.loss_curve_

# %%
# Batch sizes, same learning rate
# -------------------------------
# Smaller minibatches take more Adam steps per epoch, so the objective falls
# in fewer epochs, at the price of noisier steps.
batch_curves = {}
for batch_size in [None, 256, 32]:
    model = AdamLogisticClassifier(
        batch_size=batch_size, max_iter=epochs, tol=None, random_state=0
    ).fit(X, y)
    label = "full batch" if batch_size is None else f"batch_size={batch_size}"
    batch_curves[f"{label} ({model.t_} steps)"] = model.loss_curve_

# %%
# The curves side by side
# -----------------------
# Both sets of curves on one scale of the training objective.

# Made and drawn in one cell: the gallery saves a figure when its cell ends.
fig, (ax_lr, ax_batch) = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
for ax, curves, title in [
    (ax_lr, lr_curves, "learning rate"),
    (ax_batch, batch_curves, "batch size"),
]:
    for label, curve in curves.items():
        ax.plot(curve, label=label)
    ax.set_xlabel("epoch")
    ax.set_yscale("log")
    ax.set_title(f"Effect of the {title}")
    ax.legend()
ax_lr.set_ylabel("training objective (loss_curve_)")
fig.tight_layout()
plt.show()
