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
    """The store cannot be read or written right now (read-only, locked, full, unreachable)."""


@dataclass(frozen=True)
class DecisionRecord:
    """One decision to append: ``decision_json`` is the decision as returned, JSON text serialised
    once by the caller (the store writes it as it is); ``profile_json`` only when profiles are kept."""

    decision_id: str
    evaluated_at: datetime
    ruleset_version: str
    profile_digest: str
    status: str
    kind: str  # which endpoint produced it: evaluation, batch, batch-job, compare, cds, report
    decision_json: str
    profile_json: str | None = None
    external_id: str | None = None  # the caller's own id for what was evaluated
    labels_json: str | None = None  # the caller's labels, a JSON object of strings
    job_id: str | None = None  # the batch job the decision belongs to
    cards: tuple["CardRef", ...] = ()  # CDS Hooks cards that stood for its findings


@dataclass(frozen=True)
class CardRef:
    """A CDS Hooks card and the finding it stood for, so that feedback on the card can be recorded
    against the decision (and an override applied to the same program later)."""

    card_uuid: str
    rule_id: str
    subject: str  # '' for the program, '/peers/N' for a peer
    peer_id: str | None
    program_key: str | None


@dataclass(frozen=True)
class StoredDecision:
    decision_id: str
    kind: str
    logged_at: datetime
    decision: dict[str, Any]
    profile: dict[str, Any] | None
    external_id: str | None = None
    labels: dict[str, str] | None = None
    job_id: str | None = None


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


class DecisionLog(ABC):
    """A store of decisions. Thread-safe; every method may raise ``LogUnavailable``.

    Beside the decisions, a store keeps what the service's other features need to share between
    workers and replicas (decisionlog/sql.py): they run SQL through ``transaction``."""

    name: str = "abstract"
    dialect: Any = None  # decisionlog.sql.Dialect

    def __init__(self, retention_days: int, prune_interval_s: float):
        self.retention_days = retention_days
        self.prune_interval_s = prune_interval_s
        self._last_prune = 0.0
        self._prune_lock = threading.Lock()

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
        transaction holds SQLite's write lock (other writers wait) for its whole length."""

    @abstractmethod
    def prune(self) -> int:
        """Delete decisions older than the retention period; return how many went."""

    @abstractmethod
    def close(self) -> None:
        """Close every connection this store opened."""

    def cutoff(self) -> float | None:
        """Unix time before which decisions are expired, or None when they are kept forever."""
        if self.retention_days <= 0:
            return None
        return time.time() - self.retention_days * 86400

    def prune_if_due(self) -> None:
        """Prune at most once per interval; called after writes, so it costs a clock read otherwise.
        A failed prune is logged, never raised: the decisions just written are stored."""
        if time.monotonic() - self._last_prune < self.prune_interval_s:
            return
        if not self._prune_lock.acquire(blocking=False):
            return
        try:
            self._last_prune = time.monotonic()
            removed = self.prune()
            if removed:
                log.info("decision_log_pruned", store=self.name, removed=removed, retention_days=self.retention_days)
        except LogUnavailable as exc:
            log.warning("decision_log_prune_failed", store=self.name, error=str(exc))
        finally:
            self._prune_lock.release()
