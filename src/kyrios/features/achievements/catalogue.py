"""Every achievement Kyrios knows: the one place its rule (a stat and a threshold) is declared,
with the words shown when it unlocks.

A slice that changes a stat reports its new value to `achievements.service.observe` in the same
transaction; the rules below decide what that unlocks. The stats are named here so that no slice
has to know another's: the tickets slice reports `tickets_opened` and `tickets_closed_as_staff`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kyrios.core.i18n import N_


class Stat(StrEnum):
    """A per-member, per-guild number a rule compares with its threshold (never decreasing ones,
    except `points_balance`: a milestone reached once stays reached)."""

    GACHA_PULLS = "gacha_pulls"
    GACHA_TOP_PULLS = "gacha_top_pulls"
    GACHA_DISTINCT_ITEMS = "gacha_distinct_items"
    RUMBLE_WINS = "rumble_wins"
    DAILY_STREAK = "daily_streak"
    POINTS_BALANCE = "points_balance"
    WALLETS_VERIFIED = "wallets_verified"
    TICKETS_OPENED = "tickets_opened"
    TICKETS_CLOSED_AS_STAFF = "tickets_closed_as_staff"


@dataclass(frozen=True)
class Achievement:
    """A named milestone: unlocked when `stat` reaches `at_least`; `name` and `description` are
    message ids (show them with `ctx.t`)."""

    code: str
    name: str
    description: str
    emoji: str
    stat: Stat
    at_least: int

    def earned_by(self, value: int) -> bool:
        """Whether a stat value reaches this achievement's threshold."""
        return value >= self.at_least


CATALOGUE: dict[str, Achievement] = {
    a.code: a
    for a in (
        Achievement(
            "gacha_first_pull",
            N_("First Pull"),
            N_("Pull from the gacha for the first time."),
            "🎲",
            Stat.GACHA_PULLS,
            1,
        ),
        Achievement(
            "gacha_legends",
            N_("Gacha Legend"),
            N_("Pull an item of the top rarity."),
            "🌟",
            Stat.GACHA_TOP_PULLS,
            1,
        ),
        Achievement(
            "gacha_collector",
            N_("Collector"),
            N_("Own 10 different gacha items."),
            "🗃️",
            Stat.GACHA_DISTINCT_ITEMS,
            10,
        ),
        Achievement(
            "gacha_collector_25",
            N_("Curator"),
            N_("Own 25 different gacha items."),
            "🏛️",
            Stat.GACHA_DISTINCT_ITEMS,
            25,
        ),
        Achievement(
            "gacha_collector_50",
            N_("Archivist"),
            N_("Own 50 different gacha items."),
            "📚",
            Stat.GACHA_DISTINCT_ITEMS,
            50,
        ),
        Achievement(
            "gacha_high_roller",
            N_("High Roller"),
            N_("Pull from the gacha 100 times."),
            "🎰",
            Stat.GACHA_PULLS,
            100,
        ),
        Achievement(
            "rumble_first_win",
            N_("First Blood"),
            N_("Win a rumble battle."),
            "🩸",
            Stat.RUMBLE_WINS,
            1,
        ),
        Achievement(
            "rumble_master",
            N_("Rumble Master"),
            N_("Win 10 rumble battles."),
            "🥊",
            Stat.RUMBLE_WINS,
            10,
        ),
        Achievement(
            "daily_streak_7",
            N_("Regular"),
            N_("Claim `/daily` seven days in a row."),
            "📅",
            Stat.DAILY_STREAK,
            7,
        ),
        Achievement(
            "daily_streak_30",
            N_("Devoted"),
            N_("Claim `/daily` thirty days in a row."),
            "🗓️",
            Stat.DAILY_STREAK,
            30,
        ),
        Achievement(
            "points_1k",
            N_("Saver"),
            N_("Hold 1,000 points."),
            "💰",
            Stat.POINTS_BALANCE,
            1_000,
        ),
        Achievement(
            "points_10k",
            N_("Wealthy"),
            N_("Hold 10,000 points."),
            "💎",
            Stat.POINTS_BALANCE,
            10_000,
        ),
        Achievement(
            "wallet_verified",
            N_("Verified"),
            N_("Link a wallet with a signature."),
            "🔐",
            Stat.WALLETS_VERIFIED,
            1,
        ),
        Achievement(
            "ticket_first",
            N_("Speaking Up"),
            N_("Open a support ticket."),
            "🎫",
            Stat.TICKETS_OPENED,
            1,
        ),
        Achievement(
            "ticket_helper",
            N_("Helping Hand"),
            N_("Close 10 tickets as staff."),
            "🛟",
            Stat.TICKETS_CLOSED_AS_STAFF,
            10,
        ),
    )
}

BY_STAT: dict[Stat, tuple[Achievement, ...]] = {
    stat: tuple(a for a in CATALOGUE.values() if a.stat is stat) for stat in Stat
}
"""The rules each stat feeds, in catalogue order."""
