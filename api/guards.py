"""Request guards that run before routing, as plain ASGI middleware (cheap on the hot path):

* ``StrictJSON`` — body-size limit (413), no compressed bodies and a JSON content type on API
  routes (415). The body itself is read strictly (engine/jsontext.py) by the route that takes
  it (api/bodies.py), where its schema is known: problems are named by that schema's labels, and
  reading and screening a large body happen in one step, off the event loop.
* ``KeyGuard`` — optional API keys (stored as SHA-256 hashes, compared in constant time),
  scopes (``read`` for GET, ``evaluate`` for POST, which writes decisions), a per-key rate
  limit and a limit on failed authentications per client address (429 with Retry-After).
  ``/healthz`` and the API docs stay open.

Each answers with RFC 9457 problem details.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, Awaitable, Callable, Iterable

from limits import parse as parse_limit

from api.problems import PROBLEM_JSON, TYPE_BASE

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

OPEN_PATHS = ("/healthz", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json")
DOCS_ASSETS = "/docs/assets"  # Swagger UI's and ReDoc's scripts and styles, served from the fastapi-offline package
BODY_METHODS = ("POST", "PUT", "PATCH")
async def send_problem(send: Send, status: int, slug: str, title: str, detail: str, path: str,
                       headers: Iterable[tuple[bytes, bytes]] = (), body_problem: bool = False) -> None:
    problem: dict[str, Any] = {"type": TYPE_BASE + slug, "title": title, "status": status, "detail": detail,
                               "instance": path}
    if body_problem:  # the request body as a whole: pointer ""
        problem["errors"] = [{"pointer": "", "detail": detail}]
    body = json.dumps(problem).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def _clip(text: str, width: int = 100) -> str:
    return text if len(text) <= width else text[:width] + "…"


class StrictJSON:
    """Size, encoding and content type of request bodies on API routes."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, exempt_prefixes: tuple[str, ...] = ("/ui",)):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.exempt_prefixes = exempt_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            return await self.app(scope, receive, send)
        path = scope["path"]
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            return await send_problem(send, 413, "too-large", "Request too large",
                                      f"the body is {declared} bytes; the limit is {self.max_body_bytes}", path)
        encoding = (_header(scope, b"content-encoding") or "identity").strip().lower()
        if encoding != "identity":
            return await send_problem(send, 415, "unsupported-media-type", "Unsupported media type",
                                      f"send the body uncompressed (Content-Encoding {_clip(encoding)!r} is not accepted)", path)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return await send_problem(send, 413, "too-large", "Request too large",
                                          f"the body exceeds the limit of {self.max_body_bytes} bytes", path)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if not path.startswith(self.exempt_prefixes) and body:
            content_type = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
            if content_type != "application/json" and not content_type.endswith("+json"):
                return await send_problem(send, 415, "unsupported-media-type", "Unsupported media type",
                                          f"send the body as application/json (got {_clip(content_type) or 'no content type'})", path)

        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def hash_key(key: str) -> str:
    """How keys are stored: hex SHA-256 of the key (``python -m api.guards KEY`` prints it)."""
    return hashlib.sha256(key.encode()).hexdigest()


def match_key(keys: list[Any], presented: str) -> Any | None:
    """The configured key (``Settings.api_keys`` entry) that ``presented`` is, or None; the same
    work for every key (no early exit), compared in constant time. For routes that check keys
    themselves: the CDS routes without CDS clients, the page's sign-in."""
    presented = presented.strip()
    digest = hashlib.sha256(presented.encode()).digest() if presented else b""
    found = None
    for key in keys:
        if digest and hmac.compare_digest(digest, bytes.fromhex(key.sha256)):
            found = key
    return found


def presented_key(scope: Scope) -> str | None:
    """The key a request presents: ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``,
    surrounding whitespace removed from either; None when there is none."""
    scheme, _, credentials = (_header(scope, b"authorization") or "").strip().partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return (_header(scope, b"x-api-key") or "").strip() or None


class KeyGuard:
    """API keys with scopes, a rate limit per key (per client address without keys), and a limit
    on failed authentications per client address.

    Counters are kept by ``limiter`` (api/limiter.py: shared by the workers of a machine). The
    client address is what ``ClientAddress`` (api/forwarding.py) decided. An address that has
    failed authentication more than ``auth_failure_limit`` times gets 429 — without its key
    being checked — until its window frees up. Paths under ``own_auth_prefixes`` authenticate
    their callers themselves (the rate limit still applies to them)."""

    def __init__(self, app: ASGIApp, keys: list[Any], rate_limit: str | None, limiter: Any = None,
                 auth_failure_limit: str | None = None, own_auth_prefixes: tuple[str, ...] = ()):
        self.app = app
        self.own_auth_prefixes = own_auth_prefixes  # routes that authenticate callers themselves (rate limits still apply)
        self.keys = [(k.id, bytes.fromhex(k.sha256), frozenset(k.scopes)) for k in keys]
        self.limit = parse_limit(rate_limit) if rate_limit else None
        self.failure_limit = parse_limit(auth_failure_limit) if auth_failure_limit and self.keys else None
        self.limiter = limiter

    def _identify(self, presented: str) -> tuple[str, frozenset[str]] | None:
        digest = hashlib.sha256(presented.encode()).digest()
        found = None
        for key_id, stored, scopes in self.keys:  # no early exit: same work for every key
            if hmac.compare_digest(digest, stored):
                found = (key_id, scopes)
        return found

    async def _too_many(self, send: Send, item: Any, key: str, what: str, path: str) -> None:
        retry = str(self.limiter.retry_after(item, key))
        await send_problem(send, 429, "rate-limited", "Too many requests",
                           f"{what} ({item}) exceeded; retry after {retry} s", path,
                           [(b"retry-after", retry.encode())])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS or scope["path"].startswith(DOCS_ASSETS + "/"):
            return await self.app(scope, receive, send)
        path = scope["path"]
        address = (scope.get("client") or ("unknown", 0))[0]
        who = f"address:{address}"
        if self.keys and not path.startswith(self.own_auth_prefixes):
            failures = f"auth-failures:{address}"
            if self.failure_limit is not None and not self.limiter.allows(self.failure_limit, failures):
                return await self._too_many(send, self.failure_limit, failures, "too many failed authentications from this address", path)
            presented = presented_key(scope)
            identity = self._identify(presented) if presented else None
            if identity is None:
                if self.failure_limit is not None:
                    self.limiter.hit(self.failure_limit, failures)
                return await send_problem(send, 401, "unauthorized", "API key required",
                                          "send a valid key as 'Authorization: Bearer <key>' or 'X-API-Key'", path,
                                          [(b"www-authenticate", b'Bearer realm="peercheck"')])
            key_id, scopes = identity
            who = f"key:{key_id}"
            needed = "read" if scope["method"] in ("GET", "HEAD", "OPTIONS") else "evaluate"
            if needed not in scopes:
                return await send_problem(send, 403, "forbidden", "Missing scope",
                                          f"this key lacks the '{needed}' scope", path)
        if self.limit is not None and not self.limiter.hit(self.limit, who):
            return await self._too_many(send, self.limit, who, "rate limit", path)
        await self.app(scope, receive, send)


if __name__ == "__main__":
    import sys

    print(hash_key(sys.argv[1]))
