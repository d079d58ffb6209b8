"""The HTTP surface through TestClient: decisions, rules, problems, the OpenAPI contract, logs."""

import json
import math
import re
import warnings
from pathlib import Path

import pytest
import yaml
from openapi_spec_validator import validate

from conftest import BASE_PROFILE, FIXTURES, fields_of, variant
from engine import Profile

ROOT = Path(__file__).resolve().parent.parent
PROBLEM = "application/problem+json"


def test_openapi_yaml_is_what_the_app_serves(client):
    committed = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    served = client.get("/openapi.json").json()
    assert committed == served, "openapi.yaml is stale: run `make openapi`"


def test_openapi_is_valid(client):
    validate(client.get("/openapi.json").json())


def test_operation_ids_are_unique_and_readable(tmp_path):
    from api.main import create_app
    from api.settings import Settings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # FastAPI only warns of a duplicate operation id
        schema = create_app(Settings(decision_log_enabled=False, data_dir=tmp_path)).openapi()
    ids = [operation["operationId"] for item in schema["paths"].values() for operation in item.values()]
    assert len(ids) == len(set(ids)) >= 15
    assert [i for i in ids if not re.fullmatch(r"[a-z]+(_[a-z]+)*", i)] == []
    assert schema["paths"]["/v1/evaluations:batch"]["post"]["operationId"] == "evaluate_batch"


def test_healthz(client):
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["rules"] >= 20 and body["ruleset_version"].startswith("rs-")


def test_evaluation_of_a_program_with_risks(client):
    data = variant({"/peers/1/active_caseload": 25, "/program/referral_pathways": ["court_ordered"]})
    response = client.post("/v1/evaluations", json=data)
    assert response.status_code == 200
    body = response.json()
    assert body["summary"]["status"] == "needs_attention"
    assert {f["rule_id"] for f in body["findings"]} == {"PC-CASELOAD-002", "PC-VOLUNTARY-001"}
    caseload = next(f for f in body["findings"] if f["rule_id"] == "PC-CASELOAD-002")
    assert "25 participants on 0.5 FTE" in caseload["message"] and "50.0 per" in caseload["message"]
    assert caseload["subject"] == {"kind": "peer", "pointer": "/peers/1", "peer_index": 1, "peer_id": "peer-b"}
    assert {"field": "active_caseload", "value": 25, "pointers": ["/peers/1/active_caseload"]} in caseload["evidence"]
    assert caseload["citations"][0]["source"] == "lappa-2023" and caseload["citations"][0]["title"]
    assert body["summary"]["by_severity"]["high"] == 2
    assert response.headers["x-request-id"]


def test_same_profile_same_answer(client):
    first = client.post("/v1/evaluations", json=BASE_PROFILE).json()
    second = client.post("/v1/evaluations", json=BASE_PROFILE).json()
    assert first["decision_id"] != second["decision_id"]
    for key in ("ruleset_version", "profile_digest", "summary", "findings", "questions"):
        assert first[key] == second[key]


def test_needs_information_names_fields(client):
    body = client.post("/v1/evaluations", params={"detail": "rules"},
                       json=variant({"/peers/0/fte": None, "/supervision/peer_network_contact": None})).json()
    needs = {(n["rule_id"], n["subject"]["pointer"]): n["missing"] for n in body["needs_information"]}
    assert needs[("PC-CASELOAD-001", "/peers/0")] == ["/peers/0/fte"]  # the caseload itself is known
    assert not any(rule.startswith("PC-STAFFING") for rule, _ in needs)  # two peers: not applicable
    assert body["summary"]["status"] == "incomplete"


def test_needs_come_grouped_by_question_unless_rules_are_asked_for(client):
    """The default answer leaves the per-rule list out; its questions account for every rule and
    field of it, no more and no fewer."""
    data = variant({"/peers/0/fte": None, "/supervision/peer_network_contact": None, "/policies": {}})
    lean = client.post("/v1/evaluations", json=data).json()
    full = client.post("/v1/evaluations", params={"detail": "rules"}, json=data).json()
    assert "needs_information" not in lean and full["needs_information"]
    assert lean["summary"]["needs_information"] == len(full["needs_information"]) > 0
    per_rule = {(n["rule_id"], pointer) for n in full["needs_information"] for pointer in n["missing"]}
    grouped = {(w["rule_id"], q["pointer"]) for q in lean["questions"] for w in q["waiting"]
               if w["outcome"] == "needs_information"}
    assert grouped == per_rule
    assert {k: v for k, v in lean.items() if k not in ("decision_id", "evaluated_at")} == \
        {k: v for k, v in full.items() if k not in ("decision_id", "evaluated_at", "needs_information")}
    batch = client.post("/v1/evaluations:batch", json={"items": [data]}).json()
    assert "needs_information" not in batch["results"][0]["decision"]
    batch = client.post("/v1/evaluations:batch", params={"detail": "rules"}, json={"items": [data]}).json()
    assert batch["results"][0]["decision"]["needs_information"] == full["needs_information"]
    response = client.post("/v1/evaluations", params={"detail": "everything"}, json=data)
    assert response.status_code == 422 and response.json()["errors"][0]["parameter"] == "detail"


@pytest.mark.parametrize("change,pointer", [
    ({"/peers/0/fte": 0}, "/peers/0/fte"),
    ({"/peers/0/fte": 1.5}, "/peers/0/fte"),
    ({"/peers/0/active_caseload": 10**12}, "/peers/0/active_caseload"),
    ({"/peers/0/active_caseload": -1}, "/peers/0/active_caseload"),
    ({"/peers/0/duties": ["fly_helicopter"]}, "/peers/0/duties/0"),
    ({"/program/state": "ZZ"}, "/program/state"),
    ({"/program/intercepts": [6]}, "/program/intercepts/0"),
    ({"/peers/1/id": "peer-a"}, "/peers/1/id"),
    ({"/program/colour": "red"}, "/program/colour"),
    ({"/schema_version": "9.9"}, "/schema_version"),
    ({"/peers/0/months_in_recovery": "twelve"}, "/peers/0/months_in_recovery"),
    ({"/peers/0/duties": ["food_bank", "food_bank"]}, "/peers/0/duties"),
])
def test_invalid_profiles_get_problem_details_naming_the_field(client, change, pointer):
    response = client.post("/v1/evaluations", json=variant(change))
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == 422 and body["type"].startswith("urn:peercheck:problem:")
    assert pointer in [e["pointer"] for e in body["errors"]]


def test_empty_peer_list(client):
    response = client.post("/v1/evaluations", json={**BASE_PROFILE, "peers": []})
    assert response.status_code == 422 and response.json()["errors"][0]["pointer"] == "/peers"


@pytest.mark.parametrize("body", [b"{not json", b"", b"[]", b"42", b'{"schema_version": "1.0", "program": {"name": "x", "state": "NY"}, "peers": [{"title": "t", "fte": NaN}]}'])
def test_bodies_that_are_not_profiles(client, body):
    response = client.post("/v1/evaluations", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)


def test_infinity_is_rejected(client):
    raw = json.dumps(variant({"/peers/0/fte": math.inf}))
    response = client.post("/v1/evaluations", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422 and response.json()["errors"][0]["pointer"] == "/peers/0/fte"


def test_rules_catalog(client):
    body = client.get("/v1/rules").json()
    assert body["count"] == len(body["rules"]) >= 20
    ids = [r["id"] for r in body["rules"]]
    assert len(ids) == len(set(ids))
    high = client.get("/v1/rules", params={"severity": "high"}).json()
    assert high["count"] > 0 and all(r["severity"] == "high" for r in high["rules"])
    role = client.get("/v1/rules", params={"category": "role"}).json()
    assert all(r["category"] == "role" for r in role["rules"]) and role["count"] >= 10
    rule = client.get("/v1/rules/PC-CASELOAD-002").json()
    assert rule["parameters"] == {"caseload_max": 30, "caseload_well_above": 45}
    assert rule["condition"] == {"$or": [{"$gt": {"caseload_per_fte": 45}}, {"$gt": {"active_caseload": 45}}]}
    assert rule["applies_when"] == {"$gt": {"individual_duties_count": 0}}


def test_unknown_rule_and_route(client):
    for path in ("/v1/rules/PC-NOPE-999", "/v1/nothing"):
        response = client.get(path)
        assert response.status_code == 404 and response.headers["content-type"].startswith(PROBLEM)
    response = client.get("/v1/rules", params={"severity": "urgent"})
    assert response.status_code == 422 and response.json()["errors"][0]["parameter"] == "severity"


def test_every_program_fixture_over_http(client):
    for path in sorted((FIXTURES / "programs").glob("*.json")):
        case = json.loads(path.read_text())
        body = client.post("/v1/evaluations", json=case["profile"]).json()
        assert {f["rule_id"] for f in body["findings"]} == set(case["expected"]["findings"]), path.stem
        for finding in body["findings"]:
            assert finding["citations"] and finding["evidence"] and finding["remediation"]


def test_logs_never_carry_profile_content(capfd):
    from fastapi.testclient import TestClient

    from api.main import create_app

    client = TestClient(create_app())  # configured now, so its logs go to the captured stderr
    marker = "ZQXMARKER"
    data = variant({
        "/program/name": f"{marker} program",
        "/peers/0/title": f"{marker} title",
        "/peers/0/id": f"{marker}-id",
        "/peers/0/months_in_recovery": 7,
        "/program/state": "FL",
        "/program/referral_pathways": ["court_ordered"],
        "/acknowledged": [{"rule_id": "PC-VOLUNTARY-001", "reason": f"{marker} reason"}],
    })
    capfd.readouterr()
    assert client.post("/v1/evaluations", json=data).status_code == 200
    assert client.post("/v1/evaluations", json={**data, "peers": [{"title": marker, "fte": 7}]}).status_code == 422
    logged = capfd.readouterr()
    text = logged.out + logged.err
    assert '"event": "evaluated"' in text  # the logs were captured at all
    assert marker not in text
    assert "months_in_recovery" not in text


def test_acknowledged_risks_are_reported_not_dropped(client):
    data = variant({
        "/peers/1/active_caseload": 25,
        "/program/referral_pathways": ["court_ordered"],
        "/acknowledged": [{"rule_id": "PC-VOLUNTARY-001", "reason": "State statute requires the order; judge agreed to waive sanctions."}],
    })
    body = client.post("/v1/evaluations", json=data).json()
    by_rule = {f["rule_id"]: f for f in body["findings"]}
    assert by_rule["PC-VOLUNTARY-001"]["acknowledged"].startswith("State statute")
    assert by_rule["PC-CASELOAD-002"]["acknowledged"] is None
    assert body["summary"]["findings"] == 1 and body["summary"]["acknowledged"] == 1
    assert body["summary"]["by_severity"]["high"] == 1


def test_acknowledgement_limited_to_a_subject(client):
    data = variant({
        "/peers/0/active_caseload": 40, "/peers/1/active_caseload": 25,
        "/acknowledged": [{"rule_id": "PC-CASELOAD-001", "reason": "Temporary; hiring underway.", "subject": "/peers/0"}],
    })
    body = client.post("/v1/evaluations", json=data).json()
    acks = {f["subject"]["pointer"]: f["acknowledged"] for f in body["findings"]}
    assert acks == {"/peers/0": "Temporary; hiring underway.", "/peers/1": None}


@pytest.mark.parametrize("ack,pointer", [
    ({"rule_id": "PC-NOPE-001", "reason": "because"}, "/acknowledged/0/rule_id"),
    ({"rule_id": "PC-CASELOAD-001"}, "/acknowledged/0/reason"),
    ({"rule_id": "PC-CASELOAD-001", "reason": "  "}, "/acknowledged/0/reason"),
])
def test_bad_acknowledgements(client, ack, pointer):
    response = client.post("/v1/evaluations", json=variant({"/acknowledged": [ack]}))
    assert response.status_code == 422
    assert pointer in [e["pointer"] for e in response.json()["errors"]]


def test_older_profiles_stay_valid_under_newer_versions(client):
    from engine.profile import SCHEMA_VERSIONS

    for declared in SCHEMA_VERSIONS:
        old = fields_of(declared, BASE_PROFILE)
        for newer in SCHEMA_VERSIONS[SCHEMA_VERSIONS.index(declared):]:
            assert client.post("/v1/evaluations", json={**old, "schema_version": newer}).status_code == 200
    newest = client.post("/v1/evaluations", json={**BASE_PROFILE, "schema_version": "1.0"})
    assert newest.status_code == 422 and {e["code"] for e in newest.json()["errors"]} == {"newer_field"}


def test_request_id_is_echoed_and_bound_to_the_logs(capfd):
    from fastapi.testclient import TestClient

    from api.main import create_app

    client = TestClient(create_app())
    response = client.post("/v1/evaluations", json=BASE_PROFILE, headers={"x-request-id": "req-42"})
    assert response.headers["x-request-id"] == "req-42"
    lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith("{")]
    events = {line["event"]: line for line in lines if line.get("request_id") == "req-42"}
    assert {"evaluated", "request"} <= set(events)
    assert events["request"]["status"] == 200
    assert client.get("/healthz", headers={"x-request-id": "x" * 500}).headers["x-request-id"] != "x" * 500


@pytest.mark.parametrize("peers,in_pool", [(2, False), (25, True)])
def test_large_profiles_are_evaluated_off_the_event_loop(client, monkeypatch, peers, in_pool):
    """Small profiles evaluate on the loop (cheaper than a thread hop); large ones in the thread
    pool, so one 500-peer profile cannot hold every other request. Same answer either way."""
    import api.evaluating

    pooled = []
    original = api.evaluating.run_in_threadpool

    async def spy(work, *args):
        pooled.append(work)
        return await original(work, *args)

    monkeypatch.setattr(api.evaluating, "run_in_threadpool", spy)
    base = variant(None)
    body = {**base, "peers": [{**base["peers"][0], "id": f"p{i}"} for i in range(peers)]}
    for path in ("/v1/evaluations?explain=true", "/cds-services/peercheck-program-review"):
        payload = body if path.startswith("/v1") else {"hook": "peercheck-program-review", "hookInstance": "x",
                                                       "context": {"profile": body}}
        response = client.post(path, json=payload)
        assert response.status_code == 200, response.text
    assert bool(pooled) is in_pool
    assert len(pooled) == (3 if in_pool else 0)  # evaluation and explanation, then the CDS evaluation
    answer = client.post("/v1/evaluations", json=body).json()
    reference = client.app.state.service.evaluator.evaluate(Profile.model_validate(body))
    assert [f["finding_id"] for f in answer["findings"]] == [f.finding_id for f in reference.findings]
    assert answer["summary"] == reference.summary.model_dump(mode="json")
