"""``Idempotency-Key`` on every ``POST`` under ``/v1``: a retried request gets the first answer.

Follows the IETF HTTPAPI draft "The Idempotency-Key HTTP Header Field"
(draft-ietf-httpapi-idempotency-key-header): the client sends a unique key (a UUID) with a POST;

* the first request with the key runs and its 2xx answer is stored (``decisionlog/idempotency.py``)
  for ``idempotency_ttl_hours`` (default 24);
* the same key with the same request (method, path, query and JSON body, compared after
  parsing, so key order and whitespace do not matter) → the stored answer, status and body
  unchanged, with ``Idempotency-Replayed: true`` — no second decision is made or stored;
* the same key with a different request → 422 problem ``idempotency-key-reused``;
* the same key while the first request still runs → 409 problem ``idempotency-key-in-use``
  (retry shortly);
* a first request that fails (4xx other than success, 5xx, or an error) is forgotten, so a retry
  runs again.

Keys are per caller (the API key or bearer credential presented; all callers share one space
when the server has no keys). The store never holds the key itself, only a hash, and keeps the
answer encrypted (AES-GCM) under a key derived from the Idempotency-Key: a copy of the database
alone does not reveal the answers, which name programs and peers. Without a decision log
there is nothing a repeat could duplicate, and the header is accepted and ignored.

Used as the ``route_class`` of the routers whose POSTs write decisions (FastAPI's documented way
to wrap a route's handler); the CDS Hooks routes follow that specification instead (each call
carries its own ``hookInstance``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import zlib
from typing import Any, Callable, Coroutine

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from api.bodies import CheckedRoute
from api.logs import log
from api.problems import FieldProblem, problem
from decisionlog import LogUnavailable
from decisionlog import idempotency as stored

HEADER = "idempotency-key"
MAX_KEY_LENGTH = 255
STALE_S = 300.0  # an unfinished first request older than this died with its process
REPLAYED_HEADERS = ("content-type", "content-disposition", "cache-control", "content-security-policy",
                    "x-content-type-options", "referrer-policy", "location")


def caller_scope(request: Request) -> bytes:
    """Who is asking, as far as keys go: a hash of the credential presented (KeyGuard has already
    accepted it when keys are configured)."""
    credential = request.headers.get("authorization") or request.headers.get("x-api-key") or ""
    return hashlib.sha256(credential.encode("latin-1", "replace")).digest()


def fingerprint(request: Request, body: bytes) -> str:
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode() if body else b""
    except ValueError:
        canonical = body
    query = "&".join(sorted(request.url.query.split("&"))) if request.url.query else ""
    digest = hashlib.sha256(f"{request.method} {request.url.path}?{query}\n".encode())
    digest.update(canonical)
    return digest.hexdigest()


def _keys(scope: bytes, key: str) -> tuple[str, bytes]:
    """(the row id, the encryption key): two different derivations of the caller and the key."""
    raw = key.encode()
    row_id = hashlib.sha256(b"peercheck idempotency id\x00" + scope + b"\x00" + raw).hexdigest()
    secret = hmac.new(raw, b"peercheck idempotency answer\x00" + scope, hashlib.sha256).digest()
    return row_id, secret


def seal(secret: bytes, response: Response) -> bytes:
    headers = {k: v for k, v in response.headers.items() if k in REPLAYED_HEADERS}
    packed = json.dumps({"headers": headers}).encode() + b"\n" + bytes(response.body)
    nonce = os.urandom(12)
    return nonce + AESGCM(secret).encrypt(nonce, zlib.compress(packed, 6), None)


def unseal(secret: bytes, status: int, blob: bytes) -> Response:
    packed = zlib.decompress(AESGCM(secret).decrypt(blob[:12], blob[12:], None))
    meta, _, body = packed.partition(b"\n")
    headers = json.loads(meta)["headers"]
    return Response(body, status_code=status, headers={**headers, "idempotency-replayed": "true"})


def _bad_key(request: Request, detail: str) -> Response:
    return problem(422, "invalid-request", "Invalid request", "1 problem(s) in the request: Idempotency-Key", request,
                   [FieldProblem(parameter="Idempotency-Key", detail=detail)])


PARAMETER = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "A unique key (a UUID) that makes a retry of this POST safe: the same key with the same request "
    "gets the first answer again (`Idempotency-Replayed: true`), not a second decision; with a different request, "
    "422; while the first still runs, 409. Answers are kept for `idempotency_ttl_hours` (default 24).",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": "^[ -~]+$"},
}
CONFLICT = {"description": "A request with this `Idempotency-Key` is still being processed; retry shortly.",
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


class IdempotentRoute(CheckedRoute):
    """A route whose POSTs honour ``Idempotency-Key`` (and say so in the OpenAPI document), its
    body read and checked as every route's is (``CheckedRoute``) once the key lets it through."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any):
        if "POST" in (kwargs.get("methods") or ()) and kwargs.get("include_in_schema", True):
            extra = dict(kwargs.get("openapi_extra") or {})
            extra["parameters"] = [*extra.get("parameters", []), PARAMETER]
            extra["responses"] = {**extra.get("responses", {}), "409": CONFLICT}
            kwargs["openapi_extra"] = extra
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def idempotent(request: Request) -> Response:
            key = request.headers.get(HEADER)
            store = request.app.state.service.decision_log
            if key is None or request.method != "POST" or store is None:
                return await handle(request)
            if not 1 <= len(key) <= MAX_KEY_LENGTH or not all(" " <= c <= "~" for c in key):
                return _bad_key(request, f"the key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters (a UUID is best)")
            body = await request.body()
            row_id, secret = _keys(caller_scope(request), key)
            ttl = request.app.state.service.settings.idempotency_ttl_hours * 3600
            try:
                begun, status, blob = await run_in_threadpool(stored.begin, store, row_id, fingerprint(request, body),
                                                              ttl, STALE_S)
            except LogUnavailable as exc:
                log.warning("decision_log_unavailable", store=store.name, operation="idempotency", error=str(exc))
                return problem(503, "unavailable", "Service unavailable",
                               "the store of idempotent answers cannot be reached; retry with the same key", request)
            if begun == "replay":
                log.info("idempotent_replay", path=request.url.path)
                return unseal(secret, status or 200, blob or b"")
            if begun == "mismatch":
                return problem(422, "idempotency-key-reused", "Idempotency-Key reused",
                               "this Idempotency-Key was used with a different request; use a new key for a new request",
                               request, [FieldProblem(parameter="Idempotency-Key", detail="already used with another request")])
            if begun == "in_progress":
                return problem(409, "idempotency-key-in-use", "Request in progress",
                               "a request with this Idempotency-Key is still being processed; retry shortly with the same key",
                               request, headers={"Retry-After": "1"})
            try:
                response = await handle(request)
            except BaseException:
                await run_in_threadpool(_forget, store, row_id)
                raise
            if 200 <= response.status_code < 300 and hasattr(response, "body"):
                try:
                    await run_in_threadpool(stored.finish, store, row_id, response.status_code, seal(secret, response))
                except LogUnavailable as exc:
                    log.warning("decision_log_unavailable", store=store.name, operation="idempotency", error=str(exc))
            else:
                await run_in_threadpool(_forget, store, row_id)
            return response

        return idempotent


def _forget(store, row_id: str) -> None:
    try:
        stored.release(store, row_id)
    except LogUnavailable:
        pass  # the row goes stale and is taken over after STALE_S
