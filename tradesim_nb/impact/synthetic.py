"""Data with a known truth: parent orders drawn from the ATHL model, and TWAP executions on
the synthetic Almgren-Chriss market fitted back (:func:`calibrate_synthetic`)."""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING

import numpy as np

from .fit import fit_ac_records
from .laws import athl_permanent, athl_temporary
from .results import ImpactFit

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ..market import MarketParams

__all__ = ["calibrate_synthetic", "simulate_orders"]


def simulate_orders(n: int, gamma: float = 0.314, eta: float = 0.142, alpha: float = 1.0,
                    beta: float = 0.6, seed: int = 0, *,
                    size_frac_range: tuple[float, float] = (5e-3, 0.5),
                    duration_range: tuple[float, float] = (0.02, 0.25),
                    sigma_range: tuple[float, float] = (0.01, 0.04),
                    adv_range: tuple[float, float] = (1e5, 1e7), vol_of_vol: float = 0.25,
                    post_delay: float = 0.0) -> pd.DataFrame:
    """Parent-order records drawn from the ATHL model with diffusion noise.

    Each order: side ±1 (prob. 1/2), :math:`X/V` log-uniform in ``size_frac_range``,
    :math:`T` uniform in ``duration_range`` (days), daily :math:`\\sigma` and ADV log-uniform.
    The price path is :math:`S_t = S_0(1 + \\sigma_{true} W_t + \\text{impact})` with a realised
    volatility :math:`\\sigma_{true} = \\sigma e^{\\nu Z - \\nu^2/2}` (``vol_of_vol`` :math:`\\nu`:
    the stated :math:`\\sigma` is an estimate, as in practice). The noise of :math:`J` is the
    time average of :math:`W` over :math:`[0, T]`, that of :math:`I` is :math:`W_{T_{post}}`
    (:math:`T_{post} = T +` ``post_delay``), drawn jointly (covariances :math:`T/3, T/2, T_{post}`).
    The impact is the law's (:func:`~tradesim_nb.impact.laws.athl_permanent` and
    :func:`~tradesim_nb.impact.laws.athl_temporary`).

    Returns
    -------
    DataFrame
        The columns of :func:`~tradesim_nb.impact.records.load_orders` (and
        ``post_duration`` when ``post_delay > 0``).
    """
    import pandas as pd

    if not (isinstance(n, int) and n >= 1):
        raise ValueError(f"n={n!r} must be an integer >= 1")
    for name, v in (("gamma", gamma), ("eta", eta)):
        if not (math.isfinite(v) and v >= 0):
            raise ValueError(f"{name}={v!r} must be a finite number >= 0")
    for name, r in (("size_frac_range", size_frac_range), ("duration_range", duration_range),
                    ("sigma_range", sigma_range), ("adv_range", adv_range)):
        if not (0 < r[0] <= r[1] and math.isfinite(r[1])):
            raise ValueError(f"{name}={r!r} must satisfy 0 < low <= high < inf")
    if not (math.isfinite(post_delay) and post_delay >= 0):
        raise ValueError(f"post_delay={post_delay!r} must be a finite number >= 0")
    rng = np.random.default_rng(seed)

    def logu(r: tuple[float, float]) -> np.ndarray:
        return np.exp(rng.uniform(math.log(r[0]), math.log(r[1]), n))

    side = np.where(rng.random(n) < 0.5, 1.0, -1.0)
    frac = logu(size_frac_range)
    t = rng.uniform(duration_range[0], duration_range[1], n)
    sig = logu(sigma_range)
    adv = np.round(logu(adv_range))
    size = frac * adv
    tp = t + post_delay
    sig_true = sig * np.exp(vol_of_vol * rng.standard_normal(n) - vol_of_vol**2 / 2)
    # (A, W_T) jointly: Var A = T/3, Cov = T/2, Var W_T = T ; W_Tp = W_T + N(0, Tp - T)
    z1, z2, z3 = rng.standard_normal((3, n))
    w_t = np.sqrt(t) * z1
    a = w_t / 2.0 + np.sqrt(t / 12.0) * z2
    w_tp = w_t + np.sqrt(tp - t) * z3
    perm = athl_permanent(frac, 1.0, sig, gamma, alpha)
    temp = athl_temporary(frac, 1.0, t, sig, eta, beta)
    s0 = np.round(rng.uniform(20, 200, n), 2)
    imp = perm + sig_true * w_tp
    J = perm / 2.0 + temp + sig_true * a
    out = pd.DataFrame({
        "side": np.where(side > 0, "buy", "sell"),
        "size": size, "duration": t, "adv": adv, "sigma": sig,
        "arrival_price": s0,
        "post_price": s0 * (1 + side * imp),
        "exec_price": s0 * (1 + side * J),
    })
    if post_delay > 0:
        out["post_duration"] = tp
    return out


def calibrate_synthetic(eta: float = 2.5e-6, gamma: float = 2.5e-7, seed: int = 0, *,
                        n_orders: int = 2000, sigma: float = 0.3, epsilon: float = 0.0625,
                        flow_share: float = 0.2, size_range: tuple[float, float] = (1e6, 1e7),
                        periods_range: tuple[int, int] = (2, 20)
                        ) -> tuple[ImpactFit, MarketParams]:
    """Simulate ``n_orders`` TWAP orders on a synthetic market with true ``eta``, ``gamma``
    and fit them with :func:`~tradesim_nb.impact.fit.fit_ac_records`.

    ``flow_share`` is the share of the mid variance due to background trades (it sets
    ``mean_trade_size``).

    Returns
    -------
    fit : ImpactFit
        Its ``info`` adds ``true_eta``, ``true_gamma`` and ``seed``; its law is a
        :class:`~tradesim_nb.impact.laws.LinearImpact` in the market's time unit.
    market_params : MarketParams
        The market simulated.
    """
    from ..execution import simulate_executions
    from ..market import MarketParams

    if not (0 <= flow_share < 1):
        raise ValueError(f"flow_share={flow_share!r} must be in [0, 1)")
    base = MarketParams(sigma=sigma, eta=eta, gamma=gamma, epsilon=epsilon, mean_trade_size=0.0)
    mts = 0.0 if gamma == 0 else math.sqrt(flow_share) * base.max_mean_trade_size
    p = MarketParams(sigma=sigma, eta=eta, gamma=gamma, epsilon=epsilon, mean_trade_size=mts)
    recs = simulate_executions(p, n_orders, seed, size_range=size_range,
                               periods_range=periods_range)
    fit = fit_ac_records(recs, tau=p.tau, time_unit_s=p.time_unit_s)
    info = (*fit.info, ("true_eta", eta), ("true_gamma", gamma), ("seed", seed))
    return dataclasses.replace(fit, info=info), p
