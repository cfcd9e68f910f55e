"""Helpers shared by the dashboard tests (no browser)."""

from __future__ import annotations

from typing import Any


def bundled_data(widget: Any, source: Any) -> dict[str, list[Any]]:
    """The data of ``source`` as a ``bokeh_widget``'s ``render_bundle`` gives a new view."""
    from bokeh.document import Document

    (doc_json,) = widget.render_bundle["docs_json"].values()
    doc = Document.from_json(doc_json)
    return {k: list(v) for k, v in doc.get_model_by_id(source.id).data.items()}
