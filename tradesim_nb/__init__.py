"""tradesim_nb: a Jupyter research toolkit for execution cost.

Core (this namespace) is pure numpy/scipy/scikit-learn: events, instruments, the order book,
venue parsers, cost models, calibration. ``tradesim_nb.live`` (websockets, asyncio) and
``tradesim_nb.nb`` (ipywidgets, Bokeh) load only when imported.
"""

from __future__ import annotations

from .book import Fill, OrderBook
from .events import BBO, BookDelta, BookSnapshot, FeedStatus, Trade
from .feed import FeedStats, MalformedFrame, VenueFeed
from .instruments import INSTRUMENTS, Instrument, get_instrument, register_instrument
from .venues import get_feed

__version__ = "0.1.0"

__all__ = [
    "BBO",
    "INSTRUMENTS",
    "BookDelta",
    "BookSnapshot",
    "FeedStats",
    "FeedStatus",
    "Fill",
    "Instrument",
    "MalformedFrame",
    "OrderBook",
    "Trade",
    "VenueFeed",
    "__version__",
    "get_feed",
    "get_instrument",
    "register_instrument",
]
