# pragma version 0.4.3
"""
@title Sandbox ERC-20 token
@license MIT
@notice A standard ERC-20 with configurable decimals, owner/minter minting, holder burning and an
        optional USDT-like approval rule (`approve_requires_zero`): changing a non-zero allowance
        to another non-zero value reverts, so callers must reset the allowance to 0 first.
@dev name, symbol, decimals and the approval rule are immutables (they live in the runtime code);
     owner, minters, balances and allowances live in storage.
"""

event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256

event Approval:
    owner: indexed(address)
    spender: indexed(address)
    value: uint256

event MinterSet:
    minter: indexed(address)
    allowed: bool

event OwnershipTransferred:
    previous_owner: indexed(address)
    new_owner: indexed(address)

name: public(immutable(String[64]))
symbol: public(immutable(String[32]))
decimals: public(immutable(uint8))
approve_requires_zero: public(immutable(bool))

totalSupply: public(uint256)
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])

owner: public(address)
minters: public(HashMap[address, bool])


@deploy
def __init__(
    _name: String[64], _symbol: String[32], _decimals: uint8, _owner: address, _approve_requires_zero: bool
):
    """
    @param _name Token name
    @param _symbol Token symbol
    @param _decimals Token decimals (e.g. 6, 8, 18)
    @param _owner Owner allowed to mint and to manage minters; the zero address means the deployer
    @param _approve_requires_zero USDT-like rule: non-zero to non-zero `approve` reverts
    """
    name = _name
    symbol = _symbol
    decimals = _decimals
    approve_requires_zero = _approve_requires_zero
    initial_owner: address = _owner
    if initial_owner == empty(address):
        initial_owner = msg.sender
    self.owner = initial_owner
    log OwnershipTransferred(previous_owner=empty(address), new_owner=initial_owner)


@internal
def _transfer(sender: address, receiver: address, amount: uint256):
    assert receiver != empty(address), "ERC20: transfer to the zero address"
    sender_balance: uint256 = self.balanceOf[sender]
    assert sender_balance >= amount, "ERC20: transfer amount exceeds balance"
    self.balanceOf[sender] = sender_balance - amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=sender, receiver=receiver, value=amount)


@external
def transfer(receiver: address, amount: uint256) -> bool:
    """
    @notice Move `amount` tokens from the caller to `receiver`
    """
    self._transfer(msg.sender, receiver, amount)
    return True


@external
def transferFrom(sender: address, receiver: address, amount: uint256) -> bool:
    """
    @notice Move `amount` tokens from `sender` to `receiver` using the caller's allowance
    @dev An allowance of max_value(uint256) is treated as infinite and is not decreased.
    """
    allowed: uint256 = self.allowance[sender][msg.sender]
    if allowed != max_value(uint256):
        assert allowed >= amount, "ERC20: insufficient allowance"
        self.allowance[sender][msg.sender] = allowed - amount
    self._transfer(sender, receiver, amount)
    return True


@external
def approve(spender: address, amount: uint256) -> bool:
    """
    @notice Set the caller's allowance for `spender` to `amount`
    @dev With `approve_requires_zero`, changing a non-zero allowance to a non-zero value reverts.
    """
    if approve_requires_zero and amount != 0:
        assert self.allowance[msg.sender][spender] == 0, "ERC20: reset allowance to 0 first"
    self.allowance[msg.sender][spender] = amount
    log Approval(owner=msg.sender, spender=spender, value=amount)
    return True


@external
def mint(receiver: address, amount: uint256):
    """
    @notice Create `amount` new tokens for `receiver`; only the owner or an allowed minter
    """
    assert msg.sender == self.owner or self.minters[msg.sender], "ERC20: caller is not a minter"
    assert receiver != empty(address), "ERC20: mint to the zero address"
    self.totalSupply += amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=empty(address), receiver=receiver, value=amount)


@external
def burn(amount: uint256):
    """
    @notice Destroy `amount` of the caller's tokens
    """
    holder_balance: uint256 = self.balanceOf[msg.sender]
    assert holder_balance >= amount, "ERC20: burn amount exceeds balance"
    self.balanceOf[msg.sender] = holder_balance - amount
    self.totalSupply -= amount
    log Transfer(sender=msg.sender, receiver=empty(address), value=amount)


@external
def set_minter(minter: address, allowed: bool):
    """
    @notice Allow or forbid `minter` to mint; owner only
    """
    assert msg.sender == self.owner, "ERC20: caller is not the owner"
    self.minters[minter] = allowed
    log MinterSet(minter=minter, allowed=allowed)


@external
def transfer_ownership(new_owner: address):
    """
    @notice Hand the owner role to `new_owner`; owner only
    """
    assert msg.sender == self.owner, "ERC20: caller is not the owner"
    assert new_owner != empty(address), "ERC20: new owner is the zero address"
    log OwnershipTransferred(previous_owner=self.owner, new_owner=new_owner)
    self.owner = new_owner
