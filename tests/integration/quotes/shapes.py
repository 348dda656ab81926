"""Good responses in each aggregator's real shape for selling 1 WETH for USDC on sandbox_a (hostile tests mutate
them). Calldata is in each router's real shape (``agent.devtools.aggregator.shapes``), aimed at the sandbox
contract the chain allow-lists for that source, paying ``recipient``."""

from __future__ import annotations

import copy
from typing import Any

from agent.config.chains import ChainConfig
from agent.devtools.aggregator import shapes as real

from .conftest import WALLET

SELL_RAW = 10**18
BUY_RAW = 2_991_000_000  # 30 bps under the 3000 USDC reference
MIN_RAW = BUY_RAW * 9950 // 10_000
SETTLER = "0x0d0E364aa7852291883C162B22D6D81f6355428F"
PAIR = "0x531D361A72A7C8Fc9602247F7910134c35E12619"


def addrs(chain: ChainConfig, source: str = "0x") -> tuple[str, str, str]:
    return chain.token("WETH").address, chain.token("USDC").address, chain.aggregators[source].routers[0]


def calldata(chain: ChainConfig, source: str = "0x", *, recipient: str = WALLET, min_out: int = MIN_RAW,
             amount_in: int = SELL_RAW, token_out: str | None = None) -> str:
    weth, usdc, router = addrs(chain, source)
    legs = [(amount_in, [PAIR])]
    common = dict(sell=weth, buy=token_out or usdc, amount=amount_in, min_out=min_out, recipient=recipient,
                  legs=legs)
    if source == "0x":
        data = real.zerox(**common, zid=b"\x12\x34")  # type: ignore[arg-type]
    elif source == "1inch":
        data = real.oneinch(router=router, **common)  # type: ignore[arg-type]
    elif source == "paraswap":
        data = real.paraswap(router=router, quoted=BUY_RAW, **common)  # type: ignore[arg-type]
    elif source == "odos":
        data = real.odos(router=router, quoted=BUY_RAW, **common)  # type: ignore[arg-type]
    else:
        data = real.kyber(core=chain.aggregators["sandbox"].routers[0], **common)  # type: ignore[arg-type]
    return "0x" + data.hex()


def zerox(chain: ChainConfig) -> dict[str, Any]:
    weth, usdc, router = addrs(chain)
    return {
        "blockNumber": "100", "buyAmount": str(BUY_RAW), "buyToken": usdc.lower(),
        "fees": {"integratorFee": None, "zeroExFee": None, "gasFee": None},
        "issues": {"allowance": {"actual": "0", "spender": router}, "balance": None, "simulationIncomplete": False,
                   "invalidSourcesPassed": []},
        "liquidityAvailable": True, "minBuyAmount": str(MIN_RAW),
        "route": {"fills": [{"from": weth, "to": usdc, "source": "Uniswap_V2", "proportionBps": "10000"}],
                  "tokens": []},
        "sellAmount": str(SELL_RAW), "sellToken": weth.lower(), "totalNetworkFee": "250000000000000",
        "transaction": {"to": router.lower(), "data": calldata(chain), "gas": "250000", "gasPrice": "1000000000",
                        "value": "0"},
        "zid": "0x1234",
    }


def oneinch(chain: ChainConfig) -> dict[str, Any]:
    weth, usdc, router = addrs(chain, "1inch")
    return {"dstAmount": str(BUY_RAW),
            "srcToken": {"address": weth.lower(), "symbol": "WETH", "decimals": 18},
            "dstToken": {"address": usdc.lower(), "symbol": "USDC", "decimals": 6},
            "tx": {"from": WALLET.lower(), "to": router.lower(), "data": calldata(chain, "1inch"), "value": "0",
                   "gas": 250000, "gasPrice": "1000000000"}}


def paraswap(chain: ChainConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    weth, usdc, router = addrs(chain, "paraswap")
    route = {"blockNumber": 100, "network": chain.chain_id, "srcToken": weth.lower(), "srcDecimals": 18,
             "srcAmount": str(SELL_RAW), "destToken": usdc.lower(), "destDecimals": 6, "destAmount": str(BUY_RAW),
             "bestRoute": [], "gasCostUSD": "0.5", "gasCost": "250000", "side": "SELL", "version": "6.2",
             "contractAddress": router, "tokenTransferProxy": router, "contractMethod": "swapExactAmountIn",
             "srcUSD": "3000", "destUSD": "2991", "partner": "anon", "maxImpactReached": False, "hmac": "ab"}
    tx = {"from": WALLET, "to": router, "value": "0", "data": calldata(chain, "paraswap"), "gasPrice": "1000000000",
          "chainId": chain.chain_id}
    return {"priceRoute": route}, tx


def odos(chain: ChainConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    weth, usdc, router = addrs(chain, "odos")
    quote = {"inTokens": [weth.lower()], "outTokens": [usdc.lower()], "inAmounts": [str(SELL_RAW)],
             "outAmounts": [str(BUY_RAW)], "gasEstimate": 250000.0, "dataGasEstimate": 0, "gweiPerGas": 1.0,
             "gasEstimateValue": 0.75, "priceImpact": -0.3, "percentDiff": 0.0, "pathId": "p1",
             "blockNumber": 100}
    assembled = {"blockNumber": 100, "gasEstimate": 250000,
                 "inputTokens": [{"tokenAddress": weth, "amount": str(SELL_RAW)}],
                 "outputTokens": [{"tokenAddress": usdc, "amount": str(BUY_RAW)}],
                 "transaction": {"gas": 250000, "gasPrice": 1000000000, "value": "0", "to": router, "from": WALLET,
                                 "data": calldata(chain, "odos"), "nonce": 0, "chainId": chain.chain_id},
                 "simulation": None}
    return quote, assembled


def kyber(chain: ChainConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    weth, usdc, router = addrs(chain, "kyberswap")
    summary = {"tokenIn": weth, "amountIn": str(SELL_RAW), "amountInUsd": "3000", "tokenOut": usdc,
               "amountOut": str(BUY_RAW), "amountOutUsd": "2991", "gas": "250000", "gasPrice": "1000000000",
               "gasUsd": "0.75", "route": [[{"pool": PAIR, "tokenIn": weth, "tokenOut": usdc,
                                            "swapAmount": str(SELL_RAW), "amountOut": str(BUY_RAW),
                                            "exchange": "uniswap", "poolType": "uniswap-v2"}]],
               "routeID": "r1", "checksum": "c1", "timestamp": 1}
    routes = {"code": 0, "message": "successfully", "data": {"routeSummary": summary, "routerAddress": router},
              "requestId": "q"}
    build = {"code": 0, "message": "successfully",
             "data": {"amountIn": str(SELL_RAW), "amountInUsd": "3000", "amountOut": str(BUY_RAW),
                      "amountOutUsd": "2991", "gas": "250000", "gasUsd": "0.75", "data": calldata(chain, "kyberswap"),
                      "routerAddress": router, "transactionValue": "0"}, "requestId": "b"}
    return routes, build


def clone(body: Any) -> Any:
    return copy.deepcopy(body)
