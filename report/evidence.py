"""A finding's evidence as people read it: the answers the finding rests on, named by their
labels, with codes read as their labels — "Funding: Medicaid billing for peer services, county
funds", "Peer 2 › Active caseload: 25" — never ``/program/funding = true (bills_medicaid)``.

Machines keep the JSON pointers, fact fields and codes in the decision's ``evidence``; this is
only how a report, the terminal or a card shows them.

With the profile, each line is the program's own answer at one of the evidence's pointers (the
profile field a rule read, even when the rule read a value derived from it). Without it (a
decision read back from the decision log) each line is the fact the rule read, by the label of
the field it comes from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine import Finding, Profile, Ruleset
import re

from engine.evaluate import CODE_LABELS
from engine.facts import VOCABULARY
from engine.questions.catalog import QuestionCatalog, catalog_for
from engine.questions.draft import value_at
from engine.questions.ranking import peer_name
from report.format import subject_name, value_text

MAX_LINES = 8  # a program-level rule that reads every peer's answer: the first lines, then how many more
SEPARATOR = " › "


@dataclass(frozen=True)
class EvidenceLine:
    """One line of evidence: where (in words) and what it says. ``pointers`` (into the profile) and
    ``field`` (the fact the rule read) are kept for machines and anchors."""

    label: str
    value: str
    pointers: list[str]
    field: str | None = None

    def text(self) -> str:
        return f"{self.label}: {self.value}"


def evidence_lines(finding: Finding, ruleset: Ruleset, profile: Profile | None = None) -> list[EvidenceLine]:
    """The evidence of ``finding`` as lines of words, each line once, at most ``MAX_LINES`` (then a
    line that says how many more)."""
    catalog = catalog_for(ruleset)
    own_peer = finding.subject.peer_index
    lines: list[EvidenceLine] = []
    seen: set[str] = set()
    if profile is not None:
        for item in finding.evidence:
            for pointer in item.pointers:
                if pointer not in seen:
                    seen.add(pointer)
                    lines.append(EvidenceLine(place(pointer, catalog, own_peer, profile),
                                              answer_text(pointer, value_at(profile, pointer), catalog, profile),
                                              [pointer], item.field))
    else:
        for item in finding.evidence:
            label = _fact_label(item.field, item.pointers, catalog, own_peer)
            value = _fact_value(item.field, item.value, catalog, item.pointers)
            line = EvidenceLine(label, value, list(item.pointers), item.field)
            if line.text() not in seen:
                seen.add(line.text())
                lines.append(line)
    if len(lines) > MAX_LINES:
        more = len(lines) - MAX_LINES + 1
        lines = lines[: MAX_LINES - 1] + [EvidenceLine("And", f"{more} more answers", [], None)]
    return lines


_PEER_FIELD = re.compile(r"/peers/(\d+)/")


def peers_read(finding: Finding) -> list[int] | None:
    """The peers (indices) whose answers a finding's evidence rests on, when it rests on nothing
    else — a program-level rule that counts peers' answers; None when it reads any program field."""
    pointers = [p for item in finding.evidence for p in item.pointers]
    found = [_PEER_FIELD.match(p) for p in pointers]
    if not pointers or not all(found):
        return None
    return sorted({int(m.group(1)) for m in found if m})


def who(finding: Finding) -> str:
    """Who a finding is about, short, for lists: 'Peer 2 (p2)'; 'Program' for the program — except a
    program-level finding that rests only on peers' answers (peers paid below a living wage): 'Peer 1'
    when one peer's answers are read, 'Across the peers' when several are (its evidence says whose
    answer is which)."""
    if finding.subject.kind == "program":
        peers = peers_read(finding)
        if peers:
            return peer_name(peers[0] + 1) if len(peers) == 1 else "Across the peers"
    return subject_name(finding.subject)


def place(pointer: str, catalog: QuestionCatalog, own_peer: int | None = None, profile: Profile | None = None) -> str:
    """A profile field in words: 'Funding', 'Peer 2 › Active caseload' — the peer left out when the
    finding is about that peer already (``own_peer``)."""
    located = catalog.locate(pointer)
    if located is None:
        return pointer
    question, peer = located
    if peer is None or peer == own_peer:
        return question.label
    peer_id = profile.peers[peer].id if profile is not None and peer < len(profile.peers) else None
    return f"{peer_name(peer + 1, peer_id)}{SEPARATOR}{question.label}"


def answer_text(pointer: str, value: Any, catalog: QuestionCatalog, profile: Profile | None = None) -> str:
    """A profile answer in words: yes / no, codes as their labels, "don't know", unknown."""
    if value is None:
        return "don't know" if profile is not None and pointer in (profile.dont_know or ()) else "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if pointer == "/peers" and isinstance(value, list):
        return f"{len(value)} peer position{'s' * (len(value) != 1)}"
    located = catalog.locate(pointer)
    options = {o.value: o.label for o in located[0].answer.options or ()} if located else {}
    if isinstance(value, list):
        return _joined([_label(v, options) for v in value])
    return _label(value, options)


def _label(value: Any, options: dict[str, str]) -> str:
    label = getattr(value, "label", None)  # a Labelled enum member
    if label is None:
        label = options.get(getattr(value, "value", value))
    return label if label is not None else value_text(value)


def _joined(items: list[str]) -> str:
    if not items:
        return "none"
    return ("; " if any("," in item for item in items) else ", ").join(items)


def _fact_label(name: str, pointers: list[str], catalog: QuestionCatalog, own_peer: int | None) -> str:
    """Without the profile: the label of the field the fact comes from ('Active caseload'), or, for a
    value derived from it, the fact's own description ('The program bills Medicaid for peer services')."""
    located = catalog.locate(pointers[0]) if pointers else None
    if located is not None and len(pointers) == 1 and name.endswith(located[0].pointer.rsplit("/", 1)[-1]):
        return place(pointers[0], catalog, own_peer)
    described = _ABSENT_NOTE.sub("", VOCABULARY[name].description).rstrip(".") if name in VOCABULARY else ""
    if described and not _CODE_LIKE.search(described):
        return described
    where = place(pointers[0], catalog, own_peer) if pointers else "Derived"
    return f"{where} ({name.replace('_', ' ')})"


_ABSENT_NOTE = re.compile(r"\s*\((absent|the lowest|negative)[^)]*\)")
_CODE_LIKE = re.compile(r"`|'[a-z_]+'|[a-z]_[a-z]")


def _fact_value(name: str, value: Any, catalog: QuestionCatalog, pointers: list[str]) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    labels = CODE_LABELS.get(name)
    if labels is None and pointers and isinstance(value, list):  # activity codes: the question's options
        located = catalog.locate(pointers[0])
        labels = {o.value: o.label for o in located[0].answer.options or ()} if located else None
    if labels is not None and value is not None:
        return _joined([labels.get(v, v) for v in value]) if isinstance(value, list) else labels.get(value, value)
    return value_text(value)
