"""The on-chain quoter: Uniswap V2 Router02 ``getAmountsOut`` (executable: ``swapExact…`` to our wallet with
min-out, spender = the router) or, on chains with only V3, QuoterV2 ``quoteExactInputSingle``.

The V3 quote tries the sell token's and the buy token's ``v3_fee`` and then every standard tier, and keeps the
tier that quotes the most; with ``uniswap_v3.swap_router02`` configured it is executable through SwapRouter02
``exactInputSingle`` at that tier (recipient = our wallet, min-out from the slippage, spender = SwapRouter02;
selling native ETH sends the amount as value with tokenIn = WETH, which SwapRouter02 wraps). SwapRouter02 pays
WETH, so buying the native coin stays quote-only (it would need a multicall with ``unwrapWETH9``), as does a
chain without SwapRouter02.

Works on any node or fork with no API key. It also supplies the reference price validation compares with:
the fee-free marginal price of each token against the chain's USD stable, as ``portfolio.valuation`` reads it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal

from agent.chain.abi import abi
from agent.chain.multicall import Call, aggregate
from agent.chain.rpc import ChainRpc
from agent.config.chains import ChainConfig, Token
from agent.errors import QuoteError
from agent.portfolio.valuation import decode_prices, plan_price_calls, price_subcalls
from agent.quotes.base import min_out_for
from agent.quotes.calldata import (
    V2_SWAP_EXACT_ETH,
    V2_SWAP_EXACT_TOKENS,
    V2_SWAP_EXACT_TOKENS_FOR_ETH,
    V3_EXACT_INPUT_SINGLE,
)
from agent.quotes.models import Quote, QuoteRequest, QuoteTx, ReferencePrice, is_native

log = logging.getLogger(__name__)
NAME = "onchain"
GET_BLOCK_NUMBER = abi("Multicall3").fn("getBlockNumber")
GET_TIMESTAMP = abi("Multicall3").fn("getCurrentBlockTimestamp")
GET_AMOUNTS_OUT = abi("UniswapV2Router02").fn("getAmountsOut")
QUOTE_EXACT_INPUT_SINGLE = abi("QuoterV2").fn("quoteExactInputSingle")
V2_GAS_BASE = 110_000
V2_GAS_PER_HOP = 70_000
V3_FEES = (500, 3000, 100, 10_000)
#: Added to QuoterV2's gasEstimate (the pool swap alone) for an executable quote: the transaction's base cost,
#: SwapRouter02's own work and the input token transfer.
V3_ROUTER_GAS = 60_000
#: QuoterV2's price limits when called with sqrtPriceLimitX96 = 0 (TickMath MIN_SQRT_RATIO + 1, MAX - 1). A quote
#: whose sqrtPriceX96After sits on one ran out of liquidity: it is a partial fill of the amount asked for, and
#: SwapRouter02 would execute just as partially (spending less than asked).
V3_PRICE_LIMITS = frozenset({4295128740, 1461446703485210103287273052203988822378723970341})


def path_token(chain: ChainConfig, address: str) -> Token:
    """The configured token at ``address`` (the wrapped native for the native placeholder)."""
    token = chain.token(chain.wrapped_native) if is_native(address) else chain.token_by_address(address)
    if token is None:
        raise QuoteError(NAME, f"token: {address} is not a token of chains/{chain.name}.toml")
    return token


def candidate_paths(chain: ChainConfig, request: QuoteRequest) -> list[list[str]]:
    """Direct, then through the wrapped native coin and the USD stable (distinct tokens only)."""
    a, b = path_token(chain, request.sell_token).address, path_token(chain, request.buy_token).address
    paths = [[a, b]]
    for via in (chain.wrapped_native, chain.usd_stable):
        mid = chain.token(via).address
        if mid not in (a, b):
            paths.append([a, mid, b])
    return paths


class OnchainQuoter:
    """``QuoteSource`` over the chain's own router/quoter, and the reference price for validation."""

    name = NAME

    def __init__(self, chain: ChainConfig, rpc: ChainRpc, *, deadline_s: int = 1800) -> None:
        self.chain = chain
        self.rpc = rpc
        self.deadline_s = deadline_s

    def fetch_quote(self, request: QuoteRequest) -> Quote:
        if self.chain.uniswap_v2 is not None:
            return self._v2_quote(request)
        return self._v3_quote(request)

    def _v2_quote(self, request: QuoteRequest) -> Quote:
        assert self.chain.uniswap_v2 is not None
        router = self.chain.uniswap_v2.router
        paths = candidate_paths(self.chain, request)
        calls = [Call(self.chain.multicall3, GET_BLOCK_NUMBER), Call(self.chain.multicall3, GET_TIMESTAMP)]
        calls += [Call(router, GET_AMOUNTS_OUT, (request.sell_amount_raw, p)) for p in paths]
        block, stamp, *outs = aggregate(self.rpc, calls)
        found = [(v[0][-1], p) for v, p in zip(outs, paths, strict=True) if v and v[0][-1] > 0]
        if not found:
            raise QuoteError(NAME, "no_liquidity: no Uniswap V2 path (direct, via "
                                   f"{self.chain.wrapped_native} or {self.chain.usd_stable}) quotes this pair")
        out, path = max(found, key=lambda f: f[0])
        min_out = min_out_for(out, request.slippage_bps)
        deadline = (stamp[0] if stamp else int(datetime.now(UTC).timestamp())) + self.deadline_s
        if request.sells_native:
            data, value = V2_SWAP_EXACT_ETH.encode(min_out, path, request.taker, deadline), request.sell_amount_raw
        elif request.buys_native:
            data, value = V2_SWAP_EXACT_TOKENS_FOR_ETH.encode(request.sell_amount_raw, min_out, path, request.taker,
                                                              deadline), 0
        else:
            data, value = V2_SWAP_EXACT_TOKENS.encode(request.sell_amount_raw, min_out, path, request.taker,
                                                      deadline), 0
        symbols = ">".join(path_token(self.chain, a).symbol for a in path)
        return Quote(source=NAME, chain_id=self.chain.chain_id, sell_token=request.sell_token,
                     buy_token=request.buy_token, sell_amount_raw=request.sell_amount_raw, buy_amount_raw=out,
                     min_buy_amount_raw=min_out, gas_estimate=V2_GAS_BASE + V2_GAS_PER_HOP * (len(path) - 1),
                     tx=QuoteTx(to=router, data=data, value_wei=value),
                     spender=None if request.sells_native else router,
                     block_number=block[0] if block else None, quoted_at=datetime.now(UTC),
                     route=f"uniswap_v2 {symbols}")

    def _v3_best(self, request: QuoteRequest, a: Token, b: Token) -> tuple[int | None, int, int, int]:
        """(block, amount out, QuoterV2 gas estimate, fee tier) of the best-quoting fee tier."""
        assert self.chain.uniswap_v3 is not None
        quoter = self.chain.uniswap_v3.quoter_v2
        fees = list(dict.fromkeys((a.v3_fee, b.v3_fee, *V3_FEES)))
        calls = [Call(self.chain.multicall3, GET_BLOCK_NUMBER)]
        calls += [Call(quoter, QUOTE_EXACT_INPUT_SINGLE, ((a.address, b.address, request.sell_amount_raw, f, 0),))
                  for f in fees]
        block, *outs = aggregate(self.rpc, calls)
        quoted = [(v, f) for v, f in zip(outs, fees, strict=True) if v and v[0] > 0]
        found = [(v[0], v[3], f) for v, f in quoted if v[1] not in V3_PRICE_LIMITS]
        partial = [f for v, f in quoted if v[1] in V3_PRICE_LIMITS]
        if not found and partial:
            raise QuoteError(NAME, f"partial_fill: QuoterV2 fills only part of {request.sell_amount_raw} raw "
                                   f"{a.symbol} → {b.symbol} at fee(s) {partial} (the pool runs out of liquidity "
                                   "before the whole amount); refusing this size: trade less or split it")
        if not found:
            raise QuoteError(NAME, f"no_liquidity: QuoterV2 has no pool for {a.symbol}/{b.symbol} at fees {fees}")
        if partial:
            log.info("QuoterV2 %s>%s: fee tier(s) %s fill only part of the amount; not used", a.symbol, b.symbol,
                     partial)
        out, gas, fee = max(found, key=lambda f: f[0])
        return (block[0] if block else None), out, gas, fee

    def _v3_quote(self, request: QuoteRequest) -> Quote:
        assert self.chain.uniswap_v3 is not None
        a, b = path_token(self.chain, request.sell_token), path_token(self.chain, request.buy_token)
        block, out, gas, fee = self._v3_best(request, a, b)
        min_out = min_out_for(out, request.slippage_bps)
        router = self.chain.uniswap_v3.swap_router02
        tx, spender, how = None, None, "QuoterV2"
        if router is None:
            how += " (quote only: no uniswap_v3.swap_router02)"
        elif request.buys_native:
            how += " (quote only: SwapRouter02 pays WETH, not the native coin)"
        else:
            data = V3_EXACT_INPUT_SINGLE.encode((a.address, b.address, fee, request.taker, request.sell_amount_raw,
                                                 min_out, 0))
            tx = QuoteTx(to=router, data=data, value_wei=request.sell_amount_raw if request.sells_native else 0)
            spender = None if request.sells_native else router
            gas, how = gas + V3_ROUTER_GAS, "SwapRouter02 exactInputSingle"
        return Quote(source=NAME, chain_id=self.chain.chain_id, sell_token=request.sell_token,
                     buy_token=request.buy_token, sell_amount_raw=request.sell_amount_raw, buy_amount_raw=out,
                     min_buy_amount_raw=min_out, gas_estimate=gas, tx=tx, spender=spender, block_number=block,
                     quoted_at=datetime.now(UTC), route=f"uniswap_v3 {how} {a.symbol}>{b.symbol} fee {fee}")

    def v3_impact_bps(self, request: QuoteRequest) -> Decimal | None:
        """Price impact of this trade at its own size on the best V3 tier, in bps (fee excluded): QuoterV2 at
        the full amount against a 1/10,000 probe, in one batch. A partial fill is 10,000 (the pool cannot take
        it). None where there is no V3 quoter or no pool.

        Concentrated liquidity makes a two-size curve fit meaningless (a narrow range looks infinitely deep
        until it runs out), so on V3 this is what ``est_impact_bps`` should be.
        """
        if self.chain.uniswap_v3 is None:
            return None
        a, b = path_token(self.chain, request.sell_token), path_token(self.chain, request.buy_token)
        quoter = self.chain.uniswap_v3.quoter_v2
        fees = list(dict.fromkeys((a.v3_fee, b.v3_fee, *V3_FEES)))
        probe = max(1, request.sell_amount_raw // 10_000)
        calls = [Call(quoter, QUOTE_EXACT_INPUT_SINGLE, ((a.address, b.address, amount, f, 0),))
                 for f in fees for amount in (probe, request.sell_amount_raw)]
        values = aggregate(self.rpc, calls)
        best: Decimal | None = None
        for i, _fee in enumerate(fees):
            small, big = values[2 * i], values[2 * i + 1]
            if not small or small[0] <= 0:
                continue
            if not big or big[0] <= 0 or big[1] in V3_PRICE_LIMITS:
                impact = Decimal(10_000)
            else:
                marginal = Decimal(small[0]) / probe
                impact = max(Decimal(0), (1 - Decimal(big[0]) / request.sell_amount_raw / marginal) * 10_000)
            best = impact if best is None else min(best, impact)
        return best

    def fetch_reference(self, request: QuoteRequest) -> ReferencePrice:
        """Marginal prices of the sell token, the buy token and the native coin in USD → buy per sell."""
        wanted = {path_token(self.chain, request.sell_token).symbol, path_token(self.chain, request.buy_token).symbol,
                  self.chain.wrapped_native}
        price_calls = [c for c in plan_price_calls(self.chain) if c.symbol in wanted]
        subcalls = price_subcalls(price_calls)
        calls = [Call(self.chain.multicall3, GET_BLOCK_NUMBER)] + [call for call, _ in subcalls]
        block, *values = aggregate(self.rpc, calls)
        prices = decode_prices(self.chain, price_calls,
                               {key: v for (_, key), v in zip(subcalls, values, strict=True)})
        sell = prices.get(path_token(self.chain, request.sell_token).symbol)
        buy = prices.get(path_token(self.chain, request.buy_token).symbol)
        if sell is None or buy is None:
            raise QuoteError(NAME, "no_reference: the on-chain quoter could not price "
                                   f"{request.sell_symbol or request.sell_token} and "
                                   f"{request.buy_symbol or request.buy_token}")
        native = prices.get(self.chain.wrapped_native)
        gas_price = int(self.rpc.read(lambda w3: w3.eth.gas_price, what="gas price"))
        return ReferencePrice(buy_per_sell=sell.usd / buy.usd,
                              buy_per_native=native.usd / buy.usd if native else None,
                              gas_price_wei=gas_price, block_number=block[0] if block else None,
                              source=f"{sell.source}; {buy.source}")

