"""Every achievement Kyrios knows, with the words shown when it unlocks."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Achievement:
    """A named milestone."""

    code: str
    name: str
    description: str
    emoji: str


CATALOGUE: dict[str, Achievement] = {
    a.code: a
    for a in (
        Achievement("gacha_first_pull", "First Pull", "Pull from the gacha for the first time.", "🎲"),
        Achievement("gacha_legends", "Gacha Legend", "Pull an item of the top rarity.", "🌟"),
        Achievement("gacha_collector", "Collector", "Own 10 different gacha items.", "🗃️"),
        Achievement("gacha_high_roller", "High Roller", "Pull from the gacha 100 times.", "🎰"),
        Achievement("rumble_master", "Rumble Master", "Win 10 rumble battles.", "🥊"),
    )
}
