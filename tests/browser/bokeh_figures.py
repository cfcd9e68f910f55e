"""Did every Bokeh figure on the page draw, as a person sees it? One implementation for all
the notebook tests.

A figure that BokehJS could not lay out (empty sources: ``DataRange1d`` of NaN, "could not
set initial ranges") still shows its frame, title and legend, but no axes and no glyphs; its
``ColumnDataSource`` may even hold finite numbers on the kernel side. So the checks here look
at what is on screen, in two ways:

* **BokehJS's own view of the figure** (``page.evaluate``): every Figure view reachable from
  ``Bokeh.index.roots``, its title, its inner frame (``frame.bbox``), its legends' boxes and,
  for each axis, the major ticks and the text of the labels BokehJS computed for them.
* **Pixels** of a screenshot of the figure's element (scrolled into view, then
  ``page.screenshot(clip=...)``; retaken if BokehJS's layout moved during the shot):
  - *ink*: pixels inside the inner frame (inset by 3 px, the legends masked out) that are
    neither the white background nor the light grey of the grid lines. A drawn line gives
    thousands; a blank plot gives 0 (and a legend alone would give a few dozen, but legends
    are masked).
  - *tick-label pixels*: dark pixels (text, all channels < 150) in the band just outside the
    frame where each axis draws its tick labels (below: rows 8-26 px under the frame; left:
    the 12 px ending 8 px left of the frame, where right-aligned labels end). The axis line
    and tick marks lie inside the first 8 px, the axis title further out.
  - *colour pixels*: pixels that show a given glyph colour over white, at its alpha or
    anti-aliased (e.g. the optimal schedule's blue line); see :func:`colour_count`.

:func:`wait_drawn` polls until every figure passes (BokehJS may re-render once after a view
appears) and saves each figure's screenshot as
``artifacts/figures/<notebook>/<figure>-<state>.png``.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
FIGURES = REPO / "artifacts" / "figures"

#: inset of the inner frame (its outline and the axis lines lie on the edge)
INSET = 3
#: a pixel is "ink" unless it is white-ish or light grid grey
WHITE_MIN = 246
GRID_LO, GRID_HI, GREY_CHROMA = 210, 246, 10
#: text of tick labels is #444444, anti-aliased
DARK_MAX = 150

_FIGURES_JS = """
(scroll_to) => {
  if (typeof Bokeh === "undefined" || !Bokeh.index) return null;
  const figs = [];
  const seen = new Set();
  const walk = (v) => {
    if (v == null || seen.has(v)) return;
    seen.add(v);
    if (v.model.type === "Figure") figs.push(v);
    for (const c of (v.child_views ?? [])) walk(c);
  };
  for (const r of Bokeh.index.roots) walk(r);
  const live = figs.filter((f) => {
    if (!f.el.isConnected) return false;
    const r = f.el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  });
  live.sort((a, b) => {
    const ra = a.el.getBoundingClientRect(), rb = b.el.getBoundingClientRect();
    return (ra.top - rb.top) || (ra.left - rb.left);
  });
  window.__tsFigures = live;
  if (scroll_to !== null && live[scroll_to]) live[scroll_to].el.scrollIntoView({block: "center"});
  const box = (b) => (b ? [b.left, b.top, b.width, b.height] : null);
  return live.map((f, i) => {
    const r = f.el.getBoundingClientRect();
    const axes = f.axis_views.map((a) => {
      let ticks = [];
      let labels = [];
      try {
        ticks = a.tick_coords.major[a.dimension];
        labels = a.compute_labels(ticks).items.map((t) => String(t.text));
      } catch (e) { labels = []; }
      return {side: a.panel ? a.panel.side : (a.dimension === 0 ? "below" : "left"),
              visible: a.model.visible, n_ticks: ticks.length, labels, box: box(a.bbox)};
    });
    const legends = [...f.renderer_views.values()]
      .filter((rv) => rv.model.type === "Legend" && rv.model.visible)
      .map((rv) => box(rv.bbox)).filter((b) => b !== null);
    const xr = f.frame.x_range, yr = f.frame.y_range;
    return {index: i, title: (f.model.title && f.model.title.text) || `figure ${i}`,
            el: [r.left, r.top, r.width, r.height], frame: box(f.frame.bbox), axes, legends,
            x_range: [xr.start, xr.end], y_range: [yr.start, yr.end]};
  });
}
"""


def slug(title: str) -> str:
    """A file name for a figure title: ``"Holdings x(t)"`` -> ``"holdings-x-t"``."""
    s = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return s[:60] or "figure"


@dataclass
class Drawn:
    """What one figure showed at one moment."""

    title: str
    key: str
    image: np.ndarray  # RGB of the figure's element
    frame: tuple[int, int, int, int]  # inner frame in the image: left, top, width, height
    ink: int
    tick_label_pixels: dict[str, int]
    tick_labels: dict[str, list[str]]
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    path: Path | None = None
    colour_pixels: dict[str, int] = field(default_factory=dict)

    def frame_pixels(self) -> np.ndarray:
        left, top, w, h = self.frame
        return self.image[top + INSET:top + h - INSET, left + INSET:left + w - INSET]

    def problems(self, min_ink: int, min_label_pixels: int) -> list[str]:
        out = []
        if self.ink < min_ink:
            out.append(f"ink {self.ink} < {min_ink} pixels inside the frame")
        for side, labels in self.tick_labels.items():
            shown = [t for t in labels if t.strip() and t.strip().lower() != "nan"]
            if len(shown) < 2:
                out.append(f"{side} axis: tick labels {labels!r}")
            px = self.tick_label_pixels.get(side, 0)
            if px < min_label_pixels:
                out.append(f"{side} axis: {px} < {min_label_pixels} text pixels by the ticks")
        if not self.tick_labels:
            out.append("no axis")
        return out


def figure_infos(page: Any, scroll_to: int | None = None) -> list[dict[str, Any]]:
    """BokehJS's view of every figure on the page, top to bottom (``[]`` before BokehJS)."""
    infos = page.evaluate(_FIGURES_JS, scroll_to)
    return list(infos or [])


def _rgb(hex_colour: str) -> np.ndarray:
    h = hex_colour.lstrip("#")
    return np.array([int(h[i:i + 2], 16) for i in (0, 2, 4)], dtype=float)


def colour_count(pixels: np.ndarray, hex_colour: str, alpha: float = 1.0,
                 tol: float = 24.0) -> int:
    """Pixels that show ``hex_colour`` over white at an opacity of at least ``0.35 * alpha``.

    A pixel ``p`` shows colour ``c`` at opacity ``a`` when ``p = a c + (1 - a) 255`` in every
    channel (within ``tol``): so the anti-aliased edges of a thin line count as its colour,
    and a fill drawn at ``alpha`` 0.25 counts, while greys, text and other hues do not.
    """
    p = pixels.reshape(-1, 3).astype(float)
    c = _rgb(hex_colour)
    room = 255.0 - c
    useful = room >= 30.0  # channels where the colour differs from white enough to tell
    if not useful.any():
        raise ValueError(f"{hex_colour} is too close to white to be counted")
    a = ((255.0 - p[:, useful]) / room[useful]).mean(axis=1)
    pred = a[:, None] * c + (1.0 - a[:, None]) * 255.0
    ok = np.all(np.abs(p - pred) <= tol, axis=1) & (a >= 0.35 * alpha) & (a <= 1.1)
    return int(ok.sum())


def ink_count(pixels: np.ndarray) -> int:
    """Pixels that are neither background white nor the light grey of grid lines."""
    p = pixels.astype(int)
    lo, hi = p.min(axis=-1), p.max(axis=-1)
    white = lo >= WHITE_MIN
    grid = (hi - lo <= GREY_CHROMA) & (lo >= GRID_LO) & (hi <= GRID_HI)
    return int((~white & ~grid).sum())


def _capture(page: Any, index: int, tries: int = 6) -> tuple[dict[str, Any], np.ndarray]:
    """Scroll figure ``index`` into view and screenshot its element; BokehJS's view of it
    before and after the shot must agree (a page whose numbers re-wrap moves its plots, and a
    streaming plot re-lays out its frame when its tick labels widen), else shoot again."""
    info: dict[str, Any] = {}
    for _ in range(tries):
        info = figure_infos(page, scroll_to=index)[index]
        x, y, w, h = info["el"]
        png = page.screenshot(clip={"x": x, "y": y, "width": w, "height": h},
                              animations="disabled")
        after = figure_infos(page)[index]
        if after["el"] == info["el"] and after["frame"] == info["frame"]:
            break
    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    return info, img


def _measure(page: Any, index: int, key: str,
             colours: Mapping[str, tuple[str, float]] | None) -> Drawn:
    info, img = _capture(page, index)
    # the element's screenshot is in CSS pixels (device scale 1); the frame is relative to it
    fl, ft, fw, fh = (round(v) for v in info["frame"])
    fl, ft = max(fl, 0), max(ft, 0)
    fw, fh = min(fw, img.shape[1] - fl), min(fh, img.shape[0] - ft)
    inner = img[ft + INSET:ft + fh - INSET, fl + INSET:fl + fw - INSET].copy()
    mask = np.ones(inner.shape[:2], dtype=bool)
    for lx, ly, lw, lh in info["legends"]:
        x0, y0 = int(lx) - fl - INSET - 2, int(ly) - ft - INSET - 2
        mask[max(y0, 0):max(y0 + int(lh) + 5, 0), max(x0, 0):max(x0 + int(lw) + 5, 0)] = False
    visible = inner[mask]
    ink = ink_count(visible)
    cpx = {name: colour_count(visible, c, a) for name, (c, a) in (colours or {}).items()}
    dark = np.all(img < DARK_MAX, axis=-1)
    label_px: dict[str, int] = {}
    labels: dict[str, list[str]] = {}
    for ax in info["axes"]:
        if not ax["visible"]:
            continue
        side = ax["side"]
        if side == "below":
            band = dark[ft + fh + 8:ft + fh + 26, fl:fl + fw]
        elif side == "above":
            band = dark[max(ft - 26, 0):max(ft - 8, 0), fl:fl + fw]
        elif side == "left":
            band = dark[ft:ft + fh, max(fl - 20, 0):max(fl - 8, 0)]
        else:  # right
            band = dark[ft:ft + fh, fl + fw + 8:fl + fw + 20]
        name = "x" if side in ("below", "above") else "y"
        label_px[name] = label_px.get(name, 0) + int(band.sum())
        labels[name] = labels.get(name, []) + list(ax["labels"])
    return Drawn(title=info["title"], key=key, image=img, frame=(fl, ft, fw, fh), ink=ink,
                 tick_label_pixels=label_px, tick_labels=labels,
                 x_range=tuple(info["x_range"]), y_range=tuple(info["y_range"]),
                 colour_pixels=cpx)


def measure_all(page: Any,
                colours: Mapping[str, Mapping[str, tuple[str, float]]] | None = None
                ) -> dict[str, Drawn]:
    """Measure every figure on the page; keys are title slugs (``-2``, ``-3`` for repeats)."""
    keys = _keys(figure_infos(page))
    return {key: _measure(page, i, key, (colours or {}).get(key)) for i, key in enumerate(keys)}


def _keys(infos: list[dict[str, Any]]) -> list[str]:
    """Title slugs, with ``-2``, ``-3`` for repeated titles, in page order."""
    keys: list[str] = []
    for info in infos:
        key, n = slug(info["title"]), 2
        while key in keys:
            key, n = f"{slug(info['title'])}-{n}", n + 1
        keys.append(key)
    return keys


def changed_pixels(a: Drawn, b: Drawn, tol: int = 30) -> int:
    """Pixels of the inner frame that differ by more than ``tol`` in a channel.

    A frame that changed size (wider tick labels narrow it) counts as changed everywhere;
    tests that need a stable size assert it with :func:`resized`.
    """
    pa, pb = a.frame_pixels(), b.frame_pixels()
    if pa.shape != pb.shape:
        return int(max(pa.shape[0] * pa.shape[1], pb.shape[0] * pb.shape[1]))
    return int(np.any(np.abs(pa.astype(int) - pb.astype(int)) > tol, axis=-1).sum())


def resized(a: Mapping[str, Drawn], b: Mapping[str, Drawn]) -> dict[str, tuple[Any, Any]]:
    """Figures whose element changed size between two measurements: key -> (before, after)."""
    return {k: (a[k].image.shape[:2], b[k].image.shape[:2]) for k in a
            if k in b and a[k].image.shape != b[k].image.shape}


def _save(notebook: str, state: str, drawn: Mapping[str, Drawn]) -> None:
    d = FIGURES / notebook
    d.mkdir(parents=True, exist_ok=True)
    for key, dr in drawn.items():
        dr.path = d / f"{key}-{state}.png"
        Image.fromarray(dr.image).save(dr.path)


def wait_drawn(page: Any, notebook: str, state: str, *, expect: Iterable[str],
               min_ink: int | Mapping[str, int] = 1500, min_label_pixels: int = 30,
               colours: Mapping[str, Mapping[str, tuple[str, float]]] | None = None,
               min_colour: int | Mapping[str, Mapping[str, int]] = 300,
               changed_from: Mapping[str, Drawn] | None = None,
               must_change: Iterable[str] = (), min_changed: int | Mapping[str, int] = 300,
               timeout_s: float = 30.0) -> dict[str, Drawn]:
    """Poll until every figure of ``expect`` (title slugs; exactly these, no other) drew.

    Drew means: ``ink >= min_ink`` (per figure if a mapping), on every visible axis at least
    two non-empty tick labels from BokehJS and ``min_label_pixels`` dark pixels where they are
    drawn, each colour of ``colours[figure]`` (name -> (hex, alpha)) on at least
    ``min_colour`` pixels, and each figure of ``must_change`` with ``min_changed`` pixels of its
    frame different from ``changed_from``. Saves every figure's screenshot (the last attempt's)
    under ``artifacts/figures/<notebook>/`` and fails with every problem found.
    """
    import pytest

    expect = list(expect)
    must_change = list(must_change)
    t_end = time.monotonic() + timeout_s
    drawn: dict[str, Drawn] = {}
    problems: list[str] = ["no figure measured"]
    while True:
        try:
            drawn = measure_all(page, colours)
        except Exception as e:  # a view re-rendering under us: measure again
            problems = [f"measuring failed: {e!r}"]
        else:
            problems = []
            if sorted(drawn) != sorted(expect):
                problems.append(f"figures on the page {sorted(drawn)} != expected {sorted(expect)}")
            for key, dr in drawn.items():
                need = min_ink[key] if isinstance(min_ink, Mapping) else min_ink
                problems += [f"{key}: {p}" for p in dr.problems(need, min_label_pixels)]
                for cname, n in dr.colour_pixels.items():
                    want = (min_colour[key][cname] if isinstance(min_colour, Mapping)
                            else min_colour)
                    if n < want:
                        problems.append(f"{key}: {n} < {want} pixels of {cname}")
            for key in must_change:
                if changed_from is None or key not in changed_from or key not in drawn:
                    problems.append(f"{key}: nothing to compare with")
                    continue
                n = changed_pixels(changed_from[key], drawn[key])
                least = (min_changed.get(key, 300) if isinstance(min_changed, Mapping)
                         else min_changed)
                if n < least:
                    problems.append(f"{key}: only {n} < {least} pixels changed")
        if not problems or time.monotonic() > t_end:
            break
        time.sleep(0.5)
    _save(notebook, state, drawn)
    summary = {k: (d.ink, d.tick_label_pixels, d.colour_pixels) for k, d in drawn.items()}
    changed = {k: changed_pixels(changed_from[k], drawn[k]) for k in drawn
               if changed_from is not None and k in changed_from}
    print(f"{notebook} {state} after {timeout_s - (t_end - time.monotonic()):.1f} s: "
          f"(ink, tick-label pixels, colour pixels) {summary}; changed pixels {changed}")
    if problems:
        pytest.fail(f"{notebook} ({state}): " + "; ".join(problems)
                    + f"\n(ink, tick-label pixels, colour pixels) per figure: {summary}"
                    + f"\nscreenshots in {FIGURES / notebook}")
    return drawn


def pan(page: Any, key: str, dx: float, dy: float = 0.0) -> None:
    """Drag inside a figure's frame (the pan tool, active by default) by ``dx, dy`` px."""
    i = _keys(figure_infos(page)).index(key)
    info = figure_infos(page, scroll_to=i)[i]  # scrolled into view: viewport coordinates
    left, top = info["el"][0] + info["frame"][0], info["el"][1] + info["frame"][1]
    x0, y0 = left + info["frame"][2] / 2, top + info["frame"][3] / 2
    page.mouse.move(x0, y0)
    page.mouse.down()
    for k in range(1, 11):
        page.mouse.move(x0 + dx * k / 10, y0 + dy * k / 10)
    page.mouse.up()
