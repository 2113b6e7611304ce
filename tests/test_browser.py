"""The pages in a real browser: headless Chromium (Debian ``chromium`` + ``chromium-driver``) driven by Selenium,
against the real server (gunicorn on a loopback port) on the review graph.

Open the endpoint's URL (/sparql) and get the query editor, type ``exo:has`` and see our properties offered
with their labels, run an example and follow a link of its result table, which stays on this server; pick an
example, run it and see its rows (with YASGUI, and as the plain form that replaces it when YASGUI is not
installed); open an entity page and follow a link to another; open the overview and see its chart. Screenshots are saved under tests/artifacts/browser/ (git-ignored).

Without Chromium or chromedriver these tests are skipped, unless ``EXOKG_REQUIRE_BROWSER=1`` (as in CI),
where a missing browser, driver or YASGUI build is a failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from exokg.server.query_page import DEFAULT_YASGUI_DIR, EXAMPLES_DIR, YASGUI_FILES, read_example
from exokg.server.testing import running_endpoint

REQUIRED = os.environ.get("EXOKG_REQUIRE_BROWSER") == "1"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "browser"
CHROMIUM = os.environ.get("EXOKG_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = os.environ.get("EXOKG_CHROMEDRIVER") or shutil.which("chromedriver") or "/usr/bin/chromedriver"
# Headless, and nothing that reaches beyond the loopback server: no sync, updates or background fetches.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,1000")
WAIT_SECONDS = 60  # a bound on waiting for the page, not a timing assertion

EXAMPLE = read_example(EXAMPLES_DIR / "002-mirnas-promoting-tmz-resistance.ttl")  # 4 rows, miR-151a among them


def _unavailable(reason: str):
    if REQUIRED:
        pytest.fail(f"{reason} (EXOKG_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def webdriver_module():
    if not (Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()):
        _unavailable(f"no Chromium ({CHROMIUM}) or chromedriver ({CHROMEDRIVER}): apt-get install chromium chromium-driver")
    try:
        from selenium import webdriver
    except ImportError:
        _unavailable("selenium is not installed (pip install -e '.[test]')")
    return webdriver


@pytest.fixture(scope="module")
def browser(webdriver_module, tmp_path_factory):
    from selenium.webdriver.chrome.service import Service

    options = webdriver_module.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    driver = webdriver_module.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(WAIT_SECONDS)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def server(build_dir, tmp_path_factory):
    """The server as deployed (YASGUI from node_modules when npm installed it); yields its root URL."""
    log = tmp_path_factory.mktemp("browser-server") / "server.log"
    with running_endpoint(build_dir, log, workers=1, threads=4) as sparql:
        yield sparql.removesuffix("/sparql")


@pytest.fixture(scope="module")
def plain_server(build_dir, tmp_path_factory):
    """The server without the YASGUI files: its query page is the plain form."""
    log = tmp_path_factory.mktemp("browser-plain-server") / "server.log"
    settings = {"EXOKG_YASGUI_DIR": str(tmp_path_factory.mktemp("no-yasgui"))}
    with running_endpoint(build_dir, log, workers=1, threads=4, settings=settings) as sparql:
        yield sparql.removesuffix("/sparql")


def _wait(browser, condition, what: str):
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(browser, WAIT_SECONDS).until(condition)
    except TimeoutException:
        browser.save_screenshot(str(ARTIFACTS / "failure.png"))
        raise AssertionError(f"{what} did not happen on {browser.current_url}; screenshot in {ARTIFACTS / 'failure.png'}")


def _css(browser, selector: str):
    from selenium.webdriver.common.by import By

    return browser.find_elements(By.CSS_SELECTOR, selector)


def test_query_page_runs_an_example_with_yasgui(browser, server):
    if not all((DEFAULT_YASGUI_DIR / name).is_file() for name in YASGUI_FILES[:2]):
        _unavailable(f"YASGUI is not installed in {DEFAULT_YASGUI_DIR} (make install runs npm ci)")
    browser.get(f"{server}/query")
    _wait(browser, lambda b: _css(b, "#yasgui .CodeMirror"), "the YASGUI editor appearing")
    _css(browser, f'#examples button[data-name="{EXAMPLE.name}"]')[0].click()
    rows = _wait(browser, lambda b: [r for r in _css(b, ".tabPanel.active .yasr table.dataTable tbody tr")
                                     if "miR-" in r.text] or False, "result rows appearing")
    browser.save_screenshot(str(ARTIFACTS / "query-yasgui.png"))
    labels = [r.text for r in rows]
    assert len(rows) == 4, labels
    assert any("miR-151a" in text for text in labels)
    tab_names = [t.text.splitlines()[0] for t in _css(browser, ".yasgui .tabsList .tab.active")]
    assert tab_names == [EXAMPLE.label]
    # Everything the page loaded came from this server (no CDN), and no completer calls out.
    loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert loaded and all(url.startswith(server + "/") for url in loaded), loaded
    completers = browser.execute_script("return window.exokgQuery.yasgui.getTab().getYasqe().config.autocompleters")
    assert {"exo-prefixes", "exo-property", "exo-class"} <= set(completers)
    assert not {"prefixes", "property", "class"} & set(completers)  # LOV and the bundled prefix list: not this server


def _require_yasgui():
    if not all((DEFAULT_YASGUI_DIR / name).is_file() for name in YASGUI_FILES[:2]):
        _unavailable(f"YASGUI is not installed in {DEFAULT_YASGUI_DIR} (make install runs npm ci)")


def test_endpoint_url_opens_the_editor_and_links_the_description(browser, server):
    _require_yasgui()
    browser.get(f"{server}/sparql")
    _wait(browser, lambda b: _css(b, "#yasgui .CodeMirror"), "the YASGUI editor appearing at /sparql")
    browser.save_screenshot(str(ARTIFACTS / "sparql-editor.png"))
    _css(browser, "a#service-description")[0].click()
    _wait(browser, lambda b: b.current_url == f"{server}/sparql/description" and _css(b, "h1"), "the description page")
    assert "SPARQL endpoint" in _css(browser, "h1")[0].text


def test_editor_completes_our_properties_with_labels(browser, server):
    _require_yasgui()
    browser.get(f"{server}/sparql")
    _wait(browser, lambda b: _css(b, "#yasgui .CodeMirror"), "the YASGUI editor appearing")
    browser.execute_script("""const yasqe = window.exokgQuery.yasgui.getTab().getYasqe();
        yasqe.setValue("SELECT * WHERE {\\n  ?finding "); yasqe.focus();
        yasqe.getDoc().setCursor(yasqe.getDoc().lineCount() - 1, 1000);""")
    _css(browser, "#yasgui .CodeMirror textarea")[0].send_keys("exo:has")
    hints = _wait(browser, lambda b: [h.text for h in _css(b, ".CodeMirror-hints li")] or False, "completions appearing")
    browser.save_screenshot(str(ARTIFACTS / "sparql-completion.png"))
    assert "exo:hasCargo \u2014 has cargo" in hints, hints
    assert all(h.startswith("exo:has") for h in hints), hints
    query = browser.execute_script("return window.exokgQuery.yasgui.getTab().getYasqe().getValue()")
    assert "PREFIX exo: <https://w3id.org/exokg/vocab/>" in query  # the prefix completer declared it
    # And classes after `a`.
    browser.execute_script("""const yasqe = window.exokgQuery.yasgui.getTab().getYasqe();
        yasqe.setValue("PREFIX exo: <https://w3id.org/exokg/vocab/>\\nSELECT * WHERE {\\n  ?finding a "); yasqe.focus();
        yasqe.getDoc().setCursor(yasqe.getDoc().lineCount() - 1, 1000);""")
    _css(browser, "#yasgui .CodeMirror textarea")[0].send_keys("exo:TableF")
    hints = _wait(browser, lambda b: [h.text for h in _css(b, ".CodeMirror-hints li")] or False, "class completions")
    assert hints == ["exo:TableFinding \u2014 table finding"], hints


def test_result_links_stay_on_this_server(browser, server):
    _require_yasgui()
    browser.get(f"{server}/sparql")
    _wait(browser, lambda b: _css(b, "#yasgui .CodeMirror"), "the YASGUI editor appearing")
    _css(browser, f'#examples button[data-name="{EXAMPLE.name}"]')[0].click()
    links = _wait(browser, lambda b: _css(b, ".tabPanel.active .yasr table.dataTable tbody a.iri"), "result links")
    hrefs = [a.get_attribute("href") for a in links]
    assert not [h for h in hrefs if h.startswith("https://w3id.org/exokg/")], hrefs
    own = [a for a in links if a.get_attribute("href").startswith(f"{server}/finding/")]
    assert own, hrefs
    target = own[0].get_attribute("href")
    own[0].click()
    browser.switch_to.window(browser.window_handles[-1])  # YASR may open IRIs in a new window
    _wait(browser, lambda b: b.current_url == target and _css(b, "h1"), "the linked entity page")
    assert browser.current_url.startswith(server + "/")
    browser.save_screenshot(str(ARTIFACTS / "sparql-result-link.png"))
    for handle in browser.window_handles[1:]:
        browser.switch_to.window(handle)
        browser.close()
    browser.switch_to.window(browser.window_handles[0])


def test_plain_query_form_runs_an_example(browser, plain_server):
    browser.get(f"{plain_server}/query")
    assert not _css(browser, "#yasgui")
    _css(browser, f'#examples button[data-name="{EXAMPLE.name}"]')[0].click()
    rows = _wait(browser, lambda b: _css(b, "#results table tbody tr"), "result rows appearing")
    browser.save_screenshot(str(ARTIFACTS / "query-plain-form.png"))
    assert len(rows) == 4
    assert any("miR-151a" in r.text for r in rows)
    assert _css(browser, "#results caption")[0].text == "4 rows"


def test_entity_page_links_to_another(browser, server):
    browser.get(f"{server}/finding/CHEMO-006")
    _wait(browser, lambda b: _css(b, "h1"), "the finding page")
    assert "CHEMO-006" in browser.title + _css(browser, "h1")[0].text
    browser.save_screenshot(str(ARTIFACTS / "entity-finding.png"))
    links = _css(browser, 'main a[href$="/molecule/miR-151a"]')
    assert links, "the finding page does not link its cargo"
    links[0].click()
    _wait(browser, lambda b: b.current_url.endswith("/molecule/miR-151a") and _css(b, "h1"), "the cargo page")
    assert "miR-151a" in _css(browser, "h1")[0].text
    browser.save_screenshot(str(ARTIFACTS / "entity-cargo.png"))
    back = _css(browser, 'main a[href$="/finding/CHEMO-006"]')
    assert back, "the cargo page does not link back to its finding"


def test_overview_shows_the_chart(browser, server):
    browser.get(f"{server}/overview")
    charts = _wait(browser, lambda b: [c for c in _css(b, "svg") if c.size["width"] > 100 and c.size["height"] > 50]
                   or False, "an SVG chart")
    browser.save_screenshot(str(ARTIFACTS / "overview.png"))
    bars = charts[0].find_elements("css selector", "rect")
    assert bars, "the chart has no bars"
    assert any(t.text == "chemoresistance" or "chemoresistance" in t.text
               for c in charts for t in c.find_elements("css selector", "text"))
