"""Which open questions matter most: the rules waiting on each, weighted by severity.

A rule that cannot be judged on a subject (the program, or one peer) waits on the unanswered
fields it reads — its "needs information" pointers, applicability included. Each such rule
counts ``SEVERITY_WEIGHTS[severity]``, shared equally among the questions it waits on::

    value(question) = sum over waiting (rule, subject):  weight(rule) / questions that rule waits on

A question that is the only thing a rule waits on *settles* it: once answered (with anything but
"don't know") the rule is decided, whatever the answer. A rule that waits on several questions —
a conjunction of unknown fields, a rule and its applicability, caseload and FTE — is decided
for certain only when all are answered, so each gets its share; the first answer may decide it
sooner (a rule that does not apply needs nothing else), and the next evaluation sees that.

Rules that flagged a risk *because* a field is empty (``optional_inputs``: absence counts
against the program, e.g. no known outside peer network) wait on that field too, with outcome
``fired``: the answer confirms or clears the finding.

Ties go to the schema's order (program, peers, supervision, policies, hiring), then peer order.
"""

from __future__ import annotations

import operator
from typing import Any, Iterable, Protocol, Sequence

from engine.construct import built
from engine.questions.catalog import QuestionCatalog
from engine.questions.models import OpenQuestion, WaitingRule
from engine.spec import SEVERITY_RANK

# How much one undecided rule counts, by severity: the one place these weights are set. Steep on
# purpose, so the questions that decide critical and high-severity rules come first: a critical rule
# counts as three high ones, and a high one outweighs six medium ones; a medium rule counts as three
# low ones, an info rule as half a low one. (On the eleven case studies, a high rule worth three
# medium ones instead took 30% more questions to decide every critical and high rule: docs/questions.md.)
SEVERITY_WEIGHTS: dict[str, float] = {"critical": 60.0, "high": 20.0, "medium": 3.0, "low": 1.0, "info": 0.5}
CRITICAL_HIGH = frozenset({"critical", "high"})


class Waiting(Protocol):
    """A rule on a subject that waits on profile fields: NeedsInformation has this shape."""

    rule_id: str
    title: str
    severity: Any
    subject: Any
    missing: list[str]


class Ranker:
    """Groups waiting rules by question and orders the questions by value, for one catalog.

    Cheap per decision: the entries of "why we ask" are made once per (rule, outcome, settles)
    and shared, and so are whole open questions that recur between decisions (same field, same
    waiting rules, same value) — a bounded cache, since decisions share most program-level
    questions. Everything shared is immutable."""

    CACHE_SIZE = 8192

    def __init__(self, catalog: QuestionCatalog, weights: dict[str, float] | None = None):
        self.catalog = catalog
        self.weights = {severity: float(w) for severity, w in (weights or catalog.severity_weights).items()}
        # rule id -> (weight, entry when this is the only question the rule waits on, entry otherwise),
        # per outcome; made on first use. Bounded: one per rule.
        self._entries: dict[str, dict[str, tuple[float, WaitingRule, WaitingRule]]] = {
            "needs_information": {}, "fired": {}}
        self._cache: dict[tuple[Any, ...], tuple[tuple[Any, ...], OpenQuestion]] = {}
        self._raw: dict[tuple[Any, ...], tuple[Any, ...]] = {}  # the same, keyed by the waits before merging

    def rank(self, needs: Iterable[Waiting], assumed: Iterable[Waiting] = (), dont_know: Sequence[str] | None = None,
             peer_ids: Sequence[str | None] = ()) -> list[OpenQuestion]:
        """One open question per field that rules wait on, most valuable first; questions answered
        "don't know" after the others (they stay open, but asking again is pointless)."""
        slots = self.gather(needs, assumed)
        unknown = frozenset(dont_know or ())
        located, cache, ranked = self.catalog.located, self._cache, []
        for pointer, (value, waits) in slots.items():
            if len(waits) == 1:  # the common case, looked up without building anything
                where = located.get(pointer)
                if where is not None:
                    peer = where[1]
                    if peer is not None or waits[0][1] is None:
                        found = cache.get((pointer, pointer in unknown,
                                           peer_ids[peer] if peer is not None and peer < len(peer_ids) else None,
                                           value if value.is_integer() else round(value, 3), id(waits[0][0])))
                        if found is not None:
                            ranked.append(found)
                            continue
            ranked.append(self._ranked(pointer, value, waits, pointer in unknown, peer_ids))
        ranked.sort()
        return list(map(_question_of, ranked))

    def gather(self, needs: Iterable[Waiting], assumed: Iterable[Waiting] = ()) -> dict[str, list[Any]]:
        """pointer -> [value, [(entry of "why we ask", the subject's peer index or None), ...]]."""
        slots: dict[str, list[Any]] = {}
        for outcome, items in (("needs_information", needs), ("fired", assumed)):
            entries = self._entries[outcome]
            for item in items:
                missing = item.missing
                found = entries.get(item.rule_id) or self._entry(item, outcome)
                if len(missing) == 1:
                    share, entry = found[0], found[1]
                else:
                    share, entry = found[0] / len(missing), found[2]
                waits = (entry, item.subject.peer_index)
                for pointer in missing:
                    slot = slots.get(pointer)
                    if slot is None:
                        slots[pointer] = [share, [waits]]
                    else:
                        slot[0] += share
                        slot[1].append(waits)
        return slots

    def order_key(self, pointer: str, value: float) -> tuple[float, int, int]:
        """Most valuable first; ties in the schema's order, then peer order."""
        located = self.catalog.locate(pointer)
        if located is None:
            return -value, len(self.catalog.position), -1
        return -value, self.catalog.position[located[0].id], -1 if located[1] is None else located[1]

    def question(self, pointer: str, slot: list[Any] | None, dont_know: bool,
                 peer_ids: Sequence[str | None]) -> OpenQuestion:
        """The open question for one field, from its slot in ``gather`` (None: no rule waits on it)."""
        value, waits = slot if slot is not None else (0.0, [])
        return self._ranked(pointer, value, waits, dont_know, peer_ids)[-1]

    def _entry(self, item: Waiting, outcome: str) -> tuple[float, WaitingRule, WaitingRule]:
        made = self._entries[outcome][item.rule_id] = (self.weights[item.severity], *(
            WaitingRule(rule_id=item.rule_id, title=item.title, severity=item.severity, outcome=outcome, settles=settles)
            for settles in (True, False)))
        return made

    def _ranked(self, pointer: str, value: float, waits: list[tuple[WaitingRule, int | None]], dont_know: bool,
                peer_ids: Sequence[str | None]) -> tuple[Any, ...]:
        """(sort key..., open question): most valuable first; ties in schema order, then peer order."""
        located = self.catalog.locate(pointer)
        peer = None if located is None else located[1]
        peer_id = peer_ids[peer] if peer is not None and peer < len(peer_ids) else None
        # the same waits (shared entries, in the same order) rank the same: looked up before merging
        raw = (pointer, dont_know, peer_id, value, *[(id(e), p) for e, p in waits])
        cached = self._raw.get(raw)
        if cached is not None:
            return cached
        ranked = self._made(pointer, value, waits, dont_know, located, peer, peer_id)
        if len(self._raw) >= self.CACHE_SIZE:
            self._raw.clear()
        self._raw[raw] = ranked
        return ranked

    def _made(self, pointer: str, value: float, waits: list[tuple[WaitingRule, int | None]], dont_know: bool,
              located: Any, peer: int | None, peer_id: str | None) -> tuple[Any, ...]:
        """``_ranked`` for waits not seen in this order before: merged per rule, then looked up by what they merge to."""
        if len(waits) == 1 and (peer is not None or waits[0][1] is None):
            merged: list[tuple[WaitingRule, tuple[int, ...] | None]] = [(waits[0][0], None)]
        else:
            merged = _merged(waits, per_peer_field=peer is not None)
        if not value.is_integer():
            value = round(value, 3)
        # ids of shared entries, alive as long as the ranker: never reused for another entry
        key = (pointer, dont_know, peer_id, value, *(id(e) if p is None else (id(e), p) for e, p in merged))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if located is None:  # not a question of this catalog: named as it is, never dropped
            question_id, section, label, text, answer_type = pointer, "program", pointer, pointer, "text"
            position = len(self.catalog.position)
        else:
            q = located[0]
            question_id, section, label, text, answer_type = q.id, q.section, q.label, q.text, q.answer.type
            position = self.catalog.position[q.id]
        waiting = [entry if peers is None else built(WaitingRule, {**entry.__dict__, "peers": list(peers)})
                   for entry, peers in merged]
        made = built(OpenQuestion, {
            "question_id": question_id, "pointer": pointer, "peer": None if peer is None else peer + 1,
            "peer_id": peer_id, "section": section, "label": label, "text": text, "answer_type": answer_type,
            "dont_know": dont_know, "value": value, "waiting": waiting,
        })
        ranked = (dont_know, -value, position, -1 if peer is None else peer, made)
        if len(self._cache) >= self.CACHE_SIZE:
            self._cache.clear()
        self._cache[key] = ranked
        return ranked


_question_of = operator.itemgetter(4)  # of a ranked tuple: (dont_know, -value, position, peer, question)


def _merged(waits: list[tuple[WaitingRule, int | None]], per_peer_field: bool,
            ) -> list[tuple[WaitingRule, tuple[int, ...] | None]]:
    """One entry per rule (and outcome), most severe first, with the peers (numbered from 1) a per-peer
    rule waits for when the field is the program's. A rule waiting on several subjects settles only
    if it does for each."""
    by_rule: dict[tuple[str, str], list[Any]] = {}
    for entry, peer in waits:
        key = (entry.rule_id, entry.outcome)
        found = by_rule.get(key)
        if found is None:
            found = by_rule[key] = [entry, [] if peer is not None and not per_peer_field else None]
        elif found[0].settles and not entry.settles:
            found[0] = entry
        if found[1] is not None:
            found[1].append(peer + 1)
    merged = [(entry, None if peers is None else tuple(peers)) for entry, peers in by_rule.values()]
    if len(merged) > 1:
        merged.sort(key=_most_severe_pair)
    return merged


def _most_severe_pair(pair: tuple[WaitingRule, Any]) -> tuple[int, str]:
    return SEVERITY_RANK[pair[0].severity], pair[0].rule_id


def peer_name(number: int, peer_id: str | None = None) -> str:
    """How a peer is named to people: 'Peer 2', counted from 1; the caller's own id for the peer
    follows in brackets ('Peer 2 (peer-b)') unless it only repeats the number (``shown_id``)."""
    shown = shown_id(number, peer_id)
    return f"Peer {number}" + (f" ({shown})" if shown else "")


def shown_id(number: int, peer_id: str | None) -> str | None:
    """The caller's id for peer ``number`` as people see it beside the number: None when there is
    none or it only repeats the number ('peer-2', as the guided form numbers the peers it lists)."""
    return peer_id if peer_id and peer_id != f"peer-{number}" else None


def peers_named(numbers: Sequence[int], most: int = 5) -> str:
    """Peers (numbered from 1) in words: 'Peer 1', 'Peers 1 and 2', 'Peers 1, 2, 3, 4, 5 and 3 more'."""
    if len(numbers) == 1:
        return peer_name(numbers[0])
    shown = [str(n) for n in numbers[:most]]
    rest = len(numbers) - len(shown)
    return "Peers " + (", ".join(shown) + f" and {rest} more" if rest else ", ".join(shown[:-1]) + " and " + shown[-1])


def heading(question: OpenQuestion) -> str:
    """How a question is named to people: 'Peer 2 › Active caseload', 'Supervision › How often supervision
    happens'. Peers are counted from 1; the caller's own id for the peer follows in brackets."""
    if question.peer is not None:
        who = peer_name(question.peer, question.peer_id)
    else:
        who = {"program": "Program", "peers": "Peers", "supervision": "Supervision", "policies": "Policies",
               "hiring": "Hiring"}[question.section]
    return question.label if who == question.label else f"{who} › {question.label}"


def why(question: OpenQuestion, limit: int = 3) -> str:
    """'Why we ask' in one line: the most severe waiting rules, then how many more."""
    parts = []
    for w in question.waiting[:limit]:
        peers = f", for {peers_named(w.peers)}" if w.peers and question.peer is None else ""
        parts.append(f"{w.title} ({w.severity}{', finding to confirm' if w.outcome == 'fired' else ''}{peers})")
    more = len(question.waiting) - limit
    return "; ".join(parts) + (f"; and {more} more rule{'s' * (more != 1)}" if more > 0 else "")
