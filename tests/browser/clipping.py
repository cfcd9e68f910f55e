"""Is every input's value fully visible? (a layout check for the dashboards' inputs column)

For each input inside a container (dropdowns, text boxes, slider readouts, labels, buttons):

* text cut by its own box: ``scrollWidth > clientWidth`` (slider readouts and labels hide
  their overflow or end it with an ellipsis); for a ``<select>``, whose ``scrollWidth`` says
  nothing about the chosen option, the option's text measured in the select's own font
  (``CanvasRenderingContext2D.measureText``) against its inner width;
* a box cut by its container: the element's bounding box must lie within the container's
  and within the window, and the container must not overflow itself.
"""

from __future__ import annotations

from typing import Any

_CLIP_JS = """
(selector) => {
  const root = document.querySelector(selector);
  if (!root) return {error: `no element matches ${selector}`};
  const rr = root.getBoundingClientRect();
  const out = {checked: 0, problems: [], box: [rr.left, rr.top, rr.width, rr.height]};
  if (root.scrollWidth > root.clientWidth + 1)
    out.problems.push(`${selector} overflows: scrollWidth ${root.scrollWidth} > clientWidth ${root.clientWidth}`);
  if (rr.right > window.innerWidth + 1)
    out.problems.push(`${selector} ends at ${rr.right} px, past the window (${window.innerWidth} px)`);
  const ctx = document.createElement("canvas").getContext("2d");
  const sel = "select, input[type=text], input[type=number], .widget-readout, " +
              ".widget-label, .widget-label-basic, label, button";
  for (const el of root.querySelectorAll(sel)) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;  // not displayed
    out.checked += 1;
    let text = el.innerText || el.value || "";
    let what = `${el.tagName.toLowerCase()}.${[...el.classList].join(".")} "${text.trim()}"`;
    if (el.tagName === "SELECT") {
      const cs = getComputedStyle(el);
      ctx.font = cs.font;
      text = el.selectedIndex >= 0 ? el.options[el.selectedIndex].text : "";
      what = `select "${text}"`;
      const room = el.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
      const need = ctx.measureText(text).width;
      if (need > room + 0.5) out.problems.push(`${what}: text ${need.toFixed(1)} px in ${room.toFixed(1)} px`);
    } else if (el.scrollWidth > el.clientWidth + 1) {
      out.problems.push(`${what}: scrollWidth ${el.scrollWidth} > clientWidth ${el.clientWidth}`);
    }
    if (r.left < rr.left - 1 || r.right > rr.right + 1)
      out.problems.push(`${what}: box ${r.left.toFixed(0)}-${r.right.toFixed(0)} px outside its column ${rr.left.toFixed(0)}-${rr.right.toFixed(0)} px`);
    if (r.right > window.innerWidth + 1)
      out.problems.push(`${what}: ends at ${r.right.toFixed(0)} px, past the window`);
  }
  return out;
}
"""


def clipped_inputs(page: Any, selector: str) -> dict[str, Any]:
    """``{"checked": n, "problems": [...], "box": [x, y, w, h]}`` for the inputs under
    ``selector`` (every problem names the element, its text and what cut it)."""
    res: dict[str, Any] = page.evaluate(_CLIP_JS, selector)
    if "error" in res:
        raise AssertionError(res["error"])
    return res


def boxes_overlap(page: Any, a: str, b: str) -> bool:
    """Whether the boxes of the first elements matching ``a`` and ``b`` overlap."""
    return bool(page.evaluate(
        """([a, b]) => {
             const ra = document.querySelector(a).getBoundingClientRect();
             const rb = document.querySelector(b).getBoundingClientRect();
             return ra.left < rb.right - 1 && rb.left < ra.right - 1
                 && ra.top < rb.bottom - 1 && rb.top < ra.bottom - 1;
           }""", [a, b]))
