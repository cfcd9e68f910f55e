"""The venues: one :class:`Venue` descriptor per name, and the only list of them.

A venue lives in one package, ``tradesim_nb/venues/<package>/``:

* its **feed rules** — parser, sequencing, checksum: a :class:`~tradesim_nb.feed.VenueFeed`;
* its **client protocol** — URLs, subscribe and unsubscribe, keepalive, how it resyncs: a
  :class:`~tradesim_nb.venues.protocol.ClientProtocol`;
* its **dialect** for the local venue — how :class:`~tradesim_nb.live.LocalVenue` speaks it:
  a :class:`~tradesim_nb.venues.dialect.Dialect`;
* its **instruments** and its **fee schedules**;

tied together by a :class:`Venue` in the package's ``__init__``. :data:`VENUES` below is the
registry: one line a venue, naming the package (and the descriptor when a package holds
several). The live client and the local venue, the CLI, the dashboards, and the fee and
instrument look-ups ask it and name no venue themselves, so adding a venue is one folder plus
one line here. A venue of your own can be added at run time with :func:`register_venue`.

Packages are imported on first use of their name, so listing the venues stays cheap.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:  # pragma: no cover
    from ..costs.fees import FeeSchedule
    from ..feed import VenueFeed
    from ..instruments import Instrument
    from .dialect import Dialect
    from .protocol import ClientProtocol

__all__ = ["DEFAULT_VENUE", "VENUES", "Venue", "find_venue", "get_venue", "register_venue",
           "sniff_venue", "venue_for_cryptofeed", "venue_for_tardis", "venue_names",
           "venue_of_url"]

#: venue name -> ``"<package>"`` or ``"<package>:<DESCRIPTOR>"`` (default ``VENUE``), in the
#: order the CLI and the dashboards list them. The one list of venues: add yours here.
_ENTRIES: Final[dict[str, str]] = {
    "okx": "okx",
    "goquant": "goquant",
    "binance": "binance:SPOT",
    "binance-futures": "binance:FUTURES",
    "bybit": "bybit",
    "kraken": "kraken",
}

#: the venue a ``ws://`` URL, ``local`` or ``auto`` source speaks when none is named
DEFAULT_VENUE: Final = "okx"


@dataclass(frozen=True)
class Venue:
    """Everything venue-specific about one venue name.

    Parameters
    ----------
    name : str
        The key (``"okx"``, ``"binance-futures"``): lower case, no spaces.
    title : str
        What it is, for people (``"OKX v5 public"``).
    feed : type of VenueFeed
        Parser, sequencing and checksum rules; :meth:`new_feed` builds one.
    protocol : type of ClientProtocol
        How the live client connects, subscribes, keeps alive and resyncs.
    dialect : type of Dialect
        How the local venue serves it (several names may share one dialect class).
    instruments : callable
        Returns the venue's :class:`~tradesim_nb.instruments.Instrument` entries (called once,
        on the first look-up of the venue).
    fee_schedules : callable
        Returns its :class:`~tradesim_nb.costs.fees.FeeSchedule` tables (one a product); a
        table may belong to another venue name (the GoQuant relay carries OKX books: OKX's fees).
    symbols : tuple of str
        Instruments offered by default (CLI, dashboards); the first is the default one.
    aliases : tuple of str
        Other spellings accepted by the look-ups (``"binance-spot"``).
    fee_schedule_for : callable, optional
        ``fn(instrument) -> FeeSchedule`` where the venue publishes fees per instrument
        (default: its ``fee_schedules`` table for the instrument's product).
    tardis_exchanges : tuple of str
        The Tardis.dev exchange ids whose normalized data this venue's books read
        (``"okex-swap"``); :func:`venue_for_tardis`.
    cryptofeed_ids : tuple of str
        cryptofeed's feed ids of the venue (the prefix of its file names, ``"BINANCE"``);
        :func:`venue_for_cryptofeed`.
    hosts : tuple of str
        Host names (or domain suffixes) of its websocket and REST endpoints; :func:`venue_of_url`.
    excluded_hosts : tuple of str
        Hosts under those domains that are another market this package does not read (Binance's
        coin-margined ``dstream.binance.com``); the longest match wins.
    rest_frame : callable, optional
        ``fn(url, body) -> frame or None``: the frame the venue's parser reads for a REST answer
        recorded beside the stream (a depth snapshot), or None for an answer it does not need.
    """

    name: str
    title: str
    feed: type[VenueFeed]
    protocol: type[ClientProtocol]
    dialect: type[Dialect]
    instruments: Callable[[], Iterable[Instrument]]
    fee_schedules: Callable[[], Iterable[FeeSchedule]]
    symbols: tuple[str, ...]
    aliases: tuple[str, ...] = field(default=())
    fee_schedule_for: Callable[[Instrument], FeeSchedule] | None = None
    tardis_exchanges: tuple[str, ...] = field(default=())
    cryptofeed_ids: tuple[str, ...] = field(default=())
    hosts: tuple[str, ...] = field(default=())
    excluded_hosts: tuple[str, ...] = field(default=())
    rest_frame: Callable[[str, str], str | None] | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.name, str) and self.name and self.name == self.name.lower()
                and " " not in self.name):
            raise ValueError(f"name={self.name!r} must be a non-empty lower-case key without "
                             "spaces")
        if not (isinstance(self.symbols, tuple) and self.symbols
                and all(isinstance(s, str) and s for s in self.symbols)):
            raise ValueError(f"symbols={self.symbols!r} must be a non-empty tuple of "
                             "instrument ids")
        for attr in ("feed", "protocol", "dialect"):
            if not isinstance(getattr(self, attr), type):
                raise ValueError(f"{attr}={getattr(self, attr)!r} must be a class")
        for attr in ("instruments", "fee_schedules"):
            if not callable(getattr(self, attr)):
                raise ValueError(f"{attr}={getattr(self, attr)!r} must be callable")

    @property
    def default_symbol(self) -> str:
        return self.symbols[0]

    def new_feed(self, **kwargs: Any) -> VenueFeed:
        """A fresh feed (``sanitize_crossed``, ``verify_checksums``, venue options)."""
        return self.feed(**kwargs)

    def new_protocol(self, channels: Sequence[str] = ()) -> ClientProtocol:
        """The client protocol for ``channels`` (venue-specific; most ignore them)."""
        return self.protocol(channels)


class _Registry(Mapping[str, Venue]):
    """Venue name -> :class:`Venue`, importing a venue's package on first use."""

    def __init__(self, entries: Mapping[str, str]) -> None:
        self._entries = dict(entries)
        self._loaded: dict[str, Venue] = {}

    def __getitem__(self, name: str) -> Venue:
        v = self._loaded.get(name)
        if v is not None:
            return v
        target = self._entries.get(name)
        if target is None:
            raise KeyError(name)
        pkg, _, attr = target.partition(":")
        v = getattr(importlib.import_module(f"{__package__}.{pkg}"), attr or "VENUE")
        if not (isinstance(v, Venue) and v.name == name):
            raise TypeError(f"{target!r} is not the Venue descriptor of {name!r}")
        self._loaded[name] = v
        return v

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def add(self, venue: Venue) -> None:
        self._entries[venue.name] = ""
        self._loaded[venue.name] = venue

    def resolve(self, name: str) -> str | None:
        """``name`` itself, or the venue it is an alias of (None: unknown)."""
        if name in self._entries:
            return name
        for key in self._entries:
            if name in self[key].aliases:
                return key
        return None


#: The registry: venue name -> :class:`Venue` (a mapping that imports packages lazily).
VENUES: Final = _Registry(_ENTRIES)


def venue_names() -> tuple[str, ...]:
    """The registered venue names, in registry order."""
    return tuple(VENUES)


def find_venue(name: str) -> Venue | None:
    """The descriptor of ``name`` (or of the venue it is an alias of), or None."""
    key = VENUES.resolve(name) if isinstance(name, str) else None
    return None if key is None else VENUES[key]


def get_venue(name: str) -> Venue:
    """The descriptor of ``name``; ``ValueError`` lists the registered venues."""
    v = find_venue(name)
    if v is None:
        raise ValueError(f"venue={name!r} is not one of {', '.join(VENUES)}")
    return v


def register_venue(venue: Venue) -> Venue:
    """Add (or replace) a venue at run time and return it."""
    if not isinstance(venue, Venue):
        raise ValueError(f"venue={venue!r} must be a Venue descriptor")
    VENUES.add(venue)
    from .. import instruments

    instruments.forget(venue.name)  # its instruments load on their next look-up
    return venue


# -- what other tools call the venues ------------------------------------------------------------
def venue_for_tardis(exchange: str) -> str | None:
    """The venue whose books read Tardis.dev's ``exchange`` (``"okex-swap"`` -> ``"okx"``)."""
    for name in VENUES:
        if exchange in VENUES[name].tardis_exchanges:
            return name
    return None


def venue_for_cryptofeed(feed_id: str) -> str | None:
    """The venue of a cryptofeed feed id (``"BINANCE_FUTURES"`` -> ``"binance-futures"``)."""
    key = feed_id.upper()
    for name in VENUES:
        if key in VENUES[name].cryptofeed_ids:
            return name
    return None


def venue_of_url(url: str) -> str | None:
    """The venue of a websocket or REST URL by its host (None: a host no venue here serves).

    Each venue lists its hosts or domain suffixes (:attr:`Venue.hosts`) and the hosts under
    them that are another market (:attr:`Venue.excluded_hosts`); the longest match wins.
    """
    from urllib.parse import urlsplit

    host = (urlsplit(url.strip()).hostname or "").lower()
    best: tuple[int, str | None] = (0, None)
    for name in VENUES:
        v = VENUES[name]
        for suffixes, hit in ((v.hosts, name), (v.excluded_hosts, None)):
            for suffix in suffixes:
                if (host == suffix or host.endswith("." + suffix)) and len(suffix) > best[0]:
                    best = (len(suffix), hit)
    return best[1]


def sniff_venue(frame: str | bytes) -> str | None:
    """A guess of the venue from one raw frame's shape (None when no venue recognises it).

    The frame is decoded once and offered to each venue's
    :meth:`~tradesim_nb.feed.VenueFeed.recognizes`, in registry order.
    """
    import orjson

    try:
        obj = orjson.loads(frame)
    except orjson.JSONDecodeError:
        return None
    for name in VENUES:
        if VENUES[name].feed.recognizes(obj):
            return name
    return None
