"""``peercheck interview``, ``peercheck init`` and ``peercheck compare``, driven as a person would:
answers typed on standard input, files on disk."""

from __future__ import annotations

import functools
import io
import json

import pytest
import yaml

from cli import service
from cli.main import main
from conftest import BASE_PROFILE, variant
from engine import Evaluator, Profile, make_engine
from engine.questions import Interview

_build_once = functools.lru_cache(maxsize=None)(service.build_evaluator)


@pytest.fixture(autouse=True)
def narrow_terminal_and_one_ruleset(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setattr(service, "build_evaluator", _build_once)


def run(capsys, monkeypatch, *argv, answers: list[str] | None = None) -> tuple[int, str, str]:
    if answers is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO("".join(a + "\n" for a in answers)))
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------- interview


def test_an_interview_from_nothing_writes_a_profile(capsys, monkeypatch, tmp_path, ruleset):
    path = tmp_path / "program.yaml"
    answers = ["Riverside Recovery Court Peers", "Ohio", "2", "Peer Recovery Specialist", "Peer Mentor",
               "2,24", "?", "7", "n", "n", "q"]
    code, out, _ = run(capsys, monkeypatch, "interview", path, answers=answers)
    assert code == 0
    doc = yaml.safe_load(path.read_text())
    assert doc["program"] == {"name": "Riverside Recovery Court Peers", "state": "OH", "funding": ["state"]}
    assert [p["title"] for p in doc["peers"]] == ["Peer Recovery Specialist", "Peer Mentor"]
    options = Evaluator(ruleset, make_engine("interpreter", ruleset)).questions.by_template["/peers/{i}/duties"].answer.options
    assert doc["peers"][0]["duties"] == [options[1].value, options[23].value]  # answered "2,24"
    assert doc["dont_know"] == ["/peers/1/duties"]
    assert doc["policies"] == {"relapse_shared_without_consent": False}
    assert doc["hiring"] == {"interview_asks_diagnosis": False}
    Profile.model_validate(doc)  # a valid profile already
    # plain words, why we ask, progress; the worst questions first
    assert "What is the program called?" in out and "Which state does the program operate in?" in out
    assert "Why we ask: it decides" in out and "questions left for a complete review" in out
    assert "Peer 1 › Duties" in out and "Peer 2 › Duties" in out
    assert "Review so far:" in out and "/peers/" not in out.split("Saved to")[0].replace("/peers/1/duties", "")
    assert max(len(line) for line in out.splitlines()) <= 80


def test_questions_come_in_the_question_engines_order(capsys, monkeypatch, tmp_path, ruleset):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"program": {"name": "X", "state": "OH"}, "peers": [{"title": "Peer"}]}))
    evaluator = Evaluator(ruleset, make_engine("interpreter", ruleset))
    expected = Interview(evaluator).next(json.loads(path.read_text()), limit=1).questions[0]
    code, out, _ = run(capsys, monkeypatch, "interview", path, "--limit", "1", answers=["?"])
    assert code == 0
    assert expected.text in out
    doc = json.loads(path.read_text())
    assert doc["dont_know"] == [expected.pointer] and doc["schema_version"]


def test_bad_answers_are_asked_again_and_required_ones_cannot_be_dont_know(capsys, monkeypatch, tmp_path):
    path = tmp_path / "p.yml"
    code, out, _ = run(capsys, monkeypatch, "interview", path, "--limit", "2",
                       answers=["?", "Name", "Ohiio", "XX", "oh"])
    assert code == 0
    assert "PeerCheck needs this for any review" in out
    assert "Did you mean OH (Ohio)" in " ".join(out.split())
    assert yaml.safe_load(path.read_text())["program"] == {"name": "Name", "state": "OH"}


def test_an_interview_resumes_and_skips(capsys, monkeypatch, tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(variant({"/policies/consent_protocol": None, "/policies/safety_protocol": None,
                                        "/hiring/interview_asks_diagnosis": None})))
    before = json.loads(path.read_text())
    code, out, _ = run(capsys, monkeypatch, "interview", path, "--limit", "1", answers=["s", "y"])
    assert code == 0
    after = json.loads(path.read_text())
    answered = [(section, key) for section in ("policies", "hiring") for key in after[section]
                if key not in before[section]]
    assert len(answered) == 1 and after[answered[0][0]][answered[0][1]] is True  # the second question, yes
    Profile.model_validate(after)


def test_end_of_input_saves_what_was_answered(capsys, monkeypatch, tmp_path):
    path = tmp_path / "p.json"
    code, out, _ = run(capsys, monkeypatch, "interview", path, answers=["Only a name"])
    assert code == 0 and "Stopped." in out and "not complete yet" in out
    assert json.loads(path.read_text())["program"] == {"name": "Only a name"}


def test_an_unreadable_file_is_not_overwritten(capsys, monkeypatch, tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("program:\n  name: A\n  name: B\n")
    code, _, err = run(capsys, monkeypatch, "interview", path, answers=[])
    assert code == 2 and "twice" in err
    assert path.read_text() == "program:\n  name: A\n  name: B\n"


# ---------------------------------------------------------------- init


def test_init_writes_a_starter_yaml_with_every_question(capsys, monkeypatch, tmp_path, ruleset):
    path = tmp_path / "starter.yaml"
    code, out, _ = run(capsys, monkeypatch, "init", path, "--state", "Ohio", "--peers", "2", "--name", "Riverside")
    assert code == 0 and "peercheck interview" in out
    text = path.read_text()
    doc = yaml.safe_load(text)
    assert doc["program"] == {"name": "Riverside", "state": "OH"} and len(doc["peers"]) == 2
    assert [p["title"] for p in doc["peers"]] == [None, None]  # asked, never a placeholder taken as an answer
    for peer in doc["peers"]:
        peer["title"] = "Peer Recovery Specialist"
    Profile.model_validate(doc)
    evaluator = Evaluator(ruleset, make_engine("interpreter", ruleset))
    for question in evaluator.questions.questions:
        if not question.required:
            assert question.text in text, question.id
    # uncommenting a field and giving its answer gives a valid profile
    edited = text.replace("title: null", "title: Peer Recovery Specialist")
    edited = edited.replace("    # fte:   #", "    fte: 0.5  #", 1).replace("# supervision:", "supervision:", 1)
    edited = edited.replace("#   frequency:   #", "  frequency: monthly  #", 1)
    doc = yaml.safe_load(edited)
    assert doc["peers"][0]["fte"] == 0.5 and doc["supervision"] == {"frequency": "monthly"}
    Profile.model_validate(doc)
    assert run(capsys, monkeypatch, "init", path)[0] == 2  # never overwritten without --force


def test_init_json_and_then_interview(capsys, monkeypatch, tmp_path):
    path = tmp_path / "starter.json"
    assert run(capsys, monkeypatch, "init", path)[0] == 0
    assert json.loads(path.read_text())["program"] == {"name": None, "state": None}
    code, out, _ = run(capsys, monkeypatch, "interview", path, "--limit", "3", answers=["Riverside", "VA", "Peer Navigator"])
    assert code == 0 and out.index("What is the program called") < out.index("Which state") < out.index("job title")
    doc = json.loads(path.read_text())
    assert doc["program"] == {"name": "Riverside", "state": "VA"} and doc["peers"][0]["title"] == "Peer Navigator"


# ---------------------------------------------------------------- compare


def test_compare_lists_what_a_change_resolves_and_adds(capsys, monkeypatch, tmp_path):
    before = tmp_path / "before.json"
    after = tmp_path / "after.yaml"
    before.write_text(json.dumps(variant({"/peers/1/active_caseload": 25, "/program/referral_pathways": ["court_ordered"]})))
    after.write_text(yaml.safe_dump(variant({"/peers/1/active_caseload": 12, "/peers/0/other_roles": ["van_driver"]})))
    code, out, _ = run(capsys, monkeypatch, "compare", before, after)
    assert code == 0
    assert out.index("NEW (") < out.index("RESOLVED (") < out.index("REMAINING (")
    assert "Peer used as a substitute for another role" in out.split("RESOLVED (")[0]
    assert "Caseload per full-time peer well above" in out.split("RESOLVED (")[1].split("REMAINING (")[0]
    assert max(len(line) for line in out.splitlines()) <= 80
    code, out, _ = run(capsys, monkeypatch, "compare", before, after, "--format", "json")
    body = json.loads(out)
    assert {f["rule_id"] for f in body["new"]} >= {"PC-ROLE-004"}
    assert {f["rule_id"] for f in body["resolved"]} >= {"PC-CASELOAD-002", "PC-VOLUNTARY-001"}
    assert run(capsys, monkeypatch, "compare", before, after, "--fail-on", "high")[0] == 1  # the change adds a high
    assert run(capsys, monkeypatch, "compare", after, before, "--fail-on", "critical")[0] == 0


def test_compare_marks_an_acknowledged_finding_instead_of_listing_it_as_a_new_risk(capsys, monkeypatch, tmp_path):
    before = tmp_path / "before.json"
    after = tmp_path / "after.json"
    before.write_text(json.dumps(variant({})))
    after.write_text(json.dumps(variant({"/program/referral_pathways": ["court_ordered"],
                                         "/acknowledged": [{"rule_id": "PC-VOLUNTARY-001", "reason": "By statute."}]})))
    code, out, _ = run(capsys, monkeypatch, "compare", before, after, "--fail-on", "critical")
    assert code == 0  # an acknowledged finding makes nothing worse
    new = out.split("NEW (")[1].split("RESOLVED (")[0]
    assert new.startswith("1, 1 of them acknowledged)")
    assert "Peer support services are mandated — Program · acknowledged by the program" in " ".join(new.split())
    assert "1 acknowledged" in out.split("NEW (")[0]  # the After line counts it apart from the open ones


def test_compare_agrees_with_the_api(client, capsys, monkeypatch, tmp_path):
    data_before = variant({"/peers/1/active_caseload": 25})
    data_after = variant({"/peers/1/active_caseload": 12})
    (tmp_path / "b.json").write_text(json.dumps(data_before))
    (tmp_path / "a.json").write_text(json.dumps(data_after))
    _, out, _ = run(capsys, monkeypatch, "compare", tmp_path / "b.json", tmp_path / "a.json", "--format", "json")
    cli = json.loads(out)
    api = client.post("/v1/evaluations:compare", json={"before": data_before, "after": data_after}).json()
    for part in ("resolved", "remaining", "new"):
        assert [f["finding_id"] for f in cli[part]] == [f["finding_id"] for f in api[part]]


def test_every_output_counts_open_questions_the_same_way(capsys, monkeypatch, tmp_path, ruleset):
    """The page's progress, the CLI, the report and the interview count the questions still to
    answer alike, and the "don't know" answers apart from them."""
    from engine.validation import profile_from_document
    from report import render

    doc = {"schema_version": "1.2", "program": {"name": "x", "state": "OH", "funding": ["medicaid"]},
           "peers": [{"title": "a", "fte": 1}], "dont_know": ["/program/host_agency", "/peers/0/duties"]}
    path = tmp_path / "draft.json"
    path.write_text(json.dumps(doc))
    evaluator = Evaluator(ruleset, make_engine("interpreter", ruleset))
    progress = Interview(evaluator).next(doc, limit=1).progress
    assert progress.dont_know == 2
    expected = f"{progress.remaining} questions to answer, 2 answered “don't know”"
    _, out, _ = run(capsys, monkeypatch, "evaluate", path)
    assert expected in " ".join(out.split())
    profile = profile_from_document(doc).profile
    markdown = render(evaluator.evaluate(profile), ruleset, "markdown", profile=profile)
    assert f"| {progress.remaining} |" in markdown  # the counts table
