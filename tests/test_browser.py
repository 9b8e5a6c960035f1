"""End-to-end: the real page in headless Chromium (Debian's, driven by Playwright) against a real
`cliplens serve` process on a free loopback port, with the toy models so every answer is real.

Needs /usr/bin/chromium (scripts/install_browser.sh installs it); skipped with that hint otherwise.
"""
from __future__ import annotations

import io
import json
import os
import shutil
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
    gallery = tmp / "gallery"
    gallery.mkdir()
    for f in sorted(fixtures_dir(64).glob("*.png"))[:60]:
        shutil.copy(f, gallery / f.name)
    from cliplens.search import open_index

    with open_index(tmp / "gallery.idx", model="toyclip", create=True) as idx:
        idx.add([gallery], progress=False)
    port = free_port()
    cmd = [sys.executable, "-m", "cliplens", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--model", "toyclip", "--device", "cpu", "--root", str(world["root"]), "--index", str(tmp / "gallery.idx")]
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
        msg = "Debian chromium is not installed: run scripts/install_browser.sh (make test does)"
        if os.environ.get("CI"):
            pytest.fail(msg)  # CI installs it first: a missing browser there is a broken set-up, not a skip
        pytest.skip(msg)
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


def labels() -> dict[str, dict]:
    return {r["file"]: r for r in map(json.loads, (fixtures_dir(64) / "labels.jsonl").read_text().splitlines())}


# ---------------------------------------------------------------- tests
def test_page_loads_with_every_panel(page, server):
    assert page.title() == "cliplens"
    assert page.locator("#model option").first.inner_text() == "toyclip"
    for tab in ("interrogate", "compose", "search", "judge", "guide"):
        page.click(f"#tabs button[data-tab='{tab}']")
        assert page.locator(f"#panel-{tab}").is_visible()
        assert "disabled" not in (page.get_attribute(f"#panel-{tab}", "class") or ""), tab


def test_interrogate_uploaded_image(page):
    img = fixture_image(2)  # small orange triangle, blue cross, red ring; black background, pixel art
    page.set_input_files("#interrogate-file", str(img))  # the drop zone's file input
    page.wait_for_function("document.querySelector('#interrogate-output').dataset.done === '1'", timeout=60_000)
    prompt = page.input_value("#interrogate-output")
    assert "pixel" in prompt and "black background" in prompt, prompt
    assert page.locator("#interrogate-parts table tr").count() > 1
    # switch mode: the page re-asks the server
    page.evaluate("document.querySelector('#interrogate-output').dataset.done = ''")
    page.select_option("#interrogate-mode", "style")
    page.wait_for_function("document.querySelector('#interrogate-output').dataset.done === '1'", timeout=60_000)
    style = page.input_value("#interrogate-output")
    assert style and style != prompt and "triangle" not in style
    assert page.inner_text("#interrogate-error") == ""
    assert_not_blank(page.locator("#panel-interrogate").screenshot(), "interrogate")


def test_interrogate_copy_button(page, browser):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.set_input_files("#interrogate-file", str(fixture_image(3)))
    page.wait_for_function("document.querySelector('#interrogate-output').dataset.done === '1'", timeout=60_000)
    page.click("#interrogate-copy")
    page.wait_for_function("document.querySelector('#interrogate-copy').textContent === 'Copied'")
    assert page.evaluate("navigator.clipboard.readText()") == page.input_value("#interrogate-output")


def test_search_text_shows_thumbnails(page):
    target = fixture_image(7)
    cap = labels()[target.name]["caption"]
    page.click("#tabs button[data-tab='search']")
    page.fill("#search-query", cap)
    page.click("#search-run")
    page.wait_for_selector("#search-grid .thumb img", timeout=30_000)
    page.wait_for_function("[...document.querySelectorAll('#search-grid img')].every(i => i.complete && i.naturalWidth > 0)",
                           timeout=30_000)
    titles = page.eval_on_selector_all("#search-grid .thumb", "els => els.map(e => e.title)")
    assert target.name in [Path(t).name for t in titles[:5]], titles[:5]
    assert "hits in" in page.inner_text("#search-info")
    assert_not_blank(page.locator("#panel-search").screenshot(), "search")


def test_search_by_image_upload(page):
    target = fixture_image(9)
    page.click("#tabs button[data-tab='search']")
    page.set_input_files("#search-file", str(target))
    page.wait_for_function(f"document.querySelector('#search-grid .thumb') && "
                           f"document.querySelector('#search-grid .thumb').title.endsWith('{target.name}')", timeout=30_000)


def test_compose_shows_live_token_counts(page):
    page.click("#tabs button[data-tab='compose']")
    page.fill("#compose-input", '{"subject": "a large red circle", "style": "pixel art", "background": "black"}')
    page.wait_for_function("document.querySelector('#compose-count').textContent.includes('CLIP tokens')", timeout=20_000)
    first = page.inner_text("#compose-count")
    page.wait_for_selector("#compose-output .enc[data-encoder='t5xxl']", timeout=20_000)
    clip_l = page.inner_text("#compose-output .enc[data-encoder='clip_l'] pre")
    t5 = page.inner_text("#compose-output .enc[data-encoder='t5xxl'] pre")
    assert "red circle" in clip_l and "{" not in clip_l and t5.endswith(".") and t5[0].isupper()
    assert "/ 75" in page.inner_text("#compose-output .enc[data-encoder='clip_l'] h3")
    page.select_option("#compose-target", "sdxl")
    page.wait_for_selector("#compose-output .enc[data-encoder='text_g']", timeout=20_000)
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


def test_judge_feedback_bars(page):
    page.click("#tabs button[data-tab='judge']")
    page.set_input_files("#judge-file", str(fixture_image(2)))
    page.fill("#judge-prompt", "pixel art, watercolor painting")
    page.click("#judge-run")
    page.wait_for_selector("#judge-bars .bar, #judge-error:not(:empty)", timeout=30_000)
    assert page.inner_text("#judge-error") == ""
    assert "CLIPScore" in page.inner_text("#judge-score")
    labels_shown = page.eval_on_selector_all("#judge-bars .bar", "els => els.map(e => e.dataset.label)")
    assert labels_shown == ["pixel art", "watercolor painting (absent)"], labels_shown


def test_guide_image_evolves(page):
    page.click("#tabs button[data-tab='guide']")
    page.fill("#guide-prompt", "a large red circle")
    page.fill("#guide-size", "64")
    page.fill("#guide-steps", "24")
    page.evaluate("""() => { window.__steps = [];
      new MutationObserver(() => window.__steps.push(+document.querySelector('#guide-image').dataset.step))
        .observe(document.querySelector('#guide-image'), {attributes: true, attributeFilter: ['data-step']}); }""")
    page.click("#guide-run")
    page.wait_for_selector("#guide-image:not([hidden])", timeout=60_000)
    page.wait_for_function("document.querySelector('#guide-status').dataset.final === 'done'", timeout=120_000)
    assert int(page.get_attribute("#guide-image", "data-step")) == 24
    steps = page.evaluate("window.__steps")
    assert len(set(steps)) >= 3 and steps == sorted(steps), steps  # the picture was shown growing, step by step
    page.wait_for_function("document.querySelector('#guide-image').complete && document.querySelector('#guide-image').naturalWidth == 64")
    assert_not_blank(page.locator("#guide-image").screenshot(), "guide-image", min_std=4.0)
