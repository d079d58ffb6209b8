"""Load run against a real server: many concurrent clients, every answer checked.

Starts ``uvicorn api.main:app`` on a free loopback port (or uses ``--url``), warms it up, then
sends ``--total`` evaluations of varied profiles from ``--clients`` threads. Each response is
compared with the in-process reference decision for that exact profile (the whole answer, asked
for with ``detail=rules``: findings, needs information per rule and by question, summary, profile
digest), so an answer meant for another request is caught as cross-talk. Reports requests, 5xx, other errors, cross-talk, and the server's RSS after
warm-up and at the end.

    python -m bench.load --clients 16 --total 100000
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
VOLATILE = {"decision_id", "evaluated_at", "engine", "recorded", "explanation"}


@dataclass
class LoadResult:
    requests: int = 0  # after warm-up
    warmup_requests: int = 0
    server_errors: int = 0
    other_errors: list[str] = field(default_factory=list)
    cross_talk: int = 0
    rss_warm_kb: int | None = None
    rss_end_kb: int | None = None
    seconds: float = 0.0

    @property
    def rss_growth(self) -> float | None:
        if not self.rss_warm_kb or not self.rss_end_kb:
            return None
        return (self.rss_end_kb - self.rss_warm_kb) / self.rss_warm_kb


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, env: dict[str, str] | None = None) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning", "--no-access-log"],
        cwd=ROOT, env={**os.environ, "PEERCHECK_LOG_LEVEL": "WARNING", **(env or {})},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    return wait_healthy(port, process)


def wait_healthy(port: int, process, seconds: float = 30):
    """Return ``process`` once /healthz answers on ``port``; kill it and raise after ``seconds``."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start")


def rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def reference_answers(profiles: list[dict]) -> list[dict]:
    from engine import Evaluator, Profile, load_ruleset, make_engine

    ruleset = load_ruleset()
    evaluator = Evaluator(ruleset, make_engine("interpreter", ruleset))
    return [evaluator.evaluate(Profile.model_validate(p)).model_dump(mode="json", exclude=VOLATILE) for p in profiles]


def drive(url: str, profiles: list[dict], expected: list[dict], clients: int, total: int,
          pid: int | None = None, warmup: int = 4000) -> LoadResult:
    result = LoadResult()
    lock = threading.Lock()

    def one(client: httpx.Client, i: int) -> None:
        response = client.post(f"{url}/v1/evaluations", params={"detail": "rules"}, json=profiles[i])  # the whole answer
        with lock:
            result.requests += 1
            if response.status_code >= 500:
                result.server_errors += 1
                return
            if response.status_code != 200:
                result.other_errors.append(f"{response.status_code} for profile {i}")
                return
            body = {k: v for k, v in response.json().items() if k not in VOLATILE}
            if body != expected[i]:
                result.cross_talk += 1

    def worker(seed: int, count: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(timeout=30) as client:
            for _ in range(count):
                try:
                    one(client, rng.randrange(len(profiles)))
                except httpx.HTTPError as exc:
                    with lock:
                        result.requests += 1
                        result.other_errors.append(f"transport: {type(exc).__name__}")

    def run(count_per_client: int, seed_base: int) -> None:
        threads = [threading.Thread(target=worker, args=(seed_base + n, count_per_client)) for n in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    # Warm-up at the same concurrency: the server's thread pool, connections and caches reach
    # their working size before the baseline RSS is read.
    run(max(1, warmup // clients), 10_000)
    result.warmup_requests, result.requests = result.requests, 0  # errors keep counting across both
    if pid:
        result.rss_warm_kb = rss_kb(pid)
    started = time.perf_counter()
    run(total // clients, 0)
    result.seconds = time.perf_counter() - started
    if pid:
        result.rss_end_kb = rss_kb(pid)
    return result


def varied_profiles(n: int) -> list[dict]:
    sys.path.insert(0, str(ROOT / "tests"))
    from bench.run import corpus

    return corpus(n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--total", type=int, default=100_000)
    parser.add_argument("--profiles", type=int, default=1000)
    parser.add_argument("--url", help="use a running server instead of starting one")
    args = parser.parse_args()
    profiles = varied_profiles(args.profiles)
    expected = reference_answers(profiles)
    process = None
    url = args.url
    if url is None:
        port = free_port()
        process = start_server(port)
        url = f"http://127.0.0.1:{port}"
    try:
        result = drive(url, profiles, expected, args.clients, args.total, process.pid if process else None)
    finally:
        if process:
            process.terminate()
            process.wait(timeout=30)
    growth = result.rss_growth
    print(f"requests {result.requests} (+{result.warmup_requests} warm-up), 5xx {result.server_errors}, other errors {len(result.other_errors)}, "
          f"cross-talk {result.cross_talk}, {result.requests / result.seconds:,.0f} req/s over {result.seconds:.1f} s")
    if growth is not None:
        print(f"server RSS after warm-up {result.rss_warm_kb / 1024:.1f} MiB, at end {result.rss_end_kb / 1024:.1f} MiB "
              f"({growth:+.1%})")
    if result.other_errors:
        print("first errors:", result.other_errors[:5])
    sys.exit(1 if result.server_errors or result.cross_talk or result.other_errors else 0)


if __name__ == "__main__":
    main()
