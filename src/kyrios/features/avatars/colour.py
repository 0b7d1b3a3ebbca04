"""What an image is: its dominant colour, format and size (Pillow, from the bytes Discord's CDN served)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

SAMPLE_SIZE = (64, 64)
PALETTE_COLOURS = 8
OPAQUE = 128
MAX_IMAGE_BYTES = 10 * 1024 * 1024


class UnreadableImage(ValueError):
    """The bytes are not an image Pillow can read."""


@dataclass(frozen=True)
class ImageFacts:
    """The dominant colour as `#rrggbb`, the format (`png`, `gif`, `webp`, `jpeg`) and the size in bytes."""

    dominant_color: str
    image_format: str
    size: int


def dominant_colour(image: Image.Image) -> str:
    """The most common colour of the opaque pixels after reducing the image to a small palette."""
    frame = image.convert("RGBA")
    frame.thumbnail(SAMPLE_SIZE)
    raw = frame.tobytes()
    opaque = bytearray()
    for offset in range(0, len(raw), 4):
        if raw[offset + 3] >= OPAQUE:
            opaque += raw[offset : offset + 3]
    if not opaque:
        return "#000000"
    sample = Image.frombytes("RGB", (len(opaque) // 3, 1), bytes(opaque))
    reduced = sample.quantize(colors=PALETTE_COLOURS, method=Image.Quantize.MEDIANCUT)
    palette = reduced.getpalette() or []
    counts: list[tuple[int, int]] = reduced.getcolors(PALETTE_COLOURS) or []  # type: ignore[assignment]
    _, index = max(counts)
    start = index * 3
    red, green, blue = palette[start : start + 3]
    return f"#{red:02x}{green:02x}{blue:02x}"


def image_facts(data: bytes) -> ImageFacts:
    """Read an avatar or banner's bytes (the first frame of an animation)."""
    if len(data) > MAX_IMAGE_BYTES:
        raise UnreadableImage(f"image too large ({len(data)} bytes)")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image_format = (image.format or "unknown").lower()
            image.seek(0)
            colour = dominant_colour(image)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise UnreadableImage(str(exc)) from exc
    return ImageFacts(colour, image_format, len(data))
