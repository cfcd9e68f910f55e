"""The live client's side of OKX v5 public: URL, subscribe, the text keepalive, resync.

Besides the book (and any other ``channels``) the client subscribes each instrument's
``tickers`` channel: its 24-hour volume is the daily volume of the impact's rule of thumb.

OKX closes a connection that stays silent for 30 s: the client sends the text ``ping`` when
the socket has been quiet for ``keepalive_s`` (the venue answers ``pong``). A gap or a
checksum failure is resynced by unsubscribing and subscribing the ``books`` channel again,
which makes the venue send a fresh snapshot.

References
----------
OKX API v5, WebSocket "Connect" (30 s idle limit, ``ping``/``pong``) and "Order book channel".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from ..protocol import ClientProtocol
from .feed import (
    KEEPALIVE_MESSAGE,
    PUBLIC_URL,
    TICKER_CHANNEL,
    subscribe_message,
    unsubscribe_message,
)

__all__ = ["OkxProtocol"]


class OkxProtocol(ClientProtocol):
    """OKX v5 public: one socket, ``{"op": "subscribe", "args": [...]}`` per channel
    (``channels``, default ``("books",)``, plus ``tickers``), text ``ping`` when quiet, resync
    by unsubscribe + subscribe of ``books``."""

    venue: ClassVar[str] = "okx"
    keepalive_text: ClassVar[str | None] = KEEPALIVE_MESSAGE
    ticker_24h: ClassVar[bool] = True

    def __init__(self, channels: Sequence[str] = ("books",)) -> None:
        super().__init__(channels)

    def live_url(self, symbols: Sequence[str]) -> str:
        return PUBLIC_URL

    def subscribe(self, symbols: Sequence[str]) -> list[str]:
        # the ticker first: its volume is then known when the book's snapshot arrives
        chans = [TICKER_CHANNEL, *(ch for ch in self.channels if ch != TICKER_CHANNEL)]
        return [subscribe_message(ch, list(symbols)) for ch in chans]

    def resync(self, symbol: str) -> list[str] | None:
        return [unsubscribe_message("books", [symbol]), subscribe_message("books", [symbol])]
