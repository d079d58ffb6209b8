"""Structured logs (structlog, JSON lines). What is logged is chosen field by field: request
metadata, decision ids and counts — never the profile or anything in it."""

from __future__ import annotations

import logging
import sys
import time
import uuid

import structlog


class _CurrentStderr:
    """Writes to whatever sys.stderr is at the time (servers and test runners swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure(level: str = "INFO", json: bool = True) -> None:
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=_CurrentStderr()),
        cache_logger_on_first_use=False,
    )


log = structlog.get_logger("peercheck")


CLIENT_CLOSED = 499  # nginx's code for "client closed the request": not a server error


class RequestLog:
    """Plain ASGI middleware: a request id (the caller's ``X-Request-ID`` if sane, else new) bound
    to every log line of the request and echoed in the response, and one ``request`` line with
    method, path, status and duration — never the body. A request whose client went away before
    any answer was started is logged with status 499, so 5xx counts only the server's failures."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request_id = None
        for key, value in scope.get("headers", ()):
            if key == b"x-request-id":
                request_id = value.decode("latin-1")
                break
        if not request_id or len(request_id) > 64 or not request_id.isprintable():
            request_id = uuid.uuid4().hex
        status: int | None = None
        disconnected = False
        started = time.perf_counter()

        async def watching_receive():
            nonlocal disconnected
            message = await receive()
            if message["type"] == "http.disconnect":
                disconnected = True
            return message

        async def send_with_id(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), (b"x-request-id", request_id.encode())]}
            await send(message)

        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, watching_receive, send_with_id)
        finally:
            structlog.contextvars.unbind_contextvars("request_id")
            if status is None:
                status = CLIENT_CLOSED if disconnected else 500
            log.info("request", request_id=request_id, method=scope["method"], path=scope["path"],
                     status=status, duration_ms=round((time.perf_counter() - started) * 1000, 2))
