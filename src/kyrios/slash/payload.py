"""Discord interaction JSON -> `Invocation`, shared by the HTTP endpoint and the gateway bridge."""

from __future__ import annotations

from typing import Any

from kyrios.core.errors import InvalidInput
from kyrios.slash.invocation import Actor, Invocation, Source
from kyrios.slash.options import OptionType

APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
MODAL_SUBMIT = 5


def _actor(user: dict[str, Any]) -> Actor:
    name = user.get("global_name") or user.get("username") or f"user {user.get('id')}"
    return Actor(id=int(user["id"]), name=str(name), is_bot=bool(user.get("bot")), avatar=user.get("avatar"))


def _text(value: Any) -> str | None:
    return str(value) if value else None


def _flatten(name: str, options: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    """Walk subcommand groups and subcommands down to the leaf and its option values."""
    path = [name]
    current = options
    while current and current[0].get("type") in (OptionType.SUB_COMMAND, OptionType.SUB_COMMAND_GROUP):
        path.append(str(current[0]["name"]))
        current = current[0].get("options", [])
    return " ".join(path), {str(opt["name"]): opt.get("value") for opt in current}


def modal_fields(data: dict[str, Any]) -> dict[str, Any]:
    """A modal submission's text inputs by custom id (in action rows, or in labels)."""
    fields: dict[str, Any] = {}
    for row in data.get("components") or ():
        inner = [row["component"]] if row.get("component") else row.get("components") or ()
        for item in inner:
            if item.get("custom_id") is not None:
                fields[str(item["custom_id"])] = item.get("value") or ""
    return fields


def invocation_from_payload(payload: dict[str, Any], source: Source) -> Invocation:
    """Build an invocation from an APPLICATION_COMMAND, MESSAGE_COMPONENT or MODAL_SUBMIT interaction
    (a submission is dispatched like a button, its fields as `options`)."""
    try:
        member = payload.get("member")
        user = member["user"] if member else payload["user"]
        data = payload.get("data") or {}
        resolved = {
            int(uid): _actor(raw) for uid, raw in ((data.get("resolved") or {}).get("users") or {}).items()
        }
        inv = Invocation(
            actor=_actor(user),
            guild_id=int(payload["guild_id"]) if payload.get("guild_id") else None,
            channel_id=int(payload["channel_id"]) if payload.get("channel_id") else None,
            permissions=int(member.get("permissions", 0)) if member else 0,
            source=source,
            locale=_text(payload.get("locale")),
            guild_locale=_text(payload.get("guild_locale")),
            resolved_users=resolved,
            role_ids=tuple(int(role) for role in member.get("roles") or ()) if member else (),
            interaction_id=int(payload["id"]) if payload.get("id") else None,
            interaction_token=payload.get("token"),
        )
        if payload.get("type") in (MESSAGE_COMPONENT, MODAL_SUBMIT):
            inv.custom_id = str(data["custom_id"])
            inv.options = modal_fields(data) if payload.get("type") == MODAL_SUBMIT else {}
        else:
            inv.command, inv.options = _flatten(str(data["name"]), data.get("options") or [])
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput("Malformed interaction payload ({problem}).", problem=type(exc).__name__) from exc
    return inv
