"""Reports for people and pipelines: a Decision rendered as Markdown, HTML or SARIF 2.1.0.

    ctx = build(decision, ruleset, profile)      # the view model every renderer reads
    render_html(ctx); render_markdown(ctx)       # documents for people
    render_sarif(decision, ruleset, artifact=…)  # a dict, for code-scanning pipelines

or all at once with ``render(decision, ruleset, "html", profile=profile)``.

This package never imports the HTTP layer (``api``): the CLI and the API both use it.
"""

from __future__ import annotations

import json
from typing import Sequence

from engine import Decision, Profile, Ruleset
from engine.evaluate import RuleOutcome
from report.context import ReportContext, build
from report.html import render_html
from report.markdown import render_markdown
from report.sarif import artifact_uri, render_sarif

FORMATS = ("markdown", "html", "sarif")


def render(decision: Decision, ruleset: Ruleset, fmt: str, *, profile: Profile | None = None,
           outcomes: Sequence[RuleOutcome] | None = None, artifact: str | None = None,
           base_pointer: str = "", positions: dict[str, int] | None = None) -> str:
    """The decision as a document in ``fmt`` (one of FORMATS). For SARIF: ``artifact`` is the profile
    file's URI, ``base_pointer`` where the profile sits in it, ``positions`` its lines by JSON pointer."""
    if fmt == "sarif":
        log = render_sarif(decision, ruleset, artifact=artifact, base_pointer=base_pointer, outcomes=outcomes,
                           positions=positions)
        return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
    ctx = build(decision, ruleset, profile, outcomes)
    if fmt == "html":
        return render_html(ctx)
    if fmt == "markdown":
        return render_markdown(ctx)
    raise ValueError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")


__all__ = [
    "FORMATS", "ReportContext", "artifact_uri", "build", "render", "render_html", "render_markdown", "render_sarif",
]
