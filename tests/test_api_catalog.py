"""Catalog endpoints: activities, jurisdictions, the profile schema, the ruleset (and overrides)."""

import pytest

from conftest import variant

PROBLEM = "application/problem+json"


def test_activities(client):
    ruleset = client.app.state.service.ruleset
    body = client.get("/v1/activities").json()
    assert body["count"] == len(body["activities"]) == len(ruleset.activities.activities)
    assert body["ruleset_version"] == ruleset.version
    codes = [a["code"] for a in body["activities"]]
    assert len(codes) == len(set(codes)) and "peer_support_group" in codes
    for activity in body["activities"]:
        assert activity["classification"] in {"peer", "conflict", "other_staff", "agency_decision"}
        assert activity["reason"] and activity["citations"] and activity["operator_override"] is False
        assert all(c["source"] and c["section"] and c["quote"] for c in activity["citations"])
    total = 0
    for classification in ("peer", "conflict", "other_staff", "agency_decision"):
        part = client.get("/v1/activities", params={"classification": classification}).json()
        assert part["count"] > 0 and {a["classification"] for a in part["activities"]} == {classification}
        total += part["count"]
    assert total == body["count"]
    table2 = client.get("/v1/activities", params={"table": "table_2"}).json()
    assert table2["count"] >= 1 and all(a["table"] == "table_2" for a in table2["activities"])


def test_activities_bad_filter(client):
    response = client.get("/v1/activities", params={"classification": "maybe"})
    assert response.status_code == 422 and response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["errors"][0]["parameter"] == "classification"


def test_known_jurisdiction_names_its_source(client):
    body = client.get("/v1/jurisdictions/NY").json()
    assert body["known"] is True and body["name"] == "New York"
    assert body["recovery_requirement"] == "not_required" and body["basis"] == "source"
    assert body["citation"]["source"] == "lappa-2023" and "New York" in body["citation"]["quote"]
    assert body["citation"]["title"] and body["as_of"]


def test_unknown_jurisdiction_says_the_sources_give_nothing(client):
    body = client.get("/v1/jurisdictions/GU").json()
    assert body["known"] is False and body["basis"] == "default" and body["researched_requirement"] is False
    assert body["recovery_requirement"] is None and body["name"] is None and body["facts"] == []
    assert "one to two years" in body["summary"] and "verify" in body["summary"]
    assert body["citation"]["source"] == "lappa-2023"
    assert body["searched"] and "Guam" in body["searched"][0]


def test_a_state_without_a_cited_requirement_says_what_was_searched(client):
    body = client.get("/v1/jurisdictions/NJ").json()
    assert body["basis"] == "default" and body["researched_requirement"] is False and body["name"] == "New Jersey"
    assert "verify" in body["summary"] and body["searched"]
    assert [f["fact"] for f in body["facts"]] == ["medicaid"]  # what was found is still shown, with its source
    assert body["facts"][0]["source"]["basis"] == "secondary"


def test_researched_jurisdiction_shows_each_fact_with_its_source(client):
    body = client.get("/v1/jurisdictions/PA").json()
    assert body["basis"] == "researched" and body["researched_requirement"] is True and body["name"] == "Pennsylvania"
    assert body["recovery_requirement"] is None and body["citation"] is None
    crs = [f for f in body["facts"] if f["credential"] == "Certified Recovery Specialist (CRS)"]
    recovery = next(f for f in crs if f["fact"] == "recovery")
    assert recovery["value"] == "at least 18 months in recovery"
    assert recovery["source"]["url"] == "https://www.pacertboard.org/crs"
    assert recovery["source"]["basis"] == "primary" and recovery["source"]["as_of"]
    assert {f["fact"] for f in crs} >= {"recovery", "training_hours", "exam", "lived_experience_attestation"}
    assert "18 months" in body["summary"] and "pacertboard.org" in body["summary"]
    assert body["research"]["credentials"][0]["recovery"]["months"] == 18


def test_a_disagreeing_newer_source_is_shown_beside_the_tool_kit(client):
    body = client.get("/v1/jurisdictions/OR").json()
    assert body["basis"] == "source" and body["recovery_requirement"] == "recommended"  # the tool kit's row, unchanged
    assert "abstinence" in body["conflict_with_guidance"]
    assert any(f["fact"] == "recovery" and f["source"]["url"].startswith("https://oregon.gov/") for f in body["facts"])


@pytest.mark.parametrize("code", ["ZZ", "ny", "NEWYORK", "1"])
def test_invalid_jurisdiction_code(client, code):
    response = client.get(f"/v1/jurisdictions/{code}")
    assert response.status_code == 422 and response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["errors"][0]["parameter"] == "state"
    assert f"'{code}'" not in response.text  # the value is not echoed


def test_profile_schema(client):
    from engine import Profile

    schema = client.get("/v1/schema/profile").json()
    assert schema == Profile.model_json_schema()
    assert {"schema_version", "program", "peers"} <= set(schema["required"])
    assert "acknowledged" in schema["properties"]


def test_ruleset(client):
    ruleset = client.app.state.service.ruleset
    body = client.get("/v1/ruleset").json()
    assert body["version"] == ruleset.version == client.get("/healthz").json()["ruleset_version"]
    assert body["rules"] == len(ruleset.rules) == sum(body["rules_by_category"].values()) == sum(body["rules_by_severity"].values())
    assert body["activities"] == sum(body["activities_by_classification"].values())
    assert "NY" in body["states_in_table"] and "FL" not in body["states_in_table"]
    assert "FL" in body["states_researched"] and "NJ" not in body["states_researched"]
    assert {s["id"] for s in body["sources"]} >= {"lappa-2023"}
    assert body["loaded_from"] == ["rules", "rules/catalog/activities.yaml", "rules/catalog/states.yaml", "rules/sources"]
    assert body["overrides"] is None
    assert body["engine"] == "interpreter"


OVERRIDE = """
description: Stricter county caseload policy and a verified Florida row
parameters:
  PC-CASELOAD-001: {caseload_max: 20}
states:
  FL: {name: Florida, recovery_requirement: required_no_length, summary: Verified with the board., basis: operator, as_of: "2026-11", source_note: Letter from the Florida Certification Board}
activities:
  cigarette: {classification: conflict, reason: The county's smoke-free policy.}
"""


def test_an_override_file_changes_threshold_version_and_catalogs(client, make_client, tmp_path):
    path = tmp_path / "overrides.yaml"
    path.write_text(OVERRIDE)
    custom = make_client(overrides_file=path)

    base_info, info = client.get("/v1/ruleset").json(), custom.get("/v1/ruleset").json()
    assert info["version"] != base_info["version"]
    assert info["loaded_from"][-1] == "overrides.yaml"  # by name: the server's paths are not shown
    assert info["overrides"] == {
        "file": "overrides.yaml", "description": "Stricter county caseload policy and a verified Florida row",
        "parameters": {"PC-CASELOAD-001": {"caseload_max": 20}}, "states": ["FL"], "state_requirements": [],
        "activities": ["cigarette"],
    }
    assert "FL" in info["states_in_table"]

    assert client.get("/v1/rules/PC-CASELOAD-001").json()["parameters"]["caseload_max"] == 30
    assert custom.get("/v1/rules/PC-CASELOAD-001").json()["parameters"]["caseload_max"] == 20

    data = variant({"/peers/0/active_caseload": 25})
    fired = lambda c: {f["rule_id"] for f in c.post("/v1/evaluations", json=data).json()["findings"]}  # noqa: E731
    assert "PC-CASELOAD-001" not in fired(client) and "PC-CASELOAD-001" in fired(custom)
    decision = custom.post("/v1/evaluations", json=data).json()
    assert decision["ruleset_version"] == info["version"]

    florida = custom.get("/v1/jurisdictions/FL").json()
    assert florida["known"] is True and florida["basis"] == "operator" and florida["source_note"].startswith("Letter")
    cigarette = next(a for a in custom.get("/v1/activities").json()["activities"] if a["code"] == "cigarette")
    assert cigarette["classification"] == "conflict" and cigarette["operator_override"] is True
