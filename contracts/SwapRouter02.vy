# pragma version 0.4.3
"""
@title Sandbox SwapRouter02
@license MIT
@notice The exact-input swaps of Uniswap's SwapRouter02 (exactInputSingle, exactInput, WETH9,
        factory) executed over the sandbox Uniswap V2 pools of one factory, so a quote read from the
        sandbox QuoterV2 can be executed the way it is on a chain that only has Uniswap V3.
        Like SwapRouter02 (and unlike the original SwapRouter) the parameter structs have no deadline.
@dev The sandbox has a single fee tier: every `fee` must be 3000 (the pools' 0.3%), sqrtPriceLimitX96
     must be 0 (no partial fills). tokenIn is pulled with transferFrom(msg.sender, first pair,
     amountIn), so the approval spender is this router. Native ETH in: msg.value == amountIn with
     tokenIn = WETH9 (wrapped here, as SwapRouter02 does); msg.value must be 0 otherwise (the real
     router would keep an excess for refundETH; there is none here). Recipient address(1) means
     msg.sender, as in SwapRouter02; address(2) ("this router", only useful inside a multicall) is
     refused. Each hop's input is what the pair actually received (balance minus reserve) and its
     output follows out = in * 997 * reserveOut / (reserveIn * 1000 + in * 997). Paths are
     V3-encoded (token, fee as 3 bytes, token, …) with at most MAX_HOPS pools.
"""

from ethereum.ercs import IERC20

interface IFactory:
    def getPair(tokenA: address, tokenB: address) -> address: view

interface IPair:
    def token0() -> address: view
    def getReserves() -> (uint112, uint112, uint32): view
    def swap(amount0Out: uint256, amount1Out: uint256, to: address, data: Bytes[32]): nonpayable

interface IWETH:
    def deposit(): payable
    def transfer(dst: address, wad: uint256) -> bool: nonpayable

struct ExactInputSingleParams:
    tokenIn: address
    tokenOut: address
    fee: uint24
    recipient: address
    amountIn: uint256
    amountOutMinimum: uint256
    sqrtPriceLimitX96: uint160

FEE: constant(uint24) = 3000
MAX_HOPS: constant(uint256) = 4
ADDR_SIZE: constant(uint256) = 20
FEE_SIZE: constant(uint256) = 3
POP_OFFSET: constant(uint256) = ADDR_SIZE + FEE_SIZE
MAX_PATH_BYTES: constant(uint256) = ADDR_SIZE + POP_OFFSET * MAX_HOPS
MSG_SENDER: constant(address) = 0x0000000000000000000000000000000000000001
ADDRESS_THIS: constant(address) = 0x0000000000000000000000000000000000000002

struct ExactInputParams:
    path: Bytes[MAX_PATH_BYTES]
    recipient: address
    amountIn: uint256
    amountOutMinimum: uint256

factory: public(immutable(address))
WETH9: public(immutable(address))


@deploy
def __init__(_factory: address, _WETH9: address):
    """
    @param _factory UniswapV2Factory whose pairs are swapped through
    @param _WETH9 The chain's WETH (wraps msg.value; reported by WETH9())
    """
    factory = _factory
    WETH9 = _WETH9


@internal
@view
def _pair(token_in: address, token_out: address, fee: uint24) -> address:
    assert fee == FEE, "SwapRouter02: only the 3000 fee tier exists in the sandbox"
    pair: address = staticcall IFactory(factory).getPair(token_in, token_out)
    assert pair != empty(address), "SwapRouter02: pool does not exist"
    return pair


@internal
@view
def _recipient(recipient: address) -> address:
    assert recipient != empty(address), "SwapRouter02: recipient is the zero address"
    assert recipient != ADDRESS_THIS, "SwapRouter02: recipient address(2) needs multicall, unsupported here"
    if recipient == MSG_SENDER:
        return msg.sender
    return recipient


@internal
def _pay(token: address, pair: address, amount: uint256, eth_in: uint256):
    """
    @dev Moves the first pool's input into `pair`: `eth_in` (msg.value) wrapped as WETH, or transferFrom the caller.
    """
    assert amount > 0, "SwapRouter02: amountIn is zero"
    if eth_in > 0:
        assert token == WETH9, "SwapRouter02: msg.value needs tokenIn = WETH9"
        assert eth_in == amount, "SwapRouter02: msg.value must equal amountIn"
        extcall IWETH(WETH9).deposit(value=amount)
        assert extcall IWETH(WETH9).transfer(pair, amount), "SwapRouter02: WETH transfer failed"
    else:
        assert extcall IERC20(token).transferFrom(
            msg.sender, pair, amount, default_return_value=True
        ), "SwapRouter02: transferFrom failed"


@internal
def _swap_hop(pair: address, token_in: address, to: address) -> uint256:
    """
    @dev `pair` already holds the hop's input; sends the output to `to` and returns it.
    """
    zero_for_one: bool = staticcall IPair(pair).token0() == token_in
    reserve0: uint112 = 0
    reserve1: uint112 = 0
    timestamp: uint32 = 0
    reserve0, reserve1, timestamp = staticcall IPair(pair).getReserves()
    reserve_in: uint256 = convert(reserve0, uint256)
    reserve_out: uint256 = convert(reserve1, uint256)
    if not zero_for_one:
        reserve_in = convert(reserve1, uint256)
        reserve_out = convert(reserve0, uint256)
    assert reserve_in > 0 and reserve_out > 0, "SwapRouter02: pool has no liquidity"
    received: uint256 = staticcall IERC20(token_in).balanceOf(pair) - reserve_in
    amount_out: uint256 = received * 997 * reserve_out // (reserve_in * 1000 + received * 997)
    assert amount_out > 0, "SwapRouter02: output is zero"
    if zero_for_one:
        extcall IPair(pair).swap(0, amount_out, to, b"")
    else:
        extcall IPair(pair).swap(amount_out, 0, to, b"")
    return amount_out


@internal
@pure
def _path_token(path: Bytes[MAX_PATH_BYTES], offset: uint256) -> address:
    return convert(convert(slice(path, offset, ADDR_SIZE), bytes20), address)


@internal
@pure
def _path_fee(path: Bytes[MAX_PATH_BYTES], offset: uint256) -> uint24:
    return convert(convert(slice(path, offset + ADDR_SIZE, FEE_SIZE), bytes3), uint24)


@external
@payable
@nonreentrant
def exactInputSingle(params: ExactInputSingleParams) -> uint256:
    """
    @notice Sell params.amountIn of tokenIn for tokenOut in one pool; params.recipient gets at least
            params.amountOutMinimum or the swap reverts
    @return amountOut What the recipient received
    """
    assert params.sqrtPriceLimitX96 == 0, "SwapRouter02: sqrtPriceLimitX96 is not supported"
    recipient: address = self._recipient(params.recipient)
    pair: address = self._pair(params.tokenIn, params.tokenOut, params.fee)
    self._pay(params.tokenIn, pair, params.amountIn, msg.value)
    amount_out: uint256 = self._swap_hop(pair, params.tokenIn, recipient)
    assert amount_out >= params.amountOutMinimum, "Too little received"
    return amount_out


@external
@payable
@nonreentrant
def exactInput(params: ExactInputParams) -> uint256:
    """
    @notice Sell params.amountIn along params.path (tokenIn, fee, token, …, tokenOut); params.recipient
            gets at least params.amountOutMinimum of the last token or the swap reverts
    @return amountOut What the recipient received
    """
    n: uint256 = len(params.path)
    assert n >= ADDR_SIZE + POP_OFFSET and (n - ADDR_SIZE) % POP_OFFSET == 0, "SwapRouter02: invalid path"
    hops: uint256 = (n - ADDR_SIZE) // POP_OFFSET
    recipient: address = self._recipient(params.recipient)
    token: address = self._path_token(params.path, 0)
    pair: address = self._pair(token, self._path_token(params.path, POP_OFFSET), self._path_fee(params.path, 0))
    self._pay(token, pair, params.amountIn, msg.value)
    amount: uint256 = 0
    for i: uint256 in range(hops, bound=MAX_HOPS):
        offset: uint256 = i * POP_OFFSET
        token_out: address = self._path_token(params.path, offset + POP_OFFSET)
        to: address = recipient
        next_pair: address = empty(address)
        if i + 1 < hops:
            next_token: address = self._path_token(params.path, offset + 2 * POP_OFFSET)
            next_pair = self._pair(token_out, next_token, self._path_fee(params.path, offset + POP_OFFSET))
            to = next_pair
        amount = self._swap_hop(pair, token, to)
        token = token_out
        pair = next_pair
    assert amount >= params.amountOutMinimum, "Too little received"
    return amount
