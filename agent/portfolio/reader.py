"""Read the wallet on every chain: one Multicall3 ``aggregate3`` eth_call per chain, chains in parallel.

The aggregate3 batch carries the block number, the native balance, every token and vault balance, each
vault's share price and each token's USD quote, so the whole chain is read at one block in one call. The
first read of a chain also checks its chain id and that every configured contract has code — in the same
JSON-RPC batch, so a status cycle costs one HTTP request per chain.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from web3 import Web3

from agent.chain.abi import abi
from agent.chain.multicall import Call, decode_aggregate3, encode_aggregate3
from agent.chain.rpc import ChainRpc
from agent.config.chains import ChainConfig
from agent.config.settings import safe_error
from agent.errors import AgentError, SafetyHalt
from agent.portfolio.models import ChainSnapshot, Holding, Snapshot
from agent.portfolio.valuation import (
    PriceCall,
    decode_pair_depths,
    decode_prices,
    pair_subcalls,
    plan_pair_calls,
    plan_price_calls,
    price_subcalls,
)

log = logging.getLogger(__name__)
BALANCE_OF = abi("ERC20").fn("balanceOf")
CONVERT_TO_ASSETS = abi("ERC4626").fn("convertToAssets")
GET_BLOCK_NUMBER = abi("Multicall3").fn("getBlockNumber")
GET_BASEFEE = abi("Multicall3").fn("getBasefee")
GET_ETH_BALANCE = abi("Multicall3").fn("getEthBalance")


@dataclass(frozen=True)
class SubCall:
    call: Call
    key: tuple[str, str]  # (kind, name): how the result is used


def plan_calls(chain: ChainConfig, wallet: str) -> tuple[list[SubCall], list[PriceCall]]:
    """Every sub-call of one chain's aggregate3, in a fixed order."""
    mc = chain.multicall3
    calls = [SubCall(Call(mc, GET_BLOCK_NUMBER), ("block", "")), SubCall(Call(mc, GET_BASEFEE), ("base_fee", "")),
             SubCall(Call(mc, GET_ETH_BALANCE, (wallet,)), ("native", ""))]
    calls += [SubCall(Call(t.address, BALANCE_OF, (wallet,)), ("token", t.symbol)) for t in chain.tokens]
    for v in chain.vaults:
        calls.append(SubCall(Call(v.address, BALANCE_OF, (wallet,)), ("vault", v.name)))
        calls.append(SubCall(Call(v.address, CONVERT_TO_ASSETS, (10**v.decimals,)), ("share_price", v.name)))
    price_calls = plan_price_calls(chain)
    calls += [SubCall(call, key) for call, key in price_subcalls(price_calls)]
    calls += [SubCall(call, key) for call, key in pair_subcalls(plan_pair_calls(chain))]
    return calls, price_calls


def decode_values(calls: list[SubCall], data: bytes) -> dict[tuple[str, str], tuple[Any, ...] | None]:
    """The aggregate3 return ``data`` filed by each sub-call's key (None: reverted or not decodable)."""
    results = decode_aggregate3([c.call for c in calls], data)
    return {c.key: r for c, r in zip(calls, results, strict=True)}


def build_snapshot(chain: ChainConfig, wallet: str, values: dict[tuple[str, str], Any],
                   price_calls: list[PriceCall]) -> ChainSnapshot:
    block_v = values.get(("block", ""))
    if block_v is None:
        raise SafetyHalt(f"chain {chain.name}: Multicall3 at {chain.multicall3} did not answer getBlockNumber()")
    prices = decode_prices(chain, price_calls, values)
    holdings: list[Holding] = []
    unread: list[str] = []
    native = values.get(("native", ""))
    if native is None:
        unread.append(chain.native_symbol)
    wrapped = chain.token(chain.wrapped_native)
    holdings.append(Holding(chain=chain.name, symbol=chain.native_symbol, asset=chain.native_symbol, kind="native",
                            address=None, decimals=chain.native_decimals, balance_raw=native[0] if native else 0,
                            price=prices.get(wrapped.symbol)))
    for t in chain.tokens:
        bal = values.get(("token", t.symbol))
        if bal is None:
            unread.append(t.symbol)
        holdings.append(Holding(chain=chain.name, symbol=t.symbol, asset=t.asset_symbol, kind="token",
                                address=t.address, decimals=t.decimals, balance_raw=bal[0] if bal else 0,
                                price=prices.get(t.symbol)))
    for v in chain.vaults:
        shares = values.get(("vault", v.name))
        per_share = values.get(("share_price", v.name))
        under = chain.token(v.asset)
        shares_raw = shares[0] if shares else 0
        if shares is None or (shares_raw and per_share is None):
            unread.append(v.name)
        under_raw = shares_raw * per_share[0] // 10**v.decimals if per_share else None
        holdings.append(Holding(chain=chain.name, symbol=v.name, asset=under.asset_symbol, kind="vault",
                                address=v.address, decimals=v.decimals, balance_raw=shares_raw,
                                underlying_symbol=under.symbol, underlying_raw=under_raw,
                                underlying_decimals=under.decimals,
                                price=prices.get(under.symbol) if under_raw is not None else None))
    base_fee = values.get(("base_fee", ""))
    pairs = decode_pair_depths(chain, plan_pair_calls(chain), prices, values)
    return ChainSnapshot(chain=chain.name, chain_id=chain.chain_id, available=True, block=block_v[0],
                         base_fee_wei=base_fee[0] if base_fee else None, holdings=tuple(holdings), prices=prices,
                         pair_depths_usd=pairs, unread=tuple(unread))


def fetch_chain(rpc: ChainRpc, wallet: str) -> ChainSnapshot:
    """Read one chain. Identity checks ride in the same JSON-RPC batch the first time."""
    chain = rpc.chain
    calls, price_calls = plan_calls(chain, wallet)
    payload = encode_aggregate3([c.call for c in calls])
    contracts = chain.contract_addresses()

    def _read(w3: Web3) -> list[Any]:
        with w3.batch_requests() as batch:
            if not rpc.verified:
                batch.add(w3.eth._chain_id())
                for addr in contracts.values():
                    batch.add(w3.eth.get_code(Web3.to_checksum_address(addr)))
            batch.add(w3.eth.call({"to": chain.multicall3, "data": payload}, "latest"))
            return list(batch.execute())

    responses = rpc.read(_read, what="aggregate3")
    if not rpc.verified:
        rpc.check_identity(int(responses[0]), dict(zip(contracts, responses[1:-1], strict=True)))
    return build_snapshot(chain, wallet, decode_values(calls, bytes(responses[-1])), price_calls)


def _read_or_report(rpc: ChainRpc, wallet: str) -> ChainSnapshot:
    try:
        return fetch_chain(rpc, wallet)
    except SafetyHalt:
        raise
    except AgentError as exc:
        log.warning("chain %s unavailable: %s", rpc.chain.name, exc)
        return ChainSnapshot(chain=rpc.chain.name, chain_id=rpc.chain.chain_id, available=False, error=str(exc))
    except Exception as exc:  # an adapter error we did not foresee: report it, keep the other chains
        log.warning("chain %s unavailable: %s", rpc.chain.name, safe_error(exc))
        return ChainSnapshot(chain=rpc.chain.name, chain_id=rpc.chain.chain_id, available=False,
                             error=safe_error(exc))


def fetch_snapshot(rpcs: list[ChainRpc], wallet: str) -> Snapshot:
    """Read every chain in parallel; an unreachable chain is reported, the others still read."""
    with ThreadPoolExecutor(max_workers=max(1, len(rpcs))) as pool:
        chains = list(pool.map(lambda r: _read_or_report(r, wallet), rpcs))
    return Snapshot(wallet=wallet, chains=tuple(chains))
