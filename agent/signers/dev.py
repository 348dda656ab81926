"""``SIGNER=anvil:N``: anvil's public development account N (from its well-known test mnemonic).

For the local sandbox only: refused unless every configured chain is a sandbox chain. The key is derived in
memory, never printed and never written anywhere; the address is public (anvil prints it at start).
"""

from __future__ import annotations

from collections.abc import Mapping

from eth_account import Account

from agent.errors import ConfigError
from agent.ports import Signer
from agent.signers.spec import SignerSpec

#: anvil's (and hardhat's) public test mnemonic: every developer machine knows it; never a real wallet.
DEV_MNEMONIC = "test test test test test test test test test test test junk"


def parse_dev_spec(argument: str) -> SignerSpec:
    if not argument.isdigit() or int(argument) > 19:
        raise ConfigError(f"SIGNER=anvil:{argument}: write anvil:N with N the dev account index 0..19")
    return SignerSpec(scheme="anvil", argument=argument)


def dev_account_key(index: int) -> bytes:
    Account.enable_unaudited_hdwallet_features()
    return bytes(Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}").key)


def open_dev_signer(spec: SignerSpec, env: Mapping[str, str]) -> Signer:
    from agent.signers.local import LocalKeySigner
    from agent.signers.software import chain_kinds

    real = sorted(name for name, kind in chain_kinds(env).items() if kind != "sandbox")
    if real:
        raise ConfigError(f"SIGNER=anvil:{spec.argument}: anvil's public dev keys are for sandbox chains only, but "
                          f"CHAINS includes {', '.join(real)}; use keystore:, external:, ledger: or trezor:")
    return LocalKeySigner.from_key(dev_account_key(int(spec.argument)), label=f"anvil dev account {spec.argument}")
