"""Both reports opened from file:// in a real headless Chromium.

Checks: no console errors, every image decodes, and a class folder named
``<img src=x onerror=alert(1)>`` shows as text and runs nothing. Full-page
screenshots go to the test's tmp dir and to ``$TL_ARTIFACTS`` when set.
Skips (with the reason) where Chromium, chromedriver or selenium are missing;
CI installs them (Debian packages ``chromium chromium-driver``, pip ``selenium``).
"""

from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path

import pytest

from advisor.report import write_advice_report

from tuner.report import write_sweep_report
from tests.advisor.report.conftest import HOSTILE

CHROME_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1280,900")
# Runs before any page script; records alert() calls instead of blocking on a dialog.
ALERT_TRAP = "window.__alerts = []; window.alert = function (m) { window.__alerts.push(String(m)); };"


def _which(*names: str) -> str | None:
    return next((p for p in map(shutil.which, names) if p), None)


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    webdriver = pytest.importorskip("selenium.webdriver",
                                    reason="selenium is not installed (pip install selenium)")
    chrome = _which("chromium", "chromium-browser", "google-chrome")
    chromedriver = _which("chromedriver")
    if chrome is None or chromedriver is None:
        pytest.skip("headless Chromium not available: install the Debian packages "
                    "'chromium' and 'chromium-driver' (found chromium="
                    f"{chrome}, chromedriver={chromedriver})")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chrome
    for flag in CHROME_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chrome-profile')}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(chromedriver), options=opts)
    d.set_page_load_timeout(60)
    d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": ALERT_TRAP})
    yield d
    d.quit()


def _open(driver, html: Path) -> list[dict]:
    """Load ``html``; returns the console entries it logged."""
    driver.get_log("browser")  # drop entries of earlier pages
    driver.get(html.resolve().as_uri())
    driver.execute_script("return document.readyState")
    return driver.get_log("browser")


def _screenshot(driver, out: Path) -> Path:
    m = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = m["cssContentSize"]
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
    out.write_bytes(base64.b64decode(shot["data"]))
    if os.environ.get("TL_ARTIFACTS"):
        dest = Path(os.environ["TL_ARTIFACTS"]) / "report-screenshots"
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy(out, dest / out.name)
    return out


def _image_state(driver) -> dict:
    return driver.execute_script("""
        const imgs = [...document.images];
        return {n: imgs.length,
                broken: imgs.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.alt),
                external: imgs.filter(i => !i.src.startsWith('data:')).map(i => i.src)};""")


def _injection_state(driver) -> dict:
    return driver.execute_script("""
        return {alerts: window.__alerts,
                handlers: document.querySelectorAll('[onerror], [onload], script').length,
                stray: document.querySelectorAll('img[src="x"]').length,
                text: document.body.innerText};""")


def _check_report(driver, html: Path, shot: Path) -> dict:
    logs = _open(driver, html)
    severe = [e for e in logs if e.get("level") == "SEVERE"]
    assert not severe, f"console errors in {html.name}: {severe}"
    images = _image_state(driver)
    assert images["n"] > 0 and not images["broken"] and not images["external"], images
    inj = _injection_state(driver)
    assert inj["alerts"] == [] and inj["handlers"] == 0 and inj["stray"] == 0, inj
    assert HOSTILE in inj["text"]
    assert _screenshot(driver, shot).stat().st_size > 10_000
    return images


def test_advice_report_in_chromium(driver, advice_result, tmp_path):
    paths = write_advice_report(advice_result, tmp_path / "advice")
    images = _check_report(driver, paths.html, tmp_path / "advice-report.png")
    # figures + sample thumbnails + finding thumbnails all reached the page
    assert images["n"] >= 3 + len(advice_result.profile.classes)


def test_sweep_report_in_chromium(driver, sweep_result, tmp_path):
    paths = write_sweep_report(sweep_result, tmp_path / "sweep")
    _check_report(driver, paths.html, tmp_path / "sweep-report.png")


def test_the_checks_catch_an_injected_element(driver, tmp_path):
    """Control: the same checks on a page that does not escape the class name fail."""
    page = tmp_path / "unescaped.html"
    page.write_text(f"<!DOCTYPE html><html><body><p>{HOSTILE}</p></body></html>", encoding="utf-8")
    _open(driver, page)
    inj = _injection_state(driver)
    assert inj["handlers"] == 1 and inj["stray"] == 1
    assert driver.execute_script("return window.__alerts") == ["1"]
    assert HOSTILE not in inj["text"]
