"""The battle itself, pure and deterministic: the same seed and bonuses always give the same log.

Two fighters of 30 HP take turns for at most `MAX_ROUNDS` rounds, the challenger first. A turn is
a weighted move (duel-style: attack, critical, fumble, heal); a hit does 4–10 damage plus the
attacker's bonus. The bonus comes from the rating and is bounded (`bonus_for`: −1 … +1), so stats
tilt a battle but never decide it (+1 against −1 wins about 79 % of 4,000 seeds, even odds
about 50 %; `tests/features/test_rumble_battle.py`). After the last round the fighter with more
HP wins; a tie is a coin flip from the same generator.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

HP = 30
MAX_ROUNDS = 5
MAX_BONUS = 1
RATING_PER_BONUS = 200


class Move(StrEnum):
    """What a fighter did on one turn (one letter in the stored log)."""

    ATTACK = "a"
    CRITICAL = "c"
    FUMBLE = "f"
    HEAL = "h"


MOVES = (Move.ATTACK, Move.CRITICAL, Move.FUMBLE, Move.HEAL)
WEIGHTS = (0.75, 0.05, 0.1, 0.1)


@dataclass(frozen=True)
class Turn:
    """One turn: round number, who acted (0 challenger, 1 opponent), the move, the amount, HP after."""

    round: int
    actor: int
    move: Move
    amount: int
    hp: tuple[int, int]


@dataclass(frozen=True)
class Outcome:
    """A fought battle: its turns and the winner (0 challenger, 1 opponent)."""

    turns: tuple[Turn, ...]
    winner: int
    hp: tuple[int, int]


def bonus_for(rating: int) -> int:
    """A rating's damage bonus, bounded to ±`MAX_BONUS`."""
    return max(-MAX_BONUS, min(MAX_BONUS, (rating - 1000) // RATING_PER_BONUS))


def fight(seed: int, bonuses: tuple[int, int]) -> Outcome:
    """Fight a battle from its seed; the same arguments give the same outcome."""
    rng = random.Random(seed)
    hp = [HP, HP]
    turns: list[Turn] = []
    for rnd in range(1, MAX_ROUNDS + 1):
        for actor in (0, 1):
            target = 1 - actor
            move = rng.choices(MOVES, WEIGHTS)[0]
            base = rng.randint(4, 10)
            if move is Move.ATTACK:
                amount = max(1, base + bonuses[actor])
                hp[target] = max(0, hp[target] - amount)
            elif move is Move.CRITICAL:
                amount = max(1, 2 * (base + bonuses[actor]))
                hp[target] = max(0, hp[target] - amount)
            elif move is Move.HEAL:
                amount = min(HP - hp[actor], base)
                hp[actor] += amount
            else:
                amount = 0
            turns.append(Turn(rnd, actor, move, amount, (hp[0], hp[1])))
            if hp[target] == 0:
                return Outcome(tuple(turns), actor, (hp[0], hp[1]))
    winner = (0 if hp[0] > hp[1] else 1) if hp[0] != hp[1] else rng.randrange(2)
    return Outcome(tuple(turns), winner, (hp[0], hp[1]))


def encode(outcome: Outcome) -> str:
    """The log as stored: `round actor move amount` per turn, then the winner (`1.0a5 1.1h3 … w0`)."""
    parts = [f"{t.round}.{t.actor}{t.move.value}{t.amount}" for t in outcome.turns]
    return " ".join([*parts, f"w{outcome.winner}"])


def elo(winner: int, loser: int, k: int = 32) -> tuple[int, int]:
    """New (winner, loser) ratings after one game (integer Elo, the loser never below 100)."""
    expected = 1 / (1 + 10 ** ((loser - winner) / 400))
    change = max(1, round(k * (1 - expected)))
    return winner + change, max(100, loser - change)
