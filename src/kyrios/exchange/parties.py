"""Who traded: the Discord users behind one execution, for announcing members' large trades."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.exchange.engine import Side
from kyrios.exchange.models import ExchangeExecution, ExchangeUser


@dataclass(frozen=True, slots=True)
class TradeParty:
    """One side of a trade: the Discord user and whether they bought or sold."""

    discord_id: int
    side: Side


async def trade_parties(session: AsyncSession, symbol: str, seq: int) -> list[TradeParty]:
    """The taker, then the maker, of the execution `seq` of `symbol`, where they are Discord users."""
    execution = await session.scalar(
        select(ExchangeExecution).where(ExchangeExecution.symbol == symbol, ExchangeExecution.seq == seq)
    )
    if execution is None:
        return []
    users = dict(
        (
            await session.execute(
                select(ExchangeUser.id, ExchangeUser.discord_id).where(
                    ExchangeUser.id.in_((execution.taker_user_id, execution.maker_user_id))
                )
            )
        ).all()
    )
    maker_side = Side.SELL if execution.taker_side is Side.BUY else Side.BUY
    sides = ((execution.taker_user_id, execution.taker_side), (execution.maker_user_id, maker_side))
    return [
        TradeParty(discord_id, side) for user, side in sides if (discord_id := users.get(user)) is not None
    ]
