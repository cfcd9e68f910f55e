r"""Kraken spot fee schedules from the AssetPairs answer (``fees`` and ``fees_maker``).

Kraken publishes, per pair, the taker tiers ``fees`` and the maker tiers ``fees_maker`` as
``[[v_k, r_k], ...]``: a fee of :math:`r_k` percent applies from a 30-day trade volume of
:math:`v_k` (counted in ``fee_volume_currency``, USD) up to the next tier. The tier of a
30-day volume :math:`V` is

.. math::

    k(V) = \max\{k : v_k \le V\},\qquad
    \text{maker}_{bps} = 100\, r^{maker}_{k(V)},\quad \text{taker}_{bps} = 100\, r^{taker}_{k(V)} .

:func:`fee_schedule` returns a :class:`~tradesim_nb.costs.fees.FeeSchedule` whose tiers are named
by their volume threshold (``"0+ USD"``, ``"50,000+ USD"``, ...), with the endpoint as
``source_url`` and the date of the answer as ``as_of``; by default the answer recorded with the
Kraken book on 2021-04-17 (:func:`tradesim_nb.datasets.kraken_assetpairs_file`). Kraken changes
these tables: pass a fresh answer (:func:`tradesim_nb.venues.kraken.instruments.read_assetpairs`
or the JSON you fetched) for current figures.

Examples
--------
>>> s = fee_schedule("XBT/USD")
>>> s.tiers[0].name, s.tiers[0].maker_bps, s.tiers[0].taker_bps
('0+ USD', 16.0, 26.0)
>>> tier_for_volume(120_000.0, "XBT/USD").name
'100,000+ USD'

References
----------
Kraken Spot REST API, "Get Tradable Asset Pairs" (``fees``, ``fees_maker``,
``fee_volume_currency``), https://docs.kraken.com/api/docs/rest-api/get-tradable-asset-pairs
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping
from typing import Any

from ...costs.fees import FeeSchedule, FeeTier
from .instruments import (
    AssetPairsAnswer,
    KrakenPair,
    packaged_assetpairs,
    packaged_pairs,
    pairs_from_assetpairs,
)

__all__ = ["fee_schedule", "fee_tiers", "tier_for_volume"]

AnswerLike = Mapping[str, Any] | AssetPairsAnswer


def _answer(answer: AnswerLike | None) -> AssetPairsAnswer:
    if answer is None:
        return packaged_assetpairs()
    if isinstance(answer, AssetPairsAnswer):
        return answer
    return AssetPairsAnswer(dict(answer))


def _pair(pair: str, ans: AssetPairsAnswer) -> KrakenPair:
    pairs = packaged_pairs() if ans is packaged_assetpairs() else pairs_from_assetpairs(ans)
    p = pairs.get(pair)
    if p is None:
        raise ValueError(f"pair={pair!r} is not in the AssetPairs answer ({len(pairs)} ws pairs, "
                         f"e.g. {', '.join(sorted(pairs)[:5])})")
    return p


def _currency(code: str) -> str:
    """Kraken's ``ZUSD``/``XXBT`` style codes → ``USD``/``XBT`` (others unchanged)."""
    return code[1:] if len(code) == 4 and code[0] in "XZ" else code


def _rate_at(tiers: tuple[tuple[float, float], ...], volume: float) -> float:
    r = tiers[0][1]
    for v, pct in tiers:
        if v <= volume:
            r = pct
    return r


def fee_tiers(pair: str = "XBT/USD", answer: AnswerLike | None = None
              ) -> tuple[tuple[float, FeeTier], ...]:
    """``(minimum 30-day volume, FeeTier)`` of ``pair``, volume ascending, rates in bps.

    The thresholds are those of ``fees`` and ``fees_maker`` together (they coincide in Kraken's
    answers); a pair without ``fees_maker`` pays the taker rate as maker.

    Raises
    ------
    ValueError
        If the pair is not in the answer or has no ``fees`` tiers.
    """
    return _tiers_of(_pair(pair, _answer(answer)))


def _tiers_of(p: KrakenPair) -> tuple[tuple[float, FeeTier], ...]:
    if not p.taker_fees:
        raise ValueError(f"pair={p.wsname!r} has no 'fees' tiers in the AssetPairs answer")
    maker = p.maker_fees or p.taker_fees
    cur = _currency(p.fee_volume_currency) or "USD"
    vols = sorted({v for v, _ in p.taker_fees} | {v for v, _ in maker})
    out = []
    for v in vols:
        name = f"{v:,.0f}+ {cur}" if v == math.floor(v) else f"{v:,}+ {cur}"
        out.append((v, FeeTier(name, round(_rate_at(maker, v) * 100, 6),
                               round(_rate_at(p.taker_fees, v) * 100, 6))))
    return tuple(out)


def fee_schedule(pair: str = "XBT/USD", answer: AnswerLike | None = None, *,
                 as_of: str | None = None) -> FeeSchedule:
    """The spot fee schedule of ``pair`` from an AssetPairs answer (default: the packaged one).

    Parameters
    ----------
    pair : str
        WebSocket pair name, e.g. ``"XBT/USD"``.
    answer : dict or AssetPairsAnswer, optional
        An AssetPairs answer; default the one recorded on 2021-04-17.
    as_of : str, optional
        ISO date of the answer; default the answer's fetch date. Required for a bare JSON
        answer, which carries no date.

    Returns
    -------
    FeeSchedule
        venue ``"kraken"``, product ``"spot"``, one tier per volume threshold.
    """
    ans = _answer(answer)
    p = _pair(pair, ans)
    tiers = _tiers_of(p)
    date = as_of or ans.date
    if date is None:
        raise ValueError("as_of=None: this AssetPairs answer carries no fetch time; pass "
                         "as_of='YYYY-MM-DD' (the date it was fetched)")
    when = (_dt.datetime.fromtimestamp(ans.fetched_at_s, _dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            if ans.fetched_at_s is not None else date)
    cur = _currency(p.fee_volume_currency) or "USD"
    notes = (f"Kraken spot {pair} ({p.rest_name}): maker tiers from 'fees_maker', taker tiers "
             f"from 'fees' of GET /0/public/AssetPairs ({ans.url}), answer of {when}. A tier "
             f"applies from a 30-day trade volume in {cur} at or above its threshold; Kraken's "
             "percent x 100 = bps. Base rates as the API gave them (no promotions, no other "
             "products' volume); Kraken changes them, so pass a fresh answer for current rates.")
    if not p.maker_fees:
        notes += " The pair has no 'fees_maker': the maker rate is the taker rate."
    return FeeSchedule("kraken", "spot", tuple(t for _, t in tiers), source_url=ans.url,
                       as_of=date, notes=notes)


def tier_for_volume(volume_30d: float, pair: str = "XBT/USD",
                    answer: AnswerLike | None = None) -> FeeTier:
    """The tier a 30-day volume (in the pair's ``fee_volume_currency``, USD) falls in."""
    if not (isinstance(volume_30d, int | float) and math.isfinite(volume_30d)
            and volume_30d >= 0):
        raise ValueError(f"volume_30d={volume_30d!r} must be a finite number >= 0")
    tiers = fee_tiers(pair, answer)
    tier = tiers[0][1]
    for v, t in tiers:
        if v <= volume_30d:
            tier = t
    return tier
