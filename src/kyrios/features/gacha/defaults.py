"""The table a new guild starts with, so the very first pull works.

The names are message ids: `service.ensure_items` writes them in the guild's language once, when
it creates the table. From then on they are the guild's data, like any item an admin adds: admins
remove and re-add them by the name they see, and pulls keep the name they were drawn with.
"""

from __future__ import annotations

from kyrios.core.i18n import N_
from kyrios.features.gacha.models import Rarity

DEFAULT_ITEMS: tuple[tuple[str, Rarity, int], ...] = (
    (N_("Wooden Sword"), Rarity.N, 200),
    (N_("Leather Cap"), Rarity.N, 200),
    (N_("Bread Roll"), Rarity.N, 200),
    (N_("Iron Shield"), Rarity.R, 150),
    (N_("Silver Ring"), Rarity.R, 150),
    (N_("Mage's Staff"), Rarity.SR, 50),
    (N_("Phoenix Feather"), Rarity.SR, 35),
    (N_("Golden Dragon"), Rarity.SSR, 15),
)
