"""Sign in with Discord: the OAuth2 authorization-code flow (`identify` scope) over httpx.

The `state` is random per attempt and bound to the browser by an HttpOnly cookie that only the
callback path receives; the callback refuses a state that does not match it (login CSRF). The
code is exchanged at `{discord_api_base}/oauth2/token` with the client's credentials (HTTP Basic),
and the user read from `{discord_api_base}/users/@me`. Nothing Discord returns is kept but the id
and the name.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx

from kyrios.core.errors import Unavailable
from kyrios.settings import Settings
from kyrios.web.auth.messages import DISCORD_LOGIN_FAILED, DISCORD_NOT_CONFIGURED
from kyrios.web.errors import NotAuthenticated

STATE_COOKIE = "kyrios_oauth_state"
CALLBACK_PATH = "/api/v1/auth/discord/callback"
STATE_SECONDS = 600
TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class DiscordIdentity:
    """Who Discord says signed in."""

    id: int
    username: str


def new_state() -> str:
    """A fresh, unguessable `state`."""
    return secrets.token_urlsafe(24)


class DiscordOAuth:
    """The OAuth2 client of one deployment (its application id and client secret)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _credentials(self) -> tuple[str, str]:
        client_id, secret = self.settings.discord_application_id, self.settings.discord_client_secret
        if client_id is None or secret is None:
            raise Unavailable(DISCORD_NOT_CONFIGURED)
        return str(client_id), secret.get_secret_value()

    def authorize_url(self, state: str, redirect_uri: str) -> str:
        """Where to send the browser to ask Discord."""
        client_id, _ = self._credentials()
        query = urlencode(
            {
                "response_type": "code",
                "client_id": client_id,
                "scope": "identify",
                "state": state,
                "redirect_uri": redirect_uri,
                "prompt": "none",
            }
        )
        return f"{self.settings.discord_authorize_url}?{query}"

    async def identify(self, code: str, redirect_uri: str) -> DiscordIdentity:
        """Exchange the code for a token and read the user; `NotAuthenticated` if Discord says no."""
        client_id, secret = self._credentials()
        if not code:  # Discord sent the browser back without one: the user declined
            raise NotAuthenticated(DISCORD_LOGIN_FAILED)
        base = self.settings.discord_api_base.rstrip("/")
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as http:
                token = await http.post(
                    f"{base}/oauth2/token",
                    data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
                    auth=(client_id, secret),
                )
                token.raise_for_status()
                access = str(token.json()["access_token"])
                me = await http.get(f"{base}/users/@me", headers={"Authorization": f"Bearer {access}"})
                me.raise_for_status()
                user = me.json()
                return DiscordIdentity(id=int(user["id"]), username=str(user["username"]))
        except (httpx.HTTPError, KeyError, TypeError, ValueError) as exc:
            raise NotAuthenticated(DISCORD_LOGIN_FAILED) from exc
