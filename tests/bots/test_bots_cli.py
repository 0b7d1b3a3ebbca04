"""`kyrios bots` against a real uvicorn server running the exchange: accounts, keys, trades."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import uvicorn
from sqlalchemy import select

from kyrios.bots.provision import Mix, account_name, fund_accounts
from kyrios.cli import _run_bots
from kyrios.core.clock import SystemClock
from kyrios.exchange import invariants
from kyrios.exchange.client import InProcessClient
from kyrios.runtime import Runtime
from kyrios.settings import Settings
from kyrios.web.auth.tables import AuthApiKey
from kyrios.web.main import create_app
from tests.bots.test_rest_transport import exchange

MIX = Mix(market_makers=1, value=1, momentum=0, noise=3, speed=20)
CASH = 10**8


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def served(runtime: Runtime) -> AsyncIterator[str]:
    """The app on a real port; its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # uvicorn offers no event to wait on  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KYRIOS_DATABASE_URL", settings.database_url)


@pytest.mark.usefixtures("env")
async def test_the_bots_trade_with_keys_of_their_own_which_are_revoked_after(settings: Settings) -> None:
    async with exchange(settings, SystemClock()) as runtime, served(runtime) as url:
        names = [account_name("ACME", agent) for agent in MIX.agents(1, "ACME")]
        await fund_accounts(runtime.exchange, names, CASH)  # what `kyrios up` does before it starts them

        assert await _run_bots(url, MIX, seed=1, seconds=5, cash=CASH) == 0

        assert isinstance(runtime.exchange, InProcessClient)
        await runtime.exchange.exchange.flush()
        async with httpx.AsyncClient(base_url=url) as http:
            trades = (await http.get("/api/v1/trades/ACME", params={"limit": 1000})).json()["trades"]
        assert trades
        keys = (await runtime.db.run(lambda s: s.scalars(select(AuthApiKey)))).all()
        assert len(keys) == len(names) and all(key.revoked_at is not None for key in keys)
        users = {user.username: user for user in await runtime.exchange.users()}
        assert all(users[name].role == "BOT" for name in names)
        assert await runtime.db.run(invariants.check) == []


@pytest.mark.usefixtures("env")
async def test_missing_accounts_are_refused_while_another_process_runs_the_exchange(
    settings: Settings,
) -> None:
    async with exchange(settings, SystemClock()) as runtime, served(runtime) as url:
        assert await _run_bots(url, MIX, seed=1, seconds=1, cash=CASH) == 1
        assert [
            user.username for user in await runtime.exchange.users() if user.username.startswith("bot-")
        ] == []
