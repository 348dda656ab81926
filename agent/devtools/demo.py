"""``rebalancer demo``: the sandbox on two chains, a market replayed from real data, and the agent's loop.

1. Two anvil chains with the sandbox world and the local aggregator server (all in this process's care,
   stopped at the end whatever happens).
2. A reference path replayed from real hourly BTC/ETH bars (May 2021, including the 19 May crash; see
   ``data/SOURCES.md``), scaled to the sandbox's starting prices; an arbitrage keeper pulls the pools
   toward it every block; the base fee is replayed from a real per-block mainnet trace.
3. Every ``cycle_every`` ticks the agent runs one full cycle (threshold strategy) and signs with anvil's
   dev account 0; while it waits (for gas, for receipts) the simulated market moves on.
4. A report: allocation before/after vs target, trades with reasons, gas paid, price impact — on the
   terminal and as ``report.html`` with charts.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from agent.config.settings import AppConfig, load_config
from agent.cycle.compose import build_rpcs
from agent.cycle.loop import CycleReport, run_cycle
from agent.devtools.aggregator.chain_state import SandboxChain
from agent.devtools.aggregator.server import AggregatorServer
from agent.devtools.sandbox.anvil import AnvilProcess
from agent.devtools.sandbox.manager import sandbox_env
from agent.devtools.sandbox.market import BaseFeeTrace, KeeperConfig, MarketSimulator, ReferencePath
from agent.devtools.sandbox.spec import CHAINS, WALLET
from agent.devtools.sandbox.states import start_world
from agent.devtools.sandbox.world import World
from agent.execution.intent import ActionResult
from agent.journal.store import JournalStore
from agent.planning.allocation import compute_allocation
from agent.portfolio.models import Snapshot
from agent.portfolio.reader import fetch_snapshot
from agent.research.report import DemoRecord, TradeRow, write_report
from agent.signers.factory import open_signer
from agent.units import to_units

log = logging.getLogger(__name__)
DEMO_START = "2021-05-17T00:00:00Z"
ASSET_PATH = {"ETH": "WETH", "WBTC": "WBTC"}
#: blocks per replayed hour: each bar is walked open → low/high → close over these blocks
TICKS_PER_HOUR = 6


def _asset_units(snapshot: Snapshot) -> dict[str, Decimal]:
    units: dict[str, Decimal] = {}
    for h in snapshot.holdings():
        vault = h.kind == "vault"
        amount = to_units(h.underlying_raw or 0, h.underlying_decimals or 0) if vault else h.balance
        units[h.asset] = units.get(h.asset, Decimal(0)) + amount
    return units


def _hold_value(units: dict[str, Decimal], sim: MarketSimulator) -> float:
    return sum(float(amount) * (sim.reference_usd(ASSET_PATH[a]) if a in ASSET_PATH else 1.0)
               for a, amount in units.items())


class Demo:
    def __init__(self, *, bars: int, cycle_every: int, start: str, workdir: Path) -> None:
        self.bars, self.cycle_every, self.start, self.workdir = bars, cycle_every, start, workdir
        self.anvils: list[AnvilProcess] = []
        self.server: AggregatorServer | None = None
        self.worlds: list[World] = []

    def up(self) -> AppConfig:
        for spec in CHAINS:
            anvil, world, _loaded = start_world(spec, log_path=self.workdir / f"{spec.name}.log")
            self.anvils.append(anvil)
            self.worlds.append(world)
        chains = [SandboxChain(w.chain, w.rpc_url, (w.addresses.sushi_factory,)) for w in self.worlds]
        self.server = AggregatorServer(chains).start()
        env = sandbox_env(self.worlds, self.server.url, self.workdir)
        self.env = env
        return load_config(env, env_file=self.workdir / "none.env")

    def down(self) -> None:
        if self.server is not None:
            self.server.stop()
        for a in self.anvils:
            a.stop()

    def run(self, config: AppConfig, progress: Callable[[str], None]) -> DemoRecord:
        signer = open_signer("anvil:0", expected_address=WALLET, env=self.env)
        rpcs = build_rpcs(config)
        targets = {k: float(v) for k, v in config.settings.targets.items()}
        path = ReferencePath.from_hourly(start=self.start, bars=self.bars, ticks_per_bar=TICKS_PER_HOUR)
        fees = BaseFeeTrace.per_block()
        rec = DemoRecord(title="rebalancer demo — sandbox replay of May 2021 (BTC/ETH hourly) with the 19 May crash",
                         targets=targets)
        rec.notes += [f"reference path: {path.label}; prices scaled so the first bar equals the sandbox's "
                      "starting prices (ETH 3000, BTC 60000)",
                      f"base fee: {fees.label}, one entry per block",
                      f"agent: strategy {config.settings.strategy.name}, band {config.settings.strategy.band_pp} pp, "
                      f"cycle every {self.cycle_every} h ({TICKS_PER_HOUR} blocks per hour); "
                      f"quotes from {', '.join(config.settings.aggregators.quote_sources)}"]
        t0 = datetime.fromisoformat(self.start.replace("Z", "+00:00"))
        first = fetch_snapshot(rpcs, WALLET)
        rec.before = {a.symbol: float(a.weight_pct) for a in compute_allocation(first, config.settings.targets).assets}
        hold_units = _asset_units(first)
        with JournalStore.open(config.settings.journal_path) as journal, \
                MarketSimulator(self.worlds, path, keeper=KeeperConfig(), base_fees=fees,
                                block_time_s=3600 / TICKS_PER_HOUR) as sim:
            next_cycle, rec_fee = 1, 0
            # the starting point, before the first cycle: every chart starts off-target, before any rebalance
            self._record_tick(rec, rpcs, config, sim, t0, hold_units, rec_fee)
            next_record = TICKS_PER_HOUR
            while sim.tick < path.ticks - 1:
                step = sim.step()
                if step.base_fee_wei is not None:
                    rec_fee = step.base_fee_wei
                if sim.tick >= next_cycle:
                    now = t0 + timedelta(hours=sim.tick / TICKS_PER_HOUR)
                    report = run_cycle(config, now=now, journal=journal, signer=signer, rpcs=rpcs,
                                       sender_options={"sleep": sim.sleep, "clock": sim.now}, block_clock=sim)
                    self._record_cycle(rec, report, now, progress, config)
                    next_cycle = sim.tick + self.cycle_every * TICKS_PER_HOUR
                if sim.tick >= next_record:
                    self._record_tick(rec, rpcs, config, sim, t0 + timedelta(hours=sim.tick / TICKS_PER_HOUR),
                                      hold_units, rec_fee)
                    next_record = sim.tick + TICKS_PER_HOUR
        rec.after = {k: v[-1] for k, v in rec.weights.items() if v}
        return rec

    def _record_tick(self, rec: DemoRecord, rpcs: list, config: AppConfig, sim: MarketSimulator, now: datetime,
                     hold_units: dict[str, Decimal], base_fee_wei: int) -> None:
        snap = fetch_snapshot(rpcs, WALLET)
        alloc = compute_allocation(snap, config.settings.targets)
        rec.times.append(now)
        for asset, symbol in (("ETH", "WETH"), ("BTC", "WBTC")):
            rec.prices.setdefault(asset, []).append(sim.reference_usd(symbol))
        for a in alloc.assets:
            rec.weights.setdefault(a.symbol, []).append(float(a.weight_pct))
        rec.value_usd.append(float(alloc.total_usd))
        rec.hold_value_usd.append(_hold_value(hold_units, sim))
        rec.base_fee_gwei.append(base_fee_wei / 1e9)

    def _record_cycle(self, rec: DemoRecord, report: CycleReport, now: datetime,
                      progress: Callable[[str], None], config: AppConfig) -> None:
        rec.decisions.append((now, report.decision.rebalance, "; ".join(report.decision.reasons)))
        prices = {cs.chain: cs.prices for cs in report.snapshot_before.chains}
        for a in report.actions:
            native = prices.get(a.action.chain, {}).get("WETH")
            gas_usd = a.gas_paid_wei / 1e18 * float(native.usd) if native else 0.0
            tx = next((o.tx_hash for o in reversed(a.result.outcomes) if o.tx_hash), "") if a.result else ""
            rec.trades.append(TradeRow(at=now, chain=a.action.chain, kind=a.action.kind, sell=a.action.sell,
                                       buy=a.action.buy, amount_usd=float(a.action.amount_usd), state=a.state,
                                       source=a.quote_source or "", reason=a.action.reason, gas_paid_usd=gas_usd,
                                       est_impact_bps=float(a.action.est_impact_bps), tx_hash=tx or "",
                                       note=a.error or ""))
        for r in report.parking:  # key: park:<chain>:<block>:<i>:<kind>:<sell>:<buy>
            _, chain, _, _, kind, sell, buy = (r.idempotency_key.split(":") + [""] * 7)[:7]
            gas_usd = sum(o.fee_paid_wei for o in r.outcomes) / 1e18 * float(rec.prices.get("ETH", [3000])[-1])
            rec.trades.append(TradeRow(at=now, chain=chain, kind=kind, sell=sell, buy=buy,
                                       amount_usd=_moved_usd(config, r, chain, sell, prices.get(chain, {})),
                                       state=r.state, source="vault", reason="park idle stables above the buffer"
                                       if kind == "deposit" else "vault policy", gas_paid_usd=gas_usd,
                                       est_impact_bps=0.0))
        if report.dropped_because:
            rec.notes.append(f"{now:%Y-%m-%d %H:%M}: {report.dropped_because}")
        verdict = f"{len(report.actions)} action(s)" if report.actions else "hold"
        progress(f"{now:%Y-%m-%d %H:%M} cycle {report.cycle_id}: {verdict} — {report.decision.reasons[0]}")


def _moved_usd(config: AppConfig, result: ActionResult, chain: str, symbol: str, prices: dict[str, Any]) -> float:
    """USD value of what a vault action moved: the wallet's observed change of ``symbol`` (what a deposit put
    in, what a withdrawal took out), at the cycle's price; 0 when it cannot be told."""
    token = next((t for t in config.chains[chain].tokens if t.symbol == symbol), None) if chain in config.chains \
        else None
    price = prices.get(symbol)
    if token is None or price is None:
        return 0.0
    delta = next((v for k, v in result.observed_deltas.items() if k.lower() == str(token.address).lower()), 0)
    return abs(delta) / 10**token.decimals * float(price.usd)


def run_demo(*, report_path: Path, bars: int = 96, cycle_every: int = 4, start: str = DEMO_START,
             progress: Callable[[str], None] = print) -> DemoRecord:
    with tempfile.TemporaryDirectory(prefix="rebalancer-demo-") as d:
        demo = Demo(bars=bars, cycle_every=cycle_every, start=start, workdir=Path(d))
        try:
            config = demo.up()
            progress(f"sandbox up: chains {', '.join(w.spec.name for w in demo.worlds)}; "
                     f"aggregator server at {demo.server.url if demo.server else '-'}")
            rec = demo.run(config, progress)
        finally:
            demo.down()
            progress("sandbox stopped")
    write_report(rec, report_path)
    return rec


__all__ = ["run_demo"]
