"""Japanese and English: every user-facing string goes through one gettext catalogue.

Write the English text as the message id, with named placeholders, and let the translator
fill them (numbers per locale, times as the door shows them)::

    ctx.t("Gave {amount} points to {user}.", amount=amount, user=user.mention)
    ctx.tn("{n} pull", "{n} pulls", count)              # plural; Japanese has one form
    ctx.pt("command name", "balance")                   # a word with a context (pgettext)
    ctx.t("The next one is {next_at:R}.", next_at=at)   # times: R t T d D f F (Discord's styles)
    raise InsufficientFunds("You need {cost} points but have {points}.", cost=c, points=p)
    LABELS = {Reason.GRANT: N_("Given by an admin")}    # mark now, `ctx.t(LABELS[r])` later
    note = lazy("Pulled {n} times.", n=3)               # carried across layers, rendered at the door

`python scripts/i18n-extract` (or `kyrios.slash.localization.update_catalogues`) rebuilds
`locales/kyrios.pot` from the source and the command set and updates `locales/{en,ja}/…/kyrios.po`;
`tests/core/test_i18n.py` fails while a catalogue misses a message or a placeholder.
"""

from kyrios.core.i18n.formatting import DoorStyle
from kyrios.core.i18n.locales import DEFAULT_LOCALE, N_, SUPPORTED_LOCALES, negotiate, supported_locale
from kyrios.core.i18n.translator import ENGLISH, LazyText, Translator, lazy, plain_text

__all__ = [
    "DEFAULT_LOCALE",
    "ENGLISH",
    "N_",
    "SUPPORTED_LOCALES",
    "DoorStyle",
    "LazyText",
    "Translator",
    "lazy",
    "negotiate",
    "plain_text",
    "supported_locale",
]
