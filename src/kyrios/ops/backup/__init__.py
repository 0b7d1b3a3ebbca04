"""Backups: `kyrios backup`, `kyrios restore`, `kyrios backup verify` and the daily run in `kyrios up`.

`archive` is the file format, `dumpers` talk to each kind of database, `retention` picks what to
keep, `locations` hold the files, `metrics` report the outcomes, `flows` puts them together.
"""

from kyrios.ops.backup.archive import BackupError, Manifest
from kyrios.ops.backup.flows import BackupResult, VerifyResult, create_backup, restore, verify_newest

__all__ = [
    "BackupError",
    "BackupResult",
    "Manifest",
    "VerifyResult",
    "create_backup",
    "restore",
    "verify_newest",
]
