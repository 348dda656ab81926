# pragma version 0.4.3
"""
@title Sandbox stand-in for the KyberSwap MetaAggregationRouterV2 `swap` entry point
@license MIT
@notice `swap(execution)` with the real selector and argument shape: pulls `desc.amount` of
        `desc.srcToken` from the caller and has the AggregatorRouter route it along the legs ABI-encoded
        in `execution.targetData`, paying `desc.dstReceiver` (zero = the caller) at least
        `desc.minReturnAmount`. Fees, source receivers and partial fills are refused.
"""
from ethereum.ercs import IERC20

NATIVE: constant(address) = 0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE
MAX_LEGS: constant(uint256) = 4
MAX_HOPS: constant(uint256) = 3
MAX_LEGS_BYTES: constant(uint256) = 1024

struct Leg:
    amount_in: uint256
    pairs: DynArray[address, MAX_HOPS]

interface IAggregatorRouter:
    def swap(
        token_in: address,
        token_out: address,
        amount_in: uint256,
        min_amount_out: uint256,
        recipient: address,
        legs: DynArray[Leg, MAX_LEGS],
    ) -> uint256: payable

ROUTER: public(immutable(address))

MAX_RECEIVERS: constant(uint256) = 4

struct SwapDescriptionV2:
    srcToken: address
    dstToken: address
    srcReceivers: DynArray[address, MAX_RECEIVERS]
    srcAmounts: DynArray[uint256, MAX_RECEIVERS]
    feeReceivers: DynArray[address, MAX_RECEIVERS]
    feeAmounts: DynArray[uint256, MAX_RECEIVERS]
    dstReceiver: address
    amount: uint256
    minReturnAmount: uint256
    flags: uint256
    permit: Bytes[256]

struct SwapExecutionParams:
    callTarget: address
    approveTarget: address
    targetData: Bytes[MAX_LEGS_BYTES]
    desc: SwapDescriptionV2
    clientData: Bytes[256]


@deploy
def __init__(router: address):
    """
    @param router The sandbox AggregatorRouter that executes the legs
    """
    ROUTER = router


@internal
def _route(
    paid: uint256,
    token_in: address,
    token_out: address,
    amount: uint256,
    min_out: uint256,
    recipient: address,
    route: Bytes[MAX_LEGS_BYTES],
) -> uint256:
    legs: DynArray[Leg, MAX_LEGS] = abi_decode(route, DynArray[Leg, MAX_LEGS])
    if token_in == NATIVE:
        return extcall IAggregatorRouter(ROUTER).swap(
            token_in, token_out, amount, min_out, recipient, legs, value=paid
        )
    assert paid == 0, "shape: msg.value must be 0 when selling a token"
    assert extcall IERC20(token_in).transferFrom(msg.sender, self, amount, default_return_value=True)
    assert extcall IERC20(token_in).approve(ROUTER, amount, default_return_value=True)
    return extcall IAggregatorRouter(ROUTER).swap(token_in, token_out, amount, min_out, recipient, legs)


@external
@payable
def swap(execution: SwapExecutionParams) -> (uint256, uint256):
    """
    @notice Sell `desc.amount` of `desc.srcToken` for at least `desc.minReturnAmount` of `desc.dstToken`
    @return (returnAmount, gasUsed); gasUsed is always 0 here
    """
    desc: SwapDescriptionV2 = execution.desc
    assert len(desc.feeReceivers) == 0 and len(desc.srcReceivers) == 0, "ShapeKyber: fees/receivers unsupported"
    assert desc.flags & 1 == 0, "ShapeKyber: partial fills are not supported"
    recipient: address = desc.dstReceiver
    if recipient == empty(address):
        recipient = msg.sender
    out: uint256 = self._route(
        msg.value, desc.srcToken, desc.dstToken, desc.amount, desc.minReturnAmount, recipient,
        execution.targetData
    )
    return out, 0
