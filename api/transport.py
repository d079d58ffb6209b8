"""HTTP behaviour every route shares, as plain ASGI middleware: HEAD answered like GET, and a
deadline on reading a request body.

* ``HeadAsGet`` — ``HEAD`` on a ``GET`` route gets the ``GET`` answer's status and headers
  (``Content-Length`` included) and no body, as RFC 9110 §9.3.2 asks; FastAPI registers GET
  routes for GET only, which would answer 405.
* ``BodyDeadline`` — the whole body of a request must arrive within ``seconds`` of the first
  read; a client that stalls (or trickles a byte at a time) gets 408 and the connection is
  closed, so slow uploads cannot hold the service's connections and memory forever.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from api.guards import BODY_METHODS, ASGIApp, Receive, Scope, Send, send_problem


class HeadAsGet:
    """Serve ``HEAD`` through the ``GET`` route and drop the body."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            return await self.app(scope, receive, send)

        async def without_body(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                message = {"type": "http.response.body", "body": b"", "more_body": message.get("more_body", False)}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)


class BodyReadTimeout(Exception):
    """The request body did not arrive in time."""


class BodyDeadline:
    """408 when the request body is not complete ``seconds`` after the first read of it."""

    def __init__(self, app: ASGIApp, seconds: float):
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            return await self.app(scope, receive, send)
        deadline: float | None = None
        complete = False
        started = False

        async def receive_in_time() -> dict[str, Any]:
            nonlocal deadline, complete
            if complete:  # the body is in; what follows is only the disconnect
                return await receive()
            if deadline is None:
                deadline = time.monotonic() + self.seconds
            try:
                message = await asyncio.wait_for(receive(), timeout=max(0.0, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                raise BodyReadTimeout from None
            if message["type"] == "http.request" and not message.get("more_body", False):
                complete = True
            return message

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive_in_time, tracking_send)
        except BodyReadTimeout:
            if started:
                raise
            await send_problem(send, 408, "request-timeout", "Request timeout",
                               f"the request body did not arrive within {self.seconds:g} s", scope["path"],
                               [(b"connection", b"close")])
