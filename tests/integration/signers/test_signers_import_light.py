"""The base install works without the hardware extras: nothing imports ledgercomm/trezorlib eagerly."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import sys

    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("ledgercomm", "trezorlib", "hid"):
                raise ImportError(f"blocked: {name}")
            return None

    sys.meta_path.insert(0, Block())
    import agent.signers, agent.signers.factory, agent.signers.ledger, agent.signers.trezor
    from agent.errors import SignerError
    from agent.signers.factory import open_hardware_signer, parse_signer_spec

    parse_signer_spec("ledger:44'/60'/0'/0/0")
    for spec in ("ledger:44'/60'/0'/0/0", "trezor:m/44h/60h/0h/0/0"):
        try:
            open_hardware_signer(spec, expected_address=None, env={})
        except SignerError as exc:
            print(exc)
    print(sorted(m for m in sys.modules if m.split(".")[0] in ("ledgercomm", "trezorlib")))
    """
)


def test_imports_and_errors_without_hardware_extras() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert "install rebalancer[ledger]" in lines[0]
    assert "install rebalancer[trezor]" in lines[1]
    assert lines[2] == "[]"


def test_package_init_is_light() -> None:
    code = "import sys, agent.signers; print(sorted(m for m in sys.modules if m.startswith(('eth_account', 'web3'))))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
