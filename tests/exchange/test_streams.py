"""The exchange across processes over Redis Streams: an owner runtime and a runtime without the
exchange, sharing the test database and Redis (KYRIOS_TEST_REDIS_URL; skipped without it)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select

from kyrios.core.clock import FrozenClock
from kyrios.core.errors import DomainError, InsufficientFunds, NotFound
from kyrios.core.i18n import Translator
from kyrios.core.rng import RandomSource
from kyrios.exchange.client import DetachedClient, InProcessClient
from kyrios.exchange.engine import Side
from kyrios.exchange.models import ExchangeOrder, Role
from kyrios.exchange.owner import ExchangeLease
from kyrios.exchange.schemas import AssetListing, OrderRequest
from kyrios.exchange.streams import CONSUMER, GROUP, PREFIX, NoAnswer, StreamClient
from kyrios.runtime import Runtime, build_runtime
from kyrios.settings import Settings
from kyrios.testing.database import wipe

PRICE = 10_000
JAPANESE = Translator("ja")


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    """The test Redis, the exchange's command stream and replies cleared before and after."""
    connection = Redis.from_url(redis_url)

    async def clear() -> None:
        keys = [key async for key in connection.scan_iter(match=f"{PREFIX}*")]
        if keys:
            await connection.delete(*keys)

    await clear()
    try:
        yield connection
    finally:
        await clear()
        await connection.aclose()


@pytest.fixture
def shared(settings: Settings, redis_url: str) -> Settings:
    """Both processes' settings: the test database and Redis."""
    return settings.model_copy(update={"redis_url": redis_url})


@pytest.fixture
async def remote(shared: Settings, clock: FrozenClock, redis: Redis) -> AsyncIterator[Runtime]:
    """A process that does not run the exchange (an API worker, a bot, the CLI)."""
    runtime = build_runtime(shared, clock=clock, rng=RandomSource(12))
    await wipe(runtime.db)
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.aclose()


@pytest.fixture
async def owner(shared: Settings, clock: FrozenClock, remote: Runtime) -> AsyncIterator[Runtime]:
    """The process that runs the exchange under the lease and serves the command stream."""
    runtime = build_runtime(shared, clock=clock, rng=RandomSource(13))
    await runtime.start()
    try:
        lease = ExchangeLease(runtime.db, program="owner")
        await lease.acquire()
        await runtime.run_exchange(lease)
        yield runtime
    finally:
        await runtime.aclose()


async def open_market(remote: Runtime) -> tuple[int, int]:
    """ACME listed, the rules relaxed and two funded players, all made through `remote`."""
    client = remote.exchange
    await client.create_asset(
        AssetListing(symbol="ACME", name="Acme", supply=10_000, price_cents=PRICE, tick_size_cents=5)
    )
    await client.change_rules(orders_per_second=1_000, order_burst=1_000)
    ids = []
    for name in ("alice", "bob"):
        user = await client.create_user(name, role=Role.PLAYER)
        assert await client.deposit(user.id, 1_000_000) == 1_000_000
        ids.append(user.id)
    return ids[0], ids[1]


def order(side: Side, quantity: int, price: int = PRICE, client_order_id: str | None = None) -> OrderRequest:
    """A limit order of ACME."""
    return OrderRequest(
        symbol="ACME", side=side, quantity=quantity, price_cents=price, client_order_id=client_order_id
    )


async def refusal(call: Awaitable[object]) -> DomainError:
    """The domain error `call` raises."""
    with pytest.raises(DomainError) as raised:
        await call
    return raised.value


async def test_without_redis_a_process_without_the_exchange_stays_detached(
    settings: Settings, clock: FrozenClock
) -> None:
    runtime = build_runtime(settings, clock=clock)
    try:
        assert isinstance(runtime.exchange, DetachedClient)
    finally:
        await runtime.aclose()
    off = build_runtime(
        settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0", "exchange_over_redis": False})
    )
    try:
        assert isinstance(off.exchange, DetachedClient)
    finally:
        await off.aclose()


async def test_orders_sent_from_another_process_land_in_the_owners_book_and_database(
    owner: Runtime, remote: Runtime
) -> None:
    assert isinstance(remote.exchange, StreamClient) and isinstance(owner.exchange, InProcessClient)
    alice, bob = await open_market(remote)
    resting = await remote.exchange.submit_order(alice, order(Side.BUY, 10, PRICE - 100))
    assert resting.status == "OPEN" and resting.user_id == alice
    assert (await owner.exchange.depth("ACME")).bids == [(PRICE - 100, 10)]  # the owner's live book
    assert (await remote.exchange.depth("ACME")).bids == [(PRICE - 100, 10)]
    assert [o.id for o in await owner.exchange.orders(alice)] == [resting.id]  # its database

    trade = await remote.exchange.submit_order(bob, order(Side.BUY, 4, PRICE + 5))
    assert trade.status == "OPEN"
    assert (await remote.exchange.depth("ACME")).bids == [(PRICE + 5, 4), (PRICE - 100, 10)]
    canceled = await remote.exchange.cancel_all(alice, "ACME")
    assert [o.id for o in canceled] == [resting.id] and canceled[0].status == "CANCELED"
    again = await remote.exchange.cancel_order(bob, client_order_id=None, order_id=trade.id)
    assert again.status == "CANCELED"
    assert (await owner.exchange.depth("ACME")).bids == []
    portfolio = await remote.exchange.portfolio(alice)
    assert portfolio == await owner.exchange.portfolio(alice)
    assert portfolio.reserved_cents == 0
    assert await remote.exchange.orders(alice) == await owner.exchange.orders(alice)


async def test_an_error_at_the_owner_is_raised_as_the_same_domain_error(
    owner: Runtime, remote: Runtime
) -> None:
    alice, _ = await open_market(remote)
    unknown = order(Side.BUY, 1, PRICE, "u-remote").model_copy(update={"symbol": "NOPE"})
    here = await refusal(
        owner.exchange.submit_order(alice, unknown.model_copy(update={"client_order_id": "u-local"}))
    )
    there = await refusal(remote.exchange.submit_order(alice, unknown))
    assert isinstance(there, NotFound) and type(there) is type(here)
    assert there.message == here.message == "There is no symbol NOPE."
    assert there.render(JAPANESE) == here.render(JAPANESE) != there.message

    too_big = order(Side.BUY, 1_000, PRICE)  # 10,000,000 cents against 1,000,000 of cash
    here = await refusal(
        owner.exchange.submit_order(alice, too_big.model_copy(update={"client_order_id": "c-l"}))
    )
    there = await refusal(
        remote.exchange.submit_order(alice, too_big.model_copy(update={"client_order_id": "c-r"}))
    )
    assert isinstance(there, InsufficientFunds) and type(there) is type(here)
    assert (there.text.msgid, dict(there.text.params)) == (here.text.msgid, dict(here.text.params))
    assert there.render(JAPANESE) == here.render(JAPANESE)
    assert (await remote.exchange.portfolio(alice)).cash_cents == 1_000_000  # nothing was reserved


async def test_a_retried_submit_after_a_lost_reply_makes_one_order(
    owner: Runtime, remote: Runtime, redis: Redis
) -> None:
    alice, _ = await open_market(remote)
    client = remote.exchange
    assert isinstance(client, StreamClient)
    request = order(Side.BUY, 3, PRICE - 50, client_order_id="retry-me")
    reply = await client.send("submit_order", user_id=alice, request=request)

    assert await redis.blpop([reply], timeout=10) is not None  # the reply is lost on its way back
    impatient = StreamClient(remote.db, remote.clock, redis, timeout=0.2)
    with pytest.raises(NoAnswer):
        await impatient.receive("submit_order", reply)

    retried = await client.submit_order(alice, request)
    assert retried.duplicate and retried.client_order_id == "retry-me"
    async with owner.db.read() as session:
        rows = await session.scalar(
            select(func.count()).select_from(ExchangeOrder).where(ExchangeOrder.client_order_id == "retry-me")
        )
    assert rows == 1
    assert (await owner.exchange.depth("ACME")).bids == [(PRICE - 50, 3)]


async def test_without_an_owner_a_command_times_out_and_is_never_run_later(
    shared: Settings, clock: FrozenClock, remote: Runtime, redis: Redis
) -> None:
    impatient = StreamClient(remote.db, remote.clock, redis, timeout=0.3)
    refused = await refusal(impatient.create_user("ghost", role=Role.PLAYER))
    assert isinstance(refused, NoAnswer)
    assert refused.message.startswith("The exchange did not answer in time (0.3 s)")
    assert refused.render(JAPANESE) != refused.message

    late = build_runtime(shared, clock=clock, rng=RandomSource(14))  # an owner starts after the timeout
    await late.start()
    try:
        lease = ExchangeLease(late.db, program="late owner")
        await lease.acquire()
        await late.run_exchange(lease)
        user = await remote.exchange.create_user("alive", role=Role.PLAYER)  # served after the stale one
        assert [u.username for u in await remote.exchange.users()] == [user.username]
    finally:
        await late.aclose()


async def test_a_command_read_by_an_owner_that_died_before_acknowledging_is_run_by_the_next(
    shared: Settings, clock: FrozenClock, remote: Runtime, redis: Redis
) -> None:
    client = remote.exchange
    assert isinstance(client, StreamClient)
    await redis.xgroup_create(client.stream, GROUP, id="0", mkstream=True)
    reply = await client.send("create_user", username="pending", role=Role.PLAYER, discord_id=None)
    taken: Any = await redis.xreadgroup(GROUP, CONSUMER, {client.stream: ">"}, count=10)
    assert len(taken[0][1]) == 1  # read by an owner that then died: pending, never acknowledged

    successor = build_runtime(shared, clock=clock, rng=RandomSource(15))
    await successor.start()
    try:
        lease = ExchangeLease(successor.db, program="successor")
        await lease.acquire()
        await successor.run_exchange(lease)
        user = await client.receive("create_user", reply)
        assert user.username == "pending"
        assert [u.username for u in await successor.exchange.users()] == ["pending"]
    finally:
        await successor.aclose()  # waits for the commands in flight
    assert (await redis.xpending(client.stream, GROUP))["pending"] == 0  # acknowledged after it ran


async def test_the_owner_serves_again_after_its_stream_was_deleted(
    owner: Runtime, remote: Runtime, redis: Redis
) -> None:
    client = remote.exchange
    assert isinstance(client, StreamClient)
    await client.create_user("before", role=Role.PLAYER)
    await redis.delete(client.stream)  # a flushed Redis: the stream and its consumer group are gone
    after = await client.create_user("after", role=Role.PLAYER)
    assert after.username == "after"
