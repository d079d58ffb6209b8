"""What the decision log keeps of a decision, and how the decision is read back from it.

An audit record says what was decided, under which rules, about which part of which profile —
and nothing about the people in it:

* kept: decision id, time, ruleset version, engine, profile digest, summary counts; each
  finding's rule id, severity, subject by position (``/peers/3``) and the evidence values that
  are codes, numbers or yes/no facts about the program's design; whether it was acknowledged;
  each needs-information rule with the profile fields it lacks; each open question (its field,
  value, whether the program said "don't know", and the rules waiting on it by id); the kind of
  each engine error; the program's state and number of peers (two message templates name them);
* not kept: the program's name, peer ids and titles, months in recovery (and how far it falls
  short of a state's figure), kinds of lived experience, acknowledgement reasons, engine error
  details — and no text of the ruleset:
  titles, messages, remediation, rationale and citations are the ruleset's, and the rule id with
  the ruleset version reproduces them (``ruleset_texts`` is stored once per version).

``restore`` renders a record back into a decision. With the profile (stored only when the
operator turns profile storage on) the result equals the decision as it was returned; without
it, peers are named by position, withheld values read "(not stored)", and ``Restored.withheld``
says plainly what is missing.

A finding id derives from the caller's peer id when the peer has one, so it is kept only when
the profile is; ``peer_ids`` in the record says which peers had an id (not what it was). An id
that is only a number, ``peer-<n>`` (as the guided form numbers the peers it lists), says nothing
about anyone: ``peer_numbers`` keeps it, so stored decisions of one program can be compared peer
by peer (a finding of the peer now listed first is still the same finding when the first peer was
removed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from pydantic_core import to_json

from engine.catalog import CredentialKind
from engine.evaluate import (
    STATE_NAMES, CitationOut, Decision, NeedsInformation, Subject, _finding_id, _peer_label, _pointers, labelled_lists,
    message_values, state_name, template_names,
)
from engine.jurisdictions import TEMPLATE_NAMES as STATE_TEMPLATE_NAMES
from engine.jurisdictions import template_values as state_template_values
from engine.profile import Peer, Profile
from engine.questions import Ranker, peer_name
from engine.ruleset import Ruleset

RECORD_FORMAT = 2  # 1: the decision as returned, JSON (before audit records)
TEXTS_FORMAT = 1

# Profile fields that name or describe a person (or carry a program's free text). A test checks
# that every free-text field of the profile is listed.
PERSONAL_PROFILE_FIELDS = (
    "/program/name", "/peers/{i}/id", "/peers/{i}/title", "/peers/{i}/months_in_recovery",
    "/peers/{i}/lived_experience", "/acknowledged/{j}/reason",
)

# Fact fields read from those, and how to read each again from a stored profile's peer (and the
# finding's other, stored values). A test checks the list against the fact vocabulary.
PERSONAL_FACTS: dict[str, Callable[[Peer, dict[str, Any]], Any]] = {
    "peer_title": lambda peer, fact: peer.title,
    "months_in_recovery": lambda peer, fact: peer.months_in_recovery,
    "lived_experience": lambda peer, fact: None if peer.lived_experience is None else [x.value for x in peer.lived_experience],
    "lived_experience_count": lambda peer, fact: None if peer.lived_experience is None else len(peer.lived_experience),
    "recovery_months_short": lambda peer, fact: (
        None if peer.months_in_recovery is None or fact.get("state_required_months") is None
        else fact["state_required_months"] - peer.months_in_recovery),
}

NUMBERED_ID = re.compile(r"peer-([1-9][0-9]{0,5})")  # a peer id that is only a number: not personal
NOT_STORED = "(not stored)"
ACKNOWLEDGED_WITHOUT_REASON = "Acknowledged by the program; the reason is not kept in the decision log."
LEGACY_TEXT = "(not stored: this decision was recorded before messages were kept by reference to the ruleset)"


class _Withheld:
    """A value the decision log does not keep: reads "(not stored)" in any message."""

    def __format__(self, spec: str) -> str:
        return NOT_STORED


WITHHELD = _Withheld()


# ---------------------------------------------------------------- writing


def audit_record(decision: Decision, profile: Profile) -> dict[str, Any]:
    """The record the decision log keeps of ``decision`` (JSON-ready, no personal data)."""
    named = [i for i, peer in enumerate(profile.peers) if peer.id is not None]
    peer_ids: str | list[int] = "all" if len(named) == len(profile.peers) else named or "none"
    numbers = {str(i): int(m.group(1)) for i, peer in enumerate(profile.peers)
               if peer.id is not None and (m := NUMBERED_ID.fullmatch(peer.id))}
    record: dict[str, Any] = {
        "format": RECORD_FORMAT,
        "decision_id": decision.decision_id,
        "evaluated_at": decision.evaluated_at.isoformat(),
        "ruleset_version": decision.ruleset_version,
        "engine": decision.engine,
        "profile_digest": decision.profile_digest,
        "summary": decision.summary.model_dump(mode="json"),
        "context": {"state": profile.program.state.value, "peer_count": len(profile.peers), "peer_ids": peer_ids,
                    **({"peer_numbers": numbers} if numbers else {})},
        "findings": [],
        "needs_information": [],
        "engine_errors": [],
    }
    for finding in decision.findings:
        item: dict[str, Any] = {"rule": finding.rule_id, "severity": str(finding.severity)}
        _put_peer(item, finding.subject)
        values = {e.field: e.value for e in finding.evidence if e.value is not None and e.field not in PERSONAL_FACTS}
        if values:
            item["values"] = values
        if finding.acknowledged is not None:
            item["acknowledged"] = True
        record["findings"].append(item)
    record["needs_information"] = [_need_item(need) for need in decision.needs_information]
    for error in decision.engine_errors:
        item = {"rule": error.rule_id}
        _put_peer(item, error.subject)
        item["error"] = error.error.split(":", 1)[0]  # the exception's type; its text may quote a value
        record["engine_errors"].append(item)
    record["questions"] = [_question_item(q) for q in decision.questions]
    return record


def audit_json(decision: Decision, profile: Profile) -> str:
    """``audit_record`` as compact JSON text (pydantic's encoder: a few times the standard
    library's speed on a record of a thousand small values)."""
    return to_json(audit_record(decision, profile)).decode()


def _kept(make: Callable[[Any], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
    """``make``, kept per value for immutable values that decisions share (open questions, needs
    information): records are written, never changed, so their items may be shared too. The value
    is held, so its id is not reused while the entry lives; bounded."""
    kept: dict[int, tuple[Any, dict[str, Any]]] = {}

    def item(value: Any) -> dict[str, Any]:
        found = kept.get(id(value))
        if found is not None and found[0] is value:
            return found[1]
        if len(kept) >= 16384:
            kept.clear()
        made = make(value)
        kept[id(value)] = (value, made)
        return made

    return item


@_kept
def _need_item(need: NeedsInformation) -> dict[str, Any]:
    item: dict[str, Any] = {"rule": need.rule_id}
    _put_peer(item, need.subject)
    item["missing"] = list(need.missing)
    return item


@_kept
def _question_item(question) -> dict[str, Any]:
    """An open question by reference: its field, value and "don't know", and per waiting rule
    [rule id, outcome, settles, peers]; wording and rule titles come back from the catalog and the
    ruleset texts."""
    item: dict[str, Any] = {"at": question.pointer, "value": question.value,
                            "waiting": [[w.rule_id, w.outcome, w.settles, w.peers] for w in question.waiting]}
    if question.dont_know:
        item["dont_know"] = True
    return item


def _put_peer(item: dict[str, Any], subject: Subject) -> None:
    if subject.kind == "peer":
        item["peer"] = subject.peer_index


def ruleset_texts(ruleset: Ruleset) -> dict[str, Any]:
    """Everything of a ruleset version that renders a record into a decision: per rule its
    texts, templates, parameters and evidence fields; activity labels; state names; and what the
    state table says of each researched state, per kind of credential, for the messages that
    quote it."""
    titles = {source_id: info.title for source_id, info in ruleset.sources.info.items()}
    table = ruleset.states
    kinds = [None, *(k.value for k in CredentialKind)]
    return {
        "format": TEXTS_FORMAT,
        "ruleset_version": ruleset.version,
        "rules": {
            rule.id: {
                "title": rule.spec.title, "severity": rule.spec.severity.value, "category": rule.spec.category,
                "five_p": rule.spec.five_p.value, "basis": rule.spec.basis,
                "message": rule.spec.message, "remediation": rule.spec.remediation, "rationale": rule.spec.rationale,
                "params": rule.params, "evidence": list(rule.evidence),
                "citations": [{**c.model_dump(mode="json"), "title": titles[c.source]} for c in rule.spec.citations],
            }
            for rule in ruleset.rules
        },
        "activity_labels": {a.code: a.label for a in ruleset.activities.activities},
        "state_names": {code: state_name(table, code) for code in sorted({*table.states, *table.researched})},
        "state_values": {code: {kind or "": state_template_values(table, code, kind) for kind in kinds}
                         for code in sorted(table.researched)},
    }


def from_legacy(old: dict[str, Any], embed_texts: bool) -> dict[str, Any]:
    """The audit record of a decision stored whole (format 1, the decision as returned). What a
    format-1 row cannot tell — the program's state and number of peers — is left unknown.
    ``embed_texts``: keep the rules' fixed texts (title, rationale, citations…) in the record,
    for a ruleset version whose texts the log does not have; messages, which carried the
    profile's values, are not kept."""
    named = sorted({f["subject"]["peer_index"] for f in [*old.get("findings", ()), *old.get("needs_information", ())]
                    if f["subject"].get("peer_id") is not None})
    record: dict[str, Any] = {
        "format": RECORD_FORMAT,
        **{key: old[key] for key in ("decision_id", "evaluated_at", "ruleset_version", "engine", "profile_digest", "summary")},
        "context": {"state": None, "peer_count": None, "peer_ids": named or "none"},
        "findings": [],
        "needs_information": [],
        "engine_errors": [],
    }
    texts: dict[str, dict[str, Any]] = {}
    for finding in old.get("findings", ()):
        item: dict[str, Any] = {"rule": finding["rule_id"], "severity": finding["severity"]}
        _put_peer_of(item, finding["subject"])
        values = {e["field"]: e["value"] for e in finding["evidence"]
                  if e["value"] is not None and e["field"] not in PERSONAL_FACTS}
        if values:
            item["values"] = values
        if finding.get("acknowledged") is not None:
            item["acknowledged"] = True
        record["findings"].append(item)
        texts[finding["rule_id"]] = {
            **{key: finding[key] for key in ("title", "severity", "category", "five_p", "basis", "rationale", "citations")},
            "message": None, "remediation": None, "params": {}, "evidence": [e["field"] for e in finding["evidence"]],
        }
    for need in old.get("needs_information", ()):
        item = {"rule": need["rule_id"]}
        _put_peer_of(item, need["subject"])
        item["missing"] = need["missing"]
        record["needs_information"].append(item)
        texts.setdefault(need["rule_id"], {"title": need["title"], "severity": need["severity"]})
    for error in old.get("engine_errors", ()):
        item = {"rule": error["rule_id"]}
        _put_peer_of(item, error["subject"])
        item["error"] = str(error["error"]).split(":", 1)[0]
        record["engine_errors"].append(item)
    if embed_texts:
        record["texts"] = texts
    return record


def _put_peer_of(item: dict[str, Any], subject: dict[str, Any]) -> None:
    if subject.get("kind") == "peer":
        item["peer"] = subject["peer_index"]


# ---------------------------------------------------------------- reading back


@dataclass
class Restored:
    """A decision rendered from its record: ``decision`` has the fields of ``Decision`` (a finding
    id is None where it is withheld); ``withheld`` lists, in plain words, what is not shown."""

    decision: dict[str, Any]
    withheld: list[str] = field(default_factory=list)


def restore(record: dict[str, Any], texts: dict[str, Any] | None, profile: Profile | None = None,
            placeholder_ids: bool = False, ranker: Ranker | None = None) -> Restored:
    """Render ``record`` with the ``texts`` of its ruleset version (None: only a record with its
    texts embedded can be rendered; else ``KeyError`` names the rule). ``profile``: the stored
    profile, when there is one (then nothing is withheld). ``placeholder_ids``: give findings
    whose id is withheld an id from their position instead of None (for anchors in a report).
    ``ranker``: the loaded question ranking, which words the open questions (and groups the
    needs information of a record written before questions were kept); without it the
    decision has no ``questions``."""
    context = record["context"]
    peer_ids = context.get("peer_ids", "none")
    had_id = (lambda i: True) if peer_ids == "all" else (lambda i: False) if peer_ids == "none" else set(peer_ids).__contains__
    numbered = {int(i): f"peer-{n}" for i, n in context.get("peer_numbers", {}).items()}  # ids kept: only numbers
    rules = {**(texts or {}).get("rules", {}), **record.get("texts", {})}
    labels = (texts or {}).get("activity_labels", {})
    state_values = (texts or {}).get("state_values", {})
    state = context.get("state")
    name_of_state = ((texts or {}).get("state_names", {}).get(state) or STATE_NAMES.get(state, state)) if state else NOT_STORED
    notes: set[str] = set()

    def subject(peer: int | None) -> Subject:
        if peer is None:
            return Subject(kind="program", pointer="", peer_index=None, peer_id=None)
        peer_id = profile.peers[peer].id if profile is not None else numbered.get(peer)
        return Subject(kind="peer", pointer=f"/peers/{peer}", peer_index=peer, peer_id=peer_id)

    findings = []
    for item in record["findings"]:
        spec = rules[item["rule"]]
        peer = item.get("peer")
        who = subject(peer)
        values = dict(item.get("values", {}))
        fact: dict[str, Any] = {"peer_count": context.get("peer_count"), **values}
        if state is not None:
            fact["state"] = state
        if peer is not None:
            fact["peer_index"] = peer
            for name in PERSONAL_FACTS:
                if profile is not None:
                    value = PERSONAL_FACTS[name](profile.peers[peer], fact)
                    if value is not None:
                        fact[name] = value
                else:
                    fact[name] = WITHHELD
        if peer is None or profile is not None:
            label = _peer_label(fact, who)
        else:
            label = peer_name(peer + 1, numbered.get(peer))
            notes.add("peers")
        evidence = []
        for name in spec["evidence"]:
            value = fact.get(name)
            if value is WITHHELD:
                value = None
                notes.add("values")
            evidence.append({"field": name, "value": value, "pointers": _pointers([name], fact)})
        rendered = {}
        for part in ("message", "remediation"):
            template = spec.get(part)
            if template is None:
                rendered[part] = LEGACY_TEXT
                notes.add("legacy")
                continue
            quoted = (state_values.get(state, {}).get(fact.get("credential_kind") or "", {})
                      if template_names(template) & STATE_TEMPLATE_NAMES else {})
            values_for = message_values(spec.get("params", {}), label, name_of_state, quoted, labelled_lists(template),
                                        labels, fact)
            rendered[part] = template.format_map(values_for)
            if NOT_STORED in rendered[part]:
                notes.add("values")
        acknowledged = None
        if item.get("acknowledged"):
            acknowledged = _reason(profile, item["rule"], who.pointer) if profile is not None else ACKNOWLEDGED_WITHOUT_REASON
            if profile is None:
                notes.add("reasons")
        if profile is not None or peer is None or not had_id(peer) or peer in numbered or placeholder_ids:
            finding_id = _finding_id(item["rule"], who)  # without the peer's id: from its position
        else:
            finding_id = None
        if profile is None and peer is not None and had_id(peer) and peer not in numbered:
            notes.add("finding_ids")
        findings.append({
            "finding_id": finding_id, "rule_id": item["rule"], "title": spec["title"],
            "severity": item.get("severity", spec["severity"]), "category": spec["category"],
            "five_p": spec["five_p"], "basis": spec["basis"], "subject": who.model_dump(),
            "message": rendered["message"], "evidence": evidence, "remediation": rendered["remediation"],
            "rationale": spec["rationale"], "citations": [CitationOut(**c).model_dump() for c in spec["citations"]],
            "acknowledged": acknowledged,
        })
    needs = [
        {"rule_id": item["rule"], "title": rules[item["rule"]]["title"], "severity": rules[item["rule"]]["severity"],
         "subject": subject(item.get("peer")).model_dump(), "missing": item["missing"]}
        for item in record["needs_information"]
    ]
    errors = []
    for item in record["engine_errors"]:
        errors.append({"rule_id": item["rule"], "subject": subject(item.get("peer")).model_dump(), "error": item["error"]})
        notes.add("errors")
    decision = {
        "decision_id": record["decision_id"], "evaluated_at": datetime.fromisoformat(record["evaluated_at"]),
        "ruleset_version": record["ruleset_version"], "engine": record["engine"],
        "profile_digest": record["profile_digest"], "summary": record["summary"],
        "findings": findings, "needs_information": needs, "engine_errors": errors,
    }
    if ranker is not None:
        peer_ids = ([p.id for p in profile.peers] if profile is not None
                    else [numbered.get(i) for i in range(max(numbered) + 1)] if numbered else [])
        if "questions" in record:
            decision["questions"] = [_question(item, rules, ranker, peer_ids) for item in record["questions"]]
        else:  # written before questions were kept: grouped again from the needs information
            decision["questions"] = [q.model_dump() for q in ranker.rank(
                [NeedsInformation.model_validate(n) for n in needs], (), None, peer_ids)]
    return Restored(decision, _withheld(notes, profile is not None))


def _question(item: dict[str, Any], rules: dict[str, Any], ranker: Ranker, peer_ids: list[str | None]) -> dict[str, Any]:
    located = ranker.catalog.locate(item["at"])
    peer = None if located is None else located[1]
    q = None if located is None else located[0]
    return {
        "question_id": q.id if q else item["at"], "pointer": item["at"],
        "peer": None if peer is None else peer + 1,
        "peer_id": peer_ids[peer] if peer is not None and peer < len(peer_ids) else None,
        "section": q.section if q else "program", "label": q.label if q else item["at"],
        "text": q.text if q else item["at"], "answer_type": q.answer.type if q else "text",
        "dont_know": item.get("dont_know", False), "value": item["value"],
        "waiting": [{"rule_id": rule_id, "title": rules[rule_id]["title"], "severity": rules[rule_id]["severity"],
                     "outcome": outcome, "settles": settles, "peers": peers}
                    for rule_id, outcome, settles, peers in item["waiting"]],
    }


def _reason(profile: Profile, rule_id: str, pointer: str) -> str | None:
    """The acknowledgement reason the evaluation would have attached (the first that matches)."""
    for ack in profile.acknowledged or ():
        if ack.rule_id == rule_id and (ack.subject is None or ack.subject == pointer):
            return ack.reason
    return None


_NOTES = {
    "peers": "Peers' job titles, and your own ids for them unless an id is only a number (peer-2): peers are "
             "named by their place in the profile (Peer 1 is the first peer listed).",
    "finding_ids": "The ids of findings about peers that had an id of your own: each is made from that id, which "
                   "is not kept, so these findings have none here.",
    "values": "Time in recovery and kinds of lived experience: where a message would give them, it reads "
              "\"(not stored)\".",
    "reasons": "Acknowledgement reasons: an acknowledged finding says only that the program acknowledged it.",
    "errors": "Engine error details: only the kind of error is kept.",
    "legacy": "Messages and remediation of decisions recorded before the log kept them by reference to the ruleset.",
}


def _withheld(notes: set[str], with_profile: bool) -> list[str]:
    out = [] if with_profile else ["The profile itself: this server does not keep profiles, only a fingerprint of each that "
                                       "tells whether two evaluations were of the same profile."]
    return out + [text for key, text in _NOTES.items() if key in notes]
