"""The commands a symbol's sequencer takes, and how their callers are answered."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from kyrios.core.errors import DomainError
from kyrios.exchange.engine.risk import MarginState
from kyrios.exchange.live import LiveOrder
from kyrios.exchange.schemas import OrderRequest, OrderView


@dataclass(slots=True)
class SubmitCommand:
    """A new order on its way to acknowledgement."""

    user_id: int
    request: OrderRequest
    future: asyncio.Future[OrderView] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    liquidating: MarginState | None = None
    """Set on the exchange's own buy-back of a short below maintenance (nobody waits for it)."""


@dataclass(slots=True)
class CancelCommand:
    """A cancel of an acknowledged order of this symbol."""

    user_id: int
    order_id: int
    future: asyncio.Future[OrderView] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


@dataclass(slots=True)
class FlushCommand:
    """Answered once every command queued before it is processed and persisted."""

    future: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


Command = SubmitCommand | CancelCommand | FlushCommand


def succeed(future: asyncio.Future[OrderView], view: OrderView) -> None:
    """Answer a caller with its order (unless it stopped waiting)."""
    if not future.done():
        future.set_result(view)


def fail(future: asyncio.Future[OrderView], error: BaseException) -> None:
    """Answer a caller with an error (unless it stopped waiting)."""
    if not future.done():
        future.set_exception(error)


def fail_all(commands: list[Command], error: BaseException) -> None:
    """Refuse every command of a batch whose transaction failed (flushes are simply released)."""
    for command in commands:
        if isinstance(command, FlushCommand):
            release([command.future])
        else:
            fail(command.future, error)


def release(futures: list[asyncio.Future[None]]) -> None:
    """Let flush callers go on."""
    for future in futures:
        if not future.done():
            future.set_result(None)


def answer(command: CancelCommand, outcome: LiveOrder | DomainError, symbol: str) -> None:
    """Answer a cancel with the canceled order or the reason it could not be canceled."""
    if isinstance(outcome, DomainError):
        fail(command.future, outcome)
    else:
        succeed(command.future, outcome.view(symbol))
