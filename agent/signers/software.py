"""Software signers behind ``SIGNER``: ``keystore:PATH``, ``external:URL`` and ``env:SANDBOX_PRIVATE_KEY``.

Registered in ``agent.signers.factory.SCHEMES``; ``open_signer`` then checks the expected address.
With ``SIGNER`` unset, :func:`default_signer_spec` falls back to the sandbox raw key.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from agent.config.chains import load_chain
from agent.config.settings import redact_url
from agent.errors import ConfigError
from agent.ports import Signer
from agent.signers.spec import SignerSpec

RAW_KEY_SPEC = "env:SANDBOX_PRIVATE_KEY"


def default_signer_spec(env: Mapping[str, str]) -> str:
    """``SIGNER`` when set, else the sandbox raw key."""
    return env.get("SIGNER", "").strip() or RAW_KEY_SPEC


def parse_software_spec(scheme: str, argument: str) -> SignerSpec:
    if scheme == "keystore":
        return SignerSpec(scheme=scheme, argument=str(Path(argument).expanduser()))
    if scheme == "external":
        parts = urlsplit(argument)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"SIGNER=external:{redact_url(argument)}: write external:http://HOST:PORT "
                              "(the Clef or Web3Signer JSON-RPC endpoint)")
        return SignerSpec(scheme=scheme, argument=argument)
    if scheme == "env":
        if argument != "SANDBOX_PRIVATE_KEY":
            raise ConfigError("SIGNER=env:… only supports env:SANDBOX_PRIVATE_KEY (the sandbox raw key)")
        return SignerSpec(scheme=scheme, argument=argument)
    raise ConfigError(f"SIGNER scheme {scheme!r} is not a software signer")


def open_software_signer(spec: SignerSpec, env: Mapping[str, str]) -> Signer:
    if spec.scheme == "keystore":
        from agent.signers.keystore import open_keystore_signer, read_password

        path = Path(spec.argument)
        return open_keystore_signer(path, read_password(env, path=path))
    if spec.scheme == "external":
        from agent.signers.external import ExternalSigner

        expected = env.get("SIGNER_EXPECTED_ADDRESS", "").strip() or None
        return ExternalSigner(spec.argument, address=expected)
    from agent.signers.local import open_sandbox_key_signer

    return open_sandbox_key_signer(env.get("SANDBOX_PRIVATE_KEY"), chain_kinds=chain_kinds(env))


def chain_kinds(env: Mapping[str, str]) -> dict[str, str]:
    names = [c.strip().lower() for c in env.get("CHAINS", "").split(",") if c.strip()]
    chains_dir = Path(env["CHAINS_DIR"]) if env.get("CHAINS_DIR") else None
    return {name: load_chain(name, chains_dir).kind for name in names}
