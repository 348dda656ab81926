"""The fork path up to "funded fork ready": chain-id and code checks, funding, a status read on the fork."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from agent.chain.rpc import make_web3
from agent.commands.status import read_status
from agent.devtools.commands.simulate import load_fork_base_config, prepare_fork
from agent.devtools.sandbox.anvil import free_port, start_anvil
from agent.devtools.sandbox.fork import balance_of
from agent.devtools.sandbox.replica import Replica
from agent.devtools.sandbox.spec import WALLET
from agent.devtools.sandbox.states import start_replica
from agent.errors import ChainUnavailable, ConfigError, SafetyHalt
from tests.fork.helpers import NO_ENV_FILE, child_anvils, fork_env
from tests.paths import REPO_ROOT

pytestmark = [pytest.mark.anvil, pytest.mark.slow]
NO_CODE = "0x000000000000000000000000000000000000dEaD"


def _base(url: str, **extra: str):
    return load_fork_base_config("ethereum", fork_env(url, **extra), env_file=NO_ENV_FILE)


def test_funded_fork_reads_exactly_the_funding_and_leaves_the_replica_alone(replica: Replica) -> None:
    replica_w3 = make_web3(replica.rpc_url, timeout_s=30)
    eth_before = replica_w3.eth.get_balance(WALLET)
    ready = prepare_fork(_base(replica.rpc_url), "ethereum", fund="ETH:10,WBTC:0.5,USDC:20000,DAI:5")
    try:
        funded = {f.symbol: f for f in ready.funded}
        assert funded["WETH"].how == "solidity slot 3" and funded["USDC"].how == "solidity slot 9"
        assert funded["USDT"].amount_raw == 0  # every other token is set to zero
        snapshot, alloc = read_status(ready.config)
        (cs,) = snapshot.chains
        assert cs.available and cs.chain_id == 1 and cs.block is not None and cs.block >= ready.fork.block
        held = {h.symbol: h.balance for h in cs.holdings if h.balance_raw}
        assert held == {"ETH": Decimal(10), "WBTC": Decimal("0.5"), "USDC": Decimal(20000), "DAI": Decimal(5)}
        assert Decimal(79_000) < alloc.total_usd < Decimal(81_000)  # 30k ETH + 30k WBTC + 20k USDC + 5 DAI
    finally:
        ready.close()
    assert replica_w3.eth.get_balance(WALLET) == eth_before
    assert balance_of(replica_w3, replica.chain.token("USDC").address, WALLET) == 0
    assert ready.fork.anvil.pid not in child_anvils()


def test_default_funding_is_off_target_by_design(replica: Replica) -> None:
    ready = prepare_fork(_base(replica.rpc_url), "ethereum", fund_usd=Decimal(50_000))
    try:
        _, alloc = read_status(ready.config)
    finally:
        ready.close()
    weights = {a.symbol: a.weight_pct for a in alloc.assets}
    assert abs(alloc.total_usd - 50_000) < 100
    # TARGETS ETH:40,WBTC:30,USDC:30 → every target halved, the freed half to ETH: 70 / 15 / 15
    assert abs(weights["ETH"] - 70) < 1 and abs(weights["WBTC"] - 15) < 1 and abs(weights["USDC"] - 15) < 1


def test_a_table_entry_without_code_on_the_fork_fails_loudly_naming_it(replica: Replica, tmp_path: Path) -> None:
    text = (REPO_ROOT / "chains" / "ethereum.toml").read_text()
    dai = replica.chain.token("DAI").address
    (tmp_path / "ethereum.toml").write_text(text.replace(dai, NO_CODE))
    base = _base(replica.rpc_url, CHAINS_DIR=str(tmp_path))
    before = set(child_anvils())
    with pytest.raises(SafetyHalt, match=re.escape(f"no contract code at token DAI ({NO_CODE})")):
        prepare_fork(base, "ethereum")
    assert set(child_anvils()) == before  # the fork's anvil was stopped


def test_an_upstream_with_another_chain_id_is_refused_before_forking() -> None:
    other = start_anvil(chain_id=31337)
    try:
        before = set(child_anvils())
        with pytest.raises(SafetyHalt, match=re.escape("chain id 31337, but chains/ethereum.toml says 1")):
            prepare_fork(_base(other.url), "ethereum")
        assert set(child_anvils()) == before
    finally:
        other.stop()


def test_an_unreachable_upstream_is_reported_without_its_secret_path() -> None:
    url = f"http://127.0.0.1:{free_port()}/v2/SECRET-API-KEY"
    with pytest.raises(ChainUnavailable) as info:
        prepare_fork(_base(url), "ethereum")
    assert "ETHEREUM_RPC_URL" in str(info.value) and "SECRET-API-KEY" not in str(info.value)


def test_fork_block_pins_the_fork_and_a_block_before_the_contracts_existed_is_refused(replica: Replica) -> None:
    head = make_web3(replica.rpc_url, timeout_s=30).eth.block_number
    ready = prepare_fork(_base(replica.rpc_url), "ethereum", fork_block=head - 1, fund="ETH:1")
    try:
        assert ready.fork.block == head - 1
    finally:
        ready.close()
    with pytest.raises(ConfigError, match=f"--fork-block {head + 100}: the upstream's latest block is {head}"):
        prepare_fork(_base(replica.rpc_url), "ethereum", fork_block=head + 100)


def test_a_fork_block_before_the_contracts_existed_is_refused(tmp_path: Path) -> None:
    """On a replica built block by block (the saved one starts with every contract in place): block 1 has none."""
    anvil, built, loaded = start_replica(directory=tmp_path)  # no saved state there: built by transactions
    try:
        assert not loaded
        with pytest.raises(SafetyHalt, match=re.escape("no contract code at multicall3")):
            prepare_fork(_base(built.rpc_url), "ethereum", fork_block=1)
    finally:
        anvil.stop()
