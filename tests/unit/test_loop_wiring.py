"""The loop builds senders from the config: the per-chain gas timing reaches the live sender; dry runs never sign."""

from __future__ import annotations

from pathlib import Path

from agent.chain.rpc import ChainRpc
from agent.config.settings import load_config
from agent.cycle.compose import build_sender
from agent.execution.live import LiveSender
from agent.execution.sender import DryRunSender
from agent.journal.records import Mode
from agent.signers.dev import dev_account_key
from agent.signers.local import LocalKeySigner

WALLET = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def _config(**extra: str):
    env = {"CHAINS": "sandbox_a", "SANDBOX_A_RPC_URL": "http://127.0.0.1:9", "TARGETS": "ETH:100", **extra}
    return load_config(env, env_file=Path("/nonexistent"))


def test_gas_timing_setting_reaches_the_live_sender() -> None:
    cfg = _config(SANDBOX_A_GAS_TIMING="optimal", SANDBOX_A_GAS_HISTORY_BLOCKS="500")
    rpc = ChainRpc(*cfg.enabled()[0])
    sender = build_sender(cfg, rpc, None, LocalKeySigner.from_key(dev_account_key(0)), False, WALLET, {})  # type: ignore[arg-type]
    assert isinstance(sender, LiveSender)
    assert sender.gas_timing is not None
    assert sender.gas_timing.mode == "optimal" and sender.gas_timing.history_blocks == 500


def test_confirmations_setting_reaches_the_send_policy() -> None:
    cfg = _config(SANDBOX_A_CONFIRMATIONS="2")
    rpc = ChainRpc(*cfg.enabled()[0])
    sender = build_sender(cfg, rpc, None, LocalKeySigner.from_key(dev_account_key(0)), False, WALLET, {})  # type: ignore[arg-type]
    assert isinstance(sender, LiveSender) and sender.policy.confirmations == 2
    default = build_sender(_config(), rpc, None, LocalKeySigner.from_key(dev_account_key(0)), False, WALLET, {})  # type: ignore[arg-type]
    assert isinstance(default, LiveSender) and default.policy.confirmations == 0


def test_dry_run_or_no_signer_gives_the_dry_run_sender() -> None:
    cfg = _config()
    rpc = ChainRpc(*cfg.enabled()[0])
    signer = LocalKeySigner.from_key(dev_account_key(0))
    for sender in (build_sender(cfg, rpc, None, signer, True, WALLET, {}),  # type: ignore[arg-type]
                   build_sender(cfg, rpc, None, None, False, WALLET, {})):  # type: ignore[arg-type]
        assert isinstance(sender, DryRunSender) and sender.mode is Mode.DRY_RUN
        assert sender.address == WALLET
        assert sender.report == []



def test_the_live_sender_carries_the_gas_gate_the_cycle_waits_on() -> None:
    from agent.execution.gas_wait import GasGate

    cfg = _config(SANDBOX_A_MAX_BASE_FEE_GWEI="3", SANDBOX_A_HARD_CAP_GWEI="9", SANDBOX_A_GAS_WAIT_DEADLINE_S="77")
    rpc = ChainRpc(*cfg.enabled()[0])
    sender = build_sender(cfg, rpc, None, LocalKeySigner.from_key(dev_account_key(0)), False, WALLET, {})  # type: ignore[arg-type]
    assert isinstance(sender, LiveSender) and isinstance(sender.gas_gate, GasGate)
    assert (sender.gas_gate.limit_wei, sender.gas_gate.hard_cap_wei) == (3 * 10**9, 9 * 10**9)
    assert sender.gas_gate.deadline_s == 77
