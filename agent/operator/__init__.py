"""Operating the agent (#18): approval before execution, notifications, metrics, the web dashboard, health.

Below the cycle (which asks ``approvals.gate_plan`` before executing a plan) and above the journal (which the
dashboard reads). Nothing here signs or sends.
"""
