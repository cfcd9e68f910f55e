"""A simple seeded random-walk order book: a :class:`~tradesim_nb.sources.BookSource`.

It exists to feed the local venue when no recording is at hand. It has no market impact
(see :mod:`tradesim_nb.market` for the impact-aware market); it only has to look like a book
and stay consistent: both sides on the instrument's price grid, never crossed, sizes on the
lot grid.

Each ``step()`` draws one event:

* with probability ``p_move`` the mid moves one tick up or down (a symmetric random walk,
  :math:`m_{t+1} = m_t \\pm \\delta`); levels that would cross are removed and the
  vacated side gains a new touch level;
* with probability ``p_trade`` a market order of geometric size takes part of the touch (6 lots
  on average, or ``take_share`` of a level's mean size);
* otherwise the size of one of the best ``n_levels`` levels on a random side is redrawn from
  :math:`\\text{lot}\\cdot(1 + \\text{Poisson}(\\lambda_i))` with
  :math:`\\lambda_i = \\bar q (1 + i/4)` (deeper levels are larger on average), or the level is
  removed with probability ``p_cancel``.

Time advances by exponential gaps of mean ``1 / rate_hz`` seconds (the market's own clock).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .instruments import Instrument, get_instrument
from .sources import MarketStep, PriceLevel, TradePrint

__all__ = ["LEVEL_USD", "MIDS", "TAKE_SHARE", "RandomWalkBook", "RandomWalkParams"]

#: prices of :meth:`RandomWalkBook.for_instrument` by base currency (else 100)
MIDS: dict[str, float] = {"BTC": 60_000.0, "XBT": 60_000.0, "ETH": 3_000.0, "SOL": 150.0}
#: USD a level of :meth:`RandomWalkBook.for_instrument`
LEVEL_USD = 30_000.0
#: a market order's mean size as a share of a level's in :meth:`RandomWalkBook.for_instrument`
TAKE_SHARE = 0.15


@dataclass(frozen=True)
class RandomWalkParams:
    """Parameters of :class:`RandomWalkBook` (validated)."""

    mid: float = 60_000.0
    n_levels: int = 50
    spread_ticks: int = 1
    mean_size_lots: float = 40.0
    p_move: float = 0.05
    p_trade: float = 0.05
    p_cancel: float = 0.1
    rate_hz: float = 1000.0
    #: mean size of a market order as a share of a level's mean size (None: 6 lots)
    take_share: float | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.mid) and self.mid > 0):
            raise ValueError(f"mid={self.mid!r} must be a finite number > 0")
        if not (isinstance(self.n_levels, int) and 1 <= self.n_levels <= 5000):
            raise ValueError(f"n_levels={self.n_levels!r} must be an int in [1, 5000]")
        if not (isinstance(self.spread_ticks, int) and 1 <= self.spread_ticks <= 1000):
            raise ValueError(f"spread_ticks={self.spread_ticks!r} must be an int in [1, 1000]")
        if not (math.isfinite(self.mean_size_lots) and self.mean_size_lots > 0):
            raise ValueError(f"mean_size_lots={self.mean_size_lots!r} must be > 0")
        for name in ("p_move", "p_trade", "p_cancel"):
            v = getattr(self, name)
            if not (0.0 <= v <= 1.0):
                raise ValueError(f"{name}={v!r} must be in [0, 1]")
        if self.p_move + self.p_trade > 1.0:
            raise ValueError(f"p_move + p_trade = {self.p_move + self.p_trade} must be <= 1")
        if not (math.isfinite(self.rate_hz) and self.rate_hz > 0):
            raise ValueError(f"rate_hz={self.rate_hz!r} must be a finite number > 0")
        if self.take_share is not None and not (math.isfinite(self.take_share)
                                                and 0 < self.take_share <= 1):
            raise ValueError(f"take_share={self.take_share!r} must be in (0, 1] (or None)")


class RandomWalkBook:
    """Seeded random-walk book for one instrument (satisfies ``BookSource``).

    Parameters
    ----------
    instrument : Instrument, optional
        Default OKX ``BTC-USDT-SWAP``.
    params : RandomWalkParams, optional
    seed : int
    """

    def __init__(self, instrument: Instrument | None = None,
                 params: RandomWalkParams | None = None, seed: int = 0) -> None:
        self.instrument = instrument or get_instrument("okx", "BTC-USDT-SWAP")
        self.params = params or RandomWalkParams()
        self.rng = np.random.default_rng(seed)
        self.tick = self.instrument.tick_size
        self.lot = self.instrument.lot_size
        p = self.params
        self._ts_ns = 1_700_000_000_000_000_000
        # integer ticks -> size in lots (int)
        self.mid_t = round(p.mid / self.tick)
        half = p.spread_ticks
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        for i in range(p.n_levels):
            self.bids[self.mid_t - half - i] = self._draw(i)
            self.asks[self.mid_t + half + i] = self._draw(i)
        self._trade_id = 0

    @classmethod
    def for_instrument(cls, instrument: Instrument, *, seed: int = 0, rate_hz: float = 1000.0,
                       level_usd: float = LEVEL_USD, take_share: float = TAKE_SHARE
                       ) -> RandomWalkBook:
        """A book at a plausible price (:data:`MIDS` by base currency, else 100) with about
        ``level_usd`` a level and market orders of ``take_share`` of a level on average, so
        that orders of a dashboard's size fill and the traded volume is in proportion to the
        book (what the local venue's 24-hour ticker reports)."""
        mid = MIDS.get(instrument.base, 100.0)
        lots = max(1.0, level_usd / mid / (instrument.lot_size * instrument.base_per_unit(mid)))
        return cls(instrument, RandomWalkParams(mid=mid, mean_size_lots=lots, rate_hz=rate_hz,
                                                take_share=take_share), seed=seed)

    @property
    def _take_p(self) -> float:
        """Parameter of the geometric part of a take (numpy's, support 1, 2, ...: mean 1/p):
        0.2 (6 lots a take) unless ``take_share`` sets the mean take."""
        p = self.params
        if p.take_share is None:
            return 0.2
        return min(1.0, 1.0 / max(p.take_share * p.mean_size_lots - 1.0, 1.0))

    def expected_volume_per_step(self) -> float:
        r"""Expected traded size per :meth:`step` (venue size units):
        :math:`p_{trade}\,E[1 + G]\,\text{lot}` with :math:`G \sim \text{Geometric}(p)`,
        :math:`E[1 + G] = 1 + 1/p` (6 lots at the default :math:`p = 0.2`). A take is capped
        by the touch size, which is drawn from :math:`1 + \text{Poisson}(\bar q)` lots
        (``mean_size_lots``), so the cap rarely binds (a test measures the realised volume
        against this)."""
        return self.params.p_trade * (1.0 + 1.0 / self._take_p) * self.lot

    def _draw(self, depth: int) -> int:
        lam = self.params.mean_size_lots * (1.0 + depth / 4.0)
        return 1 + int(self.rng.poisson(lam))

    def _px(self, t: int) -> float:
        return round(t * self.tick, self.instrument.price_decimals)

    def _sz(self, lots: int) -> float:
        return round(lots * self.lot, 12)

    def snapshot(self) -> tuple[list[PriceLevel], list[PriceLevel]]:
        b = [(self._px(t), self._sz(self.bids[t])) for t in sorted(self.bids, reverse=True)]
        a = [(self._px(t), self._sz(self.asks[t])) for t in sorted(self.asks)]
        return b, a

    def step(self) -> MarketStep:
        p = self.params
        rng = self.rng
        self._ts_ns += max(1, int(rng.exponential(1e9 / p.rate_hz)))
        db: dict[int, int] = {}
        da: dict[int, int] = {}
        trades: list[TradePrint] = []
        u = rng.random()
        if u < p.p_move:
            self._move(1 if rng.random() < 0.5 else -1, db, da)
        elif u < p.p_move + p.p_trade:
            buy = rng.random() < 0.5
            side = self.asks if buy else self.bids
            if side:
                t = min(side) if buy else max(side)
                take = min(side[t], 1 + int(rng.geometric(self._take_p)))
                trades.append((self._px(t), self._sz(take), "buy" if buy else "sell"))
                left = side[t] - take
                if left > 0:
                    side[t] = left
                else:
                    del side[t]
                (da if buy else db)[t] = left
                self._refill(db, da)
        else:
            bid = rng.random() < 0.5
            side = self.bids if bid else self.asks
            keys = sorted(side, reverse=bid)[: p.n_levels]
            if keys:
                i = int(rng.integers(0, len(keys)))
                t = keys[i]
                if rng.random() < p.p_cancel and len(side) > 1:
                    del side[t]
                    (db if bid else da)[t] = 0
                    self._refill(db, da)
                else:
                    side[t] = self._draw(i)
                    (db if bid else da)[t] = side[t]
        return MarketStep(
            self._ts_ns,
            [(self._px(t), self._sz(s)) for t, s in db.items()],
            [(self._px(t), self._sz(s)) for t, s in da.items()],
            trades,
        )

    def _move(self, d: int, db: dict[int, int], da: dict[int, int]) -> None:
        """Shift the mid by ``d`` ticks: remove crossing levels, add a new touch."""
        self.mid_t += d
        half = self.params.spread_ticks
        new_bid = self.mid_t - half
        new_ask = self.mid_t + half
        for t in [t for t in self.asks if t <= new_bid]:
            del self.asks[t]
            da[t] = 0
        for t in [t for t in self.bids if t >= new_ask]:
            del self.bids[t]
            db[t] = 0
        if d > 0 and new_bid not in self.bids:
            self.bids[new_bid] = self._draw(0)
            db[new_bid] = self.bids[new_bid]
        if d < 0 and new_ask not in self.asks:
            self.asks[new_ask] = self._draw(0)
            da[new_ask] = self.asks[new_ask]
        self._refill(db, da)

    def _refill(self, db: dict[int, int], da: dict[int, int]) -> None:
        """Keep ``n_levels`` a side: add levels at the back, trim beyond 2 * n_levels."""
        n = self.params.n_levels
        for side, delta, sign in ((self.bids, db, -1), (self.asks, da, 1)):
            while len(side) < n:
                if side:
                    t = (min(side) - 1) if sign < 0 else (max(side) + 1)
                else:
                    t = self.mid_t + sign * self.params.spread_ticks
                side[t] = self._draw(len(side))
                delta[t] = side[t]
            if len(side) > 2 * n:
                far = sorted(side, reverse=sign < 0)[2 * n:]
                for t in far:
                    del side[t]
                    delta[t] = 0
