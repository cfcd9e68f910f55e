"""OKX v5 public websocket: declarations, a pure parser and the venue's sequencing rules.

Channels handled (``wss://ws.okx.com:8443/ws/v5/public``):

* ``books``, ``books-l2-tbt``, ``books50-l2-tbt``: ``action`` ``snapshot`` → :class:`BookSnapshot`,
  ``update`` → :class:`BookDelta`, with ``seq=seqId``, ``prev_seq=prevSeqId`` and the venue
  ``checksum`` of the top 25 levels after the message is applied;
* ``books5``: every message is a snapshot of 5 levels a side;
* ``bbo-tbt``: :class:`BBO` (``update_id=seqId``), cross-checked against the book by the base class;
* ``trades`` / ``trades-all``: :class:`Trade` (``side`` is the taker's);
* ``tickers``: :class:`~tradesim_nb.events.Ticker` with the 24-hour volume in base currency
  (``volCcy24h`` for derivatives, which OKX gives in base currency, ``vol24h`` for spot and
  margin, which OKX gives in base currency there; NaN when absent);
* ``{"event":"subscribe"|"unsubscribe"}`` → ``FeedStatus("ack")``, ``{"event":"error"}`` →
  ``FeedStatus("error")``, the text ``pong`` → nothing.

Sequencing rule of the incremental book channels (OKX v5 docs, "Order book channel",
seqId/prevSeqId), per instrument, with ``last`` the seqId of the last applied message:

* a snapshot always applies and sets ``last = seqId`` (its prevSeqId is -1);
* an update with ``seqId <= last`` and ``prevSeqId < last`` is a re-delivery of a message
  already applied: dropped with a ``stale`` status (``FeedStats.stale_dropped``);
* any other update with ``prevSeqId != last`` is a **gap**: the book is marked stale, the
  instrument is put in ``needs_resync`` and later updates are dropped until the next snapshot;
* ``seqId == prevSeqId`` is a **heartbeat** (no change to the book, ``heartbeat`` status);
* ``seqId < prevSeqId`` is a **sequence reset** after maintenance: applied, ``sequence_reset``
  status, the chain continues from the new seqId;
* messages without seqId (older recordings, e.g. 2022) are chained by arrival order only; an
  update identical to the previous one of that instrument (same ``ts``, levels and checksum) is a
  duplicate: dropped with a ``stale`` status and counted in ``FeedStats.stale_dropped``.

After every applied message whose checksum is non-zero the book's top 25 levels must reproduce it
(:func:`okx_checksum`); a mismatch marks the book stale (``checksum_failed``) until a snapshot.

References
----------
OKX API v5 documentation, WebSocket public channels "Order book channel" (checksum, seqId and
prevSeqId), https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from collections.abc import Sequence
from typing import Any, ClassVar, Final

import orjson

from ...book import OrderBook, new_frozen
from ...events import BBO, BookDelta, BookSnapshot, Event, FeedStatus, Ticker, Trade
from ...feed import (
    MalformedFrame,
    SymbolState,
    VenueFeed,
    int_value,
    is_levels,
    load_json_levels,
    put_levels,
)

__all__ = [
    "BOOK_CHANNELS",
    "CHECKSUM_DEPTH",
    "KEEPALIVE_INTERVAL_S",
    "KEEPALIVE_MESSAGE",
    "PUBLIC_URL",
    "TICKER_CHANNEL",
    "OkxFeed",
    "okx_checksum",
    "subscribe_message",
    "unsubscribe_message",
]

PUBLIC_URL: Final = "wss://ws.okx.com:8443/ws/v5/public"
#: OKX closes a connection silent for 30 s; send this text at least every ``KEEPALIVE_INTERVAL_S``.
KEEPALIVE_MESSAGE: Final = "ping"
KEEPALIVE_INTERVAL_S: Final = 25.0
#: incremental book channels (snapshot then updates, seqId/prevSeqId, checksum)
BOOK_CHANNELS: Final = frozenset({"books", "books-l2-tbt", "books50-l2-tbt"})
#: levels a side that enter the checksum
CHECKSUM_DEPTH: Final = 25

_TRADE_CHANNELS = frozenset({"trades", "trades-all"})
#: the 24-hour ticker channel (subscribed by the live client beside the book)
TICKER_CHANNEL: Final = "tickers"
#: instrument types whose ``vol24h`` counts base currency (derivatives: ``volCcy24h`` does)
_SPOT_TYPES = frozenset({"SPOT", "MARGIN"})
_ACK_EVENTS = frozenset({"subscribe", "unsubscribe"})
_MS = 1_000_000
#: a book frame's level arrays
_LEVEL_KEYS: Final = ("bids", "asks")
_ARG_RE = re.compile(r'"arg":\s*\{"channel":\s*"([^"]+)",\s*"instId":\s*"([^"]+)"')
_INT32 = 1 << 32
_INT31 = 1 << 31


def okx_checksum(bids: Sequence[Sequence[str]], asks: Sequence[Sequence[str]]) -> int:
    """OKX's CRC32 book checksum of the best 25 levels a side, as a signed 32-bit integer.

    Levels are best first, ``(price_str, size_str)`` exactly as the venue sent them. The
    checksum string interleaves the sides, bid first, ``"bid1px:bid1sz:ask1px:ask1sz:..."``;
    where one side has fewer levels the other side's remaining levels follow alone:

    .. math::

        c = \\mathrm{CRC32}\\big(b_1{:}a_1{:}b_2{:}a_2{:}\\dots\\big) - 2^{32}\\,
        [\\mathrm{CRC32}(\\cdot) \\ge 2^{31}]

    with :math:`b_i = \\text{px}:\\text{sz}` of the i-th bid, up to 25 per side.

    Examples
    --------
    >>> okx_checksum([("3366.1", "7")], [("3366.8", "9")])
    -2058547290
    """
    nb = len(bids)
    na = len(asks)
    if nb > CHECKSUM_DEPTH:
        nb = CHECKSUM_DEPTH
    if na > CHECKSUM_DEPTH:
        na = CHECKSUM_DEPTH
    parts: list[str] = []
    app = parts.append
    n = nb if nb < na else na
    for i in range(n):
        b = bids[i]
        a = asks[i]
        app(b[0])
        app(b[1])
        app(a[0])
        app(a[1])
    for i in range(n, nb):
        b = bids[i]
        app(b[0])
        app(b[1])
    for i in range(n, na):
        a = asks[i]
        app(a[0])
        app(a[1])
    c = zlib.crc32(":".join(parts).encode())
    return c - _INT32 if c >= _INT31 else c


def subscribe_message(channel: str, symbols: Sequence[str]) -> str:
    """The text to send to subscribe ``channel`` for each of ``symbols`` (instIds)."""
    return _op_message("subscribe", channel, symbols)


def unsubscribe_message(channel: str, symbols: Sequence[str]) -> str:
    """The text to send to unsubscribe ``channel`` for each of ``symbols``."""
    return _op_message("unsubscribe", channel, symbols)


def _op_message(op: str, channel: str, symbols: Sequence[str]) -> str:
    if not channel or not isinstance(channel, str):
        raise ValueError(f"channel={channel!r} must be a non-empty OKX channel name")
    if isinstance(symbols, str) or not symbols:
        raise ValueError(f"symbols={symbols!r} must be a non-empty sequence of instIds")
    args = [{"channel": channel, "instId": s} for s in symbols]
    return orjson.dumps({"op": op, "args": args}).decode()


def _int_or_none(x: Any) -> int | None:
    """A sequence id as sent (a JSON integer or its decimal string), else MalformedFrame."""
    if x is None:
        return None
    v = int_value(x)
    if v is None:
        raise MalformedFrame("bad_seq", f"sequence id {str(x)[:40]!r} is not an integer")
    return v


def _ts_ms(x: Any) -> int:
    """OKX's ``ts`` (ms since the epoch, sent as a decimal string) as an int."""
    v = int_value(x)
    if v is None or not 0 <= v < 1 << 53:
        raise MalformedFrame("bad_timestamp", f"ts {str(x)[:40]!r} is not ms since the epoch")
    return v


def _checksum(x: Any) -> int | None:
    """A checksum sent as a number or a string, as a signed 32-bit integer; 0 or absent: None
    (OKX: "0" means no checksum). Anything else is MalformedFrame ``bad_checksum``."""
    if x is None:
        return None
    v = int_value(x)
    if v is None or not -_INT31 <= v < _INT32:
        raise MalformedFrame("bad_checksum", f"checksum {str(x)[:40]!r} is not a 32-bit integer")
    if v >= _INT31:
        v -= _INT32  # an unsigned spelling of the signed value
    return v or None


class OkxFeed(VenueFeed):
    """OKX v5 public feed: parse raw frames, keep books, check sequence and checksums.

    Parameters
    ----------
    sanitize_crossed, verify_checksums : bool
        See :class:`tradesim_nb.feed.VenueFeed`.

    Attributes
    ----------
    ignored : collections.Counter
        Frames of channels that carry no event here (unknown channels), by channel.

    Notes
    -----
    The sequencing and checksum rules are in the module docstring. ``parse`` is pure: it turns
    one frame into events without touching the books.
    """

    venue = "okx"
    #: ``books5`` is a top-5 view beside the full book: a book of its own
    secondary_channels: ClassVar[frozenset[str]] = frozenset({"books5"})

    def __init__(self, *, sanitize_crossed: bool = False, verify_checksums: bool = True) -> None:
        super().__init__(sanitize_crossed=sanitize_crossed, verify_checksums=verify_checksums)
        self.ignored: Counter[str] = Counter()

    @classmethod
    def looks_like(cls, frame: str) -> bool:
        return '"arg":{"channel"' in frame or '"arg": {"channel"' in frame

    @classmethod
    def recognizes(cls, obj: Any) -> bool:
        arg = obj.get("arg") if type(obj) is dict else None
        return type(arg) is dict and "channel" in arg

    # -- parsing ---------------------------------------------------------------------------
    def salvage(self, frame: str | bytes) -> tuple[str, ...] | None:
        head = (frame[:400].decode("utf-8", "replace") if isinstance(frame, bytes)
                else frame[:400]).lstrip()
        if head.startswith('{"event"') or head.startswith("pong"):
            return ()
        m = _ARG_RE.search(head)
        if m is None:
            return None
        channel, inst = m.group(1), m.group(2)
        if channel in BOOK_CHANNELS or channel == "books5":
            return (inst, channel)
        return ()  # trades, tickers, bbo-tbt: no book changed

    def parse(self, frame: str | bytes, recv_ns: int) -> list[Event]:
        if frame == "pong" or frame == b"pong":
            return []
        msg, raw = load_json_levels(frame, _LEVEL_KEYS, self.raw_levels_min)
        arg = msg.get("arg")
        data = msg.get("data")
        if raw is not None and type(data) is list and len(data) == 1 and type(data[0]) is dict:
            put_levels(data[0], _LEVEL_KEYS, raw)  # a book frame's levels, read in place
        if data is None:
            event = msg.get("event")
            if event is None:
                raise MalformedFrame("no_data", "neither data nor event")
            return [self._event_status(msg, event, arg, recv_ns)]
        if type(arg) is not dict:
            raise MalformedFrame("no_arg", "data without arg")
        channel = arg.get("channel")
        if channel in BOOK_CHANNELS or channel == "books5":
            inst = arg.get("instId")
            if not inst or type(inst) is not str:
                raise MalformedFrame("no_instId", str(channel))
            try:
                return self._book(msg, channel, inst, data, recv_ns)
            except MalformedFrame as e:
                e.symbol = inst  # this book lost an update
                e.channel = channel
                raise
        if channel in _TRADE_CHANNELS:
            return [self._trade(d, recv_ns) for d in data]
        if channel == "bbo-tbt":
            inst = arg.get("instId")
            if not inst:
                raise MalformedFrame("no_instId", str(channel))
            return [self._bbo(inst, d, recv_ns) for d in data]
        if channel == TICKER_CHANNEL:
            inst = arg.get("instId")
            return [self._ticker(d, inst, recv_ns) for d in data]
        if isinstance(channel, str):
            self.ignored[channel] += 1
            return []
        raise MalformedFrame("no_channel", repr(arg))

    def _book(self, msg: dict[str, Any], channel: str, inst: str, data: Any,
              recv_ns: int) -> list[Event]:
        if type(data) is not list:
            raise MalformedFrame("bad_data", "data must be a list")
        if channel == "books5":
            return [self._snapshot(inst, d, recv_ns, channel) for d in data]
        action = msg.get("action")
        if action == "update":
            if len(data) == 1:  # the usual frame: no comprehension
                return [self._delta(inst, data[0], recv_ns, channel)]
            return [self._delta(inst, d, recv_ns, channel) for d in data]
        if action == "snapshot":
            return [self._snapshot(inst, d, recv_ns, channel) for d in data]
        raise MalformedFrame("bad_action", repr(action))

    def _event_status(self, msg: dict[str, Any], event: Any, arg: Any,
                      recv_ns: int) -> FeedStatus:
        sym = arg.get("instId", "") if type(arg) is dict else ""
        if event in _ACK_EVENTS:
            ch = arg.get("channel", "") if type(arg) is dict else ""
            return FeedStatus("ack", self.venue, sym, f"{event} {ch}", recv_ns)
        if event == "error":
            return FeedStatus("error", self.venue, sym,
                              f"code={msg.get('code')} {msg.get('msg', '')}", recv_ns)
        return FeedStatus("info", self.venue, sym, f"event={event}", recv_ns)

    def _delta(self, inst: str, d: Any, recv_ns: int, channel: str) -> BookDelta:
        try:
            b = d["bids"]
            a = d["asks"]
            if not (is_levels(b) and is_levels(a)):
                raise MalformedFrame("bad_levels", "bids/asks must be lists")
            # new_frozen: BookDelta(...) with its fields set in C (0.6 µs less a frame)
            return new_frozen(BookDelta, (self.venue, inst, b, a, _ts_ms(d["ts"]) * _MS, recv_ns,
                                          _int_or_none(d.get("seqId")),
                                          _int_or_none(d.get("prevSeqId")), None,
                                          _checksum(d.get("checksum")), channel))
        except KeyError as e:
            raise MalformedFrame("missing_field", f"books update without {e}") from None
        except TypeError:
            raise MalformedFrame("bad_data", "a data item must be an object") from None

    def _snapshot(self, inst: str, d: Any, recv_ns: int, channel: str) -> BookSnapshot:
        try:
            b = d["bids"]
            a = d["asks"]
            if not (is_levels(b) and is_levels(a)):
                raise MalformedFrame("bad_levels", "bids/asks must be lists")
            return BookSnapshot(self.venue, inst, b, a, _ts_ms(d["ts"]) * _MS,
                                recv_ns, _int_or_none(d.get("seqId")),
                                _int_or_none(d.get("prevSeqId")),
                                _checksum(d.get("checksum")), channel)
        except KeyError as e:
            raise MalformedFrame("missing_field", f"books snapshot without {e}") from None
        except TypeError:
            raise MalformedFrame("bad_data", "a data item must be an object") from None

    def _trade(self, d: dict[str, Any], recv_ns: int) -> Trade:
        try:
            side = d["side"]
            if side != "buy" and side != "sell":
                raise MalformedFrame("bad_side", repr(side))
            return Trade(self.venue, d["instId"], float(d["px"]), float(d["sz"]), side,
                         str(d["tradeId"]), int(d["ts"]) * _MS, recv_ns)
        except KeyError as e:
            raise MalformedFrame("missing_field", f"trade without {e}") from None

    def _ticker(self, d: dict[str, Any], inst: Any, recv_ns: int) -> Ticker:
        sym = d.get("instId") or inst
        if not isinstance(sym, str) or not sym:
            raise MalformedFrame("no_instId", "tickers")
        kind = d.get("instType") or ("SPOT" if sym.count("-") == 1 else "SWAP")
        key = "vol24h" if kind in _SPOT_TYPES else "volCcy24h"
        try:
            vol = float(d[key]) if key in d else float("nan")
            last = float(d["last"]) if "last" in d else float("nan")
            ts = int(d["ts"]) * _MS if "ts" in d else 0
        except (TypeError, ValueError) as e:
            raise MalformedFrame("bad_ticker", f"{sym}: {e}") from None
        return Ticker(self.venue, sym, vol, last, ts, recv_ns)

    def _bbo(self, inst: str, d: dict[str, Any], recv_ns: int) -> BBO:
        try:
            b = d["bids"][0]
            a = d["asks"][0]
            return BBO(self.venue, inst, float(b[0]), float(b[1]), float(a[0]), float(a[1]),
                       int(d["ts"]) * _MS, recv_ns, _int_or_none(d.get("seqId")))
        except (KeyError, IndexError) as e:
            raise MalformedFrame("missing_field", f"bbo-tbt without {e}") from None

    # -- applying --------------------------------------------------------------------------
    def on_event(self, ev: Event) -> list[Event]:
        try:
            return VenueFeed.on_event(self, ev)  # not super(): this runs on every frame
        except (ValueError, TypeError, IndexError) as e:
            # a level that is not (price_str, size_str): the book may be half-updated
            if type(ev) is not BookDelta and type(ev) is not BookSnapshot:
                raise
            reason = f"bad_level:{type(e).__name__}"
            self.malformed[reason] += 1
            sym = ev.symbol  # type: ignore[union-attr]
            return [FeedStatus("malformed", self.venue, sym, f"{reason}: {e}", ev.recv_ts_ns),
                    self.mark_stale(sym, "malformed", "book stale after a bad level",
                                    ev.recv_ts_ns)]

    def sequence(self, event: BookSnapshot | BookDelta, book: OrderBook,
                 state: SymbolState) -> bool:
        if type(event) is BookSnapshot:
            state.last_seq = event.seq
            state.extra["last_delta"] = None
            return True
        if not state.synced:
            # no snapshot yet, or stale after a gap: wait for a snapshot (counted)
            return self.drop_until_snapshot(event, state)
        seq = event.seq
        prev = event.prev_seq
        if seq is not None and prev is not None and state.last_seq is not None:
            sym = event.symbol
            if prev != state.last_seq:
                if seq <= state.last_seq and prev < state.last_seq:
                    # a re-delivery of a message already applied: the book is unchanged
                    self.stats[sym].stale_dropped += 1
                    state.pending.append(self.status(
                        "stale", sym, f"seqId {seq} <= last seqId {state.last_seq}",
                        event.recv_ts_ns))
                    return False
                state.pending.append(self.mark_stale(
                    sym, "gap", f"prevSeqId {prev} != last seqId {state.last_seq}",
                    event.recv_ts_ns))
                return False
            if seq == prev:
                self.stats[sym].heartbeats += 1
                state.pending.append(self.status("heartbeat", sym, f"seqId {seq}",
                                                 event.recv_ts_ns))
                return False
            if seq < prev:
                self.stats[sym].sequence_resets += 1
                state.pending.append(self.status("sequence_reset", sym,
                                                 f"seqId {seq} < prevSeqId {prev}",
                                                 event.recv_ts_ns))
            state.last_seq = seq
            return True
        # no sequence ids: chained by arrival order; drop an exact repeat of the last update
        last = state.extra.get("last_delta")
        if (last is not None and last.exch_ts_ns == event.exch_ts_ns
                and last.checksum == event.checksum and last.bids == event.bids
                and last.asks == event.asks):
            sym = event.symbol
            self.stats[sym].stale_dropped += 1
            state.pending.append(self.status("stale", sym, "duplicate update dropped",
                                             event.recv_ts_ns))
            return False
        state.extra["last_delta"] = event
        if seq is not None:
            state.last_seq = seq
        return True

    def verify(self, event: BookSnapshot | BookDelta, book: OrderBook) -> bool | None:
        if not event.checksum:
            return None
        c = zlib.crc32(book.checksum_string(CHECKSUM_DEPTH).encode())
        return (c - _INT32 if c >= _INT31 else c) == event.checksum

    def summary(self) -> dict[str, Any]:
        out = super().summary()
        out["ignored"] = dict(self.ignored)
        return out
