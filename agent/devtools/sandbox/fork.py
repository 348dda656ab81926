"""A chain forked by a local anvil (``anvil --fork-url``): start it, check it, fund the wallet on it.

``start_fork`` checks the upstream chain id against ``chains/<chain>.toml`` before forking, ``verify_fork`` that
every configured contract has code on the fork (naming the bad table entry otherwise). ``fund_wallet`` gives the
wallet native coin with ``anvil_setBalance`` and ERC-20 balances by *finding* each token's balance slot: slots
``0..MAX_PROBE_SLOT`` are probed under both mapping layouts — Solidity ``keccak(pad(holder) ‖ pad(slot))`` and
Vyper ``keccak(pad(slot) ‖ pad(holder))`` — by writing a marker with ``anvil_setStorageAt`` and checking that
``balanceOf`` returns it (the slot is restored either way). RPC URLs are only ever logged redacted.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from eth_utils import keccak
from web3 import Web3
from web3.types import RPCEndpoint

from agent.chain.abi import abi
from agent.chain.rpc import make_web3
from agent.config.chains import ChainConfig
from agent.config.sections import NotSymbolAmount, symbol_amounts
from agent.config.settings import AppConfig, ChainSettings, redact_url, safe_error
from agent.devtools.sandbox.anvil import AnvilProcess, start_anvil
from agent.errors import ChainUnavailable, ConfigError, SafetyHalt
from agent.units import to_raw

log = logging.getLogger(__name__)

MAX_PROBE_SLOT = 20
MARKER = 0x5EED_0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_1337
Layout = Literal["solidity", "vyper"]


# ------------------------------------------------------------------------------------------------ storage slots
def _word(value: int | str) -> bytes:
    number = int(value, 16) if isinstance(value, str) else value
    return number.to_bytes(32, "big")


def solidity_mapping_slot(slot: int, key: str) -> int:
    """Storage slot of ``mapping[key]`` for a Solidity mapping declared at ``slot``."""
    return int.from_bytes(keccak(_word(key) + _word(slot)), "big")


def vyper_mapping_slot(slot: int, key: str) -> int:
    """Storage slot of ``HashMap[key]`` for a Vyper HashMap declared at ``slot``."""
    return int.from_bytes(keccak(_word(slot) + _word(key)), "big")


def mapping_slot(layout: Layout, slot: int, key: str) -> int:
    return solidity_mapping_slot(slot, key) if layout == "solidity" else vyper_mapping_slot(slot, key)


def set_storage(w3: Web3, address: str, slot: int, value: int) -> None:
    """``anvil_setStorageAt`` one 32-byte word."""
    w3.provider.make_request(RPCEndpoint("anvil_setStorageAt"),
                             [Web3.to_checksum_address(address), "0x" + _word(slot).hex(), "0x" + _word(value).hex()])


def get_storage(w3: Web3, address: str, slot: int) -> int:
    return int.from_bytes(w3.eth.get_storage_at(Web3.to_checksum_address(address), slot), "big")


def balance_of(w3: Web3, token: str, holder: str) -> int:
    data = w3.eth.call({"to": Web3.to_checksum_address(token), "data": abi("ERC20").encode("balanceOf", holder)})
    return int(abi("ERC20").decode_output("balanceOf", bytes(data))[0])


@dataclass(frozen=True)
class BalanceSlot:
    """Where a token keeps balances: the mapping's declared slot and the language's key layout."""

    layout: Layout
    slot: int

    def for_holder(self, holder: str) -> int:
        return mapping_slot(self.layout, self.slot, holder)


def find_balance_slot(w3: Web3, token: str, holder: str, *, max_slot: int = MAX_PROBE_SLOT) -> BalanceSlot:
    """Probe slots 0..max_slot under both layouts; the one where a marker shows up in ``balanceOf`` wins."""
    for slot in range(max_slot + 1):
        for layout in ("solidity", "vyper"):
            candidate = BalanceSlot(layout, slot)
            where = candidate.for_holder(holder)
            old = get_storage(w3, token, where)
            marker = MARKER if old != MARKER else MARKER + 1
            set_storage(w3, token, where, marker)
            try:
                hit = balance_of(w3, token, holder) == marker
            except Exception:  # a probe that breaks balanceOf is not the slot
                hit = False
            set_storage(w3, token, where, old)
            if hit:
                log.debug("token %s: balances at %s slot %d", token, layout, slot)
                return candidate
    raise SafetyHalt(f"token {token}: no balance mapping found in slots 0..{max_slot} (Solidity or Vyper layout); "
                     "it may keep balances elsewhere (proxy with namespaced storage, rebasing shares)")


def set_token_balance(w3: Web3, token: str, holder: str, amount_raw: int) -> BalanceSlot:
    """Give ``holder`` exactly ``amount_raw`` of ``token`` by writing its balance slot; checked with balanceOf."""
    found = find_balance_slot(w3, token, holder)
    where = found.for_holder(holder)
    # bits of the word that are not the balance stay as they are: FiatTokenV2_2 (USDC) packs the holder's
    # blacklist flag into the top bit of the same word, and funding must not lift a blacklist
    flags = get_storage(w3, token, where) ^ balance_of(w3, token, holder)
    if amount_raw & flags:
        raise SafetyHalt(f"token {token}: {amount_raw} does not fit beside the flag bits of its balance word")
    set_storage(w3, token, where, flags | amount_raw)
    if balance_of(w3, token, holder) != amount_raw:
        raise SafetyHalt(f"token {token}: balanceOf does not return the written balance")
    return found


# ------------------------------------------------------------------------------------------------ the fork
@dataclass
class Fork:
    """One running fork of ``chain``. ``stop()`` ends its anvil."""

    chain: ChainConfig
    anvil: AnvilProcess
    block: int

    @property
    def url(self) -> str:
        return self.anvil.url

    def w3(self) -> Web3:
        return make_web3(self.anvil.url, timeout_s=60)

    def stop(self) -> None:
        self.anvil.stop()


def upstream_url(config: AppConfig, chain_name: str) -> str:
    """The first configured RPC URL of the chain (anvil forks one URL)."""
    settings = config.chain_settings.get(chain_name)
    if settings is None:
        raise ConfigError(f"CHAINS: chain {chain_name!r} is not configured; set {chain_name.upper()}_RPC_URL")
    return settings.rpc_urls[0].get_secret_value()


def fetch_upstream_head(url: str, env_name: str) -> tuple[int, int]:
    """The upstream's chain id and latest block number."""
    try:
        w3 = make_web3(url, timeout_s=15)
        return int(w3.eth.chain_id), int(w3.eth.block_number)
    except Exception as exc:
        raise ChainUnavailable(f"{env_name} ({redact_url(url)}) did not answer eth_chainId: {safe_error(exc)}; "
                               "check the URL and that the node is up") from None


def start_fork(chain: ChainConfig, url: str, *, fork_block: int | None = None) -> Fork:
    """Check the upstream chain id, then start anvil forking it (at ``fork_block`` or the latest block)."""
    env_name = f"{chain.rpc_env}_RPC_URL"
    chain_id, head = fetch_upstream_head(url, env_name)
    if chain_id != chain.chain_id:
        raise SafetyHalt(f"{env_name} ({redact_url(url)}) answers with chain id {chain_id}, but "
                         f"chains/{chain.name}.toml says {chain.chain_id}; point the URL at the right network")
    if fork_block is not None and not 0 <= fork_block <= head:
        raise ConfigError(f"--fork-block {fork_block}: the upstream's latest block is {head}; pick 0..{head}")
    log.info("forking %s (chain id %s) from %s at block %s", chain.name, chain_id, redact_url(url),
             fork_block if fork_block is not None else "latest")
    anvil = start_anvil(chain_id=chain_id, fork_url=url, fork_block=fork_block)
    try:
        block = int(str(anvil.rpc("eth_blockNumber")), 16)
        anvil.rpc("evm_setIntervalMining", [1])  # blocks keep coming, as on the real chain
    except BaseException:
        anvil.stop()
        raise
    return Fork(chain=chain, anvil=anvil, block=block)


def verify_fork(w3: Web3, chain: ChainConfig) -> None:
    """Refuse a fork where any contract of ``chains/<chain>.toml`` has no code; name every bad entry."""
    contracts = chain.contract_addresses()
    with w3.batch_requests() as batch:
        for address in contracts.values():
            batch.add(w3.eth.get_code(Web3.to_checksum_address(address)))
        codes = list(batch.execute())
    missing = [f"{label} ({address})" for (label, address), code in zip(contracts.items(), codes, strict=True)
               if not code]
    if missing:
        raise SafetyHalt(f"fork of {chain.name}: no contract code at {', '.join(missing)}; fix that entry in "
                         f"chains/{chain.name}.toml (or fork the right network)")


def fork_config(base: AppConfig, chain_name: str, fork_url: str, *, wallet: str, journal_path: str) -> AppConfig:
    """``base`` narrowed to one chain read from the fork: on-chain quotes only, no private tx endpoint."""
    settings = base.settings.model_copy(update={
        "chains": (chain_name,),
        "aggregators": base.settings.aggregators.model_copy(update={"quote_sources": ("onchain",)}),
        "wallet_address": wallet, "signer": None,
        "signer_expected_address": None, "sandbox_private_key": None, "journal_path": journal_path})
    old = base.chain_settings[chain_name]
    chain_settings = ChainSettings.model_validate({
        "rpc_urls": (fork_url,), "max_base_fee_gwei": old.max_base_fee_gwei, "hard_cap_gwei": old.hard_cap_gwei,
        "gas_wait_deadline_s": old.gas_wait_deadline_s})
    return AppConfig(settings=settings, chains={chain_name: base.chains[chain_name]},
                     chain_settings={chain_name: chain_settings})


# ------------------------------------------------------------------------------------------------ funding
def holding_for(chain: ChainConfig, asset: str) -> str:
    """Which holding carries ``asset`` when funding: the native coin, a token of that symbol, or of that asset."""
    if asset == chain.native_symbol:
        return asset
    for t in chain.tokens:
        if t.symbol == asset:
            return t.symbol
    for t in chain.tokens:
        if t.asset_symbol == asset:
            return t.symbol
    raise ConfigError(f"TARGETS: {asset!r} is not held on chain {chain.name}; it cannot be funded on the fork")


def off_target_weights(targets: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """A deliberately off-target mix: halve every target and give the freed half to the first asset."""
    first = next(iter(targets))
    return {a: t / 2 + (Decimal(50) if a == first else Decimal(0)) for a, t in targets.items()}


def default_funding(chain: ChainConfig, targets: Mapping[str, Decimal], prices_usd: Mapping[str, Decimal], *,
                    total_usd: Decimal) -> dict[str, Decimal]:
    """Token amounts (native symbol for the coin) worth ``total_usd`` in the off-target mix."""
    out: dict[str, Decimal] = {}
    for asset, weight in off_target_weights(targets).items():
        holding = holding_for(chain, asset)
        price_key = chain.wrapped_native if holding == chain.native_symbol else holding
        price = prices_usd.get(price_key)
        if not price:
            raise SafetyHalt(f"fork of {chain.name}: no on-chain price for {price_key}; cannot size the funding")
        out[holding] = (total_usd * weight / 100 / price).quantize(Decimal("1e-8"))
    return out


def parse_funding(text: str) -> dict[str, Decimal]:
    """``ETH:30,WBTC:0.2,USDC:10000`` → amounts in token units."""
    try:
        return symbol_amounts(text)
    except NotSymbolAmount as exc:
        why = f"{exc.part!r} is not SYMBOL:AMOUNT; write e.g. --fund ETH:30,WBTC:0.2,USDC:10000"
        raise ConfigError(f"--fund: {why}") from None


@dataclass(frozen=True)
class Funded:
    symbol: str
    amount: Decimal
    amount_raw: int
    how: str  # "anvil_setBalance" or "<layout> slot N"


def fund_wallet(w3: Web3, chain: ChainConfig, wallet: str, amounts: Mapping[str, Decimal]) -> list[Funded]:
    """Set the wallet's native and token balances: listed ones to their amount, every other token to 0."""
    unknown = [s for s in amounts if s != chain.native_symbol and s not in {t.symbol for t in chain.tokens}]
    if unknown:
        raise ConfigError(f"--fund: {', '.join(unknown)} not a token of chains/{chain.name}.toml")
    out = []
    for t in chain.tokens:
        amount = amounts.get(t.symbol, Decimal(0))
        raw = to_raw(amount, t.decimals)
        found = set_token_balance(w3, t.address, wallet, raw)
        out.append(Funded(t.symbol, amount, raw, f"{found.layout} slot {found.slot}"))
    native = amounts.get(chain.native_symbol, Decimal(0))
    native_raw = to_raw(native, chain.native_decimals)
    w3.provider.make_request(RPCEndpoint("anvil_setBalance"), [Web3.to_checksum_address(wallet), hex(native_raw)])
    out.insert(0, Funded(chain.native_symbol, native, native_raw, "anvil_setBalance"))
    log.info("fork of %s: funded %s", chain.name, ", ".join(f"{f.symbol} {f.amount}" for f in out if f.amount_raw))
    return out
