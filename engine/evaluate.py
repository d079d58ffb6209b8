"""Evaluation: a validated profile in, a decision out.

The engines only say which (rule, fact) pairs matched. Everything a reader sees — outcome,
message, evidence, "needs information" — is decided here, once, for both engines.
"""

from __future__ import annotations

import hashlib
import operator
import string
import uuid
from datetime import datetime, timezone
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from engine.catalog import Citation
from engine.construct import built
from engine.facts import VOCABULARY
from engine.interpreter import compile_report
from engine.jurisdictions import TEMPLATE_NAMES as STATE_TEMPLATE_NAMES
from engine.jurisdictions import template_values
from engine.language import referenced_fields
from engine.profile import Labelled, Profile, USState
from engine.questions.catalog import catalog_for
from engine.questions.draft import value_at
from engine.questions.models import OpenQuestion
from engine.questions.ranking import Ranker, shown_id
from engine.ruleset import LABELLED_LISTS, CompiledRule, Ruleset
from engine.spec import SEVERITY_RANK, FiveP, Severity


class Engine(Protocol):
    name: str

    def match(self, facts: list[dict[str, Any]]) -> tuple[set[tuple[str, int]], dict[tuple[str, int], str]]: ...


# ---------------------------------------------------------------- the decision's shape


class Subject(BaseModel):
    """What a result is about: the program, or one peer."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["program", "peer"]
    pointer: str = Field(description="JSON pointer to the subject in the profile ('' for the program).")
    peer_index: int | None = None
    peer_id: str | None = Field(default=None, description="The caller's id for the peer, if given.")


class EvidenceItem(BaseModel):
    model_config = ConfigDict(frozen=True)  # shared between findings (Evaluator._finding)

    field: str = Field(description="Fact field the rule read.")
    value: Any = Field(description="Its value (null when unknown).")
    pointers: list[str] = Field(description="Profile fields it comes from, as JSON pointers.")


class CitationOut(Citation):
    title: str = Field(description="Title of the cited document.")


class Finding(BaseModel):
    """A flagged risk."""

    finding_id: str = Field(description="Stable id of this rule on this subject: the same input gives the same id.")
    rule_id: str
    title: str
    severity: Severity
    category: str
    five_p: FiveP
    basis: str
    subject: Subject
    message: str
    evidence: list[EvidenceItem]
    remediation: str
    rationale: str
    citations: list[CitationOut]
    acknowledged: str | None = Field(
        default=None, description="The program's reason, when it has acknowledged this risk; acknowledged findings are not open."
    )


class NeedsInformation(BaseModel):
    """A rule that could not be judged because the profile lacks what it reads."""

    model_config = ConfigDict(frozen=True)  # shared between decisions (Evaluator._program_needs)

    rule_id: str
    title: str
    severity: Severity = Field(description="Severity the finding would have if the risk is present.")
    subject: Subject
    missing: list[str] = Field(description="JSON pointers of the profile fields to fill in.")


Outcome = Literal["fired", "passed", "not_applicable", "needs_information", "error"]


class RuleOutcome(BaseModel):
    """One rule on one subject."""

    rule_id: str
    subject: Subject
    outcome: Outcome
    missing: list[str] = Field(default_factory=list, description="For needs_information: the profile fields to fill in.")
    error: str | None = Field(default=None, description="For error: what went wrong evaluating the rule.")


class EngineError(BaseModel):
    """A rule whose evaluation failed on one subject; every other rule was still evaluated."""

    rule_id: str
    subject: Subject
    error: str


class Summary(BaseModel):
    status: Literal["pass", "needs_attention", "incomplete"] = Field(
        description="`needs_attention`: at least one finding of medium severity or above; `incomplete`: none, but some rules need information; `pass`: neither."
    )
    findings: int = Field(description="Open findings (not acknowledged).")
    by_severity: dict[str, int] = Field(description="Open findings by severity.")
    acknowledged: int = Field(description="Findings the program has acknowledged, with a reason.")
    needs_information: int
    rules_evaluated: int
    engine_errors: int = Field(default=0, description="Rules that could not be evaluated (see `engine_errors`).")


class Decision(BaseModel):
    decision_id: str
    evaluated_at: datetime
    ruleset_version: str
    engine: str
    profile_digest: str = Field(description="sha256 of the profile's canonical JSON; the profile itself is not kept.")
    summary: Summary
    findings: list[Finding]
    needs_information: list[NeedsInformation] = Field(
        description="Each rule that could not be judged, on each subject, with the fields it needs: for machines. "
        "People read `questions`.")
    questions: list[OpenQuestion] = Field(
        default_factory=list,
        description="The same needs grouped by question: one entry per profile field, with the rules waiting on it "
        "(and findings that rest on the field being empty), most valuable first; fields answered \"don't know\" last.")
    engine_errors: list[EngineError] = Field(default_factory=list, description="Rules that failed to evaluate; normally empty.")


ATTENTION = {"critical", "high", "medium"}
_built = built


_NO_HITS: frozenset[str] = frozenset()


def profile_digest(profile: Profile) -> str:
    """sha256 of the profile as PeerCheck serialises it: schema field order, nulls left out —
    the same for the same profile, whatever the key order or whitespace it arrived with."""
    return "sha256:" + hashlib.sha256(_to_json(profile, exclude_none=True)).hexdigest()


_to_json = Profile.__pydantic_serializer__.to_json  # bytes, as model_dump_json writes them before decoding


# ---------------------------------------------------------------- evaluation


class Evaluator:
    """Holds a ruleset and an engine; ``evaluate`` is safe to call from many threads."""

    def __init__(self, ruleset: Ruleset, engine: Engine):
        self.ruleset = ruleset
        self.engine = engine
        self._citations = {
            r.id: [CitationOut(**c.model_dump(), title=ruleset.sources.info[c.source].title) for c in r.spec.citations]
            for r in ruleset.rules
        }
        self._labels = {a.code: a.label for a in ruleset.activities.activities}
        self._position = {rule.id: i for i, rule in enumerate(ruleset.rules)}
        self._labelled = {rule.id: _labelled_lists(rule) for rule in ruleset.rules}
        self._state_named = {rule.id: _template_names(rule) & STATE_TEMPLATE_NAMES for rule in ruleset.rules}
        self._report: dict[str, tuple[list[tuple[CompiledRule, int]], Any]] = {}
        for scope in ("program", "peer"):
            in_scope = [r for r in ruleset.rules if r.spec.scope == scope]
            self._report[scope] = ([(r, self._position[r.id]) for r in in_scope],
                                   compile_report([(r.id, r) for r in in_scope]))
        # (missing fact fields, peer index or -1) -> profile pointers, for fields with one fixed
        # source each (the pointers then depend on nothing else). Bounded: rules x subsets x peers.
        self._pointer_memo: dict[tuple[tuple[str, ...], int], tuple[str, ...]] = {}
        # (rule position, missing fact fields) -> the program's NeedsInformation, when its pointers
        # are memoised: the same immutable value in every decision that needs it. Bounded likewise.
        self._program_needs: dict[tuple[int, tuple[str, ...]], NeedsInformation] = {}
        # The same for a peer: (rule position, missing fact fields, peer index, peer id) -> its
        # NeedsInformation, equal in every decision with that peer at that place.
        self._peer_needs: dict[tuple[int, tuple[str, ...], int, str | None], NeedsInformation] = {}
        self.questions = catalog_for(ruleset)
        self.ranker = Ranker(self.questions)
        # rule id -> the fact fields its finding reads (evidence, templates, what labels and state
        # values come from), with whether a value is a number (1 and 1.0 are written differently);
        # and the findings made, by rule, subject and those values (see ``_finding``). Bounded.
        self._reads = {rule.id: _finding_reads(rule) for rule in ruleset.rules}
        self._findings: dict[tuple[Any, ...], Finding] = {}
        # Fields a rule reads whose absence counts against the program (optional inputs): a finding
        # resting on one is open to an answer. Only rules that have them.
        self._optional = {rule.id: optional for rule in ruleset.rules
                          if (optional := tuple(f for f in dict.fromkeys(referenced_fields(rule.condition))
                                                if f not in rule.required_set))}

    def outcomes(self, profile: Profile) -> list["RuleOutcome"]:
        """Every rule's outcome on every subject in its scope: what was checked, not only what failed."""
        facts = self.ruleset.facts.build(profile)
        hits, errors = self.engine.match(facts)
        subjects = _Subjects(profile)
        return [
            RuleOutcome(rule_id=rule.id, subject=subjects.of(fact), outcome=outcome,
                        missing=[] if outcome == "error" else _missing_pointers(missing, fact, profile),
                        error=missing[0] if outcome == "error" else None)
            for rule, fact, outcome, missing in self._judged(facts, hits, errors, everything=True)
        ]

    def _judged(self, facts: list[dict[str, Any]], hits: set[tuple[str, int]],
                errors: dict[tuple[str, int], str], everything: bool = False):
        """(rule, fact, outcome, missing) in rule order; plain passes only when ``everything``."""
        by_kind: dict[str, list[tuple[int, dict[str, Any]]]] = {"program": [], "peer": []}
        for index, fact in enumerate(facts):
            by_kind[fact["kind"]].append((index, fact))
        for rule in self.ruleset.rules:
            for index, fact in by_kind[rule.spec.scope]:
                if errors and ((rule.id, index) in errors or (rule.id + "/applies", index) in errors):
                    yield rule, fact, "error", [errors.get((rule.id, index)) or errors[(rule.id + "/applies", index)]]
                elif (rule.id, index) in hits:
                    yield rule, fact, "fired", []
                elif rule.applies_when is None and rule.required_set.issubset(fact):
                    if everything:  # the common case, decided without judge()
                        yield rule, fact, "passed", []
                else:
                    outcome, missing = judge(rule, fact, index, hits)
                    if everything or outcome != "passed":
                        yield rule, fact, outcome, missing

    def _reported(self, profile: Profile, facts: list[dict[str, Any]], hits: set[tuple[str, int]],
                  subjects: "_Subjects", with_findings: bool = True,
                  ) -> tuple[list["Finding"], list["NeedsInformation"], list["NeedsInformation"]]:
        """Findings, needs information and assumptions (see ``_assumed``) through each scope's
        compiled report — the hot path of ``evaluate``, one pass per fact. Needs information in
        rule order, then subject order."""
        hit_ids: dict[int, set[str]] = {}
        for rule_id, index in hits:
            hit_ids.setdefault(index, set()).add(rule_id)
        findings: list[Finding] = []
        assumed: list[NeedsInformation] = []
        needs: list[tuple[int, int, NeedsInformation]] = []
        memo = self._pointer_memo
        optional = self._optional
        peer_needs = self._peer_needs
        for index, fact in enumerate(facts):
            in_scope, report = self._report[fact["kind"]]
            subject = subjects.of(fact)
            peer = fact.get("peer_index", -1)
            for k, missing in report(fact, hit_ids.get(index, _NO_HITS)):
                rule, position = in_scope[k]
                if missing is None:
                    if with_findings:
                        findings.append(self._finding(rule, fact, subject))
                    if rule.id in optional:
                        self._assumed(rule, fact, subject, profile, assumed)
                    continue
                pointers = memo.get((missing, peer))
                if pointers is None:
                    need = self._needs(rule, subject, self._missing(missing, fact, profile))
                elif peer >= 0:
                    key = (position, missing, peer, subject.peer_id)
                    need = peer_needs.get(key)
                    if need is None:
                        if len(peer_needs) >= 16384:  # bounded: peer ids are the callers'
                            peer_needs.clear()
                        need = peer_needs[key] = self._needs(rule, subject, list(pointers))
                else:
                    need = self._program_needs.get((position, missing))
                    if need is None:
                        need = self._program_needs[(position, missing)] = self._needs(rule, subject, list(pointers))
                needs.append((position, index, need))
        needs.sort(key=_first_two)
        return findings, [n for _, _, n in needs], assumed

    def _assumed(self, rule: CompiledRule, fact: dict[str, Any], subject: Subject, profile: Profile,
                 out: list[NeedsInformation]) -> None:
        """A fired rule whose condition took an empty optional input as a risk: the fields whose
        answer could clear the finding. A yes/no field is tried both ways, and left out when the
        rule fires either way."""
        absent = []
        for name in self._optional[rule.id]:
            if name in fact:
                continue
            if VOCABULARY[name].type.kind == "boolean" and all(rule.holds({**fact, name: v}) for v in (True, False)):
                continue
            absent.append(name)
        if absent:
            out.append(self._needs(rule, subject, _missing_pointers(absent, fact, profile)))

    def pending(self, profile: Profile, facts: list[dict[str, Any]]) -> tuple[list["NeedsInformation"], list["NeedsInformation"]]:
        """What ``evaluate`` would report as needing information, and the findings' assumptions,
        for facts the caller built (a draft's, with unknown required fields taken out): no
        findings, no decision."""
        hits, errors = self.engine.match(facts)
        subjects = _Subjects(profile)
        if not errors:
            _, needs, assumed = self._reported(profile, facts, hits, subjects, with_findings=False)
            return needs, assumed
        return self._plainly(profile, facts, hits, errors, subjects, with_findings=False)[1:3]

    def _plainly(self, profile: Profile, facts: list[dict[str, Any]], hits: set[tuple[str, int]],
                 errors: dict[tuple[str, int], str], subjects: "_Subjects", with_findings: bool = True):
        """``_reported`` by the plain route, which knows about engine errors: (findings, needs,
        assumed, failed)."""
        findings: list[Finding] = []
        needs: list[NeedsInformation] = []
        assumed: list[NeedsInformation] = []
        failed: list[EngineError] = []
        for rule, fact, outcome, missing in self._judged(facts, hits, errors):
            if outcome == "error":
                failed.append(_built(EngineError, {"rule_id": rule.id, "subject": subjects.of(fact), "error": missing[0]}))
            elif outcome == "fired":
                if with_findings:
                    findings.append(self._finding(rule, fact, subjects.of(fact)))
                if rule.id in self._optional:
                    self._assumed(rule, fact, subjects.of(fact), profile, assumed)
            elif outcome == "needs_information":
                needs.append(self._needs(rule, subjects.of(fact), _missing_pointers(missing, fact, profile)))
        return findings, needs, assumed, failed

    @staticmethod
    def _needs(rule: CompiledRule, subject: Subject, missing: list[str]) -> NeedsInformation:
        spec = rule.spec
        return _built(NeedsInformation, {"rule_id": spec.id, "title": spec.title, "severity": spec.severity,
                                          "subject": subject, "missing": missing})

    def evaluate(self, profile: Profile) -> Decision:
        facts = self.ruleset.facts.build(profile)
        hits, errors = self.engine.match(facts)
        subjects = _Subjects(profile)
        failed: list[EngineError] = []
        if not errors:
            findings, needs, assumed = self._reported(profile, facts, hits, subjects)
        else:  # rare: the plain route, which knows about errors
            findings, needs, assumed, failed = self._plainly(profile, facts, hits, errors, subjects)
        findings.sort(key=lambda f: (SEVERITY_RANK[f.severity], f.rule_id, f.subject.pointer))
        _acknowledge(findings, profile)
        open_findings = [f for f in findings if f.acknowledged is None]
        by_severity = {s.value: 0 for s in Severity}
        for f in open_findings:
            by_severity[f.severity] += 1
        if any(f.severity in ATTENTION for f in open_findings):
            status = "needs_attention"
        elif needs or failed:
            status = "incomplete"
        else:
            status = "pass"
        return _built(Decision, {
            "decision_id": str(uuid.uuid4()),
            "evaluated_at": datetime.now(timezone.utc),
            "ruleset_version": self.ruleset.version,
            "engine": self.engine.name,
            "profile_digest": profile_digest(profile),
            "summary": _built(Summary, {
                "status": status, "findings": len(open_findings), "by_severity": by_severity,
                "acknowledged": len(findings) - len(open_findings),
                "needs_information": len(needs), "rules_evaluated": len(self.ruleset.rules),
                "engine_errors": len(failed),
            }),
            "findings": findings,
            "needs_information": needs,
            "questions": self.ranker.rank(needs, assumed, profile.dont_know, [p.id for p in profile.peers])
            if needs or assumed else [],
            "engine_errors": failed,
        })

    def _missing(self, fields: tuple[str, ...], fact: dict[str, Any], profile: Profile) -> list[str]:
        """``_missing_pointers`` for a memo miss in ``_reported``; remembered when the answer
        depends only on the fields and the peer (every field has one fixed source)."""
        pointers = _missing_pointers(list(fields), fact, profile)
        if all(name in _SINGLE_SOURCE for name in fields):
            self._pointer_memo[(fields, fact.get("peer_index", -1))] = tuple(pointers)
        return pointers

    def _finding(self, rule: CompiledRule, fact: dict[str, Any], subject: Subject) -> Finding:
        """The finding of ``rule`` on ``subject``. Most recur (the same rule, subject and values), so
        each is kept by what it reads and copied: a finding's acknowledgement is its own."""
        key = [rule.id, subject.peer_index, subject.peer_id]
        for name, numeric in self._reads[rule.id]:
            value = fact.get(name)
            kind = type(value)
            key.append(tuple(value) if kind is list else (value, kind) if numeric else value)
        key = tuple(key)
        kept = self._findings.get(key)
        if kept is None:
            if len(self._findings) >= 16384:  # bounded: the values are the callers'
                self._findings.clear()
            kept = self._findings[key] = self._rendered(rule, fact, subject)
        made = _built(Finding, dict(kept.__dict__))
        made.__dict__["evidence"] = list(kept.evidence)
        return made

    def _rendered(self, rule: CompiledRule, fact: dict[str, Any], subject: Subject) -> Finding:
        spec = rule.spec
        context = self._context(rule, fact, subject)
        return _built(Finding, {
            "finding_id": _finding_id(rule.id, subject),
            "rule_id": rule.id,
            "title": spec.title,
            "severity": spec.severity,
            "category": spec.category,
            "five_p": spec.five_p,
            "basis": spec.basis,
            "subject": subject,
            "message": spec.message.format_map(context),
            "evidence": [
                _built(EvidenceItem, {"field": name, "value": fact.get(name), "pointers": _pointers([name], fact)})
                for name in rule.evidence
            ],
            "remediation": spec.remediation.format_map(context),
            "rationale": spec.rationale,
            "citations": self._citations[rule.id],
            "acknowledged": None,
        })

    def _context(self, rule: CompiledRule, fact: dict[str, Any], subject: Subject) -> "_Context":
        state = fact["state"]
        state_values = (template_values(self.ruleset.states, state, fact.get("credential_kind"))
                        if self._state_named[rule.id] else {})
        return message_values(rule.params, _peer_label(fact, subject), state_name(self.ruleset.states, state),
                              state_values, self._labelled[rule.id], self._labels, fact)


def judge(rule: CompiledRule, fact: dict[str, Any], index: int, hits: set[tuple[str, int]]) -> tuple[Outcome, list[str]]:
    """One rule on one fact: ("fired" | "passed" | "not_applicable" | "needs_information", missing fields).

    The engine's hits decide what fired. Without a hit, unknown fields matter only if filling
    them in could still make the rule fire: a hit is conclusive (a missing field never
    satisfies a comparison), and so is a miss when a top-level term that reads only known
    fields is false. Everything else needs information. (Facts never hold None: a known field
    is a present key.)"""
    if (rule.id, index) in hits:
        return "fired", []
    missing = [f for f in rule.required if f not in fact]
    if rule.applies_when is None or (rule.id + "/applies", index) in hits:
        if missing and not rule.certainly_false(fact):
            return "needs_information", missing
        return "passed", []
    applies_missing = [f for f in rule.applies_required if f not in fact]
    if not applies_missing or rule.applies_certainly_false(fact):
        return "not_applicable", []
    if missing:
        if rule.certainly_false(fact):
            return "passed", []
    elif not rule.holds(fact):  # applicability unknown, the condition decided on known fields
        return "passed", []
    return "needs_information", list(dict.fromkeys(applies_missing + missing))


_ABSENT = object()


class _Unknown:
    """A value the profile does not give: reads 'unknown' whatever the format spec."""

    def __format__(self, spec: str) -> str:
        return "unknown"


class _Context:
    """Template values — the extras (parameters, labels), else the fact's fields, which are read
    in place rather than copied: codes read as their labels ("probation / parole", "Virginia"),
    lists as prose, floats without noise, unknowns as 'unknown'."""

    __slots__ = ("extras", "fact")

    def __init__(self, extras: dict[str, Any], fact: dict[str, Any]):
        self.extras, self.fact = extras, fact

    def __getitem__(self, key: str) -> Any:
        value = self.extras.get(key, _ABSENT)
        if value is _ABSENT:
            value = self.fact.get(key)
            labels = CODE_LABELS.get(key)
            if labels is not None and value is not None:
                if isinstance(value, list):
                    return prose([labels.get(v, v) for v in value])
                return labels.get(value, value)
        if value is None:
            return _Unknown()
        if isinstance(value, list):
            return ", ".join(str(v) for v in value) or "none"
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value


def prose(items: list[str]) -> str:
    """Items as a list in a sentence: commas, or semicolons when an item has a comma of its own."""
    if not items:
        return "none"
    return ("; " if any("," in item for item in items) else ", ").join(items)


def in_sentence(label: str) -> str:
    """A label as it reads inside a sentence: 'Probation / parole' -> 'probation / parole'; names
    ('Recovery Assessment Scale (RAS)'), acronyms ('BARC-10') and 'Medicaid' keep their capitals."""
    first, _, rest = label.partition(" ")
    if not first[:1].isupper() or not (first[1:].islower() or not first[1:]) or first in PROPER_NOUNS or rest[:1].isupper():
        return label
    return label[0].lower() + label[1:]


PROPER_NOUNS = frozenset({"Medicaid"})


def _enum_at(template: str) -> type[Labelled] | None:
    """The Labelled enum of the profile field at a pointer template (``/peers/{i}/certification``)."""
    model: Any = Profile
    annotation: Any = None
    for segment in template.split("/")[1:]:
        if segment in ("{i}", "*"):
            continue
        if model is None or segment not in getattr(model, "model_fields", {}):
            return None
        annotation = model.model_fields[segment].annotation
        model = None
        for kind in _flatten(annotation):
            if isinstance(kind, type) and hasattr(kind, "model_fields"):
                model = kind
    found = [kind for kind in _flatten(annotation) if isinstance(kind, type) and issubclass(kind, Labelled)]
    return found[0] if found else None


def _flatten(annotation: Any) -> list[Any]:
    """The types inside ``X | None``, ``list[X]``, ``Annotated[...]``."""
    args = getattr(annotation, "__args__", None)
    if not args:
        return [annotation]
    return [inner for arg in args for inner in _flatten(arg)]


def _code_labels() -> dict[str, dict[str, str]]:
    """Fact field -> {code: what people read}, for fact fields that hold a profile field's codes as
    they are (one source; a text or a list). State names keep their capitals."""
    out: dict[str, dict[str, str]] = {}
    for name, field in VOCABULARY.items():
        if len(field.sources) != 1 or field.type.kind not in ("string", "list"):
            continue
        enum = _enum_at(field.sources[0])
        if enum is USState and name != "state":  # facts about the state (its requirement), not its code
            continue
        if enum is not None:
            out[name] = {m.value: m.label if enum is USState else in_sentence(m.label) for m in enum}
    return out


CODE_LABELS: dict[str, dict[str, str]] = _code_labels()
STATE_NAMES: dict[str, str] = USState.labels()


class _Subjects:
    """One Subject per fact, made once per evaluation."""

    def __init__(self, profile: Profile):
        self._profile = profile
        self._made: dict[int, Subject] = {}

    def of(self, fact: dict[str, Any]) -> Subject:
        index = fact.get("peer_index", -1)
        subject = self._made.get(index)
        if subject is None:
            if index < 0:
                subject = _built(Subject, {"kind": "program", "pointer": "", "peer_index": None, "peer_id": None})
            else:
                subject = _built(Subject, {"kind": "peer", "pointer": f"/peers/{index}", "peer_index": index,
                                           "peer_id": self._profile.peers[index].id})
            self._made[index] = subject
        return subject


_first_two = operator.itemgetter(0, 1)


def message_values(params: dict[str, Any], peer_label: str, state_name: str, state_values: dict[str, str],
                   labelled: list[str], activity_labels: dict[str, str], fact: dict[str, Any]) -> "_Context":
    """What a rule's message and remediation templates may name: fact fields, parameters, the
    peer's label, the state's name, what the state table says about the state (``state_values``)
    and the activity labels of the duty lists ``labelled``."""
    extras = dict(params)
    extras["peer_label"] = peer_label
    extras["state_name"] = state_name
    extras.update(state_values)
    for name in labelled:
        if name in fact:
            extras[f"{name}_labels"] = "; ".join(in_sentence(activity_labels.get(c, c)) for c in fact[name]) or "none"
    return _Context(extras, fact)


def state_name(table: Any, state: str) -> str:
    """The state's name, from the tool kit's row or the researched one; else the schema's label."""
    row = table.states.get(state)
    researched = table.researched.get(state)
    return row.name if row else researched.name if researched else STATE_NAMES.get(state, state)


# How ``general_text`` names what only an evaluation knows (other names read as their words).
GENERAL_WORDS = {"peer_label": "peer", "state_name": "state", "state": "state", "fte": "FTE",
                 "caseload_per_fte": "caseload per FTE"}


def general_text(template: str, params: dict[str, Any]) -> str:
    """A rule's message or remediation where no profile is at hand (the rule catalog, SARIF's rule
    descriptions): its parameters filled in, and every value an evaluation would fill in named in
    brackets — '[peer] carries [active caseload] participants … the 20–30 range'."""
    out = []
    for literal, name, spec, conversion in string.Formatter().parse(template):
        out.append(literal)
        if name is None:
            continue
        if name in params:
            out.append(format(params[name], spec or ""))
        else:
            words = GENERAL_WORDS.get(name) or name.removesuffix("_labels").replace("_", " ")
            out.append(f"[{words}]")
    return "".join(out)


def template_names(*templates: str) -> set[str]:
    """Every name the templates use."""
    return {field for template in templates for _, field, _, _ in string.Formatter().parse(template) if field}


def _template_names(rule: CompiledRule) -> set[str]:
    return template_names(rule.spec.message, rule.spec.remediation)


def _finding_reads(rule: CompiledRule) -> tuple[tuple[str, bool], ...]:
    """The fact fields a finding of ``rule`` is made from (see ``Evaluator._finding``)."""
    names = [*rule.evidence, *sorted(_template_names(rule)), *_labelled_lists(rule),
             "state", "credential_kind", "peer_title", "peer_count"]
    return tuple((name, name in VOCABULARY and VOCABULARY[name].type.kind == "number")
                 for name in dict.fromkeys(names))


def _labelled_lists(rule: CompiledRule) -> list[str]:
    return labelled_lists(rule.spec.message, rule.spec.remediation)


def labelled_lists(*templates: str) -> list[str]:
    """The duty lists whose ``<list>_labels`` the templates name."""
    named = template_names(*templates)
    return [name for name in sorted(LABELLED_LISTS) if f"{name}_labels" in named]


def _peer_label(fact: dict[str, Any], subject: Subject) -> str:
    """'Peer 2 (Peer Recovery Specialist)', or with the caller's id 'Peer 2 (peer-b, Peer Recovery
    Specialist)': peers are counted from 1, as people count."""
    if subject.kind != "peer":
        return "the program"
    number = subject.peer_index + 1
    shown = shown_id(number, subject.peer_id)
    return f"Peer {number} ({shown + ', ' if shown else ''}{fact['peer_title']})"


_SINGLE_SOURCE = {n for n, f in VOCABULARY.items() if len(f.sources) == 1 and "*" not in f.sources[0]}
_FIXED = {n: list(f.sources) for n, f in VOCABULARY.items() if not any("{i}" in p or "*" in p for p in f.sources)}


def _pointers(fields: list[str], fact: dict[str, Any]) -> list[str]:
    """JSON pointers of the profile fields behind fact fields: ``{i}`` is this peer, ``*`` every peer."""
    if len(fields) == 1 and fields[0] in _FIXED:
        return list(_FIXED[fields[0]])
    index = fact.get("peer_index")
    out: dict[str, None] = {}
    for name in fields:
        for pointer in VOCABULARY[name].sources:
            if "*" in pointer:
                for i in range(fact.get("peer_count", 1)):  # absent only in a draft with no peers listed yet: its one stand-in
                    out[pointer.replace("*", str(i))] = None
            elif index is not None:
                out[pointer.replace("{i}", str(index))] = None
            else:
                out[pointer] = None
    return list(out)


def _acknowledge(findings: list[Finding], profile: Profile) -> None:
    """Mark findings the profile acknowledges (by rule, optionally by subject) with the reason."""
    for ack in profile.acknowledged or ():
        for finding in findings:
            if finding.rule_id == ack.rule_id and (ack.subject is None or ack.subject == finding.subject.pointer):
                if finding.acknowledged is None:
                    finding.acknowledged = ack.reason


def _missing_pointers(fields: list[str], fact: dict[str, Any], profile: Profile) -> list[str]:
    """The profile fields to fill in: of each missing fact field's sources, those that are absent
    (caseload per FTE needs the FTE only when the caseload is known). A field with one source
    names that source whatever it holds, so only multi-source fields look at the profile."""
    if not fields:
        return []
    candidates = _pointers(fields, fact)
    if all(name in _SINGLE_SOURCE for name in fields):
        return candidates
    absent = [p for p in candidates if value_at(profile, p) is None]
    return absent or candidates


def _finding_id(rule_id: str, subject: Subject) -> str:
    key = subject.peer_id if subject.peer_id is not None else subject.pointer
    text = f"{rule_id}|{subject.kind}|{key}"
    found = _FINDING_IDS.get(text)
    if found is None:
        if len(_FINDING_IDS) >= 16384:  # bounded: peer ids are the callers'
            _FINDING_IDS.clear()
        found = _FINDING_IDS[text] = hashlib.sha256(text.encode()).hexdigest()[:16]
    return found


_FINDING_IDS: dict[str, str] = {}
