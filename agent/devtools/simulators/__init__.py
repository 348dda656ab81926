"""Protocol-level hardware-wallet simulators (Ledger APDUs, Trezor wire protocol v1).

They are backed by a software key from a test mnemonic and exist so the production signer code
runs byte for byte without a device. Never use them with a mnemonic that guards real funds.
"""

#: anvil's default mnemonic: m/44'/60'/0'/0/0 is 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266.
TEST_MNEMONIC = "test test test test test test test test test test test junk"
