"""The page for TA providers, driven as a person would in headless Chromium: a TA provider with no
JSON completes the review of a two-peer program in the guided form, gets findings, downloads the
profile, prints the report and compares a change; a pasted profile is evaluated as it is; a
broken one shows its problems; an uploaded file is used. axe-core checks every kind of page of the
flow and fails on serious or critical violations.

Uses Debian's /usr/bin/chromium through the Python ``playwright`` package — never a downloaded
browser — and axe-core from npm, installed into .cache/axe by ``make axe`` (``make test`` runs it).
Screenshots (and a PDF of the printed report) go to test-output/ (gitignored).
``make e2e`` installs what is missing and runs this file; without Chromium or playwright it skips,
and without axe-core the accessibility checks skip, each saying why.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import pytest

from headless import OUTPUT, launched, require

ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
sync_api = require("run the browser test")

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
    app = app_with_pages(tmp_path_factory.mktemp("e2e") / "data", decision_log=True)
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
    with launched(sync_api) as chromium:
        yield chromium


@pytest.fixture
def page(browser):
    # bypass_csp: the pages allow no script at all; axe-core is injected by the test, not the page
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.console_errors = errors
    yield page
    context.close()


# ---------------------------------------------------------------- accessibility

AXE_RESULTS: dict[str, list[str]] = {}  # page kind -> serious or critical violations (for the summary)


def check_accessibility(page, kind: str) -> None:
    """axe-core on the page as shown (WCAG 2.0-2.2 A and AA rules and best practices): no serious or
    critical violation. Skips when axe-core is not installed (make axe installs it)."""
    if not AXE.exists():
        AXE_RESULTS[kind] = ["skipped: axe-core is not installed (make axe installs it with npm)"]
        return
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    bad = [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
           for v in result["violations"] if v["impact"] in ("serious", "critical")]
    minor = sorted({f"{v['id']} ({v['impact']})" for v in result["violations"]})
    AXE_RESULTS[kind] = bad or [f"no serious or critical violation ({len(result['passes'])} rules passed"
                                + (f"; minor: {', '.join(minor)})" if minor else ")")]
    print(f"\naxe-core, {kind}: {AXE_RESULTS[kind][0]}")
    assert bad == [], f"{kind}: {bad}"


def test_axe_core_is_there_or_says_why_not():
    if not AXE.exists():
        pytest.skip("axe-core is not installed in .cache/axe: `make axe` installs it with npm (make test runs it); "
                    "the accessibility checks of the browser tests are skipped")


def one_h1(page) -> str:
    assert page.locator("h1").count() == 1
    return page.locator("h1").inner_text()


def controls_are_labelled(page) -> None:
    """Every visible input has a name people hear: its label, or its fieldset's legend."""
    unnamed = page.evaluate("""() => [...document.querySelectorAll('main input:not([type=hidden]), main select, main textarea')]
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.name || e.id)""")
    assert unnamed == []
    loose = page.evaluate("""() => [...document.querySelectorAll('main input[type=radio], main input[type=checkbox]')]
        .filter(e => !e.closest('fieldset')).map(e => e.name)""")
    assert loose == []  # every option group is a fieldset with a legend


# ---------------------------------------------------------------- the guided form


def answer_what_is_shown(page, n_dont_know: int = 4) -> int:
    """Answer each open question on the step as a person would, by its label: a number, the first
    option, "Yes"; every ``n_dont_know``-th one "Don't know". Returns how many were answered."""
    questions = page.locator("form#guided > .question, form#guided fieldset.peer > .question")
    answered = 0
    for i in range(questions.count()):
        q = questions.nth(i)
        text_box = q.locator("input[type=text]")
        if text_box.count() and text_box.input_value():
            continue  # answered already (a peer's title)
        if q.locator("input:checked").count() or (q.locator("select").count() and q.locator("select").input_value()):
            continue
        answered += 1
        dont_know = q.get_by_label("Don't know", exact=True)
        if answered % n_dont_know == 0 and dont_know.count():
            dont_know.check() if q.locator("input[type=checkbox][name$=__dont_know__]").count() else dont_know.click()
        elif text_box.count():
            text_box.fill("1" if text_box.get_attribute("name").endswith("/fte") else "18")
        elif q.locator("select").count():
            q.locator("select").select_option(index=1)
        elif q.get_by_label("Yes", exact=True).count():
            q.get_by_label("Yes", exact=True).click()
        else:
            q.locator("input[type=radio], input[type=checkbox]").first.check()
    return answered


def press(page, name: str, status: int = 200):
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name=name, exact=True).click()
    assert navigation.value.status == status, page.locator(".error-summary").all_inner_texts()
    return navigation.value


def test_a_ta_provider_completes_a_two_peer_review_without_json(page, base_url):
    OUTPUT.mkdir(exist_ok=True)
    weights = {}
    response = page.goto(f"{base_url}/ui")
    assert response.status == 200 and one_h1(page) == "About the program"
    weights["program step"] = len(response.body())
    assert page.get_by_text("questions left for a complete review").is_visible()
    controls_are_labelled(page)
    check_accessibility(page, "step: program (first page)")
    page.get_by_label("What is the program called?").fill("Riverside Recovery Court Peer Program")
    page.get_by_label("Which state does the program operate in?").select_option(label="Ohio")
    page.get_by_role("group", name="What kind of agency runs the program?").get_by_label("Court", exact=True).click()
    page.screenshot(path=str(OUTPUT / "guided-program.png"), full_page=True)
    press(page, "Save and continue")
    posts = 1

    # the peers: two, each named "Peer N" with its job title
    assert one_h1(page) == "The peers"
    page.get_by_label("What is this peer's job title?").fill("Peer Recovery Specialist")
    press(page, "Add another peer")
    posts += 1
    assert page.locator("fieldset#peer-1 legend").first.inner_text() == "Peer 1: Peer Recovery Specialist"
    page.locator("fieldset#peer-2").get_by_label("What is this peer's job title?").fill("Peer Navigator")
    page.locator("fieldset#peer-2").get_by_label("How many participants are assigned to this peer right now?").fill("lots")
    refused = press(page, "Save and continue", status=422)
    weights["peers step (two peers)"] = len(refused.body())
    posts += 1
    assert one_h1(page) == "The peers"
    # nothing saved from a refused post, but the heading names the peer as its field does: as typed
    assert page.locator("fieldset#peer-2 legend").first.inner_text() == "Peer 2: Peer Navigator"
    summary = page.locator(".error-summary")
    assert "Peer 2 › Active caseload: enter a number, like 12" in summary.inner_text()
    caseload = page.locator("#f-peers-1-active_caseload")
    assert caseload.get_attribute("aria-invalid") == "true"
    assert "f-peers-1-active_caseload-error" in caseload.get_attribute("aria-describedby")
    page.screenshot(path=str(OUTPUT / "guided-error.png"), full_page=True)
    controls_are_labelled(page)
    check_accessibility(page, "step with an error (422)")
    caseload.fill("40")
    answer_what_is_shown(page)
    page.screenshot(path=str(OUTPUT / "guided-peers.png"), full_page=True)
    check_accessibility(page, "step: peers")
    press(page, "Save and continue")
    posts += 1

    # supervision, policies, hiring: the most valuable questions first, until the review
    shown_per_step = []
    while page.locator("#program-name").count() == 0:
        assert posts < 30
        shown_per_step.append(answer_what_is_shown(page))
        if one_h1(page) == "Supervision":
            findings = page.locator("#findings-so-far li")
            assert findings.count() >= 1  # the findings update as answers come in
            page.screenshot(path=str(OUTPUT / "guided-supervision.png"))  # docs/img/page.png is this one
            check_accessibility(page, "step: supervision, with findings so far")
        answer = press(page, "Save and review" if page.get_by_role("button", name="Save and review").count() else "Save and continue")
        posts += 1
    weights["review"] = len(answer.body())

    # the review: findings, worst first; the stored report; the profile downloads
    assert one_h1(page) == "Riverside Recovery Court Peer Program"
    assert page.locator("#findings article.finding").count() >= 1
    assert page.locator(".status").first.inner_text() in ("Needs attention", "Incomplete")
    page.screenshot(path=str(OUTPUT / "guided-review.png"), full_page=True)
    check_accessibility(page, "review (the report)")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the profile (JSON)").click()
    saved = json.loads(Path(download.value.path()).read_text())
    assert [p["title"] for p in saved["peers"]] == ["Peer Recovery Specialist", "Peer Navigator"]
    assert saved["peers"][1]["active_caseload"] == 40 and saved.get("dont_know")

    # printed: the report without the form
    page.emulate_media(media="print")
    assert not page.locator("form#guided").is_visible() and not page.locator("header.topbar").is_visible()
    page.pdf(path=str(OUTPUT / "guided-report.pdf"), format="Letter")
    page.emulate_media(media="screen")

    report_link = page.locator("#report-link").get_attribute("href")
    # a change, evaluated again: the before/after comparison
    page.get_by_role("button", name="2. The peers").click()
    page.wait_for_load_state()
    assert one_h1(page) == "The peers"
    page.get_by_text("Change Peer 2's other answers").click()  # answered questions are folded away
    page.locator("#f-peers-1-active_caseload").fill("12")
    press(page, "Evaluate now")
    with page.expect_navigation():
        page.locator("#compare-link").click()
    assert one_h1(page) == "What changed between two evaluations"
    assert "Resolved by the change" in page.locator("main").inner_text()
    check_accessibility(page, "comparison")
    page.goto(f"{base_url}{report_link}")
    assert one_h1(page) == "Program profile"  # the decision log keeps no names unless told to
    assert page.locator("#findings article.finding").count() >= 1
    check_accessibility(page, "stored report")
    assert [e for e in page.console_errors if "422" not in e] == []  # 422: the answer refused on purpose
    print(f"\nform posts to the first review: {posts}; open questions answered per section page: {shown_per_step}")
    print("page weight (HTML, CSS inline, no other request): "
          + ", ".join(f"{k} {v / 1024:.0f} KiB" for k, v in weights.items()))


def test_the_docs_work_without_internet(browser, base_url):
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # the pages' own CSP applies
    page = context.new_page()
    outside = []
    page.route("**/*", lambda route: (outside.append(route.request.url), route.abort())
               if not route.request.url.startswith(base_url) else route.continue_())
    page.goto(f"{base_url}/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
    assert "PeerCheck" in page.locator(".swagger-ui .info .title").inner_text()
    page.screenshot(path=str(OUTPUT / "docs-offline.png"))
    page.goto(f"{base_url}/redoc")
    page.wait_for_selector("h1", timeout=20_000)
    page.screenshot(path=str(OUTPUT / "redoc-offline.png"))
    context.close()
    assert outside == []


def test_a_pasted_example_is_evaluated_as_it_is(page, base_url):
    from api.routes.pages import example_text

    page.goto(f"{base_url}/ui")
    page.get_by_text("Have a profile file? Upload or paste it").click()
    page.locator("#profile_json").fill(example_text())
    press(page, "Evaluate it as it is")
    assert page.locator("#program-name").inner_text() == "Example County Recovery Court Peer Program"
    assert page.locator(".status").first.inner_text() == "Needs attention"
    caseload = page.locator("article.finding", has_text="Caseload per full-time peer").first
    assert "Active caseload: 25" in caseload.inner_text()  # evidence in words, not JSON pointers
    assert "Reason given:" in page.locator("#acknowledged").inner_text()
    footer = page.locator("footer.report-foot").inner_text()
    assert "Ruleset version" in footer and "Decision id" in footer
    page.screenshot(path=str(OUTPUT / "ui-report.png"), full_page=True)
    check_accessibility(page, "pasted profile's report")
    page.emulate_media(media="print")
    assert not page.locator("header.topbar").is_visible()
    page.pdf(path=str(OUTPUT / "ui-report.pdf"), format="Letter")
    assert page.console_errors == []


def test_a_broken_profile_shows_its_problems(page, base_url):
    page.goto(f"{base_url}/ui")
    page.get_by_text("Have a profile file? Upload or paste it").click()
    page.locator("#profile_json").fill(json.dumps({"schema_version": "1.1", "program": {"name": "x", "state": "ZZ"},
                                                    "peers": [{"title": "Peer", "fte": 3}]}))
    press(page, "Evaluate it as it is", status=422)
    problems = page.locator(".problems").inner_text()
    assert "/program/state" in problems and "/peers/0/fte" in problems
    assert '"fte": 3' in page.locator("#profile_json").input_value()  # kept for fixing
    page.screenshot(path=str(OUTPUT / "ui-problems.png"))
    check_accessibility(page, "problems with a pasted profile (422)")
    page.locator("#profile_json").fill("{not json")
    press(page, "Evaluate", status=422)
    assert "not valid JSON" in page.locator(".problems").inner_text()


def test_an_old_report_link_is_a_page_with_a_way_on(page, base_url):
    response = page.goto(f"{base_url}/ui/decisions/3f6c2a0e-8d1b-4f5e-9a7c-2b4d6e8f0a1c")
    assert response.status == 404 and one_h1(page) == "Report not found"
    check_accessibility(page, "error page (404)")
    with page.expect_navigation():
        page.locator("main").get_by_role("link", name="Start a new review").click()
    assert one_h1(page) == "About the program"


def test_an_uploaded_fixture_file_continues_in_the_form(page, base_url):
    fixture = sorted((ROOT / "fixtures" / "programs").glob("*.json"))[0]
    name = json.loads(fixture.read_text())["profile"]["program"]["name"]
    page.goto(f"{base_url}/ui")
    page.get_by_text("Have a profile file? Upload or paste it").click()
    page.set_input_files("#profile_file", str(fixture))
    press(page, "Continue in the form")
    assert one_h1(page) in ("About the program", "The peers", "Supervision", "Policies and practices", "Hiring")
    press(page, "Evaluate now")
    assert page.locator("#program-name").inner_text() == name
