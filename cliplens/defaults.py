"""Every default that a user can see, in one place: the CLI, the HTTP API, the page and the
library all read them from here, so the same request gives the same answer on every surface.

Each capability owns one section. Change a default here and nowhere else.
"""
from __future__ import annotations

# ---------------------------------------------------------------------------------------- shared
#: how many results a ranked answer returns when the caller does not say (search, rank, tag, ...)
TOP_K = 10
#: what a batch does with an item that fails: "skip" (report it in `errors`, go on) or "raise"
ON_ERROR = "skip"
ON_ERROR_CHOICES = ("skip", "raise")
#: the model used when none is named
MODEL = "sd15"

# ----------------------------------------------------------------------------------------- guide
#: image parametrisation: "shapes" won benchmarks/guide.py (see BENCHMARKS.md, guide section)
GUIDE_PARAM = "shapes"
GUIDE_PARAM_CHOICES = ("pixels", "fourier", "pyramid", "shapes")
#: "full" (augmented cutouts, priors, schedule) | "naive" (the textbook loop on pixels)
GUIDE_MODE = "full"
GUIDE_MODE_CHOICES = ("full", "naive")
#: output side in pixels (or "WxH"); the toy models see 64 px, so 128 is plenty for them
GUIDE_SIZE = 128
GUIDE_STEPS = 40
#: augmented views of the image per step
GUIDE_CUTOUTS = 4
GUIDE_SEED = 0
#: largest seed (torch generators take 64-bit signed seeds)
GUIDE_MAX_SEED = 2**63 - 1
#: "shapes": at most this many figures (a group of up to 4) and this many free strokes on top
GUIDE_SHAPES = 4
GUIDE_STROKES = 0
#: "shapes": rounds of the scored design search before the gradient steps (0: a random start),
#: and how many augmented views each candidate picture is scored on
GUIDE_SEARCH_ROUNDS = 2
GUIDE_SEARCH_VIEWS = 4
#: "shapes": weight of the name prior (how well the prompt's text matches a design's plain
#: description, "three circles"; cliplens.guide.search.NamePrior); 0 turns it off
GUIDE_SEARCH_PRIOR = 1.0

# --------------------------------------------------------------------------------------- compose
#: model family the prompt composer writes for (cliplens.compose.TARGETS)
COMPOSE_TARGET = "flux"
COMPOSE_TARGET_CHOICES = ("flux", "flux-dev", "flux-schnell", "sd3", "sdxl", "sd15")
#: how a prompt text is read: "auto" tries JSON, a Python literal, YAML, then plain text
COMPOSE_INPUT_FORMAT = "auto"
COMPOSE_INPUT_FORMAT_CHOICES = ("auto", "json", "python", "yaml", "text")
#: emphasis / BREAK syntax of the CLIP fields: "a1111" (A1111, Forge) or "comfyui"
COMPOSE_SYNTAX = "a1111"
COMPOSE_SYNTAX_CHOICES = ("a1111", "comfyui")
#: seconds to wait for the optional LLM rewrite endpoint before keeping the deterministic text
COMPOSE_REWRITE_TIMEOUT = 10.0
#: output of `cliplens prompt compose`: "text" | "json" | "comfyui" (API-format nodes)
COMPOSE_FORMAT = "text"
COMPOSE_FORMAT_CHOICES = ("text", "json", "comfyui")

# ----------------------------------------------------------------------------------- interrogate
#: mode when none is given, on every surface (CLI, Python, HTTP API, page)
INTERROGATE_MODE = "best"
INTERROGATE_MODES = ("best", "classic", "fast", "negative", "style", "caption", "analyze")
#: chains (best/negative/style) add at least this many phrases ...
INTERROGATE_MIN_FLAVORS = 8
#: ... and at most this many; fast mode takes this many top phrases
INTERROGATE_MAX_FLAVORS = 32
#: classic mode's flavor phrases after caption/medium/artist/trending/movement (when max_flavors is not given)
INTERROGATE_CLASSIC_FLAVORS = 3
#: parts whose confidence is below this are left out of the prompt (None: keep every part, mark weak ones)
INTERROGATE_MIN_CONFIDENCE = None
#: a part whose confidence is below this is shown as weak (CLI, page)
INTERROGATE_WEAK_CONFIDENCE = 0.7
#: an artist enters a prompt only with at least this confidence (attribution is a guess; 1.0 = stands
#: out from the artist list more than the best of that many unrelated names would by chance)
INTERROGATE_ARTIST_MIN_CONFIDENCE = 1.0
#: two phrases whose (table-centred) embeddings are closer than this never both appear in a prompt
INTERROGATE_DEDUPE_SIMILARITY = 0.95
#: negative mode: phrases naming what the image is NOT, before the common defect terms
INTERROGATE_NEGATIVE_STYLE_PHRASES = 6
#: best/negative/style chains: phrases pre-selected per image, continuations scored exactly per step after
#: the first, and prompts kept per step (beam). Chosen by benchmarks/interrogate_vs_clip_interrogator.py
#: --full-vocab: at least clip-interrogator's similarity on every image, ~50x faster (BENCHMARKS.md);
#: the exact greedy chain (2048, 2048, 1) is ~1.7x faster and was 0.0079 less similar on one image.
INTERROGATE_FLAVOR_POOL = 8192
INTERROGATE_SHORTLIST = 384
INTERROGATE_BEAM = 3
#: longest caption accepted (characters); longer ones are refused by the HTTP API, cut by the library
INTERROGATE_MAX_CAPTION_CHARS = 2000

# ------------------------------------------------------------- judge / classify / similarity ("A")
#: prompts longer than the text window: "warn" (cut like CLIP does, report it) | "truncate" | "chunks" | "error"
LONG_PROMPTS = "warn"
LONG_PROMPTS_CHOICES = ("warn", "truncate", "chunks", "error")
#: best-of-N keeps every candidate (best first) unless top_k is given
RANK_TOP_K: int | None = None
#: feedback: how many "shows but not asked for" phrases, and the presence needed for "present"
FEEDBACK_UNREQUESTED_K = 8
FEEDBACK_MARGIN = 0.0
#: zero-shot template ensemble: OpenAI's 7-template subset of its 80 ImageNet templates. OpenAI
#: chose these 7 because their ensemble scores like the full 80 on ImageNet, at 1/11 of the text
#: passes; 4 plain templates ("short") were the old Python/page default, 80 the old CLI default.
CLASSIFY_TEMPLATES = "imagenet7"
#: labels listed per image
CLASSIFY_TOP_K = 5
#: tags: score kind, how a tag is written for CLIP, tags kept per image, server's vocabulary
TAG_SCORE = "margin"
TAG_TEMPLATE = "{}"
TAG_TOP_K = TOP_K
TAG_VOCABULARY = "mediums"
#: sidecars: "append" keeps what is there and adds missing tags; "full" names a.png -> a.png.txt
SIDECAR_MODE = "append"
SIDECAR_MODE_CHOICES = ("append", "overwrite", "skip")
SIDECAR_NAMING = "full"
SIDECAR_NAMING_CHOICES = ("full", "stem")
#: request bounds for work that multiplies (labels x templates texts are encoded per request)
MAX_LABELS = 1000
MAX_TEMPLATES = 100
MAX_LABEL_TEXTS = 8192
MAX_TAG_TOP_K = 200

# ------------------------------------------------------------------------------------ search ("B")
#: hits per query (the page asks for more by sending top_k)
SEARCH_TOP_K = TOP_K
#: most hits one request may ask for, and bounds of the server's search filters
MAX_SEARCH_TOP_K = 1000
MAX_SEARCH_FOLDERS = 64
MAX_PIXEL_FILTER = 1_000_000
#: cosine similarity above which two indexed images are near-duplicates (resized/recompressed copies)
DEDUPE_THRESHOLD = 0.95
#: images per embedding batch and per commit when indexing (a kill loses at most one batch)
INDEX_BATCH_SIZE = 64
