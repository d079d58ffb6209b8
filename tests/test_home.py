"""GET /, the address `make run` prints: it says what PeerCheck is and every link on it answers."""

from __future__ import annotations

import re

import pytest


@pytest.fixture(scope="module")
def home(client):
    return client.get("/")


def links(html: str) -> list[str]:
    """Links to other pages (the skip link to the page's own content left out)."""
    return [href for href in re.findall(r'<a [^>]*href="([^"]+)"', html) if not href.startswith("#")]


def test_home_leads_to_the_page_the_docs_and_the_health_check(home):
    assert home.status_code == 200 and home.headers["content-type"].startswith("text/html")
    assert links(home.text) == ["/ui", "/docs", "/openapi.json", "/cds-services", "/healthz"]
    assert "<h1" in home.text and "<script" not in home.text
    assert "no-store" in home.headers["cache-control"]
    assert home.headers["content-security-policy"].startswith("default-src 'none'")  # no scripts at all


def test_every_link_on_home_answers(client, home):
    for href in links(home.text):
        assert client.get(href).status_code == 200, href


def test_home_names_what_is_loaded(client, home):
    health = client.get("/healthz").json()
    assert health["ruleset_version"] in home.text and f"{health['rules']} rules" in home.text


def test_home_links_follow_the_root_path(tmp_path):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from api.settings import Settings

    app = create_app(Settings(decision_log_enabled=False, data_dir=tmp_path))
    with TestClient(app, root_path="/peercheck") as proxied:
        assert all(href.startswith("/peercheck/") for href in links(proxied.get("/").text))


def test_home_is_not_an_api_operation(client):
    assert "/" not in client.get("/openapi.json").json()["paths"]
