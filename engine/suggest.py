""""Did you mean …?": the closest codes to a value, and the closest field names to a key.

Matching is by the code and by its label (a state's name, an activity's tool-kit wording), after
folding case, spaces, dots and underscores; close spellings are found with ``difflib``. Only a
few candidates are ever returned: a suggestion, never the whole vocabulary.
"""

from __future__ import annotations

import difflib
import re

MAX_SUGGESTIONS = 3
LONGEST = 80  # longer inputs get no suggestion (difflib is quadratic in the length)

# Traditional (GPO / AP style) state abbreviations and other common ways of writing a state,
# folded; the USPS codes and full names are matched without this table.
STATE_ALIASES: dict[str, str] = {
    "ala": "AL", "ariz": "AZ", "ark": "AR", "calif": "CA", "cal": "CA", "colo": "CO", "conn": "CT", "del": "DE",
    "fla": "FL", "ga": "GA", "ill": "IL", "ind": "IN", "kan": "KS", "kans": "KS", "ky": "KY", "la": "LA",
    "md": "MD", "mass": "MA", "mich": "MI", "minn": "MN", "miss": "MS", "mo": "MO", "mont": "MT", "neb": "NE",
    "nebr": "NE", "nev": "NV", "nh": "NH", "nj": "NJ", "nm": "NM", "ny": "NY", "nyc": "NY", "nc": "NC",
    "nd": "ND", "okla": "OK", "ore": "OR", "oreg": "OR", "pa": "PA", "penn": "PA", "penna": "PA", "ri": "RI",
    "sc": "SC", "sd": "SD", "tenn": "TN", "tex": "TX", "vt": "VT", "va": "VA", "wash": "WA", "wva": "WV",
    "wis": "WI", "wisc": "WI", "wyo": "WY", "dc": "DC", "washingtondc": "DC", "districtofcolumbia": "DC",
    "usvi": "VI", "virginislands": "VI", "cnmi": "MP", "northernmarianas": "MP", "puertorico": "PR",
}


def fold(text: str) -> str:
    """Lower case, letters and digits only: "N.Y." → "ny", "New York" → "newyork"."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _words(text: str) -> set[str]:
    return {w for w in re.split(r"[^a-z0-9]+", text.lower()) if len(w) > 2}


def closest_codes(value: object, options: dict, aliases: dict[str, str] | None = None) -> list:
    """The options (codes) ``value`` most likely meant, best first; [] when none is close.
    An exact match after folding (a code in the wrong case, a state's name, an alias) is the
    only suggestion."""
    if not isinstance(value, str) or not value.strip() or len(value) > LONGEST:
        return []
    folded = fold(value)
    exact = [code for code, label in options.items() if folded in (fold(str(code)), fold(label))]
    if not exact and aliases and folded in aliases and aliases[folded] in options:
        exact = [aliases[folded]]
    if exact:
        return exact[:1]
    wanted = _words(value)
    scored: list[tuple[float, int, object]] = []
    for order, (code, label) in enumerate(options.items()):
        ratio = max(difflib.SequenceMatcher(None, folded, fold(str(code))).ratio(),
                    difflib.SequenceMatcher(None, folded, fold(label)).ratio())
        shared = wanted & (_words(str(code)) | _words(label))
        score = ratio + 0.25 * len(shared)
        if ratio >= 0.6 or shared:
            scored.append((score, -order, code))
    scored.sort(reverse=True)
    return [code for _, _, code in scored[:MAX_SUGGESTIONS]]


def closest_names(key: str, names: list[str], titles: dict[str, str] | None = None) -> list[str]:
    """The field names ``key`` most likely meant (by name, and by title when given)."""
    if len(key) > LONGEST:
        return []
    titles = titles or {}
    return closest_codes(key, {name: titles.get(name, name) for name in names})
