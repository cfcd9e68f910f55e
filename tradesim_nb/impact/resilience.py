r"""Fit the transient-impact models' parameters from market data, with intervals.

Three fits, each returning a :class:`tradesim_nb.calibrate.ImpactFit` (estimates, standard
errors, 95 % intervals, ``summary()``, ``to_frame()``):

* :func:`fit_resilience` -- **how fast depth near the touch refills after large aggressive
  trades** (an event study). For every market order of size :math:`v_e` at or above the
  ``quantile`` of sizes, the depth within ``band_bps`` of the mid on the side it hit is read
  just before it (:math:`d_e^-`) and at lags :math:`\ell` after it; the mean deficit per unit
  traded

  .. math:: m(\ell) = \frac{\sum_e \big(d_e^- - d_e(\ell)\big)}{\sum_e v_e}

  is fitted as :math:`m(\ell) = A e^{-\rho\ell} + c` (:math:`A, c` by least squares at each
  :math:`\rho`, :math:`\rho` by a bounded search on :math:`\ln\rho`). In a stationary market
  with order flow independent of the event the other trades' contributions cancel in
  expectation, and in a block book refilling at rate :math:`\rho` (Obizhaeva-Wang)
  :math:`E\,m(\ell) = A e^{-\rho\ell}`. Intervals: percentiles of a moving-block bootstrap over
  the time-ordered events (blocks of :math:`\lceil\sqrt{n_e}\rceil` events).
* :func:`fit_kernel_exponent` -- **the kernel exponent from the decay of the mid after trades**
  (the propagator of Bouchaud et al. 2004). On a grid of step :math:`\Delta`, with
  :math:`Q_t` the signed market-order volume in :math:`(t - \Delta, t]` and :math:`\Delta m_t`
  the mid change, the distributed-lag regression

  .. math:: \Delta m_t = c + \sum_{k=0}^{L-1} h_k\,Q_{t-k} + e_t

  estimates the response :math:`G(\ell_k) = \sum_{j\le k} h_j` of the mid to a unit traded
  :math:`\ell_k = (k + \tfrac12)\Delta` earlier, holding the other trades fixed; it is fitted as
  :math:`G(\ell) = G_0(1 + \ell/\tau_0)^{-\beta}` (:math:`\tau_0` fixed, default :math:`\Delta`).
  Intervals: percentiles of a moving-block bootstrap over time (rows of the regression in
  blocks of ``block_s``).
* :func:`fit_book_depth` -- the book's shape: the mean cost per unit of walking :math:`n` units
  against the mid over both sides and all samples, :math:`c(n) = \epsilon + n/(2q)` (a block
  book of density :math:`q`) and :math:`c(n) = \epsilon + a\,n^{\beta}` (Almgren 2003's power
  law, :math:`\eta = a\tau^{\beta}` for children :math:`n` per period :math:`\tau`).
  Intervals: moving-block bootstrap over samples.

References
----------
* A. A. Obizhaeva and J. Wang, "Optimal trading strategy and supply/demand dynamics",
  J. Financial Markets 16(1) (2013) 1-32.
* J.-P. Bouchaud, Y. Gefen, M. Potters and M. Wyart, "Fluctuations and response in financial
  markets: the subtle nature of 'random' price changes", Quantitative Finance 4(2) (2004) 176-190.
* R. Almgren, "Optimal execution with nonlinear impact functions and trading-enhanced risk",
  Applied Mathematical Finance 10(1) (2003) 1-18.
* H. R. Kuensch, "The jackknife and the bootstrap for general stationary observations",
  Ann. Statist. 17 (1989) 1217-1241.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize
from threadpoolctl import threadpool_limits

from .results import Estimate, ImpactFit

if TYPE_CHECKING:  # pragma: no cover
    from ..execution.tape import BookTape

__all__ = [
    "fit_book_depth",
    "fit_kernel_exponent",
    "fit_resilience",
    "kernel_from_series",
    "resilience_from_series",
]

FloatArray = NDArray[np.float64]
_LAGS = (0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 7.0, 10.0, 15.0, 20.0, 30.0)


def _bad(name: str, value: object, allowed: str) -> ValueError:
    return ValueError(f"{name}={value!r} is invalid: allowed range is {allowed}")


def _block_rows(rng: np.random.Generator, n: int, block: int) -> np.ndarray:
    nb = math.ceil(n / block)
    starts = rng.integers(0, n - block + 1, nb)
    return (starts[:, None] + np.arange(block)[None, :]).ravel()[:n]


def _pct(name: str, x: float, draws: np.ndarray, unit: str) -> Estimate:
    d = draws[np.isfinite(draws)]
    if d.size < 2:
        return Estimate(name, float(x), math.nan, math.nan, math.nan, unit)
    return Estimate(name, float(x), float(d.std(ddof=1)), float(np.quantile(d, 0.025)),
                    float(np.quantile(d, 0.975)), unit)


# --------------------------------------------------------------------------- resilience


def _exp_ssr(log_rho: np.ndarray, lags: np.ndarray, m: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SSR, A and c of the least-squares fit m = A exp(-rho l) + c for each rho (closed form)."""
    x = np.exp(-np.exp(log_rho)[:, None] * lags[None, :])
    xm = x.mean(axis=1, keepdims=True)
    dx = x - xm
    dm = m - m.mean()
    sxx = np.einsum("ij,ij->i", dx, dx)
    sxy = dx @ dm
    a = sxy / np.maximum(sxx, 1e-300)
    c = m.mean() - a * xm[:, 0]
    ssr = float(dm @ dm) - a * sxy
    return ssr, a, c


def _exp_fit(lags: np.ndarray, m: np.ndarray, lo: float, hi: float) -> tuple[float, float, float]:
    """(rho, A, c) of m = A exp(-rho l) + c: (A, c) profiled out in closed form, rho on a log
    grid and then refined by a bounded scalar search around the best grid point."""
    grid = np.linspace(math.log(lo), math.log(hi), 41)
    ssr, _, _ = _exp_ssr(grid, lags, m)
    i = int(np.argmin(ssr))
    a, b = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    g_best = float(grid[i])
    if b > a:
        res = optimize.minimize_scalar(lambda g: float(_exp_ssr(np.array([g]), lags, m)[0][0]),
                                       bounds=(a, b), method="bounded", options={"xatol": 1e-6})
        if res.fun <= ssr[i]:
            g_best = float(res.x)
    _, amp, off = _exp_ssr(np.array([g_best]), lags, m)
    return math.exp(g_best), float(amp[0]), float(off[0])


def resilience_from_series(t_s: ArrayLike, bid_depth: ArrayLike, ask_depth: ArrayLike,
                           trade_t_s: ArrayLike, trade_qty: ArrayLike, trade_sign: ArrayLike, *,
                           quantile: float = 0.95, lags_s: Sequence[float] = _LAGS,
                           bootstrap: int = 200, seed: int = 0,
                           rate_bounds: tuple[float, float] | None = None,
                           source: str = "") -> ImpactFit:
    r"""The event study of :func:`fit_resilience` on arrays.

    Parameters
    ----------
    t_s : array_like, shape (m,)
        Regular sample times of the depth series (seconds).
    bid_depth, ask_depth : array_like, shape (m,)
        Depth near the touch on each side.
    trade_t_s, trade_qty, trade_sign : array_like, shape (k,)
        Market orders: time, size, +1 (buy, hits the asks) or -1.
    quantile : float
        Events are the market orders of size at or above this quantile, in (0, 1).
    lags_s : sequence of float
        Lags after the event (> 0, increasing; at least 4).
    bootstrap : int
        Replicates (>= 20).
    seed : int
    rate_bounds : (float, float), optional
        Search range of :math:`\rho`; default :math:`(0.1/\ell_{max}, 10/\ell_{min})`.
    source : str

    Returns
    -------
    ImpactFit
        ``method="resilience"``; estimates ``resilience`` (:math:`\rho`, 1/s), ``half_life``
        (:math:`\ln 2/\rho`, s), ``amplitude`` (:math:`A`, depth per unit traded) and ``offset``
        (:math:`c`); ``info`` holds the lags, the mean deficit curve and the event count.
    """
    t = np.asarray(t_s, dtype=np.float64)
    dep = {1: np.asarray(ask_depth, dtype=np.float64), -1: np.asarray(bid_depth, dtype=np.float64)}
    tt = np.asarray(trade_t_s, dtype=np.float64)
    qq = np.asarray(trade_qty, dtype=np.float64)
    ss = np.asarray(trade_sign, dtype=np.float64)
    if t.ndim != 1 or t.size < 10 or any(d.shape != t.shape for d in dep.values()):
        raise _bad("t_s/bid_depth/ask_depth", f"shapes {t.shape}", "equal 1-d shapes, >= 10 samples")
    if not 0.0 < quantile < 1.0:
        raise _bad("quantile", quantile, "0 < quantile < 1")
    lags = np.asarray(lags_s, dtype=np.float64)
    if lags.ndim != 1 or lags.size < 4 or np.any(lags <= 0) or np.any(np.diff(lags) <= 0):
        raise _bad("lags_s", list(lags_s), "at least 4 increasing lags > 0")
    if not (isinstance(bootstrap, int) and bootstrap >= 20):
        raise _bad("bootstrap", bootstrap, "an integer >= 20")
    dt = float(t[1] - t[0])
    thr = float(np.quantile(qq, quantile)) if qq.size else math.inf
    ev = np.flatnonzero(qq >= thr)
    i_pre = np.searchsorted(t, tt[ev], side="left") - 1     # last sample strictly before
    i_lag = np.searchsorted(t, tt[ev][:, None] + lags[None, :] - 1e-9, side="left")
    ok = (i_pre >= 0) & (i_lag[:, -1] < t.size)
    ev, i_pre, i_lag = ev[ok], i_pre[ok], i_lag[ok]
    if ev.size < 10:
        raise ValueError(f"only {ev.size} events (market orders >= the {quantile:g} quantile, "
                         f"{thr:.6g}) have a full window of {lags[-1]:g} s; at least 10 are needed")
    deficit = np.empty((ev.size, lags.size))
    for s_ in (1, -1):
        sel = ss[ev] == s_
        d = dep[s_]
        deficit[sel] = d[i_pre[sel], None] - d[i_lag[sel]]
    vol = qq[ev]
    lo, hi = rate_bounds if rate_bounds is not None else (0.1 / lags[-1], 10.0 / lags[0])
    curve = deficit.sum(axis=0) / vol.sum()
    rho, amp, off = _exp_fit(lags, curve, lo, hi)
    rng = np.random.default_rng(seed)
    blk = max(1, math.ceil(math.sqrt(ev.size)))
    draws = np.full((bootstrap, 3), np.nan)
    with threadpool_limits(limits=1, user_api="blas"):  # small matrices: threads only contend
        for b in range(bootstrap):
            rows = _block_rows(rng, ev.size, min(blk, ev.size))
            c_b = deficit[rows].sum(axis=0) / vol[rows].sum()
            draws[b] = _exp_fit(lags, c_b, lo, hi)
    rho_e = _pct("resilience", rho, draws[:, 0], "1/s")
    hl = _pct("half_life", math.log(2) / rho, math.log(2) / draws[:, 0], "s")
    est = (rho_e, hl, _pct("amplitude", amp, draws[:, 1], "depth/unit"),
           _pct("offset", off, draws[:, 2], "depth/unit"))
    at_bound = bool(min(rho - lo, hi - rho) <= 1e-6 * rho)
    info: tuple[tuple[str, Any], ...] = (
        ("source", source), ("events", int(ev.size)), ("threshold", thr),
        ("lags_s", lags.tolist()), ("deficit_per_unit", curve.tolist()), ("sample_dt_s", dt),
        ("rate_bounds", (lo, hi)), ("at_bound", at_bound), ("bootstrap", bootstrap),
        ("block_events", blk))
    fitted = amp * np.exp(-rho * lags) + off
    r2 = 1.0 - float(np.sum((curve - fitted) ** 2)) / max(float(np.sum((curve - curve.mean()) ** 2)),
                                                          1e-300)
    return ImpactFit("resilience", est, (("curve_r2", r2),), int(ev.size),
                     f"moving-block bootstrap over events ({bootstrap})", info)


def fit_resilience(tape: BookTape, *, band_bps: float = 2.0, quantile: float = 0.95,
                   lags_s: Sequence[float] = _LAGS, bootstrap: int = 200, seed: int = 0,
                   rate_bounds: tuple[float, float] | None = None) -> ImpactFit:
    r"""Resilience :math:`\rho` from how fast depth within ``band_bps`` of the mid refills after
    large market orders (see the module docstring and :func:`resilience_from_series`).

    Parameters
    ----------
    tape : BookTape
        Its fine series (``fine_bid_depth``, ``fine_ask_depth`` at ``band_bps``) and market orders.
    band_bps : float
        One of ``tape.depth_bps``.
    quantile, lags_s, bootstrap, seed, rate_bounds
        As in :func:`resilience_from_series`.
    """
    j = tape.band(band_bps)
    return resilience_from_series(tape.fine_t_s, tape.fine_bid_depth[:, j],
                                  tape.fine_ask_depth[:, j], tape.trade_t_s, tape.trade_qty,
                                  tape.trade_sign, quantile=quantile, lags_s=lags_s,
                                  bootstrap=bootstrap, seed=seed, rate_bounds=rate_bounds,
                                  source=f"{tape.source} depth within {band_bps:g} bps")


# --------------------------------------------------------------------------- propagator


def _power_fit(lags: np.ndarray, g: np.ndarray, tau0: float, x0: tuple[float, float]
               ) -> tuple[float, float]:
    """(G0, beta) of g = G0 (1 + l/tau0)^-beta by least squares, beta in [0, 5]: G0 profiled
    out in closed form, beta by a bounded scalar search (``x0`` is unused, kept for callers)."""
    base = np.log1p(lags / tau0)

    def prof(beta: float) -> tuple[float, float]:
        b = np.exp(-beta * base)
        g0 = float(b @ g) / float(b @ b)
        r = g - g0 * b
        return float(r @ r), g0

    grid = np.linspace(0.0, 5.0, 51)
    vals = [prof(x)[0] for x in grid]
    i = int(np.argmin(vals))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    res = optimize.minimize_scalar(lambda x: prof(x)[0], bounds=(lo, hi), method="bounded",
                                   options={"xatol": 1e-7})
    beta = float(res.x) if res.fun <= vals[i] else float(grid[i])
    return prof(beta)[1], beta


def _ols(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """OLS by the normal equations (Cholesky): a few ms where lstsq's SVD takes 100."""
    from scipy import linalg

    xtx = x.T @ x
    try:
        return np.asarray(linalg.cho_solve(linalg.cho_factor(xtx), x.T @ y), dtype=np.float64)
    except linalg.LinAlgError:
        return np.asarray(np.linalg.lstsq(x, y, rcond=None)[0], dtype=np.float64)


def kernel_from_series(t_s: ArrayLike, mid: ArrayLike, trade_t_s: ArrayLike,
                       signed_qty: ArrayLike, *, dt_s: float = 0.5, max_lag_s: float = 30.0,
                       tau0_s: float | None = None, bootstrap: int = 200, block_s: float = 60.0,
                       seed: int = 0, source: str = "") -> ImpactFit:
    r"""The propagator fit of :func:`fit_kernel_exponent` on arrays.

    Parameters
    ----------
    t_s, mid : array_like, shape (m,)
        Regular samples of the mid (seconds); resampled every ``dt_s``.
    trade_t_s, signed_qty : array_like, shape (k,)
        Market orders: time and signed size (+ buy).
    dt_s : float
        Grid step :math:`\Delta` (a multiple of the sample step).
    max_lag_s : float
        :math:`L\Delta`, the longest lag.
    tau0_s : float, optional
        :math:`\tau_0` of the power law (default :math:`\Delta`).
    bootstrap : int
        Replicates (>= 20).
    block_s : float
        Bootstrap block length, seconds.
    seed : int
    source : str

    Returns
    -------
    ImpactFit
        ``method="propagator"``; estimates ``exponent`` (:math:`\beta`), ``amplitude``
        (:math:`G_0`, price per unit) and ``tau0`` (fixed); ``info`` holds the lags and the
        response :math:`G(\ell)`.
    """
    t = np.asarray(t_s, dtype=np.float64)
    m = np.asarray(mid, dtype=np.float64)
    tt = np.asarray(trade_t_s, dtype=np.float64)
    sq = np.asarray(signed_qty, dtype=np.float64)
    if t.ndim != 1 or m.shape != t.shape or t.size < 10:
        raise _bad("t_s/mid", f"shapes {t.shape}, {m.shape}", "equal 1-d shapes, >= 10 samples")
    step = float(t[1] - t[0])
    every = round(dt_s / step)
    if every < 1 or abs(every * step - dt_s) > 1e-9 * max(dt_s, 1.0):
        raise _bad("dt_s", dt_s, f"a multiple of the sample step {step!r}")
    if not (isinstance(bootstrap, int) and bootstrap >= 20):
        raise _bad("bootstrap", bootstrap, "an integer >= 20")
    grid_t = t[::every]
    gm = m[::every]
    n_lag = round(max_lag_s / dt_s)
    if n_lag < 3:
        raise _bad("max_lag_s", max_lag_s, f"at least 3 lags of dt_s={dt_s!r}")
    # signed volume in (t_{i-1}, t_i]
    idx = np.searchsorted(grid_t, tt, side="left")
    keep = (idx >= 1) & (idx < grid_t.size)
    q = np.bincount(idx[keep], weights=sq[keep], minlength=grid_t.size)
    dm = np.diff(gm)
    qv = q[1:]
    rows = dm.size - n_lag + 1
    if rows < 5 * n_lag:
        raise ValueError(f"{dm.size} intervals of {dt_s} s are too few for {n_lag} lags; "
                         f"at least {6 * n_lag} are needed")
    x = np.column_stack([np.ones(rows)] + [qv[n_lag - 1 - k: n_lag - 1 - k + rows]
                                           for k in range(n_lag)])
    y = dm[n_lag - 1:]
    ok = np.isfinite(y) & np.all(np.isfinite(x), axis=1)
    x, y = x[ok], y[ok]
    lags = (np.arange(n_lag) + 0.5) * dt_s
    tau0 = float(tau0_s) if tau0_s is not None else float(dt_s)
    coef = _ols(x, y)
    g = np.cumsum(coef[1:])
    g0, beta = _power_fit(lags, g, tau0, (float(g[0]) if g[0] != 0 else 1.0, 0.3))
    rng = np.random.default_rng(seed)
    blk = max(2, round(block_s / dt_s))
    draws = np.full((bootstrap, 2), np.nan)
    with threadpool_limits(limits=1, user_api="blas"):  # small matrices: threads only contend
        for b in range(bootstrap):
            r = _block_rows(rng, y.size, min(blk, y.size))
            cb = _ols(x[r], y[r])
            draws[b] = _power_fit(lags, np.cumsum(cb[1:]), tau0, (g0, beta))
    resid = y - x @ coef
    r2 = 1.0 - float(resid @ resid) / max(float(np.sum((y - y.mean()) ** 2)), 1e-300)
    est = (_pct("exponent", beta, draws[:, 1], "dimensionless"),
           _pct("amplitude", g0, draws[:, 0], "price/unit"),
           Estimate("tau0", tau0, 0.0, tau0, tau0, "s", fixed=True))
    info: tuple[tuple[str, Any], ...] = (
        ("source", source), ("dt_s", float(dt_s)), ("lags_s", lags.tolist()),
        ("response", g.tolist()), ("bootstrap", bootstrap), ("block_s", blk * dt_s))
    return ImpactFit("propagator", est, (("regression_r2", r2),), int(y.size),
                     f"moving-block bootstrap over time ({bootstrap})", info)


def fit_kernel_exponent(tape: BookTape, *, dt_s: float = 0.5, max_lag_s: float = 30.0,
                        tau0_s: float | None = None, bootstrap: int = 200, block_s: float = 60.0,
                        seed: int = 0) -> ImpactFit:
    r"""The power-law exponent :math:`\beta` of the propagator :math:`G(\ell) = G_0(1+\ell/\tau_0)^{-\beta}`
    from the decay of the mid after market orders (see the module docstring and
    :func:`kernel_from_series`)."""
    return kernel_from_series(tape.fine_t_s, tape.fine_mid, tape.trade_t_s,
                              tape.trade_qty * tape.trade_sign, dt_s=dt_s, max_lag_s=max_lag_s,
                              tau0_s=tau0_s, bootstrap=bootstrap, block_s=block_s, seed=seed,
                              source=f"{tape.source} mid")


# --------------------------------------------------------------------------- book shape


def _walk_costs(px: np.ndarray, sz: np.ndarray, sizes: np.ndarray, sgn: float) -> np.ndarray:
    """Cost per unit against the mid of walking each of ``sizes`` down rows of levels
    (n, K) best first; NaN where the levels run out."""
    s = np.nan_to_num(sz)
    p = np.nan_to_num(px)
    cum = np.cumsum(s, axis=1)
    cval = np.cumsum(s * p, axis=1)
    out = np.full((px.shape[0], sizes.size), np.nan)
    for j, n in enumerate(sizes):
        k = (cum < n - 1e-12 * n).sum(axis=1)  # first level whose cumulative size reaches n
        full = k < px.shape[1]
        rows = np.flatnonzero(full)
        kk = k[rows]
        prev_c = np.where(kk > 0, cum[rows, np.maximum(kk - 1, 0)], 0.0)
        prev_v = np.where(kk > 0, cval[rows, np.maximum(kk - 1, 0)], 0.0)
        notional = prev_v + (n - prev_c) * p[rows, kk]
        out[rows, j] = notional / n
    return out


def fit_book_depth(tape: BookTape, max_size: float, *, sizes: ArrayLike | None = None,
                   bootstrap: int = 200, block: int | None = None, seed: int = 0) -> ImpactFit:
    r"""The book's density :math:`q` and power-law walk cost from the level samples.

    The mean over samples and both sides of the walk cost per unit against the mid,
    :math:`c(n) = s(\bar p(n) - m)`, for ``sizes`` (default 12 log-spaced from
    :math:`X/50` to :math:`X` = ``max_size``) is fitted as :math:`c = \epsilon + n/(2q)`
    (ordinary least squares) and as :math:`c = \epsilon_\beta + a n^\beta` (nonlinear least
    squares, :math:`\beta\in[0.05, 3]`).

    Returns
    -------
    ImpactFit
        ``method="book-depth"``; estimates ``epsilon`` (price), ``depth`` (:math:`q`, units per
        price), ``walk_slope`` (:math:`1/(2q)`), ``power_coefficient`` (:math:`a`),
        ``power_exponent`` (:math:`\beta`), ``power_epsilon``.
    """
    x_max = float(max_size)
    if not (math.isfinite(x_max) and x_max > 0):
        raise _bad("max_size", max_size, "a finite number > 0")
    sz = np.asarray(sizes if sizes is not None else np.geomspace(x_max / 50, x_max, 12),
                    dtype=np.float64)
    if sz.ndim != 1 or sz.size < 3 or np.any(sz <= 0):
        raise _bad("sizes", sizes, "at least 3 sizes > 0")
    mid = tape.mid
    buy = _walk_costs(tape.ask_px, tape.ask_sz, sz, 1.0) - mid[:, None]
    sell = mid[:, None] - _walk_costs(tape.bid_px, tape.bid_sz, sz, -1.0)
    per = 0.5 * (buy + sell)  # (n, m): both sides averaged per sample

    def fit(rows: np.ndarray | None, x0: tuple[float, float, float] | None = None
            ) -> tuple[float, float, float, float, float]:
        w = per if rows is None else per[rows]
        c = np.nanmean(w, axis=0)
        ok = np.isfinite(c)
        if ok.sum() < 3:
            return (math.nan,) * 5
        slope, eps = np.polyfit(sz[ok], c[ok], 1)
        a0 = x0 if x0 is not None else (float(eps), float(max(slope, 1e-12)), 1.0)

        def fun(th: np.ndarray) -> np.ndarray:
            return c[ok] - (th[0] + th[1] * sz[ok] ** th[2])

        r = optimize.least_squares(fun, np.array(a0), bounds=([-np.inf, 0.0, 0.05],
                                                               [np.inf, np.inf, 3.0]),
                                   x_scale="jac")
        return float(eps), float(slope), float(r.x[0]), float(r.x[1]), float(r.x[2])

    e0, k0, pe0, pa0, pb0 = fit(None)
    if not math.isfinite(k0) or k0 <= 0:
        raise ValueError(f"the walk-cost curve of {tape.source} has slope {k0!r}: no depth to fit")
    rng = np.random.default_rng(seed)
    n = per.shape[0]
    blk = block if block is not None else max(2, int(math.sqrt(n)))
    draws = np.full((bootstrap, 5), np.nan)
    with threadpool_limits(limits=1, user_api="blas"):
        for b in range(bootstrap):
            draws[b] = fit(_block_rows(rng, n, min(blk, n)), (pe0, pa0, pb0))
    est = (_pct("epsilon", e0, draws[:, 0], "price"),
           _pct("depth", 0.5 / k0, 0.5 / draws[:, 1], "units/price"),
           _pct("walk_slope", k0, draws[:, 1], "price/unit"),
           _pct("power_coefficient", pa0, draws[:, 3], "price/unit^beta"),
           _pct("power_exponent", pb0, draws[:, 4], "dimensionless"),
           _pct("power_epsilon", pe0, draws[:, 2], "price"))
    c = np.nanmean(per, axis=0)
    info: tuple[tuple[str, Any], ...] = (("source", tape.source), ("sizes", sz.tolist()),
                                         ("walk_cost", c.tolist()), ("block", blk))
    return ImpactFit("book-depth", est, (), int(n), f"moving-block bootstrap ({bootstrap})", info)
