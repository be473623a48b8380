"""One bridge per database file: `serve` holds an exclusive lock on ``<database>.lock``.

Two bridges on one file would both take its carts and charge them (each checkout would be
created twice at the processor). The lock is an `fcntl.flock` held for the life of `serve`;
the kernel lets it go when the process ends, however it ends (a crash, SIGKILL), so a
restart never finds a stale lock. A second `serve` refuses to start (`AlreadyServingError`).
"""

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


class AlreadyServingError(RuntimeError):
    """Another bridge serves this database file."""


def lock_path(database: Path) -> Path:
    """The lock file of a database file."""
    return database.with_name(f"{database.name}.lock")


@contextlib.contextmanager
def held(database: Path) -> Iterator[Path]:
    """Hold the database's lock while the block runs (`AlreadyServingError` if another does)."""
    path = lock_path(database)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AlreadyServingError(
                f"another store bridge is running on {database} (it holds {path}); "
                "stop it first: two bridges on one database would charge carts twice"
            ) from None
        yield path
    finally:
        os.close(fd)
