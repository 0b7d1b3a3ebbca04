"""The battle engine alone: deterministic from its seed, short, and tilted (not decided) by rating."""

from __future__ import annotations

from kyrios.features.rumble import battle


def test_the_same_seed_gives_the_same_battle_and_others_differ() -> None:
    logs = {battle.encode(battle.fight(seed, (0, 0))) for seed in range(200)}
    assert battle.fight(12345, (1, -1)) == battle.fight(12345, (1, -1))
    assert len(logs) > 150  # seeds matter


def test_battles_are_short_and_end_with_a_winner() -> None:
    for seed in range(500):
        outcome = battle.fight(seed, (0, 0))
        assert 1 <= len(outcome.turns) <= 2 * battle.MAX_ROUNDS
        assert outcome.winner in (0, 1)
        loser_hp, winner_hp = outcome.hp[1 - outcome.winner], outcome.hp[outcome.winner]
        assert winner_hp >= loser_hp and all(0 <= hp <= battle.HP for hp in outcome.hp)
        assert battle.encode(outcome).endswith(f"w{outcome.winner}")


def test_rating_tilts_the_odds_within_bounds() -> None:
    assert battle.bonus_for(1000) == 0
    assert battle.bonus_for(5000) == battle.MAX_BONUS and battle.bonus_for(0) == -battle.MAX_BONUS
    seeds = range(3000)
    even = sum(battle.fight(s, (0, 0)).winner == 0 for s in seeds) / len(seeds)
    favoured = sum(battle.fight(s, (1, -1)).winner == 0 for s in seeds) / len(seeds)
    assert 0.4 < even < 0.65  # the challenger moves first: a small edge, no more
    assert even < favoured < 0.85  # the strongest tilt still leaves the weaker side real chances


def test_elo_moves_points_from_loser_to_winner() -> None:
    assert battle.elo(1000, 1000) == (1016, 984)
    up, down = battle.elo(1400, 1000)
    assert 1400 < up < 1416 and 984 < down < 1000  # an expected win moves less
    assert battle.elo(1000, 100)[1] == 100  # the floor
