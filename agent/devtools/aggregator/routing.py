"""Pure routing over constant-product pools: the best split of an order across up to ``MAX_LEGS`` paths of up to
``MAX_HOPS`` pools, with the exact integer math of the sandbox pairs (0.3% fee).

Legs are simulated in order on one copy of the reserves, the way ``AggregatorRouter`` executes them, so a pool
shared by two legs is priced with what the earlier leg left. The split is found greedily: the order is cut into
``CHUNKS`` pieces and each piece goes to the path that pays most for it at the reserves so far; the result is
kept only when it beats the best single path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from agent.amm import get_amount_out, spot_out

MAX_LEGS = 4
MAX_HOPS = 3
CHUNKS = 20


@dataclass(frozen=True)
class Pool:
    address: str
    token0: str
    token1: str
    reserve0: int
    reserve1: int
    venue: str = ""

    def other(self, token: str) -> str:
        return self.token1 if token == self.token0 else self.token0


@dataclass(frozen=True)
class Leg:
    amount_in: int
    pairs: tuple[str, ...]
    tokens: tuple[str, ...]  # token path, len(pairs) + 1
    amount_out: int = 0


@dataclass(frozen=True)
class Route:
    token_in: str
    token_out: str
    amount_in: int
    amount_out: int
    legs: tuple[Leg, ...]
    #: Output at the pools' marginal prices (no fee, no impact) along the legs: for price impact.
    ideal_out: int = 0
    hops: int = field(default=0)


def find_paths(pools: Iterable[Pool], token_in: str, token_out: str, max_hops: int = MAX_HOPS) -> list[list[Pool]]:
    """Every simple path of pools from ``token_in`` to ``token_out`` (no token visited twice)."""
    by_token: dict[str, list[Pool]] = {}
    for p in pools:
        if p.reserve0 > 0 and p.reserve1 > 0:
            by_token.setdefault(p.token0, []).append(p)
            by_token.setdefault(p.token1, []).append(p)
    out: list[list[Pool]] = []

    def walk(token: str, seen: set[str], path: list[Pool]) -> None:
        if len(path) >= max_hops:
            return
        for pool in by_token.get(token, []):
            nxt = pool.other(token)
            if nxt in seen:
                continue
            if nxt == token_out:
                out.append([*path, pool])
            else:
                walk(nxt, seen | {nxt}, [*path, pool])

    walk(token_in, {token_in}, [])
    return out


Reserves = dict[str, tuple[int, int]]


def swap_path(reserves: Reserves, pools: Mapping[str, Pool], tokens: list[str], pairs: list[str], amount: int,
              *, apply: bool) -> int:
    """Output of ``amount`` along ``pairs``; with ``apply`` the reserves are updated as the swap would."""
    for i, addr in enumerate(pairs):
        r0, r1 = reserves[addr]
        zero_for_one = tokens[i] == pools[addr].token0
        r_in, r_out = (r0, r1) if zero_for_one else (r1, r0)
        out = get_amount_out(amount, r_in, r_out)
        if apply:
            reserves[addr] = (r0 + amount, r1 - out) if zero_for_one else (r0 - out, r1 + amount)
        amount = out
    return amount


def _tokens_of(path: list[Pool], token_in: str) -> list[str]:
    tokens = [token_in]
    for p in path:
        tokens.append(p.other(tokens[-1]))
    return tokens


def _ideal(pools: Mapping[str, Pool], reserves: Reserves, tokens: list[str], pairs: list[str], amount: int) -> int:
    value = amount
    for i, addr in enumerate(pairs):
        r0, r1 = reserves[addr]
        r_in, r_out = (r0, r1) if tokens[i] == pools[addr].token0 else (r1, r0)
        value = spot_out(value, r_in, r_out)
    return value


def _simulate(pools: Mapping[str, Pool], token_in: str, token_out: str, amount_in: int,
              legs: list[tuple[int, list[Pool]]]) -> Route:
    reserves: Reserves = {p.address: (p.reserve0, p.reserve1) for p in pools.values()}
    start = dict(reserves)
    done: list[Leg] = []
    total = ideal = 0
    for amount, path in legs:
        tokens, pairs = _tokens_of(path, token_in), [p.address for p in path]
        out = swap_path(reserves, pools, tokens, pairs, amount, apply=True)
        ideal += _ideal(pools, start, tokens, pairs, amount)
        done.append(Leg(amount, tuple(pairs), tuple(tokens), out))
        total += out
    return Route(token_in, token_out, amount_in, total, tuple(done), ideal, sum(len(leg.pairs) for leg in done))


def best_route(pools: Iterable[Pool], token_in: str, token_out: str, amount_in: int, *,
               max_legs: int = MAX_LEGS, chunks: int = CHUNKS) -> Route | None:
    """The route paying the most for ``amount_in``; None when no path connects the tokens."""
    pool_list = list(pools)
    by_addr = {p.address: p for p in pool_list}
    paths = find_paths(pool_list, token_in, token_out)
    if not paths or amount_in <= 0:
        return None
    start: Reserves = {p.address: (p.reserve0, p.reserve1) for p in pool_list}

    def single(path: list[Pool]) -> int:
        return swap_path(dict(start), by_addr, _tokens_of(path, token_in), [p.address for p in path], amount_in,
                         apply=False)

    paths.sort(key=single, reverse=True)
    best_single = _simulate(by_addr, token_in, token_out, amount_in, [(amount_in, paths[0])])
    candidates = paths[: max_legs * 2]
    reserves = dict(start)
    alloc = [0] * len(candidates)
    piece, rest = divmod(amount_in, chunks)
    for i in range(chunks):
        size = piece + (rest if i == chunks - 1 else 0)
        if size == 0:
            continue
        used = [j for j, a in enumerate(alloc) if a]
        choices = used if len(used) >= max_legs else range(len(candidates))
        outs = [(swap_path(dict(reserves), by_addr, _tokens_of(candidates[j], token_in),
                           [p.address for p in candidates[j]], size, apply=False), j) for j in choices]
        _, j = max(outs)
        swap_path(reserves, by_addr, _tokens_of(candidates[j], token_in), [p.address for p in candidates[j]], size,
                  apply=True)
        alloc[j] += size
    split = _simulate(by_addr, token_in, token_out, amount_in,
                      [(a, candidates[j]) for j, a in enumerate(alloc) if a])
    return split if split.amount_out > best_single.amount_out else best_single
