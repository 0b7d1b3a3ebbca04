"""The reply path's decisions, seen through a recording responder: answered in time, or deferred
and delivered late, exactly once; delivery failures are logged, never raised."""

from __future__ import annotations

import logging

import pytest

from kyrios.core.ports import DiscordError
from kyrios.runtime import Runtime
from kyrios.slash.invocation import Actor, Invocation, Source
from kyrios.slash.registry import CommandSet, Context
from kyrios.slash.reply import CallbackType, Reply
from kyrios.slash.respond import CapturedReply, respond

deferred_commands = CommandSet()


@deferred_commands.slash("tally", "A deferred command (test-only)", defer=True)
async def tally(ctx: Context) -> Reply:
    return Reply(content="tallied")


class Recorder:
    """Records what `respond` asked the door to do."""

    can_defer = True

    def __init__(self, failing: str | None = None) -> None:
        self.calls: list[tuple[str, object]] = []
        self.failing = failing

    async def _record(self, name: str, value: object) -> None:
        self.calls.append((name, value))
        if name == self.failing:
            raise DiscordError(404, 10062, "Unknown interaction")

    async def answer(self, reply: Reply) -> None:
        await self._record("answer", reply.content)

    async def defer(self, kind: CallbackType) -> None:
        await self._record("defer", int(kind))

    async def edit_original(self, reply: Reply) -> None:
        await self._record("edit_original", reply.content)

    async def followup(self, reply: Reply) -> None:
        await self._record("followup", reply.content)

    async def delete_original(self) -> None:
        await self._record("delete_original", None)


def command(name: str, **options: object) -> Invocation:
    return Invocation(
        actor=Actor(42, "tester"),
        guild_id=1,
        channel_id=10,
        command=name,
        options=dict(options),
        source=Source.HTTP,
    )


@pytest.mark.parametrize("budget", [0.0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 10.0])
async def test_a_reply_goes_out_exactly_once_whichever_finishes_first(
    runtime: Runtime, budget: float
) -> None:
    recorder = Recorder()
    await respond(runtime.registry, command("gacha rates"), recorder, budget=budget)
    steps = [name for name, _ in recorder.calls]
    assert steps in (["answer"], ["defer", "edit_original"])
    if budget == 0.0:
        assert recorder.calls[0] == ("defer", int(CallbackType.DEFERRED_CHANNEL_MESSAGE))
    if budget == 10.0:
        assert steps == ["answer"]


async def test_a_declared_deferral_is_acknowledged_first_unless_the_door_cannot_defer(
    runtime: Runtime,
) -> None:
    runtime.registry.include(deferred_commands)
    recorder = Recorder()
    await respond(runtime.registry, command("tally"), recorder)
    assert recorder.calls == [("defer", 5), ("edit_original", "tallied")]
    console = CapturedReply()
    await respond(runtime.registry, command("tally"), console)
    assert console.reply is not None and console.reply.content == "tallied"


async def test_a_failed_delivery_is_logged_not_raised(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder(failing="defer")
    with caplog.at_level(logging.WARNING, logger="kyrios.slash.respond"):
        await respond(runtime.registry, command("gacha rates"), recorder, budget=0.0)
    assert [name for name, _ in recorder.calls] == ["defer"]  # nothing delivered after a failed deferral
    assert "could not defer the reply to /gacha rates" in caplog.text
