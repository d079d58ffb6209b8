"""Request bodies, checked in bounded work and answered in plain words.

Every router uses ``CheckedRoute`` (FastAPI's documented extension point for a custom request
and route class). For a route with a JSON body it:

1. takes the document StrictJSON already parsed (api/guards.py) — the body is parsed once, and a
   body that could not be read gets its 422 here, with fields named by this route's schema;
2. screens it (engine/validation.py ``screen``: unknown keys and codes outside their
   vocabulary, bounded by the schema) — in the thread pool for large bodies — and answers at
   once when that alone finds more than ``MAX_PROBLEMS``, so pydantic never collects and formats
   hundreds of thousands of errors on the event loop;
3. lets FastAPI validate as usual, and turns its validation errors (and those a route raises,
   such as an acknowledged rule that does not exist) into the same problems the page and the CLI
   show, with the body's labels and suggestions.
"""

from __future__ import annotations

from typing import Any, Callable, Coroutine

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.guards import DOCUMENT, INLINE_BYTES, ParsedBody
from api.problems import invalid_request, request_problem
from engine.fields import Node, root
from engine.validation import MAX_PROBLEMS, InvalidDocument, describe_errors, screen, text_problem


class _ParsedRequest(Request):
    """A request whose JSON body StrictJSON has already parsed."""

    async def json(self) -> Any:
        return self.scope[DOCUMENT].document


def body_schema(route: APIRoute) -> Node | None:
    """The schema of the route's JSON body, when it has one."""
    annotation = getattr(getattr(route.body_field, "field_info", None), "annotation", None)
    return root(annotation) if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


class CheckedRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        schema = body_schema(self)

        async def checked(request: Request) -> Response:
            parsed: ParsedBody | None = request.scope.get(DOCUMENT)
            if schema is not None and parsed is not None:
                if parsed.problems:
                    raise invalid_request(InvalidDocument([text_problem(p, schema) for p in parsed.problems],
                                                          what="request"))
                if parsed.size <= INLINE_BYTES:
                    found, total = screen(parsed.document, schema, MAX_PROBLEMS)
                else:
                    found, total = await run_in_threadpool(screen, parsed.document, schema, MAX_PROBLEMS)
                if total > MAX_PROBLEMS:
                    raise invalid_request(describe_errors(found, schema, what="request", total=total, complete=False))
                request = _ParsedRequest(request.scope, request.receive)
            try:
                return await handler(request)
            except RequestValidationError as exc:
                raise request_problem(list(exc.errors()), schema) from None

        return checked
