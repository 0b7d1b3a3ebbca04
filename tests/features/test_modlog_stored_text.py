"""Kyrios's own words in a case are kept as message and values; anything else is shown as written."""

from __future__ import annotations

from datetime import UTC, datetime

from kyrios.core.i18n import DoorStyle, Translator, lazy
from kyrios.features.modlog.stored_text import shown, store

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
JAPANESE_ON_DISCORD = Translator("ja", DoorStyle.DISCORD)


def test_a_stored_message_reads_in_each_language_and_door() -> None:
    kept = store(lazy("until {ends:f}", ends=AT), 512)
    assert "<t:" not in kept and "2026-03-01T12:00:00+00:00" in kept
    assert shown(kept, JAPANESE_ON_DISCORD) == f"<t:{int(AT.timestamp())}:f> まで"
    assert (
        shown(kept, Translator("en", now=AT)) == "until March 1, 2026, 12:00\u202fPM"
    )  # Babel: a narrow space


def test_plain_legacy_and_look_alike_text_is_shown_as_written() -> None:
    legacy = "**Account created:** <t:1700000000:R>"  # stored by an earlier version
    assert store(legacy, 512) == legacy and shown(legacy, JAPANESE_ON_DISCORD) == legacy
    look_alike = '{"msgid": "Not a message Kyrios knows {x}", "params": {"x": 1}}'  # a moderator's note
    assert shown(look_alike, JAPANESE_ON_DISCORD) == look_alike
    missing_value = '{"msgid": "until {ends:f}", "params": {}}'
    assert shown(missing_value, JAPANESE_ON_DISCORD) == missing_value
    assert shown(None, JAPANESE_ON_DISCORD) is None


def test_a_message_too_long_for_its_column_is_kept_in_english() -> None:
    reason = '"' * 600
    kept = store(lazy("Previous reason: {reason}", reason=reason), 1000)
    assert kept == f"Previous reason: {reason}"[:1000]
