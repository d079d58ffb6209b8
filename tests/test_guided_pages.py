"""The guided form over HTTP, as a browser without JavaScript uses it: every step a plain form post
carrying the profile so far; CSRF enforced; answers that do not fit come back with 422, tied to
their field; the review links to the stored report and to a before/after comparison; the profile
so far downloads as JSON or YAML and continues from a file. Also: /docs and /redoc work offline."""

from __future__ import annotations

import html as htmllib
import json
import re
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
import yaml

from conftest import BASE_PROFILE, CSRF_TOKEN as CSRF

class _GuidedForm(HTMLParser):
    """What a browser sends for the page's guided form: hidden fields, text boxes, ticked boxes and
    chosen options, in document order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.inside = False
        self.pairs: list[tuple[str, str]] = []
        self.hidden: list[tuple[str, str]] = []
        self.select: str | None = None
        self.select_value: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == "guided"
        if not self.inside:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind == "hidden":
                self.hidden.append((a["name"], a.get("value", "")))
                self.pairs.append((a["name"], a.get("value", "")))
            elif kind == "text":
                self.pairs.append((a["name"], a.get("value", "")))
            elif kind in ("radio", "checkbox") and "checked" in a:
                self.pairs.append((a["name"], a.get("value", "on")))
        elif tag == "select":
            self.select, self.select_value = a["name"], None
        elif tag == "option" and self.select is not None and (self.select_value is None or "selected" in a):
            self.select_value = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select is not None:
            self.pairs.append((self.select, self.select_value or ""))
            self.select = None


def _parsed(page: str) -> _GuidedForm:
    parser = _GuidedForm()
    parser.feed(page)
    return parser


def guided_form(page: str) -> list[tuple[str, str]]:
    """The hidden inputs of the page's guided form (state, step, shown questions, CSRF token)."""
    return _parsed(page).hidden


def submit(client, page: str, answers: dict | None = None, action: str = "next", path: str = "/ui/step"):
    """Press a button of the guided form as a browser does: every input's current value, with
    these answers (field name -> value or values) typed or chosen first."""
    answers = answers or {}
    data = [(n, v) for n, v in _parsed(page).pairs if n not in answers]
    for name, value in answers.items():
        data += [(name, v) for v in (value if isinstance(value, list) else [value])]
    data += [("action", action)] if action else []
    return client.post(path, content=urlencode(data).encode(),
                       headers={"content-type": "application/x-www-form-urlencoded"})


def h1(page: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", h) for h in re.findall(r"<h1[^>]*>(.*?)</h1>", page, flags=re.S)]


def state(page: str) -> dict:
    return json.loads(dict(guided_form(page))["state"])


def left_out(page: str) -> str:
    """The text of the page's "Some answers were left out" panel ('' when there is none)."""
    found = re.search(r'<section class="notice" aria-labelledby="left-out-title">(.*?)</section>', page, flags=re.S)
    return htmllib.unescape(re.sub(r"<[^>]+>", "", found.group(1))) if found else ""


def shown(page: str) -> list[str]:
    return [v for n, v in guided_form(page) if n == "shown"]


@pytest.fixture
def client(make_client):
    return make_client()


def answer_everything_shown(page: str, peer_titles: dict[int, str]) -> dict:
    """An answer for each unanswered question the step shows, as a person would give it: a peer's
    title, "yes", the first option, a number within bounds; every fourth one "don't know"."""
    answers: dict[str, str] = {}
    for n, pointer in enumerate(shown(page)):
        if pointer.endswith("/title"):
            answers[pointer] = peer_titles[int(pointer.split("/")[2])]
            continue
        start = page.index(f'id="f{pointer.replace("/", "-")}-q"')
        end = page.find('<div class="question', start + 10)
        block = page[start:end if end > 0 else None]
        if "checked" in block or "selected>" in block or re.search(r'<input type="text"[^>]+value="[^"]+"', block):
            continue  # answered before: kept
        if n % 4 == 3:
            if 'value="__dont_know__"' in block:
                answers[pointer] = "__dont_know__"
            else:
                answers[pointer + "__dont_know__"] = "1"
        elif 'inputmode="decimal"' in block:
            answers[pointer] = "1" if pointer.endswith("/fte") else "12"
        elif 'value="yes"' in block:
            answers[pointer] = "yes"
        else:
            first = re.search(r'<(?:input type="(?:radio|checkbox)"[^>]*|option) value="([^"_][^"]*)"', block)
            if first:
                answers[pointer] = first.group(1)
    return answers


def test_a_two_peer_review_without_json_from_the_first_step_to_the_compared_change(client, capfd):
    page = client.get("/ui").text
    assert h1(page) == ["About the program"]
    page = submit(client, page, {"/program/name": "Riverside Recovery Court Peer Program", "/program/state": "OH"}).text
    assert h1(page) == ["The peers"]
    assert re.search(r"\d+ questions left for a complete review", page)
    steps = 2
    titles = {0: "Peer Recovery Specialist", 1: "Peer Navigator"}
    while "Review" not in re.findall(r'aria-current="step">\d+\. ([^<]+)<', page):
        answers = answer_everything_shown(page, titles)
        if h1(page) == ["The peers"] and len(state(page)["peers"]) < 2 and state(page)["peers"] and state(page)["peers"][0].get("title"):
            response = submit(client, page, answers, action="add_peer")
        else:
            response = submit(client, page, answers)
        assert response.status_code == 200, re.findall(r'class="error-message"[^>]*>(.*?)</p>', response.text)
        page = response.text
        steps += 1
        assert steps < 40
    profile = state(page)
    assert [p["title"] for p in profile["peers"]] == ["Peer Recovery Specialist", "Peer Navigator"]
    assert profile["dont_know"]  # some answers were "don't know"
    # the review: the report, its stored page, no comparison yet
    assert h1(page) == ["Riverside Recovery Court Peer Program"]
    assert 'id="findings"' in page and 'id="needs-information"' in page
    report = re.search(r'href="(/ui/decisions/[0-9a-f-]{36})" id="report-link"', page).group(1)
    assert client.get(report).status_code == 200 and 'id="compare-link"' not in page

    # back to the questions, one answer changed, evaluated again: the page offers the comparison
    page = submit(client, page, action="goto:peers").text
    assert h1(page) == ["The peers"] and "Peer 2: Peer Navigator" in page
    page = submit(client, page, {"/peers/1/active_caseload": "60"}).text
    page = submit(client, page, action="goto:review").text
    link = re.search(r'href="([^"]+)" id="compare-link"', page).group(1)
    comparison = client.get(htmllib.unescape(link))
    assert comparison.status_code == 200 and h1(comparison.text) == ["What changed between two evaluations"]
    assert "New since the change" in comparison.text and "Peer 2" in comparison.text
    assert "Acknowledged by the program" in comparison.text  # counted apart from the open findings
    # evaluating the same profile again offers no comparison
    page = submit(client, page, action="goto:review").text
    assert 'id="compare-link"' not in page

    logs = capfd.readouterr().err
    assert "Riverside Recovery Court" not in logs and "Peer Navigator" not in logs  # never logged
    print(f"\nsteps (form posts) from the first page to the first review of a two-peer program: {steps}")


def test_the_findings_update_as_answers_come_in(client):
    page = client.get("/ui").text
    assert "Findings appear here once" in page
    page = submit(client, page, {"/program/name": "P", "/program/state": "OH"}).text
    page = submit(client, page, action="goto:peers").text
    page = submit(client, page, {"/peers/0/title": "Peer Specialist"}).text
    assert h1(page) == ["The peers"]  # the new peer's own questions, before moving on
    assert "Findings appear here once" not in page and 'class="panel so-far"' in page
    page = submit(client, page, {"/peers/0/active_caseload": "40", "/peers/0/fte": "1",
                                 "/peers/0/duties": ["peer_support_group", "attend_court"]}).text
    findings = re.search(r'<ol class="top-list" id="findings-so-far">(.*?)</ol>', page, flags=re.S).group(1)
    assert "Caseload per full-time peer" in findings


def test_an_answer_that_does_not_fit_comes_back_on_its_step_tied_to_its_field(client):
    page = client.get("/ui").text
    page = submit(client, page, {"/program/name": "P", "/program/state": "OH", "/peers/0/title": "Peer"},
                  action="goto:peers").text
    page = submit(client, page, {"/peers/0/title": "Peer"}).text
    response = submit(client, page, {"/peers/0/title": "Peer", "/peers/0/active_caseload": "about twenty"})
    assert response.status_code == 422 and h1(response.text) == ["The peers"]
    text = response.text
    assert "Peer 1 › Active caseload: enter a number, like 12" in text
    assert '<a href="#f-peers-0-active_caseload">' in text  # the summary links to the field
    field = re.search(r'<input type="text" id="f-peers-0-active_caseload"[^>]*>', text).group(0)
    assert 'aria-invalid="true"' in field and "f-peers-0-active_caseload-error" in field
    assert 'value="about twenty"' in field  # what was typed, kept
    assert state(text) == state(page)  # nothing saved from the refused post
    assert shown(text) == shown(page)  # the same questions, to be fixed and sent again


def test_an_error_on_an_answered_question_is_shown_unfolded_under_the_title_typed(client):
    page = client.get("/ui").text
    page = submit(client, page, {"/program/name": "P", "/program/state": "OH", "/program/host_agency": "jail",
                                 "/program/secure_funding": "no"}, action="goto:peers").text
    page = submit(client, page, {"/peers/0/title": "Peer"}, action="goto:peers").text
    page = submit(client, page, {"/peers/0/active_caseload": "12"}, action="goto:peers").text
    folded = page[page.index('<details class="answered"'):]
    assert 'id="f-peers-0-active_caseload"' in folded.split("</details>")[0]  # answered: folded away
    response = submit(client, page, {"/peers/0/title": "Peer Navigator", "/peers/0/active_caseload": "about twenty"})
    assert response.status_code == 422
    text = response.text
    details = re.search(r"<details class=\"answered\"[^>]*>(.*?)</details>", text, flags=re.S)
    assert "f-peers-0-active_caseload-error" in details.group(1) and " open>" in details.group(0)[:60]
    assert "<legend>Peer 1: Peer Navigator</legend>" in text  # the title as typed, as in its field
    assert 'value="Peer Navigator"' in text
    # a section step's folded answers, too
    page = submit(client, page, {"/peers/0/title": "Peer"}, action="goto:program").text
    response = submit(client, page, {"/program/name": ""})
    section = re.search(r"<details class=\"answered\"[^>]*>", response.text).group(0)
    assert response.status_code == 422 and "open" in section


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_the_focus_outline_stands_out_against_white():
    """WCAG 1.4.11: a focus indicator needs 3:1 against what is next to it (the pages are white)."""
    from conftest import ROOT

    css = (ROOT / "report" / "templates" / "report.css").read_text()
    colour = re.search(r"^:focus-visible \{ outline: 3px solid (#[0-9a-f]{6})", css, flags=re.M).group(1)
    assert (1.05 / (_luminance(colour) + 0.05)) >= 3
    assert "#f59e0b" not in css  # the amber outline: 2.15:1


def test_the_review_needs_the_required_answers(client):
    page = client.get("/ui").text
    response = submit(client, page, {"/program/name": "P"}, action="goto:review")
    assert response.status_code == 422 and "Program › State: choose the state" in response.text


def test_every_post_needs_the_pages_csrf_token(client):
    page = client.get("/ui").text
    data = [(n, v) for n, v in guided_form(page) if n != "csrf_token"] + [("action", "next")]
    for path in ("/ui/step", "/ui/download", "/ui/continue"):
        assert client.post(path, data=dict(data)).status_code == 403
        assert client.post(path, data={**dict(data), "csrf_token": "forged"}).status_code == 403
    other = client.post("/ui/step", data=dict(guided_form(page)), headers={"origin": "https://elsewhere.example"})
    assert other.status_code == 403


def test_the_profile_so_far_downloads_and_continues_from_the_file(client):
    page = client.get("/ui").text
    page = submit(client, page, {"/program/name": "Lakeside Peer Program", "/program/state": "MI",
                                 "/program/secure_funding": "no"}, action="goto:program").text
    download = submit(client, page, {"/program/host_agency": "jail"}, action="", path="/ui/download")
    assert download.status_code == 200 and download.headers["content-type"].startswith("application/json")
    assert 'attachment; filename="lakeside-peer-program-profile.json"' == download.headers["content-disposition"]
    saved = download.json()
    assert saved["program"] == {"name": "Lakeside Peer Program", "state": "MI", "host_agency": "jail", "secure_funding": False}
    yaml_file = submit(client, page, {"/program/host_agency": "jail", "format": "yaml"}, action="", path="/ui/download")
    assert yaml.safe_load(yaml_file.text)["program"]["state"] == "MI"

    token = dict(guided_form(page))["csrf_token"]
    continued = client.post("/ui/continue", data={"csrf_token": token},
                            files={"profile_file": ("lakeside.json", json.dumps(saved).encode(), "application/json")})
    assert continued.status_code == 200 and state(continued.text)["program"] == saved["program"]
    pasted = client.post("/ui/continue", data={"csrf_token": token, "profile_json": yaml_file.text})  # YAML, pasted
    assert pasted.status_code == 200 and state(pasted.text)["program"] == saved["program"]
    broken = client.post("/ui/continue", data={"csrf_token": token, "profile_json": '{"program": '})
    assert broken.status_code == 422 and "The text you pasted could not be read: " in broken.text
    assert htmllib.unescape(broken.text).count("(line 1, column 13)") == 1


def test_a_complete_profile_continues_where_its_most_valuable_question_is(client):
    token = dict(guided_form(client.get("/ui").text))["csrf_token"]
    page = client.post("/ui/continue", data={"csrf_token": token, "profile_json": json.dumps(BASE_PROFILE)}).text
    assert h1(page) and h1(page) != ["Review"] and "Findings appear here once" not in page
    # a part that is not valid is named and left out, the rest kept
    broken = {**BASE_PROFILE, "program": {**BASE_PROFILE["program"], "state": "Ohio"}}
    page = client.post("/ui/continue", data={"csrf_token": token, "profile_json": json.dumps(broken)}).text
    assert "Program › State: is not one of the codes this field takes. Did you mean OH (Ohio)?" in left_out(page)
    assert "/program/state" not in left_out(page)  # the field by its label, not a JSON pointer
    assert "state" not in state(page)["program"]


def test_problems_in_a_continued_file_are_worded_as_the_api_words_them(client):
    token = dict(guided_form(client.get("/ui").text))["csrf_token"]
    broken = {**BASE_PROFILE, "program": {**BASE_PROFILE["program"], "hostagency": "jail"},
              "peers": [{**BASE_PROFILE["peers"][0], "fte": "half"}] + BASE_PROFILE["peers"][1:]}
    page = client.post("/ui/continue", data={"csrf_token": token, "profile_json": json.dumps(broken)}).text
    said = left_out(page)
    assert "Peer 1 › Full-time equivalent (FTE): must be a number." in said
    assert "Program › “hostagency”: is not a field of the profile schema here. Did you mean “host_agency”" in said
    assert not re.search(r"/program/|/peers/|Input should", said)  # no pointers, no raw validator English


def test_peers_are_added_and_removed(client):
    page = client.get("/ui").text
    page = submit(client, page, {"/program/name": "P", "/program/state": "OH"}, action="goto:peers").text
    page = submit(client, page, {"/peers/0/title": "First"}, action="add_peer").text
    page = submit(client, page, {"/peers/1/title": "Second"}, action="add_peer").text
    assert [p.get("title") for p in state(page)["peers"]] == ["First", "Second", None]
    assert "Peer 3</legend>" in page and "Peer 2: Second</legend>" in page
    page = submit(client, page, {"/peers/2/title": "Third"}, action="remove_peer:0").text
    assert [p["title"] for p in state(page)["peers"]] == ["Second", "Third"]
    assert "Peer 1: Second</legend>" in page


def test_removing_a_peer_on_the_page_keeps_the_other_acknowledgements(client):
    program_wide = {"rule_id": "PC-SUP-001", "reason": "Reviewed by the board"}
    profile = {**BASE_PROFILE, "peers": [{"title": "First"}, {"title": "Second"}, {"title": "Third"}],
               "acknowledged": [program_wide, {"rule_id": "PC-ROLE-001", "reason": "Only for First", "subject": "/peers/0"},
                                {"rule_id": "PC-ROLE-002", "reason": "Only for Third", "subject": "/peers/2"}]}
    profile.pop("dont_know", None)
    token = dict(guided_form(client.get("/ui").text))["csrf_token"]
    page = client.post("/ui/continue", data={"csrf_token": token, "profile_json": json.dumps(profile)}).text
    page = submit(client, page, action="goto:peers").text
    page = submit(client, page, action="remove_peer:0").text
    kept = state(page)
    assert [p["title"] for p in kept["peers"]] == ["Second", "Third"]
    assert kept["acknowledged"] == [program_wide, {"rule_id": "PC-ROLE-002", "reason": "Only for Third", "subject": "/peers/1"}]
    assert not left_out(page)  # nothing was invalid, so nothing was left out


def test_the_form_gives_each_peer_an_id_it_never_gives_again(client):
    page = client.get("/ui").text
    page = submit(client, page, {"/program/name": "P", "/program/state": "OH"}, action="goto:peers").text
    page = submit(client, page, {"/peers/0/title": "First"}, action="add_peer").text
    page = submit(client, page, {"/peers/1/title": "Second"}, action="add_peer").text
    assert [p.get("id") for p in state(page)["peers"]] == ["peer-1", "peer-2", "peer-3"]
    page = submit(client, page, {"/peers/2/title": "Third"}, action="remove_peer:2").text
    page = submit(client, page, action="add_peer").text  # the removed peer's id is not given again
    assert [p.get("id") for p in state(page)["peers"]] == ["peer-1", "peer-2", "peer-4"]
    assert "Peer 1: First</legend>" in page and "(peer-" not in page  # an id that repeats the number is not shown
    download = submit(client, page, {"/peers/2/title": "Fourth"}, action="", path="/ui/download").json()
    assert [p["id"] for p in download["peers"]] == ["peer-1", "peer-2", "peer-4"]
    # a continued file's peers keep their ids; those without one get one that no other peer has
    token = dict(guided_form(page))["csrf_token"]
    sent = {**BASE_PROFILE, "peers": [{"title": "A", "id": "peer-7"}, {"title": "B"}, {"title": "C", "id": "lead"}]}
    continued = client.post("/ui/continue", data={"csrf_token": token, "profile_json": json.dumps(sent)}).text
    assert [p["id"] for p in state(continued)["peers"]] == ["peer-7", "peer-8", "lead"]
    assert not left_out(continued)


@pytest.mark.parametrize("store_profiles", [False, True], ids=["profiles-not-kept", "profiles-kept"])
def test_removing_peer_1_does_not_make_peer_2s_findings_look_resolved_and_new(make_client, store_profiles):
    client = make_client(decision_log_store_profiles=store_profiles)
    token = dict(guided_form(client.get("/ui").text))["csrf_token"]
    from api.routes.pages import example_text

    example = json.loads(example_text())  # a program with risks of each peer
    profile = {**example, "peers": [{k: v for k, v in peer.items() if k != "id"} for peer in example["peers"]]}
    page = client.post("/ui/continue", data={"csrf_token": token, "profile_json": json.dumps(profile)}).text
    page = submit(client, page, action="goto:review").text
    before = client.get(re.search(r'href="/ui/decisions/([0-9a-f-]{36})" id="report-link"', page).group(1).join(
        ["/v1/evaluations/", ""])).json()
    page = submit(client, page, action="goto:peers").text
    page = submit(client, page, action="remove_peer:0").text
    page = submit(client, page, action="goto:review").text
    after = client.get(re.search(r'href="/ui/decisions/([0-9a-f-]{36})" id="report-link"', page).group(1).join(
        ["/v1/evaluations/", ""])).json()
    second_before = {f["finding_id"] for f in before["findings"] if f["subject"]["peer_index"] == 1}
    first_after = {f["finding_id"] for f in after["findings"] if f["subject"]["peer_index"] == 0}
    assert second_before and second_before == first_after  # the same peer's findings, matched as the same
    assert None not in second_before
    compared = client.get(htmllib.unescape(re.search(r'href="([^"]+)" id="compare-link"', page).group(1)))
    assert compared.status_code == 200


def test_tampered_state_is_revalidated_not_trusted(client):
    page = client.get("/ui").text
    data = dict(guided_form(page))
    data["state"] = json.dumps({"program": {"name": "<script>x</script>", "state": "OH", "unknown": 1},
                                "peers": [{"title": "P", "fte": 99}], "dont_know": ["/nowhere"]})
    response = client.post("/ui/step", data={**data, "action": "goto:peers"})
    assert response.status_code == 200 and "<script>x" not in response.text
    kept = state(response.text)
    assert "unknown" not in kept["program"] and "fte" not in kept["peers"][0] and "dont_know" not in kept
    assert "Some answers were left out" in response.text
    junk = client.post("/ui/step", data={**data, "state": "][", "action": "next"})
    assert junk.status_code == 200 and "could not be read" in junk.text


def test_the_guided_form_with_api_keys(make_client, tmp_path):
    from api.guards import hash_key

    client = make_client(api_keys=[{"id": "ta", "sha256": hash_key("ta-key-0123456789abc"), "scopes": ["read", "evaluate"]},
                                   {"id": "reader", "sha256": hash_key("reader-key-0123456789"), "scopes": ["read"]}])
    assert client.get("/ui", follow_redirects=False).status_code == 303
    form = client.get("/ui/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    client.post("/ui/sign-in", data={"api_key": "ta-key-0123456789abc", "csrf_token": token, "next": "/ui"})
    page = client.get("/ui").text
    assert "Sign out" in page
    assert submit(client, page, {"/program/name": "P", "/program/state": "OH"}).status_code == 200
    reader = make_client(api_keys=[{"id": "reader", "sha256": hash_key("reader-key-0123456789"), "scopes": ["read"]}],
                         data_dir=tmp_path / "other")
    form = reader.get("/ui/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    reader.post("/ui/sign-in", data={"api_key": "reader-key-0123456789", "csrf_token": token, "next": "/ui"})
    page = reader.get("/ui").text
    assert submit(reader, page, {"/program/name": "P"}).status_code == 403  # no 'evaluate' scope


def test_without_a_decision_log_the_review_says_how_to_keep_it(make_client):
    client = make_client(decision_log_enabled=False)
    token = dict(guided_form(client.get("/ui").text))["csrf_token"]
    page = client.post("/ui/continue", data={"csrf_token": token, "profile_json": json.dumps(BASE_PROFILE)}).text
    page = submit(client, page, action="goto:review").text
    assert "keeps no decision log" in page and 'id="report-link"' not in page


# ---------------------------------------------------------------- the docs, offline


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_docs_pages_load_nothing_from_another_host(client, path):
    page = client.get(path)
    assert page.status_code == 200
    assert re.findall(r"https?://", page.text) == []  # no CDN, no web fonts
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/docs/assets/") or a == "/openapi.json" for a in assets)
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200 and len(served.content) > 1000, asset


def test_the_docs_assets_need_no_key(make_client):
    from api.guards import hash_key

    keyed = make_client(api_keys=[{"id": "k", "sha256": hash_key("k-0123456789abcdef"), "scopes": ["read"]}])
    assert keyed.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert keyed.get("/docs").status_code == 200
    assert keyed.get("/v1/rules").status_code == 401  # the API itself still does


def test_a_large_uploaded_program_keeps_every_peer_and_lists_the_first_thirty(client):
    from api.guided.state import MAX_FORM_PEERS

    profile = json.loads(json.dumps(BASE_PROFILE))
    profile["peers"] = [{**profile["peers"][0], "id": f"p{i}"} for i in range(MAX_FORM_PEERS + 10)]
    token = dict(guided_form(client.get("/ui").text))["csrf_token"]
    page = client.post("/ui/continue", data={"csrf_token": token, "profile_json": json.dumps(profile)}).text
    page = submit(client, page, action="goto:peers").text
    assert f"the form shows the first {MAX_FORM_PEERS}" in page
    assert f"Peer {MAX_FORM_PEERS}" in page and f"Peer {MAX_FORM_PEERS + 1}<" not in page
    assert max(int(p.split("/")[2]) for p in shown(page)) == MAX_FORM_PEERS - 1
    page = submit(client, page).text  # saving the step keeps the peers it does not list
    assert len(state(page)["peers"]) == MAX_FORM_PEERS + 10


def test_the_downloaded_yaml_file_is_evaluated_as_it_is(client):
    page = client.get("/ui").text
    page = submit(client, page, {"/program/name": "Lakeside", "/program/state": "MI"}, action="goto:peers").text
    page = submit(client, page, {"/peers/0/title": "Peer specialist"}, action="next").text
    yaml_file = submit(client, page, {"format": "yaml"}, action="", path="/ui/download")
    assert yaml_file.status_code == 200 and yaml_file.text.startswith("#")
    token = dict(guided_form(page))["csrf_token"]
    uploaded = client.post("/ui/evaluate", data={"csrf_token": token},
                           files={"profile_file": ("lakeside-profile.yaml", yaml_file.content, "application/yaml")})
    pasted = client.post("/ui/evaluate", data={"csrf_token": token, "profile_json": yaml_file.text})
    for response in (uploaded, pasted):
        assert response.status_code == 200, response.text
        assert "not valid JSON" not in response.text and "Lakeside" in response.text


def error_page_text(response) -> str:
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", response.text))


@pytest.mark.parametrize("path,status,words", [
    ("/ui/decisions/3f6c2a0e-8d1b-4f5e-9a7c-2b4d6e8f0a1c", 404, "Report not found"),
    ("/ui/decisions/not-an-id", 422, "This report link is not complete"),
    ("/ui/compare?before=3f6c2a0e-8d1b-4f5e-9a7c-2b4d6e8f0a1c", 422, "This comparison link is not complete"),
    ("/ui/compare?before=3f6c2a0e-8d1b-4f5e-9a7c-2b4d6e8f0a1c&after=4f6c2a0e-8d1b-4f5e-9a7c-2b4d6e8f0a1c", 404,
     "One of the two reports compared is not saved here"),
    ("/ui/nowhere", 404, "Page not found"),
    ("/ui/step", 405, "reached by pressing a button"),
])
def test_page_addresses_answer_errors_with_pages_for_people(client, path, status, words):
    response = client.get(path)
    assert response.status_code == status and response.headers["content-type"].startswith("text/html")
    text = error_page_text(response)
    assert words in text and "Start a new review" in text and 'href="/ui"' in response.text
    assert "pattern" not in text and "^[" not in text and "problem" not in response.headers["content-type"]
    assert response.headers["content-security-policy"].startswith("default-src 'none'")


def test_the_api_still_answers_errors_with_problem_details(client):
    response = client.get("/v1/evaluations/not-an-id")
    assert response.status_code == 422 and response.headers["content-type"].startswith("application/problem+json")


def test_a_step_sent_with_an_expired_token_comes_back_with_its_answers(client):
    page = client.get("/ui").text
    page = submit(client, page, {"/program/name": "Lakeside", "/program/state": "MI"}, action="goto:peers").text
    before = state(page)
    client.cookies.clear()  # the browser session ended (or the token expired) while the page was open
    stale = [(n, v) for n, v in _parsed(page).pairs if n != "/peers/0/title"]
    stale += [("/peers/0/title", "Peer specialist"), ("action", "goto:review")]
    refused = client.post("/ui/step", content=urlencode(stale).encode(),
                          headers={"content-type": "application/x-www-form-urlencoded"})
    assert refused.status_code == 403 and h1(refused.text) == h1(page) == ["The peers"]
    assert "your answers were not saved yet" in refused.text
    assert state(refused.text) == before  # nothing saved, nothing evaluated
    assert 'value="Peer specialist"' in refused.text  # what was typed, shown again
    assert dict(guided_form(refused.text))["csrf_token"] != dict(guided_form(page))["csrf_token"]
    again = submit(client, refused.text, action="next")  # sent again, with the fresh token
    assert again.status_code == 200 and state(again.text)["peers"][0]["title"] == "Peer specialist"
    # a post from another site is refused outright, with nothing of it shown
    other = client.post("/ui/step", content=urlencode(stale).encode(), headers={
        "content-type": "application/x-www-form-urlencoded", "origin": "https://elsewhere.example"})
    assert other.status_code == 403 and "Lakeside" not in other.text and "Form refused" in other.text


def test_an_expired_form_elsewhere_is_a_page_in_plain_words(client):
    response = client.post("/ui/download", data={"state": "{}", "csrf_token": "stale"})
    assert response.status_code == 403 and response.headers["content-type"].startswith("text/html")
    assert "The form had expired" in error_page_text(response)


@pytest.mark.parametrize("path", ["/ui/evaluate", "/ui/continue"])
def test_a_pasted_profile_sent_with_an_expired_token_comes_back_to_be_sent_again(make_client, monkeypatch, path):
    client = make_client()
    page = client.get("/ui").text
    evaluator, evaluated = client.app.state.service.evaluator, []
    evaluate = evaluator.evaluate
    monkeypatch.setattr(evaluator, "evaluate", lambda *a, **k: evaluated.append(1) or evaluate(*a, **k))
    pasted = json.dumps({**BASE_PROFILE, "program": {**BASE_PROFILE["program"], "name": "Harbor <Peer> Program"}}, indent=2)
    client.cookies.clear()  # the browser session ended (or the token expired) while the page was open
    refused = client.post(path, data={"csrf_token": dict(guided_form(page))["csrf_token"], "profile_json": pasted})
    assert refused.status_code == 403 and "not read yet: nothing was evaluated or stored" in refused.text
    box = re.search(r'<textarea id="profile_json"[^>]*>(.*?)</textarea>', refused.text, flags=re.S)
    assert htmllib.unescape(box.group(1)) == pasted  # what was pasted, shown again (escaped)
    token = CSRF.search(refused.text).group(1)
    assert token != dict(guided_form(page))["csrf_token"]
    assert 'id="findings"' not in refused.text and "Harbor &lt;Peer&gt; Program" not in refused.text.split("<textarea")[0]
    assert evaluated == []  # nothing read, evaluated or recorded
    again = client.post(path, data={"csrf_token": token, "profile_json": htmllib.unescape(box.group(1))})
    assert again.status_code == 200 and "Harbor &lt;Peer&gt; Program" in again.text and evaluated  # the spy sees it
    # a file is not shown again: it is to be chosen again
    client.cookies.clear()
    with_file = client.post(path, data={"csrf_token": token},
                            files={"profile_file": ("p.json", pasted.encode(), "application/json")})
    assert with_file.status_code == 403 and "Choose the file again" in with_file.text
    assert "Harbor" not in with_file.text
    # from another site: refused outright, nothing shown
    other = client.post(path, data={"csrf_token": token, "profile_json": pasted}, headers={"origin": "https://elsewhere.example"})
    assert other.status_code == 403 and "Harbor" not in other.text and "Form refused" in other.text


def test_the_findings_panel_names_the_peer_whose_title_is_missing(client):
    page = client.get("/ui").text
    assert "Findings appear here once the program&#39;s name, the program&#39;s state and at least one peer&#39;s job title are given" in page
    page = submit(client, page, {"/program/name": "P", "/program/state": "OH"}, action="goto:peers").text
    page = submit(client, page, {"/peers/0/title": "Peer Specialist"}, action="add_peer").text
    assert [p.get("title") for p in state(page)["peers"]] == ["Peer Specialist", None]
    assert "Findings appear here once Peer 2&#39;s job title is given." in page
    assert "at least one peer" not in page


def test_why_we_ask_names_peers_as_people_do_and_none_before_there_are_any(client):
    page = client.get("/ui").text
    assert not re.search(r"\(peer \d|[Pp]eers? \d", re.sub(r'<input[^>]*>', "", page.split('class="panel upload"')[0]))
    page = submit(client, page, {"/program/name": "P", "/program/state": "OH"}, action="goto:peers").text
    page = submit(client, page, {"/peers/0/title": "First"}, action="add_peer").text
    page = submit(client, page, {"/peers/1/title": "Second"}, action="goto:policies").text
    text = htmllib.unescape(re.sub(r"<[^>]+>", " ", page))
    assert "for Peers 1 and 2)" in text and "(peer " not in text


def test_a_program_finding_about_peers_is_not_labelled_program(client):
    one_low = {**BASE_PROFILE, "peers": [{**BASE_PROFILE["peers"][0], "living_wage": False}] + BASE_PROFILE["peers"][1:]}
    token = dict(guided_form(client.get("/ui").text))["csrf_token"]
    page = client.post("/ui/continue", data={"csrf_token": token, "profile_json": json.dumps(one_low)}).text
    listed = re.search(r"<li>(?:(?!</li>).)*?Peers paid below a living wage.*?</li>", page, flags=re.S).group(0)
    assert "— Program" not in listed and "— Across the peers" in listed  # the evidence says whose answer is which
    single = {**one_low, "peers": one_low["peers"][:1]}
    page = client.post("/ui/continue", data={"csrf_token": token, "profile_json": json.dumps(single)}).text
    assert "— Peer 1" in re.search(r"<li>(?:(?!</li>).)*?Peers paid below a living wage.*?</li>", page, flags=re.S).group(0)


def test_program_findings_keep_their_label(evaluator):
    from engine import Profile
    from report.context import who

    decision = evaluator.evaluate(Profile.model_validate({**BASE_PROFILE, "program": {
        **BASE_PROFILE["program"], "secure_funding": False}}))
    program = [f for f in decision.findings if f.subject.kind == "program"]
    assert program and all(who(f) == "Program" for f in program if any("/program/" in p for e in f.evidence for p in e.pointers))


def test_upload_problems_are_said_once_and_plainly(client):
    token = dict(guided_form(client.get("/ui").text))["csrf_token"]
    repeated = "program:\n  name: A\n  name: B\n  state: OH\n"
    page = client.post("/ui/continue", data={"csrf_token": token, "profile_json": repeated})
    text = htmllib.unescape(page.text)
    assert page.status_code == 422 and "names “name” twice" in text
    assert text.count("line 3, column 3") == 1
    for path in ("/ui/continue", "/ui/evaluate"):
        empty = client.post(path, data={"csrf_token": token, "profile_json": "  \n"})
        said = htmllib.unescape(re.sub(r"<[^>]+>", "", empty.text))
        assert empty.status_code == 422 and "JSON object" not in said
        assert "The box is empty: paste a profile or choose a file" in said or "The box: is empty. Paste a profile or choose a file." in said
    empty_file = client.post("/ui/evaluate", data={"csrf_token": token}, files={"profile_file": ("p.json", b"", "application/json")})
    assert empty_file.status_code == 422 and "The file" in empty_file.text and "JSON object" not in empty_file.text
