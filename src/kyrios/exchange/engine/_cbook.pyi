"""Type stub of the C order book (`_cbook.c`): the interface of `book.OrderBook`.

`order()`, `orders()`, `open_orders`, `by_client_order_id`, `bids` and `asks` return snapshots
(new `Order`, `BookSide` and `PriceLevel` objects) instead of the book's live state. Enum-valued
arguments take a member or its plain value and raise TypeError/ValueError for anything else, as
in `book.OrderBook` (both call `arguments`).
"""

from collections.abc import Iterator

from kyrios.exchange.engine.arguments import (
    CancelReasonLike,
    SelfTradePreventionLike,
    SideLike,
    TimeInForceLike,
)
from kyrios.exchange.engine.enums import RejectCode, SelfTradePrevention
from kyrios.exchange.engine.events import Event
from kyrios.exchange.engine.levels import BookSide, Depth
from kyrios.exchange.engine.orders import Order, OrderId, UserId

class OrderBook:
    symbol: str
    tick_size_cents: int
    max_quantity: int
    seq: int
    halted: bool
    events: list[Event]
    def __init__(
        self,
        symbol: str,
        *,
        tick_size_cents: int = 1,
        max_quantity: int = 1_000_000,
        last_seq: int = 0,
        finished_memory: int = 10_000,
        default_stp: SelfTradePreventionLike = SelfTradePrevention.CANCEL_NEWEST,
    ) -> None: ...
    @property
    def default_stp(self) -> SelfTradePrevention: ...
    def place_limit(
        self,
        order_id: OrderId,
        user_id: UserId,
        side: SideLike,
        price_cents: int,
        quantity: int,
        time_in_force: TimeInForceLike = ...,
        stp: SelfTradePreventionLike | None = None,
        client_order_id: str | None = None,
    ) -> None: ...
    def place_market(
        self,
        order_id: OrderId,
        user_id: UserId,
        side: SideLike,
        quantity: int,
        protection_price_cents: int | None = None,
        stp: SelfTradePreventionLike | None = None,
        client_order_id: str | None = None,
    ) -> None: ...
    def cancel(self, order_id: OrderId, user_id: UserId) -> None: ...
    def cancel_by_client_order_id(self, user_id: UserId, client_order_id: str) -> None: ...
    def take_out(self, order: Order, reason: CancelReasonLike) -> None: ...
    def take_events(self) -> list[Event]: ...
    def restore(self, order: Order, /) -> None: ...
    @property
    def best_bid(self) -> int | None: ...
    @property
    def best_ask(self) -> int | None: ...
    def depth(self, levels: int = 10) -> Depth: ...
    def orders(self, side: SideLike | None = None) -> Iterator[Order]: ...
    def order(self, order_id: OrderId, /) -> Order | None: ...
    def __len__(self) -> int: ...
    @property
    def finished(self) -> dict[OrderId, RejectCode]: ...
    @property
    def _finished_older(self) -> dict[OrderId, RejectCode]: ...
    @property
    def _finished_memory(self) -> int: ...
    @property
    def open_orders(self) -> dict[OrderId, Order]: ...
    @property
    def by_client_order_id(self) -> dict[tuple[UserId, str], Order]: ...
    @property
    def bids(self) -> BookSide: ...
    @property
    def asks(self) -> BookSide: ...
