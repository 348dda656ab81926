"""Shared helpers for the execution tests on anvil: swap intents on the sandbox router, contexts, reads."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eth_account import Account
from pydantic import SecretStr
from web3 import Web3

from agent.chain.abi import abi
from agent.chain.rpc import ChainRpc
from agent.config.chains import ChainConfig
from agent.config.settings import ChainSettings
from agent.devtools.contracts import load_official
from agent.devtools.sandbox.anvil import DEV_MNEMONIC
from agent.execution.gas_wait import GasWaitProgress
from agent.execution.intent import Approval, BalanceDelta, TxIntent
from agent.execution.live import LiveSender
from agent.execution.pipeline import ExecutionContext
from agent.execution.sender import SendPolicy
from agent.journal.store import JournalStore
from agent.ports import Signer
from agent.signers.local import LocalKeySigner


def _dev_key(index: int) -> str:
    Account.enable_unaudited_hdwallet_features()
    return "0x" + Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}").key.hex()


#: anvil's dev account 0 (the sandbox wallet), derived from the public dev mnemonic.
WALLET_KEY = _dev_key(0)
FAST = SendPolicy(poll_s=0.05, gas_wait_deadline_s=120, replace_after_blocks=3)


def wallet_signer() -> LocalKeySigner:
    return LocalKeySigner.from_key(WALLET_KEY, label="test wallet")


def chain_rpc(chain: ChainConfig, url: str) -> ChainRpc:
    return ChainRpc(chain, ChainSettings(rpc_urls=(SecretStr(url),)), timeout_s=30)


def live_context(chain: ChainConfig, url: str, journal_path: Path, *, signer: Signer | None = None,
                 policy: SendPolicy = FAST,
                 progress: Callable[[GasWaitProgress], None] | None = None) -> ExecutionContext:
    rpc = chain_rpc(chain, url)
    journal = JournalStore.open(journal_path)
    sender = LiveSender(rpc, signer or wallet_signer(), journal, policy, progress=progress or (lambda _p: None))
    return ExecutionContext(chain=chain, rpc=rpc, sender=sender, journal=journal)


def router(w3: Web3, address: str) -> Any:
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=load_official("UniswapV2Router02").abi)


def erc20(w3: Web3, address: str) -> Any:
    """Any sandbox token (SandboxToken's ABI: ERC-20 + the deployer's ``mint``, which USDC and USDT share)."""
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=load_official("SandboxToken").abi)


def token_swap_intent(w3: Web3, chain: ChainConfig, router_address: str, wallet: str, *, key: str, sell: str,
                      buy: str, amount_raw: int, min_out_raw: int | None = None, spender: str | None = None,
                      path: list[str] | None = None) -> TxIntent:
    """An exact-input V2 swap with an exact approval; ``min_out`` defaults to 99% of the quote."""
    r = router(w3, router_address)
    route = path or [chain.token(sell).address, chain.token(buy).address]
    quoted = r.functions.getAmountsOut(amount_raw, route).call()[-1]
    min_out = quoted * 99 // 100 if min_out_raw is None else min_out_raw
    data = r.encode_abi("swapExactTokensForTokens", args=[amount_raw, min_out, route, wallet, int(time.time()) + 3600])
    return TxIntent(chain=chain.name, plan_id=f"plan-{key}", idempotency_key=key, to=router_address,
                    data=bytes.fromhex(data[2:]),
                    approval=Approval(token=route[0], spender=spender or router_address, amount_raw=amount_raw),
                    expected_deltas=(BalanceDelta(token=route[0], min_raw=-amount_raw, max_raw=-amount_raw),
                                     BalanceDelta(token=route[-1], min_raw=min_out)),
                    max_gas=1_500_000)


def eth_swap_intent(w3: Web3, chain: ChainConfig, router_address: str, wallet: str, *, key: str, buy: str,
                    value_wei: int) -> TxIntent:
    """Native ETH in, ``buy`` out: no approval needed."""
    r = router(w3, router_address)
    route = [chain.token(chain.wrapped_native).address, chain.token(buy).address]
    min_out = r.functions.getAmountsOut(value_wei, route).call()[-1] * 99 // 100
    data = r.encode_abi("swapExactETHForTokens", args=[min_out, route, wallet, int(time.time()) + 3600])
    return TxIntent(chain=chain.name, plan_id=f"plan-{key}", idempotency_key=key, to=router_address,
                    data=bytes.fromhex(data[2:]), value_wei=value_wei,
                    expected_deltas=(BalanceDelta(token="native", min_raw=-value_wei, max_raw=-value_wei),
                                     BalanceDelta(token=route[-1], min_raw=min_out)))


def wait_until(predicate: Callable[[], bool], *, what: str, timeout_s: float = 60.0) -> None:
    """Poll ``predicate`` (a guard against hangs, not a timing assertion)."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


def swap_events(w3: Web3, pair: str, from_block: int) -> int:
    topic = abi("UniswapV2Pair").event_topic("Swap")
    return len(w3.eth.get_logs({"address": Web3.to_checksum_address(pair), "fromBlock": from_block,
                                "toBlock": "latest", "topics": [topic]}))
