"""Tiny randomly initialised CLIPs for every backend, written to folders the normal way.

They exist for shapes and plumbing (fast, seeded); answers that need real text-image
alignment use the bundled, trained toyclip instead. Each builder writes a folder that
cliplens then loads through its ordinary local-folder code path.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch

from cliplens.assets import toy_model_dir

TOKENIZER_FILES = ("vocab.json", "merges.txt", "tokenizer_config.json")
IMAGE_SIZE = 32
EMBED_DIM = 32


def _copy_tokenizer(dst: Path) -> None:
    src = toy_model_dir("toyclip") / "hf"
    for f in TOKENIZER_FILES:
        shutil.copy(src / f, dst / f)


def _preprocessor_config(dst: Path, size: int = IMAGE_SIZE) -> None:
    cfg = json.loads((toy_model_dir("toyclip") / "hf" / "preprocessor_config.json").read_text())
    cfg["crop_size"] = {"height": size, "width": size}
    cfg["size"] = {"shortest_edge": size}
    (dst / "preprocessor_config.json").write_text(json.dumps(cfg))


def build_openclip(dst: Path, seed: int = 0) -> Path:
    """A 2-layer open_clip CLIP saved as `<name>.json` + `open_clip_model.safetensors`."""
    import open_clip
    from safetensors.torch import save_file

    cfg = {
        "embed_dim": EMBED_DIM,
        "quick_gelu": True,
        "vision_cfg": {"image_size": IMAGE_SIZE, "layers": 2, "width": 64, "head_width": 32, "patch_size": 8},
        "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 2},
    }
    dst.mkdir(parents=True, exist_ok=True)
    (dst / "tinyclip.json").write_text(json.dumps(cfg))
    open_clip.add_model_config(dst / "tinyclip.json")
    torch.manual_seed(seed)
    model = open_clip.create_model("tinyclip")
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(dst / "open_clip_model.safetensors"))
    return dst


def _hf_clip_config():
    from transformers import CLIPConfig

    return CLIPConfig(
        text_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                         vocab_size=49408, max_position_embeddings=77, hidden_act="quick_gelu",
                         bos_token_id=49406, eos_token_id=49407, pad_token_id=49407),
        vision_config=dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2,
                           image_size=IMAGE_SIZE, patch_size=8, hidden_act="quick_gelu"),
        projection_dim=EMBED_DIM,
    )


def build_hf(dst: Path, seed: int = 0) -> Path:
    """A 2-layer transformers CLIPModel folder with the real CLIP tokenizer files."""
    from transformers import CLIPModel

    torch.manual_seed(seed)
    model = CLIPModel(_hf_clip_config()).eval()
    dst.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(dst)
    _copy_tokenizer(dst)
    _preprocessor_config(dst)
    return dst


def build_siglip(dst: Path, seed: int = 0) -> Path:
    """A 2-layer transformers SiglipModel (non-causal text tower, pooled at the last token)."""
    from transformers import SiglipConfig, SiglipModel

    cfg = SiglipConfig(
        text_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                         vocab_size=49408, max_position_embeddings=64),
        vision_config=dict(hidden_size=32, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2,
                           image_size=IMAGE_SIZE, patch_size=8),
    )
    torch.manual_seed(seed)
    model = SiglipModel(cfg).eval()
    dst.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(dst)
    _copy_tokenizer(dst)
    tok_cfg = json.loads((dst / "tokenizer_config.json").read_text())
    tok_cfg["model_max_length"] = 64
    (dst / "tokenizer_config.json").write_text(json.dumps(tok_cfg))
    cfg = json.loads((toy_model_dir("toyclip") / "hf" / "preprocessor_config.json").read_text())
    cfg.update({"image_processor_type": "SiglipImageProcessor", "size": {"height": IMAGE_SIZE, "width": IMAGE_SIZE},
                "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "do_center_crop": False})
    (dst / "preprocessor_config.json").write_text(json.dumps(cfg))
    return dst


def build_onnx(dst: Path, hf_dir: Path) -> Path:
    """Export the tiny transformers CLIP's two towers to ONNX graphs, plus tokenizer/preprocessor files."""
    from transformers import CLIPModel

    model = CLIPModel.from_pretrained(hf_dir).eval()

    class Text(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids):
            return self.m.get_text_features(input_ids=input_ids).pooler_output

    class Vision(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, pixel_values):
            return self.m.get_image_features(pixel_values=pixel_values).pooler_output

    dst.mkdir(parents=True, exist_ok=True)
    ids = torch.tensor([[49406, 320, 49407] + [49407] * 5])
    px = torch.zeros(1, 3, IMAGE_SIZE, IMAGE_SIZE)
    torch.onnx.export(Text(model), (ids,), str(dst / "text_encoder.onnx"), input_names=["input_ids"],
                      output_names=["text_embeds"], dynamic_axes={"input_ids": {0: "b", 1: "s"}, "text_embeds": {0: "b"}},
                      dynamo=False, opset_version=17)
    torch.onnx.export(Vision(model), (px,), str(dst / "image_encoder.onnx"), input_names=["pixel_values"],
                      output_names=["image_embeds"], dynamic_axes={"pixel_values": {0: "b"}, "image_embeds": {0: "b"}},
                      dynamo=False, opset_version=17)
    _copy_tokenizer(dst)
    _preprocessor_config(dst)
    (dst / "onnx_io.json").write_text(json.dumps({"logit_scale": float(model.logit_scale.exp().detach())}))
    return dst
