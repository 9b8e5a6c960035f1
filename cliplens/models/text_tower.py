"""A causal CLIP text tower taken apart layer by layer, for callers that cache a prefix's keys/values.

The interrogator scores thousands of "<prompt>, <candidate>" texts by running the shared prefix
through the tower once and each candidate's few tokens against the cached keys/values
(`cliplens.interrogate.prefix`). That needs the tower's pieces (embeddings, per-layer
norm/qkv/out/mlp, final norm and projection), which only the backend knows how to reach: each
backend returns them through `Encoder.causal_text_tower()`, or None when its tower cannot be
split this way (ONNX graphs, SigLIP's non-causal tower, exotic blocks).

    >>> tower = load_encoder("toyclip").causal_text_tower()       # doctest: +SKIP
    >>> len(tower.layers), tower.embed(ids, 0).shape              # doctest: +SKIP
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class TowerLayer:
    """One transformer block seen as: ln1 -> qkv -> attention -> out -> residual; ln2 -> mlp -> residual."""

    def __init__(self, ln1, qkv, out, ln2, mlp, heads: int, ls1=None, ls2=None):
        self.ln1, self.qkv, self.out, self.ln2, self.mlp, self.heads = ln1, qkv, out, ln2, mlp, heads
        self.ls1 = ls1 or (lambda x: x)
        self.ls2 = ls2 or (lambda x: x)


class CausalTextTower:
    """The backend-specific pieces of a causal CLIP text tower."""

    layers: list[TowerLayer]

    def embed(self, ids: torch.Tensor, start: int) -> torch.Tensor:
        """(B, L) token ids at positions start.. -> (B, L, W) input embeddings."""
        raise NotImplementedError

    def project(self, pooled: torch.Tensor) -> torch.Tensor:
        """(B, W) final hidden state at the end token -> (B, D) text features (not normalised)."""
        raise NotImplementedError


class OpenClipTextTower(CausalTextTower):
    """open_clip's text transformer (standard `ResidualAttentionBlock`s)."""

    def __init__(self, model: nn.Module):
        self.m = model
        self.layers = []
        for blk in model.transformer.resblocks:
            attn = blk.attn
            w, b = attn.in_proj_weight, attn.in_proj_bias

            def qkv(h, w=w, b=b):
                return F.linear(h, w, b).chunk(3, dim=-1)

            self.layers.append(TowerLayer(blk.ln_1, qkv, attn.out_proj, blk.ln_2, blk.mlp, attn.num_heads,
                                          blk.ls_1, blk.ls_2))

    @staticmethod
    def supports(model: nn.Module) -> bool:
        from open_clip.transformer import ResidualAttentionBlock

        blocks = getattr(getattr(model, "transformer", None), "resblocks", None)
        if blocks is None or not hasattr(model, "token_embedding") or getattr(model, "attn_mask", None) is None:
            return False
        for blk in blocks:
            if type(blk) is not ResidualAttentionBlock or hasattr(blk, "ln_1_kv"):
                return False
            a = blk.attn
            if not isinstance(a, nn.MultiheadAttention) or not a._qkv_same_embed_dim or a.in_proj_weight is None:
                return False
        return getattr(model, "text_pool_type", "argmax") in ("argmax", "eos")

    def embed(self, ids, start):
        m = self.m
        cast = m.transformer.get_cast_dtype()
        return m.token_embedding(ids).to(cast) + m.positional_embedding[start : start + ids.shape[1]].to(cast)

    def project(self, pooled):
        m = self.m
        x = m.ln_final(pooled)
        proj = m.text_projection
        if proj is not None:
            x = proj(x) if isinstance(proj, nn.Linear) else x @ proj
        return x


class HFTextTower(CausalTextTower):
    """transformers' `CLIPTextModel` inside a `CLIPModel`."""

    def __init__(self, model: nn.Module):
        self.m = model
        tm = model.text_model
        self.tm = tm
        self.layers = []
        for lyr in tm.encoder.layers:
            sa = lyr.self_attn

            def qkv(h, sa=sa):
                return sa.q_proj(h), sa.k_proj(h), sa.v_proj(h)

            self.layers.append(TowerLayer(lyr.layer_norm1, qkv, sa.out_proj, lyr.layer_norm2, lyr.mlp, sa.num_heads))

    @staticmethod
    def supports(model: nn.Module) -> bool:
        cfg = getattr(model, "config", None)
        return getattr(cfg, "model_type", None) == "clip" and hasattr(model, "text_model") and hasattr(model, "text_projection")

    def embed(self, ids, start):
        emb = self.tm.embeddings
        pos = torch.arange(start, start + ids.shape[1], device=ids.device)
        return emb.token_embedding(ids) + emb.position_embedding(pos)[None]

    def project(self, pooled):
        return self.m.text_projection(self.tm.final_layer_norm(pooled))
