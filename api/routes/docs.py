"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), working without internet: their scripts and
styles come from the installed ``fastapi-offline`` package, served under ``/docs/assets`` (the
app mounts them, api/main.py), and the pages are FastAPI's own (``get_swagger_ui_html``,
``get_redoc_html``). A Content-Security-Policy keeps every request on this server: ReDoc's
sidebar would otherwise load its logo from the vendor's CDN."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

from api.guards import DOCS_ASSETS

router = APIRouter()

DOCS_HEADERS = {
    # the pages start their viewer with an inline script; ReDoc searches in a worker made from a blob
    "Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
                               "connect-src 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}


@router.get("/docs", include_in_schema=False)
def swagger_ui(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    page = get_swagger_ui_html(openapi_url=f"{root}{request.app.openapi_url}", title=f"{request.app.title} — API docs",
                               swagger_js_url=f"{root}{DOCS_ASSETS}/swagger-ui-bundle.js",
                               swagger_css_url=f"{root}{DOCS_ASSETS}/swagger-ui.css",
                               swagger_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png",
                               swagger_ui_parameters=request.app.swagger_ui_parameters)
    page.headers.update(DOCS_HEADERS)
    return page


@router.get("/redoc", include_in_schema=False)
def redoc(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    page = get_redoc_html(openapi_url=f"{root}{request.app.openapi_url}", title=f"{request.app.title} — API reference",
                          redoc_js_url=f"{root}{DOCS_ASSETS}/redoc.standalone.js",
                          redoc_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png", with_google_fonts=False)
    page.headers.update(DOCS_HEADERS)
    return page
