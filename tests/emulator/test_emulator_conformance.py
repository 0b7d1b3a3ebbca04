"""Every REST route the emulator serves, checked against Discord's own OpenAPI description.

The real bot drives each route through discord.py (and our registration client); every request body it
sent and every answer, errors included, is validated against the matching operation of the vendored
spec (tests/data/discord-openapi). A route the emulator adds without a call here fails the coverage
check, and an answer or request that drifts from Discord's shapes fails the validation.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import discord
import httpx
import pytest
from discord.http import Route

from kyrios.gateway.bot import KyriosBot
from kyrios.gateway.registration import register_commands
from kyrios.runtime import Runtime
from kyrios.testing.emulator import ChannelType, DiscordEmulator, RecordedRequest, running_bot
from kyrios.testing.emulator.command_rules import LOCALES
from kyrios.testing.emulator.server import Routes
from tests.emulator.conformance_community import exercise_community
from tests.emulator.openapi_spec import SPEC_QUIRKS, DiscordSpec, resolve
from tests.emulator.test_emulator_registration import pointed_at

INTENTS = discord.Intents(guilds=True, members=True, moderation=True, messages=True, message_content=True)
TEMPLATE_PARAMETER = re.compile(r"\{(\w+):[^{}]*\}")


@pytest.fixture
async def bot(discord_emulator: DiscordEmulator, runtime: Runtime) -> AsyncIterator[KyriosBot]:
    """The bot with every intent the routes need, members chunked; member 43 holds a role."""
    staff = discord_emulator.add_role(1, "Staff")
    discord_emulator.add_member(1, 43, "mod", roles=[staff.id])
    discord_emulator.add_member(1, 44, "raider")
    async with running_bot(
        discord_emulator, runtime, intents=INTENTS, chunk_guilds_at_startup=True
    ) as running:
        yield running


def served_routes(emu: DiscordEmulator) -> set[tuple[str, str]]:
    """(method, template) of every API route the emulator's router serves."""
    return {(method, TEMPLATE_PARAMETER.sub(r"{\1}", path)) for method, path, _ in Routes(emu).table()}


async def exercise_every_route(emu: DiscordEmulator, bot: KyriosBot, runtime: Runtime) -> None:
    """Call each route the way the bot does, successes first, then the errors Discord answers."""
    guild = bot.get_guild(1)
    general = bot.get_channel(10)
    assert guild is not None and isinstance(general, discord.TextChannel)
    await exercise_application(emu, bot, runtime)
    await exercise_guild(bot, guild)
    await exercise_messages(general)
    await exercise_community(emu, bot, guild)
    await exercise_interaction_webhooks(emu, bot)
    await exercise_voice(emu, bot, guild)
    await exercise_errors(emu, bot)


async def exercise_application(emu: DiscordEmulator, bot: KyriosBot, runtime: Runtime) -> None:
    """Gateway and application info, users and DMs, command registration (ours and discord.py's)."""
    app = emu.application_id
    await bot.http.request(Route("GET", "/gateway"))
    await bot.http.request(Route("GET", "/applications/@me"))
    await bot.application_info()
    tester = await bot.fetch_user(42)
    await tester.send("hello by DM")
    await register_commands(pointed_at(runtime, emu))
    await bot.http.bulk_upsert_guild_commands(app, 1, runtime.registry.discord_commands())
    await bot.http.get_global_commands(app)
    await bot.http.get_guild_commands(app, 1)


async def exercise_guild(bot: KyriosBot, guild: discord.Guild) -> None:
    """The guild, channels and overwrites, members and their roles, moderation, the audit log."""
    await bot.fetch_guild(guild.id)
    await guild.fetch_channels()
    category = await guild.create_category("Tickets", reason="set-up")
    ticket = await guild.create_text_channel("ticket-1", category=category, topic="help", slowmode_delay=5)
    await bot.fetch_channel(ticket.id)
    await ticket.move(beginning=True, category=category, sync_permissions=True, reason="tidy")
    await ticket.edit(name="ticket-one", topic="still help", nsfw=False, slowmode_delay=10)
    member = await guild.fetch_member(42)
    await ticket.set_permissions(member, view_channel=True, send_messages=True)
    await ticket.set_permissions(member, overwrite=None)
    await bot.http.get_members(guild.id, 10, None)
    await guild.fetch_roles()
    staff = next(r for r in guild.roles if r.name == "Staff")
    await member.add_roles(staff, reason="helper")
    await member.remove_roles(staff)
    until = discord.utils.utcnow() + timedelta(minutes=1)
    await member.edit(nick="Tess", roles=[staff], timed_out_until=until)
    await member.edit(nick=None, timed_out_until=None)
    await guild.kick(discord.Object(44), reason="spam")
    await guild.ban(discord.Object(44), reason="raid", delete_message_seconds=0)
    await guild.fetch_ban(discord.Object(44))
    await guild.unban(discord.Object(44))
    _ = [entry async for entry in guild.audit_logs(limit=20)]
    await ticket.delete(reason="closed")
    await category.delete()


async def exercise_messages(general: discord.TextChannel) -> None:
    """Send (JSON and multipart), edit, fetch, list (plain and around), delete, bulk-delete."""
    first = await general.send("first", embed=discord.Embed(title="E", description="d"))
    second = await general.send("second", file=discord.File(__file__, filename="notes.txt"))
    await first.edit(content="first, edited")
    await general.fetch_message(first.id)
    _ = [m async for m in general.history(limit=10)]
    _ = [m async for m in general.history(around=first, limit=3)]
    third = await general.send("third")
    await third.delete()
    await general.delete_messages([first, second], reason="purge")


async def exercise_interaction_webhooks(emu: DiscordEmulator, bot: KyriosBot) -> None:
    """An interaction answered by the bot, then its original response and a follow-up."""
    sent = await emu.run_command("gacha rates")
    await emu.wait_for_callback(sent["id"])
    ids = {"app": emu.application_id, "token": sent["token"]}
    hook = "/webhooks/{app}/{token}"
    original, by_id = f"{hook}/messages/@original", f"{hook}/messages/{{message_id}}"
    await bot.http.request(Route("GET", original, **ids))
    await bot.http.request(Route("PATCH", original, **ids), json={"content": "edited"})
    followup = await bot.http.request(Route("POST", hook, **ids), json={"content": "more"})
    message = {**ids, "message_id": followup["id"]}
    await bot.http.request(Route("GET", by_id, **message))
    await bot.http.request(Route("PATCH", by_id, **message), json={"content": "less"})
    await bot.http.request(Route("DELETE", by_id, **message))
    await bot.http.request(Route("DELETE", original, **ids))


async def exercise_voice(emu: DiscordEmulator, bot: KyriosBot, guild: discord.Guild) -> None:
    """Voice states read, a member moved, muted and deafened, (un)suppressed on a stage; their errors."""
    lounge_id = await emu.create_channel(1, "lounge", type=ChannelType.VOICE)
    stage_id = await emu.create_channel(1, "stage", type=ChannelType.STAGE_VOICE)
    await emu.wait_until(
        lambda: guild.get_channel(lounge_id) is not None and guild.get_channel(stage_id) is not None
    )
    lounge, stage = guild.get_channel(lounge_id), guild.get_channel(stage_id)
    assert isinstance(lounge, discord.VoiceChannel) and isinstance(stage, discord.StageChannel)
    await emu.voice_state(1, 43, lounge.id)
    await emu.voice_state(1, emu.bot_user.id, stage.id)
    mod = await guild.fetch_member(43)
    await mod.fetch_voice()
    await guild.me.fetch_voice()
    await mod.edit(voice_channel=stage, mute=True, deafen=True)
    await bot.http.edit_voice_state(1, 43, {"channel_id": str(stage.id), "suppress": True})
    await bot.http.edit_my_voice_state(1, {"channel_id": str(stage.id), "suppress": False})
    await bot.http.edit_my_voice_state(1, {"request_to_speak_timestamp": discord.utils.utcnow().isoformat()})
    await mod.edit(voice_channel=None)
    with pytest.raises(discord.NotFound):  # 404 Unknown Voice State
        await mod.fetch_voice()
    with pytest.raises(discord.HTTPException):  # 400: not connected to voice
        await mod.edit(voice_channel=lounge)
    await emu.voice_state(1, emu.bot_user.id, lounge.id)
    with pytest.raises(discord.HTTPException):  # 400: not a stage channel
        await bot.http.edit_my_voice_state(1, {"suppress": True})
    await emu.voice_state(1, emu.bot_user.id, None)


async def exercise_errors(emu: DiscordEmulator, bot: KyriosBot) -> None:
    """The error answers: 400, 401, 403, 404, 429."""
    emu.arm_rate_limit("GET", "/users/42", retry_after=0.05)
    await bot.fetch_user(42)  # 429, then 200
    ban = Route("GET", "/guilds/{guild_id}/bans/{user_id}", guild_id=1, user_id=42)
    commands = Route("PUT", "/applications/{app}/commands", app=emu.application_id)
    for failing in (
        lambda: bot.fetch_channel(12345),  # 404 Unknown Channel
        lambda: bot.http.get_message(10, 999),  # 404 Unknown Message
        lambda: bot.http.request(ban),  # 404 Unknown Ban
        lambda: bot.http.request(commands, json=[{"name": "X"}]),  # 400 Invalid Form Body
    ):
        with pytest.raises(discord.HTTPException):
            await failing()
    emu.revoke_permission(1, "manage_channels")
    with pytest.raises(discord.Forbidden):
        await bot.http.request(Route("POST", "/guilds/{guild_id}/channels", guild_id=1), json={"name": "x"})
    async with httpx.AsyncClient() as client:  # 401: no token
        await client.get(f"{emu.api_base}/users/@me")


def violations(spec: DiscordSpec, request: RecordedRequest) -> list[str]:
    """Where one exchange breaks the spec (empty: conforms)."""
    operation = spec.operation(request.method, request.path)
    if operation is None:
        return [f"no operation in Discord's spec for {request.method} {request.path}"]
    body = None if request.method in ("GET", "DELETE") and request.body is None else request.body
    errors = (
        [f"request {e}" for e in spec.request_errors(operation, body)] if 200 <= request.status < 300 else []
    )
    errors += spec.response_errors(operation, request.status, request.response_body, request.response_headers)
    return [f"{request.method} {operation.template} {request.status}: {e}" for e in errors]


async def test_every_emulator_route_answers_as_discords_spec_says(
    discord_emulator: DiscordEmulator, bot: KyriosBot, runtime: Runtime
) -> None:
    await exercise_every_route(discord_emulator, bot, runtime)
    exchanges = [r for r in discord_emulator.traffic.requests if r.status]
    covered = {(r.method, r.route) for r in exchanges if 200 <= r.status < 300}
    assert served_routes(discord_emulator) - covered == set(), "routes the conformance test never called"
    assert {r.status for r in exchanges} >= {200, 201, 204, 400, 401, 403, 404, 429}
    spec = DiscordSpec.load()
    problems = [problem for request in exchanges for problem in violations(spec, request)]
    assert problems == []
    assert discord_emulator.traffic.unhandled == []


def test_the_spec_validator_notices_a_deviation() -> None:
    spec = DiscordSpec.load()
    get_user = spec.operation("GET", "/users/42")
    assert get_user is not None and get_user.template == "/users/{user_id}"
    me = spec.operation("GET", "/users/@me")
    assert me is not None and me.template == "/users/@me"
    user = {
        "id": "42", "username": "tester", "discriminator": "0", "global_name": None, "avatar": None,
        "public_flags": 0, "flags": 0, "primary_guild": None,
    }  # fmt: skip
    headers = {f"X-RateLimit-{n}": "1" for n in ("Limit", "Remaining", "Reset", "Reset-After", "Bucket")}
    assert spec.response_errors(get_user, 200, user, headers) == []
    assert spec.response_errors(get_user, 200, {**user, "id": 42}, headers) != []
    invented = spec.response_errors(get_user, 200, {**user, "member": {"roles": []}}, headers)
    assert invented == ["$: Additional properties are not allowed ('member' was unexpected)"]
    assert spec.response_errors(get_user, 200, user, {}) != []  # rate-limit headers missing
    limited = {"message": "You are being rate limited.", "retry_after": 1.0, "global": False}
    assert any("code" in e for e in spec.response_errors(get_user, 429, limited, headers))
    post = spec.operation("PUT", "/applications/1/commands")
    assert post is not None
    bad = [
        {
            "name": "c",
            "description": "d",
            "options": [{"type": 4, "name": "n", "description": "d", "max_value": 2**63 - 1}],
        }
    ]
    assert spec.request_errors(post, bad) != []


def test_every_spec_quirk_still_applies_and_says_why() -> None:
    raw = DiscordSpec.raw()
    for quirk in SPEC_QUIRKS:
        assert len(quirk.reason) > 40, quirk.pointer
        assert resolve(raw, quirk.pointer) is not None, f"{quirk.pointer} no longer in the spec"


def test_the_emulators_locales_are_discords() -> None:
    enum = DiscordSpec.raw()["components"]["schemas"]["AvailableLocalesEnum"]["oneOf"]
    assert {item["const"] for item in enum} == LOCALES
