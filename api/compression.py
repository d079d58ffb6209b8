"""gzip for API answers when the client sends ``Accept-Encoding: gzip`` (Starlette's
``GZipMiddleware``): a 1,000-item batch answer of 20–28 MB travels as a small fraction of that.

The page for TA providers (``/ui``) is left uncompressed: it reflects what the user typed next to
its CSRF token in the same response, the pattern compression side channels (BREACH) exploit.
"""

from __future__ import annotations

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

MINIMUM_BYTES = 1000  # below this, compressing costs more than it saves
LEVEL = 6  # zlib's default: most of level 9's saving at a fraction of its time on large batches


class CompressAnswers:
    def __init__(self, app: ASGIApp, uncompressed_prefixes: tuple[str, ...] = ("/ui",)):
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=MINIMUM_BYTES, compresslevel=LEVEL)
        self.uncompressed_prefixes = uncompressed_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(self.uncompressed_prefixes):
            return await self.gzip(scope, receive, send)
        await self.app(scope, receive, send)
