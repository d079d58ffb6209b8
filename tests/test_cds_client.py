"""A CDS client written from the specification (tests/cds_client.py) against a real server process:
discovery → JWT-signed service call → cards → feedback → the override acknowledged on the next
review; CORS preflights; wrong issuer, wrong key, wrong audience, HMAC and replayed tokens refused."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from bench.load import free_port, start_server
from cds_client import JwksServer, SpecClient
from conftest import variant

ISSUER = "https://ehr.example.org"
SERVICE = "peercheck-program-review"
HOOK = "peercheck-program-review"
SANDBOX = "https://sandbox.cds-hooks.org"
RISKY = variant({"/peers/1/active_caseload": 25, "/program/referral_pathways": ["court_ordered"]})


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The service, trusting one CDS client whose JWK Set is at a URL; browsers from SANDBOX allowed."""
    client_key = ec.generate_private_key(ec.SECP384R1())
    jwks = JwksServer(SpecClient("http://unused", ISSUER, key=client_key).jwk_set())
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = start_server(port, env={
        "PEERCHECK_DATA_DIR": str(tmp_path_factory.mktemp("cds-data")),
        "PEERCHECK_PUBLIC_BASE_URL": base,
        "PEERCHECK_CDS_CLIENTS": json.dumps([{"iss": ISSUER, "jwks_url": jwks.url}]),
        "PEERCHECK_CDS_CORS_ORIGINS": json.dumps([SANDBOX]),
        "PEERCHECK_CDS_MAX_CARDS": "4",
    })
    try:
        yield {"base": base, "key": client_key, "jku": jwks.url}
    finally:
        process.terminate()
        process.wait(timeout=20)
        jwks.close()


@pytest.fixture
def ehr(server):
    return SpecClient(server["base"], ISSUER, jku=server["jku"], key=server["key"], tenant="county-health")


def finding_cards(body):
    return [c for c in body["cards"] if "overrideReasons" in c]


def test_discovery_then_a_call_then_cards(ehr):
    discovered = ehr.discover()
    assert discovered.status_code == 200
    (service,) = [s for s in discovered.json()["services"] if s["id"] == SERVICE]
    assert service["hook"] == HOOK

    answer = ehr.call(service["id"], service["hook"], {"profile": RISKY, "programId": "prog-cards"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    meta = body["extension"]["org.peercheck.decision"]  # a reverse-domain extension key
    assert meta["recorded"] is True and meta["acknowledged_from_feedback"] == 0
    cards = body["cards"]
    assert 0 < len(cards) <= 4  # PEERCHECK_CDS_MAX_CARDS
    order = ["info", "warning", "critical"]
    open_indicators = [order.index(c["indicator"]) for c in finding_cards(body)]
    assert open_indicators == sorted(open_indicators, reverse=True)  # most urgent first
    for card in finding_cards(body):
        uuid.UUID(card["uuid"])
        assert card["selectionBehavior"] == "at-most-one" and card["suggestions"][0]["uuid"]
        assert {r["code"] for r in card["overrideReasons"]} >= {"mitigated", "required"}
        assert all(r["system"] and r["display"] for r in card["overrideReasons"])
        (link,) = card["links"]
        assert link["type"] == "absolute" and link["url"].startswith(ehr.base_url + "/ui/decisions/" + meta["decision_id"])

    report = httpx.get(finding_cards(body)[0]["links"][0]["url"], timeout=30)  # a browser, no sign-in
    assert report.status_code == 200 and "text/html" in report.headers["content-type"]
    assert meta["decision_id"] in report.text


def test_card_cap_ends_with_a_card_for_the_rest(ehr):
    many = variant({"/peers/1/active_caseload": 40, "/program/referral_pathways": ["court_ordered"],
                    "/peers/0/duties": ["administer_drug_test", "attend_court"], "/peers/0/other_roles": ["van_driver"], "/supervision": None,
                    "/policies": None})
    body = ehr.call(SERVICE, HOOK, {"profile": many}).json()
    cards = body["cards"]
    assert len(cards) == 4
    more = cards[-1]
    assert more["summary"].startswith("And ") and "see the full report" in more["summary"]
    assert more["links"][0]["url"].startswith(ehr.base_url + "/ui/decisions/")
    assert any("would complete the review" in c["summary"] for c in cards[:-1])  # the questions card is kept


def test_feedback_override_becomes_an_acknowledged_risk(ehr, server):
    context = {"profile": RISKY, "programId": "prog-feedback"}
    first = ehr.call(SERVICE, HOOK, context).json()
    card = next(c for c in finding_cards(first) if c["source"]["topic"]["code"] == "PC-VOLUNTARY-001")
    reason = next(r for r in card["overrideReasons"] if r["code"] == "required")

    sent = ehr.feedback(SERVICE, [ehr.overridden(card, reason)])
    assert sent.status_code == 200, sent.text
    assert sent.json() == {"recorded": 1, "unknown_cards": []}
    assert ehr.feedback(SERVICE, [{"card": str(uuid.uuid4()), "outcome": "overridden",
                                   "outcomeTimestamp": "2026-01-01T00:00:00Z"}]).json()["unknown_cards"]

    decision_id = first["extension"]["org.peercheck.decision"]["decision_id"]
    stored = httpx.get(f"{ehr.base_url}/v1/evaluations/{decision_id}", timeout=30).json()
    assert stored["external_id"] == "prog-feedback"
    (recorded,) = stored["feedback"]
    assert recorded["card"] == card["uuid"] and recorded["outcome"] == "overridden"
    assert recorded["rule_id"] == "PC-VOLUNTARY-001" and recorded["reason_code"] == "required"

    second = ehr.call(SERVICE, HOOK, context).json()
    assert second["extension"]["org.peercheck.decision"]["acknowledged_from_feedback"] == 1
    again = next(c for c in second["cards"] if c["source"].get("topic", {}).get("code") == "PC-VOLUNTARY-001")
    assert again["indicator"] == "info" and again["summary"].startswith("Acknowledged:")
    assert "Required by law, court order or funder" in again["detail"]
    assert "overrideReasons" not in again  # already acknowledged: nothing to dismiss

    other = ehr.call(SERVICE, HOOK, {"profile": RISKY, "programId": "another-program"}).json()
    assert other["extension"]["org.peercheck.decision"]["acknowledged_from_feedback"] == 0

    # the user later chooses to address it: the override is withdrawn
    assert ehr.feedback(SERVICE, [ehr.accepted(card)]).status_code == 200
    third = ehr.call(SERVICE, HOOK, context).json()
    assert third["extension"]["org.peercheck.decision"]["acknowledged_from_feedback"] == 0
    assert any(c["source"]["topic"]["code"] == "PC-VOLUNTARY-001" for c in finding_cards(third))


def test_cors_preflight_for_allowed_origins_only(ehr):
    url = f"{ehr.base_url}/cds-services/{SERVICE}"
    asked = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"}
    allowed = httpx.options(url, headers={"Origin": SANDBOX, **asked}, timeout=30)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == SANDBOX
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    refused = httpx.options(url, headers={"Origin": "https://evil.example", **asked}, timeout=30)
    assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers
    # the answer itself carries the header, so the browser lets the page read it
    answered = httpx.get(f"{ehr.base_url}/cds-services", timeout=30,
                         headers={"Origin": SANDBOX, "Authorization": f"Bearer {ehr.token(ehr.base_url + '/cds-services')}"})
    assert answered.status_code == 200 and answered.headers["access-control-allow-origin"] == SANDBOX
    # other routes get no CORS headers
    assert "access-control-allow-origin" not in httpx.get(f"{ehr.base_url}/healthz", headers={"Origin": SANDBOX}).headers


def test_replayed_token_is_refused(ehr):
    url = f"{ehr.base_url}/cds-services"
    token = ehr.token(url)
    assert ehr.discover(token=token).status_code == 200
    replay = ehr.discover(token=token)
    assert replay.status_code == 401 and "replayed" in replay.json()["detail"]


@pytest.mark.parametrize("case", ["no token", "wrong issuer", "wrong key", "wrong audience", "expired", "no jti",
                                  "hmac", "foreign jku", "too long-lived"])
def test_untrusted_tokens_are_refused(ehr, server, case):
    url = f"{ehr.base_url}/cds-services/{SERVICE}"
    context = {"profile": RISKY}
    now = int(time.time())
    if case == "no token":
        response = httpx.post(url, json={"hook": HOOK, "hookInstance": str(uuid.uuid4()), "context": context})
    else:
        client = ehr
        overrides = {}
        if case == "wrong issuer":
            client = SpecClient(ehr.base_url, "https://stranger.example.org", key=server["key"])
        elif case == "wrong key":
            client = SpecClient(ehr.base_url, ISSUER)  # a fresh key pair, not the published one
        elif case == "foreign jku":
            client = SpecClient(ehr.base_url, ISSUER, key=server["key"], jku="http://127.0.0.1:9/other-keys.json")
        overrides = {
            "wrong audience": {"aud": f"{ehr.base_url}/cds-services/another-service"},
            "expired": {"iat": now - 900, "exp": now - 600},
            "no jti": {"jti": None},
            "too long-lived": {"exp": now + 7200},
        }.get(case, {})
        if case == "no jti":
            token = jwt.encode({"iss": ISSUER, "aud": url, "exp": now + 300, "iat": now}, server["key"],
                               algorithm="ES384", headers={"kid": client.kid, "typ": "JWT"})
        elif case == "hmac":
            token = jwt.encode({"iss": ISSUER, "aud": url, "exp": now + 300, "iat": now, "jti": str(uuid.uuid4())},
                               "shared-secret-shared-secret-shared", algorithm="HS256", headers={"kid": client.kid})
        else:
            token = client.token(url, **overrides)
        response = client.call(SERVICE, HOOK, context, token=token)
    assert response.status_code == 401, (case, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_api_keys_still_guard_the_rest(server):
    """CDS clients authenticate with JWTs; the rest of the API is untouched by that setting."""
    assert httpx.get(f"{server['base']}/v1/rules", timeout=30).status_code == 200  # no keys configured here
