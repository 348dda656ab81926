"""Operator tests that need sockets or processes (webhook receivers, the metrics server, the service child).

The journal fixture and plan helper are the unit tier's, reused (defined once in tests/unit/operator/conftest.py)."""

from tests.unit.operator.conftest import journal  # noqa: F401
