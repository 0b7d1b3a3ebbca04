"""Slow commands over HTTP: Discord gets type 5 at once, then the original message is edited.

The Discord emulator plays Discord's side of HTTP-interactions mode: it signs and POSTs the
interaction to our endpoint, takes the HTTP reply as the interaction response, and serves the
webhook route the deferred result is PATCHed to.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import pytest
from fastapi import FastAPI

from kyrios.core.errors import Conflict
from kyrios.core.ports import Upload
from kyrios.runtime import Runtime
from kyrios.slash.options import Opt
from kyrios.slash.registry import CommandSet, Context
from kyrios.slash.reply import Reply
from kyrios.testing.emulator import DiscordEmulator
from kyrios.testing.interactions import InteractionSigner, command_payload
from kyrios.web.main import create_app

ORIGINAL = re.compile(r"/webhooks/\d+/[^/]+/messages/@original")
FOLLOWUP = re.compile(r"/webhooks/\d+/[^/]+")
slow_commands = CommandSet()


@slow_commands.slash("report build", "A slow report (test-only)", defer=True)
async def build_report(
    ctx: Context, size: Annotated[int, Opt("rows", min_value=1, max_value=10)] = 3
) -> Reply:
    await asyncio.sleep(0.2)  # longer than a handler may take inline in a real deployment's budget
    if size == 7:
        raise Conflict("Reports of size 7 are unlucky.")
    return Reply(content=f"report with {size} rows for {ctx.inv.actor.name}")


@slow_commands.slash("report file", "A slow report as a file (test-only)", defer=True)
async def report_file(ctx: Context) -> Reply:
    await asyncio.sleep(0.2)
    rows = "".join(f"{n},{n * n}\n" for n in range(3)).encode()
    return Reply(content="your report", files=[Upload("report.csv", rows, "text/csv")])


@pytest.fixture
async def emu() -> AsyncIterator[DiscordEmulator]:
    async with DiscordEmulator() as emulator:
        emulator.add_standard_guild()
        yield emulator


@pytest.fixture
async def app(runtime: Runtime, emu: DiscordEmulator) -> AsyncIterator[FastAPI]:
    runtime.registry.include(slow_commands)
    runtime.settings.discord_api_base = emu.api_base
    runtime.settings.discord_application_id = emu.application_id
    application = create_app(runtime)
    yield application
    await application.state.interactions.aclose()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://kyrios.test"
    ) as http:
        yield http


async def test_slow_command_is_deferred_then_the_original_is_edited(
    app: FastAPI, emu: DiscordEmulator, signer: InteractionSigner
) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://kyrios.test"
    ) as client:
        payload = command_payload("report build", {"size": 4}, application_id=emu.application_id)
        response = await emu.post_interaction(client, signer, payload)
        assert response.status_code == 200 and response.json() == {"type": 5}
        edit = await emu.wait_for_request("PATCH", ORIGINAL)
    assert edit.json is not None and edit.json["content"] == "report with 4 rows for tester"
    record = emu.interaction(payload["id"])
    assert record.original_message_id is not None
    assert emu.messages[record.original_message_id].content == "report with 4 rows for tester"


async def test_a_late_reply_brings_its_file_with_the_original_edit(
    app: FastAPI, emu: DiscordEmulator, signer: InteractionSigner
) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://kyrios.test"
    ) as client:
        payload = command_payload("report file", application_id=emu.application_id)
        assert (await emu.post_interaction(client, signer, payload)).json() == {"type": 5}
        edit = await emu.wait_for_request("PATCH", ORIGINAL)
    assert edit.json["attachments"] == [{"id": 0, "filename": "report.csv"}]
    record = emu.interaction(payload["id"])
    message = emu.messages[record.original_message_id or 0]
    assert message.content == "your report"
    (attachment,) = message.attachments
    async with httpx.AsyncClient() as cdn:
        served = (await cdn.get(attachment["url"])).content
    assert served == b"0,0\n1,1\n2,4\n"


async def test_a_failing_deferred_command_answers_privately(
    app: FastAPI, emu: DiscordEmulator, signer: InteractionSigner
) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://kyrios.test"
    ) as client:
        payload = command_payload("report build", {"size": 7}, application_id=emu.application_id)
        assert (await emu.post_interaction(client, signer, payload)).json() == {"type": 5}
        followup = await emu.wait_for_request("POST", FOLLOWUP)
    # The public "thinking…" message is deleted, and the refusal is shown to its user only.
    assert [r.status for r in emu.requests("DELETE", ORIGINAL)] == [204]
    assert emu.requests("PATCH", ORIGINAL) == []
    assert followup.json is not None and "unlucky" in followup.json["content"]
    assert followup.json["flags"] == 64
    record = emu.interaction(payload["id"])
    assert record.original_message_id not in emu.messages


async def test_bad_options_answer_at_once_without_deferring(
    app: FastAPI, emu: DiscordEmulator, signer: InteractionSigner
) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://kyrios.test"
    ) as client:
        payload = command_payload("report build", {"size": 99}, application_id=emu.application_id)
        body = (await emu.post_interaction(client, signer, payload)).json()
    assert body["type"] == 4 and body["data"]["flags"] == 64 and "at most 10" in body["data"]["content"]


async def test_shutdown_waits_for_a_reply_still_being_delivered(
    app: FastAPI, emu: DiscordEmulator, signer: InteractionSigner
) -> None:
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://kyrios.test") as client,
    ):
        payload = command_payload("report build", {"size": 2}, application_id=emu.application_id)
        assert (await emu.post_interaction(client, signer, payload)).json() == {"type": 5}
        assert emu.requests("PATCH", ORIGINAL) == []  # the command is still running
    # The app has shut down, and the reply was delivered before it did.
    assert [r.json["content"] for r in emu.requests("PATCH", ORIGINAL)] == ["report with 2 rows for tester"]
