"""The questions-to-decision walk over the eleven case studies (bench/questions.py): printed as a
table, and held to what it must show — no timing here."""

import pytest

from bench.questions import PROGRAMS, measure, table


@pytest.fixture(scope="module")
def rows(evaluators):
    return [measure(evaluators["interpreter"], path) for path in PROGRAMS]


def test_print_the_table(rows, capsys):
    with capsys.disabled():
        print("\n\nQuestions until every critical and high rule is decided, and until nothing more can be:\n")
        print(table(rows))


def test_each_walk_ends_where_the_case_study_does(rows):
    """Answering only the questions asked gives the case study's own findings and needs information:
    no question left unasked could have changed the review."""
    assert len(rows) == 11
    for row in rows:
        assert row.same_outcome, row.case


def test_most_valuable_first_decides_critical_and_high_rules_sooner(rows):
    for row in rows:
        assert row.by_value.critical_high <= row.by_schema.critical_high, row.case
        assert row.by_value.critical_high < row.by_value.asked <= row.fields, row.case
        assert len(set(row.by_value.order)) == row.by_value.asked  # nothing asked twice, "don't know" included
    assert sum(r.by_value.critical_high for r in rows) < 0.6 * sum(r.by_schema.critical_high for r in rows)


def test_the_peers_are_asked_first(rows):
    for row in rows:
        assert row.by_value.order[0] == "/peers"
