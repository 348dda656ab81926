"""Transaction execution: gas policy, nonces, approvals, the per-action pipeline and the senders."""
