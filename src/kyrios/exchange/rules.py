"""Exchange-wide trading rules, where they come from, and the per-user order rate limiter.

The rules an admin tunes (`kyrios exchange set-rules`) live in the one `exchange_settings` row;
the running sequencers read it at every batch (as they read halts and cash), so a change made
by any process applies to the next orders. Code may instead fix the rules (tests, benchmarks).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.clock import Clock
from kyrios.core.db import Sql
from kyrios.core.errors import InvalidInput, OnCooldown
from kyrios.core.i18n import N_


@dataclass(frozen=True)
class ExchangeRules:
    """Risk and pacing settings an admin may tune."""

    max_short_quantity: int = 1_000
    """How far below zero one user's position in one symbol may go (a cap beside the margin)."""
    initial_margin_bps: int = 15_000
    """Free cash a sell that may open or increase a short must hold: this share of its short notional."""
    maintenance_margin_bps: int = 12_500
    """Below this share of its shorts' value (at the last prices) an account may only reduce risk."""
    liquidation_enabled: bool = False
    """Whether the exchange buys back, at market, the shorts of an account below maintenance."""
    market_collar_bps: int = 500
    """A market order trades at most this far (basis points) from the last price."""
    orders_per_second: float = 10.0
    """Sustained new orders per user per second."""
    order_burst: int = 20
    """New orders a user may send at once before the rate applies."""
    max_batch: int = 2_000
    """Most commands a sequencer takes into one group commit."""


# What an admin may set, with the bounds a person can read in the error.
TUNABLE: dict[str, tuple[float, float, str]] = {
    "max_short_quantity": (0, 1_000_000_000, "units below zero one user may hold in one symbol"),
    "market_collar_bps": (1, 10_000, "basis points a market order may trade away from the last price"),
    "orders_per_second": (0.01, 100_000, "new orders per user per second"),
    "order_burst": (1, 1_000_000, "new orders a user may send at once"),
    "initial_margin_bps": (10_000, 100_000, "basis points of a short's notional held as initial margin"),
    "maintenance_margin_bps": (10_000, 100_000, "basis points of the shorts' value equity must keep"),
    "liquidation_enabled": (0, 1, "1 to buy back the shorts of accounts below maintenance, 0 not to"),
}
# The refusal of a value out of bounds, one message per rule (its meaning is part of the sentence).
OUT_OF_BOUNDS = {
    "max_short_quantity": N_(
        "max_short_quantity (units below zero one user may hold in one symbol) must be between "
        "{low:g} and {high:g}, not {value:g}."
    ),
    "market_collar_bps": N_(
        "market_collar_bps (basis points a market order may trade away from the last price) must be "
        "between {low:g} and {high:g}, not {value:g}."
    ),
    "orders_per_second": N_(
        "orders_per_second (new orders per user per second) must be between {low:g} and {high:g}, "
        "not {value:g}."
    ),
    "order_burst": N_(
        "order_burst (new orders a user may send at once) must be between {low:g} and {high:g}, "
        "not {value:g}."
    ),
    "initial_margin_bps": N_(
        "initial_margin_bps (basis points of a short's notional held as initial margin) must be "
        "between {low:g} and {high:g}, not {value:g}."
    ),
    "maintenance_margin_bps": N_(
        "maintenance_margin_bps (basis points of the shorts' value equity must keep) must be "
        "between {low:g} and {high:g}, not {value:g}."
    ),
    "liquidation_enabled": N_("liquidation_enabled must be 0 (off) or 1 (on), not {value:g}."),
}
MAINTENANCE_ABOVE_INITIAL = N_(
    "The maintenance margin ({maintenance_bps} bps) cannot be above the initial margin ({initial_bps} bps)."
)

_READ = (
    "SELECT max_short_quantity, market_collar_bps, orders_per_second, order_burst,"
    " initial_margin_bps, maintenance_margin_bps, liquidation_enabled"
    " FROM exchange_settings WHERE id = 1"
)


async def stored_rules(session: AsyncSession, base: ExchangeRules | None = None) -> ExchangeRules:
    """The admin's rules (the defaults, or `base`, where none were set)."""
    base = base or ExchangeRules()
    row = await (await Sql.of(session)).one(_READ)
    if row is None:
        return base
    return replace(
        base,
        max_short_quantity=int(row[0]),
        market_collar_bps=int(row[1]),
        orders_per_second=float(row[2]),
        order_burst=int(row[3]),
        initial_margin_bps=int(row[4]),
        maintenance_margin_bps=int(row[5]),
        liquidation_enabled=bool(row[6]),
    )


def checked_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """The changes that were given, each checked against its bounds; `InvalidInput` otherwise."""
    given = {name: value for name, value in changes.items() if value is not None}
    if not given:
        raise InvalidInput("Name at least one rule to change: {rules}.", rules=", ".join(TUNABLE))
    for name, value in given.items():
        if name not in TUNABLE:
            raise InvalidInput(
                "There is no rule '{rule}'; the rules are {rules}.", rule=name, rules=", ".join(TUNABLE)
            )
        low, high, _ = TUNABLE[name]
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidInput("{rule} must be a number.", rule=name)
        if not low <= value <= high or (name == "liquidation_enabled" and value not in (0, 1)):
            raise InvalidInput(OUT_OF_BOUNDS[name], low=low, high=high, value=value)
    if _margins_inverted(given):
        raise InvalidInput(
            MAINTENANCE_ABOVE_INITIAL,
            maintenance_bps=str(given["maintenance_margin_bps"]),
            initial_bps=str(given["initial_margin_bps"]),
        )
    if "liquidation_enabled" in given:
        given["liquidation_enabled"] = bool(given["liquidation_enabled"])
    return given


def _margins_inverted(given: dict[str, Any]) -> bool:
    """Whether both margins are given and the maintenance one is above the initial one."""
    both = "maintenance_margin_bps" in given and "initial_margin_bps" in given
    return both and given["maintenance_margin_bps"] > given["initial_margin_bps"]


async def change_rules(session: AsyncSession, now: datetime, **changes: Any) -> ExchangeRules:
    """Set some of the admin's rules (the others keep their values); returns the rules now in force."""
    given = checked_changes(changes)
    sql = await Sql.of(session)
    defaults = ExchangeRules()  # the row's first values; ignored when it exists
    await sql.execute(
        sql.insert_ignore(
            "exchange_settings",
            (
                "id",
                "max_short_quantity",
                "market_collar_bps",
                "orders_per_second",
                "order_burst",
                "initial_margin_bps",
                "maintenance_margin_bps",
                "liquidation_enabled",
                "updated_at",
            ),
        ),
        (
            1,
            defaults.max_short_quantity,
            defaults.market_collar_bps,
            defaults.orders_per_second,
            defaults.order_burst,
            defaults.initial_margin_bps,
            defaults.maintenance_margin_bps,
            defaults.liquidation_enabled,
            sql.stamp(now),
        ),
    )
    assignments = ", ".join(f"{name} = ?" for name in given)
    await sql.execute(
        f"UPDATE exchange_settings SET {assignments}, updated_at = ? WHERE id = 1",  # noqa: S608 - names checked
        (*given.values(), sql.stamp(now)),
    )
    rules = await stored_rules(session)
    if rules.maintenance_margin_bps > rules.initial_margin_bps:  # raising undoes the update
        raise InvalidInput(
            MAINTENANCE_ABOVE_INITIAL,
            maintenance_bps=str(rules.maintenance_margin_bps),
            initial_bps=str(rules.initial_margin_bps),
        )
    return rules


class LiveRules:
    """The rules in force: fixed by code, or followed from the database at every batch."""

    def __init__(self, fixed: ExchangeRules | None = None) -> None:
        self.current = fixed or ExchangeRules()
        self.follows_database = fixed is None

    async def refresh(self, session: AsyncSession) -> ExchangeRules:
        """Re-read the admin's rules (inside the caller's transaction) unless they are fixed."""
        if self.follows_database:
            self.current = await stored_rules(session, self.current)
        return self.current


class OrderRateLimiter:
    """A token bucket per user: `order_burst` tokens, refilled at `orders_per_second` (as in force now)."""

    def __init__(self, clock: Clock, rules: LiveRules) -> None:
        self._clock = clock
        self._rules = rules
        self._buckets: dict[int, tuple[float, float]] = {}

    def take(self, user_id: int) -> None:
        """Spend one token or raise `OnCooldown` saying when the next one comes."""
        rate = self._rules.current.orders_per_second
        burst = float(self._rules.current.order_burst)
        now = self._clock.now().timestamp()
        tokens, at = self._buckets.get(user_id, (burst, now))
        tokens = min(burst, tokens + (now - at) * rate)
        if tokens < 1.0:
            wait = (1.0 - tokens) / rate if rate > 0 else float("inf")
            self._buckets[user_id] = (tokens, now)
            raise OnCooldown(
                "Too many orders: at most {rate} per second (bursts of {burst}). "
                "Try again in {retry_after:.2f} s.",
                rate=rate,
                burst=burst,
                retry_after=wait,
            )
        self._buckets[user_id] = (tokens - 1.0, now)
        if len(self._buckets) > 100_000:  # forget idle users so memory stays bounded
            self._buckets = {
                uid: state for uid, state in self._buckets.items() if now - state[1] < burst / rate
            }
