"""Seedable randomness, so draws can be replayed and verified."""

from __future__ import annotations

import random
import secrets

SEEDS_PER_DRAW = 256


class RandomSource:
    """Hands out independent seeded generators; the seed can be stored with what it decided."""

    def __init__(self, seed: int | None = None) -> None:
        self._master = random.Random(seed)
        self._fixed = seed is not None
        self._pool = b""
        self._used = 0

    def new_seed(self) -> int:
        """A fresh 63-bit seed (deterministic when the source was seeded)."""
        if self._fixed:
            return self._master.getrandbits(63)
        if self._used >= len(self._pool):  # one system call per 256 seeds, not one per seed
            self._pool, self._used = secrets.token_bytes(8 * SEEDS_PER_DRAW), 0
        chunk = self._pool[self._used : self._used + 8]
        self._used += 8
        return int.from_bytes(chunk) >> 1

    def generator(self, seed: int) -> random.Random:
        """A generator for one decision, reproducible from its seed."""
        return random.Random(seed)
