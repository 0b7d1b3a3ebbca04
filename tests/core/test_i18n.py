"""The message catalogues are complete, and messages render per locale and per door."""

from __future__ import annotations

import pickle
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.messages.catalog import Catalog

from kyrios.core.errors import Conflict, InsufficientFunds, InvalidInput
from kyrios.core.i18n import DoorStyle, Translator, lazy, negotiate
from kyrios.core.i18n.catalogue import catalog
from kyrios.core.i18n.extract import (
    catalogue_problems,
    extract_source,
    new_catalog,
    read_catalog,
    update_catalogues,
)
from kyrios.runtime import Runtime
from kyrios.slash.localization import message_template
from kyrios.testing.emulator.command_rules import command_errors

TOKYO = ZoneInfo("Asia/Tokyo")
NOON = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # 21:00 in Tokyo


def template_of(runtime: Runtime) -> Catalog:
    template, problems = message_template(runtime.registry.discord_commands(localized=False))
    assert problems == []  # nothing marked that cannot be translated (f-strings)
    return template


@pytest.mark.parametrize("locale", ["en", "ja"])
async def test_every_catalogue_is_complete(runtime: Runtime, locale: str) -> None:
    template = template_of(runtime)
    assert catalogue_problems(template, catalog(locale)) == []
    wanted = {(m.id, m.context) for m in template if m.id}
    stale = sorted(str(m.id) for m in catalog(locale) if m.id and (m.id, m.context) not in wanted)
    assert stale == [], "run scripts/i18n-extract to drop messages nothing uses any more"


def test_the_completeness_check_names_each_gap() -> None:
    template = new_catalog()
    for msgid in ("Missing.", "Empty.", "Fuzzy.", "Have {points}.", "At {when:R}."):
        template.add(msgid)
    template.add(("{n} pull", "{n} pulls"))
    ja = new_catalog("ja")
    ja.add("Empty.", "")
    ja.add("Fuzzy.", "あいまい。", flags=["fuzzy"])
    ja.add("Have {points}.", "{point} あります。")
    ja.add("At {when:R}.", "{when:f} に。")
    ja.add(("{n} pull", "{n} pulls"), ("回",))
    problems = "\n".join(catalogue_problems(template, ja))
    assert "'Missing.' is missing" in problems
    assert "'Empty.' is not translated" in problems and "'Fuzzy.' is fuzzy" in problems
    assert "'Have {points}.': placeholders [('point', '')]" in problems
    assert "'At {when:R}.': placeholders [('when', 'f')]" in problems
    assert "('{n} pull', '{n} pulls'): placeholders []" in problems


def test_marked_f_strings_are_reported(tmp_path: Path) -> None:
    source = tmp_path / "features" / "demo" / "commands.py"
    source.parent.mkdir(parents=True)
    source.write_text('def f(ctx, n):\n    return ctx.t(f"Pulled {n} times."), ctx.t("Fine {n}.", n=n)\n')
    template = new_catalog()
    problems = extract_source(tmp_path, template)
    assert problems == ["features/demo/commands.py:2: an f-string is marked as a message; use placeholders"]
    assert [m.id for m in template if m.id] == ["Fine {n}."]


def test_new_messages_arrive_untranslated_except_in_english(tmp_path: Path) -> None:
    template = new_catalog()
    template.add("Brand new.")
    update_catalogues(template, tmp_path)
    english = read_catalog(tmp_path / "en" / "LC_MESSAGES" / "kyrios.po", "en")
    japanese = read_catalog(tmp_path / "ja" / "LC_MESSAGES" / "kyrios.po", "ja")
    assert english["Brand new."].string == "Brand new."
    assert japanese["Brand new."].string == ""  # left for a translator, never English passed off as Japanese
    assert "is not translated" in catalogue_problems(template, japanese)[0]


def _is_discord_name(name: str) -> bool:
    """Discord: 1-32 of letters, numbers, - and _ (any script), lower case where the script has case."""
    allowed = all(ch in "-_" or unicodedata.category(ch)[0] in "LN" for ch in name)
    return 1 <= len(name) <= 32 and allowed and name == name.lower()


def _items(commands: list[dict[str, Any]]) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Every command, group, subcommand and option with its siblings."""
    found = []
    for item in commands:
        found.append((item, commands))
        found += _items(item.get("options") or [])
    return found


async def test_japanese_command_localizations_obey_discords_rules(runtime: Runtime) -> None:
    commands = runtime.registry.discord_commands()
    assert command_errors(commands) == []
    for item, siblings in _items(commands):
        name, description = item["name_localizations"]["ja"], item["description_localizations"]["ja"]
        assert _is_discord_name(name), (item["name"], name)
        assert 1 <= len(description) <= 100, item["name"]
        sibling_names = [s.get("name_localizations", {}).get("ja", s["name"]) for s in siblings]
        assert sibling_names.count(name) == 1, (item["name"], name)
        for choice in item.get("choices") or []:
            assert 1 <= len(choice.get("name_localizations", {}).get("ja", choice["name"])) <= 100


def test_negotiation_takes_the_first_supported_language() -> None:
    assert negotiate("ja") == "ja"
    assert negotiate("en-GB") == negotiate("en-US") == "en"
    assert negotiate("fr", None, "ja") == "ja"
    assert negotiate("zh-CN", "pt-BR") == negotiate() == "en"


def test_numbers_and_times_follow_the_locale_and_the_door() -> None:
    ja = Translator("ja", DoorStyle.PLAIN, now=NOON - timedelta(hours=3), zone=TOKYO)
    en = Translator("en", DoorStyle.PLAIN, now=NOON + timedelta(minutes=5), zone=TOKYO)
    discord = Translator("ja", DoorStyle.DISCORD, now=NOON, zone=TOKYO)
    assert ja.number(1234567) == en.number(1234567) == "1,234,567"
    assert ja.time(NOON, "f") == "2026年3月1日 21:00" and ja.time(NOON, "d") == "2026/03/01"
    assert ja.time(NOON, "R") == "3 時間後" and en.time(NOON, "R") == "5 minutes ago"
    assert en.time(NOON, "D") == "March 1, 2026" and "9:00" in en.time(NOON, "t")
    assert discord.time(NOON, "R") == f"<t:{int(NOON.timestamp())}:R>"
    assert Translator().t("Page {page}/{pages}", page=1000, pages=2000) == "Page 1,000/2,000"
    not_yet_translated = Conflict("The next one is {next_at:R}.", next_at=NOON)  # wholly English
    assert not_yet_translated.render(ja) == "The next one is in 3 hours."
    assert not_yet_translated.render(discord) == f"The next one is <t:{int(NOON.timestamp())}:R>."
    assert Translator(now=NOON).time(NOON, "R") == "just now"


def test_placeholders_fail_loudly() -> None:
    with pytest.raises(KeyError, match="points"):
        Translator("ja").t("You need {cost} points but have {points}.", cost=5)
    with pytest.raises(ValueError, match="named placeholders"):
        Translator().t("Positional {}.")
    with pytest.raises(ValueError, match="time style"):
        Translator().t("At {when:x}.", when=NOON)


def test_errors_keep_their_values_and_render_per_locale() -> None:
    error = InsufficientFunds("You need {cost} points but have {points}.", cost=1500, points=20)
    assert error.message == str(error) == "You need 1,500 points but have 20."
    assert error.render(Translator("ja")) == "1,500 ポイント必要ですが、20 ポイントしかありません。"
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 — its own bytes; errors may cross processes
    assert type(copy) is InsufficientFunds and copy.render(Translator("ja")) == error.render(Translator("ja"))
    legacy = InvalidInput("`{weird}` is not a name.")  # old style, user text with braces: as written
    assert legacy.render(Translator("ja")) == "`{weird}` is not a name."
    with pytest.raises(KeyError):  # a converted message without its values is a bug
        InvalidInput("`{option}` cannot be empty.").render(Translator("ja"))
    assert Translator("ja").t(lazy("Page {page}/{pages}", page=2, pages=3)) == "2/3 ページ"


def test_plurals_follow_each_language() -> None:
    singular, plural = "**{n}** point", "**{n}** points"
    assert Translator().tn(singular, plural, 1) == "**1** point"
    assert Translator().tn(singular, plural, 1000) == "**1,000** points"
    assert Translator("ja").tn(singular, plural, 1) == "**1** ポイント"
