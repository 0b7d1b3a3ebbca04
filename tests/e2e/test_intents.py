"""The bot asks only for the intents its features need, and says which privileged ones to enable."""

from __future__ import annotations

import pytest

from kyrios.gateway.intents import intents_for, privileged_notice


def test_slash_commands_alone_need_no_privileged_intent() -> None:
    intents = intents_for([])
    assert intents.guilds and not intents.members and not intents.message_content
    assert privileged_notice(intents) is None


def test_every_gateway_feature_names_both_privileged_intents_and_where_to_enable_them() -> None:
    intents = intents_for()
    assert intents.members and intents.moderation and intents.message_content and not intents.presences
    notice = privileged_notice(intents, 999)
    assert notice is not None
    assert "SERVER MEMBERS INTENT" in notice and "MESSAGE CONTENT INTENT" in notice
    assert "https://discord.com/developers/applications/999/bot" in notice and "4014" in notice


def test_avatar_history_needs_members_only() -> None:
    intents = intents_for(["avatars"])
    assert intents.members and not intents.message_content
    with pytest.raises(ValueError, match="unknown gateway feature"):
        intents_for(["poker"])
