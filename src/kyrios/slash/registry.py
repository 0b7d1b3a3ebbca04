"""Declaring commands once (`CommandSet`) and dispatching invocations from any door (`Registry`).

`dispatch` parses and checks options, runs the checks, opens **one** transaction for the
handler, commits on success, and turns a `DomainError` into an ephemeral error reply with
nothing changed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.bus import EventBus, Message
from kyrios.core.clock import Clock
from kyrios.core.db import Database
from kyrios.core.errors import DomainError, FeatureDisabled, Forbidden, InvalidInput
from kyrios.core.rng import RandomSource
from kyrios.slash.invocation import ADMIN_PERMISSIONS, Invocation
from kyrios.slash.options import OptionSpec, OptionType, options_from_signature
from kyrios.slash.reply import Reply

log = logging.getLogger(__name__)

MAX_CUSTOM_ID = 100
UNEXPECTED_ERROR = "Something went wrong on our side; nothing was changed. Please try again."


@dataclass
class Context:
    """What a handler gets besides its options: the invocation, the open session, time and randomness."""

    inv: Invocation
    session: AsyncSession
    now: datetime
    rng: RandomSource
    default_timezone: str = "Asia/Tokyo"
    outbox: list[tuple[str, Message]] = field(default_factory=list)
    """Bus messages to publish once the command's transaction has committed."""

    def publish_after_commit(self, channel: str, message: Message) -> None:
        """Tell other parts (e.g. the gateway bot) about this command, only if it commits."""
        self.outbox.append((channel, message))

    @property
    def guild_id(self) -> int:
        """The guild (commands marked guild_only always have one)."""
        if self.inv.guild_id is None:
            raise Forbidden("This command only works inside a server.")
        return self.inv.guild_id

    @property
    def user_id(self) -> int:
        """The invoking user's id."""
        return self.inv.actor.id


Handler = Callable[..., Awaitable[Reply]]


@dataclass
class Command:
    """A declared slash command."""

    path: str
    description: str
    handler: Handler
    options: list[OptionSpec]
    feature: str | None = None
    admin: bool = False
    guild_only: bool = True
    defer: bool = False

    def parse(self, inv: Invocation) -> dict[str, Any]:
        """Convert the invocation's raw options, rejecting unknown and missing ones."""
        known = {spec.name for spec in self.options}
        unknown = sorted(set(inv.options) - known)
        if unknown:
            raise InvalidInput(f"Unknown option `{unknown[0]}` for `/{self.path}`.")
        values: dict[str, Any] = {}
        for spec in self.options:
            if spec.name in inv.options and inv.options[spec.name] is not None:
                values[spec.name] = spec.convert(inv.options[spec.name], inv)
            elif spec.required:
                raise InvalidInput(f"`/{self.path}` needs the option `{spec.name}`.")
            else:
                values[spec.name] = spec.default
        return values


@dataclass
class Component:
    """A declared button handler: `custom_id` is `prefix:arg:arg…`."""

    prefix: str
    handler: Handler
    feature: str | None = None


@dataclass
class CommandSet:
    """A feature's commands and components, declared with decorators and included into a registry."""

    commands: list[Command] = field(default_factory=list)
    components: list[Component] = field(default_factory=list)

    def slash(
        self,
        path: str,
        description: str,
        *,
        feature: str | None = None,
        admin: bool = False,
        guild_only: bool = True,
        defer: bool = False,
    ) -> Callable[[Handler], Handler]:
        """Declare a slash command; the handler's keyword parameters are its options."""

        def register(handler: Handler) -> Handler:
            self.commands.append(
                Command(
                    path,
                    description,
                    handler,
                    options_from_signature(handler),
                    feature,
                    admin,
                    guild_only,
                    defer,
                )
            )
            return handler

        return register

    def component(self, prefix: str, *, feature: str | None = None) -> Callable[[Handler], Handler]:
        """Declare a button handler for custom ids starting with `prefix:`."""

        def register(handler: Handler) -> Handler:
            self.components.append(Component(prefix, handler, feature))
            return handler

        return register


class FeatureGate(Protocol):
    """Tells whether a guild has a feature switched on."""

    async def __call__(self, session: AsyncSession, guild_id: int, feature: str) -> bool: ...


class CommandObserver(Protocol):
    """Receives one call per dispatched command (metrics)."""

    def __call__(self, command: str, seconds: float, outcome: str) -> None: ...


class Registry:
    """The command set of one runtime, and the single dispatch path every door uses."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        rng: RandomSource,
        *,
        feature_gate: FeatureGate | None = None,
        observers: Iterable[CommandObserver] = (),
        default_timezone: str = "Asia/Tokyo",
        bus: EventBus | None = None,
    ) -> None:
        self.db = db
        self.bus = bus
        self.clock = clock
        self.rng = rng
        self.feature_gate = feature_gate
        self.observers = list(observers)
        self.default_timezone = default_timezone
        self.commands: dict[str, Command] = {}
        self.components: dict[str, Component] = {}

    def include(self, command_set: CommandSet) -> None:
        """Add a feature's declarations; duplicate names are a programming error."""
        for command in command_set.commands:
            if command.path in self.commands:
                raise ValueError(f"duplicate command /{command.path}")
            self.commands[command.path] = command
        for component in command_set.components:
            if component.prefix in self.components:
                raise ValueError(f"duplicate component prefix {component.prefix}")
            self.components[component.prefix] = component

    def find(self, path: str) -> Command | None:
        """The command at a path such as `gacha pull`."""
        return self.commands.get(" ".join(path.split()))

    async def dispatch(self, inv: Invocation) -> Reply:
        """Run a command or button press and return its reply; errors become ephemeral replies."""
        started = time.perf_counter()
        name = f"component:{inv.custom_id.split(':', 1)[0]}" if inv.custom_id else inv.command
        outcome = "ok"
        try:
            reply = await self._dispatch(inv)
            if reply.is_error:
                outcome = "rejected"
            return reply
        except DomainError as exc:
            outcome = "rejected"
            return Reply.error(exc.message)
        except Exception:
            outcome = "error"
            log.exception("command %s failed", name)
            return Reply.error(UNEXPECTED_ERROR)
        finally:
            elapsed = time.perf_counter() - started
            for observer in self.observers:
                observer(name, elapsed, outcome)

    async def _dispatch(self, inv: Invocation) -> Reply:
        if inv.custom_id is not None:
            return await self._dispatch_component(inv)
        command = self.find(inv.command)
        if command is None:
            return Reply.error(f"Unknown command `/{inv.command}`.")
        values = self.validate(command, inv)
        return await self._run(inv, command.feature, lambda context: command.handler(context, **values))

    def validate(self, command: Command, inv: Invocation) -> dict[str, Any]:
        """Parse options and run the checks that need no database; raises `DomainError`.

        Doors call it before deferring a slow command, so bad input is answered at once.
        """
        values = command.parse(inv)
        if command.guild_only and inv.guild_id is None:
            raise Forbidden("This command only works inside a server.")
        if command.admin and not inv.is_admin:
            raise Forbidden(f"`/{command.path}` is for server admins (Manage Server permission).")
        return values

    async def _dispatch_component(self, inv: Invocation) -> Reply:
        custom_id = inv.custom_id or ""
        prefix, _, rest = custom_id.partition(":")
        component = self.components.get(prefix)
        if component is None or len(custom_id) > MAX_CUSTOM_ID:
            return Reply.error("This button is no longer active.")
        args = rest.split(":") if rest else []
        return await self._run(inv, component.feature, lambda context: component.handler(context, *args))

    async def _run(
        self, inv: Invocation, feature: str | None, handler: Callable[[Context], Awaitable[Reply]]
    ) -> Reply:
        """The handler in one transaction; what it queued for the bus goes out after the COMMIT."""
        attempts: list[Context] = []  # the database may run `work` again (deadlock, group commit)

        async def work(session: AsyncSession) -> Reply:
            await self._check_feature(session, inv, feature)
            context = self._context(inv, session)
            attempts.append(context)
            return await handler(context)

        reply = await self.db.run(work)
        if self.bus is not None and attempts[-1].outbox:
            try:
                self.bus.publish_many(attempts[-1].outbox)
            except Exception:  # the command has committed: its reply must still say so
                log.exception("command %s committed, but telling other parts failed", inv.command)
        return reply

    def _context(self, inv: Invocation, session: AsyncSession) -> Context:
        return Context(inv, session, self.clock.now(), self.rng, self.default_timezone)

    async def _check_feature(self, session: AsyncSession, inv: Invocation, feature: str | None) -> None:
        if feature is None or inv.guild_id is None or self.feature_gate is None:
            return
        if not await self.feature_gate(session, inv.guild_id, feature):
            raise FeatureDisabled(
                f"The {feature} feature is disabled on this server. An admin can enable it."
            )

    def discord_commands(self) -> list[dict[str, Any]]:
        """The whole command set as Discord's bulk-overwrite JSON (groups and subcommands nested)."""
        tops: dict[str, dict[str, Any]] = {}
        admin_only: dict[str, bool] = {}
        for command in self.commands.values():
            parts = command.path.split()
            top = tops.setdefault(
                parts[0],
                {"name": parts[0], "type": 1, "description": command.description[:100], "options": []},
            )
            admin_only[parts[0]] = admin_only.get(parts[0], True) and command.admin
            if command.guild_only:
                top["contexts"] = [0]
            leaf: dict[str, Any] = {
                "type": int(OptionType.SUB_COMMAND),
                "name": parts[-1],
                "description": command.description[:100],
                "options": [spec.to_discord() for spec in command.options],
            }
            if len(parts) == 1:
                top["description"] = command.description[:100]
                top["options"] = leaf["options"]
            elif len(parts) == 2:
                top["description"] = f"{parts[0].capitalize()} commands"
                top["options"].append(leaf)
            else:
                group = next((o for o in top["options"] if o["name"] == parts[1]), None)
                if group is None:
                    group = {
                        "type": int(OptionType.SUB_COMMAND_GROUP),
                        "name": parts[1],
                        "description": f"{parts[1].capitalize()} commands",
                        "options": [],
                    }
                    top["options"].append(group)
                group["options"].append(leaf)
        for name, top in tops.items():
            if admin_only[name]:
                top["default_member_permissions"] = str(
                    int(ADMIN_PERMISSIONS & ADMIN_PERMISSIONS.MANAGE_GUILD)
                )
        return list(tops.values())
