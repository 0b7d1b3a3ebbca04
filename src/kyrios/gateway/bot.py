"""The gateway bot: receives interactions over the WebSocket and answers them through the registry."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord.http import Route

from kyrios.core.errors import DomainError
from kyrios.gateway.admin_notice import AdminNotifier
from kyrios.gateway.bridge import interaction_payload
from kyrios.gateway.listeners import ListenerHub
from kyrios.runtime import Runtime
from kyrios.slash.invocation import Source
from kyrios.slash.payload import invocation_from_payload
from kyrios.slash.reply import CallbackType, Reply

log = logging.getLogger(__name__)


def default_intents() -> discord.Intents:
    """Only what the enabled features need (slash commands need no privileged intent)."""
    return discord.Intents(guilds=True)


class KyriosBot(ListenerHub):
    """An `AutoShardedClient` whose every slash command and button goes through `runtime.registry`."""

    def __init__(self, runtime: Runtime, *, intents: discord.Intents | None = None, **options: Any) -> None:
        super().__init__(intents=intents or default_intents(), **options)
        self.runtime = runtime
        self.admin_notices = AdminNotifier(self, runtime.db, runtime.clock)
        self.install_cogs()  # the slices' listeners: modlog, avatars, auto role, prefix commands

    async def on_ready(self) -> None:
        """Log the connection."""
        log.info("gateway bot connected as %s in %d guilds", self.user, len(self.guilds))

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """Answer an application command or button press."""
        if interaction.type not in (
            discord.InteractionType.application_command,
            discord.InteractionType.component,
        ):
            return
        payload = interaction_payload(interaction)
        try:
            inv = invocation_from_payload(payload, Source.GATEWAY)
        except DomainError as exc:
            await self._callback(interaction, Reply.error(exc.message).to_callback())
            return
        command = self.runtime.registry.find(inv.command) if inv.custom_id is None else None
        if command is not None and command.defer:
            try:
                self.runtime.registry.validate(command, inv)
            except DomainError as exc:
                await self._callback(interaction, Reply.error(exc.message).to_callback())
                return
            await self._callback(interaction, {"type": int(CallbackType.DEFERRED_CHANNEL_MESSAGE)})
            reply = await self.runtime.registry.dispatch(inv)
            route = Route(
                "PATCH",
                "/webhooks/{application_id}/{interaction_token}/messages/@original",
                application_id=interaction.application_id,
                interaction_token=interaction.token,
            )
            await self.http.request(route, json=reply.to_message())
            return
        reply = await self.runtime.registry.dispatch(inv)
        await self._callback(interaction, reply.to_callback())

    async def _callback(self, interaction: discord.Interaction[Any], body: dict[str, Any]) -> None:
        route = Route(
            "POST",
            "/interactions/{interaction_id}/{interaction_token}/callback",
            interaction_id=interaction.id,
            interaction_token=interaction.token,
        )
        await self.http.request(route, json=body)
