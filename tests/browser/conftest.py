"""Browser fixtures: one headless Debian chromium for the package, a fresh context per test.

The browser is Debian's ``chromium`` (``make test`` installs it), driven by Playwright's bundled
driver; Playwright never downloads a browser here. Every request the page makes must go to
loopback (the app or an emulator): anything else is aborted and fails the test. Browser tests
run on SQLite only; the journeys do not depend on the database.

``PLAYWRIGHT_SKIP=1`` skips them for a local run without chromium; otherwise a missing chromium
or Playwright fails every browser test with a message saying how to get it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

SKIP = os.environ.get("PLAYWRIGHT_SKIP") == "1"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
# The browser's own resources (its PDF viewer opening a PDF from the app): no network.
BROWSER_INTERNAL = frozenset({"chrome", "chrome-extension"})
TIMEOUT_MS = 10_000


def chromium_path() -> str:
    """``$CHROMIUM``, else Debian's ``chromium`` on the PATH, else ``/usr/bin/chromium``."""
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="package")
def browser() -> Iterator:
    if SKIP:
        pytest.skip("PLAYWRIGHT_SKIP=1: browser tests skipped")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright is not installed: `make test` installs the test extra "
                    "(pip install -e '.[test]').", pytrace=False)
    path = chromium_path()
    if not os.access(path, os.X_OK):
        pytest.fail(f"Debian's chromium is not installed ({path} is missing): `make test` "
                    "installs it (apt-get install --no-install-recommends chromium). "
                    "Set PLAYWRIGHT_SKIP=1 to skip the browser tests locally.", pytrace=False)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, headless=True,
                                              args=["--disable-dev-shm-usage"])
        yield launched
        launched.close()


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """SQLite only (overrides the backend-parametrised fixture): keeps the suite fast."""
    path = tmp_path / "connector.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def moneybird_emulator(make_moneybird_emulator):
    """A smaller emulator than elsewhere (still contract-checked): a journey needs a few cases,
    not a hundred letters."""
    return make_moneybird_emulator(contacts=12, invoices=40)


@dataclass
class OffsiteGuard:
    """Aborts every request whose host is not loopback, and remembers it."""

    blocked: list[str] = field(default_factory=list)

    def __call__(self, route) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.hostname in LOOPBACK or parts.scheme in BROWSER_INTERNAL:
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("blockedbyclient")


@pytest.fixture
def offsite() -> OffsiteGuard:
    return OffsiteGuard()


@pytest.fixture
def page(browser, live_server, offsite: OffsiteGuard, request: pytest.FixtureRequest) -> Iterator:
    """A page in a fresh context (own cookies) whose relative URLs go to the app."""
    context = browser.new_context(base_url=live_server.url, locale="nl-NL",
                                  timezone_id="Europe/Amsterdam",
                                  viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    context.route("**/*", offsite)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        from tests.browser.journeys import shot

        with contextlib.suppress(Exception):  # the page may be gone; the failure says enough
            shot(page, f"FAILED-{request.node.name}")
    context.close()
    assert not offsite.blocked, f"the browser tried to leave loopback: {offsite.blocked}"
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report
