"""Calldata in each aggregator's real router shape, aimed at the sandbox contracts that implement it.

The selector and argument layout are the real routers' (the agent decodes them with the same decoders it
uses for the real APIs); the route itself travels ABI-encoded as ``(uint256 amount_in, address[] pairs)[]``
in the shape's opaque bytes: the 0x Settler's first action, 1inch ``data``, Augustus ``executorData``,
Odos ``pathDefinition`` and KyberSwap ``targetData``. 0x and ParaSwap go to the AggregatorRouter, whose
``exec``/``swapExactAmountIn`` execute them; 1inch, Odos and KyberSwap go to the ``Shape*`` adapters.
"""

from __future__ import annotations

from typing import Any

from eth_abi import encode
from eth_utils import keccak

from agent.config.chains import NATIVE_PLACEHOLDER
from agent.models import checksum
from agent.quotes.calldata_0x_1inch import ONEINCH_SWAP, SETTLER_EXECUTE, ZEROX_EXEC
from agent.quotes.calldata_velora_odos_kyber import AUGUSTUS_SWAP, KYBER_SWAP, ODOS_SWAP

ZERO = "0x0000000000000000000000000000000000000000"
#: The Settler the sandbox's AllowanceHolder names as `operator`/`target` (nothing is deployed there; the
#: AggregatorRouter executes the Settler call itself). It differs from the spender, as the real one does.
SANDBOX_SETTLER = checksum("0x" + keccak(text="rebalancer sandbox 0x Settler")[:20].hex())


def legs_blob(legs: list[tuple[int, list[str]]]) -> bytes:
    return encode(["(uint256,address[])[]"], [[(a, list(p)) for a, p in legs]])


def zerox(*, sell: str, buy: str, amount: int, min_out: int, recipient: str, legs: list[tuple[int, list[str]]],
          zid: bytes) -> bytes:
    inner = SETTLER_EXECUTE.encode((recipient, buy, min_out), [legs_blob(legs)], zid.rjust(32, b"\0")[:32])
    return ZEROX_EXEC.encode(SANDBOX_SETTLER, sell, amount, SANDBOX_SETTLER, inner)


def oneinch(*, router: str, sell: str, buy: str, amount: int, min_out: int, recipient: str,
            legs: list[tuple[int, list[str]]]) -> bytes:
    return ONEINCH_SWAP.encode(router, (sell, buy, router, recipient, amount, min_out, 0), legs_blob(legs))


def paraswap(*, router: str, sell: str, buy: str, amount: int, min_out: int, quoted: int, recipient: str,
             legs: list[tuple[int, list[str]]]) -> bytes:
    return AUGUSTUS_SWAP.encode(router, (sell, buy, amount, min_out, quoted, b"\0" * 32, recipient), 0, b"",
                                legs_blob(legs))


def odos(*, router: str, sell: str, buy: str, amount: int, min_out: int, quoted: int, recipient: str,
         legs: list[tuple[int, list[str]]]) -> bytes:
    def zero_native(a: str) -> str:
        return ZERO if a == NATIVE_PLACEHOLDER else a

    info = (zero_native(sell), amount, router, zero_native(buy), max(quoted, min_out), min_out, recipient)
    return ODOS_SWAP.encode(info, legs_blob(legs), router, 0)


def kyber(*, core: str, sell: str, buy: str, amount: int, min_out: int, recipient: str,
          legs: list[tuple[int, list[str]]]) -> bytes:
    desc: tuple[Any, ...] = (sell, buy, [], [], [], [], recipient, amount, min_out, 0, b"")
    return KYBER_SWAP.encode((core, core, legs_blob(legs), desc, b""))
