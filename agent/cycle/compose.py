"""Composition root: turn the validated config into the adapters the commands use."""

from __future__ import annotations

from eth_account import Account

from agent.chain.rpc import ChainRpc
from agent.config.settings import AppConfig
from agent.errors import ConfigError


def build_rpcs(config: AppConfig) -> list[ChainRpc]:
    s = config.settings
    return [ChainRpc(chain, cs, timeout_s=s.rpc_timeout_s, attempts=s.rpc_attempts) for chain, cs in config.enabled()]


def wallet_address(config: AppConfig) -> str:
    """The wallet to read: WALLET_ADDRESS, else the sandbox key's address, else the expected signer address."""
    s = config.settings
    if s.wallet_address:
        return s.wallet_address
    if s.signer_expected_address:
        return s.signer_expected_address
    if s.sandbox_private_key is not None:
        return str(Account.from_key(s.sandbox_private_key.get_secret_value()).address)
    raise ConfigError("WALLET_ADDRESS: not set; set WALLET_ADDRESS=0x… (the wallet to read) or SIGNER_EXPECTED_ADDRESS")
