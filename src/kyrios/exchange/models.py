"""The exchange's tables: users, assets, orders, executions, unified positions, cash and its ledger.

Integers only: prices and cash in cents, quantities in whole units. Wire shapes live in
`schemas.py`; these classes are the database rows.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from kyrios.core.models import Base, BigIntPK, Snowflake, StrEnumColumn, UTCDateTime
from kyrios.exchange.engine.enums import OrderType, SelfTradePrevention, Side


class Role(StrEnum):
    """Who an exchange account belongs to."""

    ADMIN = "ADMIN"
    PLAYER = "PLAYER"
    BOT = "BOT"


class AssetType(StrEnum):
    """What kind of instrument a symbol is."""

    STOCK = "STOCK"
    BOND = "BOND"
    FOREX = "FOREX"


class AssetStatus(StrEnum):
    """TRADING takes new orders; HALTED only takes cancels."""

    TRADING = "TRADING"
    HALTED = "HALTED"


class OrderStatus(StrEnum):
    """An order's life: OPEN → PARTIALLY_FILLED → FILLED, or CANCELED / REJECTED."""

    OPEN = "OPEN"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"


FINISHED_STATUSES = (OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED)
LIVE_STATUSES = (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)


class CashReason(StrEnum):
    """Why an account's total cash (free + reserved) changed."""

    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    BUY = "buy"
    SELL = "sell"
    LIQUIDATION = "liquidation"
    """A buy the exchange made on the account's behalf to close a short below maintenance margin."""


class ExchangeUser(Base):
    """A trading account: a Discord member (discord_id), or a bot / the market issuer (no discord_id)."""

    __tablename__ = "exchange_user"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    discord_id: Mapped[int | None] = mapped_column(Snowflake, unique=True, default=None)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[Role] = mapped_column(StrEnumColumn(Role, length=8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ExchangeSettings(Base):
    """The admin's risk and pacing rules (one row, id 1; the defaults apply until it exists)."""

    __tablename__ = "exchange_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    max_short_quantity: Mapped[int] = mapped_column(BigInteger)
    market_collar_bps: Mapped[int] = mapped_column(Integer)
    orders_per_second: Mapped[float] = mapped_column(Float)
    order_burst: Mapped[int] = mapped_column(Integer)
    initial_margin_bps: Mapped[int] = mapped_column(Integer, default=15_000, server_default="15000")
    maintenance_margin_bps: Mapped[int] = mapped_column(Integer, default=12_500, server_default="12500")
    liquidation_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ExchangeAsset(Base):
    """A listed symbol. `engine_seq` is the last book sequence number persisted for it."""

    __tablename__ = "exchange_asset"

    symbol: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    type: Mapped[AssetType] = mapped_column(StrEnumColumn(AssetType, length=8))
    sector: Mapped[str] = mapped_column(String(64), default="")
    tick_size_cents: Mapped[int] = mapped_column(BigInteger)
    min_quantity: Mapped[int] = mapped_column(BigInteger, default=1)
    max_quantity: Mapped[int] = mapped_column(BigInteger)
    max_notional_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[AssetStatus] = mapped_column(StrEnumColumn(AssetStatus, length=8))
    issued_supply: Mapped[int] = mapped_column(BigInteger)
    issuer_user_id: Mapped[int] = mapped_column(ForeignKey("exchange_user.id"))
    last_price_cents: Mapped[int] = mapped_column(BigInteger)
    engine_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ExchangeOrder(Base):
    """An acknowledged order. `priority` is None until the book has taken it (then its accept seq).

    Quantities always add up: filled + canceled + remaining == quantity. For buys,
    `reserved_cents` is the cash still held for the open remainder (price × remaining).
    """

    __tablename__ = "exchange_order"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    client_order_id: Mapped[str | None] = mapped_column(String(36), default=None)
    user_id: Mapped[int] = mapped_column(ForeignKey("exchange_user.id"))
    symbol: Mapped[str] = mapped_column(ForeignKey("exchange_asset.symbol"))
    side: Mapped[Side] = mapped_column(StrEnumColumn(Side, length=4))
    type: Mapped[OrderType] = mapped_column(StrEnumColumn(OrderType, length=6))
    price_cents: Mapped[int | None] = mapped_column(BigInteger, default=None)
    """The limit price; for a market order its protection (collar) price."""
    quantity: Mapped[int] = mapped_column(BigInteger)
    filled_quantity: Mapped[int] = mapped_column(BigInteger, default=0)
    canceled_quantity: Mapped[int] = mapped_column(BigInteger, default=0)
    remaining_quantity: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[OrderStatus] = mapped_column(StrEnumColumn(OrderStatus, length=16))
    reject_reason: Mapped[str | None] = mapped_column(String(200), default=None)
    """Why the book rejected the order: a `RejectCode` value (`book_halted`), not words in one language."""
    stp: Mapped[SelfTradePrevention] = mapped_column(StrEnumColumn(SelfTradePrevention, length=16))
    priority: Mapped[int | None] = mapped_column(BigInteger, default=None)
    reserved_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    # A user's orders are found through the (user_id, client_order_id) key's prefix; a separate
    # (user_id, status) index would be rewritten on every fill and cost the group commit dearly.
    __table_args__ = (
        UniqueConstraint("user_id", "client_order_id"),
        Index("ix_exchange_order_symbol_status", "symbol", "status"),
    )


class ExchangeExecution(Base):
    """One trade: the taker traded with a resting maker at the maker's price; `seq` is the book's."""

    __tablename__ = "exchange_execution"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    symbol: Mapped[str] = mapped_column(ForeignKey("exchange_asset.symbol"))
    seq: Mapped[int] = mapped_column(BigInteger)
    maker_order_id: Mapped[int] = mapped_column(ForeignKey("exchange_order.id"))
    taker_order_id: Mapped[int] = mapped_column(ForeignKey("exchange_order.id"))
    maker_user_id: Mapped[int] = mapped_column(BigInteger)
    taker_user_id: Mapped[int] = mapped_column(BigInteger)
    taker_side: Mapped[Side] = mapped_column(StrEnumColumn(Side, length=4))
    price_cents: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(BigInteger)
    executed_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("symbol", "seq"),)


class ExchangeCandle(Base):
    """One OHLCV bar of a symbol's trades (`candles.py` keeps it current, in each batch's transaction).

    `start_time` is the bar's first second in UTC epoch seconds, a multiple of the interval's length;
    prices in cents, `volume` in units.
    """

    __tablename__ = "exchange_candles"

    symbol: Mapped[str] = mapped_column(ForeignKey("exchange_asset.symbol"), primary_key=True)
    bar_interval: Mapped[str] = mapped_column(String(4), primary_key=True)
    """"1m", "5m", "1h" or "1d" (`candles.Interval`); `interval` itself is a reserved word in SQL."""
    start_time: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    open_cents: Mapped[int] = mapped_column(BigInteger)
    high_cents: Mapped[int] = mapped_column(BigInteger)
    low_cents: Mapped[int] = mapped_column(BigInteger)
    close_cents: Mapped[int] = mapped_column(BigInteger)
    volume: Mapped[int] = mapped_column(BigInteger)
    trade_count: Mapped[int] = mapped_column(BigInteger)


class ExchangePosition(Base):
    """A unified position: + long / − short. `cost_basis_cents` is the exact cost of the open quantity.

    `average_price_cents` is that cost per unit, rounded, for display; `reserved_quantity` is the
    open quantity of the user's resting sells (what may still leave the position).
    """

    __tablename__ = "exchange_position"

    user_id: Mapped[int] = mapped_column(ForeignKey("exchange_user.id"), primary_key=True)
    symbol: Mapped[str] = mapped_column(ForeignKey("exchange_asset.symbol"), primary_key=True)
    quantity: Mapped[int] = mapped_column(BigInteger, default=0)
    cost_basis_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    average_price_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    realized_pnl_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    reserved_quantity: Mapped[int] = mapped_column(BigInteger, default=0)
    margin_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """Cash held (part of the user's `reserved_cents`) as margin for this position's short."""


class ExchangeCash(Base):
    """A user's game cash: `cash_cents` is free; `reserved_cents` is held for open orders (a buy's
    price, a short sell's initial margin) and as the margin of short positions.

    `net_deposits_cents` is every deposit minus every withdrawal so far, kept by the same statement
    that moves the cash, so net worth minus it is the account's trading P&L.

    `margin_restricted` is set when a check found the account below its maintenance margin: its
    orders are then checked again before anything but a risk-reducing order is refused.
    """

    __tablename__ = "exchange_cash"

    user_id: Mapped[int] = mapped_column(ForeignKey("exchange_user.id"), primary_key=True)
    cash_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    reserved_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    net_deposits_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    margin_restricted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ExchangeNetWorth(Base):
    """One point of a player's net-worth history (`net_worth.py` records and thins them).

    `snapshot_time` is UTC epoch seconds; net worth is free + reserved cash + positions at the last
    prices then; `net_deposits_cents` is the account's net deposits then, so a period's trading P&L
    is the change of (net worth − net deposits).
    """

    __tablename__ = "exchange_net_worth"

    user_id: Mapped[int] = mapped_column(ForeignKey("exchange_user.id"), primary_key=True)
    snapshot_time: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    net_worth_cents: Mapped[int] = mapped_column(BigInteger)
    net_deposits_cents: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_exchange_net_worth_snapshot_time", "snapshot_time"),)


class ExchangeCashLedger(Base):
    """One change of a user's total cash (free + reserved), written with the change."""

    __tablename__ = "exchange_cash_ledger"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("exchange_user.id"))
    delta_cents: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[CashReason] = mapped_column(StrEnumColumn(CashReason, length=16))
    execution_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    detail: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    # No (user_id, id) index: every trade writes two rows, and that index made each group commit
    # rewrite one scattered page per trading user (migration 0004). A per-user statement brings
    # an index back with its query.


__all__ = [
    "FINISHED_STATUSES",
    "LIVE_STATUSES",
    "AssetStatus",
    "AssetType",
    "CashReason",
    "ExchangeAsset",
    "ExchangeCandle",
    "ExchangeCash",
    "ExchangeCashLedger",
    "ExchangeExecution",
    "ExchangeNetWorth",
    "ExchangeOrder",
    "ExchangePosition",
    "ExchangeUser",
    "OrderStatus",
    "Role",
]
