"""Rumble through the slash harness: challenge → accept → battle → points, and every refusal."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from kyrios.core.clock import FrozenClock
from kyrios.features.economy.models import EconomyLedger
from kyrios.features.rumble.models import BattleStatus, RumbleBattle, RumblePlayer
from kyrios.runtime import Runtime
from kyrios.slash.invocation import Actor
from kyrios.slash.reply import Reply
from tests.features.test_locale import ask
from tests.helpers import announced, assert_ledger_balanced, balance, count_rows, invoke, press, text_of


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
    [battle] = await battles(runtime)
    assert f"Rumble #{battle.id}" in text and f"Seed {battle.seed}" in text and "R1" in text
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


async def test_only_the_opponent_may_answer_and_others_change_nothing(runtime: Runtime) -> None:
    challenge = await invoke(runtime, "rumble challenge", member="<@43>")
    custom_id = accept_id(challenge)
    for presser in (44, 42):  # a bystander, and the challenger themself
        refused = await press(runtime, custom_id, user_id=presser)
        assert refused.is_error and refused.ephemeral and "Only <@43>" in (refused.content or "")
    [battle] = await battles(runtime)
    assert battle.status is BattleStatus.PENDING
    declined = await press(runtime, challenge.buttons[0][1].custom_id or "", user_id=43)
    assert declined.update and "declined" in (declined.content or "")
    again = await press(runtime, custom_id, user_id=43)
    assert again.is_error and "already answered" in (again.content or "")
    assert await count_rows(runtime, EconomyLedger) == 0
    # the decline freed both players
    assert not (await invoke(runtime, "rumble challenge", member="<@43>")).is_error


async def test_refusals_are_clear_and_change_nothing(runtime: Runtime) -> None:
    bot = Actor(id=77, name="somebot", is_bot=True)
    await invoke(runtime, "give", admin=True, user="42", amount=30)
    await invoke(runtime, "rumble optout", user_id=45, enabled=True)
    cases: list[tuple[dict[str, object], str]] = [
        ({"member": "<@42>"}, "cannot challenge yourself"),
        ({"member": "<@77>", "users": {77: bot}}, "Bots do not fight"),
        ({"member": "<@45>"}, "does not take rumble challenges"),
        ({"member": "<@43>", "stake": 20}, "<@43> has 0 points, less than the stake of 20"),
        ({"member": "<@43>", "stake": 50}, "<@42> has 30 points"),
        ({"member": "<@43>", "stake": 20_000}, "at most 10,000"),
        ({"member": "<@43>", "stake": -1}, "at least 0"),
        ({"member": "nobody"}, "mention or an id"),
        ({}, "needs the option `member`"),
    ]
    for options, message in cases:
        reply = await invoke(runtime, "rumble challenge", **options)  # type: ignore[arg-type]
        assert reply.is_error and reply.ephemeral, options
        assert message in (reply.content or ""), (options, reply.content)
    assert await battles(runtime) == []
    assert await record(runtime, 42) is None and await record(runtime, 43) is None  # rolled back


async def test_a_pending_challenge_holds_both_players_until_it_expires(
    runtime: Runtime, clock: FrozenClock
) -> None:
    first = await invoke(runtime, "rumble challenge", member="<@43>")
    accept_id(first)
    for user_id, member in ((44, "<@43>"), (42, "<@44>"), (43, "<@44>")):
        busy = await invoke(runtime, "rumble challenge", user_id=user_id, member=member)
        assert busy.is_error and "already in a rumble challenge" in (busy.content or ""), (user_id, member)
    assert len(await battles(runtime)) == 1
    clock.advance(timedelta(seconds=61))
    late = await press(runtime, accept_id(first), user_id=43)
    assert late.update and "expired" in (late.content or "")
    assert [b.status for b in await battles(runtime)] == [BattleStatus.EXPIRED]
    second = await invoke(runtime, "rumble challenge", user_id=44, member="<@43>")
    assert not second.is_error
    assert await count_rows(runtime, EconomyLedger) == 0


async def test_an_unanswered_challenge_frees_players_without_any_press(
    runtime: Runtime, clock: FrozenClock
) -> None:
    accept_id(await invoke(runtime, "rumble challenge", member="<@43>"))
    clock.advance(timedelta(seconds=60))
    assert not (await invoke(runtime, "rumble challenge", user_id=44, member="<@42>")).is_error


async def test_cooldown_applies_to_both_fighters(runtime: Runtime, clock: FrozenClock) -> None:
    await fight(runtime)
    mine = await invoke(runtime, "rumble challenge", member="<@44>")
    assert mine.is_error and "You can fight again" in (mine.content or "")
    theirs = await invoke(runtime, "rumble challenge", user_id=44, member="<@43>")
    assert theirs.is_error and "<@43> can fight again" in (theirs.content or "")
    clock.advance(timedelta(minutes=30))
    assert not (await fight(runtime, 44, 43)).is_error


async def test_the_stake_is_checked_again_at_accept(runtime: Runtime) -> None:
    for user in (42, 43):
        await invoke(runtime, "give", admin=True, user=str(user), amount=100)
    challenge = await invoke(runtime, "rumble challenge", member="<@43>", stake=100)
    await invoke(runtime, "take", admin=True, user="43", amount=1)
    refused = await press(runtime, accept_id(challenge), user_id=43)
    assert refused.is_error and "<@43> has 99 points, less than the stake of 100" in (refused.content or "")
    [battle] = await battles(runtime)
    assert battle.status is BattleStatus.PENDING and battle.seed is None
    assert (await balance(runtime, 42), await balance(runtime, 43)) == (100, 99)
    await invoke(runtime, "give", admin=True, user="43", amount=1)
    assert not (await press(runtime, accept_id(challenge), user_id=43)).is_error
    assert sorted([await balance(runtime, 42), await balance(runtime, 43)]) == [10, 250]
    await assert_ledger_balanced(runtime)


async def test_replay_recomputes_the_battle_and_spots_a_tampered_log(runtime: Runtime) -> None:
    fought = await fight(runtime)
    [battle] = await battles(runtime)
    replayed = await invoke(runtime, "rumble replay", user_id=99, battle=battle.id)
    assert "same battle and the same winner" in (replayed.content or "")
    assert replayed.embeds[0].description == fought.embeds[0].description  # the same log, line by line
    async with runtime.db.read() as session:
        log = await session.scalar(select(RumbleBattle.log).where(RumbleBattle.id == battle.id))
    assert log is not None and log.endswith(("w0", "w1"))
    tampered = log[:-1] + ("1" if log.endswith("0") else "0")
    await runtime.db.run(
        lambda s: s.execute(update(RumbleBattle).where(RumbleBattle.id == battle.id).values(log=tampered))
    )
    assert "differs" in (await invoke(runtime, "rumble replay", battle=battle.id)).content  # type: ignore[operator]
    missing = await invoke(runtime, "rumble replay", battle=battle.id + 1)
    assert missing.is_error and f"no fought rumble battle #{battle.id + 1}" in (missing.content or "")


async def test_history_rank_and_profile_show_the_record(runtime: Runtime, clock: FrozenClock) -> None:
    for round_ in range(12):  # 42 fights 43 and 44 alternately, 31 minutes apart
        await fight(runtime, 42, 43 + round_ % 2)
        clock.advance(timedelta(minutes=31))
    mine = text_of(await invoke(runtime, "rumble history"))
    assert "12 battles" in mine and "Page 1/2" in mine and "<@42>'s rumbles" in mine
    server = text_of(await invoke(runtime, "rumble recent", page=2))
    assert "Page 2/2" in server and "beat" in server
    week = text_of(await invoke(runtime, "rumble rank"))
    total = text_of(await invoke(runtime, "rumble rank", period="all"))
    assert "this week" in week and "all time" in total and "rating" in total
    wins = {uid: (await record(runtime, uid)) for uid in (42, 43, 44)}
    assert sum(r.wins for r in wins.values() if r) == 12
    leader = max(wins.values(), key=lambda r: (r.wins if r else 0, r.rating if r else 0))
    assert leader is not None and total.index(f"<@{leader.user_id}>") < total.index("rating")
    profile = text_of(await invoke(runtime, "profile", user_id=42))
    assert wins[42] is not None and f"Rumble: {wins[42].wins}W {wins[42].losses}L" in profile
    clock.advance(timedelta(days=40))
    assert "No battles in this period" in text_of(await invoke(runtime, "rumble rank", period="month"))
    assert "1." in text_of(await invoke(runtime, "rumble rank", period="all"))


async def test_ten_wins_unlock_rumble_master(runtime: Runtime, clock: FrozenClock) -> None:
    masters = []
    for opponent in range(100, 160):
        if (won := await record(runtime, 42)) is not None and won.wins >= 10:
            break
        await fight(runtime, 42, opponent)
        masters.append((await announced(runtime)).count("rumble_master"))
        clock.advance(timedelta(minutes=30))
    assert masters[-1] == 1 and masters.count(1) == 1  # queued by the tenth win, once
    assert "Rumble Master" in text_of(await invoke(runtime, "achievements"))


async def test_admins_set_the_rules_and_the_battle_uses_them(runtime: Runtime, clock: FrozenClock) -> None:
    refused = await invoke(runtime, "rumble config", win=100)
    assert refused.is_error and "admin" in (refused.content or "")
    empty = await invoke(runtime, "rumble config", admin=True)
    assert empty.is_error and "at least one of" in (empty.content or "")
    bad = await invoke(runtime, "rumble config", admin=True, answer_seconds=5)
    assert bad.is_error
    done = await invoke(runtime, "rumble config", admin=True, win=100, loss=0, cooldown=0, answer_seconds=30)
    assert "win **100** points" in (done.content or "")
    await fight(runtime)
    [battle] = await battles(runtime)
    assert battle.winner_id is not None and await balance(runtime, battle.winner_id) == 100
    assert battle.loser_id is not None and await balance(runtime, battle.loser_id) == 0
    challenge = await invoke(runtime, "rumble challenge", member="<@43>")  # no cooldown now
    clock.advance(timedelta(seconds=30))
    assert "expired" in ((await press(runtime, accept_id(challenge), user_id=43)).content or "")


async def test_replies_in_japanese(runtime: Runtime) -> None:
    inv_challenge = await ask(runtime, "rumble challenge", user_locale="ja", member="<@43>")
    assert "ランブルの挑戦" in text_of(inv_challenge)
    assert inv_challenge.buttons[0][0].label == "受ける"
    refused = await ask(runtime, "rumble challenge", user_locale="ja", member="<@42>")
    assert "自分自身には挑戦できません" in (refused.content or "")


async def test_rules_show_the_settings_and_the_callers_cooldown(runtime: Runtime, clock: FrozenClock) -> None:
    before = text_of(await invoke(runtime, "rumble rules"))
    assert "50 points" in before and "10 points" in before and "30 minutes" in before
    assert "60 seconds" in before and "You can fight now" in before
    await fight(runtime)
    assert "You can fight again" in text_of(await invoke(runtime, "rumble rules"))
    clock.advance(timedelta(minutes=30))
    assert "You can fight now" in text_of(await invoke(runtime, "rumble rules"))


async def test_rank_and_history_pages_turn_with_their_buttons(runtime: Runtime) -> None:
    await invoke(runtime, "rumble config", admin=True, cooldown=0)
    for pair in range(11):  # eleven different winners
        await fight(runtime, 200 + 2 * pair, 201 + 2 * pair)
    first = await invoke(runtime, "rumble rank", period="all")
    assert "Page 1/2" in text_of(first)
    next_id = first.buttons[0][2].custom_id
    assert next_id == "rumble-rank:2:2"
    second = await press(runtime, next_id, user_id=7)
    assert second.update and "Page 2/2" in text_of(second) and "**11.**" in text_of(second)
    broken = await press(runtime, "rumble-rank:9:1", user_id=7)
    assert broken.is_error and "broken" in (broken.content or "")
    recent = await press(runtime, "rumble-history:0:2", user_id=7)
    assert recent.update and "Page 2/2" in text_of(recent) and "11 battles" in text_of(recent)
