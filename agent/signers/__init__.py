"""Signers: local keystore, external JSON-RPC, Ledger and Trezor (see ``agent.signers.factory``).

Kept import-light on purpose: hardware-wallet libraries are optional extras and are imported
only when a hardware signer is opened.
"""
