"""The ``rebalancer`` command line. Commands live in ``agent/commands/<name>.py``.

Errors from the agent (``AgentError``) end the process with one clear line on stderr and the exit code of their
disposition (bad input 2, halt 3, other 1); anything else is reported as a bug in one redacted line;
``--json`` output is one JSON document on stdout; logs go to stderr.

Start-up stays light (``--help`` well under half a second): this module, the command modules and the plugins'
``register`` functions import only typer, rich and the standard library; each command imports web3 and the rest
of the agent when it runs (tests/unit/test_cli_startup.py checks that building the app imports no web3).
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from importlib.metadata import entry_points

import typer

from agent.errors import AgentError, exit_code

COMMAND_MODULES = ("status", "quote", "journal", "plan", "run", "backtest", "approve", "serve", "tax", "prices")
#: Commands that live outside the production layers (the sandbox, demo, benches, fork simulation) plug in
#: through this entry-point group, so the CLI never imports the devtools wing by name.
PLUGIN_GROUP = "rebalancer.commands"

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False,
                  context_settings={"help_option_names": ["-h", "--help"]},
                  # plain click help: typer's rich help imports ~0.25 s of rich, markdown-it and pygments
                  rich_markup_mode=None,
                  help="Keeps an on-chain portfolio at its target allocation across EVM chains.")


def _print_version(value: bool) -> None:
    if value:
        import agent

        typer.echo(f"rebalancer {agent.__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                       help="Print the installed version and exit.")) -> None:
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


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _bad_input(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise SystemExit(2)


def setup_logging() -> None:
    """stderr logging at LOG_LEVEL, with every configured secret scrubbed from every logger's records."""
    from agent.config.scrub import environment_with_dotenv, install

    level = os.environ.get("LOG_LEVEL", "").strip().upper() or "WARNING"
    fmt = os.environ.get("LOG_FORMAT", "").strip().lower() or "text"
    if level not in LOG_LEVELS:  # bad input: one line, exit 2, before anything runs
        _bad_input(f"LOG_LEVEL: {os.environ['LOG_LEVEL']!r} is not a log level; use one of "
                   f"{', '.join(LOG_LEVELS)} (e.g. LOG_LEVEL=INFO) or unset it")
    if fmt not in ("text", "json"):
        _bad_input(f"LOG_FORMAT: {fmt!r} is neither text nor json; set LOG_FORMAT=json or unset it")
    logging.basicConfig(level=getattr(logging, level), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if fmt == "json":
        from agent.operator.jsonlog import JsonFormatter

        for handler in logging.getLogger().handlers:
            handler.setFormatter(JsonFormatter())
    install(environment_with_dotenv())


def exit_code_for(exc: AgentError) -> int:
    """The exit code of an error's disposition: bad input 2, halt 3, anything else 1."""
    return exit_code(exc)


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
    except Exception as exc:  # a bug, not an error of the tree: one redacted line (the traceback at DEBUG)
        from agent.config.settings import safe_error

        logging.getLogger(__name__).debug("unexpected error", exc_info=True)
        typer.echo(f"error: unexpected {safe_error(exc)} (a bug: run with LOG_LEVEL=DEBUG for the traceback)",
                   err=True)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
