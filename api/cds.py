"""CDS Hooks 2.0: PeerCheck as a CDS Service, so an existing CDS client can show its findings as cards.

Field names follow the CDS Hooks 2.0 specification exactly (discovery ``services[]``; request
``hook``, ``hookInstance``, ``context``; response ``cards[]`` with ``uuid``, ``summary``,
``detail``, ``indicator``, ``source``). The spec says optional attributes are omitted, never
null, so these models are always serialised without None values.

The hook is PeerCheck's own, ``peercheck-program-review``: the profile of the program under
review travels in ``context.profile``. No prefetch: PeerCheck reads no FHIR data.

Severity → indicator (the spec's three levels, in increasing urgency):

==========  ==========  ==========================================================
severity    indicator   why
==========  ==========  ==========================================================
critical    critical    the spec's "high urgency … should be immediately addressed"
high        warning     "urgent or highly relevant … should be considered"
medium      warning     still a risk the guidance asks to change
low         info        worth knowing; no change demanded
info        info        context only
==========  ==========  ==========================================================

An acknowledged finding is shown as ``info`` (the program has already weighed it), its summary
starting "Acknowledged:". Rules that need information share one short ``info`` card: the
``QUESTIONS_ON_CARD`` most valuable questions, each with why we ask, and how many more there are
(the decision's ``questions`` has them all). No findings and nothing missing → ``{"cards": []}``,
as the spec asks.

Each card has one ``source``: the rule's first citation (document and section), with the rule as
``topic``. No ``url`` and no ``links``: the sources are stored as text, and PeerCheck does not
invent addresses for them.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from engine import Decision, Finding, Profile
from engine.evaluate import CitationOut
from engine.questions import heading, why
from report.markdown import md as _md  # inline text: Markdown escaped, line breaks made spaces

SERVICE_ID = "peercheck-program-review"
HOOK = "peercheck-program-review"
SUMMARY_MAX = 139  # the spec: "<140-character summary"
QUESTIONS_ON_CARD = 5
TOPIC_SYSTEM = "urn:peercheck:rule"

INDICATOR: dict[str, Literal["info", "warning", "critical"]] = {
    "critical": "critical", "high": "warning", "medium": "warning", "low": "info", "info": "info",
}


class _Cds(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CdsService(_Cds):
    hook: str
    title: str | None = None
    description: str
    id: str
    prefetch: dict[str, str] | None = None
    usageRequirements: str | None = None  # noqa: N815 (the spec's name)


class Discovery(_Cds):
    services: list[CdsService]


class Coding(_Cds):
    system: str
    code: str
    display: str | None = None


class CardSource(_Cds):
    label: str = Field(min_length=1)
    url: str | None = None
    icon: str | None = None
    topic: Coding | None = None


class Link(_Cds):
    label: str
    url: str
    type: Literal["absolute", "smart"]
    appContext: str | None = None  # noqa: N815


class Card(_Cds):
    uuid: str | None = None
    summary: str = Field(min_length=1, max_length=SUMMARY_MAX)
    detail: str | None = Field(default=None, description="GitHub-flavoured Markdown.")
    indicator: Literal["info", "warning", "critical"]
    source: CardSource
    links: list[Link] | None = None


class CdsResponse(_Cds):
    cards: list[Card]
    extension: dict[str, Any] | None = Field(
        default=None, description="`peercheck`: the decision id, ruleset version, status and whether it was recorded."
    )


class ProgramReviewContext(BaseModel):
    """The context of the ``peercheck-program-review`` hook. Other context fields are ignored."""

    profile: Profile = Field(description="The program profile under review.")


class CdsRequest(BaseModel):
    """A CDS Hooks 2.0 service call. FHIR fields are accepted and ignored: PeerCheck reads no FHIR data."""

    hook: str = Field(description=f"Must be `{HOOK}`.")
    hookInstance: str = Field(min_length=1, max_length=128, description="UUID of this hook call.")  # noqa: N815
    fhirServer: str | None = None  # noqa: N815
    fhirAuthorization: dict[str, Any] | None = None  # noqa: N815
    context: ProgramReviewContext
    prefetch: dict[str, Any] | None = None
    extension: dict[str, Any] | None = None


DISCOVERY = Discovery(services=[CdsService(
    hook=HOOK,
    id=SERVICE_ID,
    title="PeerCheck program review",
    description="Checks a peer recovery support program in a justice setting against federal guidance and returns "
    "one card per flagged risk (severity, evidence, what to do, source passage). Send the program profile in "
    "context.profile.",
)])


def cards(decision: Decision, labels: dict[str, str]) -> list[Card]:
    """The decision as cards: findings (most severe first), then one card for missing information."""
    out = [_finding_card(decision, f, labels) for f in decision.findings]
    if decision.questions:
        out.append(_questions_card(decision))
    return out


def response(decision: Decision, labels: dict[str, str], recorded: bool) -> CdsResponse:
    return CdsResponse(cards=cards(decision, labels), extension={"peercheck": {
        "decision_id": decision.decision_id, "ruleset_version": decision.ruleset_version,
        "status": decision.summary.status, "recorded": recorded,
    }})


def source_labels(sources: dict[str, Any]) -> dict[str, str]:
    """Short labels by source id: the document's title up to its first colon or dash, and its year."""
    return {
        source_id: f"{re.split(r':| — ', info.title, maxsplit=1)[0].strip()} ({info.year})"
        for source_id, info in sources.items()
    }


def _finding_card(decision: Decision, finding: Finding, labels: dict[str, str]) -> Card:
    citation = finding.citations[0]
    acknowledged = finding.acknowledged is not None
    summary = ("Acknowledged: " if acknowledged else "") + finding.title + _who(finding)
    return Card(
        uuid=str(uuid.uuid5(uuid.UUID(decision.decision_id), finding.finding_id)),
        summary=_clip(summary),
        detail=_detail(finding, citation),
        indicator="info" if acknowledged else INDICATOR[finding.severity],
        source=CardSource(
            label=f"{labels[citation.source]}, {citation.section}" if citation.source in labels
            else f"{citation.title}, {citation.section}",
            topic=Coding(system=TOPIC_SYSTEM, code=finding.rule_id, display=finding.title),
        ),
    )


def _questions_card(decision: Decision) -> Card:
    """The most valuable questions, with why we ask; "don't know" answers only counted."""
    asked = [q for q in decision.questions if not q.dont_know]
    unknown = len(decision.questions) - len(asked)
    lines = [f"{decision.summary.needs_information} rule checks cannot be judged until the profile says more. "
             "The questions that would decide the most, first:", ""]
    for q in asked[:QUESTIONS_ON_CARD]:
        lines.append(f"- **{_md(heading(q))}**: {_md(q.text)} *Why we ask:* {_md(why(q, limit=2))}")
    more = len(asked) - QUESTIONS_ON_CARD
    if more > 0:
        lines += ["", f"{more} more question{'s' * (more != 1)} in the decision ({decision.decision_id})."]
    if unknown:
        lines += ["", f"You said you don't know {unknown} answer{'s' * (unknown != 1)}: "
                  "the rules waiting on them stay undecided."]
    count = len(asked)
    summary = (f"{count} question{'s' * (count != 1)} would complete the review" if count
               else f"{unknown} answer{'s' * (unknown != 1)} marked don't know leave rules undecided")
    return Card(
        uuid=str(uuid.uuid5(uuid.UUID(decision.decision_id), "needs-information")),
        summary=_clip(summary),
        detail="\n".join(lines),
        indicator="info",
        source=CardSource(label=f"PeerCheck ruleset {decision.ruleset_version}"),
    )


def _who(finding: Finding) -> str:
    subject = finding.subject
    if subject.kind == "program":
        return ""
    return f" (peer {subject.peer_id})" if subject.peer_id else f" (peer #{subject.peer_index + 1})"


def _clip(text: str) -> str:
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1].rstrip() + "…"


def _detail(finding: Finding, citation: CitationOut) -> str:
    lines = [_md(finding.message), "", f"**Severity:** {finding.severity} · **Rule:** {finding.rule_id}"]
    if finding.acknowledged is not None:
        lines += ["", f"**Acknowledged by the program:** {_md(finding.acknowledged)}"]
    lines += ["", "**Evidence**", ""]
    for item in finding.evidence:
        where = ", ".join(f"`{p}`" for p in item.pointers)
        lines.append(f"- {item.field} = {_md(json.dumps(item.value, ensure_ascii=False))} ({where})")
    lines += ["", f"**What to do:** {_md(finding.remediation)}", ""]
    lines += [f"> {_md(citation.quote)}", ">", f"> — {_md(citation.title)}, {_md(citation.section)}"]
    return "\n".join(lines)
