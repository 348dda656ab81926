"""Package data (agent.resources): this directory ships inside the wheel; see agent/resources/__init__.py."""
