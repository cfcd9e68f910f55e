"""GoQuant relay parser on the six captured messages: crossed books flagged and sanitized."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from tradesim_nb import datasets
from tradesim_nb.events import BookSnapshot, FeedStatus
from tradesim_nb.venues import get_feed
from tradesim_nb.venues.goquant import GoQuantFeed, url


@pytest.fixture(scope="module")
def samples() -> dict[str, Path]:
    return {p.stem: p for p in datasets.goquant_samples()}


def _raw(p: Path) -> dict:  # type: ignore[type-arg]
    return orjson.loads(p.read_bytes())  # type: ignore[no-any-return]


def test_six_samples_parse(samples: dict[str, Path]) -> None:
    assert len(samples) == 6
    feed = GoQuantFeed()
    for name, p in samples.items():
        raw = _raw(p)
        evs = feed.parse(p.read_text(), 7)
        assert len(evs) == 1 and isinstance(evs[0], BookSnapshot), name
        ev = evs[0]
        assert ev.symbol == raw["symbol"] and ev.venue == "goquant" and ev.recv_ts_ns == 7
        assert [tuple(x) for x in raw["bids"]] == [tuple(x) for x in ev.bids]
        assert [tuple(x) for x in raw["asks"]] == [tuple(x) for x in ev.asks]
        ts = datetime.strptime(raw["timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=UTC)
        assert ev.exch_ts_ns == int(ts.timestamp()) * 1_000_000_000


def _is_crossed_raw(raw: dict) -> bool:  # type: ignore[type-arg]
    best_bid = max(float(p) for p, _ in raw["bids"])
    best_ask = min(float(p) for p, _ in raw["asks"])
    return best_bid >= best_ask


def test_crossed_btc_books_are_flagged_and_sanitized(samples: dict[str, Path]) -> None:
    crossed = sorted(n for n, p in samples.items() if _is_crossed_raw(_raw(p)))
    assert crossed == ["btc_response_1", "btc_response_2", "btc_response_3"]
    for name, p in samples.items():
        raw = _raw(p)
        feed = GoQuantFeed()  # sanitize_crossed=True by default
        events = feed.on_frame(p.read_text(), 0)
        sym = raw["symbol"]
        book = feed.books[sym]
        st = feed.stats[sym]
        flagged = any(isinstance(e, FeedStatus) and e.kind == "crossed" for e in events)
        assert flagged == (name in crossed) and st.crossed == (name in crossed)
        assert book.valid and not book.crossed, name  # the sanitized book is usable
        # What was removed: exactly the asks at or below the sent best bid (the two stale
        # levels 103260 and 103260.1 in every crossed sample), and no bid.
        best_bid = max(float(px) for px, _ in raw["bids"])
        stale_asks = sorted(px for px, _ in raw["asks"] if float(px) <= best_bid)
        kept_asks = {px for px, _ in book.level_strings("ask", 1000)}
        removed = sorted({px for px, _ in raw["asks"]} - kept_asks)
        assert removed == stale_asks
        assert book.n_bids == len(raw["bids"])
        assert st.crossed_removed_levels == len(stale_asks)
        if name in crossed:
            assert removed == ["103260", "103260.1"]
            assert book.best_bid == best_bid


def test_no_sanitize_keeps_the_book_as_sent(samples: dict[str, Path]) -> None:
    p = samples["btc_response_2"]
    feed = get_feed("goquant", sanitize_crossed=False)
    feed.on_frame(p.read_text(), 0)
    book = feed.books["BTC-USDT-SWAP"]
    assert book.crossed and not book.valid and book.best_ask == 103260.0
    assert feed.stats["BTC-USDT-SWAP"].crossed_removed_levels == 0


def test_crossed_then_clean_snapshot_reports_uncrossed(samples: dict[str, Path]) -> None:
    feed = GoQuantFeed(sanitize_crossed=False)
    kinds = []
    for name in ("btc_response_1", "btc_response_2", "btc_response_4"):
        kinds += [e.kind for e in feed.on_frame(samples[name].read_text(), 0)
                  if isinstance(e, FeedStatus)]
    assert kinds == ["crossed", "uncrossed"]
    assert feed.books["BTC-USDT-SWAP"].valid


def test_bad_messages_are_malformed() -> None:
    feed = GoQuantFeed()
    good = {"timestamp": "2025-05-18T05:00:10Z", "exchange": "OKX", "symbol": "X",
            "asks": [["2", "1"]], "bids": [["1", "1"]]}
    assert isinstance(feed.on_frame(orjson.dumps(good), 0)[0], BookSnapshot)
    bads = [dict(good, timestamp="yesterday"), {k: v for k, v in good.items() if k != "asks"},
            dict(good, asks=[["x", "1"]]), dict(good, bids=[[1.0, "1"]]),
            dict(good, bids=[["1", "-1"]])]
    for b in bads:
        # the parser refuses a wrong shape; the book refuses numbers that are not a price or
        # a size (the whole snapshot, counted by reason); the book is then not valid
        kinds = [getattr(e, "kind", "") for e in feed.on_frame(orjson.dumps(b), 0)]
        assert "malformed" in kinds and not feed.books["X"].valid
        feed.on_frame(orjson.dumps(good), 0)
        assert feed.books["X"].valid
    assert feed.on_frame('{"timestamp": "2025-05-18T0', 0)[0].kind == "malformed"  # type: ignore[union-attr]
    assert sum(feed.malformed.values()) == 6
    assert feed.malformed == {"bad_timestamp": 1, "missing_field": 1, "bad_price": 1,
                              "bad_level": 1, "bad_size": 1, "invalid_json": 1}


def test_url() -> None:
    assert url("BTC-USDT-SWAP") == \
        "wss://ws.gomarket-cpp.goquant.io/ws/l2-orderbook/okx/BTC-USDT-SWAP"
    with pytest.raises(ValueError, match="symbol"):
        url("")
    assert GoQuantFeed.snapshot_only and GoQuantFeed().sanitize_crossed
