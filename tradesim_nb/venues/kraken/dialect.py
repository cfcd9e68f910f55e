"""Kraken WebSocket v1 public as the local venue speaks it (``/v1``).

On connect the venue sends ``systemStatus`` (``online``). ``{"event": "ping"}`` gets
``{"event": "pong"}``; ``{"event": "subscribe"|"unsubscribe", "pair": [...], "subscription":
{"name": "book", "depth": D}}`` gets one ``subscriptionStatus`` a pair (``subscribed``,
``unsubscribed``, or ``error`` for an unknown pair, name or depth), and a subscription starts
with a snapshot ``[channelID, {"as": [...], "bs": [...]}, "book-D", pair]`` of the true book's
best ``D`` levels a side.

Every change of the true book that changes a pair's top ``D`` is an update ``[channelID,
{"a": [...]}, {"b": [...], "c": "<crc32>"}, "book-D", pair]`` (one object when one side
changed), as Kraken sends them:

* a new or changed level within the top ``D``: ``[price, volume, timestamp]``;
* a level that comes back into the top ``D`` because better ones were deleted (it was there
  all along, deeper): ``[price, volume, timestamp, "r"]`` (republished);
* a deleted level: volume ``"0.00000000"``;
* a level pushed beyond ``D`` by an insert: nothing (the client keeps its book at ``D``);

and ``"c"`` is :func:`~tradesim_nb.venues.kraken.kraken_checksum` of the top 10 levels a side
after the update. Levels carry the venue's time stamp of the message (seconds with six
decimals, strictly increasing per pair), which is also how a test finds the true book a
client's book must equal: :meth:`KrakenDialect.book_id` is the book's exchange time in µs and
:meth:`KrakenDialect.truth_for` the true top ``D`` at that stamp. Kraken v1 has no sequence
numbers, so nothing else identifies a message.

``{"name": "ticker"}`` subscribes a pair's 24-hour statistics: ``[channelID, {"a", "b",
"c", "v": [today, last 24 h], ...}, "ticker", pair]`` on subscription and as the venue
publishes them (about once a second).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from typing import Any, ClassVar, Final

import orjson

from ...book import OrderBook
from ..dialect import Change, Dialect, Subscriber, TrueBook
from .feed import BOOK_DEPTHS, CHECKSUM_DEPTH, kraken_checksum
from .protocol import LOCAL_PATH

__all__ = ["KrakenDialect", "KrakenView"]

_ZERO: Final = "0.00000000"
_VERSION: Final = "1.9.0"


class KrakenView:
    """What one ``book-D`` subscription of a pair shows: the true book's best ``depth``
    levels a side, ``{price: volume}``."""

    __slots__ = ("asks", "bids", "depth")

    def __init__(self, tr: TrueBook, depth: int) -> None:
        self.depth = depth
        self.bids: dict[str, str] = {}
        self.asks: dict[str, str] = {}
        self.reset(tr)

    def reset(self, tr: TrueBook) -> None:
        b, a = tr.sides(self.depth)
        self.bids, self.asks = dict(b), dict(a)

    def advance(self, tr: TrueBook, ch: Change) -> tuple[list[list[str]], list[list[str]]] | None:
        """Move the view to the truth after ``ch``: the ``(asks, bids)`` updates Kraken would
        send as ``[price, volume]`` (+ ``"r"`` for a republished level), or None if none."""
        out: list[list[list[str]]] = []
        for side, old, changed in (("ask", self.asks, ch.asks), ("bid", self.bids, ch.bids)):
            touched = {ps for ps, _ in changed}
            new = dict(tr.book.level_strings(side, self.depth))  # type: ignore[arg-type]
            ups: list[list[str]] = []
            for ps, ss in new.items():
                was = old.get(ps)
                if was == ss:
                    continue
                if was is None and ps not in touched:
                    ups.append([ps, ss, "r"])  # came back into the depth
                else:
                    ups.append([ps, ss])
            live = tr.levels[side]
            ups += [[ps, _ZERO] for ps in old if ps not in new and ps not in live]
            out.append(ups)
            if side == "ask":
                self.asks = new
            else:
                self.bids = new
        if not (out[0] or out[1]):
            return None
        return out[0], out[1]

    def checksum(self) -> int:
        asks = sorted(self.asks.items(), key=lambda kv: float(kv[0]))[:CHECKSUM_DEPTH]
        bids = sorted(self.bids.items(), key=lambda kv: -float(kv[0]))[:CHECKSUM_DEPTH]
        return kraken_checksum(asks, bids)


class KrakenDialect(Dialect):
    """Kraken v1 public ``book`` channel of the local venue."""

    ticker_channel: ClassVar[str | None] = "ticker"

    paths: ClassVar[tuple[str, ...]] = (LOCAL_PATH,)
    checksum_key: ClassVar[str | None] = '"c":"'

    def __init__(self, host: Any) -> None:
        super().__init__(host)
        self.views: dict[tuple[str, int], KrakenView] = {}
        self.channel_ids: dict[tuple[str, int], int] = {}
        #: per pair: the last message stamp (µs) and stamp -> the truth's id at that message
        self.last_us: dict[str, int] = {}
        self.stamps: dict[str, dict[int, int]] = {}
        self._order: dict[str, deque[int]] = {}

    # -- stamps --------------------------------------------------------------------------------
    def _stamp(self, tr: TrueBook) -> str:
        """A time stamp for a message of ``tr``, strictly after the pair's last one."""
        us = max(time.time_ns() // 1000, self.last_us.get(tr.symbol, 0) + 1)
        self.last_us[tr.symbol] = us
        seen = self.stamps.setdefault(tr.symbol, {})
        order = self._order.setdefault(tr.symbol, deque())
        seen[us] = tr.seq
        order.append(us)
        if len(order) > max(1, self.host.history):
            del seen[order.popleft()]
        return f"{us // 1_000_000}.{us % 1_000_000:06d}"

    @staticmethod
    def book_id(book: OrderBook) -> int | None:
        return book.last_exch_ts_ns // 1000 if book.last_exch_ts_ns else None

    def current_id(self, symbol: str) -> int | None:
        return self.last_us.get(symbol)

    def truth_for(self, symbol: str, book_id: int) -> tuple[dict[str, str],
                                                            dict[str, str]] | None:
        seq = self.stamps.get(symbol, {}).get(book_id)
        if seq is None:
            return None
        full = self.host.truth[symbol].at(seq)
        if full is None:
            return None
        depth = max((d for s, d in self.views if s == symbol), default=max(BOOK_DEPTHS))
        bids = sorted(full[0].items(), key=lambda kv: -float(kv[0]))[:depth]
        asks = sorted(full[1].items(), key=lambda kv: float(kv[0]))[:depth]
        return dict(bids), dict(asks)

    # -- connections -----------------------------------------------------------------------------
    def url(self, base: str, symbols: Sequence[str] = ()) -> str:
        return base + LOCAL_PATH

    def open(self, conn: Subscriber, path: str) -> str | None:
        conn.put(self.dumps({"connectionID": conn.id, "event": "systemStatus",
                             "status": "online", "version": _VERSION}))
        return None

    def _status(self, conn: Subscriber, pair: str, status: str, depth: Any, name: Any,
                error: str = "", reqid: Any = None) -> None:
        msg: dict[str, Any] = {"event": "subscriptionStatus", "pair": pair, "status": status,
                               "subscription": {"depth": depth, "name": name}}
        if error:
            msg["errorMessage"] = error
        else:
            msg["channelID"] = self._channel_id(pair, depth)
            msg["channelName"] = f"{name}-{depth}"
        if reqid is not None:
            msg["reqid"] = reqid
        conn.put(self.dumps(msg))

    def _channel_id(self, pair: str, depth: int) -> int:
        key = (pair, depth)
        cid = self.channel_ids.get(key)
        if cid is None:
            cid = self.channel_ids[key] = 100 + 16 * len(self.channel_ids)
        return cid

    def request(self, conn: Subscriber, msg: str | bytes) -> None:
        try:
            req = orjson.loads(msg)
            event = req["event"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            conn.put(self.dumps({"errorMessage": "Malformed request", "event": "error"}))
            return
        reqid = req.get("reqid")
        if event == "ping":
            self.host.stats["pings"] += 1
            conn.put(self.dumps({"event": "pong", **({"reqid": reqid} if reqid else {})}))
            return
        if event not in ("subscribe", "unsubscribe"):
            conn.put(self.dumps({"errorMessage": f"Unsupported event {event!r}",
                                 "event": "error"}))
            return
        sub = req.get("subscription") if isinstance(req.get("subscription"), dict) else {}
        name = sub.get("name")
        depth = sub.get("depth", 10)
        pairs = req.get("pair") if isinstance(req.get("pair"), list) else []
        for pair in pairs or [""]:
            pair = pair if isinstance(pair, str) else ""
            if name == "ticker":
                self._ticker_request(conn, event, pair, reqid)
                continue
            if name != "book":
                self._status(conn, pair, "error", depth, name, "Subscription name invalid",
                             reqid)
                continue
            if depth not in BOOK_DEPTHS:
                self._status(conn, pair, "error", depth, name, "Subscription depth not "
                             "supported", reqid)
                continue
            sym = self.host.symbol_for(pair)
            if not (pair and self.host.known(sym)):
                self._status(conn, pair, "error", depth, name,
                             f"Currency pair not supported {pair}", reqid)
                continue
            key = (f"book-{depth}", sym)
            if event == "unsubscribe":
                conn.subs.discard(key)
                self._status(conn, sym, "unsubscribed", depth, name, reqid=reqid)
                continue
            self._status(conn, sym, "subscribed", depth, name, reqid=reqid)
            tr = self.host.truth.get(sym)
            others = any(key in o.subs for o in self.host.subscribers(self) if o is not conn)
            conn.subs.add(key)
            if tr is not None and tr.announced:
                self._snapshot(conn, tr, depth, reset=not others)
            # else a recording's pair: the snapshot goes out with its first data

    def _ticker_request(self, conn: Subscriber, event: str, pair: str, reqid: Any) -> None:
        sym = self.host.symbol_for(pair)
        if not (pair and self.host.known(sym)):
            msg: dict[str, Any] = {"event": "subscriptionStatus", "pair": pair,
                                   "status": "error", "subscription": {"name": "ticker"},
                                   "errorMessage": f"Currency pair not supported {pair}"}
        else:
            msg = {"event": "subscriptionStatus", "pair": sym,
                   "status": "subscribed" if event == "subscribe" else "unsubscribed",
                   "subscription": {"name": "ticker"}, "channelName": "ticker",
                   "channelID": self._channel_id(sym, 0)}
        if reqid is not None:
            msg["reqid"] = reqid
        conn.put(self.dumps(msg))
        if msg["status"] == "unsubscribed":
            conn.subs.discard(("ticker", sym))
        elif msg["status"] == "subscribed":
            conn.subs.add(("ticker", sym))
            tr = self.host.truth.get(sym)
            vol = self.host.daily_volume(sym)
            if tr is not None and vol > 0 and vol < float("inf"):
                conn.put(self.ticker_frame(tr, vol), "ctl", sym)

    def ticker_frame(self, tr: TrueBook, volume_base: float) -> str:
        """The ``ticker`` message of ``tr`` with ``volume_base`` traded in 24 hours."""
        mid = tr.book.mid
        b, a = tr.sides(1)
        last = f"{mid:.10g}"
        vol = f"{volume_base:.8f}"
        return self.dumps([self._channel_id(tr.symbol, 0), {
            "a": [a[0][0] if a else last, 0, "0"], "b": [b[0][0] if b else last, 0, "0"],
            "c": [last, "0"], "v": [vol, vol], "p": [last, last], "t": [0, 0],
            "l": [last, last], "h": [last, last], "o": [last, last]}, "ticker", tr.symbol])

    # -- frames ----------------------------------------------------------------------------------
    def _view(self, tr: TrueBook, depth: int) -> KrakenView:
        v = self.views.get((tr.symbol, depth))
        if v is None:
            v = self.views[(tr.symbol, depth)] = KrakenView(tr, depth)
        return v

    def _snapshot(self, conn: Subscriber, tr: TrueBook, depth: int, reset: bool) -> None:
        v = self._view(tr, depth)
        if reset:
            v.reset(tr)  # nobody kept the view current: start it again from the truth
        ts = self._stamp(tr)
        asks = sorted(v.asks.items(), key=lambda kv: float(kv[0]))
        bids = sorted(v.bids.items(), key=lambda kv: -float(kv[0]))
        conn.put(self.dumps([self._channel_id(tr.symbol, depth),
                             {"as": [[p, s, ts] for p, s in asks],
                              "bs": [[p, s, ts] for p, s in bids]},
                             f"book-{depth}", tr.symbol]), "snap", tr.symbol)
        self.host.stats["snapshots"] += 1

    @staticmethod
    def _depths(c: Subscriber, sym: str) -> list[int]:
        return [int(k[5:]) for k, s in c.subs if s == sym and k.startswith("book-")]

    def update(self, tr: TrueBook, ch: Change, prev_id: int, ts_ms: str,
               conns: Sequence[Subscriber]) -> None:
        frames: dict[int, str | None] = {}  # by depth (None: the view did not change)
        for c in conns:
            for depth in self._depths(c, ch.symbol):
                if depth not in frames:
                    frames[depth] = self._update_frame(tr, ch, depth)
                fr = frames[depth]
                if fr is not None:
                    c.put(fr, "data", ch.symbol)

    def _update_frame(self, tr: TrueBook, ch: Change, depth: int) -> str | None:
        v = self._view(tr, depth)
        ups = v.advance(tr, ch)
        if ups is None:
            return None
        ts = self._stamp(tr)
        cs = str(v.checksum())
        asks, bids = ([[*lv[:2], ts, *lv[2:]] for lv in side] for side in ups)
        parts: list[Any] = [self._channel_id(tr.symbol, depth)]
        if asks and bids:
            parts += [{"a": asks}, {"b": bids, "c": cs}]
        elif asks:
            parts.append({"a": asks, "c": cs})
        else:
            parts.append({"b": bids, "c": cs})
        return self.dumps([*parts, f"book-{depth}", tr.symbol])

    def announce(self, tr: TrueBook, conns: Sequence[Subscriber]) -> None:
        for c in conns:
            for depth in self._depths(c, tr.symbol):
                self._snapshot(c, tr, depth, reset=True)
