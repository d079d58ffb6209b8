"""The report over HTTP (POST /v1/reports) and the page for TA providers (/ui), through
TestClient. The browser flow itself is in test_ui_e2e.py."""

from __future__ import annotations

import json
import re

import pytest
from openapi_spec_validator import validate

from conftest import BASE_PROFILE, variant
from pages_app import app_with_pages

PROBLEM = "application/problem+json"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def page_post(client, data=None, files=None, path="/ui/evaluate"):
    """A form post as the browser makes it: the page first (its session cookie and CSRF token)."""
    token = CSRF.search(client.get("/ui").text).group(1)
    return client.post(path, data={**(data or {}), "csrf_token": token}, files=files)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from fastapi.testclient import TestClient

    with TestClient(app_with_pages(tmp_path_factory.mktemp("pages") / "data")) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def example() -> dict:
    from api.routes.pages import example_text

    return json.loads(example_text())


def test_the_example_shows_every_part_of_the_report(client, example):
    decision = client.post("/v1/evaluations", json=example).json()
    assert decision["summary"]["findings"] >= 2 and decision["summary"]["by_severity"]["high"] >= 1
    assert decision["summary"]["acknowledged"] == 1
    assert decision["summary"]["needs_information"] and decision["questions"]


def test_report_html(client, example):
    response = client.post("/v1/reports", json=example)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "script-src" not in response.headers["content-security-policy"]  # no scripts at all
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    html = response.text
    assert "Example County Recovery Court Peer Program" in html
    assert "Caseload per full-time peer well above the tool kit" in html
    assert "Reason given:" in html and 'class="report-foot"' in html


def test_report_markdown(client, example):
    response = client.post("/v1/reports", params={"format": "markdown"}, json=example)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/markdown")
    assert response.text.startswith("# PeerCheck report: Example County Recovery Court Peer Program")


def test_report_problems(client):
    response = client.post("/v1/reports", json=variant({"/peers/0/fte": 3}))
    assert response.status_code == 422 and response.headers["content-type"].startswith(PROBLEM)
    assert [e["pointer"] for e in response.json()["errors"]] == ["/peers/0/fte"]
    response = client.post("/v1/reports", json=variant({"/acknowledged": [{"rule_id": "PC-NOPE-001", "reason": "typo"}]}))
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json()["errors"]] == ["/acknowledged/0/rule_id"]
    response = client.post("/v1/reports", params={"format": "pdf"}, json=BASE_PROFILE)
    assert response.status_code == 422 and response.json()["errors"][0]["parameter"] == "format"


def test_page_starts_the_guided_form_with_a_box_for_files(client, example):
    response = client.get("/ui")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<form id="guided" method="post" action="/ui/step"' in html
    assert '<form class="profile-form" method="post" action="/ui/continue"' in html
    assert 'formaction="/ui/evaluate"' in html  # a complete file can be evaluated as it is
    assert 'name="profile_json"' in html and 'type="file"' in html
    assert "&#34;Example County Recovery Court Peer Program&#34;" in html  # the example, escaped, one button away
    assert "<script" not in html


def test_page_evaluates_the_pasted_profile(client, example):
    response = page_post(client, data={"profile_json": json.dumps(example)})
    assert response.status_code == 200
    html = response.text
    assert "Caseload per full-time peer well above the tool kit" in html
    assert "Reason given:" in html and "Questions to answer" in html
    assert "Edit the profile and evaluate again" in html  # the form stays, folded


def test_page_prefers_an_uploaded_file(client):
    wrapper = json.dumps({"case": "uploaded", "profile": variant({"/program/name": "Uploaded Program"})})
    response = page_post(client, data={"profile_json": "not json"},
                           files={"profile_file": ("case.json", wrapper.encode(), "application/json")})
    assert response.status_code == 200 and "Uploaded Program" in response.text


@pytest.mark.parametrize("text,expected", [
    ("{not json", "not valid JSON"),
    ("", "is empty"),
    (json.dumps(variant({"/peers/0/fte": 3, "/program/state": "ZZ"})), "/peers/0/fte"),
    (json.dumps({"profile": variant({"/peers": []})}), "/profile/peers"),
])
def test_page_shows_problems_with_422(client, text, expected):
    response = page_post(client, data={"profile_json": text})
    assert response.status_code == 422
    assert 'class="problems"' in response.text and expected in response.text
    assert 'name="profile_json"' in response.text  # the user's text comes back to be fixed


def test_a_missing_schema_version_suggests_the_current_one_on_the_page_and_in_the_api(client):
    from engine.profile import SCHEMA_VERSION

    profile = {k: v for k, v in BASE_PROFILE.items() if k != "schema_version"}
    want = f'Write "schema_version": "{SCHEMA_VERSION}", the current version'
    page = page_post(client, data={"profile_json": json.dumps(profile)})
    assert page.status_code == 422 and want.replace('"', "&#34;") in page.text
    assert "Profile (JSON or YAML)</label>" in page.text and ".yaml" in re.search(r'<input type="file"[^>]+>', page.text).group(0)
    api = client.post("/v1/evaluations", json=profile).json()
    assert [e["fix"] for e in api["errors"] if e["pointer"] == "/schema_version"] == [
        f'{want} (an older one limits the profile to its fields).']
    wrong = client.post("/v1/evaluations", json={**profile, "schema_version": "2.0"}).json()
    assert f'The current version is "{SCHEMA_VERSION}".' in wrong["errors"][0]["fix"]


def test_page_rejects_oversized_uploads(client):
    from api.routes.pages import MAX_UPLOAD_BYTES

    big = b" " * (MAX_UPLOAD_BYTES + 10)
    response = page_post(client, files={"profile_file": ("big.json", big, "application/json")})
    assert response.status_code == 422 and "larger than" in response.text


def test_page_escapes_hostile_values(client):
    data = variant({"/program/name": "<script>alert(1)</script>", "/peers/1/active_caseload": 25})
    response = page_post(client, data={"profile_json": json.dumps(data)})
    assert response.status_code == 200
    assert "<script>" not in response.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


def test_openapi_stays_valid(client):
    schema = client.get("/openapi.json").json()
    validate(schema)
    report = schema["paths"]["/v1/reports"]["post"]
    assert set(report["responses"]["200"]["content"]) == {"text/html", "text/markdown"}
    assert "/ui" not in schema["paths"] and "/ui/evaluate" not in schema["paths"]


def test_logs_never_carry_profile_content(client, capfd):
    marker = "Zanzibar Marker Program"
    data = variant({"/program/name": marker, "/peers/0/title": "Marker Title Xq"})
    client.post("/v1/reports", json=data)
    page_post(client, data={"profile_json": json.dumps(data)})
    page_post(client, data={"profile_json": json.dumps(data)[:-1]})  # invalid
    logs = capfd.readouterr().err
    assert '"report"' in logs or "report" in logs
    assert marker not in logs and "Marker Title Xq" not in logs


def test_report_of_a_stored_decision(tmp_path):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from api.settings import Settings
    from conftest import variant

    client = TestClient(create_app(Settings(data_dir=tmp_path)))
    decision = client.post("/v1/evaluations", json=variant({"/peers/0/active_caseload": 44})).json()
    html = client.get(f"/v1/evaluations/{decision['decision_id']}/report")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert decision["decision_id"] in html.text and "PC-CASELOAD-001" in html.text
    markdown = client.get(f"/v1/evaluations/{decision['decision_id']}/report", params={"format": "markdown"})
    assert markdown.status_code == 200 and "44 participants" in markdown.text
    missing = client.get("/v1/evaluations/3f6c2a0e-8d1b-4f5e-9a7c-2b4d6e8f0a1c/report")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")


def test_reports_are_recorded(tmp_path):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from api.settings import Settings
    from conftest import BASE_PROFILE

    client = TestClient(create_app(Settings(data_dir=tmp_path)))
    html = client.post("/v1/reports", json=BASE_PROFILE).text
    import re

    decision_id = re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", html).group(0)
    assert client.get(f"/v1/evaluations/{decision_id}").json()["kind"] == "report"


def test_the_page_says_whether_profiles_are_kept(tmp_path):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from api.settings import Settings

    default = TestClient(create_app(Settings(data_dir=tmp_path))).get("/ui").text
    keeping = TestClient(create_app(Settings(data_dir=tmp_path, decision_log_store_profiles=True))).get("/ui").text
    assert "the server keeps no profile" in default
    assert "keeps the profile you evaluate" in keeping and "keeps no profile" not in keeping
