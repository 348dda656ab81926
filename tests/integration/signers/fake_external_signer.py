"""A stand-in for Clef / Web3Signer: a JSON-RPC server on 127.0.0.1 that signs with eth-account.

It speaks the real method names and shapes (``account_list`` + ``account_signTransaction`` → ``{raw, tx}``
for Clef; ``eth_accounts`` + ``eth_signTransaction`` → raw hex for Web3Signer) and can refuse like Clef
(``-32000 Request denied``) or tamper with what it signs.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from eth_account.signers.local import LocalAccount


class FakeSignerServer:
    def __init__(self, account: LocalAccount, *, flavor: str = "clef") -> None:
        self.account, self.flavor = account, flavor
        self.refuse = False
        self.tamper = False
        self.requests: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(body)
                reply = {"jsonrpc": "2.0", "id": body["id"], **outer.handle(body["method"], body["params"])}
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeSignerServer:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(self, method: str, params: list[Any]) -> dict[str, Any]:
        clef = self.flavor == "clef"
        if method == ("account_list" if clef else "eth_accounts"):
            return {"result": [self.account.address]}
        if method == ("account_signTransaction" if clef else "eth_signTransaction"):
            if self.refuse:
                return {"error": {"code": -32000, "message": "Request denied"}}
            p = params[0]
            tx = {"type": 2, "chainId": int(p.get("chainId", "0x7a69"), 16), "nonce": int(p["nonce"], 16),
                  "to": p["to"], "value": int(p["value"], 16), "data": p["data"], "gas": int(p["gas"], 16),
                  "maxFeePerGas": int(p["maxFeePerGas"], 16),
                  "maxPriorityFeePerGas": int(p["maxPriorityFeePerGas"], 16), "accessList": []}
            if self.tamper:
                tx["value"] += 1
            raw = "0x" + bytes(self.account.sign_transaction(tx).raw_transaction).hex()
            return {"result": {"raw": raw, "tx": p} if clef else raw}
        return {"error": {"code": -32601, "message": f"the method {method} does not exist/is not available"}}
