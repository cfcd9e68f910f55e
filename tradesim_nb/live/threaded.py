"""The live client on a worker thread with its own event loop, for plain (non-async) code."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from typing import Any

from .client import BookClient, connect

__all__ = ["ThreadedClient", "start_in_thread"]


class ThreadedClient:
    """A :class:`BookClient` on a worker thread with its own event loop, for plain code.

    Read ``client.metrics`` or ``snapshot()`` from any thread (they are computed on the loop
    thread); callbacks registered on ``.client`` run on the worker thread. Call :meth:`stop`.
    """

    def __init__(self, venue: str, symbols: str | Sequence[str], **kwargs: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tradesim-live",
                                        daemon=True)
        self._thread.start()
        self.client: BookClient = self._call(self._make(venue, symbols, kwargs), 30.0)

    async def _make(self, venue: str, symbols: Any, kwargs: dict[str, Any]) -> BookClient:
        wait = kwargs.pop("wait_snapshot_s", 2.0)
        return await connect(venue, symbols, wait_snapshot_s=wait, **kwargs)

    def _call(self, coro: Any, timeout: float) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _get(self, fn: Callable[[], Any]) -> Any:
        return fn()

    @property
    def metrics(self) -> dict[str, Any]:
        return self._call(self._get(lambda: self.client.metrics), 10.0)  # type: ignore[no-any-return]

    def snapshot(self, n: int | None = None, allow_stale: bool = False) -> Any:
        return self._call(self._get(lambda: self.client.snapshot(n, allow_stale=allow_stale)),
                          10.0)

    def wait_synced(self, timeout_s: float = 10.0) -> bool:
        return self._call(self.client.wait_synced(timeout_s), timeout_s + 5.0)  # type: ignore[no-any-return]

    def stop(self) -> None:
        if self._loop.is_closed():
            return
        self._call(self.client.stop(), 30.0)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10.0)
        self._loop.close()

    def __enter__(self) -> ThreadedClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_in_thread(venue: str, symbols: str | Sequence[str], **kwargs: Any) -> ThreadedClient:
    """Synchronous convenience: a client on its own loop in a worker thread (no nest_asyncio)."""
    return ThreadedClient(venue, symbols, **kwargs)
