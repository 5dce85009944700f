"""Prompt templates, label masking and the over-length policy: how a conversation becomes training tokens.

A row (``prompt``/``response``, optional ``system``, optional multi-turn ``messages``) is turned into a
conversation, rendered with the tokenizer's chat template (``template="chat"``) or a named fallback
template, and cut into *segments*: prompt text (system and user turns, role markers) and assistant
turns (the answer plus the turn's closing marker and EOS). Labels are built here, by position: prompt
tokens are ``-100`` (no loss), assistant turns are learned (all of them, or only the last), or every
token with ``train_on_prompt``. Collators then only pad or flatten, so a pad token equal to EOS never
masks the EOS that ends an answer.

Examples:
    >>> from domainft.data.templates import get_template
    >>> get_template("human_assistant").format_prompt("Who was he?")
    '<human>: Who was he?\\n<assistant>: '
    >>> get_template("llama2-inst").render(
    ...     [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}], "<s>", "</s>"
    ... )
    '<s>[INST] Hi [/INST] Hello </s>'
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from domainft.errors import ConfigError, DataError, ModelError
from domainft.registry import Registry

IGNORE_INDEX = -100

AssistantTurns = Literal["all", "last"]
Overlength = Literal["drop", "truncate_response", "truncate_prompt_left"]
ASSISTANT_TURNS: tuple[str, ...] = get_args(AssistantTurns)
OVERLENGTH_POLICIES: tuple[str, ...] = get_args(Overlength)
ROLES = ("system", "user", "assistant")

_FORMATTER = string.Formatter()
_SPECIALS = ("bos", "eos")


@dataclass(frozen=True)
class _Special:
    """A placeholder for the tokenizer's BOS or EOS token inside rendered text."""

    kind: Literal["bos", "eos"]


Piece = str | _Special


@dataclass
class Segment:
    """A run of a rendered conversation: prompt text, or one assistant turn (``assistant_turn`` set)."""

    pieces: list[Piece]
    assistant_turn: int | None = None

    def text(self, bos_token: str | None = None, eos_token: str | None = None) -> str:
        specials = {"bos": bos_token or "", "eos": eos_token or ""}
        return "".join(p if isinstance(p, str) else specials[p.kind] for p in self.pieces)


def _fields(fmt: str) -> set[str]:
    return {name for _, name, _, _ in _FORMATTER.parse(fmt) if name is not None}


def _fill(fmt: str, **values: str | list[Piece]) -> list[Piece]:
    """Pieces of ``fmt`` with ``values`` substituted; ``{bos}``/``{eos}`` become special-token pieces."""
    pieces: list[Piece] = []
    for literal, name, _, _ in _FORMATTER.parse(fmt):
        if literal:
            pieces.append(literal)
        if name is None:
            continue
        if name in _SPECIALS:
            pieces.append(_Special(name))  # type: ignore[arg-type]
        else:
            value = values.get(name, "")
            pieces.extend(value if isinstance(value, list) else [value])
    return pieces


@dataclass(frozen=True)
class PromptTemplate:
    """A plain-text conversation format for models without (or instead of) a chat template.

    A conversation renders as ``[system block] prompt_format(user 1) answer 1 assistant_end
    turn_separator prompt_format(user 2) answer 2 assistant_end ...``:

    - ``prompt_format``: one user turn plus the opening of the assistant's answer; ``{prompt}`` is the
      user text. If it contains ``{system}``, the system block goes there in the first turn (as in
      Llama-2) instead of at the very start.
    - ``system_format``: the system block; ``{system}`` is the system text. Omitted without a system.
    - ``assistant_end``: closes every assistant turn and is learned with it (default ``{eos}``).
      If the closing does not end with the tokenizer's EOS, the EOS is appended, so every learned
      turn ends with EOS and generation, which stops at EOS, ends.
    - ``turn_separator``: text between an assistant turn and the next user turn (not learned).

    ``{bos}`` and ``{eos}`` stand for the tokenizer's BOS and EOS tokens (nothing where it has none).
    A template that writes ``{bos}`` itself gets no other BOS; one that does not is prefixed with the
    tokenizer's usual special tokens (as ``tokenizer(text)`` would add them).

    Examples:
        >>> t = PromptTemplate("qa", "Q: {prompt}\\nA: ", turn_separator="\\n")
        >>> t.render([{"role": "user", "content": "1+1?"}, {"role": "assistant", "content": "2"},
        ...           {"role": "user", "content": "2+2?"}], eos_token="</s>")
        'Q: 1+1?\\nA: 2</s>\\nQ: 2+2?\\nA: '
    """

    name: str
    prompt_format: str
    system_format: str = "{system}\n\n"
    assistant_end: str = "{eos}"
    turn_separator: str = ""

    @property
    def writes_bos(self) -> bool:
        """True when one of the formats places ``{bos}`` itself."""
        formats = (self.prompt_format, self.system_format, self.assistant_end, self.turn_separator)
        return any("bos" in _fields(f) for f in formats)

    def check(self) -> None:
        """Raise ``ConfigError`` naming the field whose placeholders are wrong."""
        allowed = {
            "prompt_format": {"prompt", "system", *_SPECIALS},
            "system_format": {"system", *_SPECIALS},
            "assistant_end": set(_SPECIALS),
            "turn_separator": set(_SPECIALS),
        }
        for attr, names in allowed.items():
            try:
                used = _fields(getattr(self, attr))
            except ValueError as exc:
                raise ConfigError(
                    f"template {self.name!r}: {attr} is not a valid format string: {exc}"
                ) from None
            unknown = sorted(used - names)
            if unknown:
                raise ConfigError(
                    f"template {self.name!r}: {attr} uses unknown placeholder(s) {unknown}; "
                    f"allowed: {sorted(names)} (write literal braces as '{{{{' and '}}}}')"
                )
        if "prompt" not in _fields(self.prompt_format):
            raise ConfigError(f"template {self.name!r}: prompt_format must contain '{{prompt}}'")

    def segments(self, messages: Sequence[Mapping[str, Any]]) -> list[Segment]:
        """Prompt and assistant segments of a conversation (see :func:`split_turns` for the rules)."""
        system, turns = split_turns(messages)
        system_block = _fill(self.system_format, system=system) if system else []
        inline_system = "system" in _fields(self.prompt_format)
        pending: list[Piece] = [] if inline_system else list(system_block)
        segments: list[Segment] = []
        for i, (user, assistant) in enumerate(turns):
            if i:
                pending += _fill(self.turn_separator)
            first_system = system_block if i == 0 and inline_system else []
            pending += _fill(self.prompt_format, prompt=user, system=first_system)
            if assistant is None:
                break
            segments.append(Segment(pending))
            pending = []
            segments.append(Segment([assistant, *_fill(self.assistant_end)], assistant_turn=i))
        if pending:
            segments.append(Segment(pending))
        return segments

    def render(
        self,
        messages: Sequence[Mapping[str, Any]],
        bos_token: str | None = None,
        eos_token: str | None = None,
    ) -> str:
        """The text of a conversation, special tokens written as ``bos_token``/``eos_token``."""
        return "".join(s.text(bos_token, eos_token) for s in self.segments(messages))

    def format_prompt(
        self,
        prompt: str,
        system: str | None = None,
        bos_token: str | None = None,
        eos_token: str | None = None,
    ) -> str:
        """The text of a single-turn prompt, up to where the answer starts."""
        messages = [{"role": "system", "content": system}] if system else []
        messages.append({"role": "user", "content": prompt})
        return self.render(messages, bos_token, eos_token)


TEMPLATES: Registry[PromptTemplate] = Registry("prompt template")


def register_template(
    template: PromptTemplate, *, overwrite: bool = False, aliases: Sequence[str] = ()
) -> PromptTemplate:
    """Add a named fallback template (and optional alias names for it).

    Examples:
        >>> register_template(PromptTemplate("qa", "Q: {prompt}\\nA: "), overwrite=True).name
        'qa'
    """
    template.check()
    for name in (template.name, *aliases):
        TEMPLATES.register(name, template, overwrite=overwrite)
    return template


register_template(
    PromptTemplate("alpaca", "### Instruction:\n{prompt}\n\n### Response:\n", turn_separator="\n\n")
)
register_template(
    PromptTemplate("human-assistant", "<human>: {prompt}\n<assistant>: ", turn_separator="\n"),
    aliases=["human_assistant"],
)
register_template(
    PromptTemplate(
        "llama2-inst",
        "{bos}[INST] {system}{prompt} [/INST] ",
        system_format="<<SYS>>\n{system}\n<</SYS>>\n\n",
        assistant_end=" {eos}",
    )
)
register_template(
    PromptTemplate(
        "chatml",
        "<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n",
        system_format="<|im_start|>system\n{system}<|im_end|>\n",
        assistant_end="<|im_end|>",
        turn_separator="\n",
    )
)
register_template(PromptTemplate("plain", "{prompt}\n", turn_separator="\n"))


def get_template(name: str) -> PromptTemplate:
    """The registered template ``name``; an unknown name raises ``ConfigError`` with the closest known one."""
    if isinstance(name, str) and name not in TEMPLATES and name != "chat":
        from domainft.configuration import did_you_mean

        raise ConfigError(
            f"unknown prompt template {name!r}.{did_you_mean(name, [*TEMPLATES.names(), 'chat'])} Use 'chat' "
            f"(the tokenizer's chat template) or one of {', '.join(TEMPLATES.names())}, or add one with "
            "register_template"
        )
    return TEMPLATES.get(name)


def resolve_template_name(tokenizer: Any, template: str | None) -> str:
    """``None`` means the tokenizer's chat template when it has one, else ``alpaca``."""
    if template is None:
        return "chat" if getattr(tokenizer, "chat_template", None) else "alpaca"
    if template == "chat":
        if not getattr(tokenizer, "chat_template", None):
            raise ModelError(
                "template='chat' but the tokenizer has no chat template; set tokenizer.chat_template or "
                f"choose a named template ({', '.join(TEMPLATES.names())})"
            )
        return "chat"
    get_template(template)  # raises listing the known names
    return template


# ----------------------------------------------------------------------------------------------------
# Conversations


def split_turns(messages: Sequence[Mapping[str, Any]]) -> tuple[str | None, list[tuple[str, str | None]]]:
    """``(system, [(user, assistant), ...])`` of a conversation; the last assistant may be ``None``.

    A conversation is an optional system message first, then user and assistant messages in turn,
    starting with a user message. Anything else raises ``DataError`` naming the message.

    Examples:
        >>> split_turns([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}])
        (None, [('a', 'b')])
    """
    check_messages(messages)
    system = None
    rest = list(messages)
    if rest and rest[0]["role"] == "system":
        system = rest.pop(0)["content"]
    turns: list[tuple[str, str | None]] = []
    for i, message in enumerate(rest):
        expected = "user" if i % 2 == 0 else "assistant"
        if message["role"] != expected:
            where = i + (system is not None)
            raise DataError(
                f"messages[{where}]: expected a {expected!r} message, got {message['role']!r}; a "
                "conversation is an optional system message, then user and assistant messages in turn"
            )
        if expected == "user":
            turns.append((message["content"], None))
        else:
            turns[-1] = (turns[-1][0], message["content"])
    if not turns:
        raise DataError("the conversation has no user message")
    return system, turns


def check_messages(messages: Sequence[Mapping[str, Any]]) -> None:
    """Raise ``DataError`` unless every message is a ``{"role", "content"}`` mapping with a known role."""
    if not isinstance(messages, Sequence) or isinstance(messages, str) or not messages:
        raise DataError(f"messages must be a non-empty list of {{'role', 'content'}} dicts, got {messages!r}")
    for i, m in enumerate(messages):
        if not isinstance(m, Mapping) or m.get("role") not in ROLES or not isinstance(m.get("content"), str):
            raise DataError(
                f"messages[{i}]: expected {{'role': one of {list(ROLES)}, 'content': str}}, got {m!r}"
            )
        if m["role"] == "system" and i:
            raise DataError(f"messages[{i}]: a system message may only come first")


def row_messages(row: Mapping[str, Any], system_prompt: str | None = None) -> list[dict[str, str]]:
    """The conversation of a dataset row.

    ``messages`` when the row has them (not None), else ``[system] + user(prompt) + assistant(response)``.
    The system message is the conversation's own, else the row's ``system``, else ``system_prompt``.

    Examples:
        >>> [m["role"] for m in row_messages({"prompt": "q", "response": "a"}, system_prompt="Be brief.")]
        ['system', 'user', 'assistant']
    """
    messages = row.get("messages")
    if messages is not None:
        out = [
            {"role": m.get("role"), "content": m.get("content")} if isinstance(m, Mapping) else m
            for m in messages
        ]
    else:
        missing = [c for c in ("prompt", "response") if not isinstance(row.get(c), str)]
        if missing:
            raise DataError(
                f"row {row.get('id', '?')!r}: {missing} must be strings (or give 'messages'); got "
                f"{ {c: row.get(c) for c in missing} }"
            )
        out = [{"role": "user", "content": row["prompt"]}, {"role": "assistant", "content": row["response"]}]
    system = row.get("system") or system_prompt
    if system and not (out and out[0].get("role") == "system"):
        out.insert(0, {"role": "system", "content": system})
    return out


def single_turn(prompt: str, response: str | None = None, system: str | None = None) -> list[dict[str, str]]:
    """``[system] + user(prompt) [+ assistant(response)]`` as messages."""
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": prompt})
    if response is not None:
        messages.append({"role": "assistant", "content": response})
    return messages


# ----------------------------------------------------------------------------------------------------
# The tokenizer's chat template


def _render_chat(tokenizer: Any, messages: Sequence[Mapping[str, Any]], generation_prompt: bool) -> str:
    try:
        text = tokenizer.apply_chat_template(
            list(messages), tokenize=False, add_generation_prompt=generation_prompt
        )
    except Exception as exc:  # jinja2 errors (e.g. "roles must alternate", no system role)
        raise ModelError(
            f"the tokenizer's chat template failed on a conversation of {len(messages)} message(s): {exc}; "
            "fix the data or choose a named template (template='chatml', 'alpaca', ...)"
        ) from exc
    if not isinstance(text, str):
        raise ModelError(f"apply_chat_template(tokenize=False) returned {type(text).__name__}, expected str")
    return text


def _require_prefix(prefix: str, text: str, shorter: int, longer: int) -> None:
    """Raise ``ModelError`` unless ``text`` (``longer`` messages) starts with ``prefix`` (``shorter``)."""
    if text.startswith(prefix):
        return
    pairs = zip(prefix, text, strict=False)
    at = next((i for i, (a, b) in enumerate(pairs) if a != b), min(len(prefix), len(text)))
    raise ModelError(
        f"the tokenizer's chat template is not prefix-consistent: the rendering of the first {longer} "
        f"message(s) does not start with the rendering of the first {shorter} (at character {at}: "
        f"{prefix[at : at + 30]!r} became {text[at : at + 30]!r}), so the assistant's tokens cannot be "
        "located by position; choose a named template (template='chatml', 'alpaca', ...) or fix the template"
    )


def _assistant_span(span: str, content: str, eos_token: str | None, index: int) -> str:
    """The learned part of a rendered assistant turn: up to the EOS, or up to its stripped closing."""
    start = span.find(content)
    if start < 0 and content.strip():
        content = content.strip()
        start = span.find(content)
    if start < 0:
        raise ModelError(
            f"messages[{index}]: the chat template changes the assistant text, which is not found in "
            f"its rendering {span[:60]!r}; choose a named template (template='chatml', ...)"
        )
    end = start + len(content)
    if eos_token:
        at = span.find(eos_token, end)
        if at >= 0:
            return span[: at + len(eos_token)]
    return span[:end] + span[end:].rstrip()


def chat_segments(tokenizer: Any, messages: Sequence[Mapping[str, Any]]) -> list[Segment]:
    """Segments of a conversation rendered with the tokenizer's chat template.

    The assistant turns are found by rendering growing prefixes: the conversation up to each
    assistant message with the generation prompt, then including it. Every rendering must start
    with the previous one (``ModelError`` otherwise). An assistant turn is learned from the end of
    the generation prompt to the EOS when the template writes one, else to its closing marker
    (trailing whitespace left to the prompt).
    """
    check_messages(messages)
    segments: list[Segment] = []
    rendered, rendered_n = "", 0  # the longest rendering so far, of how many messages
    done = 0  # characters of it already assigned to segments
    turn = 0
    eos_token = getattr(tokenizer, "eos_token", None)
    for k, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        if k == 0 or messages[k - 1]["role"] == "assistant":
            raise DataError(f"messages[{k}]: an assistant message must follow a user message")
        before = _render_chat(tokenizer, messages[:k], True)
        _require_prefix(rendered, before, rendered_n, k)
        if len(before) > done:
            segments.append(Segment([before[done:]]))
        after = _render_chat(tokenizer, messages[: k + 1], False)
        _require_prefix(before, after, k, k + 1)
        learned = _assistant_span(after[len(before) :], message["content"], eos_token, k)
        segments.append(Segment([learned], assistant_turn=turn))
        rendered, rendered_n, done, turn = after, k + 1, len(before) + len(learned), turn + 1
    if messages[-1]["role"] != "assistant":
        before = _render_chat(tokenizer, messages, True)
        _require_prefix(rendered, before, rendered_n, len(messages))
        segments.append(Segment([before[done:]]))
    return segments


# ----------------------------------------------------------------------------------------------------
# Encoding


def _special_prefix(tokenizer: Any) -> list[int]:
    """The ids ``tokenizer(text)`` puts before the text's own tokens (e.g. ``[bos_id]``)."""
    plain = list(tokenizer("x", add_special_tokens=False)["input_ids"])
    full = list(tokenizer("x", add_special_tokens=True)["input_ids"])
    for i in range(len(full) - len(plain) + 1):
        if full[i : i + len(plain)] == plain:
            return full[:i]
    return []


@dataclass
class ConversationEncoder:
    """Renders and tokenizes conversations with one tokenizer and template; builds labels by position.

    Examples:
        >>> enc = ConversationEncoder(tok, "chatml")                        # doctest: +SKIP
        >>> out = enc.encode(single_turn("Pump leaks?", "Replace the seal."))   # doctest: +SKIP
    """

    tokenizer: Any
    template: str | None = None
    name: str = field(init=False)
    _named: PromptTemplate | None = field(init=False, repr=False)
    _prefix: list[int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.name = resolve_template_name(self.tokenizer, self.template)
        self._named = None if self.name == "chat" else get_template(self.name)
        writes_own = self._named is None or self._named.writes_bos
        self._prefix = [] if writes_own else _special_prefix(self.tokenizer)

    def segments(self, messages: Sequence[Mapping[str, Any]]) -> list[Segment]:
        """Segments, with EOS closing every assistant turn that does not already end with it."""
        segments = (
            chat_segments(self.tokenizer, messages) if self._named is None else self._named.segments(messages)
        )
        eos = self.tokenizer.eos_token
        for seg in segments:
            if eos and seg.assistant_turn is not None and not seg.text(None, eos).endswith(eos):
                seg.pieces.append(_Special("eos"))
        return segments

    def render(self, messages: Sequence[Mapping[str, Any]]) -> str:
        """The text of a conversation (what the model reads, special tokens written out)."""
        tok = self.tokenizer
        return "".join(s.text(tok.bos_token, tok.eos_token) for s in self.segments(messages))

    def _ids(self, segment: Segment) -> list[int]:
        """Token ids of a segment: each run of text between special tokens is tokenized as a whole."""
        ids: list[int] = []
        text = ""
        for piece in [*segment.pieces, None]:
            if isinstance(piece, str):
                text += piece
                continue
            if text:
                ids += self.tokenizer(text, add_special_tokens=False)["input_ids"]
                text = ""
            if piece is not None:
                token_id = getattr(self.tokenizer, f"{piece.kind}_token_id")
                if token_id is not None:
                    ids.append(token_id)
        return ids

    def encode(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        assistant_turns: AssistantTurns = "all",
        train_on_prompt: bool = False,
    ) -> dict[str, Any]:
        """``input_ids``, ``labels`` and ``response_start`` (where the last assistant turn begins)."""
        if self.tokenizer.eos_token_id is None:
            raise ModelError("the tokenizer has no EOS token; set tokenizer.eos_token so answers can end")
        if assistant_turns not in ASSISTANT_TURNS:
            raise ConfigError(
                f"assistant_turns must be one of {list(ASSISTANT_TURNS)}, got {assistant_turns!r}"
            )
        segments = self.segments(messages)
        last = max((s.assistant_turn for s in segments if s.assistant_turn is not None), default=None)
        if last is None or segments[-1].assistant_turn is None:
            raise DataError("a training conversation must end with an assistant message")
        ids: list[int] = list(self._prefix)
        labels: list[int] = list(self._prefix) if train_on_prompt else [IGNORE_INDEX] * len(self._prefix)
        response_start = 0
        for seg in segments:
            seg_ids = self._ids(seg)
            turn = seg.assistant_turn
            learned = train_on_prompt or (turn is not None and (assistant_turns == "all" or turn == last))
            if turn == last:
                response_start = len(ids)
            ids += seg_ids
            labels += seg_ids if learned else [IGNORE_INDEX] * len(seg_ids)
        return {"input_ids": ids, "labels": labels, "response_start": response_start}

    def prompt_ids(self, messages: Sequence[Mapping[str, Any]]) -> list[int]:
        """Token ids of a conversation ending with a user message, up to where the answer starts.

        These are exactly the tokens that precede the answer in :meth:`encode`.
        """
        check_messages(messages)
        if messages[-1]["role"] == "assistant":
            raise DataError("prompt_ids needs a conversation that ends with a user message")
        ids = list(self._prefix)
        for seg in self.segments(messages):
            ids += self._ids(seg)
        return ids


def render_prompt(
    tokenizer: Any, prompt: str, template: str | None = None, system_prompt: str | None = None
) -> str:
    """The text the model sees before its answer (ends where the answer starts)."""
    return ConversationEncoder(tokenizer, template).render(single_turn(prompt, system=system_prompt))


def render_conversation(
    tokenizer: Any, messages: Sequence[Mapping[str, Any]], template: str | None = None
) -> str:
    """The text of a whole conversation as the model is trained on it (EOS after each assistant turn)."""
    return ConversationEncoder(tokenizer, template).render(messages)


def encode_prompt(tokenizer: Any, prompt_text: str, template: str | None = None) -> list[int]:
    """Token ids of a rendered prompt text.

    Chat templates and templates that write ``{bos}`` carry their own special tokens; other named
    templates get the ones the tokenizer adds in front (e.g. BOS).
    """
    encoder = ConversationEncoder(tokenizer, template)
    return encoder._prefix + list(tokenizer(prompt_text, add_special_tokens=False)["input_ids"])


def prompt_ids(
    tokenizer: Any, prompt: str, template: str | None = None, system_prompt: str | None = None
) -> list[int]:
    """Token ids of ``prompt`` rendered with ``template``: what the model reads before answering."""
    return ConversationEncoder(tokenizer, template).prompt_ids(single_turn(prompt, system=system_prompt))


def conversation_prompt_ids(
    tokenizer: Any, messages: Sequence[Mapping[str, Any]], template: str | None = None
) -> list[int]:
    """Token ids of a multi-turn conversation that ends with a user message, ready for generation."""
    return ConversationEncoder(tokenizer, template).prompt_ids(messages)


def encode_conversation(
    tokenizer: Any,
    messages: Sequence[Mapping[str, Any]],
    template: str | None = None,
    *,
    assistant_turns: AssistantTurns = "all",
    train_on_prompt: bool = False,
) -> dict[str, Any]:
    """``input_ids``, ``labels`` and ``response_start`` of a conversation ending with an assistant turn.

    Labels are ``-100`` on system and user turns and role markers; each assistant turn (its text, its
    closing marker and the EOS) is learned, or only the last with ``assistant_turns="last"``;
    ``train_on_prompt=True`` learns every token.
    """
    return ConversationEncoder(tokenizer, template).encode(
        messages, assistant_turns=assistant_turns, train_on_prompt=train_on_prompt
    )


def encode_example(
    tokenizer: Any,
    prompt: str,
    response: str,
    template: str | None = None,
    system_prompt: str | None = None,
) -> dict[str, list[int]]:
    """``input_ids`` and ``labels`` of one example: prompt masked, response and EOS learned."""
    enc = encode_conversation(tokenizer, single_turn(prompt, response, system_prompt), template)
    return {"input_ids": enc["input_ids"], "labels": enc["labels"]}


# ----------------------------------------------------------------------------------------------------
# Over-length policy


def fit_length(
    encoded: Mapping[str, Any],
    max_length: int,
    policy: Overlength = "drop",
    *,
    bos_token_id: int | None = None,
) -> tuple[dict[str, list[int]] | None, str, str]:
    """Apply the over-length policy to one encoded example longer than ``max_length``.

    Returns ``(encoded or None when dropped, action, reason)``:

    - ``drop``: the example is removed.
    - ``truncate_response``: the prompt is kept and the answer cut on the right, so its EOS is lost
      (a cut answer must not teach the model to stop mid-sentence). Dropped if the prompt leaves no
      room for a single answer token.
    - ``truncate_prompt_left``: the answer (last assistant turn with its EOS) is kept whole with the
      end of what precedes it; the oldest tokens (earlier turns first) are removed, a leading BOS is
      kept. Dropped if the answer leaves no room for a single prompt token.

    Examples:
        >>> enc = {"input_ids": [1, 2, 3, 4, 5, 6], "labels": [-100] * 3 + [4, 5, 6], "response_start": 3}
        >>> fit_length(enc, 4, "truncate_response")[0]["input_ids"]
        [1, 2, 3, 4]
        >>> fit_length(enc, 5, "truncate_prompt_left", bos_token_id=1)[0]["input_ids"]
        [1, 3, 4, 5, 6]
    """
    ids, labels = list(encoded["input_ids"]), list(encoded["labels"])
    start, n = int(encoded.get("response_start", 0)), len(ids)
    if policy not in OVERLENGTH_POLICIES:
        raise ConfigError(f"overlength must be one of {list(OVERLENGTH_POLICIES)}, got {policy!r}")
    if policy == "drop":
        return None, "dropped", f"longer than max_length={max_length}"
    if policy == "truncate_response":
        if start >= max_length:
            reason = (
                f"the prompt alone is {start} tokens, no room for the response within max_length={max_length}"
            )
            return None, "dropped", reason
        cut = f"response cut from {n - start} to {max_length - start} tokens (EOS lost)"
        return {"input_ids": ids[:max_length], "labels": labels[:max_length]}, "truncated_response", cut
    keep = 1 if bos_token_id is not None and ids and ids[0] == bos_token_id and start > 0 else 0
    response = n - start
    if response + keep >= max_length:
        reason = (
            f"the response alone is {response} tokens, no room for the prompt within max_length={max_length}"
        )
        return None, "dropped", reason
    tail = max_length - keep
    cut = f"prompt cut from {start} to {max_length - response} tokens on the left"
    return (
        {"input_ids": ids[:keep] + ids[n - tail :], "labels": labels[:keep] + labels[n - tail :]},
        "truncated_prompt_left",
        cut,
    )


def overlength_counts(records: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """How many examples each over-length action touched.

    Examples:
        >>> overlength_counts([{"action": "dropped"},
        ...                    {"action": "truncated_response"}, {"action": "dropped"}])
        {'dropped': 2, 'truncated_response': 1}
    """
    counts: dict[str, int] = {}
    for r in records:
        counts[r["action"]] = counts.get(r["action"], 0) + 1
    return dict(sorted(counts.items()))


_HELPER_COLUMNS = ("overlength_action", "overlength_reason", "full_length")


def tokenize_dataset(
    dataset: Any,
    tokenizer: Any,
    *,
    template: str | None = None,
    system_prompt: str | None = None,
    max_length: int | None = None,
    overlength: Overlength = "drop",
    assistant_turns: AssistantTurns = "all",
    train_on_prompt: bool = False,
    desc: str = "tokenizing",
) -> tuple[Any, list[dict[str, Any]]]:
    """Encode a dataset of ``prompt``/``response`` (optionally ``system``, ``messages``) rows.

    Returns ``(tokenized, records)``: ``tokenized`` has ``input_ids``, ``labels``, ``length`` (and
    ``id`` when the input has it); ``records`` lists every example longer than ``max_length`` with
    ``id``, ``length`` (before), ``kept_length`` (after, 0 when dropped), ``action`` (``dropped``,
    ``truncated_response``, ``truncated_prompt_left``) and ``reason``. See :func:`fit_length`.
    """
    if overlength not in OVERLENGTH_POLICIES:
        raise ConfigError(f"overlength must be one of {list(OVERLENGTH_POLICIES)}, got {overlength!r}")
    encoder = ConversationEncoder(tokenizer, template)
    if getattr(tokenizer, "eos_token_id", None) is None:  # fail before mapping, not on every row
        raise ModelError(
            "the tokenizer has no EOS token, so a trained answer could never end; set tokenizer.eos_token "
            "(e.g. tokenizer.eos_token = '</s>', a token of its vocabulary) before training"
        )
    bos_id = getattr(tokenizer, "bos_token_id", None)

    def _encode(row: dict[str, Any], index: int) -> dict[str, Any]:
        try:
            enc = encoder.encode(
                row_messages(row, system_prompt),
                assistant_turns=assistant_turns,
                train_on_prompt=train_on_prompt,
            )
        except DataError as exc:
            raise DataError(f"row {index} (id {row.get('id', index)!r}): {exc}") from None
        n = len(enc["input_ids"])
        action = reason = ""
        if max_length is not None and n > max_length:
            fitted, action, reason = fit_length(enc, max_length, overlength, bos_token_id=bos_id)
            enc = fitted or {"input_ids": [], "labels": []}
        return {
            "input_ids": enc["input_ids"],
            "labels": enc["labels"],
            "length": len(enc["input_ids"]),
            "overlength_action": action,
            "overlength_reason": reason,
            "full_length": n,
        }

    keep = [c for c in ("id",) if c in dataset.column_names]
    encoded = dataset.map(
        _encode,
        with_indices=True,
        remove_columns=[c for c in dataset.column_names if c not in keep],
        desc=desc,
    )
    actions = encoded["overlength_action"]
    records: list[dict[str, Any]] = []
    if any(actions):
        ids = encoded["id"] if "id" in encoded.column_names else list(range(len(encoded)))
        full, kept, reasons = encoded["full_length"], encoded["length"], encoded["overlength_reason"]
        records = [
            {"id": ids[i], "length": full[i], "kept_length": kept[i], "action": a, "reason": reasons[i]}
            for i, a in enumerate(actions)
            if a
        ]
        if any(a == "dropped" for a in actions):
            encoded = encoded.select([i for i, a in enumerate(actions) if a != "dropped"])
    return encoded.remove_columns(list(_HELPER_COLUMNS)), records
