"""Load what the chat, generate and serve commands talk to: base model, adapter, topic gate, and the
prompt settings the adapter was trained with.

A domainft run folder keeps ``training_config.yaml`` beside ``adapter/``; its ``template`` and
``system_prompt`` become the chat defaults, so a model is spoken to the way it was trained.

Examples:
    >>> import tempfile
    >>> trained_prompt_settings(tempfile.mkdtemp())
    {}
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from domainft.errors import ModelError

logger = logging.getLogger(__name__)

_PROMPT_KEYS = ("template", "system_prompt")


def trained_prompt_settings(adapter_dir: str | Path | None) -> dict[str, Any]:
    """``template`` and ``system_prompt`` from the ``training_config.yaml`` in the adapter folder or
    its parent (the run folder); empty when there is none."""
    if adapter_dir is None:
        return {}
    import yaml

    folder = Path(adapter_dir)
    for parent in (folder, folder.parent):
        path = parent / "training_config.yaml"
        if not path.is_file():
            continue
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ModelError(f"{path}: not valid YAML ({exc}); fix or remove it") from exc
        if not isinstance(data, dict):
            return {}
        found = {k: data[k] for k in _PROMPT_KEYS if data.get(k) is not None}
        if found:
            logger.info("prompt settings from %s: %s", path, found)
        return found
    return {}


@dataclass
class Assistant:
    """A loaded model with its tokenizer, optional topic gate, and the chat settings to use."""

    model: Any
    tokenizer: Any
    topic_gate: Any | None
    name: str
    prompt_settings: dict[str, Any]


def load_assistant(
    model: str,
    adapter: str | None = None,
    *,
    topic_gate: str | None = None,
    quantization: str | None = None,
    name: str | None = None,
) -> Assistant:
    """Load ``model`` (a folder or hub id) with ``adapter`` on top and the topic gate saved in ``topic_gate``.

    ``quantization`` is ``nf4``/``fp4``/``int8`` or None (full precision, the default for serving on CPU).
    """
    from domainft.models.loading import QuantizedLoader

    loaded, tokenizer = QuantizedLoader(model, quantization=quantization, adapter=adapter).load()
    gate = None
    if topic_gate:
        from domainft.data.topic_gate import TopicGate

        gate = TopicGate.load(topic_gate)
    return Assistant(
        model=loaded,
        tokenizer=tokenizer,
        topic_gate=gate,
        name=name or default_model_name(model, adapter),
        prompt_settings=trained_prompt_settings(adapter),
    )


def default_model_name(model: str, adapter: str | None = None) -> str:
    """The name a served model goes by: the run folder of the adapter, else the base model's name.

    Examples:
        >>> default_model_name("models/tiny-llama", "runs/machinery/adapter")
        'machinery'
    """
    if adapter:
        path = Path(adapter)
        if path.name in ("adapter", "last_adapter") and path.parent.name:
            return path.parent.name
        return path.name or "domainft"
    return Path(model.rstrip("/")).name or "domainft"
