"""`kyrios console`: type slash commands, see the replies as Discord would show them (with Rich).

Replies are written in the session's language (`--locale`, else the guild's setting), with
times as plain text in the guild's time zone; Discord markup that older replies still hold
(`<t:…>`, mentions) is turned into readable text here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from rich.console import Console, Group
from rich.markdown import Markdown
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from kyrios.core.errors import DomainError, NotFound
from kyrios.core.i18n import DoorStyle, Translator
from kyrios.runtime import Runtime
from kyrios.slash.invocation import Actor, Invocation, Permission, Source
from kyrios.slash.reply import Button, Embed, Reply
from kyrios.slash.respond import CapturedReply, refuse, respond
from kyrios.slash.text import parse_command_line

TIMESTAMP = re.compile(r"<t:(\d+)(?::([tTdDfFR]))?>")
USER_MENTION = re.compile(r"<@!?(\d+)>")
CHANNEL_MENTION = re.compile(r"<#(\d+)>")
ROLE_MENTION = re.compile(r"<@&(\d+)>")


def discord_markdown(text: str, translator: Translator) -> str:
    """Replace Discord-only markup (timestamps, mentions) with readable text."""
    plain = translator if translator.style is DoorStyle.PLAIN else Translator(translator.locale)

    def stamp(match: re.Match[str]) -> str:
        return plain.time(datetime.fromtimestamp(int(match.group(1)), UTC), match.group(2) or "f")

    text = TIMESTAMP.sub(stamp, text)
    text = ROLE_MENTION.sub(r"@role:\1", text)
    text = USER_MENTION.sub(r"@\1", text)
    text = CHANNEL_MENTION.sub(r"#\1", text)
    return text.replace("\n", "  \n")  # Discord breaks lines where Markdown would join them


def render_embed(embed: Embed, translator: Translator) -> Panel:
    """An embed as a Rich panel with a coloured border."""
    parts: list[object] = []
    if embed.description:
        parts.append(Markdown(discord_markdown(embed.description, translator)))
    if embed.fields:
        table = Table.grid(padding=(0, 2))
        for field in embed.fields:
            table.add_row(Text(field.name, style="bold"), Markdown(discord_markdown(field.value, translator)))
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


def render_reply(console: Console, reply: Reply, translator: Translator) -> None:
    """Print a reply the way Discord lays it out."""
    if reply.ephemeral:
        console.print(Text(translator.t("(only you can see this)"), style="dim italic"))
    if reply.content:
        console.print(Markdown(discord_markdown(reply.content, translator)))
    for embed in reply.embeds:
        console.print(render_embed(embed, translator))
    pressable = buttons_of(reply)
    if pressable:
        console.print(
            Text("  ".join(f"[{i}] {b.label}" for i, b in enumerate(pressable, 1)), style="cyan"),
            Text(translator.t(" — type `press N`"), style="dim"),
        )


class ConsoleSession:
    """One console user in one guild, running commands against a runtime."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        guild_id: int,
        user_id: int,
        admin: bool,
        name: str = "console user",
        locale: str | None = None,
    ) -> None:
        self.runtime = runtime
        self.actor = Actor(id=user_id, name=name)
        self.guild_id = guild_id
        self.permissions = int(Permission.ADMINISTRATOR) if admin else 0
        self.locale = locale
        self.last_reply: Reply | None = None

    def _invocation(self, **fields: object) -> Invocation:
        return Invocation(
            actor=self.actor,
            guild_id=self.guild_id,
            channel_id=None,
            permissions=self.permissions,
            source=Source.CONSOLE,
            locale=self.locale,
            **fields,  # type: ignore[arg-type]
        )

    async def translator(self) -> Translator:
        """The session's language and the guild's time zone, as replies are written in."""
        return await self.runtime.registry.translator(self._invocation())

    async def run(self, line: str) -> Reply:
        """Run one typed line: a command, or `press N` for a button of the last reply."""
        registry = self.runtime.registry
        captured = CapturedReply()
        words = line.split()
        if len(words) == 2 and words[0] == "press" and words[1].isdigit():
            pressable = buttons_of(self.last_reply) if self.last_reply else []
            index = int(words[1]) - 1
            if not 0 <= index < len(pressable):
                await refuse(registry, self._invocation(), captured, NotFound("There is no such button."))
            else:
                await respond(registry, self._invocation(custom_id=pressable[index].custom_id), captured)
        else:
            try:
                path, options = parse_command_line(registry, line)
            except DomainError as exc:
                await refuse(registry, self._invocation(), captured, exc)
            else:
                await respond(registry, self._invocation(command=path, options=dict(options)), captured)
        reply = captured.reply
        assert reply is not None  # `respond` always answers a door without a deadline
        if not reply.is_error:
            self.last_reply = reply
        return reply
