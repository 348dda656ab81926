"""Reading balances (one Multicall3 call per chain) and valuing them in USD from on-chain quotes."""
