"""The studio in a real browser (Debian's Chromium driven by Playwright), used as a person would.

Skips, saying why, where Chromium or Playwright is absent. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .conftest import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def page(studio_url):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(studio_url)
        page.get_by_role("tab", name="Image").wait_for(timeout=30_000)
        ARTIFACTS.mkdir(exist_ok=True)
        yield page
        browser.close()


def test_image_tab_generates_a_gallery_and_a_png_download(page):
    page.get_by_role("tab", name="Image").click()
    page.get_by_role("button", name="Generate", exact=True).click()
    gallery_images = page.locator(".gallery-container img, [data-testid='gallery'] img, .grid-wrap img")
    gallery_images.first.wait_for(timeout=30_000)
    assert gallery_images.count() >= 1
    link = page.locator("a[download$='.png']").first
    link.wait_for(timeout=30_000)
    assert link.get_attribute("href")
    page.screenshot(path=str(ARTIFACTS / "image-tab.png"), full_page=True)
