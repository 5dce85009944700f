import argparse
import json
import logging

import pytest
import torch

from domainft.errors import ConfigError, ModelError
from domainft.models.adapters import LoraAdapterFactory, load_adapter
from domainft.models.loading import QuantizedLoader
from domainft.models.merge import (
    MANIFEST_NAME,
    adapter_training_quantization,
    add_merge_command,
    merge_adapter,
    merged_copy,
    resolve_merge_dtype,
)

PROMPTS = [
    "Machine: forklift. Problem: the mast drifts down under load",
    "Machine: conveyor. Problem: belt slips",
    "<|user|>\nMachine: lathe. Problem: chatter marks\n<|assistant|>\n",
]


def _randomise_lora_b(peft_model, seed):
    """peft starts lora_B at zero (a no-op adapter); random values make the adapter change the outputs."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.copy_(torch.randn(param.shape, generator=generator) * 0.2)


def _logits(model, tokenizer):
    model.eval()
    with torch.no_grad():
        return [model(**tokenizer(p, return_tensors="pt")).logits.float() for p in PROMPTS]


def _max_diff(a, b):
    return max((x - y).abs().max().item() for x, y in zip(a, b, strict=True))


def _fp32(model_dir):
    return QuantizedLoader(model_dir, quantization=None, dtype="float32", device_map=None).load()


def _load_merged(path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True)
    return model, AutoTokenizer.from_pretrained(path, local_files_only=True)


@pytest.fixture(scope="module")
def fp32_adapter(tiny_model_dir, tmp_path_factory):
    """A LoRA adapter on attention and MLP of the fp32 tiny model, saved without a tokenizer."""
    model, _ = _fp32(tiny_model_dir)
    peft_model = LoraAdapterFactory(r=4, alpha=8, target_modules="attention+mlp", seed=1).apply(model)
    _randomise_lora_b(peft_model, 0)
    path = tmp_path_factory.mktemp("adapter-fp32")
    peft_model.save_pretrained(str(path))
    return path


@pytest.fixture(scope="module")
def reference(tiny_model_dir, fp32_adapter):
    """Logits of the base alone and of base + adapter through peft (the unmerged path)."""
    model, tok = _fp32(tiny_model_dir)
    base_logits = _logits(model, tok)
    base_parameters = sum(p.numel() for p in model.parameters())
    peft_logits = _logits(load_adapter(model, fp32_adapter), tok)
    return {"base": base_logits, "peft": peft_logits, "parameters": base_parameters, "tokenizer": tok}


@pytest.fixture(scope="module")
def merged_dir(tiny_model_dir, fp32_adapter, tmp_path_factory):
    return merge_adapter(
        tiny_model_dir, fp32_adapter, tmp_path_factory.mktemp("m") / "merged", dtype="fp32", progress=False
    )


def test_merged_model_matches_base_plus_adapter(merged_dir, reference, tiny_model_dir):
    model, tok = _load_merged(merged_dir)
    merged_logits = _logits(model, tok)
    assert _max_diff(reference["peft"], reference["base"]) > 0.05  # the adapter really changes the outputs
    assert _max_diff(merged_logits, reference["peft"]) < 1e-4
    assert not any("lora" in name for name, _ in model.named_modules())
    assert type(model.model.layers[0].self_attn.q_proj) is torch.nn.Linear
    assert sum(p.numel() for p in model.parameters()) == reference["parameters"]
    assert next(model.parameters()).dtype == torch.float32
    assert tok.chat_template == reference["tokenizer"].chat_template
    assert tok.pad_token == reference["tokenizer"].pad_token
    assert (merged_dir / "model.safetensors").is_file()
    assert "quantization_config" not in json.loads((merged_dir / "config.json").read_text())
    assert not list(merged_dir.parent.glob(".merged.*"))  # no staging folder left behind


def test_manifest_records_what_was_merged(merged_dir, fp32_adapter, tiny_model_dir, reference):
    manifest = json.loads((merged_dir / MANIFEST_NAME).read_text())
    assert manifest["base"] == str(tiny_model_dir)
    assert manifest["adapter"] == str(fp32_adapter)
    assert manifest["dtype"] == "float32" and manifest["dtype_requested"] == "fp32"
    assert manifest["parameters"] == manifest["base_parameters"] == reference["parameters"]
    assert manifest["tokenizer_from"] == "base"
    assert manifest["adapter_trained_quantization"] is None
    assert manifest["base_loaded_as"] == "full precision"
    assert manifest["adapter_peft_type"] == "LORA" and manifest["adapter_r"] == 4
    assert manifest["versions"]["peft"] and manifest["versions"]["transformers"]
    assert manifest["seconds"] >= 0 and manifest["created"]


def test_qlora_adapter_merges_into_the_full_precision_base(tiny_model_dir, tmp_path, caplog):
    from domainft.recipe import Recipe

    caplog.set_level(logging.INFO, logger="domainft.models.merge")
    run = tmp_path / "run"
    recipe = Recipe.from_dict(
        {
            "model": {"name_or_path": str(tiny_model_dir), "quantization": "nf4"},
            "training": {"output_dir": str(run)},
        }
    )
    run.mkdir()
    recipe.to_yaml(run / "recipe.yaml")  # what train_from_recipe writes into the run folder

    model, tok = QuantizedLoader(tiny_model_dir, quantization="nf4").load()
    assert type(model.model.layers[0].self_attn.q_proj).__name__ == "Linear4bit"
    peft_model = LoraAdapterFactory(r=4, alpha=8, dropout=0.0, target_modules="attention", seed=2).apply(
        model
    )
    _randomise_lora_b(peft_model, 1)
    peft_model.train()
    optimizer = torch.optim.SGD([p for p in peft_model.parameters() if p.requires_grad], lr=0.5)
    batch = tok(PROMPTS[0], return_tensors="pt")
    for _ in range(2):  # a couple of real QLoRA steps: the adapter is trained against 4-bit weights
        loss = peft_model(**batch, labels=batch["input_ids"]).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    peft_model.save_pretrained(str(recipe.adapter_dir))
    tok.save_pretrained(str(recipe.adapter_dir))

    out = merge_adapter(tiny_model_dir, recipe.adapter_dir, tmp_path / "merged", progress=False)
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    assert manifest["adapter_trained_quantization"] == "nf4"
    assert manifest["adapter_trained_quantization_source"].endswith("recipe.yaml")
    assert "unquantized in float32" in manifest["note"] and "QLoRA" in manifest["note"]
    assert manifest["dtype"] == "float32" and manifest["tokenizer_from"] == "adapter"
    assert "nf4-quantized base" in caplog.text and "QLoRA practice" in caplog.text

    merged, merged_tok = _load_merged(out)
    assert type(merged.model.layers[0].self_attn.q_proj) is torch.nn.Linear
    assert "quantization_config" not in json.loads((out / "config.json").read_text())
    base, base_tok = _fp32(tiny_model_dir)
    base_logits = _logits(base, base_tok)
    peft_on_fp32 = _logits(load_adapter(base, recipe.adapter_dir), base_tok)
    merged_logits = _logits(merged, merged_tok)
    assert _max_diff(peft_on_fp32, base_logits) > 0.05
    assert _max_diff(merged_logits, peft_on_fp32) < 1e-4


def test_bf16_merge_saves_bf16_weights(tiny_model_dir, fp32_adapter, reference, tmp_path):
    out = merge_adapter(tiny_model_dir, fp32_adapter, tmp_path / "bf16", dtype="bf16", progress=False)
    model, tok = _load_merged(out)
    assert next(model.parameters()).dtype == torch.bfloat16
    assert json.loads((out / MANIFEST_NAME).read_text())["dtype"] == "bfloat16"
    diff = _max_diff(_logits(model, tok), reference["peft"])
    assert diff < 0.1 * _max_diff(reference["peft"], reference["base"])  # bf16 rounding, not a lost adapter


def test_merged_copy_in_memory(tiny_model_dir, fp32_adapter, reference):
    model, tok = _fp32(tiny_model_dir)
    peft_model = load_adapter(model, fp32_adapter)
    merged = merged_copy(peft_model)
    assert not any("lora" in name for name, _ in merged.named_modules())
    assert any("lora" in name for name, _ in peft_model.named_modules())  # the original is untouched
    assert _max_diff(_logits(merged, tok), reference["peft"]) < 1e-4
    assert _max_diff(_logits(peft_model, tok), reference["peft"]) < 1e-6

    quantized, _ = QuantizedLoader(tiny_model_dir, quantization="nf4").load()
    with pytest.raises(ModelError, match="quantized.*merge_adapter"):
        merged_copy(LoraAdapterFactory(r=4, target_modules="attention").apply(quantized))


def test_input_errors(tiny_model_dir, fp32_adapter, merged_dir, tmp_path):
    with pytest.raises(ModelError, match="no adapter_config.json"):
        merge_adapter(tiny_model_dir, tmp_path, tmp_path / "out")
    with pytest.raises(ModelError, match="not empty.*overwrite=True"):
        merge_adapter(tiny_model_dir, fp32_adapter, merged_dir)
    with pytest.raises(ModelError, match="base model folder"):
        merge_adapter(tiny_model_dir, fp32_adapter, tiny_model_dir, overwrite=True)
    with pytest.raises(ModelError, match="adapter folder"):
        merge_adapter(tiny_model_dir, fp32_adapter, fp32_adapter.parent, overwrite=True)
    with pytest.raises(ConfigError, match="safetensors"):
        merge_adapter(tiny_model_dir, fp32_adapter, tmp_path / "out", safe_serialization=False)
    with pytest.raises(ConfigError, match="unknown merge dtype 'int4'.*bf16"):
        merge_adapter(tiny_model_dir, fp32_adapter, tmp_path / "out", dtype="int4")
    with pytest.raises(ModelError, match="model folder not found"):
        merge_adapter(tmp_path / "nowhere", fp32_adapter, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_overwrite_replaces_the_folder(tiny_model_dir, fp32_adapter, tmp_path):
    out = tmp_path / "merged"
    out.mkdir()
    (out / "stale.txt").write_text("old")
    merge_adapter(tiny_model_dir, fp32_adapter, out, overwrite=True, progress=False)
    assert not (out / "stale.txt").exists() and (out / MANIFEST_NAME).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["merged"]


def _save_base(path, config, tokenizer):
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(config).save_pretrained(str(path))
    tokenizer.save_pretrained(str(path))
    return path


@pytest.fixture(scope="module")
def other_bases(tiny_model_dir, reference, tmp_path_factory):
    """Bases the adapter does not fit: narrower, deeper, another architecture, no matching modules."""
    from transformers import AutoConfig, GPT2Config, MistralConfig

    llama = AutoConfig.from_pretrained(tiny_model_dir)
    root = tmp_path_factory.mktemp("other-bases")
    shape = {
        k: getattr(llama, k)
        for k in ("vocab_size", "hidden_size", "intermediate_size", "num_attention_heads")
    }
    tok = reference["tokenizer"]
    configs = {
        "narrow": type(llama)(**{**shape, "hidden_size": 32}, num_hidden_layers=2),
        "deep": type(llama)(**shape, num_hidden_layers=3, num_key_value_heads=2),
        "mistral": MistralConfig(**shape, num_hidden_layers=2, num_key_value_heads=2),
        "small-vocab": type(llama)(
            **{**shape, "vocab_size": 300}, num_hidden_layers=2, num_key_value_heads=2
        ),
        "gpt2": GPT2Config(vocab_size=llama.vocab_size, n_embd=64, n_layer=2, n_head=4),
    }
    return {name: _save_base(root / name, config, tok) for name, config in configs.items()}


@pytest.mark.parametrize(
    ("base", "strict", "message"),
    [
        ("narrow", True, "do not fit: .*size mismatch"),
        ("deep", True, "do not fit: .*missing.*different number of layers"),
        ("mistral", True, "different architectures"),
        ("gpt2", False, "do not fit: .*not found in the base model"),
    ],
)
def test_mismatching_base_is_a_model_error_naming_both(
    other_bases, fp32_adapter, tiny_model_dir, tmp_path, base, strict, message
):
    with pytest.raises(ModelError, match=message) as info:
        merge_adapter(other_bases[base], fp32_adapter, tmp_path / "out", strict=strict, progress=False)
    text = str(info.value)
    assert str(fp32_adapter) in text and str(other_bases[base]) in text and str(tiny_model_dir) in text
    assert not (tmp_path / "out").exists()


def test_tokenizer_larger_than_the_embeddings_is_refused(other_bases, fp32_adapter, tmp_path):
    with pytest.raises(ModelError, match=r"from the base \(\d+ tokens\) is larger than .*\(300 rows\)"):
        merge_adapter(other_bases["small-vocab"], fp32_adapter, tmp_path / "out", progress=False)


def test_adapter_with_more_layers_than_the_base_is_refused(other_bases, tiny_model_dir, tmp_path):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    deep = get_peft_model(
        AutoModelForCausalLM.from_pretrained(other_bases["deep"]), LoraConfig(r=2, target_modules=["q_proj"])
    )
    deep.save_pretrained(str(tmp_path / "deep-adapter"))
    with pytest.raises(ModelError, match="1 saved weight|2 saved weight.*fit no layer"):
        merge_adapter(tiny_model_dir, tmp_path / "deep-adapter", tmp_path / "out", progress=False)
    out = merge_adapter(
        tiny_model_dir, tmp_path / "deep-adapter", tmp_path / "out", strict=False, progress=False
    )
    assert (out / MANIFEST_NAME).is_file()


def test_base_saved_quantized_is_dequantized_before_merging(
    tiny_model_dir, fp32_adapter, reference, tmp_path, caplog
):
    model, tok = QuantizedLoader(tiny_model_dir, quantization="nf4").load()
    model.save_pretrained(str(tmp_path / "base-nf4"))
    tok.save_pretrained(str(tmp_path / "base-nf4"))
    assert "quantization_config" in json.loads((tmp_path / "base-nf4" / "config.json").read_text())
    out = merge_adapter(
        tmp_path / "base-nf4", fp32_adapter, tmp_path / "merged", dtype="fp32", progress=False
    )
    assert "dequantizing" in caplog.text
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    assert manifest["base_loaded_as"].startswith("dequantized")
    assert "quantization_config" not in json.loads((out / "config.json").read_text())
    merged, merged_tok = _load_merged(out)
    assert type(merged.model.layers[0].self_attn.q_proj) is torch.nn.Linear
    assert next(merged.parameters()).dtype == torch.float32
    assert sum(p.numel() for p in merged.parameters()) == reference["parameters"]


def test_cli_merge_command(tiny_model_dir, fp32_adapter, reference, tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="domainft")
    sub = parser.add_subparsers(dest="command")
    add_merge_command(sub)
    out = tmp_path / "cli-merged"
    args = parser.parse_args(
        [
            "merge",
            "--base",
            str(tiny_model_dir),
            "--adapter",
            str(fp32_adapter),
            "--output",
            str(out),
            "--quiet",
        ]
    )
    assert args.command == "merge" and args.dtype == "auto"
    assert args.func(args) == 0
    printed = capsys.readouterr().out
    assert "merged" in printed and str(out) in printed
    model, tok = _load_merged(out)
    assert _max_diff(_logits(model, tok), reference["peft"]) < 1e-4

    args = parser.parse_args(
        ["merge", "--base", str(tiny_model_dir), "--adapter", str(fp32_adapter), "--output", str(out)]
    )
    with pytest.raises(ModelError, match="--overwrite"):
        args.func(args)
    with pytest.raises(SystemExit):
        parser.parse_args(["merge", "--base", "b", "--adapter", "a", "--output", "o", "--dtype", "int8"])


def test_training_quantization_is_read_from_the_model_card(tmp_path):
    (tmp_path / "README.md").write_text(
        "## Training procedure\n\nThe following `bitsandbytes` quantization config was used during training:\n"
        "- load_in_8bit: False\n- load_in_4bit: True\n- bnb_4bit_quant_type: fp4\n"
    )
    assert adapter_training_quantization(tmp_path) == ("fp4", str(tmp_path / "README.md"))
    (tmp_path / "README.md").write_text("# card\n")
    (tmp_path / "manifest.json").write_text(json.dumps({"model": {"quantization": "int8"}}))
    assert adapter_training_quantization(tmp_path) == ("int8", str(tmp_path / "manifest.json"))


def test_auto_dtype_follows_the_saved_precision():
    assert resolve_merge_dtype("auto", {"torch_dtype": "float16"}) == "float16"
    assert resolve_merge_dtype("auto", {"dtype": "int8"}) == "float32"
    assert resolve_merge_dtype("bfloat16") == "bfloat16"
