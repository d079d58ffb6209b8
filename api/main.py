"""The HTTP service: builds the app from settings, loads the ruleset before serving a byte.

``create_app`` raises ``LoadError`` for bad rule data; the module-level ``app`` (what
``uvicorn api.main:app`` serves) turns that into one clear message and a failed start, so the
service never starts half-loaded.
"""

from __future__ import annotations

import time
import uuid

import structlog
from fastapi import FastAPI, Request

from api import problems
from api.deps import Service
from api.logs import configure, log
from api.routes import evaluations, health, rules
from api.settings import Settings
from engine import Evaluator, LoadError, load_ruleset, make_engine

DESCRIPTION = """
PeerCheck checks a peer recovery support program in a justice setting (jail, court, probation,
police) against federal guidance, and returns flagged risks — each with severity, a plain-language
message, the evidence from the profile, what to do, and the source passage it rests on.

Every answer carries a `decision_id` and the `ruleset_version` (a content hash of the rule data):
the same profile under the same version gives the same findings. Errors are RFC 9457 problem
details (`application/problem+json`) naming each bad field.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure(settings.log_level, settings.log_json)
    rules_dir = settings.rules_dir
    ruleset = load_ruleset(
        rules_dir, rules_dir / "catalog" / "activities.yaml", rules_dir / "catalog" / "states.yaml", rules_dir / "sources",
        overrides_file=settings.overrides_file,
    )
    evaluator = Evaluator(ruleset, make_engine(settings.engine, ruleset))

    app = FastAPI(
        title="PeerCheck",
        version="0.1.0",
        description=DESCRIPTION,
    )
    app.state.service = Service(settings, ruleset, evaluator)
    problems.install(app)
    app.include_router(evaluations.router)
    app.include_router(rules.router)
    app.include_router(health.router)

    @app.middleware("http")
    async def request_log(request: Request, call_next):
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        if len(request_id) > 64 or not request_id.isprintable():
            request_id = uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        try:
            response = await call_next(request)
        finally:
            structlog.contextvars.unbind_contextvars("request_id")
        response.headers["x-request-id"] = request_id
        log.info("request", request_id=request_id, method=request.method, path=request.url.path,
                 status=response.status_code, duration_ms=round((time.perf_counter() - started) * 1000, 2))
        return response

    log.info("started", ruleset_version=ruleset.version, rules=len(ruleset.rules), engine=settings.engine)
    return app


def _serve() -> FastAPI:
    try:
        return create_app()
    except LoadError as exc:
        raise SystemExit(f"PeerCheck did not start: {exc}") from None


app = _serve()
