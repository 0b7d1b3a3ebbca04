"""On Lambda (Mangum, no lifespan) the cold start starts the runtime: the Redis bus is connected, so
`/readyz` answers ready and what the app publishes reaches Redis."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from redis import Redis

from kyrios.core.bus_redis import RedisBus
from kyrios.web import lambda_handler


def get_event(path: str) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": f"GET {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"host": "lambda.test"},
        "requestContext": {
            "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": "1.2.3.4"},
            "stage": "$default",
        },
        "isBase64Encoded": False,
    }


def test_the_redis_bus_runs_on_lambda(
    database_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KYRIOS_DATABASE_URL", database_url)
    monkeypatch.setenv("KYRIOS_REDIS_URL", redis_url)
    for name in ("_adapter", "_runtime", "_loop"):
        monkeypatch.setattr(lambda_handler, name, None)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    listener = Redis.from_url(redis_url).pubsub()  # type: ignore[no-untyped-call]
    try:
        response = lambda_handler.handler(get_event("/readyz"), None)
        assert response["statusCode"] == 200, response["body"]
        assert json.loads(response["body"]) == {"status": "ready"}

        runtime = lambda_handler._runtime
        assert runtime is not None and isinstance(runtime.bus, RedisBus)
        listener.subscribe(f"{runtime.bus.prefix}lambda-bus-test")
        confirmed = listener.get_message(timeout=10)
        assert confirmed is not None and confirmed["type"] == "subscribe"
        runtime.bus.publish("lambda-bus-test", {"hello": "lambda"})
        lambda_handler.handler(get_event("/healthz"), None)  # the invocation returns once it is sent
        message = listener.get_message(timeout=10)
        assert message is not None and message["type"] == "message"
        assert json.loads(message["data"]) == {"hello": "lambda"}
    finally:
        listener.close()
        if lambda_handler._runtime is not None:
            loop.run_until_complete(lambda_handler._runtime.aclose())
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
        asyncio.set_event_loop(None)
