"""Slices, cogs and doors reach the database through `run()` and `read()` only.

`Database.transaction()` bypasses group commit and the retry of a whole unit of work; only the
database layer itself, the exchange's single writers and the test database wiper may open one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import kyrios

PACKAGE = Path(kyrios.__file__).resolve().parent
MAY_OPEN_TRANSACTIONS = ("core/", "exchange/", "testing/database.py")


def transaction_uses(path: Path) -> list[int]:
    """Lines of `path` that touch an attribute called `transaction`."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    attributes = (node for node in ast.walk(tree) if isinstance(node, ast.Attribute))
    return [node.lineno for node in attributes if node.attr == "transaction"]


def test_no_slice_cog_or_door_opens_a_transaction() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith(MAY_OPEN_TRANSACTIONS):
            continue
        offenders += [f"{relative}:{line}" for line in transaction_uses(path)]
    assert offenders == [], f"use db.run(work) or db.read() instead of db.transaction(): {offenders}"


def test_the_scan_finds_a_transaction() -> None:
    """The scan itself works: the database layer's own use of `transaction()` is found."""
    assert transaction_uses(PACKAGE / "core" / "db" / "database.py")
