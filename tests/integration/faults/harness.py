"""What the fault and kill tests share: one sandbox_a world on a module-scoped anvil (reset by evm_revert), a plan
of exactly one swap (WETH→USDC, with its exact approval), the wallet's balances and the trades on chain."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from web3 import Web3

from agent.chain.abi import abi
from agent.devtools.sandbox.anvil import AnvilProcess, start_anvil
from agent.devtools.sandbox.spec import WALLET, chain_spec
from agent.devtools.sandbox.world import World, deploy_world

#: against the sandbox_a wallet (~85 % ETH) these targets make a plan of one swap: sell ~8.6 WETH for USDC
TARGETS = "ETH:70,WBTC:7,USDC:23"
#: a balance may differ from the uninterrupted run's by this fraction (gas-sized drift of a re-made plan), the
#: native coin by this much wei (gas); a repeated trade moves them by whole trade sizes
TOKEN_TOLERANCE = 1e-4
NATIVE_TOLERANCE_WEI = 10**16


def agent_env(rpc_url: str, tmp: Path) -> dict[str, str]:
    (tmp / "empty.env").write_text("")
    return {"CHAINS": "sandbox_a", "SANDBOX_A_RPC_URL": rpc_url, "TARGETS": TARGETS, "WALLET_ADDRESS": WALLET,
            "SIGNER": "anvil:0", "SIGNER_EXPECTED_ADDRESS": WALLET, "QUOTE_SOURCES": "onchain",
            "VAULT_PARKING": "false", "MAX_IMPACT_BPS": "400", "MAX_QUOTE_DEVIATION_BPS": "400",
            "SANDBOX_A_MAX_BASE_FEE_GWEI": "30", "SANDBOX_A_HARD_CAP_GWEI": "150",
            "JOURNAL_PATH": str(tmp / "journal.sqlite"), "ENV_FILE": str(tmp / "empty.env")}


@dataclass
class Chain:
    anvil: AnvilProcess
    world: World

    @property
    def w3(self) -> Web3:
        return Web3(Web3.HTTPProvider(self.anvil.url))

    def balances(self) -> dict[str, int]:
        """The wallet's raw balances: native, every token of the chain file, the vault's shares."""
        w3 = self.w3
        erc20 = abi("ERC20")
        out = {"native": w3.eth.get_balance(WALLET)}
        for token in self.world.chain.tokens:
            data = w3.eth.call({"to": Web3.to_checksum_address(token.address),
                                "data": "0x" + erc20.encode("balanceOf", WALLET).hex()})
            out[token.symbol] = int.from_bytes(data[-32:], "big")
        return out

    def swaps(self, from_block: int) -> int:
        """Swap events on every pool of the world since ``from_block``."""
        topic = abi("UniswapV2Pair").event_topic("Swap")
        pairs = [Web3.to_checksum_address(p) for p in self.world.addresses.pairs.values()]
        return len(self.w3.eth.get_logs({"address": pairs, "fromBlock": from_block, "toBlock": "latest",
                                         "topics": [topic]}))

    def nonce(self) -> int:
        return self.w3.eth.get_transaction_count(WALLET)

    def approve(self, token: str, spender: str) -> None:
        """The wallet approves ``spender`` for all of ``token`` (test set-up: the agent then needs no approval)."""
        data = abi("ERC20").encode("approve", Web3.to_checksum_address(spender), 2**256 - 1)
        tx = self.w3.eth.send_transaction({"from": WALLET, "to": Web3.to_checksum_address(token),
                                           "data": "0x" + data.hex()})
        assert self.w3.eth.wait_for_transaction_receipt(tx)["status"] == 1

    def mining(self, on: bool) -> None:
        self.anvil.rpc("evm_setAutomine", [on])
        if on:
            self.anvil.rpc("evm_mine")


@dataclass(frozen=True)
class Outcome:
    balances: dict[str, int]
    swaps: int
    transactions: int
    #: (token, spender) of the run's approval, when known
    approval: tuple[str, str] = ("", "")


def outcome(chain: Chain, start_block: int, start_nonce: int) -> Outcome:
    return Outcome(chain.balances(), chain.swaps(start_block + 1), chain.nonce() - start_nonce)


def differences(got: Outcome, want: Outcome) -> list[str]:
    """What differs beyond gas-sized drift (empty: the same end state as the uninterrupted run)."""
    out = []
    if got.swaps != want.swaps:
        out.append(f"swaps {got.swaps} != {want.swaps}")
    if got.transactions != want.transactions:
        out.append(f"transactions {got.transactions} != {want.transactions}")
    for key, value in want.balances.items():
        slack = NATIVE_TOLERANCE_WEI if key == "native" else max(1, int(value * TOKEN_TOLERANCE))
        if abs(got.balances[key] - value) > slack:
            out.append(f"{key} {got.balances[key]} != {value}")
    return out


def module_chain() -> Iterator[Chain]:
    spec = chain_spec("sandbox_a")
    anvil = start_anvil(chain_id=spec.chain_id)
    try:
        yield Chain(anvil, deploy_world(anvil.url, spec=spec))
    finally:
        anvil.stop()


@contextmanager
def reverted(chain: Chain) -> Iterator[Chain]:
    snap = chain.anvil.rpc("evm_snapshot")
    try:
        yield chain
    finally:
        chain.anvil.rpc("evm_setAutomine", [True])
        chain.anvil.rpc("evm_revert", [snap])
        chain.anvil.rpc("anvil_setNextBlockBaseFeePerGas", [hex(10**9)])
