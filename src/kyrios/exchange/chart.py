"""A small candlestick chart of a symbol's recent persisted bars, drawn server-side as a PNG.

`/stock price` attaches it. The window is 60 bars of the finest interval that traded within its own
60 bars (the last hour of 1-minute bars, else 5 hours of 5-minute bars, …), so a quiet symbol still
shows a shape. The picture holds only the symbol, the interval, prices and times (digits and Latin
letters, which Pillow's bundled font has); the words around it are the reply's, in the reader's
language.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.exchange.candles import INTERVALS, Interval
from kyrios.exchange.models import ExchangeCandle

BARS = 60
WIDTH, HEIGHT = 720, 360
LEFT, RIGHT, TOP, BOTTOM = 12, 86, 44, 30
BACKGROUND = (43, 45, 49)
GRID = (64, 66, 72)
TEXT = (219, 222, 225)
MUTED = (148, 155, 164)
UP = (35, 165, 90)
DOWN = (218, 55, 60)


@dataclass(frozen=True, slots=True)
class Bar:
    """One candle: start in UTC epoch seconds, prices in cents."""

    start: int
    open_cents: int
    high_cents: int
    low_cents: int
    close_cents: int


@dataclass(frozen=True, slots=True)
class Window:
    """The bars a chart shows: `BARS` slots of `interval`, the last one holding `end`."""

    interval: Interval
    first_slot: int
    bars: list[Bar]


async def recent_window(session: AsyncSession, symbol: str, now: datetime) -> Window | None:
    """The finest interval with a bar among its last `BARS` slots up to `now`; None: no trades yet."""
    clock = int(now.timestamp())
    for interval in INTERVALS:
        length = interval.seconds
        first_slot = (clock // length - (BARS - 1)) * length
        table = ExchangeCandle
        rows = (
            await session.execute(
                select(
                    table.start_time, table.open_cents, table.high_cents, table.low_cents, table.close_cents
                )
                .where(
                    table.symbol == symbol,
                    table.bar_interval == interval.value,
                    table.start_time >= first_slot,
                    table.start_time <= clock,
                )
                .order_by(table.start_time)
            )
        ).all()
        if rows:
            return Window(interval, first_slot, [Bar(*row) for row in rows])
    return None


def _money(cents: int) -> str:
    return f"{cents / 100:,.2f}"


def render_png(symbol: str, window: Window, last_cents: int, change_cents: int | None) -> bytes:
    """The chart as PNG bytes: candles in their time slots, the last price marked on the right."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=14)
    small = ImageFont.load_default(size=12)
    bars = window.bars
    low = min(min(b.low_cents for b in bars), last_cents)
    high = max(max(b.high_cents for b in bars), last_cents)
    if high == low:
        high, low = high + 1, max(low - 1, 0)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y(cents: int) -> float:
        return TOP + (high - cents) * plot_h / (high - low)

    for step in range(5):  # horizontal grid with its prices, but where the last price's label is
        cents = low + (high - low) * step // 4
        draw.line([(LEFT, y(cents)), (LEFT + plot_w, y(cents))], fill=GRID)
        if abs(y(cents) - y(last_cents)) > 16:
            draw.text((LEFT + plot_w + 6, y(cents) - 7), _money(cents), fill=MUTED, font=small)
    slot = plot_w / BARS
    length = window.interval.seconds
    for bar in bars:
        index = (bar.start - window.first_slot) // length
        centre = LEFT + (index + 0.5) * slot
        colour = UP if bar.close_cents >= bar.open_cents else DOWN
        draw.line([(centre, y(bar.high_cents)), (centre, y(bar.low_cents))], fill=colour)
        top, bottom = sorted((y(bar.open_cents), y(bar.close_cents)))
        half = max(slot * 0.35, 1)
        draw.rectangle([(centre - half, top), (centre + half, max(bottom, top + 1))], fill=colour)
    for index in (0, BARS // 2, BARS - 1):  # three time labels, UTC, centred on their bars
        at = datetime.fromtimestamp(window.first_slot + index * length, UTC)
        label = at.strftime("%m-%d" if window.interval is Interval.ONE_DAY else "%H:%M")
        half = draw.textlength(label, font=small) / 2
        left = min(max(LEFT + (index + 0.5) * slot - half, LEFT), LEFT + plot_w - 2 * half)
        draw.text((left, TOP + plot_h + 8), label, fill=MUTED, font=small)
    rising = change_cents is None or change_cents >= 0
    marker = UP if rising else DOWN
    draw.line([(LEFT, y(last_cents)), (LEFT + plot_w, y(last_cents))], fill=marker, width=1)
    draw.rectangle([(LEFT + plot_w + 2, y(last_cents) - 9), (WIDTH - 2, y(last_cents) + 9)], fill=marker)
    draw.text((LEFT + plot_w + 6, y(last_cents) - 8), _money(last_cents), fill=(255, 255, 255), font=small)
    draw.text((LEFT, 12), f"{symbol} · {window.interval.value} · UTC", fill=TEXT, font=font)
    change = (
        "" if change_cents is None else f"  {'+' if change_cents >= 0 else '-'}{_money(abs(change_cents))}"
    )
    headline = f"{_money(last_cents)}{change}"
    width = draw.textlength(headline, font=font)
    draw.text((WIDTH - RIGHT - width, 12), headline, fill=marker, font=font)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
