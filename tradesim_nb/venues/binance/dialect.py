"""Binance combined streams and the REST depth snapshot, as the local venue speaks them.

``/stream?streams=<sym>@depth@100ms/<sym>@trade/<sym>@bookTicker`` (``{"stream", "data"}``
frames; also ``SUBSCRIBE``/``UNSUBSCRIBE``/``LIST_SUBSCRIPTIONS`` requests). Each update is a
``depthUpdate`` carrying the ids it consumed, ``U = prev + 1 .. u = seqId`` and ``pu = prev``
(so the spot rule ``U = u_prev + 1`` and the futures rule ``pu = u_prev`` both hold); a
``bookTicker`` (``u`` = the update's id) whenever the top price or size changed; trades; the
``24hrTicker`` of ``<sym>@ticker`` (``v`` the 24-hour base volume, ``q`` the quote volume) on
subscription and as the venue publishes it (about once a second). The
REST snapshot ``GET /api/v3/depth?symbol=S&limit=N`` (and ``/fapi/v1/depth``) is answered over
plain HTTP on the same port: the true book's best ``N`` levels with ``lastUpdateId`` = the
current id, so it is consistent with the stream exactly as Binance's procedure expects; it
makes the update chains of that symbol whole again (an update at or below its id is harmless
if lost). Unknown symbols get HTTP 400 ``-1121``, a bad limit ``-1100``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, ClassVar, Final
from urllib.parse import parse_qs, urlsplit

import orjson

from ..dialect import Change, Dialect, Subscriber, TrueBook

__all__ = ["REST_PATHS", "STREAM_PATH", "BinanceDialect"]

STREAM_PATH: Final = "/stream"
#: REST depth snapshot paths (spot, USD-M futures) answered over HTTP on the same port
REST_PATHS: Final = ("/api/v3/depth", "/fapi/v1/depth")
_CHANNELS: Final = ("depth", "trade", "aggTrade", "bookTicker", "ticker")
_DEPTHS: Final = ("depth", "depth@100ms", "depth@250ms", "depth@500ms", "depth@1000ms")


class BinanceDialect(Dialect):
    """Binance spot and USD-M futures combined streams, with the REST depth snapshot."""

    paths: ClassVar[tuple[str, ...]] = (STREAM_PATH,)
    http_paths: ClassVar[tuple[str, ...]] = REST_PATHS

    def __init__(self, host: Any) -> None:
        super().__init__(host)
        #: bookTicker: the last top sent per symbol (bid px, bid sz, ask px, ask sz)
        self.last_top: dict[str, tuple[str, str, str, str]] = {}

    def url(self, base: str, symbols: Sequence[str] = (), depth_ms: int = 100) -> str:
        """Combined-stream URL: ``<sym>@depth@100ms``, ``<sym>@trade``, ``<sym>@bookTicker``,
        ``<sym>@ticker``."""
        names = [f"{s.lower()}@{k}" for s in symbols
                 for k in (f"depth@{depth_ms}ms", "trade", "bookTicker", "ticker")]
        return f"{base}{STREAM_PATH}?streams=" + "/".join(names)

    # -- subscriptions -----------------------------------------------------------------------
    @staticmethod
    def _names(conn: Subscriber) -> dict[tuple[str, str], str]:
        names: dict[tuple[str, str], str] = conn.state.setdefault("names", {})
        return names

    def subscribe(self, conn: Subscriber, names: Sequence[str], sub: bool = True) -> list[str]:
        """(Un)subscribe stream names; returns the names not understood."""
        bad = []
        host = self.host
        for name in names:
            s_l, _, kind = name.partition("@")
            ch = kind.split("@", 1)[0]
            ok = ch in _CHANNELS and kind in (*_DEPTHS, ch)
            sym = host.symbol_for(s_l)
            if not (ok and s_l and host.known(sym)):
                bad.append(name)
                continue
            key = ("trade" if ch == "aggTrade" else ch, sym)
            if sub:
                conn.subs.add(key)
                self._names(conn)[key] = name
                if ch == "ticker" and sym in host.truth:
                    vol = host.daily_volume(sym)
                    if vol > 0 and vol < float("inf"):
                        conn.put(self.ticker_24h_frame(host.truth[sym], vol, name), "ctl", sym)
            else:
                conn.subs.discard(key)
        return bad

    def open(self, conn: Subscriber, path: str) -> str | None:
        names = (parse_qs(urlsplit(path).query).get("streams") or [""])[0]
        bad = self.subscribe(conn, [n for n in names.split("/") if n])
        return f"invalid stream(s) {','.join(bad)}"[:120] if bad else None

    def request(self, conn: Subscriber, msg: str | bytes) -> None:
        """``{"method": "SUBSCRIBE"|"UNSUBSCRIBE"|"LIST_SUBSCRIPTIONS", "params", "id"}``."""
        try:
            req = orjson.loads(msg)
            method = req["method"]
            rid = req.get("id")
            params = req.get("params", [])
            if method not in ("SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS") or not (
                    isinstance(params, list) and all(isinstance(x, str) for x in params)):
                raise ValueError(method)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            conn.put(orjson.dumps({"error": {"code": 2, "msg": "Invalid request"},
                                   "id": None}).decode())
            return
        if method == "LIST_SUBSCRIPTIONS":
            names = self._names(conn)
            conn.put(orjson.dumps({"result": sorted(names[k] for k in conn.subs),
                                   "id": rid}).decode())
            return
        bad = self.subscribe(conn, params, method == "SUBSCRIBE")
        if bad:
            conn.put(orjson.dumps({"error": {"code": 2, "msg": f"Invalid request: unknown "
                                             f"stream(s) {','.join(bad)}"}, "id": rid}).decode())
            return
        conn.put(orjson.dumps({"result": None, "id": rid}).decode())

    # -- frames ------------------------------------------------------------------------------
    @staticmethod
    def depth_frame(tr: TrueBook, ch: Change, name: str, prev_id: int) -> str:
        """``depthUpdate``: ids ``prev_id+1 .. seq`` (``U``..``u``), ``pu`` = previous ``u``."""
        ms = time.time_ns() // 1_000_000
        return orjson.dumps({"stream": name, "data": {
            "e": "depthUpdate", "E": ms, "T": ms, "s": tr.symbol, "U": prev_id + 1, "u": tr.seq,
            "pu": prev_id, "b": [[p, q] for p, q in ch.bids],
            "a": [[p, q] for p, q in ch.asks]}}).decode()

    def ticker(self, tr: TrueBook) -> str | None:
        """The bookTicker payload (JSON) if the top changed since the last one, else None."""
        b = tr.book.level_strings("bid", 1)
        a = tr.book.level_strings("ask", 1)
        if not (b and a):
            return None
        top = (b[0][0], b[0][1], a[0][0], a[0][1])
        if top == self.last_top.get(tr.symbol):
            return None
        self.last_top[tr.symbol] = top
        return orjson.dumps({"u": tr.seq, "s": tr.symbol, "b": top[0], "B": top[1],
                             "a": top[2], "A": top[3]}).decode()

    @staticmethod
    def ticker_24h_frame(tr: TrueBook, volume_base: float, name: str) -> str:
        """The ``24hrTicker`` event of ``tr`` on stream ``name``."""
        mid = tr.book.mid
        ms = time.time_ns() // 1_000_000
        return orjson.dumps({"stream": name, "data": {
            "e": "24hrTicker", "E": ms, "s": tr.symbol, "c": f"{mid:.10g}",
            "v": f"{volume_base:.8g}", "q": f"{volume_base * mid:.8g}",
            "O": ms - 86_400_000, "C": ms}}).decode()

    def ticker_24h(self, tr: TrueBook, volume_base: float, conns: Sequence[Subscriber]) -> None:
        key = ("ticker", tr.symbol)
        for c in conns:
            if key in c.subs:
                c.put(self.ticker_24h_frame(tr, volume_base, self._names(c)[key]), "ctl",
                      tr.symbol)

    def update(self, tr: TrueBook, ch: Change, prev_id: int, ts_ms: str,
               conns: Sequence[Subscriber]) -> None:
        frames: dict[str, str] = {}  # by stream name
        ticker: str | bool | None = False  # False: not computed yet, None: top unchanged
        kd = ("depth", ch.symbol)
        kt = ("bookTicker", ch.symbol)
        for c in conns:
            if kd in c.subs:
                name = self._names(c)[kd]
                fr = frames.get(name)
                if fr is None:
                    fr = frames[name] = self.depth_frame(tr, ch, name, prev_id)
                c.put(fr, "data", ch.symbol, tr.seq)
            if kt in c.subs:
                if ticker is False:
                    ticker = self.ticker(tr)
                if isinstance(ticker, str):
                    name = self._names(c)[kt]
                    fr = frames.get(name)
                    if fr is None:
                        fr = frames[name] = orjson.dumps(
                            {"stream": name, "data": orjson.Fragment(ticker)}).decode()
                    c.put(fr, "ctl", ch.symbol)

    def trades(self, tr: TrueBook, data: list[dict[str, str]],
               conns: Sequence[Subscriber]) -> None:
        key = ("trade", tr.symbol)
        for c in conns:
            if key not in c.subs:
                continue
            name = self._names(c)[key]
            ms = time.time_ns() // 1_000_000
            agg = name.endswith("@aggTrade")
            for t in data:
                d: dict[str, Any] = {"e": "aggTrade" if agg else "trade", "E": ms,
                                     "s": t["instId"], "p": t["px"], "q": t["sz"], "T": ms,
                                     "m": t["side"] == "sell"}
                d["a" if agg else "t"] = int(t["tradeId"])
                c.put(orjson.dumps({"stream": name, "data": d}).decode(), "ctl", t["instId"])

    # -- REST --------------------------------------------------------------------------------
    def http(self, path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]] | None:
        """``GET /api/v3/depth`` or ``/fapi/v1/depth``: (HTTP status, JSON body)."""
        if path not in REST_PATHS:
            return None
        host = self.host
        futures = path == REST_PATHS[1]
        sym = host.symbol_for((query.get("symbol") or [""])[0])
        tr = host.truth.get(sym)
        if tr is None or not tr.announced:
            return 400, {"code": -1121, "msg": "Invalid symbol."}
        raw = (query.get("limit") or ["500" if futures else "100"])[0]
        try:
            limit = int(raw)
        except ValueError:
            limit = -1
        ok = limit in (5, 10, 20, 50, 100, 500, 1000) if futures else 1 <= limit <= 5000
        if not ok:
            return 400, {"code": -1100, "msg": f"Illegal characters found in parameter "
                                               f"'limit'; legal range is "
                         f"{'5,10,20,50,100,500,1000' if futures else '1..5000'}."}
        b, a = tr.sides(limit)
        body: dict[str, Any] = {"lastUpdateId": tr.seq, "bids": [[p, q] for p, q in b],
                                "asks": [[p, q] for p, q in a]}
        if futures:
            ms = time.time_ns() // 1_000_000
            body["E"] = ms
            body["T"] = ms
        # the socket chains of this symbol are whole again from this id on
        for c in host.subscribers(self):
            if ("depth", sym) in c.subs:
                c.chain_whole(sym, tr.seq)
        host.stats["rest_snapshots"] += 1
        return 200, body
