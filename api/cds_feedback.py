"""CDS Hooks feedback, and what PeerCheck does with an overridden card.

The request is the CDS Hooks 2.0 *Feedback* section's: ``{"feedback": [{"card", "outcome",
"acceptedSuggestions", "overrideReason": {"reason", "userComment"}, "outcomeTimestamp"}]}``,
POSTed to ``{baseUrl}/cds-services/{service.id}/feedback``. Each entry is stored against the
decision its card came from (``decisionlog/feedback.py``) and shown with that decision
(``GET /v1/evaluations/{decision_id}``).

What an override means. The spec's feedback is for the service to learn what users did with its
cards; it leaves the rest to the service. For PeerCheck, a user dismissing a risk with a reason is
exactly an *acknowledged risk*: so a program's standing overrides — its latest feedback on a
finding being ``overridden`` — are added to the ``acknowledged`` list of the program's next
review by the same client (same ``context.programId``; without one, same program name and state).
The finding is then still reported, as an acknowledged ``info`` card with the reason ("Overridden
in a CDS client: The risk is mitigated another way"), and no longer counts as open, exactly as if
the profile had acknowledged it. The decision is made on the profile with those acknowledgements
added (its ``profile_digest`` is of that profile), so the same input still gives the same
answer; the response's extension says how many came from feedback. A later ``accepted``
outcome (the user chose "Plan to address this") withdraws the override. An acknowledgement the
profile itself makes wins over one from feedback.

What is kept: the card, the outcome and its time, the reason's code and PeerCheck's display for
it when it is one of the reasons PeerCheck offered (a client's own code or display is kept only
with profile storage on, like the comment), and the program's
and peer's keys: HMAC-SHA256s under the deployment's secret (``key_secret``), never the name, state
or peer id they stand for. The user's free
text comment is kept (and used in the acknowledgement) only when the operator stores profiles
(``decision_log_store_profiles``): it may name people.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api import cds
from api.session import load_secret
from api.settings import Settings
from decisionlog import DecisionLog
from decisionlog import feedback as stored
from engine import Profile
from engine.profile import Acknowledgement

MAX_ENTRIES = 100
REASON_PREFIX = "Overridden in a CDS client"


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")  # the spec's `extension` and fields of later versions pass


class FeedbackCoding(_Open):
    code: str = Field(min_length=1, max_length=200)
    system: str | None = Field(default=None, max_length=500)
    display: str | None = Field(default=None, max_length=500)


class OverrideReason(_Open):
    reason: FeedbackCoding | None = None
    userComment: str | None = Field(default=None, max_length=2000)  # noqa: N815


class AcceptedSuggestion(_Open):
    id: str = Field(min_length=1, max_length=200)


class FeedbackEntry(_Open):
    card: str = Field(min_length=1, max_length=200, description="The `uuid` of the card the user acted on.")
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[AcceptedSuggestion] | None = Field(default=None, max_length=20)  # noqa: N815
    overrideReason: OverrideReason | None = None  # noqa: N815
    outcomeTimestamp: datetime = Field(description="When the user acted, ISO 8601 (UTC).")  # noqa: N815

    @field_validator("outcomeTimestamp")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)


class FeedbackRequest(_Open):
    feedback: list[FeedbackEntry] = Field(min_length=1, max_length=MAX_ENTRIES)


class FeedbackAnswer(BaseModel):
    recorded: int = Field(description="Feedback entries stored against their decisions.")
    unknown_cards: list[str] = Field(
        description="Card uuids this service does not know (never issued, not recorded, or past retention); not stored.")


def _known_reasons() -> dict[str, str]:
    return {c.code: c.display for c in cds.OVERRIDE_REASONS}


def reason_text(entry: FeedbackEntry, keep_comment: bool) -> str | None:
    """What an override says, in words: the reason's display, and the comment when kept. Unless
    profiles are kept only a reason PeerCheck offered is kept, in PeerCheck's words: a client's own
    code or display is free text too."""
    override = entry.overrideReason
    if override is None:
        return None
    parts = []
    known = _known_reasons()
    if override.reason is not None:
        if keep_comment:
            parts.append(override.reason.display or known.get(override.reason.code) or override.reason.code)
        elif override.reason.code in known:
            parts.append(known[override.reason.code])
    if keep_comment and override.userComment and override.userComment.strip():
        parts.append(override.userComment.strip())
    return ": ".join(parts)[:900] if parts else None


def to_stored(entry: FeedbackEntry, keep_comment: bool) -> stored.Feedback:
    override = entry.overrideReason
    code = override.reason.code if override and override.reason else None
    return stored.Feedback(
        card_uuid=entry.card, outcome=entry.outcome, outcome_at=entry.outcomeTimestamp.isoformat(),
        reason_code=code if keep_comment or code in _known_reasons() else None,
        reason_text=reason_text(entry, keep_comment),
    )


_KEYS: dict[tuple[str | None, str], bytes] = {}


def key_secret(settings: Settings) -> bytes:
    """The secret feedback keys are made with: derived from the deployment's session secret
    (``session_secret``, else ``<data_dir>/session.key``), so a program has the same key across
    restarts and on every replica that shares the secret, and nobody without it can recompute one."""
    where = (settings.session_secret, str(settings.data_dir))
    if where not in _KEYS:
        _KEYS[where] = hmac.new(load_secret(settings).encode(), b"peercheck-cds-feedback-keys", hashlib.sha256).digest()
    return _KEYS[where]


def program_key(secret: bytes, client: str, program_id: str | None, profile: Profile) -> str:
    """Which program feedback belongs to: the client and its program id, else the program's name
    and state — as an HMAC-SHA256 under ``secret`` (``key_secret``): the key is an index, not a
    record of either, and a program's name cannot be confirmed by hashing guesses."""
    what = f"id\x00{program_id}" if program_id else f"name\x00{profile.program.name}\x00{profile.program.state}"
    return hmac.new(secret, f"program\x00{client}\x00{what}".encode(), hashlib.sha256).hexdigest()


def peer_key(secret: bytes, program: str, peer_id: str | None) -> str | None:
    """How a peer is found again without keeping its id (the decision log keeps no peer ids): an
    HMAC-SHA256 under ``secret`` of the program's key and the peer's id; None for a peer without an
    id (matched by position)."""
    if peer_id is None:
        return None
    return hmac.new(secret, f"peer\x00{program}\x00{peer_id}".encode(), hashlib.sha256).hexdigest()


def with_overrides(store: DecisionLog | None, secret: bytes, key: str, profile: Profile) -> tuple[Profile, int]:
    """The profile with the program's standing overrides added to ``acknowledged`` (those the
    profile does not already acknowledge, on subjects it still has); and how many were added."""
    if store is None:
        return profile, 0
    overrides = stored.standing_overrides(store, key)
    if not overrides:
        return profile, 0
    have = list(profile.acknowledged or ())
    added: list[Acknowledgement] = []
    ids = {peer_key(secret, key, peer.id): i for i, peer in enumerate(profile.peers) if peer.id is not None}
    for override in overrides:
        if override.peer_key is not None:
            if override.peer_key not in ids:
                continue
            subject = f"/peers/{ids[override.peer_key]}"
        else:
            subject = override.subject
            if subject and int(subject.rsplit("/", 1)[1]) >= len(profile.peers):
                continue
        if any(a.rule_id == override.rule_id and a.subject in (None, subject) for a in have + added):
            continue
        when = override.outcome_at[:10]
        reason = f"{REASON_PREFIX} on {when}" + (f": {override.reason_text}" if override.reason_text else "")
        added.append(Acknowledgement(rule_id=override.rule_id, reason=reason, subject=subject))
    room = 200 - len(have)  # the profile schema's limit
    added = added[:max(room, 0)]
    if not added:
        return profile, 0
    return profile.model_copy(update={"acknowledged": have + added}), len(added)
