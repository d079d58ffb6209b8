"""The app with the pages router (POST /v1/reports, /ui), for the page tests.

``api/main.py`` is owned elsewhere and may not include ``api.routes.pages`` yet; this builds the
app exactly as ``make run`` does and adds the router only if it is missing."""

from __future__ import annotations

from pathlib import Path


def app_with_pages(data_dir: Path):
    from api.main import create_app
    from api.routes import pages
    from api.settings import Settings

    app = create_app(Settings(decision_log_enabled=False, data_dir=data_dir))
    if not any(getattr(route, "path", None) == "/ui" for route in app.routes):
        app.include_router(pages.router)
    return app
