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
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.bots.provision import Mix, account_name, fund_accounts
from kyrios.cli import _run_bots
from kyrios.core.clock import SystemClock
from kyrios.exchange import accounts, invariants
from kyrios.exchange.client import InProcessClient
from kyrios.exchange.models import Role
from kyrios.runtime import Runtime
from kyrios.settings import Settings
from kyrios.web.auth import api_keys
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


@pytest.mark.usefixtures("env")
async def test_an_admin_key_opens_and_funds_the_accounts_through_the_admin_api(settings: Settings) -> None:
    async with exchange(settings, SystemClock()) as runtime, served(runtime) as url:
        admin = await runtime.exchange.create_user("root", role=Role.ADMIN)

        async def admin_key(session: AsyncSession) -> api_keys.NewKey:
            user = await accounts.resolve_user(session, "root")
            return await api_keys.create_key(
                session, user, scopes=None, label="bots", created_by=None, now=runtime.clock.now()
            )

        key = await runtime.db.run(admin_key)
        assert key.scopes == ("admin",)
        names = [account_name("ACME", agent) for agent in MIX.agents(1, "ACME")]

        assert await _run_bots(url, MIX, seed=1, seconds=3, cash=CASH, admin_key=key.key) == 0

        users = {user.username: user for user in await runtime.exchange.users()}
        assert all(users[name].role == "BOT" for name in names)
        ledger = await runtime.exchange.ledger_page(users[names[0]].id, limit=500)
        assert [(row.delta_cents, row.detail) for row in ledger.items if row.reason == "deposit"] == [
            (CASH, "admin root: bot funding")
        ]
        async with runtime.db.read() as session:
            bot_keys = (
                await session.scalars(select(AuthApiKey).where(AuthApiKey.account_id != admin.id))
            ).all()
        assert len(bot_keys) == len(names) and all(k.revoked_at is not None for k in bot_keys)
        async with httpx.AsyncClient(base_url=url) as http:  # the admin key is no trading key
            assert (await http.get("/api/v1/portfolio", headers={"X-API-Key": key.key})).status_code == 403
        assert await runtime.db.run(invariants.check) == []
