"""The differential harness: a venue feed against the plain reference of
:mod:`reference_books`, frame by frame, on real recordings and on streams made from them.

The rule checked after every frame, for every book the feed says is valid: the book equals the
reference's *at every level* (prices and sizes as the venue's exact strings), and the
reference knows that book. On a stream changed by :func:`mutate` the reference runs over the
original stream up to the newest original frame delivered so far ("the venue's book now");
a book the feed reports valid must equal it. Where the venue's stream has no sequence ids
(Kraken v1, OKX recordings without ``seqId``) and frames were lost or reordered, a loss beyond
the checksum's depth cannot be seen by any client: there the top ``checksum depth`` levels are
compared (``limited``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from reference_books import Reference, feed_key, reference_for

from tradesim_nb import datasets
from tradesim_nb.feed import VenueFeed
from tradesim_nb.replay import iter_frames
from tradesim_nb.venues import get_feed

#: the recordings the package ships, by venue (Binance: its two continuing files)
CHECKSUM_DEPTH = {"okx": 25, "kraken": 10}


@cache
def recording(venue: str) -> tuple[tuple[int, str], ...]:
    """``(recv_ns, frame)`` of the shipped recording of ``venue``."""
    files = {"okx": [datasets.okx_books_file()], "binance": list(datasets.binance_spot_files()),
             "kraken": [datasets.kraken_book_file()],
             "goquant": list(datasets.goquant_samples())}[venue]
    return tuple((r, f if isinstance(f, str) else f.decode()) for r, f in iter_frames(files))


@dataclass
class Outcome:
    """What one differential run found."""

    frames: int = 0
    comparisons: int = 0  # (frame, valid book) pairs compared
    levels: int = 0  # levels compared, summed over the comparisons
    disagreements: list[str] = field(default_factory=list)
    valid_at_end: dict[str, bool] = field(default_factory=dict)


def compare(feed: VenueFeed, refs: dict[Any, Any], cache: dict[str, Any], depth: int | None,
            where: str, out: Outcome) -> None:
    """Every valid book of ``feed`` against ``refs`` (``(symbol, channel) -> RefBook``)."""
    for key, book in feed.books.items():
        if not book.valid:
            continue
        rb = refs.get(feed_key(feed, key))
        stamp = (book.updates, None if rb is None else (rb.version, rb.known))
        if cache.get(key) == stamp:
            continue  # neither side changed since they last agreed
        out.comparisons += 1
        if rb is None or not rb.known:
            out.disagreements.append(f"{where}: {key} valid, the reference does not know it")
            continue
        fb = (book.level_strings("bid", 10**7), book.level_strings("ask", 10**7))
        want = rb.levels()
        if depth is not None:
            fb = (fb[0][:depth], fb[1][:depth])
            want = (want[0][:depth], want[1][:depth])
        out.levels += len(fb[0]) + len(fb[1])
        if fb != want and not _same_numbers(fb, want):
            out.disagreements.append(f"{where}: {key} differs from the reference "
                                     f"({len(fb[0])}/{len(fb[1])} vs {len(want[0])}/"
                                     f"{len(want[1])} levels)")
            continue
        cache[key] = stamp


def _same_numbers(got: Any, want: Any) -> bool:
    """Equal level for level by value where the feed holds a JSON number instead of the
    venue's string (the book takes ``[61837.63, "1.5"]`` as the same level; checksums over
    such a level fail and are counted)."""
    from decimal import Decimal

    for g_side, w_side in zip(got, want, strict=True):
        if len(g_side) != len(w_side):
            return False
        for g, w in zip(g_side, w_side, strict=True):
            if g == w:
                continue
            if all(isinstance(x, str) for x in g):
                return False
            try:
                if any(Decimal(repr(a) if isinstance(a, float) else str(a)) != Decimal(b)
                       for a, b in zip(g, w, strict=True)):
                    return False
            except ArithmeticError:
                return False
    return True


def run(venue: str, frames: Sequence[tuple[int, str]], *, symbol: str = "BTCUSDT",
        feed: VenueFeed | None = None) -> Outcome:
    """Replay ``frames`` through the venue's feed and the reference side by side."""
    feed = feed or get_feed(venue)
    ref = reference_for(venue, symbol)
    out = Outcome()
    cache: dict[str, Any] = {}
    for i, (recv, frame) in enumerate(frames):
        feed.on_frame(frame, recv)
        ref.feed(frame)
        out.frames += 1
        compare(feed, ref.books, cache, None, f"frame {i}", out)
    out.valid_at_end = {k: b.valid for k, b in feed.books.items()}
    return out


# -- changed streams -----------------------------------------------------------------------
#: a delivered frame: (original index or -1 for a frame that is no original, recv_ns, text)
Delivered = tuple[int, int, str]


def run_changed(venue: str, original: Sequence[tuple[int, str]], delivered: Iterable[Delivered],
                *, lossy: bool, symbol: str = "BTCUSDT") -> tuple[Outcome, VenueFeed,
                                                             dict[Any, Any]]:
    """``delivered`` through the feed; each book's reference over the original frames of that
    book up to the newest of them delivered and readable ("the venue's book now": a frame the
    feed counts as malformed is a frame lost, as a dropped one; where updates carry ids the
    next one shows the loss, elsewhere the feed marks the book stale at once). ``lossy``:
    frames were lost or reordered (on a venue without sequence ids only the checksummed depth
    can then be held to the reference). Returns the outcome, the feed and the reference
    books."""
    feed = get_feed(venue)
    feed.max_levels = LEVEL_CAP
    keys = frame_keys(venue, original, symbol)
    refs: dict[Any, Reference] = {}
    done: dict[Any, int] = {}
    out = Outcome()
    cache: dict[str, Any] = {}
    unsequenced = venue in CHECKSUM_DEPTH
    for n, (idx, recv, frame) in enumerate(delivered):
        bad = feed.malformed_frames
        feed.on_frame(frame, recv)
        out.frames += 1
        k = keys[idx] if idx >= 0 and feed.malformed_frames == bad else None
        if k is not None:
            ref = refs.get(k)
            if ref is None:
                ref = refs[k] = reference_for(venue, symbol)
                done[k] = -1
            while done[k] < idx:
                done[k] += 1
                if keys[done[k]] == k:
                    ref.feed(original[done[k]][1])
        depth = None
        if lossy and unsequenced and not _has_ids(feed):
            depth = CHECKSUM_DEPTH[venue]
        books = {key: r.books[key] for key, r in refs.items() if key in r.books}
        compare(feed, books, cache, depth, f"delivered frame {n} (original {idx})", out)
    out.valid_at_end = {k: b.valid for k, b in feed.books.items()}
    return out, feed, {key: r.books[key] for key, r in refs.items() if key in r.books}


@cache
def _frame_keys(venue: str, frames: tuple[tuple[int, str], ...], symbol: str) -> tuple[Any, ...]:
    probe = reference_for(venue, symbol)
    return tuple(probe.key_of(f) for _, f in frames)


def frame_keys(venue: str, frames: Sequence[tuple[int, str]], symbol: str) -> tuple[Any, ...]:
    """The reference's book key of every frame (None: no book)."""
    return _frame_keys(venue, tuple(frames), symbol)


def _has_ids(feed: VenueFeed) -> bool:
    return all(st.last_seq is not None for st in feed.states.values())


PROBLEMS = ("checksum_failed", "gaps", "stale_dropped", "time_backwards", "older_snapshots",
            "refused")


def counted(feed: VenueFeed, key: str) -> int:
    """Everything the feed counted that explains a book that is not valid."""
    st = feed.stats[key]
    return (sum(getattr(st, k) for k in PROBLEMS) + feed.malformed_frames
            + sum(feed.malformed.values()) + feed.apply_errors
            + feed.buffered(key))  # (Binance: diffs waiting for a snapshot)


# -- mutations -------------------------------------------------------------------------------
#: the kinds of change :func:`mutate` makes; ``lossy`` ones lose or reorder information
KINDS = ("reorder", "duplicate", "drop", "truncate", "number", "wrong_type", "swap_files",
         "huge")
#: the level cap of the feeds under test, above every shipped recording's depth; a ``huge``
#: frame carries more levels than that
LEVEL_CAP = 5000
LOSSY = frozenset({"reorder", "duplicate", "drop", "truncate", "swap_files"})
#: what a corrupted number becomes
BAD_NUMBERS = ("NaN", "nan", "inf", "-inf", "Infinity", "-5", "1e309", "-1e309", "abc", "",
               "0x10", "-0.5")


def is_book_frame(venue: str, frame: str) -> bool:
    """Whether a raw frame carries book levels (a mutation target)."""
    if venue == "okx":
        return '"bids"' in frame and '"channel":"books' in frame
    if venue == "binance":
        return '"depthUpdate"' in frame or "lastUpdateId" in frame
    if venue == "kraken":
        return '"book-' in frame and frame.startswith("[")
    return '"bids"' in frame


def _replace_nth_number(frame: str, n: int, new: str | None) -> str:
    """``frame`` with its ``n``-th quoted decimal number replaced by ``new`` (quoted), or by
    a bare JSON ``null``/number when ``new`` is None (a wrong type)."""
    import re

    spans = [m.span() for m in re.finditer(r'"-?\d+(?:\.\d+)?"', frame)]
    if not spans:
        return frame
    a, b = spans[n % len(spans)]
    body = frame[a + 1:b - 1]
    rep = f'"{new}"' if new is not None else (body if n % 2 else "null")
    return frame[:a] + rep + frame[b:]


def _huge(frame: str, n: int) -> str:
    """``frame`` with ``n`` more levels in its first list of levels (copies of its first
    level at other prices)."""
    from decimal import Decimal

    import orjson

    obj = orjson.loads(frame)

    def find(o: Any) -> list[Any] | None:
        if isinstance(o, list) and o and isinstance(o[0], list) and len(o[0]) >= 2 and all(
                isinstance(x, str) for x in o[0][:2]):
            return o
        items = o.values() if isinstance(o, dict) else o if isinstance(o, list) else []
        for v in items:
            hit = find(v)
            if hit is not None:
                return hit
        return None

    levels = find(obj)
    if levels is None:
        return frame
    first = levels[0]
    p0 = Decimal(first[0])
    step = p0 / Decimal(10 * n)
    levels.extend([str(p0 + step * (i + 1)), *first[1:]] for i in range(n))
    return orjson.dumps(obj).decode()


def mutate(original: Sequence[tuple[int, str]], venue: str, ops: Sequence[tuple[str, int, int]]
           ) -> list[Delivered]:
    """Apply ``ops`` (kind, position, parameter) to the delivered stream, in order. Positions
    are taken modulo the book frames of the stream (so every op hits book data)."""
    out: list[Delivered] = [(i, r, f) for i, (r, f) in enumerate(original)]
    for kind, pos, par in ops:
        books = [j for j, (_, _, f) in enumerate(out) if is_book_frame(venue, f)]
        if not books:
            break
        j = books[pos % len(books)]
        idx, recv, frame = out[j]
        if kind == "reorder":
            if j + 1 < len(out):
                out[j], out[j + 1] = out[j + 1], out[j]
        elif kind == "duplicate":
            at = min(len(out), j + 1 + par % 40)
            out.insert(at, (idx, out[at - 1][1], frame))
        elif kind == "drop":
            del out[j]
        elif kind == "truncate":
            out[j] = (idx, recv, frame[: max(1, (len(frame) * (par % 97 + 1)) // 98)])
        elif kind == "number":
            out[j] = (idx, recv, _replace_nth_number(frame, par // 16,
                                                     BAD_NUMBERS[par % len(BAD_NUMBERS)]))
        elif kind == "wrong_type":
            out[j] = (idx, recv, _replace_nth_number(frame, par, None))
        elif kind == "huge":
            out[j] = (idx, recv, _huge(frame, LEVEL_CAP + 1 + par % 500))
        elif kind == "swap_files":
            cut = j if 0 < j < len(out) else len(out) // 2
            out = out[cut:] + out[:cut]
    return out
