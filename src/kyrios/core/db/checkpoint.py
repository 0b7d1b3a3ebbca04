"""Checkpoint a SQLite write-ahead log from a helper thread, so no commit stalls on it.

SQLite copies the WAL back into the database file (a checkpoint, with its fsyncs) inside the
commit that pushes the log past 1,000 pages: every few hundred commits one of them, and the
commands waiting on it, takes milliseconds longer. A PASSIVE checkpoint every `interval`
seconds on a connection of its own keeps the log short, so that commit never comes; SQLite
releases the GIL while it copies, and a passive checkpoint never blocks readers or the writer.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 0.05


class WalCheckpointer:
    """A daemon thread running `PRAGMA wal_checkpoint(PASSIVE)` on one database file."""

    def __init__(self, path: str, *, uri: bool = False, interval: float = INTERVAL_SECONDS) -> None:
        self.path = path
        self.uri = uri
        self.interval = interval
        self.checkpoints = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start checkpointing (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="kyrios-wal-checkpoint", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop and wait for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        warned = False
        while not self._stop.wait(self.interval):
            try:
                if conn is None:
                    conn = sqlite3.connect(
                        self.path, isolation_level=None, check_same_thread=False, uri=self.uri
                    )
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                self.checkpoints += 1
            except sqlite3.Error as exc:  # e.g. the file is not there yet; commits checkpoint then
                if not warned:
                    log.warning("background WAL checkpoint of %s failed: %s", self.path, exc)
                    warned = True
        if conn is not None:
            conn.close()
