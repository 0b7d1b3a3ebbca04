"""Rumble through the slash harness: challenge → accept → battle → points, and every refusal."""

from __future__ import annotations

from sqlalchemy import select

from kyrios.features.economy.models import EconomyLedger
from kyrios.features.rumble.models import BattleStatus, RumbleBattle, RumblePlayer
from kyrios.runtime import Runtime
from kyrios.slash.reply import Reply
from tests.helpers import assert_ledger_balanced, balance, invoke, press, text_of


def accept_id(reply: Reply) -> str:
    """The Accept button's custom id on a challenge."""
    assert not reply.is_error, reply.content
    custom_id = reply.buttons[0][0].custom_id
    assert custom_id is not None and custom_id.startswith("rumble-accept:")
    return custom_id


async def battles(rt: Runtime) -> list[RumbleBattle]:
    async with rt.db.read() as session:
        return list(await session.scalars(select(RumbleBattle).order_by(RumbleBattle.id)))


async def record(rt: Runtime, user_id: int) -> RumblePlayer | None:
    async with rt.db.read() as session:
        return await session.get(RumblePlayer, (1, user_id))


async def fight(rt: Runtime, challenger: int = 42, opponent: int = 43, stake: int = 0) -> Reply:
    """Challenge and accept; returns the battle reply."""
    challenge = await invoke(rt, "rumble challenge", user_id=challenger, member=f"<@{opponent}>", stake=stake)
    return await press(rt, accept_id(challenge), user_id=opponent)


async def test_accepted_challenge_fights_and_pays_win_loss_and_stake(runtime: Runtime) -> None:
    for user in (42, 43):
        await invoke(runtime, "give", admin=True, user=str(user), amount=500)
    challenge = await invoke(runtime, "rumble challenge", member="<@43>", stake=100)
    assert "<@43>" in text_of(challenge) and "100" in text_of(challenge)
    result = await press(runtime, accept_id(challenge), user_id=43)
    assert not result.is_error and result.update, result.content
    text = text_of(result)
    assert "Rumble #1" in text and "Seed" in text and "R1" in text

    [battle] = await battles(runtime)
    assert battle.status is BattleStatus.FOUGHT and battle.seed is not None and battle.log
    winner, loser = battle.winner_id, battle.loser_id
    assert {winner, loser} == {42, 43}
    assert winner is not None and loser is not None
    assert await balance(runtime, winner) == 500 + 50 + 100
    assert await balance(runtime, loser) == 500 + 10 - 100
    assert (battle.winner_points, battle.loser_points) == (150, -90)
    won, lost = await record(runtime, winner), await record(runtime, loser)
    assert won is not None and lost is not None
    assert (won.wins, won.losses, lost.wins, lost.losses) == (1, 0, 0, 1)
    assert won.rating == 1016 and lost.rating == 984
    assert won.pending_battle_id is None and lost.pending_battle_id is None
    reasons = sorted(str(r.reason) for r in await ledger(runtime))
    assert reasons == ["grant", "grant", "rumble_loss", "rumble_stake", "rumble_stake", "rumble_win"]
    await assert_ledger_balanced(runtime)


async def ledger(rt: Runtime) -> list[EconomyLedger]:
    async with rt.db.read() as session:
        return list(await session.scalars(select(EconomyLedger)))
