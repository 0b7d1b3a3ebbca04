"""The private trading API under `/api/v1`: the caller's orders, trades, portfolio and cash ledger.

Every route acts for the caller's own exchange account (`ApiUser.account_id`); writes need the
`trade` scope, reads `read`. All exchange work goes through `runtime.exchange`. Another user's
order is answered exactly like a missing one (404), so ids reveal nothing. A refused order is
answered with its error and also kept as a REJECTED order whose `reject_reason` code the order
reads put into words in the caller's language (`reject_message`); its `client_order_id` is spent,
so a retry gets that REJECTED order back with `duplicate: true`, as a retry of an accepted one does.
Each call spends a token of the caller's REST bucket (`ratelimit`); a new order is also held to
the exchange's own order rate and to `MAX_OPEN_ORDERS_PER_SYMBOL` live orders per symbol.

The module has no `from __future__ import annotations`: FastAPI must see the dependency aliases
built inside `build_router` as objects, not as names it would look up in the module.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Response
from pydantic import BaseModel

from kyrios.core.errors import Forbidden, InvalidInput, NotFound
from kyrios.core.i18n import N_, DoorStyle, Translator
from kyrios.exchange.history import MAX_PAGE, ExecutionView, LedgerEntryView, Page
from kyrios.exchange.models import OrderStatus
from kyrios.exchange.net_worth import HISTORY_PERIODS, Period
from kyrios.exchange.refusals import Uncancelable, cancel_refusal, reject_reason_text
from kyrios.exchange.schemas import OrderRequest, OrderView, PortfolioView
from kyrios.ops import logs
from kyrios.runtime import Runtime
from kyrios.web.api import net_worth as net_worth_api
from kyrios.web.api.caps import OpenOrderCap
from kyrios.web.api.params import MAX_ID
from kyrios.web.api.ratelimit import limiter_for
from kyrios.web.auth.routes import require_scope
from kyrios.web.deps import ApiUser, LocaleDep
from kyrios.web.errors import error_responses

log = logging.getLogger(__name__)

MAX_OPEN_ORDERS_PER_SYMBOL = 50
NO_ACCOUNT = N_("This sign-in has no exchange account.")
NO_SYMBOL = N_("There is no symbol {symbol}.")
NAME_WHAT_TO_CANCEL = N_("Name the orders to cancel: an order id, a client_order_id or a symbol.")

Before = Annotated[
    int | None,
    Query(ge=1, le=MAX_ID, description="Only rows with a smaller id (the previous page's next_before)."),
]
OrderId = Annotated[int, Path(ge=1, le=MAX_ID, description="The order's id.")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Most rows in the page.")]


class CanceledOrders(BaseModel):
    """The orders a cancel-all canceled (ones that finished meanwhile are left out)."""

    canceled: list[OrderView]


def build_router(runtime: Runtime) -> APIRouter:
    """The trading routes of one runtime, with its REST rate limiter (in process, or Redis) and cap."""
    limiter = limiter_for(runtime.clock, runtime.settings.redis_url)
    cap = OpenOrderCap(MAX_OPEN_ORDERS_PER_SYMBOL)

    async def account_of(user: ApiUser) -> int:
        await limiter.check(user)
        if user.account_id is None:
            raise Forbidden(NO_ACCOUNT)
        return user.account_id

    async def trader(user: Annotated[ApiUser, Depends(require_scope("trade"))]) -> int:
        """The caller's exchange account, for a write."""
        return await account_of(user)

    async def reader(user: Annotated[ApiUser, Depends(require_scope("read"))]) -> int:
        """The caller's exchange account, for a read."""
        return await account_of(user)

    Trader = Annotated[int, Depends(trader)]
    Reader = Annotated[int, Depends(reader)]

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await limiter.aclose()

    router = APIRouter(
        prefix="/api/v1",
        tags=["trading"],
        lifespan=lifespan,
        responses=error_responses(400, 401, 403, 404, 409, 422, 429, 503),
    )

    @router.post(
        "/orders",
        status_code=201,
        responses={200: {"model": OrderView, "description": "A repeated client_order_id: the original."}},
    )
    async def place_order(
        request: OrderRequest, account: Trader, response: Response, locale: LocaleDep
    ) -> OrderView:
        """Place a limit or market order (`price_cents` in the exchange's unit, a multiple of the
        symbol's tick). A repeated `client_order_id` returns the original order with `duplicate: true`
        (a refused original is a REJECTED order). A refusal is an error, and the order is kept as
        REJECTED with its reason (not for an unknown symbol, or a refusal of the request rate or the
        open-order cap)."""
        exchange = runtime.exchange

        async def count_live() -> int:
            return await exchange.live_order_count(account, request.symbol)

        ids = {"account_id": account, "symbol": request.symbol, "client_order_id": request.client_order_id}
        try:
            with logs.bound(**ids):  # this order's log lines say whose and which it is
                retry = request.client_order_id is not None and await exchange.has_client_order(
                    account, request.client_order_id
                )
                if retry:
                    order = await exchange.submit_order(account, request)  # a retry: the original comes back
                else:
                    async with cap.placing(account, request.symbol, count_live):
                        order = await exchange.submit_order(account, request)
        except NotFound:
            raise InvalidInput(NO_SYMBOL, symbol=request.symbol) from None
        log.debug("order %s is %s", order.id, order.status, extra={**ids, "order_id": order.id})
        if order.duplicate:
            response.status_code = 200
        return readable(order, locale)

    @router.get("/orders")
    async def list_orders(
        account: Reader,
        locale: LocaleDep,
        symbol: str | None = None,
        status: OrderStatus | None = None,
        open: Annotated[bool, Query(description="Only OPEN and PARTIALLY_FILLED orders.")] = False,
        client_order_id: str | None = None,
        before: Before = None,
        limit: Limit = 100,
    ) -> Page[OrderView]:
        """The caller's orders, newest first, a page at a time (REJECTED ones say why in
        `reject_message`)."""
        page = await runtime.exchange.order_page(
            account,
            symbol=symbol,
            status=status,
            open_only=open,
            client_order_id=client_order_id,
            before=before,
            limit=limit,
        )
        return Page[OrderView](
            items=[readable(order, locale) for order in page.items], next_before=page.next_before
        )

    @router.get("/orders/{order_id}")
    async def get_order(order_id: OrderId, account: Reader, locale: LocaleDep) -> OrderView:
        """One of the caller's orders (404 for another user's)."""
        order = await runtime.exchange.own_order(account, order_id)
        if order is None:
            raise cancel_refusal(Uncancelable.UNKNOWN, order_id=order_id)
        return readable(order, locale)

    @router.delete("/orders/{order_id}")
    async def cancel_order(order_id: OrderId, account: Trader) -> OrderView:
        """Cancel one of the caller's open orders (404 for another user's, 409 once finished)."""
        with logs.bound(account_id=account, order_id=order_id):
            if await runtime.exchange.own_order(account, order_id) is None:
                raise cancel_refusal(Uncancelable.UNKNOWN, order_id=order_id)
            return await runtime.exchange.cancel_order(account, order_id=order_id)

    @router.delete(
        "/orders",
        response_model=None,
        responses={
            200: {"model": OrderView | CanceledOrders, "description": "By client_order_id: the order."}
        },
    )
    async def cancel_orders(
        account: Trader, client_order_id: str | None = None, symbol: str | None = None
    ) -> OrderView | CanceledOrders:
        """Cancel the caller's order with `client_order_id`, or every open order in `symbol`."""
        if client_order_id is not None and symbol is None:
            return await runtime.exchange.cancel_order(account, client_order_id=client_order_id)
        if symbol is not None and client_order_id is None:
            return CanceledOrders(canceled=await runtime.exchange.cancel_all(account, symbol))
        raise InvalidInput(NAME_WHAT_TO_CANCEL)

    @router.get("/executions")
    async def executions(
        account: Reader, symbol: str | None = None, before: Before = None, limit: Limit = 100
    ) -> Page[ExecutionView]:
        """The caller's trades, newest first, each from the caller's side."""
        return await runtime.exchange.execution_page(account, symbol=symbol, before=before, limit=limit)

    @router.get("/portfolio")
    async def portfolio(account: Reader) -> PortfolioView:
        """Cash, reserved cash, positions with average price, market value and P&L at the last price."""
        return await runtime.exchange.portfolio(account)

    @router.get("/me/net-worth", responses=net_worth_api.ERRORS)
    async def my_net_worth(
        account: Reader,
        period: Annotated[str, net_worth_api.period_query(HISTORY_PERIODS)] = Period.DAY.value,
    ) -> net_worth_api.NetWorthHistory:
        """The caller's net worth over the last day, week, month or all time, for a chart: the
        value at the start, the recorded points (thinned to one a minute, a quarter hour, an hour or a
        day) and now; with the period's trading P&L (deposits and withdrawals left out)."""
        return await net_worth_api.history(runtime, account, period)

    @router.get("/cash/ledger")
    async def cash_ledger(
        account: Reader, before: Before = None, limit: Limit = 100
    ) -> Page[LedgerEntryView]:
        """Every change of the caller's cash, newest first."""
        return await runtime.exchange.ledger_page(account, before=before, limit=limit)

    return router


def readable(order: OrderView, locale: str) -> OrderView:
    """The order with its `reject_reason` in words in `locale` (unchanged unless REJECTED)."""
    if order.reject_reason is None:
        return order
    message, values = reject_reason_text(order.reject_reason)
    text = Translator(locale, DoorStyle.PLAIN).t(message, **values)
    return order.model_copy(update={"reject_message": text})
