"""Pure planning: snapshot → allocation → plan. No I/O and no clock (``now`` is passed in)."""
