r"""A synthetic market with a resilient book: Obizhaeva-Wang made real, with known
:math:`q, \rho, \gamma, \epsilon, \sigma`.

**Design.**
Time runs in steps of ``dt`` seconds. The fundamental price :math:`S` is an arithmetic random
walk plus the permanent impact of every market order. Each side of the book is a staircase of
levels at :math:`S \pm (\epsilon + (j + \tfrac12)\delta)`, :math:`j = 0, 1, \dots`, each of size
:math:`q\delta` (density :math:`q` units per price unit), from which the front
:math:`D_{bid}, D_{ask}` units are missing: liquidity taken by earlier market orders and not yet
refilled. A market order of :math:`v` on the ask side (a buy)

1. walks the staircase from :math:`D_{ask}` to :math:`D_{ask} + v`, paying
   :math:`\epsilon v + \delta\,(F(D + v) - F(D))` above :math:`S`, with
   :math:`F(u) = q\delta\,m^2/2 + r(m + \tfrac12)`, :math:`m = \lfloor u/(q\delta)\rfloor`,
   :math:`r = u - mq\delta` (the exact integral of the staircase; :math:`\approx (Dv + v^2/2)/q`);
2. moves :math:`S` by :math:`+\gamma v` (permanent) and leaves :math:`(1 - \gamma q)\,v` taken,
   so that, in the block-book limit :math:`\delta \to 0`, right after the order the ask sits
   where the walk left it (total displacement :math:`v/q`, of which :math:`\gamma v` is
   permanent: the model of Obizhaeva & Wang 2013 with :math:`\lambda = \gamma`,
   :math:`\kappa = 1/q - \gamma`);
3. then the taken liquidity refills: :math:`D \leftarrow D e^{-\rho\,dt}` every step.

Each step is, in order: refill (:math:`D \leftarrow aD`, :math:`a = e^{-\rho dt}`), diffusion
(:math:`S \mathrel{+}= \sigma_0\sqrt{dt}\,\xi`), then the background market orders of the step
(Poisson, rate ``trade_rate`` per second, exponential sizes of mean ``mean_trade_size``, random
side, each at a uniform time inside the step). The sample at the end of the step is the book
that a user's child order at that time walks; the user's order then changes :math:`S` and
:math:`D` exactly as a background order does. The total variance of :math:`S` per second is
:math:`\sigma_0^2 + \gamma^2\,\text{rate}\cdot 2\bar v^2 = \sigma^2`.

So a schedule :math:`n_i` at times :math:`t_i` has expected shortfall (with no background flow,
and up to the staircase's bounded tick term)

.. math:: E = \epsilon X + \tfrac12\gamma X^2 + \tfrac12\kappa\sum_{i,j} e^{-\rho|t_i - t_j|} n_i n_j,

the Obizhaeva-Wang cost (:mod:`tradesim_nb.impact.transient`), and as :math:`\rho\,\Delta t \to
\infty` the Almgren-Chriss cost with :math:`\eta/\tau = 1/(2q)`. The background flow makes the
public data informative: depth near the touch dips after large orders and refills at rate
:math:`\rho` (:func:`tradesim_nb.impact.resilience.fit_resilience`).

References
----------
* A. A. Obizhaeva and J. Wang, "Optimal trading strategy and supply/demand dynamics",
  J. Financial Markets 16(1) (2013) 1-32.
* R. Almgren and N. Chriss, "Optimal execution of portfolio transactions", J. Risk 3 (2000) 5-39.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray
from scipy.signal import lfilter

if TYPE_CHECKING:  # pragma: no cover
    from .execution.schedules import Schedule
    from .execution.tape import BookTape
    from .impact.transient import OWParams

__all__ = ["ResilientFill", "ResilientMarket", "ResilientMarketParams"]

FloatArray = NDArray[np.float64]
Side = Literal["buy", "sell"]


def _pos(name: str, v: object, allow_zero: bool = False) -> float:
    ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(float(v))
    if not ok or (float(v) < 0 if allow_zero else float(v) <= 0):  # type: ignore[arg-type]
        raise ValueError(f"{name}={v!r} is invalid: allowed range is a finite number "
                         f"{'>= 0' if allow_zero else '> 0'}")
    return float(v)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ResilientMarketParams:
    r"""Parameters of :class:`ResilientMarket` (seconds, base units, quote price).

    Parameters
    ----------
    mid0 : float
        Initial :math:`S`. Default 100.
    sigma : float
        Total volatility of :math:`S`, price per :math:`\sqrt{s}`. Default 0.02.
    epsilon : float
        Distance from :math:`S` to the first level's lower edge (the half spread is
        :math:`\epsilon + \delta/2`). Default 0.005.
    depth : float
        :math:`q`, units per unit of price. Default 500.
    level_spacing : float
        :math:`\delta`. Default 0.001 (levels of :math:`q\delta` = 0.5 units).
    resilience : float
        :math:`\rho`, 1/s. Default 0.5.
    permanent : float
        :math:`\gamma \in [0, 1/q)`, price per unit. Default 0.0005 (a quarter of :math:`1/q`).
    dt : float
        Step, seconds. Default 0.1.
    trade_rate : float
        Background market orders per second (>= 0). Default 2.
    mean_trade_size : float
        Their mean size (exponential), units (>= 0; 0 disables them). Default 2.
    levels : int
        Levels per side in a tape. Default 400 (200 units).
    """

    mid0: float = 100.0
    sigma: float = 0.02
    epsilon: float = 0.005
    depth: float = 500.0
    level_spacing: float = 0.001
    resilience: float = 0.5
    permanent: float = 0.0005
    dt: float = 0.1
    trade_rate: float = 2.0
    mean_trade_size: float = 2.0
    levels: int = 400

    def __post_init__(self) -> None:
        for name in ("mid0", "sigma", "depth", "level_spacing", "resilience", "dt"):
            _pos(name, getattr(self, name))
        for name in ("epsilon", "permanent", "trade_rate", "mean_trade_size"):
            _pos(name, getattr(self, name), allow_zero=True)
        if isinstance(self.levels, bool) or not isinstance(self.levels, int) or self.levels < 2:
            raise ValueError(f"levels={self.levels!r} is invalid: allowed range is an integer >= 2")
        if self.permanent * self.depth >= 1.0:
            raise ValueError(f"permanent={self.permanent!r} is invalid: allowed range is "
                             f"0 <= permanent < 1/depth = {1.0 / self.depth!r}")
        if self.flow_variance > self.sigma**2 * (1 + 1e-12):
            raise ValueError(
                f"mean_trade_size={self.mean_trade_size!r} is invalid: the flow's impact variance "
                f"per second gamma^2*rate*2*v^2 = {self.flow_variance:.6g} exceeds sigma^2 = "
                f"{self.sigma**2:.6g}; lower mean_trade_size, trade_rate or permanent")

    @property
    def level_size(self) -> float:
        r""":math:`q\delta`, units per level."""
        return self.depth * self.level_spacing

    @property
    def kappa(self) -> float:
        r""":math:`\kappa = 1/q - \gamma`."""
        return 1.0 / self.depth - self.permanent

    @property
    def taken_share(self) -> float:
        r""":math:`1 - \gamma q`, the share of an order's size left taken (refilling)."""
        return 1.0 - self.permanent * self.depth

    @property
    def flow_variance(self) -> float:
        r""":math:`\gamma^2\,\text{rate}\,2\bar v^2`, price variance per second from the flow."""
        return self.permanent**2 * self.trade_rate * 2.0 * self.mean_trade_size**2

    @property
    def sigma_diffusion(self) -> float:
        r""":math:`\sigma_0 = \sqrt{\sigma^2 - \gamma^2\,\text{rate}\,2\bar v^2}`."""
        return math.sqrt(max(self.sigma**2 - self.flow_variance, 0.0))

    def ow_params(self, size: float, horizon: float, periods: int) -> OWParams:
        """The Obizhaeva-Wang parameters of this market (the staircase is centred on the block
        book: level :math:`j`'s price is the block's price at the middle of the level, so the
        walk costs :math:`\\epsilon n + (2Dn + n^2)/(2q)` up to a term below
        :math:`q\\delta^2/8` per order)."""
        from .impact.transient import OWParams

        return OWParams(size=size, horizon=horizon, periods=periods, depth=self.depth,
                        resilience=self.resilience, permanent=self.permanent,
                        epsilon=self.epsilon, sigma=self.sigma)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _stair(u: FloatArray | float, lvl: float, delta: float) -> Any:
    """F(u) = integral of (floor(v/lvl) + 1/2) * delta from 0 to u (units x price)."""
    u = np.asarray(u, dtype=np.float64)
    m = np.floor(u / lvl)
    r = u - m * lvl
    return delta * (lvl * m * m / 2.0 + r * (m + 0.5))


@dataclass(frozen=True)
class ResilientFill:
    """A user order on :class:`ResilientMarket`."""

    side: Side
    qty: float
    vwap: float
    mid_before: float
    fundamental_before: float
    taken_before: float


class ResilientMarket:
    """A seeded resilient market over ``duration_s`` seconds (all randomness drawn up front).

    Parameters
    ----------
    params : ResilientMarketParams, optional
    seed : int
    duration_s : float
        Length of the background draws; :meth:`tape` and :meth:`execute_schedule` cover
        ``[0, duration_s]``.
    mid0 : float, optional
        Override of ``params.mid0`` (e.g. a random start between seeds).
    """

    def __init__(self, params: ResilientMarketParams | None = None, seed: int = 0, *,
                 duration_s: float = 600.0, mid0: float | None = None) -> None:
        self.params = params if params is not None else ResilientMarketParams()
        if not isinstance(self.params, ResilientMarketParams):
            raise ValueError(f"params={params!r} is invalid: allowed range is a "
                             "ResilientMarketParams")
        p = self.params
        dur = _pos("duration_s", duration_s)
        self.steps = round(dur / p.dt)
        self.mid0 = p.mid0 if mid0 is None else _pos("mid0", mid0)
        rng = np.random.default_rng(seed)
        n = self.steps
        self._xi = rng.standard_normal(n) * (p.sigma_diffusion * math.sqrt(p.dt))
        lam = p.trade_rate * p.dt if p.mean_trade_size > 0 else 0.0
        counts = rng.poisson(lam, n) if lam > 0 else np.zeros(n, dtype=np.int64)
        k = int(counts.sum())
        self.order_step = np.repeat(np.arange(1, n + 1), counts)   # orders of step s end at s*dt
        self.order_time = (self.order_step - rng.random(k)) * p.dt
        self.order_qty = rng.exponential(p.mean_trade_size, k) if k else np.zeros(0)
        self.order_sign = np.where(rng.random(k) < 0.5, 1.0, -1.0)
        self._adds = np.zeros((2, n + 1))  # row 0 bids (sells), row 1 asks (buys), per step
        np.add.at(self._adds[1], self.order_step[self.order_sign > 0],
                  self.order_qty[self.order_sign > 0] * p.taken_share)
        np.add.at(self._adds[0], self.order_step[self.order_sign < 0],
                  self.order_qty[self.order_sign < 0] * p.taken_share)
        self._flow = np.zeros(n + 1)
        np.add.at(self._flow, self.order_step, p.permanent * self.order_qty * self.order_sign)

    # -- the background path --------------------------------------------------------------
    def path(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """``(S, D_bid, D_ask)`` at the samples ``i * dt``, ``i = 0..steps`` (no user orders)."""
        p = self.params
        a = math.exp(-p.resilience * p.dt)
        s = self.mid0 + np.concatenate([[0.0], np.cumsum(self._xi)]) + np.cumsum(self._flow)
        d_bid = lfilter([1.0], [1.0, -a], self._adds[0])
        d_ask = lfilter([1.0], [1.0, -a], self._adds[1])
        return s, d_bid, d_ask

    def _sides(self, s: FloatArray, d: FloatArray, sign: float, k: int
               ) -> tuple[FloatArray, FloatArray]:
        p = self.params
        lvl = p.level_size
        j0 = np.floor(d / lvl)
        jj = j0[:, None] + np.arange(k)[None, :]
        px = s[:, None] + sign * (p.epsilon + (jj + 0.5) * p.level_spacing)
        sz = np.full(px.shape, lvl)
        sz[:, 0] = (j0 + 1) * lvl - d
        return px, sz

    def tape(self, *, dt_s: float | None = None, depth_bps: tuple[float, ...] = (1.0, 2.0, 5.0),
             levels: int | None = None) -> BookTape:
        """The public data of the background market as a :class:`BookTape` (fine series every
        ``dt``, ``levels`` levels a side, default ``params.levels``, every ``dt_s``, default
        ``dt``)."""
        from .execution.tape import BookTape

        p = self.params
        k = p.levels if levels is None else int(levels)
        if k < 1:
            raise ValueError(f"levels={levels!r} is invalid: allowed range is an integer >= 1")
        s, d_bid, d_ask = self.path()
        bid_px, bid_sz = self._sides(s, d_bid, -1.0, k)
        ask_px, ask_sz = self._sides(s, d_ask, 1.0, k)
        mid = 0.5 * (bid_px[:, 0] + ask_px[:, 0])
        lvl = p.level_size
        bd = np.empty((s.size, len(depth_bps)))
        ad = np.empty_like(bd)
        for c, b in enumerate(depth_bps):
            w = mid * b / 1e4
            for side_d, out, sgn in ((d_ask, ad, 1.0), (d_bid, bd, -1.0)):
                # levels j with price within w of the mid: eps + (j+1/2) delta <= sgn*(mid-S) + w
                room = sgn * (mid - s) + w - p.epsilon
                jmax = np.floor(room / p.level_spacing - 0.5)
                out[:, c] = np.maximum((jmax + 1) * lvl - side_d, 0.0)
        every = 1 if dt_s is None else round(dt_s / p.dt)
        if every < 1 or abs(every * p.dt - (dt_s if dt_s is not None else p.dt)) > 1e-9:
            raise ValueError(f"dt_s={dt_s!r} is invalid: allowed range is a multiple of dt="
                             f"{p.dt!r}")
        sl = slice(None, None, every)
        order = np.argsort(self.order_time, kind="stable")
        return BookTape(
            t_s=np.arange(s[sl].size, dtype=np.float64) * (p.dt * every), bid_px=bid_px[sl], bid_sz=bid_sz[sl],
            ask_px=ask_px[sl], ask_sz=ask_sz[sl], fine_t_s=np.arange(s.size, dtype=np.float64) * p.dt,
            fine_mid=mid, fine_bid_depth=bd, fine_ask_depth=ad, depth_bps=tuple(depth_bps),
            trade_t_s=self.order_time[order], trade_qty=self.order_qty[order],
            trade_sign=self.order_sign[order], dt_s=p.dt * every, fine_dt_s=p.dt,
            source="resilient-synthetic", symbol="SYN")

    # -- a user's schedule, event by event ----------------------------------------------
    def execute_schedule(self, schedule: Schedule, side: Side = "buy", *, start_s: float = 0.0
                         ) -> tuple[list[ResilientFill], float]:
        """Run ``schedule`` (children at ``start_s + t_i``, on the step grid) step by step,
        each child walking the current book and then moving :math:`S` and :math:`D` like any
        market order. Returns the fills and the shortfall against the mid at ``start_s``
        (positive = cost), in quote currency."""
        p = self.params
        if side not in ("buy", "sell"):
            raise ValueError(f"side={side!r} is not one of 'buy', 'sell'")
        sgn = 1.0 if side == "buy" else -1.0
        if np.any(np.asarray(schedule.sizes) < 0):
            raise ValueError("schedule has children against its direction; this market runs "
                             "one-sided schedules only")
        steps = np.rint((start_s + np.asarray(schedule.times)) / p.dt).astype(int)
        if np.any(np.abs(steps * p.dt - (start_s + schedule.times)) > 1e-6) or (
                steps[-1] > self.steps):
            raise ValueError("schedule times must lie on the market's step grid within "
                             f"[0, {self.steps * p.dt}]")
        a = math.exp(-p.resilience * p.dt)
        lvl = p.level_size
        s_fund = self.mid0
        d = {1.0: 0.0, -1.0: 0.0}  # asks (hit by buys), bids
        child = dict(zip(steps.tolist(), np.asarray(schedule.sizes).tolist()))
        fills: list[ResilientFill] = []
        s0 = math.nan
        o = 0
        n_ord = self.order_step.size
        for i in range(self.steps + 1):
            if i > 0:
                d[1.0] *= a
                d[-1.0] *= a
                s_fund += float(self._xi[i - 1])
                while o < n_ord and self.order_step[o] == i:
                    v, sg = float(self.order_qty[o]), float(self.order_sign[o])
                    s_fund += sg * p.permanent * v
                    d[sg] += p.taken_share * v
                    o += 1
            if i == round(start_s / p.dt):
                s0 = s_fund + (math.floor(d[1.0] / lvl) - math.floor(d[-1.0] / lvl)) * (
                    0.5 * p.level_spacing)
            n = child.get(i)
            if n is not None and n != 0.0:
                mid = s_fund + (math.floor(d[1.0] / lvl) - math.floor(d[-1.0] / lvl)) * (
                    0.5 * p.level_spacing)
                dd = d[sgn]
                cost = p.epsilon * n + float(_stair(dd + n, lvl, p.level_spacing)
                                             - _stair(dd, lvl, p.level_spacing))
                fills.append(ResilientFill(side, n, s_fund + sgn * cost / n, mid, s_fund, dd))
                s_fund += sgn * p.permanent * n
                d[sgn] += p.taken_share * n
            if i >= steps[-1]:
                break
        short = sgn * sum(f.qty * (f.vwap - s0) for f in fills)
        return fills, float(short)
