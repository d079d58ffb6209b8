"""POST /v1/evaluations?explain=true — every rule on every subject, accounted for."""

from collections import Counter

import pytest

from conftest import BASE_PROFILE, variant

OUTCOMES = {"fired", "passed", "not_applicable", "needs_information"}


def expected_pairs(ruleset, peers: int) -> int:
    program = sum(1 for r in ruleset.rules if r.spec.scope == "program")
    per_peer = sum(1 for r in ruleset.rules if r.spec.scope == "peer")
    return program + per_peer * peers


@pytest.mark.parametrize("data", [
    BASE_PROFILE,
    variant({"/peers/1/active_caseload": 25, "/program/referral_pathways": ["court_ordered"]}),
    variant({"/peers/0/fte": None, "/supervision": None, "/policies": None, "/hiring": None}),
    {"schema_version": "1.1", "program": {"name": "Minimal", "state": "FL"}, "peers": [{"title": "Peer"}]},
], ids=["base", "risky", "sparse", "minimal"])
def test_every_rule_on_every_subject_is_accounted_for(client, data):
    ruleset = client.app.state.service.ruleset  # the app's own (rule files may change during a run)
    body = client.post("/v1/evaluations", params={"explain": "true", "detail": "rules"}, json=data).json()
    explanation = body["explanation"]
    peers = len(data["peers"])
    assert len(explanation) == expected_pairs(ruleset, peers)

    pairs = Counter((e["rule_id"], e["subject"]["pointer"]) for e in explanation)
    assert max(pairs.values()) == 1  # no rule × subject twice
    for rule in ruleset.rules:
        subjects = {""} if rule.spec.scope == "program" else {f"/peers/{i}" for i in range(peers)}
        assert {s for (rid, s) in pairs if rid == rule.id} == subjects, rule.id

    for e in explanation:
        assert e["outcome"] in OUTCOMES and e["reason"] and e["title"]
        if e["outcome"] == "needs_information":
            assert e["missing"] and all(p.startswith("/") for p in e["missing"])
        else:
            assert e["missing"] == []
        if e["outcome"] == "not_applicable":
            assert e["reason"].startswith("Applies only when ") and "; here " in e["reason"]

    fired = {(e["rule_id"], e["subject"]["pointer"]) for e in explanation if e["outcome"] == "fired"}
    assert fired == {(f["rule_id"], f["subject"]["pointer"]) for f in body["findings"]}
    needs = {(e["rule_id"], e["subject"]["pointer"], tuple(e["missing"])) for e in explanation if e["outcome"] == "needs_information"}
    assert needs == {(n["rule_id"], n["subject"]["pointer"], tuple(n["missing"])) for n in body["needs_information"]}
    assert body["summary"]["rules_evaluated"] == len(ruleset.rules)


def test_not_applicable_says_why(client):
    # one peer: the single-peer rules apply; two peers (the base): they do not, and the reason says so
    body = client.post("/v1/evaluations?explain=true", json=BASE_PROFILE).json()
    staffing = next(e for e in body["explanation"] if e["rule_id"] == "PC-STAFFING-001")
    assert staffing["outcome"] == "not_applicable"
    assert staffing["reason"] == "Applies only when peer_count is 1; here peer_count is 2."


def test_fired_reason_is_the_finding_message_and_names_the_waiver(client):
    data = variant({"/program/referral_pathways": ["court_ordered"],
                    "/acknowledged": [{"rule_id": "PC-VOLUNTARY-001", "reason": "Required by statute."}]})
    body = client.post("/v1/evaluations?explain=true", json=data).json()
    finding = next(f for f in body["findings"] if f["rule_id"] == "PC-VOLUNTARY-001")
    explained = next(e for e in body["explanation"] if e["rule_id"] == "PC-VOLUNTARY-001")
    assert explained["outcome"] == "fired"
    assert explained["reason"].startswith(finding["message"]) and "Required by statute." in explained["reason"]


def test_without_explain_there_is_no_explanation(client):
    assert client.post("/v1/evaluations", json=BASE_PROFILE).json()["explanation"] is None
    assert client.post("/v1/evaluations?explain=false", json=BASE_PROFILE).json()["explanation"] is None
    response = client.post("/v1/evaluations?explain=maybe", json=BASE_PROFILE)
    assert response.status_code == 422 and response.json()["errors"][0]["parameter"] == "explain"


def test_describe_covers_the_language():
    from api.explain import describe

    assert describe({"peer_count": 1}) == "peer_count is 1"
    assert describe({"$neq": {"certification": "certified"}}) == "certification is not certified"
    assert describe({"$gt": {"caseload_per_fte": 30}}) == "caseload_per_fte > 30"
    assert describe({"$or": [{"$nex": {"x": 1}}, {"x": False}]}) == "x is not given or x is false"
    assert describe({"$and": [{"a": True}, {"$or": [{"b": 1}, {"c": 2}]}]}) == "a is true and (b is 1 or c is 2)"
    assert describe({"$iany": {"duties": {"$i": "home_visit"}}}) == "duties includes home_visit"
    assert describe({"$lt": {"a": {"$mul": {"$l": {"$m": "b"}, "$r": 2}}}}) == "a < (b × 2)"
