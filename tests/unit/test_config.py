"""Every bad setting stops start-up with one line naming the variable and the fix, never a secret."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from agent.config.settings import ChainSettings, Settings, load_config, redact_url, safe_error
from agent.errors import ConfigError
from tests.paths import REPO_ROOT

BASE = {
    "CHAINS": "ethereum,base",
    "ETHEREUM_RPC_URL": "https://eth.example/v2/SECRETKEY123",
    "BASE_RPC_URL": "https://base.example/rpc?apikey=SECRETKEY456",
    "TARGETS": "ETH:40,WBTC:30,USDC:30",
}


def load(**changes: str):
    env = {**BASE, **changes}
    return load_config({k: v for k, v in env.items() if v is not None}, env_file=Path("/nonexistent"))


def error_of(**changes: str) -> str:
    with pytest.raises(ConfigError) as info:
        load(**changes)
    text = str(info.value)
    assert "\n" not in text
    assert "SECRETKEY" not in text
    return text


def test_valid_config_loads() -> None:
    cfg = load()
    assert cfg.settings.targets == {"ETH": Decimal(40), "WBTC": Decimal(30), "USDC": Decimal(30)}
    assert [c.name for c, _ in cfg.enabled()] == ["ethereum", "base"]
    assert cfg.chain_settings["ethereum"].rpc_urls[0].get_secret_value().endswith("SECRETKEY123")
    assert "SECRETKEY" not in repr(cfg)


def test_fallback_urls_are_split_in_order() -> None:
    cfg = load(ETHEREUM_RPC_URL="https://a.example/k1, https://b.example/k2")
    assert [u.get_secret_value() for u in cfg.chain_settings["ethereum"].rpc_urls] == [
        "https://a.example/k1", "https://b.example/k2"]


@pytest.mark.parametrize(
    ("changes", "names", "hint"),
    [
        ({"TARGETS": "ETH:40,WBTC:30,USDC:20"}, "TARGETS", "sum to 90"),
        ({"TARGETS": "ETH:40,DOGE:30,USDC:30"}, "TARGETS", "'DOGE' is not a token on any configured chain"),
        ({"TARGETS": "ETH=100"}, "TARGETS", "SYMBOL:PERCENT"),
        ({"CHAINS": "ethereum,base,arbitrum"}, "ARBITRUM_RPC_URL", "set ARBITRUM_RPC_URL"),
        ({"CHAINS": "ethereum,solana"}, "CHAINS", "unknown chain 'solana'"),
        ({"WALLET_ADDRESS": "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"}, "WALLET_ADDRESS",
         "write it as 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"),
        ({"WALLET_ADDRESS": "0xF39fd6e51aad88f6f4ce6ab8827279cfffb92266"}, "WALLET_ADDRESS", "not EIP-55"),
        ({"WALLET_ADDRESS": "0x1234"}, "WALLET_ADDRESS", "not a 20-byte"),
        ({"BAND_PP": "-1"}, "BAND_PP", "greater than or equal to 0"),
        ({"BAND_REL_PCT": "-5"}, "BAND_REL_PCT", "greater than or equal to 0"),
        ({"ASSET_BANDS_PP": "ETH:-3"}, "ASSET_BANDS_PP", "PP ≥ 0"),
        ({"MAX_SLIPPAGE_BPS": "lots"}, "MAX_SLIPPAGE_BPS", "valid integer"),
        ({"QUOTE_SOURCES": "onchain,uniswapx"}, "QUOTE_SOURCES", "uniswapx"),
        ({"ETHEREUM_RPC_URL": "ws://eth.example/SECRETKEY"}, "ETHEREUM_RPC_URL", "not an http(s) URL"),
        ({"ETHEREUM_MAX_BASE_FEE_GWEI": "-2"}, "ETHEREUM_MAX_BASE_FEE_GWEI", "greater than 0"),
        ({"CHAINS": "ethereum,ethereum"}, "CHAINS", "listed twice"),
        ({"TARGETS": None, "CHAINS": "ethereum"}, "TARGETS", "is required"),
        ({"TWAP_HORIZON_S": "-60"}, "TWAP_HORIZON_S", "greater than or equal to 0"),
        ({"ETHEREUM_CONFIRMATIONS": "-1"}, "ETHEREUM_CONFIRMATIONS", "greater than or equal to 0"),
    ],
)
def test_bad_values_name_the_variable(changes: dict[str, str], names: str, hint: str) -> None:
    text = error_of(**changes)
    assert text.startswith(names + ":"), text
    assert hint in text, text


def test_secret_values_are_never_echoed() -> None:
    # A malformed secret is reported by name only.
    text = error_of(ETHEREUM_RPC_URL="ftp://user:SECRETKEY@eth.example/SECRETKEY")
    assert "SECRETKEY" not in text


def test_twap_horizon_unset_means_the_default_schedule_and_zero_means_as_fast_as_possible() -> None:
    assert load().settings.execution.twap_horizon_s is None
    assert load(TWAP_HORIZON_S="0").settings.execution.twap_horizon_s == 0
    assert load(TWAP_HORIZON_S="1800").settings.execution.twap_horizon_s == 1800


def test_target_may_name_a_token_of_an_asset() -> None:
    cfg = load(TARGETS="WETH:50,USDC:50")
    assert "WETH" in cfg.settings.targets


def test_env_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    f = tmp_path / "x.env"
    f.write_text("CHAINS=ethereum\nETHEREUM_RPC_URL=https://file.example\nTARGETS=ETH:100\nBAND_PP=7\n")
    cfg = load_config({"BAND_PP": "3"}, env_file=f)
    assert cfg.settings.strategy.band_pp == Decimal(3)
    assert cfg.settings.chains == ("ethereum",)


def test_redaction() -> None:
    assert redact_url("https://eth-mainnet.g.alchemy.com/v2/KEY") == "https://eth-mainnet.g.alchemy.com/…"
    assert redact_url("http://127.0.0.1:8545") == "http://127.0.0.1:8545"
    assert "KEY" not in redact_url("https://user:KEY@host.example/")
    err = ConnectionError("HTTPSConnectionPool(host='x', port=443): Max retries exceeded with url: /v2/KEY")
    assert "KEY" not in safe_error(err)
    assert "KEY" not in safe_error(ValueError("failed https://h.example/v3/KEY?x=1"))


def test_every_setting_is_documented_in_env_example() -> None:
    text = (REPO_ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.M))
    for name in Settings.env_names():
        assert name.upper() in documented, f"{name.upper()} is missing from .env.example"
    for field in ChainSettings.model_fields:
        per_chain = "RPC_URL" if field == "rpc_urls" else field.upper()
        assert f"ETHEREUM_{per_chain}" in documented, f"<CHAIN>_{per_chain} is missing from .env.example"
    # and each documented variable (or group of related ones) has a comment line right above it
    lines = text.splitlines()
    is_var = [bool(re.match(r"^#?\s*[A-Z][A-Z0-9_]+=", ln)) for ln in lines]
    for i, line in enumerate(lines):
        if is_var[i]:
            j = i - 1
            while j >= 0 and is_var[j]:
                j -= 1
            assert j >= 0 and lines[j].startswith("#") and not is_var[j], f"no comment above {line}"


def _numeric_env_names() -> list[str]:
    from decimal import Decimal as D

    from agent.config.settings import FLAT_NAMES, SECTIONS

    def numeric(annotation: object) -> bool:
        text = str(annotation)
        scalar = "dict" not in text and "tuple" not in text
        return scalar and (any(t in text for t in ("float", "int", "Decimal")) or annotation in (float, int, D))

    names = [n for n, f in Settings.model_fields.items() if n not in SECTIONS and numeric(f.annotation)]
    names += [flat for flat, (section, field) in FLAT_NAMES.items()
              if numeric(SECTIONS[section].model_fields[field].annotation)]
    return sorted(names)


@pytest.mark.parametrize("bad", ["inf", "-inf", "nan", "Infinity"])
def test_no_numeric_setting_accepts_inf_or_nan(bad: str) -> None:
    names = _numeric_env_names()
    assert {"rpc_timeout_s", "quote_timeout_s", "band_pp", "run_interval_s", "max_trade_usd"} <= set(names)
    for name in names:
        with pytest.raises(ValidationError):
            Settings(chains="ethereum", targets="ETH:100", **{name: bad})



def test_settings_of_a_chain_not_enabled_this_run_are_not_called_typos(tmp_path: Path,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    """`simulate --fork` narrows CHAINS; the .env file's settings of the other chains are still settings (the
    sandbox's SANDBOX_B_* were warned about, their prefix being SANDBOX_DIR's), while a real typo still is one."""
    f = tmp_path / "x.env"
    f.write_text("CHAINS=sandbox_a,sandbox_b\nSANDBOX_A_RPC_URL=http://127.0.0.1:1\nSANDBOX_B_RPC_URL=http://127.0.0.1:2\n"
                 "SANDBOX_B_MAX_BASE_FEE_GWEI=1\nSANDBOX_B_HARD_CAP_GWEI=5\nTARGETS=ETH:100\n"
                 "SANDBOX_B_RPC_ULR=http://127.0.0.1:3\n")
    with caplog.at_level("WARNING", logger="agent.config.settings"):
        cfg = load_config({"CHAINS": "sandbox_a"}, env_file=f)
    assert cfg.settings.chains == ("sandbox_a",)
    warned = [r.getMessage().split(" ")[0] for r in caplog.records]
    assert warned == ["SANDBOX_B_RPC_ULR"]
