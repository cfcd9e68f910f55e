"""Labelled data sets for the cost models, built from any recording, venue and symbol.

A recording is replayed once through a venue feed (``feed.on_frame``); decisions are sampled
on a fixed clock and each one is labelled for the slippage model (a market order sent at
``t`` filled against the book at ``t + latency``, cost measured against the mid at ``t``) and
for the maker/taker model (a limit order joining the back of the touch queue at ``t``; see
:mod:`tradesim_nb.costs.maker_taker`). The market features at each decision are those of the
per-tick path (:class:`~tradesim_nb.features.FeatureState`).

Entry points, from the most to the least general:

* :func:`dataset_from_recording` — frames and a feed you built;
* :func:`dataset_from_frames` — frames and a venue name (or feed);
* :func:`dataset_from_files` — recording files and a venue name;
* :func:`load_binance_dataset` — the shipped Binance BTCUSDT recording (cached), what the
  simulator's default models are trained on.
"""

from __future__ import annotations

import functools
import logging
import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .events import Trade
from .features import MID, FeatureState, Side, _check_side, maker_matrix, slippage_matrix

if TYPE_CHECKING:  # pragma: no cover
    from .book import OrderBook
    from .feed import VenueFeed

__all__ = [
    "DatasetConfig",
    "RecordingDataset",
    "dataset_from_files",
    "dataset_from_frames",
    "dataset_from_recording",
    "load_binance_dataset",
    "passive_fill_fraction",
]

log = logging.getLogger(__name__)

_SIDES: tuple[Side, Side] = ("buy", "sell")

@dataclass(frozen=True, slots=True)
class DatasetConfig:
    """How :func:`dataset_from_recording` samples and labels decisions.

    Parameters
    ----------
    sizes_usd : tuple of float
        Order notionals labelled at every decision time (each > 0).
    latency_ms : float
        Delay between the decision and the fill of a market order (>= 0).
    horizon_s : float
        How long a passive order rests before the rest crosses (> 0).
    sample_every_ms : float
        Decision clock (> 0).
    warmup_s : float
        No decisions during the first ``warmup_s`` after the book becomes valid (>= 0), so
        the volatility and flow estimators have history.
    """

    sizes_usd: tuple[float, ...] = (1e3, 3e3, 1e4, 3e4, 1e5, 3e5, 1e6)
    latency_ms: float = 100.0
    horizon_s: float = 10.0
    sample_every_ms: float = 250.0
    warmup_s: float = 10.0

    def __post_init__(self) -> None:
        if not self.sizes_usd or not all(math.isfinite(x) and x > 0 for x in self.sizes_usd):
            raise ValueError(f"sizes_usd={self.sizes_usd!r} must be non-empty, each > 0")
        for name, lo, strict in (("latency_ms", 0.0, False), ("horizon_s", 0.0, True),
                                 ("sample_every_ms", 0.0, True), ("warmup_s", 0.0, False)):
            v = getattr(self, name)
            ok = math.isfinite(v) and (v > lo if strict else v >= lo)
            if not ok:
                raise ValueError(f"{name}={v!r} must be a finite number {'>' if strict else '>='} {lo}")


@dataclass(frozen=True)
class RecordingDataset:
    """Decisions sampled from one replay, all columnar.

    Attributes
    ----------
    t_ns : (n,) int64
        Decision times (receive clock).
    market : (n, len(MARKET_FEATURES)) float64
        Market features at each decision.
    sizes_usd : (k,) float64
    walk_bps : (n, k, 2) float64
        Exact walk-the-book slippage on the book at ``t`` (side index 0 = buy, 1 = sell).
    realised_bps : (n, k, 2) float64
        Slippage of the same order filled on the book at ``t + latency`` against the mid at
        ``t``; NaN where the book could not fill it or the recording ended first.
    passive_frac : (n, k, 2) float64
        Share of a limit order at the own touch filled within ``horizon_s``; NaN where the
        recording ended first.
    trades : dict of (m,) arrays
        ``t_ns``, ``price``, ``qty_base``, ``sign`` of every trade seen.
    config : DatasetConfig
    """

    t_ns: np.ndarray
    market: np.ndarray
    sizes_usd: np.ndarray
    walk_bps: np.ndarray
    realised_bps: np.ndarray
    passive_frac: np.ndarray
    trades: dict[str, np.ndarray]
    config: DatasetConfig
    source: str = ""
    frames: int = 0
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.t_ns.shape[0])

    def split_index(self, train_frac: float = 0.7, purge_s: float = 0.0) -> tuple[int, int]:
        """``(train_end, test_start)`` decision indices of a time-ordered split.

        Decisions ``[0, train_end)`` train, ``[test_start, n)`` test; ``test_start`` skips
        the decisions whose label window overlaps the training labels (``purge_s``).
        """
        if not (0.0 < train_frac < 1.0):
            raise ValueError(f"train_frac={train_frac!r} must be in (0, 1)")
        if not (math.isfinite(purge_s) and purge_s >= 0):
            raise ValueError(f"purge_s={purge_s!r} must be a finite number >= 0")
        end = round(self.n * train_frac)
        if end <= 0 or end >= self.n:
            raise ValueError(f"train_frac={train_frac!r} leaves an empty train or test set")
        t_cut = self.t_ns[end - 1] + int(purge_s * 1e9)
        start = int(np.searchsorted(self.t_ns, t_cut, side="right"))
        return end, min(start, self.n)

    def _long(self, rows: slice) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        n = self.t_ns[rows].shape[0]
        k = self.sizes_usd.shape[0]
        idx = np.repeat(np.arange(n), k * 2)
        size = np.tile(np.repeat(self.sizes_usd, 2), n)
        side = np.tile(np.array([1.0, -1.0]), n * k)
        return idx, size, side, np.arange(n * k * 2)

    def slippage_table(self, rows: slice = slice(None)) -> tuple[np.ndarray, np.ndarray,
                                                                 np.ndarray]:
        """``(X, y, t_ns)`` in long format: one row per (decision, size, side), NaN labels dropped."""
        idx, size, side, _ = self._long(rows)
        market = self.market[rows][idx]
        walk = self.walk_bps[rows].reshape(-1)
        y = self.realised_bps[rows].reshape(-1)
        X = slippage_matrix(market, side, size, walk)
        ok = np.isfinite(y) & np.all(np.isfinite(X), axis=1)
        return X[ok], y[ok], self.t_ns[rows][idx][ok]

    def maker_table(self, rows: slice = slice(None)) -> tuple[np.ndarray, np.ndarray,
                                                              np.ndarray]:
        """``(X, frac, t_ns)`` in long format, NaN labels dropped."""
        idx, size, side, _ = self._long(rows)
        market = self.market[rows][idx]
        y = self.passive_frac[rows].reshape(-1)
        X = maker_matrix(market, side, size)
        ok = np.isfinite(y) & np.all(np.isfinite(X), axis=1)
        return X[ok], y[ok], self.t_ns[rows][idx][ok]


def passive_fill_fraction(trade_t_ns: np.ndarray, trade_price: np.ndarray,
                          trade_qty_base: np.ndarray, trade_sign: np.ndarray, t0_ns: int,
                          t1_ns: int, side: str, limit_price: float, queue_ahead_base: float,
                          order_base: float) -> float:
    """Share of a limit order filled passively in ``(t0, t1]`` under a back-of-queue rule.

    A buy order rests at ``limit_price`` behind ``queue_ahead_base`` of earlier orders. Sell
    aggressor volume at ``limit_price`` eats the queue first; any trade strictly through the
    price (a sell below a buy limit) means the whole level was consumed and the order filled:

    .. math::

        f = \\begin{cases} 1 & \\text{a trade through the price}\\\\
        \\operatorname{clip}\\big((V_{at} - Q_{ahead}) / q, 0, 1\\big) & \\text{otherwise}
        \\end{cases}

    Cancellations ahead of the order are ignored (the queue only shrinks by trades), so
    ``f`` is a conservative (low) estimate.
    """
    s = _check_side(side)
    if not (order_base > 0):
        raise ValueError(f"order_base={order_base!r} must be > 0")
    a = int(np.searchsorted(trade_t_ns, t0_ns, side="right"))
    b = int(np.searchsorted(trade_t_ns, t1_ns, side="right"))
    if b <= a:
        return 0.0
    sg = trade_sign[a:b]
    px = trade_price[a:b]
    hit = sg == -s  # the other side's aggressors trade against resting orders on our side
    if not hit.any():
        return 0.0
    px = px[hit]
    through = px < limit_price if s > 0 else px > limit_price
    if through.any():
        return 1.0
    at = float(trade_qty_base[a:b][hit][px == limit_price].sum())
    return float(min(max((at - queue_ahead_base) / order_base, 0.0), 1.0))


class _Labeller:
    """The replay loop of :func:`dataset_from_recording`, one frame at a time.

    :meth:`before` is called just before each frame is applied (it labels the market orders
    that are due), :meth:`frame` after it (features, trades, decisions); :meth:`head_frame`
    instead of :meth:`frame` for frames that follow the data set's own (the next file of a
    ``tradesim fit``), which only finish the labels of decisions already taken.
    """

    def __init__(self, feed: Any, symbol: str, cfg: DatasetConfig, sampler: Any = None
                 ) -> None:
        self.feed = feed
        self.symbol = symbol
        self.cfg = cfg
        self.sampler = sampler
        self.sizes = np.asarray(cfg.sizes_usd, dtype=np.float64)
        self.k = self.sizes.shape[0]
        self.lat_ns = int(cfg.latency_ms * 1e6)
        self.every_ns = int(cfg.sample_every_ms * 1e6)
        self.warm_ns = int(cfg.warmup_s * 1e9)
        self.h_ns = int(cfg.horizon_s * 1e9)
        self.state = FeatureState()
        self.t_list: list[int] = []
        self.rows: list[list[float]] = []
        self.walks: list[np.ndarray] = []
        self.realised: list[np.ndarray] = []
        self.touch: list[tuple[float, float, float, float]] = []  # bid px, base, ask px, base
        self.pending: deque[tuple[int, int, float, np.ndarray]] = deque()  # i, due, mid, qty
        self.tr_t: list[int] = []
        self.tr_p: list[float] = []
        self.tr_q: list[float] = []
        self.tr_s: list[float] = []
        self.next_ns = 0
        self.nframes = 0
        self.first_ns = 0
        self.last_ns = 0
        self.book: OrderBook | None = None
        #: trades of the data set's own frames (the rest came from :meth:`head_frame`)
        self.own_trades = 0
        #: receive time of the last of the data set's own frames (0: not closed yet)
        self.own_last_ns = 0

    def before(self, recv_ns: int) -> None:
        """Label the orders due by ``recv_ns`` on the book as it stood when that frame came."""
        b = self.feed.books.get(self.symbol)
        if b is None:
            return
        pending = self.pending
        sizes = self.sizes
        k = self.k
        while pending and pending[0][1] <= recv_ns:
            i, _, mid0, _ = pending.popleft()
            out = self.realised[i]
            if b.valid:
                for j in range(k):
                    for si, side in enumerate(_SIDES):
                        f = b.walk(side, float(sizes[j]), "usd")
                        if f.complete and f.filled_base > 0:
                            sg = 1.0 if si == 0 else -1.0
                            out[j, si] = sg * (f.vwap - mid0) / mid0 * 1e4

    def _trades(self, events: Sequence[Any], recv_ns: int, inst: Any) -> None:
        symbol = self.symbol
        for ev in events:
            if type(ev) is Trade and ev.symbol == symbol:
                q = ev.qty if inst is None else inst.to_base(ev.qty, ev.price)
                self.tr_t.append(recv_ns)
                self.tr_p.append(ev.price)
                self.tr_q.append(q)
                self.tr_s.append(1.0 if ev.side == "buy" else -1.0)

    def frame(self, recv_ns: int, events: Sequence[Any]) -> None:
        """One applied frame of the data set's own data."""
        self.nframes += 1
        if not self.first_ns:
            self.first_ns = recv_ns
        self.last_ns = recv_ns
        symbol = self.symbol
        if self.sampler is not None:
            self.sampler.update(recv_ns, events, self.feed)
        book = self.book
        if book is None:
            book = self.book = self.feed.books.get(symbol)
            if book is None:
                return
        inst = book.instrument
        self._trades(events, recv_ns, inst)
        self.own_trades = len(self.tr_t)
        self.state.update(book, [e for e in events if getattr(e, "symbol", symbol) == symbol],
                          recv_ns)
        if not book.valid:
            return
        if self.next_ns == 0:
            self.next_ns = recv_ns + self.warm_ns
        if recv_ns < self.next_ns:
            return
        while self.next_ns <= recv_ns:
            self.next_ns += self.every_ns
        row = self.state.market_row(book, recv_ns)
        k = self.k
        sizes = self.sizes
        w = np.full((k, 2), np.nan)
        for j in range(k):
            for si, side in enumerate(_SIDES):
                f = book.walk(side, float(sizes[j]), "usd")
                if f.complete:
                    w[j, si] = f.slippage_bps
        i = len(self.t_list)
        self.t_list.append(recv_ns)
        self.rows.append(row)
        self.walks.append(w)
        self.realised.append(np.full((k, 2), np.nan))
        bb, ba = book.best_bid, book.best_ask
        self.touch.append((bb, book.best_bid_size * (1.0 if inst is None else
                                                     inst.base_per_unit(bb)),
                           ba, book.best_ask_size * (1.0 if inst is None else
                                                     inst.base_per_unit(ba))))
        self.pending.append((i, recv_ns + self.lat_ns, row[MID], sizes))

    @property
    def label_horizon_ns(self) -> int:
        """How far past the last decision a label can reach (latency or passive horizon)."""
        return max(self.lat_ns, self.h_ns)

    def needs_more(self, recv_ns: int) -> bool:
        """Whether a following frame received at ``recv_ns`` may still change a label."""
        return bool(self.t_list) and recv_ns <= self.t_list[-1] + self.label_horizon_ns

    def head_frame(self, recv_ns: int, events: Sequence[Any]) -> None:
        """A frame after the data set's own ones: trades for the passive labels only."""
        self.last_ns = recv_ns
        book = self.book or self.feed.books.get(self.symbol)
        self._trades(events, recv_ns, None if book is None else book.instrument)

    def end_head(self, recv_ns: int) -> None:
        """The first following frame past every label's horizon: label what is due and stop
        (it is not applied; the data after it cannot change a label)."""
        self.before(recv_ns)
        self.last_ns = recv_ns

    def result(self, source: str) -> RecordingDataset:
        if not self.t_list:
            raise ValueError(f"no decisions sampled for symbol={self.symbol!r}: the book never "
                             "became valid (wrong symbol or feed?)")
        cfg = self.cfg
        sizes = self.sizes
        k = self.k
        t_list = self.t_list
        rows = self.rows
        t_ns = np.asarray(t_list, dtype=np.int64)
        tape = {"t_ns": np.asarray(self.tr_t, dtype=np.int64), "price": np.asarray(self.tr_p),
                "qty_base": np.asarray(self.tr_q), "sign": np.asarray(self.tr_s)}
        # passive labels, computed after the replay from the columnar trade tape
        h_ns = self.h_ns
        last_ns = self.last_ns
        passive = np.full((len(t_list), k, 2), np.nan)
        for i, t0 in enumerate(t_list):
            if t0 + h_ns > last_ns:
                break
            bb, qb, ba, qa = self.touch[i]
            mid = rows[i][MID]
            for j in range(k):
                q = sizes[j] / mid
                passive[i, j, 0] = passive_fill_fraction(
                    tape["t_ns"], tape["price"], tape["qty_base"], tape["sign"], t0,
                    t0 + h_ns, "buy", bb, qb, q)
                passive[i, j, 1] = passive_fill_fraction(
                    tape["t_ns"], tape["price"], tape["qty_base"], tape["sign"], t0,
                    t0 + h_ns, "sell", ba, qa, q)
        own = self.own_trades
        trades = {key: v[:own] for key, v in tape.items()}
        return RecordingDataset(
            t_ns=t_ns, market=np.asarray(rows, dtype=np.float64), sizes_usd=sizes,
            walk_bps=np.asarray(self.walks), realised_bps=np.asarray(self.realised),
            passive_frac=passive, trades=trades, config=cfg, source=source,
            frames=self.nframes, meta={"first_ns": self.first_ns,
                                       "last_ns": self.own_last_ns or self.last_ns})

    def close_own(self) -> None:
        """The data set's own frames are done (what follows only finishes labels)."""
        self.own_last_ns = self.last_ns


def dataset_from_recording(frames: Iterable[tuple[int, Any]], feed: Any, symbol: str,
                           config: DatasetConfig | None = None, source: str = "", *,
                           following: Iterable[tuple[int, Any]] | None = None,
                           sampler: Any = None) -> RecordingDataset:
    """Replay ``frames`` once through ``feed`` and build a labelled, columnar data set.

    Parameters
    ----------
    frames : iterable of (recv_ns, item)
        E.g. ``tradesim_nb.recording.read_frames(*tradesim_nb.datasets.binance_spot_files())``
        or any reader of :func:`tradesim_nb.formats.open_source` (an item is a raw frame or a
        list of events).
    feed : VenueFeed
        A fresh feed (``tradesim_nb.venues.get_feed("binance")``); ``feed.on_frame(frame,
        recv_ns)`` returns the events and keeps ``feed.books[symbol]`` correct.
    symbol : str
        The instrument whose book is sampled.
    config : DatasetConfig, optional
    source : str
        A label kept in :attr:`RecordingDataset.source`.
    following : iterable of (recv_ns, item), optional
        Data that follows ``frames`` (the next file). No decision is taken in it; it is
        replayed through the same feed only as far as the labels of the last decisions reach
        (latency and passive horizon), so no label is lost at the end of ``frames``.
    sampler : MarketSampler, optional
        Also fed every frame of ``frames`` (:class:`tradesim_nb.impact.market_data.
        MarketSampler`), so the impact fit's series comes from the same single pass.

    Notes
    -----
    Decisions are taken on a fixed clock every ``sample_every_ms`` (the first frame at or
    after each tick, features computed after that frame is applied). A market order decided
    at ``t`` is filled against the book as it stood at ``t + latency``: the labels are
    computed just before applying the first frame received after ``t + latency``.
    """
    from .formats import iter_events

    cfg = config or DatasetConfig()
    lab = _Labeller(feed, symbol, cfg, sampler)
    for recv_ns, events in iter_events(frames, feed, before=lab.before):
        lab.frame(recv_ns, events)
    lab.close_own()
    if following is not None and lab.t_list:
        it = iter(following)
        for recv_ns, item in it:
            if not lab.needs_more(recv_ns):
                lab.end_head(recv_ns)
                break
            for r, events in iter_events(((recv_ns, item),), feed, before=lab.before):
                lab.head_frame(r, events)
    return lab.result(source)


def dataset_from_frames(frames: Iterable[tuple[int, str | bytes]], venue: str | VenueFeed,
                        symbol: str, config: DatasetConfig | None = None, *,
                        source: str | None = None) -> RecordingDataset:
    """The labelled data set of ``symbol`` in ``frames`` of ``venue``.

    Parameters
    ----------
    frames : iterable of (recv_ns, frame)
        Raw frames with their receive times, e.g. ``tradesim_nb.recording.read_frames(path)``.
    venue : str or VenueFeed
        A venue name (``tradesim_nb.venues.get_feed(venue)`` parses the frames) or a fresh
        feed.
    symbol : str
        The instrument sampled.
    config : DatasetConfig, optional
    source : str, optional
        A label kept in :attr:`RecordingDataset.source` (default ``"venue:symbol"``).
    """
    if isinstance(venue, str):
        from .venues import get_feed

        feed: Any = get_feed(venue)
        name = venue
    else:
        feed = venue
        name = str(getattr(feed, "venue", "") or type(feed).__name__)
    return dataset_from_recording(frames, feed, symbol, config,
                                  source=f"{name}:{symbol}" if source is None else source)


def dataset_from_files(paths: Sequence[str | Path], venue: str, symbol: str,
                       config: DatasetConfig | None = None) -> RecordingDataset:
    """The labelled data set of ``symbol`` in the recording ``paths`` (files that continue
    each other, any format :func:`tradesim_nb.recording.read_frames` reads) of ``venue``.

    :attr:`RecordingDataset.source` lists the file names.
    """
    from .recording import read_frames

    files = [Path(p) for p in paths]
    if not files:
        raise ValueError("paths=[] must name at least one recording file")
    for f in files:
        if not f.exists():
            raise FileNotFoundError(f"recording file {f} does not exist")
    return dataset_from_frames(read_frames(*files), venue, symbol, config,
                               source=",".join(f.name for f in files))


@functools.lru_cache(maxsize=4)
def load_binance_dataset(config: DatasetConfig | None = None) -> RecordingDataset:
    """The labelled data set of the real Binance BTCUSDT recording (cached per config).

    :func:`dataset_from_files` of ``tradesim_nb.datasets.binance_spot_files()``; about 10 s
    on one core.
    """
    from .datasets import binance_spot_files

    return dataset_from_files(binance_spot_files(), "binance", "BTCUSDT", config)
