# pragma version 0.4.3
"""
@title Sandbox Uniswap V2 factory
@license MIT
@notice Creates one UniswapV2Pair per token pair, with the Uniswap V2 factory interface
        (createPair, getPair, allPairs, allPairsLength, feeTo, feeToSetter, setFeeTo,
        setFeeToSetter, event PairCreated).
@dev Pairs are created with CREATE2 from an ERC-5202 blueprint of UniswapV2Pair (salt =
     keccak256(token0 ++ token1)), then initialized with the sorted tokens. The blueprint address is
     an immutable, so this contract's deployed code is self-contained.
"""

interface IPair:
    def initialize(token0: address, token1: address): nonpayable

event PairCreated:
    token0: indexed(address)
    token1: indexed(address)
    pair: address
    pair_count: uint256

#: Upper bound of `allPairs` (a storage array bound; it costs nothing until used).
MAX_PAIRS: constant(uint256) = 1_000_000

PAIR_BLUEPRINT: public(immutable(address))

feeTo: public(address)
feeToSetter: public(address)
getPair: public(HashMap[address, HashMap[address, address]])
allPairs: public(DynArray[address, MAX_PAIRS])


@deploy
def __init__(_feeToSetter: address, pair_blueprint: address):
    """
    @param _feeToSetter Account allowed to set `feeTo` (the protocol fee recipient)
    @param pair_blueprint ERC-5202 blueprint of UniswapV2Pair
    """
    assert pair_blueprint.is_contract, "UniswapV2: BLUEPRINT_NOT_DEPLOYED"
    self.feeToSetter = _feeToSetter
    PAIR_BLUEPRINT = pair_blueprint


@external
@view
def allPairsLength() -> uint256:
    return len(self.allPairs)


@external
def createPair(tokenA: address, tokenB: address) -> address:
    """
    @notice Deploy the pool of `tokenA` and `tokenB`
    @return pair The new pair's address
    """
    assert tokenA != tokenB, "UniswapV2: IDENTICAL_ADDRESSES"
    token0: address = tokenA
    token1: address = tokenB
    if convert(tokenB, uint160) < convert(tokenA, uint160):
        token0 = tokenB
        token1 = tokenA
    assert token0 != empty(address), "UniswapV2: ZERO_ADDRESS"
    assert self.getPair[token0][token1] == empty(address), "UniswapV2: PAIR_EXISTS"

    pair: address = create_from_blueprint(
        PAIR_BLUEPRINT, code_offset=3, salt=keccak256(concat(convert(token0, bytes20), convert(token1, bytes20)))
    )
    extcall IPair(pair).initialize(token0, token1)
    self.getPair[token0][token1] = pair
    self.getPair[token1][token0] = pair
    self.allPairs.append(pair)
    log PairCreated(token0=token0, token1=token1, pair=pair, pair_count=len(self.allPairs))
    return pair


@external
def setFeeTo(_feeTo: address):
    assert msg.sender == self.feeToSetter, "UniswapV2: FORBIDDEN"
    self.feeTo = _feeTo


@external
def setFeeToSetter(_feeToSetter: address):
    assert msg.sender == self.feeToSetter, "UniswapV2: FORBIDDEN"
    self.feeToSetter = _feeToSetter
