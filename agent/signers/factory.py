"""``SIGNER`` parsing and the signer factory: a dispatch table keyed by scheme.

``SIGNER=ledger:44'/60'/0'/0/0`` or ``SIGNER=trezor:m/44h/60h/0h/0/0`` today; ``keystore:``,
``external:`` and raw-key signers are added by registering a :class:`SchemeHandler` in
``SCHEMES`` (a parser for the text after the colon and an opener).

Opening a signer compares the address the device reports with ``SIGNER_EXPECTED_ADDRESS`` and
refuses to start (``SafetyHalt``) when they differ: a wrong device, seed, passphrase or path
must never sign.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from types import ModuleType

from agent.errors import ConfigError, SafetyHalt
from agent.models import checksum
from agent.ports import Signer
from agent.signers.spec import (
    ENV_SIGNER,
    HARDENED,
    SchemeHandler,
    SignerSpec,
    format_bip32_path,
    parse_bip32_path,
)

log = logging.getLogger(__name__)

ENV_EXPECTED_ADDRESS = "SIGNER_EXPECTED_ADDRESS"
_EXAMPLES = "ledger:44'/60'/0'/0/0 or trezor:m/44h/60h/0h/0/0"


def _hardware_parser(scheme: str) -> Callable[[str], SignerSpec]:
    def parse(argument: str) -> SignerSpec:
        try:
            path = parse_bip32_path(argument)
        except ValueError as exc:
            raise ConfigError(
                f"{ENV_SIGNER}={scheme}:{argument}: {exc}; write it like {_EXAMPLES}"
            ) from None
        if path[:2] not in ((44 | HARDENED, 60 | HARDENED), (44 | HARDENED, 1 | HARDENED)):
            log.warning("%s path %s is not under 44'/60': the device may warn or refuse",
                        scheme, format_bip32_path(path))
        return SignerSpec(scheme=scheme, argument=argument, derivation_path=path)

    return parse


def _open_ledger(spec: SignerSpec, env: Mapping[str, str]) -> Signer:
    from agent.signers.ledger import LedgerSigner

    assert spec.derivation_path is not None
    return LedgerSigner.open(spec.derivation_path, env=env)


def _open_trezor(spec: SignerSpec, env: Mapping[str, str]) -> Signer:
    from agent.signers.trezor import TrezorSigner

    assert spec.derivation_path is not None
    return TrezorSigner.open(spec.derivation_path, env=env)


def _software_parser(scheme: str) -> Callable[[str], SignerSpec]:
    def parse(argument: str) -> SignerSpec:
        from agent.signers.software import parse_software_spec

        return parse_software_spec(scheme, argument)

    return parse


def _open_software(spec: SignerSpec, env: Mapping[str, str]) -> Signer:
    from agent.signers.software import open_software_signer

    return open_software_signer(spec, env)


#: scheme → handler. Other signers register here (e.g. ``SCHEMES["keystore"] = SchemeHandler(...)``).
SCHEMES: dict[str, SchemeHandler] = {
    "ledger": SchemeHandler(_hardware_parser("ledger"), _open_ledger, hardware=True),
    "trezor": SchemeHandler(_hardware_parser("trezor"), _open_trezor, hardware=True),
    "keystore": SchemeHandler(_software_parser("keystore"), _open_software),
    "external": SchemeHandler(_software_parser("external"), _open_software),
    "env": SchemeHandler(_software_parser("env"), _open_software),
    "anvil": SchemeHandler(lambda arg: _dev().parse_dev_spec(arg), lambda spec, env: _dev().open_dev_signer(spec, env)),
}


def _dev() -> ModuleType:
    """The dev-key signer module, imported lazily so the factory stays import-light."""
    from agent.signers import dev

    return dev


def parse_signer_spec(spec: str) -> SignerSpec:
    """Parse a ``SIGNER`` value; a bad one raises ``ConfigError`` naming ``SIGNER`` and the fix."""
    scheme, sep, argument = spec.strip().partition(":")
    scheme = scheme.strip().lower()
    if not sep or not argument.strip():
        raise ConfigError(f"{ENV_SIGNER} must look like SCHEME:ARGUMENT, e.g. {_EXAMPLES}")
    handler = SCHEMES.get(scheme)
    if handler is None:
        known = ", ".join(sorted(SCHEMES))
        raise ConfigError(f"{ENV_SIGNER} scheme {scheme!r} is unknown: use one of {known} (e.g. {_EXAMPLES})")
    return handler.parse(argument.strip())


def expected_address_from(expected_address: str | None, env: Mapping[str, str]) -> str | None:
    """The explicit value, else ``SIGNER_EXPECTED_ADDRESS`` from ``env``; validated (EIP-55)."""
    value = expected_address if expected_address else env.get(ENV_EXPECTED_ADDRESS, "").strip()
    if not value:
        return None
    try:
        return checksum(value, strict=True)
    except ValueError as exc:
        raise ConfigError(f"{ENV_EXPECTED_ADDRESS}: {exc}") from None


def open_signer(spec: str | SignerSpec, *, expected_address: str | None, env: Mapping[str, str]) -> Signer:
    """Open the signer ``spec`` names and check it signs for the expected address."""
    parsed = parse_signer_spec(spec) if isinstance(spec, str) else spec
    expected = expected_address_from(expected_address, env)  # validate before touching a device
    signer = SCHEMES[parsed.scheme].open(parsed, env)
    try:
        ensure_expected_address(signer, expected)
    except BaseException:
        _close_quietly(signer)
        raise
    return signer


def open_hardware_signer(
    spec: str | SignerSpec, *, expected_address: str | None, env: Mapping[str, str]
) -> Signer:
    """Like :func:`open_signer`, for ``ledger:`` and ``trezor:`` specs only."""
    parsed = parse_signer_spec(spec) if isinstance(spec, str) else spec
    if not SCHEMES[parsed.scheme].hardware:
        raise ConfigError(f"{ENV_SIGNER} scheme {parsed.scheme!r} is not a hardware wallet: use ledger: or trezor:")
    return open_signer(parsed, expected_address=expected_address, env=env)


def ensure_expected_address(signer: Signer, expected: str | None) -> None:
    """Refuse to start when the device's address is not the configured one."""
    if expected is None:
        log.warning(
            "%s is not set: signing as %s, the address the device reports; set it to refuse other devices",
            ENV_EXPECTED_ADDRESS, signer.address,
        )
        return
    if signer.address != expected:
        raise SafetyHalt(
            f"{ENV_SIGNER} reports address {signer.address} but {ENV_EXPECTED_ADDRESS} is {expected}: "
            "wrong device, seed, passphrase or derivation path; fix SIGNER or SIGNER_EXPECTED_ADDRESS"
        )


def _close_quietly(signer: Signer) -> None:
    close = getattr(signer, "close", None)
    if callable(close):
        try:
            close()
        except Exception as exc:
            log.debug("closing the signer failed: %s", exc)
