"""Hostile and unauthorised requests: each gets a clear 4xx problem, never a 5xx."""

import json

import pytest
from fastapi.testclient import TestClient

from api.guards import hash_key
from api.main import create_app
from api.settings import ApiKey, Settings
from conftest import BASE_PROFILE, variant

PROBLEM = "application/problem+json"


def make_client(tmp_path, **settings) -> TestClient:
    return TestClient(create_app(Settings(data_dir=tmp_path, **settings)))


@pytest.fixture()
def client(tmp_path):
    return make_client(tmp_path, max_body_bytes=64 * 1024)


def post_raw(client, body: bytes, content_type="application/json", path="/v1/evaluations"):
    return client.post(path, content=body, headers={"content-type": content_type})


def test_body_over_the_limit_is_413(client):
    big = json.dumps({**BASE_PROFILE, "program": {**BASE_PROFILE["program"], "name": "x" * 70_000}}).encode()
    response = post_raw(client, big)
    assert response.status_code == 413 and response.headers["content-type"].startswith(PROBLEM)
    assert "65536" in response.json()["detail"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_wrong_content_type_is_415(client, content_type):
    response = post_raw(client, json.dumps(BASE_PROFILE).encode(), content_type)
    assert response.status_code == 415 and response.headers["content-type"].startswith(PROBLEM)


def test_json_with_charset_and_problem_json_variants_are_accepted(client):
    assert post_raw(client, json.dumps(BASE_PROFILE).encode(), "application/json; charset=utf-8").status_code == 200


@pytest.mark.parametrize("body,needle", [
    (b'{"schema_version": "1.0", "schema_version": "1.1"}', "Profile schema version: appears twice"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b'{"a": "\xff"}', "UTF-8"),
    (b"{,}", "not valid JSON"),
])
def test_malformed_bodies_are_422_naming_the_problem(client, body, needle):
    response = post_raw(client, body)
    assert response.status_code in (413, 422), response.text
    if response.status_code == 422:
        assert needle in response.json()["detail"]


@pytest.mark.parametrize("raw,pointer", [
    ('"fte": NaN', "/peers/0/fte"),
    ('"fte": Infinity', "/peers/0/fte"),
    ('"fte": 1e-300', "/peers/0/fte"),
    ('"active_caseload": 1000000000000', "/peers/0/active_caseload"),
])
def test_extreme_numbers_name_the_field(client, raw, pointer):
    body = '{"schema_version": "1.0", "program": {"name": "P", "state": "NY"}, "peers": [{"title": "t", %s}]}' % raw
    response = post_raw(client, body.encode())
    assert response.status_code == 422
    assert pointer in [e["pointer"] for e in response.json()["errors"]]


def test_deep_nesting_inside_a_valid_profile_field(client):
    data = variant({"/program/name": "x"})
    data["program"]["extra"] = json.loads("[" * 500 + "]" * 500)
    response = client.post("/v1/evaluations", json=data)
    assert response.status_code == 422


KEYS = [
    ApiKey(id="portal", sha256=hash_key("portal-secret"), scopes=["read", "evaluate"]),
    ApiKey(id="viewer", sha256=hash_key("viewer-secret"), scopes=["read"]),
]


@pytest.fixture()
def keyed(tmp_path):
    return make_client(tmp_path, api_keys=KEYS)


def test_keys_required_when_configured(keyed):
    assert keyed.get("/healthz").status_code == 200  # open
    assert keyed.get("/openapi.json").status_code == 200  # open
    response = keyed.post("/v1/evaluations", json=BASE_PROFILE)
    assert response.status_code == 401 and response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"].startswith(PROBLEM)
    assert keyed.get("/v1/rules", headers={"authorization": "Bearer wrong"}).status_code == 401


def test_scopes(keyed):
    viewer = {"authorization": "Bearer viewer-secret"}
    portal = {"x-api-key": "portal-secret"}
    assert keyed.get("/v1/rules", headers=viewer).status_code == 200
    response = keyed.post("/v1/evaluations", json=BASE_PROFILE, headers=viewer)
    assert response.status_code == 403 and "evaluate" in response.json()["detail"]
    assert keyed.post("/v1/evaluations", json=BASE_PROFILE, headers=portal).status_code == 200


def test_keys_are_only_accepted_as_hashes():
    with pytest.raises(ValueError):
        ApiKey(id="x", sha256="portal-secret", scopes=["read"])


def test_rate_limit_per_key(tmp_path):
    client = make_client(tmp_path, api_keys=KEYS, rate_limit="3/minute")
    portal = {"authorization": "Bearer portal-secret"}
    viewer = {"authorization": "Bearer viewer-secret"}
    statuses = [client.get("/v1/rules", headers=portal).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = client.get("/v1/rules", headers=portal)
    assert limited.headers["content-type"].startswith(PROBLEM)
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert client.get("/v1/rules", headers=viewer).status_code == 200  # another key has its own budget
