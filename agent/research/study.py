"""The multi-path study behind ``--starts``, ``--sweep``, ``--bootstrap`` and ``--walk-forward``.

Variants (each strategy × each swept value) and the benchmarks run on every path (each start date on the real
prices or on each block-bootstrap path); the document gives each variant's distribution against each benchmark, the
deflated Sharpe of the best variant on the real prices counting every variant tried, the PBO of the selection (CSCV)
and a plain sentence when nothing is significant. Walk-forward picks the variant with the best Sharpe on each
trailing training window — simulated on a market cut at the window's end, so it cannot read what follows — and
scores it only on the next test window; the test windows are chained.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from agent.errors import ConfigError
from agent.research.engine import Costs, Market, Spec, simulate
from agent.research.fastpath import window
from agent.research.parallel import run_many
from agent.research.paths import benchmarks, block_bootstrap, compare, parse_sweep, path_figures, start_indices
from agent.research.stats import dsr_of_best, pbo

SIGNIFICANT = 0.95


@dataclass(frozen=True)
class StudyOptions:
    starts: str | None = None
    sweeps: Sequence[str] = ()
    bootstrap: int = 0
    block_bars: int = 30
    seed: int = 16
    walk_forward: str | None = None
    workers: int = 1
    cluster: str | None = None
    min_bars: int = 365
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def multi(self) -> bool:
        return bool(self.starts or self.sweeps or self.bootstrap or self.walk_forward)


#: the settings each rule reads (a sweep of another setting leaves that rule's runs as they are: no false trials)
READS = {"threshold": {"band_pp", "band_rel_pct", "min_trade_usd"},
         "calendar": {"interval_hours", "min_drift_pp", "min_trade_usd"},
         "hybrid": {"interval_hours", "min_drift_pp", "emergency_band_pp", "min_trade_usd"}}


def variants(base: Sequence[Spec], sweeps: Sequence[str]) -> list[Spec]:
    """Each base spec with every combination of the swept values it reads (their names carry the values)."""
    out = list(base)
    for text in sweeps:
        key, values = parse_sweep(text)
        out = [v for s in out for v in ([s.with_(name=f"{s.name} {key}={x:g}", **{key: x}) for x in values]
                                        if key in READS.get(s.kind, set()) else [s])]
    return out


def slice_market(market: Market, lo: int, hi: int) -> Market:
    """The bars [lo, hi) only: a run on it cannot see anything later."""
    return replace(market, closes=market.closes[:, lo:hi].copy(), gas_usd_per_unit=market.gas_usd_per_unit[lo:hi],
                   times=market.times[lo:hi] if market.times is not None else None)


def _sharpes(values: np.ndarray) -> np.ndarray:
    rets = values[:, 1:] / values[:, :-1] - 1
    sd = rets.std(axis=1)
    return np.where(sd > 0, rets.mean(axis=1) / np.where(sd > 0, sd, 1), -np.inf)


def walk_forward(specs: Sequence[Spec], bench: Sequence[Spec], market: Market, costs: Costs, train: int,
                 test: int) -> dict[str, Any]:
    """Choose on each trailing ``train`` bars, score on the next ``test`` bars; windows step by ``test``."""
    if train < 2 or test < 2 or train + test > market.bars:
        raise ConfigError(f"--walk-forward: {train}:{test} bars do not fit in the {market.bars} bars of the range; "
                          "shorten TRAIN:TEST or widen --from/--to")
    windows: list[Any] = []
    oos: dict[str, list[Any]] = {name: [] for name in ["walk-forward", *(b.name for b in bench)]}
    for a in range(0, market.bars - train - test + 1, test):
        seen = slice_market(market, a, a + train)
        res = simulate([window(s, a, a + train).with_(start=0, end=-1) for s in specs], seen, costs)
        best = int(np.argmax(_sharpes(res.values)))
        ahead = slice_market(market, a + train, a + train + test)
        scored = simulate([window(specs[best], a + train, a + train + test).with_(start=0, end=-1),
                           *(b.with_(start=0, end=-1) for b in bench)], ahead, costs)
        for name, row in zip(oos, scored.values, strict=True):
            oos[name].append(row[1:] / row[:-1] - 1)
        t = market.times
        windows.append({"train": [_d(t, a), _d(t, a + train - 1)],
                        "test": [_d(t, a + train), _d(t, a + train + test - 1)], "chosen": specs[best].name})
    out: dict[str, Any] = {"train_bars": train, "test_bars": test, "windows": windows, "out_of_sample": {}}
    for name, parts in oos.items():
        r = np.concatenate(parts)
        sd = float(r.std())
        out["out_of_sample"][name] = {
            "final_usd": round(costs.initial_usd * float(np.prod(1 + r)), 2),
            "sharpe": round(float(r.mean() / sd * np.sqrt(market.bars_per_year)), 3) if sd else None}
    return out


def _d(times: Any, i: int) -> str:
    return str(times[i])[:16] if times is not None else str(i)


def study(base: Sequence[Spec], targets: Mapping[str, float], btc_column: str | None, market: Market, costs: Costs,
          opts: StudyOptions) -> dict[str, Any]:
    """The ``paths`` block of the JSON document."""
    specs = variants(base, opts.sweeps)
    bench = benchmarks(targets, btc_column)
    real = market
    if opts.bootstrap:
        signal = [s.name for s in specs if s.kind == "signal"]
        if signal:
            raise ConfigError(f"--bootstrap: {', '.join(signal)} reads its signals from the real prices; run it with "
                              "--starts/--walk-forward (bootstrap paths take threshold, calendar or hybrid)")
        market = replace(market, closes=block_bootstrap(market.closes[0], opts.bootstrap, opts.block_bars, opts.seed))
    if opts.starts and not market.times:
        raise ConfigError("--starts: these closes carry no dates to pick start bars from; drop --starts")
    starts = start_indices(market.times or (), opts.starts, opts.min_bars) if opts.starts else [0]
    grid = [(p, s) for p in range(market.closes.shape[0]) for s in starts]
    runs = [x.with_(start=s, path=p) for x in [*specs, *bench] for p, s in grid]
    res = run_many(runs, market, costs, workers=opts.workers, cluster=opts.cluster)
    figs = path_figures(res, runs, market.bars_per_year)
    n = len(grid)
    by = {x.name: figs[i * n:(i + 1) * n] for i, x in enumerate([*specs, *bench])}
    doc: dict[str, Any] = {
        "paths": n, "starts": len(starts), "bootstrap": opts.bootstrap,
        "block_bars": opts.block_bars if opts.bootstrap else None, "seed": opts.seed if opts.bootstrap else None,
        "variants": len(specs), "benchmarks": [b.name for b in bench],
        "distribution": {v.name: {b.name: compare(by[v.name], by[b.name]) for b in bench} for v in specs},
        "luck": luck(specs, real, costs, bench[0]),
        "path_finals": {x.name: [round(f["final"], 2) for f in by[x.name]] for x in [*specs[:12], *bench]},
    }
    if opts.walk_forward:
        try:
            train_days, test_days = (int(x) for x in opts.walk_forward.split(":"))
        except ValueError:
            raise ConfigError(f"--walk-forward: {opts.walk_forward!r} is not TRAIN:TEST in days; write e.g. "
                              "--walk-forward 730:182") from None
        per_day = 24 / real.hours_per_bar
        doc["walk_forward"] = walk_forward(specs, bench, real, costs, int(train_days * per_day),
                                           int(test_days * per_day))
    return doc


def luck(specs: Sequence[Spec], market: Market, costs: Costs, hold: Spec) -> dict[str, Any]:
    """On the real prices: the deflated Sharpe of the best variant's returns in excess of buy and hold (every
    variant a trial), the PBO of choosing it (CSCV), the best's own Sharpe deflated likewise, and what they mean."""
    one = replace(market, closes=market.closes[:1])
    res = simulate([s.with_(start=0, end=-1, path=0) for s in [*specs, hold]], one, costs)
    rets = (res.values[:, 1:] / res.values[:, :-1] - 1).T
    excess = rets[:, :-1] - rets[:, -1:]
    d, own = dsr_of_best(excess), dsr_of_best(rets[:, :-1])
    year = np.sqrt(market.bars_per_year)
    out: dict[str, Any] = {
        "trials": d["trials"], "best": specs[int(d["best"])].name,
        "excess_sharpe_vs_buy_and_hold": round(d["sharpe_per_bar"] * year, 3),
        "expected_max_excess_sharpe_by_luck": round(d["expected_max_sharpe_per_bar"] * year, 3),
        "deflated_sharpe": round(d["deflated_sharpe"], 4),
        "best_sharpe": {"variant": specs[int(own["best"])].name, "sharpe": round(own["sharpe_per_bar"] * year, 3),
                        "deflated_sharpe": round(own["deflated_sharpe"], 4)},
        "pbo": round(pbo(excess, blocks=16)["pbo"], 4) if len(specs) >= 2 and rets.shape[0] >= 64 else None}
    if out["deflated_sharpe"] < SIGNIFICANT:
        out["verdict"] = (f"Nothing is significant: the best of {d['trials']} variant(s) ({out['best']}) has an "
                          f"excess Sharpe over buy and hold of {out['excess_sharpe_vs_buy_and_hold']:.2f}, a deflated "
                          f"Sharpe of {out['deflated_sharpe']:.2f} < {SIGNIFICANT}: within what luck gives the best "
                          "of that many tries.")
    else:
        out["verdict"] = (f"The best of {d['trials']} variant(s) ({out['best']}) beats buy and hold with a deflated "
                          f"Sharpe of {out['deflated_sharpe']:.2f} ≥ {SIGNIFICANT} after counting every variant tried.")
    if out["pbo"] is not None:
        out["verdict"] += f" Probability of backtest overfitting (CSCV, 16 blocks): {out['pbo']:.2f}."
    return out
