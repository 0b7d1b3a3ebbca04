"""Setting up a live run: the agent mix per symbol, their BOT accounts and cash, the fair value.

Each agent trades one symbol from its own BOT account, named `bot-<symbol>-<agent>`, so every
agent has its own key, cash and short limit. Accounts are opened and topped up through an
`ExchangeClient` (a write needs the exchange lease: `kyrios bots` takes it for the moment of
the set-up; while `kyrios up` runs, accounts that already exist and have cash are used as
they are). The fair value starts at each symbol's last price from the public `/assets`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from kyrios.bots.agents import Agent, rmsc4_mix
from kyrios.bots.fair_value import AssetSpec, FairValueModel
from kyrios.core.errors import InvalidInput, NotFound
from kyrios.core.i18n import N_
from kyrios.exchange.client import ExchangeClient
from kyrios.exchange.models import AssetStatus, Role
from kyrios.exchange.schemas import AssetListing

NOT_A_BOT = N_("The account {name} exists but is not a BOT account.")
BOT_CASH = 10**9
"""Cents each bot account is topped up to (10,000,000.00)."""
DEFAULT_LISTINGS = (
    AssetListing(
        symbol="ACME",
        name="Acme Corp",
        supply=1_000_000,
        price_cents=10_000,
        tick_size_cents=5,
        sector="tech",
    ),
    AssetListing(
        symbol="KYRI",
        name="Kyrios Holdings",
        supply=1_000_000,
        price_cents=2_500,
        tick_size_cents=1,
        sector="tech",
    ),
)
"""What `kyrios up` lists on an empty exchange so the bots have something to trade."""


@dataclass(frozen=True)
class Mix:
    """How many agents of each kind trade each symbol; `speed` divides their wake intervals."""

    market_makers: int = 1
    value: int = 3
    momentum: int = 2
    noise: int = 4
    whales: int = 0
    speed: float = 1.0

    def agents(self, seed: int | str, symbol: str) -> list[Agent]:
        """The agents for one symbol, seeded per run and symbol."""
        agents = rmsc4_mix(
            f"{seed}/{symbol}",
            market_makers=self.market_makers,
            value=self.value,
            momentum=self.momentum,
            noise=self.noise,
            whales=self.whales,
        )
        for agent in agents:
            agent.wake_interval /= self.speed
        return agents


def account_name(symbol: str, agent: Agent) -> str:
    """The BOT account an agent trades `symbol` from."""
    return f"bot-{symbol.lower()}-{agent.name}"


async def listed_assets(http: httpx.AsyncClient, *, wait: float = 0.0) -> list[AssetSpec]:
    """The symbols trading now, from the public API, as fair-value specs at their last price;
    waits up to `wait` seconds for the API to answer (a server still starting)."""
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        try:
            response = await http.get("/api/v1/assets")
            break
        except httpx.TransportError:
            if asyncio.get_running_loop().time() >= deadline:
                raise
            await asyncio.sleep(0.5)
    response.raise_for_status()
    rows: list[dict[str, Any]] = response.json()
    return [
        AssetSpec(
            row["symbol"],
            int(row["last_price_cents"]),
            tick_size_cents=int(row["tick_size_cents"]),
            sector=row["sector"] or None,
        )
        for row in rows
        if row["status"] == "TRADING"
    ]


def fair_value_model(assets: Sequence[AssetSpec], seed: int | str) -> FairValueModel:
    """The run's fair values, one seeded stream per asset and sector."""
    return FairValueModel(assets, seed=seed)


async def prepare_local_market(client: ExchangeClient, mix: Mix, cash_cents: int = BOT_CASH) -> int:
    """List `DEFAULT_LISTINGS` if nothing is listed, open and fund the mix's accounts for every
    trading symbol (run by the exchange's owner, `kyrios up`); returns how many accounts."""
    listed = await client.assets()
    if not listed:
        listed = [await client.create_asset(listing) for listing in DEFAULT_LISTINGS]
    names = [
        account_name(asset.symbol, agent)
        for asset in listed
        if asset.status == AssetStatus.TRADING
        for agent in mix.agents(0, asset.symbol)
    ]
    await fund_accounts(client, names, cash_cents)
    return len(names)


async def fund_accounts(client: ExchangeClient, names: Sequence[str], cash_cents: int) -> dict[str, int]:
    """Open the missing BOT accounts and top up any below half of `cash_cents`; name → account id."""
    ids: dict[str, int] = {}
    for name in names:
        try:
            user = await client.find_user(name)
        except NotFound:
            user = await client.create_user(name, role=Role.BOT)
        if user.role != Role.BOT:
            raise InvalidInput(NOT_A_BOT, name=name)
        if user.cash_cents < cash_cents // 2:
            await client.deposit(user.id, cash_cents - user.cash_cents, detail="bot funding")
        ids[name] = user.id
    return ids
