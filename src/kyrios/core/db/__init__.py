"""The database layer: everything a slice may use of it is exported here.

A slice's unit of work goes through `Database.run(work)` (one all-or-nothing transaction,
retried whole after a deadlock, shared with other commands by group commit on SQLite) and its
reads through `Database.read()`. Hot paths write driver-level statements with `Sql`, and cache
rarely changing configuration with `cache_of` / `command_memo`. How that is made fast (the
inline SQLite connection, group commit, the WAL checkpoint thread) stays inside this package:
the modules below are private, and an import-linter contract keeps the other layers out of them.
`Database.transaction()` is for `kyrios.core` and the exchange's single writers only.
"""

from kyrios.core.db.cache import VersionedCache, cache_of, command_memo
from kyrios.core.db.database import MAX_ATTEMPTS, Database, insert_ignore, is_retryable, normalise_url
from kyrios.core.db.sql import Sql

__all__ = [
    "MAX_ATTEMPTS",
    "Database",
    "Sql",
    "VersionedCache",
    "cache_of",
    "command_memo",
    "insert_ignore",
    "is_retryable",
    "normalise_url",
]
