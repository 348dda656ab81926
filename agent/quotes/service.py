"""Composition for the quote layer: the enabled sources from settings, a request from CLI-style input, and
``quote_best`` that runs the whole thing for one chain."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from pydantic import SecretStr

from agent.chain.reads import NATIVE, fetch_balance
from agent.chain.rpc import ChainRpc
from agent.config.chains import NATIVE_PLACEHOLDER, ChainConfig
from agent.config.settings import AggregatorSettings, AppConfig, ExecutionSettings
from agent.errors import ConfigError
from agent.quotes.base import ClientOptions, HttpSource
from agent.quotes.best import fetch_best_quote
from agent.quotes.kyberswap import KyberSwapClient
from agent.quotes.models import BestQuote, QuoteRequest, QuoteSource
from agent.quotes.odos import OdosClient
from agent.quotes.onchain import OnchainQuoter
from agent.quotes.oneinch import OneInchClient
from agent.quotes.paraswap import ParaSwapClient
from agent.quotes.validate import Limits
from agent.quotes.wrap import WrapCall, wrap_call, wrap_kind
from agent.quotes.zerox import ZeroExClient
from agent.units import is_whole_raw
from agent.units import to_raw as units_to_raw


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def limits_from(execution: ExecutionSettings, aggregators: AggregatorSettings) -> Limits:
    return Limits(max_slippage_bps=execution.max_slippage_bps,
                  max_quote_deviation_bps=aggregators.max_quote_deviation_bps, max_swap_gas=execution.max_swap_gas)


def build_http_source(name: str, settings: AggregatorSettings, chain: ChainConfig) -> HttpSource:
    """One aggregator client configured from its ``*_API_URL`` / key settings."""
    t = settings.quote_timeout_s
    if name == "0x":
        return ZeroExClient(ClientOptions(settings.zerox_api_url, _secret(settings.zerox_api_key), t))
    if name == "1inch":
        return OneInchClient(ClientOptions(settings.oneinch_api_url, _secret(settings.oneinch_api_key), t))
    if name == "paraswap":
        return ParaSwapClient(ClientOptions(settings.paraswap_api_url, None, t))
    if name == "odos":
        return OdosClient(ClientOptions(settings.odos_api_url, _secret(settings.odos_api_key), t))
    if name == "kyberswap":
        allowed = chain.aggregators.get("kyberswap")
        slug = allowed.slug if allowed and allowed.slug else chain.name
        return KyberSwapClient(ClientOptions(settings.kyberswap_api_url, _secret(settings.kyberswap_client_id), t),
                               slug=slug)
    raise ConfigError(f"QUOTE_SOURCES: unknown source {name!r}")


def build_sources(settings: AggregatorSettings, chain: ChainConfig, rpc: ChainRpc,
                  names: Sequence[str] | None = None) -> list[QuoteSource]:
    """The sources named in QUOTE_SOURCES (or ``names``), in that order."""
    out: list[QuoteSource] = []
    for name in names or settings.quote_sources:
        out.append(OnchainQuoter(chain, rpc) if name == "onchain" else build_http_source(name, settings, chain))
    return out


@contextmanager
def open_sources(settings: AggregatorSettings, chain: ChainConfig, rpc: ChainRpc,
                 names: Sequence[str] | None = None) -> Iterator[list[QuoteSource]]:
    """``build_sources`` with one owner: every source (and its one ``httpx.Client``) is closed on leaving."""
    with ExitStack() as stack:
        sources = build_sources(settings, chain, rpc, names)
        for source in sources:
            if isinstance(source, (HttpSource, OnchainQuoter)):
                stack.enter_context(source)
        yield sources


def resolve_token(chain: ChainConfig, name: str) -> tuple[str, int, str]:
    """(address, decimals, symbol) for a symbol or address of ``chain``; the native symbol means 0xEeee…."""
    if name.upper() == chain.native_symbol.upper() or name.lower() == NATIVE_PLACEHOLDER.lower():
        return NATIVE_PLACEHOLDER, chain.native_decimals, chain.native_symbol
    token = next((t for t in chain.tokens if t.symbol.upper() == name.upper()), None)
    token = token or (chain.token_by_address(name) if name.startswith("0x") else None)
    if token is None:
        known = ", ".join([chain.native_symbol, *(t.symbol for t in chain.tokens)])
        raise ConfigError(f"token {name!r} is not on chain {chain.name}; use one of {known}")
    return token.address, token.decimals, token.symbol


def to_raw(amount: Decimal | str, decimals: int, symbol: str) -> int:
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        raise ConfigError(f"--amount {amount!r} is not a number; write e.g. --amount 1.5") from None
    if not value.is_finite() or value <= 0:
        raise ConfigError(f"--amount must be a positive number of {symbol} (got {amount})")
    if not is_whole_raw(value, decimals):
        raise ConfigError(f"--amount {amount} has more decimals than {symbol}'s {decimals}")
    return units_to_raw(value, decimals)


def build_request(chain: ChainConfig, *, sell: str, buy: str, amount: Decimal | str, taker: str,
                  slippage_bps: int) -> QuoteRequest:
    sell_addr, sell_dec, sell_sym = resolve_token(chain, sell)
    buy_addr, buy_dec, buy_sym = resolve_token(chain, buy)
    if sell_addr == buy_addr:
        raise ConfigError(f"--sell and --buy are the same token ({sell_sym}); pick two different tokens")
    return QuoteRequest(chain_id=chain.chain_id, sell_token=sell_addr, buy_token=buy_addr, sell_decimals=sell_dec,
                        buy_decimals=buy_dec, sell_amount_raw=to_raw(amount, sell_dec, sell_sym), taker=taker,
                        slippage_bps=slippage_bps, sell_symbol=sell_sym, buy_symbol=buy_sym)


@dataclass(frozen=True)
class Preflight:
    """What is said before any source is asked: the request, the taker's balance of what it sells, and either a
    refusal (``amount_above_balance``) or the wrap/unwrap call that replaces a swap (ETH↔WETH)."""

    request: QuoteRequest
    balance_raw: int
    refused: str | None = None
    wrap: WrapCall | None = None


def preflight(config: AppConfig, *, chain_name: str, sell: str, buy: str, amount: Decimal | str,
              taker: str) -> Preflight:
    """Refuse an amount above the taker's balance; answer ETH↔WETH as a wrap/unwrap (no source asked)."""
    chain, rpc = _chain_rpc(config, chain_name)
    request = build_request(chain, sell=sell, buy=buy, amount=amount, taker=taker,
                            slippage_bps=config.settings.execution.max_slippage_bps)
    token = NATIVE if request.sell_token == NATIVE_PLACEHOLDER else request.sell_token
    held = fetch_balance(rpc, token, taker)
    if request.sell_amount_raw > held:
        why = (f"the amount ({request.sell_amount_raw} raw {request.sell_symbol}) is above the wallet's balance "
               f"({held} raw) of {taker} on {chain.name}; quote at most what the wallet holds")
        return Preflight(request=request, balance_raw=held, refused=why)
    kind = wrap_kind(chain, request.sell_token, request.buy_token)
    wrap = wrap_call(chain, kind, request.sell_amount_raw) if kind else None
    return Preflight(request=request, balance_raw=held, wrap=wrap)


def _chain_rpc(config: AppConfig, chain_name: str) -> tuple[ChainConfig, ChainRpc]:
    if chain_name not in config.chains:
        raise ConfigError(f"--chain {chain_name!r} is not in CHAINS ({', '.join(config.settings.chains)}); "
                          "add it to CHAINS or pick one of those")
    s = config.settings
    chain = config.chains[chain_name]
    return chain, ChainRpc(chain, config.chain_settings[chain_name], timeout_s=s.rpc.rpc_timeout_s,
                           attempts=s.rpc.rpc_attempts)


def quote_best(config: AppConfig, *, chain_name: str, sell: str, buy: str, amount: Decimal | str,
               taker: str) -> BestQuote:
    """All enabled sources' quotes for one swap on ``chain_name``, validated, with the winner."""
    s = config.settings
    chain, rpc = _chain_rpc(config, chain_name)
    request = build_request(chain, sell=sell, buy=buy, amount=amount, taker=taker,
                            slippage_bps=s.execution.max_slippage_bps)
    with open_sources(s.aggregators, chain, rpc) as sources:
        reference = OnchainQuoter(chain, rpc).fetch_reference
        return fetch_best_quote(request, chain=chain, sources=sources, reference=reference,
                                limits=limits_from(s.execution, s.aggregators), timeout_s=s.aggregators.quote_timeout_s)
