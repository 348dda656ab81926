"""``python -m agent.devtools.aggregator --port P --chain sandbox_a=RPC_URL [--chain …] [--factory NAME=0x…]``.

Serves until SIGTERM/SIGINT. Chain configs come from ``chains/<name>.toml`` (``--chains-dir`` to override).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path
from types import FrameType

from agent.config.chains import load_chain
from agent.devtools.aggregator import AggregatorServer, SandboxChain
from agent.errors import AgentError
from agent.models import checksum


def _pairs(values: list[str], flag: str) -> list[tuple[str, str]]:
    out = []
    for v in values:
        name, sep, value = v.partition("=")
        if not sep or not name or not value:
            raise SystemExit(f"{flag} {v!r}: write {flag} NAME=VALUE")
        out.append((name, value))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m agent.devtools.aggregator", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = any free port)")
    parser.add_argument("--chain", action="append", default=[], help="NAME=RPC_URL (repeatable)")
    parser.add_argument("--factory", action="append", default=[],
                        help="NAME=ADDRESS of another Uniswap-V2-style factory to route over (repeatable)")
    parser.add_argument("--chains-dir", type=Path, default=None)
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.chain:
        raise SystemExit("give at least one --chain NAME=RPC_URL")
    extra: dict[str, list[str]] = {}
    for name, addr in _pairs(args.factory, "--factory"):
        extra.setdefault(name, []).append(checksum(addr))
    try:
        chains = [SandboxChain(load_chain(name, args.chains_dir), url, tuple(extra.get(name, ())))
                  for name, url in _pairs(args.chain, "--chain")]
        server = AggregatorServer(chains, port=args.port)
    except AgentError as exc:
        raise SystemExit(f"error: {exc}") from None

    def _stop(signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    logging.getLogger(__name__).info("aggregator server on %s for %s", server.url,
                                     ", ".join(c.config.name for c in chains))
    print(server.url, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
