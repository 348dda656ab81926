# pragma version 0.4.3
"""
@title Sandbox stand-in for the Odos Router V2 `swap` entry point
@license MIT
@notice `swap(tokenInfo, pathDefinition, executor, referralCode)` with the real selector and argument
        shape (the zero address is ETH, as in Odos): pulls `tokenInfo.inputAmount` from the caller and has
        the AggregatorRouter route it along the legs ABI-encoded in `pathDefinition`, paying
        `tokenInfo.outputReceiver` at least `tokenInfo.outputMin`. A zero input amount (Odos: the whole
        balance) is refused.
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

struct SwapTokenInfo:
    inputToken: address
    inputAmount: uint256
    inputReceiver: address
    outputToken: address
    outputQuote: uint256
    outputMin: uint256
    outputReceiver: address


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


@internal
@pure
def _token(odos: address) -> address:
    if odos == empty(address):
        return NATIVE
    return odos


@external
@payable
def swap(
    tokenInfo: SwapTokenInfo, pathDefinition: Bytes[MAX_LEGS_BYTES], executor: address, referralCode: uint32
) -> uint256:
    """
    @notice Sell `tokenInfo.inputAmount` of `tokenInfo.inputToken` for at least `tokenInfo.outputMin`
    @return amountOut What `tokenInfo.outputReceiver` received
    """
    assert tokenInfo.inputAmount > 0, "ShapeOdos: a zero input amount (whole balance) is not supported"
    assert tokenInfo.outputMin <= tokenInfo.outputQuote, "ShapeOdos: Minimum greater than quote"
    return self._route(
        msg.value, self._token(tokenInfo.inputToken), self._token(tokenInfo.outputToken), tokenInfo.inputAmount,
        tokenInfo.outputMin, tokenInfo.outputReceiver, pathDefinition
    )
