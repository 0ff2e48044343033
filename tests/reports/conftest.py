"""Browser fixtures of the report tests: Debian's Chromium driven by playwright.

The browser is the system's (``/usr/bin/chromium``, installed by ``.ci/run`` from the Debian
package); no test downloads one. Where Chromium or playwright is absent the browser tests skip
with the reason, except in CI (``MMMECH_REQUIRE_BROWSER=1``, set by ``.ci/run``), where they fail.
"""

import os

import pytest
from _report_docs import ARGS, CHROMIUM, browser_missing


def _skip_or_fail(reason):
    if os.environ.get("MMMECH_REQUIRE_BROWSER") == "1":
        pytest.fail(f"MMMECH_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    reason = browser_missing()
    if reason:
        _skip_or_fail(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


class Opened:
    """A report opened in the browser: the page, its console errors and network requests."""

    def __init__(self, page, errors, requests):
        self.page, self.errors, self.requests = page, errors, requests

    def js(self, code, arg=None):
        return self.page.evaluate(code, arg)

    def document(self):
        """The result document embedded in the page."""
        return self.js("() => JSON.parse(document.getElementById('mmmech-document').textContent)")


@pytest.fixture
def open_report(browser):
    pages = []

    def _open(path, render_all=True):
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors, requests = [], []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto("file://" + os.path.abspath(path))
        page.wait_for_load_state("load")
        page.wait_for_function("window.mmmechReportReady === true")
        if render_all:
            page.evaluate("() => window.mmmechRenderAll()")
        pages.append(page)
        return Opened(page, errors, requests)

    yield _open
    for p in pages:
        p.close()
