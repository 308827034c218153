"""Browser tests: Debian's chromium driven by Playwright (no browser download).

They skip with a reason when chromium is missing, unless MASTHEAD_REQUIRE_BROWSER=1 (set by .ci/run).
"""

import importlib
import os
import shutil

import pytest
from django.conf import settings
from django.test import Client

# Playwright's sync API runs an event loop in this thread; the ORM calls here are not in it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(autouse=True)
def _channels():
    """The default channels, which a transactional test run earlier may have flushed away."""
    from django.apps import apps

    importlib.import_module("masthead.channels.migrations.0002_default_channels").create_channels(apps, None)


@pytest.fixture
def browser():
    # Started per test and stopped after it: Django's connection handling must not run inside
    # Playwright's event loop between tests.
    if not shutil.which(CHROMIUM):
        if os.environ.get("MASTHEAD_REQUIRE_BROWSER") == "1":
            pytest.fail(f"MASTHEAD_REQUIRE_BROWSER=1 but {CHROMIUM} is missing")
        pytest.skip(f"browser tests need Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"],
        )  # fmt: skip
        yield browser
        browser.close()


def logged_in_context(browser, live_server, user):
    """A browser context carrying the user's session (made directly, not through the login page)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(base_url=live_server.url, locale="zh-CN")
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
    context.set_default_timeout(10_000)
    return context
