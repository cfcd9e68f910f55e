"""The live client's side of Binance spot and USD-M futures: combined streams + REST snapshots.

One combined-stream socket (``<sym>@depth@100ms``, ``<sym>@trade``, ``<sym>@bookTicker`` and
the 24-hour ``<sym>@ticker``, whose volume is the daily volume of the impact's rule of thumb,
of every symbol). The diffs are buffered by the feed while a REST depth snapshot (``GET
/api/v3/depth`` / ``/fapi/v1/depth``, ``limit = config.rest_limit``) is fetched beside the
socket; the feed then drops the diffs the snapshot covers and bridges the rest as Binance
documents. A gap fetches a new snapshot (nothing to send on the socket). Binance's pings are
websocket frames, answered by the websockets library. The REST base is the venue's own for
its live stream, else ``http(s)://host:port`` of the socket URL.

References
----------
Binance Spot API, WebSocket Streams, "How to manage a local order book correctly"; Binance
USDⓈ-M Futures, the same section.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import orjson

from ..protocol import ClientProtocol
from .feed import BinanceFuturesFeed, BinanceSpotFeed

__all__ = ["BinanceFuturesProtocol", "BinanceSpotProtocol"]


class BinanceSpotProtocol(ClientProtocol):
    """Binance spot: combined streams at 100 ms, REST depth snapshots to (re)sync."""

    venue: ClassVar[str] = "binance"
    rest_snapshots: ClassVar[bool] = True
    ticker_24h: ClassVar[bool] = True
    feed_cls: ClassVar[type[BinanceSpotFeed]] = BinanceSpotFeed
    rest_url: ClassVar[str] = BinanceSpotFeed.rest_url
    stream_url: ClassVar[str] = BinanceSpotFeed.ws_url

    def streams(self, symbols: Sequence[str]) -> list[str]:
        return [n for s in symbols
                for n in self.feed_cls.stream_names(s, depth_interval_ms=100, ticker_24h=True)]

    def live_url(self, symbols: Sequence[str]) -> str:
        return self.feed_cls.combined_stream_url(self.streams(symbols))

    def ws_url(self, url: str, symbols: Sequence[str]) -> str:
        if "streams=" in url:
            return url
        base = url.rstrip("/")
        if not base.endswith("/stream"):
            base += "/stream"
        return base + "?streams=" + "/".join(self.streams(symbols))

    def resync(self, symbol: str) -> list[str] | None:
        return []  # a new REST snapshot, fetched by the client beside the socket

    def rest_snapshot_url(self, symbol: str, limit: int, base: str | None = None) -> str:
        official = self.feed_cls.rest_snapshot_url(symbol, limit)  # validates the limit
        if base is None:
            return official
        return base.rstrip("/") + official[len(self.feed_cls.rest_url):]

    def rest_frame(self, symbol: str, payload: str | bytes | dict[str, Any]) -> str:
        """``{"stream": "<symbol>@restDepth", "data": payload}``: the parser reads it back as
        that symbol's snapshot (and a payload without ``lastUpdateId`` as malformed)."""
        data = orjson.Fragment(payload) if isinstance(payload, str | bytes) else payload
        return orjson.dumps({"stream": f"{symbol.lower()}@restDepth", "data": data}).decode()


class BinanceFuturesProtocol(BinanceSpotProtocol):
    """Binance USD-M futures: the same, on the futures hosts and paths."""

    venue: ClassVar[str] = "binance-futures"
    feed_cls: ClassVar[type[BinanceSpotFeed]] = BinanceFuturesFeed
    rest_url: ClassVar[str] = BinanceFuturesFeed.rest_url
    stream_url: ClassVar[str] = BinanceFuturesFeed.ws_url
