"""POST /v1/evaluations:batch — per-item results in order, per-item errors, limits, summary."""

import pytest

from conftest import BASE_PROFILE, variant

PROBLEM = "application/problem+json"
URL = "/v1/evaluations:batch"


def test_the_colon_path_routes_to_the_batch(client):
    response = client.post(URL, json={"items": [BASE_PROFILE]})
    assert response.status_code == 200 and "results" in response.json()
    # and does not fall through to the single evaluation or the stored-decision route
    assert client.post("/v1/evaluations:nothing", json={}).status_code == 404


def test_mixed_items_keep_order_and_fail_alone(client):
    risky = variant({"/peers/1/active_caseload": 25, "/program/referral_pathways": ["court_ordered"]})
    items = [
        BASE_PROFILE,
        variant({"/peers/0/fte": 1.5}),                     # invalid value
        risky,
        "not a profile",                                    # not even an object
        variant({"/program/colour": "red"}),                # unknown field
        variant({"/acknowledged": [{"rule_id": "PC-NOPE-001", "reason": "typo in a waiver"}]}),  # unknown rule
    ]
    response = client.post(URL, json={"items": items})
    assert response.status_code == 200
    body = response.json()
    results = body["results"]
    assert [r["index"] for r in results] == list(range(len(items)))
    assert [r["decision"] is not None for r in results] == [True, False, True, False, False, False]
    for r in results:
        assert (r["decision"] is None) != (r["error"] is None)

    single = client.post("/v1/evaluations", json=risky).json()
    assert {f["rule_id"] for f in results[2]["decision"]["findings"]} == {f["rule_id"] for f in single["findings"]}
    assert results[2]["decision"]["summary"] == single["summary"]
    ids = [r["decision"]["decision_id"] for r in results if r["decision"]]
    assert len(set(ids)) == len(ids)

    pointers = {r["index"]: [e["pointer"] for e in r["error"]["errors"]] for r in results if r["error"]}
    assert pointers == {1: ["/peers/0/fte"], 3: [""], 4: ["/program/colour"], 5: ["/acknowledged/0/rule_id"]}
    for r in results:
        if r["error"]:
            assert r["error"]["status"] == 422 and r["error"]["type"].startswith("urn:peercheck:problem:")
            assert "1.5" not in r["error"]["detail"]  # values are not echoed

    summary = body["summary"]
    assert summary["items"] == 6 and summary["ok"] == 2 and summary["invalid"] == 4
    assert sum(summary["by_status"].values()) == 2
    assert summary["by_status"]["needs_attention"] >= 1
    decisions = [r["decision"] for r in results if r["decision"]]
    for severity, count in summary["open_findings_by_severity"].items():
        assert count == sum(d["summary"]["by_severity"][severity] for d in decisions)
    assert summary["needs_information"] == sum(d["summary"]["needs_information"] for d in decisions)
    assert body["ruleset_version"] == single["ruleset_version"]
    assert body["recorded"] is True


def test_waivers_are_visible_in_a_batch(client):
    waived = variant({
        "/program/referral_pathways": ["court_ordered"],
        "/acknowledged": [{"rule_id": "PC-VOLUNTARY-001", "reason": "State statute requires the order."}],
    })
    body = client.post(URL, json={"items": [waived, variant({"/program/referral_pathways": ["court_ordered"]})]}).json()
    first, second = (r["decision"] for r in body["results"])
    ack = next(f for f in first["findings"] if f["rule_id"] == "PC-VOLUNTARY-001")
    assert ack["acknowledged"] == "State statute requires the order."
    assert first["summary"]["acknowledged"] == 1 and second["summary"]["acknowledged"] == 0
    assert first["summary"]["findings"] == second["summary"]["findings"] - 1
    assert body["summary"]["acknowledged"] == 1


def test_too_many_items_is_refused_whole(make_client):
    small = make_client(batch_max_items=3)
    assert small.post(URL, json={"items": [BASE_PROFILE] * 3}).status_code == 200
    response = small.post(URL, json={"items": [BASE_PROFILE] * 4})
    assert response.status_code == 413
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == 413 and "at most 3" in body["detail"] and body["type"].endswith(":too-many-items")
    assert body["errors"] == [{"pointer": "/items", "detail": "at most 3 items"}]


def test_default_limit_is_a_thousand(client):
    from api.settings import Settings

    assert Settings().batch_max_items == 1000


@pytest.mark.parametrize("body,pointer", [
    ({"items": []}, "/items"),
    ({}, "/items"),
    ({"items": {"a": 1}}, "/items"),
    ({"items": [BASE_PROFILE], "extra": 1}, "/extra"),
])
def test_malformed_batches(client, body, pointer):
    response = client.post(URL, json=body)
    assert response.status_code == 422 and response.headers["content-type"].startswith(PROBLEM)
    assert pointer in [e["pointer"] for e in response.json()["errors"]]


@pytest.mark.parametrize("path", ["/v1/evaluations", URL, "/v1/evaluations:compare", "/cds-services/peercheck-program-review"])
def test_a_body_that_is_not_utf8_is_a_422_problem(client, path):
    response = client.post(path, content=b'{"items": ["\xff\xfe"]}', headers={"content-type": "application/json"})
    assert response.status_code == 422 and response.headers["content-type"].startswith(PROBLEM)
    errors = response.json()["errors"]
    assert errors[0]["pointer"] == "" and "UTF-8" in errors[0]["detail"]


def test_full_batch_answers_are_written_as_pydantic_writes_them(evaluator):
    """api.batch.answer_json joins each decision's kept JSON into the batch answer: the same bytes
    as pydantic's own encoding of the answer, with and without the per-rule needs."""
    from api import batch as batching
    from api.responses import model_response
    from test_engine_differential import FIXTURE_PROFILES

    items = [data for _, data in FIXTURE_PROFILES[:40]] + [{"profile": FIXTURE_PROFILES[0][1], "external_id": "A-1",
                                                            "labels": {"cycle": "2025"}}, {"bad": 1}]
    results, _, _ = batching.evaluate_items(evaluator, items, {"round": "2"}, "high")
    answer = batching.BatchResult(ruleset_version="rs-x", summary=batching.summarise(results, "high"),
                                  results=results, recorded=True)
    for detail in ("questions", "rules"):
        assert batching.answer_json(answer, detail) == model_response(answer, exclude=batching.leaner("full", detail)).body
