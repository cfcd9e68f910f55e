"""The GoQuant relay as the local venue speaks it: ``/ws/l2-orderbook/okx/<SYMBOL>``.

The path subscribes (an unknown symbol is refused); every change of the true book sends the
relay's full top-50 snapshot ``{"timestamp", "exchange": "OKX", "symbol", "asks", "bids"}``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import ClassVar, Final

import orjson

from ..dialect import Change, Dialect, Subscriber, TrueBook

__all__ = ["PREFIX", "GoQuantDialect"]

PREFIX: Final = "/ws/l2-orderbook/okx/"
_CHANNEL: Final = "gq"


class GoQuantDialect(Dialect):
    """The relay: one instrument a connection, a full top-50 snapshot a message."""

    paths: ClassVar[tuple[str, ...]] = (PREFIX,)

    def url(self, base: str, symbols: Sequence[str] = ()) -> str:
        return f"{base}{PREFIX}{symbols[0] if symbols else '<SYMBOL>'}"

    @staticmethod
    def frame(tr: TrueBook) -> str:
        b, a = tr.sides(50)
        now = time.time_ns()
        iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now // 1_000_000_000))
        return orjson.dumps({"timestamp": f"{iso}.{now % 1_000_000_000 // 1000:06d}Z",
                             "exchange": "OKX", "symbol": tr.symbol,
                             "asks": [list(x) for x in a], "bids": [list(x) for x in b]}).decode()

    def open(self, conn: Subscriber, path: str) -> str | None:
        sym = path[len(PREFIX):]
        tr = self.host.truth.get(sym)
        if tr is None:
            return f"unknown symbol {sym}"
        conn.subs.add((_CHANNEL, sym))
        conn.put(self.frame(tr), "snap", sym)
        return None

    def request(self, conn: Subscriber, msg: str | bytes) -> None:
        if msg == "ping" or msg == b"ping":
            self.host.stats["pings"] += 1
            conn.put("pong")

    def update(self, tr: TrueBook, ch: Change, prev_id: int, ts_ms: str,
               conns: Sequence[Subscriber]) -> None:
        frame: str | None = None
        key = (_CHANNEL, ch.symbol)
        for c in conns:
            if key in c.subs:
                if frame is None:
                    frame = self.frame(tr)
                c.put(frame, "snap", ch.symbol)
