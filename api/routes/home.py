"""``GET /`` — the address ``make run`` prints: a short page that says what PeerCheck is and leads
to the page for TA providers (``/ui``), the API documentation (``/docs``, ``/openapi.json``), the
CDS Hooks discovery document and the health check. Not an operation of the API, so it is not in
the OpenAPI document (like ``/ui``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, FileSystemLoader

from api.deps import Service, get_service
from api.routes.pages import HERE, HTML_HEADERS
from report.html import loader as report_loader
from report.html import make_environment

router = APIRouter()

_env = make_environment(ChoiceLoader([FileSystemLoader(HERE / "templates"), report_loader()]))


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home(request: Request, service: Service = Depends(get_service)) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    html = _env.get_template("home.html.j2").render(
        links={name: f"{root}{path}" for name, path in
               {"ui": "/ui", "docs": "/docs", "openapi": "/openapi.json", "cds": "/cds-services", "health": "/healthz"}.items()},
        ruleset_version=service.ruleset.version, rules=len(service.ruleset.rules), engine=service.evaluator.engine.name,
    )
    return HTMLResponse(html, headers=HTML_HEADERS)
