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
    return FieldProblem(pointer="".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts), detail=_detail(err))


def _detail(err: dict[str, Any]) -> str:
    if err.get("type") == "json_invalid":
        return f"request body is not valid JSON: {err.get('ctx', {}).get('error', err['msg'])}"
    return err["msg"]


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [_field_problem(e) for e in exc.errors()]
        names = ", ".join(e.parameter or e.pointer or "(body)" for e in errors[:5])
        return problem(422, "invalid-request", "Invalid request",
                       f"{len(errors)} problem(s) in the request: {names}", request, errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        titles = {404: "Not found", 405: "Method not allowed", 413: "Request too large", 415: "Unsupported media type"}
        slug = {404: "not-found", 405: "method-not-allowed", 413: "too-large", 415: "unsupported-media-type"}
        return problem(exc.status_code, slug.get(exc.status_code, "http-error"),
                       titles.get(exc.status_code, "Request failed"), str(exc.detail), request,
                       headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled_error", error_type=type(exc).__name__, path=request.url.path)
        return problem(500, "internal-error", "Internal error",
                       "PeerCheck could not complete the request; nothing was stored.", request)
