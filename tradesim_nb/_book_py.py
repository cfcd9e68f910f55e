"""The pure-Python order book: the twin of the compiled one, and its fallback.

:mod:`tradesim_nb.book` serves the compiled book (``tradesim_nb._book_c``, built from Cython by
``pip install``) and falls back to this one, with a warning, when the extension is missing. Both
have the same API and give the same results, value for value (the tests drive them with the
same random snapshot and delta streams and compare every read); this module also holds what
they share: :class:`Fill`, the input errors and the messages those carry.

Prices are keyed by integer ticks (``round(price * price_scale)``), never by floats; each
level keeps the venue's exact price and size strings so venue checksums can be reproduced.
Here each side is a dict ``key -> (price, size, price_str, size_str)`` plus an ascending list
of keys that runs worst-first, the best level *last* (bids keyed by tick, asks by the negated
tick); ``bisect`` keeps it sorted.
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections.abc import Iterable
from typing import Any, Final, Literal, NamedTuple

import numpy as np

from .events import BookDelta, BookSnapshot, Level
from .instruments import Instrument, SizeUnit

__all__ = [
    "DEFAULT_MAX_LEVELS",
    "ArraysApplied",
    "BookInputError",
    "BookSide",
    "Fill",
    "InvalidLevelError",
    "LevelCapError",
    "OrderBook",
    "OrderSide",
    "new_frozen",
    "string_pairs",
]

BookSide = Literal["bid", "ask"]
OrderSide = Literal["buy", "sell"]

#: the default cap on the levels of one side (no venue publishes more than a few tens of
#: thousands; a snapshot or delta that would leave more is refused with :class:`LevelCapError`)
DEFAULT_MAX_LEVELS: Final = 200_000
#: integer keys stay below this in magnitude (``price * price_scale`` must be below it)
KEY_LIMIT: Final = 1 << 62

#: one level: (price, size, price_str, size_str)
_LevelT = tuple[float, float, Any, Any]
#: one parsed input level: (key, price, size, price_str, size_str)
_Parsed = tuple[int, float, float, Any, Any]
_NO_BAND = KEY_LIMIT  # no tracked depth band: every key is outside it (in band: key >= limit)
_BAND_RESUM = 1000  # uses of a tracked band between full re-sums
_KEY_LIMIT_F = float(KEY_LIMIT)
_INF = math.inf


def _no_band() -> list[Any]:
    # [bid limit key, bid sum, bid bps, ask limit key, ask sum, ask bps, uses since re-sum]
    return [_NO_BAND, 0.0, -1.0, _NO_BAND, 0.0, -1.0, 0]


class BookInputError(ValueError):
    """A snapshot or delta the book refuses; the book is left exactly as it was.

    Parameters
    ----------
    message : str
        What is wrong, naming the side, the level and the value (or the cap).
    reason : str
        A short tag to count the refusal by: ``"bad_level"`` (a level that is not a
        ``[price, size, ...]`` sequence), ``"bad_price"``, ``"bad_size"`` or ``"level_cap"``.
    side : {"bid", "ask"}
        The side of the offending level.

    Attributes
    ----------
    update : int or None
        For :meth:`OrderBook.apply_arrays`: the index of the refused update (the updates
        before it were applied); None otherwise.
    """

    update: int | None = None

    def __init__(self, message: str, reason: str = "bad_level", side: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.side = side

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self), self.reason, self.side))


class InvalidLevelError(BookInputError):
    """A level whose price is not a finite number > 0 (or beyond the integer key range), whose
    size is not a finite number >= 0, or that is not a ``[price, size, ...]`` sequence."""


class LevelCapError(BookInputError):
    """A snapshot or delta that would leave more levels on a side than ``max_levels``.

    Attributes
    ----------
    levels : int
        The level count the side would have had.
    cap : int
        The book's ``max_levels``.
    """

    def __init__(self, message: str, reason: str = "level_cap", side: str = "",
                 levels: int = 0, cap: int = 0) -> None:
        super().__init__(message, reason, side)
        self.levels = levels
        self.cap = cap

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self), self.reason, self.side, self.levels, self.cap))


def _short_repr(x: Any) -> str:
    r = repr(x)
    return r if len(r) <= 120 else r[:117] + "..."


def level_error(side: str, index: int, level: Any, what: str, value: Any,
                scale: float = 1.0) -> InvalidLevelError:
    """The error for input level ``index`` of ``side``; ``what`` says which check failed.

    ``what`` is ``"shape"``, ``"strings"`` (not a list of two strings), ``"price_nan"`` / ``"size_nan"`` (not a number),
    ``"price"`` (not finite or not > 0), ``"size"`` (not finite or < 0) or ``"range"``
    (price times price_scale beyond the key range). Shared by both books so that their
    messages are the same.
    """
    head = f"{side} level {index} {_short_repr(level)}"
    if what == "shape":
        return InvalidLevelError(f"{head} is not a [price, size, ...] sequence", "bad_level",
                                 side)
    if what == "strings":
        return InvalidLevelError(f"{head} is not a list [price_str, size_str, ...]",
                                 "bad_level", side)
    if what == "price_nan":
        return InvalidLevelError(f"{head}: price {_short_repr(value)} is not a number",
                                 "bad_price", side)
    if what == "size_nan":
        return InvalidLevelError(f"{head}: size {_short_repr(value)} is not a number",
                                 "bad_size", side)
    if what == "price":
        return InvalidLevelError(f"{head}: price {value!r} must be a finite number > 0",
                                 "bad_price", side)
    if what == "size":
        return InvalidLevelError(f"{head}: size {value!r} must be a finite number >= 0",
                                 "bad_size", side)
    if what == "range":
        return InvalidLevelError(f"{head}: price {value!r} times price_scale {scale!r} is "
                                 f"beyond the integer key range (2**62)", "bad_price", side)
    raise AssertionError(what)


class ArraysApplied(NamedTuple):
    """What :meth:`OrderBook.apply_arrays` did: the updates after which the book was crossed,
    the levels its ``uncross`` removed, the updates refused and the deltas skipped while the
    book was stale (the last two with ``refused="stale"``)."""

    crossed: int
    removed: int
    refused: int
    skipped: int


def check_refused(refused: Any) -> bool:
    """Validate ``apply_arrays(refused=...)``: True for ``"stale"``, False for ``"raise"``."""
    if refused == "stale":
        return True
    if refused == "raise":
        return False
    raise ValueError(f"refused={refused!r} is not one of 'raise', 'stale'")


def cap_error(kind: str, side: str, levels: int, cap: int) -> LevelCapError:
    """The error for a ``kind`` ("snapshot" or "delta") that would leave ``levels`` levels."""
    return LevelCapError(f"{kind} refused: it would leave {levels:,} {side} levels, over the "
                         f"cap max_levels={cap:,}", "level_cap", side, levels, cap)


def check_max_levels(max_levels: Any) -> int:
    """Validate the ``max_levels`` parameter of a book."""
    if not (isinstance(max_levels, int) and not isinstance(max_levels, bool)
            and max_levels >= 1):
        raise ValueError(f"max_levels={max_levels!r} must be an integer >= 1")
    return max_levels


def check_price_scale(instrument: Instrument | None, price_scale: float | None) -> float:
    """The book's ticks per unit price: given, or ``10**(price_decimals + 2)``, else ``1e8``."""
    if price_scale is None:
        price_scale = 10.0 ** (instrument.price_decimals + 2) if instrument else 1e8
    if not (math.isfinite(price_scale) and price_scale > 0):
        raise ValueError(f"price_scale={price_scale!r} must be a finite number > 0")
    return float(price_scale)


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
        """Whether the whole amount was filled."""
        return self.unfilled <= 0.0

    @property
    def slippage_usd(self) -> float:
        """Cost against the mid in quote currency: ``notional * slippage_bps / 1e4``."""
        return self.notional * self.slippage_bps / 1e4 if self.notional else 0.0


# shared by both books: their public home is tradesim_nb.book (docs, reprs and pickles say so)
for _cls in (ArraysApplied, BookInputError, InvalidLevelError, LevelCapError, Fill):
    _cls.__module__ = "tradesim_nb.book"


def _parse(levels: Iterable[Level], side: str, sign: int, scale: float) -> list[_Parsed]:
    """Every input level as ``(key, price, size, price_str, size_str)``, validated first."""
    out: list[_Parsed] = []
    app = out.append
    for i, lv in enumerate(levels):
        try:
            ps = lv[0]
            ss = lv[1]
        except (TypeError, IndexError, KeyError):
            raise level_error(side, i, lv, "shape", None) from None
        try:
            p = float(ps)
        except (TypeError, ValueError):
            raise level_error(side, i, lv, "price_nan", ps) from None
        try:
            s = float(ss)
        except (TypeError, ValueError):
            raise level_error(side, i, lv, "size_nan", ss) from None
        if not 0.0 < p < _INF:
            raise level_error(side, i, lv, "price", p)
        if not 0.0 <= s < _INF:
            raise level_error(side, i, lv, "size", s)
        x = p * scale
        if not x < _KEY_LIMIT_F:
            raise level_error(side, i, lv, "range", p, scale)
        app((sign * round(x), p, s, ps, ss))
    return out


def _strings(col: Any, name: str) -> list[Any]:
    """A column of :meth:`OrderBook.apply_arrays` as a list of str."""
    if type(col) is not tuple:
        return col.tolist() if isinstance(col, np.ndarray) else list(col)
    if len(col) != 2:
        raise ValueError(f"{name} must be a sequence of str or an (offsets, data) pair")
    off = np.ascontiguousarray(col[0], dtype=np.int64)
    if off.ndim != 1 or off.shape[0] < 1:
        raise ValueError(f"{name} offsets must be a 1-d array of rows + 1 entries")
    data = bytes(col[1]) if col[1] is not None else b""
    o = off.tolist()
    for r in range(len(o) - 1):
        if not 0 <= o[r] <= o[r + 1] <= len(data):
            raise ValueError(f"{name} offsets[{r}] out of order or beyond the data")
    return [data[o[r]:o[r + 1]].decode() for r in range(len(o) - 1)]


def _delta_count(d: dict[int, _LevelT], parsed: list[_Parsed]) -> int:
    """The side's level count once ``parsed`` is applied (a key's last mention decides)."""
    final: dict[int, bool] = {}
    for lv in parsed:
        final[lv[0]] = lv[2] != 0.0
    return len(d) + sum(int(f) - (k in d) for k, f in final.items())


class OrderBook:
    """L2 book for one instrument.

    Parameters
    ----------
    instrument : Instrument, optional
        Gives the venue, symbol, size conversions and the price grid. Without it the book
        works in the venue's size units with a price grid of ``1 / price_scale``.
    venue, symbol : str
        Used when there is no instrument.
    price_scale : float, optional
        Ticks per unit price for the integer keys; default ``10**(price_decimals + 2)`` of the
        instrument, else ``1e8``.
    max_levels : int
        The most levels a side may hold (default :data:`DEFAULT_MAX_LEVELS`); a snapshot or
        delta that would leave more is refused with :class:`LevelCapError`.

    Attributes
    ----------
    instrument : Instrument or None
        As given.
    venue, symbol : str
        The instrument's, else as given.
    seq : int or None
        The sequence number of the last event applied with :meth:`apply`.
    stale : bool
        True until the first snapshot, and from a gap or checksum failure (set by the feed)
        to the next snapshot.
    updates : int
        Snapshots and deltas applied.
    last_exch_ts_ns, last_recv_ts_ns : int
        The venue's and the local receive time of the last event applied with :meth:`apply`.

    Notes
    -----
    ``stale`` is set by the feed handler on a sequence gap or checksum failure and cleared by
    the next snapshot; ``valid`` is False while the book is stale, empty on a side, or crossed
    (best bid >= best ask). A crossed book is never served as valid.

    Every price must be a finite number > 0 and every size a finite number >= 0 (0 removes a
    level): a snapshot or delta holding any other level is refused whole with
    :class:`InvalidLevelError`, and the book is left as it was.
    """

    __slots__ = (
        "_akeys",
        "_asks",
        "_band",
        "_bids",
        "_bkeys",
        "_max",
        "_scale",
        "_version",
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
        max_levels: int = DEFAULT_MAX_LEVELS,
    ) -> None:
        self.instrument = instrument
        self.venue = instrument.venue if instrument else venue
        self.symbol = instrument.symbol if instrument else symbol
        self._scale = check_price_scale(instrument, price_scale)
        self._max = check_max_levels(max_levels)
        self._bids: dict[int, _LevelT] = {}
        self._asks: dict[int, _LevelT] = {}
        self._bkeys: list[int] = []  # ticks, ascending: best bid last
        self._akeys: list[int] = []  # negated ticks, ascending: best ask last
        self._band: list[Any] = _no_band()  # tracked depth bands, see depth_within_bps
        self._version = 0
        self.seq: int | None = None
        self.stale = True  # until the first snapshot
        self.updates = 0
        self.last_exch_ts_ns = 0
        self.last_recv_ts_ns = 0

    @property
    def price_scale(self) -> float:
        """Ticks per unit price of the integer keys."""
        return self._scale

    @property
    def max_levels(self) -> int:
        """The most levels a side may hold."""
        return self._max

    @property
    def version(self) -> int:
        """A counter bumped by every change of the levels (apply, remove_crossed, clear).

        Equal versions of one book mean equal levels: a cache of anything derived from the
        levels can be keyed on ``(book, book.version)``.
        """
        return self._version

    # -- mutation -----------------------------------------------------------------------
    def clear(self) -> None:
        """Remove every level; the book is stale (and ``seq`` None) until the next snapshot."""
        self._bids.clear()
        self._asks.clear()
        self._bkeys.clear()
        self._akeys.clear()
        self._band = _no_band()
        self._version += 1
        self.seq = None
        self.stale = True

    def apply(self, event: BookSnapshot | BookDelta) -> None:
        """Apply a snapshot (replaces the book, clears ``stale``) or a delta.

        Sets ``seq``, ``last_exch_ts_ns`` and ``last_recv_ts_ns`` from the event; a refused
        event (:class:`BookInputError`) changes nothing.
        """
        if type(event) is BookSnapshot:
            self.apply_snapshot(event.bids, event.asks)
        else:
            self.apply_delta(event.bids, event.asks)
        self.seq = event.seq
        self.last_exch_ts_ns = event.exch_ts_ns
        self.last_recv_ts_ns = event.recv_ts_ns

    def apply_snapshot(self, bids: Iterable[Level], asks: Iterable[Level]) -> None:
        """Replace the book by these levels and clear ``stale``.

        Parameters
        ----------
        bids, asks : iterable of ``[price_str, size_str, ...]``
            As the venue sent them (the lists orjson gives); any order. A size of zero means
            the level is absent; where a price appears twice its last mention wins.

        Raises
        ------
        InvalidLevelError
            A level whose price or size is not a valid number (see the class notes).
        LevelCapError
            More than ``max_levels`` levels on a side.
        """
        scale = self._scale
        pb = _parse(bids, "bid", 1, scale)
        pa = _parse(asks, "ask", -1, scale)
        bd: dict[int, _LevelT] = {}
        for k, p, s, ps, ss in pb:
            if s > 0.0:
                bd[k] = (p, s, ps, ss)
            else:  # a zero size in a snapshot: the level is absent (last mention wins)
                bd.pop(k, None)
        ad: dict[int, _LevelT] = {}
        for k, p, s, ps, ss in pa:
            if s > 0.0:
                ad[k] = (p, s, ps, ss)
            else:
                ad.pop(k, None)
        if len(bd) > self._max:
            raise cap_error("snapshot", "bid", len(bd), self._max)
        if len(ad) > self._max:
            raise cap_error("snapshot", "ask", len(ad), self._max)
        self._bids = bd
        self._asks = ad
        self._bkeys = sorted(bd)
        self._akeys = sorted(ad)
        self._band = _no_band()
        self._version += 1
        self.stale = False
        self.updates += 1

    def apply_delta(self, bids: Iterable[Level], asks: Iterable[Level]) -> None:
        """Apply changed levels: a size sets the level, a size of zero removes it.

        Parameters
        ----------
        bids, asks : iterable of ``[price_str, size_str, ...]``
            As the venue sent them (the lists orjson gives), applied in order.

        Raises
        ------
        InvalidLevelError
            A level whose price or size is not a valid number (see the class notes).
        LevelCapError
            The delta would leave more than ``max_levels`` levels on a side.
        """
        scale = self._scale
        pb = _parse(bids, "bid", 1, scale)
        pa = _parse(asks, "ask", -1, scale)
        cap = self._max
        for d, parsed, side in ((self._bids, pb, "bid"), (self._asks, pa, "ask")):
            if len(d) + len(parsed) > cap:  # else it cannot exceed the cap
                n = _delta_count(d, parsed)
                if n > cap:
                    raise cap_error("delta", side, n, cap)
        # the tracked depth band of each side (see depth_within_bps) is kept up to date here
        band = self._band
        band[1] = _apply_side(self._bids, self._bkeys, pb, band[0], band[1])
        band[4] = _apply_side(self._asks, self._akeys, pa, band[3], band[4])
        self._version += 1
        self.updates += 1

    def apply_arrays(self, starts: Any, snapshot: Any, is_bid: Any, price: Any, amount: Any,
                     *, uncross: bool = False, refused: str = "raise") -> ArraysApplied:
        """Apply a run of updates given column-wise (a Tardis chunk) in one call.

        Equivalent to, for each update ``u`` in order (its rows ``r`` from ``starts[u]`` to
        ``starts[u + 1]`` excluded, the last to the end of the rows)::

            bids = [(price[r], amount[r]) for r in rows if is_bid[r]]
            asks = [(price[r], amount[r]) for r in rows if not is_bid[r]]
            self.apply_snapshot(bids, asks) if snapshot[u] else self.apply_delta(bids, asks)
            if uncross and self.crossed:
                self.remove_crossed()

        With ``refused="stale"`` a refused update is counted instead of raised, the book left
        as it was but marked stale, and while the book is stale its deltas are skipped until a
        snapshot: what a venue feed does with an event its book refuses.

        Parameters
        ----------
        starts : array of int
            The first row of each update: starts at 0, strictly increasing, below the rows.
        snapshot : array of bool
            Per update: a snapshot (replaces the book) or a delta.
        is_bid : array of bool
            Per row: a bid or an ask level.
        price, amount : sequence of str, or (offsets, data)
            Per row: the level's price and size strings (an amount of zero removes it); or
            the Arrow string layout, ``offsets`` (rows + 1 integers) into the UTF-8 bytes
            ``data``, row ``r`` being ``data[offsets[r]:offsets[r + 1]]`` (a kept level's
            strings are made from those bytes).
        uncross : bool
            Remove the crossing levels after an update that leaves the book crossed.
        refused : {"raise", "stale"}
            What a refused update does (see above).

        Returns
        -------
        ArraysApplied
            ``(crossed, removed, refused, skipped)``: the updates after which the book was
            crossed, the levels ``uncross`` removed, the updates refused and the deltas skipped
            while the book was stale (the last two only with ``refused="stale"``).

        Raises
        ------
        InvalidLevelError, LevelCapError
            With ``refused="raise"``, as :meth:`apply_snapshot` and :meth:`apply_delta`, for
            the first update refused; its index is the error's ``update``. The updates before
            it are applied, it is not.
        ValueError
            Arrays of inconsistent lengths, or ``starts`` not as described.
        """
        stale_mode = check_refused(refused)
        if (type(price) is tuple) != (type(amount) is tuple):
            raise ValueError("price and amount must both be sequences of str or both "
                             "(offsets, data) pairs")
        st = np.ascontiguousarray(starts, dtype=np.int64).tolist()
        sn = np.ascontiguousarray(snapshot, dtype=np.bool_).tolist()
        bd = np.ascontiguousarray(is_bid, dtype=np.bool_).tolist()
        pv = _strings(price, "price")
        av = _strings(amount, "amount")
        nr = len(pv)
        if len(av) != nr or len(bd) != nr:
            raise ValueError(f"is_bid, price and amount must have one entry a row: "
                             f"{len(bd)}, {nr}, {len(av)}")
        if len(sn) != len(st):
            raise ValueError(f"snapshot has {len(sn)} entries for {len(st)} updates")
        if not st:
            if nr:
                raise ValueError(f"{nr} rows but no update starts")
            return ArraysApplied(0, 0, 0, 0)
        if st[0] != 0:
            raise ValueError(f"starts[0]={st[0]} must be 0")
        ends = [*st[1:], nr]
        for u, (a, b) in enumerate(zip(st, ends)):
            if not a < b <= nr:
                raise ValueError(f"starts must be strictly increasing and below the {nr} rows "
                                 f"(starts[{u}]={a})")
        crossed = removed = n_refused = skipped = 0
        for u, (a, b) in enumerate(zip(st, ends)):
            if stale_mode and not sn[u] and self.stale:
                skipped += 1  # a stale book waits for a snapshot
                continue
            bids = [(pv[r], av[r]) for r in range(a, b) if bd[r]]
            asks = [(pv[r], av[r]) for r in range(a, b) if not bd[r]]
            try:
                if sn[u]:
                    self.apply_snapshot(bids, asks)
                else:
                    self.apply_delta(bids, asks)
            except BookInputError as e:
                if not stale_mode:
                    e.update = u
                    raise
                n_refused += 1
                self.stale = True
                continue
            if self.crossed:
                crossed += 1
                if uncross:
                    i, j = self.remove_crossed()
                    removed += i + j
        return ArraysApplied(crossed, removed, n_refused, skipped)

    def truncate(self, depth: int) -> int:
        """Drop the worst levels beyond ``depth`` a side; return how many were dropped.

        For a venue that keeps its book at the subscribed depth and sends no removal for a
        level pushed beyond it (Kraken). The removal goes through :meth:`apply_delta`, so the
        tracked depth bands stay consistent.
        """
        if type(depth) is not int or depth < 1:
            raise ValueError(f"depth={depth!r} must be an integer >= 1")
        # keys run worst first: the first n - depth keys are the levels beyond the depth
        drop_b = [(self._bids[k][2], "0") for k in self._bkeys[:max(0, len(self._bkeys) - depth)]]
        drop_a = [(self._asks[k][2], "0") for k in self._akeys[:max(0, len(self._akeys) - depth)]]
        if drop_b or drop_a:
            self.apply_delta(drop_b, drop_a)
        return len(drop_b) + len(drop_a)

    def remove_crossed(self) -> tuple[int, int]:
        """Uncross the book by removing the fewest levels; return ``(bids_removed, asks_removed)``.

        Rule: choose how many of the best bids (:math:`i`) and the best asks (:math:`j`) to
        remove so that the remaining best bid is below the remaining best ask (or a side is
        empty), minimising :math:`i + j`; ties go to the smaller removed size (the sizes summed
        best first), then to the smaller :math:`i`. For a full-snapshot feed with stale levels
        stuck on one side (the GoQuant relay), this removes exactly the stuck levels.

        Notes
        -----
        For each :math:`i` the least :math:`j` is the number of asks at or below the
        :math:`(i+1)`-th best bid, which falls as :math:`i` grows: one pass over the bids with
        a pointer into the asks, stopped once :math:`i` alone exceeds the best count found,
        so the work is linear in the levels removed plus the asks at or below the best bid.
        """
        if not self.crossed:
            return (0, 0)
        nb, na = _uncross(self._bkeys, self._akeys, self._bids, self._asks)
        bkeys = self._bkeys
        akeys = self._akeys
        for k in bkeys[len(bkeys) - nb:]:
            del self._bids[k]
        for k in akeys[len(akeys) - na:]:
            del self._asks[k]
        del bkeys[len(bkeys) - nb:]
        del akeys[len(akeys) - na:]
        self._band = _no_band()
        self._version += 1
        return (nb, na)

    # -- top of book --------------------------------------------------------------------
    @property
    def best_bid(self) -> float:
        """Best bid price, NaN when the side is empty."""
        return self._bids[self._bkeys[-1]][0] if self._bkeys else math.nan

    @property
    def best_ask(self) -> float:
        """Best ask price, NaN when the side is empty."""
        return self._asks[self._akeys[-1]][0] if self._akeys else math.nan

    @property
    def best_bid_size(self) -> float:
        """Size at the best bid (venue units), NaN when the side is empty."""
        return self._bids[self._bkeys[-1]][1] if self._bkeys else math.nan

    @property
    def best_ask_size(self) -> float:
        """Size at the best ask (venue units), NaN when the side is empty."""
        return self._asks[self._akeys[-1]][1] if self._akeys else math.nan

    @property
    def mid(self) -> float:
        """``(best_bid + best_ask) / 2``, NaN when a side is empty."""
        bk = self._bkeys
        ak = self._akeys
        if bk and ak:  # read on every tick by the features and the estimate: inlined
            return 0.5 * (self._bids[bk[-1]][0] + self._asks[ak[-1]][0])
        return math.nan

    @property
    def spread(self) -> float:
        """``best_ask - best_bid``, NaN when a side is empty."""
        bk = self._bkeys
        ak = self._akeys
        if bk and ak:
            return self._asks[ak[-1]][0] - self._bids[bk[-1]][0]
        return math.nan

    @property
    def spread_bps(self) -> float:
        """The spread in basis points of the mid."""
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
        """Best bid == best ask (on the tick grid)."""
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
        """Number of bid levels."""
        return len(self._bkeys)

    @property
    def n_asks(self) -> int:
        """Number of ask levels."""
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
        return _fsum([d[k][1] for k in _best(keys, levels)])

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
        # -tick >= -(ask edge)); an edge below every key is clamped to -KEY_LIMIT
        if i == 0:
            x = mid * (1 - bps / 1e4) * self._scale - 1e-6
            lim = math.ceil(x) if x > -_KEY_LIMIT_F else -KEY_LIMIT
        else:
            x = mid * (1 + bps / 1e4) * self._scale + 1e-6
            lim = -math.floor(x) if x < _KEY_LIMIT_F else -KEY_LIMIT
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
                tot += _fsum([d[k][1] for k in reversed(keys[start:old_start])])
            elif start > old_start:
                tot -= _fsum([d[k][1] for k in reversed(keys[old_start:start])])
            band[6] += 1
        else:
            tot = _fsum([d[k][1] for k in reversed(keys[start:])])  # best first, as before
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
            return (nan, nan, nan, nan, nan, nan, _fsum([bd[k][1] for k in bk[:-levels - 1:-1]]),
                    _fsum([ad[k][1] for k in ak[:-levels - 1:-1]]))
        b = bd[bk[-1]]
        a = ad[ak[-1]]
        mid = 0.5 * (b[0] + a[0])
        return (b[0], b[1], a[0], a[1], self._band_depth(0, bd, bk, mid, bps),
                self._band_depth(3, ad, ak, mid, bps),
                _fsum([bd[k][1] for k in bk[:-levels - 1:-1]]),
                _fsum([ad[k][1] for k in ak[:-levels - 1:-1]]))

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

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickling and :mod:`copy`: the book is rebuilt from its levels' venue strings (the
        copy is independent; its tracked depth bands start afresh)."""
        return (_rebuild, (type(self), self.instrument, self._scale, self._max,
                           self.level_strings("bid", len(self._bkeys)),
                           self.level_strings("ask", len(self._akeys)),
                           (self.venue, self.symbol, self.seq, self.stale, self.updates,
                            self.last_exch_ts_ns, self.last_recv_ts_ns, self._version)))

    def __repr__(self) -> str:
        state = "stale" if self.stale else ("crossed" if self.crossed else "valid")
        return (f"OrderBook({self.venue}:{self.symbol} {state} bid={self.best_bid} "
                f"ask={self.best_ask} levels={self.n_bids}/{self.n_asks})")


def new_frozen(cls: Any, args: tuple[Any, ...]) -> Any:
    """``cls(*args)`` (the compiled module sets the fields of the frozen dataclass in C)."""
    import dataclasses

    n = len(dataclasses.fields(cls))
    if type(args) is not tuple or len(args) != n:
        raise TypeError(f"{cls.__name__} takes {n} values, got {args!r}")
    return cls(*args)


def string_pairs(levels: list[Any], side: str = "bid") -> list[tuple[str, str]]:
    """``levels`` as a new list of ``(price_str, size_str)`` pairs, each checked first: a list
    ``[price_str, size_str, ...]`` of two strings, the price a finite number > 0 and the size
    a finite number >= 0 (the shape a venue sending its levels as JSON strings must keep, e.g.
    the GoQuant relay). Raises :class:`InvalidLevelError` naming the first level that is not.
    """
    if type(levels) is not list:
        raise TypeError(f"levels must be a list, not {type(levels).__name__}")
    out: list[tuple[str, str]] = []
    for i, lv in enumerate(levels):
        if not (isinstance(lv, list) and len(lv) >= 2 and isinstance(lv[0], str)
                and isinstance(lv[1], str)):
            raise level_error(side, i, lv, "strings", None)
        try:
            p = float(lv[0])
        except ValueError:
            raise level_error(side, i, lv, "price_nan", lv[0]) from None
        try:
            s = float(lv[1])
        except ValueError:
            raise level_error(side, i, lv, "size_nan", lv[1]) from None
        if not 0.0 < p < _INF:
            raise level_error(side, i, lv, "price", p)
        if not 0.0 <= s < _INF:
            raise level_error(side, i, lv, "size", s)
        out.append((lv[0], lv[1]))
    return out


def _rebuild(cls: type[OrderBook], instrument: Instrument | None, price_scale: float,
             max_levels: int, bids: list[tuple[str, str]], asks: list[tuple[str, str]],
             state: tuple[Any, ...]) -> OrderBook:
    """Unpickle an :class:`OrderBook` (see ``OrderBook.__reduce__``)."""
    ob = cls(instrument, price_scale=price_scale, max_levels=max_levels)
    ob.apply_snapshot(bids, asks)
    (ob.venue, ob.symbol, ob.seq, ob.stale, ob.updates, ob.last_exch_ts_ns,
     ob.last_recv_ts_ns) = state[:7]
    ob._version = state[7]
    return ob


def _apply_side(d: dict[int, _LevelT], keys: list[int], parsed: list[_Parsed], lim: int,
                tot: float) -> float:
    """Apply parsed delta levels to one side; return the side's new in-band sum."""
    for k, p, s, ps, ss in parsed:
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
    return tot


def _uncross(bkeys: list[int], akeys: list[int], bids: dict[int, _LevelT],
             asks: dict[int, _LevelT]) -> tuple[int, int]:
    """``(i, j)`` of :meth:`OrderBook.remove_crossed`'s rule (see there) for a crossed book."""
    nb = len(bkeys)
    na = len(akeys)
    # j for i = 0: the asks at or below the best bid, i.e. with key -tick >= -best bid tick
    j = na - bisect_left(akeys, -bkeys[-1])
    # removed ask size of the best t asks, t = 0..j (prefix sums, best first)
    apre = [0.0] * (j + 1)
    acc = 0.0
    for t in range(j):
        acc += asks[akeys[na - 1 - t]][1]
        apre[t + 1] = acc
    best_n = nb + na + 1
    best_sz = 0.0
    best_i = best_j = 0
    bsum = 0.0
    i = 0
    while i <= nb and i <= best_n:
        if i < nb:
            bk = bkeys[nb - 1 - i]  # the (i+1)-th best bid's tick
            while j > 0 and -akeys[na - j] > bk:  # the j-th best ask is above it: keep it
                j -= 1
        else:
            j = 0
        n = i + j
        sz = bsum + apre[j]
        if n < best_n or (n == best_n and sz < best_sz):
            best_n, best_sz, best_i, best_j = n, sz, i, j
        if i < nb:
            bsum += bids[bkeys[nb - 1 - i]][1]
        i += 1
    return best_i, best_j


def _best(keys: list[int], n: int | None) -> list[int]:
    """The best ``n`` keys of a side's worst-first key list, best first (all when None)."""
    if n is None:
        return keys[::-1]
    if n >= 0:
        return keys[:-n - 1:-1]
    return keys[::-1][:n]  # a negative n: all but the worst -n, as a best-first slice would


def _fsum(xs: list[float]) -> float:
    """``sum(xs)`` as a float (``0.0`` for no levels, where ``sum`` gives the int 0)."""
    return sum(xs) if xs else 0.0
