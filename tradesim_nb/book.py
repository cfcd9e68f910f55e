"""An L2 price-level order book for one instrument, and walk-the-book fills.

Prices are keyed by integer ticks (``round(price * price_scale)``), never by floats; each
level keeps the venue's exact price and size strings so venue checksums can be reproduced.
Each side is a dict ``key -> (price, size, price_str, size_str)`` plus an ascending list of
keys that runs worst-first, the best level *last* (bids keyed by tick, asks by the negated
tick). ``bisect`` keeps them sorted, which for books of a few thousand levels beats tree
structures in CPython; with the best level at the end, the inserts and deletes of a depth diff
(mostly near the touch) only shift the few keys between them and the touch instead of the
whole side.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Sequence
from typing import Any, Literal, NamedTuple

import numpy as np

from .events import BookDelta, BookSnapshot, Level
from .instruments import Instrument, SizeUnit

__all__ = ["BookSide", "Fill", "OrderBook"]

BookSide = Literal["bid", "ask"]
OrderSide = Literal["buy", "sell"]

#: one level: (price, size, price_str, size_str)
_LevelT = tuple[float, float, str, str]
_NO_BAND = 1 << 62  # no tracked depth band: every key is outside it (in band: key >= limit)
_BAND_RESUM = 1000  # uses of a tracked band between full re-sums


def _no_band() -> list[float]:
    # [bid limit key, bid sum, bid bps, ask limit key, ask sum, ask bps, uses since re-sum]
    return [_NO_BAND, 0.0, -1.0, _NO_BAND, 0.0, -1.0, 0]


class Fill(NamedTuple):
    """The result of walking the book with a market order (an immutable named tuple: built on
    every tick, where a frozen dataclass costs four times as much to construct).

    All ``*_bps`` figures are signed costs (positive = worse than the reference) for the
    order's side: ``slippage_bps = half_spread_bps + depth_cost_bps`` where

    .. math::

        \\text{slippage}_{mid} = s\\,\\frac{\\bar p - m}{m}10^4,\\quad
        \\text{half-spread} = s\\,\\frac{p_{touch} - m}{m}10^4,\\quad
        \\text{depth} = s\\,\\frac{\\bar p - p_{touch}}{m}10^4

    with :math:`s = +1` for a buy and :math:`-1` for a sell, :math:`\\bar p` the VWAP and
    :math:`m` the mid.
    """

    side: OrderSide
    requested: float
    unit: SizeUnit
    filled_size: float  # venue size units (contracts or base)
    filled_base: float
    notional: float  # quote currency
    vwap: float
    levels_consumed: int
    unfilled: float  # in ``unit``
    mid: float
    touch: float
    worst_price: float
    slippage_bps: float  # vs mid
    slippage_vs_touch_bps: float
    half_spread_bps: float
    depth_cost_bps: float

    @property
    def complete(self) -> bool:
        return self.unfilled <= 0.0

    @property
    def slippage_usd(self) -> float:
        """Cost against the mid in quote currency: ``notional * slippage_bps / 1e4``."""
        return self.notional * self.slippage_bps / 1e4 if self.notional else 0.0


class OrderBook:
    """L2 book for one instrument.

    Parameters
    ----------
    instrument : Instrument, optional
        Gives the venue, symbol, size conversions and the price grid. Without it the book
        works in the venue's size units with a price grid of ``1 / price_scale``.
    price_scale : float, optional
        Ticks per unit price for the integer keys; default ``10**(price_decimals + 2)`` of the
        instrument, else ``1e8``.

    Notes
    -----
    ``stale`` is set by the feed handler on a sequence gap or checksum failure and cleared by
    the next snapshot; ``valid`` is False while the book is stale, empty on a side, or crossed
    (best bid >= best ask). A crossed book is never served as valid.
    """

    __slots__ = (
        "_akeys",
        "_asks",
        "_band",
        "_bids",
        "_bkeys",
        "_scale",
        "instrument",
        "last_exch_ts_ns",
        "last_recv_ts_ns",
        "seq",
        "stale",
        "symbol",
        "updates",
        "venue",
    )

    def __init__(
        self,
        instrument: Instrument | None = None,
        *,
        venue: str = "",
        symbol: str = "",
        price_scale: float | None = None,
    ) -> None:
        self.instrument = instrument
        self.venue = instrument.venue if instrument else venue
        self.symbol = instrument.symbol if instrument else symbol
        if price_scale is None:
            price_scale = 10.0 ** (instrument.price_decimals + 2) if instrument else 1e8
        if not (math.isfinite(price_scale) and price_scale > 0):
            raise ValueError(f"price_scale={price_scale!r} must be a finite number > 0")
        self._scale = float(price_scale)
        self._bids: dict[int, _LevelT] = {}
        self._asks: dict[int, _LevelT] = {}
        self._bkeys: list[int] = []  # ticks, ascending: best bid last
        self._akeys: list[int] = []  # negated ticks, ascending: best ask last
        self._band: list[Any] = _no_band()  # tracked depth bands, see depth_within_bps
        self.seq: int | None = None
        self.stale = True  # until the first snapshot
        self.updates = 0
        self.last_exch_ts_ns = 0
        self.last_recv_ts_ns = 0

    # -- mutation -----------------------------------------------------------------------
    def clear(self) -> None:
        self._bids.clear()
        self._asks.clear()
        self._bkeys.clear()
        self._akeys.clear()
        self._band = _no_band()
        self.seq = None
        self.stale = True

    def apply(self, event: BookSnapshot | BookDelta) -> None:
        """Apply a snapshot (replaces the book, clears ``stale``) or a delta."""
        if type(event) is BookSnapshot:
            self.apply_snapshot(event.bids, event.asks)
        else:
            self.apply_delta(event.bids, event.asks)
        self.seq = event.seq
        self.last_exch_ts_ns = event.exch_ts_ns
        self.last_recv_ts_ns = event.recv_ts_ns

    def apply_snapshot(self, bids: Iterable[Level], asks: Iterable[Level]) -> None:
        scale = self._scale
        bd: dict[int, _LevelT] = {}
        for lv in bids:
            ps = lv[0]
            ss = lv[1]
            s = float(ss)
            p = float(ps)
            if s > 0.0:
                bd[round(p * scale)] = (p, s, ps, ss)
            else:  # a zero size in a snapshot: the level is absent (last mention wins)
                bd.pop(round(p * scale), None)
        ad: dict[int, _LevelT] = {}
        for lv in asks:
            ps = lv[0]
            ss = lv[1]
            s = float(ss)
            p = float(ps)
            if s > 0.0:
                ad[-round(p * scale)] = (p, s, ps, ss)
            else:  # a zero size in a snapshot: the level is absent (last mention wins)
                ad.pop(-round(p * scale), None)
        self._bids = bd
        self._asks = ad
        self._bkeys = sorted(bd)
        self._akeys = sorted(ad)
        self._band = _no_band()
        self.stale = False
        self.updates += 1

    def apply_delta(self, bids: Iterable[Level], asks: Iterable[Level]) -> None:
        scale = self._scale
        # the tracked depth band of each side (see depth_within_bps) is kept up to date here
        band = self._band
        d = self._bids
        keys = self._bkeys
        lim, tot = band[0], band[1]
        for lv in bids:
            ps = lv[0]
            ss = lv[1]
            p = float(ps)
            s = float(ss)
            k = round(p * scale)
            if s == 0.0:
                old = d.pop(k, None)
                if old is not None:
                    del keys[bisect_left(keys, k)]
                    if k >= lim:
                        tot -= old[1]
            else:
                old = d.get(k)
                if old is None:
                    insort(keys, k)
                    if k >= lim:
                        tot += s
                elif k >= lim:
                    tot += s - old[1]
                d[k] = (p, s, ps, ss)
        band[1] = tot
        d = self._asks
        keys = self._akeys
        lim, tot = band[3], band[4]
        for lv in asks:
            ps = lv[0]
            ss = lv[1]
            p = float(ps)
            s = float(ss)
            k = -round(p * scale)
            if s == 0.0:
                old = d.pop(k, None)
                if old is not None:
                    del keys[bisect_left(keys, k)]
                    if k >= lim:
                        tot -= old[1]
            else:
                old = d.get(k)
                if old is None:
                    insort(keys, k)
                    if k >= lim:
                        tot += s
                elif k >= lim:
                    tot += s - old[1]
                d[k] = (p, s, ps, ss)
        band[4] = tot
        self.updates += 1

    def remove_crossed(self) -> tuple[int, int]:
        """Uncross the book by removing the fewest levels; return ``(bids_removed, asks_removed)``.

        Rule: among all cut prices, keep the one that removes the smallest number of levels
        (bids at or above the cut, asks at or below it) so that best bid < best ask; ties are
        broken by removing less size. For a full-snapshot feed with stale levels stuck on one
        side (the GoQuant relay), this removes exactly the stuck levels.
        """
        if not self.crossed:
            return (0, 0)
        bkeys = self._bkeys[::-1]  # best first
        akeys = self._akeys[::-1]
        bids = [self._bids[k][0] for k in bkeys]  # descending prices
        asks = [self._asks[k][0] for k in akeys]  # ascending prices
        bsz = [self._bids[k][1] for k in bkeys]
        asz = [self._asks[k][1] for k in akeys]
        # remove the top i bids and the top j asks; need bids[i] < asks[j] (or a side empty)
        best: tuple[int, float, int, int] | None = None
        for i in range(len(bids) + 1):
            j = bisect_right(asks, bids[i]) if i < len(bids) else 0
            cost = (i + j, sum(bsz[:i]) + sum(asz[:j]))
            if best is None or cost < best[:2]:
                best = (cost[0], cost[1], i, j)
        assert best is not None
        _, _, nb, na = best
        for k in bkeys[:nb]:
            del self._bids[k]
        for k in akeys[:na]:
            del self._asks[k]
        del self._bkeys[len(self._bkeys) - nb:]
        del self._akeys[len(self._akeys) - na:]
        self._band = _no_band()
        return (nb, na)

    # -- top of book --------------------------------------------------------------------
    @property
    def best_bid(self) -> float:
        """Best bid price, NaN when the side is empty."""
        return self._bids[self._bkeys[-1]][0] if self._bkeys else math.nan

    @property
    def best_ask(self) -> float:
        return self._asks[self._akeys[-1]][0] if self._akeys else math.nan

    @property
    def best_bid_size(self) -> float:
        return self._bids[self._bkeys[-1]][1] if self._bkeys else math.nan

    @property
    def best_ask_size(self) -> float:
        return self._asks[self._akeys[-1]][1] if self._akeys else math.nan

    @property
    def mid(self) -> float:
        bk = self._bkeys
        ak = self._akeys
        if bk and ak:  # read on every tick by the features and the estimate: inlined
            return 0.5 * (self._bids[bk[-1]][0] + self._asks[ak[-1]][0])
        return math.nan

    @property
    def spread(self) -> float:
        bk = self._bkeys
        ak = self._akeys
        if bk and ak:
            return self._asks[ak[-1]][0] - self._bids[bk[-1]][0]
        return math.nan

    @property
    def spread_bps(self) -> float:
        return 1e4 * self.spread / self.mid

    @property
    def microprice(self) -> float:
        """Size-weighted mid: ``(P_b Q_a + P_a Q_b) / (Q_a + Q_b)``."""
        if not (self._bkeys and self._akeys):
            return math.nan
        pb, qb = self._bids[self._bkeys[-1]][:2]
        pa, qa = self._asks[self._akeys[-1]][:2]
        return (pb * qa + pa * qb) / (qa + qb)

    @property
    def crossed(self) -> bool:
        """Best bid >= best ask (locked books count as crossed: no valid spread)."""
        return bool(self._bkeys and self._akeys and self._bkeys[-1] + self._akeys[-1] >= 0)

    @property
    def locked(self) -> bool:
        return bool(self._bkeys and self._akeys and self._bkeys[-1] + self._akeys[-1] == 0)

    @property
    def valid(self) -> bool:
        """Fresh (not stale), both sides present, and not crossed or locked."""
        return (not self.stale and bool(self._bkeys) and bool(self._akeys)
                and self._bkeys[-1] + self._akeys[-1] < 0)

    def __len__(self) -> int:
        return len(self._bkeys) + len(self._akeys)

    @property
    def n_bids(self) -> int:
        return len(self._bkeys)

    @property
    def n_asks(self) -> int:
        return len(self._akeys)

    # -- views --------------------------------------------------------------------------
    def _side(self, side: BookSide) -> tuple[dict[int, _LevelT], list[int]]:
        if side == "bid":
            return self._bids, self._bkeys
        if side == "ask":
            return self._asks, self._akeys
        raise ValueError(f"side={side!r} is not one of 'bid', 'ask'")

    def levels(self, side: BookSide, n: int | None = None) -> list[tuple[float, float]]:
        """Best-first ``(price, size)`` of up to ``n`` levels (all when None)."""
        d, keys = self._side(side)
        return [d[k][:2] for k in _best(keys, n)]  # type: ignore[misc]

    def level_strings(self, side: BookSide, n: int) -> list[tuple[str, str]]:
        """Best-first venue strings ``(price_str, size_str)`` of up to ``n`` levels."""
        d, keys = self._side(side)
        return [d[k][2:4] for k in _best(keys, n)]  # type: ignore[misc]

    def checksum_string(self, n: int) -> str:
        """``"bid1px:bid1sz:ask1px:ask1sz:..."`` over the best ``n`` levels a side, from the
        venue's exact strings, sides interleaved bid first; where one side is shorter the
        other's remaining levels follow alone (the OKX v5 checksum layout). Every field is
        joined by ``":"``, so this is the levels' price and size strings, interleaved, and
        one join."""
        bd = self._bids
        ad = self._asks
        bl = [bd[k] for k in _best(self._bkeys, n)]
        al = [ad[k] for k in _best(self._akeys, n)]
        m = min(len(bl), len(al))
        parts: list[str] = []
        for x, y in zip(bl, al):
            parts += (x[2], x[3], y[2], y[3])
        for x in bl[m:]:
            parts += (x[2], x[3])
        for x in al[m:]:
            parts += (x[2], x[3])
        return ":".join(parts)

    def top(self, n: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(bid_px, bid_sz, ask_px, ask_sz)`` of the best ``n`` levels as float64 arrays."""
        b = self.levels("bid", n)
        a = self.levels("ask", n)
        bp = np.array([x[0] for x in b], dtype=np.float64)
        bs = np.array([x[1] for x in b], dtype=np.float64)
        ap = np.array([x[0] for x in a], dtype=np.float64)
        as_ = np.array([x[1] for x in a], dtype=np.float64)
        return bp, bs, ap, as_

    def depth(self, side: BookSide, levels: int = 10) -> float:
        """Total size (venue units) of the best ``levels`` levels of a side."""
        d, keys = self._side(side)
        return sum([d[k][1] for k in _best(keys, levels)])

    def depth_within_bps(self, side: BookSide, bps: float) -> float:
        """Total size (venue units) of the levels priced within ``bps`` of the mid on a side:
        bids at or above ``mid (1 - bps/1e4)``, asks at or below ``mid (1 + bps/1e4)``.

        The cost features call this on every tick, so the band of the last ``bps`` asked is
        tracked: :meth:`apply_delta` adds each in-band size change to its running sum, and a
        moved mid only adds or takes off the levels between the old and the new edge. A full
        re-sum happens after a snapshot, for another ``bps``, and every 1,000 uses (float drift).
        """
        if not (math.isfinite(bps) and bps >= 0):
            raise ValueError(f"bps={bps!r} must be a finite number >= 0")
        mid = self.mid
        if math.isnan(mid):
            return 0.0
        if side == "bid":
            return self._band_depth(0, self._bids, self._bkeys, mid, bps)
        if side == "ask":
            return self._band_depth(3, self._asks, self._akeys, mid, bps)
        raise ValueError(f"side={side!r} is not one of 'bid', 'ask'")

    def _band_depth(self, i: int, d: dict[int, _LevelT], keys: list[int], mid: float,
                    bps: float) -> float:
        """:meth:`depth_within_bps` of the side at ``self._band[i]`` (0 bids, 3 asks)."""
        # keys at or above lim are the levels in the band (bids: tick >= the bid edge; asks:
        # -tick >= -(ask edge))
        if i == 0:
            lim = math.ceil(mid * (1 - bps / 1e4) * self._scale - 1e-6)
        else:
            lim = -math.floor(mid * (1 + bps / 1e4) * self._scale + 1e-6)
        band = self._band
        old_lim = band[i]
        if lim == old_lim and band[i + 2] == bps and band[6] < _BAND_RESUM:
            tot = band[i + 1]  # same edge: the running sum is the answer
            band[6] += 1
            return tot if tot > 0.0 else 0.0
        start = bisect_left(keys, lim)  # keys[start:] are the levels in the band
        if band[i + 2] == bps and old_lim != _NO_BAND and band[6] < _BAND_RESUM:
            tot = band[i + 1]
            old_start = bisect_left(keys, old_lim)
            if start < old_start:
                tot += sum([d[k][1] for k in reversed(keys[start:old_start])])
            elif start > old_start:
                tot -= sum([d[k][1] for k in reversed(keys[old_start:start])])
            band[6] += 1
        else:
            tot = sum([d[k][1] for k in reversed(keys[start:])])  # best first, as before
            band[i + 2] = bps
            band[6] = 0
        band[i] = lim
        band[i + 1] = tot
        return tot if tot > 0.0 else 0.0

    def tick_values(self, bps: float, levels: int = 5) -> tuple[float, float, float, float,
                                                                float, float, float, float]:
        """The book's per-tick feature inputs in one call (the cost features' hot path).

        Returns ``(best_bid, best_bid_size, best_ask, best_ask_size, depth_within_bps("bid",
        bps), depth_within_bps("ask", bps), depth("bid", levels), depth("ask", levels))``;
        the first six NaN when a side is empty. ``bps`` (>= 0) and ``levels`` (>= 1) are not
        validated here; sums run best first, as in :meth:`depth` and :meth:`depth_within_bps`.
        """
        bk = self._bkeys
        ak = self._akeys
        bd = self._bids
        ad = self._asks
        if not (bk and ak):
            nan = math.nan
            return (nan, nan, nan, nan, nan, nan, sum([bd[k][1] for k in bk[:-levels - 1:-1]]),
                    sum([ad[k][1] for k in ak[:-levels - 1:-1]]))
        b = bd[bk[-1]]
        a = ad[ak[-1]]
        mid = 0.5 * (b[0] + a[0])
        return (b[0], b[1], a[0], a[1], self._band_depth(0, bd, bk, mid, bps),
                self._band_depth(3, ad, ak, mid, bps),
                sum([bd[k][1] for k in bk[:-levels - 1:-1]]),
                sum([ad[k][1] for k in ak[:-levels - 1:-1]]))

    def imbalance(self, levels: int = 5) -> float:
        """``(Q_bid - Q_ask) / (Q_bid + Q_ask)`` over the best ``levels`` levels, in [-1, 1]."""
        qb = self.depth("bid", levels)
        qa = self.depth("ask", levels)
        tot = qb + qa
        return (qb - qa) / tot if tot > 0 else 0.0

    def snapshot_levels(self, n: int | None = None) -> tuple[list[tuple[float, float]],
                                                             list[tuple[float, float]]]:
        """``(bids, asks)`` best-first ``(price, size)`` lists, for comparisons and plots."""
        return self.levels("bid", n), self.levels("ask", n)

    # -- walk the book ------------------------------------------------------------------
    def walk(self, side: OrderSide, amount: float, unit: SizeUnit = "base") -> Fill:
        r"""Fill a market order of ``amount`` (in ``unit``) against the book.

        ``side="buy"`` consumes asks, ``"sell"`` consumes bids. ``unit`` is ``"base"``
        (base currency), ``"contracts"`` (venue size units) or ``"usd"`` (quote notional).
        Without an instrument, venue size units are taken as base units.

        Notes
        -----
        With :math:`c` the contract size (1 for venues sized in base), a level of size
        :math:`s` at price :math:`p` holds :math:`b = c\,s` base and :math:`q = c\,s\,p` quote
        on a linear instrument, :math:`b = c\,s/p` and :math:`q = c\,s` on an inverse one.
        Levels are taken best first until the order's amount is reached, the last one in part.
        """
        if side == "buy":
            d, keys, sgn = self._asks, self._akeys, 1.0
        elif side == "sell":
            d, keys, sgn = self._bids, self._bkeys, -1.0
        else:
            raise ValueError(f"side={side!r} is not one of 'buy', 'sell'")
        if unit != "usd" and unit != "base" and unit != "contracts":
            raise ValueError(f"unit={unit!r} is not one of 'base', 'contracts', 'usd'")
        if not (isinstance(amount, (int, float)) and math.isfinite(amount) and amount >= 0):
            raise ValueError(f"amount={amount!r} must be a finite number >= 0")
        amount = float(amount)
        mid = self.mid
        if not keys:
            return Fill(side, amount, unit, 0.0, 0.0, 0.0, math.nan, 0, amount, mid, math.nan,
                        math.nan, math.nan, math.nan, math.nan, math.nan)
        inst = self.instrument
        c = 1.0
        inverse = False
        if inst is not None and inst.sized_in_contracts:
            c = inst.contract_size
            inverse = inst.contract_type != "linear"
        # The walk measures the order in one metric per level: s (contracts; base on a linear
        # instrument; usd on an inverse one), s*p (usd, linear) or s/p (base, inverse), with
        # the amount divided by c where the unit is base or usd.
        if unit == "contracts":
            mode = 0
            rem = amount
            scale = 1.0
        else:
            mode = (2 if inverse else 0) if unit == "base" else (0 if inverse else 1)
            rem = amount / c
            scale = c
        tol = 1e-12 * max(1.0, amount) / scale
        ssum = 0.0  # sum of s
        psum = 0.0  # sum of s*p (linear) or s/p (inverse)
        n = 0
        last = math.nan
        for k in reversed(keys):
            lv = d[k]
            p = lv[0]
            s = lv[1]
            m = s if mode == 0 else (s * p if mode == 1 else s / p)
            n += 1
            if m >= rem - tol:  # the last level, taken in part (or exactly)
                if m > rem:
                    s *= rem / m
                ssum += s
                psum += s / p if inverse else s * p
                rem = 0.0
                last = p
                break
            rem -= m
            ssum += s
            psum += s / p if inverse else s * p
        else:
            last = p
        if inverse:
            base = c * psum
            notional = c * ssum
        else:
            base = c * ssum
            notional = c * psum
        touch = d[keys[-1]][0]
        vwap = notional / base if base > 0 else math.nan
        if mid != mid:  # NaN
            slip = half = depth_c = math.nan
        else:
            slip = sgn * (vwap - mid) / mid * 1e4
            half = sgn * (touch - mid) / mid * 1e4
            depth_c = sgn * (vwap - touch) / mid * 1e4
        slip_t = sgn * (vwap - touch) / touch * 1e4
        return Fill(side, amount, unit, ssum, base, notional, vwap, n, rem * scale, mid, touch,
                    last, slip, slip_t, half, depth_c)

    def __repr__(self) -> str:
        state = "stale" if self.stale else ("crossed" if self.crossed else "valid")
        return (f"OrderBook({self.venue}:{self.symbol} {state} bid={self.best_bid} "
                f"ask={self.best_ask} levels={self.n_bids}/{self.n_asks})")


def _best(keys: list[int], n: int | None) -> list[int]:
    """The best ``n`` keys of a side's worst-first key list, best first (all when None)."""
    if n is None:
        return keys[::-1]
    if n >= 0:
        return keys[:-n - 1:-1]
    return keys[::-1][:n]  # a negative n: all but the worst -n, as a best-first slice would


def book_from_levels(bids: Sequence[tuple[float, float]], asks: Sequence[tuple[float, float]],
                     instrument: Instrument | None = None) -> OrderBook:
    """Build a valid book from float ``(price, size)`` pairs (tests, synthetic markets)."""
    ob = OrderBook(instrument)
    ob.apply_snapshot([(repr(float(p)), repr(float(s))) for p, s in bids],
                      [(repr(float(p)), repr(float(s))) for p, s in asks])
    return ob
