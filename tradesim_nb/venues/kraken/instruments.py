"""Kraken spot pairs from the REST ``GET /0/public/AssetPairs`` answer.

Each pair that has a ``wsname`` (the name the WebSocket API uses, e.g. ``"XBT/CHF"``) becomes a
:class:`KrakenPair` and an :class:`~tradesim_nb.instruments.Instrument` keyed by that name:

* ``tick_size`` from ``tick_size`` when the answer has it (newer answers), else
  :math:`10^{-\\text{pair\\_decimals}}`; ``lot_size`` :math:`10^{-\\text{lot\\_decimals}}`;
* ``base``/``quote`` are the two halves of ``wsname`` (``"XBT"``, ``"CHF"``); Kraken's asset codes
  (``XXBT``, ``CHF``) are kept in :attr:`KrakenPair.base_asset`/``quote_asset``;
* spot, sized in base currency; the minimum order ``ordermin`` (base) and ``costmin`` (quote,
  newer answers) are on the :class:`KrakenPair` (``Instrument`` has no field for them);
* the fee tiers ``fees`` (taker) and ``fees_maker``, ``[[30-day volume, percent], ...]``, with the
  volume counted in ``fee_volume_currency``; :mod:`tradesim_nb.venues.kraken.fees` turns them into
  a :class:`~tradesim_nb.costs.fees.FeeSchedule`.

Pairs without ``wsname`` (the ``.d`` dark-pool pairs) have no WebSocket book and are skipped.

The package ships the answer recorded with the Kraken book on 2021-04-17
(:func:`tradesim_nb.datasets.kraken_assetpairs_file`, one line ``<url> -> <epoch s>: <JSON>``);
:func:`register_pairs` registers its instruments, or those of an answer you fetched yourself.

References
----------
Kraken Spot REST API, "Get Tradable Asset Pairs",
https://docs.kraken.com/api/docs/rest-api/get-tradable-asset-pairs
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import orjson

from ...instruments import INSTRUMENTS, Instrument, register_instrument

__all__ = [
    "ASSETPAIRS_URL",
    "AssetPairsAnswer",
    "KrakenPair",
    "ensure_registered",
    "instruments_from_assetpairs",
    "packaged_assetpairs",
    "packaged_pairs",
    "pairs_from_assetpairs",
    "read_assetpairs",
    "register_pairs",
]

ASSETPAIRS_URL: Final = "https://api.kraken.com/0/public/AssetPairs"
_VENUE: Final = "kraken"


@dataclass(frozen=True)
class KrakenPair:
    """One Kraken spot pair as the AssetPairs answer describes it.

    Parameters
    ----------
    wsname : str
        WebSocket name, ``"XBT/CHF"``; the instrument's symbol.
    rest_name, altname : str
        The answer's key (``"XBTCHF"``, ``"XXMRZUSD"``) and its ``altname``.
    base_asset, quote_asset : str
        Kraken's asset codes (``"XXBT"``, ``"ZUSD"``).
    instrument : Instrument
        venue ``"kraken"``, symbol ``wsname``, spot, sized in base.
    ordermin : float or None
        Minimum order size in base currency (None when the answer has none).
    costmin : float or None
        Minimum order cost in quote currency (newer answers only).
    fee_volume_currency : str
        The currency the 30-day volume of the fee tiers is counted in (``"ZUSD"``).
    taker_fees, maker_fees : tuple of (float, float)
        ``(minimum 30-day volume, fee in percent)`` tiers, volume ascending.
    """

    wsname: str
    rest_name: str
    altname: str
    base_asset: str
    quote_asset: str
    instrument: Instrument
    ordermin: float | None
    costmin: float | None
    fee_volume_currency: str
    taker_fees: tuple[tuple[float, float], ...]
    maker_fees: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        if self.instrument.symbol != self.wsname or self.instrument.venue != _VENUE:
            raise ValueError(f"instrument={self.instrument.key!r} must be ('kraken', "
                             f"{self.wsname!r})")
        for name in ("ordermin", "costmin"):
            v = getattr(self, name)
            if v is not None and not (math.isfinite(v) and v >= 0):
                raise ValueError(f"{name}={v!r} must be a finite number >= 0 or None")


@dataclass(frozen=True)
class AssetPairsAnswer:
    """An AssetPairs answer and where and when it was fetched.

    Parameters
    ----------
    answer : dict
        The JSON answer, ``{"error": [], "result": {...}}``.
    url : str
        The endpoint it came from.
    fetched_at_s : float or None
        Epoch seconds of the fetch, None when unknown.
    """

    answer: dict[str, Any]
    url: str = ASSETPAIRS_URL
    fetched_at_s: float | None = None

    @property
    def date(self) -> str | None:
        """The UTC date of the fetch, ``YYYY-MM-DD`` (None when unknown)."""
        if self.fetched_at_s is None:
            return None
        return _dt.datetime.fromtimestamp(self.fetched_at_s, _dt.UTC).date().isoformat()


def _result(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """The ``result`` mapping of an answer (or ``obj`` itself when it is already one)."""
    if not isinstance(obj, Mapping):
        raise ValueError(f"assetpairs={type(obj).__name__} must be the AssetPairs JSON object")
    if "result" in obj or "error" in obj:
        err = obj.get("error") or []
        if err:
            raise ValueError(f"the AssetPairs answer reports errors: {err}")
        res = obj.get("result")
        if not isinstance(res, Mapping):
            raise ValueError(f"the AssetPairs answer's result is {type(res).__name__}, "
                             "not an object")
        return res
    return obj


def _int_field(name: str, d: Mapping[str, Any], key: str) -> int:
    v = d.get(key)
    if type(v) is not int or v < 0:
        raise ValueError(f"AssetPairs {name}: {key}={v!r} must be an integer >= 0")
    return v


def _num_field(name: str, d: Mapping[str, Any], key: str) -> float | None:
    v = d.get(key)
    if v is None:
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"AssetPairs {name}: {key}={v!r} is not a number") from None
    if not (math.isfinite(x) and x >= 0):
        raise ValueError(f"AssetPairs {name}: {key}={v!r} must be a finite number >= 0")
    return x


def _tiers(name: str, d: Mapping[str, Any], key: str) -> tuple[tuple[float, float], ...]:
    rows = d.get(key)
    if rows is None:
        return ()
    if not isinstance(rows, list):
        raise ValueError(f"AssetPairs {name}: {key}={rows!r} must be a list of [volume, percent]")
    out: list[tuple[float, float]] = []
    for r in rows:
        ok = (isinstance(r, list) and len(r) == 2
              and all(isinstance(x, int | float) and not isinstance(x, bool) for x in r))
        if not ok or not (math.isfinite(r[0]) and r[0] >= 0 and math.isfinite(r[1])
                          and -100 < r[1] < 100):
            raise ValueError(f"AssetPairs {name}: {key} tier {r!r} must be [volume >= 0, "
                             "percent in (-100, 100)]")
        out.append((float(r[0]), float(r[1])))
    vols = [v for v, _ in out]
    if vols != sorted(vols) or len(set(vols)) != len(vols):
        raise ValueError(f"AssetPairs {name}: {key} volumes {vols} must be strictly ascending")
    return tuple(out)


def _pair(rest_name: str, d: Mapping[str, Any]) -> KrakenPair | None:
    if not isinstance(d, Mapping):
        raise ValueError(f"AssetPairs {rest_name}: {type(d).__name__} is not an object")
    ws = d.get("wsname")
    if ws is None:
        return None  # no WebSocket book (dark-pool ".d" pairs)
    if not isinstance(ws, str) or ws.count("/") != 1 or ws.startswith("/") or ws.endswith("/"):
        raise ValueError(f"AssetPairs {rest_name}: wsname={ws!r} is not 'BASE/QUOTE'")
    base, quote = ws.split("/")
    pd = _int_field(rest_name, d, "pair_decimals")
    ld = _int_field(rest_name, d, "lot_decimals")
    tick = _num_field(rest_name, d, "tick_size")
    if tick is not None and tick <= 0:
        raise ValueError(f"AssetPairs {rest_name}: tick_size={d['tick_size']!r} must be > 0")
    inst = Instrument(_VENUE, ws, "spot", base, quote,
                      tick if tick is not None else 10.0 ** -pd, 10.0 ** -ld,
                      price_decimals=pd)
    return KrakenPair(
        wsname=ws, rest_name=rest_name, altname=str(d.get("altname", rest_name)),
        base_asset=str(d.get("base", base)), quote_asset=str(d.get("quote", quote)),
        instrument=inst, ordermin=_num_field(rest_name, d, "ordermin"),
        costmin=_num_field(rest_name, d, "costmin"),
        fee_volume_currency=str(d.get("fee_volume_currency", "")),
        taker_fees=_tiers(rest_name, d, "fees"), maker_fees=_tiers(rest_name, d, "fees_maker"))


def pairs_from_assetpairs(obj: Mapping[str, Any] | AssetPairsAnswer) -> dict[str, KrakenPair]:
    """Every pair with a ``wsname`` in an AssetPairs answer, keyed by ``wsname``.

    Parameters
    ----------
    obj : dict or AssetPairsAnswer
        The answer ``{"error": [], "result": {...}}`` (or its ``result`` mapping).

    Raises
    ------
    ValueError
        Naming the pair and the field that is missing or out of range, or the answer's errors.
    """
    res = _result(obj.answer if isinstance(obj, AssetPairsAnswer) else obj)
    out: dict[str, KrakenPair] = {}
    for name, d in res.items():
        p = _pair(str(name), d)
        if p is not None:
            if p.wsname in out:
                raise ValueError(f"AssetPairs: wsname {p.wsname!r} appears twice "
                                 f"({out[p.wsname].rest_name}, {name})")
            out[p.wsname] = p
    return out


def instruments_from_assetpairs(obj: Mapping[str, Any] | AssetPairsAnswer
                                ) -> dict[str, Instrument]:
    """``{wsname: Instrument}`` for every WebSocket pair of an AssetPairs answer."""
    return {k: p.instrument for k, p in pairs_from_assetpairs(obj).items()}


def read_assetpairs(path: str | Path) -> AssetPairsAnswer:
    """Read a recorded AssetPairs answer: the line ``<url> -> <epoch s>: <JSON>`` naming the
    AssetPairs endpoint (other lines, such as the recorder's ``configuration:`` line, are
    skipped), or a file holding only the JSON answer."""
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    body = text.lstrip()
    if body.startswith("{"):
        try:
            return AssetPairsAnswer(orjson.loads(body), ASSETPAIRS_URL, None)
        except orjson.JSONDecodeError as e:
            raise ValueError(f"{p}: not a JSON AssetPairs answer ({e})") from None
    for lineno, line in enumerate(text.splitlines(), 1):
        head, sep, rest = line.partition(" -> ")
        if not sep or "AssetPairs" not in head:
            continue
        ts, sep2, js = rest.partition(": ")
        try:
            if not sep2:
                raise ValueError("no ': ' after the time")
            fetched = float(ts)
            obj = orjson.loads(js)
        except (ValueError, orjson.JSONDecodeError) as e:
            raise ValueError(f"{p}:{lineno}: not '<url> -> <epoch s>: <JSON>' ({e})") from None
        if not isinstance(obj, dict):
            raise ValueError(f"{p}:{lineno}: the answer is {type(obj).__name__}, not an object")
        return AssetPairsAnswer(obj, head.strip(), fetched)
    raise ValueError(f"{p}: no line '<AssetPairs url> -> <epoch s>: <JSON>' found")


_PACKAGED: list[AssetPairsAnswer] = []
_PACKAGED_PAIRS: list[dict[str, KrakenPair]] = []


def packaged_assetpairs() -> AssetPairsAnswer:
    """The AssetPairs answer shipped with the Kraken recording (read once, then cached)."""
    if not _PACKAGED:
        from ...datasets import kraken_assetpairs_file

        _PACKAGED.append(read_assetpairs(kraken_assetpairs_file()))
    return _PACKAGED[0]


def packaged_pairs() -> dict[str, KrakenPair]:
    """:func:`pairs_from_assetpairs` of :func:`packaged_assetpairs` (built once, then cached;
    treat it as read-only)."""
    if not _PACKAGED_PAIRS:
        _PACKAGED_PAIRS.append(pairs_from_assetpairs(packaged_assetpairs()))
    return _PACKAGED_PAIRS[0]


def register_pairs(obj: Mapping[str, Any] | AssetPairsAnswer | None = None, *,
                   replace: bool = False) -> int:
    """Register the instruments of an AssetPairs answer (default: the packaged one) with
    :func:`tradesim_nb.instruments.register_instrument`; return how many were added.

    An instrument already registered (by an earlier call or by you) is kept unless
    ``replace=True``. The feed calls this with no argument the first time it meets a pair it
    has no instrument for.
    """
    insts = ({k: p.instrument for k, p in packaged_pairs().items()} if obj is None
             else instruments_from_assetpairs(obj))
    n = 0
    for inst in insts.values():
        if replace or inst.key not in INSTRUMENTS:
            register_instrument(inst)
            n += 1
    return n


def ensure_registered() -> None:
    """Register the packaged pairs that are not registered yet (what the feed calls when it
    meets a pair without an instrument; a few microseconds once the answer is cached)."""
    register_pairs()
