"""Asynchronous batch jobs: 202 and progress, paged results, idempotent submission, a signed webhook,
and exactly-once evaluation across kill -9 (SQLite) and across replicas sharing PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import signal
import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from bench.load import free_port, start_server
from conftest import BASE_PROFILE, variant

SECRET = "portal-shared-secret-0123456789"


def wait_done(get, job_id: str, seconds: float = 120) -> dict:
    deadline = time.time() + seconds
    while time.time() < deadline:
        job = get(f"/v1/batch-jobs/{job_id}").json()
        if job["state"] == "done":
            return job
        time.sleep(0.1)
    raise AssertionError(f"job not done in {seconds} s: {job}")


def big_profile(i: int, peers: int = 60) -> dict:
    """A profile heavy enough (many peers) that a job of a few hundred takes seconds."""
    peer = BASE_PROFILE["peers"][0]
    return {**variant({"/peers/0/active_caseload": i % 60}),
            "peers": [{**peer, "id": f"p{n}", "active_caseload": (i + n) % 40} for n in range(peers)]}


def test_job_progress_results_and_idempotent_submission(make_client):
    client = make_client(batch_job_chunk=7)
    items = [{"profile": variant({"/peers/1/active_caseload": 20 + i}), "external_id": f"APP-{i}"} for i in range(30)]
    items.append({"profile": {"schema_version": "1.1"}, "external_id": "APP-bad"})
    body = {"items": items, "labels": {"cycle": "2025"}, "fail_on": "high"}
    submitted = client.post("/v1/batch-jobs", json=body, headers={"Idempotency-Key": "job-1"})
    assert submitted.status_code == 202
    job_id = submitted.json()["job_id"]
    assert submitted.headers["location"] == f"/v1/batch-jobs/{job_id}"
    again = client.post("/v1/batch-jobs", json=body, headers={"Idempotency-Key": "job-1"})
    assert again.status_code == 202 and again.json()["job_id"] == job_id  # the same job, not a second

    job = wait_done(client.get, job_id)
    assert job["total"] == job["processed"] == 31 and job["invalid"] == 1
    assert sum(job["by_status"].values()) == 30 and sum(job["by_verdict"].values()) == 31

    seen, start = [], 0
    while start is not None:
        page = client.get(f"/v1/batch-jobs/{job_id}/results", params={"start": start, "limit": 8, "view": "summary"}).json()
        seen += page["results"]
        start = page["next_start"]
    assert [r["index"] for r in seen] == list(range(31))
    assert [r["external_id"] for r in seen] == [f"APP-{i}" for i in range(30)] + ["APP-bad"]
    bad = seen[-1]
    assert bad["verdict"] == "invalid" and bad["error"]["errors"][0]["pointer"].startswith("/profile/")
    assert bad["labels"] == {"cycle": "2025"}  # the batch's labels on invalid items too
    for result in seen[:-1]:
        assert result["labels"] == {"cycle": "2025"} and result["verdict"] in ("pass", "fail")
        assert (result["verdict"] == "fail") == bool(result["failing_rules"])
        assert result["decision"] is None  # view=summary
    full = client.get(f"/v1/batch-jobs/{job_id}/results", params={"limit": 1}).json()["results"][0]
    assert full["decision"]["decision_id"] == seen[0]["decision_id"]

    stored = client.get("/v1/evaluations", params={"job_id": job_id, "limit": 200}).json()["decisions"]
    assert len(stored) == 30 and {d["kind"] for d in stored} == {"batch-job"}
    assert client.get(f"/v1/evaluations/{seen[3]['decision_id']}").json()["external_id"] == "APP-3"


def test_an_item_peercheck_fails_on_does_not_hold_up_the_job(make_client, monkeypatch):
    """An item whose evaluation raises is marked failed once; the chunk is not rolled back and retried
    for ever, and the other items are evaluated."""
    client = make_client(batch_job_chunk=4)
    evaluator = client.app.state.service.evaluator
    evaluate = evaluator.evaluate

    def fragile(profile):
        if profile.program.name == "poison":
            raise RuntimeError("a fault in PeerCheck")
        return evaluate(profile)

    monkeypatch.setattr(evaluator, "evaluate", fragile)
    items = [{"profile": variant({"/program/name": "poison" if i == 2 else f"Program {i}"}), "external_id": f"APP-{i}"}
             for i in range(6)]
    job_id = client.post("/v1/batch-jobs", json={"items": items, "fail_on": "high"}).json()["job_id"]
    job = wait_done(client.get, job_id, seconds=60)
    assert job["processed"] == 6 and job["invalid"] == 1
    results = client.get(f"/v1/batch-jobs/{job_id}/results", params={"view": "summary"}).json()["results"]
    failed = results[2]
    assert failed["external_id"] == "APP-2" and failed["decision_id"] is None and failed["verdict"] == "invalid"
    assert failed["error"]["status"] == 500 and failed["error"]["type"].endswith(":internal-error")
    assert all(r["decision_id"] for i, r in enumerate(results) if i != 2)


def test_limits_and_unknown_jobs(make_client):
    client = make_client(batch_job_max_items=3)
    too_many = client.post("/v1/batch-jobs", json={"items": [BASE_PROFILE] * 4})
    assert too_many.status_code == 413 and too_many.json()["errors"][0]["pointer"] == "/items"
    assert client.get("/v1/batch-jobs/3f6c2a0e-8d1b-4f5e-9a7c-2b4d6e8f0a1c").status_code == 404
    refused = client.post("/v1/batch-jobs", json={"items": [BASE_PROFILE], "webhook_url": "https://portal.example.org/x"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["pointer"] == "/webhook_url"
    disabled = make_client(decision_log_enabled=False)
    assert disabled.post("/v1/batch-jobs", json={"items": [BASE_PROFILE]}).status_code == 503


def test_jobs_belong_to_the_key_that_submitted_them(make_client):
    from api.guards import hash_key

    keys = [{"id": name, "sha256": hash_key(f"key-{name}"), "scopes": ["read", "evaluate"]} for name in ("a", "b")]
    client = make_client(api_keys=keys)
    job_id = client.post("/v1/batch-jobs", json={"items": [BASE_PROFILE]}, headers={"X-API-Key": "key-a"}).json()["job_id"]
    assert client.get(f"/v1/batch-jobs/{job_id}", headers={"X-API-Key": "key-a"}).status_code == 200
    assert client.get(f"/v1/batch-jobs/{job_id}", headers={"X-API-Key": "key-b"}).status_code == 404


class _Receiver:
    """A portal's webhook endpoint on the loopback interface, verifying signatures as the README says."""

    def __init__(self):
        self.received: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["content-length"]))
                webhook_id, timestamp = self.headers["webhook-id"], self.headers["webhook-timestamp"]
                expected = base64.b64encode(hmac.new(SECRET.encode(), f"{webhook_id}.{timestamp}.".encode() + body,
                                                     hashlib.sha256).digest()).decode()
                signatures = [s.split(",", 1)[1] for s in self.headers["webhook-signature"].split()]
                valid = any(hmac.compare_digest(expected, s) for s in signatures)
                fresh = abs(time.time() - int(timestamp)) < 300
                outer.received.append({"valid": valid and fresh, "id": webhook_id, "body": json.loads(body)})
                self.send_response(204 if valid else 401)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/peercheck-hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_webhook_is_signed_and_verifiable(make_client):
    receiver = _Receiver()
    try:
        client = make_client(webhook_hosts=["127.0.0.1"], webhook_secret=SECRET)
        job_id = client.post("/v1/batch-jobs", json={"items": [BASE_PROFILE, BASE_PROFILE], "webhook_url": receiver.url,
                                                     "fail_on": "medium"}).json()["job_id"]
        wait_done(client.get, job_id)
        deadline = time.time() + 30
        while not receiver.received and time.time() < deadline:
            time.sleep(0.1)
        (delivery,) = receiver.received
        assert delivery["valid"] and delivery["id"] == job_id
        assert delivery["body"]["type"] == "batch_job.completed" and delivery["body"]["processed"] == 2
        assert delivery["body"]["by_verdict"] == {"pass": 2}
        assert BASE_PROFILE["program"]["name"] not in json.dumps(delivery["body"])  # ids and counts only
        deadline = time.time() + 10
        while client.get(f"/v1/batch-jobs/{job_id}").json()["webhook"] != "delivered" and time.time() < deadline:
            time.sleep(0.1)
        assert client.get(f"/v1/batch-jobs/{job_id}").json()["webhook"] == "delivered"
    finally:
        receiver.close()


def _submit(port: int, items: list) -> str:
    response = httpx.post(f"http://127.0.0.1:{port}/v1/batch-jobs", json={"items": items}, timeout=120)
    assert response.status_code == 202, response.text
    return response.json()["job_id"]


def _progress(port: int, job_id: str) -> dict:
    return httpx.get(f"http://127.0.0.1:{port}/v1/batch-jobs/{job_id}", timeout=30).json()


def _kill_mid_run(server, port: int, job_id: str) -> int:
    deadline = time.time() + 120
    while time.time() < deadline:
        processed = _progress(port, job_id)["processed"]
        if processed >= 10:
            break
        time.sleep(0.02)
    os.kill(server.pid, signal.SIGKILL)
    server.wait(timeout=10)
    return processed


def test_a_job_survives_kill_9_and_evaluates_each_item_once(tmp_path):
    env = {"PEERCHECK_DATA_DIR": str(tmp_path), "PEERCHECK_BATCH_JOB_CHUNK": "5"}
    items = [big_profile(i) for i in range(150)]
    items[17] = {"profile": {"schema_version": "1.1"}}  # one invalid item: an error, no decision
    port = free_port()
    server = start_server(port, env=env)
    job_id = _submit(port, items)
    processed = _kill_mid_run(server, port, job_id)
    assert 10 <= processed < 150, "the kill must land mid-run"

    port = free_port()
    server = start_server(port, env=env)  # resumes the unfinished job
    try:
        job = wait_done(lambda path: httpx.get(f"http://127.0.0.1:{port}{path}", timeout=30), job_id, 300)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert job["processed"] == 150 and job["invalid"] == 1
    with sqlite3.connect(tmp_path / "decisions.sqlite3") as db:
        decisions = [r[0] for r in db.execute("SELECT decision_id FROM decisions WHERE job_id = ?", (job_id,))]
        items_done = db.execute("SELECT idx, decision_id, item FROM batch_job_items WHERE job_id = ? ORDER BY idx",
                                (job_id,)).fetchall()
    assert len(decisions) == len(set(decisions)) == 149  # one decision per valid item: none twice
    assert sorted(d for _, d, _ in items_done if d) == sorted(decisions)
    assert all(item is None for _, _, item in items_done)  # submitted profiles are not kept once evaluated


def test_replicas_share_one_postgres_queue_and_survive_kill_9(postgres_url):
    import psycopg

    env = {"DATABASE_URL": postgres_url, "PEERCHECK_BATCH_JOB_CHUNK": "4"}
    first_port, second_port = free_port(), free_port()
    first = start_server(first_port, env={**env, "PEERCHECK_DATA_DIR": "/nonexistent-unused"})
    second = start_server(second_port, env={**env, "PEERCHECK_DATA_DIR": "/nonexistent-unused"})
    try:
        job_id = _submit(first_port, [big_profile(i) for i in range(150)])
        _kill_mid_run(first, first_port, job_id)  # one replica dies holding a chunk; the other goes on
        job = wait_done(lambda path: httpx.get(f"http://127.0.0.1:{second_port}{path}", timeout=30), job_id, 300)
    finally:
        for server in (first, second):
            if server.poll() is None:
                server.terminate()
                server.wait(timeout=30)
    assert job["processed"] == 150 and job["invalid"] == 0
    with psycopg.connect(postgres_url) as conn:
        decisions = [r[0] for r in conn.execute("SELECT decision_id FROM decisions WHERE job_id = %s", (job_id,))]
        linked = [r[0] for r in conn.execute("SELECT decision_id FROM batch_job_items WHERE job_id = %s", (job_id,))]
    assert len(decisions) == len(set(decisions)) == 150
    assert sorted(linked) == sorted(decisions)


def test_two_workers_never_take_the_same_item(postgres_url):
    """Two stores (two connections, as two replicas) working one queue concurrently with SKIP LOCKED."""
    from decisionlog import jobs as queue
    from decisionlog.postgres import PostgresLog

    stores = [PostgresLog(postgres_url, retention_days=0) for _ in range(2)]
    for store in stores:
        store.start()
    job = queue.create(stores[0], "owner", [{"n": i} for i in range(120)], {}, None)
    taken: list[list[int]] = [[], []]

    def evaluate(n: int):
        def work(items):
            time.sleep(0.01 * len(items))  # hold the claimed rows a while, so the workers overlap
            taken[n].extend(item.index for item in items if item.job_id == job.job_id)
            return [queue.ItemOutcome(job_id=i.job_id, index=i.index, record=None, error={"n": i.index}, verdict=None,
                                      external_id=None, labels_json=None) for i in items]
        return work

    def worker(n: int):
        while queue.work_chunk(stores[n], 5, evaluate(n)):
            pass

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for store in stores:
        store.close()
    assert sorted(taken[0] + taken[1]) == list(range(120))  # every item once, none twice
    assert taken[0] and taken[1]  # both workers had a share
