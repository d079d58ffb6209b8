"""A pytest plugin: a test run fails when it produces more than a handful of warnings.

pytest lists warnings and still passes, so a flood from one deprecated call in a dependency (one
warning per evaluation, hundreds of thousands a run) can grow unnoticed and bury the one warning
that matters. This plugin counts every warning pytest records in the session — at collection,
in tests and fixtures, at configuration — and, above the budget, prints what came most often and
turns a passing run into a failing one. A warning that is expected and understood is filtered
where it arises (``filterwarnings`` in pyproject.toml, each entry naming message, category and
module, with the upstream cause beside it), never ignored wholesale.
"""

from __future__ import annotations

from collections import Counter

import pytest

MAX_WARNINGS = 5


class WarningBudget:
    def __init__(self, limit: int = MAX_WARNINGS):
        self.limit = limit
        self.seen: Counter[str] = Counter()

    @property
    def count(self) -> int:
        return sum(self.seen.values())

    def pytest_warning_recorded(self, warning_message, when, nodeid, location) -> None:
        where = f"{warning_message.filename}:{warning_message.lineno}"
        self.seen[f"{where}: {warning_message.category.__name__}: {warning_message.message}"] += 1

    def pytest_sessionfinish(self, session, exitstatus) -> None:
        if self.count > self.limit and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.count <= self.limit:
            return
        terminalreporter.section("warning budget", sep="=", red=True, bold=True)
        terminalreporter.write_line(
            f"{self.count} warnings, more than the {self.limit} a run may produce: fix the cause, or filter "
            "the one call precisely (message, category, module) in pyproject.toml saying why. Most frequent:"
        )
        for text, times in self.seen.most_common(5):
            terminalreporter.write_line(f"  {times:>7} x {text[:300]}")


def pytest_configure(config) -> None:
    config.pluginmanager.register(WarningBudget(), "warning-budget")
