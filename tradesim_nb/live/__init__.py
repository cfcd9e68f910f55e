"""The live layer: asyncio client, local venue server, fault injection, recording while live.

Nothing here is imported by ``import tradesim_nb``; websockets loads only when a client
connects or a local venue starts.

* :func:`connect` (await in a notebook cell) / :func:`start` (plain cell) / :func:`start_in_thread`
  (plain code) → :class:`BookClient` for ``okx``, ``goquant``, ``binance``, ``binance-futures``
  (REST-snapshot sync, the HTTP request off the loop) and ``bybit``;
* :class:`LocalVenue`: OKX v5 public, GoQuant relay, Binance combined streams + REST depth and
  Bybit v5 public on 127.0.0.1, all from one true book (a recording or a seeded
  :class:`~tradesim_nb.sources.BookSource`), with seeded faults (:func:`parse_faults`);
* :class:`RandomWalkBook`: the simple seeded random-walk book source.
"""

from ..random_walk import RandomWalkBook, RandomWalkParams
from .client import (
    BookClient,
    ClientConfig,
    EventStream,
    StaleBookError,
    ThreadedClient,
    connect,
    start,
    start_in_thread,
)
from .faults import Fault, FaultInjector, FaultSpec, parse_faults
from .server import LocalVenue

__all__ = [
    "BookClient",
    "ClientConfig",
    "EventStream",
    "Fault",
    "FaultInjector",
    "FaultSpec",
    "LocalVenue",
    "RandomWalkBook",
    "RandomWalkParams",
    "StaleBookError",
    "ThreadedClient",
    "connect",
    "parse_faults",
    "start",
    "start_in_thread",
]
