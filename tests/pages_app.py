"""The app as ``make run`` builds it, without a decision log, for the page tests."""

from __future__ import annotations

from pathlib import Path


def app_with_pages(data_dir: Path):
    from api.main import create_app
    from api.settings import Settings

    return create_app(Settings(decision_log_enabled=False, data_dir=data_dir))
