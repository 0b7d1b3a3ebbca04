"""`kyrios console`: type slash commands, see the replies as Discord would show them (with Rich)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from rich.console import Console, Group
from rich.markdown import Markdown
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from kyrios.core.errors import DomainError
from kyrios.runtime import Runtime
from kyrios.slash.invocation import Actor, Invocation, Permission, Source
from kyrios.slash.reply import Button, Embed, Reply
from kyrios.slash.text import parse_command_line

TIMESTAMP = re.compile(r"<t:(\d+)(?::([tTdDfFR]))?>")
USER_MENTION = re.compile(r"<@!?(\d+)>")
CHANNEL_MENTION = re.compile(r"<#(\d+)>")
ROLE_MENTION = re.compile(r"<@&(\d+)>")


def _relative(seconds: float) -> str:
    future, seconds = seconds > 0, abs(seconds)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            amount = int(seconds // size)
            text = f"{amount} {unit}{'s' if amount != 1 else ''}"
            return f"in {text}" if future else f"{text} ago"
    return "in a few seconds" if future else "just now"


def discord_markdown(text: str, now: datetime | None = None) -> str:
    """Replace Discord-only markup (timestamps, mentions) with readable text."""
    now = now or datetime.now(UTC)

    def stamp(match: re.Match[str]) -> str:
        when = datetime.fromtimestamp(int(match.group(1)), UTC)
        if match.group(2) == "R":
            return _relative((when - now).total_seconds())
        return when.strftime("%Y-%m-%d %H:%M UTC")

    text = TIMESTAMP.sub(stamp, text)
    text = ROLE_MENTION.sub(r"@role:\1", text)
    text = USER_MENTION.sub(r"@\1", text)
    text = CHANNEL_MENTION.sub(r"#\1", text)
    return text.replace("\n", "  \n")  # Discord breaks lines where Markdown would join them


def render_embed(embed: Embed, now: datetime | None = None) -> Panel:
    """An embed as a Rich panel with a coloured border."""
    parts: list[object] = []
    if embed.description:
        parts.append(Markdown(discord_markdown(embed.description, now)))
    if embed.fields:
        table = Table.grid(padding=(0, 2))
        for field in embed.fields:
            table.add_row(Text(field.name, style="bold"), Markdown(discord_markdown(field.value, now)))
        parts.append(table)
    colour = f"#{embed.colour:06x}" if embed.colour is not None else "white"
    return Panel(
        Group(*parts),  # type: ignore[arg-type]
        title=Text(embed.title or "", style="bold"),
        subtitle=embed.footer,
        border_style=colour,
        expand=False,
    )


def buttons_of(reply: Reply) -> list[Button]:
    """Buttons a console user can press (numbered from 1)."""
    return [b for row in reply.buttons for b in row if b.custom_id and not b.disabled]


def render_reply(console: Console, reply: Reply, now: datetime | None = None) -> None:
    """Print a reply the way Discord lays it out."""
    if reply.ephemeral:
        console.print(Text("(only you can see this)", style="dim italic"))
    if reply.content:
        console.print(Markdown(discord_markdown(reply.content, now)))
    for embed in reply.embeds:
        console.print(render_embed(embed, now))
    pressable = buttons_of(reply)
    if pressable:
        console.print(
            Text("  ".join(f"[{i}] {b.label}" for i, b in enumerate(pressable, 1)), style="cyan"),
            Text(" — type `press N`", style="dim"),
        )


class ConsoleSession:
    """One console user in one guild, running commands against a runtime."""

    def __init__(
        self, runtime: Runtime, *, guild_id: int, user_id: int, admin: bool, name: str = "console user"
    ) -> None:
        self.runtime = runtime
        self.actor = Actor(id=user_id, name=name)
        self.guild_id = guild_id
        self.permissions = int(Permission.ADMINISTRATOR) if admin else 0
        self.last_reply: Reply | None = None

    def _invocation(self, **fields: object) -> Invocation:
        return Invocation(
            actor=self.actor,
            guild_id=self.guild_id,
            channel_id=None,
            permissions=self.permissions,
            source=Source.CONSOLE,
            **fields,  # type: ignore[arg-type]
        )

    async def run(self, line: str) -> Reply:
        """Run one typed line: a command, or `press N` for a button of the last reply."""
        words = line.split()
        if len(words) == 2 and words[0] == "press" and words[1].isdigit():
            pressable = buttons_of(self.last_reply) if self.last_reply else []
            index = int(words[1]) - 1
            if not 0 <= index < len(pressable):
                return Reply.error("There is no such button.")
            reply = await self.runtime.registry.dispatch(
                self._invocation(custom_id=pressable[index].custom_id)
            )
        else:
            try:
                path, options = parse_command_line(self.runtime.registry, line)
            except DomainError as exc:
                return Reply.error(exc.message)
            reply = await self.runtime.registry.dispatch(
                self._invocation(command=path, options=dict(options))
            )
        if not reply.is_error:
            self.last_reply = reply
        return reply
