"""The differential and fuzz suite: every shipped recording against a plain reference book.

Each recording the package ships (OKX, Binance spot, GoQuant, Kraken) is replayed frame by
frame through its venue's feed and through the reference of ``reference_books`` (written from
the venues' documents, independent of ``OrderBook`` and of the package's parsers); after every
frame, every book the feed says is valid must equal the reference at every level. Then
streams changed from those recordings (frames reordered, duplicated, dropped, truncated,
numbers made NaN/inf/negative/garbage, wrong JSON types, the files in the wrong order) must
keep the rule "the book equals the reference, or it is not valid and the reason is counted"
(hypothesis, a fixed example budget, derandomized: the same examples every run).
"""

from __future__ import annotations

import pytest
from differential import KINDS, LOSSY, counted, feed_key, mutate, recording, run, run_changed
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

VENUES = ("okx", "binance", "kraken", "goquant")
#: frames of each recording the changed streams are cut from (each holds its snapshots)
WINDOW = {"okx": 410, "binance": 1500, "kraken": 500, "goquant": 6}
#: Kraken v1 has neither sequence ids nor message times: files in the wrong order cannot be
#: told from a resubscription by any client (see docs/guide/validity.md)
KINDS_OF = {v: tuple(k for k in KINDS if not (v == "kraken" and k == "swap_files"))
            for v in VENUES}


@pytest.mark.parametrize("venue", VENUES)
def test_every_shipped_recording_agrees_with_the_reference(venue: str) -> None:
    frames = recording(venue)
    out = run(venue, frames)
    assert out.disagreements == []
    # the comparison really happened: every book valid at the end, and compared
    assert out.valid_at_end and all(out.valid_at_end.values())
    assert out.comparisons > 0 and out.levels > 0
    print(f"\n{venue}: {out.frames} frames, {out.comparisons} comparisons of a valid book, "
          f"{out.levels:,} levels compared, 0 disagreements")


def _ops(venue: str) -> st.SearchStrategy[list[tuple[str, int, int]]]:
    op = st.tuples(st.sampled_from(KINDS_OF[venue]), st.integers(0, 10_000),
                   st.integers(0, 10_000))
    return st.lists(op, min_size=1, max_size=3)


@pytest.mark.parametrize("venue", VENUES)
def test_changed_streams_are_right_or_not_valid_and_counted(venue: str) -> None:
    original = recording(venue)[: WINDOW[venue]]
    seen: list[int] = []
    kinds: set[str] = set()

    @settings(max_examples=40 if venue != "goquant" else 25, deadline=None, derandomize=True,
              database=None, suppress_health_check=list(HealthCheck))
    @given(_ops(venue))
    def check(ops: list[tuple[str, int, int]]) -> None:
        kinds.update(k for k, _, _ in ops)
        delivered = mutate(original, venue, ops)
        lossy = any(k in LOSSY for k, _, _ in ops)
        out, feed, refs = run_changed(venue, original, delivered, lossy=lossy)
        assert out.disagreements == [], ops
        # a book the venue holds that the feed does not report valid: the reason is counted
        for key, book in feed.books.items():
            rb = refs.get(feed_key(feed, key))
            if rb is not None and rb.known and not book.valid:
                assert counted(feed, key) > 0, (ops, key)
        seen.append(out.comparisons)

    check()
    assert sum(seen) > 0  # valid books were compared
    assert kinds == set(KINDS_OF[venue])  # every kind of change was tried
    print(f"\n{venue}: {len(seen)} changed streams, {sum(seen)} comparisons of a valid book, "
          "0 disagreements")
