"""POST /v1/evaluations:compare — resolved, remaining and new findings between two profiles."""

from conftest import BASE_PROFILE, variant

URL = "/v1/evaluations:compare"
PROBLEM = "application/problem+json"


def rule_subjects(findings):
    return {(f["rule_id"], f["subject"]["pointer"]) for f in findings}


def test_resolved_remaining_new(client):
    before = variant({"/peers/1/active_caseload": 25, "/program/referral_pathways": ["court_ordered"]})
    after = variant({"/peers/1/active_caseload": 25, "/peers/0/active_caseload": 45})
    response = client.post(URL, json={"before": before, "after": after})
    assert response.status_code == 200
    body = response.json()
    assert ("PC-VOLUNTARY-001", "") in rule_subjects(body["resolved"])
    assert ("PC-CASELOAD-002", "/peers/1") in rule_subjects(body["remaining"])
    assert ("PC-CASELOAD-001", "/peers/0") in rule_subjects(body["new"])

    # consistent with evaluating each profile alone
    alone_before = client.post("/v1/evaluations", json=before).json()
    alone_after = client.post("/v1/evaluations", json=after).json()
    assert body["undecided"] == []
    assert rule_subjects(body["resolved"]) | rule_subjects(body["remaining"]) == rule_subjects(alone_before["findings"])
    assert rule_subjects(body["remaining"]) | rule_subjects(body["new"]) == rule_subjects(alone_after["findings"])
    assert not rule_subjects(body["resolved"]) & rule_subjects(body["new"])
    assert body["before"]["summary"] == alone_before["summary"] and body["after"]["summary"] == alone_after["summary"]
    assert body["before"]["profile_digest"] == alone_before["profile_digest"]
    assert body["recorded"] is True
    for side in ("before", "after"):
        stored = client.get(f"/v1/evaluations/{body[side]['decision_id']}").json()
        assert stored["kind"] == "compare" and stored["summary"] == body[side]["summary"]


def test_removing_an_answer_does_not_resolve_the_risk(client, capsys, tmp_path):
    """Absent data is not compliance: a finding whose rule now lacks an answer is undecided, not resolved."""
    import json

    from cli.main import main

    before = variant({"/peers/1/active_caseload": 25})
    after = variant({"/peers/1/active_caseload": None})
    body = client.post(URL, json={"before": before, "after": after}).json()
    assert ("PC-CASELOAD-002", "/peers/1") in rule_subjects(body["undecided"])
    assert ("PC-CASELOAD-002", "/peers/1") not in rule_subjects(body["resolved"])
    dont_know = variant({"/peers/1/active_caseload": None, "/dont_know": ["/peers/1/active_caseload"],
                         "/schema_version": "1.2"})
    body = client.post(URL, json={"before": before, "after": dont_know}).json()
    assert ("PC-CASELOAD-002", "/peers/1") in rule_subjects(body["undecided"])

    (tmp_path / "b.json").write_text(json.dumps(before))
    (tmp_path / "a.json").write_text(json.dumps(after))
    capsys.readouterr()
    main(["compare", str(tmp_path / "b.json"), str(tmp_path / "a.json")])
    out = " ".join(capsys.readouterr().out.split())
    resolved = out.split("RESOLVED (")[1].split("NO LONGER JUDGED")[0]
    assert "Caseload per full-time peer" not in resolved
    assert "Caseload per full-time peer well above" in out.split("NO LONGER JUDGED")[1].split("REMAINING")[0]


def test_same_profile_resolves_nothing(client):
    data = variant({"/program/referral_pathways": ["court_ordered"]})
    body = client.post(URL, json={"before": data, "after": data}).json()
    assert body["resolved"] == [] and body["new"] == [] and body["remaining"]
    assert body["before"]["decision_id"] != body["after"]["decision_id"]


def test_peers_matched_by_id_when_reordered(client):
    before = variant({"/peers/1/active_caseload": 25})
    after = {**before, "peers": list(reversed(before["peers"]))}
    body = client.post(URL, json={"before": before, "after": after}).json()
    assert body["resolved"] == [] and body["new"] == []
    (remaining,) = [f for f in body["remaining"] if f["rule_id"] == "PC-CASELOAD-002"]
    assert remaining["subject"]["pointer"] == "/peers/0" and remaining["subject"]["peer_id"] == "peer-b"


def test_acknowledging_does_not_resolve(client):
    before = variant({"/program/referral_pathways": ["court_ordered"]})
    after = {**before, "acknowledged": [{"rule_id": "PC-VOLUNTARY-001", "reason": "Statute."}]}
    body = client.post(URL, json={"before": before, "after": after}).json()
    voluntary = [f for f in body["remaining"] if f["rule_id"] == "PC-VOLUNTARY-001"]
    assert voluntary and voluntary[0]["acknowledged"] == "Statute."
    assert body["after"]["summary"]["acknowledged"] == 1


def test_invalid_sides_are_named(client):
    response = client.post(URL, json={"before": BASE_PROFILE, "after": variant({"/peers/0/fte": 7})})
    assert response.status_code == 422 and response.headers["content-type"].startswith(PROBLEM)
    assert [e["pointer"] for e in response.json()["errors"]] == ["/after/peers/0/fte"]
    response = client.post(URL, json={"before": variant({"/acknowledged": [{"rule_id": "PC-NOPE-001", "reason": "x y z"}]}),
                                      "after": BASE_PROFILE})
    assert [e["pointer"] for e in response.json()["errors"]] == ["/before/acknowledged/0/rule_id"]
    response = client.post(URL, json={"before": BASE_PROFILE})
    assert "/after" in [e["pointer"] for e in response.json()["errors"]]
