"""Applies wallet role changes through the Discord port: what commands and the signing page publish.

`/wallet verify`, `/wallet link`, `/wallet unlink` and the signing page record a role grant (or
its removal) in their transaction and publish a `RoleChange` on `ROLE_CHANGES` after the commit,
from any door or process; the gateway bot's `RoleApplier` adds or removes the role. A role Discord
refuses (gone, or above the bot's) is logged and left: the member keeps their verified wallet.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from kyrios.core.bus import EventBus
from kyrios.core.ports import DiscordError, DiscordPort
from kyrios.features.wallet.service import ROLE_CHANGES, RoleChange

log = logging.getLogger(__name__)
REASON = "Kyrios wallet verification"


class RoleApplier:
    """Follows `ROLE_CHANGES` and applies each to the guilds this bot process serves."""

    def __init__(self, bus: EventBus, port: DiscordPort, serves: Callable[[int], bool]) -> None:
        self.port = port
        self.serves = serves
        self.changes = bus.subscribe(ROLE_CHANGES)  # from now on, even before `start`
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Follow role changes (idempotent)."""
        if self._task is None:
            self._task = asyncio.create_task(self._follow(), name="wallet-roles")

    async def close(self) -> None:
        """Stop following."""
        self.changes.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def apply(self, change: RoleChange) -> None:
        """Add or remove the role; Discord's refusal is logged, not raised."""
        if not self.serves(change.guild_id):
            return
        try:
            if change.add:
                await self.port.add_role(change.guild_id, change.user_id, change.role_id, reason=REASON)
            else:
                await self.port.remove_role(change.guild_id, change.user_id, change.role_id, reason=REASON)
        except DiscordError as exc:
            log.info(
                "wallet role %s on %s in %s not changed: %s",
                change.role_id,
                change.user_id,
                change.guild_id,
                exc,
            )

    async def _follow(self) -> None:
        async for _, message in self.changes:
            if "role_id" not in message:
                continue  # an overflow marker: those changes are lost, the grants are in the database
            try:
                await self.apply(RoleChange.from_message(message))
            except Exception:
                log.exception("applying a wallet role change failed")
