"""A real browser for the tests: Debian's Chromium, headless, driven by Playwright's async API.

Playwright's own browser download is not used (`playwright install` needs the internet); the `chromium` package is,
installed by scripts/bootstrap.sh. No Chromium is a failure saying how to install it, never a skip. Pages open in
Thai (th-TH, Asia/Bangkok); a test asks for a phone with `@pytest.mark.parametrize("viewport", ["mobile"])`.
Screenshots go to test-artifacts/screenshots/<test>-<label>.png: `await screenshot("before")` on demand, and
`<test>-failure.png` by itself when a test fails.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright

from tests.conftest import ARTIFACTS

SCREENSHOTS = ARTIFACTS / "screenshots"
DEBIAN_CHROMIUM = "/usr/bin/chromium"
HOW_TO_INSTALL = (
    "The browser tests drive Debian's Chromium: install it with `apt-get install chromium` (as root), or run "
    "scripts/bootstrap.sh (`make test` does), or set CHROMIUM_PATH to a Chromium binary. "
    "(`playwright install` is not used: it downloads its own browser.)"
)
# A phone the size of the ones responders open their alerts on; `desktop` is Playwright's default window.
VIEWPORTS: dict[str, dict[str, Any]] = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "mobile": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
               "has_touch": True},
}
REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_chromium() -> str:
    """CHROMIUM_PATH if set (then it must be right: a wrong path is not quietly replaced by another browser),
    else `chromium` on PATH, else /usr/bin/chromium; otherwise the test fails saying how to install it."""
    explicit = os.environ.get("CHROMIUM_PATH")
    if explicit:
        if _executable(explicit):
            return explicit
        pytest.fail(f"CHROMIUM_PATH={explicit} is not an executable file. {HOW_TO_INSTALL}", pytrace=False)
    for candidate in (shutil.which("chromium"), DEBIAN_CHROMIUM):
        if candidate and _executable(candidate):
            return candidate
    pytest.fail(f"Chromium not found (no `chromium` on PATH, no {DEBIAN_CHROMIUM}). {HOW_TO_INSTALL}",
                pytrace=False)


def launch_args() -> list[str]:
    # Chromium's sandbox refuses to run as root (containers, CI); /dev/shm is often tiny there.
    args = ["--disable-dev-shm-usage"]
    if os.geteuid() == 0:
        args.append("--no-sandbox")
    return args


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    executable = find_chromium()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, headless=True, args=launch_args())
        yield launched
        await launched.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    """Keeps each phase's report on the test, for `page` to see at teardown whether the test failed."""
    report: pytest.TestReport = yield
    item.stash.setdefault(REPORTS, {})[report.when] = report
    return report


def screenshot_path(request: pytest.FixtureRequest, label: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^\w.]+", "-", f"{request.node.name}-{label}").strip("-")
    return SCREENSHOTS / f"{name}.png"


@pytest.fixture
def viewport() -> str:
    """`desktop` unless a test parametrizes it: `@pytest.mark.parametrize("viewport", ["mobile"])`."""
    return "desktop"


@pytest.fixture
async def page(browser: Browser, viewport: str, request: pytest.FixtureRequest) -> AsyncIterator[Page]:
    """A fresh context per test (no cookies or cache shared between tests), in Thai and Bangkok time."""
    context = await browser.new_context(locale="th-TH", timezone_id="Asia/Bangkok", **VIEWPORTS[viewport])
    context.set_default_timeout(15_000)
    opened = await context.new_page()
    try:
        yield opened
    finally:
        reports = request.node.stash.get(REPORTS, {})
        if any(r.failed for r in reports.values()):
            try:
                await opened.screenshot(path=screenshot_path(request, "failure"), full_page=True)
            except Exception as e:  # the page may be what broke; the test's own failure is the one to report
                print(f"no failure screenshot: {e!r}")
        await context.close()


@pytest.fixture
def screenshot(page: Page, request: pytest.FixtureRequest) -> Callable[[str], Awaitable[Path]]:
    """`await screenshot("before")` saves the whole page as test-artifacts/screenshots/<test>-before.png."""

    async def take(label: str) -> Path:
        path = screenshot_path(request, label)
        await page.screenshot(path=path, full_page=True)
        return path

    return take
