"""The one JSON encoder and the one serialiser per model: raw amounts as strings, USD as numbers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

import pytest

from agent.commands.render import print_json
from agent.jsonable import dumps, jsonable
from agent.planning.models import Action, Skipped

BIG = 2**256 - 1


class State(StrEnum):
    DONE = "done"


def test_raw_and_wei_keys_become_strings_other_numbers_stay_numbers() -> None:
    doc = {"amount_raw": BIG, "gas_price_wei": 7, "usd": Decimal("12.5"), "gas_estimate": 180_000,
           "amounts_raw": [1, 2], "nested": {"min_buy_amount_raw": 3, "weight_pct": Decimal("40.25")}}
    assert jsonable(doc) == {"amount_raw": str(BIG), "gas_price_wei": "7", "usd": 12.5, "gas_estimate": 180_000,
                             "amounts_raw": ["1", "2"],
                             "nested": {"min_buy_amount_raw": "3", "weight_pct": 40.25}}


def test_none_bool_bytes_dates_enums() -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    doc = {"balance_raw": None, "ok": True, "data": b"\x01\xff", "at": at, "state": State.DONE, "t": (1, 2)}
    assert jsonable(doc) == {"balance_raw": None, "ok": True, "data": "0x01ff", "at": "2026-01-02T03:04:05+00:00",
                             "state": "done", "t": [1, 2]}


def test_unknown_types_are_refused() -> None:
    with pytest.raises(TypeError, match="not JSON serialisable: object"):
        jsonable({"x": object()})


def test_a_uint256_survives_a_json_reader() -> None:
    assert int(json.loads(dumps({"amount_raw": BIG}))["amount_raw"]) == BIG


ACTION = Action(kind="swap", chain="base", sell="WETH", buy="USDC", amount_raw=1_500_000_000_000_000_000,
                amount_usd=Decimal("4500.10"), reason="drift", est_cost_usd=Decimal("0.42"), est_gas=180_000,
                est_impact_bps=Decimal("3.5"), phase=1)


def test_action_has_one_serialisation_with_the_cli_contract_keys() -> None:
    doc = ACTION.as_json()
    assert {"kind", "chain", "sell", "buy", "amount_raw", "reason", "est_cost_usd"} <= set(doc)
    assert doc["amount_raw"] == "1500000000000000000"
    assert (doc["amount_usd"], doc["est_cost_usd"], doc["est_impact_bps"]) == (4500.1, 0.42, 3.5)
    assert json.loads(json.dumps(doc)) == doc  # plain JSON types only


def test_skipped_serialises_its_fields() -> None:
    assert Skipped(what="swap WETH", why="below MIN_TRADE_USD").as_json() == {"what": "swap WETH",
                                                                            "why": "below MIN_TRADE_USD"}


def test_print_json_prints_one_document_by_the_encoder(capsys: pytest.CaptureFixture[str]) -> None:
    print_json({"quotes": [{"buy_amount_raw": 10, "valid": True}], "best": None, "usd": Decimal("1.25")})
    assert json.loads(capsys.readouterr().out) == {"quotes": [{"buy_amount_raw": "10", "valid": True}], "best": None,
                                                  "usd": 1.25}
