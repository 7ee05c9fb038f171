"""Fit time and test log-loss: AdamLogisticClassifier vs MLPClassifier(adam).

A standardised 200,000 x 100 ``make_classification`` problem, both models
with their defaults (the MLP without hidden layers, i.e. a logistic
regression trained by scikit-learn's Adam), timed in one process (best of
three fits each).
Run: ``python benchmarks/bench_estimator_speed.py [param=value ...]``
(the optional parameters are passed to AdamLogisticClassifier).
"""

import sys
import time
import warnings

from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from skadam import AdamLogisticClassifier


def timed_fit(model, X, y, repeat=3):
    """Best of ``repeat`` fit times (the machine may be shared)."""
    times = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(repeat):
            start = time.perf_counter()
            model.fit(X, y)
            times.append(time.perf_counter() - start)
    return min(times)


def main(argv, n_samples=200_000, n_features=100):
    params = {k: eval(v) for k, v in (a.split("=") for a in argv if "=" in a)}
    X, y = make_classification(n_samples, n_features, random_state=0)
    X = StandardScaler().fit_transform(X)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    models = {
        "skadam": AdamLogisticClassifier(random_state=0, **params),
        "mlp": MLPClassifier(hidden_layer_sizes=(), solver="adam", random_state=0),
    }
    if "--skadam-only" in argv:
        del models["mlp"]
    times = {}
    for name, model in models.items():
        times[name] = timed_fit(model, X_train, y_train)
        proba = model.predict_proba(X_test)
        print(
            f"{name:7} fit {times[name]:7.2f} s  epochs {model.n_iter_:4d}  "
            f"test log-loss {log_loss(y_test, proba):.5f}  "
            f"accuracy {accuracy_score(y_test, model.predict(X_test)):.4f}",
            flush=True,
        )
    if len(times) == 2:
        print(f"speed-up: {times['mlp'] / times['skadam']:.1f}x")


if __name__ == "__main__":
    main(sys.argv[1:])
