"""Asynchronous batch jobs, for submissions too large to answer in one request (api/jobs.py)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field

from api import batch as batching
from api.deps import Service, get_service
from api.idempotency import IdempotentRoute, caller_scope
from api.jobs import webhook_problem
from api.logs import log
from api.metadata import Labels
from api.problems import FieldProblem, Problem, ProblemError, responses
from api.responses import model_response
from api.routes.evaluations import EXAMPLE, SMALL, UUID_PATTERN, StoredFinding
from decisionlog import LogUnavailable
from decisionlog import jobs as queue
from engine import Decision
from engine.audit import RECORD_FORMAT, from_legacy, restore
from engine.evaluate import Summary
from engine.spec import Severity

router = APIRouter(prefix="/v1", tags=["batch-jobs"], route_class=IdempotentRoute)
RESULTS_MAX = 500


class BatchJobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[batching.AnyItem] = Field(
        min_length=1, description="As for `POST /v1/evaluations:batch`: profiles, bare or as `BatchItem`s; each is "
        "validated on its own when its turn comes. At most `batch_job_max_items` (default 20,000).")
    labels: Labels | None = Field(default=None, description="Labels for every item (an item's own labels win).")
    fail_on: Severity | None = Field(default=None, description=batching.FAIL_ON_DOC)
    webhook_url: str | None = Field(
        default=None, max_length=2000,
        description="Called (POST, signed) when the job is done; its host must be one the server allows.")


class JobLinks(BaseModel):
    self: str
    results: str


class BatchJob(BaseModel):
    job_id: str
    state: Literal["queued", "running", "done"] = Field(description="`queued`, `running`, then `done`.")
    total: int = Field(description="Items submitted.")
    processed: int = Field(description="Items done so far (evaluated or found invalid).")
    invalid: int = Field(description="Items not evaluated: not valid profiles or, rarely, an item PeerCheck failed on (its `error` says which).")
    by_status: dict[str, int] = Field(description="Evaluated items by decision status.")
    by_verdict: dict[str, int] | None = Field(default=None, description="With `fail_on`: items by verdict.")
    fail_on: Severity | None = None
    created_at: datetime
    finished_at: datetime | None = None
    webhook: Literal["none", "pending", "delivered", "failed"] = Field(description="Where the completion webhook is.")
    links: JobLinks


class JobDecision(Decision):
    """An item's decision as the decision log keeps it (its audit record with the ruleset's texts)."""

    findings: list[StoredFinding]
    withheld: list[str] = Field(
        description="What is not shown because the decision log does not keep it (peer ids and titles, time in "
        "recovery, acknowledgement reasons…); empty when the server stores profiles.")


class JobItemResult(batching.Verdicts):
    index: int
    state: Literal["pending", "done"]
    external_id: str | None = None
    labels: dict[str, str] | None = None
    decision_id: str | None = None
    status: str | None = None
    summary: Summary | None = None
    decision: JobDecision | None = Field(default=None, description="The whole decision (`view=full`).")
    error: Problem | None = None


class JobResults(BaseModel):
    job_id: str
    state: str
    results: list[JobItemResult] = Field(description="In item order, from `start`.")
    next_start: int | None = Field(description="Pass as `start` for the next page; null on the last.")


def _store(service: Service):
    if service.decision_log is None:
        raise HTTPException(503, "batch jobs are kept in the decision log, which is disabled on this server")
    return service.decision_log


def _shown(job: queue.Job, counts: dict[str, int]) -> BatchJob:
    by_verdict = {k.split(":", 1)[1]: v for k, v in counts.items() if k.startswith("verdict:")}
    return BatchJob(
        job_id=job.job_id, state=job.state, total=job.total, processed=job.processed, invalid=job.invalid,
        by_status={s: counts.get(f"status:{s}", 0) for s in ("needs_attention", "incomplete", "pass")},
        by_verdict=by_verdict or None, fail_on=job.options.get("fail_on"),
        created_at=datetime.fromtimestamp(job.created_at, timezone.utc),
        finished_at=datetime.fromtimestamp(job.finished_at, timezone.utc) if job.finished_at else None,
        webhook=job.webhook_state,
        links=JobLinks(self=f"/v1/batch-jobs/{job.job_id}", results=f"/v1/batch-jobs/{job.job_id}/results"))


def _owned(service: Service, request: Request, job_id: str) -> queue.Job:
    store = _store(service)
    try:
        job = queue.get(store, job_id)
    except LogUnavailable:
        raise HTTPException(503, "the decision log cannot be read right now") from None
    if job is None or job.owner != caller_scope(request).hex():
        raise HTTPException(404, f"no batch job {job_id} for this caller (unknown, or older than the retention period)")
    return job


@router.post(
    "/batch-jobs",
    status_code=202,
    response_model=BatchJob,
    summary="Submit a batch job",
    description="Queues up to `batch_job_max_items` profiles (default 20,000) and answers at once with 202, the job id "
    "and `Location`. Workers evaluate the items in the background — each item exactly once, even across a server "
    "restart — storing each decision (with the item's `external_id` and labels) in the decision log. Follow progress "
    "with `GET /v1/batch-jobs/{job_id}`, read results page by page with `.../results`, or give a `webhook_url` to be "
    "called when it is done (signed; see the README). Items are validated one by one as for `:batch`. Submitted "
    "profiles are held only until evaluated. 413 over the item or size limit; 503 without a decision log.",
    responses=responses(413, 422, 503),
)
def submit_batch_job(
    body: Annotated[BatchJobRequest, Body(openapi_examples={"job": {
        "summary": "Two applications with the portal's ids, pass/fail at high",
        "value": {"items": [{"profile": EXAMPLE, "external_id": "APP-2025-0042"},
                            {"profile": SMALL, "external_id": "APP-2025-0043"}],
                  "labels": {"cycle": "2025"}, "fail_on": "high"},
    }})],
    request: Request,
    response: Response,
    service: Service = Depends(get_service),
) -> BatchJob:
    store = _store(service)
    limit = service.settings.batch_job_max_items
    if len(body.items) > limit:
        raise ProblemError(413, "too-many-items", "Too many items",
                           f"{len(body.items)} items in one job; at most {limit} are allowed: split it into several jobs",
                           [FieldProblem(pointer="/items", detail=f"at most {limit} items")])
    if body.webhook_url is not None:
        problem = webhook_problem(body.webhook_url, service.settings.webhook_hosts, service.settings.webhook_secret)
        if problem:
            raise RequestValidationError([{"type": "webhook", "loc": ("body", "webhook_url"), "msg": problem}])
    options = {"labels": body.labels, "fail_on": body.fail_on.value if body.fail_on else None}
    try:
        job = queue.create(store, caller_scope(request).hex(), body.items, options, body.webhook_url)
    except LogUnavailable as exc:
        log.warning("decision_log_unavailable", store=store.name, operation="batch_job", error=str(exc))
        raise HTTPException(503, "the decision log cannot be written right now; submit the job again") from None
    request.app.state.job_runner.wake()
    log.info("batch_job_submitted", job_id=job.job_id, items=job.total, webhook=body.webhook_url is not None)
    response.headers["Location"] = f"/v1/batch-jobs/{job.job_id}"
    return _shown(job, {})


JobId = Annotated[str, Path(pattern=UUID_PATTERN, description="The `job_id` from `POST /v1/batch-jobs`.")]


@router.get(
    "/batch-jobs/{job_id}",
    response_model=BatchJob,
    summary="A batch job's progress",
    description="State (`queued`, `running`, `done`), items processed and invalid, evaluated items by status and, with "
    "`fail_on`, by verdict, and the webhook's state. 404 for a job that is unknown or another caller's.",
    responses=responses(404, 422, 503),
)
def get_batch_job(job_id: JobId, request: Request, service: Service = Depends(get_service)) -> BatchJob:
    job = _owned(service, request, job_id)
    try:
        counts = queue.counts(service.decision_log, job_id)
    except LogUnavailable:
        raise HTTPException(503, "the decision log cannot be read right now") from None
    return _shown(job, counts)


@router.get(
    "/batch-jobs/{job_id}/results",
    response_model=JobResults,
    summary="A batch job's results, a page at a time",
    description="Items in order from `start`, at most `limit` (default 100, at most 500): each `pending` or `done` with "
    "its `external_id`, labels, verdict and decision (`view=full`) or decision id, status and counts (`view=summary`), "
    "or its `error`. Follow `next_start` to the end.",
    responses=responses(404, 422, 503),
)
async def get_batch_job_results(
    job_id: JobId,
    request: Request,
    start: Annotated[int, Query(ge=0, description="Index of the first item.")] = 0,
    limit: Annotated[int, Query(ge=1, le=RESULTS_MAX, description="Items per page.")] = 100,
    view: Annotated[batching.View, Query(description=batching.VIEW_DOC)] = "full",
    service: Service = Depends(get_service),
) -> Response:
    job = await run_in_threadpool(_owned, service, request, job_id)
    try:
        rows, next_start = await run_in_threadpool(queue.results, service.decision_log, job_id, start, limit)
    except LogUnavailable:
        raise HTTPException(503, "the decision log cannot be read right now") from None
    fail_on = job.options.get("fail_on")
    out = []
    for row in rows:
        decision = await run_in_threadpool(_restored, service, row.decision) if row.decision else None
        verdict = batching.Verdicts(verdict=row.verdict)
        if decision is not None and fail_on:
            verdict = batching.verdict(decision, fail_on)
        out.append(JobItemResult(
            index=row.index, state=row.state, external_id=row.external_id, labels=row.labels,
            decision_id=decision.decision_id if decision else None, status=decision.summary.status if decision else None,
            summary=decision.summary if decision else None, decision=decision if view == "full" else None,
            error=Problem.model_validate(row.error) if row.error else None,
            **(verdict.model_dump() if row.state == "done" else {})))
    return model_response(JobResults(job_id=job_id, state=job.state, results=out, next_start=next_start))


def _restored(service: Service, record: dict) -> JobDecision:
    """An item's stored record rendered with its ruleset's texts, as ``GET /v1/evaluations/{id}`` does."""
    try:
        texts = service.texts.of(record["ruleset_version"], service.decision_log)
    except LogUnavailable:
        raise HTTPException(503, "the decision log cannot be read right now") from None
    if record.get("format", 1) < RECORD_FORMAT:
        record = from_legacy(record, embed_texts=texts is None)
    try:
        restored = restore(record, texts)
    except KeyError:
        raise HTTPException(503, f"the decision log lacks the rule texts of ruleset version {record['ruleset_version']}") from None
    return JobDecision(**restored.decision, withheld=restored.withheld)
