# pragma version 0.4.3
"""
@title Sandbox DEX-aggregator router
@license MIT
@notice Executes a split, multi-hop route over UniswapV2Pair pools atomically, with a min-out check.
        Entry points: its own `swap`, the 0x AllowanceHolder `exec` (with a Settler `execute` inside)
        and Augustus v6.2 `swapExactAmountIn`, with the real selectors and argument shapes; the legs
        travel ABI-encoded in the shape's opaque bytes (Settler action, executorData). The 1inch, Odos
        and KyberSwap shapes (whose entry points are all named `swap`) are `ShapeOneInch`, `ShapeOdos`
        and `ShapeKyber`, adapters that pull the tokens and call this router's `swap`.
        A route is up to MAX_LEGS legs; each leg sells `amount_in` of token_in through a chain of up
        to MAX_HOPS pairs and must end in token_out. Leg amounts must sum to amount_in.
@dev token_in is pulled with transferFrom(msg.sender, first pair, leg amount), so the approval
     spender is this router. NATIVE (0xEeee…EEeE) as token_in means ETH (msg.value == amount_in,
     wrapped through WETH); as token_out it means the WETH output is unwrapped and sent as ETH.
     Each hop's direction comes from the pair's token0/token1, each hop's input is what the pair
     actually received (balance minus reserve) and each output follows the Uniswap V2 formula
     out = in * 997 * reserveOut / (reserveIn * 1000 + in * 997). Tokens move pair to pair; the
     recipient's balance change is the amount checked against min_amount_out.
"""

from ethereum.ercs import IERC20

interface IPair:
    def token0() -> address: view
    def token1() -> address: view
    def getReserves() -> (uint112, uint112, uint32): view
    def swap(amount0Out: uint256, amount1Out: uint256, to: address, data: Bytes[32]): nonpayable

interface IWETH:
    def deposit(): payable
    def withdraw(wad: uint256): nonpayable
    def transfer(dst: address, wad: uint256) -> bool: nonpayable

MAX_LEGS: constant(uint256) = 4
MAX_HOPS: constant(uint256) = 3
MAX_TOUCHED: constant(uint256) = MAX_LEGS * MAX_HOPS
NATIVE: constant(address) = 0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE

MAX_CALL: constant(uint256) = 4096
MAX_LEGS_BYTES: constant(uint256) = 1024
MAX_ACTIONS: constant(uint256) = 2
MAX_PERMIT: constant(uint256) = 512
SETTLER_EXECUTE: constant(bytes4) = 0x1fff991f

struct Leg:
    amount_in: uint256
    pairs: DynArray[address, MAX_HOPS]

struct Slippage:
    recipient: address
    buy_token: address
    min_amount_out: uint256

struct GenericData:
    srcToken: address
    destToken: address
    fromAmount: uint256
    toAmount: uint256
    quotedAmount: uint256
    metadata: bytes32
    beneficiary: address

event Swapped:
    sender: indexed(address)
    recipient: indexed(address)
    token_in: address
    token_out: address
    amount_in: uint256
    amount_out: uint256

WETH: public(immutable(address))


@deploy
def __init__(weth: address):
    """
    @param weth The chain's WETH9, used for native ETH in and out
    """
    WETH = weth


@external
@payable
def __default__():
    """
    @notice Accept ETH only from WETH (unwrapping)
    """
    assert msg.sender == WETH


@internal
@pure
def _amount_out(amount_in: uint256, reserve_in: uint256, reserve_out: uint256) -> uint256:
    assert amount_in > 0, "AggregatorRouter: zero input to a pool"
    assert reserve_in > 0 and reserve_out > 0, "AggregatorRouter: pool has no liquidity"
    amount_in_with_fee: uint256 = amount_in * 997
    return amount_in_with_fee * reserve_out // (reserve_in * 1000 + amount_in_with_fee)


@internal
@view
def _direction(pair: address, token: address) -> (bool, address):
    """
    @return (token is token0, the other token)
    """
    token0: address = staticcall IPair(pair).token0()
    token1: address = staticcall IPair(pair).token1()
    if token == token0:
        return True, token1
    assert token == token1, "AggregatorRouter: pair does not trade the leg's token"
    return False, token0


@internal
@view
def _reserves(pair: address, zero_for_one: bool) -> (uint256, uint256):
    reserve0: uint112 = 0
    reserve1: uint112 = 0
    timestamp: uint32 = 0
    reserve0, reserve1, timestamp = staticcall IPair(pair).getReserves()
    if zero_for_one:
        return convert(reserve0, uint256), convert(reserve1, uint256)
    return convert(reserve1, uint256), convert(reserve0, uint256)


@internal
def _swap_leg(token_in: address, token_out: address, pairs: DynArray[address, MAX_HOPS], receiver: address):
    """
    @dev The first pair already holds the leg's input.
    """
    token: address = token_in
    for i: uint256 in range(len(pairs), bound=MAX_HOPS):
        pair: address = pairs[i]
        zero_for_one: bool = False
        next_token: address = empty(address)
        zero_for_one, next_token = self._direction(pair, token)
        reserve_in: uint256 = 0
        reserve_out: uint256 = 0
        reserve_in, reserve_out = self._reserves(pair, zero_for_one)
        received: uint256 = staticcall IERC20(token).balanceOf(pair) - reserve_in
        amount_out: uint256 = self._amount_out(received, reserve_in, reserve_out)
        to: address = receiver
        if i + 1 < len(pairs):
            to = pairs[i + 1]
        if zero_for_one:
            extcall IPair(pair).swap(0, amount_out, to, b"")
        else:
            extcall IPair(pair).swap(amount_out, 0, to, b"")
        token = next_token
    assert token == token_out, "AggregatorRouter: leg does not end in token_out"


@internal
@view
def _check_legs(amount_in: uint256, legs: DynArray[Leg, MAX_LEGS]):
    assert len(legs) > 0, "AggregatorRouter: no legs"
    total: uint256 = 0
    for leg: Leg in legs:
        assert leg.amount_in > 0, "AggregatorRouter: leg with zero amount_in"
        assert len(leg.pairs) > 0, "AggregatorRouter: leg without pairs"
        total += leg.amount_in
    assert total == amount_in, "AggregatorRouter: leg amounts must sum to amount_in"


@internal
@view
def _balance(token: address, holder: address) -> uint256:
    return staticcall IERC20(token).balanceOf(holder)


@internal
def _swap(
    payer: address,
    paid: uint256,
    token_in: address,
    token_out: address,
    amount_in: uint256,
    min_amount_out: uint256,
    recipient: address,
    legs: DynArray[Leg, MAX_LEGS],
) -> uint256:
    assert token_in != token_out, "AggregatorRouter: token_in equals token_out"
    assert recipient != empty(address), "AggregatorRouter: recipient is the zero address"
    self._check_legs(amount_in, legs)

    path_in: address = token_in
    if token_in == NATIVE:
        assert paid == amount_in, "AggregatorRouter: msg.value must equal amount_in"
        path_in = WETH
        extcall IWETH(WETH).deposit(value=amount_in)
    else:
        assert paid == 0, "AggregatorRouter: msg.value must be 0 when selling a token"
    path_out: address = token_out
    receiver: address = recipient
    if token_out == NATIVE:
        path_out = WETH
        receiver = self
    assert path_in != path_out, "AggregatorRouter: token_in equals token_out"

    balance_before: uint256 = self._balance(path_out, receiver)
    for leg: Leg in legs:
        if token_in == NATIVE:
            assert extcall IWETH(WETH).transfer(leg.pairs[0], leg.amount_in)
        else:
            assert extcall IERC20(token_in).transferFrom(
                payer, leg.pairs[0], leg.amount_in, default_return_value=True
            ), "AggregatorRouter: transferFrom failed"
        self._swap_leg(path_in, path_out, leg.pairs, receiver)
    amount_out: uint256 = self._balance(path_out, receiver) - balance_before
    assert amount_out >= min_amount_out, "AggregatorRouter: output below min_amount_out"

    if token_out == NATIVE:
        extcall IWETH(WETH).withdraw(amount_out)
        success: bool = raw_call(recipient, b"", value=amount_out, revert_on_failure=False)
        assert success, "AggregatorRouter: ETH transfer to recipient failed"

    log Swapped(
        sender=payer,
        recipient=recipient,
        token_in=token_in,
        token_out=token_out,
        amount_in=amount_in,
        amount_out=amount_out,
    )
    return amount_out


@external
@payable
@nonreentrant
def swap(
    token_in: address,
    token_out: address,
    amount_in: uint256,
    min_amount_out: uint256,
    recipient: address,
    legs: DynArray[Leg, MAX_LEGS],
) -> uint256:
    """
    @notice Sell `amount_in` of `token_in` along `legs`; `recipient` gets at least `min_amount_out`
            of `token_out` or the whole swap reverts
    @param token_in Token sold, or NATIVE for ETH (then msg.value must equal amount_in)
    @param token_out Token bought, or NATIVE to receive ETH
    @param amount_in Total sold; equals the sum of the legs' amount_in
    @param min_amount_out Least acceptable output received by `recipient`
    @param recipient Receiver of the output
    @param legs Up to 4 legs of up to 3 UniswapV2Pair hops each
    @return amount_out What `recipient` received
    """
    return self._swap(msg.sender, msg.value, token_in, token_out, amount_in, min_amount_out, recipient, legs)


@external
@payable
@nonreentrant
def exec(operator: address, token: address, amount: uint256, target: address, data: Bytes[MAX_CALL]) -> Bytes[32]:
    """
    @notice The 0x AllowanceHolder entry point: `data` is a Settler
            `execute((recipient, buyToken, minAmountOut), actions, zid)` whose first action is the
            ABI-encoded legs. The sandbox router plays AllowanceHolder and Settler at once: `target`
            (= `operator`) names the Settler a real AllowanceHolder would call; it is not called.
    """
    assert operator == target, "AggregatorRouter: operator must be the Settler target"
    assert len(data) >= 4, "AggregatorRouter: no Settler call"
    assert convert(slice(data, 0, 4), bytes4) == SETTLER_EXECUTE, "AggregatorRouter: not a Settler execute"
    slippage: Slippage = empty(Slippage)
    actions: DynArray[Bytes[MAX_LEGS_BYTES], MAX_ACTIONS] = []
    zid: bytes32 = empty(bytes32)
    slippage, actions, zid = abi_decode(
        slice(data, 4, len(data) - 4), (Slippage, DynArray[Bytes[MAX_LEGS_BYTES], MAX_ACTIONS], bytes32)
    )
    assert len(actions) > 0, "AggregatorRouter: no actions"
    legs: DynArray[Leg, MAX_LEGS] = abi_decode(actions[0], DynArray[Leg, MAX_LEGS])
    out: uint256 = self._swap(
        msg.sender, msg.value, token, slippage.buy_token, amount, slippage.min_amount_out, slippage.recipient, legs
    )
    return abi_encode(True)


@external
@payable
@nonreentrant
def swapExactAmountIn(
    executor: address,
    swapData: GenericData,
    partnerAndFee: uint256,
    permit: Bytes[MAX_PERMIT],
    executorData: Bytes[MAX_LEGS_BYTES],
) -> (uint256, uint256, uint256):
    """
    @notice The Augustus v6.2 generic entry point: `executorData` is the ABI-encoded legs;
            `swapData.toAmount` is the min-out and a zero `beneficiary` means the caller
    """
    recipient: address = swapData.beneficiary
    if recipient == empty(address):
        recipient = msg.sender
    legs: DynArray[Leg, MAX_LEGS] = abi_decode(executorData, DynArray[Leg, MAX_LEGS])
    out: uint256 = self._swap(
        msg.sender, msg.value, swapData.srcToken, swapData.destToken, swapData.fromAmount, swapData.toAmount,
        recipient, legs
    )
    return out, 0, 0


@external
@view
def quote(token_in: address, token_out: address, legs: DynArray[Leg, MAX_LEGS]) -> uint256:
    """
    @notice Output `swap` would deliver for `legs` at the current reserves (tokens without transfer
            fees); a pair used by several legs is quoted with the reserves the earlier legs left
    @param token_in Token sold (NATIVE = ETH via WETH)
    @param token_out Token bought (NATIVE = ETH via WETH)
    @param legs As for `swap`; their amounts define the input
    @return amount_out Total output
    """
    path_in: address = WETH if token_in == NATIVE else token_in
    path_out: address = WETH if token_out == NATIVE else token_out
    assert len(legs) > 0, "AggregatorRouter: no legs"
    touched: DynArray[address, MAX_TOUCHED] = []
    reserves_in_order: DynArray[uint256[2], MAX_TOUCHED] = []  # pair reserves as token0, token1
    total_out: uint256 = 0
    for leg: Leg in legs:
        token: address = path_in
        amount: uint256 = leg.amount_in
        for pair: address in leg.pairs:
            zero_for_one: bool = False
            next_token: address = empty(address)
            zero_for_one, next_token = self._direction(pair, token)
            index: uint256 = len(touched)
            for j: uint256 in range(len(touched), bound=MAX_TOUCHED):
                if touched[j] == pair:
                    index = j
                    break
            if index == len(touched):
                r0: uint256 = 0
                r1: uint256 = 0
                r0, r1 = self._reserves(pair, True)
                touched.append(pair)
                reserves_in_order.append([r0, r1])
            r: uint256[2] = reserves_in_order[index]
            if zero_for_one:
                out: uint256 = self._amount_out(amount, r[0], r[1])
                reserves_in_order[index] = [r[0] + amount, r[1] - out]
                amount = out
            else:
                out: uint256 = self._amount_out(amount, r[1], r[0])
                reserves_in_order[index] = [r[0] - out, r[1] + amount]
                amount = out
            token = next_token
        assert token == path_out, "AggregatorRouter: leg does not end in token_out"
        total_out += amount
    return total_out
