"""What-if: which findings a change to a program resolves, keeps and adds — the same for the API's
``:compare``, ``peercheck compare`` and the page's comparison.

Findings are matched by ``finding_id`` (rule + subject; a peer is identified by its ``id`` when
given, else by its position), so give peers ids if the change reorders, adds or removes peers.
Acknowledged findings count as findings here: acknowledging a risk does not resolve it.

Absent data is not compliance: a finding of ``before`` whose rule, after the change, cannot be
judged on the same subject (an answer it needs was removed or marked "don't know") is not
resolved but ``undecided``.
"""

from __future__ import annotations

from typing import NamedTuple

from engine.evaluate import Decision, Finding, Subject


class Changes(NamedTuple):
    """The findings a change moves, each list in decision order (severity first)."""

    resolved: list[Finding]  # as they were before; after the change the rule passes or no longer applies
    remaining: list[Finding]  # as they are after (the message may have changed)
    new: list[Finding]  # as they are after
    undecided: list[Finding]  # as they were before; after the change the rule needs information


def _subject(subject: Subject) -> str:
    return subject.peer_id if subject.peer_id is not None else subject.pointer


def compare(before: Decision, after: Decision) -> Changes:
    """Sort the findings of two decisions of one program into resolved, remaining, new and undecided."""
    before_ids = {f.finding_id for f in before.findings}
    after_ids = {f.finding_id for f in after.findings}
    waiting = {(n.rule_id, _subject(n.subject)) for n in after.needs_information}
    gone = [f for f in before.findings if f.finding_id not in after_ids]
    return Changes(
        resolved=[f for f in gone if (f.rule_id, _subject(f.subject)) not in waiting],
        remaining=[f for f in after.findings if f.finding_id in before_ids],
        new=[f for f in after.findings if f.finding_id not in before_ids],
        undecided=[f for f in gone if (f.rule_id, _subject(f.subject)) in waiting],
    )
