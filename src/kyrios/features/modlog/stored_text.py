"""Words Kyrios itself writes into a case (a join's account age, a timeout's end, a channel's
name, a replaced reason), kept as message id and values so every reader sees them in their own
language and every door shows the times its own way.

Stored form: JSON `{"msgid": …, "params": {…}}`, times as `{"time": ISO 8601}`. Anything else
(text stored before this form, a system notice passed as plain text, a moderator's own words)
is shown as written.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from kyrios.core.i18n import ENGLISH, LazyText, Translator
from kyrios.core.i18n.catalogue import is_known

_TIME = "time"


def store(text: LazyText | str, limit: int) -> str:
    """The column value for `text`; plain strings are kept as they are (clipped to `limit`).

    A message whose values do not fit the column is kept in English, clipped, like plain text.
    """
    if isinstance(text, str):
        return text[:limit]
    params = {name: _value(value) for name, value in text.params.items()}
    encoded = json.dumps({"msgid": text.msgid, "params": params}, ensure_ascii=False)
    return encoded if len(encoded) <= limit else text.render(ENGLISH)[:limit]


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {_TIME: value.isoformat()}
    if isinstance(value, str | int) and not isinstance(value, bool):
        return value
    raise TypeError(f"a stored message takes text, whole numbers and times, not {type(value).__name__}")


def loaded(stored: str) -> LazyText | None:
    """The message in a column value, or None when the value is plain text."""
    if not stored.startswith('{"msgid"'):
        return None
    try:
        data = json.loads(stored)
        msgid, raw = data["msgid"], data["params"]
        params = {name: _loaded_value(value) for name, value in raw.items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if not isinstance(msgid, str) or not is_known(msgid):
        return None
    return LazyText(msgid, params)


def _loaded_value(value: Any) -> Any:
    if isinstance(value, dict):
        return datetime.fromisoformat(value[_TIME])
    return value


def shown(stored: str | None, translator: Translator) -> str | None:
    """A column value as the reader reads it (None stays None)."""
    if stored is None:
        return None
    text = loaded(stored)
    if text is None:
        return stored
    try:
        return text.render(translator)
    except (KeyError, ValueError):  # values that do not fit the message: show what is there
        return stored
