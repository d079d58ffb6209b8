"""Validating a document against the profile schema, with problems a person can act on.

One module below the API, the page and the CLI, so all three say the same thing. Each problem
names the field by its label and position ("Peer 2 › Active caseload"; people are counted from
1) and keeps the JSON pointer for machines (``/peers/1/active_caseload``, counted from 0); says
what is wrong in plain words; and, where it can, how to fix it: "Did you mean OH (Ohio)?" for a
state written as a name, the closest field for an unknown key, the closest activity codes for an
unknown duty, the shape expected when a single value is given for a list.

The offending value is never echoed (it may be sensitive, and the sender has it): a problem
names the field, and suggestions name codes and fields of the schema.

Work is bounded. pydantic has no limit on the errors it collects (a 4 MB body of unknown keys
makes 350,000 of them, and formatting them costs seconds), so ``screen`` first walks the
document along the schema — only into fields the schema has, never into unknown subtrees, never
past a list's maximum length — counting unknown keys and codes outside their vocabulary with set
operations. When those alone exceed the limit, validation stops there and reports the first
``limit`` with the count; otherwise pydantic validates, and the first ``limit`` of its errors are
described.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from pydantic import BaseModel, ValidationError

from engine.fields import Node, Place, activity_labels, field_homes, place, root
from engine.jsontext import InvalidJSON, TextProblem, decode, escape
from engine.jsontext import loads as parse_json
from engine.yamltext import InvalidYAML, looks_like_yaml
from engine.yamltext import loads as parse_yaml
from engine.profile import SCHEMA_VERSION, Profile
from engine.suggest import STATE_ALIASES, closest_codes, closest_names

MAX_PROBLEMS = 50  # problems described per document; the rest are counted
WRAPPER_KEY = "profile"  # a fixture file holds its profile under this key
LONG_KEY = 200  # an unknown key longer than this is reported at its object, not by name


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a document.

    ``field`` is where, for people ("Peer 2 › Active caseload"); ``pointer`` the same for
    machines (RFC 6901, into the document as sent); ``detail`` what is wrong; ``fix`` what to do,
    when PeerCheck can tell. JSON text problems also carry ``line``/``column`` and the ``excerpt``
    of the offending line (``caret``: the column's offset in it)."""

    pointer: str
    field: str
    detail: str
    fix: str | None = None
    code: str = "invalid"
    line: int | None = None
    column: int | None = None
    excerpt: str | None = None
    caret: int | None = None

    def text(self) -> str:
        """The problem in one line: field, what is wrong, the fix."""
        return f"{self.field}: {self.detail}." + (f" {self.fix}" if self.fix else "")

    def __str__(self) -> str:
        return self.text()


class InvalidDocument(ValueError):
    """The document is not valid. ``problems`` lists at most the limit; ``total`` counts every
    problem found; ``complete`` is False when validation stopped before looking at everything."""

    def __init__(self, problems: list[Problem], total: int | None = None, complete: bool = True,
                 what: str = "profile"):
        self.problems = problems
        self.total = max(total if total is not None else len(problems), len(problems))
        self.complete = complete and self.total == len(problems)
        self.what = what
        super().__init__(self.summary())

    def summary(self) -> str:
        """One line whose count is the number of problems listed."""
        listed = len(self.problems)
        if self.total > listed:
            more = "" if self.complete else " or more"
            return (f"{self.total:,}{more} problems in the {self.what}; validation stopped early and the first "
                    f"{listed} are listed: fix them and check again")
        names = [p.field for p in self.problems]
        noun = "problem" if listed == 1 else "problems"
        if listed == 1:
            return f"1 problem in the {self.what}: {self.problems[0].text()}"
        if listed <= 3:
            return f"{listed} {noun} in the {self.what}: " + "; ".join(names)
        return f"{listed} {noun} in the {self.what}: {'; '.join(names[:3])} and {listed - 3} more"


UNKNOWN_SEGMENT = "<unknown field>"  # an unknown key's name, withheld from a pointer
UNKNOWN_WORDS = "an unknown field"  # the same, in a field's label
_QUOTED = re.compile(r"“([^”]*)”")


def withhold_names(exc: InvalidDocument, known: set[str]) -> InvalidDocument:
    """The same problems with every key name the sender chose — one ``known`` (the schema's field
    names) lacks, which may be a person's name — replaced: ``<unknown field>`` in the pointer,
    "an unknown field" in the words; suggestions, which name schema fields, stay. No excerpt of the
    document either. For problems that are kept (a batch job's item errors), not for the answer
    to the sender, who has the names."""
    def segment(raw: str) -> str:
        name = raw.replace("~1", "/").replace("~0", "~")
        return raw if raw == "" or raw.isdigit() or name in known else UNKNOWN_SEGMENT

    def words(text: str | None) -> str | None:
        if text is None:
            return None
        return _QUOTED.sub(lambda m: m.group(0) if m.group(1) in known else UNKNOWN_WORDS, text)

    problems = [Problem(pointer="/".join(segment(s) for s in p.pointer.split("/")), field=words(p.field) or "",
                        detail=words(p.detail) or "", fix=words(p.fix), code=p.code, line=p.line, column=p.column)
                for p in exc.problems]
    return InvalidDocument(problems, exc.total, exc.complete, exc.what)


# ---------------------------------------------------------------------------- reading documents


@dataclass(frozen=True)
class LoadedProfile:
    profile: Profile
    base_pointer: str  # where the profile sits in the document: "" or "/profile"
    document: Any  # the parsed document (for re-displaying it)


def text_problem(problem: TextProblem, node: Node | None = None) -> Problem:
    words = place(node, _segments(problem.pointer)).label if problem.pointer else "The document"
    return Problem(pointer=problem.pointer, field=words, detail=problem.detail, fix=_sentence(problem.fix),
                   code=problem.code, line=problem.line, column=problem.column, excerpt=problem.excerpt,
                   caret=problem.caret)


def read_json(data: str | bytes, what: str = "profile", node: Node | None = None) -> Any:
    """Strict JSON (engine.jsontext). Raises InvalidDocument naming fields by ``node``'s labels
    (a profile's by default)."""
    try:
        return parse_json(data)
    except InvalidJSON as exc:
        problems = exc.problems
    # raised outside the except block: no chain back to the parser's frames and the text they hold
    raise InvalidDocument([text_problem(p, node or root(Profile)) for p in problems], what=what)


def read_document(data: str | bytes, what: str = "profile", node: Node | None = None, *, name: str | None = None,
                  sniff: bool = False) -> Any:
    """A JSON or YAML document, read as strictly as ``read_json`` reads JSON (duplicate keys refused in
    both). YAML when ``name`` (a file name) ends in ``.yaml``/``.yml``; JSON when it ends in ``.json``;
    otherwise — another name, or ``sniff`` for text without one (standard input, a pasted box) — YAML
    unless the text starts like JSON (``{`` or ``[``). Without a name or ``sniff``: JSON only.
    Raises InvalidDocument."""
    if name is None and not sniff:
        return read_json(data, what, node)
    try:
        text = decode(data) if isinstance(data, (bytes, bytearray, memoryview)) else data
    except InvalidJSON as exc:
        problems = exc.problems
    else:
        if not looks_like_yaml(text, name):
            return read_json(text, what, node)
        try:
            return parse_yaml(text)
        except InvalidYAML as exc:
            problems = exc.problems
    raise InvalidDocument([text_problem(p, node or root(Profile)) for p in problems], what=what)


def profile_from_document(doc: Any, limit: int = MAX_PROBLEMS) -> LoadedProfile:
    """A parsed document — a bare profile, or a fixture holding one under ``"profile"`` — as a
    validated Profile. Raises InvalidDocument (pointers into the whole document)."""
    base = ""
    inner = doc
    if isinstance(doc, dict) and WRAPPER_KEY in doc:
        inner, base = doc[WRAPPER_KEY], "/" + WRAPPER_KEY
    if not isinstance(inner, dict):
        raise InvalidDocument([Problem(base, "The document" if not base else "“profile”", "is not a JSON object",
                                       'Give a profile ({"schema_version": …, "program": …, "peers": […]}), '
                                       'or a file that holds one under a "profile" key.', code="not_an_object")])
    return LoadedProfile(validate(inner, Profile, limit=limit, base_pointer=base), base, doc)


def read_profile(data: str | bytes, limit: int = MAX_PROBLEMS, *, name: str | None = None,
                 sniff: bool = False) -> LoadedProfile:
    """Text or bytes of a document → a validated profile. Raises InvalidDocument. JSON, or YAML by
    ``name`` / ``sniff`` as ``read_document`` says: the one reader for files, uploads and pasted text
    (the page's upload passes the file's name, its text box ``sniff=True``)."""
    return profile_from_document(read_document(data, name=name, sniff=sniff), limit)


# ---------------------------------------------------------------------------- validating


def screen(doc: Any, node: Node, limit: int = MAX_PROBLEMS) -> tuple[list[dict[str, Any]], int]:
    """Unknown keys and codes outside their vocabulary, as pydantic-style errors: the first
    ``limit`` of them, and how many there are. Bounded by the schema, not by the document: it
    visits only objects, lists and codes the schema has, and lists no longer than allowed."""
    errors: list[dict[str, Any]] = []
    total = 0
    stack: list[tuple[tuple, Any, Node]] = [((), doc, node)]
    while stack:
        loc, value, at = stack.pop()
        if at.kind == "object" and isinstance(value, dict):
            fields = at.fields
            if not value.keys() <= fields.keys():
                total += len(value) - sum(1 for name in fields if name in value)
                for key in value:
                    if len(errors) >= limit:
                        break
                    if key not in fields:
                        errors.append({"type": "extra_forbidden", "loc": (*loc, key), "input": value[key]})
            stack.extend(reversed([((*loc, name), value[name], info.node) for name, info in fields.items()
                                   if info.node.kind in _SCREENED and value.get(name) is not None]))
        elif at.kind == "list" and isinstance(value, list) and at.item is not None and at.item.kind in _SCREENED:
            if at.max_items is not None and len(value) > at.max_items:
                continue
            if at.item.kind == "choice" and all(isinstance(v, str) and v in at.item.options for v in value):
                continue
            stack.extend(reversed([((*loc, i), item, at.item) for i, item in enumerate(value)]))
        elif at.kind == "choice" and not (isinstance(value, str) and value in at.options):
            total += 1
            if len(errors) < limit:
                errors.append({"type": "enum", "loc": loc, "input": value})
    return errors, total


_SCREENED = ("object", "list", "choice")


def describe_errors(errors: list[dict[str, Any]], node: Node, limit: int = MAX_PROBLEMS, base_pointer: str = "",
                    what: str = "profile", total: int | None = None, complete: bool = True) -> InvalidDocument:
    """pydantic-style errors (locations relative to ``node``) → InvalidDocument with the first
    ``limit`` described."""
    return InvalidDocument([describe(e, node, base_pointer) for e in errors[:limit]],
                           total if total is not None else len(errors), complete, what)


def validate(doc: Any, model: type[BaseModel], *, limit: int = MAX_PROBLEMS, base_pointer: str = "",
             what: str = "profile") -> Any:
    """``doc`` as an instance of ``model``. Raises InvalidDocument."""
    node = root(model)
    found, total = screen(doc, node, limit)
    if total > limit:
        raise describe_errors(found, node, limit, base_pointer, what, total=total, complete=False)
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        raise describe_errors(exc.errors(include_url=False), node, limit, base_pointer, what) from None


def unknown_rules(profile: Profile, ruleset: Any, loc: tuple = ()) -> list[dict[str, Any]]:
    """pydantic-style errors for what only the ruleset can tell: acknowledgements of rules it does
    not have (a typo in a waiver must not leave a risk silently open), with the closest rule ids,
    and "don't know" answers to fields no rule of it reads."""
    from engine.questions.catalog import dont_know_problems  # the question catalog sits above this module

    errors = [{"type": "not_a_question", "loc": (*loc, "dont_know", i), "input": None, "msg": msg}
              for i, msg in dont_know_problems(profile.dont_know, ruleset)]
    for i, ack in enumerate(profile.acknowledged or ()):
        if ruleset.rule(ack.rule_id) is not None:
            continue
        titles = {r.spec.id: r.spec.title for r in ruleset.rules}
        errors.append({"type": "unknown_rule", "loc": (*loc, "acknowledged", i, "rule_id"), "input": ack.rule_id,
                       "ctx": {"version": ruleset.version, "closest": [(c, titles[c]) for c in closest_codes(ack.rule_id, titles)]}})
    return errors


def check_rules(loaded: LoadedProfile, ruleset: Any) -> None:
    """Raise InvalidDocument when the profile acknowledges rules the ruleset does not have."""
    errors = unknown_rules(loaded.profile, ruleset)
    if errors:
        raise describe_errors(errors, root(Profile), base_pointer=loaded.base_pointer)


# ---------------------------------------------------------------------------- describing one error


def _segments(pointer: str) -> list[str]:
    return [s.replace("~1", "/").replace("~0", "~") for s in pointer.split("/")[1:]]


def _sentence(text: str | None) -> str | None:
    if not text:
        return None
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


def _pointer(base: str, loc: Iterable) -> str:
    return base + "".join("/" + escape(p) for p in loc)


def _code(code: Any, label: str) -> str:
    return str(code) if label == str(code) else f"{code} ({label})"


def _either(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


_CURRENT_VERSION_FIX = (f'Write "schema_version": "{SCHEMA_VERSION}", the current version '
                        "(an older one limits the profile to its fields).")


def _example(node: Node | None) -> str:
    """A small example of a value for ``node``, in words or JSON."""
    if node is None:
        return "a value"
    if node.kind == "choice":
        return f'one of its codes, such as "{next(iter(node.options))}"'
    if node.kind == "list":
        item = node.item
        if item is not None and item.kind == "choice":
            return f'["{next(iter(item.options))}"]'
        return {"object": "[{…}]", "integer": "[1]", "number": "[0.5]", "boolean": "[true]",
                "text": '["text"]'}.get(item.kind if item is not None else "", "[…]")
    return {"object": "{…}", "integer": "a whole number such as 3", "number": "a number such as 0.5",
            "boolean": "true or false", "text": '"text in double quotes"'}.get(node.kind, "a value")


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _nullable(where: Place) -> str:
    return ", or null when it is not known" if where.field is not None and where.field.nullable else ""


def _range(where: Place) -> str:
    bounds = where.field.bounds if where.field is not None else {}
    low = bounds.get("ge", bounds.get("gt"))
    high = bounds.get("le", bounds.get("lt"))
    if low is not None and high is not None:
        return f" from {low:g} to {high:g}"
    if low is not None:
        return f" of at least {low:g}"
    if high is not None:
        return f" of at most {high:g}"
    return ""


def _vocabulary_fix(value: Any, node: Node) -> str | None:
    options = node.options
    aliases = STATE_ALIASES if set(STATE_ALIASES.values()) <= set(options) else None
    closest = closest_codes(value, options, aliases)
    if closest:
        return f"Did you mean {_either([_code(c, options[c]) for c in closest])}?"
    if len(options) <= 6:
        return f"Use one of: {_either([_code(c, label) for c, label in options.items()])}."
    if aliases:
        return "Use the two-letter USPS code, such as OH for Ohio or DC for the District of Columbia."
    if set(options) <= set(activity_labels()):
        return (f"It is none of the tool kit's {len(options)} activities, nor close to one: choose the activity "
                "by its wording (GET /v1/activities lists each code with it).")
    return f"Use one of the {len(options)} codes listed in the profile schema (GET /v1/schema/profile)."


def _list_fix(value: Any, node: Node | None) -> str:
    item = node.item if node is not None else None
    if item is not None and item.kind == "choice" and isinstance(value, str):
        parts = [p.strip() for p in re.split(r"[,;]", value) if p.strip()]
        codes = [closest_codes(p, item.options)[:1] for p in parts]
        if parts and all(c and (p == c[0]) for p, c in zip(parts, codes)):
            return "Write it as a list: [" + ", ".join(f'"{c[0]}"' for c in codes) + "]."
    if item is not None and item.kind == "object" and isinstance(value, dict):
        return "Put it in a list: [{…}], one object per item."
    if item is not None and item.kind in ("integer", "number") and isinstance(value, int | float) and not isinstance(value, bool):
        return "Put it in a list: [" + f"{value:g}" + "]."
    return f"Write it as a list in square brackets, such as {_example(node)}, or [] for none."


def _extra_fix(key: str, where: Place, model_root: Node) -> str:
    parent = where.parent
    if parent is not None and model_root.model is not None:  # a field of another section
        homes = [path for path, _ in field_homes(model_root.model).get(key, []) if path]
        if homes:
            section = place(model_root, homes[0]).label
            return f"“{key}” belongs in {section} (under “{homes[0][-1]}”)."
    names = list(parent.fields) if parent is not None else []
    titles = {n: f.title for n, f in parent.fields.items()} if parent is not None else {}
    closest = closest_names(key, names, titles)
    if closest:
        return f"Did you mean {_either([f'“{n}” ({titles[n]})' for n in closest])}?"
    return "Remove it; the profile schema lists the fields (GET /v1/schema/profile)."


_PATTERNS = {
    "id": "Use letters, digits and . _ : - only, at most 64 characters.",
    "rule_id": "Use a rule id such as PC-CASELOAD-001 (GET /v1/rules lists them).",
    "subject": 'Use "" for the program or "/peers/N" for a peer (N counts from 0), or leave it out for every subject.',
}

_SIMPLE = {
    "string_type": ("must be text", 'Put it in "double quotes".'),
    "float_type": ("must be a number", None),
    "float_parsing": ("must be a number", None),
    "model_type": ("must be an object", "Write it in curly braces: {…}."),
    "model_attributes_type": ("must be an object", "Write it in curly braces: {…}."),
    "dict_type": ("must be an object", "Write it in curly braces: {…}."),
    "missing": ("is missing", None),
}


def describe(err: dict[str, Any], node: Node, base_pointer: str = "") -> Problem:
    """A pydantic-style error (``type``, ``loc``, ``input``, ``ctx``; ``loc`` relative to
    ``node``) in plain words."""
    kind = err.get("type", "")
    loc = tuple(err.get("loc", ()))
    value = err.get("input")
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden" and loc and isinstance(loc[-1], str) and len(loc[-1]) > LONG_KEY:
        where = place(node, loc[:-1])
        return Problem(_pointer(base_pointer, loc[:-1]), where.label,
                       f"has a field name of {len(loc[-1]):,} characters, which is not a field of the schema",
                       "Remove it.", "unknown_field")
    where = place(node, loc)
    pointer = _pointer(base_pointer, loc)
    info = where.field
    target = where.node
    detail, fix, code = err.get("msg", "is not valid"), None, kind

    if kind == "missing":
        detail, code = "is missing: this field is required", "missing"
        fix = (_CURRENT_VERSION_FIX if tuple(loc) == ("schema_version",)
               else f"Add “{loc[-1]}” with {_example(target)}." if loc else None)
    elif kind == "extra_forbidden":
        detail, code = "is not a field of the profile schema here", "unknown_field"
        fix = _extra_fix(str(loc[-1]), where, node)
    elif kind in ("enum", "literal_error"):
        code = "not_a_code"
        if target is not None and target.kind == "choice":
            detail = "is not one of the codes this field takes" if isinstance(value, str) else "must be one of its codes, as text"
            fix = _vocabulary_fix(value, target)
            if tuple(loc) == ("schema_version",):
                fix = f'{fix} The current version is "{SCHEMA_VERSION}".' if fix else _CURRENT_VERSION_FIX
    elif kind == "list_type":
        detail, code = "must be a list", "not_a_list"
        fix = _list_fix(value, target)
    elif kind in ("int_type", "int_parsing", "int_from_float"):
        detail, code = "must be a whole number", "not_an_integer"
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            fix = "Write the number without quotes."
        elif isinstance(value, float):
            fix = "Write it without a decimal point."
        else:
            fix = f"Give a whole number{_range(where)}{_nullable(where)}."
    elif kind in ("float_type", "float_parsing") and isinstance(value, str):
        detail, code = "must be a number", "not_a_number"
        fix = ("Write the number without quotes." if _numeric(value)
               else f"Give a number in digits{_range(where)}{_nullable(where)}.")
    elif kind in ("bool_type", "bool_parsing"):
        detail, code = "must be true or false", "not_a_boolean"
        if isinstance(value, str):
            fix = f"Write true or false without quotes{_nullable(where)}."
        elif isinstance(value, int | float):
            fix = f"Write true or false, not a number{_nullable(where)}."
        else:
            fix = f"Write true or false{_nullable(where)}."
    elif kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        detail, code = f"must be a number{_range(where)}", "out_of_range"
        if info is not None and info.name == "fte":
            fix = "Give the share of a full-time post, such as 0.5 for half time."
    elif kind in ("too_short", "too_long"):
        code = "wrong_length"
        detail = (f"must have at least {ctx.get('min_length')} item{'s' * (ctx.get('min_length') != 1)}" if kind == "too_short"
                  else f"has more than the {ctx.get('max_length')} items allowed")
    elif kind == "string_too_short":
        detail, code = "must not be empty" if ctx.get("min_length", 1) <= 1 else f"must be at least {ctx['min_length']} characters", "too_short"
    elif kind == "string_too_long":
        detail, code = f"must be at most {ctx.get('max_length')} characters", "too_long"
    elif kind == "string_pattern_mismatch":
        detail, code = "is not written the way this field needs", "bad_format"
        fix = _PATTERNS.get(info.name if info is not None else "")
    elif kind.startswith(("datetime_", "date_")):
        detail, code = "must be a date, or a date and time (ISO 8601)", "not_a_date"
        fix = "Write it like 2026-12-01 or 2026-12-01T09:30:00Z."
    elif kind == "finite_number":
        detail, code = "must be a finite number", "not_finite"
    elif kind == "value_error" and "unique" in str(err.get("msg", "")):
        detail, code, fix = "lists the same item more than once", "repeated_item", "Remove the repeats."
    elif kind == "newer_field":
        detail = f"was added in profile schema {ctx['since']}, and the profile declares schema {ctx['declared']}"
        fix = (f"Set “schema_version” to “{ctx['since']}” (a {ctx['declared']} profile is also a valid {ctx['since']} "
               "profile), or remove the field.")
    elif kind == "duplicate_peer_id":
        detail = f"is the same id as Peer {ctx['first'] + 1}’s"
        fix = "Give each peer its own id."
    elif kind == "unknown_subject":
        count = ctx["peers"]
        detail = f"names Peer {ctx['index'] + 1}, but the profile has {count} peer{'s' * (count != 1)}"
        fix = (f'Use "/peers/0" to "/peers/{count - 1}" (Peer 1 to Peer {count}), "" for the program, or leave it out '
               "for every subject." if count > 1 else 'Use "/peers/0" (Peer 1), "" for the program, or leave it out.')
    elif kind == "unknown_rule":
        detail = f"names no rule of ruleset {ctx['version']}"
        closest = ctx.get("closest") or []
        fix = (f"Did you mean {_either([f'{c} ({t})' for c, t in closest])}?" if closest
               else "GET /v1/rules lists the rules.")
    elif kind == "not_a_question":
        detail = "names a field no rule reads, so it is not a question that can be answered “don't know”"
        fix = "Remove it from “dont_know” (GET /v1/questionnaire lists the questions)."
    elif kind in _SIMPLE:
        detail, fix = _SIMPLE[kind]
    return Problem(pointer, where.label, detail, fix, code)
