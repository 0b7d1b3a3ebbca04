"""The table a new guild starts with, so the very first pull works."""

from __future__ import annotations

from kyrios.features.gacha.models import Rarity

DEFAULT_ITEMS: tuple[tuple[str, Rarity, int], ...] = (
    ("Wooden Sword", Rarity.N, 200),
    ("Leather Cap", Rarity.N, 200),
    ("Bread Roll", Rarity.N, 200),
    ("Iron Shield", Rarity.R, 150),
    ("Silver Ring", Rarity.R, 150),
    ("Mage's Staff", Rarity.SR, 50),
    ("Phoenix Feather", Rarity.SR, 35),
    ("Golden Dragon", Rarity.SSR, 15),
)
