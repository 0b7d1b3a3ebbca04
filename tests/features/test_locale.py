"""Replies in the reader's language: the user's locale, then the guild's setting, then Discord's
guild locale, then English; numbers per locale, times as the door shows them."""

from __future__ import annotations

from typing import Any

from kyrios.runtime import Runtime
from kyrios.slash.invocation import Actor, Invocation, Permission, Source
from kyrios.slash.reply import Reply
from tests.conftest import START
from tests.helpers import invoke, press, text_of


async def ask(
    runtime: Runtime,
    command: str,
    *,
    user_locale: str | None = None,
    guild_locale: str | None = None,
    source: Source = Source.CONSOLE,
    admin: bool = False,
    **options: Any,
) -> Reply:
    """Dispatch a command as member 42 of guild 1 with the given languages and door."""
    inv = Invocation(
        actor=Actor(id=42, name="ken"),
        guild_id=1,
        channel_id=10,
        command=command,
        options=options,
        permissions=int(Permission.ADMINISTRATOR) if admin else 0,
        source=source,
        locale=user_locale,
        guild_locale=guild_locale,
    )
    return await runtime.registry.dispatch(inv)


async def test_a_japanese_user_gets_japanese_replies_and_errors_with_numbers_formatted(
    runtime: Runtime,
) -> None:
    given = await ask(runtime, "give", user_locale="ja", admin=True, user="42", amount=1500)
    assert (
        given.content == "✅ <@42> さんに **1,500** ポイントを付与しました。残高は **1,500** ポイントです。"
    )
    balance = (await ask(runtime, "points balance", user_locale="ja")).embeds[0]
    assert (balance.title, balance.description) == ("ken さんのポイント", "**1,500** ポイント")
    assert balance.footer == "このサーバーで 1 位"
    refused = await ask(runtime, "take", user_locale="ja", admin=True, user="42", amount=5000)
    assert refused.is_error and refused.ephemeral
    assert refused.content == "❌ 5,000 ポイント必要ですが、1,500 ポイントしかありません。"
    not_admin = await ask(runtime, "give", user_locale="ja", user="42", amount=5)
    assert not_admin.content == "❌ `/give` はサーバー管理者（サーバー管理権限）専用です。"
    too_much = await ask(runtime, "give", user_locale="ja", admin=True, user="42", amount=10**10)
    assert too_much.content == "❌ `amount` は 1,000,000,000 以下にしてください。"
    unknown = await ask(runtime, "points explode", user_locale="ja")
    assert unknown.content == "❌ `/points explode` というコマンドはありません。"


async def test_english_stays_english_and_unsupported_locales_fall_back(runtime: Runtime) -> None:
    for locale in ("en-US", "en-GB", "fr", None):
        reply = await ask(runtime, "points balance", user_locale=locale)
        assert reply.embeds[0].description == "**0** points", locale
    via_discord = await ask(
        runtime, "points balance", user_locale="fr", guild_locale="ja", source=Source.GATEWAY
    )
    assert via_discord.embeds[0].description == "**0** ポイント"  # Discord's guild locale comes third


async def test_the_guilds_setting_speaks_for_members_without_a_supported_language(runtime: Runtime) -> None:
    saved = await ask(runtime, "settings set", user_locale="en", admin=True, locale="ja")
    assert "Language: 日本語 (Japanese)" in text_of(saved)
    assert "ポイント" in text_of(await invoke(runtime, "points balance"))  # console: no user locale
    assert "ポイント" in text_of(await ask(runtime, "points balance", user_locale="fr", guild_locale="en-US"))
    assert "points" in text_of(
        await ask(runtime, "points balance", user_locale="en-US")
    )  # the user's own first
    await ask(runtime, "settings set", admin=True, clear="locale")
    assert "**0** points" in text_of(await invoke(runtime, "points balance"))


async def test_registry_refusals_and_buttons_are_translated(runtime: Runtime) -> None:
    await ask(runtime, "settings set", admin=True, locale="ja")
    for user_id in range(100, 125):
        await invoke(runtime, "give", admin=True, user=str(user_id), amount=user_id)
    board = await invoke(runtime, "points leaderboard")
    labels = [button.label for row in board.buttons for button in row]
    assert labels == ["◀ 前へ", "1/3 ページ", "次へ ▶"]
    assert board.embeds[0].title == "ポイントランキング" and "**124**" in text_of(board)
    assert (await press(runtime, "nothing-here:1")).content == "❌ このボタンはもう使えません。"
    assert (await press(runtime, "points-history:99:1")).content == (
        "❌ このボタンは他の人のものです。ご自身でコマンドを実行してください。"
    )
    await invoke(runtime, "settings feature", admin=True, name="economy", state="off")
    disabled = await invoke(runtime, "points balance")
    assert (
        disabled.content == "❌ このサーバーでは economy 機能が無効になっています。管理者が有効にできます。"
    )


async def test_times_are_written_by_the_door(runtime: Runtime) -> None:
    stamp = f"<t:{int(START.timestamp())}:R>"
    await invoke(runtime, "give", admin=True, user="42", amount=5)
    assert stamp in text_of(await ask(runtime, "points history", user_locale="ja", source=Source.GATEWAY))
    console = text_of(await ask(runtime, "points history", user_locale="ja"))
    assert "<t:" not in console and "たった今" in console and "1/1 ページ · 1 件" in console
    await invoke(runtime, "gacha daily")
    # Tomorrow in Tokyo (the default zone) starts 3 hours after START (21:00 there).
    midnight = f"<t:{int(START.timestamp()) + 3 * 3600}:R>"
    on_discord = await ask(runtime, "gacha daily", user_locale="en-US", source=Source.HTTP)
    assert on_discord.content == f"❌ You already took today's free pull. The next one is {midnight}."
    on_console = await invoke(runtime, "gacha daily")
    assert on_console.content == "❌ You already took today's free pull. The next one is in 3 hours."


async def test_profile_and_achievements_in_japanese(runtime: Runtime) -> None:
    await invoke(runtime, "give", admin=True, user="42", amount=2500)
    await invoke(runtime, "gacha pull")
    profile = text_of(await ask(runtime, "profile", user_locale="ja"))
    assert "ken さんのプロフィール" in profile and "ポイント: 2,500（1 位）" in profile
    assert "ガチャ回数: 1" in profile and "アイテム: 1 種類" in profile and "実績（2/15）" in profile
    listing = text_of(await ask(runtime, "achievements", user_locale="ja"))
    assert "ken さんの実績" in listing and "✅ 2026/03/01" in listing  # the day in Tokyo, by Babel
    assert f"✅ <t:{int(START.timestamp())}:d>" in text_of(
        await ask(runtime, "achievements", user_locale="ja", source=Source.GATEWAY)
    )
