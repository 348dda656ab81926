# pragma version 0.4.3
"""
@title Sandbox WETH9
@license MIT
@notice Wrapped Ether with the WETH9 interface: `deposit` (payable), `withdraw`, plain ETH
        transfers wrap, and ERC-20 "Wrapped Ether" / "WETH" / 18 decimals.
@dev Like WETH9, `totalSupply` is the contract's ETH balance, an allowance of max_value(uint256)
     is never decreased, and `withdraw` sends ETH with the 2300-gas stipend.
"""

event Approval:
    src: indexed(address)
    guy: indexed(address)
    wad: uint256

event Transfer:
    src: indexed(address)
    dst: indexed(address)
    wad: uint256

event Deposit:
    dst: indexed(address)
    wad: uint256

event Withdrawal:
    src: indexed(address)
    wad: uint256

NAME: constant(String[13]) = "Wrapped Ether"
SYMBOL: constant(String[4]) = "WETH"
DECIMALS: constant(uint8) = 18

balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])


@external
@pure
def name() -> String[13]:
    return NAME


@external
@pure
def symbol() -> String[4]:
    return SYMBOL


@external
@pure
def decimals() -> uint8:
    return DECIMALS


@internal
def _deposit(dst: address, wad: uint256):
    self.balanceOf[dst] += wad
    log Deposit(dst=dst, wad=wad)


@external
@payable
def __default__():
    """
    @notice Plain ETH transfers are wrapped for the sender
    """
    self._deposit(msg.sender, msg.value)


@external
@payable
def deposit():
    """
    @notice Wrap `msg.value` ETH into WETH for the caller
    """
    self._deposit(msg.sender, msg.value)


@external
def withdraw(wad: uint256):
    """
    @notice Unwrap `wad` WETH and send the ETH to the caller
    """
    assert self.balanceOf[msg.sender] >= wad, "WETH: insufficient balance"
    self.balanceOf[msg.sender] -= wad
    send(msg.sender, wad)
    log Withdrawal(src=msg.sender, wad=wad)


@external
@view
def totalSupply() -> uint256:
    return self.balance


@external
def approve(guy: address, wad: uint256) -> bool:
    self.allowance[msg.sender][guy] = wad
    log Approval(src=msg.sender, guy=guy, wad=wad)
    return True


@internal
def _transfer_from(src: address, dst: address, wad: uint256) -> bool:
    assert self.balanceOf[src] >= wad, "WETH: insufficient balance"
    if src != msg.sender and self.allowance[src][msg.sender] != max_value(uint256):
        assert self.allowance[src][msg.sender] >= wad, "WETH: insufficient allowance"
        self.allowance[src][msg.sender] -= wad
    self.balanceOf[src] -= wad
    self.balanceOf[dst] += wad
    log Transfer(src=src, dst=dst, wad=wad)
    return True


@external
def transfer(dst: address, wad: uint256) -> bool:
    return self._transfer_from(msg.sender, dst, wad)


@external
def transferFrom(src: address, dst: address, wad: uint256) -> bool:
    return self._transfer_from(src, dst, wad)
