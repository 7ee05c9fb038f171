"""Test problems shared by tests/test_objective.py and tests/test_minimize.py."""

import numpy as np
from scipy.optimize import minimize

from skadam import adam_minimize

CENTER = np.array([1.0, -2.0, 0.5])


class Counted:
    """Wrap a function: count its calls, keep copies of the points and args."""

    def __init__(self, function):
        self.function, self.calls, self.points, self.args = function, 0, [], []

    def __call__(self, x, *args):
        self.calls += 1
        self.points.append(np.array(x, copy=True))
        self.args.append(args)
        return self.function(x, *args)


def f_quad(x, center=CENTER):
    return float(np.sum((x - center) ** 2))


def g_quad(x, center=CENTER):
    return 2.0 * (x - center)


def fg_quad(x, center=CENTER):
    return f_quad(x, center), g_quad(x, center)


FAST = {"learning_rate": 0.05, "maxiter": 3000}


def run(fun, x0=(0.0, 0.0, 0.0), **kwargs):
    kwargs.setdefault("options", FAST)
    return minimize(fun, np.array(x0), method=adam_minimize, **kwargs)
