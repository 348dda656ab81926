"""ERC-4626 adapter: one batched read of every allow-listed vault of a chain, and unsigned vault intents.

``fetch_vault_states`` reads, in one Multicall3 ``aggregate3`` eth_call (one block), each vault's
``asset``, ``totalAssets``, ``totalSupply``, share price, conversions and previews of a probe amount,
``maxDeposit``/``maxWithdraw``/``maxRedeem`` of the wallet, the wallet's shares and what they are worth, and
the wallet's liquid balance of the underlying token. A sub-call that fails reads as ``None``; the policy
turns a missing value into a reason not to use the vault.

``build_deposit_intent`` / ``build_withdraw_intent`` / ``build_redeem_intent`` return ``TxIntent``s for the
execution pipeline: an exact approval of the underlying to the vault (deposits only), and the balance
deltas the pipeline checks after the receipt (the previewed amount, less a tolerance). They refuse any
vault that is not in the chain file's ``[[vaults]]`` allow-list.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict
from web3 import Web3

from agent.chain.abi import abi
from agent.chain.multicall import Call, aggregate
from agent.chain.rpc import ChainRpc
from agent.config.chains import ChainConfig, Vault
from agent.errors import ExecutionError, TemporaryError
from agent.execution.intent import Approval, BalanceDelta, TxIntent
from agent.units import to_units

FROZEN = ConfigDict(frozen=True, extra="forbid")
BPS = 10_000
#: Conversions are read for 10**(decimals + PROBE_EXP) units, so a share price is exact to ~1e-9 of a unit.
PROBE_EXP = 9
#: Gas bound for one vault call (deposit/withdraw/redeem); real vaults with strategies use a few hundred k.
VAULT_MAX_GAS = 1_500_000

ERC4626 = abi("ERC4626")
BALANCE_OF = ERC4626.fn("balanceOf")
PREVIEWS = {kind: ERC4626.fn(f"preview{kind.capitalize()}") for kind in ("deposit", "withdraw", "redeem")}


class VaultState(BaseModel):
    """One vault as read at one block, for one wallet. Raw units: shares in the vault's decimals, assets in
    the underlying's. ``None`` = that sub-call failed or returned garbage."""

    model_config = FROZEN

    chain: str
    vault: str
    address: str
    block: int
    timestamp: int
    asset: str | None
    expected_asset: str
    total_assets_raw: int | None
    total_supply_raw: int | None
    probe_shares_raw: int
    probe_assets_raw: int
    #: convertToAssets(probe_shares_raw) and previewRedeem(probe_shares_raw)
    assets_per_probe_raw: int | None
    preview_redeem_raw: int | None
    #: convertToShares(probe_assets_raw) and previewDeposit(probe_assets_raw)
    shares_per_probe_raw: int | None
    preview_deposit_raw: int | None
    max_deposit_raw: int | None
    max_withdraw_raw: int | None
    max_redeem_raw: int | None
    shares_raw: int
    position_assets_raw: int | None
    underlying_balance_raw: int | None
    share_decimals: int
    asset_decimals: int

    @property
    def assets_per_share(self) -> Decimal | None:
        """Underlying units per whole share (e.g. 1.0437 USDC per sUSDC)."""
        if self.assets_per_probe_raw is None:
            return None
        shares = to_units(self.probe_shares_raw, self.share_decimals)
        return to_units(self.assets_per_probe_raw, self.asset_decimals) / shares

    @property
    def asset_matches(self) -> bool:
        return self.asset is not None and self.asset.lower() == self.expected_asset.lower()

    def preview_deviation_bps(self) -> Decimal | None:
        """The larger gap between a preview and its conversion (deposit and redeem sides), in bps."""
        pairs = ((self.preview_deposit_raw, self.shares_per_probe_raw),
                 (self.preview_redeem_raw, self.assets_per_probe_raw))
        worst = Decimal(0)
        for preview, convert in pairs:
            if preview is None or not convert:
                return None
            worst = max(worst, abs(Decimal(preview - convert)) / Decimal(convert) * BPS)
        return worst


def listed_vault(chain: ChainConfig, name_or_address: str) -> Vault:
    """The allow-listed vault by name or address; anything else is refused (``ExecutionError``)."""
    low = name_or_address.lower()
    for v in chain.vaults:
        if v.name == name_or_address or v.address.lower() == low:
            return v
    raise ExecutionError(f"chain {chain.name}: refusing vault {name_or_address!r}: it is not in the [[vaults]] "
                         f"allow-list of chains/{chain.name}.toml")


#: (ERC-4626 function, argument, VaultState field) read from each vault; "probe_shares"/"probe_assets"/"wallet"
#: name the argument.
VAULT_READS = (("asset", None, "asset"), ("totalAssets", None, "total_assets_raw"),
               ("totalSupply", None, "total_supply_raw"), ("convertToAssets", "probe_shares", "assets_per_probe_raw"),
               ("previewRedeem", "probe_shares", "preview_redeem_raw"),
               ("convertToShares", "probe_assets", "shares_per_probe_raw"),
               ("previewDeposit", "probe_assets", "preview_deposit_raw"), ("maxDeposit", "wallet", "max_deposit_raw"),
               ("maxWithdraw", "wallet", "max_withdraw_raw"), ("maxRedeem", "wallet", "max_redeem_raw"),
               ("balanceOf", "wallet", "shares_raw"))


def _calls(chain: ChainConfig, v: Vault, wallet: str) -> list[tuple[Call, str]]:
    under = chain.token(v.asset)
    given = {"probe_shares": 10 ** (v.decimals + PROBE_EXP), "probe_assets": 10 ** (under.decimals + PROBE_EXP),
             "wallet": wallet}
    calls = [(Call(v.address, ERC4626.fn(name), () if arg is None else (given[arg],)), key)
             for name, arg, key in VAULT_READS]
    return [*calls, (Call(under.address, BALANCE_OF, (wallet,)), "underlying_balance_raw")]


def _value(result: tuple[Any, ...] | None) -> Any:
    if result is None:
        return None
    value = result[0]
    return Web3.to_checksum_address(value) if isinstance(value, str) else int(value)


def fetch_vault_states(rpc: ChainRpc, wallet: str, vaults: Sequence[Vault] | None = None) -> dict[str, VaultState]:
    """Read every allow-listed vault of ``rpc.chain`` (or ``vaults``) for ``wallet`` in one ``aggregate3``.

    A second aggregate3 round is needed only for ``convertToAssets(shares)``, which depends on the balance: it
    rides on the probe instead (position = shares × probe price), so one eth_call suffices.
    """
    chain = rpc.chain
    chosen = [listed_vault(chain, v.name) for v in (vaults if vaults is not None else chain.vaults)]
    if not chosen:
        return {}
    mc, multicall3 = chain.multicall3, abi("Multicall3")
    head = [(Call(mc, multicall3.fn("getBlockNumber")), "block"),
            (Call(mc, multicall3.fn("getCurrentBlockTimestamp")), "timestamp")]
    per_vault = [_calls(chain, v, wallet) for v in chosen]
    flat = head + [c for calls in per_vault for c in calls]
    values = [_value(r) for r in aggregate(rpc, [call for call, _ in flat], what="vault aggregate3")]
    block, timestamp = values[0], values[1]
    if block is None or timestamp is None:
        raise TemporaryError(f"chain {chain.name}: Multicall3 did not return the block number/timestamp")
    out: dict[str, VaultState] = {}
    offset = len(head)
    for v, calls in zip(chosen, per_vault, strict=True):
        got = {key: values[offset + i] for i, (_, key) in enumerate(calls)}
        offset += len(calls)
        out[v.name] = _state(chain, v, block, timestamp, got)
    return out


def fetch_vault_state(rpc: ChainRpc, vault: str, wallet: str) -> VaultState:
    """One allow-listed vault (by name or address) of ``rpc.chain``; see ``fetch_vault_states``."""
    v = listed_vault(rpc.chain, vault)
    return fetch_vault_states(rpc, wallet, [v])[v.name]


def fetch_preview(rpc: ChainRpc, vault: str, kind: str, amount_raw: int) -> int:
    """``previewDeposit`` / ``previewWithdraw`` / ``previewRedeem`` of ``amount_raw`` at the latest block."""
    v = listed_vault(rpc.chain, vault)
    fn = PREVIEWS[kind]
    data = fn.encode(amount_raw)
    raw = rpc.read(lambda w3: w3.eth.call({"to": v.address, "data": data}, "latest"),
                   what=f"preview{kind.capitalize()}")
    return int(fn.decode_output(bytes(raw))[0])


def _state(chain: ChainConfig, v: Vault, block: int, timestamp: int, got: dict[str, Any]) -> VaultState:
    under = chain.token(v.asset)
    probe_shares = 10 ** (v.decimals + PROBE_EXP)
    shares = got["shares_raw"] or 0
    per_probe = got["assets_per_probe_raw"]
    position = shares * per_probe // probe_shares if per_probe is not None else None
    return VaultState(chain=chain.name, vault=v.name, address=v.address, block=block, timestamp=timestamp,
                      expected_asset=under.address, probe_shares_raw=probe_shares,
                      probe_assets_raw=10 ** (under.decimals + PROBE_EXP), shares_raw=shares,
                      position_assets_raw=position, share_decimals=v.decimals, asset_decimals=under.decimals,
                      **{k: val for k, val in got.items() if k != "shares_raw"})


# ------------------------------------------------------------------------------------------------- intents
def down_bps(amount_raw: int, bps: int) -> int:
    """``amount_raw`` less ``bps`` basis points, rounded down."""
    return amount_raw * (BPS - bps) // BPS


def up_bps(amount_raw: int, bps: int) -> int:
    """``amount_raw`` plus ``bps`` basis points, rounded up."""
    return -(-amount_raw * (BPS + bps) // BPS)


def _intent(chain: ChainConfig, v: Vault, kind: str, data: bytes, *, plan_id: str, key: str, description: str,
            deltas: tuple[BalanceDelta, ...], approval: Approval | None = None) -> TxIntent:
    return TxIntent(chain=chain.name, plan_id=plan_id, idempotency_key=key, kind=kind, to=v.address, data=data,
                    approval=approval, expected_deltas=deltas, max_gas=VAULT_MAX_GAS, description=description)


def build_deposit_intent(chain: ChainConfig, vault: str, *, assets_raw: int, receiver: str, min_shares_raw: int,
                         plan_id: str, idempotency_key: str, description: str = "") -> TxIntent:
    """Deposit exactly ``assets_raw`` of the underlying (exact approval to the vault), at least
    ``min_shares_raw`` shares back."""
    v = listed_vault(chain, vault)
    if assets_raw <= 0:
        raise ExecutionError(f"chain {chain.name}: deposit into {v.name} of {assets_raw} raw; nothing to do")
    under = chain.token(v.asset).address
    data = ERC4626.encode("deposit", assets_raw, receiver)
    return _intent(chain, v, "deposit", data, plan_id=plan_id, key=idempotency_key,
                   description=description or f"deposit {assets_raw} raw {v.asset} into {v.name}",
                   approval=Approval(token=under, spender=v.address, amount_raw=assets_raw),
                   deltas=(BalanceDelta(token=under, min_raw=-assets_raw, max_raw=-assets_raw),
                           BalanceDelta(token=v.address, min_raw=min_shares_raw)))


def build_withdraw_intent(chain: ChainConfig, vault: str, *, assets_raw: int, owner: str, max_shares_raw: int,
                          plan_id: str, idempotency_key: str, description: str = "") -> TxIntent:
    """Withdraw exactly ``assets_raw`` of the underlying to ``owner``, burning at most ``max_shares_raw``."""
    v = listed_vault(chain, vault)
    if assets_raw <= 0:
        raise ExecutionError(f"chain {chain.name}: withdrawal from {v.name} of {assets_raw} raw; nothing to do")
    under = chain.token(v.asset).address
    return _intent(chain, v, "withdraw", ERC4626.encode("withdraw", assets_raw, owner, owner), plan_id=plan_id,
                   key=idempotency_key, description=description or f"withdraw {assets_raw} raw {v.asset} "
                                                                    f"from {v.name}",
                   deltas=(BalanceDelta(token=under, min_raw=assets_raw, max_raw=assets_raw),
                           BalanceDelta(token=v.address, min_raw=-max_shares_raw, max_raw=0)))


def build_redeem_intent(chain: ChainConfig, vault: str, *, shares_raw: int, owner: str, min_assets_raw: int,
                        plan_id: str, idempotency_key: str, description: str = "") -> TxIntent:
    """Redeem exactly ``shares_raw`` shares of ``owner`` for at least ``min_assets_raw`` of the underlying."""
    v = listed_vault(chain, vault)
    if shares_raw <= 0:
        raise ExecutionError(f"chain {chain.name}: redemption from {v.name} of {shares_raw} shares; nothing to do")
    under = chain.token(v.asset).address
    return _intent(chain, v, "redeem", ERC4626.encode("redeem", shares_raw, owner, owner), plan_id=plan_id,
                   key=idempotency_key, description=description or f"redeem {shares_raw} shares of {v.name}",
                   deltas=(BalanceDelta(token=v.address, min_raw=-shares_raw, max_raw=-shares_raw),
                           BalanceDelta(token=under, min_raw=min_assets_raw)))
