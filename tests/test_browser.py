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
SCREENSHOTS = ROOT / "docs" / "screenshots"  # one per tab, for the README

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def page(full_studio_url):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(full_studio_url)
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


def screenshot(page, tab: str) -> None:
    path = ARTIFACTS / f"{tab}-tab.png"
    page.screenshot(path=str(path), full_page=True)
    shutil.copyfile(path, SCREENSHOTS / f"{tab}.png")


def open_tab(page, name: str):
    """Select a tab; returns its panel (only the selected one is visible)."""
    page.get_by_role("tab", name=name).click()
    panel = page.get_by_role("tabpanel").filter(visible=True).first
    panel.wait_for(timeout=30_000)
    return panel


def download(page, link, folder: Path) -> Path:
    with page.expect_download(timeout=30_000) as info:
        link.click()
    path = folder / info.value.suggested_filename
    info.value.save_as(path)
    return path


def test_text_tab_writes_samples_and_a_txt_download(page, tmp_path):
    panel = open_tab(page, "Text")
    panel.get_by_label("Beginning (optional)").fill("a dog")
    panel.get_by_role("button", name="Generate", exact=True).click()
    first_sample = panel.get_by_role("row").filter(has_text="a dog").first  # each sample continues the beginning
    first_sample.wait_for(timeout=60_000)
    assert "AI-generated" in panel.get_by_role("row").first.inner_text()  # the header says what the samples are
    text = download(page, panel.locator("a[download$='.txt']").first, tmp_path).read_text(encoding="utf-8")
    assert "a dog" in text and "AI-generated" in text
    screenshot(page, "text")


def test_music_tab_plays_audio_and_offers_a_midi_download(page, tmp_path):
    panel = open_tab(page, "Music")
    panel.get_by_label("Chords (one a bar)").fill("Am F C G")
    panel.get_by_role("button", name="Compose").click()
    audio = panel.locator("audio[src]")
    audio.first.wait_for(state="attached", timeout=60_000)
    assert audio.first.get_attribute("src")
    midi = download(page, panel.locator("a[download$='.mid']").first, tmp_path)
    assert midi.read_bytes().startswith(b"MThd")
    screenshot(page, "music")


def test_music_tab_says_what_is_wrong_with_a_bad_chord(page):
    panel = open_tab(page, "Music")
    panel.get_by_label("Chords (one a bar)").fill("C Hm7 G")
    panel.get_by_role("button", name="Compose").click()
    message = page.get_by_text("cannot read the chord", exact=False).first
    message.wait_for(timeout=60_000)
    assert "Hm7" in message.inner_text()
    page.screenshot(path=str(ARTIFACTS / "music-tab-bad-chord.png"), full_page=True)
    page.reload()  # clear the error from the page for the tests after this one
    page.get_by_role("tab", name="Image").wait_for(timeout=30_000)


def test_provenance_tab_trusts_a_png_just_downloaded_from_the_image_tab(page, tmp_path):
    panel = open_tab(page, "Image")
    panel.get_by_role("button", name="Generate", exact=True).click()
    png = download(page, panel.locator("a[download$='.png']").first, tmp_path)
    assert png.read_bytes().startswith(b"\x89PNG")

    panel = open_tab(page, "Provenance")
    panel.locator("input[type=file]").first.set_input_files(str(png))
    panel.get_by_role("button", name="Verify", exact=True).click()
    verdict = panel.get_by_text("Signed by this studio (or a key it trusts)", exact=False).first  # the trusted headline
    verdict.wait_for(timeout=60_000)
    assert "✅" in verdict.inner_text()
    screenshot(page, "provenance")
