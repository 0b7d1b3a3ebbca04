"""Setting up a live run: the agent mix per symbol, their BOT accounts and cash, the fair value.

Each agent trades one symbol from its own BOT account, named `bot-<symbol>-<agent>`, so every
agent has its own key, cash and short limit. Accounts are opened and topped up through a
`Funder`: an `ExchangeClient` when this process can take the exchange lease for the moment of
the set-up (nobody runs the exchange), else `AdminApi`, the running exchange's admin REST API
with an ADMIN account's API key (`open_accounts` picks). Without such a key, accounts that
already exist and have cash are used as they are. The fair value starts at each symbol's last
price from the public `/assets`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from kyrios.bots.agents import Agent, rmsc4_mix
from kyrios.bots.fair_value import AssetSpec, FairValueModel
from kyrios.core.clock import Clock
from kyrios.core.db import Database
from kyrios.core.errors import DomainError, InvalidInput, NotFound
from kyrios.core.i18n import N_
from kyrios.exchange.client import DetachedClient, ExchangeClient, briefly_owned
from kyrios.exchange.models import AssetStatus, Role
from kyrios.exchange.schemas import AssetListing, UserView

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


class Funder(Protocol):
    """What opening and funding the bots' accounts needs: an `ExchangeClient` has it, so has `AdminApi`."""

    async def find_user(self, name_or_id: str) -> UserView:
        """The account named by username or id; `NotFound` otherwise."""
        ...

    async def create_user(self, username: str, *, role: Role, discord_id: int | None = None) -> UserView:
        """Open an account."""
        ...

    async def deposit(self, user_id: int, amount_cents: int, *, detail: str = "") -> int:
        """Give a user game cash; returns the free cash after."""
        ...


class AdminRefusal(DomainError):
    """The admin API refused a call (`message`: the server's own words)."""

    kind = "refused"


REFUSED = N_("The exchange's admin API refused: {message}")


class AdminApi:
    """A `Funder` over a running exchange's admin REST API, with an ADMIN account's API key."""

    def __init__(self, http: httpx.AsyncClient, admin_key: str) -> None:
        self.http = http
        self.headers = {"X-API-Key": admin_key}

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = await self.http.request(method, f"/api/v1/admin{path}", json=body, headers=self.headers)
        if response.is_success:
            return response.json()
        try:
            message = str(response.json()["error"]["message"])
        except (ValueError, KeyError, TypeError):
            response.raise_for_status()
            raise
        if response.status_code == 404:
            raise NotFound(REFUSED, message=message)
        raise AdminRefusal(REFUSED, message=message)

    async def find_user(self, name_or_id: str) -> UserView:
        """The account named by username or id; `NotFound` otherwise."""
        return UserView.model_validate(await self._call("GET", f"/accounts/{name_or_id}"))

    async def create_user(self, username: str, *, role: Role, discord_id: int | None = None) -> UserView:
        """Open an account (the admin API opens none with a Discord identity)."""
        if discord_id is not None:
            raise ValueError("the admin API opens accounts without a Discord identity")
        body = {"username": username, "role": role.value}
        return UserView.model_validate(await self._call("POST", "/accounts", body))

    async def deposit(self, user_id: int, amount_cents: int, *, detail: str = "") -> int:
        """Give a user game cash; returns the free cash after."""
        body = {"amount_cents": amount_cents, "detail": detail}
        return int((await self._call("POST", f"/accounts/{user_id}/deposits", body))["cash_cents"])


async def open_accounts(
    db: Database,
    clock: Clock,
    names: Sequence[str],
    cash_cents: int,
    *,
    url: str,
    admin_key: str | None = None,
    program: str = "kyrios bots",
) -> dict[str, int]:
    """Open and fund the bots' accounts: directly under a briefly taken lease when nobody runs the
    exchange, else through the admin API at `url` with `admin_key` (without one, the running
    exchange's refusal stands for any account that must change); name → account id."""
    async with briefly_owned(db, clock, program=program) as client:
        if not isinstance(client, DetachedClient) or admin_key is None:
            return await fund_accounts(client, names, cash_cents)
    async with httpx.AsyncClient(base_url=url, timeout=30.0) as http:
        return await fund_accounts(AdminApi(http, admin_key), names, cash_cents)


async def fund_accounts(client: Funder, names: Sequence[str], cash_cents: int) -> dict[str, int]:
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
