"""HTTP edges every route shares: HEAD, keys with whitespace, stalled uploads, clients that go
away, line breaks from a profile inside CDS card Markdown."""

import asyncio
import json

import pytest
from fastapi.testclient import TestClient

from api.guards import hash_key
from api.main import create_app
from api.settings import ApiKey, Settings
from conftest import BASE_PROFILE, variant

PROBLEM = "application/problem+json"
KEYS = [ApiKey(id="portal", sha256=hash_key("portal-secret"), scopes=["read", "evaluate"])]


@pytest.fixture()
def client(tmp_path):
    return TestClient(create_app(Settings(data_dir=tmp_path)))


@pytest.mark.parametrize("path", ["/healthz", "/v1/rules/PC-CASELOAD-001", "/v1/ruleset", "/cds-services", "/ui"])
def test_head_answers_like_get_without_a_body(client, path):
    got, head = client.get(path), client.head(path)
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == got.headers["content-length"]
    assert head.headers["content-type"] == got.headers["content-type"]


def test_head_on_a_post_only_route_is_405(client):
    response = client.head("/v1/evaluations:batch")
    assert response.status_code == 405 and "POST" in response.headers["allow"]


def test_head_needs_the_read_scope_like_get(tmp_path):
    keyed = TestClient(create_app(Settings(data_dir=tmp_path, api_keys=KEYS)))
    assert keyed.head("/v1/rules").status_code == 401
    assert keyed.head("/v1/rules", headers={"x-api-key": "portal-secret"}).status_code == 200


@pytest.mark.parametrize("headers", [
    {"x-api-key": " portal-secret\t"},
    {"x-api-key": "portal-secret "},
    {"authorization": "Bearer portal-secret "},
    {"authorization": "  bearer   portal-secret"},
])
def test_keys_with_surrounding_whitespace_are_accepted_either_way(tmp_path, headers):
    keyed = TestClient(create_app(Settings(data_dir=tmp_path, api_keys=KEYS)))
    assert keyed.get("/v1/rules", headers=headers).status_code == 200


def test_whitespace_is_not_a_key(tmp_path):
    keyed = TestClient(create_app(Settings(data_dir=tmp_path, api_keys=KEYS)))
    assert keyed.get("/v1/rules", headers={"x-api-key": "   ", "authorization": "Bearer  "}).status_code == 401


def test_ruleset_shows_no_server_paths(client, tmp_path):
    body = client.get("/v1/ruleset").text
    root = str(client.app.state.service.ruleset.loaded_from[0]).rsplit("/rules", 1)[0]
    assert root not in body and str(tmp_path) not in body


# ---------------------------------------------------------------- raw ASGI: stalls and disconnects


def post_scope(path: str = "/v1/evaluations", body_length: int | None = None) -> dict:
    headers = [(b"content-type", b"application/json")]
    if body_length is not None:
        headers.append((b"content-length", str(body_length).encode()))
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
            "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"", "headers": headers,
            "client": ("203.0.113.9", 50000), "server": ("testserver", 80)}


def run_asgi(app, scope: dict, receive) -> list[dict]:
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    asyncio.run(asyncio.wait_for(app(scope, receive, send), timeout=20))
    return sent


def test_a_stalled_upload_gets_408_and_the_connection_closed(tmp_path):
    app = create_app(Settings(data_dir=tmp_path, body_timeout_s=0.3))
    first = True

    async def stalls():
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b'{"schema_version": "1.1", ', "more_body": True}
        await asyncio.Event().wait()  # the rest never comes

    sent = run_asgi(app, post_scope(body_length=10_000), stalls)
    assert sent[0]["status"] == 408
    assert (b"connection", b"close") in sent[0]["headers"]
    assert json.loads(sent[1]["body"])["title"] == "Request timeout"


def test_a_trickling_upload_is_held_to_the_same_deadline(tmp_path):
    app = create_app(Settings(data_dir=tmp_path, body_timeout_s=0.3))

    async def trickles():  # a byte every 50 ms: never idle long, never done
        await asyncio.sleep(0.05)
        return {"type": "http.request", "body": b" ", "more_body": True}

    assert run_asgi(app, post_scope(), trickles)[0]["status"] == 408


def test_a_client_that_goes_away_is_logged_as_499_not_500(tmp_path, capfd):
    app = create_app(Settings(data_dir=tmp_path))
    capfd.readouterr()

    async def leaves():
        return {"type": "http.disconnect"}

    assert run_asgi(app, post_scope(), leaves) == []  # nothing to answer
    lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith("{")]
    (request,) = [line for line in lines if line["event"] == "request"]
    assert request["status"] == 499


# ---------------------------------------------------------------- CDS card Markdown


def test_line_breaks_in_profile_text_cannot_restructure_a_card(client):
    injected = "Peer\n# Heading\n\n- [x](http://evil.example)\r\n> quoted\u2028| a | b |"
    data = variant({"/peers/1/title": injected, "/peers/1/active_caseload": 25,
                    "/acknowledged": [{"rule_id": "PC-CASELOAD-002", "reason": "ok\n\n## Not a heading\n---"}]})
    call = {"hook": "peercheck-program-review", "hookInstance": "8f2a4c1e-0000-4000-8000-000000000001",
            "context": {"profile": data}}
    body = client.post("/cds-services/peercheck-program-review", json=call).json()
    card = next(c for c in body["cards"] if c["source"].get("topic", {}).get("code") == "PC-CASELOAD-002")
    lines = card["detail"].split("\n")
    assert not any(line.startswith(("#", "- [", "> quoted", "---", "|")) for line in lines)
    assert not any(line.lstrip().startswith("## Not") for line in lines)
    assert not any("\r" in line or "\u2028" in line for line in lines)
    (message_line,) = [line for line in lines if "Heading" in line]
    assert r"\# Heading" in message_line and "quoted" in message_line  # one line, escaped, nothing dropped
