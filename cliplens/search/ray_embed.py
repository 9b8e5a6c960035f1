"""Embed huge folders on Ray Data: a pool of model actors (one per GPU/CPU slot, any node).

The driver still commits to the index batch by batch as results stream back, so a killed
run keeps what was committed, exactly as with in-process embedding. Workers read each file once and embed
it through `cliplens.embed` (and its cache), and check they loaded the index's model.

    >>> emb = ray_embedder("toyclip", fingerprint="89059e6c40235685", workers=2)   # doctest: +SKIP
    >>> idx.add(["photos/"], embedder=emb)                                           # doctest: +SKIP
"""
from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

from ..errors import CliplensError
from .sync import EmbedBatch, Embedder


class _RayEmbed:
    """A Ray Data actor: loads the model once, then embeds batches of paths."""

    def __init__(self, model: str, fingerprint: str, use_cache: bool, device: str):
        from ..models import load_encoder

        self.enc = load_encoder(model, device=device)
        if self.enc.fingerprint != fingerprint:
            raise CliplensError(f"a Ray worker resolved model {model!r} to fingerprint {self.enc.fingerprint}, "
                                f"but the index expects {fingerprint}; install the same weights on every node")
        self.use_cache = use_cache

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from ..images import content_hash
        from .sync import _read, embed_contents, image_size

        paths = [str(p) for p in batch["path"]]
        dim = int(self.enc.embed_dim)
        vecs = np.zeros((len(paths), dim), np.float32)
        out_hash, out_w, out_h, out_err = [""] * len(paths), [0] * len(paths), [0] * len(paths), [""] * len(paths)
        items = []
        for i, p in enumerate(paths):  # each file is read once: hash, pixel size and vector from the same bytes
            data, why = _read(p)
            if data is None:
                out_err[i] = why or "cannot read file"
                continue
            out_hash[i] = content_hash(data)
            out_w[i], out_h[i] = image_size(data)
            items.append((p, data, out_hash[i]))
        got, bad, _ = embed_contents(self.enc, items, use_cache=self.use_cache, batch_size=max(1, len(items)))
        reasons = dict(bad)
        for i, p in enumerate(paths):
            if p in got:
                vecs[i] = got[p]
            elif not out_err[i]:
                out_err[i] = reasons.get(p, "not embedded")
        return {"path": np.asarray(paths, dtype=object), "hash": np.asarray(out_hash, dtype=object),
                "width": np.asarray(out_w, np.int64), "height": np.asarray(out_h, np.int64),
                "vector": vecs, "error": np.asarray(out_err, dtype=object)}


def ray_embedder(model: str, fingerprint: str, batch_size: int = 64, workers: int = 2, address: str | None = None,
                 use_cache: bool = True, device: str = "auto", num_gpus: float = 0.0) -> Embedder:
    """An `Embedder` for `Index.add` that runs the model on a Ray cluster (local if `address` is None).

    `workers` model actors each take one CPU (and `num_gpus` GPUs); `address` is a Ray
    address such as ``ray://head:10001`` or ``auto``.
    """

    def run(paths: list[str]) -> Iterator[EmbedBatch]:
        if not paths:
            return
        try:
            import ray
            import ray.data
        except ImportError as exc:  # pragma: no cover
            raise CliplensError("Ray embedding needs ray[data]: pip install 'cliplens[scale]'") from exc
        started = False
        if not ray.is_initialized():
            env = {k: v for k, v in os.environ.items() if k.startswith(("CLIPLENS_", "HF_", "OMP_NUM_THREADS"))}
            kwargs = {"address": address} if address else {"num_cpus": max(1, workers) + 1}
            try:
                ray.init(include_dashboard=False, log_to_driver=False, ignore_reinit_error=True,
                         logging_level="WARNING", runtime_env={"env_vars": env}, **kwargs)
            except (ValueError, ConnectionError, RuntimeError, TimeoutError) as exc:  # a bad or unreachable address
                where = f"the Ray cluster at address={address!r}" if address else "a local Ray"
                raise CliplensError(f"could not start or reach {where}: {str(exc).splitlines()[0] if str(exc) else exc!r}. "
                                    "Give a Ray address such as 'ray://head:10001' or 'auto', or leave it out for a "
                                    "local Ray") from None
            started = True
        try:
            import logging

            logging.getLogger("ray.data").setLevel(logging.WARNING)
            ctx = ray.data.DataContext.get_current()
            ctx.enable_progress_bars = False
            ds = ray.data.from_items([{"path": p} for p in paths],
                                     override_num_blocks=max(1, min(len(paths) // max(1, batch_size), 512)))
            resources: dict = {"num_cpus": 1, **({"num_gpus": num_gpus} if num_gpus else {})}
            ds = ds.map_batches(_RayEmbed, fn_constructor_kwargs={"model": model, "fingerprint": fingerprint,
                                                                  "use_cache": use_cache, "device": device},
                                batch_size=batch_size, compute=ray.data.ActorPoolStrategy(size=max(1, workers)),
                                batch_format="numpy",
                                **resources)
            for b in ds.iter_batches(batch_size=batch_size, batch_format="numpy"):
                errs = [(str(p), str(e)) for p, e in zip(b["path"], b["error"]) if e]
                ok = [i for i, e in enumerate(b["error"]) if not e]
                vecs = np.asarray(b["vector"], np.float32)[ok] if ok else np.empty((0, b["vector"].shape[-1]), np.float32)
                yield EmbedBatch([str(b["path"][i]) for i in ok], [str(b["hash"][i]) for i in ok],
                                 [(int(b["width"][i]), int(b["height"][i])) for i in ok], vecs, errs, embedded=len(ok))
        finally:
            if started:
                ray.shutdown()

    return run
