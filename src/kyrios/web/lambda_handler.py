"""The serverless door (seed 001): the same interactions app behind AWS Lambda + API Gateway.

Deploy with the handler `kyrios.web.lambda_handler.handler`; settings come from the Lambda's
environment (`KYRIOS_*`). Slash commands are answered without any gateway connection.

A command that misses its reply budget is answered deferred, and its reply is delivered after the
HTTP response: Lambda freezes the function once it has answered, so that delivery only goes on
when the next invocation thaws it. Commands declared `defer=True` suit a server better.
"""

from __future__ import annotations

from typing import Any

from mangum import Mangum

from kyrios.web.main import app_from_environment

_adapter: Mangum | None = None


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """AWS Lambda entry point; the app is built on the first (cold) invocation."""
    global _adapter
    if _adapter is None:
        # Mangum returns a response once the app has returned: each reply path runs in its own task.
        _adapter = Mangum(app_from_environment(inline_replies=False), lifespan="off")
    return _adapter(event, context)
