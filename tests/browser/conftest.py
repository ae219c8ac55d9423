"""Browser tests: Debian's Chromium, driven by Playwright, against a real `oqto serve
--single-user` with real opencode, ttyd and oqto-files sessions and the fake LLM.

Single-user mode has exactly one platform user, so what needs more (user management,
invites, registration, non-admin users) runs against a second, multi-user `oqto serve`
(`multi_server`, `multi_api`, `multi_new_context`, `multi_page`), started only when a test
asks for it.

Playwright's own browser downloads are never used (`executable_path`). Every page records
Content-Security-Policy violations, uncaught script errors and unexpected dialogs; a test
that caused any fails. Screenshots of the main screens go to `test-artifacts/screenshots/`.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    expect,
    sync_playwright,
)
from tests.browser.helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    REPO,
    SECOND_MODEL_ID,
    WEB_DIST,
    WEB_SOURCES,
    MultiUserServer,
    NewContext,
    signed_in,
)
from tests.support.fake_llm import (
    DEFAULT_MODEL_ID,
    DEFAULT_PROVIDER_ID,
    FakeLLM,
    opencode_config,
)
from tests.support.server import OqtoServer, stopped_cleanly, tool_env


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failed browser test shows what the servers and the session services logged: the
    page alone cannot tell a refused request from one that never went out."""
    report = yield
    if report.failed:
        funcargs = getattr(item, "funcargs", {})
        for name in ("server", "multi_server"):
            srv = funcargs.get(name)
            if srv is not None:
                logs = [srv.log_path, *sorted(srv.root.glob("data/logs/sessions/*/*.log"))]
                for path in logs:
                    tail = path.read_text(errors="replace").splitlines()[-40:]
                    report.sections.append((f"{name}: {path.name}", "\n".join(tail)))
    return report


# The machine is small and shared: allow for slow moments, without ever sleeping.
expect.set_options(timeout=20_000)

# Records what the page's own CSP refused; injected by the browser driver, not the page.
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = e.target && e.target.outerHTML ? e.target.outerHTML.slice(0, 200) : "";
  const at = `${e.sourceFile}:${e.lineNumber}`;
  const what = `${e.violatedDirective}: ${e.blockedURI} ${e.sample}`;
  window.__cspViolations.push(`${what} at ${at} ${where}`);
});
"""


def _stale_build() -> str | None:
    index = WEB_DIST / "index.html"
    if not index.exists():
        return "the web UI is not built"
    built = index.stat().st_mtime
    sources = [WEB_SOURCES / "index.html", WEB_SOURCES / "package-lock.json"]
    sources += [p for d in ("src", "scripts") for p in (WEB_SOURCES / d).rglob("*") if p.is_file()]
    newer = [p for p in sources if p.exists() and p.stat().st_mtime > built]
    return f"the web UI build is older than {newer[0].relative_to(REPO)}" if newer else None


@pytest.fixture(scope="package", autouse=True)
def _prerequisites() -> None:
    path = tool_env()["PATH"]
    missing = [name for name in ("opencode", "ttyd") if shutil.which(name, path=path) is None]
    if not Path(CHROMIUM).exists():
        missing.append(CHROMIUM)
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: run scripts/setup.sh --test", pytrace=False)
    problem = _stale_build()
    if problem:
        pytest.fail(f"{problem}: run scripts/setup.sh (or npm run build in web/)", pytrace=False)


def browser_opencode_config(base_url: str) -> dict[str, Any]:
    """The fake model as the configured one, with a second fake model to switch to, and
    opencode's own public providers still offered, as on a real install: the chat must
    start on the configured model, not on whichever provider opencode lists first."""
    config = opencode_config(base_url)
    del config["enabled_providers"]
    models = config["provider"][DEFAULT_PROVIDER_ID]["models"]
    models[SECOND_MODEL_ID] = {**models[DEFAULT_MODEL_ID], "name": "Fake model two"}
    return config


@pytest.fixture(scope="package")
def fake_llm() -> Iterator[FakeLLM]:
    with FakeLLM() as llm:
        yield llm


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory, fake_llm: FakeLLM) -> Iterator[OqtoServer]:
    root = tmp_path_factory.mktemp("oqto-browser")
    opencode_json = root / "opencode.json"
    opencode_json.write_text(json.dumps(browser_opencode_config(fake_llm.base_url)))
    srv = OqtoServer(root, opencode_config=opencode_json).start()
    try:
        yield srv
    finally:
        stopped_cleanly(srv)


@pytest.fixture(scope="package")
def api(server: OqtoServer) -> Iterator[httpx.Client]:
    """The admin, through the API: for setting up and checking what the UI did."""
    with server.client(server.login()) as client:
        yield client


@pytest.fixture(scope="package")
def multi_server() -> Iterator[MultiUserServer]:
    """A multi-user `oqto serve` (no sessions are started on it)."""
    # Not under pytest's 0700 temporary directory: a registered user's runner, running as
    # that user, reads the config here.
    root = Path(tempfile.mkdtemp(prefix="oqto-browser-multi-"))
    root.chmod(0o755)
    srv = MultiUserServer(root)
    try:
        srv.start()
        yield srv
    finally:
        code = srv.stop()
        shutil.rmtree(root, ignore_errors=True)
        assert code == 0, f"oqto serve (multi-user) exited with {code}:\n{srv.log()[-4000:]}"


@pytest.fixture(scope="package")
def multi_api(multi_server: MultiUserServer) -> Iterator[httpx.Client]:
    """The multi-user server's admin, through the API."""
    with multi_server.client(multi_server.login()) as client:
        yield client


# Package scope, not session: while sync_playwright() is open, the main thread has a
# running event loop, and every later test's asyncio.run() would fail.
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    instance = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    try:
        yield instance
    finally:
        instance.close()


@dataclass
class PageWatch:
    errors: list[str] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        self.pages.append(page)
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))

    def problems(self) -> list[str]:
        found = list(self.errors)
        for page in self.pages:
            if not page.is_closed():
                found += page.evaluate("window.__cspViolations || []")
        return found


@contextmanager
def _contexts(browser: Browser, base_url: str) -> Iterator[NewContext]:
    """Factory of fresh browser contexts (separate cookie jars: separate people)."""
    contexts: list[BrowserContext] = []
    watch = PageWatch()

    def make(viewport: dict[str, int] | None = None) -> BrowserContext:
        context = browser.new_context(
            base_url=base_url, viewport=viewport or DESKTOP, accept_downloads=True
        )
        context.add_init_script(WATCH_CSP)
        context.on("page", watch.attach)
        contexts.append(context)
        return context

    try:
        yield make
        problems = watch.problems()
        assert problems == [], f"CSP violations or script errors: {problems}"
    finally:
        for context in contexts:
            context.close()


def _signed_in_admin(new_context: NewContext) -> Page:
    return signed_in(new_context)


@pytest.fixture
def new_context(browser: Browser, server: OqtoServer) -> Iterator[NewContext]:
    """Browser contexts on the single-user server."""
    with _contexts(browser, server.url) as make:
        yield make


@pytest.fixture
def page(new_context: NewContext) -> Page:
    """A signed-in administrator on the sessions page."""
    return _signed_in_admin(new_context)


@pytest.fixture
def multi_new_context(browser: Browser, multi_server: MultiUserServer) -> Iterator[NewContext]:
    """Browser contexts on the multi-user server."""
    with _contexts(browser, multi_server.url) as make:
        yield make


@pytest.fixture
def multi_page(multi_new_context: NewContext) -> Page:
    """The multi-user server's administrator, signed in, on the sessions page."""
    return _signed_in_admin(multi_new_context)


@pytest.fixture(scope="package")
def shared_session(server: OqtoServer, api: httpx.Client) -> dict[str, Any]:
    """One running session for the chat, files and terminal tests (starting opencode is
    the slow part of these tests)."""
    created = api.post("/api/sessions", json={"workspace": "browser-proj"})
    assert created.status_code == 201, created.text
    return server.wait_status(api, created.json()["id"], "running")
