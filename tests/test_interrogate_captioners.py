"""Caption models through transformers: GIT (toycaption, trained), tiny random BLIP and BLIP-2 folders."""
from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

from cliplens.assets import assets_dir, fixtures_dir
from cliplens.interrogate import Interrogator, load_captioner, resolve_caption_model
from cliplens.interrogate.captioners import clean_caption

EXAMPLE = assets_dir() / "examples" / "toyworld.png"
WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[DEC]", "a", "red", "star", "on", "the", "left", "blue", "circle"]


def _image_processor():
    from transformers import BlipImageProcessor

    return BlipImageProcessor(size={"height": 32, "width": 32})


@pytest.fixture(scope="module")
def tiny_blip(tmp_path_factory):
    """A 2-layer random BlipForConditionalGeneration + BlipProcessor, saved the normal way."""
    from transformers import BlipConfig, BlipForConditionalGeneration, BlipProcessor, BertTokenizerFast

    d = tmp_path_factory.mktemp("blip")
    (d / "vocab.txt").write_text("\n".join(WORDS))
    tok = BertTokenizerFast(vocab_file=str(d / "vocab.txt"))
    tok.add_special_tokens({"bos_token": "[DEC]"})
    cfg = BlipConfig(
        text_config=dict(vocab_size=len(WORDS), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, bos_token_id=5, pad_token_id=0, sep_token_id=3, eos_token_id=3),
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                           image_size=32, patch_size=8), projection_dim=32)
    torch.manual_seed(0)
    BlipForConditionalGeneration(cfg).eval().save_pretrained(d / "model")
    BlipProcessor(image_processor=_image_processor(), tokenizer=tok).save_pretrained(d / "model")
    return d / "model"


@pytest.fixture(scope="module")
def tiny_blip2(tmp_path_factory):
    """A 1-layer random Blip2ForConditionalGeneration (OPT language model) with the CLIP BPE tokenizer."""
    from transformers import AutoTokenizer, Blip2Config, Blip2ForConditionalGeneration, Blip2Processor

    d = tmp_path_factory.mktemp("blip2")
    tok = AutoTokenizer.from_pretrained(assets_dir() / "models" / "toyclip" / "hf")
    tok.add_special_tokens({"additional_special_tokens": ["<image>"]})
    cfg = Blip2Config(
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                           image_size=32, patch_size=8),
        qformer_config=dict(vocab_size=100, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                            num_attention_heads=2, encoder_hidden_size=32),
        text_config=dict(model_type="opt", vocab_size=len(tok) + 1, hidden_size=32, ffn_dim=64, num_hidden_layers=1,
                         num_attention_heads=2, word_embed_proj_dim=32, bos_token_id=tok.bos_token_id,
                         eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id),
        num_query_tokens=4)
    cfg.image_token_index = tok.convert_tokens_to_ids("<image>")
    torch.manual_seed(0)
    Blip2ForConditionalGeneration(cfg).eval().save_pretrained(d / "model")
    Blip2Processor(image_processor=_image_processor(), tokenizer=tok, num_query_tokens=4).save_pretrained(d / "model")
    return d / "model"


def test_toycaption_is_git_and_describes_fixtures():
    cap = load_captioner("toycaption", device="cpu")
    assert cap.family == "git" and type(cap.model).__name__ == "GitForCausalLM"
    rows = [json.loads(x) for x in (fixtures_dir(64) / "labels.jsonl").read_text().splitlines()[:8]]
    got = cap.caption([Image.open(fixtures_dir(64) / r["file"]).convert("RGB") for r in rows], batch_size=4)
    # the trained toy captioner names the first object's colour and shape
    hits = sum(f"{r['objects'][0]['colour']} {r['objects'][0]['shape']}" in c for r, c in zip(rows, got))
    assert hits >= 6, list(zip(got, [r["caption"] for r in rows]))


@pytest.mark.parametrize("which,family", [("tiny_blip", "blip"), ("tiny_blip2", "blip-2")])
def test_blip_families_load_and_caption(request, which, family, toyclip):
    folder = request.getfixturevalue(which)
    assert resolve_caption_model(folder) == str(folder)
    cap = load_captioner(folder, device="cpu", max_new_tokens=5)
    assert cap.family == family
    out = cap.caption([Image.new("RGB", (40, 40), (200, 0, 0)), Image.new("RGB", (50, 30), (0, 0, 200))], batch_size=2)
    assert len(out) == 2 and all(isinstance(c, str) for c in out)
    # the whole interrogator runs with it (an empty random caption falls back to the subject list)
    r = Interrogator(toyclip, caption_model=str(folder), device="cpu").interrogate(EXAMPLE, mode="fast", max_flavors=3)
    assert r.caption and r.prompt.startswith(r.caption)


def test_short_names_and_cleaning():
    assert resolve_caption_model("blip-large") == "Salesforce/blip-image-captioning-large"
    assert resolve_caption_model("toycaption").endswith("toycaption/hf")
    assert resolve_caption_model("someone/some-captioner") == "someone/some-captioner"
    assert load_captioner("none") is None
    assert clean_caption("arafed man on a horse .") == "man on a horse"
    assert clean_caption(" a  cat\n") == "a cat"


def test_caption_cache_key_changes_with_settings():
    a = load_captioner("toycaption", device="cpu", max_new_tokens=32)
    b = load_captioner("toycaption", device="cpu", max_new_tokens=8)
    assert a.fingerprint != b.fingerprint
