"""Streaming plumbing for the dashboards: buffers, views and a UI-rate throttle.

The rules, from what was measured on the notebook front ends (JupyterLab 4 and Voila 0.5,
driven in headless Chromium):

* **Our buffer is the truth.** In a browser BokehJS echoes streamed rows back to the kernel
  (``ColumnsStreamed``) so the kernel-side ``ColumnDataSource.data`` can hold duplicates.
  Nothing here ever reads ``source.data`` back; every number comes from a :class:`ColumnBuffer`.
* **One ColumnDataSource per view.** A :class:`StreamView` appends rows with
  ``source.stream(rows, rollover=N)``; a :class:`SnapshotView` replaces the whole data of a
  small view (a depth ladder) at most once per UI frame.
* **UI updates at a UI rate.** A feed can tick at 100-1000 Hz; the browser needs about 10
  updates a second. :class:`UiThrottle` coalesces any number of requests into at most
  ``rate_hz`` flushes per second, scheduled on the running event loop (``call_later``), so the
  widgets are only touched from the loop's thread and the kernel never blocks.
* **Bokeh through jupyter_bokeh.** :func:`bokeh_widget` wraps a Bokeh model in a
  ``BokehModel`` ipywidget (which works in JupyterLab and in Voila, unlike
  ``push_notebook``); :func:`setup_notebook` loads BokehJS inline (no CDN offline).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "ColumnBuffer",
    "SnapshotView",
    "StreamView",
    "UiThrottle",
    "bokeh_widget",
    "setup_notebook",
]

log = logging.getLogger(__name__)


def setup_notebook() -> None:
    """Load BokehJS into the page from the installed package (``INLINE``), without banner.

    Call once per notebook, before the first dashboard. The default CDN resources are not
    reachable offline; ``INLINE`` embeds them in the output.
    """
    from bokeh.io import output_notebook
    from bokeh.resources import INLINE

    output_notebook(resources=INLINE, hide_banner=True)


#: document events from the browser that only echo the kernel's own data updates
ECHO_KINDS = ("ColumnsStreamed", "ColumnsPatched")

_lean_class: Any = None


def _lean_bokeh_model() -> Any:
    """A ``BokehModel`` that shows every new view the current document and drops echoes.

    Two fixes over ``jupyter_bokeh.BokehModel``, both measured in Voila and JupyterLab:

    * **A new view gets the current document.** ``BokehModel`` serialises the document into
      its ``render_bundle`` trait once, when it is built, and sends every later change as a
      ``patch`` message that only an existing front-end *view* applies. Changes made between
      building the widget and its first view (an explorer that fills its sources after
      wrapping its figures; a feed that streams while Voila is still running the notebook's
      cells) reach no view and are lost: the view draws the first snapshot. A figure whose
      sources were empty then has ``DataRange1d`` ranges of NaN (BokehJS: "could not set
      initial ranges") and draws frame and legend but no axes and no glyphs. Here the widget
      counts its views (ipywidgets' ``_view_count``) and, when one appears after the
      document changed, re-sends the whole document as ``render_bundle``; BokehJS re-renders
      from it and the patches that follow apply on top, in order.
    * **The browser's echoes are dropped.** jupyter_bokeh's front end queues the document
      events raised while it applies a patch from the kernel and then sends them back
      (``ColumnsStreamed`` for every ``stream``, ``ModelChanged`` of ``data`` for every
      assignment). The kernel deserialises each against every model of the document and
      applies it again: duplicated rows in ``source.data`` and work for nothing. Our buffers
      are the truth and nothing reads ``source.data`` back, so these echoes are counted and
      dropped; every other event (ranges, tool events) is handled as before. (Measured on the
      trade-cost dashboard, 5 minutes each: kernel CPU 17.8 % of a core before, 16.0 %
      after; most of the kernel's cost with a browser attached is elsewhere.)
    """
    global _lean_class
    if _lean_class is None:
        from jupyter_bokeh.widgets import BokehModel
        from traitlets import Int

        class LeanBokehModel(BokehModel):  # type: ignore[misc]
            # 0, not None: the front end then reports each view it displays or removes
            _view_count = Int(0, allow_none=True).tag(sync=True)
            echoes_dropped = 0
            #: times the whole document was re-sent because a view appeared after a change
            resends = 0

            def __init__(self, model: Any, **kwargs: Any) -> None:
                self._changed_since_bundle = False
                super().__init__(model, **kwargs)
                self.observe(self._on_view_count, names="_view_count")

            def update_from_model(self, model: Any) -> None:
                super().update_from_model(model)
                self._changed_since_bundle = False

            def _document_patched(self, event: Any) -> None:
                if event.setter is not self:
                    self._changed_since_bundle = True
                super()._document_patched(event)

            def _on_view_count(self, change: dict[str, Any]) -> None:
                if (change["new"] or 0) > (change["old"] or 0) and self._changed_since_bundle:
                    self.resends += 1
                    self.update_from_model(self._model)

            def _sync_model(self, _model: Any, content: dict[str, Any],
                            _buffers: list[Any]) -> None:
                kind = content.get("kind")
                if content.get("event") == "jsevent" and (
                        kind in ECHO_KINDS or (kind == "ModelChanged"
                                               and content.get("attr") == "data")):
                    self.echoes_dropped += 1
                    return
                super()._sync_model(_model, content, _buffers)

        _lean_class = LeanBokehModel
    return _lean_class


def bokeh_widget(model: Any) -> Any:
    """Wrap a Bokeh figure or layout in a ``jupyter_bokeh.BokehModel`` ipywidget.

    The widget keeps the kernel-side document and the browser in sync through the widget
    comm, in JupyterLab and in Voila alike; kernel-side changes to the model's data sources
    are sent as they happen (batch them with a :class:`UiThrottle`). A view displayed after
    the document changed is given the whole current document, and the browser's echoes of
    data updates are dropped (see :func:`_lean_bokeh_model`).
    """
    return _lean_bokeh_model()(model)


class ColumnBuffer:
    """A fixed-capacity columnar ring of float64 columns: the truth behind a streamed view.

    Parameters
    ----------
    columns : sequence of str
        Column names.
    capacity : int
        Rows kept (>= 1); older rows are dropped first, as ``stream(rollover=capacity)`` does.

    Notes
    -----
    Appends are O(1) per row; :meth:`to_dict` returns the rows oldest-first as copies.
    """

    def __init__(self, columns: Sequence[str], capacity: int) -> None:
        if not columns:
            raise ValueError("columns=[] must name at least one column")
        if len(set(columns)) != len(columns):
            raise ValueError(f"columns={list(columns)!r} has duplicates")
        if int(capacity) != capacity or capacity < 1:
            raise ValueError(f"capacity={capacity!r} must be an integer >= 1")
        self.columns: tuple[str, ...] = tuple(columns)
        self.capacity = int(capacity)
        self._data = np.full((len(self.columns), self.capacity), np.nan)
        self._index = {c: i for i, c in enumerate(self.columns)}
        self._n = 0  # rows ever appended

    def __len__(self) -> int:
        return min(self._n, self.capacity)

    @property
    def total(self) -> int:
        """Rows ever appended (including those rolled over)."""
        return self._n

    def append(self, row: Mapping[str, float]) -> None:
        """Append one row; every column must be present."""
        if len(row) != len(self.columns):
            missing = set(self.columns) - set(row)
            extra = set(row) - set(self.columns)
            raise ValueError(f"row keys must be {self.columns}; missing {sorted(missing)}, "
                             f"unknown {sorted(extra)}")
        j = self._n % self.capacity
        for c, v in row.items():
            self._data[self._index[c], j] = v
        self._n += 1

    def column(self, name: str) -> np.ndarray:
        """One column, oldest first (a copy)."""
        try:
            i = self._index[name]
        except KeyError:
            raise ValueError(f"name={name!r} is not one of {self.columns}") from None
        return self._ordered(self._data[i])

    def _ordered(self, arr: np.ndarray) -> np.ndarray:
        n = len(self)
        if self._n <= self.capacity:
            return arr[:n].copy()
        j = self._n % self.capacity
        return np.concatenate([arr[j:], arr[:j]])

    def last(self, name: str) -> float:
        """The newest value of a column (NaN when empty)."""
        if self._n == 0:
            return math.nan
        return float(self._data[self._index[name], (self._n - 1) % self.capacity])

    def to_dict(self) -> dict[str, np.ndarray]:
        """All kept rows, oldest first, column name -> array (copies)."""
        return {c: self._ordered(self._data[i]) for c, i in self._index.items()}

    def clear(self) -> None:
        self._data.fill(np.nan)
        self._n = 0


class StreamView:
    """One ``ColumnDataSource`` fed by appending rows, with our own buffer as the truth.

    :meth:`append` stores a row in the :class:`ColumnBuffer` and queues it; :meth:`flush`
    (called by a :class:`UiThrottle`) sends the queued rows in one
    ``source.stream(rows, rollover=rollover)``. The buffer keeps the same ``rollover`` rows,
    so the plot and the numbers agree without reading ``source.data`` back.

    Parameters
    ----------
    columns : sequence of str
        Column names (floats; time axes in ms since the epoch for Bokeh datetime axes).
    rollover : int
        Rows kept in the plot and in the buffer (>= 1).
    """

    def __init__(self, columns: Sequence[str], rollover: int = 600) -> None:
        from bokeh.models import ColumnDataSource

        self.buffer = ColumnBuffer(columns, rollover)
        self.rollover = self.buffer.capacity
        self.source = ColumnDataSource({c: [] for c in self.buffer.columns})
        self._pending: dict[str, list[float]] = {c: [] for c in self.buffer.columns}
        self.flushes = 0
        self.rows_sent = 0

    @property
    def columns(self) -> tuple[str, ...]:
        return self.buffer.columns

    def append(self, **row: float) -> None:
        """Append one row (keyword per column) to the buffer and the pending batch."""
        self.buffer.append(row)
        for c in self.buffer.columns:
            self._pending[c].append(float(row[c]))

    @property
    def pending(self) -> int:
        return len(self._pending[self.buffer.columns[0]])

    def flush(self) -> int:
        """Stream the pending rows (at most ``rollover`` of them); return how many were sent."""
        n = self.pending
        if n == 0:
            return 0
        k = min(n, self.rollover)
        batch: dict[str, Any] = {c: v[-k:] for c, v in self._pending.items()}
        self._pending = {c: [] for c in self.buffer.columns}
        self.source.stream(batch, rollover=self.rollover)
        self.flushes += 1
        self.rows_sent += k
        return k

    def reset(self) -> None:
        """Forget every row, in the buffer and in the plot."""
        self.buffer.clear()
        self._pending = {c: [] for c in self.buffer.columns}
        self.source.data = {c: [] for c in self.buffer.columns}


class SnapshotView:
    """One ``ColumnDataSource`` whose whole data is replaced at each flush (a ladder, a histogram).

    :meth:`set` keeps the newest arrays (our truth, available as :attr:`data`); :meth:`flush`
    assigns them to ``source.data`` once, however many times :meth:`set` was called since.
    """

    def __init__(self, columns: Sequence[str]) -> None:
        from bokeh.models import ColumnDataSource

        if not columns:
            raise ValueError("columns=[] must name at least one column")
        self.columns: tuple[str, ...] = tuple(columns)
        self.source = ColumnDataSource({c: [] for c in self.columns})
        self.data: dict[str, np.ndarray] = {c: np.empty(0) for c in self.columns}
        self._dirty = False
        self.flushes = 0

    def set(self, **cols: Sequence[float] | np.ndarray) -> None:
        if set(cols) != set(self.columns):
            raise ValueError(f"columns must be {self.columns}, got {sorted(cols)}")
        lens = {len(v) for v in cols.values()}
        if len(lens) > 1:
            raise ValueError(f"columns have different lengths {sorted(lens)}")
        self.data = {c: np.asarray(v, dtype=float) for c, v in cols.items()}
        self._dirty = True

    @property
    def pending(self) -> bool:
        return self._dirty

    def flush(self) -> int:
        """Send the newest arrays if they changed since the last flush; return rows sent."""
        if not self._dirty:
            return 0
        self._dirty = False
        # numpy arrays go to the browser as binary buffers (cheaper than lists of floats)
        self.source.data = dict(self.data)
        self.flushes += 1
        return len(next(iter(self.data.values())))


class UiThrottle:
    """Coalesce update requests into at most ``rate_hz`` calls of ``flush`` per second.

    :meth:`request` is cheap and may be called on every tick (from the event loop's thread).
    The first request after a flush schedules the next flush with ``loop.call_later`` at the
    earliest time allowed by the rate; later requests before it only mark it wanted. The flush
    runs on the loop, so widget and Bokeh updates happen on the loop's thread.

    Parameters
    ----------
    flush : callable
        ``flush() -> None``: push the batched state to the UI. An exception is logged and
        counted, never raised into the feed.
    rate_hz : float
        Maximum flushes per second, in (0, 120].
    loop : asyncio.AbstractEventLoop, optional
        Defaults to the running loop at the first :meth:`request`.

    Attributes
    ----------
    requests, flushes, errors : int
        Counters.
    flush_ns_total : int
        Wall time spent inside ``flush`` (``perf_counter_ns``): the kernel-side cost of the UI.
    """

    def __init__(self, flush: Callable[[], None], rate_hz: float = 10.0,
                 loop: asyncio.AbstractEventLoop | None = None) -> None:
        if not (math.isfinite(rate_hz) and 0 < rate_hz <= 120):
            raise ValueError(f"rate_hz={rate_hz!r} must be in (0, 120]")
        self._flush = flush
        self.rate_hz = float(rate_hz)
        self.period_s = 1.0 / self.rate_hz
        self._loop = loop
        self._handle: asyncio.TimerHandle | None = None
        self._last = -math.inf
        self.requests = 0
        self.flushes = 0
        self.errors = 0
        self.flush_ns_total = 0
        self.flush_ns_max = 0
        self.closed = False

    def request(self) -> None:
        """Ask for a flush; it happens within one period, coalesced with other requests."""
        if self.closed:
            return
        self.requests += 1
        if self._handle is not None:
            return
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        delay = max(0.0, self._last + self.period_s - loop.time())
        self._handle = loop.call_later(delay, self._run)

    def _run(self) -> None:
        self._handle = None
        if self.closed:
            return
        assert self._loop is not None
        self._last = self._loop.time()
        t0 = time.perf_counter_ns()
        try:
            self._flush()
        except Exception:  # a UI error must never stop the feed
            self.errors += 1
            log.exception("dashboard flush failed")
        dt = time.perf_counter_ns() - t0
        self.flushes += 1
        self.flush_ns_total += dt
        self.flush_ns_max = max(self.flush_ns_max, dt)

    def flush_now(self) -> None:
        """Flush at once (outside the rate), e.g. after a user changed an input."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self._loop is None:
            try:
                self._loop = asyncio.get_running_loop()
            except RuntimeError:
                self._flush()
                self.flushes += 1
                return
        self._run()

    @property
    def mean_flush_ms(self) -> float:
        return self.flush_ns_total / self.flushes / 1e6 if self.flushes else math.nan

    def close(self) -> None:
        """Cancel any scheduled flush; later requests are ignored."""
        self.closed = True
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
