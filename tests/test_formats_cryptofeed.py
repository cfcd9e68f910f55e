"""cryptofeed .ws./.http. pairs: the real Binance recording stored the way cryptofeed stores it."""

from __future__ import annotations

from pathlib import Path

import pytest
from formats_helpers import REST_URL, SYMBOL, levels, native, write_cryptofeed_pair

from tradesim_nb import datasets, formats, get_feed
from tradesim_nb.formats.cryptofeed import CryptofeedReader, rest_answer_frame, venue_of_url


def _replay(paths: list[Path]) -> tuple[formats.Reader, dict]:
    reader = formats.open_source(paths)
    feed = formats.open_feed(reader)
    formats.consume(reader, feed)
    return reader, feed.summary() | {"book": levels(feed.books[SYMBOL])}


def test_pair_syncs_from_its_rest_answer(tmp_path: Path) -> None:
    ws, http = write_cryptofeed_pair(tmp_path)
    assert formats.detect(ws).format == formats.detect(http).format == "cryptofeed"
    reader, s = _replay([ws, http])
    assert reader.format == "cryptofeed" and reader.venue == "binance"
    assert reader.symbols == (SYMBOL,)
    assert reader.stats["http_injected"] == 1 and reader.stats["connects"] == 1
    assert reader.stats["client_lines"] == 1 and reader.warnings == []
    st = s["instruments"][SYMBOL]
    assert (st["gaps"], st["snapshots"], st["stale"], st["book_valid"]) == (0, 1, False, True)
    assert st["trades"] == len(native().trades) and s["malformed"] == {}
    assert s["book"] == native().final


def test_the_companion_is_found_and_rotations_chain(tmp_path: Path) -> None:
    files = write_cryptofeed_pair(tmp_path, rotate_at=30_000)
    ws0, ws1, http = files
    # only the websocket logs, in the wrong order: the rotation number orders them and the
    # .http. file of the same feed next to them is picked up
    reader, s = _replay([ws1, ws0])
    assert http in reader.paths and reader.stats["http_companions_found"] == 1
    assert s["instruments"][SYMBOL]["gaps"] == 0
    assert s["book"] == native().final


def test_without_rest_answers_a_binance_book_cannot_sync_and_says_so(tmp_path: Path) -> None:
    (ws,) = write_cryptofeed_pair(tmp_path, with_http=False)
    reader, s = _replay([ws])
    assert any("no .http. companion" in w and "stays stale" in w for w in reader.warnings)
    st = s["instruments"][SYMBOL]
    assert st["snapshots"] == 0 and st["stale"] and not st["book_valid"]


def test_okx_log_with_its_checksums() -> None:
    okx = datasets.okx_books_file()
    assert formats.detect(okx).format == "cryptofeed"
    reader = formats.open_source(okx)
    assert reader.venue == "okx"
    feed = formats.open_feed(reader)
    formats.consume(reader, feed)
    s = feed.summary()
    assert sum(v["checksum_ok"] for v in s["instruments"].values()) == 290
    assert sum(v["checksum_failed"] for v in s["instruments"].values()) == 0
    assert s["malformed"] == {}
    assert reader.stats["connects"] == 1 and reader.stats["client_lines"] == 3


def test_kraken_log_and_its_rest_companion() -> None:
    book, rest = datasets.kraken_book_file(), datasets.kraken_assetpairs_file()
    reader = formats.open_source([book, rest])
    assert isinstance(reader, CryptofeedReader)
    assert reader.http_files == (rest,) and reader.venue == "kraken"
    items = list(reader)
    raw = [ln for ln in book.read_text().splitlines() if ln[:1].isdigit()]
    assert len(items) == len(raw) == reader.stats["frames"]
    for (t, frame), line in zip(items, raw):
        head, msg = line.split(": ", 1)
        whole, frac = head.split(".")
        assert t == int(whole) * 10**9 + int(frac.ljust(9, "0")) and frame == msg
    # AssetPairs feeds no book parser: counted, not injected, and said
    assert reader.stats["http_unused"] == 1 and reader.stats["http_injected"] == 0
    assert any("AssetPairs" in w for w in reader.warnings)


def test_rest_answers_become_frames_the_parser_files_under_the_url_symbol() -> None:
    body = '{"lastUpdateId": 7, "bids": [["1.0", "2"]], "asks": [["1.1", "3"]]}'
    frame = rest_answer_frame("https://www.binance.com/api/v1/depth?symbol=XMRBTC&limit=5000",
                              body)
    assert frame is not None
    feed = get_feed("binance")
    (ev,) = feed.on_frame(frame, 5)
    assert type(ev).__name__ == "BookSnapshot" and (ev.symbol, ev.seq) == ("XMRBTC", 7)
    fut = rest_answer_frame("https://fapi.binance.com/fapi/v1/depth?symbol=BTCUSDT", body)
    assert fut is not None and '"btcusdt@restDepth"' in fut
    assert rest_answer_frame("https://api.binance.com/api/v3/exchangeInfo", body) is None
    assert venue_of_url(REST_URL) == "binance"
    assert venue_of_url("wss://fstream.binance.com/stream") == "binance-futures"
    assert venue_of_url("wss://ws.okx.com:8443/ws/v5/public") == "okx"
    assert venue_of_url("wss://dstream.binance.com/ws") is None


def test_bytes_literals_and_configuration_lines(tmp_path: Path) -> None:
    p = tmp_path / "OKX.ws.2.0"
    p.write_text("configuration: {'log': {'filename': 'demo.log'}}\n"
                 "wss://ws.okx.com:8443/ws/v5/public <-> 1652459224.5\n"
                 "1652459225.25: b'{\"event\":\"subscribe\"}'\n"
                 "garbage line\n"
                 "1652459225.5: {\"event\":\"subscribe\"}\n")
    reader = formats.open_source(p)
    assert reader.format == "cryptofeed" and reader.venue == "okx"
    items = list(reader)
    assert items == [(1652459225250000000, b'{"event":"subscribe"}'),
                     (1652459225500000000, '{"event":"subscribe"}')]
    assert reader.stats["configuration_lines"] == 1 and reader.stats["bytes_literals"] == 1
    assert reader.stats["unrecognized_lines"] == 1
    assert any("OKX.ws.2.0:4" in w for w in reader.warnings)


def test_a_bad_rest_companion_line_is_named(tmp_path: Path) -> None:
    p = tmp_path / "BINANCE.http.0.0"
    p.write_text(f"{REST_URL} -> later: {{}}\n")
    with pytest.raises(formats.FormatError, match=r"BINANCE\.http\.0\.0:1: not '<url> -> "):
        list(formats.open_source(p))
