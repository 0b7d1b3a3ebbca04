"""Every achievement Kyrios knows, with the words shown when it unlocks."""

from __future__ import annotations

from dataclasses import dataclass

from kyrios.core.i18n import N_


@dataclass(frozen=True)
class Achievement:
    """A named milestone; `name` and `description` are message ids (show them with `ctx.t`)."""

    code: str
    name: str
    description: str
    emoji: str


CATALOGUE: dict[str, Achievement] = {
    a.code: a
    for a in (
        Achievement(
            "gacha_first_pull", N_("First Pull"), N_("Pull from the gacha for the first time."), "🎲"
        ),
        Achievement("gacha_legends", N_("Gacha Legend"), N_("Pull an item of the top rarity."), "🌟"),
        Achievement("gacha_collector", N_("Collector"), N_("Own 10 different gacha items."), "🗃️"),
        Achievement("gacha_high_roller", N_("High Roller"), N_("Pull from the gacha 100 times."), "🎰"),
        Achievement("rumble_master", N_("Rumble Master"), N_("Win 10 rumble battles."), "🥊"),
    )
}
