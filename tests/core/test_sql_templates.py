"""Every hand-written SQL statement in Kyrios is valid against the migrated schema.

The statements are found by reading the source (an AST scan of `src/kyrios`), so a new one is
checked without anyone listing it: every string expression that starts like a statement
(module constants, literals handed to `Sql` or `Bulk`, `text(...)`, concatenations and
f-strings of those) and every `sql.insert_ignore(table, columns)`. Each is expanded as its
caller does (`{in}`, `{lock}`, `{share}`, the driver's placeholders) and compiled by the test
database without running: `EXPLAIN` on SQLite, a server-side prepare on PostgreSQL and
MariaDB/MySQL. A statement naming a missing table or column fails on every database.
"""

from __future__ import annotations

import ast
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

import kyrios
from kyrios.core.db import Database, Sql
from kyrios.core.db.sql import translate

PACKAGE = Path(kyrios.__file__).resolve().parent
DIALECTS = frozenset({"sqlite", "mysql", "postgresql"})
STATEMENT = re.compile(
    r"\s*(SELECT\s|INSERT\s+(IGNORE\s+)?INTO\s|UPDATE\s+\w+\s+SET\s|DELETE\s+FROM\s|WITH\s)"
)
# What a computed part of an f-string template holds at run time, by the expression's source.
EXAMPLES = {
    "assignments": "max_short_quantity = ?, market_collar_bps = ?, orders_per_second = ?, order_burst = ?",
    "_quote(sync, name)": "economy_account",  # the backup's emptiness check, once per table
}


@dataclass(frozen=True)
class Template:
    """One statement as written: its text, or the table and columns of an `insert_ignore`."""

    where: str
    text: str = ""
    insert_ignore: tuple[str, tuple[str, ...]] | None = None
    dialect: str | None = None
    """Set for a statement written for one database (a value of a dict keyed by dialect name)."""


class Unresolved(Exception):
    """An f-string template whose computed part has no entry in EXAMPLES."""


class TemplateFinder:
    """Walks one module and renders the statements it writes."""

    def __init__(self, path: Path) -> None:
        self.where = path.relative_to(PACKAGE.parent).as_posix()
        self.tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        self.found: list[Template] = []

    def templates(self) -> list[Template]:
        self._visit(self.tree, [assignments(self.tree.body)])
        return self.found

    def _visit(self, node: ast.AST, scopes: list[dict[str, ast.expr]]) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if node.name == "insert_ignore":  # `Sql.insert_ignore` writes templates: checked by its calls
                return
            scopes = [assignments(node.body), *scopes]
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            return  # a docstring
        if isinstance(node, ast.Dict) and is_per_dialect(node):
            for key, value in zip(node.keys, node.values, strict=True):
                assert isinstance(key, ast.Constant) and isinstance(key.value, str)
                template = self._template(value, scopes)
                if template is not None:
                    self.found.append(replace(template, dialect=key.value))
            return
        if isinstance(node, ast.expr):
            template = self._template(node, scopes)
            if template is not None:
                self.found.append(template)
                return
        for child in ast.iter_child_nodes(node):
            self._visit(child, scopes)

    def _template(self, node: ast.expr, scopes: list[dict[str, ast.expr]]) -> Template | None:
        where = f"{self.where}:{node.lineno}"
        if isinstance(node, ast.Call) and is_insert_ignore(node.func) and len(node.args) == 2:
            table, columns = (render(arg, scopes) for arg in node.args)
            if isinstance(table, str) and isinstance(columns, tuple):
                return Template(where, insert_ignore=(table, columns))
        try:
            text = render(node, scopes)
        except Unresolved as missing:
            raise AssertionError(f"{where}: add what `{{{missing}}}` holds to EXAMPLES") from None
        if isinstance(text, str) and STATEMENT.match(text):
            return Template(where, text=text)
        return None


def is_per_dialect(node: ast.Dict) -> bool:
    """`{"sqlite": …, "mysql": …, "postgresql": …}`: each statement runs on its own database only."""
    return bool(node.keys) and all(
        isinstance(key, ast.Constant) and key.value in DIALECTS for key in node.keys
    )


def is_insert_ignore(function: ast.expr) -> bool:
    """`sql.insert_ignore(...)`: the template `Sql` writes for a table and its columns."""
    return isinstance(function, ast.Attribute) and function.attr == "insert_ignore"


def assignments(body: list[ast.stmt]) -> dict[str, ast.expr]:
    """Names bound exactly once by a plain assignment in a body (nested functions excluded)."""
    bound: dict[str, ast.expr] = {}
    seen: set[str] = set()
    for node in walk_without_functions(body):
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    if target.id in seen:
                        bound.pop(target.id, None)
                    else:
                        bound[target.id] = node.value
                    seen.add(target.id)
    return bound


def walk_without_functions(body: list[ast.stmt]) -> Iterator[ast.AST]:
    pending: list[ast.AST] = list(body)
    while pending:
        node = pending.pop()
        yield node
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            pending.extend(ast.iter_child_nodes(node))


def render(node: ast.expr, scopes: list[dict[str, ast.expr]], depth: int = 0) -> str | tuple[str, ...] | None:
    """The string (or tuple of strings) an expression statically stands for, else None."""
    if depth > 20:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        for scope in scopes:
            if node.id in scope:
                return render(scope[node.id], scopes, depth + 1)
        return None
    if isinstance(node, ast.Tuple | ast.List):
        items = [render(item, scopes, depth + 1) for item in node.elts]
        strings = tuple(item for item in items if isinstance(item, str))
        return strings if len(strings) == len(items) else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = render(node.left, scopes, depth + 1), render(node.right, scopes, depth + 1)
        return left + right if isinstance(left, str) and isinstance(right, str) else None
    if isinstance(node, ast.JoinedStr):
        return render_fstring(node, scopes, depth)
    return None


def render_fstring(node: ast.JoinedStr, scopes: list[dict[str, ast.expr]], depth: int) -> str | None:
    """An f-string: constant parts as written, computed ones from their constants or EXAMPLES."""
    literal = "".join(str(part.value) for part in node.values if isinstance(part, ast.Constant))
    if not STATEMENT.match(literal):
        return None  # a message or a key, not a statement
    text = ""
    for part in node.values:
        if isinstance(part, ast.Constant):
            text += str(part.value)
        elif isinstance(part, ast.FormattedValue):
            value = render(part.value, scopes, depth + 1)
            source = ast.unparse(part.value)
            if not isinstance(value, str):
                if source not in EXAMPLES:
                    raise Unresolved(source)
                value = EXAMPLES[source]
            text += value
    return text


def every_template() -> list[Template]:
    """The statements written anywhere in the package, as often as they appear (a constant and its uses)."""
    return [
        template for path in sorted(PACKAGE.rglob("*.py")) for template in TemplateFinder(path).templates()
    ]


def each_once(templates: list[Template]) -> list[Template]:
    """One template per distinct statement, named by the first place it appears."""
    first: dict[tuple[str, tuple[str, tuple[str, ...]] | None, str | None], Template] = {}
    for template in templates:
        first.setdefault((template.text, template.insert_ignore, template.dialect), template)
    return list(first.values())


FOUND = every_template()
TEMPLATES = each_once(FOUND)


def statement(sql: Sql, template: Template) -> str:
    """The template as its caller runs it, `?` placeholders kept (`{in}` with two values)."""
    text = sql.insert_ignore(*template.insert_ignore) if template.insert_ignore else template.text
    return text.replace("{in}", "?, ?")


async def compile_only(db: Database, template: Template) -> None:
    """Have the database compile the statement against its schema without running it."""
    async with db.read() as session:
        sql = await Sql.of(session)
        if template.dialect not in (None, sql.dialect):
            return  # written for another database
        text = statement(sql, template)
        if " RETURNING " in text and not sql.has_returning:
            return  # callers only write RETURNING where `Sql.has_returning`
        if sql.dialect == "sqlite":
            await sql.all("EXPLAIN " + text, [None] * text.count("?"))
        elif sql.dialect == "postgresql":
            raw = await (await session.connection()).get_raw_connection()
            assert raw.driver_connection is not None  # asyncpg's connection, open while the session is
            await raw.driver_connection.prepare(translate(text, "postgresql"))
        else:  # PREPARE takes `?` itself
            await sql.execute(
                "PREPARE kyrios_template FROM ?", (translate(text, "mysql").replace("%s", "?"),)
            )
            await sql.execute("DEALLOCATE PREPARE kyrios_template")


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    try:
        yield database
    finally:
        await database.dispose()


async def test_every_hand_written_statement_compiles_against_the_schema(db: Database) -> None:
    broken = []
    for template in TEMPLATES:
        try:
            await compile_only(db, template)
        except Exception as exc:
            broken.append(f"{template.where}: {exc}")
    assert broken == [], "\n".join(broken)


def test_the_scan_finds_the_statements_of_every_kind() -> None:
    places = {template.where.split(":")[0] for template in FOUND}
    assert {
        "kyrios/features/economy/service.py",  # constants, a concatenation with {share}
        "kyrios/features/gacha/service.py",  # {lock}, insert_ignore with local columns
        "kyrios/exchange/rules.py",  # an f-string with {assignments}
        "kyrios/exchange/owner.py",  # statements written per dialect
        "kyrios/exchange/journal.py",  # {in} and {lock}
        "kyrios/web/ops.py",  # text("SELECT 1")
    } <= places
    texts = {template.text for template in TEMPLATES}
    assert (
        "UPDATE economy_account SET points = points - ? WHERE guild_id = ? AND user_id = ? AND points >= ?"
        in texts
    )
    assert "SELECT points FROM economy_account WHERE guild_id = ? AND user_id = ?{share}" in texts


@pytest.mark.parametrize(
    "text",
    [
        "SELECT point FROM economy_account WHERE guild_id = ?",
        "UPDATE economy_acount SET points = ? WHERE guild_id = ?",
        "INSERT INTO economy_ledger (guild_id, why) VALUES (?, ?)",
    ],
)
async def test_a_statement_naming_what_the_schema_lacks_fails(db: Database, text: str) -> None:
    with pytest.raises(Exception, match=r"(?i)column|relation|table|exist"):
        await compile_only(db, Template("example", text=text))
