"""End-to-end: the real page in headless Chromium (Debian's, driven by Playwright) against a real
`cliplens serve` process on a free loopback port, with the toy models so every answer is real.

Every panel is driven at a desktop (1280x800) and a phone (390x844) size, checking what a user
would notice: no sideways scroll, visible bars, a busy indicator with the submit control disabled
while a request runs, Cancel, a newer request superseding an older one, errors replacing results,
no JavaScript error, and no serious/critical axe-core accessibility violation.

Slow requests are made deterministic by a fetch wrapper injected before the page's script
(`window.__delays`): it holds a matching request for N ms and ignores the page's abort signal while
it waits, so a stale answer really arrives late and only the page's own supersede logic can stop it.

Needs /usr/bin/chromium (scripts/install_browser.sh installs it); skipped with that hint otherwise.
Screenshots of each panel at both sizes: `CLIPLENS_SHOTS_DIR=docs/screenshots pytest tests/test_browser.py`.
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
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path(os.environ["CLIPLENS_SHOTS_DIR"]) if os.environ.get("CLIPLENS_SHOTS_DIR") else None
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
TABS = ("interrogate", "batch", "compose", "search", "dedupe", "judge", "rank", "tag", "guide")

DELAY_SCRIPT = """
window.__delays = {};
const __realFetch = window.fetch.bind(window);
window.fetch = async (input, opts = {}) => {
  const url = typeof input === "string" ? input : input.url;
  const key = Object.keys(window.__delays).find((k) => url.includes(k));
  const q = key ? window.__delays[key] : null;
  const ms = Array.isArray(q) ? q.shift() : q;
  if (ms) {
    await new Promise((r) => setTimeout(r, ms));
    const { signal, ...rest } = opts;   // stubborn: the late answer arrives even if the page aborted
    return __realFetch(input, rest);
  }
  return __realFetch(input, opts);
};
"""


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
    files = sorted(fixtures_dir(64).glob("*.png"))[:60]
    for f in files:
        shutil.copy(f, gallery / f.name)
    shutil.copy(files[20], gallery / "copy-of-a-picture.png")  # a sure near-duplicate pair
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
    yield {"url": base, "world": world, "tmp": tmp, "log": tmp / "server.log"}
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


def open_page(browser, server, size: str = "desktop"):
    ctx = browser.new_context(viewport=SIZES[size])
    ctx.add_init_script(DELAY_SCRIPT)
    pg = ctx.new_page()
    pg.errors = []  # type: ignore[attr-defined]
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.goto(server["url"] + "/")
    pg.wait_for_selector("body[data-ready='1']", timeout=30_000)
    return ctx, pg


@pytest.fixture(params=list(SIZES))
def page(request, browser, server):
    """A fresh page at each size (desktop and phone)."""
    ctx, pg = open_page(browser, server, request.param)
    pg.size = request.param  # type: ignore[attr-defined]
    yield pg
    errors = pg.errors
    ctx.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def desk(browser, server):
    """A fresh desktop page (for behaviour that does not depend on the size)."""
    ctx, pg = open_page(browser, server, "desktop")
    pg.size = "desktop"  # type: ignore[attr-defined]
    yield pg
    errors = pg.errors
    ctx.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


# ---------------------------------------------------------------- checks shared by every panel
def tab(page, name: str) -> None:
    page.click(f"#tab-{name}")
    assert page.locator(f"#panel-{name}").is_visible()


def assert_no_sideways_scroll(page, where: str) -> None:
    sw, iw = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert sw <= iw, f"{where} at {page.size}: page scrolls sideways ({sw} > {iw} px)"


def assert_bars_visible(page, sel: str) -> None:
    widths = page.eval_on_selector_all(f"{sel} .bar .fill", "els => els.map(e => e.getBoundingClientRect().width)")
    tracks = page.eval_on_selector_all(f"{sel} .bar .track", "els => els.map(e => e.getBoundingClientRect().width)")
    assert widths and all(w > 0 for w in widths), f"{sel} at {page.size}: bars {widths}"
    assert all(t >= 30 for t in tracks), f"{sel} at {page.size}: bar tracks too narrow {tracks}"


def axe_violations(page, panel: str) -> list[dict]:
    """Serious/critical axe-core violations in the header and one panel (in its current state)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    res = page.evaluate("""async (sel) => {
      const r = await axe.run({include: [[sel], ['header']]}, {resultTypes: ['violations']});
      return r.violations.filter(v => ['serious', 'critical'].includes(v.impact))
        .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
    }""", f"#panel-{panel}")
    return res


def finish(page, panel: str) -> None:
    """After a panel showed its result: fits the screen, accessible, screenshot saved."""
    assert_no_sideways_scroll(page, panel)
    bad = axe_violations(page, panel)
    assert not bad, f"axe at {page.size} on {panel}: {json.dumps(bad, indent=1)}"
    png = page.screenshot(full_page=page.size == "phone")
    assert_not_blank(png, f"{panel}-{page.size}")


def assert_not_blank(png: bytes, name: str, min_std: float = 8.0) -> Image.Image:
    """Decode a screenshot and check it shows something (pixel variance, several distinct colours)."""
    img = Image.open(io.BytesIO(png)).convert("RGB")
    arr = np.asarray(img, dtype=np.float32)
    assert arr.std() > min_std, f"{name}: screenshot looks blank (std {arr.std():.2f})"
    assert len(np.unique(arr.reshape(-1, 3)[::7], axis=0)) > 20, f"{name}: too few colours"
    if SHOTS:
        SHOTS.mkdir(parents=True, exist_ok=True)
        img.save(SHOTS / f"{name}.png", optimize=True)
    return img


def fixture_image(name_idx: int = 2) -> Path:
    return sorted(fixtures_dir(64).glob("*.png"))[name_idx]


def labels() -> dict[str, dict]:
    return {r["file"]: r for r in map(json.loads, (fixtures_dir(64) / "labels.jsonl").read_text().splitlines())}


def not_an_image(tmp: Path) -> Path:
    p = tmp / "broken.png"
    p.write_bytes(b"this is not a picture at all\n")
    return p


# ---------------------------------------------------------------- every panel, both sizes
def test_every_panel_fits_and_is_accessible(page):
    assert page.title() == "cliplens"
    assert page.locator("#model option").first.inner_text() == "toyclip"
    header_h = page.evaluate("document.querySelector('header').getBoundingClientRect().height")
    assert header_h <= 0.15 * SIZES[page.size]["height"], f"header takes {header_h}px"
    for name in TABS:
        tab(page, name)
        assert page.get_attribute(f"#tab-{name}", "aria-selected") == "true"
        assert "disabled" not in (page.get_attribute(f"#panel-{name}", "class") or ""), name
        assert_no_sideways_scroll(page, name)
        bad = axe_violations(page, name)
        assert not bad, f"axe at {page.size} on empty {name}: {json.dumps(bad, indent=1)}"


def test_tabs_follow_the_aria_pattern(desk):
    desk.focus("#tab-interrogate")
    desk.keyboard.press("ArrowRight")
    assert desk.evaluate("document.activeElement.id") == "tab-batch"
    assert desk.get_attribute("#tab-batch", "aria-selected") == "true" and desk.is_visible("#panel-batch")
    assert desk.get_attribute("#tab-interrogate", "tabindex") == "-1"
    desk.keyboard.press("End")
    assert desk.evaluate("document.activeElement.id") == "tab-guide"
    desk.keyboard.press("ArrowRight")  # wraps round
    assert desk.evaluate("document.activeElement.id") == "tab-interrogate"
    assert desk.get_attribute("#panel-guide", "role") == "tabpanel"


def test_defaults_come_from_the_server(desk, server):
    d = httpx.get(server["url"] + "/api/defaults").json()
    assert desk.input_value("#interrogate-mode") == d["interrogate_mode"]
    assert desk.input_value("#compose-target") == d["compose_target"]
    assert int(desk.input_value("#search-top")) == d["search_top_k"]
    assert int(desk.input_value("#guide-steps")) == d["guide_steps"]


def test_a_drop_outside_the_drop_zone_does_not_navigate(desk):
    url = desk.url
    prevented = desk.evaluate("""() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['x'], 'a.png', {type: 'image/png'}));
      const ev = new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true});
      document.querySelector('footer').dispatchEvent(ev);
      return ev.defaultPrevented;
    }""")
    assert prevented and desk.url == url


# ---------------------------------------------------------------- interrogate
def test_interrogate_uploaded_image(page):
    tab(page, "interrogate")
    page.select_option("#interrogate-mode", "fast")
    page.set_input_files("#interrogate-file", str(fixture_image(2)))  # orange triangle, blue cross, red ring
    page.wait_for_function("document.querySelector('#interrogate-output').dataset.done === '1'", timeout=60_000)
    prompt = page.input_value("#interrogate-output")
    assert "pixel" in prompt and "black background" in prompt, prompt
    assert page.locator("#interrogate-parts table tr").count() > 1
    assert page.get_attribute("#interrogate-preview", "alt").startswith("Chosen image")
    finish(page, "interrogate")


def test_interrogate_analyze_is_grouped_per_vocabulary(desk):
    desk.select_option("#interrogate-mode", "analyze")
    desk.set_input_files("#interrogate-file", str(fixture_image(2)))
    desk.wait_for_function("document.querySelector('#interrogate-output').dataset.done === '1'", timeout=60_000)
    desk.wait_for_selector("#interrogate-parts details")
    groups = desk.eval_on_selector_all("#interrogate-parts details", "els => els.map(e => e.dataset.table)")
    assert len(groups) >= 2 and len(set(groups)) == len(groups), groups


def test_busy_indicator_disables_submit_and_cancel_drops_the_answer(desk):
    desk.select_option("#interrogate-mode", "fast")
    desk.evaluate("window.__delays['/api/interrogate'] = [2500]")
    desk.set_input_files("#interrogate-file", str(fixture_image(3)))
    desk.wait_for_selector("#panel-interrogate .busy:not([hidden])", timeout=5_000)
    assert desk.is_disabled("#interrogate-run")
    time.sleep(0.3)
    assert desk.inner_text("#panel-interrogate .elapsed").endswith(" s")
    desk.click("#panel-interrogate .cancel")
    assert desk.is_hidden("#panel-interrogate .busy") and not desk.is_disabled("#interrogate-run")
    assert desk.inner_text("#interrogate-error") == "Cancelled."
    time.sleep(3.5)  # the held answer arrives now: it must not be shown
    assert desk.input_value("#interrogate-output") == ""


def test_a_newer_request_supersedes_an_older_one(desk):
    desk.select_option("#interrogate-mode", "fast")
    desk.evaluate("window.__delays['/api/interrogate'] = [3000]")  # the first answer (mode fast) comes late
    desk.set_input_files("#interrogate-file", str(fixture_image(2)))
    desk.wait_for_selector("#panel-interrogate .busy:not([hidden])", timeout=5_000)
    desk.select_option("#interrogate-mode", "style")  # the newer request, answered at once
    desk.wait_for_function("document.querySelector('#interrogate-output').dataset.done === '1'", timeout=60_000)
    newer = desk.input_value("#interrogate-output")
    assert desk.get_attribute("#interrogate-output", "data-mode") == "style"
    time.sleep(3.5)  # the stale 'fast' answer has arrived by now
    assert desk.input_value("#interrogate-output") == newer
    assert desk.get_attribute("#interrogate-output", "data-mode") == "style"
    assert desk.is_hidden("#panel-interrogate .busy")


def test_interrogate_copy_button(desk):
    desk.context.grant_permissions(["clipboard-read", "clipboard-write"])
    desk.select_option("#interrogate-mode", "fast")
    desk.set_input_files("#interrogate-file", str(fixture_image(3)))
    desk.wait_for_function("document.querySelector('#interrogate-output').dataset.done === '1'", timeout=60_000)
    desk.click("#interrogate-copy")
    desk.wait_for_function("document.querySelector('#interrogate-copy').textContent === 'Copied'")
    assert desk.evaluate("navigator.clipboard.readText()") == desk.input_value("#interrogate-output")


def test_batch_interrogate_reports_bad_files_and_downloads(page, server):
    tab(page, "batch")
    page.select_option("#batch-mode", "fast")
    files = [str(fixture_image(i)) for i in (2, 3)] + [str(not_an_image(server["tmp"]))]
    page.set_input_files("#batch-files", files)
    page.click("#batch-run")
    page.wait_for_function("document.querySelector('#panel-batch').dataset.rows === '3'", timeout=90_000)
    rows = page.eval_on_selector_all("#batch-table tbody tr", "els => els.map(e => e.innerText)")
    assert len(rows) == 3 and "could not read" in rows[2] and "pixel" in rows[0], rows
    jsonl = page.evaluate("fetch(document.querySelector('#batch-jsonl').href).then(r => r.text())")
    lines = [json.loads(x) for x in jsonl.splitlines()]
    assert [x["image"] for x in lines] == [Path(f).name for f in files] and "error" in lines[2]
    finish(page, "batch")


# ---------------------------------------------------------------- compose
def test_compose_shows_live_token_counts(page):
    tab(page, "compose")
    page.fill("#compose-input", '{"subject": "a large red circle", "style": "pixel art", "background": "black"}')
    page.wait_for_function("document.querySelector('#compose-count').textContent.includes('CLIP tokens')", timeout=20_000)
    first = page.inner_text("#compose-count")
    page.wait_for_selector("#compose-output .enc[data-encoder='t5xxl']", timeout=20_000)
    clip_l = page.inner_text("#compose-output .enc[data-encoder='clip_l'] pre")
    t5 = page.inner_text("#compose-output .enc[data-encoder='t5xxl'] pre")
    assert "red circle" in clip_l and "{" not in clip_l and t5.endswith(".") and t5[0].isupper()
    assert "/ 75" in page.inner_text("#compose-output .enc[data-encoder='clip_l'] h3")
    assert page.locator("#compose-output .enc button").count() >= 2  # a copy button per encoder text
    finish(page, "compose")
    page.select_option("#compose-target", "sdxl")
    page.wait_for_selector("#compose-output .enc[data-encoder='text_g']", timeout=20_000)
    page.fill("#compose-input", ", ".join(["a small blue triangle at the top"] * 14))
    page.wait_for_function("document.querySelector('#compose-count').classList.contains('over')", timeout=20_000)
    assert "past the limit" in page.inner_text("#compose-count") and first != page.inner_text("#compose-count")


# ---------------------------------------------------------------- search and duplicates
def test_search_text_shows_thumbnails_that_open(page):
    target = fixture_image(7)
    cap = labels()[target.name]["caption"]
    tab(page, "search")
    page.fill("#search-query", cap)
    page.click("#search-run")
    page.wait_for_selector("#search-grid .thumb img", timeout=30_000)
    page.wait_for_function("[...document.querySelectorAll('#search-grid img')].every(i => i.complete && i.naturalWidth > 0)",
                           timeout=30_000)
    titles = page.eval_on_selector_all("#search-grid .thumb", "els => els.map(e => e.title)")
    assert target.name in [Path(t).name for t in titles[:5]], titles[:5]
    assert "hits in" in page.inner_text("#search-info")
    href = page.get_attribute("#search-grid .thumb .acts a[download]", "href")
    r = httpx.get(page.url.split("#")[0].rstrip("/") + href)
    assert r.status_code == 200 and r.content[:4] == b"\x89PNG"
    alts = page.eval_on_selector_all("#search-grid img", "els => els.map(e => e.alt)")
    assert all(alts), "search hits need alt text"
    finish(page, "search")


def test_search_by_image_upload(desk):
    target = fixture_image(9)
    tab(desk, "search")
    desk.set_input_files("#search-file", str(target))
    desk.wait_for_function(f"document.querySelector('#search-grid .thumb') && "
                           f"document.querySelector('#search-grid .thumb').title.endsWith('{target.name}')", timeout=30_000)


def test_search_error_replaces_results(desk):
    tab(desk, "search")
    desk.fill("#search-query", "a red circle")
    desk.click("#search-run")
    desk.wait_for_selector("#search-grid .thumb", timeout=30_000)
    desk.fill("#search-query", "a red circle " * 400)  # over the server's text limit: a 4xx
    desk.click("#search-run")
    desk.wait_for_selector("#search-error:not(:empty)", timeout=30_000)
    msg = desk.inner_text("#search-error")
    assert desk.locator("#search-grid .thumb").count() == 0, "a stale result stayed next to the error"
    assert not msg[:4].rstrip(":").isdigit() and "--" not in msg and "detail" not in msg, msg


def test_dedupe_finds_the_copied_picture(page):
    tab(page, "dedupe")
    page.click("#dedupe-run")
    page.wait_for_selector("#dedupe-groups .group, #dedupe-error:not(:empty)", timeout=60_000)
    assert page.inner_text("#dedupe-error") == ""
    names = page.eval_on_selector_all("#dedupe-groups .group .thumb", "els => els.map(e => e.title)")
    assert any(n.endswith("copy-of-a-picture.png") for n in names), names
    finish(page, "dedupe")


# ---------------------------------------------------------------- judge, best of N, tag
def test_judge_feedback_bars(page):
    tab(page, "judge")
    page.set_input_files("#judge-file", str(fixture_image(2)))
    page.fill("#judge-prompt", "pixel art, watercolor painting")
    page.click("#judge-run")
    page.wait_for_selector("#judge-bars .bar, #judge-error:not(:empty)", timeout=30_000)
    assert page.inner_text("#judge-error") == ""
    score = page.inner_text("#judge-score")
    assert "CLIP-S" in score and "0–2.5" in score, score
    labels_shown = page.eval_on_selector_all("#judge-bars .bar", "els => els.map(e => e.dataset.label)")
    assert labels_shown == ["pixel art", "watercolor painting (absent)"], labels_shown
    assert_bars_visible(page, "#judge-bars")
    finish(page, "judge")


def test_judge_classify_and_an_error_clears_the_result(desk, server):
    tab(desk, "judge")
    desk.set_input_files("#judge-file", str(fixture_image(2)))
    desk.fill("#judge-prompt", "pixel art\noutlined\nwatercolor")
    desk.click("#judge-classify")
    desk.wait_for_selector("#judge-bars .bar, #judge-error:not(:empty)", timeout=30_000)
    assert desk.inner_text("#judge-error") == ""
    assert "pixel art" in desk.inner_text("#judge-score")
    assert_bars_visible(desk, "#judge-bars")
    desk.set_input_files("#judge-file", str(not_an_image(server["tmp"])))
    desk.click("#judge-classify")
    desk.wait_for_selector("#judge-error:not(:empty)", timeout=30_000)
    assert desk.locator("#judge-bars .bar").count() == 0 and desk.inner_text("#judge-score") == ""
    msg = desk.inner_text("#judge-error")
    assert not msg[:3].isdigit() and "--" not in msg, msg


def test_rank_best_of_n(page):
    tab(page, "rank")
    idx = [4, 7, 11, 15]
    files = [fixture_image(i) for i in idx]
    target = files[2]
    page.set_input_files("#rank-files", [str(f) for f in files])
    page.fill("#rank-prompt", labels()[target.name]["caption"])
    page.click("#rank-run")
    page.wait_for_selector("#rank-list li, #rank-error:not(:empty)", timeout=30_000)
    assert page.inner_text("#rank-error") == ""
    names = page.eval_on_selector_all("#rank-list li", "els => els.map(e => e.dataset.name)")
    assert len(names) == 4 and names[0] == target.name, names
    assert_bars_visible(page, "#rank-list")
    finish(page, "rank")


def test_tag_images(page):
    tab(page, "tag")
    page.set_input_files("#tag-files", [str(fixture_image(2)), str(fixture_image(5))])
    page.click("#tag-run")
    page.wait_for_selector("#tag-results .tagged, #tag-error:not(:empty)", timeout=60_000)
    assert page.inner_text("#tag-error") == ""
    assert page.locator("#tag-results .tagged").count() == 2
    finish(page, "tag")


# ---------------------------------------------------------------- guide
def test_guide_image_evolves(page):
    tab(page, "guide")
    page.fill("#guide-prompt", "a large red circle")
    page.fill("#guide-size", "64")
    page.fill("#guide-steps", "24")
    page.evaluate("""() => { window.__steps = [];
      new MutationObserver(() => window.__steps.push(+document.querySelector('#guide-image').dataset.step))
        .observe(document.querySelector('#guide-image'), {attributes: true, attributeFilter: ['data-step']}); }""")
    page.click("#guide-run")
    page.wait_for_selector("#guide-image:not([hidden])", timeout=60_000)
    assert page.is_disabled("#guide-run")
    page.wait_for_function("document.querySelector('#guide-status').dataset.final === 'done'", timeout=120_000)
    assert int(page.get_attribute("#guide-image", "data-step")) == 24
    steps = page.evaluate("window.__steps")
    assert len(set(steps)) >= 3 and steps == sorted(steps), steps  # the picture was shown growing, step by step
    page.wait_for_function("document.querySelector('#guide-image').complete && document.querySelector('#guide-image').naturalWidth == 64")
    assert page.get_attribute("#guide-download", "href").startswith("/api/jobs/")
    assert page.get_attribute("#guide-image", "alt")
    finish(page, "guide")


def test_access_log_lists_requests_without_token(server):
    text = server["log"].read_text(errors="replace")
    assert "GET /api/health 200" in text
