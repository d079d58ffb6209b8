"""Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by the Python
``playwright`` package — never a downloaded browser. ``make e2e`` installs both; without them a
test module skips, saying why (``require``), and a browser that will not start is a skip too
(``launched``)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pytest

CHROMIUM = Path("/usr/bin/chromium")
OUTPUT = Path(__file__).resolve().parent.parent / "test-output"  # screenshots and PDFs (gitignored)
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def require(purpose: str) -> Any:
    """Playwright's sync API, or skip the calling module when Chromium or playwright is missing."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (make e2e does, as root) to {purpose}",
                    allow_module_level=True)
    return pytest.importorskip(
        "playwright.sync_api", reason="the playwright package is not installed: pip install playwright (make e2e does)",
        exc_type=ImportError)


@contextmanager
def launched(sync_api: Any) -> Iterator[Any]:
    """A headless Chromium browser, closed afterwards; a skip when it cannot start."""
    with sync_api.sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, timeout=60_000)
        except Exception as exc:  # noqa: BLE001 - a broken browser install is a skip, not a failure
            pytest.skip(f"Chromium at {CHROMIUM} could not be started: {exc}")
        try:
            yield browser
        finally:
            browser.close()
