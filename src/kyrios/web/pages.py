"""The trading web page: static HTML and ES modules from `web/static/`, and its words per language.

No build step: `/` (market list), `/markets/{symbol}` (one symbol), `/portfolio` (the signed-in
player's holdings and net-worth chart) and `/leaderboard` are plain HTML files whose modules talk
to the REST API and follow the `/ws` socket (`static/js/feed.js`); vendored Bootstrap and
Lightweight Charts are served under `/static/vendor/`. The page's words are gettext messages
(`PAGE_TEXT`, extracted with the rest) served as one JSON object per language by
`/ui/text/{locale}`, so one catalogue holds every string.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from kyrios.core.i18n import DEFAULT_LOCALE, N_, supported_locale
from kyrios.core.i18n.catalogue import translations

STATIC_DIR = Path(__file__).parent / "static"

PAGE_TEXT: dict[str, str] = {
    "title": N_("Kyrios Exchange"),
    "markets": N_("Markets"),
    "symbol": N_("Symbol"),
    "name": N_("Name"),
    "last": N_("Last"),
    "change24h": N_("24 h change"),
    "volume24h": N_("24 h volume"),
    "last24h": N_("Last 24 h"),
    "no_markets": N_("No symbols are listed yet."),
    "your_name": N_("Your name"),
    "sign_in": N_("Sign in"),
    "sign_out": N_("Sign out"),
    "signed_in_as": N_("Signed in as {name}"),
    "chart": N_("Chart"),
    "order_book": N_("Order book"),
    "price": N_("Price"),
    "quantity": N_("Quantity"),
    "spread": N_("Spread {spread}"),
    "trades": N_("Trades"),
    "time": N_("Time"),
    "new_order": N_("New order"),
    "buy": N_("Buy"),
    "sell": N_("Sell"),
    "limit": N_("Limit"),
    "market": N_("Market"),
    "cost": N_("Estimated cost {cost}"),
    "place_order": N_("Place order"),
    "sign_in_to_trade": N_("Sign in to trade."),
    "open_orders": N_("Open orders"),
    "no_open_orders": N_("No open orders."),
    "side": N_("Side"),
    "filled": N_("Filled"),
    "cancel": N_("Cancel"),
    "portfolio": N_("Portfolio"),
    "cash": N_("Cash"),
    "reserved": N_("Reserved"),
    "equity": N_("Equity"),
    "positions": N_("Positions"),
    "average_price": N_("Average price"),
    "unrealized_pnl": N_("Unrealised P&L"),
    "no_positions": N_("No positions."),
    "margin_ok": N_("Margin OK"),
    "margin_warning": N_("Margin warning"),
    "margin_restricted": N_("Below maintenance margin"),
    "margin_levels": N_("initial margin {requirement}, maintenance {maintenance}"),
    "margin_restricted_help": N_(
        "Only orders that reduce your risk are accepted until your equity is back above maintenance."
    ),
    "order_placed": N_("Order {id} placed."),
    "order_canceled": N_("Order {id} canceled."),
    "bad_quantity": N_("Enter a whole number of units above zero."),
    "bad_price": N_("Enter a price above zero in steps of {tick}."),
    "network_error": N_("The server could not be reached. Try again."),
    "unknown_symbol": N_("There is no symbol {symbol}."),
    "all_markets": N_("All markets"),
    "language": N_("Language"),
    "chart_attribution": N_("Charts by TradingView"),
    "connection_connecting": N_("Connecting…"),
    "connection_live": N_("Live"),
    "connection_reconnecting": N_("Reconnecting…"),
    "connection_polling": N_("Offline: updating every second"),
    "leaderboard": N_("Leaderboard"),
    "net_worth": N_("Net worth"),
    "net_worth_chart": N_("Net worth"),
    "net_deposits": N_("Net deposits"),
    "value": N_("Value"),
    "realized_pnl": N_("Realised P&L"),
    "sign_in_for_portfolio": N_("Sign in to see your portfolio."),
    "period_day": N_("Day"),
    "period_week": N_("Week"),
    "period_month": N_("Month"),
    "period_all": N_("All time"),
    "change_day": N_("P&L, last 24 h"),
    "change_week": N_("P&L, last 7 days"),
    "change_month": N_("P&L, last 30 days"),
    "change_all": N_("P&L, all time"),
    "rank": N_("Rank"),
    "trader": N_("Trader"),
    "change": N_("Change"),
    "change_percent": N_("Change %"),
    "no_traders": N_("Nobody trades yet."),
    "ranked_by_net_worth": N_("Ranked by net worth: cash plus positions at the last prices."),
    "ranked_by_pnl": N_("Ranked by trading P&L over the period; deposits and withdrawals are left out."),
    "wallet_title": N_("Link your wallet"),
    "wallet_intro": N_(
        "Sign this message with the wallet {address} to link it to your Discord account."
        " Signing is free and sends no transaction."
    ),
    "wallet_sign": N_("Sign with my wallet"),
    "wallet_paste": N_("Or paste a signature"),
    "wallet_submit": N_("Verify"),
    "wallet_signing": N_("Waiting for your wallet…"),
    "wallet_done": N_("Verified: {address} is now linked to your Discord account. You can close this page."),
    "wallet_no_provider": N_(
        "No {chain} wallet was found in this browser. Sign the message in your"
        " wallet app and paste the signature here or into /wallet verify."
    ),
    "wallet_rejected": N_("The wallet did not sign: {reason}"),
    "wallet_wrong_account": N_(
        "The wallet signed with {account}, not {address}. Switch to {address} and try again."
    ),
    "wallet_used": N_("This challenge was already used. Run /wallet link for a new one."),
    "wallet_expired": N_("This challenge expired. Run /wallet link for a new one."),
    "wallet_expires": N_("Expires {at}"),
}
"""The page's words by key; the ES modules look them up with `t("key", {params})`."""


def page_text(locale: str) -> dict[str, str]:
    """Every page word in `locale` (placeholders left for the page to fill)."""
    catalogue = translations(locale)
    return {key: catalogue.gettext(message) for key, message in PAGE_TEXT.items()}


def build_router() -> APIRouter:
    """The page routes: the HTML pages and the words."""
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    async def market_list() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    @router.get("/markets/{symbol}")
    async def symbol_page(symbol: str) -> FileResponse:
        return FileResponse(STATIC_DIR / "symbol.html")  # the module reads the symbol from the path

    @router.get("/portfolio")
    async def portfolio_page() -> FileResponse:
        return FileResponse(STATIC_DIR / "portfolio.html")

    @router.get("/leaderboard")
    async def leaderboard_page() -> FileResponse:
        return FileResponse(STATIC_DIR / "leaderboard.html")

    @router.get("/ui/text/{locale}")
    async def words(locale: str) -> JSONResponse:
        chosen = supported_locale(locale) or DEFAULT_LOCALE
        return JSONResponse(page_text(chosen), headers={"Cache-Control": "no-cache"})

    return router


def install_pages(app: FastAPI) -> None:
    """Mount the static files and the page routes on `app`."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(build_router())
