"""Japanese through every converted slice: achievements, gacha, settings, modlog, avatars.

Replies follow the reader (user locale, guild setting, Discord's guild locale); what is written
for the guild as a whole (log posts, default gacha items, ledger details) follows the guild.
"""

from __future__ import annotations

from sqlalchemy import select

from kyrios.features.economy.models import EconomyLedger
from kyrios.features.modlog.events import UserInfo
from kyrios.runtime import Runtime
from kyrios.slash.invocation import Source
from tests.conftest import START
from tests.features.test_locale import ask
from tests.helpers import invoke, text_of

LOG_CHANNEL = 500
ALICE = UserInfo(77, "alice")


def stamp(seconds_after_start: int = 0, style: str = "R") -> str:
    return f"<t:{int(START.timestamp()) + seconds_after_start}:{style}>"


async def test_achievements_are_named_in_the_readers_language(runtime: Runtime) -> None:
    listing = text_of(await ask(runtime, "achievements", user_locale="ja"))
    assert "🥊 **ランブルマスター** — ランブルで10回勝つ。 🔒" in listing
    assert "🎰 **High Roller** — Pull from the gacha 100 times. 🔒" in text_of(
        await invoke(runtime, "achievements")
    )


async def test_gacha_and_achievements_answer_in_japanese(runtime: Runtime) -> None:
    await invoke(runtime, "give", admin=True, user="42", amount=1000)
    pulled = await ask(runtime, "gacha pull", user_locale="ja", count=2)
    result, unlocked = pulled.embeds
    assert result.title == "🎲 ken さんのガチャ結果" and "· 無料" in (result.description or "")
    fields = {field.name: field.value for field in result.fields}
    assert fields["消費"] == "100 ポイント" and fields["残高"] == "900 ポイント"
    assert fields["天井"] == "あと 48 回以内に最高レア確定" and fields["次の無料ガチャ"] == "3 時間後"
    assert (unlocked.title, unlocked.description) == (
        "🎲 実績解除: 初めてのガチャ",
        "初めてガチャを引く。",
    )
    listing = text_of(await ask(runtime, "achievements", user_locale="ja"))
    assert (
        "🎲 **初めてのガチャ** — 初めてガチャを引く。 ✅" in listing and "🥊 **ランブルマスター**" in listing
    )
    refused = await ask(runtime, "gacha daily", user_locale="ja", source=Source.GATEWAY)
    assert refused.content == f"❌ 今日の無料ガチャはすでに引いています。次は {stamp(3 * 3600)}に引けます。"
    on_console = await ask(runtime, "gacha daily", user_locale="ja")
    assert on_console.content == "❌ 今日の無料ガチャはすでに引いています。次は 3 時間後に引けます。"
    history = await ask(runtime, "gacha history", user_locale="ja")
    assert "100 pt" in text_of(history) and history.embeds[0].footer == "1/1 ページ · 2 回"
    gone = await ask(runtime, "gacha item remove", user_locale="ja", admin=True, name="Excalibur")
    assert gone.content == "❌ このサーバーのガチャに **Excalibur** というアイテムはありません。"


async def test_a_new_guilds_default_items_take_the_guilds_language(
    runtime: Runtime,
) -> None:
    # An English-speaking member opens the gacha of a guild whose language is Japanese.
    await invoke(runtime, "settings set", admin=True, locale="ja")
    await invoke(runtime, "give", admin=True, user="42", amount=500)
    rates = await ask(runtime, "gacha rates", user_locale="en-US")
    assert rates.embeds[0].title == "Gacha rates" and "木の剣: " in text_of(rates)
    assert "Wooden Sword" not in text_of(rates)
    await ask(runtime, "gacha pull", user_locale="en-US", count=2)
    async with runtime.db.read() as session:
        details = list(await session.scalars(select(EconomyLedger.detail).where(EconomyLedger.delta < 0)))
    assert details == ["ガチャ 1 回"]  # stored once, for everyone: in the guild's language


async def test_without_a_setting_discords_guild_locale_names_the_default_items(
    runtime: Runtime,
) -> None:
    rates = await ask(
        runtime,
        "gacha rates",
        user_locale="en-US",
        guild_locale="ja",
        source=Source.GATEWAY,
    )
    assert "黄金の竜: " in text_of(rates) and "Your first pull each day (server time) is free." in text_of(
        rates
    )
    removed = await ask(runtime, "gacha item remove", user_locale="en-US", admin=True, name="黄金の竜")
    assert removed.content == "✅ Removed **黄金の竜** from the gacha. Pulls already made keep it."


async def test_settings_in_japanese(runtime: Runtime) -> None:
    shown = text_of(await ask(runtime, "settings show", user_locale="ja", admin=True))
    assert "サーバー設定" in shown and "ログチャンネル: 未設定" in shown and "ログ保存期間: 30 日" in shown
    assert "言語: メンバーごとの言語" in shown and "✅ gacha" in shown  # feature names as admins type them
    saved = text_of(await ask(runtime, "settings set", user_locale="ja", admin=True, locale="en"))
    assert "✅ 設定を保存しました" in saved and "言語: English（英語）" in saved
    bad_zone = await ask(runtime, "settings set", user_locale="ja", admin=True, timezone="Mars/Olympus")
    assert bad_zone.content == (
        "❌ `Mars/Olympus` はタイムゾーンではありません。"
        "`Asia/Tokyo` や `Europe/Berlin` のような名前を指定してください。"
    )
    unknown = await ask(
        runtime,
        "settings feature",
        user_locale="ja",
        admin=True,
        name="karaoke",
        state="on",
    )
    assert unknown.content is not None and unknown.content.startswith("❌ `karaoke` という機能はありません。")
    off = await ask(
        runtime,
        "settings feature",
        user_locale="ja",
        admin=True,
        name="gacha",
        state="off",
    )
    assert (
        off.content
        == "✅ このサーバーで **gacha** を無効にしました。そのコマンドを使うと無効である旨が表示されます。"
    )
