"""A mirror of one symbol's aggregated book, kept from a snapshot and the bus's depth deltas.

The checksum, the Kraken way (WebSocket v2 "book checksum"): take the 10 best asks (lowest price
first) and then the 10 best bids (highest price first); for each level write the price and then
the quantity as decimal strings with no separators (our prices are integer cents and quantities
whole units, so e.g. a level of 12,345 cents x 7 units is "123457"); concatenate asks then bids
into one ASCII string and take its CRC32 (`zlib.crc32`) as an unsigned 32-bit integer. An empty
book's checksum is the CRC32 of the empty string, 0.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

CHECKSUM_LEVELS = 10


def checksum(bids: Iterable[tuple[int, int]], asks: Iterable[tuple[int, int]]) -> int:
    """The CRC32 of the top 10 `asks` (best first) then the top 10 `bids` (best first)."""
    parts = [f"{price}{quantity}" for price, quantity in list(asks)[:CHECKSUM_LEVELS]]
    parts += [f"{price}{quantity}" for price, quantity in list(bids)[:CHECKSUM_LEVELS]]
    return zlib.crc32("".join(parts).encode("ascii")) & 0xFFFFFFFF


class BookMirror:
    """Every price level of one symbol's book, as of event `seq`."""

    def __init__(self, seq: int, bids: Iterable[tuple[int, int]], asks: Iterable[tuple[int, int]]) -> None:
        self.seq = seq
        self.bids: dict[int, int] = dict(bids)
        self.asks: dict[int, int] = dict(asks)

    def set(self, side: str, price_cents: int, quantity: int) -> None:
        """Set one level's absolute quantity (0 removes it)."""
        levels = self.bids if side == "buy" else self.asks
        if quantity:
            levels[price_cents] = quantity
        else:
            levels.pop(price_cents, None)

    def best_bids(self, count: int | None = None) -> list[tuple[int, int]]:
        """Bid levels, highest price first (all of them without `count`)."""
        prices = sorted(self.bids, reverse=True)[:count]
        return [(price, self.bids[price]) for price in prices]

    def best_asks(self, count: int | None = None) -> list[tuple[int, int]]:
        """Ask levels, lowest price first (all of them without `count`)."""
        prices = sorted(self.asks)[:count]
        return [(price, self.asks[price]) for price in prices]

    def checksum(self) -> int:
        """The Kraken-style CRC32 of the top 10 levels per side (module docstring)."""
        return checksum(self.best_bids(CHECKSUM_LEVELS), self.best_asks(CHECKSUM_LEVELS))
