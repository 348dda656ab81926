"""A parsed ``SIGNER`` value and BIP-32 path text: what every signer scheme module shares.

Kept apart from the factory so scheme modules (``dev``, ``software``) depend on it and the factory depends on
them, never the reverse.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from agent.ports import Signer

ENV_SIGNER = "SIGNER"
HARDENED = 0x80000000
MAX_PATH_STEPS = 10  # the Ledger Ethereum app's limit
_STEP = re.compile(r"([0-9]+)(['hH]?)")


class SignerSpec(BaseModel):
    """A parsed ``SIGNER`` value. ``derivation_path`` is set for hardware wallets."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scheme: str
    argument: str
    derivation_path: tuple[int, ...] | None = None


@dataclass(frozen=True)
class SchemeHandler:
    """How one ``SIGNER`` scheme is parsed (text after ``scheme:``) and opened."""

    parse: Callable[[str], SignerSpec]
    open: Callable[[SignerSpec, Mapping[str, str]], Signer]
    hardware: bool = False


def parse_bip32_path(text: str) -> tuple[int, ...]:
    """``44'/60'/0'/0/0``, ``m/44h/60h/0h/0/0`` (``'``, ``h`` or ``H`` mark hardened steps)."""
    body = text.strip()
    if body.startswith(("m/", "M/")):
        body = body[2:]
    if not body:
        raise ValueError("the derivation path is empty")
    steps = body.split("/")
    if len(steps) > MAX_PATH_STEPS:
        raise ValueError(f"the derivation path has {len(steps)} steps, at most {MAX_PATH_STEPS} are allowed")
    path = []
    for step in steps:
        match = _STEP.fullmatch(step)
        if match is None:
            raise ValueError(f"step {step!r} is not a number optionally followed by ' or h")
        index = int(match.group(1))
        if index >= HARDENED:
            raise ValueError(f"step {step!r} is too large (indexes are below 2^31)")
        path.append(index | HARDENED if match.group(2) else index)
    return tuple(path)


def format_bip32_path(path: tuple[int, ...]) -> str:
    return "m/" + "/".join(f"{i - HARDENED}'" if i >= HARDENED else str(i) for i in path)
