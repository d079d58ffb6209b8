"""CDS Hooks 2.0: discovery and service responses, checked field by field against the spec's names."""

import json
import uuid

import pytest

from conftest import BASE_PROFILE, FIXTURES, variant

PROBLEM = "application/problem+json"
SERVICE = "/cds-services/peercheck-program-review"
HOOK = "peercheck-program-review"

# CDS Hooks 2.0 attribute names (https://cds-hooks.hl7.org/2.0/): required and optional per object.
SERVICE_REQUIRED, SERVICE_OPTIONAL = {"hook", "description", "id"}, {"title", "prefetch", "usageRequirements", "extension"}
CARD_REQUIRED = {"summary", "indicator", "source"}
CARD_OPTIONAL = {"uuid", "detail", "suggestions", "selectionBehavior", "overrideReasons", "links", "extension"}
SOURCE_REQUIRED, SOURCE_OPTIONAL = {"label"}, {"url", "icon", "topic", "extension"}
CODING_REQUIRED, CODING_OPTIONAL = {"system", "code"}, {"display"}
LINK_REQUIRED, LINK_OPTIONAL = {"label", "url", "type"}, {"appContext", "extension"}
RESPONSE_REQUIRED, RESPONSE_OPTIONAL = {"cards"}, {"systemActions", "extension"}
INDICATORS = ("info", "warning", "critical")


def call(profile, **extra):
    return {"hook": HOOK, "hookInstance": str(uuid.uuid4()), "context": {"profile": profile}, **extra}


def assert_fields(obj: dict, required: set, optional: set, what: str):
    assert isinstance(obj, dict), what
    assert required <= set(obj), f"{what}: missing {required - set(obj)}"
    assert set(obj) <= required | optional, f"{what}: not CDS Hooks 2.0 names: {set(obj) - required - optional}"
    for key, value in obj.items():
        assert value is not None, f"{what}.{key} is null (the spec: omit, never null)"
        assert value != "" and value != {} , f"{what}.{key} is empty"


def assert_card(card: dict):
    assert_fields(card, CARD_REQUIRED, CARD_OPTIONAL, "card")
    assert isinstance(card["summary"], str) and 0 < len(card["summary"]) < 140
    assert card["indicator"] in INDICATORS
    assert_fields(card["source"], SOURCE_REQUIRED, SOURCE_OPTIONAL, "card.source")
    assert card["source"]["label"].strip()
    assert "url" not in card["source"]  # PeerCheck invents no addresses
    if "topic" in card["source"]:
        assert_fields(card["source"]["topic"], CODING_REQUIRED, CODING_OPTIONAL, "card.source.topic")
    if "uuid" in card:
        uuid.UUID(card["uuid"])
    if "detail" in card:
        assert isinstance(card["detail"], str) and card["detail"].strip()
    for link in card.get("links", []):
        assert_fields(link, LINK_REQUIRED, LINK_OPTIONAL, "card.links[]")
        assert link["type"] in ("absolute", "smart")


def test_discovery(client):
    response = client.get("/cds-services")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"services"} and len(body["services"]) == 1
    service = body["services"][0]
    assert_fields(service, SERVICE_REQUIRED, SERVICE_OPTIONAL, "service")
    assert service["id"] == "peercheck-program-review" and service["hook"] == HOOK
    assert client.post(f"/cds-services/{service['id']}", json=call(BASE_PROFILE)).status_code == 200


def test_cards_follow_the_spec_and_the_decision(client):
    data = variant({"/peers/1/active_caseload": 25, "/program/referral_pathways": ["court_ordered"],
                    "/peers/0/fte": None})
    response = client.post(SERVICE, json=call(data))
    assert response.status_code == 200
    body = response.json()
    assert_fields(body, RESPONSE_REQUIRED, RESPONSE_OPTIONAL, "response")
    for card in body["cards"]:
        assert_card(card)

    meta = body["extension"]["org.peercheck.decision"]
    decision = client.get(f"/v1/evaluations/{meta['decision_id']}").json()
    assert decision["kind"] == "cds" and meta["recorded"] is True
    assert len(decision["findings"]) + (1 if decision["needs_information"] else 0) <= 10  # under the card cap
    assert len(body["cards"]) == len(decision["findings"]) + (1 if decision["needs_information"] else 0)

    cards = {c["source"]["topic"]["code"]: c for c in body["cards"] if "topic" in c["source"]}
    caseload = cards["PC-CASELOAD-002"]
    assert caseload["indicator"] == "warning"  # high → warning
    assert caseload["summary"].endswith("— Peer 2 (peer-b)")  # peers counted as people count
    assert "25 participants on 0.5 FTE" in caseload["detail"]
    assert "- Active caseload: 25" in caseload["detail"]  # evidence in words, the peer's own answers
    assert "- Full-time equivalent (FTE): 0.5" in caseload["detail"]
    assert not any("/peers/" in c["detail"] or "peer #" in c["summary"] for c in body["cards"])  # no pointers
    finding = next(f for f in decision["findings"] if f["rule_id"] == "PC-CASELOAD-002")
    assert "> " + finding["citations"][0]["quote"][:40] in caseload["detail"]  # the quote, as a block quote
    assert finding["citations"][0]["section"] in caseload["source"]["label"]
    # finding ids of peers with an id are not in the log (profiles are not kept); the same input gives the same id
    finding_id = next(f["finding_id"] for f in client.post("/v1/evaluations", json=data).json()["findings"]
                      if f["rule_id"] == "PC-CASELOAD-002")
    assert caseload["uuid"] == str(uuid.uuid5(uuid.UUID(meta["decision_id"]), finding_id))

    needs = body["cards"][-1]  # the questions, in plain words, not the fields' pointers
    assert needs["indicator"] == "info" and needs["summary"] == "1 question would complete the review"
    assert "Peer 1 (peer-a) › Full-time equivalent (FTE)" in needs["detail"] and "/peers/0/fte" not in needs["detail"]


def test_the_questions_card_is_short(client):
    adams = json.loads((FIXTURES / "programs" / "adams-county-oh.json").read_text())["profile"]
    body = client.post(SERVICE, json=call(adams)).json()
    decision_id = body["extension"]["org.peercheck.decision"]["decision_id"]
    decision = client.get(f"/v1/evaluations/{decision_id}").json()
    (card,) = [c for c in body["cards"] if c["uuid"] == str(uuid.uuid5(uuid.UUID(decision_id), "needs-information"))]
    assert_card(card)
    assert card["summary"] == f"{len(decision['questions'])} questions would complete the review"
    assert card["detail"].count("\n- **") == 5 and f"{len(decision['questions']) - 5} more questions" in card["detail"]
    assert len(json.dumps(card)) < 3000


def test_indicator_mapping():
    from api.cds import INDICATOR
    from engine.spec import Severity

    assert set(INDICATOR) == {s.value for s in Severity}
    assert INDICATOR == {"critical": "critical", "high": "warning", "medium": "warning", "low": "info", "info": "info"}


def test_every_severity_maps_to_its_indicator(client):
    from api.cds import cards
    from engine import Profile
    from engine.spec import Severity

    service = client.app.state.service
    risky = service.evaluator.evaluate(Profile.model_validate(variant({"/program/referral_pathways": ["court_ordered"]})))
    expected = {"critical": "critical", "high": "warning", "medium": "warning", "low": "info", "info": "info"}
    for severity in Severity:
        finding = risky.findings[0].model_copy(update={"severity": severity})
        (card,) = cards(risky.model_copy(update={"findings": [finding], "needs_information": []}), service.ruleset)
        assert card.indicator == expected[severity.value]


def test_acknowledged_findings_are_info_cards(client):
    data = variant({"/program/referral_pathways": ["court_ordered"],
                    "/acknowledged": [{"rule_id": "PC-VOLUNTARY-001", "reason": "Required by statute."}]})
    body = client.post(SERVICE, json=call(data)).json()
    card = next(c for c in body["cards"] if c["source"].get("topic", {}).get("code") == "PC-VOLUNTARY-001")
    assert card["indicator"] == "info" and card["summary"].startswith("Acknowledged:")
    assert "Required by statute." in card["detail"]


def test_long_summaries_are_clipped_and_markdown_is_escaped(client):
    data = variant({"/peers/1/id": "x" * 64, "/peers/1/title": "[click](http://evil.example) *bold* <b>",
                    "/peers/1/active_caseload": 25})
    body = client.post(SERVICE, json=call(data)).json()
    for card in body["cards"]:
        assert len(card["summary"]) < 140
    caseload = next(c for c in body["cards"] if c["source"].get("topic", {}).get("code") == "PC-CASELOAD-002")
    assert "[click](http" not in caseload["detail"] and "<b>" not in caseload["detail"]
    assert r"\[click\]" in caseload["detail"]


def test_fhir_fields_and_other_context_are_accepted(client):
    body = call(BASE_PROFILE, fhirServer="https://fhir.example.org", prefetch={"x": None})
    body["context"]["userId"] = "Practitioner/123"
    assert client.post(SERVICE, json=body).status_code == 200


@pytest.mark.parametrize("mutate,pointer", [
    (lambda b: b["context"]["profile"]["peers"][0].update(fte=3), "/context/profile/peers/0/fte"),
    (lambda b: b["context"].pop("profile"), "/context/profile"),
    (lambda b: b.pop("hookInstance"), "/hookInstance"),
    (lambda b: b.update(hook="patient-view"), "/hook"),
    (lambda b: b["context"]["profile"].update(acknowledged=[{"rule_id": "PC-NOPE-001", "reason": "typo"}]),
     "/context/profile/acknowledged/0/rule_id"),
])
def test_invalid_calls_are_problems(client, mutate, pointer):
    body = call(variant({}))
    mutate(body)
    response = client.post(SERVICE, json=body)
    assert response.status_code == 422 and response.headers["content-type"].startswith(PROBLEM)
    assert pointer in [e["pointer"] for e in response.json()["errors"]]


def test_unknown_service(client):
    response = client.post("/cds-services/patient-greeter", json=call(BASE_PROFILE))
    assert response.status_code == 404 and response.headers["content-type"].startswith(PROBLEM)
