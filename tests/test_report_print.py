"""The printed report: a program with some sixty findings prints on a handful of pages.

Prints the HTML report of the many-findings program (tests/many_findings.py) to a Letter PDF in
headless Chromium (Debian's /usr/bin/chromium through the playwright package, as the browser test
does) and counts its pages. The PDF goes to test-output/. Skips, saying why, without Chromium or
playwright (``make e2e`` installs both).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from engine import Evaluator, Profile, make_engine
from report import render

CHROMIUM = Path("/usr/bin/chromium")
OUTPUT = Path(__file__).resolve().parent.parent / "test-output"
MAX_PAGES = 12

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (make e2e does, as root) to print the report",
                allow_module_level=True)
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed: pip install playwright (make e2e does)",
    exc_type=ImportError)

from many_findings import many_findings_profile  # noqa: E402


def pdf_pages(pdf: bytes) -> int:
    """Pages of a PDF as Chromium writes it: its page objects (``/Type /Page``, not ``/Pages``)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


def test_sixty_findings_print_on_a_handful_of_pages(ruleset, capsys):
    evaluator = Evaluator(ruleset, make_engine("interpreter", ruleset))
    profile = Profile.model_validate(many_findings_profile(evaluator))
    decision = evaluator.evaluate(profile)
    assert decision.summary.findings >= 55, "the rule fixtures no longer make a many-findings program"
    html = render(decision, ruleset, "html", profile=profile)
    with sync_api.sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), timeout=60_000,
                                                 args=["--headless", "--no-sandbox", "--disable-gpu"])
        except Exception as exc:  # noqa: BLE001 - a broken browser install is a skip, not a failure
            pytest.skip(f"Chromium at {CHROMIUM} could not be started: {exc}")
        try:
            page = browser.new_page()
            page.set_content(html)
            pdf = page.pdf(format="Letter")
        finally:
            browser.close()
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "report-many-findings.pdf").write_bytes(pdf)
    (OUTPUT / "report-many-findings.json").write_text(json.dumps(profile.model_dump(mode="json", exclude_none=True)))
    pages = pdf_pages(pdf)
    with capsys.disabled():
        print(f"\n  report of {decision.summary.findings} findings ({decision.summary.by_severity}): "
              f"{pages} Letter pages (bound {MAX_PAGES})")
    assert 1 < pages <= MAX_PAGES
