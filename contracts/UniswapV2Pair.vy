# pragma version 0.4.3
"""
@title Sandbox Uniswap V2 pair
@license MIT
@notice A constant-product pool with the Uniswap V2 pair interface: LP shares (ERC-20 "Uniswap V2" /
        "UNI-V2" with EIP-2612 permit), mint/burn of liquidity, swap with the 0.3% fee and the
        k-invariant check, flash swaps (`uniswapV2Call`), skim, sync, price accumulators and the
        protocol fee switch (factory `feeTo`).
@dev Deployed by UniswapV2Factory from an ERC-5202 blueprint; the factory calls `initialize` with the
     sorted tokens (token0 < token1). Liquidity can be added by transferring both tokens and calling
     `mint(to)` (LP shares) or `sync()` (no shares). Revert messages follow Uniswap V2.
"""

from ethereum.ercs import IERC20

interface IFactory:
    def feeTo() -> address: view

interface IUniswapV2Callee:
    def uniswapV2Call(sender: address, amount0: uint256, amount1: uint256, data: Bytes[MAX_DATA]): nonpayable

event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256

event Approval:
    owner: indexed(address)
    spender: indexed(address)
    value: uint256

event Mint:
    sender: indexed(address)
    amount0: uint256
    amount1: uint256

event Burn:
    sender: indexed(address)
    amount0: uint256
    amount1: uint256
    to: indexed(address)

event Swap:
    sender: indexed(address)
    amount0In: uint256
    amount1In: uint256
    amount0Out: uint256
    amount1Out: uint256
    to: indexed(address)

event Sync:
    reserve0: uint112
    reserve1: uint112

#: Largest flash-swap callback payload accepted by `swap`.
MAX_DATA: constant(uint256) = 4096
NAME: constant(String[10]) = "Uniswap V2"
SYMBOL: constant(String[6]) = "UNI-V2"
DECIMALS: constant(uint8) = 18
MINIMUM_LIQUIDITY: public(constant(uint256)) = 1000
PERMIT_TYPEHASH: public(constant(bytes32)) = keccak256(
    "Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"
)
DOMAIN_TYPEHASH: constant(bytes32) = keccak256(
    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
Q112: constant(uint256) = 2**112

totalSupply: public(uint256)
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])
nonces: public(HashMap[address, uint256])

factory: public(address)
token0: public(address)
token1: public(address)

reserve0: uint112
reserve1: uint112
blockTimestampLast: uint32

price0CumulativeLast: public(uint256)
price1CumulativeLast: public(uint256)
kLast: public(uint256)


@deploy
def __init__():
    self.factory = msg.sender


@external
def initialize(_token0: address, _token1: address):
    """
    @notice Set the pool's tokens; called once by the factory right after deployment
    """
    assert msg.sender == self.factory, "UniswapV2: FORBIDDEN"
    assert self.token0 == empty(address), "UniswapV2: ALREADY_INITIALIZED"
    self.token0 = _token0
    self.token1 = _token1


# ---------------------------------------------------------------- LP token (ERC-20 + permit)

@external
@pure
def name() -> String[10]:
    return NAME


@external
@pure
def symbol() -> String[6]:
    return SYMBOL


@external
@pure
def decimals() -> uint8:
    return DECIMALS


@internal
def _mint(receiver: address, amount: uint256):
    self.totalSupply += amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=empty(address), receiver=receiver, value=amount)


@internal
def _burn(holder: address, amount: uint256):
    self.balanceOf[holder] -= amount
    self.totalSupply -= amount
    log Transfer(sender=holder, receiver=empty(address), value=amount)


@internal
def _approve(owner: address, spender: address, amount: uint256):
    self.allowance[owner][spender] = amount
    log Approval(owner=owner, spender=spender, value=amount)


@internal
def _transfer(sender: address, receiver: address, amount: uint256):
    self.balanceOf[sender] -= amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=sender, receiver=receiver, value=amount)


@external
def approve(spender: address, amount: uint256) -> bool:
    self._approve(msg.sender, spender, amount)
    return True


@external
def transfer(to: address, amount: uint256) -> bool:
    self._transfer(msg.sender, to, amount)
    return True


@external
def transferFrom(sender: address, to: address, amount: uint256) -> bool:
    allowed: uint256 = self.allowance[sender][msg.sender]
    if allowed != max_value(uint256):
        self.allowance[sender][msg.sender] = allowed - amount
    self._transfer(sender, to, amount)
    return True


@internal
@view
def _domain_separator() -> bytes32:
    return keccak256(
        abi_encode(DOMAIN_TYPEHASH, keccak256(NAME), keccak256("1"), chain.id, self)
    )


@external
@view
def DOMAIN_SEPARATOR() -> bytes32:
    """
    @notice EIP-712 domain separator (name "Uniswap V2", version "1", current chain id, this pair)
    """
    return self._domain_separator()


@external
def permit(
    owner: address, spender: address, amount: uint256, deadline: uint256, v: uint8, r: bytes32, s: bytes32
):
    """
    @notice EIP-2612 approval by signature
    """
    assert deadline >= block.timestamp, "UniswapV2: EXPIRED"
    nonce: uint256 = self.nonces[owner]
    self.nonces[owner] = nonce + 1
    struct_hash: bytes32 = keccak256(abi_encode(PERMIT_TYPEHASH, owner, spender, amount, nonce, deadline))
    digest: bytes32 = keccak256(concat(b"\x19\x01", self._domain_separator(), struct_hash))
    recovered: address = ecrecover(digest, v, r, s)
    assert recovered != empty(address) and recovered == owner, "UniswapV2: INVALID_SIGNATURE"
    self._approve(owner, spender, amount)


# ---------------------------------------------------------------- pool

@external
@view
def getReserves() -> (uint112, uint112, uint32):
    """
    @notice Reserves of token0 and token1 and the timestamp (mod 2**32) of their last update
    """
    return self.reserve0, self.reserve1, self.blockTimestampLast


@internal
def _safe_transfer(token: address, to: address, amount: uint256):
    assert extcall IERC20(token).transfer(to, amount, default_return_value=True), "UniswapV2: TRANSFER_FAILED"


@internal
def _update(balance0: uint256, balance1: uint256, _reserve0: uint112, _reserve1: uint112):
    assert balance0 <= convert(max_value(uint112), uint256), "UniswapV2: OVERFLOW"
    assert balance1 <= convert(max_value(uint112), uint256), "UniswapV2: OVERFLOW"
    block_timestamp: uint32 = convert(block.timestamp % 2**32, uint32)
    time_elapsed: uint32 = unsafe_sub(block_timestamp, self.blockTimestampLast)
    if time_elapsed > 0 and _reserve0 != 0 and _reserve1 != 0:
        r0: uint256 = convert(_reserve0, uint256)
        r1: uint256 = convert(_reserve1, uint256)
        elapsed: uint256 = convert(time_elapsed, uint256)
        # UQ112x112 prices times seconds; overflow is intended, as in Uniswap V2
        self.price0CumulativeLast = unsafe_add(self.price0CumulativeLast, unsafe_mul(r1 * Q112 // r0, elapsed))
        self.price1CumulativeLast = unsafe_add(self.price1CumulativeLast, unsafe_mul(r0 * Q112 // r1, elapsed))
    self.reserve0 = convert(balance0, uint112)
    self.reserve1 = convert(balance1, uint112)
    self.blockTimestampLast = block_timestamp
    log Sync(reserve0=self.reserve0, reserve1=self.reserve1)


@internal
def _mint_fee(_reserve0: uint112, _reserve1: uint112) -> bool:
    """
    @dev With the fee switch on, mints 1/6 of the growth in sqrt(k) to `feeTo`.
    """
    fee_to: address = staticcall IFactory(self.factory).feeTo()
    fee_on: bool = fee_to != empty(address)
    k_last: uint256 = self.kLast
    if fee_on:
        if k_last != 0:
            root_k: uint256 = isqrt(convert(_reserve0, uint256) * convert(_reserve1, uint256))
            root_k_last: uint256 = isqrt(k_last)
            if root_k > root_k_last:
                numerator: uint256 = self.totalSupply * (root_k - root_k_last)
                denominator: uint256 = root_k * 5 + root_k_last
                liquidity: uint256 = numerator // denominator
                if liquidity > 0:
                    self._mint(fee_to, liquidity)
    elif k_last != 0:
        self.kLast = 0
    return fee_on


@external
@nonreentrant
def mint(to: address) -> uint256:
    """
    @notice Issue LP shares to `to` for the tokens sent to the pair since the last update
    @return liquidity The LP shares minted
    """
    _reserve0: uint112 = self.reserve0
    _reserve1: uint112 = self.reserve1
    balance0: uint256 = staticcall IERC20(self.token0).balanceOf(self)
    balance1: uint256 = staticcall IERC20(self.token1).balanceOf(self)
    amount0: uint256 = balance0 - convert(_reserve0, uint256)
    amount1: uint256 = balance1 - convert(_reserve1, uint256)

    fee_on: bool = self._mint_fee(_reserve0, _reserve1)
    supply: uint256 = self.totalSupply
    liquidity: uint256 = 0
    if supply == 0:
        liquidity = isqrt(amount0 * amount1) - MINIMUM_LIQUIDITY
        self._mint(empty(address), MINIMUM_LIQUIDITY)  # locked forever
    else:
        liquidity = min(
            amount0 * supply // convert(_reserve0, uint256), amount1 * supply // convert(_reserve1, uint256)
        )
    assert liquidity > 0, "UniswapV2: INSUFFICIENT_LIQUIDITY_MINTED"
    self._mint(to, liquidity)

    self._update(balance0, balance1, _reserve0, _reserve1)
    if fee_on:
        self.kLast = convert(self.reserve0, uint256) * convert(self.reserve1, uint256)
    log Mint(sender=msg.sender, amount0=amount0, amount1=amount1)
    return liquidity


@external
@nonreentrant
def burn(to: address) -> (uint256, uint256):
    """
    @notice Burn the LP shares sent to the pair and send the underlying tokens to `to`
    @return amount0 Token0 sent
    @return amount1 Token1 sent
    """
    _reserve0: uint112 = self.reserve0
    _reserve1: uint112 = self.reserve1
    _token0: address = self.token0
    _token1: address = self.token1
    balance0: uint256 = staticcall IERC20(_token0).balanceOf(self)
    balance1: uint256 = staticcall IERC20(_token1).balanceOf(self)
    liquidity: uint256 = self.balanceOf[self]

    fee_on: bool = self._mint_fee(_reserve0, _reserve1)
    supply: uint256 = self.totalSupply
    amount0: uint256 = liquidity * balance0 // supply
    amount1: uint256 = liquidity * balance1 // supply
    assert amount0 > 0 and amount1 > 0, "UniswapV2: INSUFFICIENT_LIQUIDITY_BURNED"
    self._burn(self, liquidity)
    self._safe_transfer(_token0, to, amount0)
    self._safe_transfer(_token1, to, amount1)
    balance0 = staticcall IERC20(_token0).balanceOf(self)
    balance1 = staticcall IERC20(_token1).balanceOf(self)

    self._update(balance0, balance1, _reserve0, _reserve1)
    if fee_on:
        self.kLast = convert(self.reserve0, uint256) * convert(self.reserve1, uint256)
    log Burn(sender=msg.sender, amount0=amount0, amount1=amount1, to=to)
    return amount0, amount1


@external
@nonreentrant
def swap(amount0Out: uint256, amount1Out: uint256, to: address, data: Bytes[MAX_DATA]):
    """
    @notice Send the requested outputs to `to`, then require that the inputs received (after the
            0.3% fee) keep reserve0 * reserve1 from decreasing
    @dev A non-empty `data` makes it a flash swap: `to.uniswapV2Call` runs before the check.
    """
    assert amount0Out > 0 or amount1Out > 0, "UniswapV2: INSUFFICIENT_OUTPUT_AMOUNT"
    _reserve0: uint112 = self.reserve0
    _reserve1: uint112 = self.reserve1
    r0: uint256 = convert(_reserve0, uint256)
    r1: uint256 = convert(_reserve1, uint256)
    assert amount0Out < r0 and amount1Out < r1, "UniswapV2: INSUFFICIENT_LIQUIDITY"

    _token0: address = self.token0
    _token1: address = self.token1
    assert to != _token0 and to != _token1, "UniswapV2: INVALID_TO"
    if amount0Out > 0:
        self._safe_transfer(_token0, to, amount0Out)
    if amount1Out > 0:
        self._safe_transfer(_token1, to, amount1Out)
    if len(data) > 0:
        extcall IUniswapV2Callee(to).uniswapV2Call(msg.sender, amount0Out, amount1Out, data)
    balance0: uint256 = staticcall IERC20(_token0).balanceOf(self)
    balance1: uint256 = staticcall IERC20(_token1).balanceOf(self)

    amount0In: uint256 = 0
    amount1In: uint256 = 0
    if balance0 > r0 - amount0Out:
        amount0In = balance0 - (r0 - amount0Out)
    if balance1 > r1 - amount1Out:
        amount1In = balance1 - (r1 - amount1Out)
    assert amount0In > 0 or amount1In > 0, "UniswapV2: INSUFFICIENT_INPUT_AMOUNT"
    balance0_adjusted: uint256 = balance0 * 1000 - amount0In * 3
    balance1_adjusted: uint256 = balance1 * 1000 - amount1In * 3
    assert balance0_adjusted * balance1_adjusted >= r0 * r1 * 1000**2, "UniswapV2: K"

    self._update(balance0, balance1, _reserve0, _reserve1)
    log Swap(
        sender=msg.sender,
        amount0In=amount0In,
        amount1In=amount1In,
        amount0Out=amount0Out,
        amount1Out=amount1Out,
        to=to,
    )


@external
@nonreentrant
def skim(to: address):
    """
    @notice Send any token balances above the reserves to `to`
    """
    _token0: address = self.token0
    _token1: address = self.token1
    self._safe_transfer(_token0, to, staticcall IERC20(_token0).balanceOf(self) - convert(self.reserve0, uint256))
    self._safe_transfer(_token1, to, staticcall IERC20(_token1).balanceOf(self) - convert(self.reserve1, uint256))


@external
@nonreentrant
def sync():
    """
    @notice Set the reserves to the pair's token balances
    """
    self._update(
        staticcall IERC20(self.token0).balanceOf(self),
        staticcall IERC20(self.token1).balanceOf(self),
        self.reserve0,
        self.reserve1,
    )
