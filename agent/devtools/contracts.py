"""Compiled contracts: load their artifacts and deploy them.

Two kinds of artifact, both committed and checked (nothing here compiles): the official protocol builds in
``contracts/build/official`` (``contracts/official.py --check``: Uniswap V2/V3, WETH9, Circle's FiatToken,
OpenZeppelin tokens and vaults, the USDT-like token, Multicall3) and the project's own Vyper contracts in
``contracts/build`` (``contracts/compile.py --check``: the local aggregator router and its shape adapters, since
no aggregator router can run here). ``contract_at`` takes either name; the generic names of the Vyper stand-ins
that were removed (``ERC20``, ``Vault4626``) name the official builds that replaced them.

``deploy`` sends from an account the node manages (eth-tester accounts, anvil's unlocked dev
accounts, or any account web3's signing middleware can sign for) and waits for the receipt, so it
works the same on the in-process EVM and on anvil over HTTP.
"""

from __future__ import annotations

import json
import logging
import re
from functools import cache
from typing import Any

from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from pydantic import BaseModel, ConfigDict
from web3 import Web3
from web3.contract import Contract
from web3.types import TxParams, TxReceipt

from agent.errors import ConfigError, ExecutionError
from agent.resources import contracts_dir

logger = logging.getLogger(__name__)

BUILD_DIR = contracts_dir()
#: The official builds (npm packages, solc-js, Multicall3's pre-signed tx) written by contracts/official.py.
OFFICIAL_DIR = BUILD_DIR / "official"
#: Seconds to wait for a deployment receipt (anvil with automine answers at once).
RECEIPT_TIMEOUT_S = 60.0


class DeployFailed(ExecutionError):
    """A deployment transaction reverted or created no contract."""


class Artifact(BaseModel):
    """One compiled contract, as written by contracts/compile.py."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    contract: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    #: Runtime code as compiled, without the immutables a constructor appends at deployment.
    deployed_bytecode: bytes
    #: ERC-5202 blueprint deploy code, for contracts that other contracts create from a blueprint.
    blueprint_bytecode: bytes | None
    storage_layout: dict[str, Any]
    source_sha256: str
    vyper_version: str
    evm_version: str
    optimize: str


@cache
def load_artifact(name: str) -> Artifact:
    """Read contracts/build/<name>.json. The result is cached and shared: do not mutate its ABI."""
    path = BUILD_DIR / f"{name}.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        known = sorted(p.stem for p in BUILD_DIR.glob("*.json"))
        raise ConfigError(
            f"no compiled contract {name!r} at {path} (known: {', '.join(known) or 'none'}); "
            "run `python contracts/compile.py`"
        ) from None
    for key in ("bytecode", "deployed_bytecode", "blueprint_bytecode"):
        if raw.get(key) is not None:
            raw[key] = bytes(HexBytes(raw[key]))
    return Artifact.model_validate(raw)


class OfficialArtifact(BaseModel):
    """One official build, as written by contracts/official.py (``provenance`` says where it came from)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    contract: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    deployed_bytecode: bytes
    #: {source file: {library: [{start, length}]}}: byte offsets in ``bytecode`` to fill with library addresses
    link_references: dict[str, dict[str, list[dict[str, int]]]]
    provenance: dict[str, Any]
    raw_transaction: str | None = None

    def linked_bytecode(self, libraries: dict[str, str]) -> bytes:
        """Creation code with every library placeholder replaced by the address given for that library."""
        code = bytearray(self.bytecode)
        for refs in self.link_references.values():
            for library, spots in refs.items():
                if library not in libraries:
                    raise ConfigError(f"{self.contract} needs library {library} linked: pass libraries={{...}}")
                address = bytes(HexBytes(libraries[library]))
                for spot in spots:
                    code[spot["start"]:spot["start"] + spot["length"]] = address
        return bytes(code)


_LINK_PLACEHOLDER = re.compile(r"__.{36}__")


@cache
def load_official(name: str) -> OfficialArtifact:
    """Read contracts/build/official/<name>.json. Cached and shared: do not mutate its ABI."""
    path = OFFICIAL_DIR / f"{name}.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        known = sorted(p.stem for p in OFFICIAL_DIR.glob("*.json"))
        raise ConfigError(
            f"no official build {name!r} at {path} (known: {', '.join(known) or 'none'}); "
            "run `make tools && python contracts/official.py`"
        ) from None
    for key in ("bytecode", "deployed_bytecode"):
        # library placeholders (40 characters between "__") become zeros; linked_bytecode fills them in
        raw[key] = bytes(HexBytes(_LINK_PLACEHOLDER.sub("0" * 40, raw[key])))
    return OfficialArtifact.model_validate(raw)


def official_at(w3: Web3, name: str, address: str) -> Contract:
    """A web3 contract handle for the official build `name` at `address`."""
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=load_official(name).abi)


def deploy_official(w3: Web3, name: str, *args: Any, sender: str, libraries: dict[str, str] | None = None,
                    value: int = 0) -> ChecksumAddress:
    """Deploy the official build `name` with constructor `args` (libraries linked by name) from `sender`."""
    artifact = load_official(name)
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.linked_bytecode(libraries or {}))
    tx = factory.constructor(*args).build_transaction({"from": Web3.to_checksum_address(sender), "value": value})
    return _send_and_confirm(w3, tx, name)


#: names of removed Vyper stand-ins -> the official build with their interface (SandboxToken's ABI, with
#: ``mint``, fits every sandbox token: FiatToken and the USDT-like token have the same ``mint`` selector)
OFFICIAL_ALIASES = {"ERC20": "SandboxToken", "Vault4626": "SavingsVault"}


def contract_at(w3: Web3, name: str, address: str) -> Contract:
    """A web3 contract handle for `name` at `address`: a Vyper artifact of contracts/build, else an official build."""
    if (BUILD_DIR / f"{name}.json").is_file():
        abi = load_artifact(name).abi
    else:
        abi = load_official(OFFICIAL_ALIASES.get(name, name)).abi
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi)


def _send_and_confirm(w3: Web3, tx: TxParams, what: str) -> ChecksumAddress:
    tx_hash = w3.eth.send_transaction(tx)
    receipt: TxReceipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT_S)
    address = receipt.get("contractAddress")
    if receipt["status"] != 1 or not address:
        raise DeployFailed(f"deploying {what} failed: tx {tx_hash.to_0x_hex()} status {receipt['status']}")
    logger.debug("deployed %s at %s (tx %s)", what, address, tx_hash.to_0x_hex())
    return Web3.to_checksum_address(address)


def deploy(w3: Web3, name: str, *args: Any, sender: str, value: int = 0) -> ChecksumAddress:
    """Deploy contract `name` with constructor `args` from `sender`; returns its address."""
    artifact = load_artifact(name)
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    tx = factory.constructor(*args).build_transaction({"from": Web3.to_checksum_address(sender), "value": value})
    return _send_and_confirm(w3, tx, name)


def deploy_blueprint(w3: Web3, name: str, *, sender: str) -> ChecksumAddress:
    """Deploy `name` as an ERC-5202 blueprint (code that only create_from_blueprint can use)."""
    artifact = load_artifact(name)
    if artifact.blueprint_bytecode is None:
        raise ConfigError(
            f"{name} has no blueprint_bytecode; add it to BLUEPRINTS in contracts/compile.py and recompile"
        )
    tx: TxParams = {"from": Web3.to_checksum_address(sender), "data": HexBytes(artifact.blueprint_bytecode)}
    return _send_and_confirm(w3, tx, f"{name} blueprint")


def deploy_uniswap_v2(w3: Web3, *, sender: str, weth: str) -> tuple[ChecksumAddress, ChecksumAddress]:
    """Deploy the official UniswapV2Factory (fee setter = sender) and UniswapV2Router02.

    Returns ``(factory, router)``.
    """
    factory = deploy_official(w3, "UniswapV2Factory", Web3.to_checksum_address(sender), sender=sender)
    router = deploy_official(w3, "UniswapV2Router02", factory, weth, sender=sender)
    return factory, router


def deploy_token(
    w3: Web3,
    *,
    name: str,
    symbol: str,
    decimals: int,
    sender: str,
    owner: str | None = None,
    approve_requires_zero: bool = False,
) -> ChecksumAddress:
    """Deploy OpenZeppelin's SandboxToken (owner defaults to `sender`), or the USDT-like TetherToken when
    ``approve_requires_zero`` (no bool returned, approve needs 0 first, bare reverts); both mint for the owner."""
    owner_address = Web3.to_checksum_address(owner or sender)
    name_ = "TetherToken" if approve_requires_zero else "SandboxToken"
    return deploy_official(w3, name_, name, symbol, decimals, owner_address, sender=sender)


def add_liquidity(
    w3: Web3,
    *,
    factory: str,
    token_a: str,
    token_b: str,
    amount_a_raw: int,
    amount_b_raw: int,
    sender: str,
) -> ChecksumAddress:
    """Create the pair if needed, move both amounts from `sender` into it and mint LP shares to `sender`.

    `sender` must hold both amounts. Returns the pair address.
    """
    sender = Web3.to_checksum_address(sender)
    factory_contract = official_at(w3, "UniswapV2Factory", factory)
    pair = factory_contract.functions.getPair(token_a, token_b).call()
    if int(pair, 16) == 0:
        _transact(w3, factory_contract.functions.createPair(token_a, token_b), sender)
        pair = factory_contract.functions.getPair(token_a, token_b).call()
    for token, amount in ((token_a, amount_a_raw), (token_b, amount_b_raw)):
        _transact(w3, official_at(w3, "SandboxToken", token).functions.transfer(pair, amount), sender)
    _transact(w3, official_at(w3, "UniswapV2Pair", pair).functions.mint(sender), sender)
    return Web3.to_checksum_address(pair)


def _transact(w3: Web3, call: Any, sender: str) -> TxReceipt:
    tx_hash = call.transact({"from": sender})
    receipt: TxReceipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT_S)
    if receipt["status"] != 1:
        raise ExecutionError(f"{call.fn_name} reverted: tx {tx_hash.to_0x_hex()}")
    return receipt
