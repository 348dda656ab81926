"""The chain TOML loader: real mainnet files validate; broken files fail with one line naming the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config.chains import available_chains, load_chain, load_chain_file
from agent.errors import ConfigError

MAINNETS = ["arbitrum", "base", "ethereum", "optimism", "polygon"]


@pytest.mark.parametrize("name", MAINNETS)
def test_mainnet_chain_files_validate(name: str) -> None:
    cfg = load_chain(name)
    assert cfg.name == name
    assert cfg.multicall3 == "0xcA11bde05977b3631167028862bE2a173976CA11"
    assert cfg.token(cfg.usd_stable).stable
    assert set(cfg.aggregators) >= {"0x", "1inch", "paraswap", "odos", "kyberswap"}
    assert cfg.uniswap_v2 or cfg.uniswap_v3


def test_chain_ids_are_the_real_ones() -> None:
    ids = {n: load_chain(n).chain_id for n in MAINNETS}
    assert ids == {"arbitrum": 42161, "base": 8453, "ethereum": 1, "optimism": 10, "polygon": 137}


def test_ethereum_has_the_reference_vaults() -> None:
    eth = load_chain("ethereum")
    assert {v.name for v in eth.vaults} >= {"sDAI", "sUSDS", "steakUSDC", "yvUSDC-1"}
    assert eth.token("USDT").approve_requires_zero


def test_all_mainnet_files_present() -> None:
    assert set(MAINNETS) <= set(available_chains())


GOOD = Path(__file__).resolve().parents[2] / "chains" / "ethereum.toml"


def _broken(tmp_path: Path, old: str, new: str, name: str = "ethereum") -> Path:
    text = GOOD.read_text()
    assert old in text
    p = tmp_path / f"{name}.toml"
    p.write_text(text.replace(old, new, 1))
    return p


@pytest.mark.parametrize(
    ("old", "new", "hint"),
    [
        ('"0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"', '"0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"',
         "not EIP-55"),
        ('"0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"', '"0xA0b8"', "not a 20-byte"),
        ('usd_stable = "USDC"', 'usd_stable = "USDX"', "usd_stable 'USDX'"),
        ('decimals = 6\nstable = true', 'decimals = 6\nstable = false', "must have stable = true"),
        ('asset = "DAI"', 'asset = "FRAX"', "vault sDAI"),
        ('[aggregators.odos]', '[aggregators.uniswapx]', "unknown aggregator"),
        ("chain_id = 1", "chain_id = -1", "chain_id"),
        ("chain_id = 1", "chain_id = 1\nsurprise = 2", "surprise"),
        ('name = "ethereum"', 'name = "ethereum"\n[[[', "invalid TOML"),
    ],
)
def test_broken_chain_files_fail_loudly(tmp_path: Path, old: str, new: str, hint: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_chain_file(_broken(tmp_path, old, new))
    assert hint in str(info.value)
    assert "\n" not in str(info.value)


def test_file_name_must_match_chain_name(tmp_path: Path) -> None:
    p = tmp_path / "mainnet.toml"
    p.write_text(GOOD.read_text())
    with pytest.raises(ConfigError, match="must equal the file name"):
        load_chain_file(p)


def test_duplicate_token_symbols_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unique"):
        load_chain_file(_broken(tmp_path, 'symbol = "USDT"', 'symbol = "USDC"'))
