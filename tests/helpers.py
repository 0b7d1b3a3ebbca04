"""Small helpers for tests that call the registry directly."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from kyrios.core.models import Base
from kyrios.features.achievements.models import AchievementOutbox
from kyrios.features.economy import service as economy
from kyrios.runtime import Runtime
from kyrios.slash.invocation import Actor, Invocation, Permission, Source
from kyrios.slash.reply import Reply


async def invoke(
    rt: Runtime,
    command: str,
    *,
    user_id: int = 42,
    guild_id: int | None = 1,
    admin: bool = False,
    users: dict[int, Actor] | None = None,
    **options: Any,
) -> Reply:
    """Dispatch a slash command as a member of guild 1."""
    inv = Invocation(
        actor=Actor(id=user_id, name=f"user{user_id}"),
        guild_id=guild_id,
        channel_id=10,
        command=command,
        options=options,
        permissions=int(Permission.ADMINISTRATOR) if admin else 0,
        source=Source.CONSOLE,
        resolved_users=users or {},
    )
    return await rt.registry.dispatch(inv)


async def press(rt: Runtime, custom_id: str, *, user_id: int = 42, guild_id: int = 1) -> Reply:
    """Press a button."""
    inv = Invocation(actor=Actor(id=user_id, name=f"user{user_id}"), guild_id=guild_id, custom_id=custom_id)
    return await rt.registry.dispatch(inv)


def text_of(reply: Reply) -> str:
    """Everything a user would read in a reply."""
    parts = [reply.content or ""]
    for embed in reply.embeds:
        parts += [embed.title or "", embed.description or "", embed.footer or ""]
        parts += [f"{f.name}: {f.value}" for f in embed.fields]
    return "\n".join(parts)


async def balance(rt: Runtime, user_id: int = 42, guild_id: int = 1) -> int:
    """A member's points."""
    async with rt.db.read() as session:
        return await economy.balance(session, guild_id, user_id)


async def count_rows(rt: Runtime, model: type[Base], **where: object) -> int:
    """Rows of a table matching simple equality filters."""
    async with rt.db.read() as session:
        rows = await session.scalars(select(model).filter_by(**where))
        return len(list(rows))


async def announced(rt: Runtime, user_id: int = 42, guild_id: int = 1) -> list[str]:
    """The member's achievement codes queued for announcement (the outbox), oldest first."""
    async with rt.db.read() as session:
        rows = await session.scalars(
            select(AchievementOutbox.code)
            .where(AchievementOutbox.guild_id == guild_id, AchievementOutbox.user_id == user_id)
            .order_by(AchievementOutbox.id)
        )
        return list(rows)


async def assert_ledger_balanced(rt: Runtime) -> None:
    """Every account's points equal its ledger sum and none is negative."""
    async with rt.db.read() as session:
        assert await economy.unbalanced_accounts(session) == []
