"""Bybit v5 public as the local venue speaks it: ``/v5/public/<category>``.

``{"op": "subscribe", "args": ["orderbook.50.S", "publicTrade.S", "tickers.S"]}`` is acknowledged
(``success``/``ret_msg``/``conn_id``), ``{"op": "ping"}`` gets ``ret_msg: "pong"``.
``orderbook.{depth}`` is a *view* of the true book's top ``depth`` levels with its own update
id ``u`` (+1 a delta, a delta only when the view changes; ``seq`` carries the venue's id): a
snapshot on subscribe, then deltas (size ``"0"`` deletes, also levels leaving the top
``depth``). Unsubscribe + subscribe gives a fresh snapshot; :meth:`BybitDialect.restart`
emulates a restart of Bybit's book service (``u`` starts again at 1). ``tickers.S`` gets a
snapshot of the 24-hour statistics on subscription and as the venue publishes them (about
once a second): ``volume24h`` in base currency (USD contracts, with ``turnover24h`` in base, on
an inverse instrument), ``lastPrice``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, ClassVar, Final

import orjson

from ..dialect import Change, Dialect, Levels, Subscriber, TrueBook

__all__ = ["PREFIX", "BybitDialect", "BybitView"]

PREFIX: Final = "/v5/public/"
_DEPTHS: Final = (1, 50, 200, 500, 1000)


class BybitView:
    """What Bybit's ``orderbook.{depth}`` publishes: the top ``depth`` levels of the truth, with
    an update id ``u`` that grows by exactly 1 a delta (a delta only when the view changes)."""

    def __init__(self, depth: int, u0: int, keep: int) -> None:
        self.depth = depth
        self.u = u0
        self.bids: dict[str, str] = {}
        self.asks: dict[str, str] = {}
        self.keep = max(1, keep)
        #: u -> the venue's seq at which the view was that (for tests: truth at a client's u)
        self.seqs: dict[int, int] = {}

    def note(self, seq: int) -> None:
        self.seqs[self.u] = seq
        if len(self.seqs) > self.keep:
            del self.seqs[next(iter(self.seqs))]

    def reset(self, tr: TrueBook) -> None:
        b, a = tr.sides(self.depth)
        self.bids, self.asks = dict(b), dict(a)
        self.note(tr.seq)

    def delta(self, tr: TrueBook) -> tuple[Levels, Levels] | None:
        """Advance the view to the truth's top ``depth``; the changes, or None if none."""
        out: list[Levels] = []
        for side, old in (("bid", self.bids), ("ask", self.asks)):
            new = dict(tr.book.level_strings(side, self.depth))  # type: ignore[arg-type]
            ch = [(ps, ss) for ps, ss in new.items() if old.get(ps) != ss]
            ch += [(ps, "0") for ps in old if ps not in new]
            out.append(ch)
            if side == "bid":
                self.bids = new
            else:
                self.asks = new
        if not (out[0] or out[1]):
            return None
        self.u += 1
        self.note(tr.seq)
        return out[0], out[1]


class BybitDialect(Dialect):
    """Bybit v5 public (any category path): orderbook views with their own ``u``, trades."""

    ticker_channel: ClassVar[str | None] = "tk"

    paths: ClassVar[tuple[str, ...]] = (PREFIX,)
    depth: ClassVar[int | None] = 50

    def __init__(self, host: Any) -> None:
        super().__init__(host)
        self.views: dict[tuple[str, int], BybitView] = {}

    def url(self, base: str, symbols: Sequence[str] = (), category: str = "linear") -> str:
        """``ws://127.0.0.1:PORT/v5/public/linear``."""
        return f"{base}{PREFIX}{category}"

    # -- views -------------------------------------------------------------------------------
    def view(self, tr: TrueBook, depth: int) -> BybitView:
        v = self.views.get((tr.symbol, depth))
        if v is None:
            v = self.views[(tr.symbol, depth)] = BybitView(depth, self.host.new_id(),
                                                           self.host.history)
            v.reset(tr)
        return v

    def u(self, symbol: str, depth: int = 50) -> int | None:
        """The current ``u`` of the ``orderbook.{depth}`` view of ``symbol`` (None if it was
        never subscribed)."""
        v = self.views.get((symbol, depth))
        return None if v is None else v.u

    def truth(self, symbol: str, u: int, depth: int = 50
              ) -> tuple[dict[str, str], dict[str, str]] | None:
        """The true top ``depth`` levels when the view had update id ``u`` (needs the venue's
        ``history`` to cover it), as ``({px: sz} bids, {px: sz} asks)``; None if unknown."""
        v = self.views.get((symbol, depth))
        seq = None if v is None else v.seqs.get(u)
        if seq is None:
            return None
        full = self.host.truth[symbol].at(seq)
        if full is None:
            return None
        bids = sorted(full[0].items(), key=lambda kv: -float(kv[0]))[:depth]
        asks = sorted(full[1].items(), key=lambda kv: float(kv[0]))[:depth]
        return dict(bids), dict(asks)

    def current_id(self, symbol: str) -> int | None:
        return self.u(symbol, 50)

    def truth_for(self, symbol: str, book_id: int) -> tuple[dict[str, str],
                                                            dict[str, str]] | None:
        return self.truth(symbol, book_id, 50)

    def restart(self, symbol: str, depth: int = 50) -> None:
        """Emulate a restart of Bybit's book service: the ``orderbook.{depth}`` view's ``u``
        starts again at 1 and every subscriber gets a snapshot with ``u = 1`` (a client must
        replace its book, not call it a gap)."""
        v = self.views.get((symbol, depth))
        if v is None:
            raise ValueError(f"depth={depth!r}: orderbook.{depth}.{symbol} was never subscribed")
        v.u = 1
        v.seqs.clear()
        for c in list(self.host.subscribers(self)):
            if (f"ob{depth}", symbol) in c.subs:
                self._subscribe(c, self.host.truth[symbol], depth, resend=True)

    def _subscribe(self, c: Subscriber, tr: TrueBook, depth: int, resend: bool = False) -> None:
        """Subscribe ``c`` to ``orderbook.{depth}`` and queue its snapshot."""
        key = (f"ob{depth}", tr.symbol)
        others = any(key in o.subs for o in self.host.subscribers(self) if o is not c)
        c.subs.add(key)
        if not tr.announced:
            return  # a recording's instrument: the snapshot goes out with its first data
        v = self.view(tr, depth)
        if not others or resend:
            v.reset(tr)  # nobody kept the view current: start it again from the truth
        b, a = tr.sides(depth)
        ms = time.time_ns() // 1_000_000
        c.put(orjson.dumps({"topic": f"orderbook.{depth}.{tr.symbol}", "type": "snapshot",
                            "ts": ms, "data": {"s": tr.symbol, "b": [[p, q] for p, q in b],
                                               "a": [[p, q] for p, q in a], "u": v.u,
                                               "seq": tr.seq}, "cts": ms}).decode(),
              "snap", tr.symbol)
        self.host.stats["snapshots"] += 1

    # -- requests ----------------------------------------------------------------------------
    def request(self, conn: Subscriber, msg: str | bytes) -> None:
        """``{"op": "ping"|"subscribe"|"unsubscribe", "args", "req_id"}``."""
        cid = f"{conn.id:08x}-local"
        host = self.host
        try:
            req = orjson.loads(msg)
            op = req["op"]
            rid = req.get("req_id", "")
            args = req.get("args", [])
            if not isinstance(args, list):
                raise ValueError(args)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            conn.put(orjson.dumps({"success": False, "ret_msg": f"error:invalid request "
                                   f"{str(msg)[:100]}", "conn_id": cid, "op": ""}).decode())
            return
        if op == "ping":
            host.stats["pings"] += 1
            conn.put(orjson.dumps({"success": True, "ret_msg": "pong", "conn_id": cid,
                                   "req_id": rid, "op": "ping"}).decode())
            return
        if op not in ("subscribe", "unsubscribe"):
            conn.put(orjson.dumps({"success": False, "ret_msg": f"error:unknown op {op!r}",
                                   "conn_id": cid, "req_id": rid, "op": op}).decode())
            return
        todo: list[tuple[str, str, int]] = []
        for t in args:
            parts = t.split(".") if isinstance(t, str) else []
            ok = False
            if len(parts) == 3 and parts[0] == "orderbook" and parts[1].isdigit():
                ok = int(parts[1]) in _DEPTHS
            elif len(parts) == 2 and parts[0] in ("publicTrade", "tickers"):
                ok = True
            sym = host.symbol_for(parts[-1]) if ok else ""
            if not (ok and host.known(sym)):
                conn.put(orjson.dumps({"success": False, "ret_msg": f"error:handler not found,"
                                       f"topic:{t}", "conn_id": cid, "req_id": rid,
                                       "op": op}).decode())
                return
            todo.append((parts[0], sym, int(parts[1]) if len(parts) == 3 else 0))
        conn.put(orjson.dumps({"success": True, "ret_msg": "", "conn_id": cid, "req_id": rid,
                               "op": op}).decode())
        for kind, sym, depth in todo:
            key = ((f"ob{depth}", sym) if kind == "orderbook" else
                   ("pt", sym) if kind == "publicTrade" else ("tk", sym))
            if op == "unsubscribe":
                conn.subs.discard(key)
            elif kind == "publicTrade":
                conn.subs.add(key)
            elif kind == "tickers":
                conn.subs.add(key)
                vol = host.daily_volume(sym)
                if sym in host.truth and vol > 0 and vol < float("inf"):
                    conn.put(self.ticker_frame(host.truth[sym], vol), "ctl", sym)
            elif sym in host.truth:
                self._subscribe(conn, host.truth[sym], depth)
            else:
                conn.subs.add(key)  # a recording's instrument, announced with its first data

    # -- publishing --------------------------------------------------------------------------
    @staticmethod
    def _depths(c: Subscriber, sym: str) -> list[int]:
        return [int(k[2:]) for k, s in c.subs if s == sym and k.startswith("ob")]

    def delta_frame(self, tr: TrueBook, depth: int, ts: str) -> str | None:
        v = self.view(tr, depth)
        ch = v.delta(tr)
        if ch is None:
            return None
        return orjson.dumps({"topic": f"orderbook.{depth}.{tr.symbol}", "type": "delta",
                             "ts": int(ts), "data": {
                                 "s": tr.symbol, "b": [[p, q] for p, q in ch[0]],
                                 "a": [[p, q] for p, q in ch[1]], "u": v.u, "seq": tr.seq},
                             "cts": int(ts)}).decode()

    def update(self, tr: TrueBook, ch: Change, prev_id: int, ts_ms: str,
               conns: Sequence[Subscriber]) -> None:
        by: dict[int, str | None] = {}  # deltas by depth (None: view unchanged)
        for c in conns:
            for depth in self._depths(c, ch.symbol):
                if depth not in by:
                    by[depth] = self.delta_frame(tr, depth, ts_ms)
                fr = by[depth]
                if fr is not None:
                    c.put(fr, "data", ch.symbol)

    def trades(self, tr: TrueBook, data: list[dict[str, str]],
               conns: Sequence[Subscriber]) -> None:
        key = ("pt", tr.symbol)
        for c in conns:
            if key in c.subs:
                ms = time.time_ns() // 1_000_000
                c.put(orjson.dumps({"topic": f"publicTrade.{tr.symbol}", "type": "snapshot",
                                    "ts": ms, "data": [
                                        {"T": ms, "s": tr.symbol,
                                         "S": "Sell" if t["side"] == "sell" else "Buy",
                                         "v": t["sz"], "p": t["px"], "i": t["tradeId"],
                                         "BT": False} for t in data]}).decode(),
                      "ctl", tr.symbol)

    @staticmethod
    def ticker_frame(tr: TrueBook, volume_base: float) -> str:
        """The ``tickers.S`` snapshot of ``tr`` with ``volume_base`` traded in 24 hours."""
        mid = tr.book.mid
        inst = tr.instrument
        inverse = inst is not None and inst.contract_type == "inverse" and inst.kind != "spot"
        vol, turnover = ((volume_base * mid, volume_base) if inverse
                         else (volume_base, volume_base * mid))
        ms = time.time_ns() // 1_000_000
        return orjson.dumps({"topic": f"tickers.{tr.symbol}", "type": "snapshot", "ts": ms,
                             "data": {"symbol": tr.symbol, "lastPrice": f"{mid:.10g}",
                                      "volume24h": f"{vol:.8g}",
                                      "turnover24h": f"{turnover:.8g}"}, "cs": tr.seq}).decode()

    def announce(self, tr: TrueBook, conns: Sequence[Subscriber]) -> None:
        for c in conns:
            for k, sym in list(c.subs):
                if sym == tr.symbol and k.startswith("ob"):
                    self._subscribe(c, tr, int(k[2:]), resend=True)
