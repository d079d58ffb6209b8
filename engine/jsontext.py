"""Reading JSON text strictly, the same way for every entry point (API, page, CLI, batch files).

``loads`` accepts exactly RFC 8259 JSON in UTF-8 and refuses, with a problem a person can act on:

* bytes that are not UTF-8, and text with an unpaired surrogate (``"\\ud800"``) — such text cannot
  be stored, rendered or encoded again, so it must not get past the door;
* syntax errors — reported with the line and column and the offending line quoted;
* ``NaN``, ``Infinity`` and numbers too large to be finite (``1e999``), which are not JSON numbers;
* integers longer than ``MAX_DIGITS`` digits (Python refuses those itself, with a ``ValueError``
  rather than a ``JSONDecodeError``);
* duplicate keys in one object (``json.loads`` would silently keep the last);
* nesting deeper than the parser's recursion limit.

Problems with a value (a number, a duplicate key) name it by JSON pointer; problems with the text
(syntax, encoding) by line and column. The cost is linear in the size of the text: the slow
paths (finding where a bad number sits) run only once the text is known to be bad.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, Iterator

MAX_DIGITS = 4300  # Python's default int_max_str_digits: longer integers cannot even be read
EXCERPT_WIDTH = 80  # characters of the offending line shown around the column
LONG_KEY = 200  # a repeated key longer than this is reported at its object, keeping answers small


@dataclass(frozen=True)
class TextProblem:
    """Why a JSON text cannot be read; ``detail`` says it of the document, or of the value at
    ``pointer`` ("is NaN, which is not a number in JSON"). ``pointer`` names the value when the text parsed as far as
    values (a NaN, a duplicate key); else ``line``/``column`` (from 1) place it in the text and
    ``excerpt`` quotes that line (cut to ``EXCERPT_WIDTH`` around the column, ``…`` where cut),
    with ``caret`` the offset of the column inside the excerpt."""

    detail: str
    fix: str | None = None
    pointer: str = ""
    line: int | None = None
    column: int | None = None
    excerpt: str | None = None
    caret: int | None = None
    code: str = "invalid_json"


class InvalidJSON(ValueError):
    """The text is not acceptable JSON; ``problems`` says where and why (at least one)."""

    def __init__(self, problems: list[TextProblem]):
        super().__init__("; ".join(p.detail for p in problems))
        self.problems = problems


# ------------------------------------------------------------------------ positions and excerpts


def position(text: str, index: int) -> tuple[int, int]:
    """(line, column), both from 1, of ``index`` in ``text``."""
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def excerpt(text: str, index: int) -> tuple[str, int]:
    """The line holding ``index``, cut to ``EXCERPT_WIDTH`` characters around it, tabs and control
    characters shown as spaces; and the offset of ``index`` in the excerpt."""
    start = text.rfind("\n", 0, index) + 1
    end = text.find("\n", index)
    end = len(text) if end == -1 else end
    line = text[start:end].rstrip("\r")
    column = min(index - start, len(line))
    left = max(0, column - EXCERPT_WIDTH // 2)
    right = min(len(line), left + EXCERPT_WIDTH)
    left = max(0, right - EXCERPT_WIDTH)
    shown = "".join(c if c.isprintable() else " " for c in line[left:right])
    caret = column - left
    if left > 0:
        shown, caret = "…" + shown, caret + 1
    if right < len(line):
        shown += "…"
    return shown, caret


def at(text: str, index: int, detail: str, fix: str | None = None, code: str = "invalid_json") -> TextProblem:
    """A problem placed at ``index`` of ``text``."""
    line, column = position(text, index)
    shown, caret = excerpt(text, index)
    return TextProblem(detail=f"{detail} (line {line}, column {column})", fix=fix, line=line, column=column,
                       excerpt=shown, caret=caret, code=code)


# ------------------------------------------------------------------------ syntax errors in plain words

_SYNTAX: list[tuple[str, str, str]] = [
    # (start of json's message, what is wrong, how to fix it)
    ("Expecting ',' delimiter", "a comma is missing, or a bracket is not closed",
     "separate the items of a list and the fields of an object with commas, and close every { with } and [ with ]"),
    ("Expecting ':' delimiter", "a colon is expected after the field name",
     'write each field as "name": value'),
    ("Expecting property name enclosed in double quotes", "a field name in double quotes is expected",
     'put field names in "double quotes", and remove any comma just before a closing }'),
    ("Expecting value", "a value is expected",
     'give a value (text in "double quotes", a number, true, false, null, a list or an object), and remove '
     "any comma just before a closing ] or }"),
    ("Unterminated string", "a text value is not closed", 'end the text with a double quote (")'),
    ("Invalid control character", "a line break or tab inside text", r"write a line break inside text as \n and a tab as \t"),
    ("Invalid \\uXXXX escape", "an invalid \\u escape in text", r"write \u followed by four hexadecimal digits"),
    ("Invalid \\escape", "an invalid escape in text", r"write a backslash inside text as \\"),
    ("Extra data", "more text after the end of the JSON document",
     "send one JSON document; for many profiles use a JSON Lines file (one per line) or a batch"),
]


def _syntax_problem(exc: json.JSONDecodeError) -> TextProblem:
    for prefix, what, fix in _SYNTAX:
        if exc.msg.startswith(prefix):
            return at(exc.doc, exc.pos, f"is not valid JSON: {what}", fix)
    return at(exc.doc, exc.pos, f"is not valid JSON: {exc.msg.lower()}")


# ------------------------------------------------------------------------ values JSON does not allow


class _Refused:
    """Stands in for a value the strict reader refuses, so the parse can finish and the walk
    that follows can name where the value sits."""

    __slots__ = ("detail", "fix", "code", "key")

    def __init__(self, detail: str, fix: str, code: str, key: str | None = None):
        self.detail, self.fix, self.code, self.key = detail, fix, code, key


class _Dict(dict):
    """An object that named a key twice (``refused`` says which)."""

    __slots__ = ("refused",)


class _Reader:
    """One parse's hooks; ``refused`` counts the values replaced by a ``_Refused``."""

    def __init__(self, check_digits: bool = False):
        self.refused = 0
        self.check_digits = check_digits

    def constant(self, name: str) -> _Refused:
        self.refused += 1
        return _Refused(f"is {name}, which is not a number in JSON", "give a finite number, or null if it is not known", "not_finite")

    def number(self, text: str) -> float | _Refused:
        value = float(text)
        if math.isfinite(value):
            return value
        self.refused += 1
        return _Refused("is a number too large to be represented", "give a number of a sensible size", "not_finite")

    def integer(self, text: str) -> int | _Refused:
        if len(text.lstrip("-")) > MAX_DIGITS:
            self.refused += 1
            return _Refused(f"is a number of {len(text.lstrip('-')):,} digits, more than the {MAX_DIGITS:,} that can be read",
                            "give a number of a sensible size", "too_many_digits")
        return int(text)

    def pairs(self, items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                self.refused += 1
                out = _Dict(out)
                out.refused = _Refused("appears twice in the same object",
                                       "keep one of the two", "duplicate_key", key)
                for later_key, later_value in items:
                    out.setdefault(later_key, later_value)
                return out
            out[key] = value
        return out

    def decoder(self) -> json.JSONDecoder:
        return json.JSONDecoder(object_pairs_hook=self.pairs, parse_constant=self.constant, parse_float=self.number,
                                parse_int=self.integer if self.check_digits else None)


def escape(segment: object) -> str:
    """One JSON pointer segment (RFC 6901)."""
    return str(segment).replace("~", "~0").replace("/", "~1")


def _refusals(doc: Any, limit: int) -> Iterator[TextProblem]:
    """The refused values in ``doc`` with their pointers, in document order (iterative: the
    document may be nested as deep as the parser allows)."""
    stack: list[tuple[str, Any]] = [("", doc)]
    found = 0
    while stack and found < limit:
        path, value = stack.pop()
        if isinstance(value, _Refused):
            found += 1
            yield TextProblem(detail=value.detail, fix=value.fix, pointer=path, code=value.code)
        elif isinstance(value, dict):
            if isinstance(value, _Dict):
                found += 1
                refused = value.refused
                if len(refused.key) > LONG_KEY:
                    yield TextProblem(detail=f"has a field name of {len(refused.key):,} characters twice", fix=refused.fix,
                                      pointer=path, code=refused.code)
                else:
                    yield TextProblem(detail=refused.detail, fix=refused.fix, pointer=f"{path}/{escape(refused.key)}",
                                      code=refused.code)
            stack.extend((f"{path}/{escape(k)}", v) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((f"{path}/{i}", v) for i, v in reversed(list(enumerate(value))))


# ------------------------------------------------------------------------ unpaired surrogates

_MAYBE_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_ESCAPES = re.compile(r"\\\\|\\u([dD][89a-fA-F][0-9a-fA-F]{2})")


def _unpaired_escape(text: str) -> int | None:
    """Index of the first ``\\uD800``–``\\uDFFF`` escape that is not half of a pair, or None.
    Escaped backslashes are skipped so ``\\\\ud800`` (a backslash, then text) is not one."""
    if _MAYBE_SURROGATE.search(text) is None:
        return None
    pending: re.Match[str] | None = None  # a high surrogate waiting for its low half
    for match in _ESCAPES.finditer(text):
        unit = match.group(1)
        if unit is None:  # an escaped backslash
            if pending is not None:
                return pending.start()
            continue
        high = unit[1].lower() in "89ab"
        if pending is not None:
            if high or match.start() != pending.end():
                return pending.start()
            pending = None
        elif high:
            pending = match
        else:
            return match.start()
    return pending.start() if pending is not None else None


# ------------------------------------------------------------------------ the reader


def decode(data: bytes) -> str:
    """UTF-8 bytes (a byte-order mark is allowed) to text. Raises InvalidJSON."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        text = data.decode("utf-8-sig", errors="replace")
        index = len(data[:exc.start].decode("utf-8-sig", errors="replace"))
        raise InvalidJSON([at(text, index, "is not UTF-8 text", "save the file as UTF-8 (in most editors: Save as… › Encoding › UTF-8)",
                              code="not_utf8")]) from None


def loads(data: str | bytes, *, max_problems: int = 50) -> Any:
    """Strict JSON text (or UTF-8 bytes) to a Python value. Raises InvalidJSON."""
    text = decode(data) if isinstance(data, (bytes, bytearray, memoryview)) else data
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate in text handed over as str
        raise InvalidJSON([at(text, exc.start, "holds a character that is not valid Unicode",
                              "remove the character or save the file as UTF-8", code="invalid_unicode")]) from None
    if not text.strip():
        raise InvalidJSON([TextProblem("is empty", "give a JSON object such as a profile", code="empty")])
    reader = _Reader()
    try:
        doc = reader.decoder().decode(text)
    except json.JSONDecodeError as exc:
        raise InvalidJSON([_syntax_problem(exc)]) from None
    except RecursionError:
        raise InvalidJSON([TextProblem("is nested too deeply to be read",
                                       "a profile is nested only a few levels deep: remove the deep nesting",
                                       code="too_deep")]) from None
    except ValueError:  # an integer beyond Python's digit limit: read again to find where it is
        reader = _Reader(check_digits=True)
        doc = reader.decoder().decode(text)
    if reader.refused:
        raise InvalidJSON(list(_refusals(doc, max_problems)))
    index = _unpaired_escape(text)
    if index is not None:
        raise InvalidJSON([at(text, index, r"holds an unpaired surrogate escape (\uD800 to \uDFFF alone), which is not a character",
                              r"remove it, or write the character itself (or both halves of its \u escape pair)",
                              code="invalid_unicode")])
    return doc
