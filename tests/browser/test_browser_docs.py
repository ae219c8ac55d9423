"""`/api/docs` in a real browser: swagger-ui renders the API from our own origin only,
with no CSP violation (the `new_context` fixture fails the test on any)."""

from __future__ import annotations

from playwright.sync_api import Request, expect
from tests.browser.helpers import NewContext, sign_in
from tests.support.server import OqtoServer


def test_the_api_docs_render_from_our_origin_only(
    new_context: NewContext, server: OqtoServer
) -> None:
    context = new_context()
    requested: list[str] = []

    def record(request: Request) -> None:
        requested.append(request.url)

    context.on("request", record)
    tab = context.new_page()
    tab.goto("/")
    sign_in(tab)
    expect(tab.get_by_role("heading", name="Sessions")).to_be_visible()
    tab.goto("/api/docs")
    expect(tab.locator(".swagger-ui .info .title")).to_contain_text("Oqto")
    # An operation of ours is listed, so the document loaded and rendered.
    expect(tab.locator(".opblock-summary-path", has_text="/api/sessions").first).to_be_visible()
    foreign = [url for url in requested if not url.startswith(server.url)]
    assert foreign == [], foreign
    assert f"{server.url}/api/docs/swagger-ui-bundle.js" in requested
