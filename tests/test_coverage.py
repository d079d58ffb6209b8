"""rules/COVERAGE.md, the recall check of the sources' recommendations, stays true: every rule it
names exists, every rule traces back to at least one recommendation, and its recall figures are
the counts of its own table."""

import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEXT = (ROOT / "rules" / "COVERAGE.md").read_text()
RULE_IDS = {p.stem for p in (ROOT / "rules").glob("*/PC-*.yaml")}
ROWS = [line.split(" | ") for line in TEXT.splitlines() if re.match(r"^\| \d+ \| ", line)]


def test_the_table_has_the_recommendations():
    assert len(ROWS) >= 100
    assert [int(row[0].strip("| ")) for row in ROWS] == list(range(1, len(ROWS) + 1))


def test_every_rule_named_exists_and_every_rule_is_named():
    named = set(re.findall(r"PC-[A-Z]+-\d{3}", TEXT))
    assert named <= RULE_IDS, f"unknown rules in COVERAGE.md: {sorted(named - RULE_IDS)}"
    assert RULE_IDS <= named, f"rules that trace to no recommendation: {sorted(RULE_IDS - named)}"


def test_detected_rows_name_a_rule_and_excluded_rows_a_reason():
    for row in ROWS:
        status, covered = row[3], row[4]
        if status in ("rule", "partly"):
            assert re.search(r"PC-[A-Z]+-\d{3}|activity catalog", covered), row
        else:
            assert status.startswith("excluded — ") and len(covered.strip(" |")) > 10, row


def test_recall_figures_are_the_table_counts():
    counts = Counter(row[3] for row in ROWS)
    figures = {m.group(1): int(m.group(2)) for m in re.finditer(r"^\| (?:\*\*)?([a-z —]+?)(?:\*\*)? \| (?:\*\*)?(\d+)", TEXT, re.M)}
    assert figures["detected by a rule"] == counts["rule"]
    assert figures["detected in part"] == counts["partly"]
    assert figures["detected in full or in part"] == counts["rule"] + counts["partly"]
    for kind in ("content", "conduct", "state data", "not asked yet"):
        assert figures[f"excluded — {kind}"] == counts[f"excluded — {kind}"], kind
    assert figures["total"] == len(ROWS)
