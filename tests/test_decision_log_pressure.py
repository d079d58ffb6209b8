"""The decision log under pressure: a locked database costs one bounded wait, not seconds per
answer, and the log recovers by itself; a log at its size budget stops taking decisions, says so,
and takes them again when there is room."""

import json
import sqlite3
import time

from conftest import BASE_PROFILE, variant

EXAMPLE = variant({"/peers/1/active_caseload": 25})


def count_appends(store) -> list[int]:
    calls: list[int] = []
    original = store.append

    def counted(records):
        calls.append(len(records))
        return original(records)

    store.append = counted
    return calls


def test_a_locked_sqlite_file_fails_fast_backs_off_and_recovers(make_client, tmp_path, capfd):
    client = make_client(data_dir=tmp_path)
    service = client.app.state.service
    assert client.post("/v1/evaluations", json=EXAMPLE).json()["recorded"] is True
    tries = count_appends(service.decision_log)
    other = sqlite3.connect(tmp_path / "decisions.sqlite3", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    capfd.readouterr()
    started = time.perf_counter()
    answers = [client.post("/v1/evaluations", json=EXAMPLE) for _ in range(20)]
    elapsed = time.perf_counter() - started
    assert all(a.status_code == 200 and a.json()["recorded"] is False for a in answers)
    # one commit waited (at most decision_log_wait_ms); the others were answered without trying
    assert len(tries) == 1
    assert elapsed < 5  # 20 answers; a 2 s busy wait each would take 40 s
    assert client.get("/healthz").json()["decision_log"] == "unavailable"
    logged = capfd.readouterr().err
    assert logged.count('"event": "decision_log_unavailable"') == 1  # once, not per request
    assert logged.count('"event": "decision_not_recorded"') == 20

    other.execute("ROLLBACK")
    other.close()
    service.decision_writer._retry_at = 0  # the pause (1 s, doubling) is over
    answer = client.post("/v1/evaluations", json=EXAMPLE).json()
    assert answer["recorded"] is True
    assert client.get(f"/v1/evaluations/{answer['decision_id']}").status_code == 200
    assert client.get("/healthz").json()["decision_log"] == "ok"
    recovered = [json.loads(line) for line in capfd.readouterr().err.splitlines() if "decision_log_recovered" in line]
    assert recovered and recovered[0]["unrecorded"] == 20


def test_the_pause_doubles_while_the_log_keeps_failing(tmp_path):
    from decisionlog import LogUnavailable
    from decisionlog.group_commit import GroupCommit

    class Down:
        name = "down"
        calls = 0

        def append(self, records):
            Down.calls += 1
            raise LogUnavailable("database down")

    now = [100.0]
    writer = GroupCommit(Down(), backoff_first_s=1, backoff_max_s=4, clock=lambda: now[0])
    pauses = []
    for _ in range(5):
        future = writer.submit(["r"])
        try:
            future.result(timeout=5)
        except LogUnavailable:
            pass
        pauses.append(writer._pause_s)
        refused = writer.submit(["r"])  # within the pause: refused without trying
        assert isinstance(refused.exception(timeout=5), LogUnavailable) and refused.exception().backing_off
        now[0] += writer._pause_s
    writer.close()
    assert pauses == [1, 2, 4, 4, 4] and Down.calls == 5


def test_a_locked_postgresql_table_fails_fast(make_client, postgres_url):
    import psycopg

    client = make_client(database_url=postgres_url)
    assert client.post("/v1/evaluations", json=BASE_PROFILE).json()["recorded"] is True
    with psycopg.connect(postgres_url) as other:
        other.execute("LOCK TABLE decisions IN ACCESS EXCLUSIVE MODE")
        started = time.perf_counter()
        answers = [client.post("/v1/evaluations", json=BASE_PROFILE).json() for _ in range(10)]
        elapsed = time.perf_counter() - started
        other.rollback()
    assert [a["recorded"] for a in answers] == [False] * 10
    assert elapsed < 5
    client.app.state.service.decision_writer._retry_at = 0
    assert client.post("/v1/evaluations", json=BASE_PROFILE).json()["recorded"] is True


def test_a_log_at_its_size_budget_stops_recording_and_says_so(make_client, tmp_path, capfd, monkeypatch):
    # The size is read afresh on every write here, so "full" is decided on the true size, not on
    # the running estimate (which errs high and would let a re-measured log take one more).
    monkeypatch.setattr("decisionlog.base.MEASURE_INTERVAL_S", 0.0)
    client = make_client(data_dir=tmp_path)
    service = client.app.state.service
    store = service.decision_log
    assert client.post("/v1/evaluations", json=EXAMPLE).json()["recorded"] is True
    store.max_bytes = store.stored_bytes() + 64 * 1024  # room for a few more decisions
    store._measured_at = 0
    capfd.readouterr()
    recorded: list[bool] = []
    while len(recorded) < 500 and recorded[-20:] != [False] * 20:
        recorded.append(client.post("/v1/evaluations", json=EXAMPLE).json()["recorded"])
    assert recorded[0] is True and recorded[-20:] == [False] * 20
    assert store.stored_bytes() <= store.max_bytes + 32 * 1024  # past it by a few pages at most
    store._measured_at = 0  # measured afresh, the log is still too full for one more
    assert client.post("/v1/evaluations", json=EXAMPLE).json()["recorded"] is False
    assert client.get("/healthz").json()["decision_log"] == "full"
    logged = capfd.readouterr().err
    assert logged.count('"event": "decision_log_full"') == 1
    assert '"event": "decision_log_unavailable"' not in logged  # full is not a failure: no pause

    store.max_bytes = 0  # room again (as after pruning)
    assert client.post("/v1/evaluations", json=EXAMPLE).json()["recorded"] is True
    assert client.get("/healthz").json()["decision_log"] == "ok"


def test_the_budget_is_a_setting(make_client, tmp_path):
    client = make_client(data_dir=tmp_path, decision_log_max_mb=5)
    assert client.app.state.service.decision_log.max_bytes == 5 * 1024 * 1024
