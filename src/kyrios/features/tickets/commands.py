"""`/ticket …` and the ticket buttons (panel, intro, close confirmation, close request).

Commands change the rows; what must happen on Discord (make, move, delete a channel, its
overwrites, the transcript DM) is published on `CHANNEL_WORK` after the commit and done by the
gateway's `ChannelKeeper`. A command about "this ticket" takes the ticket of the channel it runs
in, or the `ticket` number given.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Annotated

from kyrios.core.errors import Forbidden, InvalidInput, NotFound
from kyrios.core.features import Feature
from kyrios.features.tickets import service
from kyrios.features.tickets.events import CHANNEL_WORK, ChannelWork, Work
from kyrios.features.tickets.models import Ticket, TicketCategory, TicketPriority
from kyrios.features.tickets.service import Scope
from kyrios.features.tickets.words import category_name, priority_name, status_name
from kyrios.slash.invocation import ADMIN_PERMISSIONS, Actor, RoleRef, Source
from kyrios.slash.options import Opt
from kyrios.slash.registry import CommandSet, Context
from kyrios.slash.reply import Button, ButtonStyle, Colour, Embed, Modal, Reply, TextInput, TextStyle

commands = CommandSet(Feature.TICKETS)

TicketNo = Annotated[int | None, Opt("The ticket's number (default: this channel's ticket)", min_value=1)]


class Priority(StrEnum):
    """The priorities as options."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def level(self) -> TicketPriority:
        """The stored priority."""
        return TicketPriority[self.name]


class CloseMode(StrEnum):
    """What closing does with the channel."""

    ARCHIVE = "archive"
    DELETE = "delete"


def work(ctx: Context, kind: Work, ticket: Ticket, *, user_id: int = 0, name: str = "") -> None:
    """Have the gateway change the ticket's channel once this command has committed."""
    ctx.publish_after_commit(
        CHANNEL_WORK, ChannelWork(kind, ticket.guild_id, ticket.id, user_id, name).to_message()
    )


def is_admin(ctx: Context) -> bool:
    """Whether the caller may change the server (Administrator or Manage Server)."""
    return bool(ctx.inv.permissions & ADMIN_PERMISSIONS)


async def require_staff(ctx: Context) -> None:
    """Refuse members who are neither admins nor holders of a staff role."""
    rules = await service.settings(ctx.session, ctx.guild_id)
    if not service.is_staff(rules, ctx.inv.role_ids, admin=is_admin(ctx)):
        raise Forbidden("Only ticket staff can do that.")


async def target(ctx: Context, number: int | None) -> Ticket:
    """The ticket named, else the one of this channel."""
    if number is not None:
        return await service.get(ctx.session, ctx.guild_id, number)
    here = await service.in_channel(ctx.session, ctx.inv.channel_id)
    if here is None or here.guild_id != ctx.guild_id:
        raise NotFound("This channel is no ticket; give the ticket's number.")
    return await service.get(ctx.session, ctx.guild_id, here.id)


def ticket_id(args: tuple[str, ...]) -> int:
    """The ticket number a button carries."""
    try:
        return int(args[-1])
    except (IndexError, ValueError):
        raise InvalidInput("This button is broken; run the command again.") from None


def span(ctx: Context, value: timedelta | None) -> str:
    """A duration as hours and minutes."""
    if value is None:
        return "-"
    minutes = int(value.total_seconds() // 60)
    return ctx.t("{h} h {m} min", h=minutes // 60, m=minutes % 60)


async def _open(ctx: Context, category: TicketCategory, title: str, description: str) -> Reply:
    ticket = await service.open_ticket(
        ctx.session,
        guild_id=ctx.guild_id,
        user_id=ctx.user_id,
        category=category,
        title=title,
        description=description,
        now=ctx.now,
        channel_id=ctx.inv.channel_id,
    )
    work(ctx, Work.OPEN, ticket)
    return Reply(
        content=ctx.t(
            "🎫 Ticket #{id} ({category}) is open: I am making its private channel"
            " and will mention you there.",
            id=ticket.id,
            category=category_name(ctx.translator, category),
        ),
        ephemeral=True,
    )


def form(ctx: Context, category: TicketCategory) -> Reply:
    """The modal asking for the ticket's title and description (Discord doors)."""
    return Reply(
        modal=Modal(
            f"ticket-form:{category.value}",
            ctx.t("New {category} ticket", category=category_name(ctx.translator, category)),
            [
                TextInput("title", ctx.t("Title"), max_length=service.MAX_TITLE),
                TextInput(
                    "description",
                    ctx.t("What happened?"),
                    TextStyle.PARAGRAPH,
                    required=False,
                    max_length=service.MAX_DESCRIPTION,
                ),
            ],
        )
    )


def shows_modals(ctx: Context) -> bool:
    """Whether the caller's door can show a modal (Discord's, not the console or a prefix message)."""
    return ctx.inv.source in (Source.GATEWAY, Source.HTTP)


def category_of(args: tuple[str, ...]) -> TicketCategory:
    """The category a panel button or form carries."""
    try:
        return TicketCategory(args[0])
    except (IndexError, ValueError):
        raise InvalidInput("This button is broken; run the command again.") from None


@commands.slash("ticket open", "Open a support ticket: a private channel with the staff")
async def open_(
    ctx: Context,
    category: Annotated[TicketCategory, Opt("What it is about")],
    title: Annotated[
        str | None, Opt("A short title (none: a form asks)", max_length=service.MAX_TITLE)
    ] = None,
    description: Annotated[str, Opt("What happened", max_length=service.MAX_DESCRIPTION)] = "",
) -> Reply:
    """Open a ticket; without a title, Discord shows a form for it first."""
    if title is None:
        if shows_modals(ctx):
            return form(ctx, category)
        raise InvalidInput("Give the ticket a title.")
    return await _open(ctx, category, title, description)


@commands.component("ticket-open")
async def panel_open(ctx: Context, *args: str) -> Reply:
    """A panel button: the form for a ticket of its category (where there are no forms: open one)."""
    category = category_of(args)
    if shows_modals(ctx):
        return form(ctx, category)
    return await _open(
        ctx, category, ctx.t("{category} request", category=category_name(ctx.translator, category)), ""
    )


@commands.component("ticket-form")
async def form_sent(ctx: Context, *args: str) -> Reply:
    """The form's submission: open the ticket with its title and description."""
    title, description = ctx.inv.options.get("title"), ctx.inv.options.get("description")
    return await _open(ctx, category_of(args), str(title or ""), str(description or ""))


@commands.slash("ticket panel", "Post a ticket panel: a button per category (admins)", admin=True)
async def panel(
    ctx: Context,
    title: Annotated[str | None, Opt("The panel's title", max_length=200)] = None,
) -> Reply:
    """An embed with one open button per category, in this channel."""
    embed = Embed(
        title=title or ctx.t("🎫 Support tickets"),
        description=ctx.t("Press a button to open a private ticket with the staff."),
        colour=Colour.INFO,
    )
    styles = (ButtonStyle.PRIMARY, ButtonStyle.DANGER, ButtonStyle.SUCCESS, ButtonStyle.SECONDARY)
    buttons = [
        Button(category_name(ctx.translator, c), f"ticket-open:{c.value}", style)
        for c, style in zip(TicketCategory, styles, strict=True)
    ]
    return Reply(embeds=[embed], buttons=[buttons])


async def _claim(ctx: Context, ticket: Ticket, staff_id: int) -> Reply:
    await service.claim(ctx.session, ticket, staff_id, ctx.now, by=ctx.user_id)
    return Reply(content=ctx.t("🙋 <@{user}> now handles ticket #{id}.", user=str(staff_id), id=ticket.id))


@commands.slash("ticket claim", "Take a ticket: you handle it")
async def claim(ctx: Context, ticket: TicketNo = None) -> Reply:
    """Claim the ticket (staff)."""
    await require_staff(ctx)
    return await _claim(ctx, await target(ctx, ticket), ctx.user_id)


@commands.component("ticket-claim")
async def claim_button(ctx: Context, *args: str) -> Reply:
    """The intro's claim button."""
    await require_staff(ctx)
    return await _claim(ctx, await service.get(ctx.session, ctx.guild_id, ticket_id(args)), ctx.user_id)


@commands.slash("ticket unclaim", "Give a ticket back to the whole staff")
async def unclaim(ctx: Context, ticket: TicketNo = None) -> Reply:
    """Unclaim (the handler, or an admin)."""
    await require_staff(ctx)
    found = await target(ctx, ticket)
    await service.unclaim(ctx.session, found, ctx.user_id, ctx.now, admin=is_admin(ctx))
    return Reply(content=ctx.t("Ticket #{id} is nobody's again.", id=found.id))


@commands.slash("ticket assign", "Give a ticket to a staff member")
async def assign(
    ctx: Context, staff: Annotated[Actor, Opt("Who handles it")], ticket: TicketNo = None
) -> Reply:
    """Assign (staff)."""
    await require_staff(ctx)
    if staff.is_bot:
        raise InvalidInput("A bot cannot handle tickets.")
    return await _claim(ctx, await target(ctx, ticket), staff.id)


async def _priority(ctx: Context, ticket: Ticket, priority: Priority) -> Reply:
    await service.set_priority(ctx.session, ticket, priority.level, ctx.user_id, ctx.now)
    return Reply(
        content=ctx.t(
            "Ticket #{id} is now {priority}: staff answer by {due}.",
            id=ticket.id,
            priority=priority_name(ctx.translator, priority.level),
            due=ctx.translator.time(ticket.response_due_at, "R"),
        )
    )


@commands.slash("ticket priority", "Set a ticket's priority (and its response deadline)")
async def priority(
    ctx: Context, level: Annotated[Priority, Opt("The priority")], ticket: TicketNo = None
) -> Reply:
    """Set the priority (staff)."""
    await require_staff(ctx)
    return await _priority(ctx, await target(ctx, ticket), level)


@commands.component("ticket-priority")
async def priority_button(ctx: Context, *args: str) -> Reply:
    """The intro's priority buttons (`ticket-priority:<level>:<id>`)."""
    await require_staff(ctx)
    try:
        level = Priority(args[0])
    except (IndexError, ValueError):
        raise InvalidInput("This button is broken; run the command again.") from None
    return await _priority(ctx, await service.get(ctx.session, ctx.guild_id, ticket_id(args)), level)


async def _may_close(ctx: Context, ticket: Ticket) -> None:
    if ticket.opener_id != ctx.user_id:
        await require_staff(ctx)


def _confirmation(ctx: Context, ticket: Ticket) -> Reply:
    return Reply(
        content=ctx.t(
            "Close ticket #{id}? The transcript goes to <@{user}>.", id=ticket.id, user=str(ticket.opener_id)
        ),
        buttons=[[Button(ctx.t("Close"), f"ticket-close-yes:{ticket.id}", ButtonStyle.DANGER)]],
        ephemeral=True,
    )


@commands.slash("ticket close", "Close a ticket (asks for confirmation)")
async def close(
    ctx: Context,
    reason: Annotated[str, Opt("Why it is closed", max_length=service.MAX_REASON)] = "",
    ticket: TicketNo = None,
) -> Reply:
    """Keep the reason and ask for confirmation (the opener or staff)."""
    found = await target(ctx, ticket)
    await _may_close(ctx, found)
    service.require_live(found)
    found.close_reason = reason.strip()[: service.MAX_REASON]
    return _confirmation(ctx, found)


@commands.component("ticket-close")
async def close_button(ctx: Context, *args: str) -> Reply:
    """The intro's close button: ask for confirmation."""
    found = await service.get(ctx.session, ctx.guild_id, ticket_id(args))
    await _may_close(ctx, found)
    service.require_live(found)
    return _confirmation(ctx, found)


@commands.component("ticket-close-yes")
async def close_confirmed(ctx: Context, *args: str) -> Reply:
    """Confirmed: close with the reason given to `/ticket close`; the gateway archives the channel."""
    found = await service.get(ctx.session, ctx.guild_id, ticket_id(args))
    await _may_close(ctx, found)
    await service.close(
        ctx.session, found, ctx.user_id, found.close_reason, ctx.now, channel_id=ctx.inv.channel_id
    )
    work(ctx, Work.CLOSE, found)
    return Reply(content=ctx.t("🔒 Ticket #{id} is closed.", id=found.id), update=True)


@commands.slash("ticket request-close", "Ask the opener whether their ticket may be closed")
async def request_close(ctx: Context, ticket: TicketNo = None) -> Reply:
    """Staff ask; the opener closes with the button."""
    await require_staff(ctx)
    found = await target(ctx, ticket)
    await service.request_close(ctx.session, found, ctx.user_id, ctx.now)
    return Reply(
        content=ctx.t("<@{user}>, may ticket #{id} be closed?", user=str(found.opener_id), id=found.id),
        buttons=[[Button(ctx.t("Yes, close it"), f"ticket-accept-close:{found.id}", ButtonStyle.SUCCESS)]],
        ping=(found.opener_id,),
    )


@commands.component("ticket-accept-close")
async def accept_close(ctx: Context, *args: str) -> Reply:
    """The opener accepts the close request."""
    found = await service.get(ctx.session, ctx.guild_id, ticket_id(args))
    if found.opener_id != ctx.user_id:
        raise Forbidden("Only <@{user}> can answer this.", user=str(found.opener_id))
    await service.close(
        ctx.session,
        found,
        ctx.user_id,
        ctx.t("The opener accepted the close request."),
        ctx.now,
        channel_id=ctx.inv.channel_id,
    )
    work(ctx, Work.CLOSE, found)
    return Reply(content=ctx.t("🔒 Ticket #{id} is closed.", id=found.id), update=True)


@commands.slash("ticket reopen", "Reopen a closed or archived ticket")
async def reopen(ctx: Context, ticket: TicketNo = None) -> Reply:
    """Reopen (staff, or the opener)."""
    found = await target(ctx, ticket)
    await _may_close(ctx, found)
    await service.reopen(ctx.session, found, ctx.user_id, ctx.now)
    work(ctx, Work.REOPEN, found)
    return Reply(content=ctx.t("🔓 Ticket #{id} is open again.", id=found.id))


@commands.slash("ticket add", "Let a member into a ticket")
async def add(ctx: Context, member: Annotated[Actor, Opt("Who joins")], ticket: TicketNo = None) -> Reply:
    """Add a member to the channel (staff)."""
    await require_staff(ctx)
    found = await target(ctx, ticket)
    service.require_live(found)
    await service.note(ctx.session, found, ctx.user_id, f"Member {member.id} added", ctx.now)
    work(ctx, Work.ADD, found, user_id=member.id)
    return Reply(content=ctx.t("<@{user}> can now see ticket #{id}.", user=str(member.id), id=found.id))


@commands.slash("ticket remove", "Take a member out of a ticket")
async def remove(ctx: Context, member: Annotated[Actor, Opt("Who leaves")], ticket: TicketNo = None) -> Reply:
    """Remove a member from the channel (staff; never the opener)."""
    await require_staff(ctx)
    found = await target(ctx, ticket)
    if member.id == found.opener_id:
        raise InvalidInput("The opener stays in their ticket; close it instead.")
    await service.note(ctx.session, found, ctx.user_id, f"Member {member.id} removed", ctx.now)
    work(ctx, Work.REMOVE, found, user_id=member.id)
    return Reply(content=ctx.t("<@{user}> no longer sees ticket #{id}.", user=str(member.id), id=found.id))


@commands.slash("ticket rename", "Rename a ticket's channel")
async def rename(
    ctx: Context, name: Annotated[str, Opt("The new channel name", max_length=90)], ticket: TicketNo = None
) -> Reply:
    """Rename (staff)."""
    await require_staff(ctx)
    found = await target(ctx, ticket)
    clean = "-".join(name.lower().split())
    if not clean:
        raise InvalidInput("Give a name.")
    await service.note(ctx.session, found, ctx.user_id, f"Renamed to {clean}", ctx.now)
    work(ctx, Work.RENAME, found, name=clean)
    return Reply(content=ctx.t("Ticket #{id} is now called {name}.", id=found.id, name=clean))


@commands.slash("ticket list", "List tickets: yours, the open ones, or by priority")
async def list_(ctx: Context, scope: Annotated[Scope, Opt("Which tickets")] = Scope.MINE) -> Reply:
    """Anyone sees their own; the open and priority lists are staff's."""
    if scope is not Scope.MINE:
        await require_staff(ctx)
    tickets = await service.listing(ctx.session, ctx.guild_id, scope, ctx.user_id)
    lines = [
        ctx.t(
            "#{id} {title} · {category} · {priority} · {status}{channel}",
            id=t.id,
            title=t.title,
            category=category_name(ctx.translator, t.category),
            priority=priority_name(ctx.translator, t.priority),
            status=status_name(ctx.translator, t.status),
            channel=f" · <#{t.channel_id}>" if t.channel_id else "",
        )
        for t in tickets
    ]
    embed = Embed(title=ctx.t("🎫 Tickets"), description="\n".join(lines) or ctx.t("No tickets."))
    return Reply.embed(embed, ephemeral=True)


@commands.slash("ticket stats", "Ticket figures: by status, by priority, response and close times")
async def stats(ctx: Context) -> Reply:
    """The guild's figures (staff)."""
    await require_staff(ctx)
    figures = await service.stats(ctx.session, ctx.guild_id)
    embed = Embed(title=ctx.t("📊 Ticket statistics"), colour=Colour.INFO)
    embed.add_field(
        ctx.t("By status"),
        "\n".join(f"{status_name(ctx.translator, s)}: {n}" for s, n in figures.by_status.items()),
        inline=True,
    )
    embed.add_field(
        ctx.t("By priority"),
        "\n".join(f"{priority_name(ctx.translator, p)}: {n}" for p, n in figures.by_priority.items()),
        inline=True,
    )
    embed.add_field(ctx.t("Median time to the first staff answer"), span(ctx, figures.median_first_response))
    embed.add_field(ctx.t("Median time to close"), span(ctx, figures.median_close))
    return Reply.embed(embed, ephemeral=True)


@commands.slash("ticket blacklist", "Bar a member from opening tickets, or let them again (staff)")
async def blacklist(
    ctx: Context,
    member: Annotated[Actor | None, Opt("The member (none: show the list)")] = None,
    reason: Annotated[str, Opt("Why", max_length=service.MAX_REASON)] = "",
    remove: Annotated[bool, Opt("True: take the member off the list")] = False,
) -> Reply:
    """Add, remove, or show the blacklist."""
    await require_staff(ctx)
    if member is None:
        rows = await service.blacklisted(ctx.session, ctx.guild_id)
        lines = [f"<@{r.user_id}> {r.reason}".rstrip() for r in rows]
        return Reply(content="\n".join(lines) or ctx.t("Nobody is on the ticket blacklist."), ephemeral=True)
    if remove:
        await service.unblacklist(ctx.session, ctx.guild_id, member.id)
        return Reply(content=ctx.t("<@{user}> may open tickets again.", user=str(member.id)), ephemeral=True)
    await service.blacklist(ctx.session, ctx.guild_id, member.id, ctx.user_id, reason.strip(), ctx.now)
    return Reply(content=ctx.t("<@{user}> may no longer open tickets.", user=str(member.id)), ephemeral=True)


@commands.slash("ticket config", "Set this server's ticket rules (admins)", admin=True, always_on=True)
async def config(
    ctx: Context,
    staff_role: Annotated[RoleRef | None, Opt("A staff role to add")] = None,
    remove_staff_role: Annotated[RoleRef | None, Opt("A staff role to remove")] = None,
    limit: Annotated[
        int | None,
        Opt("Open tickets a member may have per category", min_value=1, max_value=service.MAX_PER_CATEGORY),
    ] = None,
    on_close: Annotated[CloseMode | None, Opt("Archive or delete a closed ticket's channel")] = None,
    auto_close_hours: Annotated[
        int | None, Opt("Close tickets the opener left unanswered this long (0: never)", min_value=0)
    ] = None,
) -> Reply:
    """Change any rule given and show the rules in force."""
    rules = await service.settings(ctx.session, ctx.guild_id)
    changes: dict[str, object] = {}
    roles = service.staff_roles(rules)
    if staff_role is not None and staff_role.id not in roles:
        roles.append(staff_role.id)
    if remove_staff_role is not None:
        roles = [r for r in roles if r != remove_staff_role.id]
    if staff_role is not None or remove_staff_role is not None:
        changes["staff_role_ids"] = ",".join(str(r) for r in roles)
    if limit is not None:
        changes["max_open_per_category"] = limit
    if on_close is not None:
        changes["delete_on_close"] = on_close is CloseMode.DELETE
    if auto_close_hours is not None:
        changes["auto_close_hours"] = auto_close_hours or None
    if changes:
        rules = await service.configure(ctx.session, ctx.guild_id, now=ctx.now, **changes)
    lines = [
        ctx.t("Staff roles: {roles}", roles=" ".join(f"<@&{r}>" for r in service.staff_roles(rules)) or "-"),
        ctx.t("Open tickets per member and category: {n}", n=rules.max_open_per_category),
        ctx.t("Closed tickets are deleted.")
        if rules.delete_on_close
        else ctx.t("Closed tickets are archived."),
        ctx.t("Auto-close after {n} hours without the opener.", n=rules.auto_close_hours)
        if rules.auto_close_hours
        else ctx.t("No auto-close."),
    ]
    return Reply(content="\n".join(lines), ephemeral=True)
