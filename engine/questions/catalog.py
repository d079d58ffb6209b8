"""The question catalog, generated from the profile's JSON schema and the loaded rules.

A profile field becomes a question when a rule reads it — directly, or through a value derived
from it (engine/facts.py ``VOCABULARY`` names each fact's profile sources) — or when a profile
must have it (program name and state, the peers, each peer's title). Everything a form shows
comes from the schema, so the catalog cannot drift from what the API accepts:

* label: the field's ``title``; question: its ``x-question`` (engine/profile.py); help: its
  ``x-help``, or the description when no question is written for the field;
* answer type and bounds: the field's JSON type, ``minimum``/``maximum``, ``maxItems``,
  ``maxLength``; options: the enum with its ``x-enum-labels``, and for duties the Appendix C
  activity catalog (labels and tables as loaded, after operator overrides);
* order: the schema's, section by section — program, peers, supervision, policies, hiring.
"""

from __future__ import annotations

import re
from typing import Any, Iterator, get_args

from engine.catalog import TABLE_LABELS
from engine.facts import VOCABULARY
from engine.language import referenced_fields
from engine.profile import SCHEMA_VERSION, Profile
from engine.questions.models import (
    AnswerSpec,
    Option,
    OptionGroup,
    QuestionDef,
    Questionnaire,
    RuleRef,
    Section,
    SectionId,
)
from engine.ruleset import Ruleset
from engine.spec import SEVERITY_RANK

SECTIONS: tuple[str, ...] = get_args(SectionId)
PEER = "{i}"
_PEER_SEGMENT = re.compile(r"0|[1-9][0-9]{0,2}")
MAX_PEERS = 500  # Profile.peers max_length: pointers beyond it name no question


def question_id(template: str) -> str:
    """``/peers/{i}/employer_policies/transport_allowed`` -> ``peers.employer_policies.transport_allowed``."""
    return ".".join(part for part in template.split("/")[1:] if part != PEER)


def rules_by_field(ruleset: Ruleset) -> dict[str, list[RuleRef]]:
    """Profile field (pointer template) -> the rules that read it, most severe first."""
    reads: dict[str, dict[str, RuleRef]] = {}
    for rule in ruleset.rules:
        fields = set(referenced_fields(rule.condition))
        if rule.applies_when is not None:
            fields |= set(referenced_fields(rule.applies_when))
        ref = RuleRef(rule_id=rule.id, title=rule.spec.title, severity=rule.spec.severity)
        for name in fields:
            for source in VOCABULARY[name].sources:
                reads.setdefault(source.replace("*", PEER), {})[rule.id] = ref
    return {template: sorted(refs.values(), key=lambda r: (SEVERITY_RANK[r.severity], r.rule_id))
            for template, refs in reads.items()}


_ASKED: dict[int, tuple[Ruleset, frozenset[str]]] = {}  # id(ruleset) -> (ruleset, fields): a handful per process


def dont_know_problems(dont_know: list[str] | None, ruleset: Ruleset) -> list[tuple[int, str]]:
    """(index, what is wrong) for each "don't know" that names a field no rule of ``ruleset`` reads:
    the schema accepts any optional field, but only questions can be answered "don't know"."""
    if not dont_know:
        return []
    known = _ASKED.get(id(ruleset))
    if known is None or known[0] is not ruleset:
        known = _ASKED[id(ruleset)] = (ruleset, frozenset(rules_by_field(ruleset)))
    asked = known[1]
    problems = []
    for index, pointer in enumerate(dont_know):
        parts = pointer.split("/")
        if len(parts) > 2 and parts[1] == "peers":
            parts[2] = PEER
        if "/".join(parts) not in asked:
            problems.append((index, f"{pointer} is not a question: no rule reads it"))
    return problems


_CATALOGS: dict[int, tuple[Ruleset, "QuestionCatalog"]] = {}  # id(ruleset) -> catalog: a handful per process


def catalog_for(ruleset: Ruleset) -> "QuestionCatalog":
    """The question catalog of ``ruleset``, made once: for readers that have a ruleset but no
    evaluator (a report names the fields of its evidence by their labels)."""
    found = _CATALOGS.get(id(ruleset))
    if found is None or found[0] is not ruleset:
        from engine.questions.ranking import SEVERITY_WEIGHTS  # ranking imports this module

        found = _CATALOGS[id(ruleset)] = (ruleset, QuestionCatalog(ruleset, SEVERITY_WEIGHTS))
    return found[1]


class QuestionCatalog:
    """Every question for one ruleset, and the way from a JSON pointer back to its question."""

    def __init__(self, ruleset: Ruleset, severity_weights: dict[str, float]):
        self.ruleset_version = ruleset.version
        self.severity_weights = dict(severity_weights)
        schema = Profile.model_json_schema()
        self._schema = schema
        reads = rules_by_field(ruleset)
        activities = ruleset.activities.activities
        self._activity_codes = {a.code for a in activities}
        tables = list(dict.fromkeys(a.table for a in activities))
        self._activity_options = [Option(value=a.code, label=a.label, group=a.table)
                                  for table in tables for a in activities if a.table == table]
        self._activity_groups = [OptionGroup(id=t, label=TABLE_LABELS.get(t, t)) for t in tables]

        questions: list[QuestionDef] = []
        for section, template, node, required in self._leaves():
            rules = reads.get(template, [])
            if not rules and not required:
                continue
            questions.append(self._question(section, template, node, required, rules))
        self.questions: tuple[QuestionDef, ...] = tuple(questions)
        self.sections = [Section(id=s, label=schema["properties"][s].get("title", s), per_peer=s == "peers")
                         for s in SECTIONS]
        self.by_template = {q.pointer: q for q in self.questions}
        self.position = {q.id: i for i, q in enumerate(self.questions)}
        self.program_questions = tuple(q for q in self.questions if not q.per_peer)
        self.peer_questions = tuple(q for q in self.questions if q.per_peer)
        unread = sorted(set(reads) - set(self.by_template))
        if unread:  # a rule reads a field the schema does not have: a vocabulary defect, caught at start-up
            raise ValueError(f"rules read profile fields the schema does not define: {unread}")
        self.located: dict[str, tuple[QuestionDef, int | None]] = {}  # locate()'s memo
        self._out: Questionnaire | None = None

    # ------------------------------------------------------------------ lookups

    def locate(self, pointer: str) -> tuple[QuestionDef, int | None] | None:
        """The question a concrete JSON pointer answers, and the peer's index (None for the program);
        None when the pointer names no question."""
        found = self.located.get(pointer)
        if found is not None:
            return found
        parts = pointer.split("/")
        if len(parts) > 2 and parts[1] == "peers":
            if not _PEER_SEGMENT.fullmatch(parts[2]) or int(parts[2]) >= MAX_PEERS:
                return None
            template, peer = "/".join(["", "peers", PEER, *parts[3:]]), int(parts[2])
        else:
            template, peer = pointer, None
        question = self.by_template.get(template)
        if question is None or question.per_peer != (peer is not None):
            return None
        self.located[pointer] = (question, peer)  # bounded: questions x MAX_PEERS
        return question, peer

    def instances(self, peers: int) -> Iterator[tuple[QuestionDef, int | None, str]]:
        """(question, peer index or None, concrete pointer) of every question for ``peers`` peers, in
        catalog order: program-level questions, then each peer's."""
        for question in self.questions:
            if not question.per_peer:
                yield question, None, question.pointer
            else:
                for index in range(peers):
                    yield question, index, question.pointer.replace(PEER, str(index))

    def out(self) -> Questionnaire:
        """The whole catalog, as ``GET /v1/questionnaire`` serves it (made once)."""
        if self._out is None:
            self._out = Questionnaire(ruleset_version=self.ruleset_version, schema_version=SCHEMA_VERSION,
                                      severity_weights=self.severity_weights, sections=self.sections,
                                      questions=list(self.questions))
        return self._out

    # ------------------------------------------------------------------ building

    def _resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        """The schema node itself: ``$ref`` followed, ``null`` dropped from an ``anyOf`` (unknown is
        always allowed; the profile's own keys such as ``title`` are kept)."""
        if "anyOf" in node:
            options = [n for n in node["anyOf"] if n.get("type") != "null"]
            if len(options) == 1:
                node = {**{k: v for k, v in node.items() if k != "anyOf"}, **options[0]}
        if "$ref" in node:
            target = self._schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
            node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return node

    def _leaves(self) -> Iterator[tuple[str, str, dict[str, Any], bool]]:
        """(section, pointer template, schema node, required) of every leaf field, in schema order."""
        profile_required = set(self._schema.get("required", []))
        for section in SECTIONS:
            node = self._schema["properties"][section]
            if section == "peers":
                yield section, "/peers", node, section in profile_required
                yield from self._walk(section, f"/peers/{PEER}", self._resolve(node["items"]))
            else:
                yield from self._walk(section, f"/{section}", self._resolve(node))

    def _walk(self, section: str, base: str, node: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any], bool]]:
        required = set(node.get("required", []))
        for name, prop in node.get("properties", {}).items():
            resolved = self._resolve(prop)
            if resolved.get("type") == "object" and "properties" in resolved:
                yield from self._walk(section, f"{base}/{name}", resolved)
            else:
                yield section, f"{base}/{name}", prop, name in required

    def _question(self, section: str, template: str, prop: dict[str, Any], required: bool,
                  rules: list[RuleRef]) -> QuestionDef:
        node = self._resolve(prop)
        label = prop.get("title") or template.rsplit("/", 1)[-1].replace("_", " ").capitalize()
        text = prop.get("x-question") or f"{label}?"
        help_text = prop.get("x-help")
        if help_text is None and "x-question" not in prop and prop.get("description"):
            help_text = _plain(prop["description"])
        return QuestionDef(id=question_id(template), pointer=template, per_peer=PEER in template, section=section,
                           label=label, text=text, help=help_text, answer=self._answer(template, node),
                           required=required, rules=rules)

    def _answer(self, template: str, node: dict[str, Any]) -> AnswerSpec:
        kind = node.get("type")
        if template == "/peers":
            return AnswerSpec(type="peer_list", max_items=node.get("maxItems"))
        if kind == "boolean":
            return AnswerSpec(type="yes_no")
        if kind in ("integer", "number"):
            return AnswerSpec(type="number", integer=kind == "integer",
                              minimum=node.get("minimum", node.get("exclusiveMinimum")),
                              maximum=node.get("maximum", node.get("exclusiveMaximum")))
        if kind == "array":
            options, groups = self._options(self._resolve(node.get("items", {})))
            return AnswerSpec(type="several_of", max_items=node.get("maxItems"), options=options, option_groups=groups)
        if "enum" in node:
            options, groups = self._options(node)
            return AnswerSpec(type="one_of", options=options, option_groups=groups)
        return AnswerSpec(type="text", max_length=node.get("maxLength"))

    def _options(self, node: dict[str, Any]) -> tuple[list[Option] | None, list[OptionGroup] | None]:
        values = node.get("enum")
        if values is None:
            return None, None
        if set(values) == self._activity_codes:
            return self._activity_options, self._activity_groups
        labels = node.get("x-enum-labels", {})
        return [Option(value=str(v), label=labels.get(v, str(v))) for v in values], None


def _plain(description: str) -> str:
    """A schema description as help text: no version notes, no code formatting."""
    return re.sub(r"\s*Since \d+\.\d+\.", "", description).replace("`", "").strip()
