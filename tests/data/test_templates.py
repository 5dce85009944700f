import pytest
from transformers import AutoTokenizer

from domainft.data.templates import (
    IGNORE_INDEX,
    PromptTemplate,
    encode_example,
    register_template,
    render_prompt,
    tokenize_dataset,
)
from domainft.errors import ConfigError, ModelError


@pytest.fixture()
def tok(tiny_model_dir):
    return AutoTokenizer.from_pretrained(tiny_model_dir)


def test_prompt_masked_response_and_eos_learned(tok):
    enc = encode_example(tok, "Machine: forklift. Problem: horn silent", "Replaced the horn relay.")
    prompt_len = len(
        tok(render_prompt(tok, "Machine: forklift. Problem: horn silent"), add_special_tokens=False)[
            "input_ids"
        ]
    )
    labels, ids = enc["labels"], enc["input_ids"]
    assert labels[:prompt_len] == [IGNORE_INDEX] * prompt_len
    assert labels[prompt_len:] == ids[prompt_len:]
    assert ids[-1] == tok.eos_token_id and labels[-1] == tok.eos_token_id
    assert tok.decode(labels[prompt_len:-1]) == "Replaced the horn relay."


def test_eos_stays_learned_when_pad_equals_eos(tok):
    from domainft.training.collator import PaddingCollator

    tok.pad_token = tok.eos_token
    a = encode_example(tok, "short", "yes")
    b = encode_example(tok, "a much longer prompt about a pump", "replace the seal and test it")
    batch = PaddingCollator(pad_token_id=tok.pad_token_id)([a, b])
    # the EOS that ends the short answer is still a label, the padding after it is not
    row = batch["labels"][0].tolist()
    n = len(a["input_ids"])
    assert row[n - 1] == tok.eos_token_id and set(row[n:]) == {IGNORE_INDEX}
    assert batch["attention_mask"][0].tolist() == [1] * n + [0] * (len(row) - n)


def test_fallback_templates_and_system_prompt(tok):
    text = render_prompt(tok, "Who?", template="human_assistant")
    assert text == "<human>: Who?\n<assistant>: "
    assert render_prompt(tok, "Q", template="alpaca", system_prompt="Be brief.").startswith(
        "Be brief.\n\n### Instruction:"
    )
    chat = render_prompt(tok, "Q", system_prompt="Be brief.")
    assert chat == "<|system|>\nBe brief.\n<|user|>\nQ\n<|assistant|>\n"
    register_template(PromptTemplate("qa_test", "Q: {prompt}\nA: "), overwrite=True)
    assert render_prompt(tok, "x", template="qa_test") == "Q: x\nA: "


def test_template_errors(tok):
    with pytest.raises(ConfigError, match="unknown prompt template 'nope'.*alpaca"):
        render_prompt(tok, "x", template="nope")
    with pytest.raises(ConfigError, match="must contain"):
        register_template(PromptTemplate("bad", "no placeholder"))
    tok.chat_template = None
    with pytest.raises(ModelError, match="no chat template"):
        render_prompt(tok, "x", template="chat")
    assert render_prompt(tok, "x").startswith("### Instruction:")  # default falls back to alpaca


def test_tokenize_dataset_drops_and_counts_long_examples(tok):
    import datasets

    ds = datasets.Dataset.from_list(
        [
            {"id": "a", "prompt": "p", "response": "short"},
            {"id": "b", "prompt": "p", "response": "word " * 200},
        ]
    )
    encoded, dropped = tokenize_dataset(ds, tok, max_length=64)
    assert encoded["id"] == ["a"] and encoded.column_names == ["id", "input_ids", "labels", "length"]
    assert [d["id"] for d in dropped] == ["b"] and dropped[0]["length"] > 64
