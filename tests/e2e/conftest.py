"""A real browser (Debian's Chromium, driven by Playwright) against the live test server."""
import os
import shutil

import pytest
from django.db import connections

CHROMIUM = os.environ.get("JIXIAO_CHROMIUM", "/usr/bin/chromium")
# As this workplace's machines need them: no background networking, no sandbox as root, fresh profile.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture
def browser_page(monkeypatch, tmp_path):
    if not shutil.which(CHROMIUM):
        pytest.skip(f"Chromium not found at {CHROMIUM}: install Debian's chromium package (.ci/run does)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls stay synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(accept_downloads=True, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(20_000)
        # What the Content-Security-Policy (config.middleware) blocked: Chromium says so on the console.
        refused = []
        page.on("console", lambda message: refused.append(message.text)
                if message.type == "error" and "Content Security Policy" in message.text else None)
        try:
            yield page
        finally:
            context.close()
            browser.close()
            # The ORM calls made while Playwright's loop runs keep their connection in that loop's context
            # (asgiref's Local), which the test database's teardown never sees: PostgreSQL then refuses to
            # drop a database still in use.
            connections.close_all()
        assert refused == [], "the page broke its Content-Security-Policy:\n" + "\n".join(refused)


PASSWORD = "pw-for-tests-123"  # UserFactory's


def login(page, live_server, username, password=PASSWORD):
    """Sign in through the login page as a person does (any earlier session dropped first)."""
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
