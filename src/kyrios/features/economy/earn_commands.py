"""Earning commands: `/daily`, `/pay`, and the admins' `/earn config` and `/earn multiplier`."""

from __future__ import annotations

from typing import Annotated

from kyrios.core.features import Feature
from kyrios.features.economy import earning
from kyrios.features.economy.service import MAX_TRANSFER
from kyrios.slash.invocation import Actor, RoleRef
from kyrios.slash.options import Opt
from kyrios.slash.registry import CommandSet, Context
from kyrios.slash.reply import Colour, Embed, Reply

commands = CommandSet(Feature.ECONOMY)

MAX_DAILY = 1_000_000
MAX_STREAK_CAP = 365
MAX_COOLDOWN = 86_400
MAX_PERCENT = 1_000


@commands.slash("daily", "Take today's reward (a streak of days earns a bonus)")
async def daily(ctx: Context) -> Reply:
    """The daily reward on the guild's day boundary."""
    reward = await earning.claim_daily(
        ctx.session,
        guild_id=ctx.guild_id,
        user_id=ctx.user_id,
        role_ids=ctx.inv.role_ids,
        now=ctx.now,
        default_timezone=ctx.default_timezone,
        channel_id=ctx.inv.channel_id,
    )
    lines = [
        ctx.tn("🎁 You got **{n}** point.", "🎁 You got **{n}** points.", reward.amount),
        ctx.tn("🔥 Streak: {n} day.", "🔥 Streak: {n} days.", reward.streak),
    ]
    if reward.percent != earning.NEUTRAL:
        lines.append(ctx.t("Your roles' multiplier: {percent} %.", percent=reward.percent))
    lines.append(
        ctx.t(
            "Balance: **{balance}**. The next reward is {next_at:R}.",
            balance=reward.balance,
            next_at=reward.next_at,
        )
    )
    return Reply.embed(Embed(title=ctx.t("Daily reward"), description="\n".join(lines), colour=Colour.GOLD))


@commands.slash("pay", "Send some of your points to another member")
async def pay(
    ctx: Context,
    user: Annotated[Actor, Opt("Who gets the points")],
    amount: Annotated[int, Opt("Number of points", min_value=1, max_value=MAX_TRANSFER)],
) -> Reply:
    """A transfer between members, within the guild's daily limit."""
    paid = await earning.pay(
        ctx.session,
        guild_id=ctx.guild_id,
        payer_id=ctx.user_id,
        payee_id=user.id,
        payee_is_bot=user.is_bot,
        amount=amount,
        now=ctx.now,
        default_timezone=ctx.default_timezone,
        channel_id=ctx.inv.channel_id,
    )
    text = ctx.tn(
        "✅ Sent **{n}** point to {user}. Your balance: **{balance}**.",
        "✅ Sent **{n}** points to {user}. Your balance: **{balance}**.",
        paid.amount,
        user=user.mention,
        balance=paid.balance,
    )
    if paid.limit:
        text += "\n" + ctx.t("Sent today: {sent} of {limit}.", sent=paid.sent_today, limit=paid.limit)
    return Reply(content=text)


@commands.slash("earn config", "Set how members earn points (admins)", admin=True)
async def config(
    ctx: Context,
    daily: Annotated[int | None, Opt("Points of /daily (0 = off)", min_value=0, max_value=MAX_DAILY)] = None,
    streak_bonus: Annotated[
        int | None, Opt("Extra points per day of streak", min_value=0, max_value=MAX_DAILY)
    ] = None,
    streak_cap: Annotated[
        int | None, Opt("Streak days that add a bonus, at most", min_value=0, max_value=MAX_STREAK_CAP)
    ] = None,
    message_points: Annotated[
        int | None, Opt("Points for a message (0 = off)", min_value=0, max_value=MAX_DAILY)
    ] = None,
    message_cooldown: Annotated[
        int | None,
        Opt("Seconds before a member's next message earns again", min_value=1, max_value=MAX_COOLDOWN),
    ] = None,
    voice_points: Annotated[
        int | None, Opt("Points per minute in voice (0 = off)", min_value=0, max_value=MAX_DAILY)
    ] = None,
    pay_limit: Annotated[
        int | None,
        Opt("Points a member can send per day (0 = no limit)", min_value=0, max_value=MAX_TRANSFER),
    ] = None,
) -> Reply:
    """Change the earning rules; without options, show them."""
    given = {
        "daily_amount": daily,
        "streak_bonus": streak_bonus,
        "streak_cap": streak_cap,
        "message_points": message_points,
        "message_cooldown_seconds": message_cooldown,
        "voice_points_per_minute": voice_points,
        "pay_daily_limit": pay_limit,
    }
    changes = {name: value for name, value in given.items() if value is not None}
    if changes:
        rules = await earning.configure(ctx.session, ctx.guild_id, now=ctx.now, **changes)
    else:
        rules = await earning.settings(ctx.session, ctx.guild_id)
    roles = await earning.multipliers(ctx.session, ctx.guild_id)
    lines = [
        ctx.t("Daily reward: **{amount}** points", amount=rules.daily_amount),
        ctx.t(
            "Streak bonus: **{bonus}** points a day, for up to {cap} days",
            bonus=rules.streak_bonus,
            cap=rules.streak_cap,
        ),
        ctx.t(
            "Messages: **{points}** points, once every {seconds} seconds",
            points=rules.message_points,
            seconds=rules.message_cooldown_seconds,
        ),
        ctx.t("Voice: **{points}** points a minute", points=rules.voice_points_per_minute),
        ctx.t("Pay limit: **{limit}** points a day", limit=rules.pay_daily_limit)
        if rules.pay_daily_limit
        else ctx.t("Pay limit: none"),
    ]
    lines += [ctx.t("<@&{role}>: ×{percent} %", role=role, percent=percent) for role, percent in roles]
    return Reply.embed(Embed(title=ctx.t("Earning rules"), description="\n".join(lines)), ephemeral=True)


@commands.slash("earn multiplier", "Set a role's earning multiplier (admins)", admin=True)
async def multiplier(
    ctx: Context,
    role: Annotated[RoleRef, Opt("The role")],
    percent: Annotated[
        int, Opt("Percent of normal earnings (100 = none)", min_value=0, max_value=MAX_PERCENT)
    ],
) -> Reply:
    """A role's multiplier of /daily and activity points (members get their highest)."""
    await earning.set_multiplier(ctx.session, ctx.guild_id, role.id, percent)
    if percent == earning.NEUTRAL:
        return Reply(content=ctx.t("✅ {role} earns like everyone else.", role=role.mention))
    return Reply(content=ctx.t("✅ {role} now earns {percent} %.", role=role.mention, percent=percent))
