// cliplens web page: plain JS, no build step, no CDN. Talks to the JSON API of the same server.
// Every slow action goes through `Task`: busy indicator with elapsed time, submit disabled,
// Cancel (AbortController), and a newer request supersedes an older one (a stale answer is dropped).
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];
const state = { caps: {}, models: [], indexes: [], files: {}, defaults: {}, guideJob: null };

// ---------------------------------------------------------------- helpers
class ApiError extends Error {
  constructor(message, status, type) { super(message); this.status = status; this.type = type; }
}

// Server messages are written for every client; on the page, drop advice about command-line flags
// and parser dumps (the page has its own controls), keep the first, human line.
function pageMessage(msg) {
  let m = String(msg || "").split("\n")[0].trim().replace(/^\d{3}:\s*/, "");
  m = m.replace(/\s*\([^()]*--[a-z][^()]*\)/g, "");  // "(pass --input-format text)"
  const parts = m.split(/;\s+|,\s+(?=(?:or\s+)?(?:pass|use|try|add|set)\s+--)/);
  const kept = parts.filter((p) => !/(^|\s)--[a-z]/.test(p));
  m = kept.length ? kept.join("; ") : parts[0].replace(/\s*--[a-z][\w-]*(\s+[A-Z_]+)?/g, "");
  return m.trim().replace(/[;:,]$/, "");
}

async function api(path, opts = {}) {
  let res;
  try { res = await fetch(path, opts); } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError("The server cannot be reached. Is `cliplens serve` still running?", 0, "NetworkError");
  }
  const ct = res.headers.get("content-type") || "";
  const body = ct.includes("json") ? await res.json().catch(() => null) : await res.text();
  if (!res.ok) {
    let msg = body && typeof body === "object" && body.error ? body.error : "";
    if (!msg) msg = res.status === 413 ? "That is more than this server accepts in one request." : `The server could not do that (${res.statusText || res.status}).`;
    throw new ApiError(pageMessage(msg), res.status, body && body.type);
  }
  return body;
}
const postJSON = (path, data, signal) => api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(data), signal });
const postForm = (path, form, signal) => api(path, { method: "POST", body: form, signal });

function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v; else if (k === "style") e.style.cssText = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids.flat()) if (kid !== undefined && kid !== null) e.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  return e;
}
function debounce(fn, ms) { let t; return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); }; }
const model = () => $("#model").value || null;
const fmt = (x, d = 3) => (typeof x === "number" && isFinite(x) ? x.toFixed(d) : x === null || x === undefined ? "–" : String(x));
const baseName = (p) => String(p || "").split(/[\\/]/).pop();
function setOptions(select, values, chosen) {
  select.replaceChildren(...values.map((v) => el("option", { value: v, selected: v === chosen }, v)));
}
async function copyText(text, button) {
  try { await navigator.clipboard.writeText(text); } catch (_) {
    const ta = el("textarea", { style: "position:fixed;left:-9999px" }); ta.value = text; document.body.append(ta); ta.select();
    try { document.execCommand("copy"); } finally { ta.remove(); }
  }
  if (button) { const old = button.textContent; button.textContent = "Copied"; setTimeout(() => (button.textContent = old), 1200); }
}
// a per-item failure the server reported in `errors` ({index, source, reason}), in words
function itemErrorText(e, name) { return `Could not read ${name || baseName(e.source) || "the image"}: ${pageMessage(e.reason)}`; }
function blobURL(text, type) { return URL.createObjectURL(new Blob([text], { type })); }

// ---------------------------------------------------------------- one slow action per panel
// `task.run(fn)`: aborts the previous run of this panel, shows the busy line, disables the submit
// controls, and applies fn's result only if no newer run started meanwhile.
class Task {
  constructor(panel) {
    this.panel = panel;
    this.root = $(`#panel-${panel}`);
    this.busy = $(".busy", this.root);
    this.seq = 0;
    this.ctrl = null;
    this.timer = null;
    const cancel = this.busy && $(".cancel", this.busy);
    if (cancel) cancel.addEventListener("click", () => this.cancel());
  }
  // drop the running request (if any): its answer, should it still arrive, is ignored
  abortCurrent() {
    if (!this.ctrl) return false;
    this.ctrl.abort();
    this.ctrl = null;
    this.seq++;
    return true;
  }
  // the user's Cancel: stop, say so, give the controls back
  cancel() {
    if (!this.abortCurrent()) return;
    this.setBusy(false);
    this.root.dataset.state = "cancelled";
    showNote(this.panel, "Cancelled.");
  }
  setBusy(on, text) {
    const submits = $$(".submit", this.root);
    this.root.setAttribute("aria-busy", on ? "true" : "false");
    if (!this.busy) { this.isBusy = on; return; }
    clearInterval(this.timer);
    if (on) {
      const t0 = performance.now();
      if (text) $(".busy-text", this.busy).textContent = text;
      const elapsed = $(".elapsed", this.busy);
      elapsed.textContent = "0.0 s";
      this.timer = setInterval(() => { elapsed.textContent = `${((performance.now() - t0) / 1000).toFixed(1)} s`; }, 100);
      this.busy.hidden = false;
      if (!this.isBusy) submits.forEach((b) => { b.dataset.wasDisabled = b.disabled ? "1" : ""; b.disabled = true; });
    } else {
      this.busy.hidden = true;
      if (this.isBusy) submits.forEach((b) => { b.disabled = b.dataset.wasDisabled === "1"; });
    }
    this.isBusy = on;
  }
  progress(done, total) {
    const bar = this.busy && $(".busy-progress", this.busy);
    if (bar) { bar.max = Math.max(1, total); bar.value = done; }
    const t = this.busy && $(".busy-text", this.busy);
    if (t) t.textContent = `${done} / ${total} done`;
  }
  async run(fn, { busyText, clear = true } = {}) {
    this.abortCurrent();  // a newer request supersedes the older one
    const seq = ++this.seq;
    const ctrl = new AbortController();
    this.ctrl = ctrl;
    showError(this.panel, null);
    if (clear) clearResults(this.panel);
    this.setBusy(true, busyText);
    const current = () => seq === this.seq;
    try {
      await fn(ctrl.signal, current);
      if (current()) this.root.dataset.state = "done";
    } catch (e) {
      if (!current()) return;  // superseded: the newer run owns the panel now
      if (e.name === "AbortError") { this.root.dataset.state = "cancelled"; showNote(this.panel, "Cancelled."); } else { this.root.dataset.state = "error"; showError(this.panel, e); }
    } finally {
      if (current()) { this.setBusy(false); this.ctrl = null; }
    }
  }
}

// what a panel shows as its result: [data-clear] elements ("hide": hidden, else emptied)
function clearResults(panel) {
  for (const box of $$("[data-clear]", $(`#panel-${panel}`))) {
    if (box.dataset.clear === "hide") box.hidden = true;
    else if (box.tagName === "TEXTAREA") { box.value = ""; delete box.dataset.done; }
    else box.replaceChildren();
  }
}
function showError(panel, err) {
  const box = $(`#${panel}-error`);
  if (!err) { box.textContent = ""; box.classList.remove("note"); return; }
  clearResults(panel);
  box.classList.remove("note");
  box.textContent = pageMessage(err.message || err);
}
function showNote(panel, text) { const box = $(`#${panel}-error`); box.textContent = text; box.classList.add("note"); }

// ---------------------------------------------------------------- tabs (ARIA tabs pattern)
const tabs = () => $$("#tabs [role=tab]");
function showTab(name, focus = false) {
  for (const t of tabs()) {
    const on = t.dataset.tab === name;
    t.setAttribute("aria-selected", on ? "true" : "false");
    t.tabIndex = on ? 0 : -1;
    if (on && focus) t.focus();
    const panel = $(`#${t.getAttribute("aria-controls")}`);
    panel.hidden = !on;
    panel.classList.toggle("active", on);
  }
  history.replaceState(null, "", `#${name}`);
}
for (const t of tabs()) t.addEventListener("click", () => showTab(t.dataset.tab));
$("#tabs").addEventListener("keydown", (e) => {
  const list = tabs(), i = list.indexOf(document.activeElement);
  if (i < 0) return;
  const go = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: list.length - 1 }[e.key];
  if (go === undefined) return;
  e.preventDefault();
  showTab(list[(go + list.length) % list.length].dataset.tab, true);
});

// a file dropped anywhere but a drop zone must not make the browser navigate away from the page
window.addEventListener("dragover", (e) => e.preventDefault());
window.addEventListener("drop", (e) => e.preventDefault());

// ---------------------------------------------------------------- image drop zones
function dropZone(zoneSel, inputSel, previewSel, key, onChange) {
  const zone = $(zoneSel), input = $(inputSel), preview = $(previewSel);
  const take = (file) => {
    if (!file) return;
    state.files[key] = file;
    if (preview.src) URL.revokeObjectURL(preview.src);
    preview.src = URL.createObjectURL(file);
    preview.alt = `Chosen image: ${file.name}`;
    preview.hidden = false;
    onChange(file);
  };
  zone.addEventListener("click", () => input.click());
  zone.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); } });
  input.addEventListener("change", () => take(input.files[0]));
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => { e.preventDefault(); e.stopPropagation(); zone.classList.remove("over"); take(e.dataTransfer.files[0]); });
}

// ---------------------------------------------------------------- interrogate
const interrogateTask = new Task("interrogate");
dropZone("#drop-zone", "#interrogate-file", "#interrogate-preview", "interrogate", () => {
  $("#interrogate-run").disabled = false;
  runInterrogate();
});
$("#interrogate-run").addEventListener("click", () => runInterrogate());
$("#interrogate-mode").addEventListener("change", () => { if (state.files.interrogate) runInterrogate(); });
$("#interrogate-copy").addEventListener("click", () => copyText($("#interrogate-output").value, $("#interrogate-copy")));

function runInterrogate() {
  const file = state.files.interrogate;
  if (!file) return;
  const mode = $("#interrogate-mode").value;
  return interrogateTask.run(async (signal, current) => {
    const form = new FormData();
    form.append("image", file);
    form.append("mode", mode);
    if (model()) form.append("model", model());
    const r = await postForm("/api/interrogate", form, signal);
    if (!current()) return;
    const out = $("#interrogate-output");
    out.value = r.prompt || "";
    out.dataset.mode = mode;
    out.dataset.done = "1";
    renderParts($("#interrogate-parts"), r);
  }, { busyText: `Interrogating (${mode})…` });
}

function rowsOf(items) {
  return (items || []).map((it) => (Array.isArray(it) ? { text: it[0], score: it[1] } : { text: it.text ?? it.phrase ?? it.label, score: it.score ?? it.similarity }));
}
function scoreTable(rows, caption, first = "phrase") {
  const t = el("table", {}, caption ? el("caption", { class: "sr-only" }, caption) : null,
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, first), el("th", { scope: "col", class: "num" }, "score"))));
  const tb = el("tbody");
  for (const r of rows) tb.append(el("tr", {}, el("td", {}, r.text), el("td", { class: "num" }, fmt(r.score))));
  t.append(tb);
  return t;
}
function renderParts(box, r) {
  box.replaceChildren();
  const bits = [];
  if (typeof r.similarity === "number") bits.push(`prompt–image similarity ${fmt(r.similarity)}`);
  if (typeof r.seconds === "number") bits.push(`${fmt(r.seconds, 2)} s`);
  if (bits.length) box.append(el("p", { class: "hint" }, bits.join(" · ")));
  if (r.analysis && typeof r.analysis === "object") {
    // analyze: one group per vocabulary, as the CLI prints it
    for (const [table, items] of Object.entries(r.analysis)) {
      const rows = rowsOf(items);
      box.append(el("details", { open: true, "data-table": table }, el("summary", {}, `${table} (${rows.length})`), scoreTable(rows.slice(0, 10), table)));
    }
  } else if (Array.isArray(r.parts) && r.parts.length) {
    const t = el("table", {}, el("caption", { class: "sr-only" }, "Parts of the prompt"),
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "from"), el("th", { scope: "col" }, "phrase"), el("th", { scope: "col", class: "num" }, "score"))));
    const tb = el("tbody");
    for (const p of r.parts) tb.append(el("tr", {}, el("td", {}, p.kind || p.table || ""), el("td", {}, p.text ?? p.phrase ?? ""), el("td", { class: "num" }, fmt(p.score))));
    t.append(tb);
    box.append(t);
  }
}

// ---------------------------------------------------------------- batch interrogate (one request per image: real progress, cancellable)
const batchTask = new Task("batch");
$("#batch-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const files = [...$("#batch-files").files];
  if (!files.length) { showError("batch", "Choose one or more images first."); return; }
  const mode = $("#batch-mode").value;
  batchTask.run(async (signal, current) => {
    const rows = [];
    const tbody = $("#batch-table tbody");
    $("#batch-table").hidden = false;
    batchTask.progress(0, files.length);
    for (const [i, f] of files.entries()) {
      const form = new FormData();
      form.append("image", f);
      form.append("mode", mode);
      if (model()) form.append("model", model());
      let row;
      try {
        const r = await postForm("/api/interrogate", form, signal);
        row = { image: f.name, prompt: r.prompt || "", similarity: r.similarity ?? null };
      } catch (err) {
        if (err.name === "AbortError") throw err;
        row = { image: f.name, prompt: "", error: pageMessage(err.message) };  // a bad file: reported, the batch goes on
      }
      if (!current()) return;
      rows.push(row);
      tbody.append(el("tr", {}, el("td", {}, row.image), el("td", { class: row.error ? "error" : "" }, row.error ? `could not read: ${row.error}` : row.prompt)));
      batchTask.progress(i + 1, files.length);
    }
    const jsonl = rows.map((r) => JSON.stringify({ mode, ...r })).join("\n") + "\n";
    const q = (s) => `"${String(s ?? "").replace(/"/g, '""')}"`;
    const csv = "image,prompt,error\n" + rows.map((r) => [q(r.image), q(r.prompt), q(r.error || "")].join(",")).join("\n") + "\n";
    $("#batch-jsonl").href = blobURL(jsonl, "application/x-ndjson");
    $("#batch-csv").href = blobURL(csv, "text/csv");
    $("#batch-downloads").hidden = false;
    $("#panel-batch").dataset.rows = String(rows.length);
  }, { busyText: "Interrogating…" });
});

// ---------------------------------------------------------------- compose (live)
const composeTask = new Task("compose");
const runCompose = debounce(() => {
  const text = $("#compose-input").value;
  if (!text.trim()) { composeTask.abortCurrent(); composeTask.setBusy(false); clearResults("compose"); showError("compose", null); $("#compose-count").textContent = ""; return; }
  composeTask.run(async (signal, current) => {
    const counts = await postJSON("/api/tokens", { texts: [text], model: model() }, signal);
    if (!current()) return;
    const c = counts.counts[0];
    const cnt = $("#compose-count");
    cnt.textContent = `input: ${c.tokens} / ${c.budget} CLIP tokens` + (c.fits ? "" : ` — past the limit: “${c.overflow_text}”`);
    cnt.classList.toggle("over", !c.fits);
    const outBox = $("#compose-output");
    if (state.caps.compose !== true) { outBox.replaceChildren(el("p", { class: "hint" }, "Prompt composition is not available on this server: showing token counts only.")); return; }
    const r = await postJSON("/api/compose", { text, target: $("#compose-target").value }, signal);
    if (!current()) return;
    outBox.replaceChildren();
    for (const o of r.outputs || []) {
      const over = o.budget && o.tokens > o.budget;
      const tok = el("span", { class: "tok" + (over ? " over" : "") }, `${o.tokens}${o.budget ? " / " + o.budget : ""} ${o.tokenizer || "tokens"}${o.estimated ? " (estimate)" : ""}`);
      const copy = el("button", { type: "button", class: "secondary", "aria-label": `Copy the ${o.name} text` }, "Copy");
      copy.addEventListener("click", () => copyText(o.text, copy));
      outBox.append(el("div", { class: "enc", "data-encoder": o.name }, el("h3", {}, el("span", {}, o.name), tok, copy), el("pre", {}, o.text)));
    }
    $("#compose-warnings").replaceChildren(...(r.warnings || []).map((w) => el("div", {}, "⚠ " + (typeof w === "string" ? w : w.message || JSON.stringify(w)))));
    const comfy = r.comfyui || r.comfy || null;
    if (comfy) {
      const json = JSON.stringify(comfy, null, 2);
      state.comfyJSON = json;
      $("#compose-comfy-download").href = blobURL(json, "application/json");
      $("#compose-comfy").hidden = false;
    }
  }, { busyText: "Composing…", clear: false });
}, 250);
$("#compose-input").addEventListener("input", runCompose);
$("#compose-target").addEventListener("change", runCompose);
$("#compose-comfy-copy").addEventListener("click", () => copyText(state.comfyJSON || "", $("#compose-comfy-copy")));

// ---------------------------------------------------------------- search
const searchTask = new Task("search");
$("#search-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const query = $("#search-query").value.trim();
  if (!query) { showError("search", "Type what to look for."); return; }
  runSearch((signal) => postJSON("/api/search", { query, index: $("#search-index").value || null, top_k: +$("#search-top").value || state.defaults.search_top_k || 10 }, signal));
});
$("#search-file").addEventListener("change", () => {
  const f = $("#search-file").files[0];
  if (!f) return;
  const form = new FormData();
  form.append("image", f);
  if ($("#search-index").value) form.append("index", $("#search-index").value);
  form.append("top_k", String(+$("#search-top").value || state.defaults.search_top_k || 10));
  runSearch((signal) => postForm("/api/search/image", form, signal));
});
function hitCard(h) {
  const name = baseName(h.path);
  return el("div", { class: "thumb", title: h.path, "data-path": h.path },
    el("a", { href: h.file_url, target: "_blank", rel: "noopener", "aria-label": `Open ${name}` }, el("img", { src: h.thumb_url, alt: name, loading: "lazy" })),
    el("div", { class: "meta" }, el("span", { class: "name" }, name), el("b", {}, fmt(h.score ?? h.similarity))),
    el("div", { class: "acts" }, el("a", { href: h.file_url, target: "_blank", rel: "noopener" }, "Open"), el("a", { href: h.file_url, download: name }, "Download")));
}
function runSearch(call) {
  return searchTask.run(async (signal, current) => {
    const r = await call(signal);
    if (!current()) return;
    const hits = r.hits || [];
    $("#search-info").textContent = `${hits.length} hits in ${fmt(r.ms, 1)} ms from ${r.index}` + (r.size ? ` (${r.size} images)` : "");
    $("#search-grid").replaceChildren(...hits.map(hitCard));
  }, { busyText: "Searching…" });
}

// ---------------------------------------------------------------- near-duplicates
const dedupeTask = new Task("dedupe");
$("#dedupe-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const threshold = parseFloat($("#dedupe-threshold").value);
  dedupeTask.run(async (signal, current) => {
    const body = { index: $("#dedupe-index").value || null };
    if (isFinite(threshold)) body.threshold = threshold;
    const r = await postJSON("/api/dedupe", body, signal);
    if (!current()) return;
    const groups = r.groups || [];
    $("#dedupe-info").textContent = groups.length ? `${groups.length} group${groups.length > 1 ? "s" : ""} of near-duplicates in ${r.index}` : `No near-duplicates at similarity ≥ ${fmt(body.threshold ?? state.defaults.dedupe_threshold, 2)}.`;
    $("#dedupe-groups").replaceChildren(...groups.map((g, i) => el("section", { class: "group" },
      el("h3", {}, `Group ${i + 1}: keep ${baseName(g.keep || g.keep_path || g.path)}`),
      el("div", { class: "grid" }, hitCard({ path: g.keep || g.keep_path || g.path, thumb_url: g.thumb_url, file_url: g.file_url, score: 1 }),
        ...(g.duplicates || []).map((d) => hitCard({ ...d, score: d.similarity ?? d.score }))))));
  }, { busyText: "Comparing…" });
});

// ---------------------------------------------------------------- judge (score + feedback, classify)
const judgeTask = new Task("judge");
dropZone("#judge-drop", "#judge-file", "#judge-preview", "judge", () => {
  for (const id of ["#judge-run", "#judge-classify"]) { $(id).disabled = false; $(id).dataset.wasDisabled = ""; }
});
function bars(box, items) {
  // items: [{label, value, shown}]; bars fill from 0 in proportion to |value|
  box.replaceChildren();
  const max = Math.max(1e-6, ...items.map((i) => Math.abs(i.value)));
  for (const it of items) {
    const w = Math.max(2, Math.round((Math.abs(it.value) / max) * 100));
    box.append(el("div", { class: "bar", "data-label": it.label },
      el("span", { class: "label", title: it.label }, it.label),
      el("span", { class: "track", role: "img", "aria-label": `${it.label}: ${it.shown}` }, el("span", { class: "fill" + (it.value < 0 ? " neg" : ""), style: `width:${w}%` })),
      el("span", { class: "num" }, it.shown)));
  }
}
$("#judge-run").addEventListener("click", () => {
  const prompt = $("#judge-prompt").value.trim();
  if (!state.files.judge || !prompt) { showError("judge", "Choose an image and type a prompt."); return; }
  judgeTask.run(async (signal, current) => {
    const form = new FormData();
    form.append("image", state.files.judge);
    form.append("prompt", prompt);
    if ($("#judge-vocab").value) form.append("vocabulary", $("#judge-vocab").value);
    if (model()) form.append("model", model());
    if (state.caps.judge === true) {
      const r = await postForm("/api/feedback", form, signal);
      if (!current()) return;
      const cos = r.prompt_cosine ?? r.cosine;
      const clipS = r.prompt_clip_s ?? r.clip_s ?? 2.5 * Math.max(cos, 0);
      $("#judge-score").replaceChildren(el("span", {}, "CLIP-S "), el("b", {}, fmt(clipS, 2)), el("span", { class: "hint" }, ` on 0–2.5 (cosine ${fmt(cos)})`));
      const phrases = r.phrases || (r.keywords || []).map((k) => ({ phrase: k.phrase, value: k.presence, present: k.verdict === "present" }));
      bars($("#judge-bars"), phrases.map((p) => ({ label: `${p.phrase}${p.present === false ? " (absent)" : ""}`, value: p.value, shown: fmt(p.value) })));
      const un = r.unrequested || [];
      $("#judge-extra").replaceChildren(...(un.length ? [el("h3", { class: "hint" }, "Shows but not asked for"),
        el("div", { class: "chips" }, ...un.map((u) => el("span", { class: "chip" }, u.phrase ?? u.text, el("b", {}, fmt(u.presence ?? u.score ?? u.value)))))] : []));
    } else {
      const phrases = prompt.split(",").map((s) => s.trim()).filter(Boolean);
      const f2 = new FormData();
      f2.append("images", state.files.judge);
      f2.append("texts", JSON.stringify([prompt, ...phrases]));
      if (model()) f2.append("model", model());
      const r = await postForm("/api/similarity", f2, signal);
      if (!current()) return;
      $("#judge-score").textContent = `CLIP-S ${fmt(2.5 * Math.max(r.cosine[0][0], 0), 2)} on 0–2.5 (cosine ${fmt(r.cosine[0][0])})`;
      bars($("#judge-bars"), phrases.map((p, i) => ({ label: p, value: r.cosine[0][i + 1], shown: fmt(r.cosine[0][i + 1]) })));
    }
  }, { busyText: "Judging…" });
});
$("#judge-classify").addEventListener("click", () => {
  const labels = $("#judge-prompt").value.split(/\n|,/).map((s) => s.trim()).filter(Boolean);
  if (!state.files.judge || labels.length < 2) { showError("judge", "Choose an image and type two or more labels (one per line or comma-separated)."); return; }
  judgeTask.run(async (signal, current) => {
    const form = new FormData();
    form.append("images", state.files.judge);
    form.append("labels", JSON.stringify(labels));
    if (model()) form.append("model", model());
    if (state.caps.classify === true) {
      const r = await postForm("/api/classify", form, signal);
      if (!current()) return;
      if ((r.errors || []).length) throw new Error(itemErrorText(r.errors[0], state.files.judge.name));
      const res = (r.results || r.predictions || [])[0] || {};
      const top = res.top || res.labels || [];
      $("#judge-score").textContent = top.length ? `Most likely: ${top[0].label}` : "No label fits.";
      bars($("#judge-bars"), top.map((t) => ({ label: t.label, value: t.prob ?? t.probability, shown: (100 * (t.prob ?? t.probability)).toFixed(1) + " %" })));
    } else {
      const f2 = new FormData();
      f2.append("images", state.files.judge);
      f2.append("texts", JSON.stringify(labels));
      if (model()) f2.append("model", model());
      const r = await postForm("/api/similarity", f2, signal);
      if (!current()) return;
      const rows = labels.map((l, i) => ({ label: l, value: r.probs[0][i], shown: (100 * r.probs[0][i]).toFixed(1) + " %" })).sort((a, b) => b.value - a.value);
      $("#judge-score").textContent = `Most likely: ${rows[0].label}`;
      bars($("#judge-bars"), rows);
    }
  }, { busyText: "Classifying…" });
});

// ---------------------------------------------------------------- best of N
const rankTask = new Task("rank");
$("#rank-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const files = [...$("#rank-files").files];
  const prompt = $("#rank-prompt").value.trim();
  if (files.length < 1 || !prompt) { showError("rank", "Choose the images of a batch and type their prompt."); return; }
  rankTask.run(async (signal, current) => {
    const form = new FormData();
    for (const f of files) form.append("images", f);
    form.append("prompt", prompt);
    if (model()) form.append("model", model());
    const r = await postForm("/api/rank", form, signal);
    if (!current()) return;
    const items = r.items || r.results || [];
    const urls = files.map((f) => URL.createObjectURL(f));
    const clipS = (it) => it.clip_s ?? (typeof it.cosine === "number" ? 2.5 * Math.max(it.cosine, 0) : it.score ?? 0);
    const max = Math.max(1e-6, ...items.map((it) => Math.abs(clipS(it))));
    $("#rank-info").textContent = `${items.length} of ${files.length} images ranked for “${prompt}” (CLIP-S, 0–2.5)`;
    $("#rank-list").replaceChildren(...items.map((it, k) => {
      const name = files[it.index] ? files[it.index].name : baseName(it.item);
      const li = el("li", { "data-index": it.index, "data-name": name },
        el("img", { src: urls[it.index], alt: `Rank ${k + 1}: ${name}` }),
        el("div", {}, el("div", { class: "bar" }, el("span", { class: "label", title: name }, `${k + 1}. ${name}`),
          el("span", { class: "track", role: "img", "aria-label": `CLIP-S ${fmt(clipS(it), 2)}` }, el("span", { class: "fill", style: `width:${Math.max(2, Math.round(100 * Math.abs(clipS(it)) / max))}%` })),
          el("span", { class: "num" }, fmt(clipS(it), 2)))));
      return li;
    }));
    const errs = r.errors || [];
    if (errs.length) $("#rank-info").textContent += ` · ${errs.length} could not be read: ${errs.map((x) => `${files[x.index] ? files[x.index].name : x.source} (${x.reason})`).join(", ")}`;
  }, { busyText: "Ranking…" });
});

// ---------------------------------------------------------------- tag
const tagTask = new Task("tag");
$("#tag-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const files = [...$("#tag-files").files];
  if (!files.length) { showError("tag", "Choose one or more images first."); return; }
  tagTask.run(async (signal, current) => {
    const form = new FormData();
    for (const f of files) form.append("images", f);
    form.append("vocabulary", $("#tag-vocab").value);
    if (model()) form.append("model", model());
    const r = await postForm("/api/tag", form, signal);
    if (!current()) return;
    const rows = r.results || [];
    const failed = new Map((r.errors || []).map((e) => [e.index, e]));
    $("#tag-results").replaceChildren(...rows.map((row, k) => {
      const i = row.index ?? k;
      const tags = row.tags || [];
      const name = files[i] ? files[i].name : baseName(row.image || row.source);
      if (failed.has(i)) return el("div", { class: "tagged", "data-name": name }, el("span"), el("p", { class: "error" }, itemErrorText(failed.get(i), name)));
      return el("div", { class: "tagged", "data-name": name }, el("img", { src: URL.createObjectURL(files[i]), alt: name }),
        el("div", {}, el("b", {}, name), el("div", { class: "chips" }, ...(tags.length ? tags.map((t) => el("span", { class: "chip" }, t.tag ?? t.label ?? t.text, el("b", {}, fmt(t.score)))) : [el("span", { class: "hint" }, "no tag reaches its threshold")]))));
    }));
  }, { busyText: "Tagging…" });
});

// ---------------------------------------------------------------- guide (background job + polling: real progress)
const guideTask = new Task("guide");
$("#guide-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const body = { prompt: $("#guide-prompt").value, size: +$("#guide-size").value, steps: +$("#guide-steps").value, seed: +$("#guide-seed").value, model: model() };
  guideTask.run(async (signal, current) => {
    const job = await postJSON("/api/guide", body, signal);
    if (!current()) return;
    state.guideJob = job.id;
    guideTask.setBusy(false);
    $("#guide-run").disabled = true; $("#guide-cancel").disabled = false;
    delete $("#guide-status").dataset.final;
    await pollGuide(job.id, current);
  }, { busyText: "Starting…" });
});
$("#guide-cancel").addEventListener("click", async () => {
  if (state.guideJob) { try { await api(`/api/jobs/${state.guideJob}`, { method: "DELETE" }); } catch (e) { showError("guide", e); } }
});
async function pollGuide(id, current) {
  let lastSnap = -1;
  try {
    while (state.guideJob === id && current()) {
      const j = await api(`/api/jobs/${id}`);
      $("#guide-progress").value = j.progress ?? (j.total ? j.step / j.total : 0);
      $("#guide-status").textContent = `${j.status} · step ${j.step}/${j.total}${j.message ? " · " + j.message : ""}`;
      if (j.has_snapshot && j.snapshot_step !== lastSnap) {
        lastSnap = j.snapshot_step;
        const img = $("#guide-image"), url = `/api/jobs/${id}/snapshot.png?step=${j.snapshot_step}`;
        img.src = url;
        img.alt = `Image guided towards “${$("#guide-prompt").value}”, step ${j.snapshot_step}`;
        img.hidden = false;
        img.dataset.step = String(j.snapshot_step);
        $("#guide-open").href = url; $("#guide-download").href = url;
        $("#guide-figure").hidden = false;
      }
      if (["done", "error", "cancelled"].includes(j.status)) {
        if (j.error) showError("guide", j.error);
        $("#guide-status").dataset.final = j.status;
        break;
      }
      await new Promise((r) => setTimeout(r, 400));
    }
  } finally {
    $("#guide-run").disabled = false; $("#guide-cancel").disabled = true;
  }
}

// ---------------------------------------------------------------- start-up: what is served, and the CLI's defaults
async function init() {
  try {
    const [h, d] = await Promise.all([api("/api/health"), api("/api/defaults").catch(() => ({}))]);
    state.defaults = d || {};
    state.caps = h.capabilities || {};
    state.caps.similarity = true; state.caps.tokens = true;
    state.indexes = h.indexes || [];
    setOptions($("#model"), h.models, h.default_model || h.models[0]);
    for (const sel of ["#search-index", "#dedupe-index"]) setOptions($(sel), state.indexes, state.indexes[0]);
    if (!state.indexes.length) { state.caps.search = false; state.caps.dedupe = false; }
    else state.caps.dedupe = state.caps.search === true;
    const modes = d.interrogate_modes || ["best", "classic", "fast", "negative", "style", "caption", "analyze"];
    for (const sel of ["#interrogate-mode", "#batch-mode"]) setOptions($(sel), modes, d.interrogate_mode || "best");
    setOptions($("#compose-target"), d.compose_target_choices || ["flux", "sd3", "sdxl", "sd15"], d.compose_target || "flux");
    $("#search-top").value = d.search_top_k ?? d.top_k ?? 10;
    $("#dedupe-threshold").value = d.dedupe_threshold ?? 0.95;
    $("#guide-size").value = d.guide_size ?? 128;
    $("#guide-steps").value = d.guide_steps ?? 150;
    $("#guide-seed").value = d.guide_seed ?? 0;
    if (state.caps.judge === true || state.caps.classify === true) {
      const v = await api("/api/vocabularies").catch(() => ({ vocabularies: [] }));
      const vocabs = v.vocabularies || [];  // a list of names, or {name: description}
      const names = Array.isArray(vocabs) ? vocabs : Object.keys(vocabs);
      const desc = Array.isArray(vocabs) ? {} : vocabs;
      setOptions($("#tag-vocab"), names, d.tag_vocabulary || names[0]);
      for (const n of names) $("#judge-vocab").append(el("option", { value: n, title: desc[n] }, n));
    }
    for (const p of $$(".panel")) {
      const on = state.caps[p.dataset.cap] === true;
      p.classList.toggle("disabled", !on);
      const tab = $(`#tabs [aria-controls="${p.id}"]`);
      if (tab) { tab.classList.toggle("off", !on); if (!on) tab.title = "not available on this server"; }
    }
    $("#status-line").textContent = `cliplens ${h.version} · models: ${h.models.join(", ")} · indexes: ${state.indexes.join(", ") || "none"}`;
    document.body.dataset.ready = "1";
  } catch (e) { $("#status-line").textContent = "Cannot reach the server: " + pageMessage(e.message); }
  const tab = location.hash.replace("#", "");
  if (tab && $(`#panel-${tab}`)) showTab(tab);
}
init();
