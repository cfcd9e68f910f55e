r"""A recording sampled on a clock: book levels, mid and near-touch depth, market orders.

:class:`BookTape` holds, as columnar numpy arrays,

* the best ``levels`` price levels of each side every ``dt_s`` seconds (what an impact-aware
  replay walks: :mod:`tradesim_nb.execution.impact_replay`);
* the mid and the depth within ``depth_bps`` of the mid on each side every ``fine_dt_s``
  seconds (what the resilience and propagator fits read: :mod:`tradesim_nb.impact.resilience`);
* the market orders: fills with the same exchange time and aggressor side summed into one
  order (a sweep of several levels is one order), at the receive time of its first fill.

A sample at time :math:`t` is the book after every frame received at or before :math:`t`;
times are seconds from the first valid book. :func:`tape_from_recording` builds a tape from any
recording the package reads by calling ``feed.on_frame`` for each ``(recv_ns, frame)`` of
:func:`tradesim_nb.recording.read_frames`; :meth:`tradesim_nb.resilient_market.ResilientMarket.tape`
builds one from the synthetic resilient market.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

__all__ = ["BookTape", "tape_from_recording"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class BookTape:
    """A sampled recording (see the module docstring). Arrays are read-only.

    Attributes
    ----------
    t_s : (n,) sample times of the level arrays, seconds, ``t_s[i] = i * dt_s``
    bid_px, bid_sz, ask_px, ask_sz : (n, K) best-first levels; missing levels have size 0
        and price NaN
    fine_t_s : (m,) sample times of the fine series, ``i * fine_dt_s``
    fine_mid : (m,) mid price
    fine_bid_depth, fine_ask_depth : (m, B) base units within ``depth_bps[b]`` of the mid
    depth_bps : tuple of B bands (bps)
    trade_t_s, trade_qty, trade_sign : (k,) market orders: time, size (base), +1 buy / -1 sell
    dt_s, fine_dt_s : float
    source, symbol : str
    """

    t_s: FloatArray = field(repr=False)
    bid_px: FloatArray = field(repr=False)
    bid_sz: FloatArray = field(repr=False)
    ask_px: FloatArray = field(repr=False)
    ask_sz: FloatArray = field(repr=False)
    fine_t_s: FloatArray = field(repr=False)
    fine_mid: FloatArray = field(repr=False)
    fine_bid_depth: FloatArray = field(repr=False)
    fine_ask_depth: FloatArray = field(repr=False)
    depth_bps: tuple[float, ...]
    trade_t_s: FloatArray = field(repr=False)
    trade_qty: FloatArray = field(repr=False)
    trade_sign: FloatArray = field(repr=False)
    dt_s: float
    fine_dt_s: float
    source: str = ""
    symbol: str = ""

    def __post_init__(self) -> None:
        n = self.t_s.size
        k = self.bid_px.shape[1] if self.bid_px.ndim == 2 else -1
        for name in ("bid_px", "bid_sz", "ask_px", "ask_sz"):
            a = getattr(self, name)
            if a.ndim != 2 or a.shape != (n, k):
                raise ValueError(f"{name} has shape {a.shape}; expected ({n}, K) like bid_px")
        m = self.fine_t_s.size
        b = len(self.depth_bps)
        for name in ("fine_bid_depth", "fine_ask_depth"):
            if getattr(self, name).shape != (m, b):
                raise ValueError(f"{name} has shape {getattr(self, name).shape}; expected ({m}, {b})")
        if self.fine_mid.shape != (m,):
            raise ValueError(f"fine_mid has shape {self.fine_mid.shape}; expected ({m},)")
        kk = self.trade_t_s.size
        if self.trade_qty.shape != (kk,) or self.trade_sign.shape != (kk,):
            raise ValueError("trade_t_s, trade_qty and trade_sign must have the same length")
        for name in ("t_s", "bid_px", "bid_sz", "ask_px", "ask_sz", "fine_t_s", "fine_mid",
                     "fine_bid_depth", "fine_ask_depth", "trade_t_s", "trade_qty", "trade_sign"):
            getattr(self, name).setflags(write=False)

    def __len__(self) -> int:
        return int(self.t_s.size)

    @property
    def duration_s(self) -> float:
        return float(self.t_s[-1]) if self.t_s.size else 0.0

    @property
    def levels(self) -> int:
        return int(self.bid_px.shape[1])

    @property
    def mid(self) -> FloatArray:
        """Mid of the level samples (NaN where a side is empty)."""
        return 0.5 * (self.bid_px[:, 0] + self.ask_px[:, 0])

    def index_at(self, t_s: float) -> int:
        """Index of the level sample at time ``t_s`` (which must lie on the grid, to 1e-6 s)."""
        i = round(float(t_s) / self.dt_s)
        if abs(i * self.dt_s - float(t_s)) > 1e-6 or not 0 <= i < self.t_s.size:
            raise ValueError(f"t_s={t_s!r} is invalid: allowed range is a multiple of dt_s="
                             f"{self.dt_s!r} in [0, {self.duration_s!r}]")
        return int(i)

    def volume_between(self, t0: float, t1: float) -> float:
        """Market-order volume (base units) with time in ``[t0, t1)``."""
        lo, hi = np.searchsorted(self.trade_t_s, [t0, t1], side="left")
        return float(self.trade_qty[lo:hi].sum())

    def band(self, bps: float) -> int:
        """Column of ``fine_*_depth`` for the band ``bps`` (one of ``depth_bps``)."""
        for i, b in enumerate(self.depth_bps):
            if math.isclose(b, bps):
                return i
        raise ValueError(f"bps={bps!r} is invalid: allowed range is one of {self.depth_bps}")


def _levels_row(book: object, k: int) -> tuple[np.ndarray, ...]:
    bp, bs, ap, as_ = book.top(k)  # type: ignore[attr-defined]
    out = []
    for px, sz in ((bp, bs), (ap, as_)):
        p = np.full(k, np.nan)
        s = np.zeros(k)
        p[: px.size] = px
        s[: sz.size] = sz
        out += [p, s]
    return tuple(out)


def tape_from_recording(paths: Sequence[str | Path] | str | Path, venue: str = "binance",
                        symbol: str = "BTCUSDT", *, dt_s: float = 0.5, levels: int = 1000,
                        fine_dt_s: float = 0.1, depth_bps: Sequence[float] = (1.0, 2.0, 5.0),
                        progress: bool = False) -> BookTape:
    """Replay a recording through its venue's feed and sample it (see the module docstring).

    Parameters
    ----------
    paths : path or sequence of paths
        Files of one recording, in order (e.g. :func:`tradesim_nb.datasets.binance_spot_files`).
    venue, symbol : str
    dt_s : float
        Step of the level samples (> 0); must be a multiple of ``fine_dt_s``.
    levels : int
        Levels kept per side (>= 1).
    fine_dt_s : float
        Step of the mid and depth series (> 0).
    depth_bps : sequence of float
        Bands for the near-touch depth, each > 0.
    progress : bool
        A tqdm bar over the frames.

    Raises
    ------
    ValueError
        On a bad argument, or when the recording gives fewer than 10 valid samples.
    """
    from tqdm.auto import tqdm

    from ..events import BookDelta, BookSnapshot, Trade
    from ..recording import read_frames
    from ..venues import get_feed

    for name, v in (("dt_s", dt_s), ("fine_dt_s", fine_dt_s)):
        if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
            raise ValueError(f"{name}={v!r} is invalid: allowed range is a finite number > 0")
    ratio = dt_s / fine_dt_s
    if abs(ratio - round(ratio)) > 1e-9 or round(ratio) < 1:
        raise ValueError(f"dt_s={dt_s!r} is invalid: allowed range is a multiple of "
                         f"fine_dt_s={fine_dt_s!r}")
    if isinstance(levels, bool) or not isinstance(levels, int) or levels < 1:
        raise ValueError(f"levels={levels!r} is invalid: allowed range is an integer >= 1")
    bands = tuple(float(b) for b in depth_bps)
    if not bands or any(not (math.isfinite(b) and b > 0) for b in bands):
        raise ValueError(f"depth_bps={depth_bps!r} is invalid: allowed range is bands > 0")
    ps = [paths] if isinstance(paths, str | Path) else list(paths)
    feed = get_feed(venue)
    fine_step = round(fine_dt_s * 1e9)
    every = round(ratio)
    t0: int | None = None
    t_next = 0
    count = 0
    fine_rows: list[tuple[float, ...]] = []
    lv_rows: list[tuple[np.ndarray, ...]] = []
    orders: dict[tuple[int, int], list[float]] = {}
    def sample_until(recv_ns: int) -> None:
        """Sample the book on the fine clock up to ``recv_ns``, before that frame applies."""
        nonlocal t_next, count
        book = feed.books.get(symbol)
        if t0 is None or book is None or not book.valid:
            return
        while t_next < recv_ns:
            fine_rows.append((book.mid, *(book.depth_within_bps("bid", b) for b in bands),
                              *(book.depth_within_bps("ask", b) for b in bands)))
            if count % every == 0:
                lv_rows.append(_levels_row(book, levels))
            count += 1
            t_next += fine_step

    frames = tqdm(read_frames(*ps), disable=not progress, desc="tape")
    for recv_ns, events, _ in feed.replay(frames, before=sample_until):
        for ev in events:
            te = type(ev)
            if te is Trade:
                if t0 is not None and ev.symbol == symbol:  # type: ignore[union-attr]
                    sgn = 1 if ev.side == "buy" else -1  # type: ignore[union-attr]
                    key = (ev.exch_ts_ns, sgn)  # type: ignore[union-attr]
                    o = orders.get(key)
                    if o is None:
                        orders[key] = [(recv_ns - t0) / 1e9, float(ev.qty), sgn]  # type: ignore[union-attr]
                    else:
                        o[1] += float(ev.qty)  # type: ignore[union-attr]
            elif (te in (BookDelta, BookSnapshot) and ev.symbol == symbol  # type: ignore[union-attr]
                  and t0 is None and feed.books[symbol].valid):
                t0 = recv_ns
                t_next = recv_ns
    n_lv = len(lv_rows)
    if n_lv < 10:
        raise ValueError(f"the recording gave {n_lv} valid samples of {symbol} at dt_s={dt_s}; "
                         "at least 10 are needed")
    m = len(fine_rows)
    fr = np.array(fine_rows[:m], dtype=np.float64)
    nb = len(bands)
    lv = [np.stack([r[j] for r in lv_rows]) for j in range(4)]
    tr = np.array(sorted(orders.values()), dtype=np.float64).reshape(-1, 3)
    keep = tr[:, 0] <= (m - 1) * fine_dt_s + fine_dt_s
    tr = tr[keep]
    return BookTape(
        t_s=np.arange(n_lv, dtype=np.float64) * float(dt_s), bid_px=lv[0], bid_sz=lv[1], ask_px=lv[2],
        ask_sz=lv[3], fine_t_s=np.arange(m, dtype=np.float64) * float(fine_dt_s), fine_mid=fr[:, 0],
        fine_bid_depth=fr[:, 1:1 + nb], fine_ask_depth=fr[:, 1 + nb:1 + 2 * nb],
        depth_bps=bands, trade_t_s=tr[:, 0], trade_qty=tr[:, 1], trade_sign=tr[:, 2],
        dt_s=float(dt_s), fine_dt_s=float(fine_dt_s), source=f"{venue}:{symbol}", symbol=symbol)
