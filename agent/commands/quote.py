"""``rebalancer quote --chain C --sell T --buy T --amount X [--json]``: every source's quote, its validation
verdict, and the winner (output net of gas). Nothing is signed or sent."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from agent.commands.render import Table, console, fmt_num, print_json
from agent.units import to_units

if TYPE_CHECKING:  # the CLI starts without web3: what a command needs is imported when it runs
    from agent.quotes.models import BestQuote, QuoteResult
    from agent.quotes.service import Preflight


def result_document(r: QuoteResult) -> dict[str, Any]:
    q = r.quote
    return {
        "source": r.source, "valid": r.valid, "rejected_because": r.rejected_because, "check": r.check,
        "buy_amount_raw": q.buy_amount_raw if q else None,
        "min_buy_amount_raw": q.min_buy_amount_raw if q else None,
        "gas_estimate": q.gas_estimate if q else None,
        "net_buy_amount_raw": r.net_buy_amount_raw,
        "price_impact_bps": q.price_impact_bps if q else None,
        "to": q.tx.to if q and q.tx else None, "value_wei": q.tx.value_wei if q and q.tx else None,
        "data": "0x" + q.tx.data.hex() if q and q.tx else None,
        "spender": q.spender if q else None, "block_number": q.block_number if q else None,
        "route": q.route if q else None, "elapsed_s": r.elapsed_s,
    }


def quote_document(chain: str, best: BestQuote) -> dict[str, Any]:
    req, ref = best.request, best.reference
    return {
        "chain": chain, "chain_id": req.chain_id, "taker": req.taker,
        "sell": {"symbol": req.sell_symbol, "address": req.sell_token, "decimals": req.sell_decimals,
                 "amount_raw": req.sell_amount_raw},
        "buy": {"symbol": req.buy_symbol, "address": req.buy_token, "decimals": req.buy_decimals},
        "reference": None if ref is None else {
            "buy_per_sell": ref.buy_per_sell, "expected_buy_amount_raw": ref.expected_out_raw(req),
            "gas_price_wei": ref.gas_price_wei, "block_number": ref.block_number, "source": ref.source},
        "reference_error": best.reference_error,
        "quotes": [result_document(r) for r in best.results],
        "best": result_document(best.best) if best.best else None,
    }


def _units(raw: int | None, decimals: int) -> str:
    return "—" if raw is None else fmt_num(to_units(raw, decimals), 8)


def _render(chain: str, best: BestQuote) -> None:
    req = best.request
    table = Table(title=f"{chain}: sell {_units(req.sell_amount_raw, req.sell_decimals)} {req.sell_symbol} "
                        f"for {req.buy_symbol}")
    for col in ("source", "verdict", f"buy {req.buy_symbol}", "min out", "net of gas", "gas", "impact bps",
                "reason / route"):
        table.add_column(col, justify="right" if col not in ("source", "verdict", "reason / route") else "left")
    for r in best.results:
        q = r.quote
        if best.best and r.source == best.best.source:
            verdict = "[bold green]BEST[/]"
        else:
            verdict = "[green]valid[/]" if r.valid else "[red]rejected[/]"
        table.add_row(r.source, verdict, _units(q.buy_amount_raw if q else None, req.buy_decimals),
                      _units(q.min_buy_amount_raw if q else None, req.buy_decimals),
                      _units(r.net_buy_amount_raw, req.buy_decimals), str(q.gas_estimate) if q else "—",
                      str(q.price_impact_bps) if q and q.price_impact_bps is not None else "—",
                      r.rejected_because or (q.route if q else ""))
    console.print(table)
    if best.reference is not None:
        console.print(f"on-chain reference: {best.reference.buy_per_sell:.8g} {req.buy_symbol} per {req.sell_symbol}"
                      f" ({best.reference.source})")
    else:
        console.print(f"[red]no on-chain reference[/]: {best.reference_error}")
    if best.best is None:
        console.print("[red]no valid quote[/]: every source failed or was rejected (see the reasons above)")


def _say_preflight(chain: str, first: Preflight, json_out: bool) -> None:
    req = first.request
    doc: dict[str, Any] = {
        "chain": chain, "chain_id": req.chain_id, "taker": req.taker,
        "sell": {"symbol": req.sell_symbol, "address": req.sell_token, "decimals": req.sell_decimals,
                 "amount_raw": req.sell_amount_raw},
        "buy": {"symbol": req.buy_symbol, "address": req.buy_token, "decimals": req.buy_decimals},
        "balance_raw": first.balance_raw, "refused": first.refused, "quotes": [], "best": None,
        "wrap": first.wrap.as_json() if first.wrap else None}
    if json_out:
        print_json(doc)
    elif first.refused:
        console.print(f"[red]refused[/]: {first.refused}")
    elif first.wrap:
        w = first.wrap
        console.print(f"{req.sell_symbol}→{req.buy_symbol} on {chain} is an {w.kind} (1:1 on {w.to}), not a swap: "
                      f"{_units(w.amount_raw, req.buy_decimals)} {req.buy_symbol} out; no quote source asked")
    if first.refused:
        typer.echo(f"error: {first.refused}", err=True)


def register(app: typer.Typer) -> None:
    @app.command()
    def quote(
        chain: str = typer.Option(..., "--chain", help="Chain name from CHAINS, e.g. ethereum or sandbox_a."),
        sell: str = typer.Option(..., "--sell", help="Token sold: symbol (ETH = native coin) or address."),
        buy: str = typer.Option(..., "--buy", help="Token bought: symbol or address."),
        amount: str = typer.Option(..., "--amount", help="Amount sold in token units, e.g. 1.5."),
        json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
    ) -> None:
        """Best validated quote across every enabled source (QUOTE_SOURCES); nothing is sent."""
        from agent.config.settings import load_config
        from agent.cycle.compose import wallet_address
        from agent.quotes.service import preflight, quote_best

        config = load_config()
        taker = wallet_address(config)
        first = preflight(config, chain_name=chain, sell=sell, buy=buy, amount=amount, taker=taker)
        if first.refused or first.wrap:  # above the balance: refused; ETH↔WETH: a wrap/unwrap, no source asked
            _say_preflight(chain, first, json_out)
            if first.refused:
                raise typer.Exit(1)
            return
        best = quote_best(config, chain_name=chain, sell=sell, buy=buy, amount=amount, taker=taker)
        if json_out:
            print_json(quote_document(chain, best))
        else:
            _render(chain, best)
        if best.best is None:
            raise typer.Exit(1)
