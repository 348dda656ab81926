"""Parking policy (pure: no I/O, no clock): which vault actions keep idle stables earning, and why not others.

Per chain, the hub stablecoin (``usd_stable``, the one the planner spends and withdraws just in time)
above the stable buffer is deposited into the allow-listed vaults over it, best measured yield first. A
vault is used only when every check passes: ``asset()`` equals the configured token, its share price is
not falling, previews agree with conversions within the tolerance, its TVL is at least the minimum, a
yield has been measured and is positive, and it accepts deposits (``maxDeposit``). Each deposit is bounded
by ``maxDeposit`` and by the vault's ``max_share_pct`` (our position as a share of the vault's total
assets); what one vault cannot take goes to the next. When liquid hub stables fall below the buffer, the
shortfall is withdrawn (lowest yield first, within ``maxWithdraw``). A vault whose share price fell, or that
is flagged in the journal, is never deposited into and — with ``exit_on_loss`` — is exited (every vault, any
underlying), within ``maxWithdraw``. Every skip, limit and flag comes back as a ``VaultNote`` with a reason.

Vaults over other stables (sDAI, sUSDS) are read, valued, checked and exited on loss, but not filled: the
planner does not sell vault positions of non-hub assets, so parking them would take them out of rebalancing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from agent.config.chains import ChainConfig, Vault
from agent.planning.costs import ChainCosts
from agent.planning.models import Action
from agent.portfolio.models import ChainSnapshot, Snapshot
from agent.units import to_raw, to_units
from agent.vaults.adapter import VaultState
from agent.vaults.yields import YieldMeasure

FROZEN = ConfigDict(frozen=True, extra="forbid")
HUNDRED = Decimal(100)
DAYS_PER_YEAR = Decimal(365)
NoteStatus = Literal["flagged", "skipped", "limited", "parked", "exiting"]


class ParkingParams(BaseModel):
    model_config = FROZEN

    stable_buffer_usd: Decimal = Decimal(0)
    #: percent of the whole portfolio; the buffer per chain is the larger of the two
    stable_buffer_pct: Decimal = Decimal(0)
    min_deposit_usd: Decimal = Decimal(50)
    min_tvl_usd: Decimal = Decimal(0)
    preview_tolerance_bps: int = 10
    exit_on_loss: bool = True
    #: skip a deposit whose gas (approve + deposit + a later withdrawal) exceeds its yield over this many days
    payback_days: Decimal = Decimal(30)


class VaultStats(BaseModel):
    """A vault's fresh state, its measured yield and its journal flag (``None`` = not flagged)."""

    model_config = FROZEN

    state: VaultState
    measure: YieldMeasure
    flagged: str | None = None


class VaultNote(BaseModel):
    model_config = FROZEN

    chain: str
    vault: str
    status: NoteStatus
    reason: str


class ParkingPlan(BaseModel):
    model_config = FROZEN

    created_at: datetime
    actions: tuple[Action, ...]
    notes: tuple[VaultNote, ...]
    buffer_usd: Decimal

    def flagged(self) -> list[VaultNote]:
        return [n for n in self.notes if n.status == "flagged"]


def effective_buffer_usd(*, buffer_usd: Decimal, buffer_pct: Decimal, total_usd: Decimal) -> Decimal:
    """The stable buffer kept liquid on each chain: ``STABLE_BUFFER_USD`` or ``STABLE_BUFFER_PCT`` of the
    portfolio, whichever is larger (pass this to the planner's ``PlanParams.stable_buffer_usd`` too)."""
    return max(buffer_usd, buffer_pct / HUNDRED * total_usd)


def portfolio_usd(snapshot: Snapshot) -> Decimal:
    return sum((h.usd for h in snapshot.holdings() if h.usd is not None), Decimal(0))


def plan_parking(*, snapshot: Snapshot, chains: Mapping[str, ChainConfig],
                 vault_stats: Mapping[tuple[str, str], VaultStats], params: ParkingParams, now: datetime,
                 costs: Mapping[str, ChainCosts] | None = None) -> ParkingPlan:
    """Deposits of idle hub stables and withdrawals (buffer refill, exits on loss), with a note per decision."""
    buffer = effective_buffer_usd(buffer_usd=params.stable_buffer_usd, buffer_pct=params.stable_buffer_pct,
                                  total_usd=portfolio_usd(snapshot))
    actions: list[Action] = []
    notes: list[VaultNote] = []
    for cs in snapshot.chains:
        if cs.available and cs.chain in chains and chains[cs.chain].vaults:
            _Chain(chains[cs.chain], cs, vault_stats, params, buffer,
                   costs.get(cs.chain) if costs else None, actions, notes).plan()
    return ParkingPlan(created_at=now, actions=tuple(actions), notes=tuple(notes), buffer_usd=buffer)


class _Chain:
    """The decisions for one chain (a helper object so each step stays small)."""

    def __init__(self, chain: ChainConfig, cs: ChainSnapshot, stats: Mapping[tuple[str, str], VaultStats],
                 params: ParkingParams, buffer_usd: Decimal, costs: ChainCosts | None, actions: list[Action],
                 notes: list[VaultNote]) -> None:
        self.chain, self.cs, self.params, self.costs = chain, cs, params, costs
        self.stats = {v.name: stats.get((chain.name, v.name)) for v in chain.vaults}
        self.buffer_usd = buffer_usd
        self.actions, self.notes = actions, notes
        self.hub = chain.token(chain.usd_stable)

    def note(self, vault: str, status: NoteStatus, reason: str) -> None:
        self.notes.append(VaultNote(chain=self.chain.name, vault=vault, status=status, reason=reason))

    def price(self, symbol: str) -> Decimal | None:
        p = self.cs.prices.get(symbol)
        return p.usd if p is not None and p.usd > 0 else None

    def usd(self, raw: int, symbol: str) -> Decimal:
        return to_units(raw, self.chain.token(symbol).decimals) * (self.price(symbol) or Decimal(0))

    def plan(self) -> None:
        exited_hub_raw = 0
        usable: list[tuple[Vault, VaultStats]] = []
        for v in self.chain.vaults:
            st = self.stats[v.name]
            if st is None:
                self.note(v.name, "skipped", "not read this cycle; not used")
                continue
            flag = self.check_loss(v, st)
            if flag is not None:
                exited = self.exit(v, st, flag)
                exited_hub_raw += exited if v.asset == self.hub.symbol else 0
                continue
            if v.asset == self.hub.symbol:
                usable.append((v, st))
        price = self.price(self.hub.symbol)
        if price is None:
            self.note("*", "skipped", f"no USD price for {self.hub.symbol}; parking needs one")
            return
        liquid = self.liquid_raw()
        buffer_raw = to_raw(self.buffer_usd / price, self.hub.decimals)
        min_raw = to_raw(self.params.min_deposit_usd / price, self.hub.decimals)
        excess = liquid + exited_hub_raw - buffer_raw
        if excess >= min_raw and excess > 0:
            eligible = [(v, st) for v, st in usable if self.eligible(v, st)]
            self.deposit(excess, min_raw, eligible)
        elif liquid + exited_hub_raw < buffer_raw - min_raw:
            self.refill(buffer_raw - liquid - exited_hub_raw, min_raw, usable)

    def liquid_raw(self) -> int:
        h = next((h for h in self.cs.holdings if h.kind == "token" and h.symbol == self.hub.symbol), None)
        return h.balance_raw if h else 0

    # ------------------------------------------------------------------------------------ checks
    def check_loss(self, v: Vault, st: VaultStats) -> str | None:
        """Flag a vault whose ``asset()`` is wrong or whose share price fell: the reason, or None when fine."""
        s = st.state
        reason = None
        if s.asset is not None and not s.asset_matches:
            reason = (f"asset() is {s.asset}, but chains/{self.chain.name}.toml says {v.asset} "
                      f"({s.expected_asset})")
        elif st.measure.falling:
            reason = (f"share price fell {st.measure.drop_bps:.2f} bps below its peak "
                      f"{st.measure.peak_assets_per_share} in the window")
        elif st.flagged is not None:
            reason = f"flagged in the journal: {st.flagged}"
        if reason is not None:
            self.note(v.name, "flagged", reason)
        return reason

    def eligible(self, v: Vault, st: VaultStats) -> bool:
        s, p = st.state, self.params
        why = None
        deviation = s.preview_deviation_bps()
        tvl = None if s.total_assets_raw is None else self.usd(s.total_assets_raw, v.asset)
        if s.asset is None:
            why = "asset() could not be read"
        elif deviation is None or deviation > p.preview_tolerance_bps:
            why = (f"previews differ from conversions by {deviation:.2f} bps > {p.preview_tolerance_bps} "
                   "(VAULT_PREVIEW_TOLERANCE_BPS)" if deviation is not None else "previews could not be read")
        elif tvl is None or tvl < p.min_tvl_usd:
            why = f"TVL {tvl if tvl is None else f'{tvl:.0f}'} USD below VAULT_MIN_TVL_USD {p.min_tvl_usd}"
        elif not s.max_deposit_raw:
            why = "maxDeposit is 0 (paused or full)"
        elif st.measure.apy is None:
            why = (f"yield not measured yet ({st.measure.samples} sample(s) over {st.measure.span_s} s; "
                   "needs a longer span)")
        elif st.measure.apy <= 0:
            why = f"measured yield {st.measure.apy:.4%} is not positive"
        if why is not None:
            self.note(v.name, "skipped", why)
        return why is None

    # ----------------------------------------------------------------------------------- actions
    def cap_room(self, v: Vault, s: VaultState) -> int | None:
        """How much more may be deposited before our position exceeds ``max_share_pct`` of the vault."""
        if v.max_share_pct >= 100 or s.total_assets_raw is None:
            return None
        c = Decimal(str(v.max_share_pct)) / HUNDRED
        mine = s.position_assets_raw or 0
        return max(0, int((c * s.total_assets_raw - mine) / (1 - c)))

    def deposit(self, excess: int, min_raw: int, eligible: list[tuple[Vault, VaultStats]]) -> None:
        if not eligible:
            self.note("*", "skipped", f"{self.usd(excess, self.hub.symbol):.2f} USD of {self.hub.symbol} idle "
                                      "above the buffer, but no vault passes the checks")
            return
        ranked = sorted(eligible, key=lambda e: (-(e[1].measure.apy or 0), e[0].name))
        left = excess
        for v, st in ranked:
            if left < min_raw or left <= 0:
                break
            room = [r for r in (st.state.max_deposit_raw, self.cap_room(v, st.state)) if r is not None]
            amount = min([left, *room])
            if amount < left:
                self.note(v.name, "limited", f"takes {amount} of {left} raw {self.hub.symbol} (maxDeposit "
                                             f"{st.state.max_deposit_raw}, max_share_pct {v.max_share_pct})")
            if amount < min_raw or amount <= 0:
                continue
            usd = self.usd(amount, self.hub.symbol)
            gas_usd = self.gas_usd(self.deposit_gas() + self.vault_gas())
            earn = usd * (st.measure.apy or Decimal(0)) * self.params.payback_days / DAYS_PER_YEAR
            if gas_usd is not None and earn < gas_usd:
                self.note(v.name, "skipped", f"parking {usd:.2f} USD earns {earn:.2f} USD in "
                                             f"{self.params.payback_days} days, less than {gas_usd:.2f} USD of gas")
                continue
            self.actions.append(Action(
                kind="deposit", chain=self.chain.name, sell=self.hub.symbol, buy=v.name, amount_raw=amount,
                amount_usd=usd, reason=f"park {usd:.2f} USD idle {self.hub.symbol} above the {self.buffer_usd:.2f} "
                                       f"USD buffer in {v.name} (measured {st.measure.apy:.2%}/yr)",
                est_cost_usd=self.gas_usd(self.deposit_gas()) or Decimal(0), est_gas=self.deposit_gas(), phase=3))
            self.note(v.name, "parked", f"deposit {amount} raw {self.hub.symbol}")
            left -= amount

    def refill(self, short_raw: int, min_raw: int, usable: list[tuple[Vault, VaultStats]]) -> None:
        """Withdraw the buffer shortfall from the lowest-yield vaults first, within ``maxWithdraw``."""
        ranked = sorted(usable, key=lambda e: (e[1].measure.apy or Decimal(0), e[0].name))
        for v, st in ranked:
            if short_raw < min_raw or short_raw <= 0:
                return
            limit = min(st.state.max_withdraw_raw or 0, st.state.position_assets_raw or 0)
            amount = min(short_raw, limit)
            if (st.state.max_withdraw_raw or 0) < min(short_raw, st.state.position_assets_raw or 0):
                self.note(v.name, "limited", f"maxWithdraw {st.state.max_withdraw_raw} raw; "
                                             f"routing {short_raw - amount} raw of the refill elsewhere")
            if amount <= 0:
                continue
            self.withdraw(v, amount, f"refill the {self.buffer_usd:.2f} USD {self.hub.symbol} buffer from {v.name}")
            short_raw -= amount
        if short_raw >= min_raw:
            self.note("*", "limited", f"{short_raw} raw {self.hub.symbol} of the buffer could not be withdrawn")

    def exit(self, v: Vault, st: VaultStats, flag: str) -> int:
        """Withdraw the whole position of a flagged vault (within ``maxWithdraw``) when ``exit_on_loss``."""
        position = st.state.position_assets_raw or 0
        if not self.params.exit_on_loss or position <= 0:
            return 0
        amount = min(position, st.state.max_withdraw_raw or 0)
        if amount <= 0:
            self.note(v.name, "limited", "maxWithdraw is 0 (paused or locked); cannot exit now, retrying next cycle")
            return 0
        if amount < position:
            self.note(v.name, "limited", f"maxWithdraw {amount} < position {position}; exiting what is allowed")
        self.note(v.name, "exiting", f"withdraw {amount} raw {v.asset} (VAULT_EXIT_ON_LOSS)")
        self.withdraw(v, amount, f"exit {v.name}: {flag}")
        return amount

    def withdraw(self, v: Vault, amount_raw: int, reason: str) -> None:
        self.actions.append(Action(kind="withdraw", chain=self.chain.name, sell=v.name, buy=v.asset,
                                   amount_raw=amount_raw, amount_usd=self.usd(amount_raw, v.asset), reason=reason,
                                   est_cost_usd=self.gas_usd(self.vault_gas()) or Decimal(0),
                                   est_gas=self.vault_gas(), phase=0))

    def vault_gas(self) -> int:
        return (self.costs or ChainCosts(chain=self.chain.name, gas_price_wei=0, native_usd=Decimal(0))).vault_gas

    def deposit_gas(self) -> int:
        """A deposit's gas including its exact approval."""
        c = self.costs or ChainCosts(chain=self.chain.name, gas_price_wei=0, native_usd=Decimal(0))
        return c.vault_gas + c.approve_gas

    def gas_usd(self, gas: int) -> Decimal | None:
        return None if self.costs is None else self.costs.gas_usd(gas)
