"""Points: give/take, history, leaderboard, and refusals that change nothing."""

from __future__ import annotations

from typing import Any

from kyrios.features.economy.models import EconomyLedger
from kyrios.runtime import Runtime
from kyrios.slash.invocation import Actor
from tests.helpers import assert_ledger_balanced, balance, count_rows, invoke, press, text_of


async def test_give_and_take_are_ledgered_with_reason_and_actor(runtime: Runtime) -> None:
    reply = await invoke(
        runtime, "give", admin=True, user_id=1, user="<@42>", amount=250, reason="event prize"
    )
    assert not reply.is_error, reply.content
    assert await balance(runtime) == 250
    assert not (await invoke(runtime, "take", admin=True, user_id=1, user="42", amount=50)).is_error
    assert await balance(runtime) == 200
    history = text_of(await invoke(runtime, "points history"))
    assert "event prize" in history and "Given by an admin" in history and "Taken by an admin" in history
    await assert_ledger_balanced(runtime)


async def test_refusals_change_nothing(runtime: Runtime) -> None:
    cases: list[tuple[dict[str, Any], str]] = [  # keyword arguments of `invoke`, as it takes them
        ({"admin": False, "user": "42", "amount": 10}, "server admins"),
        ({"admin": True, "user": "42", "amount": -5}, "at least 1"),
        ({"admin": True, "user": "42", "amount": 10**12}, "at most"),
        ({"admin": True, "user": "42", "amount": "lots"}, "whole number"),
        ({"admin": True, "user": "not-a-user", "amount": 5}, "mention or an id"),
        ({"admin": True, "amount": 5}, "needs the option `user`"),
    ]
    for options, message in cases:
        reply = await invoke(runtime, "give", **options)
        assert reply.is_error and reply.ephemeral, options
        assert message in (reply.content or ""), (options, reply.content)
    take = await invoke(runtime, "take", admin=True, user="42", amount=1)
    assert take.is_error
    assert await count_rows(runtime, EconomyLedger) == 0


async def test_bots_cannot_receive_points(runtime: Runtime) -> None:
    bot = Actor(id=77, name="somebot", is_bot=True)
    reply = await invoke(runtime, "give", admin=True, user="77", amount=5, users={77: bot})
    assert reply.is_error and "Bots" in (reply.content or "")


async def test_leaderboard_ranks_and_pages(runtime: Runtime) -> None:
    for user_id in range(100, 125):
        await invoke(runtime, "give", admin=True, user=str(user_id), amount=user_id)
    first = await invoke(runtime, "points leaderboard")
    text = text_of(first)
    assert text.index("<@124>") < text.index("<@123>")
    assert "Page 1/3" in text
    third = await press(runtime, "points-top:0:3", user_id=5)
    assert "Page 3/3" in text_of(third) and "<@100>" in text_of(third)


async def test_unknown_command_and_option(runtime: Runtime) -> None:
    unknown = await invoke(runtime, "gacha explode")
    assert unknown.is_error and "Unknown command" in (unknown.content or "")
    bad_option = await invoke(runtime, "gacha pull", colour="red")
    assert bad_option.is_error and "Unknown option" in (bad_option.content or "")
    outside = await invoke(runtime, "gacha pull", guild_id=None)
    assert outside.is_error and "inside a server" in (outside.content or "")
