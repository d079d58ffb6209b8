"""Hostile requests against the real server process: bounded answers, bounded memory, and a
service that keeps answering while they are processed.

The responsiveness check is an ordering, not a timing threshold. A hostile request (a 4 MB body
of 350,000 unknown keys) is sent whole on a raw socket; until the first byte of its answer can
be read, a second client checks /healthz back to back and counts the answers. A server that
validates such a body on its event loop answers nothing while it does: only the few checks that
slip in while it is still reading the body's last buffered chunks get through (1 or 2 per
request, measured). A server that does the work off the loop answers checks throughout — many
per hostile request, on a fast or a slow machine alike, since both the hostile work and a health
check slow down together.

``python tests/test_hostile.py`` prints the figures recorded in docs/reliability.md.
"""

from __future__ import annotations

import json
import select
import socket
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench.load import free_port, start_server  # noqa: E402
from conftest import BASE_PROFILE  # noqa: E402

UNKNOWN_KEYS = 350_000
HOSTILE_CLIENTS = 4
REQUESTS_EACH = 3
MAX_ERROR_BODY = 64 * 1024


def hostile_profile(keys: int = UNKNOWN_KEYS) -> dict:
    return {**BASE_PROFILE, **{f"{i:x}": 1 for i in range(keys)}}


def compact(doc: dict) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()


def hostile_bodies() -> dict[str, bytes]:
    """One hostile body per route that takes a profile (each under the 4 MB default limit)."""
    profile = hostile_profile()
    split = hostile_profile(UNKNOWN_KEYS // 2)
    return {
        "/v1/evaluations": compact(profile),
        "/v1/reports": compact(profile),
        "/v1/evaluations:compare": compact({"before": split, "after": split}),
        "/v1/evaluations:batch": compact({"items": [hostile_profile(UNKNOWN_KEYS // 20)] * 20}),
        "/cds-services/peercheck-program-review": compact(
            {"hook": "peercheck-program-review", "hookInstance": "h", "context": {"profile": profile}}),
    }


def vm_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def run_hostile(port: int, body: bytes, clients: int = HOSTILE_CLIENTS, each: int = REQUESTS_EACH) -> dict:
    """``clients`` threads each send ``body`` ``each`` times while this thread checks /healthz
    back to back. Returns the health-check answers that arrived before the last hostile answer,
    their latencies, and the hostile answers."""
    base = f"http://127.0.0.1:{port}"
    hostile: list[tuple[float, float, int, int]] = []  # (start, end, status, body bytes)
    started = threading.Barrier(clients + 1)
    lock = threading.Lock()

    def attack() -> None:
        with httpx.Client(timeout=120) as client:
            started.wait()
            for _ in range(each):
                t0 = time.perf_counter()
                response = client.post(base + "/v1/evaluations", content=body, headers={"content-type": "application/json"})
                with lock:
                    hostile.append((t0, time.perf_counter(), response.status_code, len(response.content)))

    threads = [threading.Thread(target=attack) for _ in range(clients)]
    for t in threads:
        t.start()
    checks: list[tuple[float, float]] = []
    with httpx.Client(timeout=120) as client:
        started.wait()
        while True:
            with lock:
                if len(hostile) == clients * each:
                    break
            t0 = time.perf_counter()
            assert client.get(base + "/healthz").status_code == 200
            checks.append((t0, time.perf_counter()))
    for t in threads:
        t.join()
    last_hostile = max(end for _, end, _, _ in hostile)
    answered = [end - start for start, end in checks if end < last_hostile]
    return {"health_answers": len(answered), "health_latencies": sorted(answered), "hostile": hostile,
            "window": last_hostile - min(start for start, _, _, _ in hostile)}


def checks_while_processed(port: int, body: bytes, path: str = "/v1/evaluations") -> tuple[int, int, float]:
    """Send ``body`` whole on a raw socket, then check /healthz back to back until the first byte
    of the hostile answer can be read. Returns (health answers meanwhile, hostile status, seconds
    from the body sent to the first byte of its answer)."""
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    answers = 0
    with socket.create_connection(("127.0.0.1", port)) as hostile, httpx.Client(timeout=120) as checker:
        checker.get(f"http://127.0.0.1:{port}/healthz")  # connected and warm before the clock starts
        hostile.sendall(head + body)
        sent = time.perf_counter()
        while not select.select([hostile], [], [], 0)[0]:
            assert checker.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
            answers += 1
        waited = time.perf_counter() - sent
        status = int(hostile.recv(64).split(b" ")[1])
    return answers, status, waited


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    process = start_server(port, env={"PEERCHECK_DATA_DIR": str(tmp_path_factory.mktemp("hostile"))})
    yield port, process
    process.terminate()
    process.wait(timeout=30)


@pytest.mark.parametrize("path", list(hostile_bodies()))
def test_hostile_bodies_get_a_bounded_422_on_every_route(server, path):
    port, _ = server
    body = hostile_bodies()[path]
    response = httpx.post(f"http://127.0.0.1:{port}{path}", content=body,
                          headers={"content-type": "application/json"}, timeout=120)
    assert response.status_code in (200, 422), response.text[:500]
    assert len(response.content) < MAX_ERROR_BODY
    if path.endswith(":batch"):  # each item gets its own bounded error; the batch itself is valid
        errors = [r["error"] for r in response.json()["results"]]
        assert all(e["error_count"] >= UNKNOWN_KEYS // 20 and len(e["errors"]) <= 50 for e in errors)
    else:
        problem = response.json()
        assert problem["error_count"] >= UNKNOWN_KEYS // 2 and len(problem["errors"]) == 50
        assert problem["detail"].startswith(f"{problem['error_count']:,}")


def test_health_checks_are_answered_while_a_hostile_request_is_processed(server):
    port, _ = server
    body = hostile_bodies()["/v1/evaluations"]
    counts = []
    for _ in range(3):
        answers, status, _ = checks_while_processed(port, body)
        assert status == 422
        counts.append(answers)
    # Work on the event loop lets through only the checks that slip in while the last buffered
    # chunks of the body are read: 1 or 2 per request measured. Work off the loop lets them
    # through throughout (10 to 40 per request on this machine, fewer on a machine loaded by other
    # work and while the parser's C core holds the GIL on the one big object; 13 over three seen at
    # the lowest). The bound sits between the two: every request lets more through than a blocked
    # loop does.
    assert min(counts) >= 3, counts


def test_memory_does_not_balloon_under_concurrent_hostile_requests(server):
    port, process = server
    peak_before = vm_kb(process.pid, "VmHWM")
    result = run_hostile(port, hostile_bodies()["/v1/evaluations"])
    assert all(status == 422 and size < MAX_ERROR_BODY for _, _, status, size in result["hostile"])
    # The bodies are parsed and refused one at a time, not multiplied into error lists and answers
    # (validating them in full took the process from ~70 MB to ~450 MB).
    growth_mb = (vm_kb(process.pid, "VmHWM") - peak_before) / 1024
    assert growth_mb < 200, growth_mb


if __name__ == "__main__":
    port = free_port()
    import tempfile

    process = start_server(port, env={"PEERCHECK_DATA_DIR": tempfile.mkdtemp()})
    try:
        rss = vm_kb(process.pid, "VmRSS") / 1024
        for path, body in hostile_bodies().items():
            t0 = time.perf_counter()
            response = httpx.post(f"http://127.0.0.1:{port}{path}", content=body,
                                  headers={"content-type": "application/json"}, timeout=120)
            print(f"{path}: {len(body) / 1e6:.1f} MB in, {response.status_code}, {len(response.content):,} bytes out, "
                  f"{time.perf_counter() - t0:.2f} s")
        for _ in range(3):
            answers, status, waited = checks_while_processed(port, hostile_bodies()["/v1/evaluations"])
            print(f"one hostile request: {status} after {waited:.2f} s; /healthz answered {answers} times meanwhile")
        for clients in (1, 4):
            result = run_hostile(port, hostile_bodies()["/v1/evaluations"], clients=clients, each=REQUESTS_EACH)
            lat = result["health_latencies"] or [float("nan")]
            hostile = sorted(end - start for start, end, _, _ in result["hostile"])
            print(f"{clients} hostile client(s) x {REQUESTS_EACH}: window {result['window']:.2f} s, "
                  f"hostile answer median {hostile[len(hostile) // 2]:.2f} s max {hostile[-1]:.2f} s; "
                  f"/healthz answered {result['health_answers']} times in the window, "
                  f"median {1000 * lat[len(lat) // 2]:.1f} ms, max {1000 * lat[-1]:.1f} ms")
        print(f"RSS {rss:.0f} MB at start, {vm_kb(process.pid, 'VmRSS') / 1024:.0f} MB after, "
              f"peak {vm_kb(process.pid, 'VmHWM') / 1024:.0f} MB")
    finally:
        process.terminate()
        process.wait(timeout=30)
