"""Every decoder on real router calldata, and every mutation of it refused by the quote checks.

The calldata comes from public test suites that captured it from the routers' APIs or from mined
transactions; tests/unit/quotes/fixtures/real_calldata.json names the source of each (publishing test,
transaction hash or API call) and the values the publisher asserted, which the decoders must reproduce.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from agent.config.chains import NATIVE_PLACEHOLDER, load_chain
from agent.errors import QuoteRejected
from agent.quotes.calldata import CalldataError, decode_swap
from agent.quotes.models import Quote, QuoteRequest, QuoteTx, ReferencePrice
from agent.quotes.validate import Limits, check_quote
from tests.unit.quotes.real_calldata import (
    ATTACKER,
    FIXTURES,
    SHAPES,
    abi_mutations,
    compact_mutations,
    data_of,
)

LIMITS = Limits(max_slippage_bps=100, max_quote_deviation_bps=100, max_swap_gas=2_000_000)
WALLET = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
CHAIN_OF = {1: "ethereum", 8453: "base", 42161: "arbitrum"}
SOURCE_OF = {"zerox": "0x", "oneinch": "1inch", "velora": "paraswap", "odos": "odos", "kyberswap": "kyberswap"}
#: Ethereum's Odos router v2 (the fixtures are mainnet Odos calls).
ROUTER_OF = {"odos_swap_mainnet": "0xCf5540fFFCdC3d510B18bFcA6d2b9987b0772559"}


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_real_calldata_decodes_to_what_its_publisher_asserted(name: str) -> None:
    decoded = decode_swap(data_of(name))
    assert decoded is not None
    for field, want in FIXTURES[name]["expect"].items():
        assert getattr(decoded, field) == want, field
    assert decoded.problems == ()


def _source(name: str) -> str:
    return SOURCE_OF[name.split("_")[0]]


def setup(name: str, data: bytes | None = None) -> tuple[object, QuoteRequest, Quote, ReferencePrice]:
    """A request and quote that the unmutated fixture satisfies on its own chain, with MAX_SLIPPAGE_BPS=100."""
    fixture, original = FIXTURES[name], decode_swap(data_of(name))
    assert original is not None and original.min_out is not None
    chain = load_chain(CHAIN_OF[fixture["chain_id"]])
    source = _source(name)
    router = ROUTER_OF.get(name) or chain.aggregators[source].routers[0]
    sell = original.token_in or NATIVE_PLACEHOLDER
    native = sell == NATIVE_PLACEHOLDER
    amount = original.amount_in or 10**18
    req = QuoteRequest(chain_id=chain.chain_id, sell_token=sell, buy_token=original.token_out or WALLET,
                       sell_decimals=18, buy_decimals=18, sell_amount_raw=amount,
                       taker=original.recipient or WALLET, slippage_bps=100)
    buy = -(-original.min_out * 10_000 // (10_000 - LIMITS.max_slippage_bps))
    quote = Quote(source=source, chain_id=chain.chain_id, sell_token=sell, buy_token=req.buy_token,
                  sell_amount_raw=amount, buy_amount_raw=buy, min_buy_amount_raw=original.min_out,
                  gas_estimate=300_000, tx=QuoteTx(to=router, data=data if data is not None else data_of(name),
                                                   value_wei=amount if native else 0),
                  spender=None if native else chain.aggregators[source].spenders[0], quoted_at=datetime.now(UTC))
    ref = ReferencePrice(buy_per_sell=Decimal(buy) / Decimal(amount))
    return chain, req, quote, ref


def refusal(name: str, data: bytes) -> str:
    chain, req, quote, ref = setup(name, data)
    with pytest.raises(QuoteRejected) as info:
        check_quote(chain, req, quote, limits=LIMITS, reference=ref)  # type: ignore[arg-type]
    return info.value.check


CHECKABLE = [n for n in sorted(FIXTURES) if "unoswap" not in n]


@pytest.mark.parametrize("name", CHECKABLE)
def test_unmutated_real_calldata_passes_every_check(name: str) -> None:
    chain, req, quote, ref = setup(name)
    check_quote(chain, req, quote, limits=LIMITS, reference=ref)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["oneinch_unoswap_to_mainnet", "oneinch_eth_unoswap_mainnet"])
def test_unoswap_is_refused_because_its_buy_token_is_not_in_the_calldata(name: str) -> None:
    assert refusal(name, data_of(name)) == "calldata_unknown"


EXPECTED = {"recipient_swapped": "recipient", "min_out_lowered": "min_out", "min_out_zero": "min_out",
            "buy_token_swapped": "calldata", "sell_token_swapped": "calldata", "amount_raised": "calldata",
            "amount_lowered": "calldata"}
ABI_CASES = [(source, kind) for source, shape in SHAPES.items() for kind in abi_mutations(shape)]


@pytest.mark.parametrize(("source", "kind"), ABI_CASES)
def test_every_mutation_of_real_calldata_is_refused(source: str, kind: str) -> None:
    shape = SHAPES[source]
    mutated = abi_mutations(shape)[kind](data_of(shape.fixture))
    assert mutated != data_of(shape.fixture)
    assert refusal(shape.fixture, mutated) == EXPECTED.get(kind, "calldata_unknown")


COMPACT = "odos_swap_compact_erc20_mainnet"


@pytest.mark.parametrize("kind", sorted(compact_mutations(data_of(COMPACT), FIXTURES[COMPACT]["expect"]["recipient"])))
def test_every_mutation_of_real_swap_compact_is_refused(kind: str) -> None:
    data = data_of(COMPACT)
    mutated = compact_mutations(data, FIXTURES[COMPACT]["expect"]["recipient"])[kind](data)
    want = {"compact_recipient_swapped": "recipient", "compact_slippage_raised": "min_out",
            "compact_buy_token_swapped": "calldata", "compact_amount_raised": "calldata"}
    assert refusal(COMPACT, mutated) == want.get(kind, "calldata_unknown")


def test_zerox_exec_forwarding_anything_but_settler_execute_is_refused() -> None:
    from agent.quotes.calldata_0x_1inch import ZEROX_EXEC
    from tests.unit.quotes.real_calldata import reencode
    data = data_of("zerox_exec_base")
    forged = reencode(ZEROX_EXEC, data, {(4,): lambda inner: b"\xa9\x05\x9c\xbb" + bytes(inner)[4:]})
    with pytest.raises(CalldataError, match="not a Settler"):
        decode_swap(forged)
    assert refusal("zerox_exec_base", forged) == "calldata_unknown"
    other_operator = reencode(ZEROX_EXEC, data, {(0,): ATTACKER})
    assert refusal("zerox_exec_base", other_operator) == "calldata"


def test_oneinch_partial_fill_and_kyber_fees_are_refused() -> None:
    from tests.unit.quotes.real_calldata import reencode
    one = SHAPES["1inch"]
    assert refusal(one.fixture, reencode(one.fn, data_of(one.fixture), {(1, 6): 1})) == "calldata"
    ky = SHAPES["kyberswap"]
    fee = reencode(ky.fn, data_of(ky.fixture), {(0, 3, 4): [ATTACKER], (0, 3, 5): [10**6]})
    assert refusal(ky.fixture, fee) == "calldata"
    partial = reencode(ky.fn, data_of(ky.fixture), {(0, 3, 9): lambda f: f | 1})
    assert refusal(ky.fixture, partial) == "calldata"


def test_mutation_count_is_at_least_thirty() -> None:
    kinds = {k for s in SHAPES.values() for k in abi_mutations(s)}
    kinds |= set(compact_mutations(data_of(COMPACT), FIXTURES[COMPACT]["expect"]["recipient"]))
    assert len(kinds) >= 20 and len(ABI_CASES) + len(kinds - set(EXPECTED)) >= 30
