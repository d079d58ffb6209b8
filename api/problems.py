"""RFC 9457 problem details for every error the API returns.

A validation problem names each bad field by its label and position for people ("Peer 2 ›
Active caseload") and by JSON pointer into the request body for machines, says what is wrong and,
where it can, how to fix it — the wording of engine/validation.py, which the page and the CLI use
too. At most ``MAX_PROBLEMS`` are listed; ``error_count`` says how many were found. The offending
value is not echoed: it may be sensitive, and the caller has it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.logs import log
from engine.fields import Node, node_for
from engine.validation import MAX_PROBLEMS, InvalidDocument
from engine.validation import Problem as DocumentProblem
from engine.validation import describe

PROBLEM_JSON = "application/problem+json"
BODY_PARSE_ERROR = "There was an error parsing the body"  # FastAPI's HTTPException(400) detail
TYPE_BASE = "urn:peercheck:problem:"


class FieldProblem(BaseModel):
    pointer: str | None = Field(default=None, description="JSON pointer to the bad field in the request body ('' = the body itself); list items count from 0.")
    parameter: str | None = Field(default=None, description="Name of the bad query or path parameter.")
    field: str | None = Field(default=None, description="Where, for people: the field's label and position, e.g. `Peer 2 › Active caseload` (people count from 1).")
    detail: str = Field(description="What is wrong with it, in plain words.")
    fix: str | None = Field(default=None, description="How to fix it, when PeerCheck can tell (e.g. `Did you mean OH (Ohio)?`).")
    code: str | None = Field(default=None, description="A stable machine-readable kind of problem, e.g. `unknown_field`, `not_a_code`, `not_a_list`, `invalid_json`.")
    line: int | None = Field(default=None, description="For JSON that cannot be read: the line of the problem (from 1).")
    column: int | None = Field(default=None, description="For JSON that cannot be read: the column of the problem (from 1).")
    excerpt: str | None = Field(default=None, description="For JSON that cannot be read: the offending line, cut around the column.")


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldProblem] | None = None
    error_count: int | None = Field(default=None, description=f"Problems found. When larger than the number in `errors` (at most {MAX_PROBLEMS} are listed), the rest are not listed and validation may have stopped before finding every problem.")


class ProblemError(Exception):
    """Raised by a route for an error that names fields (e.g. a batch with too many ``/items``)."""

    def __init__(self, status: int, slug: str, title: str, detail: str, errors: list[FieldProblem] | None = None,
                 error_count: int | None = None):
        super().__init__(detail)
        self.status, self.slug, self.title, self.detail, self.errors = status, slug, title, detail, errors
        self.error_count = error_count


def problem(status: int, slug: str, title: str, detail: str, request: Request | None = None,
            errors: list[FieldProblem] | None = None, headers: dict[str, str] | None = None,
            error_count: int | None = None) -> JSONResponse:
    body = Problem(type=TYPE_BASE + slug, title=title, status=status, detail=detail,
                   instance=str(request.url.path) if request else None, errors=errors, error_count=error_count)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status,
                        media_type=PROBLEM_JSON, headers=headers)


def field_problem(p: DocumentProblem) -> FieldProblem:
    return FieldProblem(pointer=p.pointer, field=p.field, detail=p.detail, fix=p.fix, code=p.code,
                        line=p.line, column=p.column, excerpt=p.excerpt)


def invalid_request(exc: InvalidDocument) -> ProblemError:
    """The 422 for an invalid request body."""
    return ProblemError(422, "invalid-request", "Invalid request", exc.summary(),
                        [field_problem(p) for p in exc.problems], error_count=exc.total)


def invalid_document(exc: InvalidDocument) -> Problem:
    """The problem for one invalid document inside a larger request (a batch item)."""
    return Problem(type=TYPE_BASE + "invalid-" + exc.what, title=f"Invalid {exc.what}", status=422,
                   detail=exc.summary(), errors=[field_problem(p) for p in exc.problems], error_count=exc.total)


def parameter_nodes(route: Any) -> dict[tuple[str, str], Node]:
    """What each query, path and header parameter of a route must be, by (location, name)."""
    dependant = getattr(route, "dependant", None)
    nodes: dict[tuple[str, str], Node] = {}
    pending = [dependant] if dependant is not None else []
    while pending:
        one = pending.pop()
        for where, params in (("query", one.query_params), ("path", one.path_params), ("header", one.header_params)):
            for param in params:
                nodes[(where, param.alias)] = node_for(param.field_info.annotation, param.field_info.metadata)
        pending.extend(one.dependencies)
    return nodes


def request_problem(errors: list[dict[str, Any]], body: Node | None,
                    parameters: dict[tuple[str, str], Node] | None = None) -> ProblemError:
    """The 422 for FastAPI's validation errors (locations start with ``body``, ``query`` or
    ``path``), in plain words; ``body`` is the schema of the request body, when there is one, and
    ``parameters`` what each parameter must be (``parameter_nodes``), for the same words and fixes
    ("Did you mean OH (Ohio)?") as a field of a body."""
    described: list[DocumentProblem] = []
    listed: list[FieldProblem] = []
    for err in errors[:MAX_PROBLEMS]:
        loc = tuple(err.get("loc", ()))
        if loc and loc[0] in ("query", "path", "header"):
            name = ".".join(str(p) for p in loc[1:])
            node = (parameters or {}).get((loc[0], name), Node("any"))
            worded = describe({**err, "loc": ()}, node)
            one = DocumentProblem(pointer="", field=f"The {loc[0]} parameter “{name}”", detail=worded.detail,
                                  fix=worded.fix, code=worded.code)
            described.append(one)
            listed.append(FieldProblem(parameter=name, field=one.field, detail=one.detail, fix=one.fix, code=one.code))
        else:
            one = describe({**err, "loc": loc[1:] if loc[:1] == ("body",) else loc}, body or Node("any"))
            described.append(one)
            listed.append(field_problem(one))
    summary = InvalidDocument(described, len(errors), what="request").summary()
    return ProblemError(422, "invalid-request", "Invalid request", summary, listed, error_count=len(errors))


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for a route's error statuses; all are problem details."""
    text = {
        404: "Not found.", 413: "Too many items in one request.",
        422: "The request is invalid; `errors` names each field (JSON pointer) or parameter.",
        503: "A store the request needs is unavailable.",
    }
    return {status: {"model": Problem, "description": text.get(status, "Problem details.")} for status in statuses}


GUARD_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": text}
    for status, text in {
        401: "An API key is required (only when the server is configured with keys).",
        403: "The API key lacks the scope this operation needs (`read` for GET, `evaluate` for POST).",
        413: "The request body is larger than the server's limit.",
        415: "The request body is not JSON (`application/json`).",
        429: "Rate limit exceeded for this key; retry after the `Retry-After` seconds.",
    }.items()
}
"""Answers of the request guards (api/guards.py), possible on every operation."""


def fix_openapi(schema: dict[str, Any]) -> dict[str, Any]:
    """Make the OpenAPI document say what the API does: every error body is ``Problem`` served as
    ``application/problem+json``, including FastAPI's automatic 422 (which it would describe as
    its own ``HTTPValidationError`` shape, never sent here)."""
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    for path, path_item in schema.get("paths", {}).items():
        for method, operation in path_item.items():
            answers = operation.get("responses", {})
            if method == "get":  # no body: the size and content-type guards never answer
                for status in ("413", "415"):
                    answers.pop(status, None)
            if path == "/healthz":  # open to all: no keys, no rate limit
                for status in ("401", "403", "429"):
                    answers.pop(status, None)
            for status, response in operation.get("responses", {}).items():
                if not str(status).startswith(("4", "5")):
                    continue
                response["content"] = {PROBLEM_JSON: {"schema": problem_ref}}
    components = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    return schema


def install_openapi(app: FastAPI, extra_components: dict[str, Any] | None = None) -> None:
    """Serve the fixed document; ``extra_components`` are schemas referenced by name that no
    route takes whole (a batch item)."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = fix_openapi(original())
            schema.setdefault("components", {}).setdefault("schemas", {}).update(extra_components or {})
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Routes with a body answer through api/bodies.py, which knows the body's schema; this
        # one answers for query and path parameters.
        return await problem_error(request, request_problem(list(exc.errors()), None,
                                                              parameter_nodes(request.scope.get("route"))))

    @app.exception_handler(ProblemError)
    async def problem_error(request: Request, exc: ProblemError) -> JSONResponse:
        return problem(exc.status, exc.slug, exc.title, exc.detail, request, exc.errors, error_count=exc.error_count)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == BODY_PARSE_ERROR:
            # FastAPI's answer to a body that is not UTF-8 text: the same 422 as any other non-JSON body
            errors = [FieldProblem(pointer="", field="The document", detail="The text is not UTF-8", code="not_utf8")]
            return problem(422, "invalid-request", "Invalid request", "1 problem in the request: The document",
                           request, errors, error_count=1)
        titles = {404: "Not found", 405: "Method not allowed", 413: "Request too large", 415: "Unsupported media type",
                  503: "Service unavailable"}
        slug = {404: "not-found", 405: "method-not-allowed", 413: "too-large", 415: "unsupported-media-type",
                503: "unavailable"}
        return problem(exc.status_code, slug.get(exc.status_code, "http-error"),
                       titles.get(exc.status_code, "Request failed"), str(exc.detail), request,
                       headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled_error", error_type=type(exc).__name__, path=request.url.path)
        return problem(500, "internal-error", "Internal error",
                       "PeerCheck could not complete the request; nothing was stored.", request)
