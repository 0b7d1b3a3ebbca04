"""Every error the web API answers, in one shape: `{"error": {"code": "…", "message": "…"}}`.

`code` is a stable machine code; `message` is written for a person, in the request's language
(`Accept-Language`). A route raises a `DomainError` (what services raise anyway) and
`STATUS_OF_KIND` picks the HTTP status. Choices worth knowing:

* `insufficient_funds` is 409: the request is well formed, but clashes with the account's current
  state (the same request succeeds once funds arrive), like any other `conflict`; 422 is kept for
  requests that can never succeed as written (`invalid`, and FastAPI's own validation errors).
* `cooldown` is 429 with `Retry-After` when the error says how long to wait: an `OnCooldown`
  raised with a `retry_after=` parameter (seconds, or a `timedelta`).
* `unavailable` is 503: the part that would do it cannot be reached from this process (e.g. the
  exchange runs in another process); retrying later, or against the right process, can succeed.
* `feature_disabled` is 403: the guild forbids it until an admin switches the feature on.
* `unauthorized` (`NotAuthenticated`, from `deps.current_user` or an authenticator) is 401 with
  `WWW-Authenticate: Bearer`.
* A `DomainError` of no known kind is 400; an `HTTPException` keeps its status (its code is the
  status's name: `not_found`, `method_not_allowed`; a body that cannot be read at all is FastAPI's
  400 `bad_request`); anything else is a 500 that says nothing about what failed (the details go
  to the log).

Routers declare the errors they answer with `error_responses(...)`, so `/openapi.json` documents
each status with the one shape (`ErrorBody`) and FastAPI's own 422 schema never appears
(`tests/web/test_openapi_conformance.py` holds every `/api/v1` answer to its documentation).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from datetime import timedelta
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from kyrios.core.errors import DomainError
from kyrios.core.i18n import N_, DoorStyle, Translator
from kyrios.slash.registry import UNEXPECTED_ERROR
from kyrios.web.locale import request_locale

log = logging.getLogger(__name__)

STATUS_OF_KIND: Mapping[str, int] = {
    "not_found": 404,
    "forbidden": 403,
    "conflict": 409,
    "invalid": 422,
    "insufficient_funds": 409,
    "cooldown": 429,
    "feature_disabled": 403,
    "unauthorized": 401,
    "unavailable": 503,
}
"""`DomainError.kind` -> HTTP status: the one table."""
OTHER_DOMAIN_ERROR = 400

NOT_SIGNED_IN = N_("Sign in to use this.")
INVALID_REQUEST = N_("The request is not valid: {problems}.")
NO_SUCH_PAGE = N_("There is nothing here.")
WRONG_METHOD = N_("This address does not accept that method.")
UNREADABLE_BODY = N_("The request body could not be read: send JSON in UTF-8.")
_STANDARD_MESSAGES = {404: NO_SUCH_PAGE, 405: WRONG_METHOD}
_FASTAPI_DETAILS = {"There was an error parsing the body": UNREADABLE_BODY}
"""FastAPI's own English details, by text, and what the answer says instead."""
_NOT_A_CODE_CHARACTER = re.compile(r"[^a-z0-9]+")


class ErrorDetail(BaseModel):
    """What went wrong: a stable machine `code` and a `message` in the request's language."""

    code: str
    message: str


class ErrorBody(BaseModel):
    """The one error shape of the web API."""

    error: ErrorDetail


ERROR_MEANINGS: Mapping[int, str] = {
    400: "The request could not be read",
    401: "Not signed in, or the credentials are not valid",
    403: "The credentials do not allow this",
    404: "There is no such thing (or it is someone else's)",
    409: "It clashes with the current state (e.g. funds, open orders, a name taken)",
    422: "The request is not valid",
    429: "Too many requests: wait the Retry-After seconds",
    503: "The part that would do it cannot be reached now",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` documenting `statuses` with the one error shape."""
    return {status: {"model": ErrorBody, "description": ERROR_MEANINGS[status]} for status in statuses}


class NotAuthenticated(DomainError):
    """The request carries no credentials, or none that are valid (401)."""

    kind = "unauthorized"


def error_body(code: str, message: str) -> dict[str, Any]:
    """The one error shape."""
    return {"error": {"code": code, "message": message}}


def _translator(request: Request) -> Translator:
    """The request's language; times as plain text (in UTC: an API caller has no guild zone)."""
    return Translator(request_locale(request), DoorStyle.PLAIN)


def retry_after_seconds(exc: DomainError) -> int | None:
    """Whole seconds to wait, when the error was raised with `retry_after=` (seconds or timedelta)."""
    value = exc.text.params.get("retry_after")
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return math.ceil(value)
    return None


async def domain_error(request: Request, exc: Exception) -> JSONResponse:
    """A `DomainError`: its kind's status, its message in the request's language."""
    assert isinstance(exc, DomainError)
    status = STATUS_OF_KIND.get(exc.kind, OTHER_DOMAIN_ERROR)
    headers: dict[str, str] = {}
    if status == 429 and (wait := retry_after_seconds(exc)) is not None:
        headers["Retry-After"] = str(wait)
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    body = error_body(exc.kind, exc.render(_translator(request)))
    return JSONResponse(body, status_code=status, headers=headers)


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's request validation: 422, each problem as `where: what`."""
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(part) for part in error.get('loc', ()))}: {error.get('msg', '')}"
        for error in exc.errors()
    )
    message = _translator(request).t(INVALID_REQUEST, problems=problems)
    return JSONResponse(error_body("invalid", message), status_code=422)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    """An `HTTPException` (raised by a route, or by routing itself: 404, 405) keeps its status."""
    assert isinstance(exc, HTTPException)
    try:
        phrase = HTTPStatus(exc.status_code).phrase
    except ValueError:
        phrase = f"HTTP {exc.status_code}"
    detail = str(exc.detail)
    if detail == phrase and exc.status_code in _STANDARD_MESSAGES:
        detail = _translator(request).t(_STANDARD_MESSAGES[exc.status_code])
    elif detail in _FASTAPI_DETAILS:
        detail = _translator(request).t(_FASTAPI_DETAILS[detail])
    code = _NOT_A_CODE_CHARACTER.sub("_", phrase.lower()).strip("_")
    return JSONResponse(error_body(code, detail), status_code=exc.status_code, headers=exc.headers)


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """Anything else: 500, logged here, nothing about it in the answer."""
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    message = _translator(request).t(UNEXPECTED_ERROR)
    return JSONResponse(error_body("internal", message), status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error of `app` in the one shape."""
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, unexpected_error)
