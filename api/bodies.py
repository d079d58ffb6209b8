"""Request bodies, read in bounded work and answered in plain words.

Every router uses ``CheckedRoute`` (FastAPI's documented extension point for a custom request
and route class). For a route with a JSON body it:

1. reads the body strictly (engine/jsontext.py) and screens it against the route's schema
   (engine/validation.py ``screen``: unknown keys and codes outside their vocabulary, bounded by
   the schema) in one step — on the event loop for small bodies, in the thread pool for large
   ones, one large body at a time;
2. answers at once when the body cannot be read, or when the screen alone finds more than
   ``MAX_PROBLEMS``, so pydantic never collects and formats hundreds of thousands of errors;
3. hands the parsed document to FastAPI (the body is parsed once), which validates as usual, and
   turns its validation errors (and those a route raises, such as an acknowledged rule that does
   not exist) into the problems the page and the CLI show too, with the body's labels.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Coroutine

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.problems import invalid_request, parameter_nodes, request_problem
from engine.fields import Node, field_homes, root
from engine.validation import MAX_PROBLEMS, InvalidDocument, describe_errors, read_json, screen

INLINE_BYTES = 64 * 1024
"""Bodies up to this size are read on the event loop (well under a millisecond)."""
_LARGE_BODIES = threading.BoundedSemaphore(1)
"""Large bodies are read one at a time: each holds tens of megabytes of Python objects for a few
hundred milliseconds, and the JSON parser's C core holds the GIL in long stretches. Several at
once multiply the memory and starve the event loop of the GIL; one at a time, the loop keeps
answering (docs/reliability.md has the figures). The wait is in a worker thread, never on the
loop."""


def _one_at_a_time(work: Callable[..., Any], *args: Any) -> Any:
    with _LARGE_BODIES:
        return work(*args)


async def off_loop(size: int, work: Callable[..., Any], *args: Any) -> Any:
    """``work(*args)`` for an input of ``size`` bytes: on the loop when small, else in the thread
    pool, one large input at a time."""
    if size <= INLINE_BYTES:
        return work(*args)
    return await run_in_threadpool(_one_at_a_time, work, *args)


def _caught(work: Callable[..., Any], *args: Any) -> tuple[Any, InvalidDocument | None]:
    try:
        return work(*args), None
    except InvalidDocument as exc:
        exc.__traceback__ = None
        return None, exc


async def validate_off_loop(size: int, work: Callable[..., Any], *args: Any) -> tuple[Any, InvalidDocument | None]:
    """(``work(*args)``, None), or (None, the InvalidDocument it raised), run as ``off_loop`` does.

    The problem is returned, not raised: an exception crossing from the worker thread into the
    event loop is held in a reference cycle (future → exception → traceback → frames) until the
    garbage collector runs, and with it the frames' locals — tens of megabytes per hostile body."""
    return await off_loop(size, _caught, work, *args)


def read_body(body: bytes, schema: Node | None) -> Any:
    """The body as strict JSON, screened against ``schema``. Raises InvalidDocument."""
    document = read_json(body, what="request", node=schema)
    if schema is not None:
        found, total = screen(document, schema, MAX_PROBLEMS)
        if total > MAX_PROBLEMS:
            raise describe_errors(found, schema, what="request", total=total, complete=False)
    return document


def body_schema(route: APIRoute) -> Node | None:
    """The schema of the route's JSON body, when it is a model."""
    annotation = getattr(getattr(route.body_field, "field_info", None), "annotation", None)
    return root(annotation) if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


class _ReadRequest(Request):
    """The request with its JSON body already read: FastAPI gets the document, not a second parse."""

    def __init__(self, request: Request, body: bytes, document: Any):
        super().__init__(request.scope, request.receive)
        self._read = (body, document)

    async def body(self) -> bytes:
        return self._read[0]

    async def json(self) -> Any:
        return self._read[1]


class CheckedRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        schema = body_schema(self)
        if schema is not None and schema.model is not None:
            field_homes(schema.model)  # builds every field's node now, not on the first request
        parameters = parameter_nodes(self)

        async def checked(request: Request) -> Response:
            if self.body_field is not None:
                body = await request.body()
                if body:
                    document, invalid = await validate_off_loop(len(body), read_body, body, schema)
                    if invalid is not None:
                        raise invalid_request(invalid)
                    request = _ReadRequest(request, body, document)
                    del document
            try:
                return await handler(request)
            except RequestValidationError as exc:
                problem = request_problem(list(exc.errors()), schema, parameters)
            raise problem  # outside the except block: no chain back to the request's document

        return checked
