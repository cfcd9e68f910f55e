"""REST snapshots fetched beside a live client's socket (venues whose protocol syncs so).

While the feed buffers the socket's diffs, a snapshot is fetched over HTTP in a worker thread
(``asyncio.to_thread``: the loop never waits on HTTP) and handed to the client, which puts it
through the feed like any frame (the feed drops the diffs it covers and bridges the rest); a
snapshot that cannot be bridged is fetched again. Requests of one symbol are at least
``config.rest_min_interval_s`` apart (the endpoints' request weight grows with the depth).
The venue's protocol builds the URL; nothing here names a venue.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:  # pragma: no cover
    from .client import BookClient

__all__ = ["RestSnapshots", "http_get_json"]

log = logging.getLogger(__name__)


def http_get_json(url: str, timeout_s: float) -> Any:
    """GET ``url`` and parse its JSON body (blocking: run it in a worker thread)."""
    req = urllib.request.Request(url, headers={"Accept": "application/json",
                                               "User-Agent": "tradesim_nb"})
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as r:
            body = r.read()
    except urllib.error.HTTPError as e:
        raise RuntimeError(f"HTTP {e.code} from {url}: {e.read()[:200]!r}") from None
    return orjson.loads(body)


class RestSnapshots:
    """The REST snapshot tasks of one client, one a symbol at most, and their counters."""

    def __init__(self, client: BookClient) -> None:
        self.client = client
        self.tasks: dict[str, asyncio.Task[Any]] = {}
        self.last: dict[str, float] = {}
        self.requests = 0
        self.errors = 0

    def ensure(self, sym: str, ws: Any) -> None:
        """Fetch snapshots of ``sym`` for the socket ``ws`` unless a task already does."""
        t = self.tasks.get(sym)
        if t is None or t.done():
            self.tasks[sym] = self.client._spawn(self._sync(sym, ws), f"rest-{sym}")

    def take_tasks(self) -> list[asyncio.Task[Any]]:
        """The running tasks, forgotten here (the socket they served is gone)."""
        out = list(self.tasks.values())
        self.tasks.clear()
        return out

    async def _sync(self, sym: str, ws: Any) -> None:
        """Fetch REST snapshots of ``sym`` until its book is synced or the socket changes."""
        c = self.client
        cfg = c.config
        feed = c.feed
        url = c.rest_snapshot_url(sym)
        t_wait = time.monotonic()
        patience = min(1.0, cfg.silence_timeout_s / 4)  # a quiet symbol: do not wait forever
        while not feed.buffered(sym) and time.monotonic() - t_wait < patience and c._ws is ws:
            await asyncio.sleep(0.005)  # buffer first: the snapshot must not predate the stream
        while not c._stopping and c._ws is ws:
            if feed.is_synced(sym):
                return
            wait = self.last.get(sym, -math.inf) + cfg.rest_min_interval_s - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
                if c._ws is not ws:
                    return
            self.last[sym] = time.monotonic()
            self.requests += 1
            try:
                payload = await asyncio.to_thread(http_get_json, url, cfg.rest_timeout_s)
            except Exception as e:
                self.errors += 1
                log.warning("REST snapshot %s failed: %r", url, e)
                continue
            if c._ws is not ws or c._stopping:
                return
            c.handle_rest_snapshot(sym, payload)
