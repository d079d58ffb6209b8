"""Reading a profile in progress: as much of it as is valid, and what is not, said plainly.

A draft may be anything from ``{"program": {"name": ..., "state": ...}}`` to a complete profile.
Reading it never fails:

* a required answer that is absent (program name, state, the peers, a peer's title) is an
  *unanswered question*, asked first; a stand-in value fills its place so the rest can be
  validated, and the facts that depend on it are taken out before rules are matched (see
  ``Draft.unknown_sources``) — a stand-in never decides a rule;
* until the peers are listed, one stand-in peer stands for "at least one": its questions are
  counted for progress but not asked;
* a value the schema rejects is a *problem* (JSON pointer into the draft; the field by its label
  and position, what is wrong and the fix, worded by engine/validation.py as for
  ``POST /v1/evaluations``); the value is left out and its question is asked again. Problems
  never quote the value; an invalid acknowledgement is left out on its own, the others kept;
* ``dont_know`` entries that name no question, a peer not listed, or a field that has an answer
  are problems too, and are left out (the answer stands).

Work is bounded: at most ``MAX_PEERS`` peers and ``MAX_DONT_KNOW`` "don't know" entries are
read, and validation runs at most ``ROUNDS`` times (each round removes every value it rejected).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from engine.fields import place, root
from engine.profile import SCHEMA_VERSION, Profile
from engine.questions.catalog import MAX_PEERS, QuestionCatalog
from engine.questions.models import DraftProblem
from engine.validation import describe

MAX_DONT_KNOW = 10_000
ROUNDS = 4
STAND_IN = {"name": "Program in progress", "state": "AL", "title": "Peer"}
SECTIONS = ("program", "supervision", "policies", "hiring")


@dataclass(frozen=True)
class Draft:
    profile: Profile  # validated; stand-ins where required answers are missing
    unanswered_required: tuple[str, ...]  # concrete pointers, e.g. "/program/state", "/peers", "/peers/2/title"
    peers_listed: bool  # False: profile.peers is one stand-in peer
    dont_know: tuple[str, ...]  # the valid entries, in the order given
    problems: tuple[DraftProblem, ...]
    complete: bool  # the draft as sent is a valid profile

    @property
    def unknown_sources(self) -> frozenset[str]:
        """Profile fields (pointer templates as in engine/facts.py VOCABULARY) whose stand-in values
        must not reach a rule: the state, and the peers themselves until they are listed."""
        sources = set()
        if "/program/state" in self.unanswered_required:
            sources.add("/program/state")
        if not self.peers_listed:
            sources.add("/peers")
        return frozenset(sources)


def read_draft(data: Any, catalog: QuestionCatalog) -> Draft:
    problems: list[DraftProblem] = []
    if not isinstance(data, dict):
        problems.append(_problem("", "is not an object: a program profile, complete or not, is written in curly braces"))
        data = {}
    doc = _copy(data)
    schema_given = doc.get("schema_version") is not None
    raw_dont_know = doc.pop("dont_know", None)
    peers = doc.get("peers")
    if isinstance(peers, list) and len(peers) > MAX_PEERS:
        problems.append(_problem("/peers", f"list more than {MAX_PEERS} peers: the first {MAX_PEERS} are read"))
        doc["peers"] = peers[:MAX_PEERS]
    _unique_peer_ids(doc, problems)

    profile = None
    for _ in range(ROUNDS):
        filled, unanswered, listed = _stand_ins(doc)
        try:
            profile = Profile.model_validate(filled)
            break
        except ValidationError as exc:
            dropped = False
            for err in exc.errors(include_url=False):  # the input only informs the fix; it is never quoted
                said = describe(err, _PROFILE)
                problems.append(DraftProblem(pointer=said.pointer, field=said.field, detail=said.detail, fix=said.fix))
                dropped = _drop(doc, err["loc"]) or dropped
            _compact(doc)
            if not dropped:  # an error no value can be blamed for: read nothing but the stand-ins
                doc = {}
    if profile is None:
        doc = {}
        filled, unanswered, listed = _stand_ins(doc)
        profile = Profile.model_validate(filled)

    dont_know = _dont_know(raw_dont_know, profile, listed, catalog, problems)
    if dont_know:
        profile = profile.model_copy(update={"dont_know": list(dont_know)})
    return Draft(profile=profile, unanswered_required=tuple(unanswered), peers_listed=listed, dont_know=dont_know,
                 problems=tuple(problems), complete=schema_given and not unanswered and not problems)


def _copy(data: dict[str, Any]) -> dict[str, Any]:
    """The draft's containers copied (values are dropped from the copy, never from the caller's data)."""
    doc = dict(data)
    for key in SECTIONS:
        if isinstance(doc.get(key), dict):
            doc[key] = dict(doc[key])
    if isinstance(doc.get("acknowledged"), list):
        doc["acknowledged"] = list(doc["acknowledged"])
    if isinstance(doc.get("peers"), list):
        doc["peers"] = [dict(p) if isinstance(p, dict) else p for p in doc["peers"]]
        for peer in doc["peers"]:
            if isinstance(peer, dict) and isinstance(peer.get("employer_policies"), dict):
                peer["employer_policies"] = dict(peer["employer_policies"])
    return doc


def _unique_peer_ids(doc: dict[str, Any], problems: list[DraftProblem]) -> None:
    """A peer id used before is left out (the peer is kept): the schema checks this over the whole
    list, which could not say which value to leave out."""
    peers = doc.get("peers")
    if not isinstance(peers, list):
        return
    seen = set()
    for index, peer in enumerate(peers):
        if isinstance(peer, dict) and isinstance(peer.get("id"), str):
            if peer["id"] in seen:
                problems.append(_problem(f"/peers/{index}/id", "is the same id as another peer's", "Give each peer its own id."))
                del peer["id"]
            else:
                seen.add(peer["id"])


def _stand_ins(doc: dict[str, Any]) -> tuple[dict[str, Any], list[str], bool]:
    """The draft with stand-ins for absent required answers, those answers' pointers, and whether
    the peers are listed."""
    filled = dict(doc)
    unanswered: list[str] = []
    if filled.get("schema_version") is None:
        filled["schema_version"] = SCHEMA_VERSION
    program = dict(filled["program"]) if isinstance(filled.get("program"), dict) else {}
    for name in ("name", "state"):
        if program.get(name) is None:
            program[name] = STAND_IN[name]
            unanswered.append(f"/program/{name}")
    filled["program"] = program
    peers = filled.get("peers")
    listed = isinstance(peers, list) and len(peers) > 0
    if not listed:
        filled["peers"] = [{"title": STAND_IN["title"]}]
        unanswered.append("/peers")
    else:
        filled["peers"] = []
        for index, peer in enumerate(peers):
            peer = dict(peer) if isinstance(peer, dict) else peer
            if isinstance(peer, dict) and peer.get("title") is None:
                peer["title"] = STAND_IN["title"]
                unanswered.append(f"/peers/{index}/title")
            filled["peers"].append(peer)
    for key in SECTIONS[1:]:
        if filled.get(key) is None:
            filled.pop(key, None)
    return filled, unanswered, listed


def _drop(doc: dict[str, Any], loc: tuple[Any, ...]) -> bool:
    """Leave out the answer an error is about: the field (a list as a whole: a list with a bad item
    is not the answer given), except that an invalid acknowledgement is left out alone — the
    others, each with its own reason, stand. True when something was left out."""
    if not loc or loc[0] not in doc:
        return False
    top = loc[0]
    container = doc[top]
    if top == "acknowledged" and len(loc) > 1 and isinstance(container, list):
        # one acknowledgement is left out, not the others: marked now, taken out once every error
        # of the round is read (the errors' positions are those of the list as sent)
        at = loc[1]
        if not isinstance(at, int) or not 0 <= at < len(container) or container[at] is _LEFT_OUT:
            return False
        container[at] = _LEFT_OUT
        return True
    if len(loc) == 1 or top in ("acknowledged", "schema_version"):
        del doc[top]
        return True
    if top == "peers" and isinstance(container, list) and isinstance(loc[1], int) and loc[1] < len(container):
        peer = container[loc[1]]
        if len(loc) == 2 or not isinstance(peer, dict):
            container[loc[1]] = {}
            return True
        field = loc[2]
        if field == "employer_policies" and len(loc) > 3 and isinstance(peer.get(field), dict) and loc[3] in peer[field]:
            del peer[field][loc[3]]
            return True
        return peer.pop(field, _NOTHING) is not _NOTHING
    if isinstance(container, dict):
        return container.pop(loc[1], _NOTHING) is not _NOTHING
    del doc[top]
    return True


def _compact(doc: dict[str, Any]) -> None:
    """The acknowledgements left out this round taken out of the list (an emptied list is no answer)."""
    acknowledged = doc.get("acknowledged")
    if isinstance(acknowledged, list) and any(item is _LEFT_OUT for item in acknowledged):
        kept = [item for item in acknowledged if item is not _LEFT_OUT]
        if kept:
            doc["acknowledged"] = kept
        else:
            del doc["acknowledged"]


_NOTHING = object()
_LEFT_OUT = object()


_PROFILE = root(Profile)


def _problem(pointer: str, detail: str, fix: str | None = None) -> DraftProblem:
    """A problem the reader finds itself, with the field named as engine/validation.py names it."""
    segments = [int(s) if s.isdigit() else s for s in pointer.split("/")[1:]]
    return DraftProblem(pointer=pointer, field=place(_PROFILE, segments).label, detail=detail, fix=fix)


def _dont_know(raw: Any, profile: Profile, listed: bool, catalog: QuestionCatalog,
               problems: list[DraftProblem]) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.append(_problem("/dont_know", "must be a list", 'Write it as a list of questions\' JSON pointers, such as ["/peers/0/fte"].'))
        return ()
    if len(raw) > MAX_DONT_KNOW:
        problems.append(_problem("/dont_know", f"has more than {MAX_DONT_KNOW:,} entries: the first are read"))
        raw = raw[:MAX_DONT_KNOW]
    kept: dict[str, None] = {}
    peers = len(profile.peers) if listed else 0
    for index, pointer in enumerate(raw):
        where = f"/dont_know/{index}"
        located = catalog.locate(pointer) if isinstance(pointer, str) else None
        if located is None:
            problems.append(_problem(where, "names no question", "GET /v1/questionnaire lists the questions."))
        elif located[0].required:
            problems.append(_problem(where, f"names {located[0].label}, which is needed for any review: it cannot be “don't know”",
                                     "Answer it instead."))
        elif located[1] is not None and located[1] >= peers:
            problems.append(_problem(where, f"names Peer {located[1] + 1}, but the draft lists {peers} peer{'s' * (peers != 1)}"))
        elif value_at(profile, pointer) is not None:
            problems.append(_problem(where, "names a question that has an answer, which is used"))
        else:
            kept[pointer] = None
    return tuple(kept)


def value_at(profile: Profile, pointer: str) -> Any:
    """The value at a JSON pointer in a validated profile (None when absent)."""
    path = _PATHS.get(pointer)
    if path is None:
        if len(_PATHS) >= 16384:  # bounded: pointers name peers by index
            _PATHS.clear()
        path = _PATHS[pointer] = tuple(int(s) if s.isdigit() else s for s in pointer.split("/")[1:])
    node: Any = profile
    for segment in path:
        if node is None:
            return None
        if isinstance(node, list):
            if type(segment) is not int:
                return None
            node = node[segment] if segment < len(node) else None
        else:
            node = getattr(node, segment, None) if type(segment) is str else None
    return node


_PATHS: dict[str, tuple[str | int, ...]] = {}  # pointer -> its segments, list indexes as numbers


def answer_at(doc: dict[str, Any], pointer: str) -> Any:
    """The answer at a question's JSON pointer in a profile in progress (a plain document, not yet
    validated); None when absent or when the path runs through something else."""
    node: Any = doc
    for segment in pointer.split("/")[1:]:
        if isinstance(node, list):
            index = int(segment)
            node = node[index] if index < len(node) else None
        elif isinstance(node, dict):
            node = node.get(segment)
        else:
            return None
    return node


def set_answer(doc: dict[str, Any], pointer: str, value: Any) -> None:
    """Set (or, with None, remove) the answer at a question's JSON pointer in a profile in
    progress, making the objects and peers on the way. An emptied nested object is removed too:
    it is no answer."""
    parts = pointer.split("/")[1:]
    node: Any = doc
    path: list[tuple[Any, str]] = []  # (container, key) of each object on the way
    for i, segment in enumerate(parts[:-1]):
        if isinstance(node, list):
            index = int(segment)
            while len(node) <= index:
                node.append({})
            node = node[index]
            continue
        if not isinstance(node.get(segment), (dict, list)):
            if value is None:
                return
            node[segment] = [] if parts[i + 1].isdigit() else {}
        path.append((node, segment))
        node = node[segment]
    if value is not None:
        node[parts[-1]] = value
        return
    node.pop(parts[-1], None)
    for container, key in reversed(path):  # a nested object left empty is no answer
        if container[key] != {}:
            break
        del container[key]
