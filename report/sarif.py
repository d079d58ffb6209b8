"""The decision as a SARIF 2.1.0 log, so code-scanning tools and grant-portal pipelines can
show PeerCheck's findings next to other checks.

Mapping:

* the tool is ``PeerCheck``; its rules are the whole ruleset (id, short description = title,
  full description = rationale, help = remediation, default level, PeerCheck's own metadata in
  ``properties``). No ``helpUri``/``informationUri``: PeerCheck has no public pages to point at.
* a finding is a result of kind ``fail`` with ``level`` from its severity (critical/high →
  error, medium → warning, low/info → note); an acknowledged finding carries an ``inSource``
  suppression whose justification is the program's reason.
* a question the profile leaves open is one result of kind ``open`` (SARIF: "insufficient
  information") with level ``none``, however many rules wait on it: its ``ruleId`` is the most
  severe of them, all of them are in ``properties.waiting``, and its location is the field to fill
  in — so the open questions never outnumber, or drown, the findings. With ``outcomes``, passed and
  not-applicable rules are added as kinds ``pass`` / ``notApplicable``.
* locations: the profile file (when known) as the physical artifact, with a ``region`` whose
  ``startLine`` is the line of the field the result is about (a finding: its first evidence field
  in the file; a question: the field to fill in, or the object it belongs in when the field is not
  in the file yet) when the caller gives the file's ``positions`` (``engine.yamltext.lines``, for
  JSON and YAML files alike); the subject as a logical location; JSON pointers (relative to the
  file) in ``properties``.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any, Sequence
from urllib.parse import quote

from engine import Decision, Ruleset
from engine.evaluate import RuleOutcome, Subject, general_text
from engine.questions import heading, why
from engine.yamltext import line_of

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
OUTCOME_KINDS = {"passed": "pass", "not_applicable": "notApplicable"}


def tool_version() -> str:
    try:
        return metadata.version("peercheck")
    except metadata.PackageNotFoundError:  # running from a checkout without an install
        return "0.0.0"


def artifact_uri(path: str | Path) -> str:
    """A SARIF artifact URI for a file: relative paths stay relative (as code scanning expects),
    absolute ones become ``file://`` URIs."""
    p = Path(path)
    if p.is_absolute():
        return p.as_uri()
    return quote(p.as_posix(), safe="/")


def render_sarif(decision: Decision, ruleset: Ruleset, *, artifact: str | None = None, base_pointer: str = "",
                 outcomes: Sequence[RuleOutcome] | None = None, positions: dict[str, int] | None = None) -> dict[str, Any]:
    """The SARIF log as a dict (``json.dumps`` it). ``artifact`` is the profile file's URI;
    ``base_pointer`` is where the profile sits in that file (``/profile`` in a fixture wrapper);
    ``positions`` maps the file's JSON pointers to lines (``engine.yamltext.lines``), for regions."""
    index = {rule.id: i for i, rule in enumerate(ruleset.rules)}
    results: list[dict[str, Any]] = []
    for f in decision.findings:
        evidence = [base_pointer + p for e in f.evidence for p in e.pointers]
        result = _result(f.rule_id, index, "fail", LEVELS[f.severity], f.message, f.subject, artifact, base_pointer,
                         evidence, _line(positions, _placed(f, ruleset, base_pointer), base_pointer + f.subject.pointer))
        result["partialFingerprints"] = {"peercheckFindingId/v1": f.finding_id}
        result["properties"] = {
            "severity": f.severity, "category": f.category, "five_p": f.five_p, "basis": f.basis,
            "remediation": f.remediation,
            "evidence": [e.model_dump(mode="json") for e in f.evidence],
            "citations": [c.model_dump(mode="json") for c in f.citations],
        }
        if f.acknowledged is not None:
            result["suppressions"] = [{"kind": "inSource", "status": "accepted", "justification": f.acknowledged}]
        results.append(result)
    for q in decision.questions:
        said = " You said you don't know." if q.dont_know else ""
        text = f"Needs information — {heading(q)}: {q.text}{said} Why we ask: {why(q)}."
        subject = (Subject(kind="program", pointer="") if q.peer is None
                   else Subject(kind="peer", pointer=f"/peers/{q.peer - 1}", peer_index=q.peer - 1, peer_id=q.peer_id))
        result = _result(q.waiting[0].rule_id, index, "open", "none", text, subject, artifact, base_pointer,
                         [base_pointer + q.pointer], _line(positions, [base_pointer + q.pointer], base_pointer))
        result["locations"][0]["properties"]["jsonPointer"] = base_pointer + q.pointer
        result["properties"] = {
            "question_id": q.question_id, "pointer": base_pointer + q.pointer, "dont_know": q.dont_know,
            "value": q.value, "waiting": [w.model_dump(mode="json", exclude_none=True) for w in q.waiting],
        }
        results.append(result)
    for o in outcomes or ():
        if o.outcome in OUTCOME_KINDS:
            rule = ruleset.rule(o.rule_id)
            verb = "Passed" if o.outcome == "passed" else "Not applicable"
            title = rule.spec.title if rule else o.rule_id
            results.append(_result(o.rule_id, index, OUTCOME_KINDS[o.outcome], "none", f"{verb}: {title}.",
                                   o.subject, artifact, base_pointer, [],
                                   _line(positions, [], base_pointer + o.subject.pointer)))

    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": "PeerCheck",
            "version": tool_version(),
            "rules": [_descriptor(rule) for rule in ruleset.rules],
            "properties": {"ruleset_version": ruleset.version},
        }},
        "invocations": [{"executionSuccessful": True}],
        "results": results,
        "properties": {
            "decision_id": decision.decision_id,
            "ruleset_version": decision.ruleset_version,
            "engine": decision.engine,
            "profile_digest": decision.profile_digest,
            "evaluated_at": decision.evaluated_at.isoformat(),
            "summary": decision.summary.model_dump(mode="json"),
        },
    }
    if artifact is not None:
        run["artifacts"] = [{"location": {"uri": artifact}, "roles": ["analysisTarget"]}]
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def _descriptor(rule) -> dict[str, Any]:
    spec = rule.spec
    return {
        "id": spec.id,
        "shortDescription": {"text": spec.title},
        "fullDescription": {"text": spec.rationale},
        "help": {"text": general_text(spec.remediation, rule.params)},
        "defaultConfiguration": {"level": LEVELS[spec.severity]},
        "properties": {
            "severity": spec.severity.value, "severity_class": spec.severity_class.value, "category": spec.category,
            "five_p": spec.five_p.value, "scope": spec.scope, "basis": spec.basis, "confidence": spec.confidence,
            "tags": list(dict.fromkeys([spec.category, spec.five_p.value])),
        },
    }


def _placed(finding, ruleset: Ruleset, base_pointer: str) -> list[str]:
    """The evidence pointers to place a finding by: those of the fields its condition reads before
    those that only decide whether the rule applies (a caseload finding sits on the caseload, not
    on the duties that make the caseload rule apply)."""
    rule = ruleset.rule(finding.rule_id)
    applies = set(rule.applies_required) if rule is not None else set()
    ordered = sorted(finding.evidence, key=lambda e: e.field in applies)
    return [base_pointer + p for e in ordered for p in e.pointers]


def _line(positions: dict[str, int] | None, pointers: list[str], fallback: str) -> int | None:
    """The line of the first pointer present in the file, else of the fallback (or its nearest ancestor)."""
    if not positions:
        return None
    for pointer in pointers:
        if pointer in positions:
            return positions[pointer]
    return line_of(positions, pointers[0] if pointers else fallback)


def _result(rule_id: str, index: dict[str, int], kind: str, level: str, text: str, subject: Subject,
            artifact: str | None, base_pointer: str, pointers: list[str], line: int | None = None) -> dict[str, Any]:
    pointer = base_pointer + subject.pointer
    logical: dict[str, Any] = {"kind": "object"}
    if subject.kind == "peer":
        logical["name"] = subject.peer_id or f"peers/{subject.peer_index}"
    else:
        logical["name"] = "program"
    if pointer:
        logical["fullyQualifiedName"] = pointer
    location: dict[str, Any] = {
        "logicalLocations": [logical],
        "properties": {"jsonPointer": pointer, "evidencePointers": list(dict.fromkeys(pointers))},
    }
    if artifact is not None:
        location["physicalLocation"] = {"artifactLocation": {"uri": artifact, "index": 0}}
        if line is not None:
            location["physicalLocation"]["region"] = {"startLine": line}
    result: dict[str, Any] = {"ruleId": rule_id, "kind": kind, "level": level, "message": {"text": text},
                              "locations": [location]}
    if rule_id in index:
        result["ruleIndex"] = index[rule_id]
    return result
