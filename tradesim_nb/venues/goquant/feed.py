"""GoQuant-style L2 relay: one full top-50 snapshot a message, string prices, no sequence ids.

Endpoint: ``wss://ws.gomarket-cpp.goquant.io/ws/l2-orderbook/okx/<SYMBOL>`` (one socket an
instrument, nothing to subscribe). Each message::

    {"timestamp": "2025-05-18T05:00:10Z", "exchange": "OKX", "symbol": "BTC-USDT-SWAP",
     "asks": [["103260", "601.05"], ...], "bids": [["103315.6", "1183.85"], ...]}

Every message replaces the book (:class:`BookSnapshot`); there is no sequence number and no
checksum, so the only integrity check available is the book's own shape.

Crossed books
-------------
The relay is known to publish crossed books: stale ask levels left below the best bid
(the captured ``btc_response_1..3`` keep asks at 103260 and 103260.1 while the best bid moves
from 103315.6 to 103881.9 over 3.5 hours). Such a snapshot is always **flagged** (``crossed``
status and ``FeedStats.crossed``). With ``sanitize_crossed=True`` (the default for this feed) it
is then **sanitized** by :meth:`tradesim_nb.book.OrderBook.remove_crossed`:

    remove the fewest levels that uncross the book — choose how many of the best bids
    (:math:`i`) and best asks (:math:`j`) to drop so that the remaining best bid is below the
    remaining best ask, minimising :math:`i + j`, ties broken by the smaller removed size.

Rationale: a stuck level is one price point that stayed behind, while the live side of the book
moved past it, so the side that needs fewer removals is the stale one. On the three crossed
samples this removes exactly the two stuck asks (103260 and 103260.1) and no bid; the number of
removed levels is counted in ``FeedStats.crossed_removed_levels``. With
``sanitize_crossed=False`` the book is kept as sent and is not ``valid``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Final

from ...book import InvalidLevelError, new_frozen, string_pairs
from ...events import BookSnapshot, Event
from ...feed import MalformedFrame, VenueFeed, is_levels, load_json_levels, put_levels

__all__ = ["BASE_URL", "GoQuantFeed", "url"]

BASE_URL: Final = "wss://ws.gomarket-cpp.goquant.io/ws/l2-orderbook/okx/"
#: the snapshot's level arrays
_LEVEL_KEYS: Final = ("asks", "bids")
_SYMBOL_RE = re.compile(r'"symbol":\s*"([^"]+)"')


def url(symbol: str) -> str:
    """The relay's websocket URL for one OKX instrument id, e.g. ``BTC-USDT-SWAP``."""
    if not symbol or not isinstance(symbol, str) or "/" in symbol or " " in symbol:
        raise ValueError(f"symbol={symbol!r} must be an OKX instId such as 'BTC-USDT-SWAP'")
    return BASE_URL + symbol


def _parse_ts_ns(ts: Any) -> int:
    """ISO-8601 UTC time (``...Z``, optional fraction) → ns since the epoch."""
    if not isinstance(ts, str):
        raise MalformedFrame("bad_timestamp", repr(ts))
    ns = _TS_CACHE.get(ts)
    if ns is not None:
        return ns
    try:
        dt = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedFrame("bad_timestamp", repr(ts)) from None
    if dt.tzinfo is None:
        raise MalformedFrame("bad_timestamp", f"{ts!r} has no time zone")
    whole = int(dt.replace(microsecond=0).timestamp())
    ns = whole * 1_000_000_000 + dt.microsecond * 1_000
    if len(_TS_CACHE) >= 256:  # the relay stamps whole seconds: a few distinct ones at a time
        _TS_CACHE.clear()
    _TS_CACHE[ts] = ns
    return ns


#: time stamp string -> ns, for the strings seen last (many messages share a second)
_TS_CACHE: dict[str, int] = {}


def _levels(side: str, levels: Any) -> list[tuple[str, str]]:
    """The ``(price_str, size_str)`` pairs of one side, checked in one compiled call."""
    if not is_levels(levels):
        raise MalformedFrame("bad_levels", f"{side} is not a list")
    try:
        return string_pairs(levels, side)
    except InvalidLevelError as e:  # counted by the book's reason: bad_level, bad_price, bad_size
        raise MalformedFrame(e.reason, str(e)) from None


class GoQuantFeed(VenueFeed):
    """The GoQuant relay: every message a full snapshot; crossed books flagged and sanitized.

    Parameters
    ----------
    sanitize_crossed : bool
        Default True here: remove the fewest levels that uncross a crossed snapshot (rule in the
        module docstring). False keeps the book as sent (then ``book.valid`` is False).
    verify_checksums : bool
        Accepted for a uniform interface; the relay sends no checksum.
    """

    venue = "goquant"
    snapshot_only = True

    def __init__(self, *, sanitize_crossed: bool = True, verify_checksums: bool = True) -> None:
        super().__init__(sanitize_crossed=sanitize_crossed, verify_checksums=verify_checksums)

    @classmethod
    def looks_like(cls, frame: str) -> bool:
        return '"exchange"' in frame and '"symbol"' in frame

    def salvage(self, frame: str | bytes) -> tuple[str, ...] | None:
        head = (frame[:400].decode("utf-8", "replace") if isinstance(frame, bytes)
                else frame[:400])
        m = _SYMBOL_RE.search(head)
        return None if m is None else (m.group(1), "")

    def parse(self, frame: str | bytes, recv_ns: int) -> list[Event]:
        msg, raw = load_json_levels(frame, _LEVEL_KEYS, self.raw_levels_min)
        if raw is not None:
            put_levels(msg, _LEVEL_KEYS, raw)  # the levels, read in place
        missing = [k for k in ("timestamp", "symbol", "asks", "bids") if k not in msg]
        if missing:
            sym = msg.get("symbol")
            raise MalformedFrame("missing_field", ", ".join(missing),
                                 symbol=sym if type(sym) is str else "")
        sym = msg["symbol"]
        if not isinstance(sym, str) or not sym:
            raise MalformedFrame("bad_symbol", repr(sym))
        try:
            # new_frozen: BookSnapshot(...) with its fields set in C
            return [new_frozen(BookSnapshot, (self.venue, sym, _levels("bids", msg["bids"]),
                                              _levels("asks", msg["asks"]),
                                              _parse_ts_ns(msg["timestamp"]), recv_ns, None,
                                              None, None, ""))]
        except MalformedFrame as e:
            e.symbol = sym  # the book's latest state is not known
            raise
