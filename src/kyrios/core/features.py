"""The names of Kyrios's slices: one vocabulary for manifests, command sets and `/settings feature`."""

from __future__ import annotations

from enum import StrEnum


class Feature(StrEnum):
    """A slice's name. Each has exactly one manifest in `kyrios.slices`; a name that is not a member
    fails where it is used (a command set, a manifest, an option), never silently at run time.

    The order is the order `/settings` lists the switchable ones in.
    """

    ECONOMY = "economy"
    GACHA = "gacha"
    ACHIEVEMENTS = "achievements"
    RUMBLE = "rumble"
    WALLET = "wallet"
    TICKETS = "tickets"
    MODLOG = "modlog"
    AVATARS = "avatars"
    MUSIC = "music"
    EXCHANGE = "exchange"
    STOCK = "stock"
    PROFILE = "profile"
    AUTO_ROLE = "auto_role"
    GUILD_SETTINGS = "guild_settings"


ALWAYS_ON = frozenset({Feature.PROFILE, Feature.AUTO_ROLE, Feature.GUILD_SETTINGS})
"""Slices `/settings feature` cannot switch off: the settings themselves, auto role (on while a role
is set) and the profile (its `/profile` follows the economy's switch)."""

SWITCHABLE: tuple[Feature, ...] = tuple(feature for feature in Feature if feature not in ALWAYS_ON)
"""What `/settings feature` offers, in order. Known when `guild_settings` is imported, which is why
it is decided here and not by the manifests (they are listed above every slice)."""


def require_feature(value: object) -> Feature:
    """`value` if it is a `Feature`; a ValueError saying what to use instead otherwise."""
    if isinstance(value, Feature):
        return value
    known = {feature.value: feature for feature in Feature}
    if isinstance(value, str) and value in known:
        raise ValueError(f"feature {value!r} is a plain string: use Feature.{known[value].name}")
    raise ValueError(f"unknown feature {value!r}; the features are: {', '.join(known)}")
