"""How the live client talks to a venue: the part of a connection that is string work.

A :class:`ClientProtocol` (one subclass per venue, in its package) says which URL to open,
what to send to subscribe, how to keep the connection alive and what to send to get a fresh
snapshot after a gap or a checksum failure. It never touches a socket:
:class:`tradesim_nb.live.BookClient` does the I/O (socket, keepalive timing, backoff,
watchdog, REST requests in a worker thread) and asks the protocol for the words.

Resync, the three ways venues offer:

* messages on the open socket (OKX, Bybit, Kraken: unsubscribe + subscribe, answered by a new
  snapshot) — :meth:`ClientProtocol.resync` returns them;
* nothing to send: the next message is a full snapshot anyway (the GoQuant relay) — ``[]``;
* a snapshot fetched over REST beside the socket while the feed buffers the diffs (Binance) —
  ``rest_snapshots = True``, :meth:`rest_snapshot_url` and :meth:`rest_frame`;

and ``None`` asks the client to reconnect.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar
from urllib.parse import urlsplit

__all__ = ["ClientProtocol"]


class ClientProtocol:
    """Declarations and messages of one venue for the live client (pure, no socket).

    Parameters
    ----------
    channels : sequence of str
        Channels asked of the venue where it has a choice (OKX ``("books", "trades")``,
        Bybit ``("orderbook.50",)``); venues with a fixed set ignore them.
    """

    #: the venue name this protocol speaks
    venue: ClassVar[str] = ""
    #: a text keepalive to send (None: a websocket ping frame)
    keepalive_text: ClassVar[str | None] = None
    #: send the keepalive every ``keepalive_s`` whatever arrives (Bybit), not only when quiet
    keepalive_always: ClassVar[bool] = False
    #: one socket an instrument (the URL names it; nothing to subscribe)
    per_symbol_socket: ClassVar[bool] = False
    #: (re)sync from a REST snapshot fetched beside the socket (Binance)
    rest_snapshots: ClassVar[bool] = False
    #: whether :meth:`subscribe` also asks for the venue's 24-hour ticker (its volume is the
    #: daily volume of the impact's rule of thumb); False: the venue has none (GoQuant relay)
    ticker_24h: ClassVar[bool] = False
    #: REST-snapshot venues: the official REST base and the stream URL whose host it serves
    rest_url: ClassVar[str] = ""
    stream_url: ClassVar[str] = ""

    def __init__(self, channels: Sequence[str] = ()) -> None:
        self.channels = tuple(channels)

    def live_url(self, symbols: Sequence[str]) -> str:
        """The venue's public URL for ``symbols``."""
        raise NotImplementedError

    def ws_url(self, url: str, symbols: Sequence[str]) -> str:
        """The URL to open for a source URL (a bare venue base may get a path appended)."""
        return url

    def subscribe(self, symbols: Sequence[str]) -> list[str]:
        """Messages to send once the socket is open."""
        return []

    def resync(self, symbol: str) -> list[str] | None:
        """Messages that make the venue send a fresh snapshot; ``[]`` nothing to send (the
        next message or a REST snapshot resyncs); None = reconnect instead."""
        return None

    # -- REST snapshots (``rest_snapshots = True``) -----------------------------------------
    def rest_snapshot_url(self, symbol: str, limit: int, base: str | None = None) -> str:
        """The REST depth snapshot URL of ``symbol`` (``limit`` levels a side) on ``base``
        (default: the venue's own :attr:`rest_url`)."""
        raise ValueError(f"venue={self.venue!r} takes no REST snapshot")

    def rest_base(self, socket_url: str | None, live_url: str) -> str:
        """Where to ask REST snapshots for a socket opened on ``socket_url``: the venue's
        own REST host for its live stream, else ``http(s)://host:port`` of the socket (a local
        venue answers REST on its websocket port)."""
        if socket_url is None or socket_url == live_url:
            return self.rest_url
        parts = urlsplit(socket_url)
        if parts.netloc == urlsplit(self.stream_url).netloc:
            return self.rest_url  # the venue's own stream host: its REST host is another one
        return f"{'https' if parts.scheme == 'wss' else 'http'}://{parts.netloc}"

    def rest_frame(self, symbol: str, payload: str | bytes | dict[str, Any]) -> str:
        """A REST snapshot answer as the frame the venue's parser reads back (and a recording
        keeps), so it goes through the one frame loop like every other frame."""
        raise ValueError(f"venue={self.venue!r} takes no REST snapshot")
