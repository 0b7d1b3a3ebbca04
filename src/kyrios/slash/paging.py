"""Previous/next buttons for paginated replies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from kyrios.core.errors import Forbidden, InvalidInput
from kyrios.core.i18n import ENGLISH, Translator
from kyrios.slash.registry import CommandSet, Context
from kyrios.slash.reply import Button, ButtonStyle, Reply

PageRenderer = Callable[[Context, int, int], Awaitable[Reply]]


def pager(
    prefix: str, owner_id: int, page: int, pages: int, *, translator: Translator = ENGLISH
) -> list[list[Button]]:
    """A row of ◀ / page x of y / ▶ buttons; custom ids are `prefix:owner:page`.

    Pass `translator=ctx.translator` for labels in the reader's language.
    """
    if pages <= 1:
        return []
    t = translator.t
    return [
        [
            Button(t("◀ Prev"), f"{prefix}:{owner_id}:{page - 1}", ButtonStyle.SECONDARY, disabled=page <= 1),
            Button(
                t("Page {page}/{pages}", page=page, pages=pages),
                f"{prefix}:{owner_id}:{page}:noop",
                ButtonStyle.SECONDARY,
                disabled=True,
            ),
            Button(
                t("Next ▶"), f"{prefix}:{owner_id}:{page + 1}", ButtonStyle.SECONDARY, disabled=page >= pages
            ),
        ]
    ]


def read_pager_args(args: tuple[str, ...]) -> tuple[int, int]:
    """(owner id, page) from a pager button's custom id arguments."""
    try:
        return int(args[0]), int(args[1])
    except (IndexError, ValueError):
        raise InvalidInput("This button is broken; run the command again.") from None


def require_owner(owner_id: int, user_id: int) -> None:
    """Private listings only page for the member who asked for them."""
    if owner_id != user_id:
        raise Forbidden("These buttons belong to someone else; run the command yourself.")


def page_turner(commands: CommandSet, prefix: str, render: PageRenderer, *, private: bool) -> PageRenderer:
    """Register the ◀/▶ buttons of a listing: `render(ctx, owner_id, page)` draws any page.

    The buttons belong to the command set's feature; private listings (someone's own history)
    only turn for their owner.
    """

    async def turn(ctx: Context, *args: str) -> Reply:
        owner, page = read_pager_args(args)
        if private:
            require_owner(owner, ctx.user_id)
        reply = await render(ctx, owner, page)
        reply.update = True
        return reply

    turn.__doc__ = f"Turn a page of the {prefix} listing."
    commands.component(prefix)(turn)
    return render
