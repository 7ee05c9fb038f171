"""Per-iteration time of ``minimize(..., method=adam_minimize)`` vs a bare loop.

The problem is f(x, y) = x**2 + y**2 from (3, 4), with the hyperparameters of
the lesson skadam starts from. The bare loop is the lesson's own code (its
``ADAM`` function without bias correction and its ``df``). Both run in one
process, alternating, and the medians of the repeats are compared.

Run from the repository root: ``python -m benchmarks.minimize_overhead``.
"""

import time

import numpy as np
from scipy.optimize import minimize

from skadam import adam_minimize

N_ITER = 2000
REPEATS = 15
OPTIONS = dict(
    learning_rate=0.02,
    beta_1=0.9,
    beta_2=0.9999,
    epsilon=1e-8,
    bias_correction=False,
    maxiter=N_ITER,
    gtol=0.0,
)


def f(x):
    return x[0] ** 2 + x[1] ** 2


def df(x):
    return np.array([2 * x[0], 2 * x[1]])


def lesson_adam(beta1, beta2, epsilon, grad, m_prev, v_prev, learning_rate):
    m = beta1 * m_prev + (1 - beta1) * grad
    v = beta2 * v_prev + (1 - beta2) * np.power(grad, 2)
    updates = learning_rate * m / (np.sqrt(v) + epsilon)
    return updates, m, v


def lesson_loop():
    coordinates = np.array([3.0, 4.0])
    m_prev, v_prev = np.array([0, 0]), np.array([0, 0])
    for _ in range(N_ITER):
        grad = df(coordinates)
        updates, m_prev, v_prev = lesson_adam(
            0.9, 0.9999, 1e-8, grad, m_prev, v_prev, 0.02
        )
        coordinates -= updates
    return coordinates


def skadam_run():
    res = minimize(f, [3.0, 4.0], method=adam_minimize, jac=df, options=OPTIONS)
    assert res.nit == N_ITER
    return res.x


def per_iteration_us(run):
    start = time.perf_counter()
    run()
    return (time.perf_counter() - start) / N_ITER * 1e6


def main():
    np.testing.assert_allclose(skadam_run(), lesson_loop(), rtol=1e-12)
    lesson, ours = [], []
    for _ in range(REPEATS):
        lesson.append(per_iteration_us(lesson_loop))
        ours.append(per_iteration_us(skadam_run))
    lesson_us, ours_us = np.median(lesson), np.median(ours)
    print(f"lesson's bare loop:          {lesson_us:6.2f} us/iteration")
    print(f"minimize(method=adam_minimize): {ours_us:6.2f} us/iteration")
    print(f"ratio: {ours_us / lesson_us:.2f}")


if __name__ == "__main__":
    main()
