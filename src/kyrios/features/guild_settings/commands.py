"""`/settings show|set|feature`: a guild's settings, readable, and changed by admins only."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from kyrios.core.errors import InvalidInput
from kyrios.features.guild_settings import service
from kyrios.features.guild_settings.models import GuildSettings
from kyrios.slash.invocation import ChannelRef, RoleRef
from kyrios.slash.options import Opt
from kyrios.slash.registry import CommandSet, Context
from kyrios.slash.reply import Colour, Embed, Reply

commands = CommandSet()

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


LANGUAGE_NAMES: dict[str, str] = {Language.EN: "English", Language.JA: "日本語 (Japanese)"}


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


def _channel(channel_id: int | None) -> str:
    return f"<#{channel_id}>" if channel_id else "not set"


def settings_embed(settings: GuildSettings) -> Embed:
    """Every setting of a guild as one embed."""
    disabled = settings.disabled
    features = " · ".join(f"{'✅' if f not in disabled else '⛔'} {f}" for f in service.FEATURES)
    embed = Embed(title="Server settings", colour=Colour.INFO)
    embed.add_field("Log channel", _channel(settings.log_channel_id), inline=True)
    embed.add_field("Ticket category", _channel(settings.ticket_category_id), inline=True)
    embed.add_field("Archive category", _channel(settings.archive_category_id), inline=True)
    embed.add_field(
        "Auto role", f"<@&{settings.auto_role_id}>" if settings.auto_role_id else "not set", inline=True
    )
    embed.add_field(
        "Prefix", f"`{settings.prefix}`" if settings.prefix else "none (slash commands only)", inline=True
    )
    embed.add_field("Time zone", settings.timezone or "the bot's default", inline=True)
    embed.add_field(
        "Language",
        LANGUAGE_NAMES.get(settings.locale, settings.locale) if settings.locale else "each member's own",
        inline=True,
    )
    embed.add_field("Log retention", f"{settings.retention_days} days", inline=True)
    embed.add_field("Features", features)
    embed.footer = "Change with /settings set and /settings feature (admins)"
    return embed


@commands.slash("settings show", "Show this server's settings (admins)", admin=True)
async def show(ctx: Context) -> Reply:
    """Everything, readable."""
    return Reply.embed(settings_embed(await service.get(ctx.session, ctx.guild_id)), ephemeral=True)


def check_prefix(prefix: str) -> str:
    """A prefix is 1–25 visible characters without spaces (Red's limit)."""
    prefix = prefix.strip()
    if not prefix or len(prefix) > MAX_PREFIX or any(ch.isspace() for ch in prefix):
        raise InvalidInput(f"A prefix is 1 to {MAX_PREFIX} characters without spaces, like `!` or `k!`.")
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
            raise InvalidInput(f"You both set and cleared `{clear.value}`; choose one.")
        changes[column] = None
    if not changes:
        raise InvalidInput(
            "Give at least one setting, e.g. `/settings set log_channel:#mod-log` or `clear:prefix`."
        )
    settings = await service.update(ctx.session, ctx.guild_id, now=ctx.now, **changes)
    embed = settings_embed(settings)
    embed.title = "✅ Settings saved"
    return Reply.embed(embed, ephemeral=True)


@commands.slash("settings feature", "Switch a feature on or off for this server (admins)", admin=True)
async def feature(
    ctx: Context,
    name: Annotated[str, Opt(f"Feature: {', '.join(service.FEATURES)}", max_length=32)],
    state: Annotated[Switch, Opt("on or off")],
) -> Reply:
    """Enable or disable a feature; its commands then answer that it is disabled."""
    name = name.strip().lower()
    await service.set_feature(ctx.session, ctx.guild_id, name, enabled=state == Switch.ON, now=ctx.now)
    if state == Switch.ON:
        return Reply(content=f"✅ **{name}** is now enabled on this server.", ephemeral=True)
    return Reply(
        content=f"✅ **{name}** is now disabled on this server; its commands will say so.", ephemeral=True
    )
