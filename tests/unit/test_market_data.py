"""The market simulator's real-data loaders: reference path and base-fee traces (pure file reads)."""

from __future__ import annotations

import pytest

from agent.devtools.sandbox.market import BaseFeeTrace, ReferencePath


def test_hourly_path_is_scaled_to_the_spec_prices_and_keeps_real_moves() -> None:
    path = ReferencePath.from_hourly(start="2021-05-19T00:00:00Z", bars=24)
    assert path.ticks == 24 and path.usd("ETH", 0) == pytest.approx(3000) and path.usd("BTC", 0) == pytest.approx(60000)
    raw = ReferencePath.from_hourly(start="2021-05-19T00:00:00Z", bars=24, normalize=False)
    # relative moves are the data's: the 11:00 bar of 19 May 2021 fell 15.5%
    assert raw.usd("ETH", 11) / raw.usd("ETH", 10) == pytest.approx(path.usd("ETH", 11) / path.usd("ETH", 10))
    assert min(raw.usd("ETH", t) for t in range(24)) < 2400 < 3300 < raw.usd("ETH", 0)


def test_intrabar_ticks_visit_the_bar_range_and_end_on_the_close() -> None:
    coarse = ReferencePath.from_hourly(start="2021-05-10T00:00:00Z", bars=2, normalize=False)
    fine = ReferencePath.from_hourly(start="2021-05-10T00:00:00Z", bars=2, ticks_per_bar=300, normalize=False)
    assert fine.ticks == 600
    assert fine.usd("ETH", 299) == pytest.approx(coarse.usd("ETH", 0))
    assert fine.usd("ETH", 599) == pytest.approx(coarse.usd("ETH", 1))
    assert fine.usd("ETH", 10_000) == fine.usd("ETH", 599)  # past the end it stays at the last price
    assert fine.usd("LINK", 0) is None


def test_base_fee_traces_replay_the_real_values_and_wrap() -> None:
    per_block = BaseFeeTrace.per_block()
    assert len(per_block.values_wei) == 1640 and per_block.values_wei[0] == 18525573914
    assert per_block.at(1640) == per_block.at(0)
    daily = BaseFeeTrace.daily()
    assert len(daily.values_wei) == 3761 and daily.period_s == 86400
    assert len(BaseFeeTrace.daily(since="2021-08-05").values_wei) < 1600
