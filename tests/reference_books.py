"""Plain reference books for the differential tests, written from the venues' documents.

Nothing here uses :class:`tradesim_nb.book.OrderBook` or the package's parsers: frames are read
with the standard ``json`` module, a side is a dict ``Decimal(price) -> (price_str, size_str)``
holding the venue's exact strings, and each venue's synchronisation rule is written out again
from its documentation (the references in each venue module of the package). A reference book
is ``known`` while its rule says it holds the venue's book (after its snapshot, before any
gap or checksum mismatch).

Books are keyed ``(symbol, channel)``; :func:`feed_key` turns a feed's book key into that.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sortedcontainers import SortedDict

Key = tuple[str, str]
Levels = list[tuple[str, str]]


class RefBook:
    """One book: two sorted dicts of exact strings keyed by the price's decimal value (bids by
    its negative, so both run best first)."""

    def __init__(self, depth: int = 0) -> None:
        self.bids: SortedDict = SortedDict()  # -price -> (price_str, size_str)
        self.asks: SortedDict = SortedDict()  # price -> (price_str, size_str)
        self.known = False
        self.depth = depth  # keep at most this many levels a side (0: all)
        self.version = 0  # changes with every replace or update

    @staticmethod
    def _put(side: SortedDict, k: Decimal, px: str, sz: str) -> None:
        if Decimal(sz) == 0:
            side.pop(k, None)
        else:
            side[k] = (px, sz)

    def replace(self, bids: Iterable[Sequence[str]], asks: Iterable[Sequence[str]]) -> None:
        self.bids = SortedDict()
        self.asks = SortedDict()
        self.update(bids, asks)
        self.known = True

    def update(self, bids: Iterable[Sequence[str]], asks: Iterable[Sequence[str]]) -> None:
        self.version += 1
        for lv in bids:
            self._put(self.bids, -Decimal(lv[0]), lv[0], lv[1])
        for lv in asks:
            self._put(self.asks, Decimal(lv[0]), lv[0], lv[1])
        if self.depth:
            for side in (self.bids, self.asks):
                while len(side) > self.depth:
                    side.popitem()  # the worst level

    def levels(self) -> tuple[Levels, Levels]:
        """Best-first ``(price_str, size_str)`` of both sides."""
        return list(self.bids.values()), list(self.asks.values())

    @property
    def crossed(self) -> bool:
        return bool(self.bids and self.asks and -self.bids.keys()[0] >= self.asks.keys()[0])


def okx_crc(bids: Levels, asks: Levels) -> int:
    """OKX v5: CRC32 of the best 25 bids and asks interleaved, ``px:sz`` joined by ``:``,
    as a signed 32-bit integer."""
    b, a = bids[:25], asks[:25]
    parts: list[str] = []
    for i in range(max(len(b), len(a))):
        if i < len(b):
            parts += b[i]
        if i < len(a):
            parts += a[i]
    c = zlib.crc32(":".join(parts).encode())
    return c - (1 << 32) if c >= 1 << 31 else c


def kraken_crc(bids: Levels, asks: Levels) -> int:
    """Kraken v1: CRC32 of the best 10 asks then the best 10 bids, each price and volume
    without its decimal point and leading zeros."""
    def f(x: str) -> str:
        return x.replace(".", "").lstrip("0")
    text = "".join(f(p) + f(s) for p, s in asks[:10]) + "".join(f(p) + f(s) for p, s in bids[:10])
    return zlib.crc32(text.encode())


def _numbers_ok(levels: Any) -> bool:
    """Every level a ``[price, size, ...]`` of decimal strings, price > 0, size >= 0."""
    if not isinstance(levels, list):
        return False
    for lv in levels:
        if not (isinstance(lv, list) and len(lv) >= 2 and isinstance(lv[0], str)
                and isinstance(lv[1], str)):
            return False
        try:
            p, s = Decimal(lv[0]), Decimal(lv[1])
        except InvalidOperation:
            return False
        if not (p.is_finite() and s.is_finite() and p > 0 and s >= 0):
            return False
    return True


@dataclass
class Reference:
    """A venue's rule over raw frames: ``feed(frame)`` one at a time, ``books`` by key."""

    books: dict[Key, RefBook] = field(default_factory=dict)
    #: per book: the rule's chain state (last id, last update, ...)
    chain: dict[Key, Any] = field(default_factory=dict)

    def book(self, key: Key, depth: int = 0) -> RefBook:
        if key not in self.books:
            self.books[key] = RefBook(depth)
        return self.books[key]

    def feed(self, frame: str) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def key_of(self, frame: str) -> Key | None:
        """The book a frame is for (None: no book), by feeding it to a fresh copy."""
        probe = type(self).__new__(type(self))
        probe.__dict__.update({k: (type(v)() if isinstance(v, dict) else v)
                               for k, v in self.__dict__.items()})
        probe.feed(frame)
        return next(iter(probe.books), None)

    @staticmethod
    def load(frame: str) -> Any:
        try:
            return json.loads(frame)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None


class OkxReference(Reference):
    """OKX v5 "Order book channel": a snapshot replaces the book; an update applies when its
    ``prevSeqId`` is the last ``seqId`` (``seqId == prevSeqId`` a heartbeat, an update already
    applied is ignored, anything else a gap); without ids, updates chain in arrival order and
    an exact repeat of the last one is ignored. After each message the book must reproduce its
    checksum (top 25), else it is unknown until the next snapshot. ``books5``: every message is
    the top 5."""

    def feed(self, frame: str) -> None:
        msg = self.load(frame)
        if not isinstance(msg, dict) or "data" not in msg or not isinstance(msg.get("arg"), dict):
            return
        ch = msg["arg"].get("channel")
        inst = msg["arg"].get("instId")
        if ch not in ("books", "books5", "books-l2-tbt", "books50-l2-tbt"):
            return
        for d in msg["data"]:
            key = (inst, ch)
            b = self.book(key)
            if ch == "books5" or msg.get("action") == "snapshot":
                if not (_numbers_ok(d.get("bids")) and _numbers_ok(d.get("asks"))):
                    b.known = False
                    continue
                b.replace(d["bids"], d["asks"])
                self.chain[key] = (d.get("seqId"), None)
            else:
                last_seq, last_upd = self.chain.get(key, (None, None))
                if not b.known:
                    continue
                seq, prev = d.get("seqId"), d.get("prevSeqId")
                if seq is not None and prev is not None and last_seq is not None:
                    if prev != last_seq:
                        if not (seq <= last_seq and prev < last_seq):
                            b.known = False
                        continue
                    if seq == prev:
                        continue
                elif last_upd is not None and last_upd == (d["ts"], d["bids"], d["asks"],
                                                           d.get("checksum")):
                    continue
                if not (_numbers_ok(d.get("bids")) and _numbers_ok(d.get("asks"))):
                    b.known = False
                    continue
                b.update(d["bids"], d["asks"])
                self.chain[key] = (seq, (d["ts"], d["bids"], d["asks"], d.get("checksum")))
            cs = d.get("checksum")
            if (ch != "books5" and cs not in (None, 0, "0") and b.known
                    and okx_crc(*b.levels()) != int(cs)):
                b.known = False


class BinanceSpotReference(Reference):
    """Binance spot "How to manage a local order book correctly": buffer diffs; on the REST
    snapshot (``lastUpdateId`` L) drop diffs with ``u <= L``; the first applied diff has
    ``U <= L + 1 <= u``; each later one ``U`` = previous ``u`` + 1, else the book is unknown
    until a new snapshot (one not newer than the book, ``L`` <= its last id, would only rewind
    it and is ignored). ``symbol`` names the snapshot that names none."""

    def __init__(self, symbol: str) -> None:
        super().__init__()
        self.symbol = symbol
        self.buffers: dict[str, list[dict[str, Any]]] = {}

    def feed(self, frame: str) -> None:
        msg = self.load(frame)
        if not isinstance(msg, dict):
            return
        stream = msg.get("stream")
        d = msg.get("data") if stream is not None else msg
        if not isinstance(d, dict):
            return
        if d.get("e") == "depthUpdate":
            self._diff(d)
        elif "lastUpdateId" in d and not (stream and stream.split("@")[1][5:6].isdigit()):
            sym = stream.split("@")[0].upper() if stream else self.symbol
            b = self.book((sym, ""))
            if not (_numbers_ok(d.get("bids")) and _numbers_ok(d.get("asks"))):
                return
            state = self.chain.get((sym, ""))
            if b.known and state is not None and d["lastUpdateId"] <= state[1]:
                return  # not newer than the book: it would only rewind it
            b.replace(d["bids"], d["asks"])
            self.chain[(sym, "")] = ("snap", d["lastUpdateId"])
            for x in self.buffers.pop(sym, []):
                self._diff(x)

    def _diff(self, d: dict[str, Any]) -> None:
        key = (d["s"], "")
        b = self.book(key)
        state = self.chain.get(key)
        if state is None or not b.known:
            self.buffers.setdefault(d["s"], []).append(d)
            return
        kind, last = state
        if kind == "snap":
            if d["u"] <= last:
                return
            if not d["U"] <= last + 1 <= d["u"]:
                b.known = False
                self.chain.pop(key)
                self.buffers.setdefault(d["s"], []).append(d)
                return
        elif d["u"] <= last:
            return
        elif d["U"] != last + 1:
            b.known = False
            self.chain.pop(key)
            self.buffers.setdefault(d["s"], []).append(d)
            return
        if not (_numbers_ok(d["b"]) and _numbers_ok(d["a"])):
            b.known = False
            self.chain.pop(key)
            return
        b.update(d["b"], d["a"])
        self.chain[key] = ("diff", d["u"])


class BybitReference(Reference):
    """Bybit v5 "Orderbook": a snapshot replaces the book; a delta applies when its ``u`` is
    the last + 1, is ignored when ``u`` <= the last, and is a gap otherwise."""

    def feed(self, frame: str) -> None:
        msg = self.load(frame)
        if not isinstance(msg, dict) or not str(msg.get("topic", "")).startswith("orderbook."):
            return
        channel, _, sym = msg["topic"].rpartition(".")
        d = msg["data"]
        key = (d.get("s") or sym, channel)
        b = self.book(key)
        if msg["type"] == "snapshot":
            b.replace(d["b"], d["a"])
            self.chain[key] = d["u"]
            return
        last = self.chain.get(key)
        if not b.known or last is None or d["u"] <= last:
            return
        if d["u"] != last + 1:
            b.known = False
            return
        b.update(d["b"], d["a"])
        self.chain[key] = d["u"]


class KrakenReference(Reference):
    """Kraken WebSocket v1 "Book": ``as``/``bs`` is a snapshot, ``a``/``b`` updates (volume 0
    removes, a republished level applies like any), the book kept at the subscribed depth of
    the channel name ``book-D``; after each update the top 10 must reproduce ``c``."""

    def feed(self, frame: str) -> None:
        msg = self.load(frame)
        if not isinstance(msg, list) or len(msg) < 4 or not str(msg[-2]).startswith("book-"):
            return
        ch, pair = msg[-2], msg[-1]
        depth = int(ch[5:])
        key = (pair, ch)
        b = self.book(key, depth)
        first = msg[1]
        if "as" in first or "bs" in first:
            b.replace(first.get("bs", []), first.get("as", []))
            return
        if not b.known:
            return
        cs = None
        for d in msg[1:-2]:
            b.update(d.get("b", []), d.get("a", []))
            cs = d.get("c", cs)
        if cs is not None and kraken_crc(*b.levels()) != int(cs):
            b.known = False


class GoQuantReference(Reference):
    """The GoQuant relay: every message the whole book; a crossed one has the fewest levels
    removed that uncross it (ties: the smaller removed size), found here by trying every cut."""

    def feed(self, frame: str) -> None:
        msg = self.load(frame)
        if not isinstance(msg, dict) or "symbol" not in msg:
            return
        b = self.book((msg["symbol"], ""))
        b.replace(msg["bids"], msg["asks"])
        if b.crossed:
            bids, asks = b.levels()
            best: tuple[int, Decimal, int, int] | None = None
            for i in range(len(bids) + 1):
                for j in range(len(asks) + 1):
                    rb, ra = bids[i:], asks[j:]
                    if rb and ra and Decimal(rb[0][0]) >= Decimal(ra[0][0]):
                        continue
                    size = sum((Decimal(s) for _, s in bids[:i] + asks[:j]), Decimal(0))
                    cand = (i + j, size, i, j)
                    if best is None or cand[:2] < best[:2]:
                        best = cand
            assert best is not None
            b.replace(bids[best[2]:], asks[best[3]:])


REFERENCES = {"okx": OkxReference, "bybit": BybitReference, "kraken": KrakenReference,
              "goquant": GoQuantReference}


def reference_for(venue: str, symbol: str = "") -> Reference:
    if venue == "binance":
        return BinanceSpotReference(symbol)
    return REFERENCES[venue]()


def feed_key(feed: Any, key: str) -> Key:
    """A feed's book key as the reference's ``(symbol, channel)``."""
    return (feed.symbol_of(key), feed.book_channel(key))
