"""Japanese through every converted slice: achievements, gacha, settings, modlog, avatars.

Replies follow the reader (user locale, guild setting, Discord's guild locale); what is written
for the guild as a whole (log posts, default gacha items, ledger details) follows the guild.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from kyrios.core.clock import FrozenClock
from kyrios.features.avatars import service as avatars
from kyrios.features.avatars.models import AvatarKind
from kyrios.features.economy.models import EconomyLedger
from kyrios.features.modlog import flows, posts
from kyrios.features.modlog.events import MemberEvent, MemberUpdated, UserInfo
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
    (result,) = pulled.embeds  # the unlock is announced by the relay (tests/e2e/test_achievements_*)
    assert result.title == "🎲 ken さんのガチャ結果" and "· 無料" in (result.description or "")
    fields = {field.name: field.value for field in result.fields}
    assert fields["消費"] == "100 ポイント" and fields["残高"] == "900 ポイント"
    assert fields["天井"] == "あと 48 回以内に最高レア確定" and fields["次の無料ガチャ"] == "3 時間後"
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
    assert (unknown.content or "").startswith("❌ `name` は次のいずれかにしてください: ")
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


async def test_a_japanese_guilds_log_posts_are_japanese_with_discord_times(
    runtime: Runtime, clock: FrozenClock
) -> None:
    await invoke(runtime, "settings set", admin=True, log_channel=str(LOG_CHANNEL), locale="ja")
    created = START - timedelta(days=3)
    until = START + timedelta(hours=1)
    async with runtime.db.transaction() as session:
        joined = await flows.member_joined(
            session, MemberEvent(1, ALICE, clock.now(), account_created_at=created)
        )
        timed_out = await flows.member_updated(
            session, MemberUpdated(1, ALICE, clock.now(), timeout_after=until)
        )
    assert joined is not None and joined.channel_id == LOG_CHANNEL
    embed = joined.embed
    assert embed.title == "📥 メンバーの参加" and embed.footer == f"ケース #{joined.entry_id}"
    assert embed.description == (
        f"**ユーザー:** <@77>（`77`）\n**アカウント作成:** <t:{int(created.timestamp())}:R>"
    )
    fields = {field.name: field.value for field in timed_out[0].embed.fields}
    assert fields == {
        "変更前": "タイムアウトなし",
        "変更後": f"<t:{int(until.timestamp())}:f> まで",
    }
    # The case's words are kept as message and values: a reader in English reads them in English.
    case = await ask(
        runtime,
        "modlog case",
        user_locale="en-US",
        admin=True,
        source=Source.GATEWAY,
        number=joined.entry_id,
    )
    assert f"**Account created:** <t:{int(created.timestamp())}:R>" in text_of(case)
    console = text_of(await ask(runtime, "modlog case", user_locale="ja", admin=True, number=joined.entry_id))
    assert "**アカウント作成:** 3 日前" in console and "<t:" not in console
    # A new reason re-renders the posted message, still in the guild's language.
    await invoke(runtime, "modlog reason", admin=True, case=joined.entry_id, text="raid")
    await invoke(runtime, "modlog reason", admin=True, case=joined.entry_id, text="alt account")
    async with runtime.db.transaction() as session:
        await posts.remember(session, LOG_CHANNEL, 9001, [joined.entry_id])
    async with runtime.db.read() as session:
        posted = await posts.message_of(session, 1, joined.entry_id)
    assert posted is not None
    shown = {field["name"]: field["value"] for field in posted.embeds[0]["fields"]}
    assert shown["理由"] == "alt account" and shown["メモ"].startswith("以前の理由: raid")


async def test_modlog_commands_and_refusals_in_japanese(runtime: Runtime, clock: FrozenClock) -> None:
    await invoke(runtime, "settings set", admin=True, log_channel=str(LOG_CHANNEL))
    async with runtime.db.transaction() as session:
        english = await flows.member_joined(session, MemberEvent(1, ALICE, clock.now()))
    assert english is not None and english.embed.title == "📥 Member joined"  # no setting: English
    refused = await ask(runtime, "modlog search", user_locale="ja")
    assert refused.content == (
        "❌ モデレーションログはモデレーター専用です"
        "（監査ログの表示、タイムアウト、キック、BAN のいずれかの権限が必要です）。"
    )
    found = await ask(runtime, "modlog search", user_locale="ja", admin=True, type="member_join")
    assert found.embeds[0].title == "モデレーションログ — メンバーの参加"
    assert "📥 メンバーの参加" in text_of(found) and "1/1 ページ · 1 件" in (found.embeds[0].footer or "")
    missing = await ask(runtime, "modlog case", user_locale="ja", admin=True, number=999)
    assert missing.content == (
        "❌ このサーバーにケース #999 はありません（古いケースは保存期間を過ぎると削除されます）。"
    )
    bad_day = await ask(runtime, "modlog search", user_locale="ja", admin=True, since="yesterday")
    assert (
        bad_day.content
        == "❌ `since` には 2026-03-01 のような日付を指定してください（`yesterday` は使えません）。"
    )
    configured = await ask(
        runtime,
        "modlog config",
        user_locale="ja",
        admin=True,
        event="member_join",
        state="on",
    )
    assert (
        configured.content == f"✅ **メンバーの参加** を記録します（<#{LOG_CHANNEL}> に投稿、ボットも含む）。"
    )


async def test_avatars_in_japanese(runtime: Runtime, clock: FrozenClock) -> None:
    nothing = await ask(runtime, "avatar stats", user_locale="ja", user="77")
    assert nothing.content == "<@77> さんのアバター変更はまだ記録されていません。"
    for _ in range(2):
        async with runtime.db.transaction() as session:
            change = avatars.AvatarChange(
                77, AvatarKind.AVATAR_CHANGE, None, "https://cdn/a.png", clock.now()
            )
            await avatars.record_change(session, change)
        clock.advance(timedelta(days=10))
    stats = text_of(await ask(runtime, "avatar stats", user_locale="ja", user="77"))
    assert (
        "アバター変更回数: 2" in stats and "平均変更間隔: 10.0 日" in stats and "最も多い形式: 不明" in stats
    )
    history = await ask(runtime, "avatar history", user_locale="ja", user="77")
    assert history.embeds[0].title == "アバター履歴" and "*変更前の画像なし* → [変更後]" in text_of(history)
    assert history.embeds[0].footer == "1/1 ページ · 変更 2 件"
    bad_page = await ask(runtime, "avatar history", user_locale="ja", user="77", page=0)
    assert bad_page.content == "❌ `page` は 1 以上にしてください。"
