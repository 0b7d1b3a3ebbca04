"""Exchange accounts: users, game cash (deposits, withdrawals) and the portfolio view.

Invariants:
- every user has exactly one cash row, created with the user;
- `cash_cents` and `reserved_cents` are never negative; a withdrawal is a conditional
  `UPDATE … WHERE cash_cents >= amount` (no check-then-act race);
- deposits and withdrawals lock one cash row (the sequencers lock theirs in user id order);
- what a refusal or a result says about the balance comes from a locking read, which sees the
  row as it is now: on MariaDB (REPEATABLE READ) a plain read would show the snapshot taken by
  the transaction's first read;
- every change of a user's cash + reserved is written with a ledger row in the same transaction,
  so cash + reserved == sum(ledger deltas) for every user.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.errors import Conflict, InsufficientFunds, InvalidInput, NotFound
from kyrios.exchange.engine.risk import margin_state
from kyrios.exchange.models import (
    CashReason,
    ExchangeAsset,
    ExchangeCash,
    ExchangeCashLedger,
    ExchangePosition,
    ExchangeUser,
    Role,
)
from kyrios.exchange.rules import ExchangeRules, stored_rules
from kyrios.exchange.schemas import MarginView, PortfolioView, PositionView, UserView
from kyrios.exchange.settlement import PositionState, unrealized_pnl_cents

MAX_CASH_MOVE_CENTS = 10**13


async def create_user(
    session: AsyncSession,
    *,
    username: str,
    now: datetime,
    role: Role = Role.PLAYER,
    discord_id: int | None = None,
) -> ExchangeUser:
    """Open an account (user + empty cash row); usernames are unique."""
    username = username.strip()
    if not 1 <= len(username) <= 64:
        raise InvalidInput("A username has 1 to 64 characters.")
    if await session.scalar(select(ExchangeUser.id).where(ExchangeUser.username == username)) is not None:
        raise Conflict("The username '{username}' is taken.", username=username)
    if discord_id is not None and await find_user(session, discord_id=discord_id) is not None:
        raise Conflict("That Discord account already has an exchange account.")
    user = ExchangeUser(
        uuid=str(uuid.uuid4()), username=username, role=role, discord_id=discord_id, created_at=now
    )
    session.add(user)
    await session.flush()
    session.add(ExchangeCash(user_id=user.id, cash_cents=0, reserved_cents=0))
    await session.flush()
    return user


async def find_user(
    session: AsyncSession,
    *,
    user_id: int | None = None,
    username: str | None = None,
    discord_id: int | None = None,
) -> ExchangeUser | None:
    """The user with this id, username or Discord id, or None."""
    query = select(ExchangeUser)
    if user_id is not None:
        query = query.where(ExchangeUser.id == user_id)
    elif username is not None:
        query = query.where(ExchangeUser.username == username)
    elif discord_id is not None:
        query = query.where(ExchangeUser.discord_id == discord_id)
    else:
        raise ValueError("name a user")
    return (await session.execute(query)).scalar_one_or_none()


async def resolve_user(session: AsyncSession, name_or_id: str) -> ExchangeUser:
    """A user named by username, or by numeric id; NotFound otherwise."""
    user = await find_user(session, username=name_or_id)
    if user is None and name_or_id.isdigit():
        user = await find_user(session, user_id=int(name_or_id))
    if user is None:
        raise NotFound("There is no exchange user '{user}'.", user=name_or_id)
    return user


async def list_users(session: AsyncSession, user_id: int | None = None) -> list[UserView]:
    """Every user (or the one with `user_id`) with its cash, oldest first."""
    query = (
        select(ExchangeUser, ExchangeCash.cash_cents, ExchangeCash.reserved_cents)
        .join(ExchangeCash, ExchangeCash.user_id == ExchangeUser.id)
        .order_by(ExchangeUser.id)
    )
    if user_id is not None:
        query = query.where(ExchangeUser.id == user_id)
    return [
        UserView(
            id=user.id,
            username=user.username,
            role=user.role,
            discord_id=user.discord_id,
            cash_cents=int(cash),
            reserved_cents=int(reserved),
        )
        for user, cash, reserved in await session.execute(query)
    ]


def _check_amount(amount_cents: int) -> None:
    if type(amount_cents) is not int or amount_cents <= 0:
        raise InvalidInput("The amount must be a positive whole number of cents.")
    if amount_cents > MAX_CASH_MOVE_CENTS:
        raise InvalidInput(
            "The amount is too large (at most {max_cents:cents} at once).", max_cents=MAX_CASH_MOVE_CENTS
        )


async def deposit(
    session: AsyncSession, user_id: int, amount_cents: int, *, now: datetime, detail: str = ""
) -> int:
    """Add game cash (ledgered); returns the new free cash."""
    _check_amount(amount_cents)
    result = await session.execute(
        update(ExchangeCash)
        .where(ExchangeCash.user_id == user_id)
        .values(
            cash_cents=ExchangeCash.cash_cents + amount_cents,
            net_deposits_cents=ExchangeCash.net_deposits_cents + amount_cents,
        )
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFound("There is no exchange user {user_id}.", user_id=str(user_id))
    return await _record(session, user_id, amount_cents, CashReason.DEPOSIT, detail, now)


async def withdraw(
    session: AsyncSession, user_id: int, amount_cents: int, *, now: datetime, detail: str = ""
) -> int:
    """Take game cash out if that much is free (atomically, ledgered); returns the new free cash."""
    _check_amount(amount_cents)
    result = await session.execute(
        update(ExchangeCash)
        .where(ExchangeCash.user_id == user_id, ExchangeCash.cash_cents >= amount_cents)
        .values(
            cash_cents=ExchangeCash.cash_cents - amount_cents,
            net_deposits_cents=ExchangeCash.net_deposits_cents - amount_cents,
        )
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        free = await current_free_cash(session, user_id)
        if free is None:
            raise NotFound("There is no exchange user {user_id}.", user_id=str(user_id))
        raise InsufficientFunds(
            "You asked to withdraw {amount_cents:cents} but have {free_cents:cents} free.",
            amount_cents=amount_cents,
            free_cents=free,
        )
    return await _record(session, user_id, -amount_cents, CashReason.WITHDRAWAL, detail, now)


async def _record(
    session: AsyncSession, user_id: int, delta: int, reason: CashReason, detail: str, now: datetime
) -> int:
    session.add(
        ExchangeCashLedger(
            user_id=user_id, delta_cents=delta, reason=reason, detail=detail[:200], created_at=now
        )
    )
    await session.flush()
    return int(await current_free_cash(session, user_id) or 0)


async def current_free_cash(session: AsyncSession, user_id: int) -> int | None:
    """The user's free cash as it is now (a locking read: never an older snapshot), or None."""
    free = await session.scalar(
        select(ExchangeCash.cash_cents).where(ExchangeCash.user_id == user_id).with_for_update()
    )
    return None if free is None else int(free)


async def portfolio(session: AsyncSession, user_id: int, rules: ExchangeRules | None = None) -> PortfolioView:
    """Cash, reserved cash, every non-flat position with average price and P&L at the last price,
    and the margin state (`rules`: the exchange's in force; None: the admin's stored ones)."""
    user = await find_user(session, user_id=user_id)
    if user is None:
        raise NotFound("There is no exchange user {user_id}.", user_id=str(user_id))
    cash, reserved = (
        await session.execute(
            select(ExchangeCash.cash_cents, ExchangeCash.reserved_cents).where(
                ExchangeCash.user_id == user_id
            )
        )
    ).one()
    rows = await session.execute(
        select(ExchangePosition, ExchangeAsset.last_price_cents)
        .join(ExchangeAsset, ExchangeAsset.symbol == ExchangePosition.symbol)
        .where(ExchangePosition.user_id == user_id)
        .order_by(ExchangePosition.symbol)
    )
    positions: list[PositionView] = []
    for position, last_price in rows:
        if not (
            position.quantity
            or position.realized_pnl_cents
            or position.reserved_quantity
            or position.margin_cents
        ):
            continue
        state = PositionState(position.quantity, position.cost_basis_cents, position.realized_pnl_cents)
        positions.append(
            PositionView(
                symbol=position.symbol,
                quantity=position.quantity,
                average_price_cents=position.average_price_cents,
                last_price_cents=int(last_price),
                market_value_cents=position.quantity * int(last_price),
                realized_pnl_cents=position.realized_pnl_cents,
                unrealized_pnl_cents=unrealized_pnl_cents(state, int(last_price)),
                reserved_quantity=position.reserved_quantity,
                margin_cents=position.margin_cents,
            )
        )
    equity = int(cash) + int(reserved) + sum(p.market_value_cents for p in positions)
    rules = rules or await stored_rules(session)
    shorts = sum(-p.market_value_cents for p in positions if p.quantity < 0)
    graded = margin_state(equity, shorts, rules.initial_margin_bps, rules.maintenance_margin_bps)
    return PortfolioView(
        margin=MarginView(
            equity_cents=graded.equity_cents,
            short_value_cents=graded.short_value_cents,
            requirement_cents=graded.requirement_cents,
            maintenance_cents=graded.maintenance_cents,
            held_cents=sum(p.margin_cents for p in positions),
            status=graded.status,
        ),
        user_id=user.id,
        username=user.username,
        cash_cents=int(cash),
        reserved_cents=int(reserved),
        positions=positions,
        equity_cents=equity,
    )
