"""The cookies of a browser session: the access token, the refresh token, the CSRF token.

The access and refresh cookies are HttpOnly and SameSite=Lax, Secure when the request came over
HTTPS; the refresh cookie is only sent to `/api/v1/auth`. The CSRF cookie is readable by the page
(double submit: the page echoes it in `X-CSRF-Token`).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

ACCESS_COOKIE = "kyrios_access"
REFRESH_COOKIE = "kyrios_refresh"
CSRF_COOKIE = "kyrios_csrf"
CSRF_HEADER = "X-CSRF-Token"
REFRESH_PATH = "/api/v1/auth"


def set_session_cookies(
    request: Request,
    response: Response,
    *,
    access_token: str,
    access_seconds: int,
    refresh_token: str,
    refresh_seconds: int,
    csrf_token: str,
) -> None:
    """Give the browser a new session."""
    secure = request.url.scheme == "https"
    response.set_cookie(
        ACCESS_COOKIE, access_token, max_age=access_seconds, httponly=True, samesite="lax", secure=secure
    )
    response.set_cookie(
        REFRESH_COOKIE,
        refresh_token,
        max_age=refresh_seconds,
        path=REFRESH_PATH,
        httponly=True,
        samesite="lax",
        secure=secure,
    )
    response.set_cookie(CSRF_COOKIE, csrf_token, max_age=refresh_seconds, samesite="lax", secure=secure)


def clear_session_cookies(request: Request, response: Response) -> None:
    """Forget the browser's session."""
    secure = request.url.scheme == "https"
    response.delete_cookie(ACCESS_COOKIE, httponly=True, samesite="lax", secure=secure)
    response.delete_cookie(REFRESH_COOKIE, path=REFRESH_PATH, httponly=True, samesite="lax", secure=secure)
    response.delete_cookie(CSRF_COOKIE, samesite="lax", secure=secure)
