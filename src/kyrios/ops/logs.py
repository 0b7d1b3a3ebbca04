"""Logging through structlog: one JSON object per line in production, readable lines locally.

Every module keeps its stdlib `logging.getLogger(__name__)`; the root handler formats their
records (and uvicorn's, and discord.py's) with structlog's `ProcessorFormatter`, adding the
time, level, logger and whatever the current context bound: `request_id` (each HTTP request),
`interaction_id` and `command` (each dispatched command), `account_id`, `symbol`,
`client_order_id`, `order_id` (the trading API); `with bound(...)` binds more.

Secrets never reach a line: values of keys that name a secret (token, secret, password,
authorization, cookie, api_key, private_key) and every `SecretStr` are replaced by `**********`
(a `SecretStr` formatted into a message prints as stars by itself).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from contextvars import ContextVar, Token
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

import structlog
from pydantic import SecretStr
from structlog.typing import EventDict, Processor, WrappedLogger

if TYPE_CHECKING:
    from kyrios.settings import Settings

LogFormat = Literal["auto", "json", "console"]
REDACTED = "**********"
_SECRET_WORDS = ("token", "secret", "password", "passwd", "authorization", "cookie", "api_key", "private_key")

__all__ = [
    "REDACTED",
    "bound",
    "configure_from",
    "configure_logging",
    "formatter",
    "merge_bound",
    "resolve_format",
]
REQUEST_ID_HEADER = b"x-request-id"

_NOTHING: Mapping[str, Any] = MappingProxyType({})
_CONTEXT: ContextVar[Mapping[str, Any]] = ContextVar("kyrios_log_context", default=_NOTHING)
"""The ids bound for the current task: one variable holding a small dict (structlog's own
`bound_contextvars` costs about 20 µs a use here, too much for every command)."""


class bound:
    """Bind ids to every log line written inside the `with` block (and the tasks it starts)."""

    __slots__ = ("_ids", "_token")

    def __init__(self, **ids: Any) -> None:
        self._ids = ids
        self._token: Token[Mapping[str, Any]] | None = None

    def __enter__(self) -> None:
        self._token = _CONTEXT.set({**_CONTEXT.get(), **self._ids})

    def __exit__(self, *_: object) -> None:
        assert self._token is not None
        _CONTEXT.reset(self._token)


def merge_bound(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    """Add the ids `bound` holds (a record's own fields win)."""
    for key, value in _CONTEXT.get().items():
        event.setdefault(key, value)
    return event


def _is_secret_key(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def redact_secrets(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    """Hide secret values: `SecretStr`s anywhere at the top level, and whatever a secret-named key holds."""
    for key, value in event.items():
        if isinstance(value, SecretStr) or (key != "event" and _is_secret_key(key) and value is not None):
            event[key] = REDACTED
    return event


def _shared() -> list[Processor]:
    return [
        merge_bound,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
        redact_secrets,
    ]


def formatter(kind: Literal["json", "console"], *, colors: bool = False) -> logging.Formatter:
    """The root handler's formatter: JSON lines, or structlog's console lines."""
    renderer: Processor
    # Tracebacks without local variables: locals hold tokens, keys and members' data.
    if kind == "json":
        renderer = structlog.processors.JSONRenderer(sort_keys=False)
        without_locals = structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
        tail: list[Processor] = [structlog.processors.ExceptionRenderer(without_locals)]
    else:
        traceback: structlog.typing.ExceptionRenderer = structlog.dev.plain_traceback
        if colors:
            traceback = structlog.dev.RichTracebackFormatter(show_locals=False)
        renderer = structlog.dev.ConsoleRenderer(colors=colors, exception_formatter=traceback)
        tail = []
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared(),
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *tail, renderer],
    )


def resolve_format(log_format: LogFormat, *, production: bool) -> Literal["json", "console"]:
    """`auto`: JSON in production, console lines otherwise."""
    if log_format == "auto":
        return "json" if production else "console"
    return log_format


def configure_from(settings: Settings) -> None:
    """`configure_logging` from `kyrios.settings.Settings` (production: `KYRIOS_MODE=production`, or
    an `env` of `production` where settings have one)."""
    production = settings.mode == "production" or getattr(settings, "env", None) == "production"
    configure_logging(settings.log_level, settings.log_format, production=production)


def configure_logging(level: str, log_format: LogFormat = "auto", *, production: bool = False) -> None:
    """Send every log record of the process to stderr in the chosen format (idempotent)."""
    kind = resolve_format(log_format, production=production)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(kind, colors=kind == "console" and sys.stderr.isatty()))
    handler.set_name("kyrios")
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if h.get_name() != "kyrios" and not _is_default(h)]
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):  # uvicorn's own handlers, if it set any
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers = []
        uvicorn_logger.propagate = True
    structlog.configure(
        processors=[*_shared(), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def _is_default(handler: logging.Handler) -> bool:
    """A handler `logging.basicConfig` installed (replaced by ours)."""
    return type(handler) is logging.StreamHandler and handler.get_name() is None
