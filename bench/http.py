"""HTTP benchmark: evaluation throughput and latency against a no-op endpoint on the same server.

The server is the real app (``api.main.create_app``) with one extra route, ``POST /bench/noop``,
that accepts the same JSON body and returns a constant: the ratio between the two isolates
PeerCheck's own cost from uvicorn's and the HTTP client's. Both run in the same process, one
uvicorn worker, as ``make run`` serves; clients are threads with keep-alive connections.

    python -m bench.http            # prints the table
"""

from __future__ import annotations

import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from fastapi import Request  # module level: the route below resolves its annotation here

ROOT = Path(__file__).resolve().parent.parent


def _serve(port: int, data_dir: str) -> None:
    os.environ["PEERCHECK_LOG_LEVEL"] = "WARNING"
    import uvicorn

    from api.main import create_app
    from api.settings import Settings

    app = create_app(Settings(data_dir=Path(data_dir), log_level="WARNING"))

    @app.post("/bench/noop", include_in_schema=False)
    async def noop(request: Request) -> dict:
        await request.body()
        return {"ok": True}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def start(port: int) -> multiprocessing.Process:
    from bench.load import wait_healthy

    process = multiprocessing.get_context("spawn").Process(target=_serve, args=(port, tempfile.mkdtemp()), daemon=True)
    process.start()
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


def main() -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from bench.load import free_port
    from bench.run import corpus

    profiles = corpus(300)
    bodies = [json.dumps(p).encode() for p in profiles]
    port = free_port()
    server = start(port)
    base = f"http://127.0.0.1:{port}"
    try:
        measure(f"{base}/v1/evaluations", bodies, 8, 100)  # warm-up
        measure(f"{base}/bench/noop", bodies, 8, 100)
        print(f"{'clients':>7} {'no-op /s':>10} {'eval /s':>9} {'ratio':>6} {'eval p50 ms':>12} {'eval p99 ms':>12} {'no-op p99 ms':>13}")
        for clients in (1, 8, 16):
            per_client = max(50, 1600 // clients)
            noop_rate, _, noop_p99 = measure(f"{base}/bench/noop", bodies, clients, per_client)
            rate, p50, p99 = measure(f"{base}/v1/evaluations", bodies, clients, per_client)
            print(f"{clients:>7} {noop_rate:>10,.0f} {rate:>9,.0f} {rate / noop_rate:>6.2f} {p50:>12.2f} {p99:>12.2f} {noop_p99:>13.2f}")
        batch = json.dumps({"items": (profiles * 4)[:1000]}).encode()
        started = time.perf_counter()
        runs = 3
        for _ in range(runs):
            response = httpx.post(f"{base}/v1/evaluations:batch", content=batch,
                                  headers={"content-type": "application/json"}, timeout=120)
            response.raise_for_status()
        elapsed = (time.perf_counter() - started) / runs
        print(f"batch of 1,000 over HTTP: {1000 / elapsed:,.0f} profiles/s ({elapsed:.2f} s per batch)")
    finally:
        server.terminate()
        server.join(timeout=30)


if __name__ == "__main__":
    main()
