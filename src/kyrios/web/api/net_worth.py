"""Net worth on the web: the public leaderboard and the shapes of a player's net-worth chart.

`GET /api/v1/leaderboard` needs no sign-in; `GET /api/v1/me/net-worth` is the trading router's
(`trading.py`: the caller's account, `read` scope, its rate limit) and answers with `history`.
The figures come from `kyrios.exchange.net_worth` through the `ExchangeClient`: cents as integers,
times in UTC epoch seconds (Lightweight Charts' unit). An unknown period is a 422 in the one error
shape, its message in the caller's language.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from kyrios.exchange.net_worth import (
    HISTORY_PERIODS,
    LEADERBOARD_PERIODS,
    Change,
    Period,
    Point,
    parse_period,
    period_start,
)
from kyrios.runtime import Runtime
from kyrios.web.deps import RuntimeDep
from kyrios.web.errors import error_responses

MAX_ROWS = 100
ERRORS = error_responses(422)

router = APIRouter(prefix="/api/v1", tags=["net worth"])


class LeaderboardRow(BaseModel):
    """One ranked player."""

    rank: int
    name: str = Field(description="The player's display name (their exchange username).")
    net_worth_cents: int = Field(description="Cash, reserved cash and positions at the last prices.")
    change_cents: int = Field(
        description="Trading P&L over the period (all: since the account opened); deposits and "
        "withdrawals are left out."
    )
    change_percent: float | None = Field(
        description="The change over the capital at work (net worth at the start plus net deposits "
        "since); null without positive capital."
    )


class Leaderboard(BaseModel):
    """The top players: all time by net worth; a day or a week by their change over it."""

    period: Period
    start: int | None = Field(description="The period's first second (UTC epoch seconds); null for all.")
    rows: list[LeaderboardRow]


class NetWorthPoint(BaseModel):
    """One point of the chart."""

    time: int = Field(description="UTC epoch seconds.")
    net_worth_cents: int
    net_deposits_cents: int = Field(description="Deposits minus withdrawals so far.")


class NetWorthHistory(BaseModel):
    """The caller's net worth over a period, for a chart: ascending points, the last one now."""

    period: Period
    start: int | None = Field(description="The period's first second (UTC epoch seconds); null for all.")
    net_worth_cents: int
    net_deposits_cents: int
    change_cents: int = Field(description="Trading P&L over the period, deposits and withdrawals left out.")
    change_percent: float | None
    points: list[NetWorthPoint]


def _start(runtime: Runtime, period: Period) -> int | None:
    return period_start(period, runtime.clock.now())


def period_query(allowed: tuple[Period, ...]) -> Any:
    """A `period` query parameter documented with its choices (checked by `parse_period`)."""
    return Query(
        description=f"One of: {', '.join(p.value for p in allowed)}.",
        json_schema_extra={"enum": [p.value for p in allowed]},
    )


@router.get("/leaderboard", responses=ERRORS)
async def leaderboard(
    runtime: RuntimeDep,
    period: Annotated[str, period_query(LEADERBOARD_PERIODS)] = Period.ALL.value,
    limit: Annotated[int, Query(ge=1, le=MAX_ROWS, description="How many players.")] = 20,
) -> Leaderboard:
    """The players ranked: `all` by net worth at the last prices, `day` and `week` by their trading
    P&L over the last 24 hours or 7 days (deposits and withdrawals left out)."""
    chosen = parse_period(period, LEADERBOARD_PERIODS)
    ranked = await runtime.exchange.leaderboard(limit, chosen)
    return Leaderboard(
        period=chosen,
        start=_start(runtime, chosen),
        rows=[_row(rank, change) for rank, change in enumerate(ranked, start=1)],
    )


def _row(rank: int, change: Change) -> LeaderboardRow:
    return LeaderboardRow(
        rank=rank,
        name=change.valuation.username,
        net_worth_cents=change.valuation.net_worth_cents,
        change_cents=change.change_cents,
        change_percent=change.change_percent,
    )


async def history(runtime: Runtime, account: int, period: str) -> NetWorthHistory:
    """The caller's chart over `period` (day, week, month or all)."""
    chosen = parse_period(period, HISTORY_PERIODS)
    change, points = await runtime.exchange.net_worth_history(account, chosen)
    return NetWorthHistory(
        period=chosen,
        start=_start(runtime, chosen),
        net_worth_cents=change.valuation.net_worth_cents,
        net_deposits_cents=change.valuation.net_deposits_cents,
        change_cents=change.change_cents,
        change_percent=change.change_percent,
        points=[_point(point) for point in points],
    )


def _point(point: Point) -> NetWorthPoint:
    return NetWorthPoint(
        time=point.time, net_worth_cents=point.net_worth_cents, net_deposits_cents=point.net_deposits_cents
    )
