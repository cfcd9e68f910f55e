"""The streaming plumbing of the dashboards, without a browser."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from nb_helpers import bundled_data

from tradesim_nb.nb.stream import ColumnBuffer, SnapshotView, StreamView, UiThrottle


def test_column_buffer_rolls_over_like_stream_rollover():
    b = ColumnBuffer(["t", "x"], capacity=5)
    for i in range(12):
        b.append({"t": i, "x": 10 * i})
    assert len(b) == 5 and b.total == 12
    np.testing.assert_array_equal(b.column("t"), [7, 8, 9, 10, 11])
    np.testing.assert_array_equal(b.to_dict()["x"], [70, 80, 90, 100, 110])
    assert b.last("x") == 110


def test_column_buffer_rejects_bad_input():
    with pytest.raises(ValueError, match="capacity"):
        ColumnBuffer(["a"], 0)
    with pytest.raises(ValueError, match="duplicates"):
        ColumnBuffer(["a", "a"], 3)
    b = ColumnBuffer(["a", "b"], 3)
    with pytest.raises(ValueError, match="missing"):
        b.append({"a": 1.0})
    with pytest.raises(ValueError, match="name"):
        b.column("zz")


def test_stream_view_batches_rows_and_keeps_its_own_truth():
    v = StreamView(["t", "y"], rollover=4)
    for i in range(10):
        v.append(t=i, y=i * i)
    assert v.pending == 10
    sent = v.flush()
    assert sent == 4  # never more than rollover rows in one stream
    assert v.pending == 0 and v.flush() == 0
    np.testing.assert_array_equal(v.buffer.column("y"), [36, 49, 64, 81])
    # the kernel-side source holds what was streamed (no browser echo here)
    assert list(v.source.data["t"]) == [6, 7, 8, 9]
    v.append(t=10, y=100)
    v.flush()
    assert list(v.source.data["t"]) == [7, 8, 9, 10]
    assert v.flushes == 2 and v.rows_sent == 5


def test_snapshot_view_sends_only_the_newest():
    v = SnapshotView(["px", "qty"])
    assert v.flush() == 0
    v.set(px=[1, 2], qty=[3, 4])
    v.set(px=[5, 6, 7], qty=[1, 1, 1])
    assert v.flush() == 3 and v.flushes == 1
    assert list(v.source.data["px"]) == [5, 6, 7]
    assert v.flush() == 0
    with pytest.raises(ValueError, match="columns"):
        v.set(px=[1])
    with pytest.raises(ValueError, match="lengths"):
        v.set(px=[1, 2], qty=[1])


def test_throttle_coalesces_a_fast_feed_to_the_ui_rate():
    flushed: list[float] = []

    async def main() -> UiThrottle:
        loop = asyncio.get_running_loop()
        th = UiThrottle(lambda: flushed.append(loop.time()), rate_hz=10)
        t_end = loop.time() + 1.0
        while loop.time() < t_end:  # a 1 kHz "feed" for one second
            th.request()
            await asyncio.sleep(0.001)
        await asyncio.sleep(0.15)  # let the last scheduled flush run
        th.close()
        return th

    th = asyncio.run(main())
    assert th.requests > 300
    # at most rate_hz * duration (+ the first immediate one and the trailing one)
    assert 5 <= th.flushes <= 13
    gaps = np.diff(flushed)
    assert gaps.min() >= 0.09  # never faster than the rate (loop timer resolution aside)
    assert th.flush_ns_total > 0 and th.errors == 0


def test_throttle_survives_a_failing_flush_and_close_cancels():
    calls = []

    def bad() -> None:
        calls.append(1)
        raise RuntimeError("boom")

    async def main() -> UiThrottle:
        th = UiThrottle(bad, rate_hz=50)
        th.request()
        await asyncio.sleep(0.05)
        th.request()
        th.close()  # the second, scheduled flush never runs
        await asyncio.sleep(0.05)
        th.request()
        return th

    th = asyncio.run(main())
    assert calls == [1] and th.errors == 1 and th.flushes == 1


def test_throttle_rate_is_validated():
    with pytest.raises(ValueError, match="rate_hz"):
        UiThrottle(lambda: None, rate_hz=0)


def test_bokeh_widget_drops_only_the_echoes_of_our_own_data_updates():
    from bokeh.plotting import figure

    from tradesim_nb.nb.stream import bokeh_widget

    v = StreamView(["t", "y"], rollover=10)
    f = figure()
    f.line("t", "y", source=v.source)
    w = bokeh_widget(f)
    v.append(t=1, y=2)
    v.flush()
    echo = {"event": "jsevent", "kind": "ColumnsStreamed", "model": {"id": v.source.id},
            "attr": "data", "data": {"type": "map", "entries": [["t", [1]], ["y", [2]]]},
            "rollover": 10}
    w._sync_model(w, dict(echo), [])
    w._sync_model(w, {"event": "jsevent", "kind": "ModelChanged", "model": {"id": v.source.id},
                      "attr": "data", "new": {}}, [])
    assert w.echoes_dropped == 2
    assert list(v.source.data["t"]) == [1]  # no duplicated row
    # other events still reach bokeh: a range change from the browser is applied
    w._sync_model(w, {"event": "jsevent", "kind": "ModelChanged",
                      "model": {"id": f.x_range.id}, "attr": "start", "new": 5.0}, [])
    assert f.x_range.start == 5.0 and w.echoes_dropped == 2


def test_a_view_that_appears_after_a_change_gets_the_current_document():
    """jupyter_bokeh sends changes as patches that only an existing view applies; a view
    created later is built from ``render_bundle``, which must then hold the current data."""
    from bokeh.models import ColumnDataSource
    from bokeh.plotting import figure

    from tradesim_nb.nb.stream import bokeh_widget

    src = ColumnDataSource({"t": [], "y": []})
    f = figure()
    f.line("t", "y", source=src)
    w = bokeh_widget(f)
    assert w._view_count == 0  # counted: the front end reports each view it displays
    src.data = {"t": [1.5, 2.5], "y": [3.25, 4.75]}  # no view yet: the patch reaches nobody
    assert bundled_data(w, src)["y"] == []
    w._view_count = 1  # as the front end reports its first view
    assert bundled_data(w, src) == {"t": [1.5, 2.5], "y": [3.25, 4.75]} and w.resends == 1
    w._view_count = 2  # a second view, nothing changed since: nothing re-sent
    assert w.resends == 1
    src.data = {"t": [1.0], "y": [9.0]}
    w._view_count = 1  # a view removed: nothing to send
    assert w.resends == 1
    w._view_count = 2
    assert bundled_data(w, src) == {"t": [1.0], "y": [9.0]} and w.resends == 2
