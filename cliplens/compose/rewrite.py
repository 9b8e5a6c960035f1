"""Optional: let a local LLM (any OpenAI-compatible endpoint, e.g. Ollama) polish the T5 text.

Plain HTTP with a short timeout; anything unexpected (no server, an error status, an empty or
syntax-laden answer, a changed meaning we can detect) returns the deterministic text with a
warning instead, so composing never fails because of the rewrite.

    >>> text, warning = rewrite_sentences("A red circle.", {}, "http://127.0.0.1:9/v1", timeout=0.5)
    >>> text, warning.startswith("rewrite skipped")
    ('A red circle.', True)
"""
from __future__ import annotations

import json
import os
from typing import Any

from ..text.phrases import SYNTAX_CHARS

DEFAULT_MODEL = os.environ.get("CLIPLENS_LLM_MODEL", "llama3.2")
URL_ENV = "CLIPLENS_LLM_URL"
SYSTEM_PROMPT = (
    "You rewrite image descriptions for the T5 text encoder of an image generator. Write natural, complete "
    "English sentences (or keep the input language if it is not English). Keep every visual detail, add nothing, "
    "no lists, no markdown, no quotes, no preamble: answer with the description only.")


def _endpoint(url: str) -> str:
    url = url.rstrip("/")
    if url.endswith("/chat/completions"):
        return url
    if not url.endswith("/v1"):
        url += "/v1"
    return url + "/chat/completions"


def rewrite_sentences(text: str, structured: Any, url: str | None = None, model: str | None = None,
                      timeout: float = 10.0) -> tuple[str, str | None]:
    """Ask the endpoint at `url` (``http://localhost:11434/v1`` for Ollama) to rewrite `text`.

    Returns (text, warning): the rewritten text and None, or the original text and why not.
    """
    url = url or os.environ.get(URL_ENV)
    if not url:
        return text, "rewrite skipped: no endpoint given (rewrite_url or CLIPLENS_LLM_URL)"
    import httpx

    payload = {
        "model": model or DEFAULT_MODEL,
        "temperature": 0,
        "stream": False,
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": "Structured prompt:\n" + json.dumps(structured, ensure_ascii=False, default=str)
             + "\n\nDraft description:\n" + text + "\n\nRewrite the draft."},
        ],
    }
    try:
        resp = httpx.post(_endpoint(url), json=payload, timeout=timeout)
        resp.raise_for_status()
        answer = resp.json()["choices"][0]["message"]["content"]
    except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as exc:
        return text, f"rewrite skipped: {type(exc).__name__}: {str(exc)[:160]}; using the deterministic text"
    answer = " ".join(str(answer or "").split())
    if not answer:
        return text, "rewrite skipped: the endpoint answered with empty text; using the deterministic text"
    bad = sorted({c for c in answer if c in SYNTAX_CHARS})
    if bad:
        return text, f"rewrite skipped: the answer contains syntax characters {''.join(bad)!r}; using the deterministic text"
    if len(answer) > 4 * len(text) + 200:
        return text, "rewrite skipped: the answer is far longer than the description; using the deterministic text"
    return answer, None
