"""Teachers: the models that write synthetic data, behind one small interface and a registry.

A teacher turns chat conversations (lists of ``{"role", "content"}`` messages) into reply texts.
``complete`` never raises for one bad item: a call that fails gives a :class:`TeacherFailure` in its
slot. ``fingerprint()`` names everything that changes the replies (backend, model, sampling
settings); the synthetic-data cache keys on it, so changing a setting never reuses stale replies.

Built-in backends (``get_teacher(name, **options)``):

- ``"openai"``: any OpenAI-compatible chat endpoint (vLLM, llama.cpp, TGI, Ollama, OpenAI...) through
  :class:`domainft.llm.ChatClient`; options are :class:`~domainft.llm.ChatEndpointConfig` fields.
- ``"transformers"``: a local causal LM (a folder or hub id, or a loaded ``(model, tokenizer)``),
  batched generation with the tokenizer's chat template when it has one.
- ``"template"``: no model; fills format strings from the record fields, or picks sentences out
  of a passage, so the whole pipeline runs offline and deterministically.
- ``"lookup"``: replays recorded replies (a translation memory, reviewed replies) keyed by the input.

:func:`teacher_text_fn` turns any teacher into a ``str -> str`` function for
``DatasetBuilder.map_text`` (e.g. translating rows written in another language).

Examples:
    >>> from domainft.data.teachers import get_teacher
    >>> teacher = get_teacher("template", question="Why does the {machine} stop?", answer="{fix}")
    >>> context = {"task": "qa", "mode": "records", "n": 1, "fields": {"machine": "press", "fix": "Oil it."}}
    >>> teacher.complete([[{"role": "user", "content": "..."}]], contexts=[context])
    ['[{"question": "Why does the press stop?", "answer": "Oil it."}]']
"""

from __future__ import annotations

import hashlib
import inspect
import json
import re
import string
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from domainft.errors import ConfigError, DataError, ModelError
from domainft.registry import Registry
from domainft.utils.io import read_jsonl

if TYPE_CHECKING:  # pragma: no cover
    from domainft.llm.openai_compat import ChatClient, ChatEndpointConfig

Messages = Sequence[Mapping[str, Any]]


@dataclass
class TeacherFailure:
    """A call that produced no reply: why, and how many attempts were made."""

    error: str
    kind: str = "error"
    attempts: int = 1

    def __str__(self) -> str:
        return self.error


TeacherOutput = str | TeacherFailure
Emit = Callable[[int, TeacherOutput], None]


def canonical_json(obj: Any) -> str:
    """Compact, key-sorted JSON used for fingerprints and cache keys (non-JSON values via ``str``)."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


class Teacher(ABC):
    """Base of teachers: implement ``settings()`` and ``_complete()``.

    ``backend`` is the registry name; ``name`` (default ``backend:model``) goes into the ``teacher``
    column of generated data. A teacher whose replies depend on the per-request ``contexts`` (not
    only on the messages) sets ``needs_context = True`` so contexts become part of cache keys; one
    that is free and deterministic may set ``cacheable = False``.
    """

    backend: ClassVar[str] = "custom"
    needs_context: ClassVar[bool] = False
    cacheable: ClassVar[bool] = True

    @property
    def name(self) -> str:
        return self.backend

    @abstractmethod
    def settings(self) -> dict[str, Any]:
        """Everything that changes the replies (model identity, sampling settings)."""

    def fingerprint(self) -> str:
        """Canonical JSON of the backend and its settings; part of every cache key."""
        return canonical_json({"backend": self.backend, **self.settings()})

    def complete(
        self,
        messages_batch: Sequence[Messages],
        *,
        contexts: Sequence[Mapping[str, Any]] | None = None,
        on_result: Emit | None = None,
    ) -> list[TeacherOutput]:
        """One reply (or :class:`TeacherFailure`) per conversation, in the input order.

        ``contexts`` carry per-request side information for offline teachers (the synthetic
        generator passes ``task``, ``mode``, ``n`` and the source ``fields``); model teachers read
        only the messages. ``on_result(index, output)`` is called as each reply arrives.
        """
        batch = [list(m) for m in messages_batch]
        if contexts is not None and len(contexts) != len(batch):
            raise ConfigError(f"complete: {len(contexts)} contexts for {len(batch)} conversations")
        ctx = [dict(c) for c in contexts] if contexts is not None else [{} for _ in batch]
        results: list[TeacherOutput | None] = [None] * len(batch)

        def emit(index: int, output: TeacherOutput) -> None:
            if results[index] is not None:
                return
            results[index] = output
            if on_result is not None:
                on_result(index, output)

        if batch:
            self._complete(batch, ctx, emit)
        for i, output in enumerate(results):
            if output is None:
                emit(i, TeacherFailure(f"teacher {self.name!r} returned no reply", kind="missing"))
        return [r for r in results if r is not None]

    @abstractmethod
    def _complete(
        self, batch: list[list[Mapping[str, Any]]], contexts: list[dict[str, Any]], emit: Emit
    ) -> None:
        """Call ``emit(i, reply_or_failure)`` once for every ``i`` in ``range(len(batch))``."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


TEACHERS: Registry[Callable[..., Teacher]] = Registry("teacher")


def register_teacher(
    name: str, factory: Callable[..., Teacher] | None = None, *, overwrite: bool = False
) -> Any:
    """Register a teacher class (or a function returning a :class:`Teacher`) under ``name``.

    Examples:
        >>> from domainft.data.teachers import Teacher, register_teacher, get_teacher
        >>> @register_teacher("shout", overwrite=True)
        ... class Shout(Teacher):
        ...     backend = "shout"
        ...     def settings(self):
        ...         return {}
        ...     def _complete(self, batch, contexts, emit):
        ...         for i, messages in enumerate(batch):
        ...             emit(i, messages[-1]["content"].upper())
        >>> get_teacher("shout").complete([[{"role": "user", "content": "hi"}]])
        ['HI']
    """
    return TEACHERS.register(name, factory, overwrite=overwrite)


def get_teacher(name: str, **options: Any) -> Teacher:
    """Build the teacher registered as ``name`` with ``options``; wrong options raise ``ConfigError``."""
    factory = TEACHERS.get(name)
    try:
        inspect.signature(factory).bind(**options)
    except TypeError as exc:
        raise ConfigError(
            f"teacher {name!r}: {exc}; options given: {', '.join(options) or '(none)'}"
        ) from None
    teacher = factory(**options)
    if not isinstance(teacher, Teacher):
        raise ConfigError(f"teacher {name!r} built a {type(teacher).__name__}, not a Teacher")
    return teacher


# ---------------------------------------------------------------------------------------------- openai


@register_teacher("openai")
class OpenAITeacher(Teacher):
    """Any OpenAI-compatible chat endpoint; calls run ``concurrency`` at a time with retries.

    Options are :class:`~domainft.llm.ChatEndpointConfig` fields, or pass ``config=`` or a ready
    ``client=``. The fingerprint holds the URL, model and sampling settings (never the key).

    Examples:
        >>> teacher = OpenAITeacher(base_url="http://127.0.0.1:8000/v1", model="qwen", temperature=0.7)
        >>> teacher.name, teacher.settings()["temperature"]
        ('openai:qwen', 0.7)
    """

    backend = "openai"

    def __init__(
        self,
        config: ChatEndpointConfig | Mapping[str, Any] | None = None,
        *,
        client: ChatClient | None = None,
        **options: Any,
    ) -> None:
        from domainft.llm.openai_compat import ChatClient, ChatEndpointConfig

        if client is None:
            if isinstance(config, Mapping):
                config = ChatEndpointConfig.from_dict(dict(config), _where="OpenAITeacher.config")
            client = ChatClient(config, **options)
        elif config is not None or options:
            raise ConfigError("OpenAITeacher: pass either client= or a config/options, not both")
        self.client = client

    @property
    def name(self) -> str:
        return f"openai:{self.client.config.model}"

    def settings(self) -> dict[str, Any]:
        cfg = self.client.config
        return {
            "base_url": cfg.base_url,
            "model": cfg.model,
            "temperature": cfg.temperature,
            "max_tokens": cfg.max_tokens,
            "seed": cfg.seed,
            "extra_body": cfg.extra_body,
        }

    def _complete(
        self, batch: list[list[Mapping[str, Any]]], contexts: list[dict[str, Any]], emit: Emit
    ) -> None:
        from domainft.llm.openai_compat import ChatFailure

        def forward(index: int, result: Any) -> None:
            if isinstance(result, ChatFailure):
                emit(index, TeacherFailure(result.error, kind=result.kind, attempts=result.attempts))
            else:
                emit(index, result.text)

        self.client.chat_many(batch, on_result=forward)


# ---------------------------------------------------------------------------------------------- transformers


def _weights_digest(model: Any) -> str:
    """A cheap digest of a loaded model: parameter names, shapes and their first few values."""
    import torch

    digest = hashlib.sha256()
    with torch.no_grad():
        for name, param in model.named_parameters():
            digest.update(f"{name}:{tuple(param.shape)}:{param.dtype}".encode())
            if param.device.type != "meta" and param.numel():
                digest.update(param.detach().reshape(-1)[:8].float().cpu().numpy().tobytes())
    return digest.hexdigest()[:16]


def _folder_digest(path: Path) -> str:
    """Names, sizes and modification times of a model folder's files (changes when weights change)."""
    entries = sorted(
        f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in path.iterdir() if p.is_file()
    )
    return hashlib.sha256("\n".join(entries).encode()).hexdigest()[:16]


@register_teacher("transformers")
class TransformersTeacher(Teacher):
    """A local causal LM: a folder saved with ``save_pretrained`` (or a hub id), or a loaded pair.

    A path is loaded on first use with :class:`~domainft.models.loading.QuantizedLoader`
    (``loader_options`` are its fields; no quantization unless asked), so a run answered fully from
    the cache never loads the model. Prompts are rendered with the tokenizer's chat template when it
    has one, else as ``Role: text`` paragraphs ending in ``Assistant:``. Decoding is greedy unless
    ``do_sample``. A prompt too long for the model fails alone; a batch that raises fails its items.

    The fingerprint holds the folder's file sizes and times, or for a loaded model its name and a
    digest of its weights; pass ``model_id`` to name a model yourself.

    Examples:
        >>> TransformersTeacher("path/to/model", max_new_tokens=64).name
        'transformers:model'
    """

    backend = "transformers"

    def __init__(
        self,
        model: str | Path | Any,
        tokenizer: Any | None = None,
        *,
        max_new_tokens: int = 512,
        do_sample: bool = False,
        temperature: float = 1.0,
        top_p: float = 1.0,
        top_k: int = 50,
        repetition_penalty: float = 1.0,
        batch_size: int = 8,
        seed: int = 0,
        model_id: str | None = None,
        loader_options: Mapping[str, Any] | None = None,
    ) -> None:
        from domainft.models.generation import DecodingConfig

        self.decoding = DecodingConfig(
            max_new_tokens=max_new_tokens,
            do_sample=do_sample,
            temperature=temperature,
            top_p=top_p,
            top_k=top_k,
            repetition_penalty=repetition_penalty,
            batch_size=batch_size,
            seed=seed,
        )
        self.loader_options = {"quantization": None, **(loader_options or {})}
        if isinstance(model, (str, Path)):
            if tokenizer is not None:
                raise ConfigError("TransformersTeacher: give tokenizer= only with a loaded model")
            self.model_path: str | None = str(model)
            self._model: Any = None
            self._tokenizer: Any = None
        else:
            if tokenizer is None:
                raise ConfigError("TransformersTeacher: a loaded model needs its tokenizer= too")
            self.model_path = None
            self._model, self._tokenizer = model, tokenizer
        self.model_id = model_id

    @property
    def name(self) -> str:
        if self.model_id:
            label = self.model_id
        elif self.model_path is not None:
            label = Path(self.model_path).name or self.model_path
        else:
            label = (
                getattr(getattr(self._model, "config", None), "_name_or_path", "")
                or type(self._model).__name__
            )
            label = Path(label).name or label
        return f"transformers:{label}"

    def _model_identity(self) -> str:
        if self.model_id:
            return self.model_id
        if self.model_path is not None:
            path = Path(self.model_path).expanduser()
            return f"{path.resolve()}@{_folder_digest(path)}" if path.is_dir() else self.model_path
        config = getattr(self._model, "config", None)
        name = getattr(config, "_name_or_path", "") or type(self._model).__name__
        return f"{name}@{_weights_digest(self._model)}"

    def settings(self) -> dict[str, Any]:
        decoding = self.decoding.to_dict()
        for key in ("batch_size", "max_batch_tokens"):  # batching does not change greedy outputs
            decoding.pop(key)
        return {"model": self._model_identity(), "loader": self.loader_options, "decoding": decoding}

    def _load(self) -> tuple[Any, Any]:
        if self._model is None:
            from domainft.models.loading import QuantizedLoader

            self._model, self._tokenizer = QuantizedLoader(self.model_path, **self.loader_options).load()
        return self._model, self._tokenizer

    def render(self, messages: Sequence[Mapping[str, Any]]) -> list[int]:
        """Token ids of the conversation, ending where the assistant's reply starts."""
        _, tokenizer = self._load()
        messages = [dict(m) for m in messages]
        if getattr(tokenizer, "chat_template", None):
            from jinja2 import TemplateError

            try:
                text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            except TemplateError:  # e.g. "system role not supported": fold it into the first user turn
                text = tokenizer.apply_chat_template(
                    _fold_system(messages), tokenize=False, add_generation_prompt=True
                )
            return list(tokenizer(text, add_special_tokens=False)["input_ids"])
        text = "\n\n".join(f"{m['role'].capitalize()}: {m['content']}" for m in messages) + "\n\nAssistant:"
        return list(tokenizer(text)["input_ids"])

    def _complete(
        self, batch: list[list[Mapping[str, Any]]], contexts: list[dict[str, Any]], emit: Emit
    ) -> None:
        from domainft.models.generation import generate_texts

        model, tokenizer = self._load()
        prompts = [self.render(m) for m in batch]
        limit = getattr(getattr(model, "config", None), "max_position_embeddings", None)
        budget = self.decoding.max_new_tokens
        ready: list[int] = []
        for i, ids in enumerate(prompts):
            if isinstance(limit, int) and len(ids) + budget > limit:
                emit(
                    i,
                    TeacherFailure(
                        f"prompt of {len(ids)} tokens + max_new_tokens={budget} exceeds the model's "
                        f"{limit} positions; shorten the passage or lower max_new_tokens",
                        kind="too_long",
                    ),
                )
            else:
                ready.append(i)
        ready.sort(key=lambda i: len(prompts[i]), reverse=True)
        size = self.decoding.batch_size
        for start in range(0, len(ready), size):
            chunk = ready[start : start + size]
            try:
                texts = generate_texts(
                    model, tokenizer, [prompts[i] for i in chunk], self.decoding, progress=False
                )
            except (RuntimeError, ValueError, IndexError) as exc:  # e.g. out of memory: fail this batch only
                for i in chunk:
                    emit(
                        i,
                        TeacherFailure(f"generation failed: {type(exc).__name__}: {exc}", kind="generation"),
                    )
                continue
            for i, text in zip(chunk, texts, strict=True):
                emit(i, text)


def _fold_system(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    rest = [dict(m) for m in messages if m["role"] != "system"]
    if system and rest:
        rest[0]["content"] = f"{system}\n\n{rest[0]['content']}"
    return rest


# ---------------------------------------------------------------------------------------------- template

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
DEFAULT_DOCUMENT_QUESTION = 'What does the documentation say about "{topic}"?'
DEFAULT_DOCUMENT_ANSWER = "{sentence}"


class _LenientFormatter(string.Formatter):
    """``str.format`` over a mapping where None renders as an empty string."""

    def format_field(self, value: Any, format_spec: str) -> str:
        return "" if value is None else super().format_field(value, format_spec)


def split_sentences(text: str) -> list[str]:
    """Sentences and lines of ``text`` (a simple, deterministic split on . ! ? and newlines).

    Examples:
        >>> split_sentences("Stop the pump. Drain it!\\nRefill.")
        ['Stop the pump.', 'Drain it!', 'Refill.']
    """
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


@register_teacher("template")
class TemplateTeacher(Teacher):
    """A deterministic offline teacher: format strings over the source fields, no model.

    Record mode: ``question`` and ``answer`` are format strings over the record (``{problem}``,
    ``{hours:g}``; the answer may use ``{question}``). Document mode: besides the row's columns the
    strings may use ``{passage}``, ``{source}``, ``{title}`` (the row's, else the first line),
    ``{index}`` (1-based pair number), ``{sentence}`` (the index-th sentence, cycling), ``{topic}``
    (its first ``topic_words`` words) and ``{steps}`` (the passage's sentences as "1. ...", "2. ..."
    lines); by default the question asks about the topic and the answer is the sentence. It reads
    the ``contexts`` the synthetic generator passes, not the messages, and replies in the format the
    generator parses.
    """

    backend = "template"
    needs_context = True
    cacheable = False

    def __init__(self, question: str | None = None, answer: str | None = None, topic_words: int = 8) -> None:
        for field, value in (("question", question), ("answer", answer)):
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ConfigError(f"TemplateTeacher.{field} must be a non-empty format string, got {value!r}")
        if isinstance(topic_words, bool) or not isinstance(topic_words, int) or topic_words < 1:
            raise ConfigError(f"TemplateTeacher.topic_words must be a positive integer, got {topic_words!r}")
        self.question = question
        self.answer = answer
        self.topic_words = topic_words

    def settings(self) -> dict[str, Any]:
        return {"question": self.question, "answer": self.answer, "topic_words": self.topic_words}

    def _fill(self, which: str, template: str | None, fields: Mapping[str, Any]) -> str:
        if template is None:
            raise ConfigError(
                f"TemplateTeacher: record mode needs the {which}= format string, e.g. "
                "get_teacher('template', question='My {machine} fails: {problem}', answer='{solution}')"
            )
        try:
            return _LenientFormatter().vformat(template, (), dict(fields)).strip()
        except KeyError as exc:
            raise ConfigError(
                f"TemplateTeacher.{which}={template!r} uses the field {exc.args[0]!r}, which the data lacks; "
                f"fields: {', '.join(sorted(fields))}"
            ) from None
        except (ValueError, TypeError, IndexError, AttributeError) as exc:
            raise ConfigError(f"TemplateTeacher.{which}={template!r}: {type(exc).__name__}: {exc}") from None

    def document_fields(self, fields: Mapping[str, Any], index: int) -> dict[str, Any]:
        """The fields a document-mode template sees for pair number ``index`` (0-based)."""
        passage = str(fields.get("passage") or "")
        sentences = split_sentences(passage) or [""]
        sentence = sentences[index % len(sentences)]
        words = sentence.split()
        topic = " ".join(words[: self.topic_words]).rstrip(".,;:!?")
        return {
            **fields,
            "title": fields.get("title") or passage.strip().split("\n", 1)[0].strip(),
            "index": index + 1,
            "sentence": sentence,
            "topic": topic,
            "steps": "\n".join(f"{k}. {s}" for k, s in enumerate(sentences, 1)),
        }

    def reply(self, context: Mapping[str, Any]) -> str:
        """The reply to one request context (``task``, ``mode``, ``n``, ``fields``)."""
        task = context.get("task")
        fields = dict(context.get("fields") or {})
        if task == "question":
            return self._fill("question", self.question, fields)
        if task == "answer":
            return self._fill("answer", self.answer, fields)
        if task != "qa":
            raise ConfigError(f"TemplateTeacher: unknown task {task!r} in the request context")
        n = int(context.get("n", 1))
        if context.get("mode") == "documents":
            question = self.question or DEFAULT_DOCUMENT_QUESTION
            answer = self.answer or DEFAULT_DOCUMENT_ANSWER
            pairs = []
            for k in range(n):
                doc = self.document_fields(fields, k)
                pairs.append(
                    {
                        "question": self._fill("question", question, doc),
                        "answer": self._fill("answer", answer, doc),
                    }
                )
        else:
            q = self._fill("question", self.question, fields)
            pairs = [
                {"question": q, "answer": self._fill("answer", self.answer, {**fields, "question": q})}
            ] * n
        return json.dumps(pairs, ensure_ascii=False)

    def _complete(
        self, batch: list[list[Mapping[str, Any]]], contexts: list[dict[str, Any]], emit: Emit
    ) -> None:
        for i, context in enumerate(contexts):
            if not context:
                raise ModelError(
                    "the template teacher needs request contexts (task and fields); use it through "
                    "SyntheticQAGenerator, or pass contexts= to complete()"
                )
            emit(i, self.reply(context))


# ---------------------------------------------------------------------------------------------- lookup


def _normalise_key(text: str) -> str:
    return " ".join(str(text).split())


@register_teacher("lookup")
class LookupTeacher(Teacher):
    """Replays recorded replies: a table ``{input text: reply}`` keyed by the last user message.

    A translation memory, a reviewed set of teacher replies, or the replies of an earlier run, used
    offline and deterministically. Keys match after whitespace normalisation; an input that is not
    in the table is a failed call (kind ``"missing"``), never a guess. Give ``table=`` or a JSON
    Lines ``path=`` with the ``key`` and ``value`` fields of each line.

    Examples:
        >>> teacher = get_teacher("lookup", table={"Pompa rumorosa": "Noisy pump"})
        >>> teacher.complete([[{"role": "user", "content": "Pompa  rumorosa"}],
        ...                   [{"role": "user", "content": "Altro"}]])[0]
        'Noisy pump'
    """

    backend = "lookup"
    cacheable = False

    def __init__(
        self,
        table: Mapping[str, str] | None = None,
        path: str | Path | None = None,
        key: str = "source",
        value: str = "target",
    ) -> None:
        if (table is None) == (path is None):
            raise ConfigError("the lookup teacher needs exactly one of table= or path=")
        entries: dict[str, str] = {}
        if path is not None:
            for lineno, row in enumerate(read_jsonl(path, DataError), 1):
                if not isinstance(row, dict) or not isinstance(row.get(key), str):
                    raise DataError(f"{path}: entry {lineno}: needs a string field {key!r}")
                if not isinstance(row.get(value), str):
                    raise DataError(f"{path}: entry {lineno}: needs a string field {value!r}")
                entries[_normalise_key(row[key])] = row[value]
            self.source = str(path)
        else:
            for k, v in dict(table or {}).items():
                if not isinstance(k, str) or not isinstance(v, str):
                    raise ConfigError(f"the lookup teacher's table maps strings to strings; got {k!r}: {v!r}")
                entries[_normalise_key(k)] = v
            self.source = "table"
        self.table = entries

    def __len__(self) -> int:
        return len(self.table)

    def settings(self) -> dict[str, Any]:
        digest = hashlib.sha256(canonical_json(self.table).encode("utf-8")).hexdigest()[:16]
        return {"source": self.source, "entries": len(self.table), "table_sha256": digest}

    def _complete(
        self, batch: list[list[Mapping[str, Any]]], contexts: list[dict[str, Any]], emit: Emit
    ) -> None:
        for i, messages in enumerate(batch):
            user = [m for m in messages if m.get("role") == "user"]
            text = _normalise_key(user[-1]["content"]) if user else ""
            reply = self.table.get(text)
            if reply is None:
                emit(i, TeacherFailure(f"no recorded reply for {text[:60]!r}", kind="missing"))
            else:
                emit(i, reply)


# ---------------------------------------------------------------------------------------------- as a function


def teacher_text_fn(
    teacher: Teacher,
    instruction: str | None = None,
    when: Callable[[str], bool] | None = None,
) -> Callable[[str], str]:
    """A ``str -> str`` function that asks ``teacher`` to rewrite each text (for ``map_text``).

    ``instruction`` goes in a system message (e.g. "Translate into English; reply with the
    translation only"); texts for which ``when(text)`` is false, and empty texts, are returned
    unchanged without a call. A failed call raises :class:`~domainft.errors.ModelError`, so
    ``DatasetBuilder.map_text(fn, on_error="drop")`` drops the row and records the error.

    Examples:
        >>> memory = get_teacher("lookup", table={"Pompa rumorosa": "Noisy pump"})
        >>> translate = teacher_text_fn(memory, "Translate into English.", when=lambda t: "Pompa" in t)
        >>> translate("Pompa rumorosa"), translate("Belt slips")
        ('Noisy pump', 'Belt slips')
    """
    if not isinstance(teacher, Teacher):
        raise ConfigError(f"teacher_text_fn: teacher must be a Teacher, got {type(teacher).__name__}")
    system = [{"role": "system", "content": instruction}] if instruction and instruction.strip() else []

    def rewrite(text: str) -> str:
        if not text.strip() or (when is not None and not when(text)):
            return text
        (reply,) = teacher.complete([[*system, {"role": "user", "content": text}]])
        if isinstance(reply, TeacherFailure):
            raise ModelError(f"teacher {teacher.name!r} failed: {reply.error}")
        return reply.strip()

    return rewrite
