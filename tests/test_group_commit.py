"""The group-commit writer: concurrent appends share commits, each caller waits for its own."""

import threading
import time

import pytest

from decisionlog import LogUnavailable
from decisionlog.group_commit import GroupCommit


class SlowStore:
    """Records each append (one transaction) and takes a while, like an fsync."""

    def __init__(self, fail: bool = False):
        self.transactions: list[list[str]] = []
        self.fail = fail

    def append(self, records):
        time.sleep(0.01)
        if self.fail:
            raise LogUnavailable("disk full")
        self.transactions.append(list(records))


def test_concurrent_appends_share_commits_and_all_are_stored():
    store = SlowStore()
    writer = GroupCommit(store)
    done = []

    def client(n):
        for i in range(10):
            writer.append([f"{n}-{i}"])  # returns only once committed
            done.append(f"{n}-{i}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stored = [r for tx in store.transactions for r in tx]
    assert sorted(stored) == sorted(done) and len(stored) == 160
    assert len(store.transactions) < 160  # some commits carried several requests' records
    writer.close()


def test_a_failed_commit_fails_each_caller_in_it():
    writer = GroupCommit(SlowStore(fail=True))
    futures = [writer.submit([str(i)]) for i in range(5)]
    for future in futures:
        with pytest.raises(LogUnavailable):
            future.result(timeout=5)
    writer.close()


def test_close_commits_what_is_pending_then_refuses():
    store = SlowStore()
    writer = GroupCommit(store)
    futures = [writer.submit([str(i)]) for i in range(20)]
    writer.close()
    assert all(f.done() and f.exception() is None for f in futures)
    assert sorted(r for tx in store.transactions for r in tx) == sorted(str(i) for i in range(20))
    with pytest.raises(LogUnavailable):
        writer.submit(["late"]).result(timeout=1)
