"""What a grant portal relies on: its own ids and labels echoed and stored, decisions listed and
filtered page by page, Idempotency-Key, gzip, summary answers, pass/fail verdicts, and an OpenAPI
document that types batch items and names operations readably."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import httpx

from conftest import BASE_PROFILE, variant

RISKY = variant({"/peers/1/active_caseload": 25})  # one high finding (caseload)


def high_rules(client, profile) -> list[str]:
    """The rules with an open finding at or above high, as the full answer shows them."""
    findings = client.post("/v1/evaluations", json=profile).json()["findings"]
    return sorted({f["rule_id"] for f in findings if f["severity"] in ("critical", "high") and f["acknowledged"] is None})


def test_metadata_is_echoed_stored_and_validated(make_client):
    client = make_client()
    answer = client.post("/v1/evaluations", json=BASE_PROFILE,
                         params={"external_id": "APP-0042", "label": ["cycle:2025", "region:north"]}).json()
    assert answer["external_id"] == "APP-0042" and answer["labels"] == {"cycle": "2025", "region": "north"}
    stored = client.get(f"/v1/evaluations/{answer['decision_id']}").json()
    assert stored["external_id"] == "APP-0042" and stored["labels"] == {"cycle": "2025", "region": "north"}

    bad = client.post("/v1/evaluations", json=BASE_PROFILE, params={"label": "no-colon"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["parameter"] == "label"
    bad = client.post("/v1/evaluations", json=BASE_PROFILE, params={"label": "Upper Case:x"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["parameter"] == "label"


def test_batch_items_carry_their_own_ids(make_client):
    client = make_client()
    body = {"labels": {"cycle": "2025"}, "items": [
        {"profile": BASE_PROFILE, "external_id": "APP-1", "labels": {"region": "north"}},
        BASE_PROFILE,
        {"profile": {**BASE_PROFILE, "peers": []}, "external_id": "APP-3"},
        {"profile": BASE_PROFILE, "external_id": "APP-4", "application_id": "x"},
    ]}
    results = client.post("/v1/evaluations:batch", json=body).json()["results"]
    assert results[0]["external_id"] == "APP-1" and results[0]["labels"] == {"cycle": "2025", "region": "north"}
    assert results[1]["external_id"] is None and results[1]["labels"] == {"cycle": "2025"}
    assert results[2]["external_id"] == "APP-3" and results[2]["error"]["errors"][0]["pointer"] == "/profile/peers"
    assert results[3]["error"]["errors"][0]["pointer"] == "/application_id"  # unknown wrapper fields are named
    stored = client.get(f"/v1/evaluations/{results[0]['decision']['decision_id']}").json()
    assert stored["external_id"] == "APP-1" and stored["labels"]["region"] == "north"


def test_list_filters_and_cursor_pages(make_client):
    client = make_client()
    before = datetime.now(timezone.utc) - timedelta(seconds=1)
    for i in range(7):
        client.post("/v1/evaluations", json=RISKY if i % 2 else BASE_PROFILE,
                    params={"external_id": f"APP-{i}", "label": ["cycle:2025", f"group:{i % 3}"]})
    client.post("/v1/evaluations", json=BASE_PROFILE, params={"label": "cycle:2024"})

    pages, cursor = [], None
    while True:
        page = client.get("/v1/evaluations", params={"label": "cycle:2025", "limit": 3,
                                                     **({"cursor": cursor} if cursor else {})}).json()
        pages.append(page["decisions"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    listed = [d for page in pages for d in page]
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [d["external_id"] for d in listed] == [f"APP-{i}" for i in reversed(range(7))]  # newest first
    assert len({d["decision_id"] for d in listed}) == 7

    def ids(**params):
        return {d["external_id"] for d in client.get("/v1/evaluations", params=params).json()["decisions"]}

    assert ids(label=["cycle:2025", "group:1"]) == {"APP-1", "APP-4"}
    assert ids(external_id="APP-5") == {"APP-5"}
    assert ids(status="needs_attention", label="cycle:2025") == {"APP-1", "APP-3", "APP-5"}
    version = listed[0]["ruleset_version"]
    assert len(ids(ruleset_version=version, label="cycle:2025")) == 7 and ids(ruleset_version="rs-000000000000") == set()
    assert len(ids(since=before.isoformat(), label="cycle:2025")) == 7
    assert ids(until=before.isoformat()) == set()
    assert ids(kind="batch") == set()
    assert client.get("/v1/evaluations", params={"cursor": "garbage"}).status_code == 422


def test_idempotency_key(make_client):
    client = make_client()
    key = {"Idempotency-Key": "2c7d1f1e-6f0e-4f0c-9a44-0d4a6b1f3c11"}
    first = client.post("/v1/evaluations:batch", json={"items": [BASE_PROFILE, RISKY]}, headers=key)
    again = client.post("/v1/evaluations:batch", json={"items": [BASE_PROFILE, RISKY]}, headers=key)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again.headers["idempotency-replayed"] == "true"
    assert "idempotency-replayed" not in first.headers
    listed = client.get("/v1/evaluations", params={"kind": "batch"}).json()["decisions"]
    assert len(listed) == 2  # the repeat made no decisions

    # the same request with keys in another order and other whitespace is the same request
    reordered = client.post("/v1/evaluations:batch", headers={**key, "content-type": "application/json"},
                            content=b'{ "items" : [' + httpx.Request("POST", "/", json=BASE_PROFILE).content + b", "
                            + httpx.Request("POST", "/", json=RISKY).content + b"] }")
    assert reordered.status_code == 200 and reordered.json() == first.json()

    reused = client.post("/v1/evaluations:batch", json={"items": [RISKY]}, headers=key)
    assert reused.status_code == 422 and reused.json()["type"].endswith("idempotency-key-reused")
    other_path = client.post("/v1/evaluations", json=BASE_PROFILE, headers=key)
    assert other_path.status_code == 422  # a key belongs to one request, whatever the path

    empty = client.post("/v1/evaluations", json=BASE_PROFILE, headers={"Idempotency-Key": ""})
    assert empty.status_code == 422 and empty.json()["errors"][0]["parameter"] == "Idempotency-Key"
    single = {"Idempotency-Key": "single-1"}
    one = client.post("/v1/evaluations", json=BASE_PROFILE, headers=single).json()
    assert client.post("/v1/evaluations", json=BASE_PROFILE, headers=single).json()["decision_id"] == one["decision_id"]


def test_a_key_in_use_is_409(make_client, monkeypatch):
    """While the first request with a key runs, a second with the same key is told to retry."""
    from api.routes import evaluations

    client = make_client()
    started, release = threading.Event(), threading.Event()
    original = evaluations.batching.evaluate_items

    def slow(*args, **kwargs):
        started.set()
        release.wait(10)
        return original(*args, **kwargs)

    monkeypatch.setattr(evaluations.batching, "evaluate_items", slow)
    key = {"Idempotency-Key": "slow-1"}
    first: dict = {}
    thread = threading.Thread(target=lambda: first.update(r=client.post("/v1/evaluations:batch",
                                                                         json={"items": [BASE_PROFILE]}, headers=key)))
    thread.start()
    assert started.wait(10)
    second = client.post("/v1/evaluations:batch", json={"items": [BASE_PROFILE]}, headers=key)
    release.set()
    thread.join(10)
    assert second.status_code == 409 and second.headers["retry-after"] == "1"
    assert first["r"].status_code == 200


def test_keys_are_per_caller(make_client):
    from api.guards import hash_key

    keys = [{"id": n, "sha256": hash_key(f"secret-{n}"), "scopes": ["read", "evaluate"]} for n in ("a", "b")]
    client = make_client(api_keys=keys)
    same = {"Idempotency-Key": "shared-key"}
    a = client.post("/v1/evaluations", json=BASE_PROFILE, headers={**same, "X-API-Key": "secret-a"}).json()
    b = client.post("/v1/evaluations", json=BASE_PROFILE, headers={**same, "X-API-Key": "secret-b"}).json()
    assert a["decision_id"] != b["decision_id"]  # b is not handed a's answer


def test_idempotent_answers_are_stored_encrypted(make_client, tmp_path):
    import sqlite3

    client = make_client(data_dir=tmp_path / "enc")
    marker = "Quokka Marker Program"
    client.post("/v1/reports", json=variant({"/program/name": marker}), headers={"Idempotency-Key": "enc-1"})
    with sqlite3.connect(tmp_path / "enc" / "decisions.sqlite3") as db:
        (blob,) = db.execute("SELECT answer FROM idempotency").fetchone()
        keys = [r[0] for r in db.execute("SELECT key_hash FROM idempotency")]
    assert marker.encode() not in blob and b"enc-1" not in b"".join(k.encode() for k in keys)


def test_gzip_when_asked(make_client):
    client = make_client()
    items = [variant({"/peers/1/active_caseload": 20 + i % 30}) for i in range(50)]
    plain = client.post("/v1/evaluations:batch", json={"items": items}, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    zipped = client.post("/v1/evaluations:batch", json={"items": items}, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert int(zipped.headers["content-length"]) < len(plain.content) / 5
    page = client.get("/ui", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in page.headers  # the page (CSRF token beside user text) is never compressed


def test_summary_view_and_fail_on(make_client):
    client = make_client()
    expected = high_rules(client, RISKY)
    assert len(expected) == 1
    brief = client.post("/v1/evaluations", json=RISKY, params={"view": "summary", "fail_on": "high"}).json()
    assert "findings" not in brief and brief["summary"]["status"] == "needs_attention"
    assert brief["verdict"] == "fail" and brief["failing_rules"] == expected
    assert client.post("/v1/evaluations", json=RISKY, params={"fail_on": "critical"}).json()["verdict"] == "pass"
    acknowledged = variant({"/peers/1/active_caseload": 25,
                            "/acknowledged": [{"rule_id": expected[0], "reason": "Temporary, hiring underway."}]})
    assert client.post("/v1/evaluations", json=acknowledged, params={"fail_on": "high"}).json()["verdict"] == "pass"

    batch = client.post("/v1/evaluations:batch", params={"view": "summary", "fail_on": "high"},
                        json={"items": [BASE_PROFILE, RISKY, {"bad": 1}]}).json()
    assert [r["verdict"] for r in batch["results"]] == ["pass", "fail", "invalid"]
    assert batch["results"][1]["failing_rules"] == expected and "decision" not in batch["results"][1]
    assert batch["summary"]["failing"] == 1
    full = client.post("/v1/evaluations:batch", json={"items": [RISKY]}).json()
    assert full["results"][0]["verdict"] is None and full["summary"]["failing"] is None


def test_openapi_types_batch_items_and_names_operations(client):
    schema = client.get("/openapi.json").json()
    items = schema["components"]["schemas"]["BatchRequest"]["properties"]["items"]["items"]
    assert items == {"anyOf": [{"$ref": "#/components/schemas/BatchItem"}, {"$ref": "#/components/schemas/Profile"}]}
    batch_item = schema["components"]["schemas"]["BatchItem"]
    assert batch_item["properties"]["profile"] == {"$ref": "#/components/schemas/Profile"}
    ids = [op["operationId"] for path in schema["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))
    assert {"evaluate", "evaluate_batch", "list_evaluations", "submit_batch_job", "record_feedback"} <= set(ids)
    batch = schema["paths"]["/v1/evaluations:batch"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in batch["parameters"])
    assert "409" in batch["responses"]
    assert not any(p["name"] == "Idempotency-Key" for p in schema["paths"]["/cds-services/peercheck-program-review"]
                   ["post"].get("parameters", []))


def test_invalid_items_echo_their_ids_and_labels(make_client):
    """A portal files every result by its own id and labels, the invalid ones too."""
    client = make_client()
    items = [{"profile": {"schema_version": "1.2"}, "external_id": "APP-7", "labels": {"round": "2"}},
             {"profile": {"schema_version": "1.2"}, "external_id": "x" * 500, "labels": {"round": 3}},
             {"bad": 1}]
    results = client.post("/v1/evaluations:batch", json={"items": items, "labels": {"cycle": "2025"}}).json()["results"]
    assert [r["error"] is not None for r in results] == [True, True, True]
    assert results[0]["external_id"] == "APP-7" and results[0]["labels"] == {"cycle": "2025", "round": "2"}
    assert results[1]["external_id"] is None and results[1]["labels"] == {"cycle": "2025"}  # its own were invalid
    assert results[2]["labels"] == {"cycle": "2025"}
