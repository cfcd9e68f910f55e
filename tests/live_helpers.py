"""Helpers shared by the live-client and local-venue tests."""

from __future__ import annotations

import asyncio
import time
from typing import Any

ALL = 10**6  # "every level" for level_strings

#: one spec per fault type alone, and a mix (seeded in the venue)
FAULTS = {
    "drop": "drop:every=200",
    "dup": "dup:every=250",
    "reorder": "reorder:every=230",
    "corrupt": "corrupt:every=210",
    "stall": "stall:every=900:0.5s",
    "close": "close:every=900",
    "mix": "drop:0.003,dup:0.002,reorder:0.002,corrupt:0.002,close:every=1700,"
           "stall:0.0004:0.4s",
}


def run(coro: Any, timeout: float = 60.0) -> Any:
    """Run a test coroutine on a fresh loop, failing it after ``timeout`` seconds."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


def levels_of(book: Any) -> tuple[dict[str, str], dict[str, str]]:
    """Every level of a book as ``{price_str: size_str}`` per side, for exact comparisons."""
    return dict(book.level_strings("bid", ALL)), dict(book.level_strings("ask", ALL))


async def until(pred: Any, timeout: float = 10.0) -> bool:
    """Poll ``pred`` every 10 ms until it holds or ``timeout`` passes; its last value."""
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        if pred():
            return True
        await asyncio.sleep(0.01)
    return bool(pred())
