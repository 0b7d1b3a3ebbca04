"""Who deleted a message: the "likely by" heuristic over audit-log entries (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kyrios.features.modlog.attribution import DeleteAttributor, exact_entry
from kyrios.features.modlog.events import DISCORD_EPOCH_MS, AuditAction, AuditEntry, snowflake_time

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def entry(
    at: datetime,
    *,
    action: AuditAction = AuditAction.MESSAGE_DELETE,
    target: int = 7,
    channel_id: int | None = None,
    count: int | None = None,
) -> AuditEntry:
    snowflake = (int(at.timestamp() * 1000) - DISCORD_EPOCH_MS) << 22
    return AuditEntry(
        id=snowflake, action=action, moderator_id=99, target_id=target, channel_id=channel_id, count=count
    )


def test_snowflake_time_round_trips() -> None:
    assert snowflake_time(entry(NOW).id) == NOW


def test_a_fresh_entry_for_the_same_author_and_channel_is_the_likely_deleter() -> None:
    attributor = DeleteAttributor()
    fresh = entry(NOW - timedelta(seconds=2), channel_id=10, count=1)
    assert attributor.likely_deleter([fresh], author_id=7, channel_id=10, now=NOW) == fresh
    assert attributor.likely_deleter([fresh], author_id=7, channel_id=11, now=NOW) is None
    assert attributor.likely_deleter([fresh], author_id=8, channel_id=10, now=NOW) is None


def test_an_old_entry_counts_only_when_its_count_grew() -> None:
    attributor = DeleteAttributor()
    old = entry(NOW - timedelta(minutes=3), channel_id=10, count=2)
    assert attributor.likely_deleter([old], author_id=7, channel_id=10, now=NOW) is None  # a self-delete
    grown = AuditEntry(old.id, old.action, old.moderator_id, old.target_id, channel_id=10, count=3)
    assert attributor.likely_deleter([grown], author_id=7, channel_id=10, now=NOW) == grown
    assert attributor.likely_deleter([grown], author_id=7, channel_id=10, now=NOW) is None


def test_exact_entries_must_name_the_target_and_be_recent() -> None:
    kick = entry(NOW - timedelta(seconds=5), action=AuditAction.MEMBER_KICK, target=7)
    assert exact_entry([kick], AuditAction.MEMBER_KICK, 7, NOW) == kick
    assert exact_entry([kick], AuditAction.MEMBER_KICK, 8, NOW) is None
    assert exact_entry([kick], AuditAction.MEMBER_BAN_ADD, 7, NOW) is None
    assert exact_entry([kick], AuditAction.MEMBER_KICK, 7, NOW + timedelta(minutes=5)) is None


def test_audit_entries_parse_discords_json() -> None:
    data = {
        "id": "1150000000000000000",
        "action_type": 72,
        "user_id": "99",
        "target_id": "7",
        "options": {"channel_id": "10", "count": "3"},
        "reason": None,
    }
    parsed = AuditEntry.from_json(data)
    assert (parsed.action, parsed.moderator_id, parsed.target_id, parsed.channel_id, parsed.count) == (
        72,
        99,
        7,
        10,
        3,
    )
