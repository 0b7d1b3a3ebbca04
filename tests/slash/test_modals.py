"""Modals: a reply may be a form (callback type 9, valid for Discord's OpenAPI description), and its
submission is read back as a component invocation whose options are the form's fields."""

from __future__ import annotations

from kyrios.slash.invocation import Source
from kyrios.slash.payload import invocation_from_payload
from kyrios.slash.reply import Modal, Reply, TextInput, TextStyle
from kyrios.testing.interactions import modal_payload
from tests.emulator.openapi_spec import DiscordSpec

FORM = Modal(
    "ticket-form:general",
    "New ticket",
    [
        TextInput("title", "Title", max_length=100),
        TextInput("body", "Body", TextStyle.PARAGRAPH, required=False),
    ],
)


def test_a_modal_reply_is_a_type_9_callback_discord_accepts() -> None:
    body = Reply(content="ignored", modal=FORM).to_callback()
    assert body["type"] == 9 and body["data"]["custom_id"] == "ticket-form:general"
    row = body["data"]["components"][1]
    assert row == {
        "type": 1,
        "components": [{"type": 4, "custom_id": "body", "label": "Body", "style": 2, "required": False}],
    }
    spec = DiscordSpec.load()
    operation = spec.operation("POST", "/interactions/1/token/callback")
    assert operation is not None and spec.request_errors(operation, body) == []


def test_a_submission_is_a_component_invocation_with_the_fields_as_options() -> None:
    payload = modal_payload("ticket-form:general", {"title": "Help", "body": ""}, user_id=7)
    inv = invocation_from_payload(payload, Source.HTTP)
    assert inv.custom_id == "ticket-form:general" and inv.is_component
    assert inv.options == {"title": "Help", "body": ""} and inv.actor.id == 7
    labelled = {
        **payload,
        "data": {
            "custom_id": "f",
            "components": [
                {"type": 18, "component": {"type": 4, "custom_id": "title", "value": "In a label"}}
            ],
        },
    }
    assert invocation_from_payload(labelled, Source.GATEWAY).options == {"title": "In a label"}
