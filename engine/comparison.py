"""What-if: which findings a change to a program resolves, keeps and adds — the same for the API's
``:compare`` and ``peercheck compare``.

Findings are matched by ``finding_id`` (rule + subject; a peer is identified by its ``id`` when
given, else by its position), so give peers ids if the change reorders, adds or removes peers.
Acknowledged findings count as findings here: acknowledging a risk does not resolve it.
"""

from __future__ import annotations

from engine.evaluate import Decision, Finding


def compare(before: Decision, after: Decision) -> tuple[list[Finding], list[Finding], list[Finding]]:
    """(resolved, remaining, new), each in decision order (severity first): ``resolved`` as they
    were before, ``remaining`` and ``new`` as they are after."""
    before_ids = {f.finding_id for f in before.findings}
    after_ids = {f.finding_id for f in after.findings}
    resolved = [f for f in before.findings if f.finding_id not in after_ids]
    remaining = [f for f in after.findings if f.finding_id in before_ids]
    new = [f for f in after.findings if f.finding_id not in before_ids]
    return resolved, remaining, new
