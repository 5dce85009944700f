import pytest
import torch

from domainft.errors import ConfigError
from domainft.evaluation.cache import GenerationCache
from domainft.evaluation.systems import EndpointSystem, System, adapter_systems
from domainft.models.adapters import LoraAdapterFactory, load_adapter
from domainft.models.generation import DecodingConfig
from domainft.models.loading import QuantizedLoader
from tests.fake_openai import FakeOpenAIServer, error


def _randomise_lora(model, seed):
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.5)


def _two_adapters(tiny_model_dir, tmp_path):
    """A base with adapters "a" and "b" (different weights) loaded by name."""
    folders = []
    for seed in (1, 2):
        base, _ = QuantizedLoader(tiny_model_dir, quantization=None).load()
        model = LoraAdapterFactory(r=4, alpha=64, target_modules="attention").apply(base)
        _randomise_lora(model, seed)
        model.save_pretrained(str(tmp_path / f"adapter{seed}"))
        folders.append(tmp_path / f"adapter{seed}")
    base, tok = QuantizedLoader(tiny_model_dir, quantization=None).load()
    model = load_adapter(base, folders[0], name="a")
    model.load_adapter(str(folders[1]), adapter_name="b")
    return model, tok


def test_named_adapters_answer_as_themselves_and_restore_the_active_one(tiny_model_dir, tmp_path):
    model, tok = _two_adapters(tiny_model_dir, tmp_path)
    model.eval()
    ids = tok("Machine: chiller. Problem: icing", return_tensors="pt")
    systems = adapter_systems(model)
    assert sorted(systems) == ["a", "b"]
    logits = {}
    for name, system in systems.items():
        with torch.no_grad(), system.context():
            logits[name] = model(**ids).logits
    assert model.active_adapter == "a"  # restored after each block
    assert not torch.allclose(logits["a"], logits["b"])
    with torch.no_grad():
        model.set_adapter("b")
        assert torch.allclose(model(**ids).logits, logits["b"])
        model.set_adapter("a")
    fingerprints = {name: s.fingerprint() for name, s in systems.items()}
    assert fingerprints["a"] != fingerprints["b"]
    assert System(model, disable_adapter=True).fingerprint() not in fingerprints.values()
    with pytest.raises(ConfigError, match="no adapter 'c'.*\\['a', 'b'\\]"):
        System(model, adapter="c")


def test_fingerprint_follows_the_weights(tiny_model_dir):
    base, _ = QuantizedLoader(tiny_model_dir, quantization=None).load()
    model = LoraAdapterFactory(r=4, target_modules="attention").apply(base)
    system = System(model)
    first = system.fingerprint()
    assert system.fingerprint() == first  # deterministic
    base_print = System(model, disable_adapter=True).fingerprint()
    _randomise_lora(model, 0)  # "training" changes the adapter...
    assert system.fingerprint() != first
    assert System(model, disable_adapter=True).fingerprint() == base_print  # ...not the base
    with pytest.raises(ConfigError, match="PeftModel"):
        System(base, disable_adapter=True)


def test_generation_cache_round_trip_and_keys(tmp_path):
    cache = GenerationCache(tmp_path)
    greedy = DecodingConfig(max_new_tokens=8).to_dict()
    key = cache.key("sys", [1, 2], greedy)
    assert key == cache.key("sys", [1, 2], {**greedy, "batch_size": 1})  # batch size does not change answers
    assert len({key, cache.key("sys", [1, 3], greedy), cache.key("other", [1, 2], greedy)}) == 3
    assert key != cache.key("sys", [1, 2], {**greedy, "max_new_tokens": 9})
    cache.put_many({key: "réponse 1"})
    again = GenerationCache(tmp_path)  # a new process sees the same file
    assert again.get_many([key, "missing"]) == {key: "réponse 1"}
    assert (again.hits, again.misses, len(again)) == (1, 1, 1)


def test_endpoint_system_answers_in_order_with_decoding_and_reports_failures():
    def handler(request):
        question = request.last_user
        return error(400, "bad prompt") if "fail" in question else f"answer to {question}"

    with FakeOpenAIServer(handler) as server:
        system = EndpointSystem({"base_url": server.url, "model": "served", "max_retries": 0})
        conversations = [[{"role": "user", "content": q}] for q in ("q1", "please fail", "q3")]
        answers, failures = system.answer(conversations, DecodingConfig(max_new_tokens=7), progress=False)
        assert answers == ["answer to q1", "", "answer to q3"]
        assert [f["index"] for f in failures] == [1] and "bad prompt" in failures[0]["reason"]
        body = server.requests[0].body
        assert body["temperature"] == 0.0 and body["max_tokens"] == 7 and body["model"] == "served"
        sampled = system.request_params(DecodingConfig(do_sample=True, temperature=0.7, top_p=0.9, seed=3))
        assert sampled == {"max_tokens": 128, "temperature": 0.7, "top_p": 0.9, "seed": 3}
    assert (
        EndpointSystem({"base_url": "http://127.0.0.1:1/v1", "model": "m"}).fingerprint()
        != EndpointSystem({"base_url": "http://127.0.0.1:1/v1", "model": "n"}).fingerprint()
    )
