"""The backtest-path tests' shared inputs: targets, a grid of threshold runs, and the real closes (a fixture)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from agent.research.backtest import CostModel, build_market, engine_costs
from agent.research.data import load_prices
from agent.research.engine import Spec

T = {"WETH": 40.0, "WBTC": 30.0, "USDC": 30.0}


def grid(n_bands: int = 6, starts: tuple[int, ...] = (0, 200, 400)) -> list[Spec]:
    return [Spec(f"b{b}", "threshold", T, band_pp=b, band_rel_pct=0, start=s) for s in starts
            for b in np.linspace(2, 15, n_bands)]


@pytest.fixture(scope="session")
def real() -> tuple:  # type: ignore[type-arg]
    """(market, costs, table) of the real daily closes 2019-2022 for ``T``."""
    table = load_prices(list(T), date(2019, 1, 1), date(2022, 12, 31))
    model = CostModel()
    return build_market(table, list(T), model), engine_costs(list(T), model, 100_000.0), table
