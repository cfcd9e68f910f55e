"""Features of the book and of recent trades, online (per tick) and in batch (for training).

Two layers:

* **market features** (:data:`MARKET_FEATURES`), one float64 row per decision time, built by
  :class:`FeatureState` from the book and the trade stream: mid, spread, touch and depth
  within 10 bps per side (USD), top-5 imbalance, a time-decayed realised volatility of the mid
  and time-decayed signed trade flow;
* **order features** for the models, derived from a market row plus the order's side and
  notional: :func:`slippage_features` / :func:`maker_features` (one row, plain Python, for the
  hot path) and their columnar twins :func:`slippage_matrix` / :func:`maker_matrix` (numpy,
  for training). Both compute the same formulas; a test checks they agree.

Time-decayed estimators (``dt`` = time since the previous update, :math:`\\tau` a time
constant, :math:`s = +1` for a buy and :math:`-1` for a sell aggressor):

.. math::

    F_t = F_{t'} e^{-dt/\\tau_F} + s\\,q\\,p  \\qquad\\text{(signed flow, USD)}

    V_t = V_{t'} e^{-dt/\\tau_V} + r_t^2,\\quad r_t = \\ln(m_t/m_{t'}),\\qquad
    \\hat\\sigma = 10^4\\sqrt{V_t/\\tau_V}\\ \\text{bps}/\\sqrt{s}

:math:`V_t/\\tau_V` is an exponentially weighted realised variance per second (zero mid
changes contribute nothing, so the estimate does not depend on how often the book ticks).

:func:`dataset_from_recording` replays a recording once through a venue feed, samples
decision times on a fixed clock, and labels each one for the slippage model (a market order
sent at ``t`` filled against the book at ``t + latency``, cost measured against the mid at
``t``) and for the maker/taker model (a limit order joining the back of the touch queue at
``t``; see :mod:`tradesim_nb.costs.maker_taker`).

References
----------
.. [1] Cont, Kukanov, Stoikov (2014), "The price impact of order book events",
   J. Financial Econometrics 12(1) — order-flow imbalance as a short-horizon price predictor.
.. [2] Andersen, Bollerslev, Diebold, Labys (2003), "Modeling and forecasting realized
   volatility", Econometrica 71(2) — realised variance as a sum of squared returns.
"""

from __future__ import annotations

import functools
import logging
import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from .book import OrderBook
from .events import Trade

__all__ = [
    "MAKER_FEATURES",
    "MARKET_FEATURES",
    "SLIPPAGE_FEATURES",
    "DatasetConfig",
    "FeatureState",
    "RecordingDataset",
    "dataset_from_recording",
    "load_binance_dataset",
    "maker_features",
    "maker_matrix",
    "slippage_features",
    "slippage_matrix",
]

log = logging.getLogger(__name__)

Side = Literal["buy", "sell"]

#: Columns of a market-feature row (all float64).
MARKET_FEATURES: tuple[str, ...] = (
    "mid",                 # price
    "spread_bps",
    "bid_touch_usd",       # size at the best bid, USD
    "ask_touch_usd",
    "bid_depth_10bps_usd",  # size within 10 bps of the mid, USD
    "ask_depth_10bps_usd",
    "imbalance_5",         # (Qb - Qa)/(Qb + Qa) over 5 levels
    "vol_bps",             # EW realised volatility, bps per sqrt(second)
    "flow_1s_usd",         # EW signed trade flow, tau = 1 s (buy aggressor +)
    "flow_10s_usd",        # tau = 10 s
)
_I = {n: i for i, n in enumerate(MARKET_FEATURES)}

#: Order features of the slippage models (side-oriented: "own" = the side the order takes).
#: The spread is not a model feature: on the training recording (Binance BTCUSDT) it is one
#: tick on almost every sample, so its coefficient would be unidentified and would
#: extrapolate wildly on wider-spread books; the walk slippage already contains the half
#: spread.
SLIPPAGE_FEATURES: tuple[str, ...] = (
    "walk_bps",            # exact walk-the-book slippage vs mid on the current book
    "log_notional_usd",    # ln(notional)
    "size_over_depth",     # notional / own-side depth within 10 bps (capped at 50)
    "vol_bps",
    "flow_signed_1s",      # s * flow_1s, in $100k
    "imbalance_signed",    # s * imbalance_5
)

#: Order features of the maker/taker model (limit order resting at the own touch).
MAKER_FEATURES: tuple[str, ...] = (
    "log_notional_usd",
    "log_queue_ahead_usd",   # ln(size at own touch, USD)
    "log_opposite_touch_usd",
    "vol_bps",
    "flow_signed_10s",       # s * flow_10s in $100k (s = +1 for a buy order)
    "imbalance_signed",      # s * imbalance_5
)

_SIZE_OVER_DEPTH_CAP = 50.0
_SIDES: tuple[Side, Side] = ("buy", "sell")
_FLOW_UNIT_USD = 1e5


def _check_side(side: str) -> float:
    if side == "buy":
        return 1.0
    if side == "sell":
        return -1.0
    raise ValueError(f"side={side!r} is not one of 'buy', 'sell'")


class FeatureState:
    """Online market features, updated once per tick in O(levels within 10 bps).

    Parameters
    ----------
    vol_tau_s : float
        Time constant of the realised-variance EWMA, seconds (> 0).
    flow_taus_s : (float, float)
        Time constants of the two signed-flow EWMAs, seconds (> 0).
    depth_bps : float
        Band around the mid for the depth features, bps (> 0).

    Notes
    -----
    The clock is the local receive time (``recv_ns``) so that live and replayed streams are
    treated alike. Trades are signed by the aggressor side of :class:`~tradesim_nb.Trade`;
    ``qty`` is converted to base with the book's instrument when it has one.
    """

    __slots__ = (
        "_bk_book",
        "_bk_updates",
        "_bk_vals",
        "_f1",
        "_f10",
        "_t_flow",
        "_t_mid",
        "_v",
        "depth_bps",
        "first_ns",
        "flow_taus_s",
        "last_mid",
        "last_ns",
        "n_mid",
        "n_trades",
        "traded_base",
        "vol_tau_s",
    )

    def __init__(self, vol_tau_s: float = 30.0, flow_taus_s: tuple[float, float] = (1.0, 10.0),
                 depth_bps: float = 10.0) -> None:
        for name, v in (("vol_tau_s", vol_tau_s), ("flow_taus_s[0]", flow_taus_s[0]),
                        ("flow_taus_s[1]", flow_taus_s[1]), ("depth_bps", depth_bps)):
            if not (math.isfinite(v) and v > 0):
                raise ValueError(f"{name}={v!r} must be a finite number > 0")
        self.vol_tau_s = float(vol_tau_s)
        self.flow_taus_s = (float(flow_taus_s[0]), float(flow_taus_s[1]))
        self.depth_bps = float(depth_bps)
        self._v = 0.0
        self._f1 = 0.0
        self._f10 = 0.0
        self._t_mid = 0
        self._t_flow = 0
        self.last_mid = math.nan
        self.last_ns = 0
        self.first_ns = 0
        self.n_mid = 0
        self.n_trades = 0
        self.traded_base = 0.0
        self._bk_book: OrderBook | None = None
        self._bk_updates = (-1, -1)
        self._bk_vals: list[float] = []

    # -- updates ------------------------------------------------------------------------
    def on_trade(self, price: float, qty_base: float, side: str, ts_ns: int) -> None:
        """Add one trade (aggressor ``side``) to the signed-flow EWMAs."""
        if self._t_flow:
            dt = (ts_ns - self._t_flow) * 1e-9
            if dt > 0:
                self._f1 *= math.exp(-dt / self.flow_taus_s[0])
                self._f10 *= math.exp(-dt / self.flow_taus_s[1])
        if not self.first_ns:
            self.first_ns = ts_ns
        self._t_flow = max(ts_ns, self._t_flow)
        usd = price * qty_base
        if side == "sell":
            usd = -usd
        self._f1 += usd
        self._f10 += usd
        self.n_trades += 1
        self.traded_base += qty_base

    def on_mid(self, mid: float, ts_ns: int) -> None:
        """Add one mid observation to the realised-variance EWMA (NaN/non-positive ignored)."""
        if not (mid > 0.0 and math.isfinite(mid)):
            return
        if not self.first_ns:
            self.first_ns = ts_ns
        if self.n_mid:
            dt = (ts_ns - self._t_mid) * 1e-9
            if dt > 0:
                self._v *= math.exp(-dt / self.vol_tau_s)
            if mid != self.last_mid:
                r = math.log(mid / self.last_mid)
                self._v += r * r
        self.last_mid = mid
        self._t_mid = max(ts_ns, self._t_mid)
        self.last_ns = ts_ns
        self.n_mid += 1

    def update(self, book: OrderBook, events: Iterable[Any], recv_ns: int) -> None:
        """Consume one applied frame: its trades, then the book's mid if the book is valid."""
        inst = book.instrument
        for ev in events:
            if type(ev) is Trade:
                q = ev.qty if inst is None else inst.to_base(ev.qty, ev.price)
                self.on_trade(ev.price, q, ev.side, recv_ns)
        if book.valid:
            self.on_mid(book.mid, recv_ns)

    # -- reads --------------------------------------------------------------------------
    def vol_bps(self) -> float:
        """EW realised volatility of the mid, bps per sqrt(second)."""
        return 1e4 * math.sqrt(self._v / self.vol_tau_s)

    def flows_usd(self, now_ns: int) -> tuple[float, float]:
        """``(flow_1s, flow_10s)`` decayed to ``now_ns``, USD (buy aggressor positive)."""
        if not self._t_flow:
            return 0.0, 0.0
        dt = max(0.0, (now_ns - self._t_flow) * 1e-9)
        return (self._f1 * math.exp(-dt / self.flow_taus_s[0]),
                self._f10 * math.exp(-dt / self.flow_taus_s[1]))

    def daily_volume_base(self, now_ns: int, min_span_s: float = 60.0) -> float:
        """Traded base volume per day extrapolated from the trades seen so far.

        NaN until trades have been seen over at least ``min_span_s`` seconds: a few seconds
        of trades extrapolated to a day are too noisy to price impact with.
        """
        span = (now_ns - self.first_ns) * 1e-9 if self.first_ns else 0.0
        if span < min_span_s or self.n_trades == 0:
            return math.nan
        return self.traded_base / span * 86400.0

    def book_values(self, book: OrderBook) -> list[float]:
        """The book-derived part of :meth:`market_row` (mid ... imbalance_5).

        Cached per ``(book, book.updates, len(book))``: frames that do not change the book (trades,
        BBO tickers) reuse it, which halves the feature cost on a Binance stream.
        """
        key = (book.updates, len(book))  # len: clear()/remove_crossed() do not bump updates
        if book is self._bk_book and key == self._bk_updates:
            return self._bk_vals
        bb, qb, ba, qa, dep_b, dep_a, qb5, qa5 = book.tick_values(self.depth_bps, 5)
        mid = 0.5 * (bb + ba)
        inst = book.instrument
        bpu_b = 1.0 if inst is None else inst.base_per_unit(bb)
        bpu_a = 1.0 if inst is None else inst.base_per_unit(ba)
        tot5 = qb5 + qa5
        vals = [
            mid,
            1e4 * (ba - bb) / mid,
            qb * bpu_b * bb,
            qa * bpu_a * ba,
            dep_b * bpu_b * mid,
            dep_a * bpu_a * mid,
            (qb5 - qa5) / tot5 if tot5 > 0 else 0.0,  # imbalance of the best 5 levels
        ]
        self._bk_book = book
        self._bk_updates = key
        self._bk_vals = vals
        return vals

    def market_row(self, book: OrderBook, now_ns: int) -> list[float]:
        """One row of :data:`MARKET_FEATURES` (plain floats; NaN mid if the book is empty)."""
        f1, f10 = self.flows_usd(now_ns)
        return [*self.book_values(book), self.vol_bps(), f1, f10]


# -- order features: one row (hot path) ------------------------------------------------------
def slippage_features(row: Sequence[float], side: str, notional_usd: float,
                      walk_bps: float) -> list[float]:
    """:data:`SLIPPAGE_FEATURES` of one order from a market row (plain Python)."""
    s = _check_side(side)
    return order_rows(row, s, notional_usd, math.log(max(notional_usd, 1.0)), walk_bps)[0]


def maker_features(row: Sequence[float], side: str, notional_usd: float) -> list[float]:
    """:data:`MAKER_FEATURES` of one resting order from a market row (plain Python)."""
    s = _check_side(side)
    return order_rows(row, s, notional_usd, math.log(max(notional_usd, 1.0)), 0.0)[1]


def order_rows(row: Sequence[float], s: float, notional_usd: float, log_notional: float,
               walk_bps: float) -> tuple[list[float], list[float]]:
    """Both order-feature rows of one order at once (the per-tick hot path).

    ``s`` is +1 for a buy and -1 for a sell, ``log_notional = ln(max(notional_usd, 1))``
    (computed once per order size by the caller). Returns ``(slippage row, maker row)``, as
    :func:`slippage_features` and :func:`maker_features` give them.
    """
    if s > 0:
        own_depth, own, opp = row[5], row[2], row[3]
    else:
        own_depth, own, opp = row[4], row[3], row[2]
    sod = notional_usd / own_depth if own_depth > 0 else _SIZE_OVER_DEPTH_CAP
    vol = row[7]
    imb = s * row[6]
    return ([walk_bps, log_notional, sod if sod < _SIZE_OVER_DEPTH_CAP else _SIZE_OVER_DEPTH_CAP,
             vol, s * row[8] / _FLOW_UNIT_USD, imb],
            [log_notional, math.log(max(own, 1.0)), math.log(max(opp, 1.0)), vol,
             s * row[9] / _FLOW_UNIT_USD, imb])


# -- order features: columnar (training) -----------------------------------------------------
def _signs(side: np.ndarray) -> np.ndarray:
    sd = np.asarray(side, dtype=np.float64)
    if not np.all(np.abs(sd) == 1.0):
        raise ValueError("side must be +1 (buy) or -1 (sell) in every row")
    return sd


def slippage_matrix(market: np.ndarray, side: np.ndarray, notional_usd: np.ndarray,
                    walk_bps: np.ndarray) -> np.ndarray:
    """Columnar :func:`slippage_features`: ``market`` (n, len(MARKET_FEATURES)), ``side`` ±1."""
    m = np.asarray(market, dtype=np.float64)
    s = _signs(side)
    n = np.asarray(notional_usd, dtype=np.float64)
    own_depth = np.where(s > 0, m[:, 5], m[:, 4])
    with np.errstate(divide="ignore", invalid="ignore"):
        sod = np.where(own_depth > 0, n / own_depth, _SIZE_OVER_DEPTH_CAP)
    return np.column_stack([
        np.asarray(walk_bps, dtype=np.float64),
        np.log(np.maximum(n, 1.0)),
        np.minimum(sod, _SIZE_OVER_DEPTH_CAP),
        m[:, 7],
        s * m[:, 8] / _FLOW_UNIT_USD,
        s * m[:, 6],
    ])


def maker_matrix(market: np.ndarray, side: np.ndarray, notional_usd: np.ndarray) -> np.ndarray:
    """Columnar :func:`maker_features`."""
    m = np.asarray(market, dtype=np.float64)
    s = _signs(side)
    n = np.asarray(notional_usd, dtype=np.float64)
    own = np.where(s > 0, m[:, 2], m[:, 3])
    opp = np.where(s > 0, m[:, 3], m[:, 2])
    return np.column_stack([
        np.log(np.maximum(n, 1.0)),
        np.log(np.maximum(own, 1.0)),
        np.log(np.maximum(opp, 1.0)),
        m[:, 7],
        s * m[:, 9] / _FLOW_UNIT_USD,
        s * m[:, 6],
    ])


# -- datasets from a recording ---------------------------------------------------------------
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


def dataset_from_recording(frames: Iterable[tuple[int, str | bytes]], feed: Any, symbol: str,
                           config: DatasetConfig | None = None,
                           source: str = "") -> RecordingDataset:
    """Replay ``frames`` once through ``feed`` and build a labelled, columnar data set.

    Parameters
    ----------
    frames : iterable of (recv_ns, frame)
        E.g. ``tradesim_nb.recording.read_frames(*tradesim_nb.datasets.binance_spot_files())``.
    feed : VenueFeed
        A fresh feed (``tradesim_nb.venues.get_feed("binance")``); ``feed.on_frame(frame,
        recv_ns)`` returns the events and keeps ``feed.books[symbol]`` correct.
    symbol : str
        The instrument whose book is sampled.
    config : DatasetConfig, optional

    Notes
    -----
    Decisions are taken on a fixed clock every ``sample_every_ms`` (the first frame at or
    after each tick, features computed after that frame is applied). A market order decided
    at ``t`` is filled against the book as it stood at ``t + latency``: the labels are
    computed just before applying the first frame received after ``t + latency``.
    """
    cfg = config or DatasetConfig()
    sizes = np.asarray(cfg.sizes_usd, dtype=np.float64)
    k = sizes.shape[0]
    lat_ns = int(cfg.latency_ms * 1e6)
    every_ns = int(cfg.sample_every_ms * 1e6)
    warm_ns = int(cfg.warmup_s * 1e9)
    state = FeatureState()
    t_list: list[int] = []
    rows: list[list[float]] = []
    walks: list[np.ndarray] = []
    realised: list[np.ndarray] = []
    touch: list[tuple[float, float, float, float]] = []  # bid px, bid base, ask px, ask base
    pending: deque[tuple[int, int, float, np.ndarray]] = deque()  # i, due, mid, base qty
    tr_t: list[int] = []
    tr_p: list[float] = []
    tr_q: list[float] = []
    tr_s: list[float] = []
    next_ns = 0
    nframes = 0
    book: OrderBook | None = None
    for recv_ns, frame in frames:
        nframes += 1
        if book is not None:
            while pending and pending[0][1] <= recv_ns:
                i, _, mid0, _ = pending.popleft()
                out = realised[i]
                if book.valid:
                    for j in range(k):
                        for si, side in enumerate(_SIDES):
                            f = book.walk(side, float(sizes[j]), "usd")
                            if f.complete and f.filled_base > 0:
                                sg = 1.0 if si == 0 else -1.0
                                out[j, si] = sg * (f.vwap - mid0) / mid0 * 1e4
        events = feed.on_frame(frame, recv_ns)
        if book is None:
            book = feed.books.get(symbol)
            if book is None:
                continue
        inst = book.instrument
        for ev in events:
            if type(ev) is Trade and ev.symbol == symbol:
                q = ev.qty if inst is None else inst.to_base(ev.qty, ev.price)
                tr_t.append(recv_ns)
                tr_p.append(ev.price)
                tr_q.append(q)
                tr_s.append(1.0 if ev.side == "buy" else -1.0)
        state.update(book, [e for e in events if getattr(e, "symbol", symbol) == symbol],
                     recv_ns)
        if not book.valid:
            continue
        if next_ns == 0:
            next_ns = recv_ns + warm_ns
        if recv_ns < next_ns:
            continue
        while next_ns <= recv_ns:
            next_ns += every_ns
        row = state.market_row(book, recv_ns)
        w = np.full((k, 2), np.nan)
        for j in range(k):
            for si, side in enumerate(_SIDES):
                f = book.walk(side, float(sizes[j]), "usd")
                if f.complete:
                    w[j, si] = f.slippage_bps
        i = len(t_list)
        t_list.append(recv_ns)
        rows.append(row)
        walks.append(w)
        realised.append(np.full((k, 2), np.nan))
        bb, ba = book.best_bid, book.best_ask
        touch.append((bb, book.best_bid_size * (1.0 if inst is None else inst.base_per_unit(bb)),
                      ba, book.best_ask_size * (1.0 if inst is None else inst.base_per_unit(ba))))
        pending.append((i, recv_ns + lat_ns, row[0], sizes))
    if not t_list:
        raise ValueError(f"no decisions sampled for symbol={symbol!r}: the book never became "
                         "valid (wrong symbol or feed?)")
    t_ns = np.asarray(t_list, dtype=np.int64)
    trades = {"t_ns": np.asarray(tr_t, dtype=np.int64), "price": np.asarray(tr_p),
              "qty_base": np.asarray(tr_q), "sign": np.asarray(tr_s)}
    # passive labels, computed after the replay from the columnar trade tape
    h_ns = int(cfg.horizon_s * 1e9)
    last_ns = recv_ns if nframes else 0
    passive = np.full((len(t_list), k, 2), np.nan)
    for i, t0 in enumerate(t_list):
        if t0 + h_ns > last_ns:
            break
        bb, qb, ba, qa = touch[i]
        mid = rows[i][0]
        for j in range(k):
            q = sizes[j] / mid
            passive[i, j, 0] = passive_fill_fraction(
                trades["t_ns"], trades["price"], trades["qty_base"], trades["sign"], t0,
                t0 + h_ns, "buy", bb, qb, q)
            passive[i, j, 1] = passive_fill_fraction(
                trades["t_ns"], trades["price"], trades["qty_base"], trades["sign"], t0,
                t0 + h_ns, "sell", ba, qa, q)
    return RecordingDataset(
        t_ns=t_ns, market=np.asarray(rows, dtype=np.float64), sizes_usd=sizes,
        walk_bps=np.asarray(walks), realised_bps=np.asarray(realised), passive_frac=passive,
        trades=trades, config=cfg, source=source, frames=nframes,
    )


@functools.lru_cache(maxsize=4)
def load_binance_dataset(config: DatasetConfig | None = None) -> RecordingDataset:
    """The labelled data set of the real Binance BTCUSDT recording (cached per config).

    Replays ``tradesim_nb.datasets.binance_spot_files()`` through ``get_feed("binance")``;
    about 10 s on one core.
    """
    from .datasets import binance_spot_files
    from .recording import read_frames
    from .venues import get_feed

    files = binance_spot_files()
    return dataset_from_recording(read_frames(*files), get_feed("binance"), "BTCUSDT",
                                  config, source=",".join(f.name for f in files))
