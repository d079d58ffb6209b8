"""HTTP benchmark: evaluation throughput and latency against a no-op endpoint on the same server.

The server is the real app (``api.main.create_app``) with one extra route, ``POST /bench/noop``,
that accepts the same JSON body and returns a constant: the ratio between the two isolates
PeerCheck's own cost from uvicorn's and the HTTP client's. Both run in the same server: first one
uvicorn worker, as ``make run`` serves, then two (one per core, as docs/deployment.md
recommends); clients are threads with keep-alive connections on the same machine.

    python -m bench.http            # prints the table
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from fastapi import Request  # module level: the route below resolves its annotation here

ROOT = Path(__file__).resolve().parent.parent


def bench_app():
    """The real app plus the no-op route; ``uvicorn bench.http:bench_app --factory`` serves it."""
    from api.main import create_app

    app = create_app()

    @app.post("/bench/noop", include_in_schema=False)
    async def noop(request: Request) -> dict:
        await request.body()
        return {"ok": True}

    return app


def start(port: int, workers: int = 1, sync: str = "full") -> subprocess.Popen:
    """A uvicorn server (``workers`` processes) on ``port`` with a fresh decision log."""
    from bench.load import wait_healthy

    env = {**os.environ, "PEERCHECK_LOG_LEVEL": "WARNING", "PEERCHECK_DECISION_LOG_SYNC": sync,
           "PEERCHECK_DATA_DIR": tempfile.mkdtemp(prefix="peercheck-bench-")}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.http:bench_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    return wait_healthy(port, process)


def measure(url: str, bodies: list[bytes], clients: int, per_client: int) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms) for ``clients`` threads each sending ``per_client`` requests."""
    latencies: list[float] = []
    lock = threading.Lock()
    failures = []

    def worker(seed: int) -> None:
        mine = []
        with httpx.Client(timeout=30, headers={"content-type": "application/json"}) as client:
            for n in range(per_client):
                body = bodies[(seed * 7919 + n) % len(bodies)]
                started = time.perf_counter()
                response = client.post(url, content=body)
                mine.append(time.perf_counter() - started)
                if response.status_code != 200:
                    failures.append(response.status_code)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} failed requests, e.g. {failures[:3]}")
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return len(latencies) / elapsed, statistics.median(latencies) * 1000, p99 * 1000


def batch_rate(base: str, batch: bytes, concurrent: int, rounds: int = 3) -> float:
    """Profiles/s for ``concurrent`` clients each sending ``rounds`` batches of 1,000."""
    def send() -> None:
        for _ in range(rounds):
            response = httpx.post(f"{base}/v1/evaluations:batch", content=batch,
                                  headers={"content-type": "application/json"}, timeout=300)
            response.raise_for_status()

    threads = [threading.Thread(target=send) for _ in range(concurrent)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return concurrent * rounds * 1000 / (time.perf_counter() - started)


def run(workers: int, bodies: list[bytes], batch: bytes | None, client_counts: tuple[int, ...],
        sync: str = "full") -> None:
    from bench.load import free_port

    port = free_port()
    server = start(port, workers, sync)
    base = f"http://127.0.0.1:{port}"
    try:
        measure(f"{base}/v1/evaluations", bodies, 8, 100)  # warm-up
        measure(f"{base}/bench/noop", bodies, 8, 100)
        for clients in client_counts:
            per_client = max(50, 1600 // clients)
            noop_rate, _, noop_p99 = measure(f"{base}/bench/noop", bodies, clients, per_client)
            rate, p50, p99 = measure(f"{base}/v1/evaluations", bodies, clients, per_client)
            print(f"{sync:>8} {workers:>7} {clients:>7} {noop_rate:>10,.0f} {rate:>9,.0f} {rate / noop_rate:>6.2f} "
                  f"{p50:>12.2f} {p99:>12.2f} {noop_p99:>13.2f}")
        if batch is None:
            return
        rate = batch_rate(base, batch, concurrent=workers)
        print(f"batch of 1,000 over HTTP, {workers} worker(s), {workers} concurrent batch(es): "
              f"{rate:,.0f} profiles/s (target >= 5,000: {rate / 5000:.2f})")
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from bench.run import corpus

    profiles = corpus(300)
    bodies = [json.dumps(p).encode() for p in profiles]
    batch = json.dumps({"items": (profiles * 4)[:1000]}).encode()
    print("single evaluations: eval/no-op throughput ratio target >= 0.50; p99 target <= 10 ms at 16 clients; "
          "log sync = PEERCHECK_DECISION_LOG_SYNC (full is the default)")
    print(f"{'log sync':>8} {'workers':>7} {'clients':>7} {'no-op /s':>10} {'eval /s':>9} {'ratio':>6} {'eval p50 ms':>12} "
          f"{'eval p99 ms':>12} {'no-op p99 ms':>13}")
    run(1, bodies, batch, (1, 8, 16))  # what `make run` serves
    # One worker per core (docs/deployment.md), batches only: single-request figures with two server
    # processes and 16 client threads on two cores measure the contention, not the server.
    run(2, bodies, batch, ())
    # The decision log's durability setting (PEERCHECK_DECISION_LOG_SYNC): normal skips the fsync.
    run(1, bodies, None, (1, 16), sync="normal")


if __name__ == "__main__":
    main()
