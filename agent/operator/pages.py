"""Server-rendered HTML of the dashboard's pages (escaped f-strings; charts from ``charts.py``)."""

from __future__ import annotations

from html import escape
from typing import Any

from agent.operator import charts

NAV = (("/", "Allocation"), ("/drift", "Drift"), ("/approvals", "Approvals"), ("/trades", "Trades"),
       ("/execution", "Gas & TWAP"), ("/journal", "Journal"))
CSS = """
body{font-family:system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:10px 20px;display:flex;gap:18px;align-items:center;flex-wrap:wrap}
header a{color:#cfd8ff;text-decoration:none}header a.on{color:#fff;font-weight:600}
main{padding:16px 20px;max-width:1200px}h1{font-size:1.3em}h2{font-size:1.1em;margin-top:1.4em}
table{border-collapse:collapse;background:#fff;margin:8px 0;font-size:.9em}
td,th{border:1px solid #dde1e8;padding:4px 8px;text-align:left;vertical-align:top}
code,.hash{font-family:ui-monospace,monospace;font-size:.85em;word-break:break-all}
.msg{padding:8px 12px;border-radius:4px;margin:8px 0}.ok{background:#e3f6e8}.err{background:#fde5e5}
.badge{padding:1px 6px;border-radius:8px;background:#e8ebf2}.pending{background:#fff1c7}
button{padding:4px 10px;margin-right:6px;cursor:pointer}form.inline{display:inline}
.auth{margin-left:auto;font-size:.9em}
"""


def e(value: Any) -> str:
    return escape("" if value is None else str(value))


def layout(title: str, body: str, *, path: str, authed: bool, csrf: str, message: str = "") -> str:
    nav = " ".join(f'<a href="{href}" class="{"on" if href == path else ""}">{e(label)}</a>' for href, label in NAV)
    auth = (f'<form class="inline" method="post" action="/logout"><input type="hidden" name="csrf" value="{e(csrf)}">'
            '<span>signed in</span> <button id="logout">sign out</button></form>' if authed else
            '<a href="/login" id="login-link">sign in with the token</a>')
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{e(title)} — rebalancer</title>'
            f'<meta name="viewport" content="width=device-width"><style>{CSS}</style>'
            '<script src="/static/plotly.min.js"></script></head><body>'
            f'<header><strong>rebalancer</strong> {nav}<span class="auth">{auth}</span></header>'
            f'<main><h1>{e(title)}</h1>{message}{body}</main></body></html>')


def table(headers: list[str], rows: list[list[str]], *, table_id: str = "") -> str:
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    empty = "" if rows else f'<tr><td colspan="{len(headers)}">none</td></tr>'
    return f'<table id="{e(table_id)}"><thead><tr>{head}</tr></thead><tbody>{body}{empty}</tbody></table>'


def allocation_page(alloc: dict[str, Any] | None, values: list[tuple[str, float]], pending: int) -> str:
    if alloc is None:
        return "<p>No cycle journaled yet: run the agent (<code>rebalancer run</code>) first.</p>"
    d = alloc["detail"]
    rows = [[e(a["symbol"]), f'{float(a.get("usd", 0)):,.2f}', f'{float(a["weight_pct"]):.2f}',
             f'{float(a["target_pct"]):.2f}', f'{float(a["drift_pp"]):+.2f}'] for a in d["assets"]]
    note = f'<p class="msg pending">{pending} plan(s) waiting for approval: <a href="/approvals">decide</a></p>' \
        if pending else ""
    return (f'{note}<p>Total <strong id="total-usd">${float(d["total_usd"]):,.2f}</strong> at {e(d.get("at"))} '
            f'(cycle {e(d.get("cycle_id"))})</p>'
            + table(["asset", "USD", "weight %", "target %", "drift pp"], rows, table_id="allocation")
            + charts.allocation_chart(d["assets"]) + charts.value_chart(values))


def drift_page(history: dict[str, list[tuple[str, float]]]) -> str:
    if not history:
        return "<p>No cycle journaled yet.</p>"
    return charts.drift_chart(history) + table(
        ["asset", "cycles", "latest drift pp"],
        [[e(s), str(len(p)), f"{p[-1][1]:+.2f}"] for s, p in sorted(history.items())], table_id="drift")


def _legs(row: dict[str, Any]) -> str:
    return "<br>".join(f'{e(a["kind"])} {e(a["sell"])}→{e(a["buy"])} on {e(a["chain"])}: '
                       f'{e(a["amount_raw"])} raw (${float(a["amount_usd"]):,.2f})' for a in row["detail"]["actions"])


def approvals_page(view: dict[str, list[dict[str, Any]]], csrf: str) -> str:
    def buttons(aid: str) -> str:
        return "".join(f'<form class="inline" method="post" action="/approvals/{e(aid)}/{verb}">'
                       f'<input type="hidden" name="csrf" value="{e(csrf)}">'
                       f'<button id="{verb}-{e(aid)}">{verb}</button></form>' for verb in ("approve", "reject"))
    pending = [[f'<code>{e(r["id"])}</code>', _legs(r), f'${float(r["total_usd"]):,.2f}', e(r["expires_at"]),
                buttons(r["id"])] for r in view["pending"]]
    decided = [[f'<code>{e(r["id"])}</code>', f'<span class="badge">{e(r["status"])}</span>', _legs(r),
                e(r["decided_by"]), e(r["decided_at"]), e(r["note"])] for r in view["decided"]]
    return ("<h2>Waiting for a decision</h2>"
            + table(["id", "trades", "USD", "expires", "decide"], pending, table_id="pending")
            + "<p>An approved plan runs on the agent's next cycle, re-planned on fresh prices; if it moved more than "
              "APPROVAL_TOLERANCE_BPS from what you approved, it asks again.</p><h2>Decided</h2>"
            + table(["id", "status", "trades", "by", "at", "note"], decided, table_id="decided"))


def trades_page(rows: list[dict[str, Any]]) -> str:
    out = []
    for a in rows:
        txs = "<br>".join(f'{e(t["purpose"])} n{e(t["nonce"])} <a class="hash" href="{e(t["explorer"])}">'
                          f'{e(t["tx_hash"])}</a> {e(t["broadcast"])}/{e(t["status"])}' for t in a["attempts"])
        out.append([e(a["id"]), f'<code>{e(a["key"])}</code>', e(a["chain"]), e(a["kind"]),
                    f'<span class="badge">{e(a["state"])}</span>', txs or "—", e(a["error"])])
    return table(["id", "key", "chain", "kind", "state", "transactions (full hash → explorer)", "error"], out,
                 table_id="trades")


def execution_page(waits: list[dict[str, Any]], twaps: list[dict[str, Any]]) -> str:
    gwei = lambda w: "" if w is None else f"{int(w) / 1e9:.3f}"  # noqa: E731
    wrows = [[e(w["at"]), e(w.get("chain_id")), e(w.get("plan_id")), e(w.get("state")), gwei(w.get("base_fee_wei")),
              gwei(w.get("threshold_wei") or w.get("limit_wei")), e(w.get("blocks_waited")), e(w.get("waited_s"))]
             for w in waits]
    trows = [[f'<code>{e(t["key"])}</code>', f'{t["done"]}/{t["planned"]}', e(t["sold_raw"]), e(t["status"]),
              e(t["reason"])] for t in twaps]
    chart = charts.twap_chart(twaps) if twaps else ""
    return ("<h2>Split swaps (TWAP)</h2>" + table(["key", "chunks", "sold raw", "status", "why this many"], trows,
                                                    table_id="twap") + chart
            + "<h2>Gas waits</h2>" + table(["time", "chain", "plan", "state", "base fee gwei", "threshold gwei",
                                            "blocks", "waited s"], wrows, table_id="gas"))


def journal_page(view: dict[str, Any]) -> str:
    cycles = [[e(c["id"]), e(c["started_at"]), e(c["mode"]), e(c["status"]), e(c["note"])] for c in view["cycles"]]
    decisions = [[e(d["id"]), e(d["cycle_id"]), e(d["plan_id"]), "yes" if d["rebalance"] else "no",
                  "<br>".join(e(r) for r in d["reasons"])] for d in view["decisions"]]
    events = [[e(ev["created_at"]), e(ev["kind"]), f'<code>{e(ev["detail"])[:400]}</code>'] for ev in view["events"]]
    return (f'<p>Journal <code>{e(view["path"])}</code>; open actions: {e(", ".join(view["open_actions"]) or "none")}'
            "</p><h2>Cycles</h2>" + table(["id", "started", "mode", "status", "note"], cycles, table_id="cycles")
            + "<h2>Decisions</h2>" + table(["id", "cycle", "plan", "rebalance", "reasons"], decisions,
                                           table_id="decisions")
            + "<h2>Events</h2>" + table(["time", "kind", "detail"], events, table_id="events"))


def login_page(next_path: str) -> str:
    return ('<form method="post" action="/login" id="login-form"><p>The token is DASHBOARD_TOKEN, or the one '
            '<code>rebalancer serve</code> printed when it started.</p>'
            f'<input type="hidden" name="next" value="{e(next_path)}">'
            '<input type="password" name="token" id="token" autocomplete="off" size="50"> '
            '<button id="sign-in">sign in</button></form>')


def tx_page(attempt: dict[str, Any] | None, tx_hash: str) -> str:
    if attempt is None:
        return f"<p>No transaction <code>{e(tx_hash)}</code> in the journal.</p>"
    return table(["field", "value"], [[e(k), f"<code>{e(v)}</code>"] for k, v in attempt.items()], table_id="tx")
