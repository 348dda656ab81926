"""The local world: anvil chains, sandbox contracts, a local aggregator server and a market simulator."""
