"""What the sandbox world holds: tokens, V2 and V3 pools and the wallet's deliberately off-target portfolio.

Pure data. Both sandbox chains deploy the same contracts in the same order from the same deployer, so
contract addresses are identical on both (as CREATE addresses are on real chains) and the committed
``chains/sandbox_*.toml`` files stay valid; only amounts differ. Every protocol contract is an official
build (contracts/build/official): Uniswap V2 and V3, WETH9, Circle's FiatToken (USDC) behind its proxy,
a token with USDT's quirks, OpenZeppelin tokens and an ERC-4626 savings vault.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from eth_utils import to_checksum_address

#: anvil's account 9 deploys and owns the sandbox contracts; account 0 is the user's wallet.
DEPLOYER = to_checksum_address("0xa0Ee7A142d267C1f36714E4a8F75612F20a79720")
WALLET = to_checksum_address("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")
#: anvil's account 8: the arbitrage keeper of the market simulator.
KEEPER = to_checksum_address("0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f")
#: anvil's account 7: administers USDC's proxy (as on mainnet, the proxy admin cannot call the token).
PROXY_ADMIN = to_checksum_address("0x14dC79964da2C08b23698B3D3cc7Ca32193d9955")


@dataclass(frozen=True)
class TokenSpec:
    symbol: str
    name: str
    decimals: int
    usd_price: Decimal
    stable: bool = False
    asset: str = ""
    approve_requires_zero: bool = False
    price_path: tuple[str, ...] = ()
    #: the V3 fee tier the chain file names for pricing this token against USDC
    v3_fee: int = 3000

    @property
    def kind(self) -> str:
        """The official build behind the symbol: WETH9, FiatTokenV2_2 (USDC), TetherToken (USDT), else SandboxToken."""
        return {"WETH": "WETH9", "USDC": "FiatTokenV2_2", "USDT": "TetherToken"}.get(self.symbol, "SandboxToken")


@dataclass(frozen=True)
class PoolSpec:
    """A constant-product pool seeded with ``usd_per_side`` of each token at the spec prices."""

    a: str
    b: str
    usd_per_side: Decimal
    venue: str = "uniswap"  # "uniswap" (the V2 router's factory) or "sushi" (a second V2 venue)


#: (half-width of the price range as a fraction — None for the full range —, share of the pool's value)
Ranges = tuple[tuple[float | None, float], ...]
VOLATILE_RANGES: Ranges = ((0.01, 0.30), (0.05, 0.35), (0.20, 0.25), (None, 0.10))
STABLE_RANGES: Ranges = ((0.001, 0.50), (0.005, 0.30), (0.02, 0.20))


@dataclass(frozen=True)
class V3PoolSpec:
    """A Uniswap V3 pool at the spec prices holding ``usd_total`` in several positions (``ranges``)."""

    a: str
    b: str
    fee: int
    usd_total: Decimal
    ranges: Ranges = VOLATILE_RANGES


@dataclass(frozen=True)
class ChainSpec:
    name: str
    chain_id: int
    #: the wallet's starting holdings in token units; "ETH" is the native coin
    wallet: dict[str, Decimal]
    pool_scale: Decimal = Decimal(1)
    vault_deposit_usdc: Decimal = Decimal(0)
    vault_rate_bps_per_year: int = 500
    block_time_s: float = 2.0
    extra_tokens: int = 0


TOKENS: tuple[TokenSpec, ...] = (
    TokenSpec("WETH", "Wrapped Ether", 18, Decimal(3000), asset="ETH", v3_fee=500),
    TokenSpec("USDC", "USD Coin", 6, Decimal(1), stable=True),
    TokenSpec("USDT", "Tether USD", 6, Decimal(1), stable=True, approve_requires_zero=True, v3_fee=100),
    TokenSpec("DAI", "Dai Stablecoin", 18, Decimal(1), stable=True, v3_fee=100),
    TokenSpec("WBTC", "Wrapped BTC", 8, Decimal(60000)),
    TokenSpec("LINK", "ChainLink Token", 18, Decimal(15)),
)

POOLS: tuple[PoolSpec, ...] = (
    PoolSpec("WETH", "USDC", Decimal(20_000_000)),
    PoolSpec("WBTC", "USDC", Decimal(10_000_000)),
    PoolSpec("WBTC", "WETH", Decimal(5_000_000)),
    PoolSpec("LINK", "USDC", Decimal(2_000_000)),
    PoolSpec("USDT", "USDC", Decimal(5_000_000)),
    PoolSpec("DAI", "USDC", Decimal(5_000_000)),
    PoolSpec("WETH", "USDC", Decimal(6_000_000), venue="sushi"),
    PoolSpec("WBTC", "USDC", Decimal(3_000_000), venue="sushi"),
)

#: V3 pools beside the V2 ones, in the three tiers the chain files use (0.01% needs enableFeeAmount(100, 1)).
V3_POOLS: tuple[V3PoolSpec, ...] = (
    V3PoolSpec("WETH", "USDC", 500, Decimal(30_000_000)),
    V3PoolSpec("WETH", "USDC", 3000, Decimal(6_000_000)),
    V3PoolSpec("WBTC", "USDC", 3000, Decimal(12_000_000)),
    V3PoolSpec("WBTC", "WETH", 500, Decimal(8_000_000)),
    V3PoolSpec("LINK", "USDC", 3000, Decimal(3_000_000)),
    V3PoolSpec("USDT", "USDC", 100, Decimal(10_000_000), STABLE_RANGES),
    V3PoolSpec("DAI", "USDC", 100, Decimal(10_000_000), STABLE_RANGES),
)

# ETH-heavy on A, stable-heavy on B: about 70% ETH, 5% WBTC, 25% USDC against ETH:40,WBTC:30,USDC:30.
CHAINS: tuple[ChainSpec, ...] = (
    ChainSpec("sandbox_a", 31337, {"ETH": Decimal(30), "WETH": Decimal(20), "WBTC": Decimal("0.2"),
                                   "USDC": Decimal(10_000), "LINK": Decimal(0)},
              vault_deposit_usdc=Decimal(5_000), block_time_s=12.0),
    ChainSpec("sandbox_b", 31338, {"ETH": Decimal(5), "USDC": Decimal(45_000)}, pool_scale=Decimal("0.25")),
)

SANDBOX_TARGETS = "ETH:40,WBTC:30,USDC:30"


def chain_spec(name: str) -> ChainSpec:
    for c in CHAINS:
        if c.name == name:
            return c
    raise KeyError(name)


def extra_token_specs(n: int) -> list[TokenSpec]:
    """Filler tokens for the RPC benchmark (many tokens per chain), each with a pool against USDC."""
    return [TokenSpec(f"TKN{i:02d}", f"Bench Token {i}", 18, Decimal(1 + i)) for i in range(1, n + 1)]


#: aggregator source -> the sandbox contract carrying its router's real `swap` entry point
SHAPE_CONTRACTS = {"1inch": "ShapeOneInch", "odos": "ShapeOdos", "kyberswap": "ShapeKyber"}


@dataclass
class DeployedAddresses:
    tokens: dict[str, str] = field(default_factory=dict)
    factory: str = ""
    router: str = ""
    sushi_factory: str = ""
    sushi_router: str = ""
    pairs: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (venue, a, b) -> pair
    vault: str = ""
    quoter: str = ""
    v3_factory: str = ""
    position_manager: str = ""
    position_descriptor: str = ""
    tick_lens: str = ""
    swap_router02: str = ""
    v3_pools: dict[tuple[str, str, int], str] = field(default_factory=dict)  # (a, b, fee) -> pool
    aggregator_router: str = ""
    #: source -> the router its real-shaped calldata goes to (ShapeOneInch/ShapeOdos/ShapeKyber adapters;
    #: the 0x and ParaSwap shapes are entry points of the AggregatorRouter itself)
    shape_routers: dict[str, str] = field(default_factory=dict)
    multicall3: str = "0xcA11bde05977b3631167028862bE2a173976CA11"
