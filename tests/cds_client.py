"""A CDS client written from the CDS Hooks 2.0 specification, not from PeerCheck's code: what an EHR
or case-management system does to call a CDS Service (https://cds-hooks.hl7.org/2.0/).

* *Trusting CDS Clients*: every request carries ``Authorization: Bearer <JWT>``, signed with the
  client's private key (ES384, one of the two the spec recommends); header ``alg``, ``typ: JWT``,
  ``kid`` and optionally ``jku``; claims ``iss``, ``aud`` (the URL of the endpoint called), ``exp``,
  ``iat``, a fresh ``jti`` per request, optionally ``tenant``. The public key is published as a JWK
  Set (served here over HTTP, as a ``jku`` URL would be).
* *Discovery*: ``GET {base}/cds-services``; *Calling a CDS Service*: ``POST {base}/cds-services/{id}``
  with ``hook``, ``hookInstance`` (a UUID) and ``context``; *Feedback*: ``POST
  {base}/cds-services/{id}/feedback`` with ``{"feedback": [...]}``.

Only the JWT library (PyJWT) and httpx are shared with the service's stack.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec


class SpecClient:
    def __init__(self, base_url: str, iss: str, jku: str | None = None, kid: str = "client-key-1",
                 key: ec.EllipticCurvePrivateKey | None = None, tenant: str | None = None):
        self.base_url = base_url.rstrip("/")
        self.iss, self.jku, self.kid, self.tenant = iss, jku, kid, tenant
        self.key = key or ec.generate_private_key(ec.SECP384R1())
        self.http = httpx.Client(timeout=30)
        self.last_token: str | None = None

    # -------------------------------------------------------------- keys and tokens

    def jwk_set(self) -> dict[str, Any]:
        """The public key as a JWK Set (RFC 7517), as the spec requires the client to publish it."""
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "ES384"}]}

    def token(self, url: str, **overrides: Any) -> str:
        now = int(time.time())
        claims = {"iss": self.iss, "aud": url, "exp": now + 300, "iat": now, "jti": str(uuid.uuid4())}
        if self.tenant:
            claims["tenant"] = self.tenant
        claims.update(overrides)
        headers = {"kid": self.kid, "typ": "JWT"}
        if self.jku:
            headers["jku"] = self.jku
        self.last_token = jwt.encode(claims, self.key, algorithm="ES384", headers=headers)
        return self.last_token

    def _headers(self, url: str, token: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token(url)}", "Accept": "application/json"}

    # -------------------------------------------------------------- the three endpoints

    def discover(self, token: str | None = None) -> httpx.Response:
        url = f"{self.base_url}/cds-services"
        return self.http.get(url, headers=self._headers(url, token))

    def call(self, service_id: str, hook: str, context: dict[str, Any], token: str | None = None) -> httpx.Response:
        url = f"{self.base_url}/cds-services/{service_id}"
        body = {"hook": hook, "hookInstance": str(uuid.uuid4()), "context": context}
        return self.http.post(url, json=body, headers=self._headers(url, token))

    def feedback(self, service_id: str, entries: list[dict[str, Any]], token: str | None = None) -> httpx.Response:
        url = f"{self.base_url}/cds-services/{service_id}/feedback"
        return self.http.post(url, json={"feedback": entries}, headers=self._headers(url, token))

    @staticmethod
    def overridden(card: dict[str, Any], reason: dict[str, Any] | None = None, comment: str | None = None) -> dict[str, Any]:
        """A Feedback entry for a dismissed card (the spec's "Overridden guidance")."""
        entry: dict[str, Any] = {"card": card["uuid"], "outcome": "overridden",
                                 "outcomeTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        if reason or comment:
            entry["overrideReason"] = {**({"reason": reason} if reason else {}),
                                       **({"userComment": comment} if comment else {})}
        return entry

    @staticmethod
    def accepted(card: dict[str, Any]) -> dict[str, Any]:
        """A Feedback entry for a card whose suggestion the user accepted (the spec's "Suggestion accepted")."""
        return {"card": card["uuid"], "outcome": "accepted",
                "acceptedSuggestions": [{"id": s["uuid"]} for s in card["suggestions"][:1]],
                "outcomeTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 1))}


class JwksServer:
    """Serves a JWK Set at ``url`` (what a client's ``jku`` points to), on the loopback interface."""

    def __init__(self, jwk_set: dict[str, Any]):
        body = json.dumps(jwk_set).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
