"""Shared set-up of the browser tests: Debian's Chromium through Playwright, a live uvicorn server.

The tests skip, with the reason, where `/usr/bin/chromium` or the `playwright` package is missing,
and fail instead when `KYRIOS_REQUIRE_SERVICES` is set (CI), as the suite treats missing databases.
They run on the SQLite leg only: the page adds no database behaviour of its own (the REST API it
calls is tested on every database), and a browser per leg would triple their time. Set
`KYRIOS_BROWSER_TESTS_EVERY_DATABASE=1` to run them on another database too. Screenshots go to
`KYRIOS_TEST_ARTIFACTS` (a directory) when set, else to the test's `tmp_path`.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from kyrios.web.main import KyriosApp

CHROMIUM = Path("/usr/bin/chromium")


def require_browser(database_url: str) -> None:
    """Skip (or, in CI, fail) unless Chromium and Playwright are installed; skip off the SQLite leg."""
    if not database_url.startswith("sqlite") and not os.environ.get("KYRIOS_BROWSER_TESTS_EVERY_DATABASE"):
        pytest.skip("browser tests run on the SQLite leg only (the page has no database behaviour)")
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    if importlib.util.find_spec("playwright") is None:
        missing.append("the playwright package (pip install '.[test]')")
    if missing:
        message = "browser tests need " + " and ".join(missing)
        if os.environ.get("KYRIOS_REQUIRE_SERVICES"):
            pytest.fail(message)
        pytest.skip(message)


def artifacts_dir(tmp_path: Path) -> Path:
    """Where screenshots go: `KYRIOS_TEST_ARTIFACTS` or the test's own temporary directory."""
    configured = os.environ.get("KYRIOS_TEST_ARTIFACTS")
    directory = Path(configured) if configured else tmp_path
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@asynccontextmanager
async def live_server(app: KyriosApp) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on a free local port in this event loop; yields its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:
                if task.done():
                    task.result()  # the server failed to start: raise its error
                await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """A headless Debian Chromium driven by Playwright (never a downloaded browser)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield browser
        finally:
            await browser.close()
