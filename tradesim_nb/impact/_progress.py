"""A tqdm bar that is off unless asked for (the fits' ``progress=`` argument)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def progress(it: Iterable[Any], on: bool, desc: str, total: int | None = None) -> Iterable[Any]:
    """``it`` wrapped in a :func:`tqdm.auto.tqdm` bar when ``on``, else as it is."""
    if not on:
        return it
    from tqdm.auto import tqdm

    return tqdm(it, desc=desc, total=total, leave=False)
