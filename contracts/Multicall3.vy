# pragma version 0.4.3
"""
@title Sandbox Multicall3
@license MIT
@notice ABI-compatible with Multicall3 (mds1/multicall, deployed at
        0xcA11bde05977b3631167028862bE2a173976CA11): aggregate, tryAggregate, tryBlockAndAggregate,
        blockAndAggregate, aggregate3, aggregate3Value and the block/chain getters, with the same
        selectors, return encodings and revert reasons ("Multicall3: call failed",
        "Multicall3: value mismatch").
@dev Vyper needs static bounds. Per batch: at most MAX_CALLS (256) calls; each callData at most
     MAX_CALLDATA (1024) bytes (longer input reverts during ABI decoding); each returnData is
     truncated to MAX_RETURNDATA (1024) bytes. Memory is laid out for these bounds, so every batch
     pays about 0.7M gas of memory expansion whatever its size: one call costs ~0.71M gas, 200
     balanceOf calls ~1.4M, 256 calls ~1.6M (far below a 30M-gas eth_call). Use it for reads.
     No constructor, storage or immutables: the runtime bytecode works when placed at any address
     with anvil_setCode. Like the original, getBlockHash returns zero outside the last 256 blocks
     and tryBlockAndAggregate reports blockhash(block.number), which is always zero.
"""

MAX_CALLS: constant(uint256) = 256
MAX_CALLDATA: constant(uint256) = 1024
MAX_RETURNDATA: constant(uint256) = 1024

struct Call:
    target: address
    callData: Bytes[MAX_CALLDATA]

struct Call3:
    target: address
    allowFailure: bool
    callData: Bytes[MAX_CALLDATA]

struct Call3Value:
    target: address
    allowFailure: bool
    value: uint256
    callData: Bytes[MAX_CALLDATA]

struct Result:
    success: bool
    returnData: Bytes[MAX_RETURNDATA]


@internal
@view
def _block_hash(block_number: uint256) -> bytes32:
    """
    @dev BLOCKHASH semantics: zero for the current/future blocks and blocks older than 256.
    """
    if block_number >= block.number or block.number - block_number > 256:
        return empty(bytes32)
    return blockhash(block_number)


@internal
def _try_aggregate(require_success: bool, calls: DynArray[Call, MAX_CALLS]) -> DynArray[Result, MAX_CALLS]:
    results: DynArray[Result, MAX_CALLS] = []
    for c: Call in calls:
        success: bool = False
        data: Bytes[MAX_RETURNDATA] = b""
        success, data = raw_call(c.target, c.callData, max_outsize=MAX_RETURNDATA, revert_on_failure=False)
        if require_success:
            assert success, "Multicall3: call failed"
        results.append(Result(success=success, returnData=data))
    return results


@external
@payable
def aggregate(calls: DynArray[Call, MAX_CALLS]) -> (uint256, DynArray[Bytes[MAX_RETURNDATA], MAX_CALLS]):
    """
    @notice Call every target; revert if any call fails
    @return blockNumber The current block number
    @return returnData The raw return data of each call
    """
    return_data: DynArray[Bytes[MAX_RETURNDATA], MAX_CALLS] = []
    for c: Call in calls:
        success: bool = False
        data: Bytes[MAX_RETURNDATA] = b""
        success, data = raw_call(c.target, c.callData, max_outsize=MAX_RETURNDATA, revert_on_failure=False)
        assert success, "Multicall3: call failed"
        return_data.append(data)
    return block.number, return_data


@external
@payable
def tryAggregate(requireSuccess: bool, calls: DynArray[Call, MAX_CALLS]) -> DynArray[Result, MAX_CALLS]:
    """
    @notice Call every target; failures are reported unless `requireSuccess`, which reverts instead
    """
    return self._try_aggregate(requireSuccess, calls)


@external
@payable
def tryBlockAndAggregate(
    requireSuccess: bool, calls: DynArray[Call, MAX_CALLS]
) -> (uint256, bytes32, DynArray[Result, MAX_CALLS]):
    """
    @notice tryAggregate plus the block number and blockhash(block.number) (always zero)
    """
    return block.number, self._block_hash(block.number), self._try_aggregate(requireSuccess, calls)


@external
@payable
def blockAndAggregate(calls: DynArray[Call, MAX_CALLS]) -> (uint256, bytes32, DynArray[Result, MAX_CALLS]):
    """
    @notice tryBlockAndAggregate with requireSuccess = true
    """
    return block.number, self._block_hash(block.number), self._try_aggregate(True, calls)


@external
@payable
def aggregate3(calls: DynArray[Call3, MAX_CALLS]) -> DynArray[Result, MAX_CALLS]:
    """
    @notice Call every target; a failing call reverts the batch unless its allowFailure is set
    """
    results: DynArray[Result, MAX_CALLS] = []
    for c: Call3 in calls:
        success: bool = False
        data: Bytes[MAX_RETURNDATA] = b""
        success, data = raw_call(c.target, c.callData, max_outsize=MAX_RETURNDATA, revert_on_failure=False)
        assert success or c.allowFailure, "Multicall3: call failed"
        results.append(Result(success=success, returnData=data))
    return results


@external
@payable
def aggregate3Value(calls: DynArray[Call3Value, MAX_CALLS]) -> DynArray[Result, MAX_CALLS]:
    """
    @notice aggregate3 where each call carries ETH; msg.value must equal the sum of the values
    """
    results: DynArray[Result, MAX_CALLS] = []
    total_value: uint256 = 0
    for c: Call3Value in calls:
        total_value += c.value
        success: bool = False
        data: Bytes[MAX_RETURNDATA] = b""
        success, data = raw_call(
            c.target, c.callData, max_outsize=MAX_RETURNDATA, value=c.value, revert_on_failure=False
        )
        assert success or c.allowFailure, "Multicall3: call failed"
        results.append(Result(success=success, returnData=data))
    assert msg.value == total_value, "Multicall3: value mismatch"
    return results


@external
@view
def getBlockHash(blockNumber: uint256) -> bytes32:
    return self._block_hash(blockNumber)


@external
@view
def getBlockNumber() -> uint256:
    return block.number


@external
@view
def getCurrentBlockCoinbase() -> address:
    return block.coinbase


@external
@view
def getCurrentBlockDifficulty() -> uint256:
    """
    @notice PREVRANDAO since the merge (the opcode formerly called DIFFICULTY)
    """
    return convert(block.prevrandao, uint256)


@external
@view
def getCurrentBlockGasLimit() -> uint256:
    return block.gaslimit


@external
@view
def getCurrentBlockTimestamp() -> uint256:
    return block.timestamp


@external
@view
def getEthBalance(addr: address) -> uint256:
    return addr.balance


@external
@view
def getLastBlockHash() -> bytes32:
    if block.number == 0:
        return empty(bytes32)
    return self._block_hash(block.number - 1)


@external
@view
def getBasefee() -> uint256:
    return block.basefee


@external
@view
def getChainId() -> uint256:
    return chain.id
