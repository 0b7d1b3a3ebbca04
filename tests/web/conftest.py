"""Fixtures shared by the web tests that need a live market."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kyrios.core.clock import FrozenClock
from kyrios.exchange.client import InProcessClient
from kyrios.exchange.rules import ExchangeRules
from kyrios.runtime import Runtime
from tests.exchange.conftest import Market, open_market


@pytest.fixture
async def market(runtime: Runtime, clock: FrozenClock) -> AsyncIterator[Market]:
    """ACME listed, three funded players, the exchange running in this process as the runtime's."""
    rules = ExchangeRules(max_short_quantity=100, orders_per_second=1_000_000, order_burst=1_000_000)
    opened = await open_market(runtime, clock, rules)
    runtime.exchange = InProcessClient(opened.exchange)
    try:
        yield opened
    finally:
        await opened.exchange.aclose()
