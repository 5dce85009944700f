"""Built-in judge backends: ``"openai"`` (an OpenAI-compatible server) and ``"transformers"`` (in-process).

Both reuse the synthetic-data teachers (:mod:`domainft.data.teachers`), which wrap
:class:`~domainft.llm.ChatClient` and :func:`~domainft.models.generation.generate_texts`; here they
are only configured for judging: temperature 0 (greedy), ``max_workers`` requests at once.

Examples:
    >>> from domainft.evaluation.judges import JudgeConfig, build_backend
    >>> backend = build_backend(JudgeConfig(
    ...     endpoint={"base_url": "http://127.0.0.1:8000/v1", "model": "judge", "temperature": 0.8}))
    >>> backend.settings()["temperature"], backend.client.config.concurrency
    (0.0, 4)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from domainft.data.teachers import OpenAITeacher, Teacher, TransformersTeacher
from domainft.errors import ConfigError
from domainft.evaluation.judges import register_judge

if TYPE_CHECKING:  # pragma: no cover
    from domainft.evaluation.judges.config import JudgeConfig


@register_judge("openai")
def openai_judge(config: JudgeConfig) -> Teacher:
    """Any OpenAI-compatible chat endpoint (``config.endpoint``), always at temperature 0."""
    from domainft.llm.openai_compat import ChatClient

    if config.endpoint is None:
        raise ConfigError(
            "JudgeConfig.endpoint is required for the 'openai' judge backend: give base_url and model "
            "of the server, e.g. {base_url: http://127.0.0.1:8000/v1, model: qwen2.5-7b-instruct}"
        )
    client = ChatClient(config.endpoint, temperature=0.0, concurrency=config.max_workers)
    return OpenAITeacher(client=client)


@register_judge("transformers")
def transformers_judge(config: JudgeConfig, *, model: Any = None, tokenizer: Any = None) -> Teacher:
    """A local causal LM: ``model=``/``tokenizer=`` objects, or ``config.local_model`` loaded on first use."""
    if model is None:
        if tokenizer is not None:
            raise ConfigError("the 'transformers' judge: give tokenizer= only together with model=")
        if not config.local_model:
            raise ConfigError(
                "JudgeConfig.local_model is required for the 'transformers' judge backend (a model "
                "folder saved with save_pretrained), or pass model= and tokenizer="
            )
        return TransformersTeacher(
            config.local_model,
            max_new_tokens=config.max_new_tokens,
            do_sample=False,
            batch_size=config.batch_size,
            loader_options=config.loader_options,
        )
    if tokenizer is None:
        raise ConfigError("the 'transformers' judge: a loaded model= needs its tokenizer= too")
    return TransformersTeacher(
        model, tokenizer, max_new_tokens=config.max_new_tokens, do_sample=False, batch_size=config.batch_size
    )
