"""What the auth routes tell a person (marked for the catalogue; rendered in the request's language)."""

from __future__ import annotations

from kyrios.core.i18n import N_

SESSION_INVALID = N_("Your sign-in is not valid. Please sign in again.")
SESSION_EXPIRED = N_("Your sign-in has expired. Please sign in again.")
REFRESH_INVALID = N_("This session is no longer valid. Please sign in again.")
API_KEY_INVALID = N_("This API key is not valid or has been revoked.")
CSRF_FAILED = N_("The request is missing its CSRF token, or the token does not match.")
DEV_LOGIN_REFUSED = N_("The development login is only available in local mode.")
NAME_TAKEN = N_("The name '{name}' belongs to another account.")
NAME_LENGTH = N_("A name has 1 to 32 characters.")
ADMIN_ONLY = N_("Only an exchange administrator may do this.")
SCOPE_MISSING = N_("This credential does not allow '{scope}'.")
NOT_A_BOT = N_("API keys are only for BOT and ADMIN accounts; '{user}' is neither.")
UNKNOWN_SCOPE = N_("Unknown scope '{scope}'; the scopes are: {scopes}.")
NO_SUCH_KEY = N_("There is no API key {key_id}.")
DISCORD_NOT_CONFIGURED = N_("Sign-in with Discord is not configured on this server.")
DISCORD_STATE_MISMATCH = N_("The sign-in with Discord did not start in this browser. Please try again.")
DISCORD_LOGIN_FAILED = N_("Discord did not confirm the sign-in. Please try again.")
