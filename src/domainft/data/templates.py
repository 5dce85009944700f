"""Prompt templates and label masking: how a (prompt, response) pair becomes training tokens.

The prompt is rendered with the tokenizer's chat template (``template="chat"``) or a named fallback
template; the response follows and is closed by EOS. Labels are built here, by position: prompt
tokens are ``-100`` (no loss), response tokens and the closing EOS are learned. Collators then only
pad, so a pad token equal to EOS never masks the EOS that ends an answer.

Example:
    >>> from domainft.data.templates import get_template
    >>> get_template("human_assistant").format_prompt("Who was he?")
    '<human>: Who was he?\\n<assistant>: '
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domainft.errors import ConfigError, ModelError
from domainft.registry import Registry

IGNORE_INDEX = -100


@dataclass(frozen=True)
class PromptTemplate:
    """A plain-text prompt format; ``{prompt}`` and optionally ``{system}`` are filled in."""

    name: str
    prompt_format: str
    system_format: str = "{system}\n\n"

    def format_prompt(self, prompt: str, system: str | None = None) -> str:
        head = self.system_format.format(system=system) if system else ""
        return head + self.prompt_format.format(prompt=prompt)


TEMPLATES: Registry[PromptTemplate] = Registry("prompt template")


def register_template(template: PromptTemplate, *, overwrite: bool = False) -> PromptTemplate:
    """Add a named fallback template.

    Example:
        >>> register_template(PromptTemplate("qa", "Q: {prompt}\\nA: "), overwrite=True).name
        'qa'
    """
    if "{prompt}" not in template.prompt_format:
        raise ConfigError(f"template {template.name!r}: prompt_format must contain '{{prompt}}'")
    TEMPLATES.register(template.name, template, overwrite=overwrite)
    return template


register_template(PromptTemplate("human_assistant", "<human>: {prompt}\n<assistant>: "))
register_template(
    PromptTemplate("alpaca", "### Instruction:\n{prompt}\n\n### Response:\n", system_format="{system}\n\n")
)
register_template(PromptTemplate("plain", "{prompt}\n"))


def get_template(name: str) -> PromptTemplate:
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


def render_prompt(
    tokenizer: Any, prompt: str, template: str | None = None, system_prompt: str | None = None
) -> str:
    """The text the model sees before its answer (ends where the answer starts)."""
    name = resolve_template_name(tokenizer, template)
    if name == "chat":
        messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
        messages.append({"role": "user", "content": prompt})
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return get_template(name).format_prompt(prompt, system_prompt)


def encode_prompt(tokenizer: Any, prompt_text: str, template: str | None = None) -> list[int]:
    """Token ids of a rendered prompt; chat templates carry their own BOS, plain ones get the tokenizer's."""
    add_special = resolve_template_name(tokenizer, template) != "chat"
    return list(tokenizer(prompt_text, add_special_tokens=add_special)["input_ids"])


def prompt_ids(
    tokenizer: Any, prompt: str, template: str | None = None, system_prompt: str | None = None
) -> list[int]:
    """Token ids of ``prompt`` rendered with ``template``: what the model reads before answering."""
    name = resolve_template_name(tokenizer, template)
    return encode_prompt(tokenizer, render_prompt(tokenizer, prompt, name, system_prompt), name)


def encode_example(
    tokenizer: Any,
    prompt: str,
    response: str,
    template: str | None = None,
    system_prompt: str | None = None,
) -> dict[str, list[int]]:
    """``input_ids`` and ``labels`` of one example: prompt masked, response and EOS learned."""
    if tokenizer.eos_token_id is None:
        raise ModelError("the tokenizer has no EOS token; set tokenizer.eos_token so answers can end")
    ids = prompt_ids(tokenizer, prompt, template, system_prompt)
    response_ids = [*tokenizer(response, add_special_tokens=False)["input_ids"], tokenizer.eos_token_id]
    return {"input_ids": ids + response_ids, "labels": [IGNORE_INDEX] * len(ids) + response_ids}


def tokenize_dataset(
    dataset: Any,
    tokenizer: Any,
    *,
    template: str | None = None,
    system_prompt: str | None = None,
    max_length: int | None = None,
    desc: str = "tokenizing",
) -> tuple[Any, list[dict[str, Any]]]:
    """Encode a dataset with ``prompt``/``response`` columns.

    Returns ``(tokenized, dropped)``: examples longer than ``max_length`` tokens are removed and
    listed in ``dropped`` (id, length, reason) instead of being truncated, which would cut off the
    EOS the model must learn.
    """
    resolve_template_name(tokenizer, template)

    def _encode(row: dict[str, Any]) -> dict[str, Any]:
        enc = encode_example(tokenizer, row["prompt"], row["response"], template, system_prompt)
        enc["length"] = len(enc["input_ids"])
        return enc

    keep = [c for c in ("id",) if c in dataset.column_names]
    encoded = dataset.map(
        _encode, remove_columns=[c for c in dataset.column_names if c not in keep], desc=desc
    )
    dropped: list[dict[str, Any]] = []
    if max_length is not None:
        lengths = encoded["length"]
        too_long = [i for i, n in enumerate(lengths) if n > max_length]
        if too_long:
            ids = encoded["id"] if "id" in encoded.column_names else list(range(len(encoded)))
            dropped = [
                {"id": ids[i], "length": lengths[i], "reason": f"longer than max_length={max_length}"}
                for i in too_long
            ]
            bad = set(too_long)
            encoded = encoded.select([i for i in range(len(encoded)) if i not in bad])
    return encoded, dropped
