"""The gateway bot: receives interactions over the WebSocket and answers them through the registry."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import discord

from kyrios.core.ports import DiscordPort, Json, Upload
from kyrios.features.guild_settings.notices import AdminNotifier, GuildContact
from kyrios.gateway.admin_notice import cached_contact
from kyrios.gateway.bridge import interaction_payload
from kyrios.gateway.listeners import CogHost
from kyrios.gateway.port import GatewayDiscordPort
from kyrios.gateway.trace import discord_trace
from kyrios.runtime import Runtime
from kyrios.slash.invocation import Source
from kyrios.slash.respond import DEFAULT_BUDGET_SECONDS, InteractionResponder, respond_to_interaction
from kyrios.slices import cog_modules

log = logging.getLogger(__name__)


def default_intents() -> discord.Intents:
    """Only what the enabled features need (slash commands need no privileged intent)."""
    return discord.Intents(guilds=True)


class KyriosBot(CogHost):
    """An `AutoShardedBot` whose every slash command and button goes through `runtime.registry`.

    While it runs, `runtime.discord` is its `port` (discord.py's HTTP client and rate limiter);
    closing gives the runtime back the port it had. A command still running `reply_budget` seconds
    after its interaction arrived is answered deferred (see `kyrios.slash.respond`).
    """

    def __init__(
        self,
        runtime: Runtime,
        *,
        intents: discord.Intents | None = None,
        reply_budget: float = DEFAULT_BUDGET_SECONDS,
        **options: Any,
    ) -> None:
        options.setdefault("http_trace", discord_trace(runtime.metrics.discord))  # Discord API metrics
        super().__init__(intents=intents or default_intents(), **options)
        self.runtime = runtime
        self.reply_budget = reply_budget
        self.port = GatewayDiscordPort(self.http)
        self.admin_notices = AdminNotifier(runtime.db, runtime.clock, self.port, self._contact)
        self._replaced_port: DiscordPort | None = None
        self._connected_shards: set[int] = set()  # metrics: a shard's later sessions are reconnects

    async def _contact(self, guild_id: int) -> GuildContact | None:
        return cached_contact(self, guild_id)

    async def setup_hook(self) -> None:
        """After login: take over `runtime.discord` and add the slices' cogs."""
        self._replaced_port, self.runtime.discord = self.runtime.discord, self.port
        self.runtime.gateway = self
        await self.load_cogs(cog_modules(self.runtime.manifests))

    async def close(self) -> None:
        """Close (listeners finish, cogs unload), then give the runtime its own port back."""
        try:
            await super().close()
        finally:
            if self.runtime.discord is self.port:
                self.runtime.discord = self._replaced_port
            if self.runtime.gateway is self:
                self.runtime.gateway = None

    async def on_shard_connect(self, shard_id: int) -> None:
        """Count a new gateway session (a shard's second or later one is a reconnect)."""
        self._session_opened(shard_id)

    async def on_shard_resumed(self, shard_id: int) -> None:
        """Count a resumed session (a reconnect)."""
        self._session_opened(shard_id)

    async def on_shard_disconnect(self, shard_id: int) -> None:
        """Count a lost connection."""
        self.runtime.metrics.gateway.disconnects.inc()

    def _session_opened(self, shard_id: int) -> None:
        if shard_id in self._connected_shards:
            self.runtime.metrics.gateway.reconnects.inc()
        self._connected_shards.add(shard_id)

    async def on_ready(self) -> None:
        """Log the connection."""
        log.info("gateway bot connected as %s in %d guilds", self.user, len(self.guilds))

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """Answer an application command or button press through the reply path."""
        received_at = time.monotonic()
        if interaction.type not in (
            discord.InteractionType.application_command,
            discord.InteractionType.component,
            discord.InteractionType.modal_submit,
        ):
            return
        interaction_id, token = interaction.id, interaction.token

        async def acknowledge(body: Json, files: Sequence[Upload]) -> None:
            await self.port.interaction_callback(interaction_id, token, body, files=files)

        responder = InteractionResponder(acknowledge, self.port, interaction.application_id, token)
        await respond_to_interaction(
            self.runtime.registry,
            interaction_payload(interaction),
            Source.GATEWAY,
            responder,
            received_at=received_at,
            budget=self.reply_budget,
        )
