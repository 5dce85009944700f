import pytest
from transformers import AutoTokenizer

from domainft.data.templates import (
    IGNORE_INDEX,
    PromptTemplate,
    conversation_prompt_ids,
    encode_conversation,
    encode_example,
    encode_prompt,
    fit_length,
    overlength_counts,
    prompt_ids,
    register_template,
    render_conversation,
    render_prompt,
    row_messages,
    tokenize_dataset,
)
from domainft.errors import ConfigError, DataError, ModelError


@pytest.fixture()
def tok(tiny_model_dir):
    return AutoTokenizer.from_pretrained(tiny_model_dir)


def _bos_adding(tok):
    """Make the tokenizer prepend BOS like Llama tokenizers do with add_special_tokens=True."""
    from tokenizers import processors

    tok._tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A", special_tokens=[("<s>", tok.bos_token_id)]
    )
    assert tok("pump")["input_ids"][0] == tok.bos_token_id
    return tok


SYSTEM = {"role": "system", "content": "Be brief."}
TURN_1 = [{"role": "user", "content": "Pump leaks?"}, {"role": "assistant", "content": "Replace the seal."}]
TURN_2 = [{"role": "user", "content": "And then?"}, {"role": "assistant", "content": "Test it."}]
CONVERSATIONS = {
    "single": TURN_1,
    "single+system": [SYSTEM, *TURN_1],
    "multi": TURN_1 + TURN_2,
    "multi+system": [SYSTEM, *TURN_1, *TURN_2],
}
ALPACA_1 = "### Instruction:\nPump leaks?\n\n### Response:\nReplace the seal.</s>"
ALPACA_2 = "\n\n### Instruction:\nAnd then?\n\n### Response:\nTest it.</s>"
HA_1 = "<human>: Pump leaks?\n<assistant>: Replace the seal.</s>"
HA_2 = "\n<human>: And then?\n<assistant>: Test it.</s>"
LLAMA_SYS = "<<SYS>>\nBe brief.\n<</SYS>>\n\n"
LLAMA_2 = "<s>[INST] And then? [/INST] Test it. </s>"
CHATML_SYS = "<|im_start|>system\nBe brief.<|im_end|>\n"
CHATML_1 = "<|im_start|>user\nPump leaks?<|im_end|>\n<|im_start|>assistant\nReplace the seal.<|im_end|></s>"
CHATML_2 = "\n<|im_start|>user\nAnd then?<|im_end|>\n<|im_start|>assistant\nTest it.<|im_end|></s>"
CHAT_1 = "<|user|>\nPump leaks?\n<|assistant|>\nReplace the seal.</s>"
CHAT_2 = "\n<|user|>\nAnd then?\n<|assistant|>\nTest it.</s>"
# the text each template trains on (BOS "<s>", EOS "</s>") for each conversation
EXPECTED = {
    "alpaca": {
        "single": ALPACA_1,
        "single+system": "Be brief.\n\n" + ALPACA_1,
        "multi": ALPACA_1 + ALPACA_2,
        "multi+system": "Be brief.\n\n" + ALPACA_1 + ALPACA_2,
    },
    "human-assistant": {
        "single": HA_1,
        "single+system": "Be brief.\n\n" + HA_1,
        "multi": HA_1 + HA_2,
        "multi+system": "Be brief.\n\n" + HA_1 + HA_2,
    },
    "llama2-inst": {
        "single": "<s>[INST] Pump leaks? [/INST] Replace the seal. </s>",
        "single+system": f"<s>[INST] {LLAMA_SYS}Pump leaks? [/INST] Replace the seal. </s>",
        "multi": "<s>[INST] Pump leaks? [/INST] Replace the seal. </s>" + LLAMA_2,
        "multi+system": f"<s>[INST] {LLAMA_SYS}Pump leaks? [/INST] Replace the seal. </s>" + LLAMA_2,
    },
    "chatml": {
        "single": CHATML_1,
        "single+system": CHATML_SYS + CHATML_1,
        "multi": CHATML_1 + CHATML_2,
        "multi+system": CHATML_SYS + CHATML_1 + CHATML_2,
    },
    "plain": {
        "single": "Pump leaks?\nReplace the seal.</s>",
        "single+system": "Be brief.\n\nPump leaks?\nReplace the seal.</s>",
        "multi": "Pump leaks?\nReplace the seal.</s>\nAnd then?\nTest it.</s>",
        "multi+system": "Be brief.\n\nPump leaks?\nReplace the seal.</s>\nAnd then?\nTest it.</s>",
    },
    "chat": {  # the tiny tokenizer's own chat template
        "single": CHAT_1,
        "single+system": "<|system|>\nBe brief.\n" + CHAT_1,
        "multi": CHAT_1 + CHAT_2,
        "multi+system": "<|system|>\nBe brief.\n" + CHAT_1 + CHAT_2,
    },
}
# what closes a learned assistant turn (decoded), per template
CLOSING = {
    "alpaca": "</s>",
    "human-assistant": "</s>",
    "llama2-inst": " </s>",
    "chatml": "<|im_end|></s>",
    "plain": "</s>",
    "chat": "</s>",
}
CASES = [(t, c) for t in EXPECTED for c in CONVERSATIONS]


def _learned_runs(tok, enc):
    """Decoded runs of consecutive learned tokens."""
    runs, current = [], []
    for token, label in zip(enc["input_ids"], enc["labels"], strict=True):
        if label != IGNORE_INDEX:
            assert label == token
            current.append(token)
        elif current:
            runs.append(tok.decode(current))
            current = []
    if current:
        runs.append(tok.decode(current))
    return runs


@pytest.mark.parametrize(("template", "case"), CASES)
def test_every_template_renders_single_and_multi_turn(tok, template, case):
    messages = CONVERSATIONS[case]
    expected = EXPECTED[template][case]
    assert render_conversation(tok, messages, template) == expected
    enc = encode_conversation(tok, messages, template)
    assert tok.decode(enc["input_ids"]) == expected  # the tokens are the text, special tokens as ids
    assert enc["input_ids"][-1] == tok.eos_token_id
    # generation sees exactly the tokens that precede the last answer in training
    assert conversation_prompt_ids(tok, messages[:-1], template) == enc["input_ids"][: enc["response_start"]]


@pytest.mark.parametrize(("template", "case"), CASES)
def test_masks_learn_exactly_the_assistant_turns_and_eos(tok, template, case):
    messages = CONVERSATIONS[case]
    answers = [m["content"] + CLOSING[template] for m in messages if m["role"] == "assistant"]
    assert _learned_runs(tok, encode_conversation(tok, messages, template)) == answers
    last = encode_conversation(tok, messages, template, assistant_turns="last")
    assert _learned_runs(tok, last) == answers[-1:]
    everything = encode_conversation(tok, messages, template, train_on_prompt=True)
    assert everything["labels"] == everything["input_ids"]


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
    assert prompt_ids(tok, "Machine: forklift. Problem: horn silent") == ids[:prompt_len]


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
    assert render_prompt(tok, "Who?", template="human-assistant") == text
    assert render_prompt(tok, "Q", template="alpaca", system_prompt="Be brief.").startswith(
        "Be brief.\n\n### Instruction:"
    )
    assert render_prompt(tok, "Q", template="llama2-inst", system_prompt="S") == (
        "<s>[INST] <<SYS>>\nS\n<</SYS>>\n\nQ [/INST] "
    )
    chat = render_prompt(tok, "Q", system_prompt="Be brief.")
    assert chat == "<|system|>\nBe brief.\n<|user|>\nQ\n<|assistant|>\n"
    register_template(PromptTemplate("qa_test", "Q: {prompt}\nA: "), overwrite=True)
    assert render_prompt(tok, "x", template="qa_test") == "Q: x\nA: "


def test_custom_template_without_eos_in_its_closing_still_learns_eos(tok):
    register_template(
        PromptTemplate("tagged_test", "[Q] {prompt} [A] ", assistant_end=" [END]", turn_separator="\n"),
        overwrite=True,
    )
    enc = encode_conversation(tok, TURN_1 + TURN_2, "tagged_test")
    assert _learned_runs(tok, enc) == ["Replace the seal. [END]</s>", "Test it. [END]</s>"]
    assert tok.decode(enc["input_ids"]).startswith("[Q] Pump leaks? [A] Replace the seal. [END]</s>\n[Q]")


def test_template_errors(tok):
    with pytest.raises(ConfigError, match="unknown prompt template 'nope'.*alpaca"):
        render_prompt(tok, "x", template="nope")
    with pytest.raises(ConfigError, match="must contain"):
        register_template(PromptTemplate("bad", "no placeholder"))
    with pytest.raises(ConfigError, match=r"bad2.*assistant_end.*unknown placeholder.*'answer'"):
        register_template(PromptTemplate("bad2", "{prompt}", assistant_end="{answer}"))
    tok.chat_template = None
    with pytest.raises(ModelError, match="no chat template"):
        render_prompt(tok, "x", template="chat")
    assert render_prompt(tok, "x").startswith("### Instruction:")  # default falls back to alpaca


def test_bos_is_added_once(tok):
    tok = _bos_adding(tok)
    bos = tok.bos_token_id
    for template in ("alpaca", "human-assistant", "chatml", "plain", "llama2-inst"):
        enc = encode_conversation(tok, CONVERSATIONS["single+system"], template)
        assert enc["input_ids"][0] == bos and enc["input_ids"].count(bos) == 1, template
        assert (
            prompt_ids(tok, "Pump leaks?", template, "Be brief.") == enc["input_ids"][: enc["response_start"]]
        )
    # llama2-inst writes <s> before every exchange itself
    assert encode_conversation(tok, CONVERSATIONS["multi"], "llama2-inst")["input_ids"].count(bos) == 2
    # a chat template carries its own special tokens: the tiny one has no BOS
    assert bos not in encode_conversation(tok, CONVERSATIONS["single"], "chat")["input_ids"]


def test_chat_template_closing_that_is_not_eos(tok):
    tok.chat_template = (
        "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}<|end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>{% endif %}"
    )
    enc = encode_conversation(tok, TURN_1 + TURN_2)
    # the turn's closing marker is learned, then the EOS; the newline after it belongs to the prompt
    assert _learned_runs(tok, enc) == ["Replace the seal.<|end|></s>", "Test it.<|end|></s>"]
    assert render_conversation(tok, TURN_1 + TURN_2).startswith(
        "<|user|>Pump leaks?<|end|>\n<|assistant|>Replace the seal.<|end|></s>\n<|user|>"
    )


def test_chat_template_that_is_not_prefix_consistent_is_refused(tok):
    tok.chat_template = (
        "{{ messages | length }} messages\n{% for m in messages %}{{ m['content'] }}\n{% endfor %}"
    )
    with pytest.raises(ModelError, match=r"not prefix-consistent.*first 2 message\(s\).*first 1.*template="):
        encode_conversation(tok, TURN_1)
    tok.chat_template = "{% for m in messages %}{{ m['content'] | upper }}\n{% endfor %}"
    with pytest.raises(ModelError, match=r"messages\[1\].*changes the assistant text"):
        encode_conversation(tok, TURN_1)
    tok.chat_template = "{% for m in messages %}{{ raise_exception('no system role') }}{% endfor %}"
    with pytest.raises(ModelError, match="chat template failed.*no system role"):
        encode_conversation(tok, TURN_1)


def test_row_messages_follow_the_data_contract():
    row = {"prompt": "q", "response": "a", "system": None, "messages": None}
    assert row_messages(row) == [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]
    assert row_messages({**row, "system": "row"}, "global")[0] == {"role": "system", "content": "row"}
    assert row_messages(row, "global")[0] == {"role": "system", "content": "global"}
    multi = {**row, "system": "row", "messages": [SYSTEM, *TURN_1, *TURN_2]}
    assert row_messages(multi, "global") == [SYSTEM, *TURN_1, *TURN_2]  # the conversation's own system wins
    assert row_messages({**row, "messages": TURN_1}, "global") == [
        {"role": "system", "content": "global"},
        *TURN_1,
    ]


def test_tokenize_dataset_mixes_single_and_multi_turn_rows(tok):
    import datasets

    ds = datasets.Dataset.from_list(
        [
            {
                "id": "s",
                "prompt": "Pump leaks?",
                "response": "Replace the seal.",
                "system": None,
                "messages": None,
            },
            {
                "id": "m",
                "prompt": "And then?",
                "response": "Test it.",
                "system": None,
                "messages": TURN_1 + TURN_2,
            },
            {
                "id": "y",
                "prompt": "Pump leaks?",
                "response": "Replace the seal.",
                "system": "Be brief.",
                "messages": None,
            },
        ]
    )
    encoded, records = tokenize_dataset(ds, tok, template="chatml", assistant_turns="last")
    assert records == [] and encoded["id"] == ["s", "m", "y"]
    assert encoded["input_ids"][0] == encode_conversation(tok, TURN_1, "chatml")["input_ids"]
    multi = encode_conversation(tok, TURN_1 + TURN_2, "chatml", assistant_turns="last")
    assert encoded["input_ids"][1] == multi["input_ids"] and encoded["labels"][1] == multi["labels"]
    assert tok.decode(encoded["input_ids"][2]) == EXPECTED["chatml"]["single+system"]
    assert encoded["length"] == [len(ids) for ids in encoded["input_ids"]]


def test_bad_conversations_name_the_row_and_message(tok):
    import datasets

    ds = datasets.Dataset.from_list([{"id": "x", "prompt": "p", "response": "r", "messages": TURN_1[:1]}])
    with pytest.raises(DataError, match=r"row 0 \(id 'x'\).*end with an assistant message"):
        tokenize_dataset(ds, tok, template="alpaca")
    with pytest.raises(DataError, match=r"messages\[1\]: expected a 'assistant' message, got 'user'"):
        encode_conversation(tok, [TURN_1[0], TURN_1[0], TURN_1[1]], "alpaca")
    with pytest.raises(DataError, match=r"messages\[0\].*role"):
        encode_conversation(tok, [{"role": "bot", "content": "x"}], "alpaca")
    with pytest.raises(DataError, match=r"messages\[2\]: a system message may only come first"):
        encode_conversation(tok, [*TURN_1, SYSTEM], "chat")


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
    assert dropped[0]["action"] == "dropped" and dropped[0]["kept_length"] == 0


@pytest.fixture()
def long_rows(tok):
    """A short row, one with a long answer and one with a long prompt, and a max_length between them."""
    import datasets

    rows = [
        {"id": "ok", "prompt": "Pump?", "response": "Seal."},
        {"id": "long_answer", "prompt": "Pump leaks?", "response": "Replace the seal and test it. " * 8},
        {"id": "long_prompt", "prompt": "The pump leaks oil again and again. " * 8, "response": "Seal."},
    ]
    full = {
        r["id"]: encode_conversation(tok, row_messages(r), "human-assistant", train_on_prompt=False)
        for r in rows
    }
    answer = len(full["long_answer"]["input_ids"]) - full["long_answer"]["response_start"]
    prompt = full["long_prompt"]["response_start"]
    max_length = min(answer, prompt)
    assert len(full["ok"]["input_ids"]) <= max_length
    assert full["long_answer"]["response_start"] < max_length  # its prompt fits, its answer does not
    assert len(full["long_prompt"]["input_ids"]) - prompt < max_length  # its answer fits, its prompt does not
    return datasets.Dataset.from_list(rows), full, max_length


def _tokenize(ds, tok, max_length, overlength):
    return tokenize_dataset(ds, tok, template="human-assistant", max_length=max_length, overlength=overlength)


def test_overlength_drop(tok, long_rows):
    ds, full, m = long_rows
    encoded, records = _tokenize(ds, tok, m, "drop")
    assert encoded["id"] == ["ok"]
    assert [(r["id"], r["action"]) for r in records] == [
        ("long_answer", "dropped"),
        ("long_prompt", "dropped"),
    ]
    assert records[0]["length"] == len(full["long_answer"]["input_ids"])
    assert overlength_counts(records) == {"dropped": 2}


def test_overlength_truncate_response_keeps_the_prompt_and_loses_the_eos(tok, long_rows):
    ds, full, m = long_rows
    encoded, records = _tokenize(ds, tok, m, "truncate_response")
    assert encoded["id"] == ["ok", "long_answer"] and encoded["length"][1] == m
    whole = full["long_answer"]
    assert encoded["input_ids"][1] == whole["input_ids"][:m]  # cut on the right
    assert encoded["labels"][1] == whole["labels"][:m]
    assert tok.eos_token_id not in encoded["input_ids"][1]  # the cut answer has no EOS
    start = whole["response_start"]
    assert encoded["labels"][1][:start] == [IGNORE_INDEX] * start
    by_id = {r["id"]: r for r in records}
    assert by_id["long_answer"]["action"] == "truncated_response" and by_id["long_answer"]["kept_length"] == m
    assert by_id["long_prompt"]["action"] == "dropped" and "prompt alone" in by_id["long_prompt"]["reason"]
    assert overlength_counts(records) == {"dropped": 1, "truncated_response": 1}


def test_overlength_truncate_prompt_left_keeps_the_answer(tok, long_rows):
    ds, full, m = long_rows
    encoded, records = _tokenize(ds, tok, m, "truncate_prompt_left")
    assert encoded["id"] == ["ok", "long_prompt"] and encoded["length"][1] == m
    whole = full["long_prompt"]
    assert encoded["input_ids"][1] == whole["input_ids"][-m:]  # cut on the left
    assert encoded["labels"][1][-1] == tok.eos_token_id
    answer = len(whole["input_ids"]) - whole["response_start"]
    assert encoded["labels"][1][-answer:] == whole["input_ids"][-answer:]
    by_id = {r["id"]: r for r in records}
    assert by_id["long_prompt"]["action"] == "truncated_prompt_left"
    assert by_id["long_answer"]["action"] == "dropped" and "response alone" in by_id["long_answer"]["reason"]
    assert overlength_counts(records) == {"dropped": 1, "truncated_prompt_left": 1}


def test_truncate_prompt_left_drops_oldest_turns_and_keeps_bos(tok):
    tok = _bos_adding(tok)
    messages = [*TURN_1, *TURN_2]
    whole = encode_conversation(tok, messages, "alpaca")
    answer = len(whole["input_ids"]) - whole["response_start"]
    m = answer + 6  # BOS, a few prompt tokens, the whole last answer
    fitted, action, _ = fit_length(whole, m, "truncate_prompt_left", bos_token_id=tok.bos_token_id)
    assert action == "truncated_prompt_left" and len(fitted["input_ids"]) == m
    assert fitted["input_ids"] == [tok.bos_token_id, *whole["input_ids"][-(m - 1) :]]
    assert "Replace the seal" not in tok.decode(fitted["input_ids"])  # the first exchange is gone
    assert tok.decode(fitted["input_ids"]).endswith(":\nTest it.</s>")
    with pytest.raises(ConfigError, match="overlength must be one of"):
        fit_length(whole, m, "cut")


@pytest.mark.parametrize("template", ["alpaca", "human-assistant", "llama2-inst", "chatml", "plain", "chat"])
def test_prompt_tokens_equal_the_tokenized_rendered_text(tok, template):
    # " Problem" is one token of the tiny vocabulary: text must not be tokenized piece by piece
    prompt, system = "Problem: horn silent", "Machine: forklift."
    text = render_prompt(tok, prompt, template, system)
    assert prompt_ids(tok, prompt, template, system) == encode_prompt(tok, text, template)
    assert encode_prompt(tok, text, template) == tok(text, add_special_tokens=False)["input_ids"]
