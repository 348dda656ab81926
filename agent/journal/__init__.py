"""The crash-safe SQLite journal of cycles, decisions, actions and transaction attempts."""
