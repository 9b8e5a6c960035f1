// cliplens web page: plain JS, no build step, no CDN. Talks to the JSON API of the same server.
"use strict";

const $ = (sel) => document.querySelector(sel);
const state = { caps: {}, models: [], indexes: [], files: {}, guideJob: null };

// ---------------------------------------------------------------- helpers
async function api(path, opts = {}) {
  const res = await fetch(path, opts);
  let body = null;
  const ct = res.headers.get("content-type") || "";
  body = ct.includes("json") ? await res.json() : await res.text();
  if (!res.ok) {
    let msg = body && body.error ? body.error : (body && body.detail ? JSON.stringify(body.detail) : String(body));
    throw new Error(`${res.status}: ${msg}`);
  }
  return body;
}
const postJSON = (path, data) => api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(data) });
const postForm = (path, form) => api(path, { method: "POST", body: form });
function showError(panel, err) { $(`#${panel}-error`).textContent = err ? String(err.message || err) : ""; }
function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v; else if (k === "style") e.style.cssText = v; else e.setAttribute(k, v);
  }
  for (const kid of kids) e.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  return e;
}
function debounce(fn, ms) { let t; return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); }; }
const model = () => $("#model").value || null;
const fmt = (x, d = 3) => (typeof x === "number" ? x.toFixed(d) : String(x));

// ---------------------------------------------------------------- tabs
function showTab(name) {
  document.querySelectorAll("#tabs button").forEach((b) => b.classList.toggle("active", b.dataset.tab === name));
  document.querySelectorAll(".panel").forEach((p) => p.classList.toggle("active", p.id === `panel-${name}`));
  history.replaceState(null, "", `#${name}`);
}
document.querySelectorAll("#tabs button").forEach((b) => b.addEventListener("click", () => showTab(b.dataset.tab)));

// ---------------------------------------------------------------- image drop zones
function dropZone(zoneSel, inputSel, previewSel, key, onChange) {
  const zone = $(zoneSel), input = $(inputSel), preview = $(previewSel);
  const take = (file) => {
    if (!file) return;
    state.files[key] = file;
    preview.src = URL.createObjectURL(file);
    preview.hidden = false;
    onChange(file);
  };
  zone.addEventListener("click", () => input.click());
  zone.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") input.click(); });
  input.addEventListener("change", () => take(input.files[0]));
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => { e.preventDefault(); zone.classList.remove("over"); take(e.dataTransfer.files[0]); });
}

// ---------------------------------------------------------------- interrogate
dropZone("#drop-zone", "#interrogate-file", "#interrogate-preview", "interrogate", () => {
  $("#interrogate-run").disabled = false;
  runInterrogate();
});
$("#interrogate-run").addEventListener("click", () => runInterrogate());
$("#interrogate-mode").addEventListener("change", () => { if (state.files.interrogate) runInterrogate(); });
$("#interrogate-copy").addEventListener("click", async () => {
  const text = $("#interrogate-output").value;
  try { await navigator.clipboard.writeText(text); } catch (_) { $("#interrogate-output").select(); document.execCommand("copy"); }
  $("#interrogate-copy").textContent = "Copied";
  setTimeout(() => ($("#interrogate-copy").textContent = "Copy"), 1200);
});

async function runInterrogate() {
  const file = state.files.interrogate;
  if (!file) return;
  showError("interrogate", null);
  const out = $("#interrogate-output"), parts = $("#interrogate-parts");
  out.value = "…"; parts.replaceChildren();
  const form = new FormData();
  form.append("image", file);
  form.append("mode", $("#interrogate-mode").value);
  if (model()) form.append("model", model());
  try {
    const r = await postForm("/api/interrogate", form);
    out.value = r.prompt || "";
    out.dataset.done = "1";
    renderParts(parts, r);
  } catch (e) { out.value = ""; showError("interrogate", e); }
}

function renderParts(box, r) {
  const rows = [];
  if (r.analysis) {
    for (const [table, items] of Object.entries(r.analysis)) {
      for (const it of items.slice(0, 5)) { const [t, s] = Array.isArray(it) ? it : [it.text, it.score]; rows.push([table, t, s]); }
    }
  } else if (r.parts) {
    for (const p of r.parts) rows.push([p.kind || p.table || "", p.text, p.score]);
  }
  if (r.similarity !== undefined) box.append(el("div", { class: "hint" }, `prompt-image similarity ${fmt(r.similarity)} · ${fmt(r.seconds, 2)} s`));
  if (!rows.length) return;
  const t = el("table", {}, el("tr", {}, el("th", {}, "table"), el("th", {}, "phrase"), el("th", {}, "score")));
  for (const [k, txt, s] of rows) t.append(el("tr", {}, el("td", {}, k), el("td", {}, txt), el("td", {}, s === undefined || s === null ? "" : fmt(s))));
  box.append(t);
}

// ---------------------------------------------------------------- compose (live)
const runCompose = debounce(async () => {
  const text = $("#compose-input").value;
  showError("compose", null);
  const outBox = $("#compose-output"), warn = $("#compose-warnings");
  if (!text.trim()) { outBox.replaceChildren(); warn.replaceChildren(); $("#compose-count").textContent = ""; return; }
  try {
    const counts = await postJSON("/api/tokens", { texts: [text], model: model() });
    const c = counts.counts[0];
    const cnt = $("#compose-count");
    cnt.textContent = `input: ${c.tokens} / ${c.budget} CLIP tokens` + (c.fits ? "" : ` — past the limit: “${c.overflow_text}”`);
    cnt.classList.toggle("over", !c.fits);
    if (state.caps.compose !== true) { outBox.replaceChildren(el("div", { class: "hint" }, "(prompt composition is not available on this server: showing token counts only)")); return; }
    const r = await postJSON("/api/compose", { text, target: $("#compose-target").value, model: model() });
    outBox.replaceChildren();
    for (const o of r.outputs) {
      const over = o.budget && o.tokens > o.budget;
      const tok = el("span", { class: "tok" + (over ? " over" : "") }, `${o.tokens}${o.budget ? " / " + o.budget : ""} ${o.tokenizer || "tokens"}${o.estimated ? " (estimate)" : ""}`);
      outBox.append(el("div", { class: "enc", "data-encoder": o.name }, el("h3", {}, o.name, tok), el("pre", {}, o.text)));
    }
    warn.replaceChildren(...(r.warnings || []).map((w) => el("div", {}, "⚠ " + w)));
  } catch (e) { showError("compose", e); }
}, 250);
$("#compose-input").addEventListener("input", runCompose);
$("#compose-target").addEventListener("change", runCompose);

// ---------------------------------------------------------------- search
$("#search-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const query = $("#search-query").value.trim();
  if (!query) return;
  await runSearch(() => postJSON("/api/search", { query, index: $("#search-index").value || null, top_k: +$("#search-top").value || 24 }));
});
$("#search-file").addEventListener("change", async () => {
  const f = $("#search-file").files[0];
  if (!f) return;
  const form = new FormData();
  form.append("image", f);
  if ($("#search-index").value) form.append("index", $("#search-index").value);
  form.append("top_k", String(+$("#search-top").value || 24));
  await runSearch(() => postForm("/api/search/image", form));
});
async function runSearch(call) {
  showError("search", null);
  const grid = $("#search-grid");
  grid.replaceChildren();
  $("#search-info").textContent = "searching…";
  try {
    const r = await call();
    $("#search-info").textContent = `${r.hits.length} hits in ${fmt(r.ms, 1)} ms from ${r.index} (${r.size} images)`;
    for (const h of r.hits) {
      const name = h.path.split("/").pop();
      grid.append(el("div", { class: "thumb", title: h.path }, el("img", { src: h.thumb_url, alt: name, loading: "lazy" }),
        el("div", {}, el("span", { class: "name" }, name), el("b", {}, fmt(h.score)))));
    }
  } catch (e) { $("#search-info").textContent = ""; showError("search", e); }
}

// ---------------------------------------------------------------- judge (score, feedback, classify)
dropZone("#judge-drop", "#judge-file", "#judge-preview", "judge", () => { $("#judge-run").disabled = false; $("#judge-classify").disabled = false; });
function bars(items) {
  // items: [{label, value, shown}] value in [-1, 1] (fills from 0)
  const box = $("#judge-bars");
  box.replaceChildren();
  const max = Math.max(1e-6, ...items.map((i) => Math.abs(i.value)));
  for (const it of items) {
    const w = Math.round((Math.abs(it.value) / max) * 100);
    box.append(el("div", { class: "bar", "data-label": it.label },
      el("span", { class: "label", title: it.label }, it.label),
      el("span", { class: "track" }, el("span", { class: "fill" + (it.value < 0 ? " neg" : ""), style: `width:${w}%;display:block` })),
      el("span", {}, it.shown)));
  }
}
$("#judge-run").addEventListener("click", async () => {
  showError("judge", null);
  const prompt = $("#judge-prompt").value.trim();
  if (!state.files.judge || !prompt) { showError("judge", "choose an image and type a prompt"); return; }
  const form = new FormData();
  form.append("image", state.files.judge);
  form.append("prompt", prompt);
  if (model()) form.append("model", model());
  try {
    if (state.caps.judge === true) {
      const r = await postForm("/api/feedback", form);
      $("#judge-score").textContent = `cosine ${fmt(r.cosine)} · CLIPScore ${fmt(r.clipscore, 2)}`;
      bars(r.phrases.map((p) => ({ label: `${p.phrase}${p.present === false ? " (absent)" : ""}`, value: p.value, shown: fmt(p.value) })));
    } else {
      const phrases = prompt.split(",").map((s) => s.trim()).filter(Boolean);
      const f2 = new FormData();
      f2.append("images", state.files.judge);
      f2.append("texts", JSON.stringify([prompt, ...phrases]));
      if (model()) f2.append("model", model());
      const r = await postForm("/api/similarity", f2);
      $("#judge-score").textContent = `cosine ${fmt(r.cosine[0][0])}`;
      bars(phrases.map((p, i) => ({ label: p, value: r.cosine[0][i + 1], shown: fmt(r.cosine[0][i + 1]) })));
    }
  } catch (e) { showError("judge", e); }
});
$("#judge-classify").addEventListener("click", async () => {
  showError("judge", null);
  const labels = $("#judge-prompt").value.split(/\n|,/).map((s) => s.trim()).filter(Boolean);
  if (!state.files.judge || labels.length < 2) { showError("judge", "choose an image and type two or more labels (one per line or comma-separated)"); return; }
  const form = new FormData();
  form.append("images", state.files.judge);
  form.append("labels", JSON.stringify(labels));
  if (model()) form.append("model", model());
  try {
    if (state.caps.classify === true) {
      const r = await postForm("/api/classify", form);
      const res = r.results[0];
      $("#judge-score").textContent = `top: ${res.top[0].label}`;
      bars(res.top.map((t) => ({ label: t.label, value: t.prob, shown: (100 * t.prob).toFixed(1) + "%" })));
    } else {
      const f2 = new FormData();
      f2.append("images", state.files.judge);
      f2.append("texts", JSON.stringify(labels));
      if (model()) f2.append("model", model());
      const r = await postForm("/api/similarity", f2);
      const rows = labels.map((l, i) => ({ label: l, value: r.probs[0][i], shown: (100 * r.probs[0][i]).toFixed(1) + "%" })).sort((a, b) => b.value - a.value);
      $("#judge-score").textContent = `top: ${rows[0].label}`;
      bars(rows);
    }
  } catch (e) { showError("judge", e); }
});

// ---------------------------------------------------------------- guide (background job + polling)
$("#guide-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  showError("guide", null);
  try {
    const job = await postJSON("/api/guide", { prompt: $("#guide-prompt").value, size: +$("#guide-size").value,
      steps: +$("#guide-steps").value, seed: +$("#guide-seed").value, model: model() });
    state.guideJob = job.id;
    $("#guide-run").disabled = true; $("#guide-cancel").disabled = false;
    pollGuide(job.id);
  } catch (err) { showError("guide", err); }
});
$("#guide-cancel").addEventListener("click", async () => {
  if (state.guideJob) { try { await api(`/api/jobs/${state.guideJob}`, { method: "DELETE" }); } catch (e) { showError("guide", e); } }
});
async function pollGuide(id) {
  let lastSnap = -1;
  while (state.guideJob === id) {
    let j;
    try { j = await api(`/api/jobs/${id}`); } catch (e) { showError("guide", e); break; }
    $("#guide-progress").value = j.progress;
    $("#guide-status").textContent = `${j.status} · step ${j.step}/${j.total}${j.message ? " · " + j.message : ""}`;
    if (j.has_snapshot && j.snapshot_step !== lastSnap) {
      lastSnap = j.snapshot_step;
      const img = $("#guide-image");
      img.src = `/api/jobs/${id}/snapshot.png?step=${j.snapshot_step}`;
      img.hidden = false;
      img.dataset.step = String(j.snapshot_step);
    }
    if (["done", "error", "cancelled"].includes(j.status)) {
      if (j.error) showError("guide", j.error);
      $("#guide-status").dataset.final = j.status;
      break;
    }
    await new Promise((r) => setTimeout(r, 400));
  }
  $("#guide-run").disabled = false; $("#guide-cancel").disabled = true;
}

// ---------------------------------------------------------------- start-up
async function init() {
  try {
    const h = await api("/api/health");
    state.caps = h.capabilities || {};
    state.caps.similarity = true; state.caps.tokens = true;
    state.indexes = h.indexes || [];
    for (const m of h.models) $("#model").append(el("option", { value: m }, m));
    for (const ix of state.indexes) $("#search-index").append(el("option", { value: ix }, ix));
    if (!state.indexes.length) state.caps.search = false;
    document.querySelectorAll(".panel").forEach((p) => {
      const on = state.caps[p.dataset.cap] === true;
      p.classList.toggle("disabled", !on);
      const tab = document.querySelector(`#tabs button[data-tab="${p.id.replace("panel-", "")}"]`);
      if (tab) tab.classList.toggle("off", !on);
    });
    $("#status-line").textContent = `cliplens ${h.version} · models: ${h.models.join(", ")} · indexes: ${state.indexes.join(", ") || "none"}`;
    document.body.dataset.ready = "1";
  } catch (e) { $("#status-line").textContent = "cannot reach the server: " + e.message; }
  const tab = location.hash.replace("#", "");
  if (tab && $(`#panel-${tab}`)) showTab(tab);
}
init();
