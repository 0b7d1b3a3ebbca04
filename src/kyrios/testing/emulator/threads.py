"""Threads: a `Channel` with an owner, members and an archived flag, kept in `Guild.threads`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from kyrios.testing.emulator.models import Channel, ChannelType, Json, iso, utcnow

ARCHIVE_DURATIONS = (60, 1440, 4320, 10080)


@dataclass
class Thread(Channel):
    """A public or private thread under a text channel (`parent_id`). Permissions come from the parent."""

    owner_id: int = 0
    archived: bool = False
    locked: bool = False
    invitable: bool = True
    auto_archive_duration: int = 1440
    archive_timestamp: datetime | None = None
    created_at: datetime = field(default_factory=utcnow)
    members: dict[int, datetime] = field(default_factory=dict)  # user id -> when they joined
    message_count: int = 0
    total_message_sent: int = 0

    def to_json(self) -> Json:
        """`ThreadResponse` (Discord's spec) / `types.threads.Thread`."""
        metadata: Json = {
            "archived": self.archived,
            "archive_timestamp": iso(self.archive_timestamp or self.created_at),
            "auto_archive_duration": self.auto_archive_duration,
            "locked": self.locked,
            "create_timestamp": iso(self.created_at),
        }
        if self.type == ChannelType.PRIVATE_THREAD:
            metadata["invitable"] = self.invitable
        return {
            "id": str(self.id),
            "type": int(self.type),
            "guild_id": str(self.guild_id),
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "owner_id": str(self.owner_id),
            "name": self.name,
            "last_message_id": str(self.last_message_id) if self.last_message_id else None,
            "rate_limit_per_user": self.rate_limit_per_user,
            "flags": 0,
            "thread_metadata": metadata,
            "message_count": self.message_count,
            "member_count": min(len(self.members), 50),
            "total_message_sent": self.total_message_sent,
        }

    def member_json(self, user_id: int) -> Json:
        """`ThreadMemberResponse`: one member of this thread."""
        return {
            "id": str(self.id),
            "user_id": str(user_id),
            "join_timestamp": iso(self.members[user_id]),
            "flags": 0,
        }
