"""The web page's files and words as the app serves them (no browser: see test_page_trading)."""

from __future__ import annotations

import pytest

from kyrios.core.i18n import SUPPORTED_LOCALES
from kyrios.core.i18n.catalogue import translations
from kyrios.runtime import Runtime
from kyrios.web.main import create_app
from kyrios.web.pages import PAGE_TEXT
from tests.web.auth_helpers import client


async def test_the_pages_and_their_vendored_files_are_served(runtime: Runtime) -> None:
    async with client(create_app(runtime)) as http:
        for path in ("/", "/markets/ACME", "/portfolio", "/leaderboard"):
            page = await http.get(path)
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            assert "bootstrap-5.3.8/bootstrap.min.css" in page.text
        chart = await http.get(
            "/static/vendor/lightweight-charts-5.2.1/lightweight-charts.standalone.production.mjs"
        )
        assert chart.status_code == 200 and "javascript" in chart.headers["content-type"]
        assert "createChart" in chart.text
        for licence in (
            "bootstrap-5.3.8/LICENSE",
            "lightweight-charts-5.2.1/LICENSE",
            "lightweight-charts-5.2.1/NOTICE",
        ):
            assert (await http.get(f"/static/vendor/{licence}")).status_code == 200
        for charted in ("/markets/ACME", "/portfolio"):
            assert "https://www.tradingview.com/" in (await http.get(charted)).text  # the licence's link
        assert (await http.get("/static/js/feed.js")).status_code == 200
        assert "/docs" not in [
            route for route in (await http.get("/openapi.json")).json()["paths"] if route == "/"
        ]


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
async def test_the_page_words_come_from_the_catalogue(runtime: Runtime, locale: str) -> None:
    async with client(create_app(runtime)) as http:
        words = (await http.get(f"/ui/text/{locale}")).json()
    assert set(words) == set(PAGE_TEXT)
    assert words == {key: translations(locale).gettext(message) for key, message in PAGE_TEXT.items()}
    if locale == "ja":
        assert words["order_book"] == "板" and words["place_order"] == "注文する"
        assert all(words[key] != PAGE_TEXT[key] for key in ("sign_in", "buy", "sell", "cost"))


async def test_an_unknown_language_gets_english(runtime: Runtime) -> None:
    async with client(create_app(runtime)) as http:
        assert (await http.get("/ui/text/xx")).json()["sign_in"] == "Sign in"
