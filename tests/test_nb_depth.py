"""Depth arrays and the book replay dashboard on the real OKX recording (no browser)."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from tradesim_nb.book import book_from_levels
from tradesim_nb.datasets import okx_books_file
from tradesim_nb.nb import BookReplay, DepthView, cumulative_depth
from tradesim_nb.nb.depth import step_points


def test_cumulative_depth_is_best_first_and_monotone():
    book = book_from_levels([(99.0, 1.0), (98.0, 2.0), (97.0, 3.0)],
                            [(101.0, 0.5), (102.0, 1.5)])
    d = cumulative_depth(book, levels=2)
    np.testing.assert_array_equal(d["bid_px"], [99.0, 98.0])
    np.testing.assert_array_equal(d["bid_cum"], [1.0, 3.0])
    np.testing.assert_array_equal(d["ask_cum"], [0.5, 2.0])
    with pytest.raises(ValueError, match="levels"):
        cumulative_depth(book, 0)


def test_step_points_draw_the_staircase():
    x, y = step_points(np.array([101.0, 102.0, 104.0]), np.array([0.5, 2.0, 3.0]))
    np.testing.assert_array_equal(x, [101, 102, 102, 104, 104])
    np.testing.assert_array_equal(y, [0.5, 0.5, 2.0, 2.0, 3.0])
    e = step_points(np.empty(0), np.empty(0))
    assert e[0].size == 0
    with pytest.raises(ValueError, match="shape"):
        step_points(np.ones(2), np.ones(3))


def test_depth_view_sends_the_staircase_of_each_side():
    book = book_from_levels([(99.0, 1.0), (98.0, 2.0)], [(101.0, 0.5), (102.0, 1.5)])
    v = DepthView(levels=5)
    v.update(book)
    v.flush()
    d = v.view.source.data
    assert list(d["bx"]) == [99.0, 98.0, 98.0]
    assert list(d["by"]) == [1.0, 1.0, 3.0]
    assert list(d["ax"]) == [101.0, 102.0, 102.0]
    assert list(d["ay"]) == [0.5, 0.5, 2.0]
    # a shorter side is padded with its last corner so both share one source
    v.update(book_from_levels([(99.0, 1.0)], [(101.0, 0.5), (102.0, 1.5), (103.0, 1.0)]))
    v.flush()
    d = v.view.source.data
    assert list(d["bx"]) == [99.0] * 5 and list(d["ay"]) == [0.5, 0.5, 2.0, 2.0, 3.0]


def test_book_replay_reproduces_every_okx_checksum_and_throttles_the_ui():
    r = BookReplay("okx", okx_books_file(), "BTC-USDT", speed=None, chunk=50)
    s = asyncio.run(r.run())
    st = s["instruments"]["BTC-USDT"]
    assert st["checksum_ok"] > 50 and st["checksum_failed"] == 0
    assert r.book_updates == st["snapshots"] + st["deltas"]
    # the timeline buffer holds one point per valid book update, the plot got them batched
    assert r.top.buffer.total == r.book_updates
    assert r.throttle.flushes < r.book_updates
    assert r.top.rows_sent == r.book_updates
    assert s["replay"]["frames"] == r.frames > r.book_updates
    assert "done" in r.status.value


def test_book_replay_validates_speed():
    with pytest.raises(ValueError, match="speed"):
        BookReplay("okx", okx_books_file(), "BTC-USDT", speed=0)
