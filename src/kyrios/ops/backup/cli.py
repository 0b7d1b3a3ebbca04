"""`kyrios backup`, `kyrios backup verify` and `kyrios restore FILE`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

from kyrios.core.clock import SystemClock
from kyrios.ops.backup.archive import BackupError
from kyrios.ops.backup.dumpers import Progress as OnProgress
from kyrios.ops.backup.flows import create_backup, restore, verify_newest
from kyrios.settings import Settings

T = TypeVar("T")

app = typer.Typer(help="Back up the database (`kyrios backup`), or check the newest backup restores.")
console = Console()


@contextmanager
def _bar(label: str) -> Iterator[OnProgress]:
    """A Rich progress bar fed with (bytes done, bytes in all or None)."""
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(label, total=None)

        def update(done: int, total: int | None) -> None:
            progress.update(task, completed=done, total=total)

        yield update


def _run(work: Callable[[], Awaitable[T]]) -> T:
    try:
        return asyncio.run(work())  # type: ignore[arg-type]
    except BackupError as error:
        console.print(f"[red]✗ {error}[/red]")
        raise typer.Exit(1) from None


@app.callback(invoke_without_command=True)
def backup(ctx: typer.Context) -> None:
    """Back up the database now: compressed, checksummed, encrypted when KYRIOS_BACKUP_KEY is set,
    copied to KYRIOS_BACKUP_COPY_TO, and old backups pruned (7 daily, 13 weekly by default)."""
    if ctx.invoked_subcommand is not None:
        return
    settings = Settings()
    with _bar("backing up") as bar:
        result = _run(lambda: create_backup(settings, now=SystemClock().now(), progress=bar))
    manifest = result.manifest
    sealed = "encrypted, " if manifest.encryption else ""
    console.print(
        f"[green]✓ {result.path}[/green] ({manifest.kind}, {manifest.dump_bytes:,} bytes dumped, "
        f"{manifest.stored_bytes:,} stored, {sealed}sha256 {manifest.sha256[:12]}…, {result.seconds:.1f} s)"
    )
    if not manifest.encryption:
        console.print("[yellow]not encrypted: set KYRIOS_BACKUP_KEY to encrypt backups[/yellow]")
    if result.copied_to:
        console.print(f"copied to {result.copied_to}")
    for name in result.removed:
        console.print(f"removed {name} (retention)")


@app.command()
def verify() -> None:
    """Restore the newest backup into a scratch database and check its invariants; exit 1 on failure."""
    settings = Settings()
    result = _run(lambda: verify_newest(settings))
    if not result.ok:
        for problem in result.problems:
            console.print(f"[red]✗ {problem}[/red]")
        console.print(f"[red]✗ {result.path} restores, but its invariants do not hold[/red]")
        raise typer.Exit(1)
    console.print(f"[green]✓ {result.path} restores and every invariant holds[/green]")


def restore_command(
    file: Annotated[Path, typer.Argument(help="The backup file to restore")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace a database that already holds data")
    ] = False,
) -> None:
    """Restore a backup into the configured database (stop `kyrios up` first). The file is checked
    whole (checksum, key) before anything is changed; a database holding data needs --force."""
    settings = Settings()
    with _bar("restoring") as bar:
        manifest = _run(lambda: restore(settings, file, force=force, progress=bar))
    heads = ", ".join(manifest.schema_heads)
    console.print(f"[green]✓ restored {file}[/green] (made {manifest.created_at}, schema {heads})")
