from __future__ import annotations

import dataclasses

import pytest

from tradesim_nb import Instrument, get_instrument, register_instrument


def test_okx_swap_contract_is_one_hundredth_btc() -> None:
    i = get_instrument("okx", "BTC-USDT-SWAP")
    assert i.kind == "swap" and i.sized_in_contracts
    assert i.to_base(100, 50_000) == pytest.approx(1.0)
    assert i.size_from(50_000, "usd", 50_000) == pytest.approx(100)
    assert i.size_from(1.0, "base", 50_000) == pytest.approx(100)
    assert i.size_from(7, "contracts", 50_000) == 7


def test_okx_spot_is_sized_in_base_and_inverse_in_usd() -> None:
    spot = get_instrument("okx", "BTC-USDT")
    assert not spot.sized_in_contracts and spot.to_base(2.5, 30_000) == 2.5
    inv = get_instrument("okx", "BTC-USD-SWAP")
    assert inv.contract_type == "inverse"
    assert inv.to_base(10, 50_000) == pytest.approx(1000 / 50_000)
    assert inv.size_from(1000, "usd", 50_000) == pytest.approx(10)


def test_unknown_instrument_error_lists_known_ones() -> None:
    with pytest.raises(KeyError, match=r"unknown instrument 'NOPE'.*BTC-USDT-SWAP"):
        get_instrument("okx", "NOPE")
    with pytest.raises(KeyError, match="known venues"):
        get_instrument("nope", "XBTUSD")


def test_validation_names_parameter_and_value() -> None:
    i = get_instrument("binance", "BTCUSDT")
    with pytest.raises(ValueError, match=r"tick_size=0"):
        dataclasses.replace(i, tick_size=0)
    with pytest.raises(ValueError, match=r"kind='option'"):
        dataclasses.replace(i, kind="option")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"unit='lots'"):
        i.size_from(1, "lots", 100)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"amount=-1"):
        i.size_from(-1, "base", 100)


def test_register_custom_instrument() -> None:
    inst = Instrument("okx", "DOGE-USDT-SWAP", "swap", "DOGE", "USDT", 1e-5, 1.0, 1000.0,
                      sized_in_contracts=True)
    register_instrument(inst)
    assert get_instrument("okx", "DOGE-USDT-SWAP").contract_size == 1000.0
    assert inst.price_decimals == 5
