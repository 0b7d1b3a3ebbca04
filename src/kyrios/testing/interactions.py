"""Build Discord interaction payloads and sign them with a real Ed25519 key."""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from nacl.signing import SigningKey

from kyrios.slash.options import OptionType

_ids = itertools.count(10**17)


@dataclass
class InteractionSigner:
    """Signs request bodies the way Discord does (Ed25519 over timestamp + body)."""

    key: SigningKey = field(default_factory=SigningKey.generate)

    @property
    def public_key_hex(self) -> str:
        """The hex public key to configure as KYRIOS_DISCORD_PUBLIC_KEY."""
        return self.key.verify_key.encode().hex()

    def headers(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        """Signature headers for a body."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = self.key.sign(stamp.encode() + body).signature.hex()
        return {
            "X-Signature-Ed25519": signature,
            "X-Signature-Timestamp": stamp,
            "Content-Type": "application/json",
        }

    def sign(self, payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        """Serialise and sign a payload."""
        body = json.dumps(payload).encode()
        return body, self.headers(body)


def _user(user_id: int, name: str) -> dict[str, Any]:
    return {"id": str(user_id), "username": name, "global_name": name, "discriminator": "0", "avatar": None}


def command_payload(
    path: str,
    options: dict[str, Any] | None = None,
    *,
    guild_id: int = 1,
    user_id: int = 42,
    user_name: str = "tester",
    permissions: int = 0,
    application_id: int = 999,
    channel_id: int = 10,
    option_types: dict[str, int] | None = None,
) -> dict[str, Any]:
    """An APPLICATION_COMMAND interaction as Discord sends it (subcommands nested)."""
    parts = path.split()
    types = option_types or {}
    leaf = [
        {"name": name, "type": types.get(name, _guess_type(value)), "value": value}
        for name, value in (options or {}).items()
    ]
    nested: list[dict[str, Any]] = leaf
    for depth, name in reversed(list(enumerate(parts[1:], start=1))):
        kind = OptionType.SUB_COMMAND if depth == len(parts) - 1 else OptionType.SUB_COMMAND_GROUP
        nested = [{"name": name, "type": int(kind), "options": nested}]
    return {
        "id": str(next(_ids)),
        "application_id": str(application_id),
        "type": 2,
        "token": f"token-{next(_ids)}",
        "version": 1,
        "guild_id": str(guild_id),
        "channel_id": str(channel_id),
        "locale": "en-US",
        "member": {"user": _user(user_id, user_name), "permissions": str(permissions), "roles": []},
        "data": {"id": str(next(_ids)), "name": parts[0], "type": 1, "options": nested},
    }


def component_payload(
    custom_id: str, *, guild_id: int = 1, user_id: int = 42, permissions: int = 0, application_id: int = 999
) -> dict[str, Any]:
    """A MESSAGE_COMPONENT (button) interaction."""
    return {
        "id": str(next(_ids)),
        "application_id": str(application_id),
        "type": 3,
        "token": f"token-{next(_ids)}",
        "version": 1,
        "guild_id": str(guild_id),
        "channel_id": "10",
        "member": {"user": _user(user_id, "tester"), "permissions": str(permissions), "roles": []},
        "message": {"id": str(next(_ids)), "channel_id": "10"},
        "data": {"custom_id": custom_id, "component_type": 2},
    }


def modal_payload(
    custom_id: str,
    values: dict[str, str],
    *,
    guild_id: int = 1,
    user_id: int = 42,
    permissions: int = 0,
    application_id: int = 999,
    channel_id: int = 10,
) -> dict[str, Any]:
    """A MODAL_SUBMIT interaction: the text inputs' values, each in its action row."""
    rows = [
        {"type": 1, "components": [{"type": 4, "custom_id": name, "value": value}]}
        for name, value in values.items()
    ]
    return {
        "id": str(next(_ids)),
        "application_id": str(application_id),
        "type": 5,
        "token": f"token-{next(_ids)}",
        "version": 1,
        "guild_id": str(guild_id),
        "channel_id": str(channel_id),
        "member": {"user": _user(user_id, "tester"), "permissions": str(permissions), "roles": []},
        "data": {"custom_id": custom_id, "components": rows},
    }


def _guess_type(value: Any) -> int:
    if isinstance(value, bool):
        return int(OptionType.BOOLEAN)
    if isinstance(value, int):
        return int(OptionType.INTEGER)
    return int(OptionType.STRING)
