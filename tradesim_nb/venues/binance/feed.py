"""Binance spot and USD-M futures: declarations, a pure parser and the venue's book-sync rules.

Streams handled (combined-stream wrapper ``{"stream": ..., "data": ...}`` or raw payloads):

* ``<symbol>@depth`` / ``<symbol>@depth@100ms`` ``depthUpdate`` → :class:`BookDelta` with
  ``first_seq=U``, ``seq=u`` (and ``prev_seq=pu`` on futures);
* the REST depth snapshot ``{"lastUpdateId", "bids", "asks"}`` → :class:`BookSnapshot` with
  ``seq=lastUpdateId``. The raw answer names no symbol (the live client wraps it as
  ``{"stream": "<symbol>@restDepth", "data": ...}``, which does). An unnamed snapshot is
  accepted only when its symbol is known: the feed's ``symbol`` (constructor argument; held
  until the stream names that symbol when it has named only others so far), else the one
  symbol the stream carries. Before any named frame it is held until the first one names the
  stream's symbol; in a stream of several symbols it is malformed
  (``snapshot_without_symbol``); and when a second symbol appears after a snapshot was placed
  by that inference, its book is marked stale (``snapshot_symbol_ambiguous``): it may not
  have been that symbol's;
* ``<symbol>@trade`` and ``<symbol>@aggTrade`` → :class:`Trade`; ``m`` is "the buyer is the
  maker", so ``m=true`` means the aggressor sold (``side="sell"``);
* ``<symbol>@bookTicker`` → :class:`BBO` with ``update_id=u``;
* ``<symbol>@ticker`` ``24hrTicker`` → :class:`~tradesim_nb.events.Ticker` (``v``, the
  24-hour volume in base asset; ``c``, the last price);
* ``{"result": null, "id": n}`` (subscribe reply) → ``ack``; ``{"error": {...}}`` or
  ``{"code", "msg"}`` → ``error``. Other events (klines, partial-depth ``@depth5``...) are
  counted in ``ignored`` and produce no event.

Spot sync rule (Binance Spot API docs, "How to manage a local order book correctly"), per
symbol, with :math:`L` the snapshot's ``lastUpdateId`` and :math:`u_{prev}` the last applied
``u``:

.. math::

    \\text{drop if } u \\le L;\\qquad
    \\text{first applied: } U \\le L + 1 \\le u;\\qquad
    \\text{then } U = u_{prev} + 1 .

Diffs that arrive before the snapshot are buffered (``buffering`` status); when the snapshot
arrives the buffer is replayed through the rule above: diffs with ``u <= L`` are dropped
(``stale``), and if the first remaining diff starts after ``L + 1`` the buffer cannot bridge to
the snapshot — a ``gap``. In a stream of diffs, until a diff bridges to it the snapshot is not
a valid book (it is the book at ``L``, but whether the stream joins it is not known yet: a lost
bridging diff shows only then); a stream of snapshots alone has nothing to join. Any later ``U != u_prev + 1`` is a gap too (an overlapping diff,
``U <= u_prev < u``, is treated as a gap: the spot stream never sends one). On a gap the book
is stale, the symbol is in ``needs_resync`` and later diffs are buffered again until a new REST
snapshot arrives, which is then bridged exactly like the first. A diff with ``u <= u_prev``
(a re-delivery) is dropped as ``stale`` and the book is unchanged.

USD-M futures (Binance Derivatives docs, same title): drop ``u < L``; the first applied diff has
:math:`U \\le L \\le u`; afterwards each diff's ``pu`` equals the previous ``u``.

Top-of-book cross-check: after a diff with final id :math:`u` the book's best bid/ask prices and
sizes must equal the latest ``bookTicker`` whose id is :math:`\\le u` (a bookTicker is pushed on
every change of the best price or quantity, so no top change happens between that ticker and
``u``). bookTickers are real time while diffs are batched every 100 ms, so the ticker for an
id inside a diff can arrive before *or after* the diff in the recording. The check is therefore
deferred: the book's top is captured when the diff is applied and compared once a bookTicker
with id :math:`\\ge u` has been seen (then every ticker with id :math:`\\le u` has arrived, the
ticker stream being in id order). Results go to ``FeedStats.top_match``/``top_mismatch``;
checks whose ticker fell out of the short history are counted in ``top_unchecked``.

References
----------
Binance Spot API, WebSocket Streams, "Diff. Depth Stream" and "How to manage a local order book
correctly", https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams
Binance USDⓈ-M Futures, WebSocket Market Streams, "How to manage a local order book correctly",
https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, Final

import orjson

from ...book import OrderBook, new_frozen
from ...events import BBO, BookDelta, BookSnapshot, Event, FeedStatus, Ticker, Trade
from ...feed import (
    MalformedFrame,
    SymbolState,
    VenueFeed,
    is_levels,
    load_json_levels,
    put_levels,
)

__all__ = [
    "FUTURES_DEPTH_LIMITS",
    "FUTURES_REST_URL",
    "FUTURES_WS_URL",
    "SPOT_DEPTH_LIMIT_MAX",
    "SPOT_REST_URL",
    "SPOT_WS_URL",
    "BinanceFuturesFeed",
    "BinanceSpotFeed",
]

SPOT_WS_URL: Final = "wss://stream.binance.com:9443"
SPOT_REST_URL: Final = "https://api.binance.com"
#: GET /api/v3/depth accepts limit 1..5000
SPOT_DEPTH_LIMIT_MAX: Final = 5000
FUTURES_WS_URL: Final = "wss://fstream.binance.com"
FUTURES_REST_URL: Final = "https://fapi.binance.com"
#: GET /fapi/v1/depth accepts these limits
FUTURES_DEPTH_LIMITS: Final = (5, 10, 20, 50, 100, 500, 1000)

_MS = 1_000_000
#: the level arrays of a diff (b, a) and of a REST snapshot (bids, asks)
_LEVEL_KEYS: Final = ("b", "a", "bids", "asks")


def rest_depth_frame(url: str, body: str) -> str | None:
    """The frame the feed reads for a recorded REST depth answer (``GET .../depth?symbol=S``):
    ``{"stream": "<s>@restDepth", "data": <body>}``, so the snapshot is that symbol's; None for
    any other answer (cryptofeed records them in its ``.http.`` files)."""
    from urllib.parse import parse_qs, urlsplit

    parts = urlsplit(url)
    if not parts.path.rstrip("/").endswith("/depth"):
        return None
    sym = parse_qs(parts.query).get("symbol")
    if not sym:
        return None
    return '{"stream":"' + sym[0].lower() + '@restDepth","data":' + body + "}"


class BinanceSpotFeed(VenueFeed):
    """Binance spot: diff-depth + REST snapshot sync, trades, bookTicker cross-check.

    Parameters
    ----------
    symbol : str, optional
        The symbol a REST snapshot line without a symbol belongs to. Default: the one symbol
        the stream carries (see the module docstring).
    sanitize_crossed, verify_checksums : bool
        See :class:`tradesim_nb.feed.VenueFeed` (Binance sends no checksum).

    Attributes
    ----------
    ignored : collections.Counter
        Frames understood but not used, by kind (``"kline"``, ``"partial_depth"``, ...).
    """

    venue: ClassVar[str] = "binance"
    #: the REST snapshot is taken beside the socket: update ids place it, not its time
    snapshot_time_rule: ClassVar[bool] = False
    #: a snapshot after diffs waits for a diff that joins it (``_on_book``, ``in_sync``)
    snapshot_needs_diff: ClassVar[bool] = True
    ws_url: ClassVar[str] = SPOT_WS_URL
    rest_url: ClassVar[str] = SPOT_REST_URL
    rest_path: ClassVar[str] = "/api/v3/depth"

    def __init__(self, *, symbol: str | None = None, sanitize_crossed: bool = False,
                 verify_checksums: bool = True) -> None:
        if symbol is not None and not (isinstance(symbol, str) and symbol):
            raise ValueError(f"symbol={symbol!r} must be None or a non-empty string such as "
                             "'BTCUSDT'")
        super().__init__(sanitize_crossed=sanitize_crossed, verify_checksums=verify_checksums)
        self.symbol: str | None = symbol.upper() if symbol else None
        self.ignored: Counter[str] = Counter()
        #: the symbols the stream's frames named, in order of appearance
        self.seen_symbols: dict[str, None] = {}
        #: an unnamed snapshot waiting for the stream to name its symbol: (payload, recv_ns)
        self.held_snapshot: tuple[dict[str, Any], int] | None = None
        self._inferred: str | None = None
        self._retract: str | None = None

    @classmethod
    def looks_like(cls, frame: str) -> bool:
        return "lastUpdateId" in frame or '"e":"depthUpdate"' in frame or "@depth" in frame

    @classmethod
    def recognizes(cls, obj: Any) -> bool:
        if type(obj) is not dict:
            return False
        d = obj.get("data")
        if "stream" in obj and type(d) is dict:
            return ("pu" in d) is cls._chains_by_pu
        return "lastUpdateId" in obj or obj.get("e") in ("depthUpdate", "trade", "aggTrade")

    #: a USD-M diff carries ``pu``; spot's do not (how a combined-stream frame is told apart)
    _chains_by_pu: ClassVar[bool] = False

    # -- declarations for the live client ---------------------------------------------------
    @classmethod
    def stream_names(cls, symbol: str, *, depth_interval_ms: int = 100, trades: str = "trade",
                     book_ticker: bool = True, ticker_24h: bool = False) -> list[str]:
        """Stream names for one symbol: diff depth, trades, (optionally) bookTicker and the
        24-hour ticker (``<symbol>@ticker``)."""
        if depth_interval_ms not in cls._depth_intervals():
            raise ValueError(f"depth_interval_ms={depth_interval_ms!r} is not one of "
                             f"{cls._depth_intervals()}")
        if trades not in ("trade", "aggTrade", ""):
            raise ValueError(f"trades={trades!r} is not one of 'trade', 'aggTrade', ''")
        s = symbol.lower()
        depth = f"{s}@depth" if depth_interval_ms == cls._default_interval() else (
            f"{s}@depth@{depth_interval_ms}ms")
        out = [depth]
        if trades:
            out.append(f"{s}@{trades}")
        if book_ticker:
            out.append(f"{s}@bookTicker")
        if ticker_24h:
            out.append(f"{s}@ticker")
        return out

    @classmethod
    def _depth_intervals(cls) -> tuple[int, ...]:
        return (100, 1000)

    @classmethod
    def _default_interval(cls) -> int:
        return 1000

    @classmethod
    def combined_stream_url(cls, streams: Iterable[str]) -> str:
        """``<ws>/stream?streams=a/b/c``: frames arrive wrapped as ``{"stream", "data"}``."""
        names = list(streams)
        if not names or not all(isinstance(n, str) and n for n in names):
            raise ValueError(f"streams={names!r} must be a non-empty list of stream names")
        return f"{cls.ws_url}/stream?streams=" + "/".join(names)

    @classmethod
    def subscribe_message(cls, streams: Iterable[str], req_id: int = 1) -> str:
        """``{"method": "SUBSCRIBE", "params": [...], "id": n}`` for an open connection."""
        names = list(streams)
        if not names:
            raise ValueError("streams=[] must name at least one stream")
        return orjson.dumps({"method": "SUBSCRIBE", "params": names, "id": req_id}).decode()

    @classmethod
    def rest_snapshot_url(cls, symbol: str, limit: int = 1000) -> str:
        """The REST depth snapshot URL (spot limit 1..5000)."""
        if not (isinstance(limit, int) and 1 <= limit <= SPOT_DEPTH_LIMIT_MAX):
            raise ValueError(f"limit={limit!r} must be an integer in [1, {SPOT_DEPTH_LIMIT_MAX}]")
        return f"{cls.rest_url}{cls.rest_path}?symbol={symbol.upper()}&limit={limit}"

    # -- parsing ------------------------------------------------------------------------------
    def parse(self, frame: str | bytes, recv_ns: int) -> list[Event]:
        obj, raw = load_json_levels(frame, _LEVEL_KEYS, self.raw_levels_min)
        stream = obj.get("stream")
        data = obj.get("data") if stream is not None else obj
        if not isinstance(data, dict):
            raise MalformedFrame("not_object", f"data is {type(data).__name__}")
        if raw is not None:
            put_levels(data, _LEVEL_KEYS, raw)
        try:
            return self._parse_payload(data, stream, recv_ns)
        except KeyError as e:
            raise MalformedFrame("missing_field", f"{e} in {stream or data.get('e')!s}") from None

    def _parse_payload(self, d: dict[str, Any], stream: str | None, recv_ns: int) -> list[Event]:
        e = d.get("e")
        ev: Event
        if e == "depthUpdate":
            ev = self._delta(d, recv_ns)
        elif e == "trade" or e == "aggTrade":
            ev = Trade(self.venue, d["s"], float(d["p"]), float(d["q"]),
                       "sell" if d["m"] else "buy", str(d["t"] if e == "trade" else d["a"]),
                       int(d["T"]) * _MS, recv_ns)
        elif e == "bookTicker" or (e is None and "u" in d and "B" in d and "A" in d):
            ev = BBO(self.venue, d["s"], float(d["b"]), float(d["B"]), float(d["a"]),
                     float(d["A"]), int(d.get("E", 0)) * _MS, recv_ns, int(d["u"]))
        elif e == "24hrTicker":
            try:
                return [Ticker(self.venue, d["s"], float(d.get("v", "nan")),
                               float(d.get("c", "nan")), int(d.get("E", 0)) * _MS, recv_ns)]
            except (TypeError, ValueError) as exc:
                raise MalformedFrame("bad_ticker", str(exc)) from None
        else:
            return self._other_payload(d, e, stream, recv_ns)
        sym = ev.symbol  # type: ignore[union-attr]
        if sym in self.seen_symbols:
            return [ev]
        if not (isinstance(sym, str) and sym):
            raise MalformedFrame("bad_symbol", f"s={str(sym)[:40]!r}")
        return [*self._first_of(sym, recv_ns), ev]

    def _first_of(self, sym: str, recv_ns: int) -> list[Event]:
        """The stream names ``sym`` for the first time: a held unnamed snapshot is its."""
        self.seen_symbols[sym] = None
        if self._inferred is not None and len(self.seen_symbols) == 2:
            self._retract = self._inferred  # the one-symbol inference no longer holds
            self._inferred = None
        held = self.held_snapshot
        if held is not None and self.symbol is not None:
            if sym != self.symbol:
                return []
            self.held_snapshot = None
            return [self._snapshot(sym, held[0], held[1])]
        if held is not None and len(self.seen_symbols) == 1:
            self.held_snapshot = None
            self._inferred = sym
            return [self._snapshot(sym, held[0], held[1])]
        return []

    def _other_payload(self, d: dict[str, Any], e: Any, stream: str | None,
                       recv_ns: int) -> list[Event]:
        if "lastUpdateId" in d:
            if stream is not None and _is_partial_depth(stream):
                self.ignored["partial_depth"] += 1  # top-N snapshots, not a sync point
                return []
            if stream:
                return [self._snapshot(stream.split("@", 1)[0].upper(), d, recv_ns)]
            seen = self.seen_symbols
            if self.symbol is not None:
                if seen and self.symbol not in seen:
                    # the stream so far names only other symbols: wait until it names this one
                    self._snapshot(self.symbol, d, recv_ns)  # checks the payload now
                    self.held_snapshot = (d, recv_ns)
                    return []
                return [self._snapshot(self.symbol, d, recv_ns)]
            if len(seen) == 1:
                sym = next(iter(seen))
                self._inferred = sym
                return [self._snapshot(sym, d, recv_ns)]
            if not seen:
                ev = self._snapshot("?", d, recv_ns)  # checks the payload now
                del ev
                if self.held_snapshot is not None:
                    self.ignored["unnamed_snapshot_superseded"] += 1
                self.held_snapshot = (d, recv_ns)
                return []
            raise MalformedFrame("snapshot_without_symbol",
                                 f"a depth snapshot naming no symbol in a stream of "
                                 f"{', '.join(list(seen)[:5])}: pass symbol=")
        if "result" in d and "id" in d:
            return [FeedStatus("ack", self.venue, "", f"id={d['id']}", recv_ns)]
        if "error" in d or ("code" in d and "msg" in d):
            err = d.get("error", d)
            return [FeedStatus("error", self.venue, "",
                               f"{err.get('code')}: {err.get('msg')}" if isinstance(err, dict)
                               else str(err), recv_ns)]
        if stream is not None and stream.endswith("@restDepth"):
            raise MalformedFrame("rest_snapshot", "a REST depth answer without 'lastUpdateId'")
        self.ignored[str(e) if e else "unknown"] += 1
        return []

    def _delta(self, d: dict[str, Any], recv_ns: int) -> BookDelta:
        b = d["b"]
        a = d["a"]
        if not (is_levels(b) and is_levels(a)):
            raise MalformedFrame("bad_levels", "b/a must be lists")
        pu = d.get("pu")
        # new_frozen: BookDelta(...) with its fields set in C (0.6 µs less a frame)
        return new_frozen(BookDelta, (self.venue, d["s"], b, a, int(d["E"]) * _MS, recv_ns,
                                      int(d["u"]), None if pu is None else int(pu),
                                      int(d["U"]), None, ""))

    def _snapshot(self, symbol: str, d: dict[str, Any], recv_ns: int) -> BookSnapshot:
        b = d["bids"]
        a = d["asks"]
        if not (is_levels(b) and is_levels(a)):
            raise MalformedFrame("bad_levels", "bids/asks must be lists")
        ts = d.get("E") or d.get("T") or 0
        return BookSnapshot(self.venue, symbol, b, a, int(ts) * _MS, recv_ns,
                            seq=int(d["lastUpdateId"]))

    def rest_snapshot(self, symbol: str, payload: str | bytes | dict[str, Any],
                      recv_ns: int) -> list[Event]:
        """Feed a REST depth snapshot for ``symbol`` (the live client's resync path).

        Returns the snapshot event followed by any statuses and by the events of the buffered
        diffs replayed on top of it.
        """
        if isinstance(payload, str | bytes):
            try:
                payload = orjson.loads(payload)
            except orjson.JSONDecodeError as e:
                raise ValueError(f"payload is not JSON: {e}") from None
        if not (isinstance(payload, dict) and "lastUpdateId" in payload):
            raise ValueError("payload must be a depth snapshot with 'lastUpdateId', 'bids', "
                             "'asks'")
        try:
            ev = self._snapshot(symbol.upper(), payload, recv_ns)
        except (KeyError, MalformedFrame) as e:
            raise ValueError(f"payload is not a depth snapshot: {e}") from None
        return self.on_event(ev)

    # -- sequencing ---------------------------------------------------------------------------
    def _stale_limit(self, last_update_id: int) -> int:
        """Diffs with ``u`` at or below this id are older than the snapshot (spot: ``u <= L``)."""
        return last_update_id

    def _bridges(self, ev: BookDelta, last_update_id: int) -> bool:
        """Whether the first diff after a snapshot joins it (spot: ``U <= L+1 <= u``)."""
        assert ev.first_seq is not None and ev.seq is not None
        return ev.first_seq <= last_update_id + 1 <= ev.seq

    def _continues(self, ev: BookDelta, last: int) -> bool:
        """Whether a diff continues the chain (spot: ``U == u_prev + 1``)."""
        return ev.first_seq == last + 1

    def sequence(self, event: BookSnapshot | BookDelta, book: OrderBook,
                 state: SymbolState) -> bool:
        sym = event.symbol
        if isinstance(event, BookSnapshot):
            assert event.seq is not None
            if state.synced and state.last_seq is not None and event.seq <= state.last_seq:
                # an older snapshot while the book is live would rewind it: ignore it
                self.stats[sym].stale_dropped += 1
                state.pending.append(self.status(
                    "stale", sym, f"snapshot lastUpdateId={event.seq} <= book u={state.last_seq}",
                    event.recv_ts_ns))
                return False
            state.last_seq = event.seq
            state.extra["snapshot_id"] = event.seq
            state.extra["bridged"] = False
            return True
        assert event.seq is not None and event.first_seq is not None
        state.extra["diffs"] = True
        if not state.synced:
            if not state.buffer:
                state.pending.append(self.status(
                    "buffering", sym, f"waiting for a REST snapshot (first U={event.first_seq})",
                    event.recv_ts_ns))
            state.buffer.append(event)
            state.extra["buffered"] = state.extra.get("buffered", 0) + 1
            return False
        last = state.last_seq
        assert last is not None
        if not state.extra.get("bridged"):
            snap = state.extra["snapshot_id"]
            if event.seq <= self._stale_limit(snap):
                self.stats[sym].stale_dropped += 1
                state.pending.append(self.status(
                    "stale", sym, f"diff u={event.seq} <= lastUpdateId={snap}", event.recv_ts_ns))
                return False
            if not self._bridges(event, snap):
                self._gap(event, state, f"first diff U={event.first_seq} u={event.seq} does not "
                                        f"cover lastUpdateId={snap}")
                return False
            state.extra["bridged"] = True
            if not state.behind:
                book.stale = False  # the snapshot is joined: the book is the venue's
            state.last_seq = event.seq
            return True
        if event.seq <= last:
            self.stats[sym].stale_dropped += 1
            state.pending.append(self.status(
                "stale", sym, f"diff u={event.seq} <= book u={last}", event.recv_ts_ns))
            return False
        if not self._continues(event, last):
            self._gap(event, state, self._gap_detail(event, last))
            return False
        state.last_seq = event.seq
        return True

    def _gap_detail(self, ev: BookDelta, last: int) -> str:
        return f"U={ev.first_seq} != previous u+1={last + 1}"

    def _gap(self, ev: BookDelta, state: SymbolState, detail: str) -> None:
        state.pending.append(self.mark_stale(ev.symbol, "gap", detail, ev.recv_ts_ns))
        # keep the diff: a new snapshot may bridge to it
        state.buffer.append(ev)
        state.extra["buffered"] = state.extra.get("buffered", 0) + 1

    # -- machinery: buffer replay and deferred top check ----------------------------------------
    def _on_book(self, ev: BookSnapshot | BookDelta) -> list[Event]:
        if self._retract is not None:
            return [*self._retracted(ev.recv_ts_ns), *self._on_book(ev)]
        if type(ev) is not BookSnapshot:  # a diff: no buffer to replay behind it
            return VenueFeed._on_book(self, ev)  # not super(): this runs on every diff
        book = self.book(ev.symbol)
        state = self.states[ev.symbol]
        n0 = book.updates
        out = super()._on_book(ev)
        if book.updates == n0:
            return out
        if state.buffer:
            items = list(state.buffer)
            state.buffer.clear()
            st = self.stats[ev.symbol]
            for d in items:
                st.frames -= 1  # counted when it first arrived
                out.extend(self._on_book(d))
        if state.synced and not state.extra.get("bridged") and state.extra.get("diffs"):
            book.stale = True  # a diff stream: not valid until a diff joins the snapshot
        return out

    def in_sync(self, key: str) -> bool:
        extra = self.states[key].extra
        return super().in_sync(key) and bool(extra.get("bridged") or not extra.get("diffs"))

    def _retracted(self, recv_ns: int) -> list[Event]:
        sym = self._retract
        assert sym is not None
        self._retract = None
        self.malformed["snapshot_symbol_ambiguous"] += 1
        if sym not in self.books:
            return []
        return [self.mark_stale(sym, "malformed",
                                f"the snapshot without a symbol was taken as {sym}'s, the one "
                                f"symbol then; the stream carries {', '.join(self.seen_symbols)}"
                                ": pass symbol=", recv_ns)]

    def summary(self) -> dict[str, Any]:
        s = super().summary()
        for sym, d in s["instruments"].items():
            state = self.states[sym]
            d["buffered"] = len(state.buffer)
        s["ignored"] = dict(self.ignored)
        s["held_snapshot"] = self.held_snapshot is not None
        return s


class BinanceFuturesFeed(BinanceSpotFeed):
    """Binance USD-M futures: like spot, but diffs chain by ``pu`` (previous ``u``).

    First diff after the snapshot: :math:`U \\le L \\le u`; diffs with :math:`u < L` are dropped;
    afterwards ``pu`` must equal the previous ``u``.
    """

    _chains_by_pu: ClassVar[bool] = True

    venue: ClassVar[str] = "binance-futures"
    ws_url: ClassVar[str] = FUTURES_WS_URL
    rest_url: ClassVar[str] = FUTURES_REST_URL
    rest_path: ClassVar[str] = "/fapi/v1/depth"

    @classmethod
    def _depth_intervals(cls) -> tuple[int, ...]:
        return (100, 250, 500)

    @classmethod
    def _default_interval(cls) -> int:
        return 250

    @classmethod
    def rest_snapshot_url(cls, symbol: str, limit: int = 1000) -> str:
        """The REST depth snapshot URL (futures limit one of 5, 10, 20, 50, 100, 500, 1000)."""
        if limit not in FUTURES_DEPTH_LIMITS:
            raise ValueError(f"limit={limit!r} is not one of {FUTURES_DEPTH_LIMITS}")
        return f"{cls.rest_url}{cls.rest_path}?symbol={symbol.upper()}&limit={limit}"

    def _delta(self, d: dict[str, Any], recv_ns: int) -> BookDelta:
        if "pu" not in d:
            raise MalformedFrame("missing_field", "'pu' in futures depthUpdate")
        return super()._delta(d, recv_ns)

    def _stale_limit(self, last_update_id: int) -> int:
        return last_update_id - 1  # drop u < L

    def _bridges(self, ev: BookDelta, last_update_id: int) -> bool:
        """``U <= L <= u`` (Binance's rule), or ``pu == L``: the diff right after the snapshot's
        last update (a snapshot taken between two diffs, whose ``U`` is then ``L + 1``)."""
        assert ev.first_seq is not None and ev.seq is not None
        return ev.first_seq <= last_update_id <= ev.seq or ev.prev_seq == last_update_id

    def _continues(self, ev: BookDelta, last: int) -> bool:
        return ev.prev_seq == last

    def _gap_detail(self, ev: BookDelta, last: int) -> str:
        return f"pu={ev.prev_seq} != previous u={last}"


def _is_partial_depth(stream: str) -> bool:
    """``btcusdt@depth20@100ms`` (partial book depth) as opposed to ``btcusdt@depth@100ms``."""
    i = stream.find("@depth")
    return i >= 0 and stream[i + 6:i + 7].isdigit()



def _levels(levels: Sequence[Sequence[str]]) -> list[list[str]]:
    """Levels as plain lists (for building snapshots from a book in tests and tools)."""
    return [[str(p), str(s)] for p, s, *_ in levels]


def snapshot_payload(book: OrderBook, last_update_id: int, depth: int | None = None
                     ) -> dict[str, Any]:
    """A REST-style depth snapshot ``{"lastUpdateId", "bids", "asks"}`` of ``book``.

    Used to re-deliver a snapshot consistent with a known book (fault-injection tests, the
    local venue). ``depth`` limits the levels a side (all when None).
    """
    if depth is not None and not (isinstance(depth, int) and depth >= 1):
        raise ValueError(f"depth={depth!r} must be an integer >= 1 or None")
    n = depth if depth is not None else max(book.n_bids, book.n_asks)
    return {"lastUpdateId": int(last_update_id),
            "bids": _levels(book.level_strings("bid", n)),
            "asks": _levels(book.level_strings("ask", n))}

