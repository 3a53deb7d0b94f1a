"""The web console in a real browser: Debian's headless Chromium driven by Playwright, against
`make run`'s stack (`python -m infra.local`, one per test module) with e-mail verification on, as
`make run` has it, so sign-ups go through the mailed link the stack logs.

Every test gets a page at 1280x800 (`page`); `console.new_page()` opens another person's browser.
Screenshots land in tmp/artifacts/browser/<test>/ (BROWSER_ARTIFACTS moves them), one per
`shot()` and one when the test ends. `SCREENSHOTS_TO_DOCS=1` also writes the README's pictures
(docs/screenshots/) from the tests that take them. Chromium missing: the tests skip, saying so.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.local_stack import LocalStack, running_local_stack

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("BROWSER_ARTIFACTS") or ROOT / "tmp" / "artifacts" / "browser")
DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"
PASSWORD = "correct horse battery"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_path()
    if not path:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium; .ci/run installs it)")
    return path


@pytest.fixture(scope="session")
def console_built() -> None:
    """The bundle in web/dist, as `make run` and `make test` build it (a no-op when it is current)."""
    ran = subprocess.run(["make", "-s", "web"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert ran.returncode == 0, f"make web failed:\n{ran.stdout}\n{ran.stderr}"


@pytest.fixture(scope="session")
def browser(chromium: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
        launched = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def console_stack(console_built: None) -> Iterator[LocalStack]:
    with running_local_stack(env={"EMAIL_VERIFICATION": "on"}) as stack:
        yield stack


class Console:
    """One test's browsers on the console, and the steps every test repeats."""

    def __init__(self, stack: LocalStack, browser, artifacts: Path) -> None:
        self.stack, self.browser, self.artifacts = stack, browser, artifacts
        self.url = stack.url
        self.pages: list = []
        self.errors: list[str] = []
        self.shots = 0

    def new_page(self, viewport: dict[str, int] = DESKTOP):
        context = self.browser.new_context(viewport=viewport, base_url=self.url)
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))
        page.on("request", lambda request: self._only_local(request.url))
        self.pages.append(page)
        return page

    def _only_local(self, url: str) -> None:
        if not url.startswith((self.url, "data:", "blob:")):
            self.errors.append(f"request outside the platform: {url}")

    def shot(self, page, name: str, docs: str | None = None) -> Path:
        """A full-page screenshot in this test's artifacts; with SCREENSHOTS_TO_DOCS=1 and `docs`,
        also docs/screenshots/<docs>.png (without the passing toasts)."""
        self.shots += 1
        self.artifacts.mkdir(parents=True, exist_ok=True)
        path = self.artifacts / f"{self.shots:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        if docs and os.environ.get("SCREENSHOTS_TO_DOCS") == "1":
            DOCS_SCREENSHOTS.mkdir(exist_ok=True)
            page.evaluate("document.querySelector('.toasts').style.visibility = 'hidden'")
            page.screenshot(path=str(DOCS_SCREENSHOTS / f"{docs}.png"), full_page=True)
            page.evaluate("document.querySelector('.toasts').style.visibility = ''")
        return path

    def mail_link(self, email: str, subject: str = "Verify your e-mail address", timeout: float = 15) -> str:
        """The link of the newest mail the stack logged for `email` with `subject`."""
        pattern = re.compile(rf"mail to {re.escape(email)}: {re.escape(subject)} (\S+)")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = pattern.findall(self.stack.log())
            if found:
                return found[-1]
            time.sleep(0.1)
        pytest.fail(f"no '{subject}' mail to {email} in the stack's log")

    def sign_up(self, page, email: str, first_name: str, last_name: str = "") -> None:
        """Sign-up through the screens: the form, the mailed link pasted on the verify step, log-in."""
        from playwright.sync_api import expect

        page.goto("/signup")
        page.get_by_label("First name").fill(first_name)
        if last_name:
            page.get_by_label("Last name").fill(last_name)
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign up").click()
        expect(page.get_by_role("heading", name="Check your mailbox")).to_be_visible()
        page.get_by_label("Link from the mail").fill(self.mail_link(email))
        page.get_by_role("button", name="Verify").click()
        expect(page.get_by_text("Your e-mail address is verified")).to_be_visible()
        expect(page.get_by_label("E-mail")).to_have_value(email)
        self.log_in(page, email, navigate=False)

    def log_in(self, page, email: str, navigate: bool = True) -> None:
        from playwright.sync_api import expect

        if navigate:
            page.goto("/login")
            page.get_by_label("E-mail").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        # The signed-in frame (its menu may be folded away at a phone's width)
        expect(page.get_by_role("button", name="Log out", include_hidden=True)).to_be_attached()

    def create_team(self, page, name: str, slug: str) -> None:
        from playwright.sync_api import expect

        page.goto("/teams")
        page.get_by_label("Name", exact=True).fill(name)
        page.get_by_label("Slug").fill(slug)
        page.get_by_role("button", name="Create team").click()
        expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
        expect(page).to_have_url(f"{self.url}/{slug}/dashboard")

    def token_of(self, page) -> str:
        """The session's bearer token, as the console keeps it."""
        return page.evaluate("JSON.parse(localStorage.getItem('dyrector.session')).token")


@pytest.fixture()
def console(console_stack: LocalStack, browser, request: pytest.FixtureRequest) -> Iterator[Console]:
    artifacts = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(artifacts, ignore_errors=True)
    running = Console(console_stack, browser, artifacts)
    try:
        yield running
    finally:
        for i, page in enumerate(running.pages):
            if not page.is_closed():
                running.shot(page, f"end-{i}")
                page.context.close()
    assert not running.errors, "\n".join(running.errors)


@pytest.fixture()
def page(console: Console):
    return console.new_page()


def unique_email(name: str) -> str:
    return f"{name}-{os.urandom(4).hex()}@example.com"


def unique_slug(prefix: str = "t") -> str:
    return f"{prefix}{os.urandom(5).hex()}"
