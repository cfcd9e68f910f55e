"""Level arrays read in place (``scan_levels`` / ``RawLevels``): the same objects, books, errors
and counts as the ordinary ``orjson`` path, on the real recordings and on made-up input."""

from __future__ import annotations

import pickle
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tradesim_nb._book_c import OrderBook, RawLevels, scan_levels, string_pairs

import tradesim_nb.feed as feed_mod
from tradesim_nb.bench.book import goquant_frames
from tradesim_nb.bench.pipeline import _frames
from tradesim_nb.book import InvalidLevelError
from tradesim_nb.feed import load_json_levels, put_levels
from tradesim_nb.venues import get_feed

KEYS = {"binance": ("b", "a", "bids", "asks"), "okx": ("bids", "asks"),
        "goquant": ("asks", "bids")}


def _holder(venue: str, obj: dict[str, Any]) -> Any:
    """The object a venue's levels sit in."""
    if venue == "okx":
        return obj["data"][0] if isinstance(obj.get("data"), list) and obj["data"] else {}
    if venue == "binance" and "data" in obj:
        return obj["data"]
    return obj


def _plain(x: Any) -> Any:
    """``x`` with every RawLevels made the list it stands for."""
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, list | RawLevels):
        return [_plain(v) for v in x]
    return x


@pytest.mark.parametrize("venue", ["binance", "okx", "goquant"])
def test_every_long_recorded_frame_reads_the_same(venue: str) -> None:
    frames = [f for _, f in _frames(venue, 0)]
    cut = 0
    for f in frames:
        expect = orjson.loads(f)
        got, raw = load_json_levels(f, KEYS[venue])
        if raw is not None:
            cut += 1
            put_levels(_holder(venue, got), KEYS[venue], raw)
            assert any(type(v) is RawLevels for v in _holder(venue, got).values())
        assert _plain(got) == expect
        # bytes read the same as str
        gb, rb = load_json_levels(f.encode(), KEYS[venue])
        if rb is not None:
            put_levels(_holder(venue, gb), KEYS[venue], rb)
        assert _plain(gb) == expect
    assert cut >= (20 if venue != "goquant" else 300)  # the path was really taken


@pytest.mark.parametrize("venue", ["binance", "okx", "goquant"])
def test_books_are_the_same_with_and_without_it(venue: str) -> None:
    """Every frame of the recording through two feeds, one reading levels in place and one
    not: every book equal after every frame (levels, venue strings, checksum text, counts)."""
    frames = _frames(venue, 0)
    on, off = get_feed(venue), get_feed(venue)
    off.raw_levels_min = 10**12
    for recv, f in frames:
        a = on.on_frame(f, recv)
        b = off.on_frame(f, recv)
        assert [type(e) for e in a] == [type(e) for e in b]
        sym = on.frame_symbol
        if sym is None or sym not in on.books:
            continue
        x, y = on.books[sym], off.books[sym]
        assert (x.valid, len(x), x.version) == (y.valid, len(y), y.version)
        assert x.levels("bid") == y.levels("bid") and x.levels("ask") == y.levels("ask")
        assert x.level_strings("bid", 30) == y.level_strings("bid", 30)
        assert x.checksum_string(25) == y.checksum_string(25)
    assert on.malformed_frames == off.malformed_frames
    assert on.stats == off.stats
    assert all(b.level_strings("ask", None) == off.books[s].level_strings("ask", None)
               for s, b in on.books.items())


_GOOD = ('{"e":"depthUpdate","s":"X","b":[["1.5","2"],["1.4","0"]],'
         '"a":[["1.6","3","0","1"]],"note":"' + "x" * 1100 + '"}')


def test_cut_out_and_stand_ins() -> None:
    # an array after a space is not cut (orjson reads it), the other one is
    rest, raw = scan_levels(_GOOD.replace('"b":[[', '"b": [['), ("b", "a"))
    assert raw[0] is None and isinstance(orjson.loads(rest)["b"], list) and len(raw[1]) == 1
    rest, raw = scan_levels(_GOOD, ("b", "a", "bids"))
    assert orjson.loads(rest)["b"] == -1 and orjson.loads(rest)["a"] == -2
    assert raw[2] is None
    b, a = raw[0], raw[1]
    assert len(b) == 2 and b[0] == ["1.5", "2"] and list(a) == [["1.6", "3", "0", "1"]]
    assert b == [["1.5", "2"], ["1.4", "0"]] and b != [["1.5", "2"]]
    assert pickle.loads(pickle.dumps(b)) == [["1.5", "2"], ["1.4", "0"]]
    assert type(scan_levels(_GOOD.encode(), ("b",))[0]) is bytes
    pairs = string_pairs(b, "bid")
    assert list(pairs) == [("1.5", "2"), ("1.4", "0")]


@pytest.mark.parametrize("frame", [
    _GOOD.replace('["1.5","2"]', '["1.5", "2"]'),       # whitespace: not compact
    _GOOD.replace('["1.5","2"]', '[1.5,"2"]'),          # a number, not a string
    _GOOD.replace('["1.5","2"]', '["1.5"]'),            # one string a level
    _GOOD.replace('"note":"x', '"note":"\\u0078'),     # an escape anywhere
    _GOOD.replace('"note":"x', '"note":"\u00e9'),       # not ASCII
    _GOOD.replace('"s":"X"', '"s":"X","b":[["1","1"]]'),  # two arrays for one key
    _GOOD[:40],                                         # truncated inside the array
    _GOOD.replace('["1.4","0"]]', '["1.4","0"],]'),     # a trailing comma
    '{"b":"1.5","a":"1.6","pad":"' + "y" * 1100 + '"}',  # no array under the keys
])
def test_anything_but_plain_compact_arrays_goes_the_ordinary_way(frame: str) -> None:
    assert scan_levels(frame, ("b", "a")) is None


def test_a_feed_counts_the_same_reasons_either_way() -> None:
    """Bad numbers inside otherwise plain arrays: the feed refuses them with the reasons the
    ordinary path gives (the book's ``InvalidLevelError`` reasons)."""
    frames = goquant_frames()[:3]
    bad = [f.replace(f.split('"asks":[["', 1)[1].split('"', 1)[0], "abc", 1)
           for _, f in frames]
    counts = []
    for limit in (feed_mod.RAW_MIN_BYTES, 10**12):
        fd = get_feed("goquant")
        fd.raw_levels_min = limit
        for i, f in enumerate(bad):
            fd.on_frame(f, 1_747_544_410_000_000_000 + i * 100_000_000)
        counts.append((fd.malformed_frames, dict(fd.malformed)))
    assert counts[0] == counts[1] and counts[0][0] == 3


_num = st.one_of(st.decimals(min_value=0, max_value=10**6, places=4, allow_nan=False).map(str),
                 st.sampled_from(["0", "0.0", "-1", "nan", "inf", "1e3", "abc", "", "1.5.5",
                                  "12345678901234567890123", "0." + "1" * 30]))


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.lists(st.tuples(_num, _num), max_size=40), st.lists(st.tuples(_num, _num), max_size=40),
       st.booleans())
def test_raw_and_lists_apply_alike(bids: list[tuple[str, str]], asks: list[tuple[str, str]],
                                   snapshot: bool) -> None:
    """The compiled book fed RawLevels or the lists orjson gives: the same book, or the same
    refusal (reason and message), for any strings."""
    text = orjson.dumps({"b": [list(x) for x in bids], "a": [list(x) for x in asks]}).decode()
    cut = scan_levels(text, ("b", "a"))
    assert cut is not None
    rb, ra = cut[1]
    out = []
    for b, a in ((rb, ra), ([list(x) for x in bids], [list(x) for x in asks])):
        ob = OrderBook(price_scale=1e4)
        ob.apply_snapshot([["100", "1"]], [["200", "1"]])
        try:
            (ob.apply_snapshot if snapshot else ob.apply_delta)(b, a)
            out.append(("ok", ob.levels("bid"), ob.levels("ask"), ob.level_strings("bid", None),
                        ob.level_strings("ask", None), ob.checksum_string(25)))
        except InvalidLevelError as e:
            out.append(("refused", e.reason, str(e).split(": ", 1)[0]))
        except ValueError as e:
            out.append(("refused", type(e).__name__, str(e)))
    assert out[0] == out[1]
