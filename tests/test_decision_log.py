"""Decision records: stored before the answer, read back by id, degraded (not failed) when the log
cannot be written, pruned by retention, and kept apart from the HTTP layer."""

import ast
import json
import sqlite3
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import BASE_PROFILE, ROOT, variant

PROBLEM = "application/problem+json"
MARKER = "ZQXDECISIONMARKER"


def db_rows(data_dir: Path) -> list[dict]:
    conn = sqlite3.connect(data_dir / "decisions.sqlite3")
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM decisions")]
    finally:
        conn.close()


def without_personal_data(answer: dict, profile: dict) -> dict:
    """What the stored decision shows of ``answer`` when profiles are not kept: peers by position,
    no finding ids derived from peer ids, no acknowledgement reasons."""
    out = json.loads(json.dumps({k: v for k, v in answer.items() if k not in ("recorded", "explanation")}))
    for finding in out["findings"]:
        subject = finding["subject"]
        if subject["kind"] == "peer":
            peer = profile["peers"][subject["peer_index"]]
            number = subject["peer_index"] + 1
            named = f"Peer {number} ({peer['id']}, {peer['title']})" if peer.get("id") else f"Peer {number} ({peer['title']})"
            for part in ("message", "remediation"):
                finding[part] = finding[part].replace(named, f"Peer {number}")
            if peer.get("id"):
                finding["finding_id"] = None
            subject["peer_id"] = None
        if finding["acknowledged"] is not None:
            finding["acknowledged"] = "Acknowledged by the program; the reason is not kept in the decision log."
    for need in out["needs_information"]:
        need["subject"]["peer_id"] = None
    return out


def test_round_trip_in_sqlite(make_client, tmp_path):
    client = make_client(data_dir=tmp_path / "log")
    data = variant({"/peers/1/active_caseload": 25, "/program/name": f"{MARKER} program"})
    answer = client.post("/v1/evaluations", params={"explain": "true", "detail": "rules"}, json=data).json()
    assert answer["recorded"] is True

    response = client.get(f"/v1/evaluations/{answer['decision_id']}")
    assert response.status_code == 200
    stored = response.json()
    assert stored["kind"] == "evaluation" and stored["profile"] is None
    assert datetime.fromisoformat(stored["logged_at"]) <= datetime.now(timezone.utc)
    assert stored["withheld"] and "profile" in stored["withheld"][0]
    shown = {k: v for k, v in stored.items()
             if k not in ("kind", "logged_at", "profile", "withheld", "external_id", "labels", "job_id", "feedback")}
    assert shown == without_personal_data(answer, data)

    (row,) = db_rows(tmp_path / "log")
    assert row["decision_id"] == answer["decision_id"] and row["ruleset_version"] == answer["ruleset_version"]
    assert row["profile_digest"] == answer["profile_digest"] and row["status"] == answer["summary"]["status"]
    assert row["profile"] is None and row["record_format"] == 2
    record = json.loads(row["decision"])
    assert [(f["rule"], f["severity"], f.get("peer")) for f in record["findings"]] == [
        (f["rule_id"], f["severity"], f["subject"]["peer_index"]) for f in answer["findings"]]
    # the profile is not kept, so nothing in the store carries its content
    for path in (tmp_path / "log").iterdir():
        assert MARKER.encode() not in path.read_bytes(), path.name


def test_the_store_is_sqlite_in_wal_mode(make_client, tmp_path):
    client = make_client(data_dir=tmp_path / "new" / "dir")  # created if missing
    assert client.post("/v1/evaluations", json=BASE_PROFILE).json()["recorded"] is True
    conn = sqlite3.connect(tmp_path / "new" / "dir" / "decisions.sqlite3")
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


def test_profiles_are_stored_only_when_configured(make_client, tmp_path):
    client = make_client(data_dir=tmp_path / "p", decision_log_store_profiles=True)
    data = variant({"/program/name": f"{MARKER} program", "/peers/1/active_caseload": 25,
                    "/acknowledged": [{"rule_id": "PC-CASELOAD-002", "reason": "Hiring a second peer."}]})
    answer = client.post("/v1/evaluations", params={"detail": "rules"}, json=data).json()
    stored = client.get(f"/v1/evaluations/{answer['decision_id']}").json()
    assert stored["profile"]["program"]["name"] == f"{MARKER} program"
    # with the profile, the stored decision reads exactly as it was returned
    assert stored["withheld"] == []
    returned = {k: v for k, v in answer.items() if k not in ("recorded", "explanation")}
    assert returned["findings"][0]["acknowledged"] == "Hiring a second peer."
    assert {k: v for k, v in stored.items()
            if k not in ("kind", "logged_at", "profile", "withheld", "external_id", "labels", "job_id", "feedback")} == returned


def test_batch_and_cds_decisions_are_recorded_too(client):
    body = client.post("/v1/evaluations:batch", json={"items": [BASE_PROFILE, {"bad": 1}, BASE_PROFILE]}).json()
    assert body["recorded"] is True
    for result in body["results"]:
        if result["decision"]:
            stored = client.get(f"/v1/evaluations/{result['decision']['decision_id']}").json()
            assert stored["kind"] == "batch"
            assert [(f["rule_id"], f["subject"]["pointer"]) for f in stored["findings"]] == [
                (f["rule_id"], f["subject"]["pointer"]) for f in result["decision"]["findings"]]


def test_unknown_and_malformed_ids(client):
    response = client.get(f"/v1/evaluations/{uuid.uuid4()}")
    assert response.status_code == 404 and response.headers["content-type"].startswith(PROBLEM)
    response = client.get("/v1/evaluations/not-a-uuid")
    assert response.status_code == 422 and response.json()["errors"][0]["parameter"] == "decision_id"


def test_disabled_log_stores_nothing(make_client, tmp_path):
    client = make_client(data_dir=tmp_path / "off", decision_log_enabled=False)
    answer = client.post("/v1/evaluations", json=BASE_PROFILE).json()
    assert answer["recorded"] is False
    response = client.get(f"/v1/evaluations/{answer['decision_id']}")
    assert response.status_code == 404 and "disabled" in response.json()["detail"]
    assert not (tmp_path / "off").exists()


def unusable_dir(tmp_path: Path) -> Path:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the data directory should be")
    return blocker / "data"  # cannot be created: its parent is a file (works as root too)


def test_an_unusable_data_dir_degrades_to_recorded_false(make_client, tmp_path, capfd):
    client = make_client(data_dir=unusable_dir(tmp_path))  # start-up still succeeds
    capfd.readouterr()
    data = variant({"/program/name": f"{MARKER} program"})
    response = client.post("/v1/evaluations", json=data)
    assert response.status_code == 200
    assert response.json()["recorded"] is False and response.json()["findings"] is not None
    batch = client.post("/v1/evaluations:batch", json={"items": [data]})
    assert batch.status_code == 200 and batch.json()["recorded"] is False
    logged = capfd.readouterr()
    text = logged.out + logged.err
    assert '"event": "decision_log_unavailable"' in text and '"level": "warning"' in text
    assert MARKER not in text
    response = client.get(f"/v1/evaluations/{response.json()['decision_id']}")
    assert response.status_code == 503 and response.headers["content-type"].startswith(PROBLEM)


def test_a_corrupt_database_file_degrades(make_client, tmp_path):
    data_dir = tmp_path / "corrupt"
    data_dir.mkdir()
    (data_dir / "decisions.sqlite3").write_bytes(b"this is not a database" * 100)
    client = make_client(data_dir=data_dir)
    response = client.post("/v1/evaluations", json=BASE_PROFILE)
    assert response.status_code == 200 and response.json()["recorded"] is False


def test_a_locked_database_degrades_then_recovers(tmp_path):
    from decisionlog.sqlite import SQLiteLog
    from decisionlog import LogUnavailable

    store = SQLiteLog(tmp_path / "decisions.sqlite3", retention_days=90, wait_s=0.2)
    store.start()
    other = sqlite3.connect(tmp_path / "decisions.sqlite3", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another process holding the write lock
    with pytest.raises(LogUnavailable):
        store.append([record()])
    other.execute("ROLLBACK")
    other.close()
    store.append([record()])  # the next write succeeds again
    store.close()


def test_a_store_failing_mid_life_gives_recorded_false(make_client, tmp_path):
    from decisionlog import LogUnavailable

    client = make_client(data_dir=tmp_path / "mid")
    store = client.app.state.service.decision_log
    assert client.post("/v1/evaluations", json=BASE_PROFILE).json()["recorded"] is True

    def full(records):
        raise LogUnavailable("database or disk is full")

    original, store.append = store.append, full
    try:
        response = client.post("/v1/evaluations", json=BASE_PROFILE)
        assert response.status_code == 200 and response.json()["recorded"] is False
        cds = client.post("/cds-services/peercheck-program-review",
                          json={"hook": "peercheck-program-review", "hookInstance": "x", "context": {"profile": BASE_PROFILE}})
        assert cds.status_code == 200 and cds.json()["extension"]["org.peercheck.decision"]["recorded"] is False
    finally:
        store.append = original


def record(**overrides):
    from decisionlog import DecisionRecord

    values = dict(decision_id=str(uuid.uuid4()), evaluated_at=datetime.now(timezone.utc), ruleset_version="rs-test",
                  profile_digest="sha256:0", status="pass", kind="evaluation", decision_json='{"summary":{"status":"pass"}}')
    values.update(overrides)
    return DecisionRecord(**values)


def test_retention_prunes_old_decisions(tmp_path):
    from decisionlog.sqlite import SQLiteLog

    path = tmp_path / "decisions.sqlite3"
    store = SQLiteLog(path, retention_days=30, prune_interval_s=0)
    store.start()
    old, new = record(), record()
    store.append([old, new])
    conn = sqlite3.connect(path)
    conn.execute("UPDATE decisions SET logged_at = ? WHERE decision_id = ?", (time.time() - 31 * 86400, old.decision_id))
    conn.commit()
    conn.close()
    assert store.get(old.decision_id) is None  # expired reads as gone even before pruning
    assert store.prune() == 1
    assert store.get(new.decision_id).decision == json.loads(new.decision_json)
    # pruning on write: an expired row disappears with the next append when the interval has passed
    older = record()
    store.append([older])
    conn = sqlite3.connect(path)
    conn.execute("UPDATE decisions SET logged_at = 0 WHERE decision_id = ?", (older.decision_id,))
    conn.commit()
    conn.close()
    store.append([record()])
    assert len(db_rows(tmp_path)) == 2
    store.close()

    # and at start-up
    conn = sqlite3.connect(path)
    conn.execute("UPDATE decisions SET logged_at = 0")
    conn.commit()
    conn.close()
    again = SQLiteLog(path, retention_days=30)
    again.start()
    assert db_rows(tmp_path) == []
    again.close()


def test_retention_zero_keeps_everything(tmp_path):
    from decisionlog.sqlite import SQLiteLog

    store = SQLiteLog(tmp_path / "decisions.sqlite3", retention_days=0, prune_interval_s=0)
    store.start()
    kept = record()
    store.append([kept])
    conn = sqlite3.connect(tmp_path / "decisions.sqlite3")
    conn.execute("UPDATE decisions SET logged_at = 0")
    conn.commit()
    conn.close()
    assert store.prune() == 0 and store.get(kept.decision_id) is not None
    store.close()


def test_threads_append_concurrently(tmp_path):
    from decisionlog.sqlite import SQLiteLog

    store = SQLiteLog(tmp_path / "decisions.sqlite3", retention_days=90)
    store.start()
    ids: list[str] = []
    errors: list[BaseException] = []

    def work():
        try:
            for _ in range(25):
                r = record()
                store.append([r])
                assert store.get(r.decision_id).decision_id == r.decision_id
                ids.append(r.decision_id)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(db_rows(tmp_path)) == len(ids) == 200
    store.close()


def test_a_postgres_url_without_psycopg_stops_start_up(monkeypatch):
    from api.main import create_app
    from api.settings import Settings
    from decisionlog import ConfigError

    monkeypatch.setitem(sys.modules, "psycopg", None)  # "not installed"
    with pytest.raises(ConfigError) as info:
        create_app(Settings(database_url="postgresql://user:s3cret@db.example/peercheck"))
    message = str(info.value)
    assert "psycopg" in message and "peercheck[postgres]" in message and "s3cret" not in message
    # disabled logging never needs the driver
    create_app(Settings(database_url="postgresql://user:s3cret@db.example/peercheck", decision_log_enabled=False))


def test_an_unsupported_database_url_stops_start_up():
    from api.main import create_app
    from api.settings import Settings
    from decisionlog import ConfigError

    with pytest.raises(ConfigError, match="mysql"):
        create_app(Settings(database_url="mysql://u:p@h/db"))


def test_database_url_is_read_from_the_environment(monkeypatch):
    from api.settings import Settings

    monkeypatch.setenv("DATABASE_URL", "postgresql://h/db")
    assert Settings().database_url == "postgresql://h/db"


def test_decisionlog_stands_apart_from_the_http_layer():
    for path in (ROOT / "decisionlog").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in ("api", "engine"), f"{path.name} imports {name}"


def test_round_trip_in_postgresql(make_client, tmp_path, postgres_url):
    url = postgres_url
    client = make_client(database_url=url, decision_log_retention_days=30)
    store = client.app.state.service.decision_log
    assert store.name == "postgresql"
    data = variant({"/peers/1/active_caseload": 25})
    answer = client.post("/v1/evaluations", params={"detail": "rules"}, json=data).json()
    assert answer["recorded"] is True
    stored = client.get(f"/v1/evaluations/{answer['decision_id']}").json()
    shown = {k: v for k, v in stored.items()
             if k not in ("kind", "logged_at", "profile", "withheld", "external_id", "labels", "job_id", "feedback")}
    assert shown == without_personal_data(answer, data)
    batch = client.post("/v1/evaluations:batch", json={"items": [BASE_PROFILE] * 3}).json()
    assert batch["recorded"] is True
    # retention in PostgreSQL
    old = record()
    store.append([old])
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute("UPDATE decisions SET logged_at = now() - interval '31 days' WHERE decision_id = %s", (old.decision_id,))
    assert store.get(old.decision_id) is None
    assert store.prune() >= 1
    assert client.get(f"/v1/evaluations/{answer['decision_id']}").status_code == 200
    assert not (tmp_path / "data").exists()  # nothing went to SQLite


@pytest.mark.parametrize("mode,level", [("full", 2), ("normal", 1)])
def test_sqlite_durability_follows_the_setting(tmp_path, mode, level):
    from decisionlog import open_log

    store = open_log(database_url=None, data_dir=tmp_path, retention_days=0, sqlite_sync=mode)
    store.start()
    store.append([record()])
    with store._write_lock:
        assert store._writer().execute("PRAGMA synchronous").fetchone()[0] == level
    store.close()


def test_portal_operations_in_postgresql(make_client, postgres_url):
    """Labels, search, idempotent answers and CDS feedback use the same SQL in PostgreSQL (JSONB labels)."""
    import uuid as uuid_

    client = make_client(database_url=postgres_url)
    tag = uuid_.uuid4().hex[:12]
    for i in range(3):
        client.post("/v1/evaluations", json=BASE_PROFILE, params={"external_id": f"PG-{i}", "label": [f"run:{tag}", f"n:{i}"]})
    page = client.get("/v1/evaluations", params={"label": f"run:{tag}", "limit": 2}).json()
    assert [d["external_id"] for d in page["decisions"]] == ["PG-2", "PG-1"]
    rest = client.get("/v1/evaluations", params={"label": f"run:{tag}", "cursor": page["next_cursor"]}).json()
    assert [d["external_id"] for d in rest["decisions"]] == ["PG-0"] and rest["next_cursor"] is None
    assert [d["external_id"] for d in client.get("/v1/evaluations", params={"label": [f"run:{tag}", "n:1"]}).json()["decisions"]] == ["PG-1"]

    key = {"Idempotency-Key": f"pg-{tag}"}
    first = client.post("/v1/evaluations", json=BASE_PROFILE, headers=key).json()
    assert client.post("/v1/evaluations", json=BASE_PROFILE, headers=key).json()["decision_id"] == first["decision_id"]

    call = {"hook": "peercheck-program-review", "hookInstance": str(uuid_.uuid4()),
            "context": {"profile": variant({"/program/referral_pathways": ["court_ordered"]}), "programId": f"pg-{tag}"}}
    cards = client.post("/cds-services/peercheck-program-review", json=call).json()["cards"]
    card = next(c for c in cards if "overrideReasons" in c)
    sent = client.post("/cds-services/peercheck-program-review/feedback", json={"feedback": [
        {"card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": "2026-01-02T03:04:05Z",
         "overrideReason": {"reason": {"code": "mitigated"}}}]})
    assert sent.json() == {"recorded": 1, "unknown_cards": []}
    again = client.post("/cds-services/peercheck-program-review", json={**call, "hookInstance": str(uuid_.uuid4())}).json()
    assert again["extension"]["org.peercheck.decision"]["acknowledged_from_feedback"] == 1
