"""Child process for the kill tests: reconcile the journal, then execute one intent.

``python -m tests.integration.execution.crash_child RPC_URL JOURNAL INPUT.pickle`` where the pickle holds
``(ChainConfig, TxIntent)``. With ``REBALANCER_CRASH_AT`` set, the sender SIGKILLs this process at that
point. Prints one JSON line with the action's state.
"""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

from agent.execution.pipeline import execute_intent
from agent.execution.reconcile import reconcile
from tests.integration.execution.helpers import live_context


def main(url: str, journal: str, payload: str) -> None:
    chain, intent = pickle.loads(Path(payload).read_bytes())
    ctx = live_context(chain, url, Path(journal))
    report = reconcile(ctx.journal, {chain.chain_id: ctx.rpc})
    result = execute_intent(intent, ctx)
    print(json.dumps({"state": result.state, "reused": result.reused, "reconcile": report.model_dump(mode="json")}))


if __name__ == "__main__":
    main(*sys.argv[1:4])
