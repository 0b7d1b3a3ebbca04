"""The Lambda door answers signed interactions from an API Gateway (HTTP API v2) event."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest
from fastapi import FastAPI

from kyrios.runtime import Runtime
from kyrios.testing.interactions import InteractionSigner, command_payload
from kyrios.web import lambda_handler


def api_gateway_event(body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "POST /interactions",
        "rawPath": "/interactions",
        "rawQueryString": "",
        "headers": {key.lower(): value for key, value in headers.items()},
        "requestContext": {
            "http": {
                "method": "POST",
                "path": "/interactions",
                "protocol": "HTTP/1.1",
                "sourceIp": "1.2.3.4",
            },
            "stage": "$default",
        },
        "body": base64.b64encode(body).decode(),
        "isBase64Encoded": True,
    }


def test_lambda_handler_answers_ping_and_commands(
    runtime: Runtime, database_url: str, signer: InteractionSigner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KYRIOS_DATABASE_URL", database_url)
    monkeypatch.setenv("KYRIOS_DISCORD_PUBLIC_KEY", signer.public_key_hex)
    monkeypatch.setattr(lambda_handler, "_adapter", None)
    body, headers = signer.sign({"type": 1})
    response = lambda_handler.handler(api_gateway_event(body, headers), None)
    assert response["statusCode"] == 200 and json.loads(response["body"]) == {"type": 1}

    body, headers = signer.sign(command_payload("profile", user_id=7))
    response = lambda_handler.handler(api_gateway_event(body, headers), None)
    reply = json.loads(response["body"])
    assert reply["type"] == 4 and "profile" in reply["data"]["embeds"][0]["title"]

    forged = api_gateway_event(body, {**headers, "X-Signature-Ed25519": "00" * 64})
    assert lambda_handler.handler(forged, None)["statusCode"] == 401
    assert lambda_handler._adapter is not None
    app = lambda_handler._adapter.app
    assert isinstance(app, FastAPI)
    asyncio.run(app.state.runtime.aclose())
