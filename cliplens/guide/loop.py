"""The optimisation loop: prompts + guiding encoders + a parametrisation -> an image.

Two modes share one loop. ``naive`` is exactly the textbook loop: start from uniform noise,
encode the whole image, step the pixels along the gradient of the (weighted) cosine similarity,
clamp to [0, 1], repeat. ``full`` adds what made CLIP guidance produce pictures rather than
adversarial noise: an image prior (the parametrisation: flat shapes by default, or a pyramid /
Fourier / pixel image), many augmented cutouts per step, total-variation and range priors, a
warm-up + cosine learning-rate schedule, several guiding models at once and an optional init image.

    >>> from cliplens import load_encoder
    >>> enc = load_encoder("toyclip")                                        # doctest: +SKIP
    >>> res = generate(enc, "a large red circle on a white background", steps=50)  # doctest: +SKIP
    >>> res.image.size, round(res.scores[0]["score"], 2)                       # doctest: +SKIP
    ((128, 128), 0.41)
"""
from __future__ import annotations

import hashlib
import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import numpy as np
import torch
from PIL import Image

from .. import defaults
from ..errors import CapabilityError, InvalidInputError
from ..images import ImageInput, load_image
from ..models.encoder import Encoder
from ..progress import progress_bar
from ..results import Result
from .augment import CutoutConfig, make_cutouts
from .losses import anchor_loss, prompt_score, range_loss, tv_loss
from .params import PARAMS, ImageParam, canonical_param, make_param
from .prompts import WeightedPrompt, format_prompts, parse_prompts

MODES = defaults.GUIDE_MODE_CHOICES
MAX_SIDE = 4096


@dataclass
class GuideConfig:
    """Every knob of a run (stored in the output PNG, so a result can be reproduced).

    Defaults (cliplens/defaults.py) are the full method as tuned in benchmarks/guide.py;
    ``mode="naive"`` ignores the cutout, prior and schedule settings and runs the plain loop on pixels.
    """

    size: tuple[int, int] = (defaults.GUIDE_SIZE, defaults.GUIDE_SIZE)  # (height, width)
    steps: int = defaults.GUIDE_STEPS
    mode: str = defaults.GUIDE_MODE
    param: str = defaults.GUIDE_PARAM
    lr: float | None = None  # None: the parametrisation's default (naive: 0.02)
    cutouts: int = defaults.GUIDE_CUTOUTS
    shapes: int = defaults.GUIDE_SHAPES  # filled shapes (param "shapes")
    search_rounds: int = defaults.GUIDE_SEARCH_ROUNDS  # shapes: rounds of the scored design search (0: none)
    search_views: int = defaults.GUIDE_SEARCH_VIEWS  # shapes: augmented views each candidate is scored on
    search_prior: float = defaults.GUIDE_SEARCH_PRIOR  # shapes: weight of the name prior (0: off)
    restarts: int | None = None  # deprecated (the search replaced random restarts): 1 = search_rounds 0
    strokes: int = defaults.GUIDE_STROKES  # strokes (param "shapes")
    cut_min: float = 0.6
    cut_max: float = 1.0
    cut_power: float = 1.0
    full_view: bool = True
    translate: float = 0.05
    rotate: float = 5.0
    hflip: float = 0.0
    noise: float = 0.05
    jitter: float = 0.0
    tv_weight: float | None = None  # None: 0.5 where the parametrisation uses it (not for shapes)
    range_weight: float = 50.0
    warmup: float = 0.05  # fraction of steps with a linearly rising learning rate
    final_lr: float = 0.1  # the cosine schedule ends at this fraction of lr
    init_strength: float = 0.5  # with an init image: 0 keeps it, 1 ignores it (img2img convention)
    init_weight: float = 1.0  # how hard the init image holds at strength 0
    seed: int | None = defaults.GUIDE_SEED
    score_every: int = 10  # clean (un-augmented) scores recorded every this many steps

    def validate(self) -> None:
        """Raise `InvalidInputError` naming the first bad setting."""
        h, w = self.size
        if not (isinstance(h, int) and isinstance(w, int)) or h < 8 or w < 8 or h > MAX_SIDE or w > MAX_SIDE:
            raise InvalidInputError(f"size must be 8..{MAX_SIDE} pixels per side, got {w}x{h}")
        if self.steps < 1:
            raise InvalidInputError(f"steps must be at least 1, got {self.steps}")
        if self.mode not in MODES:
            raise InvalidInputError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if self.param not in PARAMS:
            self.param = canonical_param(self.param)  # old names still work; raises for unknown ones
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int)
                                      or not 0 <= self.seed <= defaults.GUIDE_MAX_SEED):
            raise InvalidInputError(f"seed must be an integer in 0..{defaults.GUIDE_MAX_SEED} (2**63 - 1), "
                                    f"got {self.seed!r}")
        if self.shapes < 0 or self.strokes < 0 or self.shapes + self.strokes < 1:
            raise InvalidInputError(f"need shapes >= 0, strokes >= 0 and at least one of them, got shapes={self.shapes} "
                                    f"strokes={self.strokes}")
        if self.restarts is not None:
            warnings.warn("the guide setting restarts is deprecated: use search_rounds (restarts=1 is "
                          "search_rounds=0)", DeprecationWarning, stacklevel=3)
            if self.restarts <= 1:
                self.search_rounds = 0
            self.restarts = None
        if self.search_rounds < 0:
            raise InvalidInputError(f"search_rounds must be 0 or more, got {self.search_rounds}")
        if self.search_views < 1:
            raise InvalidInputError(f"search_views must be at least 1, got {self.search_views}")
        if not (math.isfinite(self.search_prior) and self.search_prior >= 0):
            raise InvalidInputError(f"search_prior must be 0 or more, got {self.search_prior}")
        if self.cutouts < 1:
            raise InvalidInputError(f"cutouts must be at least 1, got {self.cutouts}")
        if not 0 < self.cut_min <= self.cut_max <= 1:
            raise InvalidInputError(f"need 0 < cut_min <= cut_max <= 1, got {self.cut_min} and {self.cut_max}")
        if not 0 <= self.init_strength <= 1:
            raise InvalidInputError(f"init_strength must be in [0, 1], got {self.init_strength}")
        if self.lr is not None and not self.lr > 0:
            raise InvalidInputError(f"lr must be positive, got {self.lr}")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["size"] = [self.size[1], self.size[0]]  # width, height as people write it
        return d


def parse_size(size: int | str | Sequence[int]) -> tuple[int, int]:
    """``512`` / ``"512"`` / ``"768x512"`` (width x height) / ``(h, w)`` -> ``(height, width)``.

    >>> parse_size("768x512")
    (512, 768)
    """
    try:
        if isinstance(size, int):
            h = w = size
        elif isinstance(size, str):
            parts = size.lower().replace("×", "x").split("x")
            if len(parts) == 1:
                h = w = int(parts[0])
            elif len(parts) == 2:
                w, h = int(parts[0]), int(parts[1])
            else:
                raise ValueError
        else:
            h, w = (int(v) for v in size)
    except (TypeError, ValueError):
        raise InvalidInputError(f"size must be N or WIDTHxHEIGHT (e.g. 512 or 768x512), got {size!r}") from None
    if h < 8 or w < 8 or h > MAX_SIDE or w > MAX_SIDE:
        raise InvalidInputError(f"size must be 8..{MAX_SIDE} pixels per side, got {w}x{h}")
    return h, w


@dataclass
class StepInfo:
    """What a per-step callback sees. ``image()`` renders the current picture (costs a copy)."""

    step: int
    steps: int
    loss: float
    lr: float
    score: float | None  # clean weighted score on this step, when it was measured
    elapsed_s: float
    _param: ImageParam = field(repr=False)

    def image(self) -> Image.Image:
        with torch.no_grad():
            return to_pil(self._param())


@dataclass
class GuideResult(Result):
    """The picture plus how it got there (`to_dict()` is what the CLI's ``--json`` and the route return).

    ``scores``: per guiding encoder, the final weighted score and the cosine to each prompt of
    the clean whole image. ``history``: ``(step, weighted score)`` every ``score_every`` steps.
    ``svg``: the picture as SVG when the parametrisation is vector (``shapes``), else None.
    ``image_sha256``: digest of the RGB pixels, so two surfaces can show they made the same image.
    """

    image: Image.Image
    tensor: torch.Tensor
    prompts: list[WeightedPrompt]
    config: GuideConfig
    models: list[str]
    scores: list[dict[str, Any]]
    history: list[tuple[int, float]]
    losses: list[float]
    seconds: float
    steps_done: int
    svg: str | None = None

    @property
    def image_sha256(self) -> str:
        return hashlib.sha256(self.image.tobytes()).hexdigest()

    def metadata(self) -> dict[str, Any]:
        """Settings for the PNG text chunks (enough to reproduce the image)."""
        return {"prompt": format_prompts(self.prompts), "models": self.models, "settings": self.config.to_dict(),
                "steps_done": self.steps_done, "seconds": round(self.seconds, 3), "scores": self.scores}

    def to_dict(self) -> dict[str, Any]:
        """Strict JSON: settings, scores, history, size and the pixel digest (not the pixels)."""
        from ..results import jsonable

        return jsonable({
            "prompt": format_prompts(self.prompts),
            "prompts": [{"text": p.text, "weight": p.weight} for p in self.prompts],
            "models": self.models, "settings": self.config.to_dict(), "width": self.image.size[0],
            "height": self.image.size[1], "steps_done": self.steps_done, "seconds": round(self.seconds, 3),
            "scores": self.scores, "history": [list(h) for h in self.history], "image_sha256": self.image_sha256,
            "svg": self.svg, "errors": self.errors})


def to_pil(x01: torch.Tensor) -> Image.Image:
    """``(1, 3, h, w)`` or ``(3, h, w)`` in [0, 1] -> 8-bit RGB image."""
    x = x01.detach().float().cpu()
    if x.ndim == 4:
        x = x[0]
    arr = (x.clamp(0, 1).permute(1, 2, 0).numpy() * 255.0 + 0.5).astype(np.uint8)
    return Image.fromarray(arr, "RGB")


def image_to_tensor(source: ImageInput, size: tuple[int, int]) -> torch.Tensor:
    """Load any image source, resize it to ``(h, w)`` and return ``(1, 3, h, w)`` in [0, 1]."""
    img = load_image(source).resize((size[1], size[0]), Image.Resampling.LANCZOS)
    return torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0).permute(2, 0, 1)[None].contiguous()


def _as_encoders(encoders: Encoder | Sequence[Encoder | tuple[Encoder, float]]) -> list[tuple[Encoder, float]]:
    items = [encoders] if isinstance(encoders, Encoder) else list(encoders)
    if not items:
        raise InvalidInputError("give at least one guiding encoder")
    out: list[tuple[Encoder, float]] = []
    for it in items:
        enc, weight = it if isinstance(it, tuple) else (it, 1.0)
        if not isinstance(enc, Encoder):
            raise InvalidInputError(f"guiding models must be Encoders (from load_encoder), got {type(enc).__name__}")
        if not enc.differentiable:
            raise CapabilityError(
                f"{enc.name} ({enc.backend}) has no differentiable image path, so it cannot guide; use an "
                "open_clip or transformers model (e.g. toyclip)")
        if weight <= 0:
            raise InvalidInputError(f"model weights must be positive, got {weight} for {enc.name}")
        out.append((enc, float(weight)))
    devices = {str(e.device) for e, _ in out}
    if len(devices) > 1:
        raise InvalidInputError(f"all guiding models must be on one device, got {', '.join(sorted(devices))}")
    total = sum(w for _, w in out)
    return [(e, w / total) for e, w in out]


def _lr_at(step: int, cfg: GuideConfig, base: float) -> float:
    """Linear warm-up, then cosine decay to ``final_lr * base`` (the full method); constant when naive."""
    if cfg.mode == "naive":
        return base
    warm = max(1, round(cfg.warmup * cfg.steps))
    if step < warm:
        return base * (step + 1) / warm
    t = (step - warm) / max(1, cfg.steps - warm)
    return base * (cfg.final_lr + (1 - cfg.final_lr) * 0.5 * (1 + math.cos(math.pi * t)))


def _swap_legacy_order(encoders: Any, prompts: Any) -> tuple[Any, Any]:
    """`generate(prompt, encoder)` was the old order; accept it for now, with a DeprecationWarning."""
    first_is_model = isinstance(encoders, Encoder) or (
        isinstance(encoders, (list, tuple)) and encoders and all(
            isinstance(e, Encoder) or (isinstance(e, tuple) and e and isinstance(e[0], Encoder)) for e in encoders))
    second_is_model = isinstance(prompts, Encoder) or (
        isinstance(prompts, (list, tuple)) and prompts and all(
            isinstance(e, Encoder) or (isinstance(e, tuple) and e and isinstance(e[0], Encoder)) for e in prompts))
    if not first_is_model and second_is_model:
        warnings.warn("generate(prompt, encoder) is deprecated: call generate(encoder, prompt)", DeprecationWarning,
                      stacklevel=3)
        return prompts, encoders
    return encoders, prompts


def _make(cfg: GuideConfig, gen: torch.Generator) -> ImageParam:
    """The run's parametrisation, drawn from `gen` (so a seed fixes it)."""
    if cfg.mode == "naive":
        return make_param("pixels", cfg.size, gen)
    if cfg.param == "pixels":
        return make_param("pixels", cfg.size, gen, init="gray")
    if cfg.param == "shapes":
        return make_param("shapes", cfg.size, gen, shapes=cfg.shapes, strokes=cfg.strokes)
    return make_param(cfg.param, cfg.size, gen)


def _searched_start(cfg: GuideConfig, gen: torch.Generator, device: torch.device, guides, targets,
                    weights: torch.Tensor, view: tuple[int, int]):
    """Shapes: the picture the design search picks (see `search`), as a parametrisation, plus the
    scorer (more views than the search used) that decides whether the gradient polish is kept.

    Candidates are drawn at the guiding models' resolution (the shorter side = the view's), then
    the chosen design is drawn at the output size.
    """
    from .search import Design, NamePrior, Scorer, search
    from .shapes import ShapesImage

    h, w = cfg.size
    k = min(view) / min(h, w)
    small = (max(8, round(h * k)), max(8, round(w * k)))
    scorer = Scorer(guides, targets, weights, view, views=cfg.search_views, generator=gen,
                    cut_min=max(cfg.cut_min, 0.7), rotate=cfg.rotate, translate=cfg.translate)
    recheck = Scorer(guides, targets, weights, view, views=3 * cfg.search_views, generator=gen,
                     cut_min=max(cfg.cut_min, 0.7), rotate=cfg.rotate, translate=cfg.translate)
    prior = start = None
    if cfg.search_prior > 0:  # start from the primitive and count the prompt names, if it names one
        prior = NamePrior(guides, targets, weights, cfg.search_prior, max_count=cfg.shapes)
        kind, count = prior.best()
        start = Design(kind=kind, count=count)
    design, _ = search(scorer, small, device, start=start, rounds=cfg.search_rounds, max_count=cfg.shapes,
                       recheck=recheck, prior=prior)
    figures = design.figures(w / h) if cfg.shapes else []
    param = ShapesImage.from_design(cfg.size, figures, design.background, strokes=cfg.strokes, generator=gen)
    return param.to(device), recheck


def generate(
    encoders: Encoder | Sequence[Encoder | tuple[Encoder, float]],
    prompts: str | Sequence[str | WeightedPrompt | tuple[str, float]],
    config: GuideConfig | None = None,
    *,
    init_image: ImageInput | None = None,
    callback: Callable[[StepInfo], bool | None] | None = None,
    progress: bool = False,
    **overrides: Any,
) -> GuideResult:
    """Generate an image whose CLIP embedding(s) match the weighted prompts (the guide's one call).

    `encoders`: one Encoder, or several (optionally as ``(encoder, weight)``) that guide together.
    `prompts`: text; weights in A1111 form, ``"a lighthouse, (fog:0.5), (blurry:-0.5)"``, or
    parts separated by ``|``. `overrides` set `GuideConfig` fields (``size`` may be ``512`` or
    ``"768x512"``). `callback` runs after every step with a `StepInfo`; returning ``True`` stops
    early. Same seed and settings on the same device give the same image.

    >>> res = generate(enc, "a red star, (blurry:-0.5)", size=64, steps=20, seed=1)  # doctest: +SKIP
    """
    encoders, prompts = _swap_legacy_order(encoders, prompts)
    cfg = replace(config or GuideConfig())
    known = {f.name for f in fields(GuideConfig)}
    for k, v in overrides.items():
        if k not in known:
            raise InvalidInputError(f"unknown guide setting {k!r}; known: {', '.join(sorted(known))}")
        setattr(cfg, k, parse_size(v) if k == "size" else v)
    cfg.size = parse_size(cfg.size)
    cfg.validate()
    if cfg.mode == "naive":
        cfg.param = "pixels"  # the naive loop always optimises plain pixels; say so in the settings
    wprompts = parse_prompts(prompts)
    guides = _as_encoders(encoders)
    device = guides[0][0].device

    t0 = time.perf_counter()  # seconds count the search too
    gen = torch.Generator().manual_seed(cfg.seed if cfg.seed is not None else int(torch.seed() % (2**63)))
    naive = cfg.mode == "naive"
    param = _make(cfg, gen).to(device)
    tv_weight = cfg.tv_weight if cfg.tv_weight is not None else (0.5 if param.uses_tv else 0.0)
    base_lr = cfg.lr if cfg.lr is not None else (0.02 if naive else param.default_lr)

    init = None
    if init_image is not None:
        init = image_to_tensor(init_image, cfg.size).to(device)
        with torch.no_grad():
            start = (1 - cfg.init_strength) * init + cfg.init_strength * param()
        param.set_image(start)

    texts = [p.text for p in wprompts]
    weights = torch.tensor([p.weight for p in wprompts], dtype=torch.float32, device=device)
    targets = [enc.encode_text_tensor(texts).float() for enc, _ in guides]
    view = (max(e.image_size[0] for e, _ in guides), max(e.image_size[1] for e, _ in guides))
    cut_cfg = CutoutConfig(min_frac=cfg.cut_min, max_frac=cfg.cut_max, power=cfg.cut_power,
                           full_view=cfg.full_view, translate=cfg.translate, rotate=cfg.rotate,
                           hflip=cfg.hflip, noise=cfg.noise, jitter=cfg.jitter)

    def clean_scores() -> tuple[float, list[dict[str, Any]]]:
        with torch.no_grad():
            img = param()
            total, rows = 0.0, []
            for (enc, mw), tgt in zip(guides, targets):
                f = enc.encode_unit_images(img)
                s = float(prompt_score(f, tgt, weights))
                total += mw * s
                rows.append({"model": enc.name, "score": s,
                             "cosines": {t: float(c) for t, c in zip(texts, (f @ tgt.T)[0].tolist())}})
        return total, rows

    scorer = start_state = None
    if not naive and init is None and cfg.search_rounds > 0 and cfg.param == "shapes":
        param, scorer = _searched_start(cfg, gen, device, guides, targets, weights, view)
        start_state = {k: v.detach().clone() for k, v in param.state_dict().items()}

    params = list(param.parameters())
    groups = param.param_groups()
    opt = torch.optim.Adam([{"params": g["params"], "lr": base_lr * g["lr_scale"], "lr_scale": g["lr_scale"]}
                            for g in groups], lr=base_lr)
    history: list[tuple[int, float]] = [(0, clean_scores()[0])]
    losses: list[float] = []
    steps_done = 0
    with progress_bar(cfg.steps, "steps", enabled=progress, desc="guide") as bar:
        for step in range(cfg.steps):
            lr = _lr_at(step, cfg, base_lr)
            for g in opt.param_groups:
                g["lr"] = lr * g["lr_scale"]
            param.set_progress(step / max(1, cfg.steps - 1))
            raw = param.raw()
            img = param.squash(raw)
            loss = torch.zeros((), device=device)
            for (enc, mw), tgt in zip(guides, targets):
                views = img if naive else make_cutouts(img, cfg.cutouts, view, cut_cfg, gen)
                loss = loss - mw * prompt_score(enc.encode_unit_images(views), tgt, weights)
            if not naive:
                if tv_weight:
                    loss = loss + tv_weight * tv_loss(img)
                if not param.bounded and cfg.range_weight:
                    loss = loss + cfg.range_weight * range_loss(raw)
                if init is not None and cfg.init_weight and cfg.init_strength < 1:
                    loss = loss + cfg.init_weight * (1 - cfg.init_strength) * anchor_loss(img, init)
            # only the image's gradient, never the models'; unused parameters (e.g. zero strokes) get None
            grads = torch.autograd.grad(loss, params, allow_unused=True)
            for p, g in zip(params, grads):
                p.grad = g
            opt.step()
            param.project()
            steps_done = step + 1
            loss_val = float(loss.detach())
            losses.append(loss_val)
            score = None
            if cfg.score_every and (steps_done % cfg.score_every == 0 or steps_done == cfg.steps):
                score = clean_scores()[0]
                history.append((steps_done, score))
            bar.update(1)
            if score is not None:
                bar.set_postfix(score=f"{score:.3f}")
            if callback is not None and callback(StepInfo(steps_done, cfg.steps, loss_val, lr, score,
                                                          time.perf_counter() - t0, param)):
                break
    if scorer is not None:
        # the gradient steps are kept only if they raised the score over the scorer's many views
        with torch.no_grad():
            refined = float(scorer(param())[0])
            refined_state = {k: v.detach().clone() for k, v in param.state_dict().items()}
            param.load_state_dict(start_state)
            if refined > float(scorer(param())[0]):
                param.load_state_dict(refined_state)
    seconds = time.perf_counter() - t0
    with torch.no_grad():
        final = param().detach()
    total, rows = clean_scores()
    if not history or history[-1][0] != steps_done:
        history.append((steps_done, total))
    svg = param.to_svg() if hasattr(param, "to_svg") else None
    return GuideResult(image=to_pil(final), tensor=final.cpu(), prompts=wprompts, config=cfg,
                       models=[e.name for e, _ in guides], scores=rows, history=history, losses=losses,
                       seconds=seconds, steps_done=steps_done, svg=svg)
