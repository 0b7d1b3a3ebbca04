"""The trading agents of the ABIDES RMSC-4 mix, and `rmsc4_mix` to build a population of them.

RMSC-4 (the reference configuration of JPMorgan's ABIDES simulator) runs 2 adaptive market
makers, 102 value agents, 12 momentum agents and 1,000 noise agents around one mean-reverting
fundamental; we add a whale for the occasional large order that walks the book.
"""

from __future__ import annotations

from kyrios.bots.agents.base import Agent, RateLimit
from kyrios.bots.agents.market_maker import MarketMaker
from kyrios.bots.agents.momentum import MomentumTrader
from kyrios.bots.agents.noise import NoiseTrader
from kyrios.bots.agents.value import ValueTrader
from kyrios.bots.agents.whale import Whale


def rmsc4_mix(
    seed: int | str,
    *,
    market_makers: int = 2,
    value: int = 102,
    momentum: int = 12,
    noise: int = 1000,
    whales: int = 1,
) -> list[Agent]:
    """A population with RMSC-4's proportions by default (pass smaller counts for a small market).

    Names are `<kind>-<n>`, unique, so each agent's RNG stream is fixed by the seed and its name.
    """
    agents: list[Agent] = []
    agents += [MarketMaker(f"market_maker-{n}", seed=seed) for n in range(market_makers)]
    agents += [ValueTrader(f"value-{n}", seed=seed) for n in range(value)]
    agents += [MomentumTrader(f"momentum-{n}", seed=seed) for n in range(momentum)]
    agents += [NoiseTrader(f"noise-{n}", seed=seed) for n in range(noise)]
    agents += [Whale(f"whale-{n}", seed=seed) for n in range(whales)]
    return agents


__all__ = [
    "Agent",
    "MarketMaker",
    "MomentumTrader",
    "NoiseTrader",
    "RateLimit",
    "ValueTrader",
    "Whale",
    "rmsc4_mix",
]
