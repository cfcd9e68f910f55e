"""The live client's side of Kraken WebSocket v1 public: subscribe, keepalive, resync.

One socket for every pair: ``{"event": "subscribe", "pair": [...], "subscription": {"name":
"book", "depth": D}}`` (``D`` from a channel ``"book-D"``; default 10, Kraken's own default
and the depth its checksum covers whole: the checksum is taken of the best 10 levels a side,
and v1 has no sequence numbers, so below the 10th level a lost update could not be seen — a
deeper book is as trustworthy as the connection beneath it). Kraken sends ``{"event": "heartbeat"}`` about once a second on an
otherwise quiet connection; the client also sends ``{"event": "ping"}`` when the socket has
been quiet for ``keepalive_s`` (answered ``pong``). Kraken v1 has no sequence numbers and no
snapshot request: a checksum failure is resynced by unsubscribing the pair's book and
subscribing it again, which starts with a fresh snapshot.

References
----------
Kraken Spot WebSocket API v1, "Connection" (``ping``, ``heartbeat``), "subscribe" and
"Book", https://docs.kraken.com/exchange/api-reference/spot-websocket-v1/book
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Final
from urllib.parse import urlsplit

from ..protocol import ClientProtocol
from .feed import (
    PING_MESSAGE,
    PUBLIC_URL,
    resync_messages,
    subscribe_message,
    ticker_subscribe_message,
)

__all__ = ["DEFAULT_DEPTH", "LOCAL_PATH", "KrakenProtocol"]

#: book depth subscribed when the channels name none (every level checksummed)
DEFAULT_DEPTH: Final = 10
#: where the local venue serves Kraken v1 (the real endpoint is the bare host)
LOCAL_PATH: Final = "/v1"


class KrakenProtocol(ClientProtocol):
    """Kraken v1 public: one subscribe for every pair's book, ``ping`` when quiet, resync by
    unsubscribe + subscribe."""

    venue: ClassVar[str] = "kraken"
    keepalive_text: ClassVar[str | None] = PING_MESSAGE
    ticker_24h: ClassVar[bool] = True

    def __init__(self, channels: Sequence[str] = ()) -> None:
        super().__init__(channels)
        self.depth = DEFAULT_DEPTH
        for ch in channels:
            if ch.startswith("book-") and ch[5:].isdigit():
                self.depth = int(ch[5:])

    def live_url(self, symbols: Sequence[str]) -> str:
        return PUBLIC_URL

    def ws_url(self, url: str, symbols: Sequence[str]) -> str:
        parts = urlsplit(url)
        if parts.path in ("", "/") and parts.netloc != urlsplit(PUBLIC_URL).netloc:
            return url.rstrip("/") + LOCAL_PATH  # the bare base of a local venue
        return url

    def subscribe(self, symbols: Sequence[str]) -> list[str]:
        """Every pair's 24-hour ``ticker`` (the daily volume of the impact's rule of thumb:
        first, so it is known when the book's snapshot arrives), then its book."""
        return [ticker_subscribe_message(list(symbols)),
                subscribe_message(list(symbols), self.depth)]

    def resync(self, symbol: str) -> list[str] | None:
        return list(resync_messages(symbol, self.depth))
