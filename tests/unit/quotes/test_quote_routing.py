"""The sandbox server's router: exact pool math, splits that only ever help, legs that add up."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.devtools.aggregator.routing import Pool, best_route, find_paths

A, B, C = "0xA", "0xB", "0xC"


def pools(r1: int = 10**24, r2: int = 3 * 10**23) -> list[Pool]:
    return [Pool("p1", A, B, r1, r1 * 3), Pool("p2", A, B, r2, r2 * 3), Pool("p3", A, C, r1, r1),
            Pool("p4", C, B, r1, r1 * 3)]


def test_paths_are_simple_and_bounded() -> None:
    paths = find_paths(pools(), A, B)
    assert sorted(tuple(p.address for p in path) for path in paths) == [("p1",), ("p2",), ("p3", "p4")]


def test_big_order_is_split_and_beats_every_single_pool() -> None:
    route = best_route(pools(), A, B, 10**23)
    assert route is not None and len(route.legs) >= 2
    singles = [best_route([p], A, B, 10**23) for p in pools()[:2]]
    assert all(route.amount_out > s.amount_out for s in singles if s)


def test_no_path_gives_none() -> None:
    assert best_route(pools(), A, "0xD", 10**18) is None


@settings(max_examples=60, deadline=None)
@given(amount=st.integers(min_value=1, max_value=10**24), r1=st.integers(10**18, 10**26),
       r2=st.integers(10**18, 10**26))
def test_split_never_worse_than_best_single_path_and_legs_sum(amount: int, r1: int, r2: int) -> None:
    ps = pools(r1, r2)
    route = best_route(ps, A, B, amount)
    assert route is not None
    assert sum(leg.amount_in for leg in route.legs) == amount
    assert 1 <= len(route.legs) <= 4
    for path in find_paths(ps, A, B):
        single = best_route(path, A, B, amount)
        assert single is None or route.amount_out >= single.amount_out
