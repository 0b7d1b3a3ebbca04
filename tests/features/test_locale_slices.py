"""Japanese through every converted slice: achievements, gacha, settings, modlog, avatars.

Replies follow the reader (user locale, guild setting, Discord's guild locale); what is written
for the guild as a whole (log posts, default gacha items, ledger details) follows the guild.
"""

from __future__ import annotations

from kyrios.features.modlog.events import UserInfo
from kyrios.runtime import Runtime
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
