"""The report (report/): what a reader sees for a known profile, in HTML, Markdown and SARIF;
escaping of hostile values; input documents (bare profile or fixture wrapper)."""

from __future__ import annotations

import json
import re

import pytest
from markupsafe import escape

from conftest import BASE_PROFILE, variant
from engine import Evaluator, Profile, make_engine
from engine.questions import heading
from report import build, render, render_html, render_markdown, render_sarif
from report.format import value_text
from engine.validation import InvalidDocument, profile_from_document
from engine.validation import read_profile as load_profile
from sarif_shape import assert_sarif_shape

ACK_REASON = "Court orders only offer peer support; refusal carries no sanction (policy 4.2)."
RISKY = {
    "/peers/1/active_caseload": 25,  # 50 per FTE on a half-time position
    "/program/referral_pathways": ["voluntary", "court_ordered"],
    "/peers/1/other_roles": ["van_driver"],
    "/acknowledged": [{"rule_id": "PC-VOLUNTARY-001", "reason": ACK_REASON}],
    "/peers/0/fte": None,  # unknown: some rules need information
}


@pytest.fixture(scope="module")
def interpreter(ruleset):
    return Evaluator(ruleset, make_engine("interpreter", ruleset))


@pytest.fixture(scope="module")
def risky(interpreter):
    profile = Profile.model_validate(variant(RISKY))
    return profile, interpreter.evaluate(profile)


def test_the_fixture_has_what_the_report_must_show(risky):
    _, decision = risky
    assert any(f.acknowledged == ACK_REASON for f in decision.findings)
    assert any(f.acknowledged is None for f in decision.findings)
    assert decision.needs_information


def test_html_report_content(risky, ruleset):
    profile, decision = risky
    html = render(decision, ruleset, "html", profile=profile)
    assert html.startswith("<!doctype html>")
    assert escape(profile.program.name) in html
    for finding in decision.findings:
        assert escape(finding.title) in html
        assert escape(finding.message) in html
    for finding in (f for f in decision.findings if f.acknowledged is None):
        assert escape(finding.remediation) in html
        for citation in finding.citations:
            assert escape(citation.quote) in html
            assert escape(citation.section) in html
            assert escape(citation.title) in html
    # evidence in words, never JSON pointers or fact fields
    findings = _section(html, "findings")
    assert "/peers/" not in findings and "/program/" not in findings and "bills_medicaid" not in findings
    assert "Active caseload: <strong>25</strong>" in findings
    assert escape(ACK_REASON) in html
    # needs information as questions in plain words, with why we ask — never as JSON pointers
    assert decision.questions
    for q in decision.questions:
        assert escape(q.text) in html and escape(heading(q)) in html
        assert escape(q.waiting[0].title) in html
    needs = _section(html, "needs-information")
    assert "/peers/" not in needs and "PC-" not in needs
    # footer: ruleset version and decision id
    footer = html[html.index('<footer class="report-foot">'):]
    assert decision.decision_id in footer and decision.ruleset_version in footer
    # the summary first, then the findings worst first, then the five Ps; the chart, the print
    # stylesheet; nothing executable or external
    order = [html.index(f'id="{section}"') for section in ("summary", "findings", "by-five-p", "needs-information")]
    assert order == sorted(order)
    assert "Plan (" in html or "Produce policies (" in html
    assert "<svg" in html and "Open findings by severity" in html
    assert "@media print" in html
    assert "<script" not in html.lower()
    assert not re.search(r'(src|href)="(https?:)?//', html)


def _section(html: str, section_id: str) -> str:
    start = html.index(f'id="{section_id}"')
    return html[start:html.index("</section>", start)]


def _headings(html: str) -> list[tuple[int, str]]:
    from html.parser import HTMLParser

    found: list[tuple[int, str]] = []

    class Headings(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if len(tag) == 2 and tag[0] == "h" and tag[1].isdigit():
                found.append((int(tag[1]), ""))

    Headings().feed(html)
    return found


def assert_no_skipped_heading_levels(levels: list[int]) -> None:
    assert levels and levels[0] == 1, levels[:3]
    for before, after in zip(levels, levels[1:]):
        assert after <= before + 1, f"h{before} followed by h{after}"


def test_html_headings_never_skip_a_level(risky, ruleset, interpreter):
    profile, decision = risky
    for outcomes in (None, interpreter.outcomes(profile)):
        html = render(decision, ruleset, "html", profile=profile, outcomes=outcomes)
        assert_no_skipped_heading_levels([level for level, _ in _headings(html)])


def test_markdown_headings_never_skip_a_level(risky, ruleset):
    profile, decision = risky
    md = render(decision, ruleset, "markdown", profile=profile)
    assert_no_skipped_heading_levels([len(line.split(" ", 1)[0]) for line in md.splitlines() if re.match(r"#+ ", line)])


def test_findings_worst_first_with_a_summary_on_top(risky, ruleset):
    profile, decision = risky
    ctx = build(decision, ruleset, profile)
    severities = [v.finding.severity for g in ctx.by_severity for v in g.findings]
    assert severities == sorted(severities, key=["critical", "high", "medium", "low", "info"].index)
    assert [v.finding.finding_id for g in ctx.by_severity for v in g.findings] == [v.finding.finding_id for v in ctx.open]
    top = ctx.summary.top
    assert top and all(v.finding.severity in ("critical", "high") for v in top)
    assert ctx.summary.questions == ctx.questions[: len(ctx.summary.questions)]
    html = render_html(ctx)
    summary = _section(html, "summary")
    for view in top:
        assert f'href="#{view.anchor}"' in summary and escape(view.finding.title) in summary
    assert escape(ctx.questions[0].question.text) in summary


def test_open_findings_are_grouped_by_five_p_and_category(risky, ruleset):
    profile, decision = risky
    ctx = build(decision, ruleset, profile)
    open_ids = {f.finding_id for f in decision.findings if f.acknowledged is None}
    assert {v.finding.finding_id for g in ctx.by_five_p for v in g.findings} == open_ids
    assert {v.finding.finding_id for g in ctx.by_category for v in g.findings} == open_ids
    assert [v.finding.rule_id for v in ctx.acknowledged] == ["PC-VOLUNTARY-001"]
    assert dict(ctx.chart) == decision.summary.by_severity


def test_chart_bars_are_proportional(risky, ruleset):
    from report.html import CHART_BAR_MAX, chart_bars

    profile, decision = risky
    bars = chart_bars(build(decision, ruleset, profile))
    largest = max(b.count for b in bars)
    assert [b.severity for b in bars] == ["critical", "high", "medium", "low", "info"]
    for bar in bars:
        assert bar.width == pytest.approx(CHART_BAR_MAX * bar.count / largest, abs=0.1)


def test_markdown_report_content(risky, ruleset):
    profile, decision = risky
    md = render(decision, ruleset, "markdown", profile=profile)
    assert md.startswith("# PeerCheck report: ")
    headings = ["## Summary", "## Findings, worst first", "## The same findings by the five Ps", "## Acknowledged risks",
                "## Questions to answer"]
    assert [md.index(h) for h in headings] == sorted(md.index(h) for h in headings)
    assert decision.decision_id in md and decision.ruleset_version in md
    assert "*Reason given:*" in md
    caseload = next(f for f in decision.findings if f.rule_id == "PC-CASELOAD-002")
    assert "Active caseload: **25**" in md and "/peers/1/active_caseload" not in md
    assert caseload.citations[0].quote[:40] in md.replace("\\", "")


def test_hostile_values_are_escaped(interpreter, ruleset):
    hostile = "<script>alert(1)</script>"
    data = variant({"/program/name": hostile, "/peers/1/title": '"><img src=x onerror=alert(2)>',
                    "/peers/1/active_caseload": 25})
    profile = Profile.model_validate(data)
    decision = interpreter.evaluate(profile)
    html = render(decision, ruleset, "html", profile=profile)
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    md = render(decision, ruleset, "markdown", profile=profile)
    assert not re.search(r"(?<!\\)<(script|img)", md), "raw HTML in the Markdown"
    assert r"\<script\>alert(1)\</script\>" in md


def test_a_clean_program_reads_as_such(interpreter, ruleset):
    profile = Profile.model_validate(BASE_PROFILE)
    decision = interpreter.evaluate(profile)
    ctx = build(decision, ruleset, profile)
    html, md = render_html(ctx), render_markdown(ctx)
    if not decision.findings:
        assert "No open findings." in html and "No open findings." in md
    assert decision.decision_id in html


def test_report_without_the_profile(risky, ruleset):
    """The decision alone (e.g. from the decision log) still renders; it just lacks program context."""
    _, decision = risky
    html = render(decision, ruleset, "html")
    assert "Program profile" in html and decision.decision_id in html
    assert "Peer 2 (peer-b)" in html and "Peer peer-b" not in html
    assert "/peers/" not in _section(html, "findings")


def test_explain_adds_the_rules_checked(risky, ruleset, interpreter):
    profile, decision = risky
    outcomes = interpreter.outcomes(profile)
    html = render(decision, ruleset, "html", profile=profile, outcomes=outcomes)
    assert 'id="rules-checked"' in html and ("Not applicable" in html or "Passed" in html)
    md = render(decision, ruleset, "markdown", profile=profile, outcomes=outcomes)
    assert "## Rules checked" in md


def test_sarif(risky, ruleset, interpreter):
    profile, decision = risky
    log = render_sarif(decision, ruleset, artifact="fixtures/example.json", base_pointer="/profile",
                       outcomes=interpreter.outcomes(profile))
    assert_sarif_shape(log)
    json.dumps(log)  # serialisable
    run = log["runs"][0]
    assert len(run["tool"]["driver"]["rules"]) == len(ruleset.rules)
    fails = {r["ruleId"]: r for r in run["results"] if r["kind"] == "fail"}
    assert set(fails) == {f.rule_id for f in decision.findings}
    assert fails["PC-CASELOAD-002"]["level"] == "error"  # high
    assert fails["PC-CASELOAD-002"]["locations"][0]["properties"]["jsonPointer"] == "/profile/peers/1"
    assert fails["PC-CASELOAD-002"]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "fixtures/example.json"
    assert fails["PC-VOLUNTARY-001"]["suppressions"] == [
        {"kind": "inSource", "status": "accepted", "justification": ACK_REASON}]
    assert "suppressions" not in fails["PC-CASELOAD-002"]
    opened = [r for r in run["results"] if r["kind"] == "open"]  # one per question, not per rule and subject
    assert len(opened) == len(decision.questions)
    for result, q in zip(opened, decision.questions):
        assert result["locations"][0]["properties"]["jsonPointer"] == "/profile" + q.pointer
        assert result["ruleId"] == q.waiting[0].rule_id
        assert {w["rule_id"] for w in result["properties"]["waiting"]} == {w.rule_id for w in q.waiting}
    assert {r["kind"] for r in run["results"]} >= {"fail", "open", "pass"}
    assert run["properties"]["decision_id"] == decision.decision_id


@pytest.mark.parametrize("severity,level", [
    ("critical", "error"), ("high", "error"), ("medium", "warning"), ("low", "note"), ("info", "note"),
])
def test_sarif_levels(severity, level):
    from report.sarif import LEVELS

    assert LEVELS[severity] == level


def test_sarif_without_artifact_uses_logical_locations(risky, ruleset):
    _, decision = risky
    log = render_sarif(decision, ruleset)
    assert_sarif_shape(log)
    for result in log["runs"][0]["results"]:
        location = result["locations"][0]
        assert "physicalLocation" not in location and location["logicalLocations"]


# ---------------------------------------------------------------- input documents


def test_bare_profile_and_fixture_wrapper():
    bare = load_profile(json.dumps(BASE_PROFILE))
    assert bare.base_pointer == ""
    wrapped = load_profile(json.dumps({"case": "x", "profile": BASE_PROFILE, "expected": {}}).encode())
    assert wrapped.base_pointer == "/profile" and wrapped.profile == bare.profile


def test_problems_point_into_the_document():
    data = variant({"/peers/0/fte": 2, "/program/colour": "red"})
    with pytest.raises(InvalidDocument) as bare:
        profile_from_document(data)
    assert {p.pointer for p in bare.value.problems} == {"/peers/0/fte", "/program/colour"}
    with pytest.raises(InvalidDocument) as wrapped:
        profile_from_document({"profile": data})
    assert {p.pointer for p in wrapped.value.problems} == {"/profile/peers/0/fte", "/profile/program/colour"}
    assert all("2" != p.detail and "red" not in p.detail for p in wrapped.value.problems)  # values never echoed


@pytest.mark.parametrize("text,expected", [
    ("", "is empty"),
    ("{", "is not valid JSON"),
    ('{"a": 1, "a": 2}', "appears twice"),
    ('{"a": NaN}', "is NaN, which is not a number in JSON"),
    ("[]", "not a JSON object"),
    ('{"profile": 3}', "not a JSON object"),
    (b"\xff\xfe", "not UTF-8"),
])
def test_documents_that_are_not_profiles(text, expected):
    with pytest.raises(InvalidDocument) as exc:
        load_profile(text)
    assert expected in str(exc.value)


@pytest.mark.parametrize("value,text", [
    (None, "unknown"), (True, "true"), (2.0, "2"), (0.5, "0.5"), ([], "none"), (["a", "b"], "a, b"), ("x", "x"),
])
def test_values_read_as_words(value, text):
    assert value_text(value) == text
