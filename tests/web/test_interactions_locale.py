"""The HTTP door answers in the interaction's `locale`, then the guild's, with Discord timestamps."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from kyrios.runtime import Runtime
from kyrios.testing.interactions import InteractionSigner, command_payload, component_payload
from kyrios.web.main import create_app

ADMIN = 1 << 5


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://kyrios.test") as http:
        yield http


async def answer(
    client: httpx.AsyncClient, signer: InteractionSigner, payload: dict[str, Any], **languages: str
) -> dict[str, Any]:
    """POST a signed interaction carrying `locale` / `guild_locale`; the callback's message data."""
    body, headers = signer.sign({**payload, **languages})
    response = await client.post("/interactions", content=body, headers=headers)
    assert response.status_code == 200
    data: dict[str, Any] = response.json()["data"]
    return data


async def test_a_japanese_client_is_answered_in_japanese(
    client: httpx.AsyncClient, signer: InteractionSigner
) -> None:
    give = command_payload(
        "give", {"user": "42", "amount": 12345}, option_types={"user": 6}, permissions=ADMIN
    )
    given = await answer(client, signer, give, locale="ja")
    assert (
        given["content"]
        == "✅ <@42> さんに **12,345** ポイントを付与しました。残高は **12,345** ポイントです。"
    )
    history = await answer(client, signer, command_payload("points history"), locale="ja")
    embed = history["embeds"][0]
    assert embed["title"] == "ポイント履歴" and "管理者による付与" in embed["description"]
    assert "<t:" in embed["description"]  # Discord shows the time in the reader's own language
    refused = await answer(client, signer, command_payload("give", {"user": "42", "amount": 1}), locale="ja")
    assert refused["flags"] == 64 and "サーバー管理者" in refused["content"]


async def test_the_guild_locale_and_setting_apply_when_the_users_language_is_not_supported(
    client: httpx.AsyncClient, signer: InteractionSigner
) -> None:
    balance = command_payload("points balance")
    french = await answer(client, signer, balance, locale="fr")
    assert french["embeds"][0]["description"] == "**0** points"
    japanese_guild = await answer(client, signer, balance, locale="fr", guild_locale="ja")
    assert japanese_guild["embeds"][0]["description"] == "**0** ポイント"
    setting = command_payload("settings set", {"locale": "ja"}, permissions=ADMIN)
    await answer(client, signer, setting, locale="en-US")
    set_by_admin = await answer(client, signer, balance, locale="fr", guild_locale="en-US")
    assert set_by_admin["embeds"][0]["description"] == "**0** ポイント"
    pressed = await answer(client, signer, component_payload("points-history:99:1"))  # no locale at all
    assert pressed["content"] == "❌ このボタンは他の人のものです。ご自身でコマンドを実行してください。"
