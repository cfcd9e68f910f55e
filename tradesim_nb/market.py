"""A synthetic market whose impact parameters are known exactly: the Almgren-Chriss model made real.

The market is built so that the discrete Almgren-Chriss (2000) model is *its* model in
expectation: an execution schedule run against it has expected implementation shortfall
:math:`E` and variance :math:`V` equal to the closed forms of
:mod:`tradesim_nb.costs.almgren_chriss` (up to a bounded tick-discretisation term, below).

Design
------
Time runs in periods of length :math:`\\tau` (time units of the user's choosing, e.g. days);
each period is split into ``steps_per_period`` background events. At the start of period
:math:`k` the book is **fully refilled** around the mid :math:`S_{k-1}`; a child order of the
user (if any) executes first, walking the book; then its permanent impact moves the mid; then
the background events of the period run.

* **Book (temporary impact).** Each side holds levels at
  :math:`S \\pm (\\epsilon + (j + \\tfrac12)\\delta)`, :math:`j = 0, 1, \\dots`, each of size
  :math:`q`: a constant depth density :math:`\\rho = q/\\delta` units per price unit. Walking
  :math:`n \\ll` the depth costs, against the mid,

  .. math::

      C(n) = \\epsilon n + \\frac{\\delta}{2q} n^2 + b(n),\\qquad
      0 \\le b(n) = \\tfrac{\\delta}{2} r\\,(1 - r/q) \\le \\tfrac{\\delta q}{8},

  with :math:`r = n - q\\lfloor n/q \\rfloor` (the part of the last level taken). Almgren-Chriss
  write the temporary cost of a child :math:`n_k` traded in a period as
  :math:`n_k h(n_k/\\tau) = \\epsilon n_k + (\\eta/\\tau) n_k^2`, hence

  .. math::

      \\eta = \\frac{\\tau\\,\\delta}{2q} \\quad\\Longleftrightarrow\\quad q = \\frac{\\tau\\,\\delta}{2\\eta}.

  The refill is full between periods, so temporary impact lasts exactly one period, as in
  the model. The bias :math:`b(n)` is at most :math:`\\delta q/8` per child — relative to the
  quadratic term at most :math:`(q/n)^2/4` — and is reported by :meth:`SyntheticMarket.walk_cost`.

* **Permanent impact.** Every executed unit (the user's or the background's) moves the mid
  by :math:`\\gamma` in the aggressor's direction: :math:`g(v) = \\gamma v` of Almgren-Chriss,
  :math:`\\gamma` in price units per base unit.

* **Background flow and diffusion.** Each background event is, with probability
  ``trade_prob``, a market order of exponential size (mean :math:`\\bar v`) and random side;
  it walks the (partly consumed) book and moves the mid by :math:`\\pm\\gamma v`. The rest of
  the price noise is an arithmetic Brownian motion of volatility :math:`\\sigma_0`, chosen so
  that the *total* mid variance per period is exactly :math:`\\sigma^2\\tau`:

  .. math::

      \\sigma_0^2 \\tau = \\sigma^2 \\tau - \\gamma^2\\, M p\\, 2\\bar v^2 \\ge 0,

  (:math:`M` events of probability :math:`p`, :math:`E[v^2] = 2\\bar v^2`). The flow is
  independent of the user's orders and has mean zero, so
  :math:`S_k = S_{k-1} + \\sigma\\sqrt\\tau\\,\\xi_k \\pm \\gamma n_k` with
  :math:`E\\xi_k = 0`, :math:`\\operatorname{Var}\\xi_k = 1`: the Almgren-Chriss price process.
  Hence the expected cost and variance of a schedule (trade list :math:`n_k`, holdings
  :math:`x_k`) are

  .. math::

      E = \\tfrac12\\gamma X^2 + \\epsilon \\sum|n_k| + \\frac{\\tilde\\eta}{\\tau}\\sum n_k^2,
      \\quad \\tilde\\eta = \\eta - \\tfrac12\\gamma\\tau,\\qquad
      V = \\sigma^2 \\tau \\sum_{k=1}^{N} x_k^2,

  plus :math:`\\sum_k b(n_k)` in :math:`E`.

The background trades also make the public data informative: regressing mid changes on
signed traded volume recovers :math:`\\gamma` (Kyle's lambda), and the book's walk curve
recovers :math:`\\eta/\\tau` (see :mod:`tradesim_nb.impact.fit`).

References
----------
R. Almgren and N. Chriss, "Optimal execution of portfolio transactions", J. Risk 3 (2000) 5-39.
A. S. Kyle, "Continuous auctions and insider trading", Econometrica 53 (1985) 1315-1335.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from .book import Fill, OrderBook, book_from_levels
from .instruments import Instrument
from .sources import MarketStep, PriceLevel, TradePrint

if TYPE_CHECKING:  # pragma: no cover
    from .costs.almgren_chriss import ACParams
    from .impact.laws import LinearImpact

__all__ = ["SYNTHETIC_INSTRUMENT", "MarketParams", "SyntheticMarket", "TrueParams"]

Side = Literal["buy", "sell"]

#: The instrument the synthetic market quotes by default (sizes in base units, fine tick).
SYNTHETIC_INSTRUMENT = Instrument("synthetic", "SYN-USD", "spot", "SYN", "USD", 1e-6, 1e-6)


def _pos(name: str, v: float, allow_zero: bool = False) -> None:
    ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    ok = ok and (v >= 0 if allow_zero else v > 0)
    if not ok:
        rng = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name}={v!r} must be a finite number {rng}")


@dataclass(frozen=True, slots=True)
class MarketParams:
    """Parameters of :class:`SyntheticMarket` (defaults: the Almgren-Chriss 2000 example).

    Parameters
    ----------
    mid0 : float
        Initial mid price (quote per base unit). Default 50.
    sigma : float
        Total volatility of the mid, price units per sqrt(time unit). Default 0.95
        (30 %/yr at 50, per day^1/2).
    tau : float
        Period length = refill interval, time units. Default 1 (day).
    epsilon : float
        Fixed cost per unit: distance from the mid to the book's first half-level
        (half-spread is :math:`\\epsilon + \\delta/2`). Default 0.0625.
    eta : float
        Temporary impact, price x time / base^2. Default 2.5e-6.
    gamma : float
        Permanent impact, price units per base unit traded. Default 2.5e-7.
    level_spacing : float
        :math:`\\delta`, price distance between levels. Default 0.01.
    n_levels : int
        Levels per side of a full book (more are added when one order needs them). Default 400.
    steps_per_period : int
        Background events per period :math:`M`. Default 100.
    trade_prob : float
        Probability an event is a background trade, in [0, 1]. Default 0.5.
    mean_trade_size : float
        :math:`\\bar v`, mean background trade size (base units); 0 disables the flow.
        Default 2e5 (order flow then explains 27.7 % of the mid variance; must keep
        :math:`\\gamma^2 M p\\,2\\bar v^2 \\le \\sigma^2\\tau`).
    time_unit_s : float
        Seconds per time unit, only for the ``ts_ns`` of :class:`MarketStep`. Default 1.
    """

    mid0: float = 50.0
    sigma: float = 0.95
    tau: float = 1.0
    epsilon: float = 0.0625
    eta: float = 2.5e-6
    gamma: float = 2.5e-7
    level_spacing: float = 0.01
    n_levels: int = 400
    steps_per_period: int = 100
    trade_prob: float = 0.5
    mean_trade_size: float = 2e5
    time_unit_s: float = 1.0

    def __post_init__(self) -> None:
        for name in ("mid0", "sigma", "tau", "eta", "level_spacing", "time_unit_s"):
            _pos(name, getattr(self, name))
        for name in ("epsilon", "gamma", "mean_trade_size"):
            _pos(name, getattr(self, name), allow_zero=True)
        for name in ("n_levels", "steps_per_period"):
            v = getattr(self, name)
            if not (isinstance(v, int) and not isinstance(v, bool) and v >= 1):
                raise ValueError(f"{name}={v!r} must be an integer >= 1")
        if not (isinstance(self.trade_prob, int | float) and 0.0 <= self.trade_prob <= 1.0):
            raise ValueError(f"trade_prob={self.trade_prob!r} must be in [0, 1]")
        if self.flow_variance > self.sigma**2 * self.tau * (1 + 1e-12):
            raise ValueError(
                f"mean_trade_size={self.mean_trade_size!r} is too large: the background flow's "
                f"impact variance per period gamma^2*M*p*2*v^2={self.flow_variance:.6g} exceeds "
                f"sigma^2*tau={self.sigma**2 * self.tau:.6g}; allowed mean_trade_size <= "
                f"{self.max_mean_trade_size:.6g}")

    def impact_law(self) -> LinearImpact:
        """The market's impact as a law: :class:`~tradesim_nb.impact.laws.LinearImpact` with
        its :math:`\\eta, \\gamma, \\epsilon` (time in the market's unit)."""
        from .impact.laws import LinearImpact

        return LinearImpact(eta=self.eta, gamma=self.gamma, epsilon=self.epsilon,
                            time_unit_s=self.time_unit_s)

    @property
    def level_size(self) -> float:
        """:math:`q = \\tau\\delta/(2\\eta)`, base units per level."""
        return self.tau * self.level_spacing / (2.0 * self.eta)

    @property
    def flow_variance(self) -> float:
        """Mid variance per period due to background trades: :math:`\\gamma^2 M p\\,2\\bar v^2`."""
        return (self.gamma**2 * self.steps_per_period * self.trade_prob
                * 2.0 * self.mean_trade_size**2)

    @property
    def max_mean_trade_size(self) -> float:
        denom = self.gamma**2 * self.steps_per_period * self.trade_prob * 2.0
        return math.inf if denom == 0 else math.sqrt(self.sigma**2 * self.tau / denom)

    @property
    def sigma_diffusion(self) -> float:
        """:math:`\\sigma_0`, the Brownian part of the volatility."""
        return math.sqrt(max(self.sigma**2 * self.tau - self.flow_variance, 0.0) / self.tau)


@dataclass(frozen=True, slots=True)
class TrueParams:
    """The market's true Almgren-Chriss parameters (units as in :class:`MarketParams`)."""

    eta: float
    gamma: float
    epsilon: float
    sigma: float
    tau: float
    eta_tilde: float
    level_size: float
    depth_density: float
    sigma_diffusion: float
    flow_variance_share: float
    alpha: float = 1.0  # permanent impact exponent (linear)
    beta: float = 1.0  # temporary impact exponent (linear in the rate)

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(slots=True)
class _State:
    mid: float
    step: int = 0  # background events run so far
    consumed_bid: float = 0.0  # units taken off the front of each side since the refill
    consumed_ask: float = 0.0
    published: tuple[dict[float, float], dict[float, float]] = field(
        default_factory=lambda: ({}, {}))


class SyntheticMarket:
    """A seeded market with known impact (see the module docstring for the derivation).

    Implements the :class:`~tradesim_nb.sources.BookSource` protocol (``instrument``,
    ``snapshot()``, ``step()``) so the local venue can serve it, and exposes the current
    :class:`~tradesim_nb.book.OrderBook` as :attr:`book`.

    Parameters
    ----------
    params : MarketParams, optional
    seed : int or numpy.random.Generator, optional
        Everything random comes from this generator: the same seed gives the same market.
    instrument : Instrument, optional
        Default :data:`SYNTHETIC_INSTRUMENT`.
    publish_levels : int
        Levels per side that :meth:`snapshot` and :meth:`step` report. Default 50.
    """

    def __init__(self, params: MarketParams | None = None, seed: int | np.random.Generator | None = 0,
                 *, instrument: Instrument | None = None, publish_levels: int = 50) -> None:
        self.params = params if params is not None else MarketParams()
        if not isinstance(self.params, MarketParams):
            raise ValueError(f"params={params!r} must be a MarketParams")
        if not (isinstance(publish_levels, int) and publish_levels >= 1):
            raise ValueError(f"publish_levels={publish_levels!r} must be an integer >= 1")
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self.instrument = instrument if instrument is not None else SYNTHETIC_INSTRUMENT
        self.publish_levels = publish_levels
        self._s = _State(mid=self.params.mid0)
        self._book: OrderBook | None = None
        self._book_levels = 0
        p = self.params
        self._q = p.level_size
        self._sd_step = p.sigma_diffusion * math.sqrt(p.tau / p.steps_per_period)

    # -- truth ----------------------------------------------------------------------------
    @property
    def true_params(self) -> TrueParams:
        p = self.params
        return TrueParams(eta=p.eta, gamma=p.gamma, epsilon=p.epsilon, sigma=p.sigma, tau=p.tau,
                          eta_tilde=p.eta - 0.5 * p.gamma * p.tau, level_size=self._q,
                          depth_density=self._q / p.level_spacing,
                          sigma_diffusion=p.sigma_diffusion,
                          flow_variance_share=p.flow_variance / (p.sigma**2 * p.tau))

    def ac_params(self, size: float, periods: int, risk_aversion: float = 0.0) -> ACParams:
        """Almgren-Chriss parameters of this market for a parent order of ``size`` over
        ``periods`` periods (horizon ``periods * tau``)."""
        from .costs.almgren_chriss import ACParams

        p = self.params
        return ACParams(size=size, horizon=periods * p.tau, periods=periods, sigma=p.sigma,
                        epsilon=p.epsilon, eta=p.eta, gamma=p.gamma, risk_aversion=risk_aversion)

    # -- state ----------------------------------------------------------------------------
    @property
    def mid(self) -> float:
        return self._s.mid

    @property
    def time(self) -> float:
        """Market time in time units."""
        return self._s.step * self.params.tau / self.params.steps_per_period

    @property
    def ts_ns(self) -> int:
        return round(self.time * self.params.time_unit_s * 1e9)

    @property
    def at_period_start(self) -> bool:
        return self._s.step % self.params.steps_per_period == 0

    def _side_levels(self, side: Literal["bid", "ask"], n: int) -> list[PriceLevel]:
        p = self.params
        q = self._q
        consumed = self._s.consumed_ask if side == "ask" else self._s.consumed_bid
        full = int(consumed // q)
        part = consumed - full * q
        sgn = 1.0 if side == "ask" else -1.0
        mid = self._s.mid
        out: list[PriceLevel] = []
        for j in range(full, full + n):
            size = q - part if j == full else q
            if size <= 1e-9 * q:
                continue
            out.append((mid + sgn * (p.epsilon + (j + 0.5) * p.level_spacing), size))
        return out

    def snapshot(self) -> tuple[list[PriceLevel], list[PriceLevel]]:
        """The published book, best first: ``publish_levels`` levels a side."""
        n = self.publish_levels
        bids, asks = self._side_levels("bid", n), self._side_levels("ask", n)
        self._s.published = (dict(bids), dict(asks))
        return bids, asks

    @property
    def book(self) -> OrderBook:
        """The current full book (``n_levels`` a side) as an :class:`OrderBook`."""
        return self._full_book(self.params.n_levels)

    def _full_book(self, levels: int) -> OrderBook:
        """The book with ``levels`` levels a side (counted from the first unconsumed one)."""
        if self._book is None or self._book_levels < levels:
            n = levels
            self._book = book_from_levels(self._side_levels("bid", n), self._side_levels("ask", n),
                                          self.instrument)
            self._book_levels = n
        return self._book

    def _invalidate(self) -> None:
        self._book = None
        self._book_levels = 0

    # -- dynamics -------------------------------------------------------------------------
    def walk_cost(self, side: Side, qty_base: float) -> tuple[float, float]:
        """Exact cost against the mid of walking ``qty_base`` now, and its bias :math:`b(n)`.

        Returns ``(cost, bias)`` in quote currency, where
        ``cost = epsilon*n + delta/(2q)*n^2 + bias`` when the side is fully refilled.
        """
        p = self.params
        q = self._q
        c0 = self._s.consumed_ask if side == "buy" else self._s.consumed_bid
        return _walk_cost(c0, qty_base, q, p.epsilon, p.level_spacing), _bias(qty_base, q,
                                                                             p.level_spacing)

    def execute(self, side: Side, qty_base: float) -> Fill:
        """A market order of the user: walk the book (via :meth:`OrderBook.walk`), then move
        the mid by the permanent impact :math:`\\pm\\gamma n`. Returns the :class:`Fill`."""
        if side not in ("buy", "sell"):
            raise ValueError(f"side={side!r} is not one of 'buy', 'sell'")
        _pos("qty_base", qty_base, allow_zero=True)
        need = math.ceil(qty_base / self._q) + 2  # levels after the consumed front
        fill = self._full_book(need).walk(side, float(qty_base), "base")
        self._consume(side, qty_base)
        return fill

    def _consume(self, side: Side, qty: float) -> None:
        s = self._s
        if side == "buy":
            s.consumed_ask += qty
            s.mid += self.params.gamma * qty
        else:
            s.consumed_bid += qty
            s.mid -= self.params.gamma * qty
        self._invalidate()

    def expected_volume_per_step(self) -> float:
        """Expected background volume per :meth:`step` (base units):
        :math:`p\\,\bar v` (``trade_prob * mean_trade_size``, exponential sizes)."""
        return self.params.trade_prob * self.params.mean_trade_size

    def step(self) -> MarketStep:
        """One background event: diffusion, maybe a background trade, and at the end of a
        period the full refill. Returns the changed published levels and the trades."""
        p = self.params
        rng = self.rng
        s = self._s
        if not s.published[0] and not s.published[1]:
            self.snapshot()
        old_b, old_a = s.published
        trades: list[TradePrint] = []
        s.mid += self._sd_step * float(rng.standard_normal())
        if p.mean_trade_size > 0 and rng.random() < p.trade_prob:
            side: Side = "buy" if rng.random() < 0.5 else "sell"
            v = float(rng.exponential(p.mean_trade_size))
            c0 = s.consumed_ask if side == "buy" else s.consumed_bid
            cost = _walk_cost(c0, v, self._q, p.epsilon, p.level_spacing)
            px = s.mid + (cost / v if side == "buy" else -cost / v)
            trades.append((px, v, side))
            self._consume(side, v)
        s.step += 1
        if s.step % p.steps_per_period == 0:
            s.consumed_ask = s.consumed_bid = 0.0  # full refill
        self._invalidate()
        bids, asks = self.snapshot()
        return MarketStep(self.ts_ns, _diff(old_b, bids), _diff(old_a, asks), trades)

    def run_period(self) -> list[MarketStep]:
        """Run background events until the next period start (the refill)."""
        out = [self.step()]
        while not self.at_period_start:
            out.append(self.step())
        return out

    def advance(self, periods: int = 1) -> None:
        """Run ``periods`` whole periods without building any book (fast path)."""
        p = self.params
        for _ in range(periods):
            m = p.steps_per_period - self._s.step % p.steps_per_period
            self._s.mid += float(self.period_noise(1, m)[0])
            self._s.step += m
            self._s.consumed_ask = self._s.consumed_bid = 0.0
        self._invalidate()

    def period_noise(self, size: int | tuple[int, ...], steps: int | None = None) -> np.ndarray:
        """Mid change over ``steps`` background events (default a whole period), drawn from the
        same law as :meth:`step` (Brownian part plus the impact of Bernoulli/exponential
        trades, summed in closed form): mean 0, variance ``sigma^2 tau`` for a whole period."""
        p = self.params
        m = p.steps_per_period if steps is None else steps
        return period_noise(self.rng, p, size, m)

    def __repr__(self) -> str:
        return (f"SyntheticMarket(mid={self.mid:.6g}, t={self.time:.6g}, "
                f"eta={self.params.eta:g}, gamma={self.params.gamma:g})")


def period_noise(rng: np.random.Generator, p: MarketParams, size: int | tuple[int, ...],
                 steps: int) -> np.ndarray:
    """Mid change over ``steps`` background events of a market with parameters ``p``."""
    dt = p.tau / p.steps_per_period
    out = rng.standard_normal(size) * (p.sigma_diffusion * math.sqrt(dt * steps))
    if p.mean_trade_size > 0 and p.trade_prob > 0 and p.gamma > 0:
        k = rng.binomial(steps, p.trade_prob, size)
        nb = rng.binomial(k, 0.5)
        ns = k - nb
        vb = np.where(nb > 0, rng.gamma(np.maximum(nb, 1), p.mean_trade_size), 0.0)
        vs = np.where(ns > 0, rng.gamma(np.maximum(ns, 1), p.mean_trade_size), 0.0)
        out = out + p.gamma * (vb - vs)
    return np.asarray(out, dtype=float)


def _walk_cost(consumed: float, n: float, q: float, eps: float, delta: float) -> float:
    """Cost vs the mid of taking ``n`` units after ``consumed`` units are gone from a side of
    levels ``eps + (j+1/2) delta`` of size ``q``: the integral of a step function."""
    return _cum(consumed + n, q, eps, delta) - _cum(consumed, q, eps, delta)


def _cum(u: float, q: float, eps: float, delta: float) -> float:
    m = math.floor(u / q)
    r = u - m * q
    return eps * u + delta * (q * m * m / 2.0 + r * (m + 0.5))


def walk_cost_array(n: np.ndarray, q: float, eps: float, delta: float) -> np.ndarray:
    """Vectorised :func:`_walk_cost` from a full side (``consumed = 0``)."""
    n = np.asarray(n, dtype=float)
    m = np.floor(n / q)
    r = n - m * q
    return eps * n + delta * (q * m * m / 2.0 + r * (m + 0.5))


def _bias(n: float, q: float, delta: float) -> float:
    r = n - q * math.floor(n / q)
    return delta * r * (1.0 - r / q) / 2.0


def _diff(old: dict[float, float], new: list[PriceLevel]) -> list[PriceLevel]:
    nd = dict(new)
    out: list[PriceLevel] = [(px, 0.0) for px in old if px not in nd]
    out.extend((px, sz) for px, sz in new if old.get(px) != sz)
    return out


def describe(params: MarketParams) -> dict[str, Any]:
    """Parameters and derived quantities, for reports."""
    d: dict[str, Any] = asdict(params)
    d.update(level_size=params.level_size, sigma_diffusion=params.sigma_diffusion,
             flow_variance_share=params.flow_variance / (params.sigma**2 * params.tau))
    return d
