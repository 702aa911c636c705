"""Online backup and restore of the SQLite database (PostgreSQL: pg_dump, see docs/security.md).

The backup uses SQLite's own backup API in one step, which copies every page under one read
transaction: in WAL mode the service goes on reading and writing meanwhile, and the copy is the
database as it was at one commit, never half of a transaction. It is written beside the target
and renamed into place, so a crash never leaves a half-written file under the backup's name.

Restoring copies the backup into the configured database with the same API, which takes the
database's write lock and writes through its WAL, so no stale ``-wal`` file can be replayed over
it afterwards. Both check the result: ``PRAGMA integrity_check`` and the audit chain.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine


class BackupError(Exception):
    """Something the operator must fix; the message says what."""


@dataclass
class Copied:
    path: Path
    tables: int
    rows: int


def sqlite_path(engine: Engine) -> Path:
    if engine.dialect.name != "sqlite":
        raise BackupError(
            "This command copies a SQLite database. For PostgreSQL use pg_dump -Fc and "
            "pg_restore (docs/security.md, Backups)."
        )
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError("The database is in memory: there is no file to back up.")
    return Path(database).resolve()


def integrity_problems(path: Path) -> list[str]:
    try:
        with _open(path, read_only=True) as connection:
            rows = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as error:  # not a database at all, or a damaged header
        return [str(error)]
    return [] if rows == ["ok"] else rows


def _open(path: Path, read_only: bool = False) -> _Closing:
    if read_only:
        connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=30)
    else:
        connection = sqlite3.connect(path, timeout=30)
    connection.execute("PRAGMA busy_timeout = 30000")
    return _Closing(connection)


class _Closing:
    """A sqlite3 connection that closes when its ``with`` block ends (sqlite3's only commits)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def __enter__(self) -> sqlite3.Connection:
        return self.connection

    def __exit__(self, *_exc: object) -> None:
        self.connection.close()


def _count_rows(path: Path) -> tuple[int, int]:
    with _open(path, read_only=True) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        # Names come from the file's own schema; quoted as identifiers all the same.
        quoted = ['"' + name.replace('"', '""') + '"' for name in tables]
        rows = sum(
            connection.execute(f"SELECT count(*) FROM {name}").fetchone()[0]  # noqa: S608
            for name in quoted
        )
    return len(tables), rows


def backup(source: Path, target: Path) -> Copied:
    """Copy the live database at ``source`` to a new file ``target`` (never overwritten)."""
    if not source.exists():
        raise BackupError(f"There is no database at {source}.")
    target = target.resolve()
    if target.exists():
        raise BackupError(f"{target} exists already: choose a new name for each backup.")
    if target == source:
        raise BackupError("The backup must be a different file from the database.")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    partial.unlink(missing_ok=True)
    try:
        with _open(source) as live, _open(partial) as copy:
            # pages=-1: every page in one step, under one read transaction (a consistent copy).
            live.backup(copy, pages=-1)
            # A backup is one file: no WAL beside it.
            copy.execute("PRAGMA journal_mode = DELETE")
        os.chmod(partial, 0o600)
        problems = integrity_problems(partial)
        if problems:
            raise BackupError("The copy failed its integrity check: " + "; ".join(problems[:5]))
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    tables, rows = _count_rows(target)
    return Copied(target, tables, rows)


def has_tables(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    with _open(path, read_only=True) as connection:
        found = connection.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
        ).fetchone()[0]
    return found > 0


def restore(backup_file: Path, target: Path, replace: bool) -> Copied:
    """Copy a backup into the database at ``target``; refuses to overwrite data unless told."""
    backup_file = backup_file.resolve()
    if not backup_file.exists():
        raise BackupError(f"There is no backup at {backup_file}.")
    if backup_file == target:
        raise BackupError("The backup is the database itself.")
    problems = integrity_problems(backup_file)
    if problems:
        raise BackupError("The backup fails its integrity check: " + "; ".join(problems[:5]))
    if has_tables(target) and not replace:
        raise BackupError(
            f"{target} holds a database already. Stop the service and give --replace to "
            "overwrite it with the backup (take a backup of it first)."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with _open(backup_file, read_only=True) as source, _open(target) as live:
        source.backup(live, pages=-1)
    problems = integrity_problems(target)
    if problems:
        raise BackupError("The restored database fails its integrity check: " + "; ".join(problems))
    tables, rows = _count_rows(target)
    return Copied(target, tables, rows)
