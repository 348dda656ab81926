"""CLI command modules. Each defines ``register(app: typer.Typer) -> None``; ``agent.cli`` wires them."""
