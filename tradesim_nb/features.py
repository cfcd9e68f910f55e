"""Features of the book and of recent trades, online (per tick) and in batch (for training).

Two layers:

* **market features** (:data:`MARKET_FEATURES`), one float64 row per decision time, built by
  :class:`FeatureState` from the book and the trade stream: mid, spread, touch and depth
  within 10 bps per side (USD), top-5 imbalance (order-flow imbalance predicts short-horizon
  price moves [1]_), a time-decayed realised volatility of the mid [2]_ and time-decayed
  signed trade flow; the row's columns are read by the named indices
  :data:`MID`, :data:`SPREAD_BPS`, ... :data:`FLOW_10S_USD`;
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

The labelled data sets the models are trained on (a recording replayed, decisions sampled and
labelled) are built by :mod:`tradesim_nb.training`; their names are still importable from
here for old code.

References
----------
.. [1] Cont, Kukanov, Stoikov (2014), "The price impact of order book events",
   J. Financial Econometrics 12(1) — order-flow imbalance as a short-horizon price predictor.
.. [2] Andersen, Bollerslev, Diebold, Labys (2003), "Modeling and forecasting realized
   volatility", Econometrica 71(2) — realised variance as a sum of squared returns.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import numpy as np

from .book import OrderBook
from .events import Ticker, Trade

__all__ = [
    "ASK_DEPTH_USD",
    "ASK_TOUCH_USD",
    "BID_DEPTH_USD",
    "BID_TOUCH_USD",
    "FLOW_1S_USD",
    "FLOW_10S_USD",
    "IMBALANCE_5",
    "MAKER_FEATURES",
    "MARKET_FEATURES",
    "MID",
    "SLIPPAGE_FEATURES",
    "SPREAD_BPS",
    "VOL_BPS",
    "FeatureState",
    "maker_features",
    "maker_matrix",
    "order_rows",
    "slippage_features",
    "slippage_matrix",
]

#: names that moved to :mod:`tradesim_nb.training` (still importable from here)
_MOVED_TO_TRAINING = frozenset({
    "DatasetConfig", "RecordingDataset", "dataset_from_files", "dataset_from_frames",
    "dataset_from_recording", "load_binance_dataset", "passive_fill_fraction",
})


def __getattr__(name: str) -> Any:
    if name in _MOVED_TO_TRAINING:
        from . import training

        return getattr(training, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

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
#: Column indices of a market-feature row (``row[VOL_BPS]``), one per :data:`MARKET_FEATURES`.
MID = MARKET_FEATURES.index("mid")
SPREAD_BPS = MARKET_FEATURES.index("spread_bps")
BID_TOUCH_USD = MARKET_FEATURES.index("bid_touch_usd")
ASK_TOUCH_USD = MARKET_FEATURES.index("ask_touch_usd")
BID_DEPTH_USD = MARKET_FEATURES.index("bid_depth_10bps_usd")
ASK_DEPTH_USD = MARKET_FEATURES.index("ask_depth_10bps_usd")
IMBALANCE_5 = MARKET_FEATURES.index("imbalance_5")
VOL_BPS = MARKET_FEATURES.index("vol_bps")
FLOW_1S_USD = MARKET_FEATURES.index("flow_1s_usd")
FLOW_10S_USD = MARKET_FEATURES.index("flow_10s_usd")

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
        "ticker_ns",
        "traded_base",
        "vol_tau_s",
        "volume_24h_base",
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
        #: the venue's 24-hour volume (base) from its last ticker, NaN before one
        self.volume_24h_base = math.nan
        self.ticker_ns = 0
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

    def on_ticker(self, volume_24h_base: float, ts_ns: int) -> None:
        """Keep the venue's 24-hour volume (base) of a ticker; NaN or non-positive ignored
        (a ticker update that did not carry the volume)."""
        if volume_24h_base > 0.0 and math.isfinite(volume_24h_base):
            self.volume_24h_base = float(volume_24h_base)
            self.ticker_ns = ts_ns

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
        """Consume one applied frame: its trades and 24-hour ticker, then the book's mid if
        the book is valid."""
        inst = book.instrument
        for ev in events:
            t = type(ev)
            if t is Trade:
                q = ev.qty if inst is None else inst.to_base(ev.qty, ev.price)
                self.on_trade(ev.price, q, ev.side, recv_ns)
            elif t is Ticker:
                self.on_ticker(ev.volume_24h_base, recv_ns)
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
    # own_depth: the side a market order walks; own/opp: the touch a limit order joins and
    # the opposite touch (a buy walks the asks and rests on the bid)
    if s > 0:
        own_depth, own, opp = row[ASK_DEPTH_USD], row[BID_TOUCH_USD], row[ASK_TOUCH_USD]
    else:
        own_depth, own, opp = row[BID_DEPTH_USD], row[ASK_TOUCH_USD], row[BID_TOUCH_USD]
    sod = notional_usd / own_depth if own_depth > 0 else _SIZE_OVER_DEPTH_CAP
    vol = row[VOL_BPS]
    imb = s * row[IMBALANCE_5]
    return ([walk_bps, log_notional, sod if sod < _SIZE_OVER_DEPTH_CAP else _SIZE_OVER_DEPTH_CAP,
             vol, s * row[FLOW_1S_USD] / _FLOW_UNIT_USD, imb],
            [log_notional, math.log(max(own, 1.0)), math.log(max(opp, 1.0)), vol,
             s * row[FLOW_10S_USD] / _FLOW_UNIT_USD, imb])


def make_scorer(slippage: Any, maker: Any) -> Any | None:
    """The compiled scoring step of a tick for these models (:func:`order_rows`, the linear
    slippage mean and quantiles, the range check, the maker/taker logit and the passive blend
    in one call: ``tradesim_nb._book_c.Scorer``), or None where the compiled book is not in
    use or the models have another shape; the plain-Python steps are the reference."""
    from .book import COMPILED

    if not COMPILED:
        return None
    from ._book_c import Scorer

    try:
        return Scorer(slippage, maker, (ASK_DEPTH_USD, BID_DEPTH_USD, BID_TOUCH_USD,
                                        ASK_TOUCH_USD, VOL_BPS, IMBALANCE_5, FLOW_1S_USD,
                                        FLOW_10S_USD, SPREAD_BPS),
                      _SIZE_OVER_DEPTH_CAP, _FLOW_UNIT_USD)
    except ValueError:
        return None


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
    own_depth = np.where(s > 0, m[:, ASK_DEPTH_USD], m[:, BID_DEPTH_USD])
    with np.errstate(divide="ignore", invalid="ignore"):
        sod = np.where(own_depth > 0, n / own_depth, _SIZE_OVER_DEPTH_CAP)
    return np.column_stack([
        np.asarray(walk_bps, dtype=np.float64),
        np.log(np.maximum(n, 1.0)),
        np.minimum(sod, _SIZE_OVER_DEPTH_CAP),
        m[:, VOL_BPS],
        s * m[:, FLOW_1S_USD] / _FLOW_UNIT_USD,
        s * m[:, IMBALANCE_5],
    ])


def maker_matrix(market: np.ndarray, side: np.ndarray, notional_usd: np.ndarray) -> np.ndarray:
    """Columnar :func:`maker_features`."""
    m = np.asarray(market, dtype=np.float64)
    s = _signs(side)
    n = np.asarray(notional_usd, dtype=np.float64)
    own = np.where(s > 0, m[:, BID_TOUCH_USD], m[:, ASK_TOUCH_USD])
    opp = np.where(s > 0, m[:, ASK_TOUCH_USD], m[:, BID_TOUCH_USD])
    return np.column_stack([
        np.log(np.maximum(n, 1.0)),
        np.log(np.maximum(own, 1.0)),
        np.log(np.maximum(opp, 1.0)),
        m[:, VOL_BPS],
        s * m[:, FLOW_10S_USD] / _FLOW_UNIT_USD,
        s * m[:, IMBALANCE_5],
    ])
