# pragma version 0.4.3
"""
@title Sandbox Uniswap V2 router
@license MIT
@notice The Uniswap V2 Router02 interface over the sandbox UniswapV2Factory pairs: liquidity
        (add/remove, ETH variants, permit variants), exact-in and exact-out swaps (token and ETH
        variants), fee-on-transfer-supporting swaps, and the library math (quote, getAmountOut,
        getAmountIn, getAmountsOut, getAmountsIn). Revert messages follow Uniswap V2.
@dev Math: amountOut = amountIn * 997 * reserveOut / (reserveIn * 1000 + amountIn * 997).
     Paths hold 2 to MAX_PATH tokens (up to 4 hops). Pairs are looked up with factory.getPair.
     `factory` and `WETH` are immutables (the ETH `__default__` must fit in the 2300-gas stipend).
"""

from ethereum.ercs import IERC20

interface IFactory:
    def getPair(tokenA: address, tokenB: address) -> address: view
    def createPair(tokenA: address, tokenB: address) -> address: nonpayable

interface IPair:
    def getReserves() -> (uint112, uint112, uint32): view
    def mint(to: address) -> uint256: nonpayable
    def burn(to: address) -> (uint256, uint256): nonpayable
    def swap(amount0Out: uint256, amount1Out: uint256, to: address, data: Bytes[32]): nonpayable
    def transferFrom(sender: address, to: address, amount: uint256) -> bool: nonpayable
    def permit(
        owner: address, spender: address, amount: uint256, deadline: uint256, v: uint8, r: bytes32, s: bytes32
    ): nonpayable

interface IWETH:
    def deposit(): payable
    def withdraw(wad: uint256): nonpayable
    def transfer(dst: address, wad: uint256) -> bool: nonpayable

#: Longest accepted path: 5 tokens = 4 hops.
MAX_PATH: constant(uint256) = 5

factory: public(immutable(address))
WETH: public(immutable(address))


@deploy
def __init__(_factory: address, _WETH: address):
    factory = _factory
    WETH = _WETH


@external
@payable
def __default__():
    """
    @notice Accept ETH only from WETH (unwrapping)
    """
    assert msg.sender == WETH


# ---------------------------------------------------------------- library

@internal
@pure
def _sort_tokens(tokenA: address, tokenB: address) -> (address, address):
    assert tokenA != tokenB, "UniswapV2Library: IDENTICAL_ADDRESSES"
    if convert(tokenA, uint160) < convert(tokenB, uint160):
        return tokenA, tokenB
    return tokenB, tokenA


@internal
@view
def _pair_for(tokenA: address, tokenB: address) -> address:
    pair: address = staticcall IFactory(factory).getPair(tokenA, tokenB)
    assert pair != empty(address), "UniswapV2Library: PAIR_NOT_FOUND"
    return pair


@internal
@view
def _get_reserves(tokenA: address, tokenB: address) -> (uint256, uint256):
    token0: address = self._sort_tokens(tokenA, tokenB)[0]
    reserve0: uint112 = 0
    reserve1: uint112 = 0
    timestamp: uint32 = 0
    reserve0, reserve1, timestamp = staticcall IPair(self._pair_for(tokenA, tokenB)).getReserves()
    if tokenA == token0:
        return convert(reserve0, uint256), convert(reserve1, uint256)
    return convert(reserve1, uint256), convert(reserve0, uint256)


@internal
@pure
def _quote(amountA: uint256, reserveA: uint256, reserveB: uint256) -> uint256:
    assert amountA > 0, "UniswapV2Library: INSUFFICIENT_AMOUNT"
    assert reserveA > 0 and reserveB > 0, "UniswapV2Library: INSUFFICIENT_LIQUIDITY"
    return amountA * reserveB // reserveA


@internal
@pure
def _get_amount_out(amountIn: uint256, reserveIn: uint256, reserveOut: uint256) -> uint256:
    assert amountIn > 0, "UniswapV2Library: INSUFFICIENT_INPUT_AMOUNT"
    assert reserveIn > 0 and reserveOut > 0, "UniswapV2Library: INSUFFICIENT_LIQUIDITY"
    amount_in_with_fee: uint256 = amountIn * 997
    return amount_in_with_fee * reserveOut // (reserveIn * 1000 + amount_in_with_fee)


@internal
@pure
def _get_amount_in(amountOut: uint256, reserveIn: uint256, reserveOut: uint256) -> uint256:
    assert amountOut > 0, "UniswapV2Library: INSUFFICIENT_OUTPUT_AMOUNT"
    assert reserveIn > 0 and reserveOut > 0, "UniswapV2Library: INSUFFICIENT_LIQUIDITY"
    assert amountOut < reserveOut, "UniswapV2Library: INSUFFICIENT_LIQUIDITY"
    return reserveIn * amountOut * 1000 // ((reserveOut - amountOut) * 997) + 1


@internal
@view
def _get_amounts_out(amountIn: uint256, path: DynArray[address, MAX_PATH]) -> DynArray[uint256, MAX_PATH]:
    assert len(path) >= 2, "UniswapV2Library: INVALID_PATH"
    amounts: DynArray[uint256, MAX_PATH] = [amountIn]
    for i: uint256 in range(len(path) - 1, bound=MAX_PATH):
        reserve_in: uint256 = 0
        reserve_out: uint256 = 0
        reserve_in, reserve_out = self._get_reserves(path[i], path[i + 1])
        amounts.append(self._get_amount_out(amounts[i], reserve_in, reserve_out))
    return amounts


@internal
@view
def _get_amounts_in(amountOut: uint256, path: DynArray[address, MAX_PATH]) -> DynArray[uint256, MAX_PATH]:
    n: uint256 = len(path)
    assert n >= 2, "UniswapV2Library: INVALID_PATH"
    amounts: DynArray[uint256, MAX_PATH] = empty(DynArray[uint256, MAX_PATH])
    for i: uint256 in range(n, bound=MAX_PATH):
        amounts.append(0)
    amounts[n - 1] = amountOut
    for j: uint256 in range(n - 1, bound=MAX_PATH):
        i: uint256 = n - 1 - j
        reserve_in: uint256 = 0
        reserve_out: uint256 = 0
        reserve_in, reserve_out = self._get_reserves(path[i - 1], path[i])
        amounts[i - 1] = self._get_amount_in(amounts[i], reserve_in, reserve_out)
    return amounts


@external
@pure
def quote(amountA: uint256, reserveA: uint256, reserveB: uint256) -> uint256:
    return self._quote(amountA, reserveA, reserveB)


@external
@pure
def getAmountOut(amountIn: uint256, reserveIn: uint256, reserveOut: uint256) -> uint256:
    return self._get_amount_out(amountIn, reserveIn, reserveOut)


@external
@pure
def getAmountIn(amountOut: uint256, reserveIn: uint256, reserveOut: uint256) -> uint256:
    return self._get_amount_in(amountOut, reserveIn, reserveOut)


@external
@view
def getAmountsOut(amountIn: uint256, path: DynArray[address, MAX_PATH]) -> DynArray[uint256, MAX_PATH]:
    return self._get_amounts_out(amountIn, path)


@external
@view
def getAmountsIn(amountOut: uint256, path: DynArray[address, MAX_PATH]) -> DynArray[uint256, MAX_PATH]:
    return self._get_amounts_in(amountOut, path)


# ---------------------------------------------------------------- transfer helpers

@internal
def _safe_transfer(token: address, to: address, amount: uint256):
    assert extcall IERC20(token).transfer(to, amount, default_return_value=True), "TransferHelper: TRANSFER_FAILED"


@internal
def _safe_transfer_from(token: address, sender: address, to: address, amount: uint256):
    assert extcall IERC20(token).transferFrom(
        sender, to, amount, default_return_value=True
    ), "TransferHelper: TRANSFER_FROM_FAILED"


@internal
def _safe_transfer_eth(to: address, amount: uint256):
    success: bool = raw_call(to, b"", value=amount, revert_on_failure=False)
    assert success, "TransferHelper: ETH_TRANSFER_FAILED"


@internal
@view
def _ensure(deadline: uint256):
    assert deadline >= block.timestamp, "UniswapV2Router: EXPIRED"


# ---------------------------------------------------------------- liquidity

@internal
def _add_liquidity(
    tokenA: address,
    tokenB: address,
    amountADesired: uint256,
    amountBDesired: uint256,
    amountAMin: uint256,
    amountBMin: uint256,
) -> (uint256, uint256):
    if staticcall IFactory(factory).getPair(tokenA, tokenB) == empty(address):
        extcall IFactory(factory).createPair(tokenA, tokenB)
    reserveA: uint256 = 0
    reserveB: uint256 = 0
    reserveA, reserveB = self._get_reserves(tokenA, tokenB)
    if reserveA == 0 and reserveB == 0:
        return amountADesired, amountBDesired
    amountBOptimal: uint256 = self._quote(amountADesired, reserveA, reserveB)
    if amountBOptimal <= amountBDesired:
        assert amountBOptimal >= amountBMin, "UniswapV2Router: INSUFFICIENT_B_AMOUNT"
        return amountADesired, amountBOptimal
    amountAOptimal: uint256 = self._quote(amountBDesired, reserveB, reserveA)
    assert amountAOptimal <= amountADesired
    assert amountAOptimal >= amountAMin, "UniswapV2Router: INSUFFICIENT_A_AMOUNT"
    return amountAOptimal, amountBDesired


@external
def addLiquidity(
    tokenA: address,
    tokenB: address,
    amountADesired: uint256,
    amountBDesired: uint256,
    amountAMin: uint256,
    amountBMin: uint256,
    to: address,
    deadline: uint256,
) -> (uint256, uint256, uint256):
    """
    @notice Add liquidity at the current ratio (creating the pair if needed)
    @return amountA, amountB, liquidity
    """
    self._ensure(deadline)
    amountA: uint256 = 0
    amountB: uint256 = 0
    amountA, amountB = self._add_liquidity(tokenA, tokenB, amountADesired, amountBDesired, amountAMin, amountBMin)
    pair: address = self._pair_for(tokenA, tokenB)
    self._safe_transfer_from(tokenA, msg.sender, pair, amountA)
    self._safe_transfer_from(tokenB, msg.sender, pair, amountB)
    liquidity: uint256 = extcall IPair(pair).mint(to)
    return amountA, amountB, liquidity


@external
@payable
def addLiquidityETH(
    token: address,
    amountTokenDesired: uint256,
    amountTokenMin: uint256,
    amountETHMin: uint256,
    to: address,
    deadline: uint256,
) -> (uint256, uint256, uint256):
    """
    @notice Add token + ETH liquidity; unused ETH is refunded
    @return amountToken, amountETH, liquidity
    """
    self._ensure(deadline)
    amountToken: uint256 = 0
    amountETH: uint256 = 0
    amountToken, amountETH = self._add_liquidity(
        token, WETH, amountTokenDesired, msg.value, amountTokenMin, amountETHMin
    )
    pair: address = self._pair_for(token, WETH)
    self._safe_transfer_from(token, msg.sender, pair, amountToken)
    extcall IWETH(WETH).deposit(value=amountETH)
    assert extcall IWETH(WETH).transfer(pair, amountETH)
    liquidity: uint256 = extcall IPair(pair).mint(to)
    if msg.value > amountETH:
        self._safe_transfer_eth(msg.sender, msg.value - amountETH)
    return amountToken, amountETH, liquidity


@internal
def _remove_liquidity(
    tokenA: address,
    tokenB: address,
    liquidity: uint256,
    amountAMin: uint256,
    amountBMin: uint256,
    to: address,
    deadline: uint256,
) -> (uint256, uint256):
    self._ensure(deadline)
    pair: address = self._pair_for(tokenA, tokenB)
    assert extcall IPair(pair).transferFrom(msg.sender, pair, liquidity)
    amount0: uint256 = 0
    amount1: uint256 = 0
    amount0, amount1 = extcall IPair(pair).burn(to)
    amountA: uint256 = amount1
    amountB: uint256 = amount0
    if tokenA == self._sort_tokens(tokenA, tokenB)[0]:
        amountA = amount0
        amountB = amount1
    assert amountA >= amountAMin, "UniswapV2Router: INSUFFICIENT_A_AMOUNT"
    assert amountB >= amountBMin, "UniswapV2Router: INSUFFICIENT_B_AMOUNT"
    return amountA, amountB


@internal
def _remove_liquidity_eth(
    token: address,
    liquidity: uint256,
    amountTokenMin: uint256,
    amountETHMin: uint256,
    to: address,
    deadline: uint256,
) -> (uint256, uint256):
    amountToken: uint256 = 0
    amountETH: uint256 = 0
    amountToken, amountETH = self._remove_liquidity(
        token, WETH, liquidity, amountTokenMin, amountETHMin, self, deadline
    )
    self._safe_transfer(token, to, amountToken)
    extcall IWETH(WETH).withdraw(amountETH)
    self._safe_transfer_eth(to, amountETH)
    return amountToken, amountETH


@internal
def _remove_liquidity_eth_fee_on_transfer(
    token: address,
    liquidity: uint256,
    amountTokenMin: uint256,
    amountETHMin: uint256,
    to: address,
    deadline: uint256,
) -> uint256:
    amountETH: uint256 = self._remove_liquidity(
        token, WETH, liquidity, amountTokenMin, amountETHMin, self, deadline
    )[1]
    self._safe_transfer(token, to, staticcall IERC20(token).balanceOf(self))
    extcall IWETH(WETH).withdraw(amountETH)
    self._safe_transfer_eth(to, amountETH)
    return amountETH


@internal
def _permit(pair: address, liquidity: uint256, deadline: uint256, approveMax: bool, v: uint8, r: bytes32, s: bytes32):
    amount: uint256 = liquidity
    if approveMax:
        amount = max_value(uint256)
    extcall IPair(pair).permit(msg.sender, self, amount, deadline, v, r, s)


@external
def removeLiquidity(
    tokenA: address,
    tokenB: address,
    liquidity: uint256,
    amountAMin: uint256,
    amountBMin: uint256,
    to: address,
    deadline: uint256,
) -> (uint256, uint256):
    return self._remove_liquidity(tokenA, tokenB, liquidity, amountAMin, amountBMin, to, deadline)


@external
def removeLiquidityETH(
    token: address,
    liquidity: uint256,
    amountTokenMin: uint256,
    amountETHMin: uint256,
    to: address,
    deadline: uint256,
) -> (uint256, uint256):
    return self._remove_liquidity_eth(token, liquidity, amountTokenMin, amountETHMin, to, deadline)


@external
def removeLiquidityWithPermit(
    tokenA: address,
    tokenB: address,
    liquidity: uint256,
    amountAMin: uint256,
    amountBMin: uint256,
    to: address,
    deadline: uint256,
    approveMax: bool,
    v: uint8,
    r: bytes32,
    s: bytes32,
) -> (uint256, uint256):
    self._permit(self._pair_for(tokenA, tokenB), liquidity, deadline, approveMax, v, r, s)
    return self._remove_liquidity(tokenA, tokenB, liquidity, amountAMin, amountBMin, to, deadline)


@external
def removeLiquidityETHWithPermit(
    token: address,
    liquidity: uint256,
    amountTokenMin: uint256,
    amountETHMin: uint256,
    to: address,
    deadline: uint256,
    approveMax: bool,
    v: uint8,
    r: bytes32,
    s: bytes32,
) -> (uint256, uint256):
    self._permit(self._pair_for(token, WETH), liquidity, deadline, approveMax, v, r, s)
    return self._remove_liquidity_eth(token, liquidity, amountTokenMin, amountETHMin, to, deadline)


@external
def removeLiquidityETHSupportingFeeOnTransferTokens(
    token: address,
    liquidity: uint256,
    amountTokenMin: uint256,
    amountETHMin: uint256,
    to: address,
    deadline: uint256,
) -> uint256:
    return self._remove_liquidity_eth_fee_on_transfer(token, liquidity, amountTokenMin, amountETHMin, to, deadline)


@external
def removeLiquidityETHWithPermitSupportingFeeOnTransferTokens(
    token: address,
    liquidity: uint256,
    amountTokenMin: uint256,
    amountETHMin: uint256,
    to: address,
    deadline: uint256,
    approveMax: bool,
    v: uint8,
    r: bytes32,
    s: bytes32,
) -> uint256:
    self._permit(self._pair_for(token, WETH), liquidity, deadline, approveMax, v, r, s)
    return self._remove_liquidity_eth_fee_on_transfer(token, liquidity, amountTokenMin, amountETHMin, to, deadline)


# ---------------------------------------------------------------- swaps

@internal
def _swap(amounts: DynArray[uint256, MAX_PATH], path: DynArray[address, MAX_PATH], _to: address):
    """
    @dev Requires the first pair to already hold amounts[0] of path[0].
    """
    hops: uint256 = len(path) - 1
    for i: uint256 in range(hops, bound=MAX_PATH):
        token0: address = self._sort_tokens(path[i], path[i + 1])[0]
        amount_out: uint256 = amounts[i + 1]
        amount0_out: uint256 = amount_out
        amount1_out: uint256 = 0
        if path[i] == token0:
            amount0_out = 0
            amount1_out = amount_out
        to: address = _to
        if i + 1 < hops:
            to = self._pair_for(path[i + 1], path[i + 2])
        extcall IPair(self._pair_for(path[i], path[i + 1])).swap(amount0_out, amount1_out, to, b"")


@internal
def _swap_supporting_fee_on_transfer(path: DynArray[address, MAX_PATH], _to: address):
    """
    @dev Each hop's input is what the pair actually received (balance minus reserve).
    """
    hops: uint256 = len(path) - 1
    for i: uint256 in range(hops, bound=MAX_PATH):
        token0: address = self._sort_tokens(path[i], path[i + 1])[0]
        pair: address = self._pair_for(path[i], path[i + 1])
        reserve0: uint112 = 0
        reserve1: uint112 = 0
        timestamp: uint32 = 0
        reserve0, reserve1, timestamp = staticcall IPair(pair).getReserves()
        reserve_in: uint256 = convert(reserve1, uint256)
        reserve_out: uint256 = convert(reserve0, uint256)
        if path[i] == token0:
            reserve_in = convert(reserve0, uint256)
            reserve_out = convert(reserve1, uint256)
        amount_input: uint256 = staticcall IERC20(path[i]).balanceOf(pair) - reserve_in
        amount_output: uint256 = self._get_amount_out(amount_input, reserve_in, reserve_out)
        amount0_out: uint256 = amount_output
        amount1_out: uint256 = 0
        if path[i] == token0:
            amount0_out = 0
            amount1_out = amount_output
        to: address = _to
        if i + 1 < hops:
            to = self._pair_for(path[i + 1], path[i + 2])
        extcall IPair(pair).swap(amount0_out, amount1_out, to, b"")


@external
def swapExactTokensForTokens(
    amountIn: uint256, amountOutMin: uint256, path: DynArray[address, MAX_PATH], to: address, deadline: uint256
) -> DynArray[uint256, MAX_PATH]:
    """
    @notice Sell exactly `amountIn` of path[0] for at least `amountOutMin` of path[-1]
    @return amounts The input followed by each hop's output
    """
    self._ensure(deadline)
    amounts: DynArray[uint256, MAX_PATH] = self._get_amounts_out(amountIn, path)
    assert amounts[len(amounts) - 1] >= amountOutMin, "UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT"
    self._safe_transfer_from(path[0], msg.sender, self._pair_for(path[0], path[1]), amounts[0])
    self._swap(amounts, path, to)
    return amounts


@external
def swapTokensForExactTokens(
    amountOut: uint256, amountInMax: uint256, path: DynArray[address, MAX_PATH], to: address, deadline: uint256
) -> DynArray[uint256, MAX_PATH]:
    """
    @notice Buy exactly `amountOut` of path[-1] for at most `amountInMax` of path[0]
    """
    self._ensure(deadline)
    amounts: DynArray[uint256, MAX_PATH] = self._get_amounts_in(amountOut, path)
    assert amounts[0] <= amountInMax, "UniswapV2Router: EXCESSIVE_INPUT_AMOUNT"
    self._safe_transfer_from(path[0], msg.sender, self._pair_for(path[0], path[1]), amounts[0])
    self._swap(amounts, path, to)
    return amounts


@external
@payable
def swapExactETHForTokens(
    amountOutMin: uint256, path: DynArray[address, MAX_PATH], to: address, deadline: uint256
) -> DynArray[uint256, MAX_PATH]:
    """
    @notice Sell exactly msg.value ETH (path[0] must be WETH)
    """
    self._ensure(deadline)
    assert path[0] == WETH, "UniswapV2Router: INVALID_PATH"
    amounts: DynArray[uint256, MAX_PATH] = self._get_amounts_out(msg.value, path)
    assert amounts[len(amounts) - 1] >= amountOutMin, "UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT"
    extcall IWETH(WETH).deposit(value=amounts[0])
    assert extcall IWETH(WETH).transfer(self._pair_for(path[0], path[1]), amounts[0])
    self._swap(amounts, path, to)
    return amounts


@external
def swapTokensForExactETH(
    amountOut: uint256, amountInMax: uint256, path: DynArray[address, MAX_PATH], to: address, deadline: uint256
) -> DynArray[uint256, MAX_PATH]:
    """
    @notice Buy exactly `amountOut` ETH (path[-1] must be WETH)
    """
    self._ensure(deadline)
    assert path[len(path) - 1] == WETH, "UniswapV2Router: INVALID_PATH"
    amounts: DynArray[uint256, MAX_PATH] = self._get_amounts_in(amountOut, path)
    assert amounts[0] <= amountInMax, "UniswapV2Router: EXCESSIVE_INPUT_AMOUNT"
    self._safe_transfer_from(path[0], msg.sender, self._pair_for(path[0], path[1]), amounts[0])
    self._swap(amounts, path, self)
    eth_out: uint256 = amounts[len(amounts) - 1]
    extcall IWETH(WETH).withdraw(eth_out)
    self._safe_transfer_eth(to, eth_out)
    return amounts


@external
def swapExactTokensForETH(
    amountIn: uint256, amountOutMin: uint256, path: DynArray[address, MAX_PATH], to: address, deadline: uint256
) -> DynArray[uint256, MAX_PATH]:
    """
    @notice Sell exactly `amountIn` of path[0] for at least `amountOutMin` ETH (path[-1] must be WETH)
    """
    self._ensure(deadline)
    assert path[len(path) - 1] == WETH, "UniswapV2Router: INVALID_PATH"
    amounts: DynArray[uint256, MAX_PATH] = self._get_amounts_out(amountIn, path)
    eth_out: uint256 = amounts[len(amounts) - 1]
    assert eth_out >= amountOutMin, "UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT"
    self._safe_transfer_from(path[0], msg.sender, self._pair_for(path[0], path[1]), amounts[0])
    self._swap(amounts, path, self)
    extcall IWETH(WETH).withdraw(eth_out)
    self._safe_transfer_eth(to, eth_out)
    return amounts


@external
@payable
def swapETHForExactTokens(
    amountOut: uint256, path: DynArray[address, MAX_PATH], to: address, deadline: uint256
) -> DynArray[uint256, MAX_PATH]:
    """
    @notice Buy exactly `amountOut` of path[-1] with ETH (path[0] must be WETH); unused ETH is refunded
    """
    self._ensure(deadline)
    assert path[0] == WETH, "UniswapV2Router: INVALID_PATH"
    amounts: DynArray[uint256, MAX_PATH] = self._get_amounts_in(amountOut, path)
    assert amounts[0] <= msg.value, "UniswapV2Router: EXCESSIVE_INPUT_AMOUNT"
    extcall IWETH(WETH).deposit(value=amounts[0])
    assert extcall IWETH(WETH).transfer(self._pair_for(path[0], path[1]), amounts[0])
    self._swap(amounts, path, to)
    if msg.value > amounts[0]:
        self._safe_transfer_eth(msg.sender, msg.value - amounts[0])
    return amounts


@external
def swapExactTokensForTokensSupportingFeeOnTransferTokens(
    amountIn: uint256, amountOutMin: uint256, path: DynArray[address, MAX_PATH], to: address, deadline: uint256
):
    self._ensure(deadline)
    assert len(path) >= 2, "UniswapV2Library: INVALID_PATH"
    last: address = path[len(path) - 1]
    self._safe_transfer_from(path[0], msg.sender, self._pair_for(path[0], path[1]), amountIn)
    balance_before: uint256 = staticcall IERC20(last).balanceOf(to)
    self._swap_supporting_fee_on_transfer(path, to)
    assert (
        staticcall IERC20(last).balanceOf(to) - balance_before >= amountOutMin
    ), "UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT"


@external
@payable
def swapExactETHForTokensSupportingFeeOnTransferTokens(
    amountOutMin: uint256, path: DynArray[address, MAX_PATH], to: address, deadline: uint256
):
    self._ensure(deadline)
    assert len(path) >= 2 and path[0] == WETH, "UniswapV2Router: INVALID_PATH"
    last: address = path[len(path) - 1]
    extcall IWETH(WETH).deposit(value=msg.value)
    assert extcall IWETH(WETH).transfer(self._pair_for(path[0], path[1]), msg.value)
    balance_before: uint256 = staticcall IERC20(last).balanceOf(to)
    self._swap_supporting_fee_on_transfer(path, to)
    assert (
        staticcall IERC20(last).balanceOf(to) - balance_before >= amountOutMin
    ), "UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT"


@external
def swapExactTokensForETHSupportingFeeOnTransferTokens(
    amountIn: uint256, amountOutMin: uint256, path: DynArray[address, MAX_PATH], to: address, deadline: uint256
):
    self._ensure(deadline)
    assert len(path) >= 2 and path[len(path) - 1] == WETH, "UniswapV2Router: INVALID_PATH"
    self._safe_transfer_from(path[0], msg.sender, self._pair_for(path[0], path[1]), amountIn)
    self._swap_supporting_fee_on_transfer(path, self)
    amount_out: uint256 = staticcall IERC20(WETH).balanceOf(self)
    assert amount_out >= amountOutMin, "UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT"
    extcall IWETH(WETH).withdraw(amount_out)
    self._safe_transfer_eth(to, amount_out)
