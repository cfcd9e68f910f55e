"""Notebook 00 in Voila, in headless Chromium: both real recordings replay into depth charts."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
from PIL import Image

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_order_book_replays_render_and_finish(voila, page, screenshot):
    srv = voila("00_order_book.ipynb")
    page.set_viewport_size({"width": 1400, "height": 2400})
    page.goto(srv.url, timeout=120_000)
    status = page.locator(".ts-replay-status")
    status.first.wait_for(state="visible", timeout=120_000)
    t_end = time.monotonic() + 60
    while time.monotonic() < t_end:
        texts = status.all_inner_texts()
        if len(texts) == 2 and all("done" in t for t in texts):
            break
        time.sleep(0.5)
    texts = status.all_inner_texts()
    screenshot(page, "00_done")
    assert len(texts) == 2 and all("done" in t for t in texts), texts
    okx, binance = texts
    assert "checksums ok" in okx and "failed 0" in okx, okx
    assert "book not valid" not in okx and "book not valid" not in binance
    # each replay draws a depth chart and a top-of-book timeline, with the replayed data:
    # the bids' fill (#2ca02c at alpha 0.25 on white, about (202, 231, 202)) must be there
    canvases = page.locator("canvas")
    assert canvases.count() >= 4
    box = canvases.first.bounding_box()
    assert box is not None
    img = np.asarray(Image.open(io.BytesIO(page.screenshot(clip=box))).convert("RGB"), int)
    fill = np.all(np.abs(img - np.array([202, 231, 202])) <= 8, axis=-1).sum()
    assert fill > 2000, f"the OKX depth chart looks empty ({fill} pixels of bid fill)"
    # the page stays responsive (an empty varea_step once froze BokehJS here)
    assert page.evaluate("1 + 1") == 2
    assert not page.js_errors, page.js_errors
