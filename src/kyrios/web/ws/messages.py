"""The words the WebSocket endpoint says (English msgids; the catalogue translates them)."""

from kyrios.core.i18n import N_

UNKNOWN_CHANNEL = N_("There is no channel {channel}.")
BAD_REQUEST = N_('Send a JSON object whose "op" is subscribe, unsubscribe or auth.')
NO_CHANNELS = N_('Name the channels in a list: "channels": ["trades:SYMBOL"].')
SIGN_IN_FIRST = N_("Sign in first to follow your orders.")
NOT_YOURS = N_("You can only follow your own orders.")
TOO_SLOW = N_("Disconnected: you did not read the messages fast enough.")
