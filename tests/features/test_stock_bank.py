"""`/stock deposit|withdraw|config`: guild points and exchange cash change together or not at all."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from kyrios.core.clock import FrozenClock
from kyrios.core.i18n import lazy
from kyrios.exchange.models import ExchangeCashLedger
from kyrios.exchange.owner import LOST_TO_ANOTHER, TAKEN_OVER, ExchangeLease
from kyrios.features.economy import service as economy
from kyrios.features.economy.models import EconomyLedger, Reason
from kyrios.features.guild_settings import service as guild_settings
from kyrios.features.stock.models import StockTransfer
from kyrios.runtime import Runtime
from kyrios.slash.invocation import Actor, Invocation
from tests.helpers import assert_ledger_balanced, balance, count_rows, invoke, text_of

MEMBER = 42


async def give(runtime: Runtime, points: int, user_id: int = MEMBER) -> None:
    async def work(session: object) -> None:
        await economy.credit(
            session,  # type: ignore[arg-type]
            guild_id=1,
            user_id=user_id,
            amount=points,
            reason=Reason.GRANT,
            now=runtime.clock.now(),
        )

    await runtime.db.run(work)


async def cash(runtime: Runtime, discord_id: int = MEMBER) -> int:
    account = await runtime.exchange.trader(discord_id, f"user{discord_id}")
    return (await runtime.exchange.portfolio(account.id)).cash_cents


@pytest.fixture
async def running(runtime: Runtime) -> AsyncIterator[Runtime]:
    """The runtime running the exchange; the member has 5,000 points."""
    lease = ExchangeLease(runtime.db, program="stock bank tests")
    await lease.acquire()
    await runtime.run_exchange(lease)
    await give(runtime, 5_000)
    yield runtime


async def unchanged(runtime: Runtime, points: int, cash_cents: int | None) -> None:
    assert await balance(runtime, MEMBER) == points
    if cash_cents is not None:
        assert await cash(runtime) == cash_cents
    await assert_ledger_balanced(runtime)


async def test_deposit_and_withdraw_move_both_ledgers(running: Runtime) -> None:
    reply = await invoke(running, "stock deposit", points=1_200)
    assert not reply.is_error, text_of(reply)
    assert await balance(running, MEMBER) == 3_800
    assert await cash(running) == 120_000  # the default rate: one point is 1.00
    assert "1,200.00" in text_of(reply) and "8,800 points left" in text_of(reply)

    back = await invoke(running, "stock withdraw", cash="300.00")
    assert not back.is_error, text_of(back)
    assert await balance(running, MEMBER) == 4_100
    assert await cash(running) == 90_000
    assert await count_rows(running, ExchangeCashLedger) == 2
    assert await count_rows(running, StockTransfer) == 2
    await assert_ledger_balanced(running)


async def test_the_guild_rate_and_limit_apply(running: Runtime, clock: FrozenClock) -> None:
    refused = await invoke(running, "stock config", rate="0.50")
    assert refused.is_error and "server admins" in text_of(refused)
    shown = await invoke(running, "stock config", admin=True, rate="0.50", daily_limit=1_000)
    assert "0.50" in text_of(shown) and "1,000 points" in text_of(shown)

    await invoke(running, "stock deposit", points=800)
    assert await cash(running) == 40_000
    over = await invoke(running, "stock deposit", points=201)
    assert over.is_error and "200 are left" in text_of(over)
    await unchanged(running, 4_200, 40_000)

    odd = await invoke(running, "stock withdraw", cash="0.75")
    assert odd.is_error and "multiple" in text_of(odd)
    await unchanged(running, 4_200, 40_000)

    clock.advance(timedelta(days=1))
    assert not (await invoke(running, "stock deposit", points=1_000)).is_error
    await unchanged(running, 3_200, 90_000)


async def test_refusals_change_neither_ledger(running: Runtime) -> None:
    poor = await invoke(running, "stock deposit", points=6_000)
    assert poor.is_error and "5,000" in text_of(poor)
    await unchanged(running, 5_000, None)
    await invoke(running, "stock deposit", points=100)
    too_much = await invoke(running, "stock withdraw", cash="100.01")
    assert too_much.is_error
    too_much = await invoke(running, "stock withdraw", cash="200")
    assert too_much.is_error and "100.00" in text_of(too_much), text_of(too_much)
    await unchanged(running, 4_900, 10_000)
    assert await count_rows(running, StockTransfer) == 1
    assert await count_rows(running, ExchangeCashLedger) == 1


async def test_without_a_running_exchange_nothing_changes(runtime: Runtime) -> None:
    await give(runtime, 500)
    reply = await invoke(runtime, "stock deposit", points=100)
    assert reply.is_error and "No process runs the exchange" in text_of(reply)
    assert await balance(runtime, MEMBER) == 500
    assert await count_rows(runtime, StockTransfer) == 0
    assert await count_rows(runtime, ExchangeCashLedger) == 0
    await assert_ledger_balanced(runtime)


async def test_japanese_reply(running: Runtime) -> None:
    inv = Invocation(
        actor=Actor(id=MEMBER, name="member"),
        guild_id=1,
        command="stock deposit",
        options={"points": 10},
        locale="ja",
    )
    reply = await running.registry.dispatch(inv)
    assert "ポイントを現金に換えました" in text_of(reply), text_of(reply)


async def test_concurrent_conversions_cannot_both_pass_the_limit(running: Runtime) -> None:
    await invoke(running, "stock config", admin=True, daily_limit=1_000)
    replies = await asyncio.gather(*(invoke(running, "stock deposit", points=600) for _ in range(4)))
    assert sum(not r.is_error for r in replies) == 1, [text_of(r) for r in replies]
    await unchanged(running, 4_400, 60_000)
    assert await count_rows(running, StockTransfer) == 1


async def test_a_lost_lease_refuses_inside_the_unit_of_work(running: Runtime) -> None:
    """The exchange write is fenced in the command's own transaction: once this process lost the
    lease, the deposit is refused and the points it had already debited are rolled back."""
    await invoke(running, "stock deposit", points=100)
    lease = running.exchange.exchange.lease  # type: ignore[attr-defined]
    lease.lose(TAKEN_OVER, lazy(LOST_TO_ANOTHER))
    reply = await invoke(running, "stock deposit", points=100)
    assert reply.is_error and "another process" in text_of(reply), text_of(reply)
    await unchanged(running, 4_900, None)
    assert await count_rows(running, StockTransfer) == 1
    assert await count_rows(running, ExchangeCashLedger) == 1


async def ledger_details(runtime: Runtime) -> tuple[list[str], list[str]]:
    """The member's points ledger details and their exchange cash ledger details, oldest first."""
    account = await runtime.exchange.trader(MEMBER, f"user{MEMBER}")
    async with runtime.db.read() as session:
        points = await session.scalars(
            select(EconomyLedger.detail)
            .where(EconomyLedger.reason == Reason.EXCHANGE)
            .order_by(EconomyLedger.id)
        )
        cash_rows = await session.scalars(
            select(ExchangeCashLedger.detail)
            .where(ExchangeCashLedger.user_id == account.id, ExchangeCashLedger.detail != "")
            .order_by(ExchangeCashLedger.id)
        )
        return list(points), list(cash_rows)


async def test_ledger_details_are_written_in_the_guilds_language(running: Runtime) -> None:
    await invoke(running, "stock deposit", points=100)
    await invoke(running, "stock withdraw", cash="50.00")
    assert await ledger_details(running) == (
        ["Stock deposit", "Stock withdrawal"],
        ["Points from server 1", "Points to server 1"],
    )
    now = running.clock.now()
    await running.db.run(lambda session: guild_settings.update(session, 1, now=now, locale="ja"))
    await invoke(running, "stock deposit", points=100)
    await invoke(running, "stock withdraw", cash="50.00")
    points, cash_rows = await ledger_details(running)
    assert points[2:] == ["株式口座への入金", "株式口座からの出金"]
    assert cash_rows[2:] == ["サーバー 1 のポイントから", "サーバー 1 のポイントへ"]
