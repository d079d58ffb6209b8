"""durable_rules as the second engine, run in the hardened pattern that docs/durable-rules.md
explains (what goes wrong otherwise, and why each part is there):

* one ruleset, registered once, on a Host subclass that starts no background threads;
* a process-wide lock (the C extension is not thread-safe and never releases the GIL, so the
  lock costs no parallelism);
* per evaluation a fresh session id, ``assert_facts`` of the program's facts (only the fields
  the scope's conditions read), hits collected
  into a Python dict keyed by session id (never ``c.s``), then ``delete_state`` — skipped
  after a failed assert, which would segfault;
* every rule ANDs a marker field (so the hidden ``$s`` state fact never matches) and an
  ``$ex`` guard for each ``$m``-referenced field; an always-matching rule keeps
  ``MessageNotHandledException`` away; hits go into a set, since ``$or`` fires once per true
  branch.
"""

from __future__ import annotations

import copy
import itertools
import sys
import threading
from typing import Any

from engine.language import m_referenced_fields, referenced_fields

MARKER = "pc_marker"
_ALWAYS = "__always__"
_names = itertools.count()
_lock = threading.Lock()  # one lock for every durable_rules call in the process


class DurableUnavailable(ImportError):
    """durable_rules cannot be imported here (it does not load on Python >= 3.13)."""


def _import_durable():
    try:
        from durable import engine as durable_engine
    except ImportError as exc:
        version = ".".join(map(str, sys.version_info[:3]))
        raise DurableUnavailable(
            f"the durable_rules engine is not available on this Python ({version}: {exc}); it installs "
            "and imports on Python 3.11 and 3.12 only. The default engine, PEERCHECK_ENGINE=interpreter, "
            "gives the same answers on every Python."
        ) from exc
    return durable_engine


def unavailable_reason() -> str | None:
    """Why the durable_rules engine cannot run on this Python, or None when it can."""
    try:
        _import_durable()
    except DurableUnavailable as exc:
        return str(exc)
    return None


class DurableEngine:
    """Evaluates the same conditions with durable_rules' Rete network."""

    name = "durable_rules"

    def __init__(self, rules: list[tuple[str, str, dict[str, Any]]]):
        durable = _import_durable()

        class QuietHost(durable.Host):
            def _run(self) -> None:  # no dispatch/timer threads: they crash delete_state
                return None

        self._hits: dict[str, set[tuple[str, int]]] = {}
        self._sids = itertools.count(1)
        self._ruleset = f"peercheck_{next(_names)}"
        definition: dict[str, Any] = {}
        self._scopes = [(rule_id, scope) for rule_id, scope, _ in rules]
        # Only the fields some condition of the fact's scope reads are sent: the rest cannot change
        # a match, and every action parses the matched fact back from JSON (most of the cost).
        self._sent: dict[str, tuple[str, ...]] = {}
        for rule_id, scope, condition in rules:
            self._sent[scope] = tuple(sorted({*self._sent.get(scope, ()), *referenced_fields(condition)}))
        for rule_id, scope, condition in rules:
            guards = [{"$ex": {field: 1}} for field in sorted(m_referenced_fields(condition))]
            clause = {"$and": [{MARKER: 1}, {"kind": scope}, *guards, copy.deepcopy(condition)]}
            definition[rule_id] = {"all": [{"m": clause}], "run": self._recorder(rule_id)}
        definition[_ALWAYS] = {"all": [{"m": {MARKER: 1}}], "run": _noop}
        with _lock:
            self._host = QuietHost()
            self._host.set_rulesets({self._ruleset: definition})

    def _recorder(self, rule_id: str):
        hits = self._hits

        def record(c) -> None:
            fact = c.m
            bucket = hits.get(fact["sid"])
            if bucket is not None:
                bucket.add((rule_id, int(fact["idx"])))

        return record

    def match(self, facts: list[dict[str, Any]]) -> tuple[set[tuple[str, int]], dict[tuple[str, int], str]]:
        """Like the interpreter's: hits, and errors. durable_rules evaluates a fact set as a
        whole, so when asserting fails every rule of every fact is reported as an error."""
        try:
            return self.hits(facts), {}
        except Exception as exc:  # noqa: BLE001 - reported per rule, never raised to the caller
            message = f"durable_rules: {type(exc).__name__}: {exc}"
            return set(), {(rule_id, index): message for index, fact in enumerate(facts)
                           for rule_id, scope in self._scopes if scope == fact["kind"]}

    def hits(self, facts: list[dict[str, Any]]) -> set[tuple[str, int]]:
        """Return {(rule_id, fact_index)} for every rule that fired on a fact of its scope."""
        with _lock:
            sid = str(next(self._sids))
            bucket: set[tuple[str, int]] = set()
            self._hits[sid] = bucket
            asserted = False
            try:
                payload = []
                for index, fact in enumerate(facts):
                    sent = {name: fact[name] for name in self._sent.get(fact["kind"], ()) if name in fact}
                    sent.update(kind=fact["kind"], sid=sid, idx=index)
                    sent[MARKER] = 1
                    payload.append(sent)
                self._host.assert_facts(self._ruleset, payload)
                asserted = True
            finally:
                del self._hits[sid]
                if asserted:
                    self._host.delete_state(self._ruleset, sid)
        return bucket

    def close(self) -> None:
        """The C ruleset lives as long as the process; nothing can be freed safely."""


def _noop(c) -> None:
    return None
