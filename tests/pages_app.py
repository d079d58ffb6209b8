"""The app as ``make run`` builds it, for the page tests: without a decision log unless asked."""

from __future__ import annotations

from pathlib import Path


def app_with_pages(data_dir: Path, decision_log: bool = False):
    from api.main import create_app
    from api.settings import Settings

    return create_app(Settings(decision_log_enabled=decision_log, data_dir=data_dir))
