"""``python -m skadam``: skadam's demo, starting with the lesson reproduced.

The lesson skadam starts from runs Adam without bias correction on
``f(x, y) = x**2 + y**2`` from ``(3, 4)`` and prints the state after epochs
0, 30, ..., 150; the same lines come out of
``scipy.optimize.minimize(..., method=adam_minimize)`` here. The demo then
runs skadam's default, Adam with bias correction, and says why its steps
differ, and fits an estimator on a bundled dataset. It uses skadam's public
API only. ``examples/plot_lesson.py`` tells the story at length, with a plot.
"""

import numpy as np
from scipy.optimize import minimize

from skadam import AdamLogisticClassifier, adam_minimize

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


def _sphere(x):
    return x[0] ** 2 + x[1] ** 2


def _sphere_grad(x):
    return np.array([2 * x[0], 2 * x[1]])


def _run(callback=None, **options):
    """151 updates from (3, 4), the lesson's options updated with ``options``."""
    return minimize(
        _sphere,
        np.array([3.0, 4.0]),
        method=adam_minimize,
        jac=_sphere_grad,
        callback=callback,
        options={**LESSON_OPTIONS, **options},
    )


def _lesson_demo():
    """Print the lesson's lines, then the default (bias-corrected) runs."""

    def every_30_epochs(intermediate_result):
        epoch = intermediate_result.nit - 1
        if epoch % 30 == 0:
            print(f"Epoch {epoch}, current state: {intermediate_result.x}")

    print(
        "The Adam lesson skadam starts from minimises f(x, y) = x^2 + y^2 from "
        "(3, 4); run 1 reproduces its update, which has no bias correction, "
        "digit for digit."
    )
    print(
        "1. The lesson's run, minimize(..., method=adam_minimize), "
        "bias_correction=False, learning_rate=0.02:"
    )
    lesson = _run(every_30_epochs)
    print(
        "2. The same 151 updates with bias correction, skadam's default "
        "(Kingma & Ba, Algorithm 1; also torch.optim.Adam's and optax's):"
    )
    for learning_rate in (0.02, 0.2):
        first = []
        run = _run(first.append, bias_correction=True, learning_rate=learning_rate)
        step = np.array([3.0, 4.0]) - first[0]
        print(
            f"   learning_rate={learning_rate:g}: first step {np.round(step, 6)}, "
            f"f = {run.fun:.3g} after 151 updates (the lesson: {lesson.fun:.3g})."
        )
    beta_1, beta_2 = LESSON_OPTIONS["beta_1"], LESSON_OPTIONS["beta_2"]
    factor = (1 - beta_1) / np.sqrt(1 - beta_2)
    print(
        "What differs is the step size, not the direction. m and v start at 0; "
        "without the correction the first steps are\n"
        f"(1 - beta_1) / sqrt(1 - beta_2) = {factor:.3g} times learning_rate "
        "here, a factor set by the betas that fades over thousands of updates.\n"
        "With the correction every step is about learning_rate from the first "
        "update, whatever the betas: that is why it is the default.\n"
        "Given the lesson's first step (learning_rate=0.2), the corrected run "
        "ends as close to the minimum."
    )


def _estimator_demo():
    """Fit AdamLogisticClassifier on a bundled dataset, next to LogisticRegression."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    adam = AdamLogisticClassifier(random_state=0)
    # The same objective: alpha is LogisticRegression(C=1 / (n * alpha)).
    same = LogisticRegression(C=1 / (len(X_train) * adam.alpha), max_iter=1000)
    scores = {}
    for model in (adam, same):
        pipe = make_pipeline(StandardScaler(), model).fit(X_train, y_train)
        scores[type(model).__name__] = pipe.score(X_test, y_test)
    print(
        "Breast cancer, test accuracy: AdamLogisticClassifier "
        f"{scores['AdamLogisticClassifier']:.3f}, LogisticRegression "
        f"{scores['LogisticRegression']:.3f} (the same objective)."
    )


def main():
    """Run the demo: the lesson, the default Adam beside it, an estimator."""
    _lesson_demo()
    _estimator_demo()


if __name__ == "__main__":
    main()
