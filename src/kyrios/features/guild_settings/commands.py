"""`/settings show|set|feature`: a guild's settings, readable, and changed by admins only.

One panel over several slices: the shared settings are this slice's, the ticket categories the
tickets slice's, the auto role the auto_role slice's, the log retention the modlog's; each value
is read and written through the service of the slice that owns it. Labels in the reader's
language; what admins type (feature names, `clear:` values) as typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.errors import InvalidInput
from kyrios.core.features import SWITCHABLE, Feature
from kyrios.features.auto_role import service as auto_role
from kyrios.features.guild_settings import service
from kyrios.features.guild_settings.models import GuildSettings
from kyrios.features.modlog import service as modlog
from kyrios.features.tickets import service as tickets
from kyrios.slash.invocation import ChannelRef, RoleRef
from kyrios.slash.options import Opt
from kyrios.slash.registry import CommandSet, Context
from kyrios.slash.reply import Colour, Embed, Reply

commands = CommandSet(Feature.GUILD_SETTINGS, always_on=True)

MAX_PREFIX = 25
MIN_RETENTION_DAYS = 1
MAX_RETENTION_DAYS = 365


class Clearable(StrEnum):
    """Settings that can be removed with `/settings set clear:`."""

    LOG_CHANNEL = "log_channel"
    TICKET_CATEGORY = "ticket_category"
    ARCHIVE_CATEGORY = "archive_category"
    AUTO_ROLE = "auto_role"
    PREFIX = "prefix"
    LOCALE = "locale"


class Language(StrEnum):
    """The languages Kyrios answers in."""

    EN = "en"
    JA = "ja"


class Switch(StrEnum):
    """On or off."""

    ON = "on"
    OFF = "off"


COLUMN_OF_CLEARABLE = {
    Clearable.LOG_CHANNEL: "log_channel_id",
    Clearable.TICKET_CATEGORY: "ticket_category_id",
    Clearable.ARCHIVE_CATEGORY: "archive_category_id",
    Clearable.AUTO_ROLE: "auto_role_id",
    Clearable.PREFIX: "prefix",
    Clearable.LOCALE: "locale",
}


@dataclass(frozen=True)
class Panel:
    """Every value `/settings` shows, each read from the slice that owns it."""

    shared: GuildSettings
    ticket_category_id: int | None
    archive_category_id: int | None
    auto_role_id: int | None
    retention_days: int


async def read_panel(session: AsyncSession, guild_id: int) -> Panel:
    """The guild's settings as `/settings show` lists them."""
    categories = await tickets.settings(session, guild_id)
    return Panel(
        await service.get(session, guild_id),
        categories.category_id,
        categories.archive_category_id,
        await auto_role.role(session, guild_id),
        await modlog.retention_days(session, guild_id),
    )


SHARED = {"log_channel_id", "prefix", "timezone", "locale"}
TICKETS = {"ticket_category_id": "category_id", "archive_category_id": "archive_category_id"}


async def save(ctx: Context, changes: dict[str, Any]) -> None:
    """Hand each change to the slice that owns the setting (the shared row first: it is the lock)."""
    session, guild_id, now = ctx.session, ctx.guild_id, ctx.now
    shared = {key: value for key, value in changes.items() if key in SHARED}
    if shared:
        await service.update(session, guild_id, now=now, **shared)
    categories = {TICKETS[key]: value for key, value in changes.items() if key in TICKETS}
    if categories:
        await tickets.configure(session, guild_id, now=now, **categories)
    if "auto_role_id" in changes:
        await auto_role.set_role(session, guild_id, changes["auto_role_id"], now=now)
    if "retention_days" in changes:
        await modlog.set_retention(session, guild_id, days=changes["retention_days"], now=now)


def _channel(ctx: Context, channel_id: int | None) -> str:
    return f"<#{channel_id}>" if channel_id else ctx.t("not set")


def language_name(ctx: Context, locale: str) -> str:
    """A language as the `locale` option's choices call it, in the reader's language."""
    return ctx.pt("choice", locale) if locale in set(Language) else locale


def settings_embed(ctx: Context, panel: Panel) -> Embed:
    """Every setting of a guild as one embed, in the reader's language (feature names as typed)."""
    settings = panel.shared
    disabled = settings.disabled
    features = " · ".join(f"{'✅' if f not in disabled else '⛔'} {f}" for f in SWITCHABLE)
    embed = Embed(title=ctx.t("Server settings"), colour=Colour.INFO)
    embed.add_field(ctx.t("Log channel"), _channel(ctx, settings.log_channel_id), inline=True)
    embed.add_field(ctx.t("Ticket category"), _channel(ctx, panel.ticket_category_id), inline=True)
    embed.add_field(ctx.t("Archive category"), _channel(ctx, panel.archive_category_id), inline=True)
    role = f"<@&{panel.auto_role_id}>" if panel.auto_role_id else ctx.t("not set")
    embed.add_field(ctx.t("Auto role"), role, inline=True)
    prefix = f"`{settings.prefix}`" if settings.prefix else ctx.t("none (slash commands only)")
    embed.add_field(ctx.t("Prefix"), prefix, inline=True)
    embed.add_field(ctx.t("Time zone"), settings.timezone or ctx.t("the bot's default"), inline=True)
    language = language_name(ctx, settings.locale) if settings.locale else ctx.t("each member's own")
    embed.add_field(ctx.t("Language"), language, inline=True)
    retention = ctx.tn("{n} day", "{n} days", panel.retention_days)
    embed.add_field(ctx.t("Log retention"), retention, inline=True)
    embed.add_field(ctx.t("Features"), features)
    embed.footer = ctx.t("Change with /settings set and /settings feature (admins)")
    return embed


@commands.slash("settings show", "Show this server's settings (admins)", admin=True)
async def show(ctx: Context) -> Reply:
    """Everything, readable."""
    return Reply.embed(settings_embed(ctx, await read_panel(ctx.session, ctx.guild_id)), ephemeral=True)


def check_prefix(prefix: str) -> str:
    """A prefix is 1–25 visible characters without spaces (Red's limit)."""
    prefix = prefix.strip()
    if not prefix or len(prefix) > MAX_PREFIX or any(ch.isspace() for ch in prefix):
        raise InvalidInput(
            "A prefix is 1 to {maximum} characters without spaces, like `!` or `k!`.", maximum=MAX_PREFIX
        )
    if prefix.startswith("/"):
        raise InvalidInput("A prefix cannot start with `/`: Discord uses it for slash commands.")
    return prefix


@commands.slash("settings set", "Change server settings (admins)", admin=True)
async def set_(
    ctx: Context,
    log_channel: Annotated[ChannelRef | None, Opt("Channel for moderation and audit logs")] = None,
    ticket_category: Annotated[ChannelRef | None, Opt("Category new tickets are created in")] = None,
    archive_category: Annotated[ChannelRef | None, Opt("Category closed tickets move to")] = None,
    auto_role: Annotated[RoleRef | None, Opt("Role given to every member who joins")] = None,
    prefix: Annotated[
        str | None, Opt("Prefix for text commands, like ! (needs message content)", max_length=MAX_PREFIX)
    ] = None,
    timezone: Annotated[
        str | None, Opt("IANA time zone, like Asia/Tokyo or Europe/Berlin", max_length=64)
    ] = None,
    retention_days: Annotated[
        int | None,
        Opt(
            "Days to keep logs and stored messages",
            min_value=MIN_RETENTION_DAYS,
            max_value=MAX_RETENTION_DAYS,
        ),
    ] = None,
    locale: Annotated[
        Language | None, Opt("Language of replies when a member's own Discord language is not supported")
    ] = None,
    clear: Annotated[Clearable | None, Opt("A setting to remove")] = None,
) -> Reply:
    """Change any of the settings given; `clear` removes one."""
    changes: dict[str, Any] = {}
    if log_channel is not None:
        changes["log_channel_id"] = log_channel.id
    if ticket_category is not None:
        changes["ticket_category_id"] = ticket_category.id
    if archive_category is not None:
        changes["archive_category_id"] = archive_category.id
    if auto_role is not None:
        changes["auto_role_id"] = auto_role.id
    if prefix is not None:
        changes["prefix"] = check_prefix(prefix)
    if timezone is not None:
        changes["timezone"] = service.validate_timezone(timezone.strip())
    if retention_days is not None:
        changes["retention_days"] = retention_days
    if locale is not None:
        changes["locale"] = locale.value
    if clear is not None:
        column = COLUMN_OF_CLEARABLE[clear]
        if column in changes:
            raise InvalidInput("You both set and cleared `{setting}`; choose one.", setting=clear.value)
        changes[column] = None
    if not changes:
        raise InvalidInput(
            "Give at least one setting, e.g. `/settings set log_channel:#mod-log` or `clear:prefix`."
        )
    await save(ctx, changes)
    embed = settings_embed(ctx, await read_panel(ctx.session, ctx.guild_id))
    embed.title = ctx.t("✅ Settings saved")
    return Reply.embed(embed, ephemeral=True)


@commands.slash("settings feature", "Switch a feature on or off for this server (admins)", admin=True)
async def feature(
    ctx: Context,
    name: Annotated[Feature, Opt("The feature to switch on or off", choices=SWITCHABLE)],
    state: Annotated[Switch, Opt("on or off")],
) -> Reply:
    """Enable or disable a feature; its commands then answer that it is disabled."""
    await service.set_feature(ctx.session, ctx.guild_id, name, enabled=state == Switch.ON, now=ctx.now)
    if state == Switch.ON:
        return Reply(
            content=ctx.t("✅ **{feature}** is now enabled on this server.", feature=name), ephemeral=True
        )
    return Reply(
        content=ctx.t(
            "✅ **{feature}** is now disabled on this server; its commands will say so.", feature=name
        ),
        ephemeral=True,
    )
