"""Chain reads the pipeline needs: fee inputs, simulation (eth_call / eth_simulateV1), gas estimates,
ERC-20 allowance and balances, receipts. Library errors are translated here, once.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from eth_account.typed_transactions import TypedTransaction
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import ContractLogicError, TransactionNotFound, Web3RPCError

from agent.chain.abi import SOLIDITY_ERRORS, AbiDecodeError, abi
from agent.chain.reverts import is_price_guard
from agent.chain.rpc import METHOD_MISSING_CODES, REVERT_CODE, ChainRpc, rpc_error, rpc_error_code
from agent.errors import PriceMoved, SimulationFailed
from agent.models import UnsignedTx

NATIVE = "native"
FEE_HISTORY_BLOCKS = 10
REFUND_BOUND = 1.25
#: Added to every gas limit: execution can cost more than the estimate when it lands in a later block
#: (e.g. a V2 pair's first price-accumulator write of a new timestamp: two cold SSTOREs). Unused gas is not paid.
GAS_HEADROOM = 50_000


@dataclass(frozen=True)
class Call:
    """One call to simulate: from ``sender`` to ``to`` with ``data`` and ``value_wei``."""

    sender: str
    to: str
    data: bytes
    value_wei: int = 0

    def as_rpc(self) -> dict[str, Any]:
        return {"from": self.sender, "to": self.to, "data": "0x" + self.data.hex(), "value": hex(self.value_wei)}



@dataclass(frozen=True)
class FeeInputs:
    """What the chain says now: the latest block, its base fee and a fee-history tip."""

    block_number: int
    base_fee_wei: int
    priority_fee_wei: int


def approve_calldata(spender: str, amount_raw: int) -> bytes:
    return abi("ERC20").encode("approve", Web3.to_checksum_address(spender), amount_raw)


def decode_revert(data: bytes | str | None) -> str:
    """``Error(string)`` → its text, ``Panic(uint256)`` → ``panic 0x11``, anything else → hex."""
    if isinstance(data, str):
        data = bytes.fromhex(data.removeprefix("0x")) if data.startswith("0x") else data.encode()
    if not data:
        return "reverted without a reason"
    try:
        decoded = abi(SOLIDITY_ERRORS).decode_error(data)
    except AbiDecodeError:  # an Error/Panic selector with a payload that does not decode
        decoded = None
    if decoded is not None:
        name, (value,) = decoded
        return str(value) if name == "Error" else f"panic 0x{value:02x}"
    return "custom error 0x" + data.hex()[:80]


def fetch_fee_inputs(rpc: ChainRpc, *, percentile: float) -> FeeInputs:
    """Base fee of the latest block (or of the next one when higher) and the median ``percentile`` tip."""
    def read(w3: Web3) -> FeeInputs:
        block = w3.eth.get_block("latest")
        history = w3.eth.fee_history(FEE_HISTORY_BLOCKS, "latest", [percentile])
        rewards = [int(r[0]) for r in history.get("reward") or [] if r]
        # The next block's base fee (last fee-history entry) when the node already knows it is higher.
        upcoming = [int(b) for b in history.get("baseFeePerGas") or []][-1:]
        base = max([int(block.get("baseFeePerGas") or 0), *upcoming])
        return FeeInputs(block_number=int(block["number"]), base_fee_wei=base,
                         priority_fee_wei=int(statistics.median(rewards)) if rewards else 0)
    return rpc.read(read, what="eth_feeHistory")


def revert_error(what: str, stage: str, *, data: bytes | str | None, reason: str) -> SimulationFailed | PriceMoved:
    """A revert as the tree has it: ``PriceMoved`` when the swap's own price guard fired (``agent.chain.reverts``,
    read from the revert data), else ``SimulationFailed``. Nothing was sent in either case."""
    raw = _revert_bytes(data)
    decoded = decode_revert(raw) if raw else reason
    cls = PriceMoved if is_price_guard(selector=raw[:4] if len(raw) >= 4 else None, reason=decoded) else \
        SimulationFailed
    return cls(f"{what}: {stage}: {reason}; nothing was sent")


def simulate(rpc: ChainRpc, call: Call, *, what: str) -> None:
    """eth_call at ``latest``; a revert raises ``SimulationFailed`` (or ``PriceMoved``) with the decoded reason."""
    def read(w3: Web3) -> None:
        try:
            w3.eth.call(call.as_rpc(), "latest")  # type: ignore[arg-type]
        except ContractLogicError as exc:
            raise revert_error(what, "simulation reverted", data=getattr(exc, "data", None),
                               reason=explain(_logic_reason(exc))) from None
        except Web3RPCError as exc:
            error = rpc_error(exc) or {}
            if rpc_error_code(exc) == REVERT_CODE or _revert_bytes(error.get("data")):
                raise revert_error(what, "simulation reverted", data=error.get("data"),
                                   reason=explain(_rpc_message(exc))) from None
            raise
    rpc.read(read, what="eth_call")


def replay_revert(rpc: ChainRpc, call: Call, block: int) -> tuple[str, bool]:
    """Why a mined transaction reverted — the same call replayed on the state before its block — and whether it was
    its price guard (``PriceMoved``)."""
    try:
        simulate(rpc, call, what="replay")
    except (SimulationFailed, PriceMoved) as exc:
        reason = str(exc).removeprefix("replay: simulation reverted: ").removesuffix("; nothing was sent")
        return reason, isinstance(exc, PriceMoved)
    except Exception as exc:  # the replay is best effort; the revert itself is already known
        return f"unknown ({type(exc).__name__})", False
    return "unknown (it does not revert when replayed now)", False


def replay_reason(rpc: ChainRpc, call: Call, block: int) -> str:
    """Why a mined transaction reverted (``replay_revert`` without the classification)."""
    return replay_revert(rpc, call, block)[0]


def estimate_gas(rpc: ChainRpc, call: Call, *, what: str, margin: float) -> int:
    def read(w3: Web3) -> int:
        try:
            return int(w3.eth.estimate_gas(call.as_rpc()))  # type: ignore[arg-type]
        except ContractLogicError as exc:
            raise revert_error(what, "gas estimation reverted", data=getattr(exc, "data", None),
                               reason=_logic_reason(exc)) from None
    return int(rpc.read(read, what="eth_estimateGas") * margin) + GAS_HEADROOM


def simulate_bundle(rpc: ChainRpc, calls: list[tuple[str, Call]], *, margin: float) -> list[int] | None:
    """Simulate ``calls`` in order on one state (eth_simulateV1); gas per call with ``margin``.

    Returns ``None`` when the node does not support eth_simulateV1. A failing call raises
    ``SimulationFailed`` naming it.
    """
    params = [{"blockStateCalls": [{"calls": [c.as_rpc() for _, c in calls]}], "validation": False}, "latest"]

    def read(w3: Web3) -> dict[str, Any]:
        return dict(w3.provider.make_request("eth_simulateV1", params))  # type: ignore[arg-type]
    response = rpc.read(read, what="eth_simulateV1")
    if "error" in response:
        if response["error"].get("code") in METHOD_MISSING_CODES:
            return None
        raise SimulationFailed(f"simulation failed: {response['error'].get('message')}; nothing was sent")
    results = response["result"][0]["calls"]
    gas: list[int] = []
    for (what, _), result in zip(calls, results, strict=True):
        if int(result.get("status", "0x0"), 16) != 1:
            error = result.get("error") or {}
            reason = decode_revert(error.get("data") or result.get("returnData")) if (
                error.get("data") or result.get("returnData") not in (None, "0x")) else error.get("message", "")
            raise revert_error(what, "simulation reverted", data=error.get("data") or result.get("returnData"),
                               reason=explain(reason or "no reason"))
        # gasUsed is net of refunds (at most a fifth of the gas spent, EIP-3529): undo that bound first.
        gas.append(int(int(result["gasUsed"], 16) * REFUND_BOUND * margin) + GAS_HEADROOM)
    return gas


def fetch_allowance(rpc: ChainRpc, token: str, owner: str, spender: str) -> int:
    erc20 = abi("ERC20")
    data = erc20.encode("allowance", owner, spender)
    raw = rpc.read(lambda w3: w3.eth.call({"to": token, "data": data}, "latest"), what="allowance")
    return int(erc20.decode_output("allowance", bytes(raw))[0])


def fetch_balance(rpc: ChainRpc, token: str, owner: str, block: int | str = "latest") -> int:
    """``token`` is an ERC-20 address or ``"native"``."""
    if token == NATIVE:
        return int(rpc.read(lambda w3: w3.eth.get_balance(owner, block), what="balance"))  # type: ignore[arg-type]
    erc20 = abi("ERC20")
    data = erc20.encode("balanceOf", owner)
    raw = rpc.read(lambda w3: w3.eth.call({"to": token, "data": data}, block), what="balanceOf")  # type: ignore[arg-type]
    return int(erc20.decode_output("balanceOf", bytes(raw))[0])


def fetch_receipt(rpc: ChainRpc, tx_hash: str) -> dict[str, Any] | None:
    def read(w3: Web3) -> dict[str, Any] | None:
        try:
            return dict(w3.eth.get_transaction_receipt(tx_hash))  # type: ignore[arg-type]
        except TransactionNotFound:
            return None
    return rpc.read(read, what="receipt")


def fetch_transaction_known(rpc: ChainRpc, tx_hash: str) -> bool:
    """Whether the node knows the transaction (in its pool or mined): ``eth_getTransactionByHash`` is not null."""
    def read(w3: Web3) -> bool:
        try:
            return w3.eth.get_transaction(tx_hash) is not None  # type: ignore[arg-type]
        except TransactionNotFound:
            return False
    return rpc.read(read, what="transaction by hash")


def fetch_nonces(rpc: ChainRpc, address: str) -> tuple[int, int]:
    """(``latest``, ``pending``) transaction counts."""
    return rpc.read(lambda w3: (int(w3.eth.get_transaction_count(address, "latest")),  # type: ignore[arg-type]
                                int(w3.eth.get_transaction_count(address, "pending"))), what="nonce")  # type: ignore[arg-type]


def fetch_block_number(rpc: ChainRpc) -> int:
    return int(rpc.read(lambda w3: w3.eth.block_number, what="blockNumber"))


def tx_hash_of(raw: bytes) -> str:
    return "0x" + Web3.keccak(raw).hex().removeprefix("0x")


def decode_raw(raw: bytes) -> UnsignedTx:
    """The unsigned fields of a signed type-2 transaction (to re-sign it with other fees)."""
    fields = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
    return UnsignedTx(chain_id=fields["chainId"], nonce=fields["nonce"], to=Web3.to_checksum_address(fields["to"]),
                      value_wei=fields["value"], data=bytes(fields["data"]), gas=fields["gas"],
                      max_fee_per_gas_wei=fields["maxFeePerGas"],
                      max_priority_fee_per_gas_wei=fields["maxPriorityFeePerGas"])


#: Revert reasons that mean more than they say, and what they mean for the agent.
REVERT_HINTS = {
    "UniswapV2: K": "the pair received less than the router sent — the sell token takes a fee on transfer; "
                    "refusing: the quote (getAmountsOut) promised more than the pool can deliver",
    "TransferHelper: TRANSFER_FROM_FAILED": "the token refused the transfer (balance, allowance, blacklist or "
                                            "a fee-on-transfer/non-standard token)",
}


def explain(reason: str) -> str:
    """The revert reason, followed by what it means when it is one of REVERT_HINTS."""
    hint = next((h for known, h in REVERT_HINTS.items() if known in reason), None)
    return f"{reason} ({hint})" if hint else reason


def _revert_bytes(data: object) -> bytes:
    """Revert data as bytes (hex strings decoded); empty when there is none or it is not hex."""
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    if isinstance(data, str) and data.startswith("0x"):
        try:
            return bytes.fromhex(data[2:])
        except ValueError:
            return b""
    return b""


def _logic_reason(exc: ContractLogicError) -> str:
    message = getattr(exc, "message", None) or str(exc)
    return str(message).removeprefix("execution reverted: ").removeprefix("execution reverted") or decode_revert(
        getattr(exc, "data", None))


def _rpc_message(exc: Web3RPCError) -> str:
    rpc = getattr(exc, "rpc_response", None) or {}
    error = rpc.get("error", {}) if isinstance(rpc, dict) else {}
    data = error.get("data") if isinstance(error, dict) else None
    if isinstance(data, str) and data.startswith("0x") and len(data) > 2:
        return decode_revert(data)
    return str(error.get("message") if isinstance(error, dict) and error.get("message") else exc)[:200]
