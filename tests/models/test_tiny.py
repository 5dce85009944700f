import json

import pytest
import torch

from domainft.errors import ConfigError, DataError
from domainft.models.tiny import TinyModelConfig, build_tiny_model

TEXTS = ["The hydraulic pump leaks oil at the shaft seal.", "Replaced the seal and tested at 210 bar."] * 10


def _weights(path):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(path).state_dict()


def test_same_seed_gives_identical_model_and_tokenizer(tmp_path):
    a = build_tiny_model(TEXTS, tmp_path / "a", seed=3)
    b = build_tiny_model(TEXTS, tmp_path / "b", seed=3)
    assert (a / "tokenizer.json").read_text() == (b / "tokenizer.json").read_text()
    wa, wb = _weights(a), _weights(b)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_other_seed_gives_other_weights(tmp_path):
    wa = _weights(build_tiny_model(TEXTS, tmp_path / "a", seed=1))
    wb = _weights(build_tiny_model(TEXTS, tmp_path / "b", seed=2))
    assert not torch.equal(wa["model.embed_tokens.weight"], wb["model.embed_tokens.weight"])


def test_tokenizer_has_specials_and_chat_template(tiny_model_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    assert tok.pad_token == "<pad>" and tok.eos_token == "</s>" and tok.pad_token_id != tok.eos_token_id
    text = tok.apply_chat_template(
        [{"role": "user", "content": "Pump leaks"}], tokenize=False, add_generation_prompt=True
    )
    assert text == "<|user|>\nPump leaks\n<|assistant|>\n"
    # role markers are single tokens, and byte-level BPE round-trips accented text
    assert len(tok("<|assistant|>", add_special_tokens=False)["input_ids"]) == 1
    assert (
        tok.decode(tok("Hồ Chí Minh, perché", add_special_tokens=False)["input_ids"]) == "Hồ Chí Minh, perché"
    )


def test_mistral_architecture_and_config_record(tmp_path):
    path = build_tiny_model(
        TEXTS, tmp_path / "m", architecture="mistral", hidden_size=32, num_attention_heads=4
    )
    config = json.loads((path / "config.json").read_text())
    assert config["model_type"] == "mistral" and config["hidden_size"] == 32
    assert TinyModelConfig.from_json(path / "domainft_tiny.json").architecture == "mistral"


def test_invalid_inputs_are_named():
    with pytest.raises(DataError, match="non-empty text"):
        build_tiny_model(["", "  "], "unused")
    with pytest.raises(ConfigError, match="hidden_size"):
        TinyModelConfig(hidden_size=30, num_attention_heads=4)
    with pytest.raises(ConfigError, match="unknown field 'hiden_size'.*hidden_size"):
        TinyModelConfig.from_dict({"hiden_size": 3})


def test_mixtral_is_a_mixture_of_experts_that_trains_with_lora_on_attention(tmp_path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from domainft import LoraAdapterFactory

    path = build_tiny_model(TEXTS, tmp_path / "moe", architecture="mixtral", num_local_experts=4)
    config = json.loads((path / "config.json").read_text())
    assert config["model_type"] == "mixtral"
    assert (config["num_local_experts"], config["num_experts_per_tok"]) == (4, 2)
    model = AutoModelForCausalLM.from_pretrained(path)
    tok = AutoTokenizer.from_pretrained(path)
    with pytest.raises(ConfigError, match="fused parameters"):
        LoraAdapterFactory(r=4, target_modules="attention+mlp").apply(model)
    peft_model = LoraAdapterFactory(r=4, target_modules="attention").apply(model)
    batch = tok(["the pump leaks oil"], return_tensors="pt")
    loss = peft_model(**batch, labels=batch["input_ids"]).loss
    loss.backward()
    grads = [p.grad for n, p in peft_model.named_parameters() if "lora_" in n]
    assert grads and all(g is not None for g in grads) and any(torch.count_nonzero(g) for g in grads)


def test_expert_counts_are_checked():
    with pytest.raises(ConfigError, match="num_experts_per_tok"):
        TinyModelConfig(architecture="mixtral", num_local_experts=2, num_experts_per_tok=3)
