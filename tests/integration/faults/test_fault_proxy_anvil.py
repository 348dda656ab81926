"""The agent's cycle through a loopback JSON-RPC fault proxy in front of anvil (#14).

Per mode × mining (automine on / paused during the first cycle): the agent runs cycles until nothing is left to do
(at most ``MAX_CYCLES``), then the end state is compared with an uninterrupted run's: the same number of swaps and
transactions (so exactly one transaction mined per action, never two) and the same balances up to gas — or the
agent refused to act and said why (wrong chain id), with nothing sent. Faults on the wire (5xx, timeouts,
malformed JSON, stale head) hit every ``EVERY``-th request of the first cycle, sends included; the lost replies of
``eth_sendRawTransaction`` (forwarded to anvil, then a -32000 error, a 502, a dropped connection or a hang) hit one
broadcast: the swap with mining on, the approval with mining paused (so its reply is lost while it sits in the pool).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.chain.reads import decode_raw
from agent.config.settings import load_config
from agent.cycle.loop import run_cycle
from agent.cycle.report import CycleReport
from agent.devtools.faultproxy import LOST_REPLIES, Fault, FaultProxy
from agent.errors import AgentError, SafetyHalt
from agent.journal.store import JournalStore
from tests.integration.execution.helpers import wallet_signer
from tests.integration.faults.harness import Chain, Outcome, agent_env, differences, module_chain, outcome, reverted

pytestmark = [pytest.mark.anvil, pytest.mark.slow, pytest.mark.xdist_group("faults")]

MAX_CYCLES = 4
EVERY = 5
RPC_TIMEOUT_S = 1.0
#: the sender's waits, short: a paused chain ends the receipt wait after this long (the attempt stays in flight)
POLICY = {"receipt_timeout_s": 2.0, "poll_s": 0.05}
MODES = [*(f for f in Fault if f != Fault.WRONG_CHAIN_ID)]


@pytest.fixture(scope="module")
def chain() -> Iterator[Chain]:
    yield from module_chain()


@pytest.fixture
def fresh(chain: Chain) -> Iterator[Chain]:
    with reverted(chain) as c:
        yield c


@pytest.fixture
def proxy(chain: Chain) -> Iterator[FaultProxy]:
    p = FaultProxy(chain.anvil.url).start()
    try:
        yield p
    finally:
        p.stop()


def run_cycles(url: str, tmp: Path, *, after: dict[int, list[Callable[[], object]]] | None = None,
               reconcile_wait_s: float = 0.5) -> list[CycleReport]:
    """Cycles of the agent (in process) until one has nothing left to do; ``after[i]`` runs after cycle ``i``
    (resume mining, disarm the proxy)."""
    env = {**agent_env(url, tmp), "RPC_TIMEOUT_S": str(RPC_TIMEOUT_S)}
    config = load_config(env, env_file=tmp / "empty.env")
    reports: list[CycleReport] = []
    last = max((after or {0: []}).keys())
    with JournalStore.open(tmp / "journal.sqlite") as journal:
        for i in range(MAX_CYCLES):
            try:
                report = run_cycle(config, now=datetime.now(UTC), journal=journal, signer=wallet_signer(),
                                   sender_options={"policy": POLICY}, reconcile_wait_s=reconcile_wait_s)
            except AgentError as exc:
                if exc.disposition != "retry":
                    raise
                report = None
            if report is not None:
                reports.append(report)
            for then in (after or {}).get(i, []):
                then()
            if i >= last and report is not None and settled(report):
                break
    return reports


def settled(report: CycleReport) -> bool:
    return not report.blocked_chains and report.dropped_because is None and not (report.plan and report.plan.actions)


@pytest.fixture(scope="module")
def uninterrupted(chain: Chain, tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    with reverted(chain) as fresh_chain:
        block, nonce = fresh_chain.w3.eth.block_number, fresh_chain.nonce()
        tmp = tmp_path_factory.mktemp("uninterrupted")
        reports = run_cycles(chain.anvil.url, tmp)
        assert reports[0].actions and all(a.state == "confirmed" for a in reports[0].actions)
        got = outcome(fresh_chain, block, nonce)
        with JournalStore.open(tmp / "journal.sqlite") as j:
            approval = next(a for a in j.attempts() if a.purpose == "approve")
        data = decode_raw(approval.raw_tx)
        return replace(got, approval=(data.to, "0x" + data.data[16:36].hex()))


def test_the_uninterrupted_run_is_one_swap_and_its_approval(uninterrupted: Outcome) -> None:
    assert (uninterrupted.swaps, uninterrupted.transactions) == (1, 2)


@pytest.mark.parametrize("mining", ["on", "paused"])
@pytest.mark.parametrize("mode", MODES, ids=str)
def test_one_trade_per_action_under_faults(fresh: Chain, proxy: FaultProxy, uninterrupted: Outcome,
                                           tmp_path: Path, mode: Fault, mining: str) -> None:
    """Mining on: the fault hits the swap (lost replies: the second broadcast, after its approval). Mining paused:
    the approval is made beforehand, the swap's broadcast is hit while the chain mines nothing for two cycles (the
    second cycle must not trade again), then mining resumes."""
    want = uninterrupted
    after: dict[int, list[Callable[[], object]]] = {}
    if mining == "paused":
        fresh.approve(*uninterrupted.approval)
        want = replace(uninterrupted, transactions=uninterrupted.transactions - 1)
    block, nonce = fresh.w3.eth.block_number, fresh.nonce()
    if mode in LOST_REPLIES:
        proxy.arm(mode, skip=1 if mining == "on" else 0, hang_s=RPC_TIMEOUT_S + 0.5)
    else:
        every = {Fault.STALE_HEAD: 1, Fault.TIMEOUT: 3 * EVERY}.get(mode, EVERY)
        proxy.arm(mode, every=every, times=0, hang_s=RPC_TIMEOUT_S + 0.5)
        after.setdefault(0, []).append(proxy.disarm)
    if mining == "paused":
        fresh.mining(False)
        after.setdefault(1, []).append(lambda: fresh.mining(True))
    started = time.monotonic()
    reports = run_cycles(proxy.url, tmp_path, after=after)
    assert proxy.hits, f"{mode}: the fault never hit (the test would prove nothing)"
    got = outcome(fresh, block, nonce)
    assert differences(got, want) == [], f"{mode} mining {mining}: {proxy.hits[:5]}"
    if mining == "paused":  # the second cycle saw the swap in flight: its chain was blocked, nothing traded
        assert "may still be in flight" in reports[1].blocked_chains["sandbox_a"]
        assert reports[1].actions == []
    assert time.monotonic() - started < 60


def test_a_wrong_chain_id_is_refused_with_the_reason_and_nothing_sent(fresh: Chain, proxy: FaultProxy,
                                                                      tmp_path: Path) -> None:
    nonce = fresh.nonce()
    proxy.arm(Fault.WRONG_CHAIN_ID, every=1, times=0)
    with pytest.raises(SafetyHalt) as info:
        run_cycles(proxy.url, tmp_path)
    assert "chain id 31338" in str(info.value) and "SANDBOX_A_RPC_URL" in str(info.value)
    assert fresh.nonce() == nonce
