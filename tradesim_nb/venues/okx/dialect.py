"""OKX v5 public as the local venue speaks it (``/ws/v5/public``, and any path no other
dialect claims).

``{"op": "subscribe"|"unsubscribe", "args": [{"channel": C, "instId": S}]}`` with ``C`` in
``books``, ``books5``, ``trades``, ``tickers`` is acknowledged (``{"event": "subscribe", "arg": ...,
"connId": ...}``); bad requests get ``{"event": "error", "code": "60012", ...}``, unknown
instruments ``"60018"``; the text ``ping`` gets ``pong``. ``books`` sends a snapshot of the
whole true book (``prevSeqId = -1``), then updates whose ``prevSeqId`` is the previous
``seqId`` (the truth's ids grow by 1 to 3) and whose ``checksum`` is
:func:`~tradesim_nb.venues.okx.okx_checksum` of the true book after the update. ``books5``
sends the top 5 levels after each change. ``tickers`` sends the 24-hour ticker on
subscription and then as the venue publishes it (about once a second), with ``vol24h`` in the
instrument's size unit (contracts for derivatives) and ``volCcy24h`` in base currency for
derivatives, quote currency for spot, as OKX does.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import ClassVar, Final

import orjson

from ..dialect import Change, Dialect, Levels, Subscriber, TrueBook
from .feed import CHECKSUM_DEPTH, okx_checksum

__all__ = ["PATH", "OkxDialect"]

PATH: Final = "/ws/v5/public"
_CHANNELS: Final = ("books", "books5", "trades", "tickers")


def _lv(levels: Levels) -> list[list[str]]:
    return [[p, s, "0", "1"] for p, s in levels]


class OkxDialect(Dialect):
    """The OKX v5 public protocol of the local venue (the default URL)."""

    ticker_channel: ClassVar[str | None] = "tickers"

    paths: ClassVar[tuple[str, ...]] = (PATH,)
    fallback: ClassVar[bool] = True
    checksum_key: ClassVar[str | None] = '"checksum":'

    # -- frames ------------------------------------------------------------------------------
    @staticmethod
    def update_frame(tr: TrueBook, ch: Change, ts: str, prev_id: int) -> str:
        cs = okx_checksum(tr.book.level_strings("bid", CHECKSUM_DEPTH),
                          tr.book.level_strings("ask", CHECKSUM_DEPTH))
        return orjson.dumps({
            "arg": {"channel": "books", "instId": tr.symbol}, "action": "update",
            "data": [{"asks": _lv(ch.asks), "bids": _lv(ch.bids), "ts": ts,
                      "checksum": cs, "seqId": tr.seq, "prevSeqId": prev_id}]}).decode()

    @staticmethod
    def snapshot_frame(tr: TrueBook) -> str:
        b, a = tr.sides()
        cs = okx_checksum(b[:CHECKSUM_DEPTH], a[:CHECKSUM_DEPTH])
        return orjson.dumps({
            "arg": {"channel": "books", "instId": tr.symbol}, "action": "snapshot",
            "data": [{"asks": _lv(a), "bids": _lv(b),
                      "ts": str(time.time_ns() // 1_000_000), "checksum": cs,
                      "seqId": tr.seq, "prevSeqId": -1}]}).decode()

    @staticmethod
    def books5_frame(tr: TrueBook, ts: str) -> str:
        b, a = tr.sides(5)
        return orjson.dumps({
            "arg": {"channel": "books5", "instId": tr.symbol},
            "data": [{"asks": _lv(a), "bids": _lv(b), "instId": tr.symbol,
                      "ts": ts, "seqId": tr.seq}]}).decode()

    def ticker_frame(self, tr: TrueBook, volume_base: float) -> str:
        """The ``tickers`` push of ``tr`` with ``volume_base`` traded in 24 hours."""
        inst = tr.instrument
        mid = tr.book.mid
        spot = inst is None or inst.kind == "spot"
        venue_units = volume_base if inst is None else inst.from_base(volume_base, mid)
        b, a = tr.sides(1)
        kind = "SPOT" if inst is None or spot else ("SWAP" if inst.kind == "swap" else "FUTURES")
        d = {"instType": kind,
             "instId": tr.symbol, "last": f"{mid:.10g}",
             "bidPx": b[0][0] if b else "", "askPx": a[0][0] if a else "",
             "vol24h": f"{venue_units:.8g}",
             "volCcy24h": f"{volume_base * mid if spot else volume_base:.8g}",
             "ts": str(time.time_ns() // 1_000_000)}
        return orjson.dumps({"arg": {"channel": "tickers", "instId": tr.symbol},
                             "data": [d]}).decode()

    # -- requests ----------------------------------------------------------------------------
    def _error(self, conn: Subscriber, code: str, msg: str) -> None:
        conn.put(orjson.dumps({"event": "error", "code": code, "msg": msg,
                               "connId": f"{conn.id:08x}"}).decode())

    def _ack(self, conn: Subscriber, op: str, ch: str, sym: str) -> None:
        conn.put(orjson.dumps({"event": op, "arg": {"channel": ch, "instId": sym},
                               "connId": f"{conn.id:08x}"}).decode())

    def request(self, conn: Subscriber, msg: str | bytes) -> None:
        if msg == "ping" or msg == b"ping":
            self.host.stats["pings"] += 1
            conn.put("pong")
            return
        try:
            req = orjson.loads(msg)
            op = req["op"]
            args = req["args"]
            if op not in ("subscribe", "unsubscribe") or not isinstance(args, list) or not args:
                raise ValueError(op)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            self._error(conn, "60012", f"Invalid request: {str(msg)[:200]}")
            return
        host = self.host
        for arg in args:
            ch = arg.get("channel") if isinstance(arg, dict) else None
            sym_any = arg.get("instId") if isinstance(arg, dict) else None
            sym: str = sym_any if isinstance(sym_any, str) else ""
            if ch not in _CHANNELS:
                self._error(conn, "60012", f"Invalid request: channel {ch!r}")
                continue
            tr = host.truth.get(sym)
            if tr is None and sym and host.awaiting_recording:
                # a recording's instrument whose first data has not been replayed yet: the
                # snapshot goes out when it is
                self._ack(conn, op, ch, sym)
                if op == "subscribe":
                    conn.subs.add((ch, sym))
                else:
                    conn.subs.discard((ch, sym))
                continue
            if tr is None:
                self._error(conn, "60018", f"Wrong URL or channel:{ch},instId:{sym} doesn't "
                            "exist")
                continue
            self._ack(conn, op, ch, sym)
            if op == "subscribe":
                conn.subs.add((ch, sym))
                if ch == "books":
                    conn.put(self.snapshot_frame(tr), "snap", sym)
                    host.stats["snapshots"] += 1
                elif ch == "books5":
                    conn.put(self.books5_frame(tr, str(time.time_ns() // 1_000_000)), "ctl",
                             sym)
                elif ch == "tickers":
                    vol = host.daily_volume(sym)
                    if vol > 0 and vol < float("inf"):
                        conn.put(self.ticker_frame(tr, vol), "ctl", sym)
            else:
                conn.subs.discard((ch, sym))

    # -- publishing --------------------------------------------------------------------------
    def update(self, tr: TrueBook, ch: Change, prev_id: int, ts_ms: str,
               conns: Sequence[Subscriber]) -> None:
        books_frame: str | None = None
        b5: str | None = None
        key = ("books", ch.symbol)
        key5 = ("books5", ch.symbol)
        for c in conns:
            if key in c.subs:
                if books_frame is None:
                    books_frame = self.update_frame(tr, ch, ts_ms, prev_id)
                c.put(books_frame, "data", ch.symbol)
            if key5 in c.subs:
                if b5 is None:
                    b5 = self.books5_frame(tr, ts_ms)
                c.put(b5, "ctl", ch.symbol)

    def trades(self, tr: TrueBook, data: list[dict[str, str]],
               conns: Sequence[Subscriber]) -> None:
        frame: str | None = None
        key = ("trades", tr.symbol)
        for c in conns:
            if key in c.subs:
                if frame is None:
                    frame = orjson.dumps({"arg": {"channel": "trades", "instId": tr.symbol},
                                          "data": data}).decode()
                c.put(frame, "ctl", tr.symbol)

    def announce(self, tr: TrueBook, conns: Sequence[Subscriber]) -> None:
        for c in conns:
            if ("books", tr.symbol) in c.subs:
                c.put(self.snapshot_frame(tr), "snap", tr.symbol)
