"""The systems an Evaluator compares: local models (a base, a PeftModel, one named adapter of several
on a shared base) and OpenAI-compatible chat endpoints (a hosted or served model as baseline).

Every system has a ``fingerprint``: a digest of what decides its answers, used as the generation
cache key. For a local model it covers the model's identity and a sample of every weight tensor
(all of the active adapter's weights), so retraining an adapter in memory changes it; for an
endpoint it is the URL, the served model name and the request settings.

Examples:
    >>> from domainft.evaluation.systems import EndpointSystem
    >>> system = EndpointSystem({"base_url": "http://127.0.0.1:8000/v1", "model": "qwen2.5-7b"})
    >>> len(system.fingerprint())
    64
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from domainft.errors import ConfigError
from domainft.llm.openai_compat import ChatEndpointConfig

_SAMPLED_ELEMENTS = 1024  # per base tensor: enough to tell checkpoints apart, cheap for 70B models


def is_peft(model: Any) -> bool:
    """True for a peft ``PeftModel``."""
    return hasattr(model, "disable_adapter") and hasattr(model, "get_base_model")


def _tensor_digest(h: Any, name: str, tensor: Any, *, whole: bool) -> None:
    data = tensor.detach()
    h.update(f"{name}|{tuple(data.shape)}|{data.dtype}".encode())
    flat = data.reshape(-1) if whole else data.reshape(-1)[:_SAMPLED_ELEMENTS]
    if flat.dtype.is_floating_point:  # bfloat16 has no numpy counterpart
        flat = flat.float()
    h.update(flat.cpu().contiguous().numpy().tobytes())


@dataclass
class System:
    """A local model to evaluate.

    ``disable_adapter=True`` runs a PeftModel as its base model (no second load); ``adapter`` selects
    one of several named adapters loaded on the same PeftModel (``load_adapter(model, dir, name=...)``)
    for the duration of the generation.
    """

    model: Any
    disable_adapter: bool = False
    adapter: str | None = None

    def __post_init__(self) -> None:
        if (self.disable_adapter or self.adapter) and not is_peft(self.model):
            raise ConfigError("System: disable_adapter/adapter need a PeftModel (LoraAdapterFactory.apply)")
        if self.adapter is not None and self.adapter not in getattr(self.model, "peft_config", {}):
            known = sorted(getattr(self.model, "peft_config", {}))
            raise ConfigError(f"System: the model has no adapter {self.adapter!r}; its adapters: {known}")

    @contextmanager
    def context(self) -> Any:
        """Within the block the model answers as this system (adapter off, or the named one active)."""
        if self.disable_adapter:
            with self.model.disable_adapter():
                yield
            return
        if self.adapter is None:
            with nullcontext():
                yield
            return
        previous = self.model.active_adapter
        self.model.set_adapter(self.adapter)
        try:
            yield
        finally:
            self.model.set_adapter(previous)

    def fingerprint(self) -> str:
        """sha256 of the model identity, a sample of every base tensor and the active adapter's weights."""
        h = hashlib.sha256()
        config = getattr(self.model, "config", None)
        h.update(str(getattr(config, "_name_or_path", "")).encode())
        h.update(str(getattr(config, "quantization_config", None)).encode())
        active = None
        if is_peft(self.model) and not self.disable_adapter:
            active = self.adapter or self.model.active_adapter
            h.update(
                json.dumps(self.model.peft_config[active].to_dict(), sort_keys=True, default=str).encode()
            )
        h.update(f"adapter={active}".encode())
        for name, tensor in self.model.state_dict().items():
            in_adapter = is_peft(self.model) and ("lora_" in name or "modules_to_save" in name)
            if in_adapter and (active is None or f".{active}." not in f"{name}."):
                continue  # adapters that are not used by this system do not change its answers
            _tensor_digest(h, name, tensor, whole=in_adapter)
        return h.hexdigest()


@dataclass
class EndpointSystem:
    """An OpenAI-compatible chat endpoint as a system: each prompt is sent as a chat conversation.

    Decoding maps to request fields: greedy = ``temperature 0``, sampling = ``temperature``/``top_p``
    (and ``seed``), ``max_new_tokens`` = ``max_tokens``. Transient faults (connection refused or
    dropped, timeouts, HTTP 408/409/429/5xx, bodies cut short or not JSON) are retried by the
    :class:`~domainft.llm.ChatClient` (``max_retries``, ``backoff_s``, ``timeout_s`` of the endpoint).
    A request that fails for good leaves an empty answer and is listed in the evaluation's
    ``generation_failures`` (index, reason, kind, HTTP status, attempts).
    """

    endpoint: ChatEndpointConfig | Mapping[str, Any]

    def __post_init__(self) -> None:
        if not isinstance(self.endpoint, ChatEndpointConfig):
            self.endpoint = ChatEndpointConfig.from_dict(dict(self.endpoint))

    def fingerprint(self) -> str:
        cfg = self.endpoint
        identity = {"base_url": cfg.base_url, "model": cfg.model, "extra_body": cfg.extra_body}
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()

    def request_params(self, decoding: Any) -> dict[str, Any]:
        """Body fields for the decoding settings."""
        params: dict[str, Any] = {"max_tokens": decoding.max_new_tokens}
        if decoding.do_sample:
            params.update(temperature=decoding.temperature, top_p=decoding.top_p, seed=decoding.seed)
        else:
            params["temperature"] = 0.0
        return params

    def answer(
        self,
        conversations: list[list[dict[str, str]]],
        decoding: Any,
        *,
        progress: bool = True,
        desc: str = "",
        on_answer: Callable[[int, str], None] | None = None,
    ) -> tuple[list[str], list[dict[str, Any]]]:
        """Answers in input order, and one failure record per request that failed for good.

        A failure record is ``{"index", "reason", "kind", "status", "attempts"}``. ``on_answer(index,
        answer)`` is called in the calling thread as each request succeeds (never for a failure), so a
        caller can cache answers as they arrive and a run that dies midway keeps them.
        """
        from domainft.llm.openai_compat import ChatClient, ChatFailure

        def arrived(index: int, result: Any) -> None:
            if on_answer is not None and not isinstance(result, ChatFailure):
                on_answer(index, result.text.strip())

        client = ChatClient(self.endpoint)
        results = client.chat_many(
            conversations,
            progress=progress,
            desc=desc or "generating",
            on_result=arrived,
            **self.request_params(decoding),
        )
        answers: list[str] = []
        failures: list[dict[str, Any]] = []
        for i, result in enumerate(results):
            if isinstance(result, ChatFailure):
                answers.append("")
                failures.append(
                    {
                        "index": i,
                        "reason": str(result),
                        "kind": result.kind,
                        "status": result.status,
                        "attempts": result.attempts,
                    }
                )
            else:
                answers.append(result.text.strip())
        return answers, failures


def adapter_systems(peft_model: Any, names: list[str] | None = None) -> dict[str, System]:
    """One system per named adapter of ``peft_model`` (default: all of them), e.g. to compare the
    adapters of several recipes on one loaded base."""
    if not is_peft(peft_model):
        raise ConfigError("adapter_systems expects a PeftModel with adapters loaded by name")
    names = names or sorted(peft_model.peft_config)
    return {name: System(peft_model, adapter=name) for name in names}
