"""The decision log: every decision PeerCheck returns, appended to a store, Open Policy Agent style.

Decision logging is its own part, apart from the HTTP layer (it never imports ``api``) and from
the engine: it stores plain JSON records and reads them back by id. What goes in a record is
decided by the caller; PeerCheck stores an audit record of each decision (engine/audit.py: rule
ids, subjects by position, severities, non-identifying evidence, counts — texts by reference to the
ruleset version, whose texts are kept once) and, only when configured, the profile. Each record
carries its format number, so a caller can upgrade older records in place (``upgrade_records``).

Two stores:

* **SQLite** (default, embedded): ``<data_dir>/decisions.sqlite3`` in WAL mode, stdlib ``sqlite3``,
  one connection per thread and one writer at a time.
* **PostgreSQL**: when ``DATABASE_URL`` is ``postgresql://…``; needs ``psycopg`` (the ``postgres``
  extra). A PostgreSQL URL without psycopg installed is a configuration error at start-up,
  never a silent fall-back to SQLite.

A store that cannot be written (read-only, locked, disk full, server down) raises
``LogUnavailable``; the caller decides what that means (PeerCheck still answers, with
``recorded: false``).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from decisionlog.base import ConfigError, DecisionLog, DecisionRecord, LogFull, LogUnavailable, StoredDecision

SQLITE_FILE = "decisions.sqlite3"
POSTGRES_SCHEMES = ("postgres", "postgresql")


def open_log(*, database_url: str | None, data_dir: Path, retention_days: int,
             prune_interval_s: float = 3600.0, sqlite_sync: str = "full", wait_s: float = 0.25,
             max_bytes: int = 0) -> DecisionLog:
    """Build the configured store without touching it yet (``start`` opens it).

    Raises ``ConfigError`` for a URL this package cannot serve, including a PostgreSQL URL when
    psycopg is not installed. The URL itself is never put in a message: it may hold a password."""
    if database_url:
        scheme = urlsplit(database_url).scheme.lower()
        if scheme in POSTGRES_SCHEMES:
            try:
                import psycopg  # noqa: F401
            except ImportError:
                raise ConfigError(
                    "DATABASE_URL points to PostgreSQL, but psycopg is not installed. Install the extra "
                    "(pip install 'peercheck[postgres]') or unset DATABASE_URL to use SQLite under the data directory."
                ) from None
            from decisionlog.postgres import PostgresLog

            return PostgresLog(database_url, retention_days, prune_interval_s, wait_s=wait_s, max_bytes=max_bytes)
        raise ConfigError(
            f"DATABASE_URL has scheme {scheme or '(none)'!r}; only postgresql:// is supported "
            "(unset it to use SQLite under the data directory)."
        )
    from decisionlog.sqlite import SQLiteLog

    return SQLiteLog(Path(data_dir) / SQLITE_FILE, retention_days, prune_interval_s, synchronous=sqlite_sync,
                     wait_s=wait_s, max_bytes=max_bytes)


__all__ = ["ConfigError", "DecisionLog", "DecisionRecord", "LogFull", "LogUnavailable", "StoredDecision", "open_log"]
