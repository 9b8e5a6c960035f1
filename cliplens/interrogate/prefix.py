"""Score many "<prompt>, <candidate>" texts by encoding the shared prefix once (a KV cache).

CLIP's text tower is causal: the hidden states of the prefix ``"<BOS> <current prompt> ,"``
do not depend on what follows. So the prefix runs through the tower once, each layer's keys and
values are kept, and every candidate only pushes its own few tokens (plus the end token) through
the layers, attending to the cached prefix. For a 40-token prompt and 4-token candidates that is
~10x fewer token-layer passes than re-encoding every full prompt, with the same result up to
float rounding (tests check it against plain encoding).

The tower's pieces come from the backend (`Encoder.causal_text_tower()`, open_clip's
`ResidualAttentionBlock` and transformers' `CLIPTextModel` towers); anything else (ONNX graphs, SigLIP's non-causal tower, exotic blocks) falls back to batched plain
encoding of the joined token ids, which still skips re-tokenising the prompt.

    >>> scorer = PrefixScorer(enc)                                              # doctest: +SKIP
    >>> feats = scorer.encode_continuations(enc.token_ids("a red star,"), [enc.token_ids("neon")])  # doctest: +SKIP
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ..models.encoder import Encoder
from ..models.text_tower import CausalTextTower


def _split_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    b, n, w = x.shape
    return x.view(b, n, heads, w // heads).transpose(1, 2)


def _causal(s_len: int, device) -> torch.Tensor:
    return torch.ones(s_len, s_len, dtype=torch.bool, device=device).tril()


def _attend(q, k, v, pk, pv, mask):
    """Attention of suffix queries over (cached prefix keys) + (masked suffix keys); returns (B, Sq, H * hd).

    q: (B, H, Sq, hd); k, v: (B, H, S, hd); pk, pv: (1, H, P, hd) or None; mask: bool, broadcastable
    to (B, H, Sq, S), True where a query may see a suffix key. The prefix part runs as one
    head-major matrix product over every query of the batch (no per-candidate copy of the prefix).
    """
    b, h, sq, hd = q.shape
    scale = hd ** -0.5
    ss = (q @ k.transpose(-1, -2)) * scale
    ss = ss.masked_fill(~mask, float("-inf"))
    if pk is None:
        w = torch.softmax(ss.float(), dim=-1).to(q.dtype)
        return (w @ v).transpose(1, 2).reshape(b, sq, h * hd)
    p_len = pk.shape[2]
    qh = q.transpose(0, 1).reshape(h, b * sq, hd)
    ps = torch.bmm(qh, pk[0].transpose(1, 2)) * scale  # (H, B*Sq, P)
    w = torch.softmax(torch.cat([ps, ss.transpose(0, 1).reshape(h, b * sq, -1)], dim=-1).float(), dim=-1).to(q.dtype)
    o_p = torch.bmm(w[..., :p_len], pv[0])  # (H, B*Sq, hd)
    o_s = w[..., p_len:].reshape(h, b, sq, -1).transpose(0, 1) @ v  # (B, H, Sq, hd)
    return (o_p.view(h, b, sq, hd).transpose(0, 1) + o_s).transpose(1, 2).reshape(b, sq, h * hd)


class PrefixScorer:
    """Encode ``prefix + continuation`` for many continuations, reusing the prefix's keys/values.

    `uses_cache` tells whether the KV path is active for this encoder (else plain batched encoding).
    """

    def __init__(self, encoder: Encoder, batch_size: int = 256):
        self.enc = encoder
        self.batch_size = batch_size
        # the backend hands out its tower's pieces (models/ knows its layout), or None: plain encoding
        self.tower: CausalTextTower | None = encoder.causal_text_tower()
        tok = encoder.tokenize(["x"])[0].tolist()
        self.bos_id = int(tok[0])
        self.eot_id = int(encoder.eot_id) if encoder.eot_id is not None else None

    @property
    def uses_cache(self) -> bool:
        return self.tower is not None

    # ------------------------------------------------------------------ KV path
    @torch.inference_mode()
    def _prefix_kv(self, prefix: list[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        tower = self.tower
        ids = torch.tensor([[self.bos_id, *prefix]], device=self.enc.device)
        x = tower.embed(ids, 0)
        cache = []
        mask = _causal(x.shape[1], x.device)
        for lyr in tower.layers:
            h = lyr.ln1(x)
            q, k, v = (_split_heads(t, lyr.heads) for t in lyr.qkv(h))
            x = x + lyr.ls1(lyr.out(_attend(q, k, v, None, None, mask)))
            x = x + lyr.ls2(lyr.mlp(lyr.ln2(x)))
            cache.append((k, v))
        return cache

    @torch.inference_mode()
    def _suffix_feats(self, cache, start: int, ids: torch.Tensor, pool_at: torch.Tensor) -> torch.Tensor:
        """Features at the end token `pool_at[b]` of each row of `ids`; the last layer runs only that row
        past its keys/values (no other position's output is read)."""
        tower = self.tower
        x = tower.embed(ids, start)
        rows = torch.arange(x.shape[0], device=x.device)
        causal = _causal(x.shape[1], x.device)
        last = len(tower.layers) - 1
        for n, (lyr, (pk, pv)) in enumerate(zip(tower.layers, cache)):
            h = lyr.ln1(x)
            q, k, v = (_split_heads(t, lyr.heads) for t in lyr.qkv(h))
            if n == last:  # only the pooled position matters from here on
                x = x[rows, pool_at][:, None]
                q = q[rows, :, pool_at][:, :, None]
                mask = (torch.arange(k.shape[2], device=x.device)[None] <= pool_at[:, None])[:, None, None]
            else:
                mask = causal
            x = x + lyr.ls1(lyr.out(_attend(q, k, v, pk, pv, mask)))
            x = x + lyr.ls2(lyr.mlp(lyr.ln2(x)))
        return tower.project(x[:, 0])

    # ------------------------------------------------------------------ public
    def encode_continuations(self, prefix: Sequence[int], continuations: Sequence[Sequence[int]],
                             texts: Sequence[str] | None = None) -> torch.Tensor:
        """Unit features (n, d) of ``BOS + prefix + continuation_i + EOT`` for every continuation.

        `prefix` and `continuations` are BPE ids without special tokens; the caller makes sure each
        joined sequence fits the context window. `texts` (the joined strings) is only read by
        encoders whose tower is not causal (they are encoded as plain text).
        """
        n = len(continuations)
        if self.tower is None and not self.enc.trims_padding:
            if texts is None:
                raise ValueError("this encoder needs the joined texts")
            return torch.from_numpy(self.enc.encode_texts(list(texts), batch_size=self.batch_size)).to(self.enc.device)
        out = torch.empty(n, self.enc.embed_dim, dtype=torch.float32, device=self.enc.device)
        if n == 0:
            return out
        lengths = np.array([len(c) for c in continuations])
        order = np.argsort(lengths, kind="stable")
        if self.tower is not None:
            cache = self._prefix_kv(list(prefix))
            start = 1 + len(prefix)
        for s in range(0, n, self.batch_size):
            idx = order[s : s + self.batch_size]
            width = int(lengths[idx].max()) + 1
            eot = self.eot_id if self.eot_id is not None else 0
            if self.tower is not None:
                arr = np.full((len(idx), width), eot, dtype=np.int64)
                for r, i in enumerate(idx):
                    arr[r, : lengths[i]] = continuations[i]
                ids = torch.from_numpy(arr).to(self.enc.device)
                pool_at = torch.from_numpy(lengths[idx]).to(self.enc.device)
                feats = self._suffix_feats(cache, start, ids, pool_at)
            else:
                feats = self._plain(prefix, [continuations[i] for i in idx])
            out[torch.from_numpy(idx).to(out.device)] = F.normalize(feats.float(), dim=-1)
        return out

    @torch.inference_mode()
    def _plain(self, prefix: Sequence[int], conts: Sequence[Sequence[int]]) -> torch.Tensor:
        """Fallback: full sequences built from ids (no re-tokenising), padded to the batch's longest."""
        enc = self.enc
        ctx = enc.context_length
        width = min(2 + len(prefix) + max(len(c) for c in conts), ctx)
        arr = np.zeros((len(conts), width), dtype=np.int64)
        for r, c in enumerate(conts):
            seq = [self.bos_id, *prefix, *c][: ctx - 1] + [self.eot_id]
            arr[r, : len(seq)] = seq
        return enc.encode_token_tensor(torch.from_numpy(arr).to(enc.device))
