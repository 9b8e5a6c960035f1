"""The ComfyUI node pack, loaded the way ComfyUI loads custom nodes, checked against its contract,
and run on the toy models with ComfyUI-format IMAGE tensors; every node must answer exactly what
the library call it wraps answers."""
from __future__ import annotations

import importlib.util
import inspect
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from cliplens.assets import fixtures_dir

ROOT = Path(__file__).resolve().parents[1]
PACK = ROOT / "integrations" / "comfyui"
WORKFLOW = ROOT / "cliplens" / "integrations" / "comfyui" / "workflows" / "flux_compose_best_of_n_api.json"
WIDGETS = {"INT", "FLOAT", "STRING", "BOOLEAN"}

#: the stock ComfyUI nodes the example workflow uses: input name -> type, and output types
STOCK = {
    "UNETLoader": ({"unet_name": "COMBO", "weight_dtype": "COMBO"}, ("MODEL",)),
    "DualCLIPLoader": ({"clip_name1": "COMBO", "clip_name2": "COMBO", "type": "COMBO"}, ("CLIP",)),
    "VAELoader": ({"vae_name": "COMBO"}, ("VAE",)),
    "CLIPTextEncodeFlux": ({"clip": "CLIP", "clip_l": "STRING", "t5xxl": "STRING", "guidance": "FLOAT"},
                           ("CONDITIONING",)),
    "ConditioningZeroOut": ({"conditioning": "CONDITIONING"}, ("CONDITIONING",)),
    "EmptySD3LatentImage": ({"width": "INT", "height": "INT", "batch_size": "INT"}, ("LATENT",)),
    "KSampler": ({"model": "MODEL", "seed": "INT", "steps": "INT", "cfg": "FLOAT", "sampler_name": "COMBO",
                  "scheduler": "COMBO", "positive": "CONDITIONING", "negative": "CONDITIONING",
                  "latent_image": "LATENT", "denoise": "FLOAT"}, ("LATENT",)),
    "VAEDecode": ({"samples": "LATENT", "vae": "VAE"}, ("IMAGE",)),
    "SaveImage": ({"images": "IMAGE", "filename_prefix": "STRING"}, ()),
}


def load_like_comfyui(folder: Path, name: str = "cliplens_pack_under_test"):
    """What ComfyUI's `load_custom_node` does: import the folder's __init__.py as a module by file path."""
    spec = importlib.util.spec_from_file_location(name, folder / "__init__.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def mappings():
    mod = load_like_comfyui(PACK)
    return mod.NODE_CLASS_MAPPINGS, mod.NODE_DISPLAY_NAME_MAPPINGS


def comfy_image(paths: list[Path], size: int = 64) -> torch.Tensor:
    """Files -> a ComfyUI IMAGE batch [B, H, W, 3] float32 in 0..1 (as ComfyUI's LoadImage makes it)."""
    arrs = [np.asarray(Image.open(p).convert("RGB").resize((size, size)), np.float32) / 255.0 for p in paths]
    return torch.from_numpy(np.stack(arrs))


def pil_images(paths: list[Path], size: int = 64) -> list[Image.Image]:
    return [Image.open(p).convert("RGB").resize((size, size)) for p in paths]


def _spec_type(spec: tuple) -> str:
    return "COMBO" if isinstance(spec[0], list) else spec[0]


def test_every_node_keeps_comfyuis_contract(mappings):
    classes, names = mappings
    assert set(classes) == set(names) and len(classes) == 5
    assert set(names.values()) == {"cliplens Compose Prompt", "cliplens Interrogate", "cliplens Score / Best-of-N",
                                   "cliplens Keyword Feedback", "cliplens Lint Prompt"}
    for key, cls in classes.items():
        spec = cls.INPUT_TYPES()
        assert set(spec) <= {"required", "optional", "hidden"} and spec["required"], key
        assert isinstance(cls.CATEGORY, str) and cls.CATEGORY
        assert isinstance(cls.RETURN_TYPES, tuple) and all(isinstance(t, str) for t in cls.RETURN_TYPES)
        assert len(cls.RETURN_NAMES) == len(cls.RETURN_TYPES), key
        if hasattr(cls, "OUTPUT_IS_LIST"):
            assert len(cls.OUTPUT_IS_LIST) == len(cls.RETURN_TYPES)
        fn = getattr(cls, cls.FUNCTION)
        params = inspect.signature(fn).parameters
        declared = {**spec["required"], **spec.get("optional", {})}
        assert set(params) - {"self"} == set(declared), key  # FUNCTION takes exactly the declared inputs
        for name in spec.get("optional", {}):
            assert params[name].default is not inspect.Parameter.empty, (key, name)
        for name, inp in declared.items():
            assert isinstance(inp, tuple) and 1 <= len(inp) <= 2, (key, name)
            kind, opts = inp[0], (inp[1] if len(inp) == 2 else {})
            if isinstance(kind, list):  # a combo: its default must be one of its choices
                assert kind and all(isinstance(c, str) for c in kind)
                assert opts.get("default", kind[0]) in kind, (key, name)
            elif kind == "INT":
                assert opts["min"] <= opts["default"] <= opts["max"]
            elif kind == "BOOLEAN":
                assert isinstance(opts["default"], bool)
            elif kind == "STRING":
                assert isinstance(opts.get("default", ""), str)
            else:
                assert kind.isupper(), (key, name)


def test_compose_node_equals_the_library(mappings):
    from cliplens.compose import compose

    node = mappings[0]["CliplensComposePrompt"]()
    prompt = '{"subject": "castle", "count": 3, "style": "watercolor", "lighting": "golden hour"}'
    for target in ("flux", "sdxl", "sd15"):
        out = node.run(prompt=prompt, target=target)
        assert len(out) == len(node.RETURN_TYPES)
        got = dict(zip(node.RETURN_NAMES, out))
        lib = compose(prompt, target)
        for name, text in lib.fields.items():
            assert got[name] == text, (target, name)
        unused = set(node.RETURN_NAMES) - set(lib.fields) - {"report", "negative"}
        assert all(got[n] == "" for n in unused)
        for o in lib.outputs():
            assert f"{o['name']}: {o['tokens']}" in got["report"]


def test_lint_node_equals_the_library(mappings):
    from cliplens.compose import lint_prompt

    node = mappings[0]["CliplensLintPrompt"]()
    for text in ("a red circle, a red circle, masterpiece", "a cat, [blue], (glasses:1.2)"):
        findings, ok = node.run(prompt=text)
        lib = lint_prompt(text)
        assert ok == (not lib.failed)
        for issue in lib.issues:
            assert issue.message in findings


def test_best_of_n_node_equals_rank_images(mappings, toyclip):
    from cliplens.judge import rank_images

    files = sorted(fixtures_dir(64).glob("*.png"))[:4]
    batch = comfy_image(files)
    node = mappings[0]["CliplensScoreBestOfN"]()
    prompt = json.loads((fixtures_dir(64) / "labels.jsonl").read_text().splitlines()[2])["caption"]
    best, ranked, best_s, report = node.run(images=batch, prompt=prompt, model="toyclip", keep=2)
    lib = rank_images(toyclip, prompt, pil_images(files), top_k=None)
    order = [r.index for r in lib.items]
    assert best.shape == (2, 64, 64, 3) and ranked.shape == batch.shape
    assert torch.equal(ranked, batch[order]) and torch.equal(best, batch[order[:2]])
    assert best_s == pytest.approx(lib.items[0].clip_s, abs=1e-6)
    assert report.splitlines()[0].startswith(f"#1 image {order[0]}:")


def test_feedback_node_equals_keyword_feedback(mappings, toyclip):
    from cliplens.judge import keyword_feedback

    f = sorted(fixtures_dir(64).glob("*.png"))[0]
    caption = json.loads((fixtures_dir(64) / "labels.jsonl").read_text().splitlines()[0])["caption"]
    (report,) = mappings[0]["CliplensKeywordFeedback"]().run(image=comfy_image([f]), prompt=caption, model="toyclip")
    lib = keyword_feedback(toyclip, pil_images([f])[0], caption)
    assert f"prompt CLIP-S {lib.prompt_clip_s:.4f}" in report
    for k in lib.keywords:
        assert f"{k.verdict}: {k.phrase} (presence {k.presence:+.4f}" in report


@pytest.mark.slow
def test_interrogate_node_is_batch_aware_and_equals_the_library(mappings):
    from cliplens.interrogate import interrogate

    files = sorted(fixtures_dir(64).glob("*.png"))[:2]
    node = mappings[0]["CliplensInterrogate"]()
    prompts, report = node.run(image=comfy_image(files), mode="fast", model="toyclip", caption_model="toycaption")
    lib = interrogate("toyclip", pil_images(files), mode="fast", caption_model="toycaption")
    assert prompts == [r.prompt for r in lib.results] and len(prompts) == 2
    assert all(p in report for p in prompts)


def test_bad_inputs_are_one_clear_node_error(mappings):
    from cliplens.integrations.comfyui.nodes import CliplensNodeError

    node = mappings[0]["CliplensScoreBestOfN"]()
    with pytest.raises(CliplensNodeError) as err:
        node.run(images=torch.zeros(2, 8), prompt="a red circle", model="toyclip")
    assert "\n" not in str(err.value) and "IMAGE" in str(err.value) and err.value.__cause__ is None
    with pytest.raises(CliplensNodeError):
        node.run(images=torch.zeros(1, 8, 8, 3), prompt="a red circle", model="no-such-model-xyz")


def test_example_workflow_links_and_types_are_consistent(mappings):
    classes = mappings[0]
    graph = json.loads(WORKFLOW.read_text())

    def contract(class_type: str) -> tuple[dict, tuple]:
        if class_type in classes:
            cls = classes[class_type]
            spec = cls.INPUT_TYPES()
            inputs = {k: _spec_type(v) for part in ("required", "optional") for k, v in spec.get(part, {}).items()}
            return inputs, cls.RETURN_TYPES
        assert class_type in STOCK, f"unknown node {class_type}"
        return STOCK[class_type]

    assert any(n["class_type"] == "CliplensComposePrompt" for n in graph.values())
    flux = [n for n in graph.values() if n["class_type"] == "CLIPTextEncodeFlux"]
    assert flux and all(isinstance(n["inputs"]["clip_l"], list) and isinstance(n["inputs"]["t5xxl"], list)
                        for n in flux)
    for nid, node in graph.items():
        inputs, _ = contract(node["class_type"])
        if node["class_type"] in classes:
            required = classes[node["class_type"]].INPUT_TYPES()["required"]
            assert set(required) <= set(node["inputs"]), (nid, set(required) - set(node["inputs"]))
        else:
            assert set(node["inputs"]) == set(inputs), nid
        for name, value in node["inputs"].items():
            want = inputs[name]
            if isinstance(value, list):  # a link: [source node id, output index]
                src_id, idx = value
                assert src_id in graph, (nid, name)
                _, outs = contract(graph[src_id]["class_type"])
                assert 0 <= idx < len(outs) and outs[idx] == want, (nid, name, outs, want)
            elif want == "COMBO" and node["class_type"] in classes:
                spec = {**classes[node["class_type"]].INPUT_TYPES()["required"],
                        **classes[node["class_type"]].INPUT_TYPES().get("optional", {})}
                assert value in spec[name][0], (nid, name, value)
            else:
                assert want in WIDGETS | {"COMBO"}, (nid, name, want)
    # Compose's clip_l and t5xxl outputs feed the Flux encoder's inputs of the same names
    compose_id = next(k for k, n in graph.items() if n["class_type"] == "CliplensComposePrompt")
    names = classes["CliplensComposePrompt"].RETURN_NAMES
    for field in ("clip_l", "t5xxl"):
        src, idx = flux[0]["inputs"][field]
        assert src == compose_id and names[idx] == field


def test_install_command_writes_a_loadable_pack_and_never_overwrites_foreign_files(tmp_path):
    from typer.testing import CliRunner

    from cliplens.cli import app

    comfy = tmp_path / "ComfyUI"
    (comfy / "custom_nodes").mkdir(parents=True)
    res = CliRunner().invoke(app, ["comfyui", "install", str(comfy)])
    assert res.exit_code == 0, res.output
    target = comfy / "custom_nodes" / "cliplens"
    assert (target / "__init__.py").read_text() == (PACK / "__init__.py").read_text()
    assert json.loads((target / "example_workflow_flux_api.json").read_text()) == json.loads(WORKFLOW.read_text())
    mod = load_like_comfyui(target, "cliplens_installed_pack")
    assert "CliplensComposePrompt" in mod.NODE_CLASS_MAPPINGS
    (target / "__init__.py").write_text("# someone else's node pack\n")
    res = CliRunner().invoke(app, ["comfyui", "install", str(comfy)])
    said = res.output + (res.stderr if hasattr(res, "stderr") else "")
    assert res.exit_code == 2 and "not written by cliplens" in said
    assert (target / "__init__.py").read_text() == "# someone else's node pack\n"
