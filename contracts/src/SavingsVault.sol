// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

interface IMintable {
    function mint(address to, uint256 amount) external;
}

/// @notice OpenZeppelin's ERC-4626 with a savings rate and the operator controls of real vaults, for the sandbox.
/// The assets it holds earn simple interest per second at `rate_bps_per_year` (like sDAI/sUSDS): `totalAssets`
/// counts it at once (the share price grows with block time) and the vault mints it to itself in the asset
/// before every deposit, withdrawal or rate change (the vault must be a minter of the asset). The owner sets a
/// deposit cap on total assets and a per-withdrawal cap (reflected in max*), pauses the vault (max* return 0)
/// and slashes it (assets leave the vault, the share price falls). `decimalsOffset` adds share decimals over
/// the asset's, as MetaMorpho vaults do (18-decimal shares over a 6-decimal asset).
contract SavingsVault is ERC4626, Ownable {
    using SafeERC20 for IERC20;

    address public constant SLASH_SINK = 0x000000000000000000000000000000000000dEaD;
    uint256 public constant MAX_RATE_BPS_PER_YEAR = 1_000_000;
    uint8 private immutable _offset;
    uint256 public rate_bps_per_year;
    uint256 public last_accrual;
    uint256 public deposit_limit = type(uint256).max;
    uint256 public withdraw_limit = type(uint256).max;
    bool public paused;

    event YieldAccrued(uint256 assets);
    event Slashed(uint256 assets);

    constructor(IERC20 asset_, string memory name_, string memory symbol_, uint256 rateBpsPerYear_,
                uint8 decimalsOffset_) ERC20(name_, symbol_) ERC4626(asset_) Ownable(msg.sender) {
        require(rateBpsPerYear_ <= MAX_RATE_BPS_PER_YEAR, "vault: rate too high");
        rate_bps_per_year = rateBpsPerYear_;
        _offset = decimalsOffset_;
        last_accrual = block.timestamp;
    }

    function pendingInterest() public view returns (uint256) {
        uint256 held = IERC20(asset()).balanceOf(address(this));
        return held * rate_bps_per_year * (block.timestamp - last_accrual) / (10_000 * 365 days);
    }

    function totalAssets() public view override returns (uint256) {
        return IERC20(asset()).balanceOf(address(this)) + pendingInterest();
    }

    /// @notice Mint the interest earned so far into the vault (anyone may call it).
    function accrue() public {
        uint256 interest = pendingInterest();
        last_accrual = block.timestamp;
        if (interest > 0) {
            IMintable(asset()).mint(address(this), interest);
            emit YieldAccrued(interest);
        }
    }

    // ------------------------------------------------------------------ limits
    function maxDeposit(address) public view override returns (uint256) {
        if (paused) return 0;
        if (deposit_limit == type(uint256).max) return type(uint256).max;
        uint256 total = totalAssets();
        return total >= deposit_limit ? 0 : deposit_limit - total;
    }

    function maxMint(address receiver) public view override returns (uint256) {
        uint256 assets = maxDeposit(receiver);
        return assets == type(uint256).max ? type(uint256).max : convertToShares(assets);
    }

    function maxWithdraw(address owner_) public view override returns (uint256) {
        if (paused) return 0;
        uint256 assets = _convertToAssets(balanceOf(owner_), Math.Rounding.Floor);
        return assets < withdraw_limit ? assets : withdraw_limit;
    }

    function maxRedeem(address owner_) public view override returns (uint256) {
        if (paused) return 0;
        uint256 shares = balanceOf(owner_);
        if (withdraw_limit == type(uint256).max) return shares;
        uint256 capped = convertToShares(withdraw_limit);
        return shares < capped ? shares : capped;
    }

    // ------------------------------------------------------------------ owner controls
    function set_rate(uint256 rateBpsPerYear_) external onlyOwner {
        require(rateBpsPerYear_ <= MAX_RATE_BPS_PER_YEAR, "vault: rate too high");
        accrue();
        rate_bps_per_year = rateBpsPerYear_;
    }

    function set_deposit_limit(uint256 limit) external onlyOwner {
        deposit_limit = limit;
    }

    function set_withdraw_limit(uint256 limit) external onlyOwner {
        withdraw_limit = limit;
    }

    function set_paused(bool paused_) external onlyOwner {
        paused = paused_;
    }

    /// @notice A loss: `assets` leave the vault (to a dead address), so every share is worth less.
    function slash(uint256 assets) external onlyOwner {
        accrue();
        require(assets <= IERC20(asset()).balanceOf(address(this)), "vault: slash exceeds assets");
        IERC20(asset()).safeTransfer(SLASH_SINK, assets);
        emit Slashed(assets);
    }

    // ------------------------------------------------------------------ internals
    function _decimalsOffset() internal view override returns (uint8) {
        return _offset;
    }

    function _deposit(address caller, address receiver, uint256 assets, uint256 shares) internal override {
        require(!paused, "vault: paused");
        accrue();
        super._deposit(caller, receiver, assets, shares);
    }

    function _withdraw(address caller, address receiver, address owner_, uint256 assets, uint256 shares)
        internal
        override
    {
        require(!paused, "vault: paused");
        accrue();
        super._withdraw(caller, receiver, owner_, assets, shares);
    }
}
