"""The live page in Debian's headless Chromium, driven by Playwright for Python (its own browser download is never
used: the launch names /usr/bin/chromium). The page draws a chart per value with the gaps marked, and a reading
posted while it is open appears on it without a reload. Chromium is installed by scripts/setup.sh; without it this
test fails."""
import json
import os
import shutil
from pathlib import Path

import pytest

from espat.collect.app import Settings
from espat.collect.server import serve_in_thread

from collect_http import post, reading

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
        for seq, t in zip(seqs, temps):      # taken ten seconds apart, sent now (a board emptying its queue)
            assert post(running.url, {**reading(seq=seq, values={"a0_c": t, "chip_c": 30 + t / 10,
                                                                 "vcc_mv": 4980 - seq}),
                                       "age_ms": (12 - seq) * 10_000}).status == 201
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


def test_the_time_axis_draws_a_gap_to_scale_and_places_late_readings_where_they_were_taken(tmp_path, browser_page):
    """x is the time a reading was taken: eleven readings that never arrived leave a band twelve steps wide (it
    used to be one step, the axis being the readings' index); a reading held on the board and sent late sits
    before the one sent on time. Values carry their units, the board's counters are shown, nothing is a 404."""
    page = browser_page
    missing_status = []
    page.on("response", lambda r: missing_status.append(r.url) if r.status >= 400 else None)
    with serve_in_thread(Settings(f"sqlite:///{tmp_path / 'c.sqlite3'}", rate=1000, burst=1000)) as running:
        step = 60_000
        seqs = [1, 2, 3, 4, 5, 17, 18, 19, 20]             # 6..16 never arrived: eleven readings
        for seq in seqs:
            data = reading(seq=seq, values={"a0_c": 20 + seq / 10, "vcc_mv": 4980})
            data["age_ms"] = (20 - seq) * step                  # all sent now, taken a minute apart
            if seq == 20:
                data["diag"] = {"reset_cause": 4, "esp_reboots": 2, "wifi_joins": 3, "link_failures": 17}
            assert post(running.url, data).status == 201
        on_time = reading(device="cellar-uno-2", seq=2, values={"a0_c": 20.0})
        late = {**reading(device="cellar-uno-2", seq=1, values={"a0_c": 10.0}), "age_ms": 2 * step}
        assert post(running.url, on_time).status == 201 and post(running.url, late).status == 201
        page.goto(running.url + "/")
        card = '.device[data-device="greenhouse-uno-1"]'
        page.wait_for_selector(f'{card}[data-last-seq="20"]', timeout=30_000)
        chart = f'{card} canvas[data-value="a0_c"]'
        series = json.loads(page.get_attribute(chart, "data-series"))
        xs = [x for x, _ in series]
        assert [v for _, v in series] == [20 + s / 10 for s in seqs]
        one = (xs[4] - xs[0]) / 4                               # one minute on the axis
        assert one > 10
        for a, b in zip(xs[:4], xs[1:5]):
            assert b - a == pytest.approx(one, rel=0.03)
        (x0, x1), = json.loads(page.get_attribute(chart, "data-bands"))
        assert (x0, x1) == (xs[4], xs[5])
        assert (x1 - x0) / one == pytest.approx(12, rel=0.03)     # the gap is as wide as twelve steps
        cellar = page.get_attribute('.device[data-device="cellar-uno-2"] canvas[data-value="a0_c"]', "data-series")
        assert [v for _, v in sorted(json.loads(cellar))] == [10.0, 20.0]    # the late one first: taken first
        values = page.inner_text(f"{card} .values")
        assert "22 °C" in values and "4980 mV" in values
        assert page.inner_text(f"{card} .chart-label >> nth=0") == "a0_c (°C)"
        assert page.inner_text(f"{card} .diag") == \
            "last reset: brown-out · ESP reboots 2 · Wi-Fi joins 3 · link failures 17"
        favicon = page.request.get(running.url + "/favicon.ico")
        assert favicon.status == 200 and favicon.headers["content-type"].startswith("image/svg+xml")
        assert missing_status == []
        shot = Path(os.environ.get("ESPAT_SCREENSHOT_DIR", tmp_path)) / "collect-live-page-time.png"
        page.screenshot(path=str(shot), full_page=True)
