"""The next questions for a profile in progress — stateless: the caller sends the draft so far.

1. The draft is read leniently (engine/questions/draft.py): what is valid is kept, problems are
   named, required answers that are missing become the first questions.
2. Rules are matched on the draft's facts, with the facts that rest on stand-ins taken out, so
   the rules that cannot be judged yet are exactly those ``evaluate`` would report.
3. Their fields are grouped and valued as in every decision (engine/questions/ranking.py); the
   most valuable unanswered questions come back, with why we ask and what an answer looks like.
   Questions answered "don't know" are not asked again.

Only the questions returned are built in full: a draft of 500 peers has thousands of open
questions, and progress counts them without making each one.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING, Any

from engine.construct import built
from engine.facts import VOCABULARY
from engine.questions.draft import Draft, read_draft, value_at
from engine.questions.models import NextQuestion, NextQuestions, OpenQuestion, Progress, WaitingRule
from engine.questions.ranking import CRITICAL_HIGH

if TYPE_CHECKING:  # engine.evaluate imports this package; the evaluator is passed in
    from engine.evaluate import Evaluator

DEFAULT_LIMIT = 5
MAX_LIMIT = 100


# profile field -> the fact fields built from it (to take out what rests on a stand-in)
FACTS_FROM: dict[str, tuple[str, ...]] = {}
for _name, _field in VOCABULARY.items():
    for _source in _field.sources:
        FACTS_FROM[_source] = FACTS_FROM.get(_source, ()) + (_name,)


class Interview:
    """Next questions over one evaluator (its ruleset, engine and question catalog). Cheap to make."""

    def __init__(self, evaluator: "Evaluator"):
        self.evaluator = evaluator
        self.catalog = evaluator.questions
        self.ranker = evaluator.ranker

    def read(self, data: Any) -> Draft:
        return read_draft(data, self.catalog)

    def next(self, data: Any, limit: int = DEFAULT_LIMIT) -> NextQuestions:
        """The ``limit`` most valuable questions to ask next about ``data`` (a profile, complete or not)."""
        draft = self.read(data)
        needs, assumed = self.pending(draft)
        slots = self.ranker.gather(needs, assumed)
        answered = self._answered(draft)
        unknown = set(draft.dont_know)
        real_peers = len(draft.profile.peers) if draft.peers_listed else 0
        required = list(draft.unanswered_required)
        not_askable = unknown | answered | set(required)
        askable = {pointer: slot for pointer, slot in slots.items()
                   if pointer not in not_askable and _peer_of(pointer) < real_peers}
        peer_ids = [p.id for p in draft.profile.peers] if draft.peers_listed else []
        chosen: list[OpenQuestion] = []
        for pointer in required[:limit]:
            slot = slots.get(pointer)
            chosen.append(self.ranker.question(pointer, slot, False, peer_ids))
        if len(chosen) < limit:
            best = heapq.nsmallest(limit - len(chosen), askable.items(),
                                   key=lambda item: self.ranker.order_key(item[0], item[1][0]))
            chosen += [self.ranker.question(pointer, slot, False, peer_ids) for pointer, slot in best]
        if not draft.peers_listed:  # the one peer rules waited on is a stand-in: no peer to name yet
            chosen = [_without_peers(q) for q in chosen]
        return NextQuestions(
            ruleset_version=self.catalog.ruleset_version,
            complete=draft.complete,
            problems=list(draft.problems),
            questions=[self._full(q, i < len(required)) for i, q in enumerate(chosen)],
            progress=self._progress(draft, needs, slots, answered, unknown, required),
        )

    def pending(self, draft: Draft) -> tuple[list[Any], list[Any]]:
        """The rules that cannot be judged on the draft, and the findings' assumptions, as
        ``evaluate`` reports them — with no stand-in value reaching a rule."""
        facts = self.evaluator.ruleset.facts.build(draft.profile)
        hidden = [name for source in draft.unknown_sources for name in FACTS_FROM.get(source, ())]
        if hidden:
            for fact in facts:
                for name in hidden:
                    fact.pop(name, None)
        return self.evaluator.pending(draft.profile, facts)

    def _answered(self, draft: Draft) -> set[str]:
        """Concrete pointers of the questions the draft answers (stand-ins are not answers)."""
        profile, out = draft.profile, set()
        stand_ins = set(draft.unanswered_required)
        for question in self.catalog.program_questions:
            if question.pointer not in stand_ins and value_at(profile, question.pointer) is not None:
                out.add(question.pointer)
        if draft.peers_listed:
            paths = [(q.pointer, q.pointer.split("/")[3:]) for q in self.catalog.peer_questions]
            for index, peer in enumerate(profile.peers):
                for template, path in paths:
                    node = getattr(peer, path[0], None)
                    if len(path) > 1 and node is not None:
                        node = getattr(node, path[1], None)
                    if node is not None:
                        pointer = template.replace("{i}", str(index))
                        if pointer not in stand_ins:
                            out.add(pointer)
        return out

    def _progress(self, draft: Draft, needs: list[Any], slots: dict[str, list[Any]], answered: set[str],
                  unknown: set[str], required: list[str]) -> Progress:
        peers = len(draft.profile.peers)  # the stand-in counts as one
        total = len(self.catalog.program_questions) + peers * len(self.catalog.peer_questions)
        required_set = set(required)
        open_pointers = {p for p in slots if p not in unknown and p not in answered} | required_set
        critical_high = {p for p in open_pointers if p in required_set or any(
            entry.severity in CRITICAL_HIGH and entry.outcome == "needs_information" for entry, _ in slots[p][1])}
        return Progress(
            answered=len(answered), dont_know=len(unknown), remaining=len(open_pointers),
            remaining_critical_high=len(critical_high),
            not_needed=max(0, total - len(answered) - len(unknown) - len(open_pointers)),
            total=total, undecided_rules=len(needs),
            undecided_critical_high=sum(1 for n in needs if n.severity in CRITICAL_HIGH),
            peers_listed=draft.peers_listed,
        )

    def _full(self, question: OpenQuestion, required: bool) -> NextQuestion:
        definition = self.catalog.locate(question.pointer)
        q = definition[0] if definition else None
        return built(NextQuestion, {**question.__dict__, "help": q.help if q else None,
                                    "answer": q.answer if q else None, "required": required})


def _without_peers(question: OpenQuestion) -> OpenQuestion:
    if not any(w.peers for w in question.waiting):
        return question
    return built(OpenQuestion, {**question.__dict__, "waiting": [
        w if not w.peers else built(WaitingRule, {**w.__dict__, "peers": None}) for w in question.waiting]})


def _peer_of(pointer: str) -> int:
    """The peer index a pointer names (-1 for the program)."""
    if pointer.startswith("/peers/"):
        segment = pointer.split("/", 3)[2]
        return int(segment) if segment.isdigit() else -1
    return -1
