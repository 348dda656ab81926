# pragma version 0.4.3
"""
@title Sandbox QuoterV2
@license MIT
@notice The Uniswap V3 QuoterV2 interface (quoteExactInputSingle, quoteExactInput,
        quoteExactOutputSingle, quoteExactOutput, factory, WETH9) answered from the sandbox
        Uniswap V2 pools of one factory. Like the real quoter the quote functions are not `view`
        (call them with eth_call).
@dev The sandbox has a single fee tier: `fee` must be 3000 (the pools' 0.3%). sqrtPriceLimitX96 must
     be 0 (no partial fills). sqrtPriceX96After is sqrt(reserve1 / reserve0) * 2**96 of the pool after
     the swap (token1 per token0, as in V3); initializedTicksCrossed is 0 (V2 pools have no ticks);
     gasEstimate is GAS_PER_HOP per pool, about what one pair swap costs. Paths are V3-encoded
     (token, fee as 3 bytes, token, …) with at most MAX_HOPS pools.
"""

interface IFactory:
    def getPair(tokenA: address, tokenB: address) -> address: view

interface IPair:
    def token0() -> address: view
    def getReserves() -> (uint112, uint112, uint32): view

struct QuoteExactInputSingleParams:
    tokenIn: address
    tokenOut: address
    amountIn: uint256
    fee: uint24
    sqrtPriceLimitX96: uint160

struct QuoteExactOutputSingleParams:
    tokenIn: address
    tokenOut: address
    amount: uint256
    fee: uint24
    sqrtPriceLimitX96: uint160

struct HopQuote:
    amount: uint256
    sqrt_price_x96_after: uint160

FEE: constant(uint24) = 3000
MAX_HOPS: constant(uint256) = 4
ADDR_SIZE: constant(uint256) = 20
FEE_SIZE: constant(uint256) = 3
POP_OFFSET: constant(uint256) = ADDR_SIZE + FEE_SIZE
MAX_PATH_BYTES: constant(uint256) = ADDR_SIZE + POP_OFFSET * MAX_HOPS
GAS_PER_HOP: constant(uint256) = 90_000

factory: public(immutable(address))
WETH9: public(immutable(address))


@deploy
def __init__(_factory: address, _WETH9: address):
    """
    @param _factory UniswapV2Factory whose pairs are quoted
    @param _WETH9 The chain's WETH (reported by WETH9())
    """
    factory = _factory
    WETH9 = _WETH9


@internal
@pure
def _sqrt_price_x96(reserve0: uint256, reserve1: uint256) -> uint160:
    # reserves < 2**112, so reserve1 << 144 fits; sqrt((r1 << 144) / r0) << 24 = sqrt(r1 / r0) * 2**96
    return convert(isqrt((reserve1 << 144) // reserve0) << 24, uint160)


@internal
@view
def _pool(token_a: address, token_b: address, fee: uint24, sqrt_price_limit_x96: uint160) -> (address, bool):
    """
    @return (pair, token_a is the pair's token0)
    """
    assert fee == FEE, "QuoterV2: only the 3000 fee tier exists in the sandbox"
    assert sqrt_price_limit_x96 == 0, "QuoterV2: sqrtPriceLimitX96 is not supported"
    pair: address = staticcall IFactory(factory).getPair(token_a, token_b)
    assert pair != empty(address), "QuoterV2: pool does not exist"
    return pair, staticcall IPair(pair).token0() == token_a


@internal
@view
def _reserves(pair: address) -> (uint256, uint256):
    reserve0: uint112 = 0
    reserve1: uint112 = 0
    timestamp: uint32 = 0
    reserve0, reserve1, timestamp = staticcall IPair(pair).getReserves()
    assert reserve0 > 0 and reserve1 > 0, "QuoterV2: pool has no liquidity"
    return convert(reserve0, uint256), convert(reserve1, uint256)


@internal
@view
def _after(reserve0: uint256, reserve1: uint256) -> uint160:
    assert reserve0 > 0 and reserve1 > 0, "QuoterV2: pool drained"
    assert reserve0 <= convert(max_value(uint112), uint256), "QuoterV2: reserve overflow"
    assert reserve1 <= convert(max_value(uint112), uint256), "QuoterV2: reserve overflow"
    return self._sqrt_price_x96(reserve0, reserve1)


@internal
@view
def _quote_in(token_in: address, token_out: address, fee: uint24, amount_in: uint256, limit: uint160) -> HopQuote:
    pair: address = empty(address)
    zero_for_one: bool = False
    pair, zero_for_one = self._pool(token_in, token_out, fee, limit)
    r0: uint256 = 0
    r1: uint256 = 0
    r0, r1 = self._reserves(pair)
    assert amount_in > 0, "QuoterV2: amountIn is zero"
    if zero_for_one:
        out: uint256 = amount_in * 997 * r1 // (r0 * 1000 + amount_in * 997)
        return HopQuote(amount=out, sqrt_price_x96_after=self._after(r0 + amount_in, r1 - out))
    out: uint256 = amount_in * 997 * r0 // (r1 * 1000 + amount_in * 997)
    return HopQuote(amount=out, sqrt_price_x96_after=self._after(r0 - out, r1 + amount_in))


@internal
@view
def _quote_out(token_in: address, token_out: address, fee: uint24, amount_out: uint256, limit: uint160) -> HopQuote:
    pair: address = empty(address)
    zero_for_one: bool = False
    pair, zero_for_one = self._pool(token_in, token_out, fee, limit)
    r0: uint256 = 0
    r1: uint256 = 0
    r0, r1 = self._reserves(pair)
    assert amount_out > 0, "QuoterV2: amountOut is zero"
    if zero_for_one:
        assert amount_out < r1, "QuoterV2: not enough liquidity"
        amount_in: uint256 = r0 * amount_out * 1000 // ((r1 - amount_out) * 997) + 1
        return HopQuote(amount=amount_in, sqrt_price_x96_after=self._after(r0 + amount_in, r1 - amount_out))
    assert amount_out < r0, "QuoterV2: not enough liquidity"
    amount_in: uint256 = r1 * amount_out * 1000 // ((r0 - amount_out) * 997) + 1
    return HopQuote(amount=amount_in, sqrt_price_x96_after=self._after(r0 - amount_out, r1 + amount_in))


@internal
@pure
def _path_token(path: Bytes[MAX_PATH_BYTES], offset: uint256) -> address:
    return convert(convert(slice(path, offset, ADDR_SIZE), bytes20), address)


@internal
@pure
def _path_fee(path: Bytes[MAX_PATH_BYTES], offset: uint256) -> uint24:
    return convert(convert(slice(path, offset + ADDR_SIZE, FEE_SIZE), bytes3), uint24)


@internal
@pure
def _path_hops(path: Bytes[MAX_PATH_BYTES]) -> uint256:
    n: uint256 = len(path)
    assert n >= ADDR_SIZE + POP_OFFSET and (n - ADDR_SIZE) % POP_OFFSET == 0, "QuoterV2: invalid path"
    return (n - ADDR_SIZE) // POP_OFFSET


@external
def quoteExactInputSingle(params: QuoteExactInputSingleParams) -> (uint256, uint160, uint32, uint256):
    """
    @notice Output for selling params.amountIn of tokenIn for tokenOut in one pool
    @return amountOut, sqrtPriceX96After, initializedTicksCrossed, gasEstimate
    """
    q: HopQuote = self._quote_in(
        params.tokenIn, params.tokenOut, params.fee, params.amountIn, params.sqrtPriceLimitX96
    )
    return q.amount, q.sqrt_price_x96_after, 0, GAS_PER_HOP


@external
def quoteExactOutputSingle(params: QuoteExactOutputSingleParams) -> (uint256, uint160, uint32, uint256):
    """
    @notice Input needed to buy params.amount of tokenOut with tokenIn in one pool
    @return amountIn, sqrtPriceX96After, initializedTicksCrossed, gasEstimate
    """
    q: HopQuote = self._quote_out(
        params.tokenIn, params.tokenOut, params.fee, params.amount, params.sqrtPriceLimitX96
    )
    return q.amount, q.sqrt_price_x96_after, 0, GAS_PER_HOP


@external
def quoteExactInput(
    path: Bytes[MAX_PATH_BYTES], amountIn: uint256
) -> (uint256, DynArray[uint160, MAX_HOPS], DynArray[uint32, MAX_HOPS], uint256):
    """
    @notice Output for selling `amountIn` along `path` (tokenIn, fee, token, …, tokenOut)
    @return amountOut, sqrtPriceX96AfterList, initializedTicksCrossedList, gasEstimate
    """
    hops: uint256 = self._path_hops(path)
    prices: DynArray[uint160, MAX_HOPS] = []
    ticks: DynArray[uint32, MAX_HOPS] = []
    amount: uint256 = amountIn
    for i: uint256 in range(hops, bound=MAX_HOPS):
        offset: uint256 = i * POP_OFFSET
        token_in: address = self._path_token(path, offset)
        token_out: address = self._path_token(path, offset + POP_OFFSET)
        q: HopQuote = self._quote_in(token_in, token_out, self._path_fee(path, offset), amount, 0)
        amount = q.amount
        prices.append(q.sqrt_price_x96_after)
        ticks.append(0)
    return amount, prices, ticks, GAS_PER_HOP * hops


@external
def quoteExactOutput(
    path: Bytes[MAX_PATH_BYTES], amountOut: uint256
) -> (uint256, DynArray[uint160, MAX_HOPS], DynArray[uint32, MAX_HOPS], uint256):
    """
    @notice Input needed to buy `amountOut` along the reversed `path` (tokenOut, fee, …, tokenIn)
    @return amountIn, sqrtPriceX96AfterList, initializedTicksCrossedList, gasEstimate
    """
    hops: uint256 = self._path_hops(path)
    prices: DynArray[uint160, MAX_HOPS] = []
    ticks: DynArray[uint32, MAX_HOPS] = []
    amount: uint256 = amountOut
    for i: uint256 in range(hops, bound=MAX_HOPS):
        offset: uint256 = i * POP_OFFSET
        token_out: address = self._path_token(path, offset)
        token_in: address = self._path_token(path, offset + POP_OFFSET)
        q: HopQuote = self._quote_out(token_in, token_out, self._path_fee(path, offset), amount, 0)
        amount = q.amount
        prices.append(q.sqrt_price_x96_after)
        ticks.append(0)
    return amount, prices, ticks, GAS_PER_HOP * hops


@external
@view
def uniswapV3SwapCallback(amount0Delta: int256, amount1Delta: int256, path: Bytes[MAX_PATH_BYTES]):
    """
    @notice Part of the QuoterV2 interface; the sandbox has no V3 pools that could call it
    """
    raise "QuoterV2: no V3 pools in the sandbox"
