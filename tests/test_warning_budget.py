"""The test run stays quiet: more than a handful of warnings fails it (tests/warning_budget.py),
PeerCheck's own code may not warn at all, and the warnings filtered in pyproject.toml are filtered
precisely, never wholesale."""

from __future__ import annotations

import tomllib
import warnings

import pytest

from conftest import ROOT
from warning_budget import MAX_WARNINGS

PYTEST_OPTIONS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]


def noisy_suite(pytester, count: int) -> None:
    # named outside PeerCheck's own module names, whose warnings pyproject.toml turns into errors (in
    # force here too: the inner run is in this process)
    pytester.makeini("[pytest]\npython_files = noisy.py\n")
    pytester.makepyfile(noisy=f"""
        import warnings

        def test_noisy():
            for i in range({count}):
                warnings.warn(f"noise {{i}}", UserWarning)
    """)


def test_a_run_with_more_warnings_than_the_budget_fails(pytester):
    noisy_suite(pytester, MAX_WARNINGS + 1)
    result = pytester.runpytest("-p", "warning_budget")
    result.assert_outcomes(passed=1, warnings=MAX_WARNINGS + 1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([
        "*warning budget*",
        f"{MAX_WARNINGS + 1} warnings, more than the {MAX_WARNINGS} a run may produce*",
        "*1 x *noisy.py:*: UserWarning: noise 0",
    ])


def test_a_run_within_the_budget_passes(pytester):
    noisy_suite(pytester, MAX_WARNINGS)
    result = pytester.runpytest("-p", "warning_budget")
    result.assert_outcomes(passed=1, warnings=MAX_WARNINGS)
    assert result.ret == pytest.ExitCode.OK
    assert "warning budget" not in result.stdout.str()


def test_the_budget_does_not_hide_a_failure(pytester):
    pytester.makepyfile(test_failing="def test_fails():\n    assert False\n")  # no warning at all
    assert pytester.runpytest("-p", "warning_budget").ret == pytest.ExitCode.TESTS_FAILED


@pytest.mark.parametrize("module", ["engine.durable_engine", "api.main", "report", "test_cli", "conftest"])
def test_a_warning_from_peercheck_code_is_an_error(module):
    with pytest.raises(UserWarning, match="from PeerCheck"):
        warnings.warn_explicit("from PeerCheck", UserWarning, "x.py", 1, module=module)


def test_the_durable_rules_deprecation_is_filtered_only_where_it_arises():
    message = ("datetime.datetime.utcfromtimestamp() is deprecated and scheduled for removal in a future "
               "version. Use timezone-aware objects to represent datetimes in UTC.")
    with warnings.catch_warnings(record=True) as shown:  # keeps the filters in force (recwarn would not)
        warnings.warn_explicit(message, DeprecationWarning, "durable/engine.py", 17, module="durable.engine")
        assert len(shown) == 0
        warnings.warn_explicit(message, DeprecationWarning, "elsewhere.py", 1, module="elsewhere")
        warnings.warn_explicit("another deprecation", DeprecationWarning, "durable/engine.py", 1, module="durable.engine")
    assert [str(w.message)[:20] for w in shown] == [message[:20], "another deprecation"]


def test_every_ignored_warning_names_its_message_category_and_module():
    for entry in PYTEST_OPTIONS["filterwarnings"]:
        action, message, category, module, *_ = entry.split(":") + ["", "", "", ""]
        if action == "ignore":
            assert message and category and module, f"a blanket ignore: {entry!r}"
    options = PYTEST_OPTIONS.get("addopts", "")
    assert "no:warnings" not in options and "-W" not in options and "disable-warnings" not in options
