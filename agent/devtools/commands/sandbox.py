"""``rebalancer sandbox up|down|env``: the local world on anvil."""

from __future__ import annotations

import shlex

import typer

from agent.commands.render import console, err_console

# the sandbox (web3, the world's deployers) is imported by each command when it runs: the CLI starts light


def register(app: typer.Typer) -> None:
    sandbox = typer.Typer(help="The local sandbox world: two anvil chains, pools, a vault, an aggregator server.",
                          no_args_is_help=True)
    app.add_typer(sandbox, name="sandbox")

    @sandbox.command("up")
    def up(no_aggregator: bool = typer.Option(False, help="Do not start the local aggregator server."),
           mainnet_replica: bool = typer.Option(False, help="Also start a mainnet replica (chain id 1, sandbox "
                                                "contracts at the real addresses) as ETHEREUM_RPC_URL, for "
                                                "`simulate --fork ethereum`.")) -> None:
        """Start the sandbox chains, deploy the world and fund the wallet off-target."""
        from agent.devtools.sandbox.manager import sandbox_dir, sandbox_up

        env = sandbox_up(with_aggregator=not no_aggregator, mainnet_replica=mainnet_replica, note=err_console.print)
        d = sandbox_dir()
        err_console.print(f"sandbox up: chains {env['CHAINS']}; wallet {env['WALLET_ADDRESS']}")
        if mainnet_replica:
            err_console.print("mainnet replica up as ETHEREUM_RPC_URL; try `rebalancer simulate --fork ethereum`")
        err_console.print(f"use it with:  export ENV_FILE={d / 'sandbox.env'}")
        err_console.print('         or:  eval "$(rebalancer sandbox env)"')

    @sandbox.command("down")
    def down() -> None:
        """Stop exactly the processes `sandbox up` started."""
        from agent.devtools.sandbox.manager import sandbox_down

        stopped = sandbox_down()
        err_console.print(f"sandbox down: stopped {len(stopped)} process(es)")

    @sandbox.command("env")
    def env() -> None:
        """Print the environment variables that point every command at the sandbox."""
        from agent.devtools.sandbox.manager import read_env

        for k, v in read_env().items():
            console.print(f"export {k}={shlex.quote(v)}", highlight=False, soft_wrap=True)
