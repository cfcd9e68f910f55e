"""The live client's side of Bybit v5 public (linear): topics, the JSON ping, resync.

``orderbook.{depth}.<SYM>`` (depth from a channel ``"orderbook.N"``, default 50),
``publicTrade.<SYM>`` and the 24-hour ``tickers.<SYM>`` (the daily volume of the impact's rule
of thumb) in one subscribe request; ``{"op":"ping"}`` every ``keepalive_s``
(Bybit asks for 20 s) whatever the traffic; a gap is resynced by unsubscribing and
subscribing the book topic again (Bybit answers with a fresh snapshot).

References
----------
Bybit V5 API, WebSocket "Connect" (heartbeat) and "Orderbook".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar
from urllib.parse import urlsplit

from ..protocol import ClientProtocol
from .feed import (
    PING_MESSAGE,
    PUBLIC_URLS,
    orderbook_topic,
    subscribe_message,
    ticker_topic,
    trade_topic,
    unsubscribe_message,
)

__all__ = ["BybitProtocol"]


class BybitProtocol(ClientProtocol):
    """Bybit v5 public linear: book + trade topics, the JSON ping always, resync by
    unsubscribe + subscribe."""

    venue: ClassVar[str] = "bybit"
    keepalive_text: ClassVar[str | None] = PING_MESSAGE
    keepalive_always: ClassVar[bool] = True
    ticker_24h: ClassVar[bool] = True

    def __init__(self, channels: Sequence[str] = ()) -> None:
        super().__init__(channels)
        self.depth = 50
        for ch in channels:
            if ch.startswith("orderbook."):
                self.depth = int(ch.split(".")[1])

    def live_url(self, symbols: Sequence[str]) -> str:
        return PUBLIC_URLS["linear"]

    def ws_url(self, url: str, symbols: Sequence[str]) -> str:
        if urlsplit(url).path in ("", "/"):
            return url.rstrip("/") + "/v5/public/linear"
        return url

    def _book_topics(self, symbols: Sequence[str]) -> list[str]:
        return [orderbook_topic(s, self.depth, "linear") for s in symbols]

    def subscribe(self, symbols: Sequence[str]) -> list[str]:
        # the tickers first: the volume is then known when the book's snapshot arrives
        return [subscribe_message([ticker_topic(s) for s in symbols] + self._book_topics(symbols)
                                  + [trade_topic(s) for s in symbols])]

    def resync(self, symbol: str) -> list[str] | None:
        t = self._book_topics([symbol])
        return [unsubscribe_message(t), subscribe_message(t)]
