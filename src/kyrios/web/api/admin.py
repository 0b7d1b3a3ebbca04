"""The exchange's admin API, `/api/v1/admin`: listings, halts, cash in and out, and the rules.

Every route takes an `ExchangeAdmin` caller: an ADMIN exchange account signed in with a session
cookie or a bearer JWT, or an ADMIN account's API key (scope `admin`, which no BOT key can carry;
`auth.api_keys`), for scripts such as `kyrios bots` funding its accounts. A player or a bot gets
403 (`forbidden`) in the one error shape. Cookie writes need the CSRF token like every other
private route (the authenticator checks it).

A thin door over `runtime.exchange` (`ExchangeClient`): each write is one lease-fenced
transaction there, so a refusal (unknown symbol or account, a bad amount, more than the free cash,
a rule out of bounds) changes nothing. A process that does not run the exchange answers 503.
The rule models are built from `rules.TUNABLE`, so a rule added there is documented here too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, get_type_hints

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field, create_model

from kyrios.core.errors import NotFound
from kyrios.exchange.models import AssetStatus, Role
from kyrios.exchange.rules import TUNABLE, ExchangeRules
from kyrios.exchange.schemas import AssetListing, AssetView, UserView
from kyrios.web.api.params import MAX_ID
from kyrios.web.auth.routes import ExchangeAdmin
from kyrios.web.deps import RuntimeDep
from kyrios.web.errors import error_responses

DETAIL_LENGTH = 200
"""The ledger's `detail` column."""
ERRORS = error_responses(400, 401, 403, 404, 409, 422, 503)
Symbol = Annotated[str, Path(max_length=16, description="The listed symbol.")]
AccountId = Annotated[int, Path(ge=1, le=MAX_ID, description="The exchange account (`exchange_user.id`).")]


class NewAccount(BaseModel):
    """An exchange account to open (a BOT by default; a person's account opens at their sign-in)."""

    username: str = Field(min_length=1, max_length=64)
    role: Role = Role.BOT


class CashMove(BaseModel):
    """Game cash to give or take, in cents; `detail` goes into the ledger row with the admin's name."""

    model_config = ConfigDict(extra="forbid")

    amount_cents: int = Field(description="A positive whole number of cents.")
    detail: str = Field(default="", max_length=150)


class CashMoved(BaseModel):
    """A deposit or withdrawal as recorded: the ledger change and the account's free cash after it."""

    account_id: int
    delta_cents: int
    cash_cents: int
    detail: str


_RULE_TYPES = get_type_hints(ExchangeRules)
if TYPE_CHECKING:
    RulesView = BaseModel
    RulesChange = BaseModel
else:
    RulesView = create_model(
        "RulesView",
        __doc__="The rules in force (the defaults where an admin set none).",
        **{
            name: (_RULE_TYPES[name], Field(description=meaning))
            for name, (_low, _high, meaning) in TUNABLE.items()
        },
    )
    RulesChange = create_model(
        "RulesChange",
        __doc__="The rules to change (at least one); the others keep their values.",
        __config__=ConfigDict(extra="forbid"),
        **{
            name: (_RULE_TYPES[name] | None, Field(default=None, description=f"{meaning} ({low:g}–{high:g})"))
            for name, (low, high, meaning) in TUNABLE.items()
        },
    )


def rules_view(rules: ExchangeRules) -> BaseModel:
    """The admin's view of `rules`: the tunable ones."""
    return RulesView(**{name: getattr(rules, name) for name in TUNABLE})


router = APIRouter(prefix="/api/v1/admin", tags=["admin"], responses=ERRORS)


@router.get("/assets")
async def list_assets(runtime: RuntimeDep, _admin: ExchangeAdmin) -> list[AssetView]:
    """Every listed symbol, halted ones included."""
    return await runtime.exchange.assets()


@router.post("/assets", status_code=201)
async def create_asset(listing: AssetListing, runtime: RuntimeDep, _admin: ExchangeAdmin) -> AssetView:
    """List a symbol: the market account holds its whole supply at `price_cents`."""
    return await runtime.exchange.create_asset(listing)


async def _set_status(runtime: RuntimeDep, symbol: str, status: AssetStatus) -> AssetView:
    await runtime.exchange.set_status(symbol, status)
    for asset in await runtime.exchange.assets():
        if asset.symbol == symbol:
            return asset
    raise NotFound("There is no symbol {symbol}.", symbol=symbol)  # delisted meanwhile


@router.post("/assets/{symbol}/halt")
async def halt(symbol: Symbol, runtime: RuntimeDep, _admin: ExchangeAdmin) -> AssetView:
    """Stop new orders in `symbol` (cancels still work); orders sent meanwhile are REJECTED."""
    return await _set_status(runtime, symbol, AssetStatus.HALTED)


@router.post("/assets/{symbol}/resume")
async def resume(symbol: Symbol, runtime: RuntimeDep, _admin: ExchangeAdmin) -> AssetView:
    """Take new orders in `symbol` again."""
    return await _set_status(runtime, symbol, AssetStatus.TRADING)


@router.get("/accounts")
async def list_accounts(runtime: RuntimeDep, _admin: ExchangeAdmin) -> list[UserView]:
    """Every exchange account with its free and reserved cash."""
    return await runtime.exchange.users()


@router.get("/accounts/{user}")
async def find_account(
    user: Annotated[str, Path(max_length=64, description="A username, or an account id.")],
    runtime: RuntimeDep,
    _admin: ExchangeAdmin,
) -> UserView:
    """One account with its cash, by username or id (404 if there is none)."""
    return await runtime.exchange.find_user(user)


@router.post("/accounts", status_code=201)
async def create_account(account: NewAccount, runtime: RuntimeDep, _admin: ExchangeAdmin) -> UserView:
    """Open an account (no Discord identity: a bot, or the market's own)."""
    return await runtime.exchange.create_user(account.username.strip(), role=account.role)


def _detail(admin: ExchangeAdmin, move: CashMove) -> str:
    """The ledger's detail: who moved the cash, and why if they said."""
    why = move.detail.strip()
    return (f"admin {admin.name}: {why}" if why else f"admin {admin.name}")[:DETAIL_LENGTH]


@router.post("/accounts/{account_id}/deposits", status_code=201)
async def deposit(
    account_id: AccountId, move: CashMove, runtime: RuntimeDep, admin: ExchangeAdmin
) -> CashMoved:
    """Give the account game cash (one ledger row, `deposit`)."""
    detail = _detail(admin, move)
    free = await runtime.exchange.deposit(account_id, move.amount_cents, detail=detail)
    return CashMoved(account_id=account_id, delta_cents=move.amount_cents, cash_cents=free, detail=detail)


@router.post("/accounts/{account_id}/withdrawals", status_code=201)
async def withdraw(
    account_id: AccountId, move: CashMove, runtime: RuntimeDep, admin: ExchangeAdmin
) -> CashMoved:
    """Take free game cash from the account (one ledger row, `withdrawal`); never its reserved cash."""
    detail = _detail(admin, move)
    free = await runtime.exchange.withdraw(account_id, move.amount_cents, detail=detail)
    return CashMoved(account_id=account_id, delta_cents=-move.amount_cents, cash_cents=free, detail=detail)


@router.get("/rules", response_model=RulesView)
async def read_rules(runtime: RuntimeDep, _admin: ExchangeAdmin) -> BaseModel:
    """The risk and pacing rules in force."""
    return rules_view(await runtime.exchange.rules())


@router.patch("/rules", response_model=RulesView)
async def change_rules(change: RulesChange, runtime: RuntimeDep, _admin: ExchangeAdmin) -> BaseModel:
    """Change some rules; every sequencer applies them from its next batch. A value out of bounds
    is refused (422) and nothing changes."""
    return rules_view(await runtime.exchange.change_rules(**change.model_dump(exclude_none=True)))
