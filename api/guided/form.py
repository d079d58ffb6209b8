"""Which questions a step of the guided form shows, how each is drawn, and reading the answers posted.

Steps follow the question catalog's sections — program, peers, supervision, policies, hiring —
then the review. A section step shows its open questions the most valuable first, as the
ranking orders them (``Interview.next``: required answers first, then by the severity-weighted
rules an answer would decide), at most ``PAGE_SIZE`` at once; the questions already answered
follow, to be changed; questions whose answer would change nothing now are left out. The peers
step shows every peer listed, each with its job title and its open questions.

Every question but a required one (program name, state, a peer's job title) can be answered
"Don't know": the answer goes to the profile's ``dont_know`` and keeps its rules in
needs-information. Answers are read back against the catalog's answer spec; anything that does
not fit is an error tied to its field, in plain words, naming the field as people do
("Peer 2 › Active caseload").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from api.guided.state import MAX_FORM_PEERS, FormState, mark_dont_know
from engine.questions.draft import answer_at, set_answer
from engine.questions import Interview, Progress, QuestionDef, peer_name, why
from engine.questions.models import NextQuestion

PAGE_SIZE = 10  # open questions a section step shows at once
SELECT_OVER = 12  # one-of questions with more options than this are a drop-down list
DONT_KNOW = "__dont_know__"
NONE = "__none__"
REVIEW = "review"
TITLES = {"program": "About the program", "peers": "The peers", "supervision": "Supervision",
          "policies": "Policies and practices", "hiring": "Hiring", REVIEW: "Review"}
SECTION_NAMES = {"program": "Program", "peers": "Peers", "supervision": "Supervision", "policies": "Policies",
                 "hiring": "Hiring"}


def steps(interview: Interview) -> list[str]:
    return [section.id for section in interview.catalog.sections] + [REVIEW]


def field_id(pointer: str) -> str:
    """An HTML id for a question's input: ``/peers/1/active_caseload`` -> ``f-peers-1-active_caseload``."""
    return "f" + pointer.replace("/", "-")


def heading(question: QuestionDef, pointer: str) -> str:
    """How people name a field: 'Peer 2 › Active caseload', 'Supervision › How often supervision happens'."""
    parts = pointer.split("/")
    who = peer_name(int(parts[2]) + 1) if question.per_peer else SECTION_NAMES[question.section]
    return f"{who} › {question.label}"


@dataclass
class Choice:
    value: str
    label: str
    checked: bool = False
    group: str | None = None


@dataclass
class Field:
    """One question as the page draws it."""

    pointer: str
    id: str
    heading: str
    label: str
    text: str
    help: str | None
    why: str | None
    control: str  # radios | select | checkboxes | number | text
    choices: list[Choice] = field(default_factory=list)
    groups: list[tuple[str, list[Choice]]] = field(default_factory=list)
    value: str = ""
    dont_know_allowed: bool = True
    dont_know: bool = False
    required: bool = False
    error: str | None = None
    hint: str | None = None  # bounds, for numbers

    @property
    def described_by(self) -> str:
        ids = [f"{self.id}-hint"] if self.help or self.hint or self.why else []
        if self.error:
            ids.append(f"{self.id}-error")
        return " ".join(ids)


@dataclass
class PeerBlock:
    index: int
    name: str  # 'Peer 2'
    title: str  # its job title, as answered ('' before it is)
    fields: list[Field]
    answered: list[Field]


@dataclass
class StepView:
    step: str
    title: str
    number: int
    total: int
    fields: list[Field]  # open questions, most valuable first
    answered: list[Field]  # already answered (or "don't know"), to change
    peers: list[PeerBlock]
    more: int  # open questions of this section beyond those shown
    not_needed: int  # questions of this section whose answer would change nothing now
    shown: list[str]  # every pointer the step's form carries
    peers_not_shown: int = 0  # peers beyond the MAX_FORM_PEERS the peers step lists (a larger uploaded program)
    progress: Progress | None = None  # how far the whole review has come (the same on every step)

    @property
    def errors(self) -> list[Field]:
        everything = self.fields + self.answered + [f for p in self.peers for f in p.fields + p.answered]
        return [f for f in everything if f.error]


# ---------------------------------------------------------------- drawing a step


def control_of(question: QuestionDef) -> str:
    kind = question.answer.type
    if kind == "yes_no":
        return "radios"
    if kind == "one_of":
        return "select" if len(question.answer.options or []) > SELECT_OVER else "radios"
    if kind == "several_of":
        return "checkboxes"
    return "number" if kind == "number" else "text"


def make_field(question: QuestionDef, pointer: str, state: FormState, open_question: NextQuestion | None,
               posted: Mapping[str, list[str]] | None = None, error: str | None = None) -> Field:
    """A question drawn with its current answer — or, after a refused post, with what was sent."""
    control = control_of(question)
    current = answer_at(state.doc, pointer)
    unknown = pointer in state.dont_know
    raw = posted.get(pointer) if posted is not None else None
    spec = question.answer
    made = Field(pointer=pointer, id=field_id(pointer), heading=heading(question, pointer), label=question.label,
                 text=question.text, help=question.help, why=why(open_question) if open_question and open_question.waiting else None,
                 control=control, dont_know_allowed=not question.required, dont_know=unknown,
                 required=question.required, error=error)
    if raw is not None:  # what was sent, shown again
        made.dont_know = DONT_KNOW in raw or bool(posted.get(pointer + DONT_KNOW))
    if control in ("text", "number"):
        made.value = raw[0] if raw else ("" if current is None else _number_text(current))
        if control == "number":
            made.hint = _bounds(question)
        return made
    if spec.type == "yes_no":
        options = [("yes", "Yes"), ("no", "No")]
        selected = set(raw) if raw is not None else ({"yes"} if current is True else {"no"} if current is False else set())
    else:
        options = [(o.value, o.label) for o in spec.options or []]
        if raw is not None:
            selected = set(raw)
        elif isinstance(current, list):
            selected = set(current) or {NONE}
        else:
            selected = {current} if current is not None else set()
    groups = {o.value: o.group for o in spec.options or []}
    made.choices = [Choice(value, label, value in selected, groups.get(value)) for value, label in options]
    if spec.option_groups:
        made.groups = [(g.label, [c for c in made.choices if c.group == g.id]) for g in spec.option_groups]
    if control == "checkboxes":
        made.choices.append(Choice(NONE, "None of these", NONE in selected))
    return made


def _number_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _bounds(question: QuestionDef) -> str | None:
    spec = question.answer
    kind = "A whole number" if spec.integer else "A number"
    if spec.minimum is not None and spec.maximum is not None:
        return f"{kind} from {_number_text(spec.minimum)} to {_number_text(spec.maximum)}."
    return f"{kind}." if spec.integer else None


def build_step(interview: Interview, state: FormState, step: str, *, skip: frozenset[str] = frozenset(),
               posted: Mapping[str, list[str]] | None = None, errors: Mapping[str, str] | None = None) -> StepView:
    """The questions ``step`` shows for the profile so far, most valuable first. ``skip``: open
    questions already shown on this visit of the step and left blank — not shown again."""
    catalog = interview.catalog
    order = steps(interview)
    errors = errors or {}
    peers = state.peers
    limit = len(catalog.program_questions) + max(1, len(peers)) * len(catalog.peer_questions) + 1
    upcoming = interview.next(state.doc, limit=limit)
    ranked = [q for q in upcoming.questions if q.section == step]
    by_pointer = {q.pointer: q for q in ranked}
    view = StepView(step=step, title=TITLES[step], number=order.index(step) + 1, total=len(order), fields=[], answered=[],
                    peers=[], more=0, not_needed=0, shown=[], progress=upcoming.progress)

    def draw(pointer: str) -> Field:
        located = catalog.locate(pointer)
        assert located is not None
        return make_field(located[0], pointer, state, by_pointer.get(pointer), posted, errors.get(pointer))

    def has_answer(pointer: str) -> bool:
        return answer_at(state.doc, pointer) is not None or pointer in state.dont_know

    if step == "peers":
        count = max(1, len(peers))  # no peer yet: the first one is asked for
        view.peers_not_shown = max(0, count - MAX_FORM_PEERS)
        for index in range(min(count, MAX_FORM_PEERS)):
            title = f"/peers/{index}/title"
            open_here = [q.pointer for q in ranked if q.peer == index + 1 and q.pointer != title and q.pointer not in skip]
            answered = [p for _, i, p in catalog.instances(count) if i == index and p != title and has_answer(p)]
            typed = posted.get(title) if posted is not None else None  # after a refused post: what was sent
            block = PeerBlock(index=index, name=peer_name(index + 1),
                              title=typed[0].strip() if typed else str(answer_at(state.doc, title) or ""),
                              fields=[draw(title)] + [draw(p) for p in open_here], answered=[draw(p) for p in answered])
            view.peers.append(block)
            view.shown += [f.pointer for f in block.fields + block.answered]
        return view
    if step == REVIEW:
        return view
    questions = [q for q in catalog.program_questions if q.section == step]
    open_all = [q.pointer for q in ranked if q.peer is None]
    open_pointers = [p for p in open_all if p not in skip]
    shown_open = open_pointers[:PAGE_SIZE]
    view.more = len(open_pointers) - len(shown_open)
    answered = [q.pointer for q in questions if has_answer(q.pointer)]
    view.fields = [draw(p) for p in shown_open]
    view.answered = [draw(p) for p in answered]
    view.not_needed = len(questions) - len(open_all) - len(answered)
    view.shown = [f.pointer for f in view.fields + view.answered]
    return view


# ---------------------------------------------------------------- reading answers


def read_answers(interview: Interview, state: FormState, shown: list[str],
                 form: Mapping[str, list[str]]) -> tuple[dict[str, Any], dict[str, str]]:
    """The profile so far with the answers of one step applied, and per-field errors (pointer ->
    what is wrong, in plain words, naming the field). ``shown`` lists the questions the step
    drew: one left blank is unanswered, which clears an earlier answer."""
    doc = _copy(state.doc)
    errors: dict[str, str] = {}
    catalog = interview.catalog
    for pointer in dict.fromkeys(shown):
        located = catalog.locate(pointer)
        if located is None:
            continue  # a tampered form: names no question
        question = located[0]
        try:
            value, unknown = _answer(question, form.get(pointer, []), bool(form.get(pointer + DONT_KNOW)))
        except ValueError as exc:
            errors[pointer] = f"{heading(question, pointer)}: {exc}"
            continue
        set_answer(doc, pointer, value)
        mark_dont_know(doc, pointer, unknown)
    return doc, errors


def _copy(doc: dict[str, Any]) -> dict[str, Any]:
    import copy

    return copy.deepcopy(doc)


def _answer(question: QuestionDef, values: list[str], dont_know_box: bool) -> tuple[Any, bool]:
    """(value, "don't know") from what one question's inputs sent; ValueError says what is wrong."""
    spec = question.answer
    values = [v for v in values if v != ""]
    label = question.label[0].lower() + question.label[1:]
    if spec.type in ("text", "number"):
        text = values[0].strip() if values else ""
        if dont_know_box:
            if text:
                raise ValueError("give an answer or tick “Don't know”, not both")
            if question.required:
                raise ValueError("this is needed for any review, so it cannot be “Don't know”")
            return None, True
        if not text:
            if question.required:
                raise ValueError(f"enter the {label}")
            return None, False
        if spec.type == "text":
            if spec.max_length and len(text) > spec.max_length:
                raise ValueError(f"use at most {spec.max_length} characters")
            return text, False
        return _number(question, text), False
    if spec.type == "several_of":
        chosen = list(dict.fromkeys(values))
        if DONT_KNOW in chosen:
            if len(chosen) > 1:
                raise ValueError("tick the answers that apply, or “Don't know”, not both")
            return None, True
        if NONE in chosen:
            if len(chosen) > 1:
                raise ValueError("tick the answers that apply, or “None of these”, not both")
            return [], False
        allowed = {o.value for o in spec.options or []}
        if any(v not in allowed for v in chosen):
            raise ValueError("choose from the options shown")
        if spec.max_items is not None and len(chosen) > spec.max_items:
            raise ValueError(f"choose at most {spec.max_items}")
        return (chosen or None), False
    # one answer: yes/no or one of the options
    if len(values) > 1:
        raise ValueError("choose one answer")
    if not values:
        if question.required:
            raise ValueError(f"choose the {label}")
        return None, False
    value = values[0]
    if value == DONT_KNOW:
        if question.required:
            raise ValueError("this is needed for any review, so it cannot be “Don't know”")
        return None, True
    if spec.type == "yes_no":
        if value not in ("yes", "no"):
            raise ValueError("choose Yes, No or Don't know")
        return value == "yes", False
    if value not in {o.value for o in spec.options or []}:
        raise ValueError("choose from the options shown")
    return value, False


def _number(question: QuestionDef, text: str) -> float | int:
    spec = question.answer
    example = "12" if spec.integer else "0.5" if (spec.maximum or 2) <= 1 else "12"
    try:
        number = float(text.replace(",", ""))
    except ValueError:
        raise ValueError(f"enter a number, like {example}") from None
    if not math.isfinite(number):
        raise ValueError(f"enter a number, like {example}")
    if spec.integer:
        if not number.is_integer():
            raise ValueError(f"enter a whole number, like {example}")
        number = int(number)
    low, high = spec.minimum, spec.maximum
    if (low is not None and number < low) or (high is not None and number > high):
        bounds = _bounds(question) or ""
        raise ValueError(f"enter a number from {_number_text(low)} to {_number_text(high)}" if low is not None and high is not None
                         else f"the number is out of range. {bounds}".strip())
    return number
