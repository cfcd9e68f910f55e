"""Bybit v5 public websocket: declarations, a pure parser and the venue's sequencing rule.

Topics handled (``wss://stream.bybit.com/v5/public/{spot,linear,inverse}``):

* ``orderbook.{depth}.{symbol}``: ``type`` ``snapshot`` → :class:`BookSnapshot`, ``delta`` →
  :class:`BookDelta`, with ``seq=u`` (the update id; the message's cross sequence ``seq`` is
  not a chain and is not used). Levels ``[price, size]``; size ``"0"`` deletes the level;
* ``publicTrade.{symbol}``: ``data`` is a list of trades → one :class:`Trade` each; ``S`` is the
  taker's side (``Buy``/``Sell``), ``v`` the size, ``p`` the price, ``T`` the fill time (ms),
  ``i`` the trade id;
* ``tickers.{symbol}``: :class:`~tradesim_nb.events.Ticker` with the 24-hour volume in base
  currency (``volume24h`` on linear and spot, ``turnover24h`` on inverse, where ``volume24h``
  counts USD contracts) and ``lastPrice``; a delta that does not carry the volume gives NaN;
* operation replies ``{"success": true, "op": "subscribe", ...}`` → ``ack``, ``success: false``
  → ``error`` (``ret_msg``); the pong reply to ``{"op": "ping"}`` (``ret_msg: "pong"`` on public
  streams, ``op: "pong"`` on private ones) → ``heartbeat``. Other topics are counted in
  ``ignored``.

Sequencing rule (Bybit v5 docs, "Orderbook", "Process snapshot/delta"), per symbol, with
:math:`u_{prev}` the update id of the last applied message:

* a ``snapshot`` always replaces the book and sets :math:`u_{prev} = u`. ``u == 1`` means the
  venue's book service restarted: the book is replaced and a ``sequence_reset`` is reported
  (``FeedStats.sequence_resets``). After a gap a snapshot is a ``resync``;
* a ``delta`` must have :math:`u = u_{prev} + 1`; :math:`u \\le u_{prev}` is a re-delivery,
  dropped as ``stale``; :math:`u > u_{prev} + 1` is a ``gap``: the book is stale and the symbol
  is in ``needs_resync`` (the client resubscribes to get a snapshot); deltas are dropped until it
  arrives. A delta before any snapshot is dropped (``stale``, "no snapshot yet").

``exch_ts_ns`` is the matching-engine time ``cts`` when present (it correlates with trades'
``T``), else the message time ``ts``.

References
----------
Bybit V5 API, WebSocket Stream, "Connect" (URLs, heartbeat), "Orderbook" and "Trade",
https://bybit-exchange.github.io/docs/v5/ws/connect,
https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook,
https://bybit-exchange.github.io/docs/v5/websocket/public/trade
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any, ClassVar, Final, Literal

import orjson

from ...book import OrderBook
from ...events import BookDelta, BookSnapshot, Event, FeedStatus, Ticker, Trade
from ...feed import MalformedFrame, SymbolState, VenueFeed, int_value, load_json_object

__all__ = [
    "ORDERBOOK_DEPTHS",
    "PING_INTERVAL_S",
    "PING_MESSAGE",
    "PUBLIC_URLS",
    "TESTNET_PUBLIC_URLS",
    "BybitFeed",
    "Category",
    "orderbook_topic",
    "ping_message",
    "subscribe_message",
    "ticker_topic",
    "trade_topic",
    "unsubscribe_message",
]

Category = Literal["spot", "linear", "inverse", "option"]

PUBLIC_URLS: Final[dict[str, str]] = {
    "spot": "wss://stream.bybit.com/v5/public/spot",
    "linear": "wss://stream.bybit.com/v5/public/linear",
    "inverse": "wss://stream.bybit.com/v5/public/inverse",
    "option": "wss://stream.bybit.com/v5/public/option",
}
TESTNET_PUBLIC_URLS: Final[dict[str, str]] = {
    k: v.replace("stream.bybit.com", "stream-testnet.bybit.com") for k, v in PUBLIC_URLS.items()
}
#: Bybit recommends a ping every 20 s; a connection without traffic is closed after 10 min.
PING_INTERVAL_S: Final = 20.0
PING_MESSAGE: Final = '{"op":"ping"}'
#: orderbook depths per category (500 is the older linear/inverse depth, still accepted here)
ORDERBOOK_DEPTHS: Final[dict[str, tuple[int, ...]]] = {
    "spot": (1, 50, 200, 1000),
    "linear": (1, 50, 200, 500, 1000),
    "inverse": (1, 50, 200, 500, 1000),
    "option": (25, 100),
}
#: at most this many topics in one spot subscribe request (Bybit limit)
SPOT_MAX_ARGS: Final = 10

_MS = 1_000_000
#: book and trade topics of Bybit's APIs before v5 (orderBookL2_25, orderBook_200.100ms, trade)
_OLD_TOPICS = ("orderBookL2", "orderBook_200", "orderBook.", "trade.")
_TOPIC_RE = re.compile(r'"topic":\s*"([^"]+)"')
_SIDES: Final[dict[str, Literal["buy", "sell"]]] = {"Buy": "buy", "Sell": "sell"}


def _check_category(category: str) -> None:
    if category not in PUBLIC_URLS:
        raise ValueError(f"category={category!r} is not one of {', '.join(PUBLIC_URLS)}")


def orderbook_topic(symbol: str, depth: int = 50, category: Category = "linear") -> str:
    """``orderbook.{depth}.{symbol}`` for a depth the category offers."""
    _check_category(category)
    if depth not in ORDERBOOK_DEPTHS[category]:
        raise ValueError(f"depth={depth!r} is not one of {ORDERBOOK_DEPTHS[category]} "
                         f"for category={category!r}")
    if not (isinstance(symbol, str) and symbol):
        raise ValueError(f"symbol={symbol!r} must be a non-empty string such as 'BTCUSDT'")
    return f"orderbook.{depth}.{symbol.upper()}"


def trade_topic(symbol: str) -> str:
    """``publicTrade.{symbol}``."""
    if not (isinstance(symbol, str) and symbol):
        raise ValueError(f"symbol={symbol!r} must be a non-empty string such as 'BTCUSDT'")
    return f"publicTrade.{symbol.upper()}"


def ticker_topic(symbol: str) -> str:
    """``tickers.{symbol}``: the 24-hour statistics."""
    if not (isinstance(symbol, str) and symbol):
        raise ValueError(f"symbol={symbol!r} must be a non-empty string such as 'BTCUSDT'")
    return f"tickers.{symbol.upper()}"


def _op_message(op: str, topics: Iterable[str], req_id: str | None,
                category: Category | None) -> str:
    args = list(topics)
    if not args or not all(isinstance(t, str) and t for t in args):
        raise ValueError(f"topics={args!r} must be a non-empty list of topic names")
    if category == "spot" and len(args) > SPOT_MAX_ARGS:
        raise ValueError(f"topics has {len(args)} entries; spot allows at most {SPOT_MAX_ARGS} "
                         "a request (send several)")
    msg: dict[str, Any] = {"op": op, "args": args}
    if req_id is not None:
        msg["req_id"] = req_id
    return orjson.dumps(msg).decode()


def subscribe_message(topics: Iterable[str], req_id: str | None = None,
                      category: Category | None = None) -> str:
    """``{"op": "subscribe", "args": [...], "req_id": ...}``."""
    return _op_message("subscribe", topics, req_id, category)


def unsubscribe_message(topics: Iterable[str], req_id: str | None = None,
                        category: Category | None = None) -> str:
    """``{"op": "unsubscribe", "args": [...]}``."""
    return _op_message("unsubscribe", topics, req_id, category)


def ping_message(req_id: str | None = None) -> str:
    """``{"op": "ping"}`` (with ``req_id`` when given); send every :data:`PING_INTERVAL_S`."""
    if req_id is None:
        return PING_MESSAGE
    return orjson.dumps({"req_id": req_id, "op": "ping"}).decode()


def _int(x: Any, name: str) -> int:
    """An id or a time stamp sent as a JSON integer or its decimal string."""
    v = int_value(x)
    if v is None:
        raise MalformedFrame("bad_field", f"{name}={str(x)[:40]!r} is not an integer")
    return v


class BybitFeed(VenueFeed):
    """Bybit v5 public: orderbook snapshot/delta with the ``u`` chain, public trades, acks.

    Parameters
    ----------
    category : {"linear", "spot", "inverse", "option"}
        Which public stream this feed reads (decides :attr:`url`); default ``"linear"``.
    testnet : bool
        Use the testnet URLs.
    sanitize_crossed, verify_checksums : bool
        See :class:`tradesim_nb.feed.VenueFeed` (Bybit sends no checksum).

    Attributes
    ----------
    pongs : int
        Pong replies seen.
    ignored : collections.Counter
        Topics understood but not used.
    """

    venue: ClassVar[str] = "bybit"
    #: ``orderbook.1`` is the top level beside a deeper book: a book of its own
    secondary_channels: ClassVar[frozenset[str]] = frozenset({"orderbook.1"})

    def __init__(self, *, category: Category = "linear", testnet: bool = False,
                 sanitize_crossed: bool = False, verify_checksums: bool = True) -> None:
        _check_category(category)
        super().__init__(sanitize_crossed=sanitize_crossed, verify_checksums=verify_checksums)
        self.category: Category = category
        self.url = (TESTNET_PUBLIC_URLS if testnet else PUBLIC_URLS)[category]
        self.pongs = 0
        self.ignored: Counter[str] = Counter()

    # declarations for the live client, bound to this feed's category
    def subscribe_message(self, topics: Iterable[str], req_id: str | None = None) -> str:
        return subscribe_message(topics, req_id, self.category)

    def orderbook_topic(self, symbol: str, depth: int = 50) -> str:
        return orderbook_topic(symbol, depth, self.category)

    @classmethod
    def looks_like(cls, frame: str) -> bool:
        return '"topic":"orderbook.' in frame or '"topic":"publicTrade.' in frame

    @classmethod
    def recognizes(cls, obj: Any) -> bool:
        return type(obj) is dict and isinstance(obj.get("topic"), str) and (
            "ts" in obj or "op" in obj)

    ping_interval_s: ClassVar[float] = PING_INTERVAL_S
    ping_message = staticmethod(ping_message)
    trade_topic = staticmethod(trade_topic)

    # -- parsing ------------------------------------------------------------------------------
    def salvage(self, frame: str | bytes) -> tuple[str, ...] | None:
        head = (frame[:400].decode("utf-8", "replace") if isinstance(frame, bytes)
                else frame[:400])
        m = _TOPIC_RE.search(head)
        if m is None:
            return () if ('"op"' in head or '"success"' in head) else None
        topic = m.group(1)
        if topic.startswith("orderbook."):
            channel, _, sym = topic.rpartition(".")
            return (sym, channel)
        return ()

    def parse(self, frame: str | bytes, recv_ns: int) -> list[Event]:
        obj = load_json_object(frame)
        try:
            topic = obj.get("topic")
            if topic is None:
                return self._op_reply(obj, recv_ns)
            if not isinstance(topic, str):
                raise MalformedFrame("bad_topic", repr(topic))
            if topic.startswith("orderbook."):
                try:
                    return [self._book(obj, topic, recv_ns)]
                except (MalformedFrame, KeyError) as e:
                    m = e if isinstance(e, MalformedFrame) else MalformedFrame(
                        "missing_field", f"{e} in {topic}")
                    m.channel, _, m.symbol = topic.rpartition(".")  # this book lost an update
                    raise m from None
            if topic.startswith("publicTrade."):
                return self._trades(obj, recv_ns)
            if topic.startswith(_OLD_TOPICS):
                raise MalformedFrame("pre_v5_api", f"topic {topic[:60]!r} is Bybit's API before "
                                     "v5 (2021 and older); this feed reads v5 "
                                     "(orderbook.{depth}.{symbol}, publicTrade.{symbol})")
            if topic.startswith("tickers."):
                return [self._ticker(obj, topic, recv_ns)]
            self.ignored[topic.split(".", 1)[0]] += 1
            return []
        except KeyError as e:
            raise MalformedFrame("missing_field", f"{e} in {obj.get('topic') or obj.get('op')}"
                                 ) from None

    def _ticker(self, obj: dict[str, Any], topic: str, recv_ns: int) -> Ticker:
        d = obj["data"]
        if not isinstance(d, dict):
            raise MalformedFrame("bad_data", "tickers data must be an object")
        sym = d.get("symbol") or topic.split(".", 1)[1]
        key = "turnover24h" if self.category == "inverse" else "volume24h"
        try:
            vol = float(d[key]) if key in d else float("nan")
            last = float(d["lastPrice"]) if "lastPrice" in d else float("nan")
        except (TypeError, ValueError) as e:
            raise MalformedFrame("bad_ticker", f"{sym}: {e}") from None
        return Ticker(self.venue, sym, vol, last, int(obj.get("ts", 0)) * _MS, recv_ns)

    def _op_reply(self, obj: dict[str, Any], recv_ns: int) -> list[Event]:
        op = obj.get("op")
        ret = obj.get("ret_msg", "")
        if op == "pong" or (op == "ping" and ret == "pong"):
            self.pongs += 1
            return [FeedStatus("heartbeat", self.venue, "", "pong", recv_ns)]
        if "success" in obj:
            if obj["success"] is True:
                return [FeedStatus("ack", self.venue, "", f"{op} {obj.get('req_id', '')}".strip(),
                                   recv_ns)]
            return [FeedStatus("error", self.venue, "", f"{op}: {ret}", recv_ns)]
        raise MalformedFrame("unknown_message", str(sorted(obj))[:80])

    def _book(self, obj: dict[str, Any], topic: str, recv_ns: int) -> BookSnapshot | BookDelta:
        d = obj["data"]
        if not isinstance(d, dict):
            raise MalformedFrame("bad_data", "orderbook data must be an object")
        kind = obj["type"]
        b = d["b"]
        a = d["a"]
        if not (isinstance(b, list) and isinstance(a, list)):
            raise MalformedFrame("bad_levels", "b/a must be lists")
        channel, _, tsym = topic.rpartition(".")
        sym = d.get("s") or tsym
        if not isinstance(sym, str) or not sym:
            raise MalformedFrame("bad_symbol", repr(sym))
        u = _int(d["u"], "u")
        ts = _int(obj.get("cts") or obj["ts"], "ts") * _MS
        if kind == "snapshot":
            return BookSnapshot(self.venue, sym, b, a, ts, recv_ns, seq=u, channel=channel)
        if kind == "delta":
            return BookDelta(self.venue, sym, b, a, ts, recv_ns, seq=u, first_seq=u,
                             channel=channel)
        raise MalformedFrame("bad_type", f"orderbook type {kind!r}")

    def _trades(self, obj: dict[str, Any], recv_ns: int) -> list[Event]:
        data = obj["data"]
        if not isinstance(data, list):
            raise MalformedFrame("bad_data", "publicTrade data must be a list")
        out: list[Event] = []
        for t in data:
            side = _SIDES.get(t["S"])
            if side is None:
                raise MalformedFrame("bad_side", repr(t["S"]))
            out.append(Trade(self.venue, t["s"], float(t["p"]), float(t["v"]), side,
                             str(t["i"]), int(t["T"]) * _MS, recv_ns))
        return out

    # -- sequencing ---------------------------------------------------------------------------
    def sequence(self, event: BookSnapshot | BookDelta, book: OrderBook,
                 state: SymbolState) -> bool:
        sym = event.symbol
        u = event.seq
        assert u is not None
        if isinstance(event, BookSnapshot):
            if u == 1 and state.last_seq is not None:
                self.stats[sym].sequence_resets += 1
                state.pending.append(self.status(
                    "sequence_reset", sym, f"snapshot u=1 after u={state.last_seq}: book replaced",
                    event.recv_ts_ns))
            state.last_seq = u
            return True
        last = state.last_seq
        if not state.synced or last is None:
            self.stats[sym].stale_dropped += 1
            state.pending.append(self.status(
                "stale", sym, f"delta u={u} dropped: " + (
                    "no snapshot yet" if last is None else "book stale, waiting for a snapshot"),
                event.recv_ts_ns))
            return False
        if u <= last:
            self.stats[sym].stale_dropped += 1
            state.pending.append(self.status("stale", sym, f"delta u={u} <= book u={last}",
                                             event.recv_ts_ns))
            return False
        if u != last + 1:
            state.pending.append(self.mark_stale(sym, "gap", f"delta u={u} != previous u+1="
                                                 f"{last + 1}", event.recv_ts_ns))
            return False
        state.last_seq = u
        return True

    def summary(self) -> dict[str, Any]:
        s = super().summary()
        s["pongs"] = self.pongs
        s["ignored"] = dict(self.ignored)
        return s
