"""The one reply path: every door hands its invocation to `respond`, which answers in time.

Discord wants an interaction answered within 3 s of sending it ("This interaction failed"
otherwise). A door passes `received_at` (`time.monotonic()` when the request arrived) and
`respond` decides:

* bad input for a command declared `defer=True` is answered at once, in the reader's language;
  otherwise such a command is acknowledged with type 5 and finished with an `@original` edit;
* every other command and button runs against a deadline `budget` seconds after `received_at`
  (`DEFAULT_BUDGET_SECONDS`, leaving the rest of Discord's 3 s for the answer's trip). Finished in
  time: the normal answer (type 4, or 7 for a button that updates its message). Not finished:
  acknowledged deferred (type 5 for a command, type 6 for a button) and, when the command ends,
  delivered once through the interaction's webhook. Which happens is settled in one step of the
  event loop (the timer either fired before the command returned or is cancelled by its return),
  so a reply goes out exactly once.

A late reply goes where it would have gone in time: a button's update edits the pressed message;
any other button reply is a follow-up (ephemeral if the reply is); a command's public reply edits
the "thinking…" original. A command's ephemeral reply (refusals are) must stay private, but the
deferral was public (it was sent before the reply was known): the original is deleted and the
reply sent as an ephemeral follow-up. Deferring ephemerally instead would hide every slow public
answer, which is the common case.

Doors that know no deadline (prefix, console) give a responder whose `can_defer` is False: the
command runs and its reply is answered whenever it is ready. A failure while answering or
delivering is logged, never raised into the door.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from kyrios.core.errors import DomainError, InvalidInput
from kyrios.core.ports import DiscordError, DiscordPort, Json, Upload
from kyrios.slash.invocation import Actor, Invocation, Source
from kyrios.slash.payload import APPLICATION_COMMAND, MESSAGE_COMPONENT, MODAL_SUBMIT, invocation_from_payload
from kyrios.slash.registry import Registry
from kyrios.slash.reply import CallbackType, Reply

log = logging.getLogger(__name__)

DEFAULT_BUDGET_SECONDS = 2.5
"""How long after the request arrived a command may run before its answer is deferred."""


class Responder(Protocol):
    """How one door delivers answers; `respond` decides which of these to call, and when."""

    @property
    def can_defer(self) -> bool:
        """True when the door can acknowledge first and deliver later (a Discord interaction)."""
        ...

    async def answer(self, reply: Reply) -> None:
        """The reply as the first and only answer (Discord: callback type 4, or 7 for an update)."""
        ...

    async def defer(self, kind: CallbackType) -> None:
        """Acknowledge now, deliver later: type 5 (a command's loading state) or 6 (a button's)."""
        ...

    async def edit_original(self, reply: Reply) -> None:
        """Replace the original response (a command's loading message, or a button's message)."""
        ...

    async def followup(self, reply: Reply) -> None:
        """Post the reply as a new message of the interaction (ephemeral if the reply is)."""
        ...

    async def delete_original(self) -> None:
        """Delete the original response (a public "thinking…" message)."""
        ...


class ImmediateResponder:
    """Base for doors without a deadline: only `answer` is ever called."""

    can_defer = False

    async def answer(self, reply: Reply) -> None:
        """Deliver the reply (subclasses say how)."""
        raise NotImplementedError

    async def defer(self, kind: CallbackType) -> None:
        """Never called: this door cannot defer."""
        raise RuntimeError("this door answers once and never defers")

    async def edit_original(self, reply: Reply) -> None:
        """Never called: this door cannot defer."""
        raise RuntimeError("this door answers once and never defers")

    async def followup(self, reply: Reply) -> None:
        """Never called: this door cannot defer."""
        raise RuntimeError("this door answers once and never defers")

    async def delete_original(self) -> None:
        """Never called: this door cannot defer."""
        raise RuntimeError("this door answers once and never defers")


class CapturedReply(ImmediateResponder):
    """Keeps the reply for a door that shows it itself (the console)."""

    def __init__(self) -> None:
        self.reply: Reply | None = None

    async def answer(self, reply: Reply) -> None:
        """Keep the reply."""
        self.reply = reply


Acknowledge = Callable[[Json, Sequence[Upload]], Awaitable[None]]
"""Send the interaction's first answer: the callback body and the files attached to its message."""


class InteractionResponder:
    """A Discord interaction's answers: the first through `acknowledge` (the door's way: the HTTP
    response, or the callback POST), later ones through the port's interaction webhooks."""

    def __init__(
        self,
        acknowledge: Acknowledge,
        port: DiscordPort | None,
        application_id: int | None,
        token: str | None,
    ) -> None:
        self.acknowledge = acknowledge
        self.port = port
        self.application_id = application_id
        self.token = token

    @property
    def can_defer(self) -> bool:
        """A late reply needs the webhook: a port, the application id and the interaction token."""
        return self.port is not None and bool(self.application_id) and bool(self.token)

    async def answer(self, reply: Reply) -> None:
        """Callback type 4 (or 7 for a button's update) with the reply and its files."""
        await self.acknowledge(reply.to_callback(), reply.files)

    async def defer(self, kind: CallbackType) -> None:
        """Callback type 5 or 6, no data."""
        await self.acknowledge({"type": int(kind)}, ())

    async def edit_original(self, reply: Reply) -> None:
        """PATCH `@original` (an edit cannot change whether a message is ephemeral)."""
        port, application_id, token = self._webhook()
        body = reply.to_message()
        body.pop("flags", None)
        await port.edit_original(application_id, token, body, files=reply.files)

    async def followup(self, reply: Reply) -> None:
        """POST a follow-up message."""
        port, application_id, token = self._webhook()
        await port.followup(application_id, token, reply.to_message(), files=reply.files)

    async def delete_original(self) -> None:
        """DELETE `@original`."""
        port, application_id, token = self._webhook()
        await port.delete_original(application_id, token)

    def _webhook(self) -> tuple[DiscordPort, int, str]:
        if self.port is None or not self.application_id or not self.token:
            raise RuntimeError("this interaction cannot be answered late (no port, application id or token)")
        return self.port, self.application_id, self.token


async def respond(
    registry: Registry,
    inv: Invocation,
    responder: Responder,
    *,
    received_at: float | None = None,
    budget: float = DEFAULT_BUDGET_SECONDS,
) -> None:
    """Run the invocation and deliver its reply exactly once, deferring what would miss the deadline."""
    if not responder.can_defer:
        await _attempt(inv, "answer", responder.answer(await registry.dispatch(inv)))
        return
    command = None if inv.is_component else registry.find(inv.command)
    if command is not None and command.defer:
        try:
            registry.validate(command, inv)
        except DomainError as exc:
            await refuse(registry, inv, responder, exc)
            return
        if await _attempt(inv, "defer", responder.defer(CallbackType.DEFERRED_CHANNEL_MESSAGE)):
            await deliver_late(inv, responder, await registry.dispatch(inv))
        return
    deadline = _Deadline(inv, responder)
    started = time.monotonic() if received_at is None else received_at
    timer = asyncio.get_running_loop().call_later(started + budget - time.monotonic(), deadline.expire)
    try:
        reply = await registry.dispatch(inv)
    finally:
        timer.cancel()
    if deadline.deferral is None:  # settled: nothing between dispatch's return and here awaits
        await _attempt(inv, "answer", responder.answer(reply))
    elif await deadline.deferral:
        await deliver_late(inv, responder, reply)


async def refuse(registry: Registry, inv: Invocation, responder: Responder, exc: DomainError) -> None:
    """Answer a refusal met before dispatching (parse, validation), in the reader's language."""
    await _attempt(inv, "answer", responder.answer(await registry.error_reply(inv, exc)))


async def respond_to_interaction(
    registry: Registry,
    payload: dict[str, Any],
    source: Source,
    responder: Responder,
    *,
    received_at: float | None = None,
    budget: float = DEFAULT_BUDGET_SECONDS,
) -> None:
    """`respond` for a Discord interaction's JSON; a payload that cannot be read is refused."""
    try:
        if payload.get("type") not in (APPLICATION_COMMAND, MESSAGE_COMPONENT, MODAL_SUBMIT):
            raise InvalidInput("This kind of interaction is not supported.")
        inv = invocation_from_payload(payload, source)
    except DomainError as exc:
        await refuse(registry, _unparsed(payload, source), responder, exc)
        return
    await respond(registry, inv, responder, received_at=received_at, budget=budget)


async def deliver_late(inv: Invocation, responder: Responder, reply: Reply) -> None:
    """Deliver a reply after a deferral, where it would have gone in time (see the module's doc).
    A modal can only be the first answer: one that comes too late is dropped (and logged)."""
    if reply.modal is not None:
        log.warning("%s opened its modal after the deadline: it cannot be shown", _name(inv))
        return
    if inv.is_component:
        if reply.update:
            await _attempt(inv, "edit the message of", responder.edit_original(reply))
        else:
            await _attempt(inv, "follow up", responder.followup(reply))
    elif reply.ephemeral:
        if await _attempt(inv, "delete the deferral of", responder.delete_original()):
            await _attempt(inv, "follow up", responder.followup(reply))
    else:
        await _attempt(inv, "edit the deferral of", responder.edit_original(reply))


class _Deadline:
    """Acknowledges the interaction deferred when its timer fires before the command returns."""

    def __init__(self, inv: Invocation, responder: Responder) -> None:
        self.inv = inv
        self.responder = responder
        self.deferral: asyncio.Task[bool] | None = None

    def expire(self) -> None:
        kind = CallbackType.DEFERRED_CHANNEL_MESSAGE
        if self.inv.is_component:
            kind = CallbackType.DEFERRED_UPDATE_MESSAGE
        log.info("%s is still running at its deadline: deferring its reply", _name(self.inv))
        self.deferral = asyncio.create_task(_attempt(self.inv, "defer", self.responder.defer(kind)))


async def _attempt(inv: Invocation, what: str, call: Awaitable[None]) -> bool:
    """Await one delivery step; a failure is logged (the door has nothing better to do with it)."""
    try:
        await call
    except DiscordError as exc:
        log.warning("could not %s the reply to %s: %s", what, _name(inv), exc)
        return False
    except Exception:
        log.exception("could not %s the reply to %s", what, _name(inv))
        return False
    return True


def _name(inv: Invocation) -> str:
    return f"button {inv.custom_id}" if inv.custom_id is not None else f"/{inv.command}"


def _unparsed(payload: dict[str, Any], source: Source) -> Invocation:
    """What can be read of a payload that is not a valid interaction: enough to pick the language."""

    def text(key: str) -> str | None:
        value = payload.get(key)
        return value if isinstance(value, str) and value else None

    guild = text("guild_id")
    return Invocation(
        actor=Actor(id=0, name=""),
        guild_id=int(guild) if guild is not None and guild.isdigit() else None,
        source=source,
        locale=text("locale"),
        guild_locale=text("guild_locale"),
    )
