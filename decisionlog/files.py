"""Files PeerCheck keeps in its data folder, readable by its own user only.

The decision log, the shared rate-limit counters and the session key live in ``data_dir``: the
folder is created ``0700`` and the files ``0600``, whatever the process's umask. SQLite gives its
``-wal`` and ``-shm`` files the database file's mode, so creating the database ``0600`` before
SQLite opens it covers them too. Files an older version left more open are narrowed on open.
"""

from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) ``0700``; an existing folder is left as it is: it may be
    one the operator chose and shares on purpose."""
    path = Path(path)
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, DIR_MODE)  # mkdir's mode is narrowed by the umask, never widened past it
    return path


def private_database(path: Path) -> Path:
    """Make sure the database file exists and it and its companions (``-wal``, ``-shm``) are
    ``0600`` before SQLite opens it (an empty file is an empty SQLite database)."""
    path = Path(path)
    private_dir(path.parent)
    if not path.exists():
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
        except FileExistsError:  # another process made it first
            pass
    for one in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if one.stat().st_mode & 0o777 != FILE_MODE:
                os.chmod(one, FILE_MODE)
        except FileNotFoundError:
            pass
        except PermissionError:
            pass  # not ours to change: the operator's choice
    return path
