"""The ``peercheck`` command line: every output format, exit codes, validate, batch, rules, serve."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from cli import service
from cli.main import main
from conftest import BASE_PROFILE, FIXTURES, require_engine, variant
from engine import Evaluator, Profile, make_engine
from sarif_shape import assert_sarif_shape

ACK = "Court orders only offer peer support; refusal carries no sanction."
RISKY = variant({
    "/program/name": "Risky County [bold]Peer[/bold] Program",  # rich markup must print as typed
    "/peers/1/active_caseload": 25,
    "/program/referral_pathways": ["voluntary", "court_ordered"],
    "/acknowledged": [{"rule_id": "PC-VOLUNTARY-001", "reason": ACK}],
})


# Loading the ruleset takes a moment; the CLI does it once per process, the tests once per engine.
_build_once = functools.lru_cache(maxsize=None)(service.build_evaluator)


@pytest.fixture(autouse=True)
def wide_terminal_and_one_ruleset(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr(service, "build_evaluator", _build_once)


@pytest.fixture(scope="module")
def expected(ruleset):
    """The decision the CLI should reach for RISKY."""
    return Evaluator(ruleset, make_engine("interpreter", ruleset)).evaluate(Profile.model_validate(RISKY))


@pytest.fixture
def risky_file(tmp_path) -> Path:
    path = tmp_path / "risky.json"
    path.write_text(json.dumps(RISKY))
    return path


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------- evaluate


def test_table(capsys, risky_file, expected):
    code, out, _ = run(capsys, "evaluate", risky_file)
    assert code == 0  # no --fail-on: findings alone never fail
    assert "Risky County [bold]Peer[/bold] Program" in out
    assert "HIGH (" in out and "ACKNOWLEDGED (1)" in out
    for finding in expected.findings:
        assert finding.title in out
    assert "Evidence" in out and "Active caseload: 25" in out and "/peers/1/active_caseload" not in out
    assert "What to do" in out
    caseload = next(f for f in expected.findings if f.rule_id == "PC-CASELOAD-002")
    assert caseload.citations[0].quote[:50] not in out  # passages with --explain; the source by document and section
    assert caseload.citations[0].section in out
    assert ACK in out
    assert f"ruleset {expected.ruleset_version}" in out


def test_table_explain(capsys, risky_file, expected):
    code, out, _ = run(capsys, "evaluate", risky_file, "--explain")
    assert code == 0
    assert "RULES CHECKED" in out and "Not applicable" in out and "Why" in out
    caseload = next(f for f in expected.findings if f.rule_id == "PC-CASELOAD-002")
    assert caseload.citations[0].quote[:50] in out


def _words(text: str) -> str:
    """The text's words in order, table borders left out (a wrapped cell reads as one run)."""
    return " ".join(text.translate(str.maketrans("", "", "│┃")).split())


def test_table_reads_at_80_columns_worst_first(capsys, monkeypatch, ruleset):
    """One finding per block, nothing cut or squeezed to nothing: every line fits, every title and
    message is there in full (wrapped), the worst first; only the top questions."""
    from report.context import build

    monkeypatch.setenv("COLUMNS", "80")
    path = sorted((FIXTURES / "programs").glob("*.json"))[0]  # many open questions
    code, out, _ = run(capsys, "evaluate", path)
    assert code == 0
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "…" not in out and not any(line.strip() in ("│", "┃") for line in lines)
    evaluator = Evaluator(ruleset, make_engine("interpreter", ruleset))
    profile = Profile.model_validate(json.loads(path.read_text())["profile"])
    ctx = build(evaluator.evaluate(profile), ruleset, profile)
    flat = _words(out)
    for view in ctx.open:
        assert _words(view.finding.title) in flat and _words(view.finding.message) in flat
    assert len(ctx.questions) > 5
    shown = [q for q in ctx.questions if f"{q.heading}" in flat]
    assert 1 <= len(shown) <= 6 and _words(ctx.questions[0].question.text) in flat  # the top ones, not a dump
    assert f"And {len(ctx.questions) - 5} more questions" in flat


def test_many_findings_at_80_columns(capsys, monkeypatch, tmp_path, ruleset):
    from many_findings import many_findings_profile

    monkeypatch.setenv("COLUMNS", "80")
    evaluator = Evaluator(ruleset, make_engine("interpreter", ruleset))
    data = many_findings_profile(evaluator)
    path = tmp_path / "many.json"
    path.write_text(json.dumps(data))
    code, out, _ = run(capsys, "evaluate", path)
    lines = out.splitlines()
    assert code == 0 and max(len(line) for line in lines) <= 80
    decision = evaluator.evaluate(Profile.model_validate(data))
    order = [out.index(f"{label} (") for label in ("CRITICAL", "HIGH", "MEDIUM", "LOW")]
    assert order == sorted(order)
    flat = _words(out)
    positions = [flat.index(_words(f.title)) for f in decision.findings]
    assert positions == sorted(positions)  # in the decision's order: worst first


def test_json(capsys, risky_file, expected):
    code, out, _ = run(capsys, "evaluate", risky_file, "--format", "json")
    body = json.loads(out)
    assert code == 0
    assert body["ruleset_version"] == expected.ruleset_version
    assert body["summary"] == expected.summary.model_dump(mode="json")
    assert {f["rule_id"] for f in body["findings"]} == {f.rule_id for f in expected.findings}
    assert "outcomes" not in body
    _, out, _ = run(capsys, "evaluate", risky_file, "--format", "json", "--explain")
    assert json.loads(out)["outcomes"]


def test_markdown(capsys, risky_file, expected):
    code, out, _ = run(capsys, "evaluate", risky_file, "--format", "markdown")
    assert code == 0
    assert out.startswith("# PeerCheck report: Risky County \\[bold\\]Peer\\[/bold\\] Program")
    assert "## Findings, worst first" in out and "## The same findings by the five Ps" in out and "## Acknowledged risks" in out
    assert "Ruleset version" in out


def test_html(capsys, risky_file, expected):
    code, out, _ = run(capsys, "evaluate", risky_file, "--format", "html")
    assert code == 0
    assert out.startswith("<!doctype html>") and "</html>" in out
    assert "Risky County [bold]Peer[/bold] Program" in out
    assert "<svg" in out and "@media print" in out


def test_sarif(capsys, risky_file, expected, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "evaluate", "risky.json", "--format", "sarif")
    log = json.loads(out)
    assert code == 0
    assert_sarif_shape(log)
    results = log["runs"][0]["results"]
    fails = [r for r in results if r["kind"] == "fail"]
    assert {r["ruleId"] for r in fails} == {f.rule_id for f in expected.findings}
    location = fails[0]["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "risky.json"
    assert location["properties"]["jsonPointer"] in ("", "/peers/0", "/peers/1")
    assert log["runs"][0]["artifacts"][0]["location"]["uri"] == "risky.json"


def test_sarif_pointers_into_a_fixture_wrapper(capsys, tmp_path, expected):
    path = tmp_path / "case.json"
    path.write_text(json.dumps({"case": "a case study", "profile": RISKY}))
    code, out, _ = run(capsys, "evaluate", path, "--format", "sarif")
    log = json.loads(out)
    assert_sarif_shape(log)
    assert log["runs"][0]["artifacts"][0]["location"]["uri"] == path.as_uri()
    pointers = {r["locations"][0]["properties"]["jsonPointer"] for r in log["runs"][0]["results"]}
    assert pointers and all(p.startswith("/profile") for p in pointers)


def test_program_fixture_files_are_accepted(capsys):
    path = sorted((FIXTURES / "programs").glob("*.json"))[0]
    code, out, _ = run(capsys, "evaluate", path, "--format", "json")
    assert code in (0, 1) and json.loads(out)["decision_id"]


@pytest.mark.parametrize("fmt", ["table", "json", "markdown", "html", "sarif"])
def test_output_file(capsys, risky_file, tmp_path, fmt):
    target = tmp_path / f"report.{fmt}"
    code, out, err = run(capsys, "evaluate", risky_file, "--format", fmt, "--output", target)
    assert code == 0 and out == ""
    assert f"wrote {fmt} to {target}" in err
    text = target.read_text(encoding="utf-8")
    assert "PC-CASELOAD-002" in text
    assert "\x1b[" not in text  # no terminal colour codes in files


def test_fail_on(capsys, risky_file, expected):
    open_severities = {f.severity for f in expected.findings if f.acknowledged is None}
    assert "high" in open_severities
    assert run(capsys, "evaluate", risky_file, "--fail-on", "high")[0] == 1
    assert run(capsys, "evaluate", risky_file, "--fail-on", "info")[0] == 1
    expected_critical = 1 if "critical" in open_severities else 0
    assert run(capsys, "evaluate", risky_file, "--fail-on", "critical")[0] == expected_critical
    assert run(capsys, "evaluate", risky_file, "--fail-on", "high", "--format", "sarif")[0] == 1


def test_fail_on_ignores_acknowledged_findings(capsys, tmp_path, ruleset):
    """A program that acknowledged its only high finding does not fail the pipeline on it."""
    data = variant({"/program/referral_pathways": ["court_ordered"]})
    decision = Evaluator(ruleset, make_engine("interpreter", ruleset)).evaluate(Profile.model_validate(data))
    data["acknowledged"] = [{"rule_id": f.rule_id, "reason": "reviewed with the court"} for f in decision.findings]
    path = tmp_path / "acked.json"
    path.write_text(json.dumps(data))
    assert run(capsys, "evaluate", path, "--fail-on", "info")[0] == 0


def test_invalid_profile_exits_2_naming_fields(capsys, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(variant({"/peers/0/fte": 2, "/program/state": "ZZ", "/program/colour": "red"})))
    code, out, err = run(capsys, "evaluate", path)
    assert code == 2 and out == ""
    for pointer in ("/peers/0/fte", "/program/state", "/program/colour"):
        assert pointer in err
    assert "red" not in err.replace("rendered", "")  # the value is not echoed


@pytest.mark.parametrize("content,expected", [
    ("{", "is not valid JSON"),
    ('{"schema_version": "1.1", "schema_version": "1.1"}', "appears twice"),
    ("[1, 2]", "is not a JSON object"),
])
def test_broken_documents_exit_2(capsys, tmp_path, content, expected):
    path = tmp_path / "broken.json"
    path.write_text(content)
    code, _, err = run(capsys, "evaluate", path)
    assert code == 2 and expected in err


def test_unknown_acknowledged_rule_exits_2(capsys, tmp_path):
    path = tmp_path / "ack.json"
    path.write_text(json.dumps(variant({"/acknowledged": [{"rule_id": "PC-NOPE-001", "reason": "typo"}]})))
    code, _, err = run(capsys, "evaluate", path)
    assert code == 2 and "/acknowledged/0/rule_id" in err


def test_missing_file_exits_2(capsys, tmp_path):
    code, _, err = run(capsys, "evaluate", tmp_path / "nope.json")
    assert code == 2 and "cannot be read" in err


def test_durable_rules_engine_gives_the_same_findings(capsys, risky_file):
    require_engine("durable_rules")
    _, a, _ = run(capsys, "evaluate", risky_file, "--format", "json")
    _, b, _ = run(capsys, "evaluate", risky_file, "--format", "json", "--engine", "durable_rules")
    a, b = json.loads(a), json.loads(b)
    assert b["engine"] == "durable_rules"
    assert a["findings"] == b["findings"] and a["summary"] == b["summary"]


def test_durable_rules_where_it_cannot_run_says_why_and_exits_3(capsys, risky_file, monkeypatch):
    monkeypatch.setattr(service, "build_evaluator", _build_once.__wrapped__)  # never a cached engine
    monkeypatch.setitem(sys.modules, "durable", None)  # as on Python 3.13, where it does not import
    code, out, err = run(capsys, "evaluate", risky_file, "--engine", "durable_rules")
    assert (code, out) == (3, "")
    assert "durable_rules engine is not available on this Python" in err and "PEERCHECK_ENGINE=interpreter" in err
    assert "Traceback" not in err


# ---------------------------------------------------------------- validate


def test_validate(capsys, risky_file, tmp_path):
    code, out, _ = run(capsys, "validate", risky_file)
    assert code == 0 and "valid profile" in out
    wrapper = tmp_path / "wrapped.json"
    wrapper.write_text(json.dumps({"profile": BASE_PROFILE}))
    code, out, _ = run(capsys, "validate", wrapper)
    assert code == 0 and '"profile" key' in out
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"profile": variant({"/peers/0/fte": 0})}))
    code, out, err = run(capsys, "validate", bad)
    assert code == 2 and "/profile/peers/0/fte" in err


def test_validate_is_schema_only(capsys, tmp_path):
    """An acknowledgement of an unknown rule is a ruleset question, not a schema one."""
    path = tmp_path / "ack.json"
    path.write_text(json.dumps(variant({"/acknowledged": [{"rule_id": "PC-NOPE-001", "reason": "typo"}]})))
    assert run(capsys, "validate", path)[0] == 0


# ---------------------------------------------------------------- batch


def _programs(n: int) -> list[dict]:
    return [variant({"/program/name": f"Program {i}", "/peers/1/active_caseload": 10 + i}) for i in range(n)]


def test_batch_directory(capsys, tmp_path):
    for i, data in enumerate(_programs(3)):
        (tmp_path / f"p{i}.json").write_text(json.dumps(data))
    (tmp_path / "case.json").write_text(json.dumps({"case": "wrapper", "profile": BASE_PROFILE}))
    (tmp_path / "notes.txt").write_text("not a profile")
    code, out, _ = run(capsys, "batch", tmp_path, "--format", "json")
    body = json.loads(out)
    assert code == 0
    assert [item["source"] for item in body["items"]] == ["case.json", "p0.json", "p1.json", "p2.json"]
    assert body["summary"]["items"] == 4 and body["summary"]["evaluated"] == 4
    high = sum(1 for item in body["items"] if item["decision"]["summary"]["by_severity"]["high"])
    code, _, _ = run(capsys, "batch", tmp_path, "--format", "json", "--fail-on", "high")
    assert code == (1 if high else 0)
    code, out, _ = run(capsys, "batch", tmp_path)
    assert code == 0 and "PeerCheck batch" in out and "4 item(s): 4 evaluated" in out


def test_batch_jsonl_with_an_invalid_line(capsys, tmp_path):
    lines = [json.dumps(p) for p in _programs(4)]
    lines.insert(2, json.dumps(variant({"/peers/0/fte": 7})))
    lines.insert(1, "")  # blank lines are skipped
    path = tmp_path / "programs.jsonl"
    path.write_text("\n".join(lines) + "\n")
    code, out, _ = run(capsys, "batch", path, "--format", "json")
    body = json.loads(out)
    assert code == 2  # an invalid item: exit 2, after evaluating every other one
    summary = body["summary"]
    assert summary["items"] == 5 and summary["evaluated"] == 4 and summary["invalid"] == 1
    bad = [item for item in body["items"] if not item["ok"]]
    assert len(bad) == 1 and bad[0]["source"] == "programs.jsonl:4"
    assert bad[0]["problems"] == [{"pointer": "/peers/0/fte", "field": "Peer 1 › Full-time equivalent (FTE)",
                                   "detail": "must be a number from 0.01 to 1", "code": "out_of_range",
                                   "fix": "Give the share of a full-time post, such as 0.5 for half time."}]
    code, out, _ = run(capsys, "batch", path)
    assert code == 2 and "programs.jsonl:4" in out and "/peers/0/fte" in out and "1 invalid" in out


def test_batch_progress_bar_for_large_inputs(capsys, tmp_path):
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(json.dumps(p) for p in _programs(60)) + "\n")
    code, out, err = run(capsys, "batch", path, "--format", "json")
    assert code == 0 and json.loads(out)["summary"]["evaluated"] == 60
    assert "60/60" in err  # the progress bar goes to stderr, so stdout stays JSON


def test_batch_missing_input(capsys, tmp_path):
    assert run(capsys, "batch", tmp_path / "nope")[0] == 2


# ---------------------------------------------------------------- rules, serve, help


def test_rules(capsys, ruleset):
    code, out, _ = run(capsys, "rules")
    assert code == 0 and "PC-CASELOAD-001" in out
    code, out, _ = run(capsys, "rules", "--category", "role", "--format", "json")
    body = json.loads(out)
    assert body["count"] == len([r for r in ruleset.rules if r.spec.category == "role"]) > 0
    assert all(r["category"] == "role" for r in body["rules"]) and body["rules"][0]["citations"]
    code, out, _ = run(capsys, "rules", "--severity", "high", "--format", "json")
    assert {r["severity"] for r in json.loads(out)["rules"]} == {"high"}
    code, _, err = run(capsys, "rules", "--category", "nope")
    assert code == 2 and "caseload" in err


def test_serve_runs_uvicorn(monkeypatch):
    import uvicorn

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    assert main(["serve", "--host", "0.0.0.0", "--port", "9001"]) == 0
    assert calls == [("api.main:app", {"host": "0.0.0.0", "port": 9001})]


def test_help_mentions_fixture_wrappers(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["evaluate", "--help"])
    out = capsys.readouterr().out
    assert exc.value.code == 0 and '"profile" key' in out and "exit codes" in out


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["evaluate", "x.json", "--fail-on", "urgent"])
    assert exc.value.code == 2


def test_console_script_is_installed():
    script = Path(sys.executable).with_name("peercheck")
    if not script.exists():
        pytest.skip("the peercheck console script is not installed: run `make install`")
    result = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "evaluate" in result.stdout


@pytest.mark.parametrize("argv", [["batch", FIXTURES / "programs"], ["rules"]])
def test_batch_and_rules_read_at_80_columns(capsys, monkeypatch, argv):
    """No column squeezed to nothing, no cell cut short: every line fits in 80 columns, every name is whole."""
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run(capsys, *argv)
    assert code in (0, 1)
    assert max(len(line) for line in out.splitlines()) <= 80 and "…" not in out
    flat = _words(out)
    if argv[0] == "batch":
        for path in (FIXTURES / "programs").glob("*.json"):
            assert path.name in flat
        first = flat.index("Needs attention")
        assert first < flat.index("Incomplete")  # worst first
    else:
        from engine import load_ruleset

        for rule in load_ruleset().rules:
            assert rule.id in out and _words(rule.spec.title) in flat


# ---------------------------------------------------------------- YAML profiles, SARIF regions

YAML_PROFILE = """\
# A profile in YAML: comments are allowed.
schema_version: 1.2            # unquoted, read as the version text
program:
  name: Risky County Peer Program
  state: NY
  referral_pathways: [voluntary, court_ordered]
peers:
  - id: peer-a
    title: Peer Recovery Specialist
    fte: 1.0
    active_caseload: 24
  - id: peer-b
    title: Peer Recovery Specialist
    fte: 0.5
    active_caseload: 25        # 50 per full-time peer
    duties: [peer_support_group, employment_search]
"""


def test_a_yaml_profile_is_read_like_json(capsys, tmp_path):
    import yaml

    path = tmp_path / "profile.yaml"
    path.write_text(YAML_PROFILE)
    twin = tmp_path / "profile.json"
    twin.write_text(json.dumps(yaml.safe_load(YAML_PROFILE) | {"schema_version": "1.2"}))
    code, out, _ = run(capsys, "evaluate", path, "--format", "json")
    _, out_json, _ = run(capsys, "evaluate", twin, "--format", "json")
    assert code == 0
    a, b = json.loads(out), json.loads(out_json)
    assert a["findings"] == b["findings"] and a["profile_digest"] == b["profile_digest"]
    assert any(f["rule_id"] == "PC-CASELOAD-002" for f in a["findings"])
    assert run(capsys, "validate", path)[0] == 0
    stdin_yaml = subprocess.run([sys.executable, "-m", "cli.main", "validate", "-"], input=YAML_PROFILE,
                                capture_output=True, text=True, timeout=120)
    assert stdin_yaml.returncode == 0, stdin_yaml.stderr


@pytest.mark.parametrize("content,expected", [
    ("program:\n  name: A\n  name: B\n", "names “name” twice"),
    ("a: &x 1\nb: *x\n", "anchor"),
    ("program: [1, 2\n", "not valid YAML"),
    ("peers:\n  - fte: 012\n", "012"),
    ("a: 1\n---\nb: 2\n", "more than one YAML document"),
])
def test_broken_yaml_exits_2_with_the_line(capsys, tmp_path, content, expected):
    path = tmp_path / "broken.yml"
    path.write_text(content)
    code, out, err = run(capsys, "evaluate", path)
    assert code == 2 and out == "" and expected in err


def test_batch_reads_yaml_files(capsys, tmp_path):
    (tmp_path / "a.yaml").write_text(YAML_PROFILE)
    (tmp_path / "b.json").write_text(json.dumps(BASE_PROFILE))
    code, out, _ = run(capsys, "batch", tmp_path, "--format", "json")
    body = json.loads(out)
    assert [item["source"] for item in body["items"]] == ["a.yaml", "b.json"] and body["summary"]["evaluated"] == 2


@pytest.mark.parametrize("suffix", ["json", "yaml"])
def test_sarif_regions_point_at_the_lines_of_the_file(capsys, tmp_path, monkeypatch, suffix):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / f"profile.{suffix}"
    if suffix == "json":
        import yaml

        path.write_text(json.dumps(yaml.safe_load(YAML_PROFILE) | {"schema_version": "1.2"}, indent="\t"))
    else:
        path.write_text(YAML_PROFILE)
    text = path.read_text().splitlines()
    code, out, _ = run(capsys, "evaluate", path.name, "--format", "sarif")
    log = json.loads(out)
    assert_sarif_shape(log)
    results = log["runs"][0]["results"]
    caseload = next(r for r in results if r["ruleId"] == "PC-CASELOAD-002")
    line = caseload["locations"][0]["physicalLocation"]["region"]["startLine"]
    assert "active_caseload" in text[line - 1] and "25" in text[line - 1]
    voluntary = next(r for r in results if r["ruleId"] == "PC-VOLUNTARY-001")
    assert "referral_pathways" in text[voluntary["locations"][0]["physicalLocation"]["region"]["startLine"] - 1]
    for result in results:  # every result, questions included, is placed in the file
        assert 1 <= result["locations"][0]["physicalLocation"]["region"]["startLine"] <= len(text)


def test_a_bad_setting_is_one_line_naming_the_variable(monkeypatch, capsys):
    monkeypatch.setenv("PEERCHECK_ENGINE", "bogus")
    monkeypatch.setattr(service, "build_evaluator", _build_once.__wrapped__)  # never a cached engine
    assert main(["evaluate", str(FIXTURES / "base.json")]) == 3
    err = " ".join(capsys.readouterr().err.split())
    assert err.startswith("PeerCheck could not start: PEERCHECK_ENGINE='bogus':")
    assert "Use one of: interpreter or durable_rules." in err
    assert "pydantic" not in err and "validation error" not in err
