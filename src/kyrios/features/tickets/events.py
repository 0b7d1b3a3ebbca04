"""What ticket commands ask the gateway to do on Discord, published on the bus after they commit."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kyrios.core.bus import Message

CHANNEL_WORK = "tickets:channels"


class Work(StrEnum):
    """A change of a ticket's channel."""

    OPEN = "open"
    CLOSE = "close"
    REOPEN = "reopen"
    ADD = "add"
    REMOVE = "remove"
    RENAME = "rename"


@dataclass(frozen=True, slots=True)
class ChannelWork:
    """One change for the gateway's `ChannelKeeper`; `user_id` is the member added or removed,
    `name` the new channel name."""

    work: Work
    guild_id: int
    ticket_id: int
    user_id: int = 0
    name: str = ""

    def to_message(self) -> Message:
        """Its bus message."""
        return {
            "work": self.work.value,
            "guild_id": self.guild_id,
            "ticket_id": self.ticket_id,
            "user_id": self.user_id,
            "name": self.name,
        }

    @classmethod
    def from_message(cls, data: Message) -> ChannelWork:
        """Read a bus message back."""
        return cls(
            Work(str(data["work"])),
            int(data["guild_id"]),
            int(data["ticket_id"]),
            int(data.get("user_id") or 0),
            str(data.get("name") or ""),
        )
