"""Discord's 3-second deadline, through both Discord doors: a command held up by a lock is answered
deferred in time, and its reply arrives once, where it belongs, when the lock is released.

The HTTP door is driven by the emulator in HTTP-interactions mode (it signs and POSTs the
interaction, and takes the HTTP response as the answer); the gateway door is the real bot. The
lock is a real one: a transaction holding the member's account row (on SQLite, the database's
write lock), or for buttons a lock the test-only handler waits on. A short budget keeps the tests
quick; one test runs the real default to show the 3 s bound holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any, Protocol

import httpx
import pytest
from sqlalchemy import text

from kyrios.features.economy import service as economy
from kyrios.gateway.bot import KyriosBot
from kyrios.runtime import Runtime
from kyrios.slash.options import Opt
from kyrios.slash.registry import CommandSet, Context
from kyrios.slash.reply import Reply
from kyrios.slash.respond import DEFAULT_BUDGET_SECONDS
from kyrios.testing.emulator import ANY_CALLBACK, WAIT_SECONDS, DiscordEmulator, running_bot
from kyrios.testing.interactions import InteractionSigner, command_payload, component_payload
from kyrios.web.main import KyriosApp, create_app
from tests.e2e.gateway_helpers import moderated_bot
from tests.helpers import balance
from tests.web.browser import live_server

SHORT_BUDGET = 0.3
ADMIN = 1 << 5
ORIGINAL = re.compile(r"/webhooks/\d+/[^/]+/messages/@original")
FOLLOWUP = re.compile(r"/webhooks/\d+/[^/]+")
DISCORD_DEADLINE_SECONDS = 3.0

held_buttons = CommandSet()
button_gate: dict[str, asyncio.Lock] = {}


@held_buttons.component("held")
async def held_button(ctx: Context, mode: str) -> Reply:
    """Waits for the test's lock, then updates its message or answers privately."""
    async with button_gate["lock"]:
        pass
    if mode == "update":
        return Reply(content="page 2 of the held list", update=True)
    return Reply(content="only for your eyes", ephemeral=True)


@held_buttons.slash("held report", "A deferred report (test-only)", defer=True)
async def held_report(
    ctx: Context, size: Annotated[int, Opt("rows", min_value=1, max_value=10)] = 3
) -> Reply:
    return Reply(content=f"report with {size} rows")


class Door(Protocol):
    """One Discord door under test: send an interaction, get its first answer (the callback)."""

    budget: float

    async def answer(self, payload: dict[str, Any]) -> dict[str, Any]: ...


class HttpDoor:
    """`POST /interactions` of the app, with the emulator playing Discord."""

    def __init__(
        self, emu: DiscordEmulator, app: KyriosApp, client: httpx.AsyncClient, signer: InteractionSigner
    ):
        self.emu, self.app, self.client, self.signer = emu, app, client, signer

    @property
    def budget(self) -> float:
        seconds: float = self.app.state.interactions.reply_budget
        return seconds

    @budget.setter
    def budget(self, seconds: float) -> None:
        self.app.state.interactions.reply_budget = seconds

    async def answer(self, payload: dict[str, Any]) -> dict[str, Any]:
        async with asyncio.timeout(WAIT_SECONDS):  # a door that never answers fails, not hangs
            response = await self.emu.post_interaction(self.client, self.signer, payload)
        assert response.status_code == 200
        body: dict[str, Any] = response.json()
        return body


class GatewayDoor:
    """The running bot: INTERACTION_CREATE in, the callback POST out."""

    def __init__(self, emu: DiscordEmulator, bot: KyriosBot):
        self.emu, self.bot = emu, bot

    @property
    def budget(self) -> float:
        return self.bot.reply_budget

    @budget.setter
    def budget(self, seconds: float) -> None:
        self.bot.reply_budget = seconds

    async def answer(self, payload: dict[str, Any]) -> dict[str, Any]:
        sent = await self.emu.send_interaction(payload)
        return await self.emu.wait_for_callback(sent["id"])


@pytest.fixture(params=["http", "http-uvicorn", "gateway"])
async def door(
    request: pytest.FixtureRequest,
    discord_emulator: DiscordEmulator,
    runtime: Runtime,
    signer: InteractionSigner,
) -> AsyncIterator[Door]:
    runtime.registry.include(held_buttons)
    button_gate["lock"] = asyncio.Lock()
    if request.param == "gateway":
        async with running_bot(discord_emulator, runtime, reply_budget=SHORT_BUDGET) as bot:
            yield GatewayDoor(discord_emulator, bot)
        return
    runtime.settings.discord_api_base = discord_emulator.api_base
    if request.param == "http-uvicorn":  # a real server: each reply path runs in its request's task
        app = create_app(runtime, reply_budget=SHORT_BUDGET, inline_replies=True)
        async with live_server(app) as base, httpx.AsyncClient(base_url=base) as client:
            yield HttpDoor(discord_emulator, app, client, signer)
        return
    app = create_app(runtime, reply_budget=SHORT_BUDGET)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://kyrios.test"
    ) as client:
        yield HttpDoor(discord_emulator, app, client, signer)
    await app.state.interactions.aclose()


async def seed_points(runtime: Runtime, points: int, user_id: int = 42) -> None:
    async with runtime.db.transaction() as session:
        await economy.credit(
            session,
            guild_id=1,
            user_id=user_id,
            amount=points,
            reason=economy.Reason.GRANT,
            now=runtime.clock.now(),
        )


@contextlib.asynccontextmanager
async def account_locked(runtime: Runtime, user_id: int = 42) -> AsyncIterator[None]:
    """Hold the member's account row (and on SQLite the write lock) until the block ends."""
    async with runtime.db.transaction() as session:
        await session.execute(
            text("UPDATE economy_account SET points = points WHERE guild_id = 1 AND user_id = :user"),
            {"user": user_id},
        )
        yield


def give(emu: DiscordEmulator, amount: int, **extra: Any) -> dict[str, Any]:
    payload = command_payload(
        "give",
        {"user": "42", "amount": amount},
        option_types={"user": 6},
        permissions=ADMIN,
        application_id=emu.application_id,
    )
    return {**payload, **extra}


def requests_to(emu: DiscordEmulator, token: str, method: str, pattern: re.Pattern[str]) -> list[Any]:
    return [r for r in emu.requests(method, pattern) if token in r.path]


def callbacks(emu: DiscordEmulator, payload: dict[str, Any]) -> int:
    """How many answers the interaction got: callback POSTs (gateway) or its HTTP response."""
    posted = [r for r in emu.requests("POST", ANY_CALLBACK) if payload["token"] in r.path]
    return len(posted) or int(emu.interaction(payload["id"]).callback is not None)


async def test_a_command_held_past_the_deadline_is_deferred_then_edited_once(
    door: Door, discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    await seed_points(runtime, 100)
    held = give(emu, 5)
    async with account_locked(runtime):
        assert await door.answer(held) == {"type": 5}  # answered while the command still waits
        assert await balance(runtime) == 100
    edit = await emu.wait_for_request("PATCH", ORIGINAL, where=lambda r: held["token"] in r.path)
    assert edit.json["content"] == "✅ Gave **5** points to <@42>. New balance: **105**."
    await asyncio.sleep(0.1)  # anything sent twice would have arrived by now
    assert len(requests_to(emu, held["token"], "PATCH", ORIGINAL)) == 1
    assert requests_to(emu, held["token"], "POST", FOLLOWUP) == []
    assert callbacks(emu, held) == 1
    original = emu.messages[emu.interaction(held["id"]).original_message_id or 0]
    assert original.content == edit.json["content"] and not original.flags & 128  # no longer loading
    assert await balance(runtime) == 105  # the command ran once

    door.budget = DEFAULT_BUDGET_SECONDS  # a fast command is answered inline, as before
    fast = await door.answer(give(emu, 7))
    assert fast["type"] == 4 and "New balance: **112**" in fast["data"]["content"]


async def test_an_ephemeral_reply_past_the_deadline_stays_private(
    door: Door, discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    await seed_points(runtime, 50)
    first = await door.answer(command_payload("gacha pull", application_id=emu.application_id))
    assert first["type"] == 4  # today's free pull
    second = command_payload("gacha pull", application_id=emu.application_id)
    async with account_locked(runtime):
        assert await door.answer(second) == {"type": 5}
    private = await emu.wait_for_request("POST", FOLLOWUP, where=lambda r: second["token"] in r.path)
    assert private.json["flags"] == 64 and "need 100 points" in private.json["content"]
    thinking = emu.interaction(second["id"]).original_message_id
    assert thinking is not None and thinking not in emu.messages  # the public "thinking…" is gone
    assert len(requests_to(emu, second["token"], "DELETE", ORIGINAL)) == 1
    assert requests_to(emu, second["token"], "PATCH", ORIGINAL) == []
    assert emu.messages[int(private.response_body["id"])].flags & 64


async def test_a_button_past_the_deadline_is_acknowledged_then_its_message_edited(
    door: Door, discord_emulator: DiscordEmulator
) -> None:
    emu = discord_emulator
    pressed = component_payload("held:update", application_id=emu.application_id)
    message_id = int(pressed["message"]["id"])
    async with button_gate["lock"]:
        assert await door.answer(pressed) == {"type": 6}
    edit = await emu.wait_for_request("PATCH", ORIGINAL, where=lambda r: pressed["token"] in r.path)
    assert edit.json["content"] == "page 2 of the held list"
    assert emu.messages[message_id].content == "page 2 of the held list"  # the pressed message changed
    assert requests_to(emu, pressed["token"], "POST", FOLLOWUP) == []

    private = component_payload("held:private", application_id=emu.application_id)
    async with button_gate["lock"]:
        assert await door.answer(private) == {"type": 6}
    followup = await emu.wait_for_request("POST", FOLLOWUP, where=lambda r: private["token"] in r.path)
    assert followup.json["content"] == "only for your eyes" and followup.json["flags"] == 64
    assert requests_to(emu, private["token"], "PATCH", ORIGINAL) == []


async def test_an_error_before_dispatch_is_answered_at_once_in_japanese(
    door: Door, discord_emulator: DiscordEmulator
) -> None:
    emu = discord_emulator
    payload = command_payload("held report", {"size": 99}, application_id=emu.application_id)
    refused = await door.answer({**payload, "locale": "ja"})
    assert refused["type"] == 4 and refused["data"]["flags"] == 64
    assert refused["data"]["content"] == "❌ `size` は 10 以下にしてください。"
    accepted = command_payload("held report", {"size": 4}, application_id=emu.application_id)
    assert await door.answer(accepted) == {"type": 5}
    edit = await emu.wait_for_request("PATCH", ORIGINAL, where=lambda r: accepted["token"] in r.path)
    assert edit.json["content"] == "report with 4 rows"


async def test_the_default_budget_answers_within_discords_three_seconds(
    door: Door, discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    door.budget = DEFAULT_BUDGET_SECONDS
    await seed_points(runtime, 100)
    held = give(emu, 5)
    async with account_locked(runtime):
        sent_at = time.monotonic()
        answer = await door.answer(held)
        waited = time.monotonic() - sent_at
    assert answer == {"type": 5}
    assert DEFAULT_BUDGET_SECONDS <= waited < DISCORD_DEADLINE_SECONDS
    edit = await emu.wait_for_request("PATCH", ORIGINAL, where=lambda r: held["token"] in r.path)
    assert "New balance: **105**" in edit.json["content"]


async def test_a_malformed_http_interaction_is_refused_in_its_language(
    discord_emulator: DiscordEmulator, runtime: Runtime, signer: InteractionSigner
) -> None:
    app = create_app(runtime)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://kyrios.test"
    ) as client:
        body, headers = signer.sign({"type": 2, "id": "1", "locale": "ja", "data": {"name": "gacha"}})
        answer = (await client.post("/interactions", content=body, headers=headers)).json()
    assert answer["type"] == 4 and answer["data"]["flags"] == 64
    assert answer["data"]["content"] == "❌ インタラクションのデータが不正です（KeyError）。"


async def test_a_prefix_command_that_cannot_be_read_is_refused_in_the_guilds_language(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    async with moderated_bot(emu, runtime, prefix="k!", locale="ja"):
        await emu.send_message(10, 42, 'k!give "42 100')
        refused = await emu.wait_for_request("POST", "/channels/10/messages")
    assert refused.json["content"] == "❌ コマンドを読み取れませんでした: No closing quotation。"
