"""The live page in Debian's headless Chromium, driven by Playwright for Python (its own browser download is never
used: the launch names /usr/bin/chromium). The page draws a chart per value with the gaps marked, and a reading
posted while it is open appears on it without a reload. Chromium is installed by scripts/setup.sh; without it this
test fails."""
import os
import shutil
from pathlib import Path

import pytest

from espat.collect.app import Settings
from espat.collect.server import serve_in_thread

from collect_http import post, reading

pytestmark = pytest.mark.slow     # tests/README.md: the tiers

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@pytest.fixture
def browser_page(tmp_path):
    from playwright.sync_api import sync_playwright
    assert shutil.which(CHROMIUM) or Path(CHROMIUM).exists(), "chromium missing: scripts/setup.sh installs it"
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(str(tmp_path / "profile"), executable_path=CHROMIUM,
                                                       headless=True, args=FLAGS,
                                                       viewport={"width": 1100, "height": 760})
        try:
            yield context.new_page()
        finally:
            context.close()


def painted_pixels(page, selector: str) -> int:
    """How many pixels of the canvas are not blank: the chart was drawn."""
    return page.eval_on_selector(selector, """c => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }""")


def test_the_live_page_charts_readings_marks_gaps_and_updates_without_reload(tmp_path, browser_page):
    page = browser_page
    with serve_in_thread(Settings(f"sqlite:///{tmp_path / 'c.sqlite3'}", rate=1000, burst=1000)) as running:
        temps = [21.0, 21.4, 21.9, 22.3, 22.0, 21.6, 21.8, 22.4]
        seqs = [1, 2, 3, 4, 7, 8, 9, 10]        # 5 and 6 never arrived
        for seq, t in zip(seqs, temps):
            assert post(running.url, reading(seq=seq, values={"a0_c": t, "chip_c": 30 + t / 10,
                                                              "vcc_mv": 4980 - seq})).status == 201
        assert post(running.url, reading(device="cellar-uno-2", seq=1, values={"a0_c": 12.5})).status == 201
        page.goto(running.url + "/")
        card = '.device[data-device="greenhouse-uno-1"]'
        page.wait_for_selector(f'{card}[data-last-seq="10"]', timeout=30_000)
        page.wait_for_selector('#status[data-state="live"]', timeout=30_000)
        assert page.get_attribute(card, "data-gaps") == "1"
        assert "missing: seq 5–6" in page.inner_text(f"{card} .gaps")
        assert page.get_attribute(card, "data-missing") == "2"
        chart = f'{card} canvas[data-value="a0_c"]'
        assert page.get_attribute(chart, "data-points") == "8"
        assert painted_pixels(page, chart) > 500
        page.evaluate("window.__sameDocument = true")
        # a reading posted while the page is open, after one more that never arrives (seq 11)
        assert post(running.url, reading(seq=12, values={"a0_c": 23.1, "chip_c": 32.0, "vcc_mv": 4969})).status == 201
        page.wait_for_selector(f'{card}[data-last-seq="12"]', timeout=30_000)
        assert page.get_attribute(chart, "data-points") == "9"
        assert page.get_attribute(card, "data-gaps") == "2" and page.get_attribute(card, "data-missing") == "3"
        assert "23.1" in page.inner_text(f"{card} .values")
        assert page.evaluate("window.__sameDocument === true")       # no reload happened
        shot = Path(os.environ.get("ESPAT_SCREENSHOT_DIR", tmp_path)) / "collect-live-page.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
