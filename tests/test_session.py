"""The page when the server has API keys: sign in once, a signed HttpOnly session cookie, CSRF-safe
form posts, sign-out, signed report links; and the CDS routes' fallback to API keys."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from conftest import BASE_PROFILE, variant

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
KEY = "page-user-key-0123456789"


@pytest.fixture
def keyed(make_client, tmp_path):
    from api.guards import hash_key

    def make(**settings):
        keys = [{"id": "ta-team", "sha256": hash_key(KEY), "scopes": ["read", "evaluate"]},
                {"id": "reader", "sha256": hash_key("reader-key-0123456789"), "scopes": ["read"]}]
        return make_client(api_keys=keys, data_dir=tmp_path / "data", **settings)

    return make


def sign_in(client, key=KEY, next_path="/ui"):
    form = client.get(f"/ui/sign-in?next={next_path}")
    token = CSRF.search(form.text).group(1)
    return client.post("/ui/sign-in", data={"api_key": key, "csrf_token": token, "next": next_path},
                       follow_redirects=False)


def test_the_page_asks_for_a_key_then_works(keyed):
    client = keyed()
    first = client.get("/ui", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/ui/sign-in?next=/ui"
    assert client.get("/ui/sign-in").status_code == 200

    wrong = sign_in(client, key="not-a-key")
    assert wrong.status_code == 401 and "not valid" in wrong.text

    signed = sign_in(client)
    assert signed.status_code == 303 and signed.headers["location"] == "/ui"
    cookie = signed.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and KEY.lower() not in cookie

    page = client.get("/ui")
    assert page.status_code == 200 and "Sign out" in page.text
    token = CSRF.search(page.text).group(1)
    evaluated = client.post("/ui/evaluate", data={"profile_json": json.dumps(BASE_PROFILE), "csrf_token": token})
    assert evaluated.status_code == 200 and "PeerCheck" in evaluated.text

    # the session is the page's only: the API still wants a key
    assert client.post("/v1/evaluations", json=BASE_PROFILE).status_code == 401

    out = client.post("/ui/sign-out", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303 and 'peercheck_session=""' in out.headers["set-cookie"]
    client.cookies.clear()
    assert client.get("/ui", follow_redirects=False).status_code == 303


def test_form_posts_need_the_sessions_token_and_the_same_site(keyed):
    client = keyed()
    sign_in(client)
    token = CSRF.search(client.get("/ui").text).group(1)
    form = {"profile_json": json.dumps(BASE_PROFILE)}
    assert client.post("/ui/evaluate", data=form).status_code == 403  # no token
    assert client.post("/ui/evaluate", data={**form, "csrf_token": token + "x"}).status_code == 403
    assert client.post("/ui/evaluate", data={**form, "csrf_token": token},
                       headers={"Origin": "https://evil.example"}).status_code == 403
    assert client.post("/ui/evaluate", data={**form, "csrf_token": token},
                       headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert client.post("/ui/evaluate", data={**form, "csrf_token": token},
                       headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}).status_code == 200

    other = keyed()  # another browser: its own session; this browser's token is useless there
    sign_in(other)
    assert other.post("/ui/evaluate", data={**form, "csrf_token": token}).status_code == 403


def test_a_forged_cookie_or_a_removed_key_ends_the_session(keyed, make_client, tmp_path):
    client = keyed()
    sign_in(client)
    value = client.cookies.get("peercheck_session")
    client.cookies.clear()  # one cookie, the forged one (the jar may otherwise keep the original beside it)
    client.cookies.set("peercheck_session", value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB"))
    assert client.get("/ui", follow_redirects=False).status_code == 303

    from api.guards import hash_key

    replaced = make_client(api_keys=[{"id": "someone-else", "sha256": hash_key("other-key-0123456789"),
                                      "scopes": ["read", "evaluate"]}], data_dir=tmp_path / "data")
    replaced.cookies.set("peercheck_session", value)  # signed by the same secret, but its key is gone
    assert replaced.get("/ui", follow_redirects=False).status_code == 303


def test_a_read_only_key_cannot_evaluate_on_the_page(keyed):
    client = keyed()
    sign_in(client, key="reader-key-0123456789")
    token = CSRF.search(client.get("/ui").text).group(1)
    assert client.post("/ui/evaluate", data={"profile_json": json.dumps(BASE_PROFILE), "csrf_token": token}).status_code == 403


def test_sign_in_never_sends_anyone_elsewhere(keyed):
    client = keyed()
    assert sign_in(client, next_path="https://evil.example/").headers["location"] == "/ui"
    client = keyed()
    assert sign_in(client, next_path="//evil.example/ui").headers["location"] == "/ui"


def test_signed_report_links_open_one_report(keyed, capfd):
    client = keyed(public_base_url="http://testserver")
    from api.session import Sessions

    answer = client.post("/v1/evaluations", json=variant({"/peers/1/active_caseload": 25}),
                         headers={"X-API-Key": KEY}).json()
    decision_id = answer["decision_id"]
    link = Sessions(client.app.state.service.settings).link_token(decision_id)
    capfd.readouterr()
    opened = client.get(f"/ui/decisions/{decision_id}", params={"link": link})
    assert opened.status_code == 200 and decision_id in opened.text
    logged = capfd.readouterr()
    assert f"/ui/decisions/{decision_id}" in logged.out + logged.err  # the request is logged, by its path
    assert link not in logged.out + logged.err  # not with its query: the token opens the report for 72 h
    other = str(uuid.uuid4())
    assert client.get(f"/ui/decisions/{other}", params={"link": link}, follow_redirects=False).status_code == 303
    assert client.get(f"/ui/decisions/{decision_id}", params={"link": link[:-2]}, follow_redirects=False).status_code == 303
    sign_in(client, next_path=f"/ui/decisions/{decision_id}")
    assert client.get(f"/ui/decisions/{decision_id}").status_code == 200  # signed in: no link needed


def test_cds_routes_take_api_keys_when_no_cds_client_is_configured(keyed):
    client = keyed()
    call = {"hook": "peercheck-program-review", "hookInstance": str(uuid.uuid4()), "context": {"profile": BASE_PROFILE}}
    assert client.get("/cds-services").status_code == 401
    assert client.get("/cds-services", headers={"X-API-Key": KEY}).status_code == 200
    assert client.post("/cds-services/peercheck-program-review", json=call,
                       headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
    read_only = client.post("/cds-services/peercheck-program-review", json=call,
                            headers={"X-API-Key": "reader-key-0123456789"})
    assert read_only.status_code == 403


def test_failed_sign_ins_are_limited_per_address(keyed):
    client = keyed(auth_failure_limit="3/minute")
    assert [sign_in(client, key="wrong-key").status_code for _ in range(3)] == [401, 401, 401]
    limited = sign_in(client)  # even the right key waits now
    assert limited.status_code == 429 and "Too many failed sign-ins" in limited.text
