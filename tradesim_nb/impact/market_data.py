"""Public market data on a regular time grid, from a recording or from the synthetic market.

:class:`MarketSeries` holds, per sample, the mid, the aggressor-signed and unsigned traded
volume since the previous sample, the cost of walking the book for a few sizes and the depth
near the mid: what :func:`~tradesim_nb.impact.fit.fit_market_data` fits impact from.
:func:`market_series_from_recording` replays a recording through a venue feed
(``feed.on_frame``); :func:`market_series_from_synthetic` runs a
:class:`~tradesim_nb.market.SyntheticMarket` event by event.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._progress import progress as _progress

__all__ = ["MarketSampler", "MarketSeries", "concat_series", "market_series_from_recording",
           "market_series_from_synthetic"]


@dataclass(frozen=True, slots=True)
class MarketSeries:
    """Public data on a regular time grid (columnar numpy arrays).

    Attributes
    ----------
    t_s : ndarray, shape (n,)
        Sample times, seconds (or the market's time unit) from the start.
    mid : ndarray, shape (n,)
        Mid price at each sample.
    signed_volume : ndarray, shape (n,)
        Aggressor-signed traded volume (base) in :math:`(t_{i-1}, t_i]`.
    volume : ndarray, shape (n,)
        Unsigned traded volume in the same interval.
    sizes : ndarray, shape (m,)
        The walk sizes (base units).
    walk_cost : ndarray, shape (n, m)
        Cost per unit against the mid (price units), averaged over both sides.
    depth : ndarray, shape (n,)
        Depth (base units, both sides) within ``depth_bps`` of the mid.
    dt_s : float
        The grid step.
    source : str
        ``"venue:symbol"`` of a recording, ``"synthetic"`` for the synthetic market.
    time_unit_s : float
        Seconds per time unit of ``t_s`` and ``dt_s`` (1 for recordings; the market's
        ``time_unit_s`` for the synthetic market).
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
    time_unit_s: float = 1.0

    def __len__(self) -> int:
        return int(self.t_s.size)

    def slice(self, start: int, stop: int) -> MarketSeries:
        """Samples ``[start, stop)``."""
        sl = slice(start, stop)
        return MarketSeries(self.t_s[sl], self.mid[sl], self.signed_volume[sl],
                            self.volume[sl], self.sizes, self.walk_cost[sl], self.depth[sl],
                            self.dt_s, self.source, self.time_unit_s)


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


def _side_within(book: Any, side: str, edge: float) -> float:
    """Size of ``side``'s levels at or better than ``edge``, read best first through the
    book's public level list (doubling the levels read until one falls outside)."""
    n = 64
    while True:
        lv = book.levels(side, n)
        tot = 0.0
        for px, sz in lv:
            if (px < edge) if side == "bid" else (px > edge):
                return tot
            tot += sz
        if len(lv) < n:
            return tot
        n *= 4


def _depth_within(book: Any, bps: float) -> float:
    """Both sides' size within ``bps`` of the mid. Summed afresh from the levels, without the
    book's tracked band (:meth:`~tradesim_nb.book.OrderBook.depth_within_bps`), which stays
    the cost features' 10 bps: sampling beside them (``tradesim fit``'s single pass) then
    leaves their running sums exactly as in a replay without it."""
    mid = book.mid
    if not mid > 0:
        return 0.0
    tol = 1e-12 * mid
    return float(_side_within(book, "bid", mid * (1 - bps / 1e4) - tol)
                 + _side_within(book, "ask", mid * (1 + bps / 1e4) + tol))


class MarketSampler:
    """Samples one instrument's public data every ``dt_s`` seconds of receive time, frame by
    frame: what :func:`market_series_from_recording` does to a whole recording, usable inside
    any replay loop (``tradesim fit`` builds it beside the labelled decisions, in one pass).

    The clock starts at the first valid book of ``symbol``. On each frame that changes that
    book, every grid point passed is sampled: the mid, the signed trade volume (aggressor side,
    base units) since the previous sample, the walk-cost curve over ``sizes`` and the depth
    within ``depth_bps``.

    Parameters
    ----------
    symbol : str
    dt_s : float
        The grid step, seconds (> 0).
    sizes : sequence of float, optional
        Walk sizes, base units (at least 2, each > 0; default 0.05 .. 5, log-spaced).
    depth_bps : float
        Band of the depth figure, bps.
    source : str
        The series' label (``"venue:symbol"``).
    """

    def __init__(self, symbol: str, dt_s: float = 1.0, sizes: Sequence[float] | None = None,
                 depth_bps: float = 5.0, source: str = "") -> None:
        if not (math.isfinite(dt_s) and dt_s > 0):
            raise ValueError(f"dt_s={dt_s!r} must be a finite number > 0")
        sz = np.asarray(sizes if sizes is not None else np.geomspace(0.05, 5.0, 12), dtype=float)
        if sz.ndim != 1 or sz.size < 2 or np.any(sz <= 0):
            raise ValueError(f"sizes={sizes!r} must hold at least 2 sizes > 0")
        self.symbol = symbol
        self.dt_s = float(dt_s)
        self.sizes = sz
        self.depth_bps = float(depth_bps)
        self.source = source
        self._step = round(dt_s * 1e9)
        #: receive time of the first sample (None before the book is valid)
        self.t0_ns: int | None = None
        self._t_next = 0
        self._sv = 0.0
        self._v = 0.0
        self._rows: list[tuple[float, float, float, float, float]] = []
        self._walks: list[np.ndarray] = []

    def __len__(self) -> int:
        return len(self._rows)

    def update(self, recv_ns: int, events: Sequence[Any], feed: Any) -> None:
        """Consume one applied frame of ``feed`` (its events, as the feed returned them)."""
        from ..events import BookDelta, BookSnapshot, Trade

        sym = self.symbol
        for ev in events:
            te = type(ev)
            if te is Trade and ev.symbol == sym:
                if self.t0_ns is not None:
                    inst = feed.books[sym].instrument
                    q = float(ev.qty) if inst is None else inst.to_base(ev.qty, ev.price)
                    self._sv += q if ev.side == "buy" else -q
                    self._v += q
            elif (te is BookDelta or te is BookSnapshot) and ev.symbol == sym:
                book = feed.books[sym]
                if not book.valid:
                    continue
                if self.t0_ns is None:
                    self.t0_ns = recv_ns
                    self._t_next = recv_ns
                while recv_ns >= self._t_next:
                    self._rows.append(((self._t_next - self.t0_ns) / 1e9, book.mid, self._sv,
                                       self._v, _depth_within(book, self.depth_bps)))
                    self._walks.append(_book_walk_row(book, self.sizes))
                    self._sv = self._v = 0.0
                    self._t_next += self._step

    def series(self, min_samples: int = 10) -> MarketSeries:
        """The samples so far; ValueError with fewer than ``min_samples``."""
        if len(self._rows) < min_samples:
            raise ValueError(f"the data gave {len(self._rows)} samples of {self.symbol} at "
                             f"dt_s={self.dt_s:g}; at least {min_samples} are needed")
        a = np.array(self._rows)
        return MarketSeries(a[:, 0], a[:, 1], a[:, 2], a[:, 3], self.sizes,
                            np.array(self._walks), a[:, 4], self.dt_s, self.source)


def concat_series(parts: Sequence[MarketSeries], starts_ns: Sequence[int]) -> MarketSeries:
    """Series of consecutive stretches of data as one (``t_s`` counted from the first
    stretch's start; ``starts_ns`` is each stretch's first-sample receive time)."""
    if not parts:
        raise ValueError("parts=[] must hold at least one series")
    first = parts[0]
    for p in parts[1:]:
        if p.dt_s != first.dt_s or not np.array_equal(p.sizes, first.sizes):
            raise ValueError("series to join must share dt_s and walk sizes")
    t0 = starts_ns[0]
    t_s = np.concatenate([p.t_s + (s - t0) / 1e9 for p, s in zip(parts, starts_ns)])
    return MarketSeries(t_s, np.concatenate([p.mid for p in parts]),
                        np.concatenate([p.signed_volume for p in parts]),
                        np.concatenate([p.volume for p in parts]), first.sizes,
                        np.concatenate([p.walk_cost for p in parts]),
                        np.concatenate([p.depth for p in parts]), first.dt_s, first.source,
                        first.time_unit_s)


def market_series_from_recording(paths: Sequence[str | Path], venue: str = "binance",
                                 symbol: str = "BTCUSDT", *, dt_s: float = 1.0,
                                 sizes: Sequence[float] | None = None, depth_bps: float = 5.0,
                                 progress: bool = False) -> MarketSeries:
    """Replay a recording through the venue parser and sample it every ``dt_s`` seconds.

    The clock is the receive time. Each sample holds the mid, the signed trade volume
    (aggressor side, base units) since the previous sample, the walk-cost curve over
    ``sizes`` (default 0.05 .. 5 base units, log-spaced) and the depth within ``depth_bps``
    (:class:`MarketSampler`).

    Parameters
    ----------
    paths : sequence of path
        Recording files that continue each other.
    venue : str
        The venue whose feed parses the frames.
    symbol : str
        The instrument sampled.
    dt_s : float
        The grid step, seconds (> 0).
    sizes : sequence of float, optional
        Walk sizes, base units (at least 2, each > 0).
    depth_bps : float
        Band of the depth figure, bps.
    progress : bool
        A tqdm bar over the frames.
    """
    from ..recording import read_frames
    from ..venues import get_feed

    sampler = MarketSampler(symbol, dt_s, sizes, depth_bps, f"{venue}:{symbol}")
    feed = get_feed(venue)
    frames = read_frames(*[Path(p) for p in paths])
    for recv_ns, events, _ in feed.replay(_progress(frames, progress, "replay")):
        sampler.update(recv_ns, events, feed)
    if len(sampler) < 10:
        raise ValueError(f"the recording gave {len(sampler)} samples of {symbol} at "
                         f"dt_s={dt_s}; at least 10 are needed")
    return sampler.series()


def market_series_from_synthetic(market: Any, n_samples: int, *, steps_per_sample: int = 1,
                                 sizes: Sequence[float] | None = None, depth_bps: float = 5.0,
                                 progress: bool = False) -> MarketSeries:
    """Run a :class:`~tradesim_nb.market.SyntheticMarket` event by event and sample its public
    data like a recording (time in the market's unit).

    Parameters
    ----------
    market : SyntheticMarket
    n_samples : int
        Samples (>= 10).
    steps_per_sample : int
        Background events between samples.
    sizes : sequence of float, optional
        Walk sizes, base units (default 1 .. 40 levels).
    depth_bps : float
        Band of the depth figure, bps.
    progress : bool
        A tqdm bar.
    """
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
                        dt, "synthetic", float(p.time_unit_s))
