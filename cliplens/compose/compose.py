"""Structured prompt -> per-encoder texts for a target model, with real token counts and warnings.

    >>> r = compose({"subject": "red fox", "setting": "snowy forest", "style": "watercolor painting"}, "flux")
    >>> r.fields["clip_l"]
    'red fox, snowy forest, watercolor painting'
    >>> r.fields["t5xxl"]
    'There is a red fox. The scene is set in a snowy forest. This is a watercolor painting.'
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .. import defaults
from ..errors import InvalidInputError
from ..results import Result
from .keywords import KEYWORD_ORDER, SYNTAXES, extract_keywords
from .parse import parse_prompt
from .rewrite import rewrite_sentences
from .sentence import realise, realise_plain
from .slots import Structured, structure
from .text import cjk_ratio
from .tokens import clip_tokens, t5_tokens


@dataclass(frozen=True)
class Target:
    """A model family: which text field goes to which encoder, and their token limits."""

    name: str
    description: str
    clip_fields: tuple[str, ...]
    t5_field: str | None
    t5_limit: int
    node: str
    negative_used: bool = True
    #: the target's UI reads ``(term:1.2)`` emphasis in its CLIP fields
    emphasis: bool = True


TARGETS: dict[str, Target] = {
    "flux": Target("flux", "FLUX.1-dev: CLIP-L keywords + T5-XXL sentences (512 T5 tokens)", ("clip_l",), "t5xxl", 512,
                   "CLIPTextEncodeFlux", negative_used=False),
    "flux-schnell": Target("flux-schnell", "FLUX.1-schnell: CLIP-L keywords + T5-XXL sentences (256 T5 tokens)",
                           ("clip_l",), "t5xxl", 256, "CLIPTextEncodeFlux", negative_used=False),
    "sd3": Target("sd3", "SD3/3.5: CLIP-L and CLIP-G keywords + T5-XXL sentences (256 T5 tokens)",
                  ("clip_l", "clip_g"), "t5xxl", 256, "CLIPTextEncodeSD3"),
    "sdxl": Target("sdxl", "SDXL: text_g (OpenCLIP bigG) and text_l (CLIP-L) both get every keyword, in the same "
                           "order; each reads its own CLIP token window", ("text_g", "text_l"), None, 0,
                   "CLIPTextEncodeSDXL"),
    "sd15": Target("sd15", "SD 1.x: one CLIP-L prompt", ("text",), None, 0, "CLIPTextEncode"),
}
TARGETS["flux-dev"] = TARGETS["flux"]


@dataclass
class ComposeResult(Result):
    """Everything `compose` produced; `to_dict()` is what `--json`, `--format json` and /api/compose return.

    `fields`: encoder field -> text; `tokens`: field -> {tokens, limit, tokenizer, exact};
    `dropped`: keywords left out of a CLIP field (past its window); `emphasis_removed`: weighted
    terms whose weight could not be carried (T5 reads no weight syntax); `warnings`: one line each.
    """

    target: str
    fields: dict[str, str]
    negative: str = ""
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    dropped: dict[str, list[str]] = field(default_factory=dict)
    chunks: dict[str, list[str]] = field(default_factory=dict)
    emphasis_removed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    source_format: str = "json"
    params: dict[str, Any] = field(default_factory=dict)
    rewritten: bool = False

    def outputs(self) -> list[dict[str, Any]]:
        """One entry per encoder text (and the negative): name, text, tokens, budget, tokenizer, estimated."""
        out = []
        for name, text in [*self.fields.items(), *([("negative", self.negative)] if self.negative else [])]:
            tk = self.tokens.get(name, {})
            out.append({"name": name, "text": text, "tokens": tk.get("tokens"), "budget": tk.get("limit"),
                        "tokenizer": tk.get("tokenizer"), "estimated": not tk.get("exact", True)})
        return out

    def to_dict(self) -> dict[str, Any]:
        """The dataclass fields plus two derived views: `outputs` (each encoder text with its count, as
        pages show them) and `comfyui` (`to_comfyui()` with the default CLIP node)."""
        d = super().to_dict()
        d["outputs"] = self.outputs()
        d["comfyui"] = self.to_comfyui()
        return d

    def to_comfyui(self, clip_node: str = "4", clip_output: int = 0) -> dict[str, Any]:
        """API-format ComfyUI nodes (positive, and negative when given) wired to `clip_node`'s CLIP output.

        Node input names are those of ComfyUI's own CLIPTextEncodeFlux / CLIPTextEncodeSD3 /
        CLIPTextEncodeSDXL / CLIPTextEncode. Paste the nodes into a workflow and point the
        sampler's positive/negative inputs at ``["cliplens_positive", 0]`` / ``["cliplens_negative", 0]``.
        """
        t = TARGETS[self.target]
        clip = [str(clip_node), int(clip_output)]
        p = self.params

        def node(texts: dict[str, str], title: str) -> dict[str, Any]:
            inputs: dict[str, Any] = {"clip": clip}
            if t.node == "CLIPTextEncodeFlux":
                inputs.update(clip_l=texts["clip_l"], t5xxl=texts["t5xxl"], guidance=float(p.get("guidance", 3.5)))
            elif t.node == "CLIPTextEncodeSD3":
                inputs.update(clip_l=texts["clip_l"], clip_g=texts["clip_g"], t5xxl=texts["t5xxl"],
                              empty_padding="none")
            elif t.node == "CLIPTextEncodeSDXL":
                w, h = int(p.get("width", 1024)), int(p.get("height", 1024))
                inputs.update(width=w, height=h, crop_w=int(p.get("crop w", 0)), crop_h=int(p.get("crop h", 0)),
                              target_width=int(p.get("target width", w)), target_height=int(p.get("target height", h)),
                              text_g=texts["text_g"], text_l=texts["text_l"])
            else:
                inputs.update(text=texts["text"])
            return {"class_type": t.node, "inputs": inputs, "_meta": {"title": title}}

        nodes = {"cliplens_positive": node(self.fields, "cliplens positive")}
        if self.negative:
            neg = {k: self.negative for k in self.fields}
            nodes["cliplens_negative"] = node(neg, "cliplens negative")
        return nodes

    def to_text(self) -> str:
        """Human-readable block: each field with its token count, then negative, dropped, warnings."""
        lines = [f"target: {self.target} ({TARGETS[self.target].description})"]
        for name, text in self.fields.items():
            tk = self.tokens.get(name, {})
            label = f"{tk.get('tokens')}/{tk.get('limit')} tokens" + ("" if tk.get("exact", True) else " (estimate)")
            lines.append(f"[{name}] {label}")
            lines.append(text)
            lines.append("")
        if self.negative:
            tk = self.tokens.get("negative", {})
            lines.append(f"[negative] {tk.get('tokens')}/{tk.get('limit')} tokens")
            lines.append(self.negative)
            lines.append("")
        for w in self.warnings:
            lines.append(f"warning: {w}")
        return "\n".join(lines).rstrip() + "\n"


def _structured_view(s: Structured) -> dict[str, list[str]]:
    view: dict[str, list[str]] = {}
    for it in s.items:
        view.setdefault(it.slot, []).append(it.text)
    return view


def _weight_text(term: str, w: float) -> str:
    return f"({term}:{round(w, 2):g})" if w >= 1 else f"[{term}]" if abs(w - 1 / 1.1) < 1e-3 else f"({term}:{round(w, 2):g})"


def compose(prompt: Any, target: str = defaults.COMPOSE_TARGET, *, input_format: str = defaults.COMPOSE_INPUT_FORMAT,
            clip: Any = None, t5_tokenizer: Any = None, emphasis: dict[str, float] | None = None,
            syntax: str = defaults.COMPOSE_SYNTAX, chunk: bool = False, rewrite_url: str | None = None,
            rewrite_model: str | None = None, rewrite_timeout: float = defaults.COMPOSE_REWRITE_TIMEOUT
            ) -> ComposeResult:
    """Compose the texts a `target` model's encoders want from a structured prompt.

    `prompt`: a dict/list (already parsed) or text (JSON, Python dict literal, YAML or plain).
    `clip`: None (the bundled OpenAI CLIP BPE, no model), an `Encoder`, or a CLIP tokenizer folder.
    `t5_tokenizer`: a T5 tokenizer path (else ``CLIPLENS_T5_TOKENIZER``, the HF cache, or an estimate).
    `emphasis`: {slot or keyword: weight} written as ``(kw:1.2)``; weights written in the prompt,
    ``(term:1.2)`` / ``[term]``, are carried into the CLIP fields (A1111 and ComfyUI read them) and
    reported in `emphasis_removed` + a warning for T5, which reads no weights. `chunk`: BREAK
    chunks instead of dropping keywords past the CLIP window; `rewrite_url`: an OpenAI-compatible
    endpoint that polishes the T5 sentences (the deterministic text is kept if it fails).

    SDXL: text_g (OpenCLIP bigG) and text_l (CLIP-L) both get every keyword in the same order,
    as SDXL UIs send one prompt to both encoders.

    >>> compose({"subject": "castle", "count": 3}, "sd15").fields["text"]
    'three castles'
    """
    if target not in TARGETS:
        raise InvalidInputError(f"unknown target {target!r}: target must be one of {', '.join(sorted(TARGETS))}")
    if syntax not in SYNTAXES:
        raise InvalidInputError(f"syntax must be one of {', '.join(SYNTAXES)}, got {syntax!r}")
    t = TARGETS[target]
    if isinstance(prompt, (str, bytes)):
        data, fmt = parse_prompt(prompt, input_format)
    else:
        data, fmt = prompt, "object"
    s = structure(data)
    if not [i for i in s.items if i.slot != "negative"]:
        raise InvalidInputError("the prompt has no text to compose (only empty values, parameters or a negative)")
    counter = clip_tokens(clip)
    budget = counter.budget
    result = ComposeResult(target=t.name, fields={}, source_format=fmt, params=dict(s.params))

    def clip_field(name: str, slots: tuple[str, ...]) -> None:
        kw = extract_keywords(s, counter, slots=slots, emphasis=emphasis, chunk=chunk, syntax=syntax)
        result.fields[name] = kw.text
        result.tokens[name] = {"tokens": kw.tokens, "limit": budget * max(1, len(kw.chunks)) if chunk else budget,
                               "tokenizer": counter.name, "exact": True}
        if kw.dropped:
            result.dropped[name] = kw.dropped
            result.warnings.append(f"{name}: {len(kw.dropped)} keyword(s) past CLIP's {budget}-token window "
                                   f"were dropped: {', '.join(kw.dropped)} (chunk=True keeps them in BREAK chunks)")
        if chunk and len(kw.chunks) > 1:
            result.chunks[name] = kw.chunks

    # a keyword list keeps the writer's order; structured prompts get the most visual slots first
    order = tuple(dict.fromkeys(i.slot for i in s.items)) if s.keyword_list else KEYWORD_ORDER
    for name in t.clip_fields:
        clip_field(name, order)

    if t.t5_field:
        sentences = realise_plain(s.plain_text) if s.plain_text and not s.keyword_list else realise(s)
        if rewrite_url:
            sentences, warn = rewrite_sentences(sentences, _structured_view(s), rewrite_url, rewrite_model,
                                                rewrite_timeout)
            result.rewritten = warn is None
            if warn:
                result.warnings.append(warn)
        t5 = t5_tokens(t5_tokenizer)
        n = t5.count(sentences)
        result.fields[t.t5_field] = sentences
        result.tokens[t.t5_field] = {"tokens": n, "limit": t.t5_limit, "tokenizer": t5.source, "exact": t5.exact}
        if n > t.t5_limit:
            _, over = t5.cut(sentences, t.t5_limit)
            result.warnings.append(f"{t.t5_field}: {n} tokens{'' if t5.exact else ' (estimated)'} but {t.name} reads "
                                   f"{t.t5_limit}; cut off from: {over[:200]!r}")
        weighted = [_weight_text(k, w) for k, w in s.weights.items() if abs(w - 1.0) > 1e-9]
        if weighted:
            result.emphasis_removed = weighted
            result.warnings.append(f"{t.t5_field}: emphasis {', '.join(weighted)} removed (T5 reads no weight "
                                   f"syntax); it is kept in {', '.join(t.clip_fields)}")

    text = " ".join(i.text for i in s.items)
    if cjk_ratio(text) > 0.05:
        readers = "CLIP-L and T5-XXL read" if t.t5_field else "CLIP reads"
        result.warnings.append(f"{readers} English best: non-English values are kept as written, but an English "
                               "translation of them will match the picture more reliably")

    neg = [i for i in s.items if i.slot == "negative"]
    if neg:
        negs = Structured(items=[type(i)(i.text, "subject", i.key, i.weight, i.group) for i in neg],
                          weights=s.weights)
        kw = extract_keywords(negs, counter, slots=("subject",), chunk=chunk, syntax=syntax)
        result.negative = kw.text
        result.tokens["negative"] = {"tokens": kw.tokens, "limit": budget, "tokenizer": counter.name, "exact": True}
        if kw.dropped:
            result.dropped["negative"] = kw.dropped
            result.warnings.append(f"negative: dropped past {budget} tokens: {', '.join(kw.dropped)}")
        if not t.negative_used:
            result.warnings.append(f"{t.name} is guidance-distilled and ignores negative prompts unless you run "
                                   "true CFG; the negative text is given anyway")
    return result


def compose_json(prompt: Any, target: str = defaults.COMPOSE_TARGET, **kw: Any) -> str:
    """`compose(...)` as a JSON string (what `--format json` prints)."""
    return json.dumps(compose(prompt, target, **kw).to_dict(), ensure_ascii=False, indent=2)
