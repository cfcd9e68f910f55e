"""Replay a real recording through the venue's own parser and watch the book move.

:class:`BookReplay` reads raw frames (:func:`tradesim_nb.recording.read_frames`), feeds them to
``get_feed(venue)`` exactly as the live client would, and draws the chosen instrument's depth
chart and its best bid/ask/mid over the recording's own time, at UI rate. The replay runs as a
task on the notebook's event loop; ``await replay.run()`` in a cell, or
``replay.start()`` to let it run in the background between cells.
"""

from __future__ import annotations

import asyncio
import html
import math
import time
from collections.abc import Iterable, Iterator
from typing import Any

from ..events import FeedStatus
from ..recording import PathLike, read_frames
from ..venues import get_feed
from .depth import DepthView
from .stream import StreamView, UiThrottle, bokeh_widget

__all__ = ["BookReplay"]


class BookReplay:
    """A depth chart and a top-of-book timeline fed by a recording through the real parser.

    Parameters
    ----------
    venue : str
        Key of :data:`tradesim_nb.venues.VENUES` (``"okx"``, ``"binance"``, ...).
    paths : path or iterable of paths
        Recordings, in time order.
    symbol : str
        The instrument to draw (the feed keeps every instrument's book).
    speed : float or None
        ``None`` replays as fast as the parser goes (yielding to the loop every
        ``chunk`` frames); a number replays at that multiple of the recorded pace.
    levels : int
        Depth levels a side drawn.
    rate_hz : float
        UI updates per second.
    rollover : int
        Points kept on the top-of-book timeline.
    """

    def __init__(self, venue: str, paths: Iterable[PathLike] | PathLike, symbol: str, *,
                 speed: float | None = None, levels: int = 50, rate_hz: float = 10.0,
                 rollover: int = 2000, chunk: int = 500) -> None:
        import ipywidgets as w
        from bokeh.layouts import column
        from bokeh.models import DatetimeTickFormatter
        from bokeh.plotting import figure

        if speed is not None and not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"speed={speed!r} must be None or a finite number > 0")
        if int(chunk) != chunk or chunk < 1:
            raise ValueError(f"chunk={chunk!r} must be an integer >= 1")
        self.venue = venue
        self.paths = [paths] if isinstance(paths, str | bytes) or hasattr(paths, "__fspath__") \
            else list(paths)  # type: ignore[arg-type]
        self.symbol = symbol
        self.speed = speed
        self.chunk = int(chunk)
        self.feed = get_feed(venue)
        self.depth = DepthView(levels, title=f"{venue} {symbol}: cumulative depth")
        self.top = StreamView(["t_ms", "bid", "ask", "mid"], rollover=rollover)
        tf = figure(height=220, sizing_mode="stretch_width", x_axis_type="datetime",
                    title="best bid / ask / mid (recording time)", tools="pan,wheel_zoom,reset")
        tf.step("t_ms", "bid", source=self.top.source, color="#2ca02c", mode="after")
        tf.step("t_ms", "ask", source=self.top.source, color="#d62728", mode="after")
        tf.line("t_ms", "mid", source=self.top.source, color="#555555", line_dash="dashed")
        tf.xaxis.formatter = DatetimeTickFormatter(seconds="%H:%M:%S", minsec="%H:%M:%S")
        tf.toolbar.logo = None
        self._layout = column(self.depth.figure, tf, sizing_mode="stretch_width")
        self.plot = bokeh_widget(self._layout)
        self.status = w.HTML(value="<i>not started</i>")
        self.status.add_class("ts-replay-status")
        self.widget = w.VBox([self.status, self.plot])
        self.throttle = UiThrottle(self._flush, rate_hz)
        self.frames = 0
        self.book_updates = 0
        self.statuses: dict[str, int] = {}
        self.first_recv_ns = 0
        self.last_recv_ns = 0
        self.wall_s = 0.0
        self.done = False
        self._task: asyncio.Task[dict[str, Any]] | None = None

    # -- display ------------------------------------------------------------------------
    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def _flush(self) -> None:
        self.depth.flush()
        self.top.flush()
        self.status.value = self._status_html()

    def _status_html(self) -> str:
        book = self.feed.books.get(self.symbol)
        st = self.feed.stats.get(self.symbol)
        parts = [f"<b>{html.escape(self.venue)} {html.escape(self.symbol)}</b>",
                 f"frames {self.frames:,}", f"book updates {self.book_updates:,}"]
        if st is not None:
            parts.append(f"checksums ok {st.checksum_ok:,} / failed {st.checksum_failed:,}")
            parts.append(f"gaps {st.gaps}, crossed {st.crossed}")
        if book is not None and book.valid:
            parts.append(f"bid {book.best_bid:,.2f} / ask {book.best_ask:,.2f} "
                         f"(spread {book.spread_bps:.2f} bps)")
        elif book is not None:
            parts.append("<span style='color:#b00'>book not valid</span>")
        if self.last_recv_ns:
            parts.append(f"recording time +{(self.last_recv_ns - self.first_recv_ns) / 1e9:.1f} s")
        parts.append("<b>done</b>" if self.done else "replaying...")
        return " &middot; ".join(parts)

    # -- the replay ---------------------------------------------------------------------
    def _frames(self) -> Iterator[tuple[int, str]]:
        return read_frames(*self.paths)

    def _on_events(self, events: list[Any]) -> None:
        touched = False
        for ev in events:
            if type(ev) is FeedStatus:
                self.statuses[ev.kind] = self.statuses.get(ev.kind, 0) + 1
            elif getattr(ev, "symbol", None) == self.symbol and hasattr(ev, "bids"):
                touched = True
        if touched:
            self.book_updates += 1
            book = self.feed.books[self.symbol]
            if book.valid:
                self.depth.update(book)
                self.top.append(t_ms=book.last_recv_ts_ns / 1e6, bid=book.best_bid,
                                ask=book.best_ask, mid=book.mid)
            self.throttle.request()

    async def run(self, max_frames: int | None = None) -> dict[str, Any]:
        """Replay (up to ``max_frames`` frames) and return the feed's summary."""
        t0 = time.perf_counter()
        loop = asyncio.get_running_loop()
        start_wall = loop.time()
        try:
            for recv_ns, events, _sym in self.feed.replay(self._frames()):
                if self.first_recv_ns == 0:
                    self.first_recv_ns = recv_ns
                self.last_recv_ns = recv_ns
                self._on_events(events)
                self.frames += 1
                if self.speed is not None:
                    due = start_wall + (recv_ns - self.first_recv_ns) / 1e9 / self.speed
                    delay = due - loop.time()
                    if delay > 0.002:
                        await asyncio.sleep(delay)
                    elif self.frames % self.chunk == 0:
                        await asyncio.sleep(0)
                elif self.frames % self.chunk == 0:
                    await asyncio.sleep(0)  # let the UI flush and other cells' tasks run
                if max_frames is not None and self.frames >= max_frames:
                    break
        finally:
            self.done = True
            self.wall_s = time.perf_counter() - t0
            self.throttle.flush_now()
            self.throttle.close()
            # a front end that connects after the streamed patches (Voila runs every cell
            # before the page shows its widgets) is given the whole document by bokeh_widget
        return self.summary()

    def start(self, max_frames: int | None = None) -> asyncio.Task[dict[str, Any]]:
        """Run the replay as a background task on the running loop (kept on ``self``)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run(max_frames))
        return self._task

    def summary(self) -> dict[str, Any]:
        """The feed's summary plus the replay's own counters."""
        s = self.feed.summary()
        s["replay"] = {"frames": self.frames, "book_updates": self.book_updates,
                       "statuses": dict(self.statuses), "wall_s": self.wall_s,
                       "recording_s": (self.last_recv_ns - self.first_recv_ns) / 1e9,
                       "ui_flushes": self.throttle.flushes}
        return s
