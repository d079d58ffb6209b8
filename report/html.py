"""The report as one self-contained HTML page: inline CSS (with a print stylesheet), an inline
SVG bar chart, no JavaScript, no external requests — it can be mailed, archived or printed.

Templates live in ``report/templates``; autoescaping is on for every template and undefined
names are errors, so a hostile program name is shown as text and a template typo fails loudly.
Other front ends (the API's page) extend these templates through ``loader()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import BaseLoader, Environment, FileSystemLoader, StrictUndefined

from report.context import ReportContext
from report.format import FIVE_P_LABELS, SEVERITY_LABELS, STATUS_EXPLAINED, STATUS_LABELS, humanise

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def loader() -> BaseLoader:
    """The report templates, for an environment that adds its own on top."""
    return FileSystemLoader(TEMPLATES_DIR)


def make_environment(template_loader: BaseLoader | None = None) -> Environment:
    """A Jinja2 environment with autoescaping on and the report's filters and labels."""
    env = Environment(
        loader=template_loader or loader(),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["humanise"] = humanise
    env.globals.update(
        SEVERITY_LABELS=SEVERITY_LABELS, FIVE_P_LABELS=FIVE_P_LABELS,
        STATUS_LABELS=STATUS_LABELS, STATUS_EXPLAINED=STATUS_EXPLAINED,
    )
    return env


_ENV = make_environment()


@dataclass(frozen=True)
class Bar:
    severity: str
    label: str
    count: int
    y: int
    width: float


CHART_BAR_MAX = 300  # px of the longest bar, in the SVG's own units


def chart_bars(ctx: ReportContext) -> list[Bar]:
    """Bar geometry for the severity chart: lengths proportional to the largest count."""
    largest = max((n for _, n in ctx.chart), default=0) or 1
    return [
        Bar(sev, SEVERITY_LABELS[sev], n, 8 + i * 30, round(CHART_BAR_MAX * n / largest, 1))
        for i, (sev, n) in enumerate(ctx.chart)
    ]


def template_context(ctx: ReportContext) -> dict[str, Any]:
    return {"ctx": ctx, "d": ctx.decision, "bars": chart_bars(ctx), "chart_height": 8 + 30 * len(ctx.chart)}


def render_html(ctx: ReportContext, env: Environment | None = None, template: str = "report.html.j2",
                **extra: Any) -> str:
    """Render the report page (or a template extending it, with ``extra`` values)."""
    return (env or _ENV).get_template(template).render(**template_context(ctx), **extra)
