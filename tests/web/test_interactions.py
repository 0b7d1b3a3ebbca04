"""The HTTP interactions endpoint with real Ed25519 signatures, through the real ASGI app."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from nacl.signing import SigningKey

from kyrios.features.gacha.models import GachaPull
from kyrios.runtime import Runtime, build_runtime
from kyrios.settings import Settings
from kyrios.testing.interactions import InteractionSigner, command_payload, component_payload
from kyrios.web.main import create_app
from tests.helpers import balance, count_rows, invoke


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://kyrios.test") as http:
        yield http


async def post_signed(
    client: httpx.AsyncClient, signer: InteractionSigner, payload: dict[str, object]
) -> httpx.Response:
    body, headers = signer.sign(payload)
    return await client.post("/interactions", content=body, headers=headers)


async def test_ping_gets_pong(client: httpx.AsyncClient, signer: InteractionSigner) -> None:
    response = await post_signed(client, signer, {"type": 1})
    assert response.status_code == 200
    assert response.json() == {"type": 1}
    assert response.headers["content-type"].startswith("application/json")


async def test_slash_command_runs_and_answers_inline(
    client: httpx.AsyncClient, signer: InteractionSigner, runtime: Runtime
) -> None:
    response = await post_signed(client, signer, command_payload("gacha pull"))
    assert response.status_code == 200
    body = response.json()
    assert body["type"] == 4
    assert "pulled" in body["data"]["embeds"][0]["title"]
    assert body["data"]["allowed_mentions"] == {"parse": []}
    assert await count_rows(runtime, GachaPull, user_id=42) == 1


async def test_error_replies_are_ephemeral(client: httpx.AsyncClient, signer: InteractionSigner) -> None:
    await post_signed(client, signer, command_payload("gacha pull"))
    body = (await post_signed(client, signer, command_payload("gacha pull"))).json()
    assert body["type"] == 4
    assert body["data"]["flags"] == 64
    assert "need 100 points" in body["data"]["content"]


async def test_admin_permission_comes_from_the_member_payload(
    client: httpx.AsyncClient, signer: InteractionSigner
) -> None:
    options = {"user": "42", "amount": 10}
    types = {"user": 6}
    denied = (await post_signed(client, signer, command_payload("give", options, option_types=types))).json()
    assert "server admins" in denied["data"]["content"]
    allowed = await post_signed(
        client, signer, command_payload("give", options, option_types=types, permissions=1 << 5)
    )
    assert "Gave **10** points" in allowed.json()["data"]["content"]


async def test_button_press_updates_the_message(client: httpx.AsyncClient, signer: InteractionSigner) -> None:
    for user_id in range(100, 125):
        payload = command_payload("give", {"user": str(user_id), "amount": user_id}, permissions=1 << 3)
        await post_signed(client, signer, payload)
    body = (await post_signed(client, signer, component_payload("points-top:0:2"))).json()
    assert body["type"] == 7
    assert "Page 2/3" in body["data"]["embeds"][0]["footer"]["text"]


async def test_unknown_command_gets_an_ephemeral_answer(
    client: httpx.AsyncClient, signer: InteractionSigner
) -> None:
    body = (await post_signed(client, signer, command_payload("launch rockets"))).json()
    assert body["type"] == 4 and body["data"]["flags"] == 64
    assert "Unknown command" in body["data"]["content"]


async def test_forged_signature_is_401_and_changes_nothing(
    client: httpx.AsyncClient, signer: InteractionSigner, runtime: Runtime
) -> None:
    forger = InteractionSigner(SigningKey.generate())
    body, headers = forger.sign(command_payload("gacha pull"))
    response = await client.post("/interactions", content=body, headers=headers)
    assert response.status_code == 401
    assert await count_rows(runtime, GachaPull) == 0


async def test_tampered_body_is_401(client: httpx.AsyncClient, signer: InteractionSigner) -> None:
    body, headers = signer.sign(command_payload("gacha pull"))
    tampered = body.replace(b'"42"', b'"43"')
    assert tampered != body
    response = await client.post("/interactions", content=tampered, headers=headers)
    assert response.status_code == 401


async def test_missing_headers_are_401(client: httpx.AsyncClient) -> None:
    response = await client.post("/interactions", content=b'{"type": 1}')
    assert response.status_code == 401


async def test_timestamp_not_covered_by_the_signature_is_401(
    client: httpx.AsyncClient, signer: InteractionSigner
) -> None:
    body, headers = signer.sign({"type": 1})
    headers["X-Signature-Timestamp"] = str(int(headers["X-Signature-Timestamp"]) + 1)
    assert (await client.post("/interactions", content=body, headers=headers)).status_code == 401


async def test_stale_signed_request_is_401(client: httpx.AsyncClient, signer: InteractionSigner) -> None:
    body = json.dumps({"type": 1}).encode()
    headers = signer.headers(body, timestamp=int(time.time()) - 3600)
    assert (await client.post("/interactions", content=body, headers=headers)).status_code == 401


async def test_signed_malformed_json_is_400(client: httpx.AsyncClient, signer: InteractionSigner) -> None:
    body = b'{"type": 2, "data": '
    response = await client.post("/interactions", content=body, headers=signer.headers(body))
    assert response.status_code == 400
    array = b"[1, 2]"
    assert (
        await client.post("/interactions", content=array, headers=signer.headers(array))
    ).status_code == 400


async def test_signed_payload_missing_fields_gets_an_error_reply(
    client: httpx.AsyncClient, signer: InteractionSigner
) -> None:
    body = (await post_signed(client, signer, {"type": 2, "id": "1", "data": {"name": "gacha"}})).json()
    assert body["type"] == 4 and "Malformed interaction" in body["data"]["content"]


async def test_oversized_payload_is_413(client: httpx.AsyncClient, signer: InteractionSigner) -> None:
    body = b'{"type": 1, "pad": "' + b"x" * 300_000 + b'"}'
    response = await client.post("/interactions", content=body, headers=signer.headers(body))
    assert response.status_code == 413


async def test_oversized_streamed_payload_without_a_length_is_413(
    client: httpx.AsyncClient, signer: InteractionSigner
) -> None:
    body = b'{"type": 1, "pad": "' + b"x" * 300_000 + b'"}'

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 16_384):
            yield body[start : start + 16_384]

    response = await client.post("/interactions", content=chunks(), headers=signer.headers(body))
    assert response.status_code == 413
    assert response.json() == {"error": "payload too large"}


async def test_the_endpoint_works_below_a_mount_point(runtime: Runtime, signer: InteractionSigner) -> None:
    transport = httpx.ASGITransport(app=create_app(runtime), root_path="/prod")
    async with httpx.AsyncClient(transport=transport, base_url="http://kyrios.test") as http:
        body, headers = signer.sign({"type": 1})
        response = await http.post("/prod/interactions", content=body, headers=headers)
    assert response.status_code == 200 and response.json() == {"type": 1}


async def test_other_methods_are_405(client: httpx.AsyncClient) -> None:
    response = await client.get("/interactions")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


async def test_without_a_public_key_the_endpoint_is_unavailable(
    database_url: str, signer: InteractionSigner
) -> None:
    rt = build_runtime(Settings(database_url=database_url, discord_public_key=None, _env_file=None))
    try:
        transport = httpx.ASGITransport(app=create_app(rt))
        async with httpx.AsyncClient(transport=transport, base_url="http://kyrios.test") as http:
            body, headers = signer.sign({"type": 1})
            assert (await http.post("/interactions", content=body, headers=headers)).status_code == 503
    finally:
        await rt.aclose()


async def test_metrics_count_commands(client: httpx.AsyncClient, signer: InteractionSigner) -> None:
    await post_signed(client, signer, command_payload("gacha pull"))
    text = (await client.get("/metrics")).text
    assert 'kyrios_commands_total{command="gacha pull",door="http",outcome="ok"} 1.0' in text
    assert (await client.get("/readyz")).json() == {"status": "ready"}


async def test_the_members_roles_reach_the_command(
    client: httpx.AsyncClient, signer: InteractionSigner, runtime: Runtime
) -> None:
    await invoke(runtime, "earn multiplier", admin=True, role="500", percent=300)
    payload = command_payload("daily")
    payload["member"]["roles"] = ["500", "501"]  # Discord sends role ids as strings
    body = (await post_signed(client, signer, payload)).json()
    assert "300" in json.dumps(body, ensure_ascii=False)
    assert await balance(runtime) == 300
