"""Notebook 06 in Voila, in headless Chromium: every figure draws (coloured pixels in the plot
area, axis tick labels), on load, after a slider moves and after the replay button."""

from __future__ import annotations

import io
import re
import time

import numpy as np
import pytest
from PIL import Image

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _plot_boxes(page) -> list[dict]:
    """One box per plot (BokehJS stacks several canvas layers on each plot's area)."""
    canvases = page.locator("canvas")
    out: dict[tuple[int, int], dict] = {}
    for i in range(canvases.count()):
        b = canvases.nth(i).bounding_box()
        if b and b["width"] > 300 and b["height"] > 200:
            out.setdefault((round(b["x"]), round(b["y"])), b)
    return sorted(out.values(), key=lambda b: (round(b["y"]), round(b["x"])))


def _drawn(page, box: dict) -> tuple[int, int, np.ndarray]:
    """(coloured pixels inside the plot area, dark pixels in the y-axis strip, the image)."""
    img = np.asarray(Image.open(io.BytesIO(page.screenshot(clip=box))).convert("RGB"), int)
    h, w, _ = img.shape
    inner = img[int(0.15 * h):int(0.85 * h), int(0.15 * w):int(0.95 * w)]
    sat = inner.max(axis=-1) - inner.min(axis=-1)
    coloured = int((sat > 60).sum())
    strip = img[int(0.15 * h):int(0.8 * h), : int(0.12 * w)]
    dark = int((strip.max(axis=-1) < 120).sum())  # tick labels and the axis line
    return coloured, dark, img


def _first_number(text: str) -> float:
    m = re.search(r"-?\d+\.\d+", text)
    assert m, text
    return float(m.group(0))


def test_transient_explorer_draws_and_reacts(voila, page, screenshot):
    srv = voila("06_beyond_almgren_chriss.ipynb")
    page.set_viewport_size({"width": 1700, "height": 2400})
    page.goto(srv.url, timeout=180_000)
    table = page.locator(".ts-tr-numbers .ts-tr-table")
    table.wait_for(state="visible", timeout=180_000)
    status = page.locator(".ts-tr-replay-status")
    status.wait_for(state="visible", timeout=60_000)
    page.locator("canvas").first.wait_for(state="visible", timeout=60_000)
    time.sleep(1.5)  # let BokehJS finish its first paint
    boxes = _plot_boxes(page)
    assert len(boxes) == 4, boxes  # holdings, children, cost-risk, replay
    screenshot(page, "06_load")
    before = []
    for i, b in enumerate(boxes):
        coloured, dark, img = _drawn(page, b)
        assert coloured > 1000, f"figure {i} looks blank on load: {coloured} coloured pixels"
        assert dark > 40, f"figure {i} has no axis tick labels on load ({dark} dark pixels)"
        before.append(img)
    assert page.locator(".noUi-handle").count() >= 7  # the seven sliders

    e_ac = page.locator(".ts-tr-table td.ts-E-AC").nth(2)  # the AC optimum's row
    e0 = _first_number(e_ac.inner_text())
    handle = page.locator(".ts-tr-risk_aversion .noUi-handle")
    handle.focus()
    for _ in range(10):
        handle.press("ArrowRight")  # lambda up by 10**0.5
    t_end = time.monotonic() + 30
    e1 = e0
    while time.monotonic() < t_end:
        e1 = _first_number(e_ac.inner_text())
        if e1 != e0:
            break
        time.sleep(0.25)
    assert e1 > e0, (e0, e1)  # more risk averse: the AC optimum trades faster and pays more
    time.sleep(1.0)
    screenshot(page, "06_slider")
    boxes = _plot_boxes(page)
    changed = 0
    for i, b in enumerate(boxes):
        coloured, dark, img = _drawn(page, b)
        assert coloured > 1000, f"figure {i} blank after the slider: {coloured} coloured pixels"
        assert dark > 40, f"figure {i} lost its tick labels after the slider ({dark})"
        changed += i < len(before) and img.shape == before[i].shape and bool(
            np.any(img != before[i]))
    assert changed >= 3, f"only {changed} figures redrew after the slider"

    s0 = status.inner_text()
    page.locator(".ts-tr-replay-button button, button.ts-tr-replay-button").first.click()
    t_end = time.monotonic() + 60
    while time.monotonic() < t_end and status.count() and status.inner_text() == s0:
        time.sleep(0.25)
    page.locator(".ts-tr-replay-status").wait_for(state="visible", timeout=60_000)
    time.sleep(1.0)
    screenshot(page, "06_replay")
    boxes = _plot_boxes(page)
    coloured, dark, img = _drawn(page, boxes[-1])
    assert coloured > 1000 and dark > 40, (coloured, dark)
    assert "22 start times" in page.locator(".ts-tr-replay-status").inner_text()
    assert not page.js_errors, page.js_errors
