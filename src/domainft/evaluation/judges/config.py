"""``JudgeConfig``: which model judges, with which rubric and scale, how fast, and where replies are cached.

Examples:
    >>> from domainft.evaluation.judges.config import JudgeConfig
    >>> cfg = JudgeConfig.from_dict({
    ...     "backend": "openai",
    ...     "endpoint": {"base_url": "http://127.0.0.1:8000/v1", "model": "qwen2.5-7b-instruct"},
    ...     "criteria": "machinery_troubleshooting", "cache_dir": "runs/judge-cache"})
    >>> cfg.endpoint.model, cfg.max_score, cfg.with_reference
    ('qwen2.5-7b-instruct', 10, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domainft.configuration import ConfigBase, config_field
from domainft.errors import ConfigError
from domainft.llm.openai_compat import ChatEndpointConfig


@dataclass
class JudgeConfig(ConfigBase):
    """Settings of an LLM judge (single-answer grading and pairwise comparison).

    The judge always decodes at temperature 0 (greedy for an in-process model); there is no field
    to change that. Retries, backoff and timeouts are the ``endpoint`` settings.
    """

    backend: str = config_field(
        "openai",
        help="Registered judge backend: 'openai' (any OpenAI-compatible server: vLLM, llama.cpp, "
        "TGI, Ollama...) or 'transformers' (a local model in this process).",
    )
    endpoint: ChatEndpointConfig | None = config_field(
        None,
        help="The chat endpoint of the 'openai' backend (base_url, model, api_key_env, timeout_s, "
        "max_retries, backoff_s, max_tokens...).",
    )
    local_model: str | None = config_field(
        None, help="Folder (or hub id) of the 'transformers' backend's model, loaded with QuantizedLoader."
    )
    loader_options: dict[str, Any] = config_field(
        {}, help="QuantizedLoader fields for local_model (e.g. quantization: nf4, dtype: bfloat16)."
    )
    max_new_tokens: int = config_field(256, help="Longest reply of the 'transformers' backend, in tokens.")
    batch_size: int = config_field(8, help="Prompts generated together by the 'transformers' backend.")
    criteria: str = config_field(
        "general",
        help="Rubric: the name of a registered rubric (general, machinery_troubleshooting, museum_qa, "
        "wordpress_support) or the criteria written out as text.",
    )
    min_score: int = config_field(1, help="Lowest grade of the scale.")
    max_score: int = config_field(10, help="Highest grade of the scale.")
    with_reference: bool = config_field(
        True, help="Show the judge the reference answer (when the data has one)."
    )
    system_prompt: str | None = config_field(
        None, help="System message of every judge request; null = the built-in one, '' = none."
    )
    max_workers: int = config_field(4, help="Judge requests in flight at once ('openai' backend).")
    cache_dir: str | None = config_field(
        None, help="Folder of the reply cache (responses.jsonl); a rerun with the same inputs makes no calls."
    )
    skip_identical: bool = config_field(
        True, help="Pairwise: count two identical answers as a tie without asking the judge."
    )
    progress: bool = config_field(True, help="Show a progress bar while the judge works.")

    def validate(self) -> None:
        from domainft.evaluation.judges import JUDGES
        from domainft.evaluation.judges.prompts import resolve_criteria

        if self.backend not in JUDGES:
            raise ConfigError(
                f"JudgeConfig.backend: unknown judge backend {self.backend!r}; "
                f"known: {', '.join(JUDGES.names())} (add one with register_judge)"
            )
        self.require_positive("max_new_tokens", "batch_size", "max_workers")
        if self.min_score < 0 or self.max_score <= self.min_score:
            raise ConfigError(
                f"JudgeConfig.max_score must be greater than min_score >= 0, got "
                f"min_score={self.min_score}, max_score={self.max_score}"
            )
        resolve_criteria(self.criteria)
