"""CORS for the CDS Hooks routes, so browser-based CDS clients (the CDS Hooks sandbox among them)
can call them.

CDS Hooks 2.0, *Security and Safety → Cross-Origin Resource Sharing*: services and browser-based
clients "will require CORS support", and the spec refers implementers to the OWASP HTML5 Security
Cheat Sheet for doing it safely. Following that: only the origins the operator lists
(``Settings.cds_cors_origins``; none by default) are allowed; no credentials mode (CDS clients
authenticate with a bearer JWT, never a cookie); only the methods and headers the CDS routes use;
preflights cached for ten minutes. Starlette's ``CORSMiddleware`` does the work; it sits outside
the key and size guards so that a preflight (which carries no credentials) is answered and so
that a refusal (401) still carries the headers a browser needs to show it. Other routes get no
CORS headers at all.
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

CDS_PREFIX = "/cds-services"


class CdsCors:
    def __init__(self, app: ASGIApp, origins: list[str]):
        self.app = app
        self.cors = CORSMiddleware(
            app, allow_origins=origins, allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "Accept", "Accept-Encoding", "X-Request-ID"],
            allow_credentials=False, max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(CDS_PREFIX):
            return await self.cors(scope, receive, send)
        await self.app(scope, receive, send)
