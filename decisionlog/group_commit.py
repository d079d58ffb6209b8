"""Group commit: decisions appended from many requests at once share one transaction.

Each decision is stored before its answer goes out, so every answer waits for a commit — with
``synchronous=FULL`` an fsync of the SQLite WAL, a round trip for PostgreSQL. One writer thread
takes everything that arrived while the previous commit ran and commits it together: under
concurrent load one commit serves many requests, and a lone request waits no longer than before.
The guarantee is unchanged: a caller is told ``recorded`` only after its own decisions are
committed, and a failed commit fails every caller in it (all or nothing, as ``append``).

When a commit fails (a locked file, a database down), the log is not tried again for a while:
answers given meanwhile fail at once with ``LogUnavailable(backing_off=True)`` instead of each
waiting for its own lock timeout. The pause starts at ``backoff_first_s`` and doubles up to
``backoff_max_s`` while the log keeps failing; the first commit after a pause that succeeds ends
it. A full log (``LogFull``) fails fast by itself and starts no pause. Transitions are logged once
(``decision_log_unavailable`` with the pause, ``decision_log_recovered`` with how many decisions
went unrecorded), not per request.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from typing import Callable, Sequence

import structlog

from decisionlog.base import DecisionLog, DecisionRecord, LogFull, LogUnavailable

log = structlog.get_logger("peercheck.decisionlog")

BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 30.0
FULL_WARNING_INTERVAL_S = 60.0


class GroupCommit:
    """Submits appends to ``store`` through one writer thread, started on the first submit."""

    def __init__(self, store: DecisionLog, backoff_first_s: float = BACKOFF_FIRST_S,
                 backoff_max_s: float = BACKOFF_MAX_S, clock: Callable[[], float] = time.monotonic):
        self.store = store
        self.backoff_first_s = backoff_first_s
        self.backoff_max_s = backoff_max_s
        self._clock = clock
        self._pending: list[tuple[Sequence[DecisionRecord], Future]] = []
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._pause_s = 0.0          # the current pause; 0 while the log works
        self._retry_at = 0.0         # no commit is tried before this (clock time)
        self._failed_since = 0.0
        self._unrecorded = 0         # decisions refused since the log last worked
        self._full_warned: float | None = None
        self._is_full = False

    @property
    def state(self) -> str:
        """``ok``, ``unavailable`` (pausing after a failed commit) or ``full`` (at its size budget)."""
        if self._pause_s:
            return "unavailable"
        return "full" if self._is_full else "ok"

    def submit(self, records: Sequence[DecisionRecord]) -> Future:
        """A future that is done (None) once ``records`` are committed, or holds the store's error
        (``LogUnavailable`` when the writer is closed or pausing after a failure)."""
        done: Future = Future()
        with self._wake:
            if self._closed:
                done.set_exception(LogUnavailable("the decision log is closed (the service is stopping)"))
                return done
            if self._paused():
                self._unrecorded += len(records)
                done.set_exception(self._pausing())
                return done
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="decision-log-writer", daemon=True)
                self._thread.start()
            self._pending.append((records, done))
            self._wake.notify()
        return done

    def append(self, records: Sequence[DecisionRecord]) -> None:
        """Submit and wait: raises what the store raised."""
        self.submit(records).result()

    def close(self) -> None:
        """Commit what is pending, then stop the writer."""
        with self._wake:
            self._closed = True
            self._wake.notify()
            thread = self._thread
        if thread is not None:
            thread.join()

    @property
    def _name(self) -> str:
        return getattr(self.store, "name", type(self.store).__name__)

    def _paused(self) -> bool:
        return bool(self._pause_s) and self._clock() < self._retry_at

    def _pausing(self) -> LogUnavailable:
        wait = max(0.0, self._retry_at - self._clock())
        return LogUnavailable(f"the decision log failed recently; the next write is tried in {wait:.1f} s",
                              backing_off=True)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._pending and not self._closed:
                    self._wake.wait()
                group, self._pending = self._pending, []
                if not group and self._closed:
                    return
                if self._paused():  # arrived while the commit that started the pause was running
                    self._unrecorded += sum(len(batch) for batch, _ in group)
                    error = self._pausing()
                    for _, done in group:
                        done.set_exception(error)
                    continue
            records = [record for batch, _ in group for record in batch]
            try:
                self.store.append(records)
            except LogFull as exc:
                for _, done in group:
                    done.set_exception(exc)
                self._full(exc, len(records))
            except BaseException as exc:  # noqa: BLE001 - every waiter learns why its write failed
                for _, done in group:
                    done.set_exception(exc)
                self._failed(exc, len(records))
            else:
                for _, done in group:
                    done.set_result(None)
                self._worked()

    def _failed(self, exc: BaseException, count: int) -> None:
        with self._wake:
            now = self._clock()
            first = not self._pause_s
            if first:
                self._failed_since = now
            self._pause_s = min(self.backoff_max_s, self._pause_s * 2 if self._pause_s else self.backoff_first_s)
            self._retry_at = now + self._pause_s
            self._unrecorded += count
            pause = self._pause_s
        log.warning("decision_log_unavailable", store=self._name, operation="write", error=str(exc),
                    retry_in_s=pause, first_failure=first)

    def _full(self, exc: LogFull, count: int) -> None:
        now = self._clock()
        with self._wake:
            self._unrecorded += count
            self._is_full = True
            warn = self._full_warned is None or now - self._full_warned >= FULL_WARNING_INTERVAL_S
            if warn:
                self._full_warned = now
        if warn:
            log.warning("decision_log_full", store=self._name, error=str(exc))

    def _worked(self) -> None:
        if not self._pause_s and not self._unrecorded:
            return
        with self._wake:
            down_for = self._clock() - self._failed_since if self._pause_s else 0.0
            unrecorded, self._unrecorded = self._unrecorded, 0
            self._pause_s = 0.0
            self._is_full = False
            self._full_warned = None
        log.info("decision_log_recovered", store=self._name, unrecorded=unrecorded, down_for_s=round(down_for, 2))
