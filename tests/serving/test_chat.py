"""ChatSession: rendering as in training, history trimming, streaming, the topic gate's refusal."""

from __future__ import annotations

import pytest

from domainft.data.templates import conversation_prompt_ids
from domainft.data.topic_gate import TopicGate
from domainft.errors import ConfigError, ModelError, ServingError
from domainft.models.generation import DecodingConfig, generate_texts
from domainft.models.loading import QuantizedLoader
from domainft.serving import ChatConfig, ChatSession
from domainft.serving.loading import default_model_name, trained_prompt_settings

SYSTEM = "You help maintenance technicians."


@pytest.fixture(scope="module")
def loaded(tiny_model_dir):
    return QuantizedLoader(tiny_model_dir, quantization=None).load()


@pytest.fixture(scope="module")
def gate(ticket_gate_dir):
    return TopicGate.load(ticket_gate_dir)


def test_each_turn_is_rendered_as_in_training_and_equals_plain_generation(loaded, ticket_pairs):
    model, tok = loaded
    q1, q2 = ticket_pairs[0]["prompt"], ticket_pairs[1]["prompt"]
    with ChatSession(model, tok, system_prompt=SYSTEM, generation={"max_new_tokens": 16}) as chat:
        first = chat.ask(q1)
        pieces = list(chat.stream(q2))
        second = chat.last_reply
    convo1 = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": q1}]
    ids1 = conversation_prompt_ids(tok, convo1)
    convo2 = [*convo1, {"role": "assistant", "content": first.text}, {"role": "user", "content": q2}]
    ids2 = conversation_prompt_ids(tok, convo2)
    expected = generate_texts(model, tok, [ids1, ids2], DecodingConfig(max_new_tokens=16), progress=False)
    assert first.prompt_tokens == len(ids1) and second.prompt_tokens == len(ids2)
    assert [first.text, second.text] == expected
    assert "".join(pieces) == second.text and len(pieces) > 1
    assert [m["role"] for m in chat.history] == ["user", "assistant", "user", "assistant"]


def test_history_is_trimmed_to_the_context_window_keeping_the_system_prompt(loaded, ticket_pairs):
    model, tok = loaded
    chat = ChatSession(model, tok, system_prompt=SYSTEM, generation={"max_new_tokens": 8}, context_window=90)
    trimmed = []
    for pair in ticket_pairs[:5]:
        reply = chat.ask(pair["prompt"])
        trimmed.append(reply.trimmed_turns)
        assert reply.prompt_tokens + 8 <= 90
    assert max(trimmed) >= 1 and trimmed[0] == 0
    assert chat.history[-2]["content"] == ticket_pairs[4]["prompt"]
    rendered = conversation_prompt_ids(tok, [{"role": "system", "content": SYSTEM}, *chat.history[:-1]])
    assert reply.prompt_tokens == len(rendered)  # the system prompt survived the trimming
    with pytest.raises(ServingError, match="the question alone takes"):
        chat.ask("pump " * 200)
    chat.close()


def test_off_topic_questions_get_the_refusal_without_the_model(loaded, gate, ticket_pairs):
    model, tok = loaded
    chat = ChatSession(
        model, tok, topic_gate=gate, generation={"max_new_tokens": 6}, domain="machine maintenance"
    )
    reply = chat.ask("What is the capital of France?")
    assert reply.gated and reply.topic_score < gate.threshold
    assert reply.text == ChatConfig(domain="machine maintenance").refusal_text()
    assert chat.engine.stats["requests"] == 0  # the model never ran
    assert chat.history == []  # refused exchanges stay out of the history
    answered = chat.ask(ticket_pairs[0]["prompt"])
    assert not answered.gated and answered.topic_score >= gate.threshold
    assert chat.engine.stats["requests"] == 1
    strict = ChatSession(
        model, tok, topic_gate=gate, gate_threshold=1.0, refusal="Only {domain}.", domain="X"
    )
    assert strict.ask(ticket_pairs[0]["prompt"]).text == "Only X."
    chat.close()


def test_per_turn_decoding_overrides_and_reset(loaded, ticket_pairs):
    model, tok = loaded
    chat = ChatSession(model, tok, generation=DecodingConfig(max_new_tokens=20))
    reply = chat.ask(ticket_pairs[0]["prompt"], max_new_tokens=3)
    assert reply.completion_tokens == 3 and reply.finish_reason == "length"
    with pytest.raises(ConfigError, match="max_new_token"):
        chat.ask("x", max_new_token=3)
    chat.reset()
    assert chat.history == [] and chat.last_reply is None
    with pytest.raises(ServingError, match="empty"):
        chat.ask("   ")
    chat.close()


def test_named_templates_and_bad_options(loaded):
    model, tok = loaded
    chat = ChatSession(model, tok, template="human_assistant", generation={"max_new_tokens": 4})
    reply = chat.ask("Pump leaks?")
    assert reply.prompt_tokens == len(
        conversation_prompt_ids(tok, [{"role": "user", "content": "Pump leaks?"}], "human_assistant")
    )
    with pytest.raises(ConfigError, match="unknown prompt template 'no-such-template'"):
        ChatSession(model, tok, template="no-such-template")
    with pytest.raises(ConfigError, match="gate_threshold"):
        ChatSession(model, tok, gate_threshold=1.5)
    with pytest.raises(ConfigError, match="generation"):
        ChatSession(model, tok, generation=3)
    assert ChatConfig.from_dict(ChatConfig(domain="d", context_window=64).to_dict()).context_window == 64


def test_prompt_settings_come_from_the_training_run(tmp_path):
    run = tmp_path / "machinery"
    (run / "adapter").mkdir(parents=True)
    (run / "training_config.yaml").write_text("template: human_assistant\nsystem_prompt: Be brief.\nlr: 1\n")
    assert trained_prompt_settings(run / "adapter") == {
        "template": "human_assistant",
        "system_prompt": "Be brief.",
    }
    assert trained_prompt_settings(None) == {}
    (run / "training_config.yaml").write_text("template: [unclosed\n")
    with pytest.raises(ModelError, match="training_config.yaml"):
        trained_prompt_settings(run / "adapter")
    assert default_model_name("base", str(run / "adapter")) == "machinery"
    assert default_model_name("models/tiny/") == "tiny"
