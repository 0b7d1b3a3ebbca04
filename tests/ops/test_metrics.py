"""`/metrics`: every signal driven through the real code that emits it, read back from the exposition."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.clock import FrozenClock
from kyrios.core.db import Sql
from kyrios.core.errors import DomainError
from kyrios.exchange import accounts, assets
from kyrios.exchange.engine import Side
from kyrios.exchange.models import AssetType
from kyrios.exchange.owner import ExchangeLease
from kyrios.exchange.schemas import OrderRequest
from kyrios.gateway.bot import KyriosBot
from kyrios.runtime import Runtime, build_runtime
from kyrios.settings import Settings
from kyrios.slash.registry import CommandSet, Context
from kyrios.slash.reply import Reply
from kyrios.testing.emulator import DiscordEmulator
from kyrios.testing.emulator.gateway import Op
from kyrios.testing.emulator.server import channel_messages_path
from kyrios.testing.interactions import InteractionSigner, command_payload
from kyrios.web.main import create_app
from tests.helpers import invoke
from tests.ops.exposition import samples, value

GENERAL = 10
broken_commands = CommandSet()


@broken_commands.slash("broken", "Fails like a bug would (test-only)")
async def broken(ctx: Context) -> Reply:
    raise RuntimeError("a bug")


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://kyrios.test") as http:
        yield http


async def scrape(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return response.text


async def post_signed(client: httpx.AsyncClient, signer: InteractionSigner, name: str) -> None:
    body, headers = signer.sign(command_payload(name))
    assert (await client.post("/interactions", content=body, headers=headers)).status_code == 200


async def test_commands_are_counted_per_command_door_and_outcome(
    client: httpx.AsyncClient, signer: InteractionSigner, runtime: Runtime
) -> None:
    runtime.registry.include(broken_commands)
    await post_signed(client, signer, "gacha pull")  # ok: the starting balance pays for one pull
    await post_signed(client, signer, "gacha pull")  # refused: not enough points left
    await post_signed(client, signer, "broken")  # error
    await invoke(runtime, "gacha rates")  # the console door
    body, headers = signer.sign(command_payload("gacha pull"))
    headers["X-Signature-Ed25519"] = "00" * 64
    assert (await client.post("/interactions", content=body, headers=headers)).status_code == 401
    text = await scrape(client)
    count = "kyrios_commands_total"
    assert value(text, count, command="gacha pull", door="http", outcome="ok") == 1
    assert value(text, count, command="gacha pull", door="http", outcome="refused") == 1
    assert value(text, count, command="broken", door="http", outcome="error") == 1
    assert value(text, count, command="gacha rates", door="console", outcome="ok") == 1
    assert value(text, "kyrios_command_seconds_count", command="gacha pull", door="http") == 2
    assert value(text, "kyrios_command_seconds_bucket", command="broken", door="http", le="+Inf") == 1
    assert value(text, "kyrios_interactions_rejected_total") == 1


async def test_process_and_host_metrics_are_exposed(client: httpx.AsyncClient) -> None:
    text = await scrape(client)
    for name in (
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_open_fds",
        "process_max_fds",
        "kyrios_host_cpus",
        "kyrios_host_memory_bytes",
    ):
        found = value(text, name)
        assert found is not None and found > 0, name


async def test_database_statements_lock_waits_batches_and_pool_are_measured(
    client: httpx.AsyncClient, runtime: Runtime, dialect: str
) -> None:
    before = value(await scrape(client), "kyrios_db_statement_seconds_count") or 0
    await asyncio.gather(*(invoke(runtime, "daily", user_id=user) for user in range(100, 108)))
    async with runtime.db.read() as session:  # a connection checked out while scraping
        await Sql.of(session)
        text = await scrape(client)
    assert (value(text, "kyrios_db_statement_seconds_count") or 0) > before
    assert (value(text, "kyrios_db_pool_in_use") or 0) >= 1
    if dialect == "sqlite":  # one writer per process: its lock and the group commit exist only here
        assert (value(text, "kyrios_db_lock_wait_seconds_count") or 0) >= 1
        batches = value(text, "kyrios_db_group_commit_batch_size_count") or 0
        commands = value(text, "kyrios_db_group_commit_batch_size_sum") or 0
        assert batches >= 1 and commands >= 8


async def test_a_deadlock_is_retried_and_counted(
    client: httpx.AsyncClient, runtime: Runtime, dialect: str
) -> None:
    if dialect == "sqlite":
        pytest.skip("SQLite has one writer: transactions queue for it and never deadlock")
    db = runtime.db
    async with db.transaction() as session:
        sql = await Sql.of(session)
        await sql.execute("CREATE TABLE ops_deadlock (id INT PRIMARY KEY, v INT NOT NULL)")
        await sql.execute("INSERT INTO ops_deadlock (id, v) VALUES (1, 0), (2, 0)")
    first_locked, second_locked = asyncio.Event(), asyncio.Event()

    def crossing(
        first: int, second: int, mine: asyncio.Event, theirs: asyncio.Event
    ) -> Callable[[AsyncSession], Awaitable[None]]:
        async def work(session: AsyncSession) -> None:
            sql = await Sql.of(session)
            await sql.execute("UPDATE ops_deadlock SET v = v + 1 WHERE id = ?", (first,))
            if not mine.is_set():  # the first attempt waits until both hold a row: a deadlock
                mine.set()
                await theirs.wait()
            await sql.execute("UPDATE ops_deadlock SET v = v + 1 WHERE id = ?", (second,))

        return work

    try:
        await asyncio.wait_for(
            asyncio.gather(
                db.run(crossing(1, 2, first_locked, second_locked)),
                db.run(crossing(2, 1, second_locked, first_locked)),
            ),
            30,
        )
        text = await scrape(client)
        assert value(text, "kyrios_db_retries_total", reason="deadlock") == 1
        async with db.read() as session:
            assert await (await Sql.of(session)).all("SELECT v FROM ops_deadlock ORDER BY id") == [(2,), (2,)]
    finally:
        async with db.transaction() as session:
            await (await Sql.of(session)).execute("DROP TABLE ops_deadlock")


async def test_discord_requests_429s_and_budget_per_route(
    settings: Settings, clock: FrozenClock, discord_emulator: DiscordEmulator
) -> None:
    emu = discord_emulator
    configured = settings.model_copy(
        update={"discord_token": SecretStr(emu.token), "discord_api_base": emu.api_base}
    )
    runtime = build_runtime(configured, clock=clock)
    try:
        assert runtime.discord is not None
        emu.arm_rate_limit("POST", channel_messages_path(GENERAL), count=1, retry_after=0.05)
        await runtime.discord.send_message(GENERAL, {"content": "after one 429"})
        text = runtime.metrics.render().decode()
    finally:
        await runtime.aclose()
    route = "POST /channels/{channel_id}/messages"
    assert value(text, "kyrios_discord_requests_total", route=route, status="2xx") == 1
    assert value(text, "kyrios_discord_requests_total", route=route, status="4xx") == 1
    limited = samples(text, "kyrios_discord_rate_limited_total")
    assert [(labels["route"], v) for labels, v in limited] == [(route, 1)]
    assert value(text, "kyrios_discord_ratelimit_limit", route=route) == 50
    assert value(text, "kyrios_discord_ratelimit_remaining", route=route) == 49


async def wait_until(condition: Callable[[], bool]) -> None:
    """Poll `condition` until it holds (15 s at most)."""
    async with asyncio.timeout(15):
        while not condition():  # noqa: ASYNC110 - the state has no event to wait on
            await asyncio.sleep(0.02)


async def test_gateway_connection_latency_and_reconnects(
    client: httpx.AsyncClient, runtime: Runtime, discord_emulator: DiscordEmulator, gateway_bot: KyriosBot
) -> None:
    runtime.gateway_expected = True
    assert (await client.get("/readyz")).json() == {"status": "ready"}
    await wait_until(lambda: not math.isnan(gateway_bot.latency))  # the first heartbeat's ACK
    async with discord_emulator.gateway.disconnected():
        pass
    await discord_emulator.wait_for_gateway_op(Op.RESUME)
    await discord_emulator.wait_for_dispatch("RESUMED")
    await wait_until(lambda: value(runtime.metrics.render().decode(), "kyrios_gateway_reconnects_total") == 1)
    text = await scrape(client)
    assert value(text, "kyrios_gateway_connected") == 1
    assert (value(text, "kyrios_gateway_latency_seconds") or -1) >= 0
    assert (value(text, "kyrios_gateway_disconnects_total") or 0) >= 1


async def test_the_gateway_bot_s_discord_requests_are_counted_per_route(
    runtime: Runtime, discord_emulator: DiscordEmulator, gateway_bot: KyriosBot
) -> None:
    emu = discord_emulator
    emu.arm_rate_limit("POST", channel_messages_path(GENERAL), count=1, retry_after=0.05)
    await gateway_bot.port.send_message(GENERAL, {"content": "after one 429"})
    sent = await emu.run_command("gacha rates")
    assert (await emu.wait_for_callback(sent["id"]))["type"] == 4
    text = runtime.metrics.render().decode()
    messages = "POST /channels/{id}/messages"
    assert value(text, "kyrios_discord_requests_total", route=messages, status="2xx") == 1
    assert value(text, "kyrios_discord_requests_total", route=messages, status="4xx") == 1
    assert value(text, "kyrios_discord_rate_limited_total", route=messages) == 1
    assert value(text, "kyrios_discord_ratelimit_limit", route=messages) == 50
    callback = "POST /interactions/{id}/{token}/callback"  # the interaction's token stays out

    def answered() -> bool:  # counted once discord.py has read the response, after the emulator saw it
        return value(runtime.metrics.render().decode(), "kyrios_discord_requests_total", route=callback) == 1

    await wait_until(answered)
    text = runtime.metrics.render().decode()
    assert str(sent["token"]) not in text


async def test_readiness_names_a_gateway_that_is_not_connected(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    runtime.gateway_expected = True  # as `kyrios up` with a token, before the bot connected
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "failed": {"gateway": "the gateway bot is not connected"},
    }
    assert value(await scrape(client), "kyrios_gateway_connected") == 0
    assert (await client.get("/healthz")).json() == {"status": "ok"}


async def test_readiness_checks_redis_when_the_bus_uses_it(settings: Settings, redis_url: str) -> None:
    for url, ready in ((redis_url, True), ("redis://127.0.0.1:1/0", False)):
        runtime = build_runtime(settings.model_copy(update={"redis_url": url}))
        try:
            if ready:
                await runtime.start()
            transport = httpx.ASGITransport(app=create_app(runtime))
            async with httpx.AsyncClient(transport=transport, base_url="http://kyrios.test") as http:
                answer = (await http.get("/readyz")).json()
        finally:
            await runtime.aclose()
        if ready:
            assert answer == {"status": "ready"}
        else:
            assert list(answer["failed"]) == ["redis"], answer


async def list_acme(runtime: Runtime, clock: FrozenClock) -> tuple[int, int]:
    """ACME listed (tick 5) and two funded players."""
    now = clock.now()
    async with runtime.db.transaction() as session:
        await assets.create_asset(
            session,
            symbol="ACME",
            name="Acme Corp",
            asset_type=AssetType.STOCK,
            tick_size_cents=5,
            supply=10_000,
            price_cents=10_000,
            max_quantity=10_000,
            max_notional_cents=10**9,
            now=now,
        )
        ids = []
        for name in ("alice", "bob"):
            user = await accounts.create_user(session, username=name, now=now)
            await accounts.deposit(session, user.id, 10_000_000, now=now)
            ids.append(user.id)
    return ids[0], ids[1]


async def test_exchange_orders_trades_depth_and_the_lease(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    alice, bob = await list_acme(runtime, clock)
    lease = ExchangeLease(runtime.db, program="metrics test", lease_seconds=2, renew_seconds=0.2)
    await lease.acquire()
    await runtime.run_exchange(lease)
    exchange = runtime.exchange

    def order(side: Side, price: int, quantity: int) -> OrderRequest:
        return OrderRequest(symbol="ACME", side=side, price_cents=price, quantity=quantity)

    await exchange.submit_order(alice, order(Side.BUY, 9_990, 3))
    await exchange.submit_order(alice, order(Side.BUY, 9_980, 2))
    await exchange.submit_order(bob, order(Side.SELL, 10_010, 4))
    await exchange.submit_order(bob, order(Side.SELL, 9_990, 1))  # trades with alice's best bid
    with pytest.raises(DomainError):
        await exchange.submit_order(alice, order(Side.BUY, 9_991, 1))  # off the 5-cent tick
    text = await scrape(client)
    assert value(text, "kyrios_exchange_orders_total", outcome="accepted") == 4
    rejected = samples(text, "kyrios_exchange_orders_total")
    reasons = {labels["reason"]: v for labels, v in rejected if labels["outcome"] == "rejected"}
    assert list(reasons.values()) == [1] and all(reasons), reasons  # one, with its reason code
    assert value(text, "kyrios_exchange_trades_total", symbol="ACME") == 1
    assert (value(text, "kyrios_exchange_match_seconds_count") or 0) >= 5
    assert (value(text, "kyrios_exchange_persist_seconds_count") or 0) >= 5
    assert value(text, "kyrios_exchange_book_levels", symbol="ACME", side="bid") == 2
    assert value(text, "kyrios_exchange_book_levels", symbol="ACME", side="ask") == 1
    assert value(text, "kyrios_exchange_book_quantity", symbol="ACME", side="bid") == 4
    assert value(text, "kyrios_exchange_book_orders", symbol="ACME") == 3
    assert value(text, "kyrios_exchange_retries_total") == 0
    assert value(text, "kyrios_exchange_lease_held") == 1
    assert (await client.get("/readyz")).json() == {"status": "ready"}

    async with runtime.db.transaction() as session:  # another process takes the exchange over
        await (await Sql.of(session)).execute("UPDATE exchange_owner SET holder = ?", ("someone-else",))
    await wait_until(lambda: lease.lost)
    text = await scrape(client)
    assert value(text, "kyrios_exchange_lease_held") == 0
    assert value(text, "kyrios_exchange_owner") == 1
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == {"exchange_lease": "lost: another process took the exchange over"}


async def test_readiness_names_an_unreachable_database(settings: Settings, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-directory" / "kyrios.db"
    runtime = build_runtime(settings.model_copy(update={"database_url": f"sqlite:///{missing}"}))
    try:
        transport = httpx.ASGITransport(app=create_app(runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://kyrios.test") as http:
            response = await http.get("/readyz")
            assert (await http.get("/healthz")).status_code == 200
    finally:
        await runtime.aclose()
    assert response.status_code == 503
    failed = response.json()["failed"]
    assert list(failed) == ["database"] and failed["database"].startswith("OperationalError"), failed
