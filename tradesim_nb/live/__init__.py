"""The live layer: asyncio client, local venue server, fault injection, recording while live.

Nothing here is imported by ``import tradesim_nb``; websockets loads only when a client
connects or a local venue starts. Nothing here names a venue: the venue registry
(:data:`tradesim_nb.venues.VENUES`) says how each one is spoken.

* :func:`connect` (await in a notebook cell) / :func:`start` (plain cell) / :func:`start_in_thread`
  (plain code) → :class:`BookClient` for any registered venue (:mod:`.client`; its config
  :mod:`.config`, consumers :mod:`.consumers`, REST snapshots :mod:`.rest`, the worker-thread
  form :mod:`.threaded`);
* :class:`LocalVenue`: every registered venue's protocol on 127.0.0.1, all from one true book
  (a recording or a seeded :class:`~tradesim_nb.sources.BookSource`), with seeded faults
  (:func:`parse_faults`, applied per connection by :mod:`.connection`);
* :mod:`.session`: record a live cost session, replay it, get the same numbers;
* :class:`RandomWalkBook` (from :mod:`tradesim_nb.random_walk`): the simple seeded book source.
"""

from ..random_walk import RandomWalkBook, RandomWalkParams
from .client import BookClient, StaleBookError, connect, start
from .config import ClientConfig
from .consumers import EventStream
from .faults import Fault, FaultInjector, FaultSpec, parse_faults
from .server import LocalVenue
from .threaded import ThreadedClient, start_in_thread

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
