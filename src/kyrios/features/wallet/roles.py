"""Applies wallet role changes through the Discord port: what commands and the signing page publish.

`/wallet verify`, `/wallet link`, `/wallet unlink` and the signing page record a role grant (or
its removal) in their transaction and publish a `RoleChange` on `ROLE_CHANGES` after the commit,
from any door or process; the gateway bot's `RoleApplier` adds or removes the role. A role Discord
refuses (gone, or above the bot's) is logged and left: the member keeps their verified wallet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from kyrios.core.bus import EventBus, Follower, Message
from kyrios.core.ports import DiscordError, DiscordPort
from kyrios.features.wallet.service import ROLE_CHANGES, RoleChange

log = logging.getLogger(__name__)
REASON = "Kyrios wallet verification"


class RoleApplier(Follower):
    """Follows `ROLE_CHANGES` and applies each to the guilds this bot process serves."""

    def __init__(self, bus: EventBus, port: DiscordPort, serves: Callable[[int], bool]) -> None:
        super().__init__(bus.subscribe(ROLE_CHANGES), name="wallet-roles")
        self.port = port
        self.serves = serves

    async def handle(self, message: Message) -> None:
        """Apply one published change (lost ones, behind an overflow, stay granted in the database)."""
        await self.apply(RoleChange.from_message(message))

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
