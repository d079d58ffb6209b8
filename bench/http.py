"""HTTP benchmark: evaluation throughput and latency against a bare FastAPI app and a no-op endpoint.

First the targets, measured with ``wrk`` (Debian's ``wrk`` package; skipped with a message where it
is missing) so the load generator costs little and runs on the other core: ``POST /v1/evaluations``
with the decision log off against a bare FastAPI app that takes the same JSON body (one route,
``body: dict``, a constant answer) on the same uvicorn flags, and with the default decision log
against the log off, at 1 and 8 connections; interleaved rounds, medians of the ratios.

Then the real app (``api.main.create_app``) with one extra route, ``POST /bench/noop``,
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
from typing import Any  # noqa: F401 - bare_app's body annotation resolves here

from fastapi import Request  # module level: the routes below resolve their annotations here

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


def bare_app():
    """A bare FastAPI app: the same path takes the same JSON body and answers a constant — what
    FastAPI and uvicorn cost without PeerCheck. ``uvicorn bench.http:bare_app --factory``."""
    from fastapi import FastAPI

    app = FastAPI()

    @app.post("/v1/evaluations")
    async def evaluate(body: dict[str, Any]) -> dict:
        return {"ok": True}

    @app.get("/healthz")
    async def healthz() -> dict:
        return {"status": "ok"}

    return app


def start(port: int, workers: int = 1, sync: str = "full", app: str = "bench.http:bench_app",
          env_extra: dict[str, str] | None = None, cpus: str | None = None) -> subprocess.Popen:
    """A uvicorn server (``workers`` processes) on ``port`` with a fresh decision log; pinned to
    ``cpus`` (taskset) when given."""
    from bench.load import wait_healthy

    env = {**os.environ, "PEERCHECK_LOG_LEVEL": "WARNING", "PEERCHECK_DECISION_LOG_SYNC": sync,
           "PEERCHECK_DATA_DIR": tempfile.mkdtemp(prefix="peercheck-bench-"), **(env_extra or {})}
    pin = ["taskset", "-c", cpus] if cpus else []
    process = subprocess.Popen(
        [*pin, sys.executable, "-m", "uvicorn", app, "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    return wait_healthy(port, process)


WRK_SCRIPT = """
local bodies = {}
for line in io.lines("%s") do bodies[#bodies + 1] = line end
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i %% #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
"""


def wrk(url: str, script: str, connections: int, seconds: float, cpus: str | None) -> float:
    """Requests/s from ``wrk`` (one thread, ``connections`` keep-alive connections); every answer
    must be a 200."""
    pin = ["taskset", "-c", cpus] if cpus else []
    out = subprocess.run([*pin, "wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "-s", script, url],
                         capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw failed requests:\n{out}")
    return float(next(line.split()[1] for line in out.splitlines() if line.startswith("Requests/sec:")))


def targets(bodies: list[bytes], rounds: int = 3, seconds: float = 4) -> None:
    """The HTTP targets, measured with wrk: see the module's docstring."""
    import shutil

    from bench.load import free_port

    if shutil.which("wrk") is None:
        print("HTTP targets: skipped: wrk is not installed (apt-get install wrk)")
        return
    two = (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None
    server_cpu, client_cpu = ("0", "1") if two else (None, None)
    with tempfile.NamedTemporaryFile("wb", suffix=".jsonl", delete=False) as handle:
        handle.write(b"\n".join(bodies) + b"\n")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % handle.name)
    kinds = {"bare": ("bench.http:bare_app", {}), "log off": ("api.main:create_app", {"PEERCHECK_DECISION_LOG_ENABLED": "false"}),
             "default log": ("api.main:create_app", {})}
    servers, urls = [], {}
    try:
        for kind, (app, env) in kinds.items():
            port = free_port()
            servers.append(start(port, app=app, env_extra=env, cpus=server_cpu))
            urls[kind] = f"http://127.0.0.1:{port}/v1/evaluations"
        for url in urls.values():  # warm-up
            wrk(url, script.name, 8, 2, client_cpu)
        rates: dict[tuple[str, int], list[float]] = {}
        for r in range(rounds):
            for connections in (1, 8):
                order = list(urls)[r % len(urls):] + list(urls)[:r % len(urls)]
                for kind in order:
                    rates.setdefault((kind, connections), []).append(
                        wrk(urls[kind], script.name, connections, seconds, client_cpu))
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
        os.unlink(handle.name)
        os.unlink(script.name)
    where = "server pinned to core 0, wrk to core 1" if two else "server and wrk unpinned"
    print(f"HTTP targets: wrk, one uvicorn worker each ({where}), {len(bodies)} varied profiles in turn, "
          f"{rounds} interleaved rounds of {seconds:g} s, medians (ratios: median of the rounds' ratios)")
    print(f"{'connections':>11} {'bare FastAPI /s':>16} {'log off /s':>11} {'default log /s':>15} "
          f"{'log off ÷ bare':>15} {'default ÷ log off':>18}")
    for connections in (1, 8):
        get = lambda kind: rates[(kind, connections)]  # noqa: E731
        off_bare = statistics.median(o / b for o, b in zip(get("log off"), get("bare")))
        log_off = statistics.median(d / o for d, o in zip(get("default log"), get("log off")))
        marks = ""
        if connections == 8:
            marks = (f"   target >= 0.50: {'PASS' if off_bare >= 0.5 else 'FAIL'} (log off ÷ bare), "
                     f"{'PASS' if log_off >= 0.5 else 'FAIL'} (default ÷ log off)")
        print(f"{connections:>11} {statistics.median(get('bare')):>16,.0f} {statistics.median(get('log off')):>11,.0f} "
              f"{statistics.median(get('default log')):>15,.0f} {off_bare:>15.2f} {log_off:>18.2f}{marks}")


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
    targets(bodies)
    print()
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
