"""How the local venue speaks a venue's protocol: the part of serving that is string work.

:class:`tradesim_nb.live.LocalVenue` keeps one **true book** per instrument
(:class:`TrueBook`: the venue's exact price and size strings, a sequence id, an undo history
for tests) and the connections; it owns the sockets, the timing and the faults. For each
connection it asks a :class:`Dialect` (one subclass per venue protocol, in the venue's
package) what to say:

* :meth:`Dialect.open` — a new connection on one of the dialect's URL paths (a path may
  already subscribe, or be refused);
* :meth:`Dialect.request` — a message from the client (subscribe, unsubscribe, ping);
* :meth:`Dialect.update` / :meth:`Dialect.trades` — a change of a true book, published to the
  dialect's subscribers in its own form (with its ids and checksums);
* :meth:`Dialect.announce` — a recording's instrument got its first data (snapshots go out);
* :meth:`Dialect.ticker_24h` — the venue's 24-hour statistics of an instrument (about once a
  second, and on subscription), for venues with such a channel;
* :meth:`Dialect.http` — a plain HTTP request on the same port (Binance's REST depth).

A dialect queues frames on a connection with :meth:`Subscriber.put`, saying which are book
updates (``"data"``: the faults that lose or damage data apply to them only) and which are
snapshots (``"snap"``: they make the update chain whole again). It reads the venue through
:class:`Host`. No socket, no event loop, no clock of its own beyond time stamps in frames.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol

import orjson

from ..book import OrderBook
from ..instruments import Instrument

__all__ = ["Change", "Dialect", "FrameKind", "Host", "Levels", "Subscriber", "TrueBook"]

#: what a queued frame is, for the fault injector: ``data`` a book update (may be dropped,
#: duplicated, reordered, corrupted), ``snap`` a snapshot (heals the chain), ``ctl`` the rest
FrameKind = Literal["ctl", "data", "snap"]
#: levels as the venue writes them, best first: ``(price_str, size_str)``
Levels = list[tuple[str, str]]


@dataclass
class Change:
    """One change of one instrument: levels as venue strings (size "0" removes), trades
    ``(price_str, size_str, aggressor_side)``."""

    symbol: str
    bids: Levels
    asks: Levels
    trades: list[tuple[str, str, str]] = field(default_factory=list)


class TrueBook:
    """The venue's true book of one instrument: price-string dicts, an OrderBook for order
    and depth, the sequence id of the last change and (``history`` > 0) an undo log of the
    last ``history`` changes, so the book after any recent id can be rebuilt."""

    def __init__(self, symbol: str, instrument: Instrument | None, history: int) -> None:
        self.symbol = symbol
        self.instrument = instrument
        self.book = OrderBook(instrument, symbol=symbol)
        self.book.stale = False
        self.levels: dict[str, dict[str, str]] = {"bid": {}, "ask": {}}
        self.seq = 0
        self.history: deque[tuple[int, list[tuple[str, str, str | None]]]] = deque(
            maxlen=history or 1)
        self.keep_history = history > 0
        self.trade_id = 0
        #: False for a recording's instrument until its first data
        self.announced = True

    def apply(self, bids: Sequence[tuple[str, str]], asks: Sequence[tuple[str, str]]) -> None:
        undo: list[tuple[str, str, str | None]] = []
        for side, lv in (("bid", bids), ("ask", asks)):
            d = self.levels[side]
            for ps, ss in lv:
                old = d.get(ps)
                if float(ss) == 0.0:
                    if old is None:
                        continue
                    del d[ps]
                else:
                    d[ps] = ss
                undo.append((side, ps, old))
        self.book.apply_delta(bids, asks)
        if self.keep_history:
            self.history.append((self.seq, undo))

    def replace(self, bids: Sequence[tuple[str, str]], asks: Sequence[tuple[str, str]]
                ) -> tuple[Levels, Levels]:
        """The changes that turn the truth into ``(bids, asks)`` (not applied)."""
        out: list[Levels] = []
        for side, lv in (("bid", bids), ("ask", asks)):
            d = self.levels[side]
            new = {ps: ss for ps, ss in lv if float(ss) > 0}
            ch = [(ps, ss) for ps, ss in new.items() if d.get(ps) != ss]
            ch += [(ps, "0") for ps in d if ps not in new]
            out.append(ch)
        return out[0], out[1]

    def sides(self, n: int | None = None) -> tuple[Levels, Levels]:
        """The best ``n`` levels a side (all when None), best first."""
        nb = self.book.n_bids if n is None else n
        na = self.book.n_asks if n is None else n
        return self.book.level_strings("bid", nb), self.book.level_strings("ask", na)

    def at(self, seq: int) -> tuple[dict[str, str], dict[str, str]] | None:
        """The book just after change ``seq`` as ``({px: sz} bids, {px: sz} asks)``, or None
        when ``seq`` is older than the kept history."""
        bids = dict(self.levels["bid"])
        asks = dict(self.levels["ask"])
        if seq == self.seq:
            return bids, asks
        if not self.keep_history or not self.history:
            return None
        sides = {"bid": bids, "ask": asks}
        for s, undo in reversed(self.history):
            if s == seq:
                return bids, asks
            for side, ps, old in reversed(undo):
                if old is None:
                    sides[side].pop(ps, None)
                else:
                    sides[side][ps] = old
        return None


class Subscriber(Protocol):
    """A connection of the local venue as a dialect sees it (the socket stays in ``live/``)."""

    id: int
    #: ``(channel, symbol)`` pairs, in the dialect's own channel names
    subs: set[tuple[str, str]]
    #: the dialect's own per-connection data
    state: dict[str, Any]

    def put(self, frame: str, kind: FrameKind = "ctl", symbol: str = "", seq: int = 0) -> None:
        """Queue ``frame``; ``seq`` is the truth id a ``data`` frame brings the client to."""

    def chain_whole(self, symbol: str, seq: int) -> None:
        """A snapshot served beside the socket (REST) at id ``seq`` makes ``symbol``'s update
        chain whole again; updates at or below ``seq`` are harmless if lost."""


class Host(Protocol):
    """What a dialect may read of the local venue."""

    truth: dict[str, TrueBook]
    stats: Counter[str]
    history: int

    def symbol_for(self, name: str) -> str:
        """The truth symbol a stream name means (case-insensitive), else ``name`` upper."""

    def known(self, symbol: str) -> bool:
        """A symbol with a truth, or one a recording may still announce."""

    @property
    def awaiting_recording(self) -> bool:
        """A recording is being replayed and may still announce instruments."""

    def new_id(self) -> int:
        """A fresh starting id (an int in [1000, 100000)) from the venue's seeded generator."""

    def daily_volume(self, symbol: str) -> float:
        """The base volume a day the venue trades in ``symbol`` (NaN: not known yet)."""

    def subscribers(self, dialect: Dialect) -> Sequence[Subscriber]:
        """The open connections this dialect serves."""


class Dialect:
    """One venue protocol as the local venue speaks it (subclass per protocol).

    Parameters
    ----------
    host : Host
        The local venue (truth, stats, seeded ids, connections).
    """

    #: URL path prefixes this dialect serves (the longest match wins)
    paths: ClassVar[tuple[str, ...]] = ()
    #: serves every path no other dialect claims (one dialect: OKX's, the default URL)
    fallback: ClassVar[bool] = False
    #: plain-HTTP paths it answers on the websocket port
    http_paths: ClassVar[tuple[str, ...]] = ()
    #: the key before the checksum number in a book update, for the ``corrupt`` fault
    checksum_key: ClassVar[str | None] = None
    #: levels a side a client's book holds (None: the whole true book)
    depth: ClassVar[int | None] = None

    def __init__(self, host: Host) -> None:
        self.host = host

    # -- URLs and connections --------------------------------------------------------------
    def url(self, base: str, symbols: Sequence[str] = ()) -> str:
        """The URL a client of ``symbols`` opens on a venue at ``base`` (``ws://host:port``)."""
        return base + self.paths[0]

    def open(self, conn: Subscriber, path: str) -> str | None:
        """A new connection on ``path``; the reason to refuse it (closed with 1008) or None."""
        return None

    def request(self, conn: Subscriber, msg: str | bytes) -> None:
        """A message from the client."""

    # -- publishing ------------------------------------------------------------------------
    def update(self, tr: TrueBook, ch: Change, prev_id: int, ts_ms: str,
               conns: Sequence[Subscriber]) -> None:
        """``tr`` changed by ``ch`` (its id went from ``prev_id`` to ``tr.seq``)."""

    def trades(self, tr: TrueBook, data: list[dict[str, str]],
               conns: Sequence[Subscriber]) -> None:
        """Trades of ``tr`` (``instId``, ``tradeId``, ``px``, ``sz``, ``side``, ``ts``)."""

    def announce(self, tr: TrueBook, conns: Sequence[Subscriber]) -> None:
        """A recording's instrument got its first data: subscribers waiting get a snapshot."""

    #: the subscription key (``(ticker_channel, symbol)`` in ``Subscriber.subs``) of the venue's
    #: 24-hour ticker channel; None: the venue has none
    ticker_channel: ClassVar[str | None] = None

    def ticker_frame(self, tr: TrueBook, volume_base: float) -> str:
        """The venue's 24-hour ticker frame of ``tr`` (a dialect with a ticker channel)."""
        raise NotImplementedError

    def ticker_24h(self, tr: TrueBook, volume_base: float, conns: Sequence[Subscriber]) -> None:
        """Publish ``tr``'s 24-hour ticker (``volume_base``: base units traded a day, from
        :meth:`Host.daily_volume`) to the subscribers of the dialect's ticker channel, one
        frame for all; a venue without one sends nothing (the default)."""
        if self.ticker_channel is None:
            return
        key = (self.ticker_channel, tr.symbol)
        frame: str | None = None
        for c in conns:
            if key in c.subs:
                if frame is None:
                    frame = self.ticker_frame(tr, volume_base)
                c.put(frame, "ctl", tr.symbol)

    def http(self, path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]] | None:
        """Answer a plain HTTP request on one of :attr:`http_paths`: (status, JSON body)."""
        return None

    # -- the truth a client should hold (tests) --------------------------------------------
    @staticmethod
    def book_id(book: OrderBook) -> int | None:
        """The id of the last update a client's book applied, in this dialect's terms
        (default: ``book.seq``; a venue without sequence ids may say otherwise)."""
        return book.seq

    def current_id(self, symbol: str) -> int | None:
        """The :meth:`book_id` a caught-up client has (default: the truth's sequence id)."""
        return self.host.truth[symbol].seq

    def truth_for(self, symbol: str, book_id: int) -> tuple[dict[str, str],
                                                            dict[str, str]] | None:
        """What a client's book whose :meth:`book_id` is ``book_id`` must hold (None: not
        kept)."""
        return self.host.truth[symbol].at(book_id)

    @staticmethod
    def dumps(obj: Any) -> str:
        """JSON text of ``obj`` (orjson)."""
        return orjson.dumps(obj).decode()
