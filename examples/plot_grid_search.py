"""
=====================================================
Tuning AdamLogisticClassifier with a grid search
=====================================================

:class:`skadam.AdamLogisticClassifier` is a scikit-learn estimator, so it
goes into a :class:`~sklearn.pipeline.Pipeline` after a
:class:`~sklearn.preprocessing.StandardScaler` and its parameters can be
tuned with :class:`~sklearn.model_selection.GridSearchCV` like any other.

Here we search over the L2 penalty ``alpha`` and Adam's ``learning_rate`` on
the breast cancer dataset bundled with scikit-learn, and show the
cross-validated accuracy of every pair as a heat map.
"""

# %%
# The pipeline and the grid
# -------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skadam import AdamLogisticClassifier

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

pipe = make_pipeline(StandardScaler(), AdamLogisticClassifier(random_state=0))
alphas = [1e-4, 1e-3, 1e-2, 1e-1]
learning_rates = [1e-3, 1e-2, 1e-1]
grid = GridSearchCV(
    pipe,
    {
        "adamlogisticclassifier__alpha": alphas,
        "adamlogisticclassifier__learning_rate": learning_rates,
    },
    cv=5,
    n_jobs=2,
)
grid.fit(X_train, y_train)
print("best parameters:", grid.best_params_)
print(f"cross-validated accuracy: {grid.best_score_:.3f}")
print(f"test accuracy: {grid.score(X_test, y_test):.3f}")

# %%
# The score grid
# --------------
# ``cv_results_`` lists the parameter pairs in the order of the grid, with
# ``alpha`` the slowest-varying key, so the mean scores reshape into a table.
scores = grid.cv_results_["mean_test_score"].reshape(len(alphas), len(learning_rates))

fig, ax = plt.subplots(figsize=(5, 4))
image = ax.imshow(scores, cmap="viridis")
ax.set_xticks(range(len(learning_rates)), [f"{lr:g}" for lr in learning_rates])
ax.set_yticks(range(len(alphas)), [f"{a:g}" for a in alphas])
ax.set_xlabel("learning_rate")
ax.set_ylabel("alpha")
for (i, j), score in np.ndenumerate(scores):
    ax.text(j, i, f"{score:.3f}", ha="center", va="center", color="w")
fig.colorbar(image, ax=ax, label="mean cross-validated accuracy")
ax.set_title("AdamLogisticClassifier on breast cancer")
fig.tight_layout()
plt.show()
