"""Benchmarks that print JSON (also reachable as ``rebalancer bench …``). Targets live here, not in tests."""
