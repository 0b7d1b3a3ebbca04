"""The market simulation's brains: fair values, what an agent sees, and the trading agents.

Pure and deterministic from a seed: no I/O, clock or asyncio. Agents decide from a `MarketView`
and return plain actions; how those reach the exchange is a `Transport` (`market_view`), and
`simulate` runs them against the in-process matching engine in simulated time for tests and
benchmarks.
"""
