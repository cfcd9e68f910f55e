r"""Kraken WebSocket API v1 (public, ``wss://ws.kraken.com``): the ``book`` channel's feed rules.

Channel messages are JSON arrays ``[channelID, payload..., channelName, pair]``:

* ``book-<depth>`` snapshot ``[id, {"as": [...], "bs": [...]}, "book-1000", "XBT/USD"]`` →
  :class:`BookSnapshot`; levels are ``[price, volume, timestamp]``, asks ascending, bids
  descending, at most ``depth`` a side. Snapshots carry no checksum;
* ``book-<depth>`` update ``[id, {"a": [...]}, "book-1000", pair]``, ``{"b": [...]}``, or both
  sides as two objects ``[id, {"a": [...]}, {"b": [...], "c": "..."}, "book-1000", pair]`` →
  one :class:`BookDelta` (both sides). The last object carries ``"c"``, the checksum of the
  book after the whole message. Volume ``"0.00000000"`` removes the level; a fourth field
  ``"r"`` marks a *republished* level (one that comes back into the subscribed depth after
  deletions) and is applied like any update;
* ``ticker`` ``[id, {"a", "b", "c": [price, lot], "v": [today, last 24 h], ...}, "ticker",
  pair]`` → :class:`~tradesim_nb.events.Ticker` (``v[1]``, the volume of the last 24 hours
  in base currency; ``c[0]``, the last trade's price);
* other channels (``trade``, ``spread``, ``ohlc-*``) are counted in
  :attr:`KrakenFeed.ignored` by channel and produce no event.

Events are JSON objects: ``systemStatus`` → ``FeedStatus("info")``; ``subscriptionStatus`` with
``status`` ``subscribed``/``unsubscribed`` → ``ack``, ``error`` → ``error``; ``heartbeat`` (sent
about once a second when a connection is otherwise quiet) and ``pong`` → ``heartbeat``.

``exch_ts_ns`` is the latest level timestamp in the message (seconds with six decimals, turned
into integer ns exactly, without a float). Kraken v1 has no sequence numbers: ``seq`` is None.

The book is kept at the subscribed depth :math:`D` (from the channel name ``book-D``, or
``KrakenFeed(depth=...)``): Kraken sends no removal for a level pushed beyond :math:`D` by an
insert, so after each message the worst levels beyond :math:`D` are dropped
(:meth:`KrakenBook.truncate`).

Every level of an update must be at least as new (its time stamp) as the level the book holds:
an older one is a re-delivered or reordered update (``time_backwards``: the book is stale
until a snapshot). The checksum alone cannot always tell: a late duplicate may bring back
exactly the book its own checksum describes.

After every update the book's top 10 levels a side must reproduce ``"c"``
(:func:`kraken_checksum`):

.. math::

    c = \mathrm{CRC32}\big(f(a_1^p) f(a_1^v) \cdots f(a_{10}^p) f(a_{10}^v)\,
        f(b_1^p) f(b_1^v) \cdots f(b_{10}^p) f(b_{10}^v)\big)

with asks :math:`a_i` ascending and bids :math:`b_i` descending, :math:`x^p`, :math:`x^v` a
level's price and volume strings exactly as Kraken sent them, and :math:`f` removing the
decimal point and then the leading zeros (``"0.05005"`` → ``"5005"``); :math:`c` is unsigned,
sent as a decimal string. A mismatch marks the book stale (``checksum_failed``) and puts the pair
in ``needs_resync``; updates are then dropped (``stale``) until a fresh snapshot, which for
Kraken v1 means an unsubscribe and a subscribe (:func:`resync_messages`).

References
----------
Kraken Spot WebSocket API v1, "Book" (subscription depths 10, 25, 100, 500, 1000; snapshot and
update layout; republish flag), https://docs.kraken.com/exchange/api-reference/spot-websocket-v1/book
Kraken, "Book checksum (WebSocket v1)",
https://docs.kraken.com/exchange/guides/websockets/book-checksum-v1
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from collections.abc import Sequence
from typing import Any, ClassVar, Final

import orjson

from ...book import DEFAULT_MAX_LEVELS, OrderBook
from ...events import BookDelta, BookSnapshot, Event, FeedStatus, Level, Ticker
from ...feed import MalformedFrame, SymbolState, VenueFeed
from ...instruments import Instrument

__all__ = [
    "BOOK_DEPTHS",
    "CHECKSUM_DEPTH",
    "HEARTBEAT_INTERVAL_S",
    "PING_MESSAGE",
    "PUBLIC_URL",
    "KrakenBook",
    "KrakenFeed",
    "book_channel",
    "checksum_string",
    "kraken_checksum",
    "resync_messages",
    "subscribe_message",
    "ticker_subscribe_message",
    "unsubscribe_message",
]

PUBLIC_URL: Final = "wss://ws.kraken.com"
#: the depths a ``book`` subscription accepts (levels a side); Kraken's default is 10
BOOK_DEPTHS: Final = (10, 25, 100, 500, 1000)
#: levels a side that enter the checksum, whatever the subscribed depth
CHECKSUM_DEPTH: Final = 10
#: Kraken sends ``{"event":"heartbeat"}`` about this often when a connection has no other traffic
HEARTBEAT_INTERVAL_S: Final = 1.0
#: an application-level ping; Kraken answers ``{"event":"pong"}``
PING_MESSAGE: Final = '{"event":"ping"}'

_NS = 1_000_000_000
_HEAD_ID_RE = re.compile(r"\[\s*(\d+)\s*,")
_TAIL_RE = re.compile(r'"([a-z]+[-a-z0-9]*)"\s*,\s*"([^"]+)"\s*\]\s*$')
_FMT_CACHE_MAX = 50_000
_LEVEL_TS_MAX = 200_000
_INF = float("inf")
_PAD9 = "000000000"


# -- declarations (pure string work, for the live client and the local venue) -----------------
def _check_depth(depth: Any) -> int:
    if type(depth) is not int or depth not in BOOK_DEPTHS:
        raise ValueError(f"depth={depth!r} is not one of {', '.join(map(str, BOOK_DEPTHS))}")
    return depth


def _check_pairs(pairs: Sequence[str]) -> list[str]:
    if isinstance(pairs, str) or not pairs:
        raise ValueError(f"pairs={pairs!r} must be a non-empty sequence of ws pair names "
                         "such as 'XBT/USD'")
    out = list(pairs)
    for p in out:
        if not (isinstance(p, str) and "/" in p):
            raise ValueError(f"pair={p!r} is not a Kraken ws pair name such as 'XBT/USD'")
    return out


def book_channel(depth: int = 1000) -> str:
    """The channel name of a book subscription: ``"book-<depth>"``."""
    return f"book-{_check_depth(depth)}"


def _book_request(event: str, pairs: Sequence[str], depth: int, reqid: int | None) -> str:
    msg: dict[str, Any] = {"event": event, "pair": _check_pairs(pairs),
                           "subscription": {"name": "book", "depth": _check_depth(depth)}}
    if reqid is not None:
        if type(reqid) is not int or reqid < 0:
            raise ValueError(f"reqid={reqid!r} must be an integer >= 0")
        msg["reqid"] = reqid
    return orjson.dumps(msg).decode()


def subscribe_message(pairs: Sequence[str], depth: int = 1000, reqid: int | None = None) -> str:
    """``{"event":"subscribe","pair":[...],"subscription":{"name":"book","depth":D}}``."""
    return _book_request("subscribe", pairs, depth, reqid)


def unsubscribe_message(pairs: Sequence[str], depth: int = 1000,
                        reqid: int | None = None) -> str:
    """The matching ``unsubscribe`` request."""
    return _book_request("unsubscribe", pairs, depth, reqid)


def ticker_subscribe_message(pairs: Sequence[str], reqid: int | None = None) -> str:
    """``{"event":"subscribe","pair":[...],"subscription":{"name":"ticker"}}``: the 24-hour
    statistics of each pair."""
    msg: dict[str, Any] = {"event": "subscribe", "pair": _check_pairs(pairs),
                           "subscription": {"name": "ticker"}}
    if reqid is not None:
        if type(reqid) is not int or reqid < 0:
            raise ValueError(f"reqid={reqid!r} must be an integer >= 0")
        msg["reqid"] = reqid
    return orjson.dumps(msg).decode()


def resync_messages(pair: str, depth: int = 1000) -> tuple[str, str]:
    """Kraken v1 has no snapshot request: a resync is ``(unsubscribe, subscribe)`` for the pair;
    the new subscription starts with a fresh snapshot."""
    return unsubscribe_message([pair], depth), subscribe_message([pair], depth)


# -- checksum -------------------------------------------------------------------------------
def checksum_string(asks: Sequence[Level], bids: Sequence[Level]) -> str:
    """The text Kraken's CRC32 is taken of: the best 10 asks (ascending) then the best 10 bids
    (descending), each level as its price then its volume string without the decimal point and
    without leading zeros. ``asks`` and ``bids`` are best first, ``(price_str, volume_str, ...)``.

    Examples
    --------
    >>> checksum_string([("0.05005", "0.00000500")], [("0.05000", "0.00000500")])
    '50055005000500'
    """
    parts: list[str] = []
    app = parts.append
    for lv in asks[:CHECKSUM_DEPTH]:
        app(lv[0].replace(".", "").lstrip("0"))
        app(lv[1].replace(".", "").lstrip("0"))
    for lv in bids[:CHECKSUM_DEPTH]:
        app(lv[0].replace(".", "").lstrip("0"))
        app(lv[1].replace(".", "").lstrip("0"))
    return "".join(parts)


def kraken_checksum(asks: Sequence[Level], bids: Sequence[Level]) -> int:
    """Kraken's book checksum, an unsigned 32-bit integer: ``CRC32(checksum_string(asks, bids))``.

    Examples
    --------
    >>> kraken_checksum([("0.05005", "0.00000500")], [("0.05000", "0.00000500")])
    3851508195
    """
    return zlib.crc32(checksum_string(asks, bids).encode())


# -- the book kept at the subscribed depth ----------------------------------------------------
class KrakenBook(OrderBook):
    """An :class:`~tradesim_nb.book.OrderBook` kept at most ``max_depth`` levels a side.

    Parameters
    ----------
    instrument : Instrument, optional
        The pair's instrument (price grid, sizes), as for :class:`~tradesim_nb.book.OrderBook`.
    venue, symbol : str
        Used without an instrument, as for :class:`~tradesim_nb.book.OrderBook`.
    max_depth : int
        Levels a side to keep (the subscribed depth); 0 keeps every level.
    max_levels : int
        The level cap, as for :class:`~tradesim_nb.book.OrderBook`.

    Notes
    -----
    Kraken sends no removal for a level pushed beyond the subscribed depth by an insert, so
    :meth:`apply` drops the worst levels beyond ``max_depth`` after every event; a level that comes
    back into the depth later is republished by Kraken (flag ``"r"``).
    """

    __slots__ = ("_fmt", "max_depth", "truncated")

    def __init__(self, instrument: Instrument | None = None, *, venue: str = "",
                 symbol: str = "", max_depth: int = 0,
                 max_levels: int = DEFAULT_MAX_LEVELS) -> None:
        super().__init__(instrument, venue=venue, symbol=symbol, max_levels=max_levels)
        if type(max_depth) is not int or max_depth < 0:
            raise ValueError(f"max_depth={max_depth!r} must be an integer >= 0 (0: no limit)")
        self.max_depth = max_depth
        #: levels dropped beyond the depth since the book was made
        self.truncated = 0
        self._fmt: dict[Any, str] = {}  # level -> its checksum text, see kraken_checksum_string

    def kraken_checksum_string(self) -> str:
        """:func:`checksum_string` of the book's best 10 asks and bids.

        Each level's text is cached (keyed by the level, so a changed volume is a new entry;
        the cache is emptied past 50,000 entries): about four times faster than formatting the
        20 levels on every update.
        """
        fmt = self._fmt
        if len(fmt) > _FMT_CACHE_MAX:
            fmt.clear()
        parts: list[str] = []
        app = parts.append
        for side in ("ask", "bid"):
            for lv in self.level_strings(side, CHECKSUM_DEPTH):  # best first
                s = fmt.get(lv)
                if s is None:
                    s = fmt[lv] = (lv[0].replace(".", "").lstrip("0")
                                   + lv[1].replace(".", "").lstrip("0"))
                app(s)
        return "".join(parts)

    def kraken_checksum(self) -> int:
        """Kraken's CRC32 of this book (:func:`kraken_checksum` of its best 10 levels a side)."""
        return zlib.crc32(self.kraken_checksum_string().encode())

    def apply(self, event: BookSnapshot | BookDelta) -> None:
        super().apply(event)
        d = self.max_depth
        if d and (self.n_bids > d or self.n_asks > d):
            self.truncated += self.truncate(d)


# -- parsing helpers ---------------------------------------------------------------------------
def _ts_ns(s: Any) -> int:
    """``"1618678133.366461"`` (epoch seconds) → ns, exactly."""
    if type(s) is not str:
        raise MalformedFrame("bad_level", f"timestamp {s!r} is not a string")
    i = s.find(".")
    try:
        if i < 0:
            return int(s) * _NS
        frac = s[i + 1:]
        if len(frac) > 9 or not frac.isdigit():
            raise ValueError(s)
        return int(s[:i]) * _NS + int((frac + _PAD9)[:9])
    except ValueError:
        raise MalformedFrame("bad_level", f"timestamp {s!r}") from None


def _check_levels(levels: Any, key: str) -> int:
    """Validate ``[price, volume, timestamp(, "r")]`` levels; return the latest timestamp (ns)."""
    if type(levels) is not list:
        raise MalformedFrame("bad_levels", f"{key!r} is {type(levels).__name__}, not a list")
    ts = 0
    for lv in levels:
        if type(lv) is not list or not 3 <= len(lv) <= 4:
            raise MalformedFrame("bad_level", f"{key}: {str(lv)[:80]}")
        p = lv[0]
        v = lv[1]
        if type(p) is not str or type(v) is not str:
            raise MalformedFrame("bad_level", f"{key}: price/volume not strings: {str(lv)[:80]}")
        try:
            fp = float(p)
            fv = float(v)
        except ValueError:
            raise MalformedFrame("bad_level", f"{key}: {str(lv)[:80]}") from None
        if not (0.0 < fp < _INF and 0.0 <= fv < _INF):
            raise MalformedFrame("bad_level", f"{key}: price must be > 0 and volume >= 0, "
                                 f"finite: {str(lv)[:80]}")
        if len(lv) == 4 and lv[3] != "r":
            raise MalformedFrame("bad_level", f"{key}: unknown level flag {lv[3]!r}")
        t = _ts_ns(lv[2])
        if t > ts:
            ts = t
    return ts


def _depth_of(channel: str) -> int:
    try:
        d = int(channel[5:])
    except ValueError:
        raise MalformedFrame("bad_channel", repr(channel)) from None
    if d < 1:
        raise MalformedFrame("bad_channel", repr(channel))
    return d


class KrakenFeed(VenueFeed):
    """Kraken WebSocket v1 public ``book`` feed: parse frames, keep books at the subscribed
    depth, verify every update's CRC32.

    Parameters
    ----------
    depth : int, optional
        Keep at most this many levels a side (one of :data:`BOOK_DEPTHS`) whatever the
        subscription says; default: the subscribed depth of each pair (from the channel name
        ``book-<depth>`` of its snapshot, or its ``subscriptionStatus``).
    sanitize_crossed, verify_checksums : bool
        See :class:`tradesim_nb.feed.VenueFeed`.

    Attributes
    ----------
    depths : dict
        Subscribed depth per pair, as the venue announced it.
    heartbeats : int
        ``heartbeat`` events (and ``pong`` replies) seen.
    ignored : collections.Counter
        Frames of channels that carry no event here, by channel.
    system_status : str
        The last ``systemStatus`` (``"online"``, ``"maintenance"``, ...); "" before one.

    Notes
    -----
    ``parse`` never touches a book; it records the subscribed depth of a pair and counts
    heartbeats and ignored channels. The rules are in the module docstring. Kraken pairs
    (the ``wsname`` of the REST AssetPairs answer, e.g. ``"XBT/USD"``) are registered as
    instruments on their first look-up (the venue's descriptor reads the packaged AssetPairs
    answer, :func:`tradesim_nb.venues.kraken.instruments.packaged_pairs`).
    """

    venue: ClassVar[str] = "kraken"
    url: ClassVar[str] = PUBLIC_URL
    #: a message's time stamp is the latest of its levels' (a republished level keeps its
    #: old one), not the time it was sent: the time rules do not apply; the CRC32 does
    message_time: ClassVar[bool] = False

    def __init__(self, *, depth: int | None = None, sanitize_crossed: bool = False,
                 verify_checksums: bool = True) -> None:
        super().__init__(sanitize_crossed=sanitize_crossed, verify_checksums=verify_checksums)
        self.depth = None if depth is None else _check_depth(depth)
        self.depths: dict[str, int] = {}
        self.heartbeats = 0
        self.ignored: Counter[str] = Counter()
        self.system_status = ""
        #: channelID -> (pair, channelName), from the subscriptionStatus acks
        self.channel_ids: dict[int, tuple[str, str]] = {}

    # declarations bound to this feed
    subscribe_message = staticmethod(subscribe_message)
    unsubscribe_message = staticmethod(unsubscribe_message)
    resync_messages = staticmethod(resync_messages)
    ping_message: ClassVar[str] = PING_MESSAGE

    # -- parsing ---------------------------------------------------------------------------
    def salvage(self, frame: str | bytes) -> tuple[str, ...] | None:
        text = frame.decode("utf-8", "replace") if isinstance(frame, bytes) else frame
        head = text[:40].lstrip()
        if head.startswith("{"):
            return ()  # an event object, never a book message
        m = _HEAD_ID_RE.match(head)
        if m is not None:
            hit = self.channel_ids.get(int(m.group(1)))
            if hit is not None:
                return hit
        m = _TAIL_RE.search(text[-200:])
        if m is not None:
            return (m.group(2), m.group(1)) if m.group(1).startswith("book-") else ()
        return None

    def parse(self, frame: str | bytes, recv_ns: int) -> list[Event]:
        try:
            msg = orjson.loads(frame)
        except orjson.JSONDecodeError as e:
            raise MalformedFrame("invalid_json", str(e)[:120]) from None
        t = type(msg)
        if t is list:
            return self._channel_message(msg, recv_ns)
        if t is dict:
            return [self._event(msg, recv_ns)]
        raise MalformedFrame("not_an_array_or_object", t.__name__)

    def _channel_message(self, msg: list[Any], recv_ns: int) -> list[Event]:
        n = len(msg)
        if n < 4:
            raise MalformedFrame("short_array", f"{n} items, need [channelID, payload, "
                                 "channelName, pair]")
        channel = msg[-2]
        pair = msg[-1]
        if type(channel) is not str or type(pair) is not str or not pair:
            raise MalformedFrame("bad_channel", f"channelName {channel!r}, pair {pair!r}",
                                 symbol=pair if type(pair) is str else "")
        if channel.startswith("book-"):
            try:
                return [self._book(msg, n, channel, pair, recv_ns)]
            except MalformedFrame as e:
                e.symbol = pair  # this book lost an update
                e.channel = channel
                raise
        if channel == "ticker":
            return [self._ticker(msg[1], pair, recv_ns)]
        self.ignored[channel] += 1
        return []

    def _ticker(self, d: Any, pair: str, recv_ns: int) -> Ticker:
        if type(d) is not dict:
            raise MalformedFrame("bad_ticker", f"payload is {type(d).__name__}, not an object")
        try:
            v = d.get("v")
            vol = float(v[1]) if isinstance(v, list) and len(v) > 1 else float("nan")
            c = d.get("c")
            last = float(c[0]) if isinstance(c, list) and c else float("nan")
        except (TypeError, ValueError) as e:
            raise MalformedFrame("bad_ticker", f"{pair}: {e}") from None
        return Ticker(self.venue, pair, vol, last, 0, recv_ns)

    def _book(self, msg: list[Any], n: int, channel: str, pair: str,
              recv_ns: int) -> BookSnapshot | BookDelta:
        if n > 5:
            raise MalformedFrame("bad_book", f"{n} items, a book message has 4 or 5")
        depth = _depth_of(channel)
        first = msg[1]
        if type(first) is not dict:
            raise MalformedFrame("bad_book", f"payload is {type(first).__name__}, not an object")
        if "as" in first or "bs" in first:
            if n != 4 or len(first) > 2 or not set(first) <= {"as", "bs"}:
                raise MalformedFrame("bad_book", f"snapshot with keys {sorted(first)[:6]}")
            asks = first.get("as", [])
            bids = first.get("bs", [])
            ts = max(_check_levels(asks, "as"), _check_levels(bids, "bs"))
            self.depths[pair] = depth
            return BookSnapshot(self.venue, pair, bids, asks, ts, recv_ns, channel=channel)
        asks = bids = None
        checksum: int | None = None
        ts = 0
        last = n - 3  # index of the last payload object
        for i in range(1, n - 2):
            d = msg[i]
            if type(d) is not dict:
                raise MalformedFrame("bad_book", f"payload {i} is {type(d).__name__}")
            for k, v in d.items():
                if k == "a" and asks is None:
                    asks = v
                    t = _check_levels(v, "a")
                elif k == "b" and bids is None:
                    bids = v
                    t = _check_levels(v, "b")
                elif k == "c" and i == last:
                    checksum = _checksum_value(v)
                    continue
                else:
                    raise MalformedFrame("bad_book", f"unexpected key {k!r} in update payload {i}")
                if t > ts:
                    ts = t
        if asks is None and bids is None:
            raise MalformedFrame("bad_book", "update without 'a' or 'b'")
        return BookDelta(self.venue, pair, bids or (), asks or (), ts, recv_ns, checksum=checksum,
                         channel=channel)

    def _event(self, msg: dict[str, Any], recv_ns: int) -> FeedStatus:
        event = msg.get("event")
        if event == "heartbeat" or event == "pong":
            self.heartbeats += 1
            return FeedStatus("heartbeat", self.venue, "", str(event), recv_ns)
        if event == "subscriptionStatus":
            pair = msg.get("pair", "")
            pair = pair if isinstance(pair, str) else ""
            status = msg.get("status")
            ch = msg.get("channelName") or (msg.get("subscription") or {}).get("name", "")
            if status == "subscribed" or status == "unsubscribed":
                if status == "subscribed" and isinstance(ch, str) and ch.startswith("book-"):
                    self.depths[pair] = _depth_of(ch)
                    cid = msg.get("channelID")
                    if type(cid) is int and pair:
                        self.channel_ids[cid] = (pair, ch)
                return FeedStatus("ack", self.venue, pair,
                                  f"{status} {ch} channelID={msg.get('channelID')}", recv_ns)
            if status == "error":
                return FeedStatus("error", self.venue, pair,
                                  f"subscriptionStatus error: {msg.get('errorMessage', '')}",
                                  recv_ns)
            raise MalformedFrame("bad_event", f"subscriptionStatus status={status!r}")
        if event == "systemStatus":
            status = msg.get("status")
            self.system_status = str(status)
            return FeedStatus("info", self.venue, "",
                              f"systemStatus {status} (version {msg.get('version')})", recv_ns)
        if event == "error":
            return FeedStatus("error", self.venue, "", str(msg.get("errorMessage", "")), recv_ns)
        if isinstance(event, str):
            return FeedStatus("info", self.venue, "", f"event={event}", recv_ns)
        raise MalformedFrame("no_event", "object without 'event'")

    # -- books -----------------------------------------------------------------------------
    @classmethod
    def looks_like(cls, frame: str) -> bool:
        return '"book-' in frame or '"event":"systemStatus"' in frame

    @classmethod
    def recognizes(cls, obj: Any) -> bool:
        if type(obj) is list:
            return len(obj) >= 3 and type(obj[0]) is int
        return type(obj) is dict and obj.get("event") in (
            "systemStatus", "subscriptionStatus", "heartbeat")

    def book(self, symbol: str) -> OrderBook:
        b = self.books.get(symbol)
        if b is None:
            super().book(symbol)  # the counters and sequencing state of the book
            pair = self.symbol_of(symbol)
            b = KrakenBook(self.instrument(pair), venue=self.venue, symbol=pair,
                           max_levels=self.max_levels)
            self.books[symbol] = b
        return b

    def sequence(self, event: BookSnapshot | BookDelta, book: OrderBook,
                 state: SymbolState) -> bool:
        if type(event) is BookSnapshot:
            if isinstance(book, KrakenBook):
                book.max_depth = self.depth or (_depth_of(event.channel) if event.channel
                                                else self.depths.get(event.symbol, 0))
            state.extra["level_ts"] = ({lv[0]: _ts_ns(lv[2]) for lv in event.bids},
                                       {lv[0]: _ts_ns(lv[2]) for lv in event.asks})
            return True
        if state.synced:
            return self._in_time(event, state)
        return self.drop_until_snapshot(event, state)

    def _in_time(self, event: BookSnapshot | BookDelta, state: SymbolState) -> bool:
        """Every level of an update must be at least as new as the level the book holds (its
        time stamp): an older one is a re-delivered or reordered update, which the top-10
        checksum cannot always see (it may bring back exactly the book its own checksum
        describes). Such an update marks the book stale (``time_backwards``)."""
        held = state.extra.get("level_ts")
        if held is None:
            return True
        newer: list[tuple[dict[str, int], str, int]] = []
        for side, levels in ((held[0], event.bids), (held[1], event.asks)):
            for lv in levels:
                t = _ts_ns(lv[2])
                old = side.get(lv[0])
                if old is not None and t < old:
                    sym = event.symbol
                    self.stats[sym].time_backwards += 1
                    state.pending.append(self.mark_stale(
                        sym, "time_backwards", f"level {lv[0]} of time {t} ns is older than "
                        f"the book's ({old} ns): a re-delivered or reordered update",
                        event.recv_ts_ns))
                    return False
                newer.append((side, lv[0], t))
        for side, px, t in newer:
            side[px] = t
        if len(held[0]) + len(held[1]) > _LEVEL_TS_MAX:  # levels truncated away pile up
            held[0].clear()
            held[1].clear()
        return True

    def verify(self, event: BookSnapshot | BookDelta, book: OrderBook) -> bool | None:
        if not event.checksum:
            return None
        if type(book) is KrakenBook:
            return book.kraken_checksum() == event.checksum
        return kraken_checksum(book.level_strings("ask", CHECKSUM_DEPTH),
                               book.level_strings("bid", CHECKSUM_DEPTH)) == event.checksum

    def summary(self) -> dict[str, Any]:
        out = super().summary()
        for sym, d in out["instruments"].items():
            b = self.books[sym]
            if isinstance(b, KrakenBook):
                d["depth"] = b.max_depth
                d["truncated_levels"] = b.truncated
        out["heartbeats"] = self.heartbeats
        out["system_status"] = self.system_status
        out["ignored"] = dict(self.ignored)
        return out


def _checksum_value(v: Any) -> int:
    """``"c"`` as sent (a decimal string; a JSON integer is taken too), compared as an int."""
    if type(v) is int:
        c = v
    elif type(v) is str and v.isascii() and v.isdigit():
        c = int(v)
    else:
        raise MalformedFrame("bad_checksum", f"c={str(v)[:40]!r} is not an unsigned integer")
    if c < 0:
        raise MalformedFrame("bad_checksum", f"c={v} is negative")
    if c >= 1 << 32:
        raise MalformedFrame("bad_checksum", f"c={v} is not a 32-bit value")
    return c
