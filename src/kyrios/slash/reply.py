"""What a command answers: content, embeds, buttons, files; one JSON rendering for both Discord doors.

Files travel beside the JSON (Discord's multipart form: `payload_json` plus `files[n]`); each door
sends them its way (`kyrios.slash.respond`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import Any, Self

from kyrios.core.ports import Upload

EPHEMERAL_FLAG = 1 << 6
MAX_EMBED_DESCRIPTION = 4096
MAX_FIELD_VALUE = 1024
MAX_CONTENT = 2000


class Colour(IntEnum):
    """Embed colours used across features."""

    INFO = 0x5865F2
    SUCCESS = 0x57F287
    WARNING = 0xFEE75C
    ERROR = 0xED4245
    GOLD = 0xF1C40F


class ButtonStyle(IntEnum):
    """Discord button styles."""

    PRIMARY = 1
    SECONDARY = 2
    SUCCESS = 3
    DANGER = 4
    LINK = 5


class CallbackType(IntEnum):
    """Interaction callback types (Discord `InteractionCallbackType`)."""

    PONG = 1
    CHANNEL_MESSAGE = 4
    DEFERRED_CHANNEL_MESSAGE = 5
    DEFERRED_UPDATE_MESSAGE = 6
    UPDATE_MESSAGE = 7
    MODAL = 9


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class EmbedField:
    """One name/value pair of an embed."""

    name: str
    value: str
    inline: bool = False


@dataclass
class Embed:
    """A rich embed, rendered the same way by every door."""

    title: str | None = None
    description: str | None = None
    colour: int | None = Colour.INFO
    fields: list[EmbedField] = field(default_factory=list)
    footer: str | None = None
    thumbnail_url: str | None = None
    image_url: str | None = None
    timestamp: datetime | None = None

    def add_field(self, name: str, value: str, *, inline: bool = False) -> Self:
        """Append a field and return the embed for chaining."""
        self.fields.append(EmbedField(name, value, inline))
        return self

    def to_dict(self) -> dict[str, Any]:
        """Discord's embed JSON, with its length limits applied."""
        data: dict[str, Any] = {"type": "rich"}
        if self.title:
            data["title"] = _clip(self.title, 256)
        if self.description:
            data["description"] = _clip(self.description, MAX_EMBED_DESCRIPTION)
        if self.colour is not None:
            data["color"] = int(self.colour)
        if self.fields:
            data["fields"] = [
                {
                    "name": _clip(f.name, 256),
                    "value": _clip(f.value or "\u200b", MAX_FIELD_VALUE),
                    "inline": f.inline,
                }
                for f in self.fields[:25]
            ]
        if self.footer:
            data["footer"] = {"text": _clip(self.footer, 2048)}
        if self.thumbnail_url:
            data["thumbnail"] = {"url": self.thumbnail_url}
        if self.image_url:
            data["image"] = {"url": self.image_url}
        if self.timestamp:
            data["timestamp"] = self.timestamp.isoformat()
        return data


@dataclass
class Button:
    """A button; `custom_id` routes a press back to a component handler."""

    label: str
    custom_id: str | None = None
    style: ButtonStyle = ButtonStyle.SECONDARY
    url: str | None = None
    disabled: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Discord's button component JSON."""
        data: dict[str, Any] = {"type": 2, "label": _clip(self.label, 80), "style": int(self.style)}
        if self.style == ButtonStyle.LINK:
            data["url"] = self.url
        else:
            data["custom_id"] = self.custom_id
        if self.disabled:
            data["disabled"] = True
        return data


class TextStyle(IntEnum):
    """A text input's size: one line, or several."""

    SHORT = 1
    PARAGRAPH = 2


@dataclass
class TextInput:
    """One field of a modal; its value comes back under `custom_id` in the submission's options."""

    custom_id: str
    label: str
    style: TextStyle = TextStyle.SHORT
    required: bool = True
    max_length: int | None = None
    value: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Discord's text input component JSON."""
        data: dict[str, Any] = {
            "type": 4,
            "custom_id": self.custom_id,
            "label": _clip(self.label, 45),
            "style": int(self.style),
            "required": self.required,
        }
        if self.max_length is not None:
            data["max_length"] = self.max_length
        if self.value:
            data["value"] = self.value
        return data


@dataclass
class Modal:
    """A form Discord shows over the client; its submission is routed like a button by `custom_id`."""

    custom_id: str
    title: str
    inputs: list[TextInput]

    def to_dict(self) -> dict[str, Any]:
        """The `data` of a modal callback (type 9)."""
        return {
            "custom_id": self.custom_id,
            "title": _clip(self.title, 45),
            "components": [{"type": 1, "components": [i.to_dict()]} for i in self.inputs[:5]],
        }


@dataclass
class Reply:
    """A command's answer. `update=True` edits the message a button was pressed on; `files` are
    attached to it (an embed shows one as its image with `attachment://<filename>`)."""

    content: str | None = None
    embeds: list[Embed] = field(default_factory=list)
    buttons: list[list[Button]] = field(default_factory=list)
    files: list[Upload] = field(default_factory=list)
    ephemeral: bool = False
    update: bool = False
    is_error: bool = False
    ping: tuple[int, ...] = ()
    """Users the message notifies (Discord's `allowed_mentions.users`); nobody else is pinged."""
    modal: Modal | None = None
    """A form to show instead of a message (Discord doors only; only as the first answer)."""

    @classmethod
    def error(cls, message: str) -> Reply:
        """An ephemeral error answer (counted as a rejected command)."""
        return cls(content=f"❌ {message}", ephemeral=True, is_error=True)

    @classmethod
    def embed(cls, embed: Embed, *, ephemeral: bool = False) -> Reply:
        """A reply holding one embed."""
        return cls(embeds=[embed], ephemeral=ephemeral)

    def to_message(self) -> dict[str, Any]:
        """Discord's message JSON (the `data` of a callback, or a webhook edit body)."""
        data: dict[str, Any] = {"allowed_mentions": {"parse": []}}
        if self.ping:
            data["allowed_mentions"]["users"] = [str(user) for user in self.ping[:100]]
        data["content"] = _clip(self.content, MAX_CONTENT) if self.content else ""
        data["embeds"] = [embed.to_dict() for embed in self.embeds[:10]]
        data["components"] = [
            {"type": 1, "components": [button.to_dict() for button in row[:5]]}
            for row in self.buttons[:5]
            if row
        ]
        if self.ephemeral:
            data["flags"] = EPHEMERAL_FLAG
        return data

    def to_callback(self) -> dict[str, Any]:
        """The interaction callback body for this reply."""
        if self.modal is not None:
            return {"type": int(CallbackType.MODAL), "data": self.modal.to_dict()}
        kind = CallbackType.UPDATE_MESSAGE if self.update else CallbackType.CHANNEL_MESSAGE
        return {"type": int(kind), "data": self.to_message()}
