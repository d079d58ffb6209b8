"""RFC 9457 problem details for every error the API returns.

A validation problem names each bad field as a JSON pointer into the request body, with the
reason. The offending value is not echoed: it may be sensitive, and the caller has it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.logs import log

PROBLEM_JSON = "application/problem+json"
BODY_PARSE_ERROR = "There was an error parsing the body"  # FastAPI's HTTPException(400) detail
TYPE_BASE = "urn:peercheck:problem:"


class FieldProblem(BaseModel):
    pointer: str | None = Field(default=None, description="JSON pointer to the bad field in the request body ('' = the body itself).")
    parameter: str | None = Field(default=None, description="Name of the bad query or path parameter.")
    detail: str = Field(description="What is wrong with it.")


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldProblem] | None = None


class ProblemError(Exception):
    """Raised by a route for an error that names fields (e.g. a batch with too many ``/items``)."""

    def __init__(self, status: int, slug: str, title: str, detail: str, errors: list[FieldProblem] | None = None):
        super().__init__(detail)
        self.status, self.slug, self.title, self.detail, self.errors = status, slug, title, detail, errors


def problem(status: int, slug: str, title: str, detail: str, request: Request | None = None,
            errors: list[FieldProblem] | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    body = Problem(type=TYPE_BASE + slug, title=title, status=status, detail=detail,
                   instance=str(request.url.path) if request else None, errors=errors)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status,
                        media_type=PROBLEM_JSON, headers=headers)


def _field_problem(err: dict[str, Any]) -> FieldProblem:
    loc = list(err.get("loc", ()))
    if loc and loc[0] in ("query", "path", "header"):
        return FieldProblem(parameter=".".join(str(p) for p in loc[1:]), detail=_detail(err))
    if err.get("type") == "json_invalid":
        return FieldProblem(pointer="", detail=_detail(err))
    parts = loc[1:] if loc and loc[0] == "body" else loc
    return FieldProblem(pointer=pointer(parts), detail=_detail(err))


def pointer(parts) -> str:
    """RFC 6901 JSON pointer from path segments."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def field_problems(errors: list[dict[str, Any]]) -> list[FieldProblem]:
    """Pydantic errors of a ``model_validate`` call (locations relative to the validated document)."""
    return [FieldProblem(pointer=pointer(e.get("loc", ())), detail=_detail(e)) for e in errors]


def invalid_document(errors: list[FieldProblem], what: str = "profile") -> Problem:
    """The problem for one invalid document inside a larger request (a batch item)."""
    names = ", ".join(e.pointer or "(document)" for e in errors[:5])
    return Problem(type=TYPE_BASE + "invalid-" + what, title=f"Invalid {what}", status=422,
                   detail=f"{len(errors)} problem(s) in the {what}: {names}", errors=errors)


def _detail(err: dict[str, Any]) -> str:
    if err.get("type") == "json_invalid":
        return f"request body is not valid JSON: {err.get('ctx', {}).get('error', err['msg'])}"
    return err["msg"]


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
        errors = [_field_problem(e) for e in exc.errors()]
        names = ", ".join(e.parameter or e.pointer or "(body)" for e in errors[:5])
        return problem(422, "invalid-request", "Invalid request",
                       f"{len(errors)} problem(s) in the request: {names}", request, errors)

    @app.exception_handler(ProblemError)
    async def problem_error(request: Request, exc: ProblemError) -> JSONResponse:
        return problem(exc.status, exc.slug, exc.title, exc.detail, request, exc.errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == BODY_PARSE_ERROR:
            # FastAPI's answer to a body that is not UTF-8 text: the same 422 as any other non-JSON body
            errors = [FieldProblem(pointer="", detail="request body is not valid JSON: not UTF-8 text")]
            return problem(422, "invalid-request", "Invalid request", "1 problem(s) in the request: (body)",
                           request, errors)
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
