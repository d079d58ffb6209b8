"""The shapes questions take: the catalog of every question, an open question in a decision, and
the answer to "what should we ask next?".

A *question* (``QuestionDef``) is one profile field that a rule reads, or that a profile must
have, asked in plain words. Fields of a peer are one question asked once per peer: its
``pointer`` is a template (``/peers/{i}/duties``), and each *open question* names the concrete
field (``/peers/1/duties``) and the peer by number, counted from 1 as people count.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.spec import Severity

AnswerType = Literal["yes_no", "number", "one_of", "several_of", "text", "peer_list"]
SectionId = Literal["program", "peers", "supervision", "policies", "hiring"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)  # built once per ruleset and shared between answers


class Option(_Frozen):
    value: str = Field(description="The code the profile holds.")
    label: str = Field(description="What people read.")
    group: str | None = Field(default=None, description="The option group it belongs to (`option_groups[].id`), if any.")


class OptionGroup(_Frozen):
    id: str
    label: str


class AnswerSpec(_Frozen):
    """What an answer looks like. Every question may also be answered "don't know" (see the
    profile's ``dont_know``)."""

    type: AnswerType = Field(description="`yes_no`: true or false; `number`: a number within the bounds; `one_of`: one "
                             "option's value; `several_of`: a list of option values (empty for none); `text`: a line "
                             "of text; `peer_list`: a list of peers, each at least `{\"title\": ...}`.")
    integer: bool | None = Field(default=None, description="For numbers: whole numbers only.")
    minimum: float | None = Field(default=None, description="For numbers: the smallest allowed value.")
    maximum: float | None = Field(default=None, description="For numbers: the largest allowed value.")
    max_items: int | None = Field(default=None, description="For lists: the most items allowed.")
    max_length: int | None = Field(default=None, description="For text: the most characters allowed.")
    options: list[Option] | None = Field(default=None, description="For `one_of` and `several_of`: the choices, in order.")
    option_groups: list[OptionGroup] | None = Field(
        default=None, description="When the options come in groups (the Appendix C activities by table): the groups, in order.")


class RuleRef(_Frozen):
    rule_id: str
    title: str
    severity: Severity


class QuestionDef(_Frozen):
    """One question of the catalog."""

    id: str = Field(description="Stable id: the field's path with dots, e.g. `peers.active_caseload`, `policies.consent_protocol`.")
    pointer: str = Field(description="JSON pointer of the field; `{i}` stands for the peer's index (from 0) in questions asked per peer.")
    per_peer: bool = Field(description="Asked once for each peer.")
    section: SectionId
    label: str = Field(description="The field's plain-language title.")
    text: str = Field(description="The question, in plain words.")
    help: str | None = Field(default=None, description="More about what to answer, when the question alone does not say.")
    answer: AnswerSpec
    required: bool = Field(description="A profile must answer it (program name, state, the peers and each peer's title); "
                           "required questions are asked first.")
    rules: list[RuleRef] = Field(description="The rules that read this field, directly or through a value derived from it.")


class Section(_Frozen):
    id: SectionId
    label: str
    per_peer: bool = Field(description="Its questions are asked once for each peer.")


class Questionnaire(BaseModel):
    """Every question PeerCheck may ask, in the order of the profile schema."""

    ruleset_version: str
    schema_version: str = Field(description="The profile schema version the questions are written for.")
    severity_weights: dict[str, float] = Field(description="How much an undecided rule of each severity counts when "
                                               "questions are ordered by value.")
    sections: list[Section]
    questions: list[QuestionDef]


class WaitingRule(RuleRef):
    """A rule an open question would help decide."""

    outcome: Literal["needs_information", "fired"] = Field(
        description="`needs_information`: the rule cannot be judged until this is answered; `fired`: the rule flagged a "
        "risk because this field is empty (absence counts against the program), and an answer confirms or clears it.")
    settles: bool = Field(description="Answering this question alone (with anything but \"don't know\") decides the rule; "
                          "false when the rule also waits on another unanswered question.")
    peers: list[int] | None = Field(default=None, description="For a rule judged per peer: the peers (numbered from 1) "
                                    "for whom it waits on this question.")


class OpenQuestion(BaseModel):
    """A question whose answer would decide rules that are undecided now — one concrete field, with the rules
    waiting on it."""

    model_config = ConfigDict(frozen=True)  # shared between decisions (the ranker's cache) and their JSON

    question_id: str = Field(description="The catalog question (`GET /v1/questionnaire`): label, help, answer options.")
    pointer: str = Field(description="JSON pointer of the field to fill in.")
    peer: int | None = Field(default=None, description="For a question about one peer: which, counted from 1 (\"Peer 2\").")
    peer_id: str | None = Field(default=None, description="The caller's id for that peer, if given.")
    section: SectionId
    label: str
    text: str
    answer_type: AnswerType
    dont_know: bool = Field(description="The profile answered \"don't know\": the rules below stay undecided.")
    value: float = Field(description="Severity-weighted share of the waiting rules this answer would decide; questions "
                         "are ordered by it, most valuable first.")
    waiting: list[WaitingRule] = Field(description="Why we ask: the rules waiting on the answer, most severe first.")


class NextQuestion(OpenQuestion):
    """An open question with everything a form needs to ask it."""

    help: str | None = None
    answer: AnswerSpec
    required: bool = Field(description="The profile cannot be evaluated without it.")


class Progress(BaseModel):
    """How far the review has come. Questions are counted per field: a question asked of every peer
    counts once per peer."""

    answered: int = Field(description="Questions answered (with a value).")
    dont_know: int = Field(description="Questions answered \"don't know\".")
    remaining: int = Field(description="Unanswered questions whose answer could still change the review: answering them all "
                           "decides every rule that can still be decided.")
    remaining_critical_high: int = Field(description="Of those, the questions that critical or high-severity rules still wait on.")
    not_needed: int = Field(description="Unanswered questions whose answer would change nothing now.")
    total: int = Field(description="All questions for a program of this many peers.")
    undecided_rules: int = Field(description="Rules (per subject: the program, each peer) that need information.")
    undecided_critical_high: int = Field(description="Of those, rules of critical or high severity.")
    peers_listed: bool = Field(description="The peers are listed. Until they are, per-peer questions are counted for one peer.")


class DraftProblem(BaseModel):
    """One part of a draft that is not valid, worded as ``POST /v1/evaluations`` words problems
    (engine/validation.py): the field by its label and position, what is wrong, the fix."""

    pointer: str = Field(description="JSON pointer into the draft ('' for the draft itself).")
    field: str = Field("", description="The field for people, by its label and position: 'Peer 1 › Full-time "
                       "equivalent (FTE)' ('' when the problem is not about one field).")
    detail: str = Field(description="What is wrong, in plain words; the value there was left out of the review.")
    fix: str | None = Field(None, description="What to do, when PeerCheck can tell: 'Did you mean OH (Ohio)?'.")

    def text(self) -> str:
        """The problem in one line: field, what is wrong, the fix."""
        where = f"{self.field}: " if self.field else ""
        return f"{where}{self.detail}." + (f" {self.fix}" if self.fix else "")


class NextQuestions(BaseModel):
    """The next questions for a profile in progress."""

    ruleset_version: str
    complete: bool = Field(description="The draft is a valid profile as it stands: `POST /v1/evaluations` accepts it.")
    problems: list[DraftProblem] = Field(description="Parts of the draft that are not valid; they were left out, and "
                                         "their questions are asked again.")
    questions: list[NextQuestion] = Field(description="Required questions first, then the most valuable; \"don't know\" "
                                          "answers are not asked again.")
    progress: Progress
