"""Errors a person can act on: each names the field by label and position, says what is wrong
in plain words and suggests the fix — with the same words in problem details, on the page and
in the CLI."""

from __future__ import annotations

import html
import json
import time

import pytest

from cli.main import main
from conftest import BASE_PROFILE, variant, page_post
from engine import Profile
from engine.validation import MAX_PROBLEMS, InvalidDocument, read_profile, validate


def problems(doc) -> InvalidDocument:
    with pytest.raises(InvalidDocument) as exc:
        validate(doc, Profile)
    return exc.value


def only(doc):
    invalid = problems(doc)
    assert len(invalid.problems) == 1, invalid.problems
    return invalid.problems[0]


@pytest.mark.parametrize("written,code", [
    ("Ohio", "OH"), ("ohio", "OH"), ("oh", "OH"), ("Ohioo", "OH"), ("New York", "NY"), ("N.Y.", "NY"),
    ("Calif.", "CA"), ("Penna", "PA"), ("Wash.", "WA"), ("district of columbia", "DC"), ("Puerto Rico", "PR"),
])
def test_a_state_written_as_a_name_gets_its_code(written, code):
    problem = only(variant({"/program/state": written}))
    assert problem.pointer == "/program/state" and problem.field == "Program › State"
    assert problem.fix.startswith(f"Did you mean {code} (") and problem.fix.count("(") == 1


def test_no_state_suggestion_lists_every_code():
    problem = only(variant({"/program/state": "Atlantis"}))
    assert "USPS code" in problem.fix and "WY" not in problem.fix


@pytest.mark.parametrize("key,suggested", [
    ("caseload", "active_caseload"), ("activecaseload", "active_caseload"), ("FTE", "fte"),
    ("dutys", "duties"), ("certified", "certification"),
])
def test_an_unknown_key_gets_the_closest_field(key, suggested):
    problem = only(variant({f"/peers/1/{key}": 3}))
    assert problem.pointer == f"/peers/1/{key}" and problem.field == f"Peer 2 › “{key}”"
    assert problem.code == "unknown_field" and f"“{suggested}”" in problem.fix


def test_a_field_in_the_wrong_section_says_where_it_belongs():
    problem = only(variant({"/peers/0/written_job_description": True}))
    assert "Policies and practices" in problem.fix and "“policies”" in problem.fix


def test_an_unknown_duty_gets_the_closest_activities_never_the_whole_list():
    problem = only(variant({"/peers/0/duties": ["drug_testing"]}))
    assert problem.field == "Peer 1 › Duties (item 1)" and problem.pointer == "/peers/0/duties/0"
    assert "administer_drug_test (Administering a drug test)" in problem.fix
    assert problem.fix.count("(") <= 3  # at most three suggestions, each with its label
    by_label = only(variant({"/peers/0/duties": ["visiting them at home"]}))
    assert "home_visit" in by_label.fix


@pytest.mark.parametrize("pointer,value,expected", [
    ("/program/funding", "medicaid", 'Write it as a list: ["medicaid"].'),
    ("/program/referral_pathways", "voluntary, court_ordered", 'Write it as a list: ["voluntary", "court_ordered"].'),
    ("/program/intercepts", 3, "Put it in a list: [3]."),
    ("/peers/0/duties", "xyz", 'such as ["'),
])
def test_a_scalar_where_a_list_is_wanted_shows_the_shape(pointer, value, expected):
    problem = only(variant({pointer: value}))
    assert problem.code == "not_a_list" and expected in problem.fix


def test_peers_are_counted_from_1_for_people_and_from_0_for_machines():
    problem = only(variant({"/peers/1/active_caseload": -1}))
    assert problem.field == "Peer 2 › Active caseload" and problem.pointer == "/peers/1/active_caseload"
    assert problem.text() == "Peer 2 › Active caseload: must be a number from 0 to 10000."


@pytest.mark.parametrize("pointer,value,fix", [
    ("/peers/0/active_caseload", "24", "without quotes"),
    ("/peers/0/active_caseload", 24.0, "without a decimal point"),
    ("/peers/0/months_in_recovery", "12", "without quotes"),
    ("/peers/0/benefits", "yes", "true or false without quotes"),
    ("/peers/0/living_wage", "off", "true or false without quotes"),
    ("/peers/0/benefits", 1, "not a number"),
    ("/supervision/co_supervision", "true", "without quotes"),
    ("/peers/0/fte", "0.5", "without quotes"),
    ("/peers/0/fte", "half", "Give a number in digits from 0.01 to 1"),
])
def test_json_types_are_strict(pointer, value, fix):
    problem = only(variant({pointer: value}))
    assert problem.pointer == pointer and fix in problem.fix


def test_codes_still_arrive_as_strings():
    assert validate(variant({"/program/state": "OH", "/peers/0/duties": ["home_visit"]}), Profile).program.state == "OH"


def test_values_are_never_echoed():
    invalid = problems(variant({"/peers/0/months_in_recovery": "eleven months", "/program/state": "Secretland",
                                "/peers/0/title": 7}))
    text = " ".join(p.text() for p in invalid.problems) + invalid.summary()
    assert "eleven" not in text and "Secretland" not in text


def test_the_count_in_the_summary_is_the_number_listed():
    doc = variant({"/peers/0/fte": 3, "/peers/1/fte": 4, "/program/state": "Ohio", "/program/x": 1, "/peers/0/y": 2})
    invalid = problems(doc)
    assert len(invalid.problems) == invalid.total == 5
    assert invalid.summary().startswith("5 problems in the profile: ") and invalid.summary().endswith("and 2 more")
    one = problems(variant({"/program/state": "Ohio"}))
    assert one.summary() == "1 problem in the profile: " + one.problems[0].text()


def test_unknown_keys_beyond_the_limit_stop_validation_early():
    doc = {**BASE_PROFILE, **{f"k{i}": i for i in range(100_000)}}
    started = time.process_time()
    invalid = problems(doc)
    assert len(invalid.problems) == MAX_PROBLEMS and invalid.total == 100_000 and not invalid.complete
    assert invalid.summary().startswith("100,000 or more problems in the profile; validation stopped early")
    assert time.process_time() - started < 5  # a sanity bound, far above the ~0.05 s it takes


def test_newer_fields_than_the_declared_version_are_refused_by_name():
    doc = {"schema_version": "1.0", "program": {"name": "P", "state": "OH"}, "peers": [{"title": "Peer"}],
           "policies": {"consent_protocol": True, "career_path": True}, "hiring": {"peers_involved_in_hiring": True}}
    invalid = problems(doc)
    assert {p.pointer for p in invalid.problems} == {"/policies/career_path", "/hiring"}
    assert all("added in profile schema 1.1" in p.detail and "“1.1”" in p.fix for p in invalid.problems)
    assert validate({**doc, "schema_version": "1.1"}, Profile)  # declared 1.1, the same fields are fine
    null_is_absent = {**doc, "policies": {"consent_protocol": True}, "hiring": None}
    assert validate(null_is_absent, Profile).hiring is None


def test_an_acknowledgement_of_a_peer_the_profile_lacks():
    doc = variant({"/acknowledged": [{"rule_id": "PC-CASELOAD-001", "reason": "reviewed", "subject": "/peers/999"}]})
    problem = only(doc)
    assert problem.pointer == "/acknowledged/0/subject" and problem.code == "unknown_subject"
    assert problem.detail == f"names Peer 1000, but the profile has {len(BASE_PROFILE['peers'])} peers"
    assert '"/peers/0"' in problem.fix


def test_a_repeated_peer_id_names_the_second_peer():
    first = BASE_PROFILE["peers"][0].get("id") or "a"
    doc = variant({"/peers/0/id": first, "/peers/1/id": first})
    problem = only(doc)
    assert problem.pointer == "/peers/1/id" and problem.detail == "is the same id as Peer 1’s"


def test_a_syntax_error_shows_the_line_and_column_with_the_line_quoted():
    text = '{"schema_version": "1.1",\n "program": {"name": "P" "state": "OH"},\n "peers": []}'
    with pytest.raises(InvalidDocument) as exc:
        read_profile(text)
    problem = exc.value.problems[0]
    assert (problem.line, problem.column) == (2, 26) and "(line 2, column 26)" in problem.detail
    assert problem.excerpt == ' "program": {"name": "P" "state": "OH"},' and problem.excerpt[problem.caret] == '"'
    assert "comma" in problem.detail and problem.fix


def test_a_long_line_is_quoted_around_the_column():
    text = json.dumps(variant({"/program/name": "x" * 500}))[:-1] + ",}"
    with pytest.raises(InvalidDocument) as exc:
        read_profile(text)
    problem = exc.value.problems[0]
    assert len(problem.excerpt) <= 82 and problem.excerpt.startswith("…") and problem.excerpt[problem.caret] == "}"


# ------------------------------------------------------------- the same words everywhere

CASES = {
    "state": variant({"/program/state": "Ohio"}),
    "unknown key": variant({"/peers/1/caseload": 3}),
    "duty": variant({"/peers/0/duties": ["drug_test"]}),
    "list shape": variant({"/program/funding": "medicaid"}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_api_page_and_cli_say_the_same(client, tmp_path, capsys, name):
    doc = CASES[name]
    expected = only(doc)
    api = client.post("/v1/evaluations", json=doc).json()
    assert api["errors"] == [{"pointer": expected.pointer, "field": expected.field, "detail": expected.detail,
                              "fix": expected.fix, "code": expected.code}]
    assert api["detail"] == f"1 problem in the request: {expected.text()}" and api["error_count"] == 1
    page = page_post(client, data={"profile_json": json.dumps(doc)})
    assert page.status_code == 422
    shown = html.unescape(page.text)
    assert expected.field in shown and expected.detail in shown and expected.fix in shown
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc))
    assert main(["validate", str(path)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert " ".join(expected.text().split()) in err and expected.pointer in err


def test_a_syntax_error_on_the_api_and_the_page(client):
    text = '{"schema_version": "1.1",\n "program": {"name": "P" "state": "OH"}}'
    api = client.post("/v1/evaluations", content=text, headers={"content-type": "application/json"}).json()
    (error,) = api["errors"]
    assert (error["line"], error["column"]) == (2, 26) and error["excerpt"] == ' "program": {"name": "P" "state": "OH"}}'
    page = page_post(client, data={"profile_json": text})
    assert page.status_code == 422 and '<pre class="excerpt">' in page.text and "(line 2, column 26)" in page.text


def test_nan_names_its_field_everywhere(client, tmp_path, capsys):
    text = json.dumps(BASE_PROFILE).replace('"fte": 1.0', '"fte": NaN', 1)
    api = client.post("/v1/evaluations", content=text, headers={"content-type": "application/json"}).json()
    assert api["errors"][0]["pointer"] == "/peers/0/fte" and api["errors"][0]["field"] == "Peer 1 › Full-time equivalent (FTE)"
    path = tmp_path / "nan.json"
    path.write_text(text)
    assert main(["validate", str(path)]) == 2
    assert "Peer 1 › Full-time equivalent (FTE): is NaN" in capsys.readouterr().err


def test_query_parameters_are_named(client):
    problem = client.post("/v1/evaluations?explain=perhaps", json=BASE_PROFILE).json()
    assert problem["errors"][0]["parameter"] == "explain" and "query parameter “explain”" in problem["detail"]


@pytest.mark.parametrize(("url", "wording"), [
    ("/v1/jurisdictions/oh", "The path parameter “state”: is not one of the codes this field takes. Did you mean OH (Ohio)?"),
    ("/v1/jurisdictions/Ohio", "Did you mean OH (Ohio)?"),
    ("/v1/evaluations?status=passs", "Did you mean pass?"),
    ("/v1/evaluations?since=yesterday", "must be a date, or a date and time (ISO 8601). Write it like 2026-12-01"),
    ("/v1/evaluations?limit=many", "The query parameter “limit”: must be a whole number"),
])
def test_parameters_get_the_same_words_and_fixes_as_fields(client, url, wording):
    problem = client.get(url).json()
    assert problem["status"] == 422 and wording in problem["detail"]
    assert "Input should be" not in json.dumps(problem)  # never the validator's own English
    assert len(json.dumps(problem)) < 1200  # a suggestion, not the list of 56 codes


def test_a_duty_close_to_no_activity_points_to_the_activities_by_their_wording(client):
    problem = client.post("/v1/evaluations", json=variant({"/peers/0/duties": ["qqqqzzzz"]})).json()
    (error,) = problem["errors"]
    assert error["field"] == "Peer 1 › Duties (item 1)"
    assert "none of the tool kit's 56 activities" in error["fix"] and "GET /v1/activities" in error["fix"]
    assert "schema" not in error["fix"]  # not the list of codes in the profile schema
