"""Decision-log figures for docs/reliability.md (not a test; run it by hand):

    .venv/bin/python tests/measure_decision_log.py

1. Bytes per stored decision: the API's example profile (one peer, 13 findings, 41 rules needing
   information) and a 500-peer profile (its peer 500 times), as the growth of the SQLite file's
   used pages per decision, and the length of the stored record.
2. Answer latency while another process holds the log's write lock (``BEGIN EXCLUSIVE``): one
   client x 20 evaluations, then 8 clients x 5, in-process (TestClient), and how long after the
   lock is released decisions are recorded again.
"""

from __future__ import annotations

import copy
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient  # noqa: E402

from api.main import create_app  # noqa: E402
from api.routes.evaluations import EXAMPLE  # noqa: E402
from api.settings import Settings  # noqa: E402


def five_hundred_peers() -> dict:
    data = copy.deepcopy(EXAMPLE)
    peer = data["peers"][0]
    data["peers"] = [{**peer, "id": f"p{i}", "title": f"Peer Recovery Specialist {i}"} for i in range(500)]
    return data


def used_bytes(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = conn.execute("PRAGMA page_count").fetchone()[0] - conn.execute("PRAGMA freelist_count").fetchone()[0]
        return pages * conn.execute("PRAGMA page_size").fetchone()[0]
    finally:
        conn.close()


def bytes_per_decision(profile: dict, count: int) -> tuple[float, int]:
    data_dir = Path(tempfile.mkdtemp(prefix="peercheck-measure-"))
    path = data_dir / "decisions.sqlite3"
    with TestClient(create_app(Settings(data_dir=data_dir, log_level="WARNING"))) as client:
        client.post("/v1/evaluations", json=profile)
        before = used_bytes(path)
        for _ in range(count):
            assert client.post("/v1/evaluations", json=profile).json()["recorded"]
        after = used_bytes(path)
    conn = sqlite3.connect(path)
    record = conn.execute("SELECT length(decision) FROM decisions LIMIT 1").fetchone()[0]
    conn.close()
    return (after - before) / count, record


def spread(seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    return f"median {statistics.median(ms):.1f} ms, max {ms[-1]:.1f} ms"


def locked_latency() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="peercheck-measure-"))
    with TestClient(create_app(Settings(data_dir=data_dir, log_level="ERROR"))) as client:
        def timed() -> tuple[float, bool]:
            started = time.perf_counter()
            recorded = client.post("/v1/evaluations", json=EXAMPLE).json()["recorded"]
            return time.perf_counter() - started, recorded

        unlocked = [timed()[0] for _ in range(20)]
        other = sqlite3.connect(data_dir / "decisions.sqlite3", isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        one = [timed() for _ in range(20)]
        many: list[tuple[float, bool]] = []

        def client_loop() -> None:
            for _ in range(5):
                many.append(timed())

        threads = [threading.Thread(target=client_loop) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        other.execute("ROLLBACK")
        other.close()
        released = time.perf_counter()
        while not timed()[1] and time.perf_counter() - released < 120:
            time.sleep(0.05)
        recovered = time.perf_counter() - released
    print(f"unlocked, 1 client x 20: {spread(unlocked)}")
    print(f"locked, 1 client x 20: {spread([s for s, _ in one])}; recorded {sum(r for _, r in one)} of 20")
    print(f"locked, 8 clients x 5: {spread([s for s, _ in many])}; recorded {sum(r for _, r in many)} of 40")
    print(f"recorded again {recovered:.2f} s after the lock was released")


def main() -> None:
    for name, profile, count in (("API example (1 peer)", EXAMPLE, 50), ("500 peers", five_hundred_peers(), 3)):
        per, record = bytes_per_decision(profile, count)
        print(f"{name}: {per / 1024:,.1f} KiB per decision in the file; stored record {record:,} bytes")
    locked_latency()


if __name__ == "__main__":
    main()
