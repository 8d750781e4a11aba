"""Browser tests of the built portal in headless Chromium (Debian's /usr/bin/chromium, driven by
Python playwright; browsers are never downloaded). The site is served over HTTP from a sub-path
(/sub/portal/) by a loopback server, so relative links, the Pagefind search and the exact lookup
are exercised as a visitor sees them. axe-core (vendored, tests/vendor/axe-core) must report no
WCAG 2.1 A/AA violation on any page type.
"""

from __future__ import annotations

import shutil
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from portal_site import HOSTILE_CODE, HOSTILE_NAME, sample_site

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = Path(__file__).resolve().parent / "vendor/axe-core/axe.min.js"
PREFIX = "/sub/portal/"
PAGE_TYPES = [
    "", "items/", "items/amr/", "plans/", "plans/2025/", "tasks/", "tasks/2025-01/", "results/",
    "results/tasks/2025-01/", "results/2025-04/", f"enterprises/{HOSTILE_CODE}/", "enterprises/", "stats/",
    "ledger/", "verify/", "data/", "search/", "about/", "policy/", "how-to-verify/", "privacy/", "404.html",
]

playwright_api = pytest.importorskip("playwright.sync_api", reason="Python playwright is not installed")
if not Path(CHROMIUM).exists():
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)


class _Handler(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # quiet
        pass

    def translate_path(self, path):
        path = path.split("?", 1)[0].split("#", 1)[0]
        if path == "/__axe.min.js":
            return str(AXE)
        if not path.startswith(PREFIX):
            return str(Path(self.directory) / "__outside__")
        return super().translate_path("/" + path[len(PREFIX):])

    def send_error(self, code, message=None, explain=None):
        page = Path(self.directory) / "404.html"
        if code == 404 and page.is_file():
            body = page.read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().send_error(code, message, explain)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    _, site = sample_site(tmp_path_factory)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(site)))
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}{PREFIX}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update"],
        )
        yield b
        b.close()


@pytest.fixture(scope="module")
def desktop(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    yield ctx
    ctx.close()


@pytest.fixture
def page(desktop):
    pg = desktop.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.errors = errors
    yield pg
    pg.close()


def _axe(pg) -> list[dict]:
    origin = pg.url.split(PREFIX, 1)[0]
    pg.add_script_tag(url=origin + "/__axe.min.js")  # served by the test server, cached by the browser
    result = pg.evaluate(
        """async () => {
            const r = await axe.run(document, {runOnly: {type: 'tag',
                values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}));
        }"""
    )
    return result


def test_axe_detects_a_known_violation(server, page):
    page.goto(server + "404.html")
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<img src=\"x.png\"><a href=\"#\"></a>')")
    ids = {v["id"] for v in _axe(page)}
    assert {"image-alt", "link-name"} <= ids


@pytest.mark.parametrize("rel", PAGE_TYPES)
def test_axe_reports_no_wcag21_aa_violations(server, page, rel):
    resp = page.goto(server + rel)
    assert resp.status == (404 if rel == "404.html" else 200) or rel == "404.html"
    violations = _axe(page)
    assert violations == [], violations
    assert page.errors == []


def test_navigation_from_home_to_a_task_and_back(server, page):
    page.goto(server)
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator(".sample-banner").is_visible()
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="抽查任务").click()
    page.wait_for_url("**/tasks/")
    assert page.locator("h1").inner_text() == "抽查任务"
    page.get_by_role("link", name="2025年食品销售和餐饮服务单位联合抽查").first.click()
    page.wait_for_url("**/tasks/2025-01/")
    assert "2025年食品销售和餐饮服务单位联合抽查" in page.locator("h1").inner_text()
    page.get_by_role("link", name="查看本任务全部检查结果").click()
    page.wait_for_url("**/results/tasks/2025-01/")
    page.get_by_role("link", name="首页").first.click()
    page.wait_for_url(server)


def test_enterprise_page_shows_history_and_expands_old_versions(server, page):
    page.goto(server + "results/tasks/2025-01/")
    details = page.locator("details.history").first
    assert not details.locator(".old-version").first.is_visible()
    details.locator("summary").click()
    assert details.locator(".old-version").first.is_visible()
    page.goto(server + f"enterprises/{HOSTILE_CODE}/")
    assert page.locator("h1").inner_text() == HOSTILE_NAME  # shown literally, not executed
    assert page.errors == []


def test_full_text_search_with_pagefind(server, page):
    page.goto(server + "search/?q=" + "食品")
    page.wait_for_selector(".pagefind-ui__result", timeout=15000)
    titles = page.locator(".pagefind-ui__result-title").all_inner_texts()
    assert any("食品" in t for t in titles), titles
    assert page.locator(".pagefind-ui__filter-panel").count() == 1
    assert page.errors == []


def test_header_search_form_leads_to_results(server, page):
    page.goto(server + "tasks/2025-01/")
    page.fill("#q", "消防")
    page.press("#q", "Enter")
    page.wait_for_url("**/search/?q=*")
    page.wait_for_selector(".pagefind-ui__result", timeout=15000)


@pytest.mark.parametrize("query", [HOSTILE_CODE, HOSTILE_CODE.lower(), HOSTILE_NAME])
def test_exact_lookup_by_code_and_name(server, page, query):
    page.goto(server + "enterprises/")
    page.fill("#lookup-q", query)
    page.click("#lookup button")
    link = page.locator("#lookup-result a")
    link.wait_for(timeout=5000)
    assert link.inner_text() == HOSTILE_NAME
    link.click()
    page.wait_for_url(f"**/enterprises/{HOSTILE_CODE}/")


def test_exact_lookup_says_when_nothing_matches(server, page):
    page.goto(server + "enterprises/")
    page.fill("#lookup-q", "不存在的企业名称有限公司")
    page.click("#lookup button")
    page.wait_for_function("document.getElementById('lookup-result').textContent.includes('未找到')")


@pytest.mark.parametrize("rel", ["", "tasks/2025-01/", "results/tasks/2025-01/", "stats/",
                                 f"enterprises/{HOSTILE_CODE}/"])
def test_phone_viewport_has_no_horizontal_scrolling(server, browser, rel):
    ctx = browser.new_context(viewport={"width": 375, "height": 667}, device_scale_factor=2, is_mobile=True,
                              has_touch=True, locale="zh-CN")
    pg = ctx.new_page()
    try:
        pg.goto(server + rel)
        overflow = pg.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, overflow
        assert pg.get_by_role("navigation", name="主导航").is_visible()
        assert pg.locator("#q").is_visible()
        assert not _axe(pg)
    finally:
        ctx.close()


def test_pages_work_without_javascript(server, browser):
    ctx = browser.new_context(java_script_enabled=False)
    pg = ctx.new_page()
    try:
        pg.goto(server + "tasks/2025-01/")
        pg.get_by_role("link", name="查看本任务全部检查结果").click()
        pg.wait_for_url("**/results/tasks/2025-01/")
        pg.locator("details.history summary").first.click()  # <details> needs no script
        assert pg.locator(".old-version").first.is_visible()
        pg.goto(server + "enterprises/")
        assert pg.locator("noscript").count() == 1
    finally:
        ctx.close()


def _serve_site_with_ledger(tmp_path_factory, name: str, *, pending: bool = False):
    """Build the portal with a signed ledger (tests/ledger_fixture.py) and serve it like `server`."""
    ledger_fixture = pytest.importorskip("ledger_fixture")
    from portal_site import copy_data
    from sunshine.portal.build import build_site

    sample_site(tmp_path_factory)
    base = tmp_path_factory.mktemp(name)
    data = copy_data(base)
    ledger_fixture.build_sample_ledger(data / "ledger", pending=pending)
    site = base / "output"
    build_site(data, site, search=False, quiet=True)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}{PREFIX}", site


@pytest.fixture(scope="module")
def ledger_server(tmp_path_factory):
    """A site built with a signed ledger (tests/ledger_fixture.py), served like `server`."""
    httpd, url, site = _serve_site_with_ledger(tmp_path_factory, "browser-ledger")
    yield url, site
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def pending_server(tmp_path_factory):
    """Like `ledger_server`, but task 2026-07's randomness is revealed and its result not yet locked."""
    httpd, url, site = _serve_site_with_ledger(tmp_path_factory, "browser-pending", pending=True)
    yield url, site
    httpd.shutdown()
    httpd.server_close()


def test_in_browser_verification_of_a_drawn_task(ledger_server, page):
    import json

    url, site = ledger_server
    task = next(iter(json.loads((site / "ledger/report.json").read_text(encoding="utf-8"))["tasks"]))
    page.goto(url + "verify/")
    assert not _axe(page)
    page.select_option("#verify-task", task)
    page.click("#verify button")
    page.wait_for_function("document.getElementById('verify-status').textContent.startsWith('验证')",
                           timeout=90000)
    assert page.locator("#verify-status").inner_text().startswith("验证通过")
    steps = page.locator("#verify-steps li")
    assert steps.count() >= 10
    assert page.locator("#verify-steps .step-fail").count() == 0
    assert "重新计算抽取结果：通过" in page.locator("#verify-steps").inner_text()
    assert page.errors == []


def test_in_browser_verification_detects_a_tampered_blob(ledger_server, page):
    import json

    url, site = ledger_server
    report = json.loads((site / "ledger/report.json").read_text(encoding="utf-8"))
    task = next(iter(report["tasks"]))
    blobs = sorted((site / "ledger/log/blob/sha256").iterdir())
    originals = {b: b.read_bytes() for b in blobs}
    try:
        for b in blobs:  # every blob altered: the commitment's pool list no longer matches its hash
            b.write_bytes(originals[b] + b" ")
        page.goto(url + "verify/")
        page.select_option("#verify-task", task)
        page.click("#verify button")
        page.wait_for_function("document.getElementById('verify-status').textContent.startsWith('验证')",
                               timeout=90000)
        assert page.locator("#verify-status").inner_text().startswith("验证未通过")
        assert page.locator("#verify-steps .step-fail").count() == 1
    finally:
        for b, data in originals.items():
            b.write_bytes(data)


def test_in_browser_verification_of_a_draw_not_yet_locked_says_it_is_incomplete(pending_server, page):
    url, _site = pending_server
    page.goto(url + "verify/")
    page.select_option("#verify-task", "2026-07")
    page.click("#verify button")
    page.wait_for_function("document.getElementById('verify-status').textContent.startsWith('暂不能')",
                           timeout=90000)
    status = page.locator("#verify-status")
    assert status.inner_text().startswith("暂不能完整验证：已核对的各项均通过，但本任务尚未锁定")
    assert status.get_attribute("class") == "warn"
    assert page.locator("#verify-steps .step-fail").count() == 0
    assert "尚未锁定结果" in page.locator("#verify-steps").inner_text()
    assert not _axe(page)
    assert page.errors == []
