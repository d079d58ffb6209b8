"""The decision log keeps an audit record, not personal data: markers planted in every free-text
and sensitive field reach neither the stored rows, nor the stored-decision answers, nor the logs
— and the record with the ruleset's texts still renders the decision (exactly, when the profile
is kept)."""

import copy
import hashlib
import json
import re
import sqlite3
import time
import typing
from enum import Enum
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from conftest import BASE_PROFILE, FIXTURES, profile, variant
from decisionlog.sqlite import SCHEMA_VERSION
from engine import Decision, Profile
from engine.audit import (
    ACKNOWLEDGED_WITHOUT_REASON, LEGACY_TEXT, PERSONAL_FACTS, PERSONAL_PROFILE_FIELDS, audit_record, restore,
    ruleset_texts,
)
from engine.facts import VOCABULARY

MARK = "ZQXMARK"
MONTHS = 9  # below what most states require: a certification rule fires and would quote it
# Guam: nothing researched, so the general rule (PC-CERT-006); Florida: its stated figure (PC-CERT-008)
CERT_RULE = {"GU": "PC-CERT-006", "FL": "PC-CERT-008"}


def planted(state: str = "GU") -> dict:
    """A profile with a marker in every free-text field, time in recovery on a firing rule,
    lived experience on a firing rule, and acknowledgements with reasons."""
    data = variant({
        "/program/name": f"{MARK} Program of Jane Roe",
        "/program/state": state,
        "/program/referral_pathways": ["voluntary", "court_ordered"],
        "/peers/0/id": f"{MARK.lower()}-jane-roe",
        "/peers/0/title": f"{MARK} Jane Roe, Peer Recovery Specialist",
        "/peers/0/months_in_recovery": MONTHS,
        "/peers/0/active_caseload": 45,
        "/peers/1/id": f"{MARK.lower()}-john-doe",
        "/peers/1/title": f"{MARK} John Doe",
        "/peers/1/lived_experience": [],  # PC-IDENTITY-002 fires on it
        "/acknowledged": [
            {"rule_id": "PC-VOLUNTARY-001", "reason": f"{MARK} the judge, Hon. Smith, insists"},
            {"rule_id": "PC-CASELOAD-001", "reason": f"{MARK} Jane is leaving in March", "subject": "/peers/0"},
        ],
    })
    data["peers"].append({"title": f"{MARK} unnamed peer", "fte": 1, "active_caseload": 60,
                          "months_in_recovery": MONTHS, "lived_experience": ["justice_involvement"]})
    return data


@pytest.mark.parametrize("state", sorted(CERT_RULE))
def test_planted_markers_reach_no_stored_row_answer_or_log(make_client, tmp_path, capfd, state):
    data_dir = tmp_path / "log"
    client = make_client(data_dir=data_dir)
    capfd.readouterr()
    answer = client.post("/v1/evaluations", json=planted(state)).json()
    assert answer["recorded"] is True
    fired = {f["rule_id"] for f in answer["findings"]}
    assert {CERT_RULE[state], "PC-IDENTITY-002", "PC-VOLUNTARY-001", "PC-CASELOAD-001"} <= fired
    assert MARK in json.dumps(answer)  # the answer itself names them: the caller sent them
    batch = client.post("/v1/evaluations:batch", json={"items": [planted(state)]}).json()
    compare = client.post("/v1/evaluations:compare", json={"before": planted(state), "after": planted(state)}).json()
    cds = client.post("/cds-services/peercheck-program-review", json={
        "hook": "peercheck-program-review", "hookInstance": "a6a1b0f0-3f5d-4d43-9d1c-7d1f3c3b9d10",
        "context": {"profile": planted(state)}}).json()
    report = client.post("/v1/reports", json=planted(state), headers={"Idempotency-Key": f"{MARK}-key"})
    # a batch job holds its profiles only until evaluated; CDS feedback keeps no free-text comment
    job = client.post("/v1/batch-jobs", json={"items": [planted(state)]}).json()
    for _ in range(300):
        if client.get(f"/v1/batch-jobs/{job['job_id']}").json()["state"] == "done":
            break
        time.sleep(0.05)
    job_results = client.get(f"/v1/batch-jobs/{job['job_id']}/results")
    card = next(c for c in cds["cards"] if "overrideReasons" in c)
    fed = client.post("/cds-services/peercheck-program-review/feedback", json={"feedback": [{
        "card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": "2026-01-02T03:04:05Z",
        "overrideReason": {"reason": {"code": "mitigated"}, "userComment": f"{MARK} Jane asked us to"}}]})
    assert fed.json()["recorded"] == 1
    ids = [answer["decision_id"], batch["results"][0]["decision"]["decision_id"], compare["before"]["decision_id"],
           cds["extension"]["org.peercheck.decision"]["decision_id"], job_results.json()["results"][0]["decision_id"]]
    assert all(ids) and report.status_code == 200

    stored_answers = [job_results.text]
    for decision_id in ids:
        for path in (f"/v1/evaluations/{decision_id}", f"/v1/evaluations/{decision_id}/report",
                     f"/v1/evaluations/{decision_id}/report?format=markdown"):
            response = client.get(path)
            assert response.status_code == 200, path
            stored_answers.append(response.text)
    logged = capfd.readouterr()
    client.app.state.service.decision_log.close()  # every page to the file

    named_ids = {f["finding_id"] for f in answer["findings"] if f["subject"].get("peer_id")}
    assert named_ids  # finding ids that derive from a peer's id
    for where, text in [*[(p.name, p.read_bytes().decode("latin-1")) for p in data_dir.iterdir()],
                        *[("stored answer", t) for t in stored_answers], ("logs", logged.out + logged.err)]:
        assert MARK not in text and MARK.lower() not in text, where
        assert "Jane" not in text and "Smith" not in text, where
        assert not any(i in text for i in named_ids), where
        assert f"reports {MONTHS} months" not in text, where
        assert "justice_involvement" not in text, where

    stored = client.get(f"/v1/evaluations/{answer['decision_id']}").json()
    for finding in stored["findings"]:
        for item in finding["evidence"]:
            if item["field"] in ("months_in_recovery", "lived_experience", "lived_experience_count", "peer_title"):
                assert item["value"] is None, (finding["rule_id"], item)
    cert = next(f for f in stored["findings"] if f["rule_id"] == CERT_RULE[state])
    assert cert["message"].startswith("Peer 1 reports (not stored) months in recovery")
    original = next(f for f in answer["findings"] if f["rule_id"] == CERT_RULE[state])
    assert cert["message"].split("recovery", 1)[1] == original["message"].split("recovery", 1)[1]  # the rest alike
    acknowledged = [f for f in stored["findings"] if f["acknowledged"]]
    assert len(acknowledged) == 2 and {f["acknowledged"] for f in acknowledged} == {ACKNOWLEDGED_WITHOUT_REASON}
    assert stored["summary"] == answer["summary"] and stored["profile_digest"] == answer["profile_digest"]
    assert [(f["rule_id"], f["severity"], f["subject"]["pointer"]) for f in stored["findings"]] == [
        (f["rule_id"], f["severity"], f["subject"]["pointer"]) for f in answer["findings"]]
    text = " ".join(stored["withheld"])
    assert "profile" in text and "Peers' job titles, and your own ids" in text and "Time in recovery" in text and "reasons" in text
    assert not re.search(r"\bnull\b|digest|finding_id", text)  # words for people, not the API's field names
    html = client.get(f"/v1/evaluations/{answer['decision_id']}/report").text
    assert "Not shown:" in html and "Acknowledgement reasons" in html
    assert "The program has acknowledged 2 risks; their reasons are not kept in the decision log." in html
    assert "with its reasons" not in html


def bad_items() -> list:
    """Invalid batch items whose unknown key names are markers (a key can be a person's name): at the
    top, nested in the program, in a peer, beside the wrapper's profile; and a near miss of a field."""
    nested = copy.deepcopy(BASE_PROFILE)
    nested["program"][f"{MARK}NESTED Jane Roe"] = 1
    nested["program"]["stat"] = "OH"
    peer = copy.deepcopy(BASE_PROFILE)
    peer["peers"][0][f"{MARK}PEER"] = "x"
    return [{**BASE_PROFILE, f"{MARK}TOP": True}, nested, peer,
            {"profile": BASE_PROFILE, f"{MARK}WRAP": 1, "labels": {"portal": "p-1"}},
            {"profile": {**BASE_PROFILE, f"{MARK}INNER/x~y": 2}}]


def finished_job(client, items: list) -> tuple[dict, list]:
    job = client.post("/v1/batch-jobs", json={"items": items}).json()
    for _ in range(600):
        state = client.get(f"/v1/batch-jobs/{job['job_id']}").json()
        if state["state"] == "done":
            return state, client.get(f"/v1/batch-jobs/{job['job_id']}/results").json()["results"]
        time.sleep(0.05)
    raise AssertionError("job not done")


def test_a_batch_job_stores_no_unknown_key_name_of_a_bad_item(make_client, tmp_path, capfd):
    data_dir = tmp_path / "log"
    client = make_client(data_dir=data_dir)
    capfd.readouterr()
    state, results = finished_job(client, bad_items())
    assert state["invalid"] == 5
    errors = [r["error"] for r in results]
    assert all(e and e["errors"] for e in errors)
    pointers = [p["pointer"] for e in errors for p in e["errors"]]
    assert {"/<unknown field>", "/program/<unknown field>", "/peers/0/<unknown field>",
            "/profile/<unknown field>"} <= set(pointers)
    assert any(p["field"] == "Program › an unknown field" for e in errors for p in e["errors"])
    near = next(p for p in errors[1]["errors"] if p["pointer"] == "/program/<unknown field>" and p.get("fix", "").startswith("Did"))
    assert "“state”" in near["fix"]  # suggestions name the schema's fields
    logged = capfd.readouterr()
    client.app.state.service.decision_log.close()
    for where, text in [*[(p.name, p.read_bytes().decode("latin-1")) for p in data_dir.iterdir()],
                        ("results", json.dumps(results)), ("logs", logged.out + logged.err)]:
        assert MARK not in text and "Jane" not in text, where


def test_a_finished_jobs_profiles_leave_the_wal_while_the_server_runs(make_client, tmp_path):
    """Cleared rows keep their old pages in SQLite's write-ahead log until a checkpoint: a finished
    job's profiles must leave it at once, not at shutdown (a crash would leave them there)."""
    data_dir = tmp_path / "log"
    client = make_client(data_dir=data_dir)
    state, _ = finished_job(client, [planted(), planted("FL")])
    assert state["processed"] == 2 and state["invalid"] == 0
    files = [data_dir / "decisions.sqlite3", data_dir / "decisions.sqlite3-wal"]
    deadline = time.time() + 5  # the checkpoint follows the commit that finished the job
    while True:
        found = [p.name for p in files if p.exists() and MARK.encode() in p.read_bytes()]
        if not found or time.time() > deadline:
            break
        time.sleep(0.05)
    assert not found
    assert client.app.state.service.decision_log is not None  # still running: nothing was closed


def review_and_override(client, programme: dict, program_id: str | None = None) -> dict:
    context = {"profile": programme, **({"programId": program_id} if program_id else {})}
    cds = client.post("/cds-services/peercheck-program-review", json={
        "hook": "peercheck-program-review", "hookInstance": "a6a1b0f0-3f5d-4d43-9d1c-7d1f3c3b9d10", "context": context}).json()
    card = next(c for c in cds["cards"] if "overrideReasons" in c and "Peer 1" in c["summary"] + c.get("detail", ""))
    fed = client.post("/cds-services/peercheck-program-review/feedback", json={"feedback": [{
        "card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": "2026-01-02T03:04:05Z",
        "overrideReason": {"reason": {"code": "mitigated"}}}]})
    assert fed.json()["recorded"] == 1
    return cds


def stored_keys(data_dir) -> set[str]:
    with sqlite3.connect(data_dir / "decisions.sqlite3") as db:
        rows = db.execute("SELECT program_key, peer_key FROM cds_cards UNION SELECT program_key, peer_key FROM cds_feedback")
        return {k for row in rows for k in row if k}


def test_cds_feedback_keys_cannot_be_recomputed_from_a_guess(make_client, tmp_path):
    """A program's feedback key is an HMAC under the deployment's secret: hashing a guessed name,
    state and peer id does not find it; the same deployment finds it again after a restart."""
    data_dir = tmp_path / "log"
    programme = planted("FL")
    client = make_client(data_dir=data_dir)
    review_and_override(client, programme)
    client.app.state.service.decision_log.close()
    keys = stored_keys(data_dir)
    assert len(keys) >= 2  # the program's key and the peer's
    name, state, peer = programme["program"]["name"], programme["program"]["state"], programme["peers"][0]["id"]
    for client_id in ("anonymous", ""):
        guess = hashlib.sha256(f"{client_id}\x00name\x00{name}\x00{state}".encode()).hexdigest()
        assert guess not in keys
        assert hashlib.sha256(f"{guess}\x00peer\x00{peer}".encode()).hexdigest() not in keys
    assert (data_dir / "session.key").stat().st_mode & 0o077 == 0

    again = make_client(data_dir=data_dir)  # a restart: the override still applies to the program
    extension = again.post("/cds-services/peercheck-program-review", json={
        "hook": "peercheck-program-review", "hookInstance": "b6a1b0f0-3f5d-4d43-9d1c-7d1f3c3b9d10",
        "context": {"profile": programme}}).json()["extension"]
    assert extension["org.peercheck.decision"]["acknowledged_from_feedback"] == 1


def test_the_data_folder_and_its_files_are_the_servers_alone(make_client, tmp_path):
    """Created 0700 and 0600 whatever the umask; a database an older version left 0644 is narrowed."""
    import os

    from api.limiter import FILE as LIMITS_FILE

    data_dir = tmp_path / "new" / "data"
    old_umask = os.umask(0o022)
    try:
        client = make_client(data_dir=data_dir, rate_limit="1000/minute")
        assert client.post("/v1/evaluations", json=BASE_PROFILE).json()["recorded"] is True
        assert client.get("/ui").status_code == 200  # the page's session: the key file
        modes = {p.name: p.stat().st_mode & 0o777 for p in data_dir.iterdir()}
        assert data_dir.stat().st_mode & 0o777 == 0o700
        assert {"decisions.sqlite3", "decisions.sqlite3-wal", "session.key", LIMITS_FILE} <= set(modes)
        assert set(modes.values()) == {0o600}, modes
        client.app.state.service.decision_log.close()
        (data_dir / "decisions.sqlite3").chmod(0o644)
        make_client(data_dir=data_dir)
        assert (data_dir / "decisions.sqlite3").stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old_umask)


def test_a_bad_requests_own_words_go_back_to_its_sender_only(make_client, tmp_path, capfd):
    """A 422 may quote the sender's unknown key names and, for JSON that cannot be read, its
    offending line: to the sender, who wrote them; never to the logs nor the store."""
    data_dir = tmp_path / "log"
    client = make_client(data_dir=data_dir)
    capfd.readouterr()
    text = json.dumps(BASE_PROFILE).replace('"program": {', f'"program": {{"note": "{MARK} Jane Roe" ', 1)
    unreadable = client.post("/v1/evaluations", content=text, headers={"content-type": "application/json",
                                                                       "Idempotency-Key": "k-1"})
    assert unreadable.status_code == 422 and MARK in unreadable.json()["errors"][0]["excerpt"]
    unknown = client.post("/v1/evaluations", json={**BASE_PROFILE, f"{MARK} Jane Roe": 1})
    assert unknown.status_code == 422 and f"“{MARK} Jane Roe”" in unknown.json()["errors"][0]["field"]
    batch = client.post("/v1/evaluations:batch", json={"items": bad_items()})
    assert batch.status_code == 200 and MARK in batch.text  # an inline batch answers at once, storing no error
    logged = capfd.readouterr()
    client.app.state.service.decision_log.close()
    for where, text in [*[(p.name, p.read_bytes().decode("latin-1")) for p in data_dir.iterdir()],
                        ("logs", logged.out + logged.err)]:
        assert MARK not in text and "Jane" not in text, where


def test_cds_feedback_keeps_only_the_reasons_peercheck_offered(make_client, tmp_path):
    data_dir = tmp_path / "log"
    client = make_client(data_dir=data_dir)
    cds = client.post("/cds-services/peercheck-program-review", json={
        "hook": "peercheck-program-review", "hookInstance": "c6a1b0f0-3f5d-4d43-9d1c-7d1f3c3b9d10",
        "context": {"profile": planted()}}).json()
    uuids = [c["uuid"] for c in cds["cards"] if "overrideReasons" in c][:2]
    reasons = [{"system": "urn:x", "code": f"{MARK}-jane", "display": f"{MARK} Jane Roe asked"},
               {"code": "mitigated", "display": f"{MARK} her judge agreed"}]
    fed = client.post("/cds-services/peercheck-program-review/feedback", json={"feedback": [
        {"card": u, "outcome": "overridden", "outcomeTimestamp": "2026-01-02T03:04:05Z", "overrideReason": {"reason": r}}
        for u, r in zip(uuids, reasons)]})
    assert fed.json()["recorded"] == 2
    client.app.state.service.decision_log.close()
    with sqlite3.connect(data_dir / "decisions.sqlite3") as db:
        rows = db.execute("SELECT reason_code, reason_text FROM cds_feedback ORDER BY reason_code").fetchall()
    assert sorted(rows, key=str) == sorted([(None, None), ("mitigated", "The risk is mitigated another way")], key=str)
    assert all(MARK not in p.read_bytes().decode("latin-1") for p in data_dir.iterdir())


def test_with_profiles_kept_a_bad_items_error_names_its_keys(make_client, tmp_path):
    client = make_client(data_dir=tmp_path / "kept", decision_log_store_profiles=True)
    _, results = finished_job(client, bad_items()[:2])
    assert [p["pointer"] for p in results[0]["error"]["errors"]] == [f"/{MARK}TOP"]
    assert any(f"“{MARK}NESTED Jane Roe”" in p["field"] for p in results[1]["error"]["errors"])


def test_with_profiles_kept_the_stored_decision_is_the_answer(make_client, tmp_path):
    client = make_client(data_dir=tmp_path / "kept", decision_log_store_profiles=True)
    answer = client.post("/v1/evaluations", params={"detail": "rules"}, json=planted()).json()
    stored = client.get(f"/v1/evaluations/{answer['decision_id']}").json()
    assert stored["withheld"] == [] and stored["profile"]["program"]["name"].startswith(MARK)
    returned = {k: v for k, v in answer.items() if k not in ("recorded", "explanation")}
    assert {k: v for k, v in stored.items()
            if k not in ("kind", "logged_at", "profile", "withheld", "external_id", "labels", "job_id", "feedback")} == returned


# ---------------------------------------------------------------- what counts as personal


def _string_fields(model: type[BaseModel], prefix: str = "") -> set[str]:
    """JSON pointers (``{i}`` for list items) of every plain string field in the profile model."""
    found: set[str] = set()
    for name, info in model.model_fields.items():
        pointer, annotation = f"{prefix}/{name}", info.annotation
        for arg in _flatten(annotation):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                found |= _string_fields(arg, pointer + ("/{i}" if _is_list(annotation) else ""))
            elif arg is str:
                found.add(pointer)
    return found


def _flatten(annotation) -> list:
    args = typing.get_args(annotation)
    if not args:
        return [annotation]
    if typing.get_origin(annotation) is typing.Annotated:
        return _flatten(args[0])
    if typing.get_origin(annotation) is typing.Literal:
        return [Enum]  # a fixed set of values, not free text
    return [leaf for arg in args for leaf in _flatten(arg)]


def _is_list(annotation) -> bool:
    return "list" in str(annotation)


def test_every_free_text_field_of_the_profile_is_treated_as_personal():
    strings = {p.replace("/acknowledged/{i}", "/acknowledged/{j}") for p in _string_fields(Profile)}
    constrained = {"/acknowledged/{j}/rule_id", "/acknowledged/{j}/subject",  # patterns: a rule id, a pointer
                   "/dont_know"}  # pointers to fields of the profile, checked against the schema
    assert strings - constrained <= set(PERSONAL_PROFILE_FIELDS), strings - constrained - set(PERSONAL_PROFILE_FIELDS)
    personal_sources = {p for p in PERSONAL_PROFILE_FIELDS}
    from_personal = {name for name, f in VOCABULARY.items() if set(f.sources) & personal_sources}
    assert from_personal == set(PERSONAL_FACTS)


# ---------------------------------------------------------------- reproducing the decision


RULE_CASES = [case.get("set") for path in sorted((FIXTURES / "rules").glob("*/*.yaml"))
              for case in yaml.safe_load(path.read_text())["cases"]]
PROGRAMS = [json.loads(p.read_text())["profile"] for p in sorted((FIXTURES / "programs").glob("*.json"))]


def _dump(decision: dict) -> dict:
    return json.loads(Decision.model_validate(decision).model_dump_json())


def test_record_and_ruleset_texts_reproduce_every_decision(evaluators, ruleset):
    """Every rule fires in its own cases; with the profile, the rendered record equals the
    decision; without it, it equals the decision minus exactly what is withheld."""
    evaluator = evaluators["interpreter"]
    texts = json.loads(json.dumps(ruleset_texts(ruleset)))  # as stored: through JSON
    fired: set[str] = set()
    for data in [variant(s) for s in RULE_CASES] + PROGRAMS + [planted(state) for state in CERT_RULE]:
        kept = profile(data)
        decision = evaluator.evaluate(kept)
        record = json.loads(json.dumps(audit_record(decision, kept)))
        original = json.loads(decision.model_dump_json())
        assert _dump(restore(record, texts, kept, ranker=evaluator.ranker).decision) == original
        bare = restore(record, texts, None, ranker=evaluator.ranker)
        shown = json.loads(json.dumps(bare.decision, default=str))
        assert len(shown["findings"]) == len(original["findings"])
        for got, want in zip(shown["findings"], original["findings"]):
            assert {k: got[k] for k in ("rule_id", "title", "severity", "category", "rationale", "citations")} == \
                   {k: want[k] for k in ("rule_id", "title", "severity", "category", "rationale", "citations")}
            assert got["subject"]["pointer"] == want["subject"]["pointer"] and got["subject"]["peer_id"] is None
            if want["subject"]["kind"] == "program":
                assert got["message"] == want["message"] and got["remediation"] == want["remediation"]
            for g, w in zip(got["evidence"], want["evidence"]):
                assert g["field"] == w["field"] and g["pointers"] == w["pointers"]
                assert g["value"] == (None if g["field"] in PERSONAL_FACTS else w["value"])
        assert shown["needs_information"] == [{**n, "subject": {**n["subject"], "peer_id": None}}
                                              for n in original["needs_information"]]
        assert shown["questions"] == [{**q, "peer_id": None} for q in original["questions"]]
        fired |= {f.rule_id for f in decision.findings}
    assert fired == {r.id for r in ruleset.rules}


def test_peer_ids_that_are_only_numbers_are_kept_for_comparisons(evaluators, ruleset):
    """``peer-<n>`` (as the guided form numbers peers) says nothing about anyone: kept, with the
    finding ids that derive from it; any other id is not."""
    evaluator = evaluators["interpreter"]
    texts = json.loads(json.dumps(ruleset_texts(ruleset)))
    data = planted()
    data["peers"][0]["id"], data["peers"][2]["id"] = "peer-2", "peer-07"
    kept = profile(data)
    decision = evaluator.evaluate(kept)
    record = json.loads(json.dumps(audit_record(decision, kept)))
    assert record["context"]["peer_numbers"] == {"0": 2}
    text = json.dumps(record)
    assert "peer-07" not in text and MARK.lower() not in text
    bare = restore(record, texts, None, ranker=evaluator.ranker)
    original = {(f.rule_id, f.subject.pointer): f for f in decision.findings}
    first_peer = [f for f in bare.decision["findings"] if f["subject"]["peer_index"] == 0]
    assert first_peer and all(f["subject"]["peer_id"] == "peer-2" for f in first_peer)
    assert all(f["finding_id"] == original[(f["rule_id"], "/peers/0")].finding_id for f in first_peer)
    others = [f for f in bare.decision["findings"] if f["subject"]["peer_index"] in (1, 2)]
    assert others and all(f["finding_id"] is None and f["subject"]["peer_id"] is None for f in others)


def test_a_record_refers_to_the_ruleset_instead_of_copying_it(evaluators, ruleset):
    kept = profile(planted())
    decision = evaluators["interpreter"].evaluate(kept)
    text = json.dumps(audit_record(decision, kept))
    for finding in decision.findings:
        for copied in (finding.title, finding.remediation, finding.rationale, finding.citations[0].quote):
            assert copied not in text
    assert len(text) * 5 < len(decision.model_dump_json())


# ---------------------------------------------------------------- records written whole by older versions


def test_older_records_are_rewritten_without_personal_data_at_start_up(make_client, tmp_path, evaluators):
    """A log written before audit records (schema 1, the decision stored whole) is upgraded in
    place: the rows become audit records, the personal data leaves the file, and the decisions
    still read back — a row from another ruleset version with the rule texts it carried."""
    data_dir = tmp_path / "old"
    data_dir.mkdir()
    path = data_dir / "decisions.sqlite3"
    decision = evaluators["interpreter"].evaluate(profile(planted()))
    old = json.loads(decision.model_dump_json())
    other = {**old, "decision_id": "0f0e0d0c-0b0a-4908-8706-050403020100", "ruleset_version": "rs-older000000"}
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript("""
        CREATE TABLE decisions (decision_id TEXT PRIMARY KEY, evaluated_at TEXT NOT NULL, logged_at REAL NOT NULL,
            ruleset_version TEXT NOT NULL, profile_digest TEXT NOT NULL, status TEXT NOT NULL, kind TEXT NOT NULL,
            decision TEXT NOT NULL, profile TEXT);
        PRAGMA user_version=1;""")
    import time
    for row in (old, other):
        conn.execute("INSERT INTO decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                     (row["decision_id"], row["evaluated_at"], time.time(), row["ruleset_version"],
                      row["profile_digest"], row["summary"]["status"], "evaluation", json.dumps(row)))
    conn.commit()
    conn.close()
    assert MARK.encode() in path.read_bytes() or MARK.encode() in (data_dir / "decisions.sqlite3-wal").read_bytes()

    client = make_client(data_dir=data_dir)
    current = client.get(f"/v1/evaluations/{old['decision_id']}").json()
    assert [f["rule_id"] for f in current["findings"]] == [f["rule_id"] for f in old["findings"]]
    assert current["findings"][0]["remediation"] and current["withheld"]
    older = client.get(f"/v1/evaluations/{other['decision_id']}").json()
    assert [f["title"] for f in older["findings"]] == [f["title"] for f in old["findings"]]
    assert all(f["message"] == LEGACY_TEXT for f in older["findings"])
    assert any("recorded before" in w for w in older["withheld"])
    client.app.state.service.decision_log.close()
    for file in data_dir.iterdir():
        assert MARK.encode() not in file.read_bytes() and MARK.lower().encode() not in file.read_bytes(), file.name
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert {r[0] for r in db.execute("SELECT record_format FROM decisions")} == {2}


def test_a_log_from_a_newer_version_is_left_alone(tmp_path):
    from decisionlog import LogUnavailable
    from decisionlog.sqlite import SQLiteLog

    path = tmp_path / "decisions.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version=99")
    with pytest.raises(LogUnavailable, match="newer PeerCheck"):
        SQLiteLog(path, retention_days=0).start()
