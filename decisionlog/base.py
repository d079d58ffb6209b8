"""What every store takes and gives back, and the shared retention bookkeeping."""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Sequence

import structlog

log = structlog.get_logger("peercheck.decisionlog")


class ConfigError(RuntimeError):
    """The decision log is configured in a way that cannot work; start-up should stop."""


class LogUnavailable(RuntimeError):
    """The store cannot be read or written right now (read-only, locked, full, unreachable).
    ``backing_off``: raised without trying, because a recent write failed (see group_commit)."""

    def __init__(self, message: str, backing_off: bool = False):
        super().__init__(message)
        self.backing_off = backing_off


class LogFull(LogUnavailable):
    """The stored decisions have reached the size budget; nothing more is stored until pruning frees room."""


@dataclass(frozen=True)
class DecisionRecord:
    """One decision to append: ``decision_json`` is the caller's record of it, JSON text serialised
    once by the caller (the store writes it as it is), in the caller's ``record_format``;
    ``profile_json`` only when profiles are kept."""

    decision_id: str
    evaluated_at: datetime
    ruleset_version: str
    profile_digest: str
    status: str
    kind: str  # which endpoint produced it: evaluation, batch, batch-job, compare, cds, report
    decision_json: str
    profile_json: str | None = None
    record_format: int = 1
    external_id: str | None = None  # the caller's own id for what was evaluated
    labels_json: str | None = None  # the caller's labels, a JSON object of strings
    job_id: str | None = None  # the batch job the decision belongs to
    cards: tuple["CardRef", ...] = ()  # CDS Hooks cards that stood for its findings


@dataclass(frozen=True)
class CardRef:
    """A CDS Hooks card and the finding it stood for, so that feedback on the card can be recorded
    against the decision (and an override applied to the same program later). No peer id is kept:
    ``peer_key`` is a hash of the program key and the peer's id, recomputed to match it later."""

    card_uuid: str
    rule_id: str
    subject: str  # '' for the program, '/peers/N' for a peer
    peer_key: str | None
    program_key: str | None


@dataclass(frozen=True)
class StoredDecision:
    decision_id: str
    kind: str
    logged_at: datetime
    decision: dict[str, Any]
    profile: dict[str, Any] | None
    ruleset_version: str = ""
    record_format: int = 1
    external_id: str | None = None
    labels: dict[str, str] | None = None
    job_id: str | None = None


# A record upgrade: (record JSON in an older format, its ruleset version) -> record JSON in the
# current format; supplied by the caller, who owns the format (see ``DecisionLog.upgrade_records``).
Upgrade = Callable[[str, str], str]


class ThreadConnections:
    """One database connection per thread (drivers forbid sharing them), remembered so that all
    can be closed at shutdown. ``close`` closes one connection, swallowing the driver's errors."""

    def __init__(self, close: Callable[[Any], None]):
        self._close = close
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()

    def current(self) -> Any:
        return getattr(self._local, "conn", None)

    def remember(self, conn: Any) -> Any:
        self._local.conn = conn
        with self._lock:
            self._all.append(conn)
        return conn

    def drop(self) -> None:
        """Forget and close this thread's connection after an error; the next call starts afresh."""
        conn = self.current()
        self._local.conn = None
        if conn is None:
            return
        with self._lock:
            if conn in self._all:
                self._all.remove(conn)
        self._close(conn)

    def close_all(self) -> None:
        with self._lock:
            connections, self._all = self._all, []
        for conn in connections:
            self._close(conn)
        self._local = threading.local()


MEASURE_INTERVAL_S = 10.0  # how often the size is read again while below the budget
FULL_RECHECK_S = 1.0       # ... and while at it


class DecisionLog(ABC):
    """A store of decisions. Thread-safe; every method may raise ``LogUnavailable``.

    Besides decisions, a store keeps ``texts`` by ruleset version (one document per version,
    which the caller uses to render its records) and its own schema version, upgraded in place
    by numbered migrations at start-up. ``wait_s`` bounds how long a write waits for a lock;
    ``max_bytes`` (0: none) is the size budget, past which ``append`` raises ``LogFull``."""

    name: str = "abstract"
    dialect: Any = None  # decisionlog.sql.Dialect: how the tables beside the decisions are reached

    def __init__(self, retention_days: int, prune_interval_s: float, wait_s: float = 0.25, max_bytes: int = 0):
        self.retention_days = retention_days
        self.prune_interval_s = prune_interval_s
        self.wait_s = wait_s
        self.max_bytes = max_bytes
        self._last_prune = 0.0
        self._prune_lock = threading.Lock()
        self._used: int | None = None  # bytes, as last measured plus what was appended since
        self._measured_at = 0.0

    @abstractmethod
    def start(self) -> None:
        """Open the store, create the table if needed and prune expired rows."""

    @abstractmethod
    def append(self, records: Sequence[DecisionRecord]) -> None:
        """Store all records in one transaction, or none (raising ``LogUnavailable``)."""

    @abstractmethod
    def get(self, decision_id: str) -> StoredDecision | None:
        """The stored decision, or None when no such id is stored (or it was pruned)."""

    @abstractmethod
    def transaction(self, write: bool = True) -> AbstractContextManager[Any]:
        """A ``decisionlog.sql.Tx`` inside one transaction, committed when the block ends without
        an error and rolled back otherwise; driver errors become ``LogUnavailable``. A write
        transaction holds SQLite's write lock (other writers wait) for its whole length. For what
        the service keeps beside the decisions (decisionlog/sql.py)."""

    @abstractmethod
    def prune(self) -> int:
        """Delete decisions older than the retention period; return how many went."""

    @abstractmethod
    def close(self) -> None:
        """Close every connection this store opened."""

    @abstractmethod
    def put_texts(self, ruleset_version: str, texts_json: str) -> None:
        """Keep the texts document of a ruleset version (once: an existing one is left as it is)."""

    @abstractmethod
    def get_texts(self, ruleset_version: str) -> str | None:
        """The texts document of a ruleset version, or None."""

    @abstractmethod
    def stored_bytes(self) -> int:
        """Bytes the stored decisions and texts take (what the size budget is compared with)."""

    @abstractmethod
    def upgrade_records(self, upgrade: Upgrade, to_format: int, batch: int = 200) -> int:
        """Rewrite every record older than ``to_format`` with ``upgrade``, a batch per transaction,
        and leave nothing of the old records behind in the store's files; return how many."""

    def forget_cleared(self) -> None:
        """Make rows just cleared or deleted unreadable in the store's files too, best effort (a
        store whose files keep old versions of rows, such as SQLite's write-ahead log, overrides it);
        never raises."""

    def check_room(self, records: Sequence[DecisionRecord]) -> int:
        """Raise ``LogFull`` when ``records`` would take the store past its budget; else the bytes
        they add, to be passed to ``took_room`` once they are stored. The estimate errs high (the
        JSON text x 1.5, plus the index entries; measured, a stored row takes about 1.2 x its JSON),
        so the store stops short of the budget rather than past it; the true size is read again
        every ``MEASURE_INTERVAL_S``, and every ``FULL_RECHECK_S`` while it looks full."""
        incoming = sum((len(r.decision_json) + len(r.profile_json or "")) * 3 // 2 + 256 for r in records)
        if not self.max_bytes:
            return incoming
        now = time.monotonic()
        stale = now - self._measured_at >= MEASURE_INTERVAL_S
        looks_full = self._used is not None and self._used + incoming > self.max_bytes
        if self._used is None or stale or (looks_full and now - self._measured_at >= FULL_RECHECK_S):
            self._used, self._measured_at = self.stored_bytes(), now
        if self._used + incoming > self.max_bytes:
            raise LogFull(f"the decision log has reached its size budget of {self.max_bytes // (1024 * 1024)} MiB "
                          f"({self._used:,} bytes stored)")
        return incoming

    def took_room(self, incoming: int) -> None:
        if self._used is not None:
            self._used += incoming

    def cutoff(self) -> float | None:
        """Unix time before which decisions are expired, or None when they are kept forever."""
        if self.retention_days <= 0:
            return None
        return time.time() - self.retention_days * 86400

    def prune_if_due(self) -> None:
        """Prune at most once per interval; called after writes, so it costs a clock read otherwise.
        A failed prune is logged, never raised: the decisions just written are stored."""
        if time.monotonic() - self._last_prune < self.prune_interval_s:  # expiring rows go even without retention
            return
        if not self._prune_lock.acquire(blocking=False):
            return
        try:
            self._last_prune = time.monotonic()
            removed = self.prune()
            self._measured_at = 0.0  # measure the size afresh on the next write
            if removed:
                log.info("decision_log_pruned", store=self.name, removed=removed, retention_days=self.retention_days)
        except LogUnavailable as exc:
            log.warning("decision_log_prune_failed", store=self.name, error=str(exc))
        finally:
            self._prune_lock.release()
