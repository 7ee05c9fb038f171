"""``python -m skadam``: skadam's demo, starting with the lesson reproduced.

The lesson runs Adam without bias correction on ``f(x, y) = x**2 + y**2`` from
``(3, 4)`` and prints the state after epochs 0, 30, ..., 150; the same lines
come out of ``scipy.optimize.minimize(..., method=adam_minimize)`` here.
``examples/plot_lesson.py`` tells the story at length, with a plot.
"""

import numpy as np
from scipy.optimize import minimize

from ._minimize import adam_minimize

# The lesson's settings; its loop takes 151 updates (epochs 0 to 150).
LESSON_OPTIONS = {
    "learning_rate": 0.02,
    "beta_1": 0.9,
    "beta_2": 0.9999,
    "epsilon": 1e-8,
    "bias_correction": False,
    "maxiter": 151,
    "gtol": 0.0,
}


def _lesson_demo():
    """Print the lesson's lines, then the same run with bias correction."""

    def sphere(x):
        return x[0] ** 2 + x[1] ** 2

    def sphere_grad(x):
        return np.array([2 * x[0], 2 * x[1]])

    def every_30_epochs(intermediate_result):
        epoch = intermediate_result.nit - 1
        if epoch % 30 == 0:
            print(f"Epoch {epoch}, current state: {intermediate_result.x}")

    print("The lesson, through scipy.optimize.minimize(method=adam_minimize):")
    runs = {}
    for bias_correction in (False, True):
        runs[bias_correction] = minimize(
            sphere,
            np.array([3.0, 4.0]),
            method=adam_minimize,
            jac=sphere_grad,
            callback=None if bias_correction else every_30_epochs,
            options={**LESSON_OPTIONS, "bias_correction": bias_correction},
        )
    plain, corrected = runs[False], runs[True]
    print(
        f"With bias correction, epoch 150 ends at {corrected.x} "
        f"(f = {corrected.fun:.3g}, against {plain.fun:.3g} without): the "
        "uncorrected first steps are 10 times the learning rate here."
    )


def _estimator_demo():
    """Fit AdamLogisticClassifier on a bundled dataset, next to LogisticRegression."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from ._linear_model import AdamLogisticClassifier

    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    scores = {}
    for model in (AdamLogisticClassifier(random_state=0), LogisticRegression()):
        pipe = make_pipeline(StandardScaler(), model).fit(X_train, y_train)
        scores[type(model).__name__] = pipe.score(X_test, y_test)
    print(
        "Breast cancer, test accuracy: AdamLogisticClassifier "
        f"{scores['AdamLogisticClassifier']:.3f}, LogisticRegression "
        f"{scores['LogisticRegression']:.3f}."
    )


def main():
    _lesson_demo()
    _estimator_demo()


if __name__ == "__main__":
    main()
