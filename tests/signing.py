"""One throwaway key and one transaction for the software-signer tests, with what eth-account makes of it."""

from __future__ import annotations

from eth_account import Account

from agent.models import UnsignedTx

KEY = "0xac0974bec39a17e36ba4a84b6b4d7ee4ff3a6d5c2f9a2a3a0f28b3c3b9a3e8a5"  # a throwaway test key
ACCOUNT = Account.from_key(KEY)
TX = UnsignedTx(chain_id=31337, nonce=3, to="0x000000000000000000000000000000000000dEaD", value_wei=5,
                data=bytes(300), gas=90_000, max_fee_per_gas_wei=3 * 10**9, max_priority_fee_per_gas_wei=10**9)
EXPECTED_RAW = bytes(ACCOUNT.sign_transaction(TX.as_eth_account_dict()).raw_transaction)
