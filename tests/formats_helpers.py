"""Fixtures derived from the packaged Binance recording, for the format readers' tests.

The native replay runs the recording through the real Binance feed and keeps every book event
the feed *applied* (the REST snapshot, then each diff that bridged or continued the chain) and
every trade. From those, the converters below write the files other tools keep: Tardis CSVs,
a Bybit order-book archive, a cryptofeed ``.ws.``/``.http.`` pair. They are written here, in
the tests, independently of the readers they check.
"""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from tradesim_nb import datasets
from tradesim_nb.book import OrderBook
from tradesim_nb.events import BookDelta, BookSnapshot, Trade
from tradesim_nb.feed import SymbolState
from tradesim_nb.recording import read_frames
from tradesim_nb.venues.binance import BinanceSpotFeed

ALL = 10**6  # "every level" for level_strings
SYMBOL = "BTCUSDT"
L2_HEADER = ["exchange", "symbol", "timestamp", "local_timestamp", "is_snapshot", "side",
             "price", "amount"]
TRADES_HEADER = ["exchange", "symbol", "timestamp", "local_timestamp", "id", "side", "price",
                 "amount"]


def levels(book: OrderBook, n: int = ALL) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Best-first level strings of both sides."""
    return (list(book.level_strings("bid", n)), list(book.level_strings("ask", n)))


class _Recorder(BinanceSpotFeed):
    """The real Binance feed, keeping the events it applies and the book after each."""

    def __init__(self, depth_states: int, full_every: int) -> None:
        super().__init__()
        self.applied: list[BookSnapshot | BookDelta] = []
        self.after: list[Any] = []  # top ``depth_states`` levels after each applied event
        self.full: dict[int, Any] = {}  # every level after every ``full_every``-th event
        self._depth = depth_states
        self._every = full_every

    def _capture(self, book: OrderBook) -> None:
        while len(self.after) < len(self.applied):
            i = len(self.after)
            self.after.append(levels(book, self._depth))
            if i % self._every == 0:
                self.full[i] = levels(book)

    def sequence(self, event: BookSnapshot | BookDelta, book: OrderBook,
                 state: SymbolState) -> bool:
        self._capture(book)  # the book now reflects every event applied before this one
        ok = super().sequence(event, book, state)
        if ok:
            self.applied.append(event)
        return ok


@dataclass
class Native:
    """The native replay of the Binance recording."""

    applied: list[BookSnapshot | BookDelta]
    after: list[Any]  # top 500 levels a side after each applied event
    full: dict[int, Any]  # applied index -> every level after it (checkpoints)
    trades: list[Trade]
    frames: list[tuple[int, str]]
    final: tuple[list[tuple[str, str]], list[tuple[str, str]]]
    stats: dict[str, Any] = field(default_factory=dict)


@lru_cache(maxsize=1)
def native() -> Native:
    """Replay the packaged recording through ``BinanceSpotFeed`` once per test session."""
    feed = _Recorder(depth_states=500, full_every=811)
    trades: list[Trade] = []
    frames = list(read_frames(*datasets.binance_spot_files()))
    for recv_ns, frame in frames:
        for ev in feed.on_frame(frame, recv_ns):
            if type(ev) is Trade:
                trades.append(ev)
    book = feed.books[SYMBOL]
    feed._capture(book)
    return Native(feed.applied, feed.after, feed.full, trades, frames, levels(book),
                  feed.summary()["instruments"][SYMBOL])


def book_updates() -> list[tuple[int, BookSnapshot | BookDelta, int]]:
    """``(local_timestamp_us, event, applied index)`` of the applied events with levels.

    The diffs buffered before the REST snapshot are applied when it arrives: they get its time
    (a receive time never goes backwards), as a converter writing them after the snapshot must.
    Diffs without levels are left out (they write no row).
    """
    out = []
    last = 0
    for i, ev in enumerate(native().applied):
        t = max(last, ev.recv_ts_ns // 1000)
        last = t
        if type(ev) is BookDelta and not ev.bids and not ev.asks:
            continue
        out.append((t, ev, i))
    return out


# -- Tardis ---------------------------------------------------------------------------------
def _open_w(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "wb", compresslevel=1), newline="")
    return open(path, "w", newline="")


def write_tardis_l2(path: Path, repeat: int = 1, limit: int | None = None,
                    exchange: str = "binance", symbol: str = SYMBOL) -> int:
    """The book events as a Tardis ``incremental_book_L2`` file; returns the rows written.

    ``repeat`` writes the whole replay again after itself (times shifted so that they keep
    growing), each repetition starting with its snapshot, to make longer files.
    """
    ups = book_updates()[:limit]
    span = ups[-1][0] - ups[0][0] + 1_000_000
    rows = 0
    with _open_w(path) as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(L2_HEADER)
        for k in range(repeat):
            shift = k * span
            for t, ev, _ in ups:
                lt = t + shift
                snap = type(ev) is BookSnapshot
                ts = ev.exch_ts_ns // 1000 + shift if ev.exch_ts_ns else lt
                flag = "true" if snap else "false"
                for side, lvls in (("bid", ev.bids), ("ask", ev.asks)):
                    for p, a, *_ in lvls:
                        w.writerow([exchange, symbol, ts, lt, flag, side, p, a])
                        rows += 1
    return rows


def write_tardis_trades(path: Path) -> int:
    """The recording's trades as a Tardis ``trades`` file."""
    last = 0
    with _open_w(path) as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(TRADES_HEADER)
        for tr in native().trades:
            lt = max(last, tr.recv_ts_ns // 1000)
            last = lt
            w.writerow(["binance", tr.symbol, tr.exch_ts_ns // 1000, lt, tr.trade_id, tr.side,
                        repr(tr.price), repr(tr.qty)])
    return len(native().trades)


def write_tardis_snapshots(path: Path, depth: int = 25, every: int = 7) -> list[Any]:
    """Every ``every``-th book state's top ``depth`` as a Tardis ``book_snapshot_<depth>``.

    Returns the ``(bids, asks)`` written, row by row.
    """
    n = native()
    ups = book_updates()
    header = ["exchange", "symbol", "timestamp", "local_timestamp"]
    for i in range(depth):
        header += [f"asks[{i}].price", f"asks[{i}].amount", f"bids[{i}].price",
                   f"bids[{i}].amount"]
    written = []
    with _open_w(path) as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for j in range(0, len(ups), every):
            t, ev, i_applied = ups[j]
            bids, asks = n.after[i_applied]
            bids, asks = bids[:depth], asks[:depth]
            row: list[Any] = ["binance", SYMBOL, ev.exch_ts_ns // 1000 or t, t]
            for i in range(depth):
                a = asks[i] if i < len(asks) else ("", "")
                b = bids[i] if i < len(bids) else ("", "")
                row += [a[0], a[1], b[0], b[1]]
            w.writerow(row)
            written.append((bids, asks))
    return written


# -- Bybit ----------------------------------------------------------------------------------
def bybit_messages(depth: int = 500, limit: int | None = None) -> tuple[list[bytes], list[Any]]:
    """The replay's book states as Bybit ``orderbook.<depth>`` messages with consecutive ``u``.

    The first message is a snapshot of the top ``depth`` levels a side; each later one a delta
    from the previous top ``depth`` to the next (a level leaving the window is sent with size
    ``"0"``, as Bybit does). Returns the lines and the top ``depth`` after each message.
    """
    n = native()
    states = n.after[:limit]
    topic = f"orderbook.{depth}.{SYMBOL}"
    lines: list[bytes] = []
    tops: list[Any] = []
    prev_b: dict[str, str] = {}
    prev_a: dict[str, str] = {}
    u = 1000
    last_ms = 0
    for i, (bids, asks) in enumerate(states):
        ev = n.applied[i]
        bids, asks = bids[:depth], asks[:depth]
        cur_b = dict(bids)
        cur_a = dict(asks)
        ms = max(last_ms, ev.recv_ts_ns // 1_000_000)
        last_ms = ms
        if i == 0:
            data = {"s": SYMBOL, "b": [list(x) for x in bids], "a": [list(x) for x in asks],
                    "u": u, "seq": 7_000_000 + u}
            kind = "snapshot"
        else:
            db = [[p, "0"] for p in prev_b if p not in cur_b]
            db += [[p, s] for p, s in bids if prev_b.get(p) != s]
            da = [[p, "0"] for p in prev_a if p not in cur_a]
            da += [[p, s] for p, s in asks if prev_a.get(p) != s]
            if not db and not da:
                continue  # nothing changed inside the window: Bybit sends nothing
            u += 1
            data = {"s": SYMBOL, "b": db, "a": da, "u": u, "seq": 7_000_000 + u}
            kind = "delta"
        msg = {"topic": topic, "type": kind, "ts": ms, "data": data,
               "cts": (ev.exch_ts_ns // 1_000_000) or ms}
        lines.append(orjson.dumps(msg))
        tops.append((bids, asks))
        prev_b, prev_a = cur_b, cur_a
    return lines, tops


def write_bybit_archive(path: Path, lines: list[bytes], zipped: bool,
                        member: str = "2024-08-08_BTCUSDT_ob500.data") -> Path:
    body = b"\n".join(lines) + b"\n"
    if zipped:
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(member, body)
    else:
        path.write_bytes(body)
    return path


def write_bybit_trades(path: Path) -> list[Trade]:
    """The recording's trades as a Bybit trade dump (``public.bybit.com/trading`` layout)."""
    trades = native().trades
    with _open_w(path) as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["timestamp", "symbol", "side", "size", "price", "tickDirection",
                    "trdMatchID", "grossValue", "homeNotional", "foreignNotional"])
        for tr in trades:
            sec = tr.exch_ts_ns // 1_000_000_000
            frac = (tr.exch_ts_ns // 1000) % 1_000_000
            w.writerow([f"{sec}.{frac:06d}", tr.symbol, "Buy" if tr.side == "buy" else "Sell",
                        repr(tr.qty), repr(tr.price), "ZeroPlusTick", f"m-{tr.trade_id}",
                        repr(tr.qty * tr.price * 1e8), repr(tr.qty), repr(tr.qty * tr.price)])
    return trades


# -- cryptofeed -----------------------------------------------------------------------------
WS_URL = ("wss://stream.binance.com:9443/stream?streams=btcusdt@depth@100ms/btcusdt@trade/"
          "btcusdt@bookTicker")
REST_URL = "https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1000"


def write_cryptofeed_pair(folder: Path, rotate_at: int | None = None,
                          with_http: bool = True) -> list[Path]:
    """The recording as cryptofeed's ``AsyncFileCallback`` stores it.

    ``BINANCE.ws.1.0`` holds the connect line, the subscription the client sent and every
    websocket frame as ``<epoch_s>: <frame>``; ``BINANCE.http.0.0`` the REST depth snapshot as
    ``<url> -> <epoch_s>: <json>``. With ``rotate_at`` the websocket log rotates into
    ``BINANCE.ws.1.1`` after that many lines. Returns the files written.
    """
    frames = native().frames
    first_t = frames[0][0] / 1e9
    ws_lines = [f"{WS_URL} <-> {first_t - 0.9!r}",
                f"{WS_URL} <- {first_t - 0.5!r}: "
                '{"method":"SUBSCRIBE","params":["btcusdt@depth@100ms"],"id":1}']
    http_lines = []
    for recv_ns, frame in frames:
        t = recv_ns / 1e9
        if frame.startswith('{"lastUpdateId"'):
            http_lines.append(f"{REST_URL} -> {t!r}: {frame}")
        else:
            ws_lines.append(f"{t!r}: {frame}")
    out = []
    chunks = [ws_lines] if rotate_at is None else [ws_lines[:rotate_at], ws_lines[rotate_at:]]
    for k, chunk in enumerate(chunks):
        p = folder / f"BINANCE.ws.1.{k}"
        p.write_text("\n".join(chunk) + "\n")
        out.append(p)
    if with_http:
        p = folder / "BINANCE.http.0.0"
        p.write_text("\n".join(http_lines) + "\n")
        out.append(p)
    return out
