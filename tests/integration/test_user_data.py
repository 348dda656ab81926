"""The research tools on a user's own files, through the CLI in a child process: ``backtest --prices`` gives the
bundled run's figures on the same closes, its multi-path study and report name the file; bad files end in one line,
exit 2 and nothing written; ``bench gas --trace`` runs on a short slice of the bundled per-block trace."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from agent.devtools.sandbox.market import PER_BLOCK_CSV
from agent.research.data import DAILY_PRICES, DATA_DIR

CLI = [sys.executable, "-c", "from agent.cli import main; main()"]
ARGS = ["--targets", "ETH:40,WBTC:30,USDC:30", "--strategy", "threshold", "--json"]


def cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd="/tmp", timeout=timeout)


def wide_slice(path: Path, lo: str, hi: str) -> Path:
    """The bundled daily closes of BTC, ETH, USDC over [lo, hi], pivoted to one column per asset, newest first,
    with a BOM and CRLF line ends (as a spreadsheet saves it)."""
    by: dict[str, dict[str, str]] = {}
    with open(DATA_DIR / DAILY_PRICES, newline="") as fh:
        for r in csv.DictReader(fh):
            if lo <= r["date"] <= hi and r["asset"] in ("BTC", "ETH", "USDC"):
                by.setdefault(r["date"], {})[r["asset"]] = r["close"]
    lines = ["\ufeffDate,btc,WETH,USDC,note"] + [f"{d},{c['BTC']},{c['ETH']},{c['USDC']},x" for d, c in
                                                  sorted(by.items(), reverse=True)]
    path.write_bytes("\r\n".join(lines).encode() + b"\r\n")
    return path


def test_backtest_on_a_wide_file_equals_the_bundled_run_on_the_same_range(tmp_path: Path) -> None:
    mine = wide_slice(tmp_path / "closes.csv", "2021-01-01", "2022-06-30")
    own, bundled = cli("backtest", "--prices", str(mine), *ARGS), cli("backtest", "--from", "2021-01-01", "--to",
                                                                      "2022-06-30", *ARGS)
    assert own.returncode == 0 and bundled.returncode == 0, own.stderr + bundled.stderr
    a, b = json.loads(own.stdout), json.loads(bundled.stdout)
    assert a["final_usd"] == b["final_usd"] and a["from"] == b["from"] and a["to"] == b["to"]
    assert [m["final_usd"] for m in a["benchmarks"]] == [m["final_usd"] for m in b["benchmarks"]]
    assert a["prices"]["source"] == "closes.csv" and a["prices"]["rows_read"] == 546
    assert a["prices"]["file"] == str(mine) and b["prices"]["source"] == DAILY_PRICES


def test_multi_path_study_report_and_csv_on_a_user_file(tmp_path: Path) -> None:
    mine = wide_slice(tmp_path / "closes.csv", "2021-01-01", "2022-06-30")
    report, csv_dir = tmp_path / "r.html", tmp_path / "csv"
    out = cli("backtest", "--prices", str(mine), *ARGS, "--sweep", "band_pp=4:8:4", "--bootstrap", "2",
              "--walk-forward", "180:90", "--starts", "quarterly", "--report", str(report), "--csv", str(csv_dir))
    assert out.returncode == 0, out.stderr
    s = json.loads(out.stdout)["study"]
    assert s["variants"] == 2 and s["bootstrap"] == 2 and "walk_forward" in s
    assert "closes.csv (546 rows read)" in report.read_text()
    assert (csv_dir / "equity.csv").read_text().startswith("date,threshold")


@pytest.mark.parametrize(("body", "words"), [
    ("date,ETH,BTC,USDC\n2021-01-01,700,30000,1\n2021-01-02,710,31000,1\n2021-01-04,720,32000,1\n",
     ("bad.csv", "2021-01-03", "--fill-gaps forward")),
    ("date,ETH,BTC,USDC\n2021-01-01,700,30000,1\n2021-01-02,-7,31000,1\n", ("bad.csv line 3", "ETH close")),
    ("date,ETH,USDC\n2021-01-01,700,1\n2021-01-02,710,1\n", ("TARGETS: BTC", "bad.csv")),
])
def test_a_bad_price_file_is_one_line_exit_2_and_writes_nothing(tmp_path: Path, body: str,
                                                                 words: tuple[str, ...]) -> None:
    (tmp_path / "bad.csv").write_text(body)
    report, csv_dir = tmp_path / "r.html", tmp_path / "csv"
    out = cli("backtest", "--prices", str(tmp_path / "bad.csv"), *ARGS, "--report", str(report), "--csv",
              str(csv_dir), timeout=60)
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    assert all(w in lines[0] for w in words), lines[0]
    assert not report.exists() and not csv_dir.exists() and out.stdout == ""


def test_fill_gaps_forward_runs_and_warns_the_filled_bars(tmp_path: Path) -> None:
    body = "date,ETH,BTC,USDC\n2021-01-01,700,30000,1\n2021-01-02,710,31000,1\n2021-01-04,720,32000,1\n"
    (tmp_path / "gappy.csv").write_text(body)
    out = cli("backtest", "--prices", str(tmp_path / "gappy.csv"), *ARGS, "--fill-gaps", "forward", timeout=60)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    filled = "2 bars of gappy.csv (BTC 1 from 2021-01-03, ETH 1 from 2021-01-03)"
    assert doc["bars"] == 4 and any(filled in w for w in doc["warnings"])
    text = cli("backtest", "--prices", str(tmp_path / "gappy.csv"), *ARGS[:-1], "--fill-gaps", "forward", timeout=60)
    assert "prices: gappy.csv (3 rows read, gaps filled forward)" in text.stdout, text.stdout


@pytest.mark.anvil
def test_bench_gas_on_a_short_user_trace_names_it(tmp_path: Path) -> None:
    with open(PER_BLOCK_CSV, newline="") as fh:
        rows = list(csv.DictReader(fh))[:40]
    trace = tmp_path / "my_fees.csv"
    trace.write_text("number,baseFeePerGas\n" + "".join(f"{r['block_number']},{hex(int(r['base_fee_wei']))}\n"
                                                        for r in rows))
    out = cli("bench", "gas", "--trace", str(trace), "--deadlines", "2", timeout=120)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["trace_file"] == "my_fees.csv" and doc["trace_rows"] == 40 and doc["trace_kind"] == "per_block"
    [config] = doc["configs"]
    assert config["deadline"] == 2 and config["rebalances"] >= 3 and "my_fees.csv" in config["trace_label"]
    assert config["deadline_misses"] == 0


def test_bench_gas_refuses_a_broken_trace_before_starting_a_chain(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("block_number,base_fee_wei\n10,5\n12,5\n")
    out = cli("bench", "gas", "--trace", str(tmp_path / "t.csv"), timeout=60)
    assert out.returncode == 2 and out.stderr.strip().count("\n") == 0, out.stderr
    assert "t.csv line 3" in out.stderr and "block 12 follows 10" in out.stderr
