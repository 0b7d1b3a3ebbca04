"""Declaring commands once (`CommandSet`) and dispatching invocations from any door (`Registry`).

`dispatch` parses and checks options, runs the checks, opens **one** transaction for the
handler, commits on success, and turns a `DomainError` into an ephemeral error reply with
nothing changed. Every reply is written in the reader's language: `Context.t` in handlers,
`DomainError.render` for refusals (see `Registry.translator` for how the language is chosen).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.bus import EventBus, Message
from kyrios.core.clock import Clock
from kyrios.core.db import Database
from kyrios.core.errors import Conflict, DomainError, FeatureDisabled, Forbidden, InvalidInput
from kyrios.core.features import Feature, require_feature
from kyrios.core.i18n import N_, DoorStyle, Translator, negotiate, supported_locale
from kyrios.core.rng import RandomSource
from kyrios.ops.logs import bound
from kyrios.slash.command_json import discord_commands
from kyrios.slash.invocation import Invocation
from kyrios.slash.options import OptionSpec, options_from_signature
from kyrios.slash.reply import Reply

if TYPE_CHECKING:
    from kyrios.exchange.client import ExchangeClient

log = logging.getLogger(__name__)

MAX_CUSTOM_ID = 100
UNEXPECTED_ERROR = N_("Something went wrong on our side; nothing was changed. Please try again.")


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
    translator: Translator = field(default_factory=Translator)
    """The reader's language, the door's way of showing times, `now` and the guild's time zone."""
    exchange_client: ExchangeClient | None = None
    """How this process reaches the exchange (the runtime's client), for the exchange's commands."""
    site_url: str = "http://127.0.0.1:8000"
    """The web app's address as members reach it (links in replies)."""
    adapters: Mapping[str, object] = field(default_factory=dict)
    """What a door attached for slices, by slice name (the gateway's music player); a door that
    attached nothing (the console, an HTTP-only process) has none, and the slice says so."""

    @property
    def exchange(self) -> ExchangeClient:
        """The runtime's `ExchangeClient` (a registry without a runtime has none: a wiring error)."""
        if self.exchange_client is None:
            raise RuntimeError("this registry has no exchange client: wire it through a Runtime")
        return self.exchange_client

    @property
    def locale(self) -> str:
        """The language replies are written in ("en", "ja")."""
        return self.translator.locale

    def t(self, message: str, /, **params: Any) -> str:
        """A message in the reader's language: `ctx.t("Gave {amount} points.", amount=n)`."""
        return self.translator.t(message, **params)

    def tn(self, singular: str, plural: str, n: int, /, **params: Any) -> str:
        """The plural form for `n` (`{n}` is filled with it): `ctx.tn("{n} pull", "{n} pulls", n)`."""
        return self.translator.tn(singular, plural, n, **params)

    def pt(self, context: str, message: str, /) -> str:
        """A word in a context: `ctx.pt("command name", "balance")`."""
        return self.translator.pt(context, message)

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
    feature: Feature | None = None
    """The slice it belongs to."""
    admin: bool = False
    guild_only: bool = True
    defer: bool = False
    switch: Feature | None = None
    """The feature whose `/settings feature … off` refuses it (None: it always answers)."""
    unit_of_work: bool = True
    """False: the handler gets a read session and makes its writes elsewhere (the exchange's
    commands: the exchange commits in its own fenced transactions, which a command holding the
    SQLite writer lock would wait for forever)."""

    def parse(self, inv: Invocation) -> dict[str, Any]:
        """Convert the invocation's raw options, rejecting unknown and missing ones."""
        known = {spec.name for spec in self.options}
        unknown = sorted(set(inv.options) - known)
        if unknown:
            raise InvalidInput(
                "Unknown option `{option}` for `/{command}`.", option=unknown[0], command=self.path
            )
        values: dict[str, Any] = {}
        for spec in self.options:
            if spec.name in inv.options and inv.options[spec.name] is not None:
                values[spec.name] = spec.convert(inv.options[spec.name], inv)
            elif spec.required:
                raise InvalidInput(
                    "`/{command}` needs the option `{option}`.", command=self.path, option=spec.name
                )
            else:
                values[spec.name] = spec.default
        return values


@dataclass
class Component:
    """A declared button handler: `custom_id` is `prefix:arg:arg…`."""

    prefix: str
    handler: Handler
    feature: Feature | None = None
    switch: Feature | None = None
    unit_of_work: bool = True
    """As for `Command`: False runs it on a read session (its writes are made elsewhere)."""


class CommandSet:
    """A slice's commands and components, declared with decorators and included into a registry.

    `CommandSet(Feature.GACHA)` says once which slice they belong to; each is refused while an admin
    has switched that feature off, unless declared `always_on` (set-up commands that must work while
    it is off) or the whole set is. `switched_by` names another feature's switch (`/profile` shows
    points, so it follows the economy's). A feature that is not a `Feature` member fails here, at import.
    """

    def __init__(
        self,
        feature: Feature | None = None,
        *,
        always_on: bool = False,
        switched_by: Feature | None = None,
    ) -> None:
        self.feature = None if feature is None else require_feature(feature)
        if switched_by is not None:
            require_feature(switched_by)
        self.switch = None if always_on else (switched_by or self.feature)
        self.commands: list[Command] = []
        self.components: list[Component] = []

    def slash(
        self,
        path: str,
        description: str,
        *,
        admin: bool = False,
        guild_only: bool = True,
        defer: bool = False,
        always_on: bool = False,
        unit_of_work: bool = True,
    ) -> Callable[[Handler], Handler]:
        """Declare a slash command; the handler's keyword parameters are its options.

        `unit_of_work=False` runs it on a read session instead of one transaction (see `Command`).
        """

        def register(handler: Handler) -> Handler:
            self.commands.append(
                Command(
                    path,
                    description,
                    handler,
                    options_from_signature(handler),
                    self.feature,
                    admin,
                    guild_only,
                    defer,
                    None if always_on else self.switch,
                    unit_of_work,
                )
            )
            return handler

        return register

    def component(
        self, prefix: str, *, always_on: bool = False, unit_of_work: bool = True
    ) -> Callable[[Handler], Handler]:
        """Declare a button handler for custom ids starting with `prefix:`."""

        def register(handler: Handler) -> Handler:
            self.components.append(
                Component(prefix, handler, self.feature, None if always_on else self.switch, unit_of_work)
            )
            return handler

        return register


class FeatureGate(Protocol):
    """Tells whether a guild has a feature switched on."""

    async def __call__(self, session: AsyncSession, guild_id: int, feature: str) -> bool: ...


class GuildPreferences(Protocol):
    """The guild's language setting and time zone name (None where the guild set none)."""

    async def __call__(self, session: AsyncSession, guild_id: int) -> tuple[str | None, str | None]: ...


class CommandGuard(Protocol):
    """A slice's rule over other slices' commands (the wallet requirement): raises a `DomainError`
    to refuse `feature`'s command to this caller, inside the command's unit of work."""

    async def __call__(self, ctx: Context, feature: Feature) -> None: ...


class CommandObserver(Protocol):
    """Receives one call per dispatched command (metrics): its name, door, latency and outcome
    (`ok`, `refused`: a clear error for the user, `error`: a failure of Kyrios)."""

    def __call__(self, command: str, door: str, seconds: float, outcome: str) -> None: ...


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
        guild_preferences: GuildPreferences | None = None,
        guards: Iterable[CommandGuard] = (),
        site_url: str = "http://127.0.0.1:8000",
    ) -> None:
        self.db = db
        self.guards = list(guards)
        self.site_url = site_url
        self.bus = bus
        self.clock = clock
        self.rng = rng
        self.feature_gate = feature_gate
        self.observers = list(observers)
        self.default_timezone = default_timezone
        self.guild_preferences = guild_preferences
        self.commands: dict[str, Command] = {}
        self.components: dict[str, Component] = {}
        self.exchange: Callable[[], ExchangeClient] | None = None
        """The runtime's current exchange client (set by the `Runtime`; it changes when the
        process starts or stops running the exchange)."""
        self.adapters: dict[str, object] = {}
        """Door-provided adapters handed to every handler as `Context.adapters` (see there)."""

    def include(self, command_set: CommandSet) -> None:
        """Add a slice's declarations; duplicate names and unknown features are programming errors."""
        for feature in (command_set.feature, command_set.switch):
            if feature is not None:
                require_feature(feature)
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
        used: list[Translator] = []  # the handler's translator, once known
        # The command's log lines say which interaction and command they belong to (ops.logs).
        with bound(interaction_id=inv.interaction_id, command=name, door=inv.source.value):
            try:
                reply = await self._dispatch(inv, used)
                if reply.is_error:
                    outcome = "refused"
                return reply
            except DomainError as exc:
                outcome = "refused"
                return Reply.error(exc.render(used[-1] if used else await self._safe_translator(inv)))
            except Exception:
                outcome = "error"
                log.exception("command %s failed", name)
                translator = used[-1] if used else await self._safe_translator(inv)
                return Reply.error(translator.t(UNEXPECTED_ERROR))
            finally:
                elapsed = time.perf_counter() - started
                for observer in self.observers:
                    observer(name, inv.source.value, elapsed, outcome)

    async def error_reply(self, inv: Invocation, exc: DomainError) -> Reply:
        """A refusal a door met before dispatching (e.g. while parsing), in the reader's language."""
        return Reply.error(exc.render(await self._safe_translator(inv)))

    async def translator(
        self, inv: Invocation, session: AsyncSession | None = None, *, now: datetime | None = None
    ) -> Translator:
        """The reader's translator: the invocation's own locale, else the guild's setting, else
        Discord's guild locale, else English; times as the door shows them, in the guild's zone.

        The guild's settings are read (from `session`, or a fresh read) only when needed.
        """
        own = supported_locale(inv.locale)
        setting = timezone = None
        needs_guild = own is None or inv.door_style is DoorStyle.PLAIN  # plain text needs the zone
        if needs_guild and inv.guild_id is not None and self.guild_preferences is not None:
            if session is not None:
                setting, timezone = await self.guild_preferences(session, inv.guild_id)
            else:
                async with self.db.read() as fresh:
                    setting, timezone = await self.guild_preferences(fresh, inv.guild_id)
        locale = own or negotiate(setting, inv.guild_locale)
        return Translator(locale, inv.door_style, now or self.clock.now(), self._zone(timezone))

    async def _safe_translator(self, inv: Invocation) -> Translator:
        """The reader's translator, or one without the guild's settings if they cannot be read."""
        try:
            return await self.translator(inv)
        except Exception:
            log.exception("could not read the guild's language for an error reply")
            return Translator(negotiate(inv.locale, inv.guild_locale), inv.door_style, self.clock.now())

    def _zone(self, name: str | None) -> tzinfo:
        for candidate in (name, self.default_timezone):
            if candidate:
                try:
                    return ZoneInfo(candidate)
                except (ZoneInfoNotFoundError, ValueError):
                    continue
        return UTC

    async def _dispatch(self, inv: Invocation, used: list[Translator]) -> Reply:
        if inv.custom_id is not None:
            return await self._dispatch_component(inv, used)
        command = self.find(inv.command)
        if command is None:
            raise InvalidInput("Unknown command `/{command}`.", command=inv.command)
        values = self.validate(command, inv)
        return await self._run(
            inv,
            command.switch,
            lambda context: command.handler(context, **values),
            used,
            unit_of_work=command.unit_of_work,
        )

    def validate(self, command: Command, inv: Invocation) -> dict[str, Any]:
        """Parse options and run the checks that need no database; raises `DomainError`.

        Doors call it before deferring a slow command, so bad input is answered at once.
        """
        values = command.parse(inv)
        if command.guild_only and inv.guild_id is None:
            raise Forbidden("This command only works inside a server.")
        if command.admin and not inv.is_admin:
            raise Forbidden(
                "`/{command}` is for server admins (Manage Server permission).", command=command.path
            )
        return values

    async def _dispatch_component(self, inv: Invocation, used: list[Translator]) -> Reply:
        custom_id = inv.custom_id or ""
        prefix, _, rest = custom_id.partition(":")
        component = self.components.get(prefix)
        if component is None or len(custom_id) > MAX_CUSTOM_ID:
            raise Conflict("This button is no longer active.")
        args = rest.split(":") if rest else []
        return await self._run(
            inv,
            component.switch,
            lambda context: component.handler(context, *args),
            used,
            unit_of_work=component.unit_of_work,
        )

    async def _run(
        self,
        inv: Invocation,
        switch: Feature | None,
        handler: Callable[[Context], Awaitable[Reply]],
        used: list[Translator],
        *,
        unit_of_work: bool = True,
    ) -> Reply:
        """The handler in one transaction; what it queued for the bus goes out after the COMMIT.

        Without a unit of work the handler runs on a read session (its writes are made elsewhere).
        """
        attempts: list[Context] = []  # the database may run `work` again (deadlock, group commit)

        async def work(session: AsyncSession) -> Reply:
            now = self.clock.now()
            translator = await self.translator(inv, session, now=now)
            used.append(translator)
            await self._check_feature(session, inv, switch)
            exchange = None if self.exchange is None else self.exchange()
            context = Context(
                inv,
                session,
                now,
                self.rng,
                self.default_timezone,
                translator=translator,
                exchange_client=exchange,
                site_url=self.site_url,
                adapters=self.adapters,
            )
            attempts.append(context)
            if switch is not None and inv.guild_id is not None:
                for guard in self.guards:
                    await guard(context, switch)
            return await handler(context)

        if unit_of_work:
            reply = await self.db.run(work)
        else:
            async with self.db.read() as session:
                reply = await work(session)
        if self.bus is not None and attempts[-1].outbox:
            try:
                self.bus.publish_many(attempts[-1].outbox)
            except Exception:  # the command has committed: its reply must still say so
                log.exception("command %s committed, but telling other parts failed", inv.command)
        return reply

    async def _check_feature(self, session: AsyncSession, inv: Invocation, feature: Feature | None) -> None:
        if feature is None or inv.guild_id is None or self.feature_gate is None:
            return
        if not await self.feature_gate(session, inv.guild_id, feature):
            raise FeatureDisabled(
                "The {feature} feature is disabled on this server. An admin can enable it.", feature=feature
            )

    def discord_commands(self, *, localized: bool = True) -> list[dict[str, Any]]:
        """The whole command set as Discord's bulk-overwrite JSON, localized from the catalogues."""
        return discord_commands(self.commands.values(), localized=localized)
