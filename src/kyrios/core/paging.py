"""Pages of listings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing (1-based)."""

    items: list[T]
    page: int
    pages: int
    total: int


def page_count(total: int, per_page: int) -> int:
    """How many pages `total` items fill (at least one)."""
    return max(1, -(-total // per_page))


def clamp_page(page: int, total: int, per_page: int) -> tuple[int, int]:
    """The page number kept in range, and the page count."""
    pages = page_count(total, per_page)
    return min(max(page, 1), pages), pages
