"""`kedro app --run demo` in headless Chromium (Debian's, through Playwright): upload, type names,
read the scores off the page, see an attention picture; nothing is requested outside 127.0.0.1."""

import os
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest

from pvlr_kedro.datasets import load_run_model
from pvlr_kedro.pvlr import Predictor
from tests.test_lineage_in_browser import free_port

playwright = pytest.importorskip("playwright.sync_api", reason="the test extra installs it")
CHROMIUM = shutil.which("chromium")
NAMES = ["dog", "zebra", "person"]


@pytest.fixture
def page_address(demo_project):
    """The page of the demo run, started as a person starts it, on a free port."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "kedro", "app", "--run", "demo", "--port", str(port)],
        cwd=demo_project,
        env={**os.environ, "DO_NOT_TRACK": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    address = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(address, timeout=1)
                break
            except OSError:
                assert server.poll() is None, server.stdout.read()
                time.sleep(0.5)
        yield address
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "run `demo`, version " in output and address in output


@pytest.mark.skipif(CHROMIUM is None, reason="scripts/test.sh installs Debian's chromium")
def test_the_page_scores_as_the_predictor_and_requests_nothing_outside(
    page_address, demo_project, tmp_path
):
    image = sorted((demo_project / "data/01_raw/demo/test").glob("*.jpg"))[5]
    text = tmp_path / "letter.jpg"
    text.write_text("Dear reader, this is not a picture.")
    outside: list[str] = []

    def only_loopback(route):
        if urllib.parse.urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.route("**/*", only_loopback)
            page.goto(page_address)
            page.locator("#images input[type=file]").set_input_files([str(text), str(image)])
            for name in (text.name, image.name):  # both uploads listed
                page.locator(f'#images [aria-label="{name}"]').wait_for(timeout=120_000)
            page.locator("#names textarea").fill(", ".join(NAMES))
            page.click("#score")
            rows = page.locator("#scores tr.class-score")
            rows.first.wait_for(timeout=60_000)
            shown = {
                rows.nth(i).get_attribute("data-class"): float(
                    rows.nth(i).get_attribute("data-score")
                )
                for i in range(rows.count())
            }
            said = page.locator("#message").inner_text()

            page.locator("#attention-class input").click()
            page.get_by_role("option", name="zebra").click()
            page.click("#show-attention")
            overlay = page.locator("#overlay img")
            overlay.wait_for(timeout=60_000)
            page.wait_for_function(
                "() => { const i = document.querySelector('#overlay img');"
                " return i && i.complete && i.naturalWidth > 0; }",
                timeout=60_000,
            )
            width = overlay.evaluate("image => image.naturalWidth")
        finally:
            browser.close()

    bundle = load_run_model(str(demo_project / "data/06_models"), "demo").model
    expected = Predictor.from_bundle(bundle)([image], NAMES).iloc[0]
    assert set(shown) == set(NAMES)
    for name in NAMES:
        assert shown[name] == pytest.approx(float(expected[name]), abs=1e-5)
    assert "Scored 1 image(s)" in said and "Not an image I can read" in said
    assert "letter.jpg" in said
    assert width > 100
    assert outside == []
