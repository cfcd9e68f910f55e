"""An L2 price-level order book for one instrument, and walk-the-book fills.

Prices are keyed by integer ticks (``round(price * price_scale)``), never by floats; each
level keeps the venue's exact price and size strings so venue checksums can be reproduced.
Every price must be a finite number > 0 and every size a finite number >= 0, and a side holds
at most ``max_levels`` levels: a snapshot or delta that breaks either rule is refused whole
(:class:`BookInputError`, a ``ValueError``) and the book stays as it was.

:class:`OrderBook` is compiled (``tradesim_nb._book_c``, Cython, built from source by
``pip install``): each side is a sorted array of integer keys, best level last, whose numbers
are parsed from the venue's strings in C. Where the extension is missing (a checkout that was
not installed) the pure-Python twin of :mod:`tradesim_nb._book_py` is used instead, with a
:class:`RuntimeWarning` that says so; both give the same results.

The fast entries for venue parsers are :meth:`OrderBook.apply_delta` and
:meth:`OrderBook.apply_snapshot` called with the ``[[price_str, size_str, ...], ...]`` lists
exactly as ``orjson.loads`` returns them: parsing, validation and tick keys happen inside.
A long frame's level arrays need not become Python lists at all: :func:`scan_levels` cuts them
out of its text (``orjson`` reads the few other fields) as :class:`RawLevels`, sequences of
offsets into the frame's bytes that the compiled book applies in place, making strings only
for the levels it keeps (the twin has no scanner: ``scan_levels`` is None there).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ._book_py import (
    DEFAULT_MAX_LEVELS,
    ArraysApplied,
    BookInputError,
    BookSide,
    Fill,
    InvalidLevelError,
    LevelCapError,
    OrderSide,
)
from .instruments import Instrument

__all__ = [
    "COMPILED",
    "DEFAULT_MAX_LEVELS",
    "ArraysApplied",
    "BookInputError",
    "BookSide",
    "Fill",
    "InvalidLevelError",
    "LevelCapError",
    "OrderBook",
    "OrderSide",
    "RawLevels",
    "book_from_levels",
    "new_frozen",
    "scan_levels",
    "string_pairs",
]

if TYPE_CHECKING:
    from ._book_py import OrderBook, new_frozen, string_pairs

    #: whether :class:`OrderBook` is the compiled book
    COMPILED: bool
    #: the compiled book's in-place level arrays and their scanner (None with the twin)
    RawLevels: type | None
    scan_levels: Callable[[str | bytes, tuple[str, ...]],
                          tuple[str | bytes, tuple[Any, ...]] | None] | None
else:
    try:
        from ._book_c import OrderBook, RawLevels, new_frozen, scan_levels, string_pairs
    except ImportError as e:  # an uninstalled checkout, or a build without a C compiler
        warnings.warn(
            f"tradesim_nb: the compiled order book is missing ({e}); using the pure-Python "
            "twin, several times slower. Install the package with pip (it builds the "
            "extension from source; a C compiler is needed).",
            RuntimeWarning, stacklevel=2)
        from ._book_py import OrderBook, new_frozen, string_pairs

        COMPILED = False
        RawLevels = scan_levels = None
    else:
        COMPILED = True


def book_from_levels(bids: Sequence[tuple[float, float]], asks: Sequence[tuple[float, float]],
                     instrument: Instrument | None = None) -> OrderBook:
    """Build a valid book from float ``(price, size)`` pairs (tests, synthetic markets)."""
    ob = OrderBook(instrument)
    ob.apply_snapshot([(repr(float(p)), repr(float(s))) for p, s in bids],
                      [(repr(float(p)), repr(float(s))) for p, s in asks])
    return ob
