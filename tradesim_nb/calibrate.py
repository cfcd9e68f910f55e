"""Calibration of market impact: :math:`\\eta` and :math:`\\gamma` (and exponents) with honest intervals.

Three sources of data, one result type (:class:`ImpactFit`: estimates, standard errors,
95 % intervals, goodness of fit, ``summary()``, ``to_frame()``, ``to_dict()``):

1. **Parent-order records** — :func:`fit_athl`, the model of Almgren, Thum, Hauptmann and Li
   (2005), by whitened nonlinear least squares (:func:`scipy.optimize.least_squares`).
   :func:`simulate_orders` draws records from that model.
2. **Executions on the synthetic market** — :func:`fit_ac_records`, the exact Almgren-Chriss
   structure of :mod:`tradesim_nb.market` (TWAP parent orders of
   :func:`tradesim_nb.execution.simulate_executions`); :func:`calibrate_synthetic` runs both.
3. **Public market data** (recordings, or the synthetic market's own feed) —
   :func:`fit_market_data`: temporary impact from the book's walk-cost curve and its refill
   time, permanent impact as Kyle's lambda with Newey-West intervals, and the square-root
   law's :math:`Y` and exponent, with moving-block bootstrap intervals.

:func:`calibrate_many` runs many fits in parallel on Dask with results identical to the serial
run.

Units
-----
* ATHL (records): dimensionless. :math:`I, J` are fractions of the arrival price, sizes are
  fractions of the average daily volume :math:`V`, durations fractions of a day, :math:`\\sigma`
  daily; :math:`\\gamma = 0.314`, :math:`\\eta = 0.142` are the paper's US-equity values.
* Almgren-Chriss (synthetic market, market data): price units. :math:`\\gamma` in quote per
  base unit traded (mid move per unit of signed volume); :math:`\\eta` in quote x time / base
  so that a child of :math:`n` units traded in an interval :math:`\\tau` costs
  :math:`\\epsilon + \\eta\\, n/\\tau` per unit; time is the market's unit (synthetic) or seconds
  (recordings). These plug straight into :class:`tradesim_nb.costs.almgren_chriss.ACParams`.

References
----------
R. Almgren, C. Thum, E. Hauptmann and H. Li, "Direct estimation of equity market impact",
Risk 18 (July 2005) 58-62.
R. Almgren and N. Chriss, "Optimal execution of portfolio transactions", J. Risk 3 (2000) 5-39.
A. S. Kyle, "Continuous auctions and insider trading", Econometrica 53 (1985) 1315-1335.
W. K. Newey and K. D. West, "A simple, positive semi-definite, heteroskedasticity and
autocorrelation consistent covariance matrix", Econometrica 55 (1987) 703-708.
H. R. Kuensch, "The jackknife and the bootstrap for general stationary observations",
Ann. Statist. 17 (1989) 1217-1241.
J.-P. Bouchaud, J. Bonart, J. Donier and M. Gould, *Trades, Quotes and Prices* (CUP 2018), ch. 12.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize, stats

__all__ = [
    "CalibrationTask",
    "Estimate",
    "ImpactFit",
    "MarketSeries",
    "calibrate_many",
    "calibrate_serial",
    "calibrate_synthetic",
    "fit_ac_records",
    "fit_athl",
    "fit_market_data",
    "load_orders",
    "market_series_from_recording",
    "market_series_from_synthetic",
    "newey_west_ols",
    "run_task",
    "simulate_orders",
]

log = logging.getLogger(__name__)

Weighting = Literal["gls", "athl", "none"]
_Z95 = float(stats.norm.ppf(0.975))

ORDER_COLUMNS = ("side", "size", "duration", "adv", "sigma", "arrival_price", "post_price",
                 "exec_price")


# ---------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Estimate:
    """One fitted parameter: estimate, standard error and a 95 % interval."""

    name: str
    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    unit: str = ""
    fixed: bool = False

    def covers(self, value: float) -> bool:
        return self.ci_low <= value <= self.ci_high

    def to_dict(self) -> dict[str, Any]:
        return dict(estimate=self.estimate, std_error=self.std_error, ci_low=self.ci_low,
                    ci_high=self.ci_high, unit=self.unit, fixed=self.fixed)


@dataclass(frozen=True, slots=True)
class ImpactFit:
    """An immutable calibration result.

    Attributes
    ----------
    method : str
        ``"athl"``, ``"ac-records"`` or ``"market-data"``.
    estimates : tuple of Estimate
    goodness : tuple of (name, value)
        Goodness-of-fit figures (R², whitened RMSE, ...).
    n_obs : int
    interval : str
        How the intervals were made (``"sandwich"``, ``"bootstrap(B)"``, ``"newey-west"``).
    info : tuple of (name, value)
        Anything else worth keeping (units, settings).
    """

    method: str
    estimates: tuple[Estimate, ...]
    goodness: tuple[tuple[str, float], ...]
    n_obs: int
    interval: str
    info: tuple[tuple[str, Any], ...] = ()

    def __getitem__(self, name: str) -> Estimate:
        for e in self.estimates:
            if e.name == name:
                return e
        raise KeyError(f"no estimate named {name!r}; have {[e.name for e in self.estimates]}")

    def __contains__(self, name: object) -> bool:
        return any(e.name == name for e in self.estimates)

    @property
    def eta(self) -> Estimate:
        return self["eta"]

    @property
    def gamma(self) -> Estimate:
        return self["gamma"]

    def params(self) -> dict[str, float]:
        return {e.name: e.estimate for e in self.estimates}

    def to_frame(self) -> pd.DataFrame:
        """One row per parameter: estimate, std_error, ci_low, ci_high, unit, fixed."""
        return pd.DataFrame([{"param": e.name, **e.to_dict()} for e in self.estimates]
                            ).set_index("param")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method, "n_obs": self.n_obs,
                               "interval": self.interval}
        for e in self.estimates:
            out[e.name] = e.to_dict()
        out["goodness"] = dict(self.goodness)
        out["info"] = {k: v for k, v in self.info}
        return out

    def summary(self) -> str:
        """A plain-text table of the fit."""
        lines = [f"{self.method} fit: n_obs={self.n_obs}, 95% intervals by {self.interval}",
                 f"{'param':<10}{'estimate':>14}{'std err':>13}{'ci_low':>14}{'ci_high':>14}  unit"]
        for e in self.estimates:
            fx = " (fixed)" if e.fixed else ""
            lines.append(f"{e.name:<10}{e.estimate:>14.6g}{e.std_error:>13.4g}{e.ci_low:>14.6g}"
                         f"{e.ci_high:>14.6g}  {e.unit}{fx}")
        if self.goodness:
            lines.append("goodness: " + ", ".join(f"{k}={v:.4g}" for k, v in self.goodness))
        if self.info:
            lines.append("info: " + ", ".join(f"{k}={v}" for k, v in self.info))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def _est(name: str, x: float, se: float, unit: str = "", lo: float | None = None,
         hi: float | None = None, fixed: bool = False) -> Estimate:
    if lo is None or hi is None:
        lo, hi = x - _Z95 * se, x + _Z95 * se
    return Estimate(name, float(x), float(se), float(lo), float(hi), unit, fixed)


def _progress(it: Iterable[Any], progress: bool, desc: str, total: int | None = None
              ) -> Iterable[Any]:
    from tqdm.auto import tqdm

    return tqdm(it, disable=not progress, desc=desc, total=total, leave=False)


# ---------------------------------------------------------------------------------------
# parent-order records: ATHL
# ---------------------------------------------------------------------------------------
def load_orders(records: pd.DataFrame | str | Path) -> pd.DataFrame:
    """Validate parent-order records (a DataFrame or a CSV path); return a clean copy.

    Required columns: ``side`` (``buy``/``sell`` or +1/-1), ``size`` (base units, > 0),
    ``duration`` (fraction of a day, > 0), ``adv`` (> 0), ``sigma`` (daily, fraction, > 0),
    ``arrival_price`` (> 0), ``post_price``, ``exec_price`` (finite, > 0). Optional:
    ``post_duration`` (fraction of a day from the start to the post price, >= duration;
    default ``duration``), ``shares_outstanding`` (for the :math:`(\\Theta/V)^\\delta` factor).
    """
    if isinstance(records, str | Path):
        p = Path(records)
        if not p.exists():
            raise FileNotFoundError(f"orders file {p} does not exist")
        df = pd.read_csv(p)
    elif isinstance(records, pd.DataFrame):
        df = records.copy()
    else:
        raise ValueError(f"records={type(records).__name__} must be a DataFrame or a CSV path")
    missing = [c for c in ORDER_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"orders are missing column(s) {missing}; required: "
                         f"{list(ORDER_COLUMNS)}")
    if len(df) == 0:
        raise ValueError("orders has 0 rows; at least one parent order is needed")
    side = df["side"]
    if not pd.api.types.is_numeric_dtype(side):
        s = side.astype(str).str.lower().map({"buy": 1.0, "sell": -1.0, "b": 1.0, "s": -1.0,
                                              "1": 1.0, "-1": -1.0})
    else:
        s = pd.to_numeric(side, errors="coerce").where(lambda v: v.isin([1, -1]))
    if s.isna().any():
        bad = df.loc[s.isna(), "side"].iloc[0]
        raise ValueError(f"column 'side' has value {bad!r}; allowed 'buy', 'sell', +1, -1")
    df["side"] = s.astype(float)
    for c in ORDER_COLUMNS[1:]:
        v = pd.to_numeric(df[c], errors="coerce")
        bad = ~np.isfinite(v) | (v <= 0)
        if bad.any():
            raise ValueError(f"column {c!r} has value {df.loc[bad, c].iloc[0]!r} at row "
                             f"{int(np.flatnonzero(bad.to_numpy())[0])}; allowed: finite > 0")
        df[c] = v.astype(float)
    if "post_duration" in df.columns:
        v = pd.to_numeric(df["post_duration"], errors="coerce")
        bad = ~np.isfinite(v) | (v < df["duration"])
        if bad.any():
            raise ValueError(f"column 'post_duration' has value {df.loc[bad, 'post_duration'].iloc[0]!r}; "
                             "allowed: finite and >= duration")
        df["post_duration"] = v.astype(float)
    if "shares_outstanding" in df.columns:
        v = pd.to_numeric(df["shares_outstanding"], errors="coerce")
        bad = ~np.isfinite(v) | (v <= 0)
        if bad.any():
            raise ValueError(f"column 'shares_outstanding' has value "
                             f"{df.loc[bad, 'shares_outstanding'].iloc[0]!r}; allowed: finite > 0")
        df["shares_outstanding"] = v.astype(float)
    return df.reset_index(drop=True)


@dataclass(frozen=True, slots=True)
class _Orders:
    """Arrays of an ATHL data set, with the per-order whitening of the (I, J) pair."""

    imp: np.ndarray
    J: np.ndarray
    xv: np.ndarray  # X / V
    rate: np.ndarray  # |X / (V T)|
    sigma: np.ndarray
    theta: np.ndarray  # (Theta / V) or ones
    # whitening: w1 = a1*e1 ; w2 = b1*e1 + b2*e2
    a1: np.ndarray
    b1: np.ndarray
    b2: np.ndarray

    def take(self, idx: np.ndarray) -> _Orders:
        return _Orders(*(getattr(self, f)[idx] for f in self.__slots__))


def _orders_arrays(df: pd.DataFrame, weighting: Weighting) -> _Orders:
    s = df["side"].to_numpy()
    s0 = df["arrival_price"].to_numpy()
    imp = s * (df["post_price"].to_numpy() - s0) / s0
    J = s * (df["exec_price"].to_numpy() - s0) / s0
    x = df["size"].to_numpy()
    v = df["adv"].to_numpy()
    t = df["duration"].to_numpy()
    tp = df["post_duration"].to_numpy() if "post_duration" in df.columns else t
    sig = df["sigma"].to_numpy()
    theta = (df["shares_outstanding"].to_numpy() / v if "shares_outstanding" in df.columns
             else np.ones_like(x))
    if weighting == "gls":
        # diffusion covariance of (I, J) for uniform trading over [0, T], post at Tp >= T:
        # Var I = s^2 Tp, Var J = s^2 T/3, Cov = s^2 T/2  ->  Cholesky and its inverse.
        l11 = sig * np.sqrt(tp)
        l21 = sig * (t / 2.0) / np.sqrt(tp)
        l22 = sig * np.sqrt(np.maximum(t / 3.0 - t * t / (4.0 * tp), 1e-300))
        a1 = 1.0 / l11
        b1 = -l21 / (l11 * l22)
        b2 = 1.0 / l22
    elif weighting == "athl":
        a1 = 1.0 / (sig * np.sqrt(tp))
        b1 = np.zeros_like(a1)
        b2 = 1.0 / (sig * np.sqrt(t / 3.0))
    elif weighting == "none":
        a1 = np.ones_like(x)
        b1 = np.zeros_like(x)
        b2 = np.ones_like(x)
    else:
        raise ValueError(f"weighting={weighting!r} is not one of 'gls', 'athl', 'none'")
    return _Orders(imp, J, x / v, np.abs(x / (v * t)), sig, theta, a1, b1, b2)


def _athl_model(theta_v: np.ndarray, o: _Orders, alpha: float, beta: float, delta: float
                ) -> tuple[np.ndarray, np.ndarray]:
    gamma, eta = theta_v[0], theta_v[1]
    perm = gamma * o.sigma * o.xv**alpha * o.theta**delta
    temp = eta * o.sigma * o.rate**beta
    return perm, perm / 2.0 + temp


def _athl_solve(o: _Orders, x0: np.ndarray, free: tuple[bool, bool], alpha: float,
                beta: float, delta: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minimise the whitened residuals; return (params, residuals (n,2), jacobian (n,2,p)).

    With both exponents fixed the model is linear in (gamma, eta): one least-squares solve.
    Otherwise Levenberg-Marquardt with the analytic Jacobian, started from the linear
    solution at the starting exponents."""

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
    sig_theta = o.sigma * o.theta**delta if delta else o.sigma
    cache: dict[tuple[float, float], tuple[np.ndarray, np.ndarray]] = {}

    def basis(a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
        key = (a, b)
        if key not in cache:
            cache.clear()
            cache[key] = (sig_theta * o.xv**a, o.sigma * o.rate**b)
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
    return th, resid(th), jac3(th)


def _sandwich(r: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Cluster-robust (by order) covariance of least squares: bread^-1 meat bread^-1."""
    jm = j.reshape(-1, j.shape[2])
    bread = np.linalg.pinv(jm.T @ jm)
    g = np.einsum("nkp,nk->np", j, r)  # per-order score
    n = g.shape[0]
    meat = g.T @ g * (n / max(n - j.shape[2], 1))
    return bread @ meat @ bread


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
        See :func:`load_orders`.
    alpha, beta : float
        Exponents (fixed unless ``fit_alpha`` / ``fit_beta``; then the starting values).
    delta : float
        Exponent of :math:`\\Theta/V` (ATHL: 1/4); used only with ``shares_outstanding``.
    weighting : {"gls", "athl", "none"}
    bootstrap : int
        Number of bootstrap resamples (0 = sandwich intervals).
    seed : int
        Seed of the bootstrap resampling.
    progress : bool
        A tqdm bar over the bootstrap.
    """
    df = load_orders(records)
    for name, v in (("alpha", alpha), ("beta", beta), ("delta", delta)):
        if not (isinstance(v, int | float) and math.isfinite(v) and 0 <= v <= 3):
            raise ValueError(f"{name}={v!r} must be a finite number in [0, 3]")
    if not (isinstance(bootstrap, int) and bootstrap >= 0):
        raise ValueError(f"bootstrap={bootstrap!r} must be an integer >= 0")
    if bootstrap == 1:
        raise ValueError("bootstrap=1 is not allowed; use 0 (sandwich) or >= 2 resamples")
    o = _orders_arrays(df, weighting)
    has_theta = "shares_outstanding" in df.columns
    dlt = delta if has_theta else 0.0
    free = (bool(fit_alpha), bool(fit_beta))
    x0 = np.array([0.3, 0.1] + ([alpha] if free[0] else []) + ([beta] if free[1] else []))
    npar = x0.size
    if len(df) <= npar:
        raise ValueError(f"records has {len(df)} orders; more than {npar} are needed")
    th, r, j = _athl_solve(o, x0, free, alpha, beta, dlt)
    cov = _sandwich(r, j)
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
        ests.append(_est(nm, th[i], se[i], "dimensionless", None if lo is None else lo[i],
                         None if hi is None else hi[i]))
    if not free[0]:
        ests.append(_est("alpha", alpha, 0.0, "", alpha, alpha, fixed=True))
    if not free[1]:
        ests.append(_est("beta", beta, 0.0, "", beta, beta, fixed=True))
    perm, jp = _athl_model(th, o, th[2] if free[0] else alpha,
                           th[-1] if free[1] else beta, dlt)
    gof = (("r2_I", _r2(o.imp, perm, o.a1)), ("r2_J", _r2(o.J, jp, o.b2)),
           ("whitened_rmse", float(np.sqrt(np.mean(r**2)))))
    info: tuple[tuple[str, Any], ...] = (("weighting", weighting),
                                         ("delta", dlt if has_theta else None))
    return ImpactFit("athl", tuple(ests), gof, len(df), interval, info)


def _r2(y: np.ndarray, f: np.ndarray, w: np.ndarray) -> float:
    w2 = w * w
    ybar = np.sum(w2 * y) / np.sum(w2)
    ss_res = np.sum(w2 * (y - f) ** 2)
    ss_tot = np.sum(w2 * (y - ybar) ** 2)
    return float(1.0 - ss_res / ss_tot) if ss_tot > 0 else math.nan


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
    """
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
    perm = gamma * sig * frac**alpha
    temp = eta * sig * np.abs(frac / t) ** beta
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


# ---------------------------------------------------------------------------------------
# executions on the synthetic market: the exact Almgren-Chriss structure
# ---------------------------------------------------------------------------------------
def fit_ac_records(records: pd.DataFrame, *, tau: float | None = None) -> ImpactFit:
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
    """
    need = ("side", "size", "periods", "arrival_price", "post_price", "exec_price")
    missing = [c for c in need if c not in records.columns]
    if missing:
        raise ValueError(f"records are missing column(s) {missing}; required: {list(need)}")
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
    # design: theta = (eps, gamma, eta)
    zi = np.stack([np.zeros_like(x), x, np.zeros_like(x)], axis=1)
    zj = np.stack([np.ones_like(x), x / 2 * (1 - 1 / nper), x / (nper * taus)], axis=1)
    wi = a1[:, None] * zi
    wj = b1[:, None] * zi + b2[:, None] * zj
    yi = a1 * imp
    yj = b1 * imp + b2 * J
    design = np.stack([wi, wj], axis=1)  # n,2,3
    y = np.stack([yi, yj], axis=1)
    th, *_ = np.linalg.lstsq(design.reshape(-1, 3), y.ravel(), rcond=None)
    r = y - np.einsum("nkp,p->nk", design, th)
    cov = _sandwich(r, -design)
    se = np.sqrt(np.maximum(np.diag(cov), 0.0))
    ests = (_est("eta", th[2], se[2], "price*time/base"),
            _est("gamma", th[1], se[1], "price/base"),
            _est("epsilon", th[0], se[0], "price"))
    gof = (("r2_I", _r2(imp, th[1] * x, a1)),
           ("whitened_rmse", float(np.sqrt(np.mean(r**2)))),
           ("sigma_hat", float(np.sqrt(np.mean(r**2)) / math.sqrt(float(np.mean(taus))))))
    return ImpactFit("ac-records", ests, gof, len(records), "sandwich (cluster-robust by order)",
                     (("tau", float(np.mean(taus))),))


def calibrate_synthetic(eta: float = 2.5e-6, gamma: float = 2.5e-7, seed: int = 0, *,
                        n_orders: int = 2000, sigma: float = 0.3, epsilon: float = 0.0625,
                        flow_share: float = 0.2, size_range: tuple[float, float] = (1e6, 1e7),
                        periods_range: tuple[int, int] = (2, 20)) -> tuple[ImpactFit, Any]:
    """Simulate ``n_orders`` TWAP orders on a synthetic market with true ``eta``, ``gamma``
    and fit them with :func:`fit_ac_records`. Returns ``(fit, market_params)``.

    ``flow_share`` is the share of the mid variance due to background trades (it sets
    ``mean_trade_size``)."""
    from .execution import simulate_executions
    from .market import MarketParams

    if not (0 <= flow_share < 1):
        raise ValueError(f"flow_share={flow_share!r} must be in [0, 1)")
    base = MarketParams(sigma=sigma, eta=eta, gamma=gamma, epsilon=epsilon, mean_trade_size=0.0)
    mts = 0.0 if gamma == 0 else math.sqrt(flow_share) * base.max_mean_trade_size
    p = MarketParams(sigma=sigma, eta=eta, gamma=gamma, epsilon=epsilon, mean_trade_size=mts)
    recs = simulate_executions(p, n_orders, seed, size_range=size_range,
                               periods_range=periods_range)
    fit = fit_ac_records(recs, tau=p.tau)
    info = (*fit.info, ("true_eta", eta), ("true_gamma", gamma), ("seed", seed))
    return ImpactFit(fit.method, fit.estimates, fit.goodness, fit.n_obs, fit.interval,
                     info), p


# ---------------------------------------------------------------------------------------
# public market data
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MarketSeries:
    """Public data on a regular time grid (columnar numpy arrays).

    Attributes
    ----------
    t_s : (n,) sample times, seconds (or the market's time unit) from the start
    mid : (n,) mid price at each sample
    signed_volume : (n,) aggressor-signed traded volume (base) in ``(t_{i-1}, t_i]``
    volume : (n,) unsigned traded volume in the same interval
    sizes : (m,) the walk sizes (base units)
    walk_cost : (n, m) cost per unit against the mid (price units), averaged over both sides
    depth : (n,) depth (base units, both sides) within ``depth_bps`` of the mid
    dt_s : the grid step
    """

    t_s: np.ndarray
    mid: np.ndarray
    signed_volume: np.ndarray
    volume: np.ndarray
    sizes: np.ndarray
    walk_cost: np.ndarray
    depth: np.ndarray
    dt_s: float
    source: str = ""

    def __len__(self) -> int:
        return int(self.t_s.size)

    def slice(self, start: int, stop: int) -> MarketSeries:
        sl = slice(start, stop)
        return MarketSeries(self.t_s[sl], self.mid[sl], self.signed_volume[sl],
                            self.volume[sl], self.sizes, self.walk_cost[sl], self.depth[sl],
                            self.dt_s, self.source)


def _book_walk_row(book: Any, sizes: np.ndarray) -> np.ndarray:
    out = np.empty(sizes.size)
    for k, n in enumerate(sizes):
        fb = book.walk("buy", float(n), "base")
        fs = book.walk("sell", float(n), "base")
        if fb.unfilled > 0 or fs.unfilled > 0:
            out[k] = math.nan
        else:
            out[k] = 0.5 * ((fb.vwap - fb.mid) + (fs.mid - fs.vwap))
    return out


def _depth_within(book: Any, bps: float) -> float:
    return float(book.depth_within_bps("bid", bps) + book.depth_within_bps("ask", bps))


def market_series_from_recording(paths: Sequence[str | Path], venue: str = "binance",
                                 symbol: str = "BTCUSDT", *, dt_s: float = 1.0,
                                 sizes: Sequence[float] | None = None, depth_bps: float = 5.0,
                                 progress: bool = False) -> MarketSeries:
    """Replay a recording through the venue parser and sample it every ``dt_s`` seconds of
    receive time: mid, signed trade volume (aggressor side), the walk-cost curve over
    ``sizes`` (default 0.05 .. 5 base units, log-spaced) and the depth within ``depth_bps``."""
    from .events import BookDelta, BookSnapshot, Trade
    from .recording import read_frames
    from .venues import get_feed

    if not (math.isfinite(dt_s) and dt_s > 0):
        raise ValueError(f"dt_s={dt_s!r} must be a finite number > 0")
    sz = np.asarray(sizes if sizes is not None else np.geomspace(0.05, 5.0, 12), dtype=float)
    if sz.ndim != 1 or sz.size < 2 or np.any(sz <= 0):
        raise ValueError(f"sizes={sizes!r} must hold at least 2 sizes > 0")
    feed = get_feed(venue)
    step = round(dt_s * 1e9)
    t0: int | None = None
    t_next = 0
    sv = v = 0.0
    rows: list[tuple[float, float, float, float, float]] = []
    walks: list[np.ndarray] = []
    frames = read_frames(*[Path(p) for p in paths])
    for recv_ns, frame in _progress(frames, progress, "replay"):
        for ev in feed.on_frame(frame, recv_ns):
            te = type(ev)
            if te is Trade and ev.symbol == symbol:  # type: ignore[union-attr]
                if t0 is not None:
                    q = float(ev.qty)  # type: ignore[union-attr]
                    sv += q if ev.side == "buy" else -q  # type: ignore[union-attr]
                    v += q
            elif te in (BookDelta, BookSnapshot) and ev.symbol == symbol:  # type: ignore[union-attr]
                book = feed.books[symbol]
                if not book.valid:
                    continue
                if t0 is None:
                    t0 = recv_ns
                    t_next = recv_ns
                while recv_ns >= t_next:
                    rows.append(((t_next - t0) / 1e9, book.mid, sv, v,
                                 _depth_within(book, depth_bps)))
                    walks.append(_book_walk_row(book, sz))
                    sv = v = 0.0
                    t_next += step
    if len(rows) < 10:
        raise ValueError(f"the recording gave {len(rows)} samples of {symbol} at dt_s={dt_s}; "
                         "at least 10 are needed")
    a = np.array(rows)
    return MarketSeries(a[:, 0], a[:, 1], a[:, 2], a[:, 3], sz, np.array(walks), a[:, 4],
                        float(dt_s), f"{venue}:{symbol}")


def market_series_from_synthetic(market: Any, n_samples: int, *, steps_per_sample: int = 1,
                                 sizes: Sequence[float] | None = None, depth_bps: float = 5.0,
                                 progress: bool = False) -> MarketSeries:
    """Run a :class:`~tradesim_nb.market.SyntheticMarket` event by event and sample its public
    data like a recording (time in the market's unit)."""
    if not (isinstance(n_samples, int) and n_samples >= 10):
        raise ValueError(f"n_samples={n_samples!r} must be an integer >= 10")
    p = market.params
    sz = np.asarray(sizes if sizes is not None else
                    np.linspace(1, 40, 8) * p.level_size, dtype=float)
    rows = []
    walks = []
    for _ in _progress(range(n_samples), progress, "synthetic"):
        sv = v = 0.0
        for _k in range(steps_per_sample):
            ms = market.step()
            for _px, q, side in ms.trades:
                sv += q if side == "buy" else -q
                v += q
        book = market._full_book(int(sz.max() / p.level_size) + 4)
        rows.append((market.time, market.mid, sv, v, _depth_within(book, depth_bps)))
        walks.append(_book_walk_row(book, sz))
    a = np.array(rows)
    dt = p.tau / p.steps_per_period * steps_per_sample
    return MarketSeries(a[:, 0], a[:, 1], a[:, 2], a[:, 3], sz, np.array(walks), a[:, 4],
                        dt, "synthetic")


def newey_west_ols(y: np.ndarray, x: np.ndarray, lags: int | None = None
                   ) -> tuple[np.ndarray, np.ndarray, int]:
    """OLS of ``y`` on the columns of ``x`` with the Newey-West (Bartlett kernel) covariance.

    .. math:: \\hat\\Omega = \\Gamma_0 + \\sum_{l=1}^{L}\\Big(1 - \\frac{l}{L+1}\\Big)
              (\\Gamma_l + \\Gamma_l^\\top),\\quad \\Gamma_l = \\sum_t u_t u_{t-l}^\\top,
              \\; u_t = x_t e_t

    with :math:`L = \\lfloor 4 (n/100)^{2/9} \\rfloor` by default. Returns ``(beta, cov, L)``.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    n, k = x.shape
    if n <= k + 1:
        raise ValueError(f"y has {n} observations; more than {k + 1} are needed")
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    e = y - x @ beta
    u = x * e[:, None]
    L = math.floor(4 * (n / 100.0) ** (2.0 / 9.0)) if lags is None else int(lags)
    omega = u.T @ u
    for lag in range(1, L + 1):
        g = u[lag:].T @ u[:-lag]
        omega += (1 - lag / (L + 1)) * (g + g.T)
    xtx_inv = np.linalg.inv(x.T @ x)
    cov = xtx_inv @ omega @ xtx_inv * n / (n - k)
    return beta, cov, L


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
    ok = q != 0
    r, q = r[ok], q[ok]
    s = np.sign(q)
    z = np.abs(q) / v_d

    def fun(th: np.ndarray) -> np.ndarray:
        return r - s * th[0] * sigma_d * z ** th[1]

    res = optimize.least_squares(fun, np.array(x0), bounds=([0.0, 0.05], [np.inf, 1.5]))
    return float(res.x[0]), float(res.x[1])


def _block_indices(rng: np.random.Generator, n: int, block: int) -> np.ndarray:
    nb = math.ceil(n / block)
    starts = rng.integers(0, n - block + 1, nb)
    return (starts[:, None] + np.arange(block)[None, :]).ravel()[:n]


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
    * **Permanent impact** (Kyle's lambda): OLS of mid changes on aggressor-signed volume over
      intervals of ``interval_steps`` samples, :math:`\\Delta m_i = c + \\gamma Q_i + e_i`,
      Newey-West standard errors.
    * **Square-root law**: :math:`s_i\\,\\Delta m_i/m_i = Y \\sigma_D (|Q_i|/V_D)^{\\delta}` by
      nonlinear least squares, with daily volatility :math:`\\sigma_D` and volume :math:`V_D`
      scaled from the data.

    Intervals of :math:`\\eta, \\epsilon, \\kappa, \\tau_r, Y, \\delta` are percentile
    intervals of a moving-block bootstrap over time (block ``block`` samples, default
    :math:`\\sqrt n`); :math:`\\gamma`'s are Newey-West normal intervals.

    ``goodness`` also reports ``sigma_price``, the mid's volatility in price per
    sqrt(time unit): with :math:`\\eta`, :math:`\\gamma` and ``epsilon`` it fills an
    :class:`~tradesim_nb.costs.almgren_chriss.ACParams` in consistent units.
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
        rows = _block_indices(rng, n, min(blk, n))
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
        ri = _block_indices(rng, dm.size, min(blk_i, dm.size))
        try:
            y_b, d_b = _sqrt_law(rel[ri], qv[ri], sigma_d, v_d, (y_hat, d_hat))
        except ValueError:
            y_b = d_b = math.nan
        draws[b] = (e_b, k_b, t_b, k_b * t_b, y_b, d_b)

    def pci(j: int, x: float, unit: str, fixed: bool = False) -> Estimate:
        col = draws[:, j]
        col = col[np.isfinite(col)]
        if fixed or col.size < 2:
            return _est("", x, 0.0 if fixed else math.nan, unit, x if fixed else math.nan,
                        x if fixed else math.nan, fixed)
        return Estimate("", float(x), float(col.std(ddof=1)), float(np.quantile(col, 0.025)),
                        float(np.quantile(col, 0.975)), unit)

    tu = "s" if series.source != "synthetic" else "time"
    named: list[Estimate] = []
    for nm, est in (("eta", pci(3, eta_hat, f"price*{tu}/base")),
                    ("gamma", _est("gamma", gamma_hat, gamma_se, "price/base")),
                    ("epsilon", pci(0, eps, "price")),
                    ("kappa", pci(1, kappa, "price/base")),
                    ("refill_time", pci(2, tau_r, tu, fixed=refill_s is not None)),
                    ("Y", pci(4, y_hat, "dimensionless")),
                    ("sqrt_exponent", pci(5, d_hat, "dimensionless"))):
        named.append(Estimate(nm, est.estimate, est.std_error, est.ci_low, est.ci_high,
                              est.unit, est.fixed))
    sigma_price = float(np.std(dm) / math.sqrt(span))  # price / sqrt(time): AC's sigma
    gof = (("kyle_r2", r2), ("newey_west_lags", float(lags)), ("sigma_daily", sigma_d),
           ("sigma_price", sigma_price),
           ("adv", v_d), ("mean_mid", float(np.mean(series.mid))))
    info = (("source", series.source), ("dt_s", series.dt_s), ("interval_steps", k),
            ("bootstrap", bootstrap), ("block", blk))
    return ImpactFit("market-data", tuple(named), gof, int(dm.size),
                     f"block bootstrap ({bootstrap}) / newey-west (gamma)", info)


# ---------------------------------------------------------------------------------------
# scale-out
# ---------------------------------------------------------------------------------------
TaskKind = Literal["synthetic", "athl-simulated", "orders", "recording"]


@dataclass(frozen=True, slots=True)
class CalibrationTask:
    """One fit to run: what data, which method, which seed (so results are reproducible).

    kind : ``"synthetic"`` (:func:`calibrate_synthetic` with ``eta``, ``gamma``, ``seed``,
    ``n``), ``"athl-simulated"`` (:func:`simulate_orders` + :func:`fit_athl`), ``"orders"``
    (:func:`fit_athl` on the CSV ``paths[0]``), ``"recording"`` (:func:`fit_market_data` on
    ``paths`` replayed through ``venue``).
    """

    kind: TaskKind
    seed: int = 0
    eta: float = 0.142
    gamma: float = 0.314
    n: int = 2000
    paths: tuple[str, ...] = ()
    venue: str = "binance"
    symbol: str = "BTCUSDT"
    options: tuple[tuple[str, Any], ...] = field(default=())

    def __post_init__(self) -> None:
        if self.kind not in ("synthetic", "athl-simulated", "orders", "recording"):
            raise ValueError(f"kind={self.kind!r} is not one of 'synthetic', 'athl-simulated', "
                             "'orders', 'recording'")
        if self.kind in ("orders", "recording") and not self.paths:
            raise ValueError(f"paths=() must name at least one file for kind={self.kind!r}")
        if not (isinstance(self.n, int) and self.n >= 10):
            raise ValueError(f"n={self.n!r} must be an integer >= 10")


def run_task(task: CalibrationTask) -> ImpactFit:
    """Run one :class:`CalibrationTask` (pure: same task, same result)."""
    opts: Mapping[str, Any] = dict(task.options)
    if task.kind == "synthetic":
        return calibrate_synthetic(task.eta, task.gamma, task.seed, n_orders=task.n, **opts)[0]
    if task.kind == "athl-simulated":
        recs = simulate_orders(task.n, gamma=task.gamma, eta=task.eta, seed=task.seed)
        return fit_athl(recs, seed=task.seed, **opts)
    if task.kind == "orders":
        return fit_athl(task.paths[0], seed=task.seed, **opts)
    dt = float(opts.get("dt_s", 1.0))
    ms = market_series_from_recording(task.paths, task.venue, task.symbol, dt_s=dt)
    rest = {k: v for k, v in opts.items() if k != "dt_s"}
    return fit_market_data(ms, seed=task.seed, **rest)


def calibrate_many(tasks: Sequence[CalibrationTask], client: Any = None, *,
                   progress: bool = False, n_workers: int = 2) -> list[ImpactFit]:
    """Run many fits in parallel on Dask; results in task order, identical to the serial run.

    With ``client=None`` a :class:`dask.distributed.LocalCluster` (threads, ``processes=False``,
    ``n_workers`` workers) is started and closed afterwards; any ``Client`` can be passed
    instead. Every task carries its own seed, so where it runs does not change its result.
    """
    tasks = list(tasks)
    for t in tasks:
        if not isinstance(t, CalibrationTask):
            raise ValueError(f"tasks must hold CalibrationTask items, got {type(t).__name__}")
    if not tasks:
        return []
    from dask.distributed import Client, LocalCluster, as_completed

    own = client is None
    cluster = None
    if own:
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=False,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        futs = client.map(run_task, tasks, pure=False)
        index = {f.key: i for i, f in enumerate(futs)}
        out: list[ImpactFit | None] = [None] * len(tasks)
        for fut in _progress(as_completed(futs), progress, "calibrate", total=len(futs)):
            out[index[fut.key]] = fut.result()
        return [o for o in out if o is not None]
    finally:
        if own:
            client.close()
            if cluster is not None:
                cluster.close()


def calibrate_serial(tasks: Sequence[CalibrationTask], *, progress: bool = False
                     ) -> list[ImpactFit]:
    """The serial reference of :func:`calibrate_many`."""
    return [run_task(t) for t in _progress(tasks, progress, "calibrate")]

