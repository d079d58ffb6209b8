"""The printed report: a program with some sixty findings prints on a handful of pages.

Prints the HTML report of the many-findings program (tests/many_findings.py) to a Letter PDF in
headless Chromium (Debian's /usr/bin/chromium through the playwright package, as the browser test
does) and counts its pages. The PDF goes to test-output/. Skips, saying why, without Chromium or
playwright (``make e2e`` installs both).
"""

from __future__ import annotations

import json
import re

import pytest

from headless import OUTPUT, launched, require
from engine import Evaluator, Profile, make_engine
from report import render

MAX_PAGES = 12
sync_api = require("print the report")

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
    with launched(sync_api) as browser:
        page = browser.new_page()
        page.set_content(html)
        pdf = page.pdf(format="Letter")
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "report-many-findings.pdf").write_bytes(pdf)
    (OUTPUT / "report-many-findings.json").write_text(json.dumps(profile.model_dump(mode="json", exclude_none=True)))
    pages = pdf_pages(pdf)
    with capsys.disabled():
        print(f"\n  report of {decision.summary.findings} findings ({decision.summary.by_severity}): "
              f"{pages} Letter pages (bound {MAX_PAGES})")
    assert 1 < pages <= MAX_PAGES
