"""The questionnaire over HTTP: the catalog, next questions for drafts, and "don't know" in profiles."""

import json

from conftest import BASE_PROFILE, FIXTURES, fields_of, variant

PROBLEM = "application/problem+json"
ADAMS = json.loads((FIXTURES / "programs" / "adams-county-oh.json").read_text())["profile"]


def test_the_catalog(client):
    response = client.get("/v1/questionnaire")
    assert response.status_code == 200
    body = response.json()
    assert [s["id"] for s in body["sections"]] == ["program", "peers", "supervision", "policies", "hiring"]
    assert body["schema_version"] == "1.2" and body["severity_weights"]["critical"] > body["severity_weights"]["high"]
    ids = [q["id"] for q in body["questions"]]
    assert len(ids) == len(set(ids)) > 50
    duties = next(q for q in body["questions"] if q["id"] == "peers.duties")
    assert duties["pointer"] == "/peers/{i}/duties" and duties["per_peer"] and len(duties["answer"]["options"]) > 50
    assert all(q["rules"] for q in body["questions"] if not q["required"])


def test_next_questions_from_a_name_and_a_state(client):
    response = client.post("/v1/questionnaire/next?limit=3",
                           json={"schema_version": "1.2", "program": {"name": "Jail Reentry Peers", "state": "OH"}})
    assert response.status_code == 200
    body = response.json()
    assert len(body["questions"]) == 3 and body["questions"][0]["pointer"] == "/peers"
    assert body["questions"][1]["waiting"][0]["severity"] == "critical"
    assert body["complete"] is False and body["problems"] == [] and body["progress"]["peers_listed"] is False


def test_next_questions_name_what_is_wrong_and_carry_on(client):
    draft = {"program": {"name": "X", "state": "Ohio"}, "peers": [{"title": "Peer", "caseload": 30}],
             "dont_know": ["/program/intercepts"]}
    body = client.post("/v1/questionnaire/next", json=draft).json()
    assert {p["pointer"] for p in body["problems"]} == {"/program/state", "/peers/0/caseload", "/dont_know/0"}
    assert body["questions"][0]["pointer"] == "/program/state" and body["questions"][0]["answer"]["type"] == "one_of"


def test_next_questions_bad_requests(client):
    for bad in ("limit=0", "limit=101", "limit=x"):
        response = client.post(f"/v1/questionnaire/next?{bad}", json={})
        assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    response = client.post("/v1/questionnaire/next", json=[{"program": {}}])
    assert response.status_code == 422 and response.json()["errors"][0]["pointer"] == ""


def test_a_decision_groups_its_needs_by_question(client):
    body = client.post("/v1/evaluations", json=ADAMS).json()
    assert 0 < len(body["questions"]) < body["summary"]["needs_information"]
    first = body["questions"][0]
    assert first["question_id"] == "peers.duties" and first["peer"] == 1 and first["peer_id"] == "p1"
    assert first["label"] == "Duties" and first["text"].endswith("?")
    assert first["waiting"][0]["severity"] == "critical"


def test_dont_know_over_http(client):
    said = {**ADAMS, "schema_version": "1.2", "dont_know": ["/peers/1/duties"]}
    body = client.post("/v1/evaluations", json=said).json()
    entry = next(q for q in body["questions"] if q["pointer"] == "/peers/1/duties")
    assert entry["dont_know"] is True and body["questions"][-1] == entry
    unsaid = {**ADAMS, "schema_version": "1.2", "program": {k: v for k, v in ADAMS["program"].items() if k != "intercepts"}}
    for bad, pointer in ((["/program/intercepts"], "/dont_know/0"),  # no rule reads it: not a question
                         (["/peers/0/title"], "/dont_know/0"),  # required
                         (["/peers/0/employer"], "/dont_know")):  # answered
        response = client.post("/v1/evaluations", json={**unsaid, "dont_know": bad})
        assert response.status_code == 422, bad
        assert [e["pointer"] for e in response.json()["errors"]] == [pointer], bad
    batch = client.post("/v1/evaluations:batch", json={"items": [said, {**unsaid, "dont_know": ["/program/intercepts"]}]})
    results = batch.json()["results"]
    assert "decision" in results[0] and results[1]["error"]["errors"][0]["pointer"] == "/dont_know/0"


def test_earlier_schema_versions_are_still_accepted(client):
    for version in ("1.0", "1.1", "1.2"):  # a profile of each version, with that version's fields
        assert client.post("/v1/evaluations", json=fields_of(version, BASE_PROFILE)).status_code == 200
    assert client.post("/v1/evaluations", json=variant({"/schema_version": "1.3"})).status_code == 422
