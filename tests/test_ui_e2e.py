"""The page for TA providers, driven as a person would: headless Chromium loads /ui, submits the
example, reads the findings; a broken profile shows its problems; an uploaded file is used.

Uses Debian's /usr/bin/chromium through the Python ``playwright`` package — never a downloaded
browser. Screenshots (and a PDF of the printed report) go to test-output/ (gitignored).
``make e2e`` installs what is missing and runs this file; without Chromium or playwright it skips.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "test-output"

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (make e2e does, as root) to run the browser test",
                allow_module_level=True)
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed: pip install playwright (make e2e does)",
    exc_type=ImportError)

from pages_app import app_with_pages  # noqa: E402  (after the skips: needs only the app)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    """The app served by uvicorn on 127.0.0.1 in a thread, as a browser would reach it."""
    import uvicorn

    port = _free_port()
    app = app_with_pages(tmp_path_factory.mktemp("e2e") / "data")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, timeout=60_000)
        except Exception as exc:  # noqa: BLE001 - a broken browser install is a skip, not a failure
            pytest.skip(f"Chromium at {CHROMIUM} could not be started: {exc}")
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.console_errors = errors
    yield page
    context.close()


def test_submit_the_example_and_read_the_report(page, base_url):
    OUTPUT.mkdir(exist_ok=True)
    response = page.goto(f"{base_url}/ui")
    assert response.status == 200
    assert page.locator("h1").inner_text() == "Check a program profile against federal guidance"
    assert "Example County Recovery Court Peer Program" in page.locator("#profile_json").input_value()
    page.screenshot(path=str(OUTPUT / "ui-form.png"))

    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Evaluate").click()
    assert navigation.value.status == 200
    assert page.locator("#program-name").inner_text() == "Example County Recovery Court Peer Program"
    assert page.locator(".status").first.inner_text() == "Needs attention"
    findings = page.locator("#findings article.finding")
    assert findings.count() >= 2
    assert page.get_by_text("Caseload per full-time peer well above the tool kit").first.is_visible()
    caseload = page.locator("article.finding", has_text="Caseload per full-time peer").first
    assert "Active caseload: 25" in caseload.inner_text()  # evidence in words, not JSON pointers
    assert caseload.locator("blockquote").count() >= 1
    assert page.locator("svg.chart rect").count() >= 1
    assert "Reason given:" in page.locator("#acknowledged").inner_text()
    assert page.locator("#needs-information table tbody tr").count() >= 1
    footer = page.locator("footer.report-foot").inner_text()
    assert "Ruleset version" in footer and "Decision id" in footer
    page.screenshot(path=str(OUTPUT / "ui-report.png"), full_page=True)

    # the printed report: no form, no top bar
    page.emulate_media(media="print")
    assert not page.locator("header.topbar").is_visible()
    assert not page.locator("form.profile-form").is_visible()
    page.screenshot(path=str(OUTPUT / "ui-report-print.png"), full_page=True)
    page.pdf(path=str(OUTPUT / "ui-report.pdf"), format="Letter")
    assert page.console_errors == []


def test_a_broken_profile_shows_its_problems(page, base_url):
    page.goto(f"{base_url}/ui")
    page.locator("#profile_json").fill(json.dumps({"schema_version": "1.1", "program": {"name": "x", "state": "ZZ"},
                                                    "peers": [{"title": "Peer", "fte": 3}]}))
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Evaluate").click()
    assert navigation.value.status == 422
    problems = page.locator(".problems").inner_text()
    assert "/program/state" in problems and "/peers/0/fte" in problems
    assert '"fte": 3' in page.locator("#profile_json").input_value()  # kept for fixing
    page.screenshot(path=str(OUTPUT / "ui-problems.png"))
    page.locator("#profile_json").fill("{not json")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Evaluate").click()
    assert navigation.value.status == 422 and "not valid JSON" in page.locator(".problems").inner_text()


def test_an_uploaded_fixture_file_is_evaluated(page, base_url):
    fixture = sorted((ROOT / "fixtures" / "programs").glob("*.json"))[0]
    name = json.loads(fixture.read_text())["profile"]["program"]["name"]
    page.goto(f"{base_url}/ui")
    page.set_input_files("#profile_file", str(fixture))
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Evaluate").click()
    assert navigation.value.status == 200
    assert page.locator("#program-name").inner_text() == name
