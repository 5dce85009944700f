"""ChatSession: talk to a (fine-tuned) model turn by turn, as it was trained to be spoken to.

The history is rendered with the same template and system prompt as the training data (the
tokenizer's chat template by default), the oldest turns are dropped when the conversation outgrows
the context window, and an optional :class:`~domainft.data.topic_gate.TopicGate` answers off-topic
questions with a polite refusal without running the model.

Examples:
    >>> from domainft.serving import ChatSession
    >>> chat = ChatSession(model, tok, system_prompt="You help technicians.")  # doctest: +SKIP
    >>> chat.ask("The spindle overheats. What should I check?").text          # doctest: +SKIP
    'Check the coolant flow and the bearing preload.'
    >>> for piece in chat.stream("And after that?"):                          # doctest: +SKIP
    ...     print(piece, end="", flush=True)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from domainft.configuration import ConfigBase, config_field
from domainft.errors import ConfigError, ServingError
from domainft.models.generation import DecodingConfig
from domainft.serving.engine import Completion, GenerationEngine, GenerationRequest, Stream

DEFAULT_REFUSAL = (
    "I'm sorry, I can only answer questions about {domain}. Could you ask me something on that topic?"
)


@dataclass
class ChatConfig(ConfigBase):
    """How an assistant talks: prompt rendering, the topic gate's refusal, and length limits.

    Examples:
        >>> ChatConfig(domain="machine maintenance", refusal="Only {domain}, sorry.").refusal_text()
        'Only machine maintenance, sorry.'
    """

    system_prompt: str | None = config_field(None, help="System message rendered before every conversation.")
    template: str | None = config_field(
        None,
        help="Prompt template the model was trained with: chat (tokenizer's), a registered name, "
        "or null for chat when the tokenizer has one.",
    )
    refusal: str = config_field(
        DEFAULT_REFUSAL, help="Answer to an off-topic question ({domain} is replaced by `domain`)."
    )
    domain: str = config_field("this assistant's topic", help="What the assistant is about, for the refusal.")
    gate_threshold: float | None = config_field(
        None, help="In-domain probability a question needs; null = the topic gate's own threshold."
    )
    context_window: int | None = config_field(
        None, help="Tokens of prompt plus answer; null = the model's max_position_embeddings."
    )

    def validate(self) -> None:
        if self.gate_threshold is not None:
            self.require_range("gate_threshold", 0, 1, high_open=False)
        if self.context_window is not None:
            self.require_positive("context_window")

    def refusal_text(self) -> str:
        return self.refusal.replace("{domain}", self.domain)


@dataclass
class GateDecision:
    """The topic gate's view of a question."""

    score: float
    threshold: float

    @property
    def in_domain(self) -> bool:
        return self.score >= self.threshold


@dataclass
class ChatReply:
    """One answer: its text, why it ended, token counts, and whether the gate refused the question."""

    text: str
    finish_reason: str = "stop"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    gated: bool = False
    topic_score: float | None = None
    trimmed_turns: int = 0


@dataclass
class PreparedPrompt:
    """A conversation ready for the engine (or refused by the gate)."""

    messages: list[dict[str, str]]
    prompt_ids: list[int] = field(default_factory=list)
    trimmed_turns: int = 0
    gate: GateDecision | None = None

    @property
    def refused(self) -> bool:
        return self.gate is not None and not self.gate.in_domain


def _as_decoding(generation: DecodingConfig | Mapping[str, Any] | None) -> DecodingConfig:
    if generation is None:
        return DecodingConfig(max_new_tokens=256)
    if isinstance(generation, DecodingConfig):
        return generation
    if isinstance(generation, Mapping):
        return DecodingConfig.from_dict(dict(generation), _where="generation")
    raise ConfigError(f"generation must be a DecodingConfig or a dict, got {type(generation).__name__}")


class ChatRenderer:
    """Turns a conversation into prompt token ids, trims it to the context window, applies the gate.

    Shared by :class:`ChatSession` and the server, so both see a model exactly as training rendered it.
    """

    def __init__(
        self, tokenizer: Any, config: ChatConfig, topic_gate: Any | None, context_window: int
    ) -> None:
        from domainft.data.templates import ConversationEncoder

        self.tokenizer = tokenizer
        self.config = config
        self.topic_gate = topic_gate
        self.context_window = context_window
        self.encoder = ConversationEncoder(tokenizer, config.template)

    def gate(self, question: str) -> GateDecision | None:
        if self.topic_gate is None:
            return None
        threshold = self.config.gate_threshold
        return GateDecision(
            score=float(self.topic_gate.score(question)),
            threshold=float(self.topic_gate.threshold if threshold is None else threshold),
        )

    def prepare(
        self, messages: Sequence[Mapping[str, Any]], max_new_tokens: int, *, trim: bool
    ) -> PreparedPrompt:
        """Gate the last user message, add the default system prompt, render, and (with ``trim``)
        drop the oldest exchanges until prompt plus ``max_new_tokens`` fit the context window."""
        from domainft.data.templates import check_messages

        turns = [{"role": str(m["role"]), "content": str(m["content"])} for m in messages]
        check_messages(turns)
        if turns[-1]["role"] != "user":
            raise ServingError("the conversation must end with a user message")
        decision = self.gate(turns[-1]["content"])
        if decision is not None and not decision.in_domain:
            return PreparedPrompt(messages=turns, gate=decision)
        if turns[0]["role"] != "system" and self.config.system_prompt:
            turns.insert(0, {"role": "system", "content": self.config.system_prompt})
        system = turns[:1] if turns[0]["role"] == "system" else []
        body = turns[len(system) :]
        budget = self.context_window - max_new_tokens
        trimmed = 0
        while True:
            ids = self.encoder.prompt_ids(system + body)
            if len(ids) <= budget or not trim:
                break
            cut = next((i for i in range(1, len(body)) if body[i]["role"] == "user"), None)
            if cut is None:
                raise ServingError(
                    f"the question alone takes {len(ids)} tokens, more than the {budget} the context window "
                    f"of {self.context_window} leaves beside {max_new_tokens} answer tokens; ask a shorter "
                    "question or lower max_new_tokens"
                )
            body = body[cut:]
            trimmed += 1
        return PreparedPrompt(messages=system + body, prompt_ids=ids, trimmed_turns=trimmed, gate=decision)


class ChatSession:
    """A multi-turn conversation with ``model``: history, trimming, streaming, and the topic gate.

    ``generation`` holds the decoding settings (a :class:`DecodingConfig` or a dict of its fields;
    default greedy with up to 256 new tokens); other :class:`ChatConfig` fields may be passed as keywords.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        system_prompt: str | None = None,
        topic_gate: Any | None = None,
        generation: DecodingConfig | Mapping[str, Any] | None = None,
        *,
        engine: GenerationEngine | None = None,
        config: ChatConfig | None = None,
        **options: Any,
    ) -> None:
        data = config.to_dict() if config is not None else {}
        if system_prompt is not None:
            data["system_prompt"] = system_prompt
        data.update(options)
        self.config = ChatConfig.from_dict(data, _where="ChatSession")
        self.decoding = _as_decoding(generation)
        self.engine = engine or GenerationEngine(
            model, tokenizer, max_batch_size=1, batch_wait_ms=0, context_window=self.config.context_window
        )
        self.renderer = ChatRenderer(tokenizer, self.config, topic_gate, self.engine.context_window)
        self.history: list[dict[str, str]] = []
        self.last_reply: ChatReply | None = None

    def reset(self) -> None:
        """Forget the conversation (the system prompt stays)."""
        self.history.clear()
        self.last_reply = None

    def messages(self, question: str) -> list[dict[str, str]]:
        return [*self.history, {"role": "user", "content": question}]

    def stream(self, question: str, **decoding: Any) -> Iterator[str]:
        """Yield the answer in pieces as they are generated; :attr:`last_reply` holds the whole reply.

        Keyword arguments override decoding settings for this turn (e.g. ``max_new_tokens=64``).
        """
        if not isinstance(question, str) or not question.strip():
            raise ServingError("the question is empty")
        settings = self.decoding.updated(_where="decoding", **decoding) if decoding else self.decoding
        prepared = self.renderer.prepare(self.messages(question), settings.max_new_tokens, trim=True)
        if prepared.refused:
            assert prepared.gate is not None
            reply = ChatReply(text=self.config.refusal_text(), gated=True, topic_score=prepared.gate.score)
            self.last_reply = reply
            yield reply.text  # off-topic exchanges stay out of the history
            return
        stream: Stream = self.engine.submit(GenerationRequest(prepared.prompt_ids, settings))
        try:
            yield from stream
        finally:
            if not stream.done:
                stream.cancel()
        done: Completion = stream.result()
        self.last_reply = ChatReply(
            text=done.text,
            finish_reason=done.finish_reason,
            prompt_tokens=done.prompt_tokens,
            completion_tokens=done.completion_tokens,
            topic_score=prepared.gate.score if prepared.gate else None,
            trimmed_turns=prepared.trimmed_turns,
        )
        kept = [m for m in prepared.messages if m["role"] != "system"]
        self.history = [*kept, {"role": "assistant", "content": done.text}]

    def ask(self, question: str, **decoding: Any) -> ChatReply:
        """The whole answer to ``question`` (added to the history unless the gate refused it)."""
        for _ in self.stream(question, **decoding):
            pass
        assert self.last_reply is not None
        return self.last_reply

    def close(self) -> None:
        self.engine.close()

    def __enter__(self) -> ChatSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
