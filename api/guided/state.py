"""The guided form's one piece of state: the profile so far, as the form carries it.

The page keeps nothing on the server between steps. Every form post carries the profile so far
as JSON in a hidden field; it is read back with the same lenient reader as
``POST /v1/questionnaire/next`` (engine/questions/draft.py) — re-validated on every post, so a
tampered or stale field can hold nothing the schema would not accept: invalid parts are named and
left out. What travels is always the *clean* document: the valid answers, no stand-ins.

It is never logged (routes log counts only), and it stays in the browser unless the person
evaluates or downloads it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from engine.questions import Draft, QuestionCatalog, read_draft
from engine.questions.models import DraftProblem

MAX_STATE_BYTES = 1_000_000  # as for an uploaded profile
MAX_FORM_PEERS = 30  # peers the form lists on one page; a larger program is uploaded as a file
_PEER_POINTER = re.compile(r"/peers/(\d+)(/.*)?")
_FORM_PEER_ID = re.compile(r"peer-([1-9][0-9]{0,5})")
MAX_PEER_NUMBER = 999_999  # the highest n of a peer-<n> id the form gives or reads back


@dataclass(frozen=True)
class FormState:
    """The profile so far (``doc``: only valid answers, never a stand-in), as read from the form."""

    doc: dict[str, Any]
    draft: Draft
    problems: tuple[DraftProblem, ...]  # parts of what came in that were invalid and were left out

    @property
    def peers(self) -> list[dict[str, Any]]:
        peers = self.doc.get("peers")
        return peers if isinstance(peers, list) else []

    @property
    def dont_know(self) -> list[str]:
        return list(self.doc.get("dont_know") or [])


def decode(text: str | None) -> tuple[Any, list[DraftProblem]]:
    """The hidden field's JSON; unreadable state is a problem, never an error page."""
    if not text:
        return {}, []
    if len(text.encode("utf-8", errors="replace")) > MAX_STATE_BYTES:
        return {}, [DraftProblem(pointer="", field="Your saved answers", detail="are too large to read",
                                 fix="Upload the profile as a file.")]
    try:
        return json.loads(text), []
    except ValueError:
        return {}, [DraftProblem(pointer="", field="Your saved answers", detail="could not be read",
                                 fix="Start again, or upload your file.")]


def encode(state: FormState) -> str:
    return json.dumps(state.doc, ensure_ascii=False, separators=(",", ":"))


def read_state(data: Any, catalog: QuestionCatalog, carried: list[DraftProblem] | None = None) -> FormState:
    """Any document (the hidden field, an upload, a paste) as the form's state."""
    draft = read_draft(data, catalog)
    return FormState(doc=clean(draft), draft=draft, problems=tuple(carried or ()) + draft.problems)


def clean(draft: Draft) -> dict[str, Any]:
    """The draft's valid answers as a profile document, without the stand-ins the reader filled in."""
    doc = draft.profile.model_dump(mode="json", exclude_none=True)
    if not draft.peers_listed:
        doc["peers"] = []
    for pointer in draft.unanswered_required:
        parts = pointer.split("/")[1:]
        if parts[0] == "program":
            doc["program"].pop(parts[1], None)
        elif len(parts) == 3:  # /peers/{i}/title
            doc["peers"][int(parts[1])].pop(parts[2], None)
    if not doc.get("dont_know"):
        doc.pop("dont_know", None)
    return doc


# ---------------------------------------------------------------- editing the document


def mark_dont_know(doc: dict[str, Any], pointer: str, unknown: bool) -> None:
    listed = [p for p in doc.get("dont_know") or [] if p != pointer]
    if unknown:
        listed.append(pointer)
    if listed:
        doc["dont_know"] = listed
    else:
        doc.pop("dont_know", None)


def given_ids(text: str | None) -> int:
    """The form's count of the peer ids it has given (its hidden ``peer_ids`` field; 0 when absent or
    not a number)."""
    text = (text or "").strip()
    return min(int(text), MAX_PEER_NUMBER) if text.isdigit() and len(text) <= 6 else 0


def name_peers(doc: dict[str, Any], given: int = 0) -> int:
    """Give each peer without an id a stable one, ``peer-<n>``, so that findings follow the peer and
    not its place in the list: a before/after comparison matches findings by peer id, and without
    one by position — removing Peer 1 would make Peer 2's findings look resolved and new. ``n``
    counts on from ``given`` (the ids this form gave before, removed peers' too) and from every
    ``peer-<n>`` the profile holds, so an id is never used twice nor given again after its peer
    is removed. Returns the new count."""
    peers = doc.get("peers")
    if not isinstance(peers, list):
        return given
    numbers = [int(m.group(1)) for p in peers if isinstance(p, dict) and isinstance(p.get("id"), str)
               and (m := _FORM_PEER_ID.fullmatch(p["id"]))]
    top = max([given, *numbers])
    for peer in peers:
        if isinstance(peer, dict) and not peer.get("id") and top < MAX_PEER_NUMBER:
            top += 1
            peer["id"] = f"peer-{top}"
    return top


def add_peer(doc: dict[str, Any]) -> bool:
    """One more (empty) peer; False when the form already lists as many as it shows."""
    peers = doc.setdefault("peers", [])
    if len(peers) >= MAX_FORM_PEERS:
        return False
    peers.append({})
    return True


def remove_peer(doc: dict[str, Any], index: int) -> None:
    """Take a peer out, and with it its "don't know" answers and the risks acknowledged for it
    alone; later peers' answers and acknowledgements move up one, so each stays with its peer."""
    peers = doc.get("peers") or []
    if not 0 <= index < len(peers):
        return
    del peers[index]
    kept = []
    for pointer in doc.get("dont_know") or []:
        moved = _moved(pointer, index)
        if moved is not None:
            kept.append(moved)
    doc["dont_know"] = kept
    if not kept:
        doc.pop("dont_know")
    acknowledged = doc.get("acknowledged")
    if isinstance(acknowledged, list):
        still = []
        for ack in acknowledged:
            subject = ack.get("subject") if isinstance(ack, dict) else None
            if isinstance(subject, str) and subject:
                moved = _moved(subject, index)
                if moved is None:
                    continue  # acknowledged for the peer taken out
                ack = {**ack, "subject": moved}
            still.append(ack)
        doc["acknowledged"] = still
        if not still:
            doc.pop("acknowledged")


def _moved(pointer: str, removed: int) -> str | None:
    """A pointer once peer ``removed`` is taken out: None when it is about that peer, one peer up
    when about a later one, as it was otherwise."""
    match = _PEER_POINTER.fullmatch(pointer)
    if match is None:
        return pointer
    at = int(match.group(1))
    if at == removed:
        return None
    return f"/peers/{at - 1 if at > removed else at}{match.group(2) or ''}"
