"""The sandbox's local DEX-aggregator server: real HTTP on 127.0.0.1, the 0x v2, 1inch v6, ParaSwap 6.2, Odos v2
and KyberSwap shapes, routing orders across the sandbox pools and returning ``AggregatorRouter`` calldata.

In process: ``AggregatorServer([SandboxChain(config, rpc_url)]).start()``; as a process:
``python -m agent.devtools.aggregator --port P --chain sandbox_a=RPC_URL [--factory sandbox_a=0x…]``.
"""

from agent.devtools.aggregator.chain_state import SandboxChain
from agent.devtools.aggregator.server import AggregatorServer

__all__ = ["AggregatorServer", "SandboxChain"]
