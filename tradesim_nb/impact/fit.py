r"""The impact fits: ATHL on parent orders, Almgren-Chriss on synthetic executions, market data.

Each fit takes its data and keyword settings (the spec) and returns an immutable
:class:`~tradesim_nb.impact.results.ImpactFit` whose :attr:`~ImpactFit.law` is the fitted law:

* :func:`fit_athl` — parent-order records, the model of Almgren, Thum, Hauptmann and Li
  [ATHL2005]_ by whitened nonlinear least squares → :class:`~tradesim_nb.impact.laws.ATHLImpact`;
* :func:`fit_ac_records` — TWAP parent orders on an Almgren-Chriss market, the exact linear
  structure → :class:`~tradesim_nb.impact.laws.LinearImpact`;
* :func:`fit_market_data` — public data (a recording, or the synthetic market's feed): the
  book's walk-cost curve and refill time (the Almgren-Chriss temporary impact [AC2000]_),
  Kyle's lambda [Kyle1985]_, the square-root law [Bouchaud2018]_ →
  :class:`~tradesim_nb.impact.laws.LinearImpact` and
  :class:`~tradesim_nb.impact.laws.SquareRootImpact`.

Units
-----
* ATHL (records): dimensionless. :math:`I, J` are fractions of the arrival price, sizes are
  fractions of the average daily volume :math:`V`, durations fractions of a day, :math:`\sigma`
  daily; :math:`\gamma = 0.314`, :math:`\eta = 0.142` are the paper's US-equity values.
* Almgren-Chriss (synthetic market, market data): price units. :math:`\gamma` in quote per
  base unit traded (mid move per unit of signed volume); :math:`\eta` in quote x time / base
  so that a child of :math:`n` units traded in an interval :math:`\tau` costs
  :math:`\epsilon + \eta\, n/\tau` per unit; time is the market's unit (synthetic) or seconds
  (recordings), the law's ``time_unit_s``. These plug straight into
  :class:`tradesim_nb.costs.almgren_chriss.ACParams`.

References
----------
.. [ATHL2005] R. Almgren, C. Thum, E. Hauptmann and H. Li, "Direct estimation of equity market
   impact", Risk 18 (July 2005) 58-62.
.. [AC2000] R. Almgren and N. Chriss, "Optimal execution of portfolio transactions", J. Risk 3
   (2000) 5-39.
.. [Kyle1985] A. S. Kyle, "Continuous auctions and insider trading", Econometrica 53 (1985)
   1315-1335.
.. [Bouchaud2018] J.-P. Bouchaud, J. Bonart, J. Donier and M. Gould, *Trades, Quotes and
   Prices* (CUP 2018), ch. 12.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._progress import progress as _progress
from .intervals import block_indices, cluster_sandwich, newey_west_ols, percentile_estimate
from .laws import (
    ATHLImpact,
    LinearImpact,
    SquareRootImpact,
    athl_permanent_unit,
    athl_temporary_unit,
)
from .market_data import MarketSeries
from .records import ORDER_COLUMNS, OrderArrays, Weighting, load_orders, order_arrays
from .results import Estimate, ImpactFit, estimate

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["MIN_ORDERS", "fit_ac_records", "fit_athl", "fit_market_data"]

#: the fewest distinct parent orders a fit of order records takes: its intervals cluster by
#: order, and a sandwich over a handful of clusters says nothing about the uncertainty
MIN_ORDERS = 10


def _check_orders(df: Any, columns: tuple[str, ...], what: str) -> None:
    """Refuse records too few or too alike to fit: fewer than :data:`MIN_ORDERS` distinct
    orders (identical rows carry one order's information, and an exact fit has no interval)."""
    n = len(df)
    cols = [c for c in columns if c in df.columns]
    distinct = len(df[cols].drop_duplicates())
    if distinct >= MIN_ORDERS:
        return
    why = (f"{n} rows hold {distinct} distinct order(s) (identical rows carry one order's "
           "information)" if distinct < n else f"{n} orders")
    raise ValueError(f"{what}: {why}; at least {MIN_ORDERS} distinct parent orders are needed "
                     "(the intervals treat each order as a cluster; with fewer the fit is "
                     "exact or its interval says nothing)")


def _warn_negative(fit_name: str, values: dict[str, float]) -> None:
    """A negative impact coefficient: the data do not show impact of the model's sign."""
    bad = {k: v for k, v in values.items() if math.isfinite(v) and v < 0}
    if bad:
        warnings.warn(f"{fit_name}: " + ", ".join(f"{k} = {v:.4g}" for k, v in bad.items())
                      + " < 0: the prices moved against the orders on average; these data do "
                      "not support the model (more orders, or check the sides and prices)",
                      UserWarning, stacklevel=3)


# ---------------------------------------------------------------------------------------
# parent-order records: ATHL
# ---------------------------------------------------------------------------------------
def _athl_basis(o: OrderArrays, alpha: float, beta: float, delta: float
                ) -> tuple[np.ndarray, np.ndarray]:
    """The ATHL terms at unit coefficients: :math:`I/\\gamma` and :math:`K/\\eta` per order
    (the law's own formulas, :func:`~tradesim_nb.impact.laws.athl_permanent_unit` and
    :func:`~tradesim_nb.impact.laws.athl_temporary_unit`; unvalidated, as the exponents may
    wander while the solver searches)."""
    return (athl_permanent_unit(o.xv, o.sigma, alpha, o.theta**delta if delta else None),
            athl_temporary_unit(o.rate, o.sigma, beta))


def _athl_solve(o: OrderArrays, x0: np.ndarray, free: tuple[bool, bool], alpha: float,
                beta: float, delta: float
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Minimise the whitened residuals; return (params, residuals (n,2), jacobian (n,2,p),
    basis at the solution).

    With both exponents fixed the model is linear in (gamma, eta): one least-squares solve.
    Otherwise Levenberg-Marquardt with the analytic Jacobian, started from the linear
    solution at the starting exponents."""
    from scipy import optimize

    def unpack(th: np.ndarray) -> tuple[float, float, float, float]:
        a, b = alpha, beta
        k = 2
        if free[0]:
            a = float(th[k])
            k += 1
        if free[1]:
            b = float(th[k])
        return float(th[0]), float(th[1]), a, b

    log_xv = np.log(o.xv)
    log_rate = np.log(o.rate)
    cache: dict[tuple[float, float], tuple[np.ndarray, np.ndarray]] = {}

    def basis(a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
        key = (a, b)
        if key not in cache:
            cache.clear()
            cache[key] = _athl_basis(o, a, b, delta)
        return cache[key]

    def resid(th: np.ndarray) -> np.ndarray:
        g, e, a, b = unpack(th)
        pa, pt = basis(a, b)
        perm = g * pa
        e1 = o.imp - perm
        e2 = o.J - perm / 2.0 - e * pt
        r = np.empty((e1.size, 2))
        r[:, 0] = o.a1 * e1
        r[:, 1] = o.b1 * e1 + o.b2 * e2
        return r

    def jac3(th: np.ndarray) -> np.ndarray:
        g, e, a, b = unpack(th)
        pa, pt = basis(a, b)
        npar = th.size
        d1 = np.zeros((pa.size, npar))
        d2 = np.zeros((pa.size, npar))
        d1[:, 0] = -pa
        d2[:, 0] = -pa / 2.0
        d2[:, 1] = -pt
        k = 2
        if free[0]:
            d = -g * pa * log_xv
            d1[:, k] = d
            d2[:, k] = d / 2.0
            k += 1
        if free[1]:
            d2[:, k] = -e * pt * log_rate
        out = np.empty((pa.size, 2, npar))
        out[:, 0, :] = o.a1[:, None] * d1
        out[:, 1, :] = o.b1[:, None] * d1 + o.b2[:, None] * d2
        return out

    # linear solve in (gamma, eta) at the starting exponents
    th_lin = np.zeros(x0.size)
    th_lin[2:] = x0[2:]
    jl = jac3(th_lin)[:, :, :2].reshape(-1, 2)
    lin, *_ = np.linalg.lstsq(-jl, resid(th_lin).ravel(), rcond=None)
    if not any(free):
        th = lin
    else:
        start = np.concatenate([lin, x0[2:]])
        res = optimize.least_squares(lambda t: resid(t).ravel(),
                                     start, jac=lambda t: jac3(t).reshape(-1, t.size),
                                     method="lm", xtol=1e-10, ftol=1e-10)
        th = res.x
    _, _, a, b = unpack(th)
    return th, resid(th), jac3(th), basis(a, b)


def _r2(y: np.ndarray, f: np.ndarray, w: np.ndarray) -> float:
    w2 = w * w
    ybar = np.sum(w2 * y) / np.sum(w2)
    ss_res = np.sum(w2 * (y - f) ** 2)
    ss_tot = np.sum(w2 * (y - ybar) ** 2)
    return float(1.0 - ss_res / ss_tot) if ss_tot > 0 else math.nan


def fit_athl(records: pd.DataFrame | str | Path, *, alpha: float = 1.0, beta: float = 0.6,
             fit_alpha: bool = False, fit_beta: bool = False, delta: float = 0.25,
             weighting: Weighting = "gls", bootstrap: int = 0, seed: int = 0,
             progress: bool = False) -> ImpactFit:
    """Fit the Almgren-Thum-Hauptmann-Li (2005) impact model to parent-order records.

    .. math::

        I = s\\,\\frac{S_{post} - S_0}{S_0} = \\gamma\\,\\sigma \\Big(\\frac{X}{V}\\Big)^{\\alpha}
            \\Big(\\frac{\\Theta}{V}\\Big)^{\\delta} + \\text{noise},\\qquad
        J = s\\,\\frac{\\bar S - S_0}{S_0} = \\frac{I}{2} + \\eta\\,\\sigma
            \\Big|\\frac{X}{V T}\\Big|^{\\beta} + \\text{noise}

    (:math:`s = \\pm1` buy/sell; the :math:`\\Theta` factor only when the records have a
    ``shares_outstanding`` column; :math:`I/2` in :math:`J` is the model's permanent part).
    The model's terms are those of :class:`~tradesim_nb.impact.laws.ATHLImpact`, which the
    result's :attr:`~tradesim_nb.impact.results.ImpactFit.law` is.

    Weighting. ATHL observe that the noise of both :math:`I` and :math:`J` is price diffusion
    over the order's life, so each order's residuals are scaled by :math:`\\sigma\\sqrt{T}`
    (``weighting="athl"``: :math:`I` by :math:`\\sigma\\sqrt{T_{post}}`, :math:`J` by
    :math:`\\sigma\\sqrt{T/3}`, the standard deviations of a Brownian end point and of its
    time average). ``"gls"`` (default) goes one step further and whitens the *pair* with its
    diffusion covariance :math:`\\sigma^2[[T_{post}, T/2], [T/2, T/3]]`: the two residuals of an
    order are strongly correlated (0.87 when :math:`T_{post}=T`), and :math:`J - I/2` carries
    only :math:`\\sigma^2 T/12` of noise, which sharpens :math:`\\eta` several-fold.
    ``"none"`` is plain least squares.

    Intervals: the cluster-robust sandwich covariance (clusters = orders; valid whatever the
    true noise scale), normal 95 % intervals; or, with ``bootstrap=B``, percentile intervals of
    a pairs bootstrap over orders (standard error = bootstrap standard deviation).

    Parameters
    ----------
    records : DataFrame or path
        See :func:`~tradesim_nb.impact.records.load_orders`.
    alpha, beta : float
        Exponents (fixed unless ``fit_alpha`` / ``fit_beta``; then the starting values).
    fit_alpha, fit_beta : bool
        Fit the exponents too.
    delta : float
        Exponent of :math:`\\Theta/V` (ATHL: 1/4); used only with ``shares_outstanding``.
    weighting : {"gls", "athl", "none"}
        How each order's residual pair is weighted (above).
    bootstrap : int
        Number of bootstrap resamples (0 = sandwich intervals).
    seed : int
        Seed of the bootstrap resampling.
    progress : bool
        A tqdm bar over the bootstrap.

    Returns
    -------
    ImpactFit
        ``method="athl"``; estimates ``gamma``, ``eta``, ``alpha``, ``beta`` (the fixed ones
        marked); :attr:`~ImpactFit.law` an :class:`~tradesim_nb.impact.laws.ATHLImpact`.
    """
    df = load_orders(records)
    for name, v in (("alpha", alpha), ("beta", beta), ("delta", delta)):
        if not (isinstance(v, int | float) and math.isfinite(v) and 0 <= v <= 3):
            raise ValueError(f"{name}={v!r} must be a finite number in [0, 3]")
    if not (isinstance(bootstrap, int) and bootstrap >= 0):
        raise ValueError(f"bootstrap={bootstrap!r} must be an integer >= 0")
    if bootstrap == 1:
        raise ValueError("bootstrap=1 is not allowed; use 0 (sandwich) or >= 2 resamples")
    o = order_arrays(df, weighting)
    has_theta = "shares_outstanding" in df.columns
    dlt = delta if has_theta else 0.0
    free = (bool(fit_alpha), bool(fit_beta))
    x0 = np.array([0.3, 0.1] + ([alpha] if free[0] else []) + ([beta] if free[1] else []))
    npar = x0.size
    if len(df) <= npar:
        raise ValueError(f"records has {len(df)} orders; more than {npar} are needed")
    _check_orders(df, (*ORDER_COLUMNS, "post_duration", "shares_outstanding"), "fit_athl")
    th, r, j, (pa, pt) = _athl_solve(o, x0, free, alpha, beta, dlt)
    _warn_negative("fit_athl", {"gamma": float(th[0]), "eta": float(th[1])})
    cov = cluster_sandwich(r, j)
    se = np.sqrt(np.maximum(np.diag(cov), 0.0))
    names = ["gamma", "eta"] + (["alpha"] if free[0] else []) + (["beta"] if free[1] else [])
    lo = hi = None
    interval = "sandwich (cluster-robust by order)"
    if bootstrap:
        rng = np.random.default_rng(seed)
        n = len(df)
        draws = np.empty((bootstrap, npar))
        for b in _progress(range(bootstrap), progress, "bootstrap"):
            idx = rng.integers(0, n, n)
            draws[b] = _athl_solve(o.take(idx), th, free, alpha, beta, dlt)[0]
        se = draws.std(axis=0, ddof=1)
        lo = np.quantile(draws, 0.025, axis=0)
        hi = np.quantile(draws, 0.975, axis=0)
        interval = f"bootstrap ({bootstrap} pairs resamples, percentile)"
    ests = []
    for i, nm in enumerate(names):
        ests.append(estimate(nm, th[i], se[i], "dimensionless", None if lo is None else lo[i],
                             None if hi is None else hi[i]))
    if not free[0]:
        ests.append(estimate("alpha", alpha, 0.0, "", alpha, alpha, fixed=True))
    if not free[1]:
        ests.append(estimate("beta", beta, 0.0, "", beta, beta, fixed=True))
    perm = th[0] * pa
    jp = perm / 2.0 + th[1] * pt
    gof = (("r2_I", _r2(o.imp, perm, o.a1)), ("r2_J", _r2(o.J, jp, o.b2)),
           ("whitened_rmse", float(np.sqrt(np.mean(r**2)))))
    info: tuple[tuple[str, Any], ...] = (("weighting", weighting),
                                         ("delta", dlt if has_theta else None))
    return ImpactFit("athl", tuple(ests), gof, len(df), interval, info, (ATHLImpact,))


# ---------------------------------------------------------------------------------------
# executions on the synthetic market: the exact Almgren-Chriss structure
# ---------------------------------------------------------------------------------------
def fit_ac_records(records: pd.DataFrame, *, tau: float | None = None,
                   time_unit_s: float = 1.0) -> ImpactFit:
    """Fit :math:`(\\epsilon, \\gamma, \\eta)` from TWAP parent orders on an Almgren-Chriss market.

    For an order of :math:`X` units in :math:`N` equal children over periods of :math:`\\tau`
    (records of :func:`tradesim_nb.execution.simulate_executions`), in price units:

    .. math::

        I = s(S_N - S_0) = \\gamma X + \\sum_{j=1}^{N}\\xi_j,\\qquad
        J = s(\\bar S - S_0) = \\epsilon + \\gamma\\frac{X}{2}\\Big(1-\\frac1N\\Big)
            + \\eta\\frac{X}{N\\tau} + \\sum_{j=1}^{N}\\frac{x_j}{X}\\xi_j

    with :math:`x_j/X = 1 - j/N`. The noise covariance is known up to :math:`\\sigma^2\\tau`:
    :math:`\\operatorname{Var} I \\propto N`, :math:`\\operatorname{Var} J \\propto
    \\sum_j (1-j/N)^2`, :math:`\\operatorname{Cov} \\propto \\sum_j (1 - j/N)`; each order's pair
    is whitened with it (GLS) and the linear model solved; intervals from the cluster-robust
    sandwich covariance (normal 95 %).

    Parameters
    ----------
    records : DataFrame
        Columns ``side, size, periods, arrival_price, post_price, exec_price`` (and
        ``duration`` when ``tau`` is None).
    tau : float, optional
        The period length; default ``duration / periods`` of each record.
    time_unit_s : float
        Seconds per time unit of ``tau`` (> 0); goes into the law
        (:class:`~tradesim_nb.impact.laws.LinearImpact`).

    Returns
    -------
    ImpactFit
        ``method="ac-records"``; estimates ``eta``, ``gamma``, ``epsilon``.
    """
    import pandas as pd

    need = ("side", "size", "periods", "arrival_price", "post_price", "exec_price")
    missing = [c for c in need if c not in records.columns]
    if missing:
        raise ValueError(f"records are missing column(s) {missing}; required: {list(need)}")
    if not (math.isfinite(time_unit_s) and time_unit_s > 0):
        raise ValueError(f"time_unit_s={time_unit_s!r} must be a finite number > 0")
    if tau is None:
        if "duration" not in records.columns:
            raise ValueError("tau=None needs a 'duration' column (duration = periods * tau)")
        taus = records["duration"].to_numpy(float) / records["periods"].to_numpy(float)
    else:
        if not (math.isfinite(tau) and tau > 0):
            raise ValueError(f"tau={tau!r} must be a finite number > 0")
        taus = np.full(len(records), float(tau))
    side = (records["side"].to_numpy(float)
            if pd.api.types.is_numeric_dtype(records["side"])
            else records["side"].astype(str).map({"buy": 1.0, "sell": -1.0}).to_numpy(float))
    if np.isnan(side).any():
        raise ValueError("column 'side' must hold 'buy'/'sell' or +1/-1")
    x = records["size"].to_numpy(float)
    nper = records["periods"].to_numpy(float)
    if np.any(x <= 0) or np.any(nper < 1):
        raise ValueError("columns 'size' (> 0) and 'periods' (>= 1) have invalid values")
    _check_orders(records, (*need, "duration"), "fit_ac_records")
    s0 = records["arrival_price"].to_numpy(float)
    imp = side * (records["post_price"].to_numpy(float) - s0)
    J = side * (records["exec_price"].to_numpy(float) - s0)
    # noise moments per order (units of sigma^2 tau)
    vi = nper
    vj = (nper - 1) * (2 * nper - 1) / (6 * nper)  # sum_{j=1}^{N} (1 - j/N)^2
    cij = (nper - 1) / 2.0
    l11 = np.sqrt(vi)
    l21 = cij / l11
    l22 = np.sqrt(np.maximum(vj - l21**2, 1e-12))
    a1, b1, b2 = 1 / l11, -l21 / (l11 * l22), 1 / l22
    # regressors: theta = (eps, gamma, eta)
    zi = np.stack([np.zeros_like(x), x, np.zeros_like(x)], axis=1)
    zj = np.stack([np.ones_like(x), x / 2 * (1 - 1 / nper), x / (nper * taus)], axis=1)
    wi = a1[:, None] * zi
    wj = b1[:, None] * zi + b2[:, None] * zj
    yi = a1 * imp
    yj = b1 * imp + b2 * J
    regs = np.stack([wi, wj], axis=1)  # n,2,3
    y = np.stack([yi, yj], axis=1)
    th, _, rank, _ = np.linalg.lstsq(regs.reshape(-1, 3), y.ravel(), rcond=None)
    if rank < 3:
        raise ValueError("fit_ac_records: the orders do not vary enough to separate epsilon, "
                         "gamma and eta (the regressors are collinear: give orders of "
                         "different sizes and numbers of periods)")
    r = y - np.einsum("nkp,p->nk", regs, th)
    _warn_negative("fit_ac_records", {"gamma": float(th[1]), "eta": float(th[2])})
    cov = cluster_sandwich(r, -regs)
    se = np.sqrt(np.maximum(np.diag(cov), 0.0))
    ests = (estimate("eta", th[2], se[2], "price*time/base"),
            estimate("gamma", th[1], se[1], "price/base"),
            estimate("epsilon", th[0], se[0], "price"))
    gof = (("r2_I", _r2(imp, th[1] * x, a1)),
           ("whitened_rmse", float(np.sqrt(np.mean(r**2)))),
           ("sigma_hat", float(np.sqrt(np.mean(r**2)) / math.sqrt(float(np.mean(taus))))))
    return ImpactFit("ac-records", ests, gof, len(records), "sandwich (cluster-robust by order)",
                     (("tau", float(np.mean(taus))), ("time_unit_s", float(time_unit_s))),
                     (LinearImpact,))


# ---------------------------------------------------------------------------------------
# public market data
# ---------------------------------------------------------------------------------------
def _walk_slope(ms: MarketSeries, rows: np.ndarray | None = None) -> tuple[float, float]:
    """(epsilon, kappa) of the mean walk-cost curve ``c(n) = epsilon + kappa n``."""
    w = ms.walk_cost if rows is None else ms.walk_cost[rows]
    c = np.nanmean(w, axis=0)
    ok = np.isfinite(c)
    if ok.sum() < 2:
        return math.nan, math.nan
    kappa, eps = np.polyfit(ms.sizes[ok], c[ok], 1)
    return float(eps), float(kappa)


def _refill_time(depth: np.ndarray, dt: float) -> float:
    """e-folding time of depth deviations: AR(1) coefficient at lag ``dt``."""
    d = depth - depth.mean()
    den = float(np.dot(d[:-1], d[:-1]))
    if den <= 0:
        return math.nan
    phi = float(np.dot(d[1:], d[:-1]) / den)
    if not (0 < phi < 1):
        return math.nan if phi <= 0 else math.inf
    return -dt / math.log(phi)


def _sqrt_law(r: np.ndarray, q: np.ndarray, sigma_d: float, v_d: float,
              x0: tuple[float, float] = (0.5, 0.5)) -> tuple[float, float]:
    """NLS of :math:`r = s\\,Y\\sigma_D(|q|/V_D)^\\delta` over intervals with volume."""
    from scipy import optimize

    ok = q != 0
    r, q = r[ok], q[ok]
    s = np.sign(q)
    z = np.abs(q) / v_d

    def fun(th: np.ndarray) -> np.ndarray:
        return r - s * th[0] * sigma_d * z ** th[1]

    res = optimize.least_squares(fun, np.array(x0), bounds=([0.0, 0.05], [np.inf, 1.5]))
    return float(res.x[0]), float(res.x[1])


def fit_market_data(series: MarketSeries, *, interval_steps: int = 1,
                    refill_s: float | None = None, bootstrap: int = 200, block: int | None = None,
                    seed: int = 0, progress: bool = False) -> ImpactFit:
    """Impact from public data: walk curve + refill (:math:`\\eta`), Kyle's lambda
    (:math:`\\gamma`), square-root law (:math:`Y`, exponent).

    * **Temporary impact.** The mean cost per unit of walking :math:`n` units against the mid,
      over both sides and all samples, is fitted as :math:`c(n) = \\epsilon + \\kappa n` (for a
      constant depth density :math:`\\rho`, :math:`\\kappa = 1/(2\\rho)`). The book refills on a
      time scale :math:`\\tau_r`, estimated (unless ``refill_s`` is given) as the e-folding time
      of the depth within a few bps: :math:`\\tau_r = -\\Delta t/\\ln\\hat\\phi` with
      :math:`\\hat\\phi` the lag-:math:`\\Delta t` autocorrelation. Trading :math:`n` units per
      :math:`\\tau_r` then costs :math:`\\epsilon + \\eta\\,n/\\tau_r` per unit, so
      :math:`\\eta = \\kappa\\,\\tau_r` (price x time / base), the Almgren-Chriss :math:`h(v)`.
    * **Permanent impact** (Kyle's lambda Kyle (1985)): OLS of mid changes on
      aggressor-signed volume over intervals of ``interval_steps`` samples,
      :math:`\\Delta m_i = c + \\gamma Q_i + e_i`, Newey-West standard errors.
    * **Square-root law** Bouchaud et al. (2018): :math:`s_i\\,\\Delta m_i/m_i = Y \\sigma_D
      (|Q_i|/V_D)^{\\delta}` by nonlinear least squares, with daily volatility
      :math:`\\sigma_D` and volume :math:`V_D` scaled from the data (the synthetic market's
      "day" is its time unit).

    Intervals of :math:`\\eta, \\epsilon, \\kappa, \\tau_r, Y, \\delta` are percentile
    intervals of a moving-block bootstrap over time (block ``block`` samples, default
    :math:`\\sqrt n`); :math:`\\gamma`'s are Newey-West normal intervals.

    ``goodness`` also reports ``sigma_price``, the mid's volatility in price per
    sqrt(time unit): with :math:`\\eta`, :math:`\\gamma` and ``epsilon`` it fills an
    :class:`~tradesim_nb.costs.almgren_chriss.ACParams` in consistent units.

    Parameters
    ----------
    series : MarketSeries
        From :func:`~tradesim_nb.impact.market_data.market_series_from_recording` or
        :func:`~tradesim_nb.impact.market_data.market_series_from_synthetic`.
    interval_steps : int
        Samples per Kyle-lambda interval (>= 1).
    refill_s : float, optional
        The refill time, in the series' time unit; estimated when None.
    bootstrap : int
        Block-bootstrap resamples (>= 2).
    block : int, optional
        Block length in samples (default :math:`\\sqrt n`).
    seed : int
        Seed of the bootstrap.
    progress : bool
        A tqdm bar over the bootstrap.

    Returns
    -------
    ImpactFit
        ``method="market-data"``; :attr:`~ImpactFit.law` the
        :class:`~tradesim_nb.impact.laws.LinearImpact` of ``eta``, ``gamma``, ``epsilon``
        (time unit ``series.time_unit_s``), ``laws["square-root"]`` the
        :class:`~tradesim_nb.impact.laws.SquareRootImpact` of ``Y`` and ``sqrt_exponent``.
    """
    if not (isinstance(interval_steps, int) and interval_steps >= 1):
        raise ValueError(f"interval_steps={interval_steps!r} must be an integer >= 1")
    if not (isinstance(bootstrap, int) and bootstrap >= 2):
        raise ValueError(f"bootstrap={bootstrap!r} must be an integer >= 2")
    n = len(series)
    k = interval_steps
    m = (n - 1) // k
    if m < 10:
        raise ValueError(f"series has {n} samples: {m} intervals of {k}; at least 10 needed")
    starts = np.arange(m) * k
    mid = series.mid
    dm = mid[starts + k] - mid[starts]
    cs = np.concatenate([[0.0], np.cumsum(series.signed_volume)])
    cv = np.concatenate([[0.0], np.cumsum(series.volume)])
    qv = cs[starts + k + 1] - cs[starts + 1]
    vol = cv[starts + k + 1] - cv[starts + 1]
    if not np.all(np.isfinite(dm)) or not np.all(np.isfinite(qv)):
        raise ValueError("fit_market_data: the series holds non-finite mids or volumes")
    if np.ptp(qv) == 0:
        raise ValueError(f"fit_market_data: the signed volume is {qv[0]:g} in all {m} intervals: "
                         "Kyle's lambda (mid change on signed volume) cannot be fitted "
                         "(a recording without trades, or too short)")
    if np.ptp(dm) == 0:
        raise ValueError(f"fit_market_data: the mid did not move in any of the {m} intervals: "
                         "no impact can be measured (a frozen book?)")
    xk = np.stack([np.ones_like(qv), qv], axis=1)
    beta, cov, lags = newey_west_ols(dm, xk)
    gamma_hat, gamma_se = float(beta[1]), float(math.sqrt(max(cov[1, 1], 0.0)))
    r2 = float(1 - np.var(dm - xk @ beta) / np.var(dm)) if np.var(dm) > 0 else math.nan

    eps, kappa = _walk_slope(series)
    tau_r = float(refill_s) if refill_s is not None else _refill_time(series.depth, series.dt_s)
    eta_hat = kappa * tau_r
    day = 86400.0 if series.source != "synthetic" else 1.0
    span = series.dt_s * k
    rel = dm / mid[starts]
    sigma_d = float(np.std(rel) * math.sqrt(day / span))
    v_d = float(vol.sum() / (span * dm.size) * day)
    y_hat, d_hat = _sqrt_law(rel, qv, sigma_d, v_d) if v_d > 0 else (math.nan, math.nan)

    rng = np.random.default_rng(seed)
    blk = block if block is not None else max(2, int(math.sqrt(n)))
    blk_i = max(2, int(math.sqrt(dm.size)))
    draws = np.full((bootstrap, 6), np.nan)
    for b in _progress(range(bootstrap), progress, "block bootstrap"):
        rows = block_indices(rng, n, min(blk, n))
        e_b, k_b = _walk_slope(series, rows)
        if refill_s is None:
            # resample depth in blocks but keep consecutive pairs within a block for the AR(1)
            starts = rng.integers(0, n - blk + 1, max(1, n // blk))
            pairs = np.concatenate([np.arange(s, s + blk - 1) for s in starts])
            d = series.depth - series.depth.mean()
            den = float(np.dot(d[pairs], d[pairs]))
            phi = float(np.dot(d[pairs + 1], d[pairs])) / den if den > 0 else math.nan
            t_b = -series.dt_s / math.log(phi) if 0 < phi < 1 else math.nan
        else:
            t_b = tau_r
        ri = block_indices(rng, dm.size, min(blk_i, dm.size))
        try:
            y_b, d_b = _sqrt_law(rel[ri], qv[ri], sigma_d, v_d, (y_hat, d_hat))
        except ValueError:
            y_b = d_b = math.nan
        draws[b] = (e_b, k_b, t_b, k_b * t_b, y_b, d_b)

    tu = "s" if series.source != "synthetic" else "time"
    named: list[Estimate] = [
        percentile_estimate("eta", eta_hat, draws[:, 3], f"price*{tu}/base"),
        estimate("gamma", gamma_hat, gamma_se, "price/base"),
        percentile_estimate("epsilon", eps, draws[:, 0], "price"),
        percentile_estimate("kappa", kappa, draws[:, 1], "price/base"),
        percentile_estimate("refill_time", tau_r, draws[:, 2], tu, fixed=refill_s is not None),
        percentile_estimate("Y", y_hat, draws[:, 4], "dimensionless"),
        percentile_estimate("sqrt_exponent", d_hat, draws[:, 5], "dimensionless"),
    ]
    sigma_price = float(np.std(dm) / math.sqrt(span))  # price / sqrt(time): AC's sigma
    gof = (("kyle_r2", r2), ("newey_west_lags", float(lags)), ("sigma_daily", sigma_d),
           ("sigma_price", sigma_price),
           ("adv", v_d), ("mean_mid", float(np.mean(series.mid))))
    info = (("source", series.source), ("dt_s", series.dt_s), ("interval_steps", k),
            ("bootstrap", bootstrap), ("block", blk), ("time_unit_s", series.time_unit_s))
    return ImpactFit("market-data", tuple(named), gof, int(dm.size),
                     f"block bootstrap ({bootstrap}) / newey-west (gamma)", info,
                     (LinearImpact, SquareRootImpact))
