"""An obviously-correct order book for differential tests: one list, scanned linearly.

It produces the engine's events minus `seq` and minus `BookLevelChanged` (the tests check level
changes separately), as plain tuples.
"""

from __future__ import annotations

from dataclasses import dataclass

from kyrios.exchange.engine import CancelReason, RejectCode, SelfTradePrevention, Side, TimeInForce

RefEvent = tuple[object, ...]


@dataclass
class RefOrder:
    """A resting order of the reference book."""

    order_id: int
    user_id: int
    side: Side
    price_cents: int
    quantity: int
    remaining: int
    arrival: int
    client_order_id: str | None


class ReferenceBook:
    """A list of resting orders; matching picks the best one with min() each time."""

    def __init__(self, tick_size_cents: int, max_quantity: int) -> None:
        self.tick_size_cents = tick_size_cents
        self.max_quantity = max_quantity
        self.resting: list[RefOrder] = []
        self.finished: dict[int, RejectCode] = {}
        self.arrivals = 0

    def place(
        self,
        order_id: int,
        user_id: int,
        side: Side,
        quantity: int,
        price_cents: int | None,
        *,
        market: bool,
        time_in_force: TimeInForce,
        stp: SelfTradePrevention,
        client_order_id: str | None,
    ) -> list[RefEvent]:
        """Validate, match, then rest or cancel, like the engine."""
        code = self._problem(order_id, user_id, quantity, price_cents, market, client_order_id)
        if code is not None:
            return [("rejected", order_id, user_id, code)]
        events: list[RefEvent] = [
            ("accepted", order_id, user_id, side, "market" if market else "limit", price_cents, quantity)
        ]
        self.arrivals += 1
        taker = RefOrder(
            order_id, user_id, side, price_cents or 0, quantity, quantity, self.arrivals, client_order_id
        )
        canceled_by_stp = False
        while taker.remaining:
            maker = self._best_maker(taker, price_cents)
            if maker is None:
                break
            if maker.user_id == user_id and stp is not SelfTradePrevention.NONE:
                canceled_by_stp = self._self_trade(maker, taker, stp, events)
                if canceled_by_stp:
                    break
                continue
            quantity_traded = min(maker.remaining, taker.remaining)
            maker.remaining -= quantity_traded
            taker.remaining -= quantity_traded
            events.append(
                (
                    "trade",
                    maker.order_id,
                    order_id,
                    maker.user_id,
                    user_id,
                    side,
                    maker.price_cents,
                    quantity_traded,
                )
            )
            if not maker.remaining:
                self.resting.remove(maker)
                self.finished[maker.order_id] = RejectCode.ORDER_ALREADY_FILLED
        if canceled_by_stp:
            self.finished[order_id] = RejectCode.ORDER_ALREADY_CANCELED
        elif not taker.remaining:
            self.finished[order_id] = RejectCode.ORDER_ALREADY_FILLED
        elif market or time_in_force is TimeInForce.IOC:
            reason = CancelReason.NO_LIQUIDITY if market else CancelReason.IMMEDIATE_OR_CANCEL
            events.append(("canceled", order_id, user_id, reason, taker.remaining))
            self.finished[order_id] = RejectCode.ORDER_ALREADY_CANCELED
        else:
            self.resting.append(taker)
        return events

    def cancel(self, order_id: int, user_id: int) -> list[RefEvent]:
        """Cancel by order id on behalf of `user_id`."""
        for order in self.resting:
            if order.order_id == order_id:
                if order.user_id != user_id:
                    return [("cancel_rejected", order_id, user_id, RejectCode.NOT_ORDER_OWNER)]
                return self._cancel(order)
        code = self.finished.get(order_id, RejectCode.UNKNOWN_ORDER)
        return [("cancel_rejected", order_id, user_id, code)]

    def cancel_by_client_order_id(self, user_id: int, client_order_id: str) -> list[RefEvent]:
        """Cancel the user's open order with this client order id."""
        for order in self.resting:
            if order.user_id == user_id and order.client_order_id == client_order_id:
                return self._cancel(order)
        return [("cancel_rejected", None, user_id, RejectCode.UNKNOWN_ORDER)]

    def depth(self, side: Side) -> dict[int, int]:
        """Total open quantity per price on one side."""
        totals: dict[int, int] = {}
        for order in self.resting:
            if order.side is side:
                totals[order.price_cents] = totals.get(order.price_cents, 0) + order.remaining
        return totals

    def priority_order(self) -> list[tuple[int, int, Side, int, int]]:
        """Resting orders as the engine lists them: bids best first, then asks, FIFO within a price."""
        bids = sorted(
            (o for o in self.resting if o.side is Side.BUY), key=lambda o: (-o.price_cents, o.arrival)
        )
        asks = sorted(
            (o for o in self.resting if o.side is Side.SELL), key=lambda o: (o.price_cents, o.arrival)
        )
        return [(o.order_id, o.user_id, o.side, o.price_cents, o.remaining) for o in bids + asks]

    def _cancel(self, order: RefOrder) -> list[RefEvent]:
        self.resting.remove(order)
        self.finished[order.order_id] = RejectCode.ORDER_ALREADY_CANCELED
        return [("canceled", order.order_id, order.user_id, CancelReason.REQUESTED, order.remaining)]

    def _problem(
        self,
        order_id: int,
        user_id: int,
        quantity: int,
        price_cents: int | None,
        market: bool,
        client_order_id: str | None,
    ) -> RejectCode | None:
        if quantity <= 0:
            return RejectCode.INVALID_QUANTITY
        if quantity > self.max_quantity:
            return RejectCode.QUANTITY_TOO_LARGE
        if price_cents is None and not market:
            return RejectCode.INVALID_PRICE
        if price_cents is not None and price_cents <= 0:
            return RejectCode.INVALID_PRICE
        if price_cents is not None and price_cents % self.tick_size_cents:
            return RejectCode.PRICE_OFF_TICK
        if order_id in self.finished or any(o.order_id == order_id for o in self.resting):
            return RejectCode.DUPLICATE_ORDER_ID
        if client_order_id is not None and any(
            o.user_id == user_id and o.client_order_id == client_order_id for o in self.resting
        ):
            return RejectCode.DUPLICATE_CLIENT_ORDER_ID
        return None

    def _best_maker(self, taker: RefOrder, limit_price: int | None) -> RefOrder | None:
        if taker.side is Side.BUY:
            asks = [o for o in self.resting if o.side is Side.SELL]
            asks = [o for o in asks if limit_price is None or o.price_cents <= limit_price]
            return min(asks, key=lambda o: (o.price_cents, o.arrival), default=None)
        bids = [o for o in self.resting if o.side is Side.BUY]
        bids = [o for o in bids if limit_price is None or o.price_cents >= limit_price]
        return min(bids, key=lambda o: (-o.price_cents, o.arrival), default=None)

    def _self_trade(
        self, maker: RefOrder, taker: RefOrder, stp: SelfTradePrevention, events: list[RefEvent]
    ) -> bool:
        """Apply the taker's STP mode; True if the taker is canceled."""
        stp_reason = CancelReason.SELF_TRADE
        if stp is SelfTradePrevention.DECREMENT:
            overlap = min(maker.remaining, taker.remaining)
            for order in (maker, taker):
                order.remaining -= overlap
                if order.remaining:
                    events.append(("reduced", order.order_id, order.user_id, overlap, order.remaining))
                else:
                    events.append(("canceled", order.order_id, order.user_id, stp_reason, overlap))
            if not maker.remaining:
                self.resting.remove(maker)
                self.finished[maker.order_id] = RejectCode.ORDER_ALREADY_CANCELED
            return not taker.remaining
        if stp in (SelfTradePrevention.CANCEL_OLDEST, SelfTradePrevention.CANCEL_BOTH):
            events.append(("canceled", maker.order_id, maker.user_id, stp_reason, maker.remaining))
            self.resting.remove(maker)
            self.finished[maker.order_id] = RejectCode.ORDER_ALREADY_CANCELED
            if stp is SelfTradePrevention.CANCEL_OLDEST:
                return False
        events.append(("canceled", taker.order_id, taker.user_id, stp_reason, taker.remaining))
        taker.remaining = 0
        return True
