"""Schemathesis's stateless checks over every `/api/v1` operation of the running app.

The operations are read from the served `/openapi.json`, so a route added later is checked
without being named here. Each runs with generated valid and invalid input, once as an exchange
admin signed in with a bearer JWT (no cookies, so no CSRF token is needed) and once with a BOT
account's API key; every answer must be no 5xx, have a documented status and content type, and
match its documented schema. Failures of all operations are collected, then reported together.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Err, Ok
from schemathesis.generation import GenerationMode
from schemathesis.generation.case import Case
from schemathesis.schemas import APIOperation
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.clock import SystemClock
from kyrios.core.rng import RandomSource
from kyrios.exchange import accounts
from kyrios.exchange.engine import Side
from kyrios.exchange.models import Role
from kyrios.exchange.owner import ExchangeLease
from kyrios.exchange.schemas import AssetListing, OrderRequest
from kyrios.runtime import Runtime, build_runtime
from kyrios.settings import Settings
from kyrios.testing.database import wipe
from kyrios.web.auth import api_keys
from kyrios.web.main import create_app
from tests.web.auth_helpers import SECRET, tokens_for
from tests.web.ws_helpers import served

EXAMPLES = int(os.environ.get("KYRIOS_CONFORMANCE_EXAMPLES", "8"))
"""Generated cases per operation and credential: enough to reach odd input, a minute in all."""
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
ADMIN_DISCORD_ID = 4242424242424244


@dataclass(frozen=True)
class Credentials:
    name: str
    headers: dict[str, str]


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """A runtime running the exchange on the test database, on the real clock (rate limits refill)."""
    secrets = {"jwt_secret": SecretStr(SECRET), "discord_client_secret": SecretStr("client-secret")}
    rt = build_runtime(
        settings.model_copy(update=secrets),  # Discord sign-in configured: login answers its redirect
        clock=SystemClock(),
        rng=RandomSource(3),
    )
    await wipe(rt.db)
    try:
        await rt.start()
        lease = ExchangeLease(rt.db, program="openapi conformance")
        await lease.acquire()
        await rt.run_exchange(lease)
        yield rt
    finally:
        await rt.aclose()


async def credentials(runtime: Runtime) -> list[Credentials]:
    """An admin's bearer JWT and a BOT's API key, both with funded accounts trading ACME."""
    exchange = runtime.exchange
    await exchange.create_asset(
        AssetListing(symbol="ACME", name="Acme", supply=10_000, price_cents=10_000, tick_size_cents=5)
    )
    admin = await exchange.create_user("root", role=Role.ADMIN, discord_id=ADMIN_DISCORD_ID)
    bot = await exchange.create_user("maker-1", role=Role.BOT)
    for account in (admin.id, bot.id):
        await exchange.deposit(account, 10**9)
    await exchange.submit_order(
        bot.id,
        OrderRequest(symbol="ACME", side=Side.SELL, quantity=5, price_cents=10_100, client_order_id="a"),
    )
    token = tokens_for(runtime).issue(discord_id=ADMIN_DISCORD_ID, name="root", account_id=admin.id)

    async def make_key(session: AsyncSession) -> str:
        user = await accounts.resolve_user(session, bot.username)
        new = await api_keys.create_key(
            session,
            user,
            scopes=list(api_keys.SCOPES),
            label="conformance",
            created_by=None,
            now=runtime.clock.now(),
        )
        return new.key

    key = await runtime.db.run(make_key)
    return [
        Credentials("admin JWT", {"Authorization": f"Bearer {token}"}),
        Credentials("BOT API key", {"Authorization": f"Bearer {key}"}),
    ]


def exercise(operation: APIOperation[Any, Any, Any, Any], base_url: str, who: Credentials) -> str | None:
    """Run the operation's generated cases; the first failure's report, or None."""
    session = requests.Session()
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # bearer only: no cookies, no CSRF
    strategy = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Case[Any]) -> None:
        response = case.call(
            base_url=base_url, session=session, headers=who.headers, allow_redirects=False, timeout=30
        )
        case.validate_response(response, checks=CHECKS)

    try:
        run()
    except (AssertionError, FailureGroup) as failure:
        return f"{operation.label} as {who.name}:\n{failure}"
    finally:
        session.close()
    return None


def exercise_all(base_url: str, everyone: list[Credentials]) -> tuple[int, list[str]]:
    """Every `/api/v1` operation of the served schema with every credential: (operations, failures)."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    results = list(schema.get_all_operations())
    failures = [
        f"an operation the schema cannot describe: {result.err()}"
        for result in results
        if isinstance(result, Err)
    ]
    operations = [
        result.ok()
        for result in results
        if isinstance(result, Ok) and result.ok().path.startswith("/api/v1/")
    ]
    failures += [
        report
        for operation in operations
        for who in everyone
        if (report := exercise(operation, base_url, who)) is not None
    ]
    return len(operations), failures


async def test_every_api_operation_conforms_to_its_schema(runtime: Runtime) -> None:
    everyone = await credentials(runtime)
    async with served(create_app(runtime)) as url:
        count, failures = await asyncio.to_thread(exercise_all, url.replace("ws://", "http://"), everyone)
    assert count >= 20  # the schema really listed the API
    assert not failures, "\n\n".join(failures)
