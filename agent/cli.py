"""The ``rebalancer`` command line. Commands live in ``agent/commands/<name>.py``.

Errors from the agent (``AgentError``) end the process with one clear line on stderr and a non-zero code;
``--json`` output is one JSON document on stdout; logs go to stderr.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from importlib.metadata import entry_points

import typer

from agent.errors import AgentError, ConfigError, SafetyHalt

COMMAND_MODULES = ("status", "quote", "journal", "plan", "run", "backtest", "approve", "serve")
#: Commands that live outside the production layers (the sandbox, demo, benches, fork simulation) plug in
#: through this entry-point group, so the CLI never imports the devtools wing by name.
PLUGIN_GROUP = "rebalancer.commands"

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False,
                  help="Keeps an on-chain portfolio at its target allocation across EVM chains.")


@app.callback()
def _root() -> None:
    """Keeps an on-chain portfolio at its target allocation across EVM chains."""


def _register_commands() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"agent.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"agent.commands.{name}":
                continue  # not built yet
            raise
        module.register(app)
    for entry in entry_points(group=PLUGIN_GROUP):
        entry.load()(app)


def setup_logging() -> None:
    """stderr logging at LOG_LEVEL, with every configured secret scrubbed from every logger's records."""
    from agent.config.scrub import environment_with_dotenv, install

    level = os.environ.get("LOG_LEVEL", "WARNING").upper()
    fmt = os.environ.get("LOG_FORMAT", "text").lower()
    if fmt not in ("text", "json"):
        raise SystemExit(f"error: LOG_FORMAT: {fmt!r} is neither text nor json; set LOG_FORMAT=json or unset it")
    logging.basicConfig(level=getattr(logging, level, logging.WARNING), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if fmt == "json":
        from agent.operator.jsonlog import JsonFormatter

        for handler in logging.getLogger().handlers:
            handler.setFormatter(JsonFormatter())
    install(environment_with_dotenv())


def exit_code_for(exc: AgentError) -> int:
    if isinstance(exc, ConfigError):
        return 2
    if isinstance(exc, SafetyHalt):
        return 3
    return 1


def main() -> None:
    setup_logging()
    _register_commands()
    try:
        app()
    except AgentError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(exit_code_for(exc)) from None
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
