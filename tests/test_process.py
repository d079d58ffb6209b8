"""The real server process: kill -9 loses no acknowledged decision, SIGTERM lets in-flight
requests finish, and bad rule data stops start-up with one clear message."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import httpx

from bench.load import free_port, start_server
from conftest import BASE_PROFILE, ROOT, variant


def test_kill_9_loses_no_acknowledged_decision(tmp_path):
    port = free_port()
    server = start_server(port, env={"PEERCHECK_DATA_DIR": str(tmp_path)})
    url = f"http://127.0.0.1:{port}/v1/evaluations"
    acknowledged: list[str] = []
    stop = threading.Event()

    def stream() -> None:
        with httpx.Client(timeout=5) as client:
            while not stop.is_set():
                try:
                    response = client.post(url, json=variant({"/peers/0/active_caseload": len(acknowledged) % 60}))
                except httpx.HTTPError:
                    return  # the server is gone: whatever was not answered was not acknowledged
                body = response.json()
                if response.status_code == 200 and body["recorded"]:
                    acknowledged.append(body["decision_id"])

    threads = [threading.Thread(target=stream) for _ in range(4)]
    for t in threads:
        t.start()
    deadline = time.time() + 120
    while len(acknowledged) < 300 and time.time() < deadline:
        time.sleep(0.01)
    os.kill(server.pid, signal.SIGKILL)
    server.wait(timeout=10)
    stop.set()
    for t in threads:
        t.join(timeout=10)
    assert server.returncode == -signal.SIGKILL
    with sqlite3.connect(tmp_path / "decisions.sqlite3") as db:
        stored = {row[0] for row in db.execute("SELECT decision_id FROM decisions")}
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    missing = [d for d in acknowledged if d not in stored]
    assert len(acknowledged) >= 300 and missing == []


def test_sigterm_lets_an_in_flight_batch_finish(tmp_path):
    port = free_port()
    server = start_server(port, env={"PEERCHECK_DATA_DIR": str(tmp_path)})
    items = [variant({"/peers/0/active_caseload": i % 60}) for i in range(1000)]
    result: dict = {}

    def send() -> None:
        try:
            response = httpx.post(f"http://127.0.0.1:{port}/v1/evaluations:batch", json={"items": items}, timeout=60)
            result["status"], result["body"] = response.status_code, response.json()
        except httpx.HTTPError as exc:
            result["error"] = repr(exc)

    sender = threading.Thread(target=send)
    sender.start()
    time.sleep(0.3)  # the batch takes longer than this to evaluate
    server.send_signal(signal.SIGTERM)
    sender.join(timeout=60)
    server.wait(timeout=30)
    assert "error" not in result, result.get("error")
    assert result["status"] == 200 and len(result["body"]["results"]) == 1000


def test_bad_rules_stop_start_up_with_one_message(tmp_path):
    import shutil

    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    path = rules / "caseload" / "PC-CASELOAD-002.yaml"
    path.write_text(path.read_text().replace("severity: high", "severity: urgent"))
    port = free_port()
    process = subprocess.run(
        [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env={**os.environ, "PEERCHECK_RULES_DIR": str(rules), "PEERCHECK_DATA_DIR": str(tmp_path)},
        capture_output=True, text=True, timeout=60,
    )
    assert process.returncode != 0
    message = [line for line in process.stderr.splitlines() if "PeerCheck did not start" in line]
    assert len(message) == 1 and "PC-CASELOAD-002.yaml" in message[0] and "severity" in message[0]
    assert "Traceback" not in process.stderr


def test_base_profile_round_trip_over_the_wire(tmp_path):
    port = free_port()
    server = start_server(port, env={"PEERCHECK_DATA_DIR": str(tmp_path)})
    try:
        body = httpx.post(f"http://127.0.0.1:{port}/v1/evaluations", json=BASE_PROFILE, timeout=10).json()
        stored = httpx.get(f"http://127.0.0.1:{port}/v1/evaluations/{body['decision_id']}", timeout=10)
        assert stored.status_code == 200
        assert stored.json()["findings"] == body["findings"] and stored.json()["profile"] is None
    finally:
        server.terminate()
        server.wait(timeout=30)
