"""CDS Hooks 2.0: PeerCheck as a CDS Service, so an existing CDS client can show its findings as cards.

Field names follow the CDS Hooks 2.0 specification (https://cds-hooks.hl7.org/2.0/) exactly:
*Discovery* (``services[]``), *Calling a CDS Service* (``hook``, ``hookInstance``, ``context``),
*CDS Service Response → Card Attributes* (``uuid``, ``summary``, ``detail``, ``indicator``,
``source``, ``suggestions``, ``selectionBehavior``, ``overrideReasons``, ``links``), *Feedback*,
*Extensions* and *Data Types → Coding*. The spec says optional attributes are omitted, never
null, so these models are always serialised without None values.

The hook is PeerCheck's own, ``peercheck-program-review``: the profile of the program under
review travels in ``context.profile``, and ``context.programId`` (optional) is the client's own id
for the program — like ``patientId`` in ``patient-view``. No prefetch: PeerCheck reads no FHIR data.

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

Cards, in order: open findings (most severe first), one short ``info`` card for the information
rules still need — the ``QUESTIONS_ON_CARD`` most valuable questions, each with why we ask, and how
many more there are (the decision's ``questions`` has them all) — then acknowledged findings
(``info``, the program has already weighed them; summary starting "Acknowledged:"). No findings
and nothing missing → ``{"cards": []}``, as the spec asks. At most ``Settings.cds_max_cards``
cards: past that, the last card says how many more there are (its indicator the most urgent of
those left out) and links to the full report — card UIs show a handful.

Each open finding's card offers what a user can do with it (*Card Attributes*, *Reasons for
rejecting a card*, *Feedback*):

* ``suggestions``: one, "Plan to address this" (no FHIR actions — PeerCheck changes nothing in
  the client); accepting it is reported as ``accepted`` feedback;
* ``overrideReasons``: PeerCheck's reasons for accepting a risk (``OVERRIDE_REASONS``). An
  ``overridden`` feedback, with or without a reason, is stored against the decision and becomes
  an acknowledged risk of that program the next time it is reviewed (api/cds_feedback.py);
* ``links``: the full report of the stored decision, when ``Settings.public_base_url`` is set.

Each card's ``source`` is the rule's first citation (document and section), with the rule as
``topic``; no ``source.url``: the sources are stored as text and PeerCheck invents no addresses
for them. The response's ``extension`` uses the reverse-domain key ``EXTENSION_KEY`` (*Extensions*:
names that are globally unique) for the decision id, ruleset version, status, whether it was
recorded and how many acknowledgements came from earlier feedback.
"""

from __future__ import annotations

import re
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from engine import Decision, Finding, Profile, Ruleset
from engine.evaluate import CitationOut
from engine.questions import heading, why
from report.evidence import EvidenceLine, evidence_lines
from report.format import subject_name
from report.markdown import md as _md  # inline text: Markdown escaped, line breaks made spaces

SERVICE_ID = "peercheck-program-review"
HOOK = "peercheck-program-review"
SUMMARY_MAX = 139  # the spec: "<140-character summary"
QUESTIONS_ON_CARD = 5
TOPIC_SYSTEM = "urn:peercheck:rule"
EXTENSION_KEY = "org.peercheck.decision"  # reverse-domain notation, as the spec's Extensions section asks
OVERRIDE_SYSTEM = "urn:peercheck:override-reason"
ADDRESS_LABEL = "Plan to address this"
MORE_LISTED = 30  # omitted cards named in the "and N more" card

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


class Suggestion(_Cds):
    label: str
    uuid: str | None = None
    isRecommended: bool | None = None  # noqa: N815


class Card(_Cds):
    uuid: str | None = None
    summary: str = Field(min_length=1, max_length=SUMMARY_MAX)
    detail: str | None = Field(default=None, description="GitHub-flavoured Markdown.")
    indicator: Literal["info", "warning", "critical"]
    source: CardSource
    suggestions: list[Suggestion] | None = None
    selectionBehavior: Literal["at-most-one", "any"] | None = None  # noqa: N815
    overrideReasons: list[Coding] | None = None  # noqa: N815
    links: list[Link] | None = None
    extension: dict[str, Any] | None = Field(
        default=None, description=f"`{EXTENSION_KEY}`: the rule, subject and finding id the card stands for.")


class CdsResponse(_Cds):
    cards: list[Card]
    extension: dict[str, Any] | None = Field(
        default=None, description=f"`{EXTENSION_KEY}`: the decision id, ruleset version, status, whether it was "
        "recorded, and how many acknowledgements came from earlier feedback.",
    )


OVERRIDE_REASONS = [
    Coding(system=OVERRIDE_SYSTEM, code="mitigated", display="The risk is mitigated another way"),
    Coding(system=OVERRIDE_SYSTEM, code="required", display="Required by law, court order or funder"),
    Coding(system=OVERRIDE_SYSTEM, code="not-applicable", display="Does not apply to this program"),
    Coding(system=OVERRIDE_SYSTEM, code="accepted-risk", display="The program accepts this risk"),
]


class ProgramReviewContext(BaseModel):
    """The context of the ``peercheck-program-review`` hook. Other context fields are ignored."""

    profile: Profile = Field(description="The program profile under review.")
    programId: str | None = Field(  # noqa: N815 (CDS Hooks context names are camelCase)
        default=None, min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$",
        description="The client's own id for the program (stored as the decision's `external_id`). Overrides "
        "reported as feedback apply to later reviews of the same program id (without one: the same program name and state).",
    )


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


def cards(decision: Decision, ruleset: Ruleset, profile: Profile | None = None, max_cards: int | None = None,
          report_url: str | None = None) -> list[Card]:
    """The decision as cards: open findings (most severe first), one card with the questions that
    would complete the review, acknowledged findings; past ``max_cards``, one card for the rest.
    ``profile``: the profile evaluated, so that evidence names the answers in words;
    ``report_url``: the link to the stored decision's report, given when it is stored and the
    service has a public address."""
    links = [Link(label="Full report", url=report_url, type="absolute")] if report_url else None
    labels = source_labels(ruleset.sources.info)
    made = {f.finding_id: _finding_card(decision, f, labels, links, evidence_lines(f, ruleset, profile))
            for f in decision.findings}
    open_cards = [made[f.finding_id] for f in decision.findings if f.acknowledged is None]
    acknowledged = [made[f.finding_id] for f in decision.findings if f.acknowledged is not None]
    needs = [_questions_card(decision)] if decision.questions else []
    ordered = open_cards + needs + acknowledged
    if max_cards is None or len(ordered) <= max_cards:
        return ordered
    kept = ordered[: max_cards - 1]
    if needs and needs[0] not in kept:
        kept = open_cards[: max_cards - 2] + needs
    left_out = [c for c in ordered if c not in kept]
    return kept + [_more_card(decision, left_out, links)]


def response(decision: Decision, ruleset: Ruleset, profile: Profile, recorded: bool, max_cards: int | None = None,
             report_url: str | None = None, from_feedback: int = 0) -> CdsResponse:
    return CdsResponse(cards=cards(decision, ruleset, profile, max_cards, report_url if recorded else None), extension={EXTENSION_KEY: {
        "decision_id": decision.decision_id, "ruleset_version": decision.ruleset_version,
        "status": decision.summary.status, "recorded": recorded, "acknowledged_from_feedback": from_feedback,
    }})


def card_uuid(decision_id: str, finding_id: str) -> str:
    return str(uuid.uuid5(uuid.UUID(decision_id), finding_id))


def source_labels(sources: dict[str, Any]) -> dict[str, str]:
    """Short labels by source id: the document's title up to its first colon or dash, and its year."""
    return {
        source_id: f"{re.split(r':| — ', info.title, maxsplit=1)[0].strip()} ({info.year})"
        for source_id, info in sources.items()
    }


def _finding_card(decision: Decision, finding: Finding, labels: dict[str, str], links: list[Link] | None,
                  evidence: list[EvidenceLine]) -> Card:
    citation = finding.citations[0]
    acknowledged = finding.acknowledged is not None
    summary = ("Acknowledged: " if acknowledged else "") + finding.title + _who(finding)
    uid = card_uuid(decision.decision_id, finding.finding_id)
    return Card(
        uuid=uid,
        summary=_clip(summary),
        detail=_detail(finding, citation, evidence),
        indicator="info" if acknowledged else INDICATOR[finding.severity],
        source=CardSource(
            label=f"{labels[citation.source]}, {citation.section}" if citation.source in labels
            else f"{citation.title}, {citation.section}",
            topic=Coding(system=TOPIC_SYSTEM, code=finding.rule_id, display=finding.title),
        ),
        suggestions=None if acknowledged else [
            Suggestion(label=ADDRESS_LABEL, uuid=str(uuid.uuid5(uuid.UUID(uid), "address")), isRecommended=True)],
        selectionBehavior=None if acknowledged else "at-most-one",
        overrideReasons=None if acknowledged else OVERRIDE_REASONS,
        links=links,
        extension={EXTENSION_KEY: {"rule_id": finding.rule_id, "subject": finding.subject.pointer,
                                   "finding_id": finding.finding_id}},
    )


def _more_card(decision: Decision, left_out: list[Card], links: list[Link] | None) -> Card:
    order = ("info", "warning", "critical")
    urgent = max((c.indicator for c in left_out), key=order.index)
    count = len(left_out)
    where = "see the full report" if links else f"see GET /v1/evaluations/{decision.decision_id}"
    lines = [f"{count} more card{'s' if count != 1 else ''} than this client is shown:", ""]
    lines += [f"- {c.indicator}: {_md(c.summary)}" for c in left_out[:MORE_LISTED]]
    if count > MORE_LISTED:
        lines.append(f"- … and {count - MORE_LISTED} more")
    return Card(
        uuid=str(uuid.uuid5(uuid.UUID(decision.decision_id), "more")),
        summary=_clip(f"And {count} more, {where}"),
        detail="\n".join(lines),
        indicator=urgent,
        source=CardSource(label=f"PeerCheck ruleset {decision.ruleset_version}"),
        links=links,
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
    return "" if finding.subject.kind == "program" else f" — {subject_name(finding.subject)}"


def _clip(text: str) -> str:
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1].rstrip() + "…"


def _detail(finding: Finding, citation: CitationOut, evidence: list[EvidenceLine]) -> str:
    lines = [_md(finding.message), "", f"**Severity:** {finding.severity} · **Rule:** {finding.rule_id}"]
    if finding.acknowledged is not None:
        lines += ["", f"**Acknowledged by the program:** {_md(finding.acknowledged)}"]
    lines += ["", "**Evidence**", ""]
    lines += [f"- {_md(line.text())}" for line in evidence]
    lines += ["", f"**What to do:** {_md(finding.remediation)}", ""]
    lines += [f"> {_md(citation.quote)}", ">", f"> — {_md(citation.title)}, {_md(citation.section)}"]
    return "\n".join(lines)
