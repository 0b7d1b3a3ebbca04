"""Shared fixtures: a migrated database (SQLite by default, or KYRIOS_TEST_DATABASE_URL), a runtime."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kyrios.core.clock import FrozenClock
from kyrios.core.db import Database, normalise_url
from kyrios.core.migrate import upgrade
from kyrios.core.rng import RandomSource
from kyrios.runtime import Runtime, build_runtime
from kyrios.settings import Settings
from kyrios.testing.database import drop_everything, test_database_url, wipe
from kyrios.testing.interactions import InteractionSigner
from kyrios.testing.services import check as check_service

# 2026-03-01 12:00 UTC = 21:00 in Tokyo, the default guild time zone.
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated from scratch once per test session."""
    url = test_database_url(str(tmp_path_factory.mktemp("db") / "kyrios-test.db"))

    async def prepare() -> None:
        db = Database(url)
        try:
            await drop_everything(db)
            await upgrade(db)
        finally:
            await db.dispose()

    problem = asyncio.run(check_service(url))
    if problem is not None:
        message = f"test database {url} is unreachable: {problem}"
        if os.environ.get("KYRIOS_REQUIRE_SERVICES"):
            pytest.exit(message, returncode=3)
        pytest.skip(message)
    asyncio.run(prepare())
    yield url


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A reachable Redis (KYRIOS_TEST_REDIS_URL); skipped without one unless CI requires it."""
    url = os.environ.get("KYRIOS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    problem = asyncio.run(check_service(url))
    if problem is not None:
        message = f"Redis at {url} is unreachable: {problem}"
        if os.environ.get("KYRIOS_REQUIRE_SERVICES"):
            pytest.exit(message, returncode=3)
        pytest.skip(message)
    return url


@pytest.fixture(scope="session")
def signer() -> InteractionSigner:
    """A real Ed25519 key standing in for Discord's."""
    return InteractionSigner()


@pytest.fixture
def clock() -> FrozenClock:
    """Time frozen at START."""
    return FrozenClock(START)


@pytest.fixture
def settings(database_url: str, signer: InteractionSigner, tmp_path: Path) -> Settings:
    """Settings pointing at the test database and the test signing key."""
    return Settings(
        database_url=database_url,
        discord_public_key=signer.public_key_hex,
        discord_application_id=999,
        jwt_secret_file=tmp_path / "jwt-secret",  # local mode makes one up at first use: not in the checkout
        _env_file=None,
    )


@pytest.fixture
async def runtime(settings: Settings, clock: FrozenClock) -> AsyncIterator[Runtime]:
    """A runtime on a clean database."""
    rt = build_runtime(settings, clock=clock, rng=RandomSource(20260301))
    await wipe(rt.db)
    try:
        yield rt
    finally:
        await rt.aclose()


@pytest.fixture
def dialect(database_url: str) -> str:
    """sqlite, mysql or postgresql."""
    return normalise_url(database_url).get_backend_name()


def pytest_report_header() -> str:
    """Say which database the suite runs on."""
    return f"kyrios test database: {os.environ.get('KYRIOS_TEST_DATABASE_URL') or 'SQLite (temporary file)'}"
