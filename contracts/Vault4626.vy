# pragma version 0.4.3
"""
@title Sandbox ERC-4626 vault with growing share price
@license MIT
@notice A full ERC-4626 tokenized vault over one ERC-20 asset. Shares are an ERC-20 with the asset's
        decimals. The vault earns simple interest at `rate_bps_per_year` on the assets it holds:
        `totalAssets()` includes the interest accrued since the last action (a view), and every
        action first mints that interest to the vault, so the share price grows with
        block.timestamp. The vault must therefore be a minter of its asset token when the rate is
        non-zero (ERC20.set_minter).
@dev Owner controls for tests: set_rate, set_deposit_limit (a cap on totalAssets), set_withdraw_limit
     (a cap on the assets of any single withdrawal or redemption), set_paused (max* return 0 and
     every action reverts) and slash (burns assets held by the vault, so the share price falls).
     Conversions use one virtual share and one virtual asset (OpenZeppelin-style offset 0), which
     makes the donation/inflation attack unprofitable. Rounding follows EIP-4626: deposit/redeem
     round down, mint/withdraw round up (always in the vault's favour).
"""

from ethereum.ercs import IERC20
from ethereum.ercs import IERC20Detailed

interface IMintableBurnable:
    def mint(receiver: address, amount: uint256): nonpayable
    def burn(amount: uint256): nonpayable

event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256

event Approval:
    owner: indexed(address)
    spender: indexed(address)
    value: uint256

event Deposit:
    sender: indexed(address)
    owner: indexed(address)
    assets: uint256
    shares: uint256

event Withdraw:
    sender: indexed(address)
    receiver: indexed(address)
    owner: indexed(address)
    assets: uint256
    shares: uint256

event YieldAccrued:
    assets: uint256

event Slashed:
    assets: uint256

event ParametersChanged:
    rate_bps_per_year: uint256
    deposit_limit: uint256
    withdraw_limit: uint256
    paused: bool

SECONDS_PER_YEAR: constant(uint256) = 365 * 86400
BPS: constant(uint256) = 10_000
VIRTUAL_SHARES: constant(uint256) = 1
VIRTUAL_ASSETS: constant(uint256) = 1
MAX_RATE_BPS_PER_YEAR: constant(uint256) = 1_000_000

asset: public(immutable(address))
name: public(immutable(String[64]))
symbol: public(immutable(String[32]))
decimals: public(immutable(uint8))

totalSupply: public(uint256)
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])

owner: public(address)
rate_bps_per_year: public(uint256)
last_accrual: public(uint256)
deposit_limit: public(uint256)
withdraw_limit: public(uint256)
paused: public(bool)


@deploy
def __init__(_asset: address, _name: String[64], _symbol: String[32], _rate_bps_per_year: uint256, _owner: address):
    """
    @param _asset The underlying ERC-20 (its decimals become the share decimals)
    @param _name Share token name
    @param _symbol Share token symbol
    @param _rate_bps_per_year Yield in basis points per year (simple interest between actions)
    @param _owner Owner of the test controls; the zero address means the deployer
    """
    assert _rate_bps_per_year <= MAX_RATE_BPS_PER_YEAR, "vault: rate too high"
    asset = _asset
    name = _name
    symbol = _symbol
    decimals = staticcall IERC20Detailed(_asset).decimals()
    self.owner = _owner if _owner != empty(address) else msg.sender
    self.rate_bps_per_year = _rate_bps_per_year
    self.last_accrual = block.timestamp
    self.deposit_limit = max_value(uint256)
    self.withdraw_limit = max_value(uint256)


# ---------------------------------------------------------------- accounting

@internal
@view
def _pending_yield() -> uint256:
    elapsed: uint256 = block.timestamp - self.last_accrual
    if elapsed == 0 or self.rate_bps_per_year == 0:
        return 0
    held: uint256 = staticcall IERC20(asset).balanceOf(self)
    return held * self.rate_bps_per_year * elapsed // (BPS * SECONDS_PER_YEAR)


@internal
def _accrue():
    pending: uint256 = self._pending_yield()
    self.last_accrual = block.timestamp
    if pending > 0:
        extcall IMintableBurnable(asset).mint(self, pending)
        log YieldAccrued(assets=pending)


@internal
@view
def _total_assets() -> uint256:
    return staticcall IERC20(asset).balanceOf(self) + self._pending_yield()


@internal
@pure
def _mul_div(x: uint256, y: uint256, d: uint256, round_up: bool) -> uint256:
    product: uint256 = x * y
    if round_up:
        return (product + d - 1) // d
    return product // d


@internal
@view
def _to_shares(assets: uint256, round_up: bool) -> uint256:
    return self._mul_div(assets, self.totalSupply + VIRTUAL_SHARES, self._total_assets() + VIRTUAL_ASSETS, round_up)


@internal
@view
def _to_assets(shares: uint256, round_up: bool) -> uint256:
    return self._mul_div(shares, self._total_assets() + VIRTUAL_ASSETS, self.totalSupply + VIRTUAL_SHARES, round_up)


@external
@view
def totalAssets() -> uint256:
    """
    @notice Assets held plus the yield accrued since the last action
    """
    return self._total_assets()


@external
@view
def convertToShares(assets: uint256) -> uint256:
    return self._to_shares(assets, False)


@external
@view
def convertToAssets(shares: uint256) -> uint256:
    return self._to_assets(shares, False)


# ---------------------------------------------------------------- limits

@internal
@view
def _max_deposit() -> uint256:
    if self.paused:
        return 0
    limit: uint256 = self.deposit_limit
    if limit == max_value(uint256):
        return max_value(uint256)
    total: uint256 = self._total_assets()
    if total >= limit:
        return 0
    return limit - total


@internal
@view
def _max_mint() -> uint256:
    max_assets: uint256 = self._max_deposit()
    if max_assets == max_value(uint256):
        return max_value(uint256)
    return self._to_shares(max_assets, False)


@internal
@view
def _max_withdraw(owner: address) -> uint256:
    if self.paused:
        return 0
    return min(self._to_assets(self.balanceOf[owner], False), self.withdraw_limit)


@internal
@view
def _max_redeem(owner: address) -> uint256:
    if self.paused:
        return 0
    shares: uint256 = self.balanceOf[owner]
    if self.withdraw_limit == max_value(uint256):
        return shares
    return min(shares, self._to_shares(self.withdraw_limit, False))


@external
@view
def maxDeposit(receiver: address) -> uint256:
    return self._max_deposit()


@external
@view
def maxMint(receiver: address) -> uint256:
    return self._max_mint()


@external
@view
def maxWithdraw(owner: address) -> uint256:
    return self._max_withdraw(owner)


@external
@view
def maxRedeem(owner: address) -> uint256:
    return self._max_redeem(owner)


@external
@view
def previewDeposit(assets: uint256) -> uint256:
    return self._to_shares(assets, False)


@external
@view
def previewMint(shares: uint256) -> uint256:
    return self._to_assets(shares, True)


@external
@view
def previewWithdraw(assets: uint256) -> uint256:
    return self._to_shares(assets, True)


@external
@view
def previewRedeem(shares: uint256) -> uint256:
    return self._to_assets(shares, False)


# ---------------------------------------------------------------- actions

@internal
def _deposit(receiver: address, assets: uint256, shares: uint256):
    assert receiver != empty(address), "vault: receiver is the zero address"
    assert extcall IERC20(asset).transferFrom(msg.sender, self, assets, default_return_value=True)
    self._mint(receiver, shares)
    log Deposit(sender=msg.sender, owner=receiver, assets=assets, shares=shares)


@internal
def _withdraw(receiver: address, owner: address, assets: uint256, shares: uint256):
    if msg.sender != owner:
        self._spend_allowance(owner, msg.sender, shares)
    self._burn(owner, shares)
    assert extcall IERC20(asset).transfer(receiver, assets, default_return_value=True)
    log Withdraw(sender=msg.sender, receiver=receiver, owner=owner, assets=assets, shares=shares)


@external
@nonreentrant
def deposit(assets: uint256, receiver: address) -> uint256:
    """
    @notice Deposit exactly `assets` and mint the shares to `receiver`
    @return shares Shares minted (rounded down)
    """
    assert not self.paused, "vault: paused"
    self._accrue()
    assert assets <= self._max_deposit(), "vault: deposit exceeds limit"
    shares: uint256 = self._to_shares(assets, False)
    assert shares > 0, "vault: zero shares"
    self._deposit(receiver, assets, shares)
    return shares


@external
@nonreentrant
def mint(shares: uint256, receiver: address) -> uint256:
    """
    @notice Mint exactly `shares` to `receiver`, pulling the needed assets
    @return assets Assets pulled (rounded up)
    """
    assert not self.paused, "vault: paused"
    self._accrue()
    assert shares <= self._max_mint(), "vault: mint exceeds limit"
    assets: uint256 = self._to_assets(shares, True)
    assert assets > 0, "vault: zero assets"
    self._deposit(receiver, assets, shares)
    return assets


@external
@nonreentrant
def withdraw(assets: uint256, receiver: address, owner: address) -> uint256:
    """
    @notice Send exactly `assets` to `receiver`, burning `owner`'s shares
    @return shares Shares burned (rounded up)
    """
    assert not self.paused, "vault: paused"
    self._accrue()
    assert assets <= self._max_withdraw(owner), "vault: withdraw exceeds limit"
    shares: uint256 = self._to_shares(assets, True)
    self._withdraw(receiver, owner, assets, shares)
    return shares


@external
@nonreentrant
def redeem(shares: uint256, receiver: address, owner: address) -> uint256:
    """
    @notice Burn exactly `shares` of `owner` and send the assets to `receiver`
    @return assets Assets sent (rounded down)
    """
    assert not self.paused, "vault: paused"
    self._accrue()
    assert shares <= self._max_redeem(owner), "vault: redeem exceeds limit"
    assets: uint256 = self._to_assets(shares, False)
    assert assets > 0, "vault: zero assets"
    self._withdraw(receiver, owner, assets, shares)
    return assets


# ---------------------------------------------------------------- share token (ERC-20)

@internal
def _mint(receiver: address, shares: uint256):
    self.totalSupply += shares
    self.balanceOf[receiver] += shares
    log Transfer(sender=empty(address), receiver=receiver, value=shares)


@internal
def _burn(holder: address, shares: uint256):
    holder_balance: uint256 = self.balanceOf[holder]
    assert holder_balance >= shares, "vault: insufficient shares"
    self.balanceOf[holder] = holder_balance - shares
    self.totalSupply -= shares
    log Transfer(sender=holder, receiver=empty(address), value=shares)


@internal
def _spend_allowance(holder: address, spender: address, amount: uint256):
    allowed: uint256 = self.allowance[holder][spender]
    if allowed != max_value(uint256):
        assert allowed >= amount, "vault: insufficient allowance"
        self.allowance[holder][spender] = allowed - amount


@internal
def _transfer(sender: address, receiver: address, amount: uint256):
    assert receiver != empty(address), "vault: transfer to the zero address"
    sender_balance: uint256 = self.balanceOf[sender]
    assert sender_balance >= amount, "vault: transfer amount exceeds balance"
    self.balanceOf[sender] = sender_balance - amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=sender, receiver=receiver, value=amount)


@external
def transfer(receiver: address, amount: uint256) -> bool:
    self._transfer(msg.sender, receiver, amount)
    return True


@external
def transferFrom(sender: address, receiver: address, amount: uint256) -> bool:
    self._spend_allowance(sender, msg.sender, amount)
    self._transfer(sender, receiver, amount)
    return True


@external
def approve(spender: address, amount: uint256) -> bool:
    self.allowance[msg.sender][spender] = amount
    log Approval(owner=msg.sender, spender=spender, value=amount)
    return True


# ---------------------------------------------------------------- owner controls

@internal
@view
def _only_owner():
    assert msg.sender == self.owner, "vault: caller is not the owner"


@internal
def _log_parameters():
    log ParametersChanged(
        rate_bps_per_year=self.rate_bps_per_year,
        deposit_limit=self.deposit_limit,
        withdraw_limit=self.withdraw_limit,
        paused=self.paused,
    )


@external
def set_rate(rate_bps_per_year: uint256):
    """
    @notice Change the yearly yield; interest up to now accrues at the old rate first
    """
    self._only_owner()
    assert rate_bps_per_year <= MAX_RATE_BPS_PER_YEAR, "vault: rate too high"
    self._accrue()
    self.rate_bps_per_year = rate_bps_per_year
    self._log_parameters()


@external
def set_deposit_limit(limit: uint256):
    """
    @notice Cap totalAssets at `limit` (max_value(uint256) = no cap); maxDeposit/maxMint follow
    """
    self._only_owner()
    self.deposit_limit = limit
    self._log_parameters()


@external
def set_withdraw_limit(limit: uint256):
    """
    @notice Cap the assets of one withdrawal/redemption at `limit` (max_value(uint256) = no cap)
    """
    self._only_owner()
    self.withdraw_limit = limit
    self._log_parameters()


@external
def set_paused(paused: bool):
    """
    @notice Pause or resume: while paused max* return 0 and deposit/mint/withdraw/redeem revert
    """
    self._only_owner()
    self.paused = paused
    self._log_parameters()


@external
def slash(assets: uint256):
    """
    @notice Burn `assets` of the underlying held by the vault: the share price falls
    """
    self._only_owner()
    self._accrue()
    assert assets <= staticcall IERC20(asset).balanceOf(self), "vault: slash exceeds assets"
    extcall IMintableBurnable(asset).burn(assets)
    log Slashed(assets=assets)


@external
def transfer_ownership(new_owner: address):
    self._only_owner()
    assert new_owner != empty(address), "vault: new owner is the zero address"
    self.owner = new_owner
