"""Group commit: decisions appended from many requests at once share one transaction.

Each decision is stored before its answer goes out, so every answer waits for a commit — with
``synchronous=FULL`` an fsync of the SQLite WAL, a round trip for PostgreSQL. One writer thread
takes everything that arrived while the previous commit ran and commits it together: under
concurrent load one commit serves many requests, and a lone request waits no longer than before.
The guarantee is unchanged: a caller is told ``recorded`` only after its own decisions are
committed, and a failed commit fails every caller in it (all or nothing, as ``append``).
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Sequence

from decisionlog.base import DecisionLog, DecisionRecord, LogUnavailable

class GroupCommit:
    """Submits appends to ``store`` through one writer thread, started on the first submit."""

    def __init__(self, store: DecisionLog):
        self.store = store
        self._pending: list[tuple[Sequence[DecisionRecord], Future]] = []
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, records: Sequence[DecisionRecord]) -> Future:
        """A future that is done (None) once ``records`` are committed, or holds the store's error
        (``LogUnavailable`` when the writer is already closed)."""
        done: Future = Future()
        with self._wake:
            if self._closed:
                done.set_exception(LogUnavailable("the decision log is closed (the service is stopping)"))
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

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._pending and not self._closed:
                    self._wake.wait()
                group, self._pending = self._pending, []
                if not group and self._closed:
                    return
            records = [record for batch, _ in group for record in batch]
            try:
                self.store.append(records)
            except BaseException as exc:  # noqa: BLE001 - every waiter learns why its write failed
                for _, done in group:
                    done.set_exception(exc)
            else:
                for _, done in group:
                    done.set_result(None)
