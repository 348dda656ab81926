"""``backtest --prices FILE``: the user's closes, long or wide, daily or hourly — what is read, what is refused.

Each file is a small slice written to tmp_path (some derived from the repository's data/ files); every refusal is
a ``ConfigError`` (exit 2) whose one line names the file, the line or value, and the fix."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from agent.errors import ConfigError
from agent.research.data import DAILY_PRICES, DATA_DIR, PriceTable, load_prices
from agent.research.userprices import AssetsMissing
from tests.user_files import one_line_error
from tests.user_files import write as write_file

DAILY = "date,asset,close\n2021-01-01,ETH,700\n2021-01-02,ETH,710\n2021-01-03,ETH,720\n"


def write(tmp_path: Path, text: str | bytes, name: str = "mine.csv") -> Path:
    return write_file(tmp_path, text, name)


def load(path: Path, symbols: tuple[str, ...] = ("ETH",), **kw: Any) -> PriceTable:
    return load_prices(list(symbols), None, None, interval=kw.pop("interval", None), prices=path, **kw)


def refused(path: Path, *words: str, symbols: tuple[str, ...] = ("ETH",), **kw: Any) -> str:
    return one_line_error(lambda: load(path, symbols, **kw), *words)


def test_long_daily_file_is_read_with_its_name_and_rows(tmp_path: Path) -> None:
    t = load(write(tmp_path, DAILY))
    assert t.dates == (date(2021, 1, 1), date(2021, 1, 2), date(2021, 1, 3))
    assert t.closes == {"ETH": (700.0, 710.0, 720.0)} and t.interval == "1d"
    assert t.source == "mine.csv" and t.rows_read == 3 and t.path == str(tmp_path / "mine.csv")


def test_wide_file_with_bom_crlf_any_case_aliases_extra_columns_and_rows_in_any_order(tmp_path: Path) -> None:
    text = ("\ufeffDATE,wbtc,Eth,volume\r\n2021-01-03,32000,720,9\r\n2021-01-01,30000,700,9\r\n"
            "2021-01-02,31000,710,9\r\n")
    t = load(write(tmp_path, text), ("WETH", "WBTC"))
    assert t.closes == {"BTC": (30000.0, 31000.0, 32000.0), "ETH": (700.0, 710.0, 720.0)}


def test_identical_duplicate_rows_are_fine(tmp_path: Path) -> None:
    t = load(write(tmp_path, DAILY + "2021-01-02,ETH,710\n"))
    assert t.closes["ETH"] == (700.0, 710.0, 720.0)


@pytest.mark.parametrize("stamps", [
    ("2021-01-01T00:00:00Z", "2021-01-01T01:00:00Z", "2021-01-01T02:00:00Z"),
    ("2021-01-01T02:00:00+02:00", "2021-01-01T03:00:00+02:00", "2021-01-01T04:00:00+02:00"),
    ("1609459200", "1609462800", "1609466400"),
    ("1609459200000", "1609462800000", "1609466400000"),
])
def test_hourly_bars_from_iso_offsets_and_unix_seconds_are_inferred(tmp_path: Path, stamps: tuple[str, ...]) -> None:
    rows = "".join(f"{s},{700 + i}\n" for i, s in enumerate(stamps))
    t = load(write(tmp_path, "timestamp,ETH\n" + rows))
    assert t.interval == "1h" and t.dates[0] == datetime(2021, 1, 1, tzinfo=UTC)
    assert len(t.dates) == 3


def test_daily_timestamps_take_their_own_day(tmp_path: Path) -> None:
    rows = "2021-01-01T00:00:00+02:00,700\n2021-01-02T00:00:00+02:00,710\n"
    t = load(write(tmp_path, "timestamp,ETH\n" + rows))
    assert t.interval == "1d" and t.dates == (date(2021, 1, 1), date(2021, 1, 2))


def test_a_slice_of_the_bundled_daily_file_gives_the_bundled_closes(tmp_path: Path) -> None:
    with open(DATA_DIR / DAILY_PRICES, newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if "2020-03-01" <= r["date"] <= "2020-03-31"
                and r["asset"] in ("ETH", "BTC", "USDC")]
    text = "date,asset,close,source\n" + "".join(f"{r['date']},{r['asset']},{r['close']},x\n" for r in rows[::-1])
    mine = load_prices(["ETH", "WBTC", "USDC"], None, None, interval=None, prices=write(tmp_path, text))
    bundled = load_prices(["ETH", "WBTC", "USDC"], date(2020, 3, 1), date(2020, 3, 31))
    assert mine.closes == bundled.closes and mine.dates == bundled.dates


def test_interval_given_must_match_the_file(tmp_path: Path) -> None:
    refused(write(tmp_path, DAILY), "--interval 1h", "mine.csv", "daily", "--interval 1d", interval="1h")
    assert load(write(tmp_path, DAILY), interval="1d").interval == "1d"


def test_spacing_neither_daily_nor_hourly_is_refused(tmp_path: Path) -> None:
    text = "timestamp,ETH\n2021-01-01T00:00:00Z,1\n2021-01-01T00:05:00Z,2\n"
    refused(write(tmp_path, text), "mine.csv", "line 2", "line 3", "5 min", "resample")


def test_hourly_bar_off_the_hour_is_refused(tmp_path: Path) -> None:
    text = "timestamp,ETH\n2021-01-01T00:00:00Z,1\n2021-01-01T01:00:00Z,2\n2021-01-01T02:30:00Z,2\n"
    refused(write(tmp_path, text), "mine.csv line 4", "not on the hour")


def test_missing_time_column_is_refused(tmp_path: Path) -> None:
    refused(write(tmp_path, "day_of,ETH\n2021-01-01,1\n"), "mine.csv line 1", "no time column", "date or timestamp")


def test_long_file_without_close_column_is_refused(tmp_path: Path) -> None:
    refused(write(tmp_path, "date,asset,usd\n2021-01-01,ETH,1\n"), "mine.csv line 1", "(no close)")


@pytest.mark.parametrize("value", ["01/02/2021", "yesterday", ""])
def test_unparsable_date_names_file_and_line(tmp_path: Path, value: str) -> None:
    refused(write(tmp_path, DAILY + f"{value},ETH,730\n"), "mine.csv line 5", "YYYY-MM-DD")


@pytest.mark.parametrize(("value", "why"), [("abc", "not a number"), ("", "not a number"), ("0", "positive"),
                                            ("-3", "positive"), ("nan", "positive"), ("inf", "positive")])
def test_bad_close_names_file_line_asset_and_value(tmp_path: Path, value: str, why: str) -> None:
    refused(write(tmp_path, DAILY + f"2021-01-04,ETH,{value}\n"), "mine.csv line 5", "ETH close", why)


def test_bad_close_in_a_wide_file_is_refused(tmp_path: Path) -> None:
    refused(write(tmp_path, "date,ETH\n2021-01-01,700\n2021-01-02,NaN\n"), "mine.csv line 3", "ETH close")


def test_conflicting_duplicates_are_refused_with_both_lines(tmp_path: Path) -> None:
    refused(write(tmp_path, DAILY + "2021-01-02,ETH,999\n"), "mine.csv lines 3 and 5", "710", "999")


def test_a_target_absent_from_the_file_is_refused_naming_what_it_has(tmp_path: Path) -> None:
    with pytest.raises(AssetsMissing) as exc:
        load(write(tmp_path, DAILY), ("ETH", "LINK"))
    assert "TARGETS: LINK" in str(exc.value) and "mine.csv" in str(exc.value) and "it has ETH" in str(exc.value)
    assert exc.value.missing == ("LINK",)


def test_a_gap_is_refused_naming_the_first_missing_bar_and_how_many(tmp_path: Path) -> None:
    text = "date,ETH\n2021-01-01,700\n2021-01-02,710\n2021-01-05,740\n2021-01-06,750\n"
    refused(write(tmp_path, text), "mine.csv", "ETH has no close for 2021-01-03", "2 bars missing",
            "--fill-gaps forward")


def test_fill_gaps_forward_carries_the_last_close_and_warns_the_count(tmp_path: Path) -> None:
    text = "date,ETH\n2021-01-01,700\n2021-01-02,710\n2021-01-05,740\n2021-01-06,750\n"
    t = load(write(tmp_path, text), fill_gaps="forward")
    assert t.closes["ETH"] == (700.0, 710.0, 710.0, 710.0, 740.0, 750.0)
    assert any("2 bars" in w and "ETH 2 from 2021-01-03" in w for w in t.warnings)


def test_fill_gaps_takes_only_forward_and_only_with_a_file(tmp_path: Path) -> None:
    refused(write(tmp_path, DAILY), "--fill-gaps", "forward", fill_gaps="linear")
    with pytest.raises(ConfigError, match=r"--fill-gaps: .*--prices"):
        load_prices(["ETH"], None, None, fill_gaps="forward")


def test_a_pegged_stable_with_a_gap_is_not_a_gap(tmp_path: Path) -> None:
    text = "date,ETH,USDC\n2021-01-01,700,1\n2021-01-02,710,\n2021-01-03,720,1\n"
    t = load(write(tmp_path, text), ("ETH", "USDC"))
    assert t.closes["USDC"] == (1.0, 1.0, 1.0)
    refused(write(tmp_path, text), "USDC has no close for 2021-01-02", symbols=("ETH", "USDC"),
            stable_price="market")


def test_one_common_bar_is_too_few(tmp_path: Path) -> None:
    text = "date,ETH,BTC\n2021-01-01,700,\n2021-01-02,710,30000\n"
    refused(write(tmp_path, text), "--prices: mine.csv", "at least two", symbols=("ETH", "BTC"))


def test_an_asset_ending_early_is_warned_and_the_range_stops_there(tmp_path: Path) -> None:
    text = "date,ETH,BTC\n2021-01-01,700,1\n2021-01-02,710,2\n2021-01-03,720,3\n2021-01-04,,4\n"
    t = load(write(tmp_path, text), ("ETH",))
    assert t.dates[-1] == date(2021, 1, 3)
    assert any("ETH's data ends 2021-01-03" in w for w in t.warnings)


def test_from_before_the_file_is_refused_naming_from(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"--from: 2020-12-01 .* --from 2021-01-01"):
        load_prices(["ETH"], date(2020, 12, 1), None, interval=None, prices=write(tmp_path, DAILY))


@pytest.mark.parametrize(("content", "words"), [
    (b"", ("mine.csv is empty",)),
    (b"date,ETH\n", ("no rows",)),
    (b"date,ETH\n2021-01-01,7\xff00\n", ("not UTF-8",)),
])
def test_empty_header_only_and_binary_files_are_refused(tmp_path: Path, content: bytes,
                                                        words: tuple[str, ...]) -> None:
    refused(write(tmp_path, content), "--prices", *words)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    refused(tmp_path / "none.csv", "--prices", "none.csv does not exist")


def test_pandas_index_column_and_utc_suffix_are_read(tmp_path: Path) -> None:
    text = ",ETH\n2021-01-01 00:00:00 UTC,700\n2021-01-02 00:00:00+00:00,710\n2021-01-03 00:00:00,720\n"
    t = load(write(tmp_path, text))
    assert t.interval == "1d" and t.dates == (date(2021, 1, 1), date(2021, 1, 2), date(2021, 1, 3))


def test_a_stray_intraday_row_in_a_daily_file_is_refused_by_its_line(tmp_path: Path) -> None:
    """The typical spacing decides daily; the snapshot taken later on the last day is a second close for it."""
    text = ("timestamp,ETH\n2021-01-01T00:00:00Z,700\n2021-01-02T00:00:00Z,710\n2021-01-03T00:00:00Z,720\n"
            "2021-01-03T13:45:00Z,725\n")
    refused(write(tmp_path, text), "mine.csv lines 4 and 5", "two different ETH closes for 2021-01-03")


def test_quote_suffixes_and_coin_ids_name_the_asset(tmp_path: Path) -> None:
    wide = "date,BTC-USD,eth/usdt,btc_volume\n2021-01-01,30000,700,5\n2021-01-02,31000,710,5\n"
    t = load(write(tmp_path, wide), ("WBTC", "ETH"))
    assert t.closes == {"BTC": (30000.0, 31000.0), "ETH": (700.0, 710.0)}
    long = "date,coin,asset,price\n2021-01-01,x,bitcoin,30000\n2021-01-01,x,usd-coin,1\n2021-01-02,x,bitcoin,31000\n" \
           "2021-01-02,x,usd-coin,1\n"
    t = load(write(tmp_path, long), ("WBTC", "USDC"))
    assert t.closes == {"BTC": (30000.0, 31000.0), "USDC": (1.0, 1.0)}


def test_semicolon_file_with_decimal_commas_and_exchange_pairs(tmp_path: Path) -> None:
    """A spreadsheet saved in a decimal-comma locale; an exchange's pair names (ETHUSDT) when ETH is wanted."""
    text = "timestamp;symbol;close\n2021-01-01;ETHUSDT;730,37\n2021-01-02;ETHUSDT;774,5\n2021-01-01;TUSD;1\n"
    t = load(write(tmp_path, text))
    assert t.closes == {"ETH": (730.37, 774.5)}
    with pytest.raises(AssetsMissing, match="it has ETH, TUSD"):  # TUSD is not T + USD
        load(write(tmp_path, text), ("ETH", "T"))


def test_bars_after_the_gas_history_are_warned_and_gas_gwei_0_needs_no_eth(tmp_path: Path) -> None:
    from agent.research.backtest import CostModel, backtest_document, run_backtest
    from strategies.threshold import ThresholdStrategy

    text = "date,BTC,USDC\n2030-01-01,100000,1\n2030-01-02,101000,1\n2030-01-03,102000,1\n"
    t = load(write(tmp_path, text), ("BTC", "USDC"))
    targets = {"BTC": Decimal(50), "USDC": Decimal(50)}
    strategy = ThresholdStrategy(band_pp=Decimal(5), band_rel_pct=Decimal(0), emergency_band_pp=Decimal(15))
    with pytest.raises(ConfigError, match=r"--prices: gas is paid in ETH, which mine.csv has no closes for"):
        run_backtest(strategy, t, targets)
    free = CostModel(gas_gwei=0)
    run, hold = run_backtest(strategy, t, targets, model=free)
    doc = backtest_document([run], hold, t, targets, free)
    assert doc["prices"]["source"] == "mine.csv" and doc["warnings"] == []
    doc = backtest_document([run], hold, t, targets, CostModel())
    assert any("ends 2025-11-22" in w for w in doc["warnings"])


def test_btc_not_a_target_does_not_narrow_the_file_range_and_its_benchmark_is_left_out(tmp_path: Path) -> None:
    from agent.research.backtest import CostModel
    from agent.research.job import Job, run_job
    from strategies.threshold import ThresholdStrategy

    text = "date,ETH,USDC,BTC\n2021-01-01,700,1,\n2021-01-02,710,1,30000\n2021-01-03,720,1,31000\n"
    strategy = ThresholdStrategy(band_pp=Decimal(5), band_rel_pct=Decimal(0), emergency_band_pp=Decimal(15))
    job = Job([strategy], {"ETH": Decimal(50), "USDC": Decimal(50)}, None, None, 10_000.0, CostModel(), interval=None,
              prices=write(tmp_path, text))
    doc, *_ = run_job(job)
    assert doc["from"] == "2021-01-01" and doc["bars"] == 3
    assert "BTC only" not in [b["strategy"] for b in doc["benchmarks"]]
    assert any("BTC only benchmark is left out: BTC's closes in mine.csv cover only" in w for w in doc["warnings"])
    doc, *_ = run_job(Job([strategy], {"ETH": Decimal(50), "USDC": Decimal(50)}, date(2021, 1, 2), None, 10_000.0,
                          CostModel(), interval=None, prices=write(tmp_path, text)))
    assert "BTC only" in [b["strategy"] for b in doc["benchmarks"]] and doc["warnings"] == []



def test_a_gap_in_btc_not_a_target_leaves_its_benchmark_out_with_the_first_missing_bar(tmp_path: Path) -> None:
    from agent.research.backtest import CostModel
    from agent.research.job import Job, run_job
    from strategies.threshold import ThresholdStrategy

    text = "date,ETH,USDC,BTC\n2021-01-01,700,1,30000\n2021-01-02,710,1,\n2021-01-03,720,1,31000\n"
    strategy = ThresholdStrategy(band_pp=Decimal(5), band_rel_pct=Decimal(0), emergency_band_pp=Decimal(15))
    doc, *_ = run_job(Job([strategy], {"ETH": Decimal(50), "USDC": Decimal(50)}, None, None, 10_000.0, CostModel(),
                          interval=None, prices=write(tmp_path, text)))
    assert doc["bars"] == 3 and "BTC only" not in [b["strategy"] for b in doc["benchmarks"]]
    assert "the BTC only benchmark is left out: BTC has no close for 2021-01-02 in mine.csv (1 bar missing)" in \
        doc["warnings"]

def test_a_spreadsheet_serial_date_is_refused_with_its_fix(tmp_path: Path) -> None:
    refused(write(tmp_path, "date,ETH\n44197,700\n44198,710\n"), "mine.csv line 2", "'44197'", "serial day",
            "YYYY-MM-DD")


def test_a_file_with_many_other_assets_names_a_few_of_them(tmp_path: Path) -> None:
    header = "date," + ",".join(f"C{i:02d}" for i in range(30))
    rows = "".join(f"\n2021-01-0{d}," + ",".join(["1"] * 30) for d in (1, 2))
    line = refused(write(tmp_path, header + rows + "\n"), "TARGETS: ETH", "C00, C01", "and 18 more")
    assert "C29" not in line


def test_two_columns_of_one_asset_must_agree(tmp_path: Path) -> None:
    assert load(write(tmp_path, "date,ETH,WETH\n2021-01-01,700,700\n2021-01-02,710,710\n")).closes["ETH"] == (700, 710)
    refused(write(tmp_path, "date,ETH,WETH\n2021-01-01,700,699.5\n2021-01-02,710,710\n"), "mine.csv line 2",
            "two columns are ETH", "keep one column")
