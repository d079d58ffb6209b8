"""Asynchronous batch jobs: what the workers do, and the webhook that says a job is done.

``POST /v1/batch-jobs`` stores the job and its items in the decision-log store and answers 202;
``JobRunner`` threads (``Settings.batch_job_workers`` per server process) work through pending
items a chunk at a time — claim, evaluate, store decisions and mark items done in one
transaction (decisionlog/jobs.py) — so a killed server resumes its unfinished jobs on start-up
without evaluating an item into two decisions, and several replicas sharing PostgreSQL work one
queue without taking the same item.

When a job with a ``webhook_url`` finishes, one worker POSTs a small JSON notice (no profile
content: ids and counts) signed the Standard Webhooks way (https://www.standardwebhooks.com/):

* ``webhook-id``: the job id (the same on every retry: deduplicate on it);
* ``webhook-timestamp``: unix seconds of this attempt;
* ``webhook-signature``: ``v1,`` + base64 of HMAC-SHA256(``webhook_secret``,
  ``"{webhook-id}.{webhook-timestamp}.{body}"``).

The portal recomputes the signature over the raw body, compares in constant time, and refuses
timestamps older than a few minutes (README, "Asynchronous batch jobs"). A delivery that does not
get a 2xx is retried with backoff (``RETRY_AFTER_S``) and then given up; the job itself is done
either way and its state shows the delivery's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from api import batch as batching
from api.deps import Service
from api.logs import log
from api.metadata import CallerMetadata
from api.problems import TYPE_BASE, Problem, invalid_document
from engine.fields import field_homes
from engine.profile import Profile
from engine.validation import InvalidDocument, withhold_names
from api.recording import decision_record
from decisionlog import LogUnavailable
from decisionlog import jobs as queue

RETRY_AFTER_S = (10, 60, 300, 1800)  # then given up
WEBHOOK_TIMEOUT_S = 10
IDLE_WAIT_S = 1.0  # how often an idle worker looks for work another replica queued


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value (Standard Webhooks, version 1)."""
    digest = hmac.new(secret.encode(), f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def webhook_problem(url: str, allowed_hosts: list[str], secret: str | None) -> str | None:
    """Why this webhook URL cannot be used here, or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "the webhook_url must be an http(s) URL"
    if secret is None:
        return "this server has no webhook secret (PEERCHECK_WEBHOOK_SECRET), so it sends no webhooks"
    if parts.hostname.lower() not in {h.lower() for h in allowed_hosts}:
        return f"webhooks may only go to this server's allowed hosts (PEERCHECK_WEBHOOK_HOSTS); not {parts.hostname}"
    return None


# Key names an item's stored error may keep: the schema's own (a profile's, and a batch item's wrapper)
SCHEMA_NAMES = frozenset(field_homes(Profile)) | frozenset(field_homes(CallerMetadata)) | {"profile"}


def evaluate_pending(service: Service, items: list[queue.PendingItem]) -> list[queue.ItemOutcome]:
    """Each claimed item's decision (or error), ready to be stored in the claiming transaction. An
    error is stored with the item's unknown key names withheld (they may name people) unless the
    operator keeps profiles."""
    keep_names = service.settings.decision_log_store_profiles
    outcomes = []
    for pending in items:
        labels = pending.options.get("labels")
        fail_on = pending.options.get("fail_on")
        checked = batching.check_item(pending.item, service.evaluator)
        if isinstance(checked, InvalidDocument):
            if not keep_names:
                checked = withhold_names(checked, SCHEMA_NAMES)
            meta = batching.invalid_item_metadata(pending.item, labels)
            outcomes.append(queue.ItemOutcome(
                job_id=pending.job_id, index=pending.index, record=None,
                error=invalid_document(checked).model_dump(exclude_none=True), verdict="invalid" if fail_on else None,
                external_id=meta.external_id, labels_json=meta.labels_json()))
            continue
        profile, meta = checked
        meta: CallerMetadata = meta.merged_over(labels)
        try:
            decision = service.evaluator.evaluate(profile)
            record = decision_record(service, decision, profile, "batch-job", meta, job_id=pending.job_id)
        except Exception as exc:  # noqa: BLE001 - one item PeerCheck fails on must not hold up the job forever
            # Left to raise, it would roll back the chunk and be claimed again and again.
            log.error("batch_job_item_error", job_id=pending.job_id, index=pending.index, error_type=type(exc).__name__)
            outcomes.append(queue.ItemOutcome(
                job_id=pending.job_id, index=pending.index, record=None, error=item_failed().model_dump(exclude_none=True),
                verdict="invalid" if fail_on else None, external_id=meta.external_id, labels_json=meta.labels_json()))
            continue
        outcomes.append(queue.ItemOutcome(
            job_id=pending.job_id, index=pending.index, record=record,
            error=None, verdict=batching.verdict(decision, fail_on).verdict, external_id=meta.external_id,
            labels_json=meta.labels_json()))
    return outcomes


def item_failed() -> Problem:
    """The error of an item PeerCheck failed to evaluate (a fault of PeerCheck's, not of the item)."""
    return Problem(type=TYPE_BASE + "internal-error", title="Internal error", status=500,
                   detail="PeerCheck could not evaluate this item; the rest of the job went on. "
                          "Submit the item again, alone, and tell the operator if it fails again.")


class JobRunner:
    """Worker threads of one server process; ``wake`` after queuing a job here to start at once."""

    def __init__(self, service: Service, workers: int):
        self.service = service
        self.workers = workers
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        if self.service.decision_log is None:
            return
        for n in range(self.workers):
            thread = threading.Thread(target=self._run, name=f"batch-job-worker-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Let each worker finish (commit) the chunk it holds, then stop."""
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)

    def _run(self) -> None:
        store = self.service.decision_log
        size = self.service.settings.batch_job_chunk
        failures = 0
        while not self._stop.is_set():
            try:
                done = queue.work_chunk(store, size, lambda items: evaluate_pending(self.service, items))
                if not done:
                    self._deliver_due()
                failures = 0
            except LogUnavailable as exc:
                failures += 1
                log.warning("decision_log_unavailable", store=store.name, operation="batch_job", error=str(exc))
                done = 0
                self._stop.wait(min(30.0, 0.5 * 2 ** failures))
            except Exception as exc:  # noqa: BLE001 - a worker must outlive one bad chunk (it is rolled back)
                log.error("batch_job_worker_error", error_type=type(exc).__name__)
                done = 0
                self._stop.wait(5.0)
            if not done:
                self._wake.wait(IDLE_WAIT_S)
                self._wake.clear()

    def _deliver_due(self) -> None:
        secret = self.service.settings.webhook_secret
        store = self.service.decision_log
        while not self._stop.is_set():
            job = queue.claim_webhook(store, lease_s=WEBHOOK_TIMEOUT_S * 3)
            if job is None:
                return
            if secret is None or job.webhook_url is None:
                queue.webhook_result(store, job.job_id, False, "no webhook secret configured", None)
                continue
            error = deliver(job, secret, queue.counts(store, job.job_id))
            attempt = job.webhook_attempts  # already counted by the claim
            retry = None if error is None or attempt > len(RETRY_AFTER_S) else time.time() + RETRY_AFTER_S[attempt - 1]
            queue.webhook_result(store, job.job_id, error is None, error, retry)
            log.info("batch_job_webhook", job_id=job.job_id, delivered=error is None, attempt=attempt,
                     retry=retry is not None)


def notice(job: queue.Job, counts: dict[str, int]) -> dict[str, Any]:
    """The webhook body: what finished and where to read it — ids and counts only."""
    return {
        "type": "batch_job.completed", "job_id": job.job_id, "state": job.state, "total": job.total,
        "processed": job.processed, "invalid": job.invalid,
        "by_status": {k.split(":", 1)[1]: v for k, v in counts.items() if k.startswith("status:")},
        "by_verdict": {k.split(":", 1)[1]: v for k, v in counts.items() if k.startswith("verdict:")} or None,
        "results": f"/v1/batch-jobs/{job.job_id}/results",
    }


def deliver(job: queue.Job, secret: str, counts: dict[str, int]) -> str | None:
    """POST the signed notice; None when the receiver answered 2xx, else what went wrong."""
    body = json.dumps(notice(job, counts), separators=(",", ":")).encode()
    timestamp = int(time.time())
    request = urllib.request.Request(job.webhook_url or "", data=body, method="POST", headers={
        "content-type": "application/json", "user-agent": "PeerCheck-webhook",
        "webhook-id": job.job_id, "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, job.job_id, timestamp, body),
    })
    try:
        with _NO_REDIRECTS.open(request, timeout=WEBHOOK_TIMEOUT_S) as answer:
            return None if 200 <= answer.status < 300 else f"HTTP {answer.status}"
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return f"{type(exc).__name__}"


class _Refuse(urllib.request.HTTPRedirectHandler):
    """A webhook is not followed elsewhere: the allowlist names where deliveries may go."""

    def redirect_request(self, *args, **kwargs):  # noqa: D102
        return None


_NO_REDIRECTS = urllib.request.build_opener(_Refuse)
