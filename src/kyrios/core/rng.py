"""Seedable randomness, so draws can be replayed and verified."""

from __future__ import annotations

import random
import secrets


class RandomSource:
    """Hands out independent seeded generators; the seed can be stored with what it decided."""

    def __init__(self, seed: int | None = None) -> None:
        self._master = random.Random(seed)
        self._fixed = seed is not None

    def new_seed(self) -> int:
        """A fresh 63-bit seed (deterministic when the source was seeded)."""
        if self._fixed:
            return self._master.getrandbits(63)
        return secrets.randbits(63)

    def generator(self, seed: int) -> random.Random:
        """A generator for one decision, reproducible from its seed."""
        return random.Random(seed)
