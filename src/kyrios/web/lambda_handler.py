"""The serverless door (seed 001): the same interactions app behind AWS Lambda + API Gateway.

Deploy with the handler `kyrios.web.lambda_handler.handler`; settings come from the Lambda's
environment (`KYRIOS_*`). Slash commands are answered without any gateway connection.

Mangum runs the app with `lifespan="off"` (a lifespan per invocation would close the runtime after
each one), so the cold start starts the runtime itself (the Redis bus: `/readyz` and the events
commands publish need it), on an event loop kept for the container's life, and each invocation
returns only once what it published on the bus has reached Redis: a frozen Lambda sends nothing.

A command that misses its reply budget is answered deferred, and its reply is delivered after the
HTTP response: Lambda freezes the function once it has answered, so that delivery only goes on
when the next invocation thaws it. Commands declared `defer=True` suit a server better.
"""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

from mangum import Mangum

from kyrios.runtime import Runtime
from kyrios.web.main import app_from_environment

_adapter: Mangum | None = None
_runtime: Runtime | None = None
_loop: asyncio.AbstractEventLoop | None = None


def _current_loop() -> asyncio.AbstractEventLoop:
    """The loop Mangum will run on (`asyncio.get_event_loop()`), made and set if there is none."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # no running loop: fine here
        try:
            loop = asyncio.get_event_loop()
        except RuntimeError:
            loop = None
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
    return loop


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """AWS Lambda entry point; the app is built and its runtime started on the first (cold) invocation."""
    global _adapter, _runtime, _loop
    if _adapter is None or _runtime is None or _loop is None:
        _loop = _current_loop()
        app = app_from_environment(inline_replies=False)
        _runtime = app.state.runtime
        _loop.run_until_complete(_runtime.start())
        # Mangum returns a response once the app has returned: each reply path runs in its own task.
        _adapter = Mangum(app, lifespan="off")
    response = _adapter(event, context)
    _loop.run_until_complete(_runtime.flush())
    return response
