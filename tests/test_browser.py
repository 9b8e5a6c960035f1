"""End-to-end: the real page in headless Chromium (Debian's, driven by Playwright) against a real
`cliplens serve` process on a free loopback port, with the toy models so every answer is real.

Needs /usr/bin/chromium (scripts/install_browser.sh installs it); skipped with that hint otherwise.
"""
from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from cliplens.assets import fixtures_dir
from server_helpers import make_root

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path(os.environ.get("CLIPLENS_SHOTS_DIR", "")) if os.environ.get("CLIPLENS_SHOTS_DIR") else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`cliplens serve` as a real process (uvicorn) on a free loopback port; yields its base URL."""
    tmp = tmp_path_factory.mktemp("e2e")
    world = make_root(tmp, n=12)
    port = free_port()
    cmd = [sys.executable, "-m", "cliplens", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--model", "toyclip", "--device", "cpu", "--root", str(world["root"])]
    extra = getattr(server, "extra_args", None)
    if extra:
        cmd += extra(tmp)
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    log = open(tmp / "server.log", "wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while True:
        try:
            if httpx.get(base + "/api/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail("server did not start:\n" + (tmp / "server.log").read_text()[-3000:])
        time.sleep(0.3)
    yield {"url": base, "world": world, "tmp": tmp}
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed: run scripts/install_browser.sh")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    ctx = browser.new_context(viewport={"width": 1200, "height": 900})
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(server["url"] + "/")
    pg.wait_for_selector("body[data-ready='1']", timeout=30_000)
    yield pg
    ctx.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def assert_not_blank(png: bytes, name: str, min_std: float = 8.0) -> Image.Image:
    """Decode a screenshot and check it shows something (pixel variance, several distinct colours)."""
    img = Image.open(io.BytesIO(png)).convert("RGB")
    arr = np.asarray(img, dtype=np.float32)
    assert arr.std() > min_std, f"{name}: screenshot looks blank (std {arr.std():.2f})"
    assert len(np.unique(arr.reshape(-1, 3)[::7], axis=0)) > 20, f"{name}: too few colours"
    if SHOTS:
        SHOTS.mkdir(parents=True, exist_ok=True)
        img.save(SHOTS / f"{name}.png")
    return img


def fixture_image(name_idx: int = 2) -> Path:
    return sorted(fixtures_dir(64).glob("*.png"))[name_idx]


# ---------------------------------------------------------------- tests
def test_page_loads_with_every_panel(page, server):
    assert page.title() == "cliplens"
    assert page.locator("#model option").first.inner_text() == "toyclip"
    for tab in ("interrogate", "compose", "search", "judge", "guide"):
        page.click(f"#tabs button[data-tab='{tab}']")
        assert page.locator(f"#panel-{tab}").is_visible()


def test_compose_shows_live_token_counts(page):
    page.click("#tabs button[data-tab='compose']")
    page.fill("#compose-input", '{"subject": "a large red circle", "style": "pixel art", "background": "black"}')
    page.wait_for_function("document.querySelector('#compose-count').textContent.includes('CLIP tokens')", timeout=20_000)
    first = page.inner_text("#compose-count")
    # type far past CLIP's window: the count goes red and names the cut-off text
    page.fill("#compose-input", ", ".join(["a small blue triangle at the top"] * 14))
    page.wait_for_function("document.querySelector('#compose-count').classList.contains('over')", timeout=20_000)
    assert "past the limit" in page.inner_text("#compose-count") and first != page.inner_text("#compose-count")
    assert_not_blank(page.locator("#panel-compose").screenshot(), "compose")


def test_judge_classify_uploaded_image(page):
    page.click("#tabs button[data-tab='judge']")
    page.set_input_files("#judge-file", str(fixture_image(2)))  # orange triangle, blue cross, red ring; pixel art
    page.fill("#judge-prompt", "pixel art\noutlined\nwatercolor")
    page.click("#judge-classify")
    page.wait_for_selector("#judge-bars .bar, #judge-error:not(:empty)", timeout=30_000)
    assert page.inner_text("#judge-error") == ""
    assert "pixel art" in page.inner_text("#judge-score")
    assert_not_blank(page.locator("#panel-judge").screenshot(), "judge")


def test_guide_image_evolves(page):
    page.click("#tabs button[data-tab='guide']")
    page.fill("#guide-prompt", "a large red circle")
    page.fill("#guide-size", "64")
    page.fill("#guide-steps", "16")
    page.click("#guide-run")
    page.wait_for_selector("#guide-image:not([hidden])", timeout=60_000)
    page.wait_for_function("document.querySelector('#guide-status').dataset.final === 'done'", timeout=120_000)
    assert int(page.get_attribute("#guide-image", "data-step")) == 16
    page.wait_for_function("document.querySelector('#guide-image').complete && document.querySelector('#guide-image').naturalWidth == 64")
    assert_not_blank(page.locator("#guide-image").screenshot(), "guide-image", min_std=4.0)
