"""The live client's consumers: bounded async event streams (callbacks live on the client).

A slow consumer must never stall parsing: :class:`EventStream` keeps at most ``maxsize``
events and drops the oldest (or the newest) beyond, counting what it dropped.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any, Literal

from ..book import OrderBook
from ..events import Event

__all__ = ["EventStream", "UpdateCallback"]

#: ``fn(book, events, recv_ns)``, called on the loop thread after each market-data frame
UpdateCallback = Callable[[OrderBook, list[Event], int], Any]
#: which event a full stream gives up
DropPolicy = Literal["oldest", "newest"]


class EventStream:
    """Async iterator over the client's events with a bounded queue.

    When the queue holds ``maxsize`` events, a new event drops the oldest (``drop="oldest"``)
    or itself (``drop="newest"``); ``dropped`` counts them. Parsing never waits for a consumer.
    Iteration ends when the client stops or :meth:`close` is called.
    """

    def __init__(self, maxsize: int, drop: str,
                 on_close: Callable[[EventStream], None] | None = None) -> None:
        if not (isinstance(maxsize, int) and maxsize >= 1):
            raise ValueError(f"maxsize={maxsize!r} must be an int >= 1")
        if drop not in ("oldest", "newest"):
            raise ValueError(f"drop={drop!r} is not one of 'oldest', 'newest'")
        self._on_close = on_close
        self.maxsize = maxsize
        self.drop = drop
        self.dropped = 0
        self.delivered = 0
        self._q: deque[Event] = deque()
        self._wake = asyncio.Event()
        self._closed = False

    def push(self, events: list[Event]) -> None:
        q = self._q
        for ev in events:
            if len(q) >= self.maxsize:
                self.dropped += 1
                if self.drop == "newest":
                    continue
                q.popleft()
            q.append(ev)
        if not self._wake.is_set():
            self._wake.set()

    def __len__(self) -> int:
        return len(self._q)

    def __aiter__(self) -> AsyncIterator[Event]:
        return self

    async def __anext__(self) -> Event:
        while not self._q:
            if self._closed:
                raise StopAsyncIteration
            self._wake.clear()
            await self._wake.wait()
        self.delivered += 1
        return self._q.popleft()

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        if self._on_close is not None:
            self._on_close(self)
