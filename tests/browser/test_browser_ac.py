"""Notebook 02 in Voila, in headless Chromium: plots render, a slider changes the numbers."""

from __future__ import annotations

import re
import time

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _money(text: str) -> float:
    m = re.search(r"\$([\d,]+)", text)
    assert m, text
    return float(m.group(1).replace(",", ""))


def test_ac_explorer_renders_and_a_slider_moves_the_numbers(voila, page, screenshot):
    srv = voila("02_almgren_chriss_explorer.ipynb")
    page.goto(srv.url, timeout=90_000)
    numbers = page.locator(".ts-ac-numbers .ts-E")
    numbers.wait_for(state="visible", timeout=90_000)
    # Bokeh draws in canvases inside shadow DOM; Playwright locators pierce it
    canvas = page.locator("canvas")
    canvas.first.wait_for(state="visible", timeout=30_000)
    assert canvas.count() >= 3  # holdings, trade list, frontier
    box = canvas.first.bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 100
    assert page.locator(".noUi-handle").count() >= 8  # the eight parameter sliders
    e0 = _money(numbers.inner_text())
    std0 = _money(page.locator(".ts-ac-numbers .ts-std").inner_text())
    screenshot(page, "02_before")

    handle = page.locator(".ts-ac-risk_aversion .noUi-handle")
    handle.focus()
    for _ in range(5):
        handle.press("ArrowRight")  # lambda up by 10**0.5
    t_end = time.monotonic() + 20
    e1 = e0
    while time.monotonic() < t_end:
        e1 = _money(numbers.inner_text())
        if e1 != e0:
            break
        time.sleep(0.2)
    std1 = _money(page.locator(".ts-ac-numbers .ts-std").inner_text())
    screenshot(page, "02_after")
    # more risk aversion: a faster, dearer and less risky schedule
    assert e1 > e0, (e0, e1)
    assert std1 < std0, (std0, std1)
    assert not page.js_errors, page.js_errors
