"""``bench gas --trace FILE``: a user's base-fee trace — the columns read, the interval, and every refusal (one line
naming the file, the line and the fix). Traces are small slices written to tmp_path."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from agent.devtools.bench.gas import _plan
from agent.devtools.bench.gas_trace import read_trace
from agent.devtools.sandbox.market import PER_BLOCK_CSV
from agent.errors import ConfigError
from tests.user_files import one_line_error
from tests.user_files import write as write_file


def write(tmp_path: Path, text: str | bytes, name: str = "fees.csv") -> Path:
    return write_file(tmp_path, text, name)


def refused(path: Path, *words: str) -> str:
    return one_line_error(lambda: read_trace(path), *words)


def test_a_slice_of_the_bundled_per_block_trace_reads_as_its_wei(tmp_path: Path) -> None:
    with open(PER_BLOCK_CSV, newline="") as fh:
        rows = list(csv.DictReader(fh))[:30]
    body = "".join(f"{r['block_number']},{r['base_fee_wei']},1\n" for r in rows)
    text = "block_number,base_fee_wei,gas_used\n" + body
    t = read_trace(write(tmp_path, text))
    assert t.trace.values_wei == tuple(int(r["base_fee_wei"]) for r in rows)
    assert t.kind == "per_block" and t.trace.period_s == 12.0 and t.rows == 30 and t.file == "fees.csv"
    assert "fees.csv" in t.trace.label


def test_gwei_hex_bom_crlf_and_header_case(tmp_path: Path) -> None:
    t = read_trace(write(tmp_path, "\ufeffBase_Fee_Gwei\r\n11.772309785\r\n10.5\r\n"))
    assert t.trace.values_wei == (11_772_309_785, 10_500_000_000)
    t = read_trace(write(tmp_path, "number,baseFeePerGas\n0x10,0x2540be400\n0x11,12000000000\n"))
    assert t.trace.values_wei == (10_000_000_000, 12_000_000_000) and t.kind == "per_block"


def test_a_daily_trace_is_one_entry_a_day(tmp_path: Path) -> None:
    t = read_trace(write(tmp_path, "date,avg_gas_price_wei\n2021-01-01,50000000000\n2021-01-02,60000000000\n"))
    assert t.kind == "daily" and t.trace.period_s == 86400.0 and t.trace.values_wei == (5 * 10**10, 6 * 10**10)


def test_no_base_fee_column_is_refused(tmp_path: Path) -> None:
    refused(write(tmp_path, "block,fee\n1,2\n"), "--trace: fees.csv line 1", "base_fee_wei", "baseFeePerGas")


def test_daily_without_date_is_refused(tmp_path: Path) -> None:
    refused(write(tmp_path, "avg_gas_price_wei\n5\n"), "fees.csv line 1", "date")


@pytest.mark.parametrize(("value", "why"), [("abc", "not a number"), ("", "not a number"), ("0", "positive"),
                                            ("-1", "positive"), ("NaN", "positive"), ("inf", "positive")])
def test_bad_fee_names_file_line_and_value(tmp_path: Path, value: str, why: str) -> None:
    refused(write(tmp_path, f"block_number,base_fee_wei\n1,100\n2,{value}\n"), "fees.csv line 3", "base_fee_wei", why)


def test_a_block_gap_is_refused_naming_the_first_gap(tmp_path: Path) -> None:
    text = "block_number,base_fee_wei\n10,1\n11,1\n14,1\n15,1\n17,1\n"
    refused(write(tmp_path, text), "fees.csv line 4", "block 14 follows 11", "2 blocks missing", "consecutive")


def test_a_newest_first_export_is_replayed_oldest_first_and_an_identical_repeat_counts_once(tmp_path: Path) -> None:
    trace = read_trace(write(tmp_path, "block_number,base_fee_wei\n12,30\n11,20\n11,20\n10,10\n")).trace
    assert trace.values_wei == (10, 20, 30)
    daily = read_trace(write(tmp_path, "date,avg_gas_price_wei\n2021-01-03,3\n2021-01-01,1\n2021-01-02,2\n")).trace
    assert daily.values_wei == (1, 2, 3)


def test_a_block_given_two_different_fees_is_refused_naming_both_lines(tmp_path: Path) -> None:
    refused(write(tmp_path, "block_number,base_fee_wei\n10,1\n11,1\n10,2\n"), "fees.csv line 4",
            "block 10 repeats line 2", "keep one row per block")


def test_a_day_gap_is_refused(tmp_path: Path) -> None:
    text = "date,avg_gas_price_wei\n2021-01-01,5\n2021-01-02,5\n2021-01-04,5\n"
    refused(write(tmp_path, text), "fees.csv line 4", "day 2021-01-04 follows 2021-01-02", "1 day missing")


def test_bad_block_and_bad_date_are_refused(tmp_path: Path) -> None:
    refused(write(tmp_path, "block_number,base_fee_wei\n1x,5\n"), "fees.csv line 2", "not a block number")
    refused(write(tmp_path, "date,avg_gas_price_wei\n01/02/2021,5\n"), "fees.csv line 2", "YYYY-MM-DD")


@pytest.mark.parametrize(("content", "words"), [(b"", ("is empty",)), (b"base_fee_wei\n", ("no rows",)),
                                                (b"base_fee_wei\n1\xff\n", ("not UTF-8",))])
def test_empty_header_only_and_binary_traces_are_refused(tmp_path: Path, content: bytes,
                                                         words: tuple[str, ...]) -> None:
    refused(write(tmp_path, content), "--trace", *words)


def test_a_trace_too_short_for_its_deadline_is_refused_before_any_chain_starts(tmp_path: Path) -> None:
    user = read_trace(write(tmp_path, "base_fee_wei\n" + "".join(f"{10**9 + i}\n" for i in range(30))))
    with pytest.raises(ConfigError, match=r"--trace: fees.csv has 30 entries; a deadline of 25 needs at least 227"):
        _plan((), user, None)
    assert _plan((), user, (2,))[0][2] == (2,)  # 16 of history + 3 + 1 fit in 30
    with pytest.raises(ConfigError, match="--deadlines"):
        _plan((), user, (0,))


def test_etherscan_daily_export_and_bigquery_column_names(tmp_path: Path) -> None:
    text = ('"Date(UTC)","UnixTimeStamp","Value (Wei)"\n"8/7/2015","1438905600","604684154870"\n'
            '"8/8/2015","1438992000","322713574989"\n')
    t = read_trace(write(tmp_path, text))
    assert t.kind == "daily" and t.trace.values_wei == (604684154870, 322713574989)
    t = read_trace(write(tmp_path, "number,timestamp,base_fee_per_gas\n5,2022-09-14 17:11:04 UTC,7.5E9\n6,x,8E9\n"))
    assert t.kind == "per_block" and t.trace.values_wei == (7_500_000_000, 8_000_000_000)


def test_a_tab_separated_trace_with_decimal_commas(tmp_path: Path) -> None:
    t = read_trace(write(tmp_path, "number\tbase_fee_gwei\n1\t12,5\n2\t13\n"))
    assert t.trace.values_wei == (12_500_000_000, 13_000_000_000)


def test_a_serial_day_number_is_not_a_date(tmp_path: Path) -> None:
    refused(write(tmp_path, "date,avg_gas_price_wei\n44197,5\n44198,5\n"), "fees.csv line 2", "'44197'", "YYYY-MM-DD")
