// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @notice The sandbox's plain tokens: OpenZeppelin's ERC20 with chosen decimals, mintable by the owner
/// and by the minters the owner names (a vault that pays interest in the asset is one).
contract SandboxToken is ERC20, Ownable {
    uint8 private immutable _tokenDecimals;
    mapping(address => bool) public minters;

    constructor(string memory name_, string memory symbol_, uint8 decimals_, address owner_)
        ERC20(name_, symbol_)
        Ownable(owner_)
    {
        _tokenDecimals = decimals_;
    }

    function decimals() public view override returns (uint8) {
        return _tokenDecimals;
    }

    function setMinter(address minter, bool allowed) external onlyOwner {
        minters[minter] = allowed;
    }

    function mint(address to, uint256 amount) external {
        if (msg.sender != owner() && !minters[msg.sender]) revert OwnableUnauthorizedAccount(msg.sender);
        _mint(to, amount);
    }
}
