"""The HTTP service: builds the app from settings, loads the ruleset before serving a byte.

``create_app`` raises ``LoadError`` for bad rule data, ``decisionlog.ConfigError`` for a decision
log that cannot work as configured (a PostgreSQL ``DATABASE_URL`` without psycopg) and
``DurableUnavailable`` for the durable_rules engine on a Python it does not run on; the module-level ``app`` (what
``uvicorn api.main:app`` serves) turns that into one clear message and a failed start, so the
service never starts half-loaded.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from fastapi.routing import APIRoute

from api import batch as batching
from api import problems, stored
from api.cds_auth import CdsAuthenticator
from api.compression import CompressAnswers
from api.cors import CdsCors
from api.forwarding import ClientAddress, TrustedProxies
from api.guards import DOCS_ASSETS, KeyGuard, StrictJSON
from api.limiter import FILE as LIMITS_FILE
from api.limiter import SharedLimiter
from api.transport import BodyDeadline, HeadAsGet
from api.deps import Service
from api.logs import RequestLog, configure, log
from api.jobs import JobRunner
from api.routes import catalog, cds, docs, evaluations, guided, health, home, jobs, pages, questionnaire, rules
from api.session import Sessions
from api.settings import Settings, load_settings
from api.stored import RulesetTexts
from decisionlog import ConfigError, DecisionLog, LogUnavailable, open_log
from decisionlog.group_commit import GroupCommit
from engine import Evaluator, LoadError, load_ruleset, make_engine
from engine.durable_engine import DurableUnavailable

DESCRIPTION = """
PeerCheck checks a peer recovery support program in a justice setting (jail, court, probation,
police) against federal guidance, and returns flagged risks — each with severity, a plain-language
message, the evidence from the profile, what to do, and the source passage it rests on.

Every answer carries a `decision_id` and the `ruleset_version` (a content hash of the rule data):
the same profile under the same version gives the same findings. Errors are RFC 9457 problem
details (`application/problem+json`) naming each bad field.

For three kinds of caller: case-management systems (`POST /v1/evaluations`, CDS Hooks 2.0 at
`/cds-services` with client JWTs, CORS and feedback), TA providers (`explain=true`, what-if
`POST /v1/evaluations:compare`) and grant portals (`POST /v1/evaluations:batch`, asynchronous
`POST /v1/batch-jobs`, their own `external_id` and labels, `GET /v1/evaluations` to search,
`view=summary` and `fail_on` verdicts). Every decision is appended to a decision log and can be
fetched again by its id. Every `POST` under `/v1` takes an `Idempotency-Key`; answers are gzipped
for clients that accept it.
"""


def _decision_log(settings: Settings) -> DecisionLog | None:
    """The configured store, not yet opened; None when decision logging is off."""
    if not settings.decision_log_enabled:
        return None
    return open_log(database_url=settings.database_url, data_dir=settings.data_dir,
                    retention_days=settings.decision_log_retention_days, sqlite_sync=settings.decision_log_sync,
                    wait_s=settings.decision_log_wait_ms / 1000, max_bytes=settings.decision_log_max_mb * 1024 * 1024)


def _limiter(settings: Settings) -> SharedLimiter | None:
    """Counters for the rate limits that are configured, shared by the machine's workers."""
    if settings.rate_limit is None and not (settings.api_keys and settings.auth_failure_limit):
        return None
    return SharedLimiter(Path(settings.data_dir) / LIMITS_FILE)


def _lifespan(store: DecisionLog | None, writer: GroupCommit | None, texts: RulesetTexts, runner: JobRunner):
    """Open the decision log (migrate its schema, prune expired decisions, keep the ruleset's
    texts, upgrade older records) at start-up, then start the batch-job workers (which resume
    unfinished jobs); at shutdown let them commit their chunk, then close. A store that cannot be
    opened does not stop the service: answers then carry recorded=false."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if store is not None:
            try:
                store.start()
                stored.prepare(store, texts)
                log.info("decision_log_ready", store=store.name, retention_days=store.retention_days,
                         max_mb=store.max_bytes // (1024 * 1024))
            except LogUnavailable as exc:
                log.warning("decision_log_unavailable", store=store.name, operation="start", error=str(exc))
        runner.start()
        try:
            yield
        finally:
            runner.stop()
            if writer is not None:
                writer.close()  # commits what is pending
            if store is not None:
                store.close()

    return lifespan


class _BodyLimits:
    """``StrictJSON`` with the batch-job route's larger size limit there, the normal one elsewhere."""

    def __init__(self, app, settings: Settings):
        self.normal = StrictJSON(app, max_body_bytes=settings.max_body_bytes)
        self.jobs = StrictJSON(app, max_body_bytes=max(settings.max_body_bytes, settings.batch_job_max_body_bytes))

    async def __call__(self, scope, receive, send) -> None:
        chosen = self.jobs if scope["type"] == "http" and scope["path"] == "/v1/batch-jobs" else self.normal
        await chosen(scope, receive, send)


def operation_id(route: APIRoute) -> str:
    """An operation's id in the OpenAPI document, and so its method name in generated clients: the
    route function's name (``evaluate_batch``), not FastAPI's default of name, path and method.
    A test holds them unique."""
    return route.name


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    configure(settings.log_level, settings.log_json)
    ruleset = load_ruleset(settings.rules_dir, overrides_file=settings.overrides_file)
    evaluator = Evaluator(ruleset, make_engine(settings.engine, ruleset))
    store = _decision_log(settings)
    writer = GroupCommit(store) if store is not None else None
    texts = RulesetTexts(ruleset)
    service = Service(settings, ruleset, evaluator, store, writer, texts)
    runner = JobRunner(service, settings.batch_job_workers)

    # /docs and /redoc (api/routes/docs.py) load their scripts from the installed fastapi-offline
    # package, mounted here, never from a CDN: the documentation works on a machine without internet.
    app = FastAPIOffline(
        static_url=DOCS_ASSETS,
        docs_url=None,
        redoc_url=None,
        title="PeerCheck",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=_lifespan(store, writer, texts, runner),
        responses=problems.GUARD_RESPONSES,
        generate_unique_id_function=operation_id,
    )
    app.state.service = service
    app.state.job_runner = runner
    app.state.cds_auth = CdsAuthenticator(settings, store)
    problems.install(app)
    problems.install_openapi(app, extra_components=batching.openapi_components())
    app.include_router(evaluations.router)
    app.include_router(jobs.router)
    app.include_router(rules.router)
    app.include_router(catalog.router)
    app.include_router(questionnaire.router)
    app.include_router(cds.router)
    app.include_router(health.router)
    app.include_router(pages.router)
    app.include_router(guided.router)
    app.include_router(home.router)
    app.include_router(docs.router)
    # Innermost first: strict JSON and size checks (a larger limit for batch jobs), the body-read
    # deadline, keys and rate limits, the client address they count under, gzip, HEAD served as GET,
    # CORS on the CDS routes, then the request log. The CDS routes check their callers themselves
    # (a client's JWT, api/cds_auth.py), and so does the page (a signed-in session, api/session.py).
    app.add_middleware(_BodyLimits, settings=settings)
    app.add_middleware(BodyDeadline, seconds=settings.body_timeout_s)
    limiter = _limiter(settings)
    app.state.sessions = Sessions(settings, limiter)  # the sign-in form counts failures like KeyGuard
    app.add_middleware(KeyGuard, keys=settings.api_keys, rate_limit=settings.rate_limit,
                       auth_failure_limit=settings.auth_failure_limit, limiter=limiter,
                       own_auth_prefixes=("/cds-services", "/ui"))
    app.add_middleware(ClientAddress, trusted=TrustedProxies.parse(settings.forwarded_allow_ips))
    app.add_middleware(CompressAnswers)  # inside HeadAsGet: a HEAD answer has the GET answer's (compressed) headers
    app.add_middleware(HeadAsGet)
    app.add_middleware(CdsCors, origins=settings.cds_cors_origins)
    app.add_middleware(RequestLog)  # outermost: guard answers are logged too

    log.info("started", ruleset_version=ruleset.version, rules=len(ruleset.rules), engine=settings.engine,
             decision_log=store.name if store else "disabled")
    return app


def _serve() -> FastAPI:
    try:
        return create_app()
    except (LoadError, ConfigError, DurableUnavailable) as exc:
        raise SystemExit(f"PeerCheck did not start: {exc}") from None


app = _serve()
