"""Per-iteration overhead on the lesson's problem, f(x, y) = x**2 + y**2.

With two parameters the arithmetic is nothing; what is measured is the cost
of the machinery around it. Contenders, all from (3, 4) with the lesson's
hyperparameters (learning rate 0.02, beta_2 = 0.9999, no bias correction
where that is an option):

- ``minimize``: ``scipy.optimize.minimize(f, x0, method=adam_minimize,
  jac=df)`` for 20,000 iterations (``gtol=0``: the gradient test would stop
  the run early);
- ``minimize_gtol@13k``: the same with the gradient test on every iteration
  (``gtol=1e-300``, met after about 13,100 iterations), run for 13,000
  iterations, against ``lesson_loop@13k``, the lesson's loop for as many
  (late iterations work on subnormal numbers and cost more, so runs of
  different lengths do not compare);
- ``adam_step_loop``: a bare loop around :meth:`skadam.Adam.step`;
- ``lesson_loop``: the lesson's own loop and ``ADAM`` function;
- ``torch_adam_loop``: ``torch.optim.Adam`` with the gradient set by hand.
"""

import numpy as np
from scipy.optimize import minimize

from skadam import Adam, adam_minimize

from ._timing import clock, compare, ratios

NAME = "overhead"
UNIT = "us/iteration"
LESSON = {
    "learning_rate": 0.02,
    "beta_1": 0.9,
    "beta_2": 0.9999,
    "epsilon": 1e-8,
    "bias_correction": False,
}


def f(x):
    return x[0] ** 2 + x[1] ** 2


def df(x):
    return np.array([2 * x[0], 2 * x[1]])


def lesson_adam(beta1, beta2, epsilon, grad, m_prev, v_prev, learning_rate):
    m = beta1 * m_prev + (1 - beta1) * grad
    v = beta2 * v_prev + (1 - beta2) * np.power(grad, 2)
    updates = learning_rate * m / (np.sqrt(v) + epsilon)
    return updates, m, v


def lesson_loop(n_iter):
    coordinates = np.array([3.0, 4.0])
    m_prev, v_prev = np.array([0, 0]), np.array([0, 0])
    for _ in range(n_iter):
        grad = df(coordinates)
        updates, m_prev, v_prev = lesson_adam(
            0.9, 0.9999, 1e-8, grad, m_prev, v_prev, 0.02
        )
        coordinates -= updates
    return n_iter


def minimize_run(n_iter, gtol):
    options = {**LESSON, "maxiter": n_iter, "gtol": gtol}
    x0 = np.array([3.0, 4.0])
    res = minimize(f, x0, method=adam_minimize, jac=df, options=options)
    if res.nit != n_iter:
        raise RuntimeError(f"minimize stopped after {res.nit} of {n_iter} iterations")
    return res.nit


def adam_step_loop(n_iter):
    adam = Adam(**LESSON)
    x = np.array([3.0, 4.0])
    state = adam.init(x)
    for _ in range(n_iter):
        adam.step(x, df(x), state)
    return n_iter


def torch_adam_loop(n_iter):
    import torch

    p = torch.tensor([3.0, 4.0], dtype=torch.float64)
    opt = torch.optim.Adam([p], lr=0.02, betas=(0.9, 0.9999), eps=1e-8)
    for _ in range(n_iter):
        p.grad = 2 * p
        opt.step()
    return n_iter


def per_iteration_us(run, n_iter, *args):
    """A contender: ``run`` returns its iteration count; report us per iteration."""

    def contender():
        done = []
        seconds = clock(lambda: done.append(run(n_iter, *args)))
        return seconds / done[0] * 1e6

    return contender


def run(quick):
    n_iter, n_short = (500, 400) if quick else (20_000, 13_000)
    repeats = 3 if quick else 9
    contenders = {
        "minimize": per_iteration_us(minimize_run, n_iter, 0.0),
        "adam_step_loop": per_iteration_us(adam_step_loop, n_iter),
        "lesson_loop": per_iteration_us(lesson_loop, n_iter),
        "torch_adam_loop": per_iteration_us(torch_adam_loop, n_iter),
        "minimize_gtol@13k": per_iteration_us(minimize_run, n_short, 1e-300),
        "lesson_loop@13k": per_iteration_us(lesson_loop, n_short),
    }
    results = compare(contenders, repeats)
    ratio = ratios(results, "minimize", ["lesson_loop", "torch_adam_loop"])
    ratio.update(ratios(results, "minimize_gtol@13k", ["lesson_loop@13k"]))
    ratio.update(ratios(results, "adam_step_loop", ["lesson_loop"]))
    ratio.update(ratios(results, "torch_adam_loop", ["lesson_loop"]))
    plain, checked = (
        ratio["minimize/lesson_loop"],
        ratio["minimize_gtol@13k/lesson_loop@13k"],
    )
    return {
        "unit": UNIT,
        "params": {"n_iter": n_iter, "n_iter_gtol": n_short, "repeats": repeats},
        "results": results,
        "ratios": ratio,
        "targets": {
            "minimize/lesson_loop <= 1": {"value": plain, "met": plain <= 1.0},
            "minimize_gtol@13k/lesson_loop@13k <= 1": {
                "value": checked,
                "met": checked <= 1.0,
            },
        },
    }
