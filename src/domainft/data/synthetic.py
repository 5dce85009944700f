"""Synthetic Q&A pairs written by a teacher model from records or from document passages.

Two modes (``SyntheticConfig.mode``):

- ``"records"``: each record (a ticket, a row of a table) gives one pair. Either one
  ``instruction_template`` asks the teacher for the question and the answer together (a JSON
  reply), or ``question_template`` and ``answer_template`` are used in two steps. In the two-step
  form each side is, by ``question_source`` / ``answer_source``:

  * ``"teacher"``: the rendered template is an instruction sent to the teacher; its reply is the text;
  * ``"template"``: the rendered template is the text itself (no call).

  Templates are format strings over the record (``{problem}``, ``{hours:g}``); the answer template
  may use ``{question}``, the final question. A record with an empty field a template needs is
  rejected as ``missing_field`` (no call).
- ``"documents"``: each passage (a row with a text column, e.g. from the documents reader) gives
  ``questions_per_passage`` pairs in one call, guided by a system instruction and few-shot examples.

The teacher's pair replies must be JSON (an array of ``{"question", "answer"}`` objects; fenced code,
a single object or ``Q:``/``A:`` lines are accepted too). Replies that fail to parse, are empty, or
fail the answer validator (a registered one such as ``"numbered_steps"`` and/or a regex
``answer_pattern``) are rejected with a reason; failed calls too. Nothing is dropped silently:
``generator.rejected()`` lists every rejection with the raw reply, ``generator.stats`` counts them.

Every teacher reply is appended to ``<cache_dir>/responses.jsonl`` as soon as it arrives, keyed by
the teacher's fingerprint, the exact messages and the generation settings; a rerun answers from the
cache (zero new calls) and a crashed run resumes where it stopped. Failed calls are not cached.

Examples:
    >>> from domainft.data.synthetic import SyntheticConfig, SyntheticQAGenerator
    >>> from domainft.data.teachers import get_teacher
    >>> records = [{"id": "T1", "machine": "press", "problem": "no pressure", "fix": "Replace the seal."}]
    >>> config = SyntheticConfig(
    ...     mode="records",
    ...     question_template="Write a user's question: a {machine} has this problem: {problem}",
    ...     answer_template="{fix}", answer_source="template", progress=False)
    >>> teacher = get_teacher("template", question="Why does my {machine} have {problem}?")
    >>> ds = SyntheticQAGenerator(config, teacher=teacher).generate(records)
    >>> ds[0]["prompt"], ds[0]["response"], ds[0]["source_id"]
    ('Why does my press have no pressure?', 'Replace the seal.', 'T1')
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from domainft.configuration import ConfigBase, config_field
from domainft.data.builder import RowFormatter, template_fields
from domainft.data.teachers import Teacher, TeacherFailure, canonical_json, get_teacher
from domainft.errors import ConfigError, DataError, DataFileNotFoundError
from domainft.registry import Registry
from domainft.utils.io import atomic_write_json, atomic_write_jsonl, read_json, read_jsonl

if TYPE_CHECKING:  # pragma: no cover
    import datasets

    from domainft.data.builder import DatasetBuilder

logger = logging.getLogger(__name__)

DEFAULT_SYSTEM_PROMPT = (
    "You write training data for an assistant that serves one domain. Questions sound like real "
    "users; answers are accurate, complete and use only the information given."
)
DEFAULT_DOCUMENT_TEMPLATE = (
    'Source: {source}\nPassage:\n"""\n{passage}\n"""\n\n'
    "Write {n} question(s) that a user could ask and that this passage answers, each with a complete "
    "answer based only on the passage."
)
DEFAULT_FORMAT_INSTRUCTION = (
    'Reply with only a JSON array of {n} object(s) with the keys "question" and "answer", and no other text.'
)
OUTPUT_COLUMNS = ("id", "prompt", "response", "source_id", "teacher", "prompt_hash")
DOCUMENT_COLUMNS = ("context", "source")
CACHE_FILE = "responses.jsonl"


# ---------------------------------------------------------------------------------------------- validators


@dataclass(frozen=True)
class AnswerValidator:
    """A named answer check: ``check(answer)`` returns None when valid, else why not.

    ``instruction`` is added to the teacher's prompt so it knows the required shape.
    """

    name: str
    check: Callable[[str], str | None]
    instruction: str = ""


VALIDATORS: Registry[AnswerValidator] = Registry("answer validator")


def register_validator(
    name: str,
    check: Callable[[str], str | None] | None = None,
    *,
    instruction: str = "",
    overwrite: bool = False,
) -> Any:
    """Register an answer check under ``name`` (directly or as a decorator).

    Examples:
        >>> @register_validator("short", instruction="Answer in at most 20 words.", overwrite=True)
        ... def short(answer):
        ...     return None if len(answer.split()) <= 20 else "longer than 20 words"
        >>> get_validator("short").check("Tighten the belt.") is None
        True
    """

    def add(fn: Callable[[str], str | None]) -> Callable[[str], str | None]:
        VALIDATORS.register(name, AnswerValidator(name, fn, instruction), overwrite=overwrite)
        return fn

    return add(check) if check is not None else add


def get_validator(name: str) -> AnswerValidator:
    return VALIDATORS.get(name)


_STEP = re.compile(r"^\s*(\d{1,3})[.)]\s+\S")


@register_validator(
    "numbered_steps",
    instruction='Write every answer as numbered steps, one per line: "1. ...", "2. ...", and so on.',
)
def numbered_steps(answer: str) -> str | None:
    """At least two lines ``1. ...``, ``2. ...`` numbered from 1 without gaps (other lines allowed).

    Examples:
        >>> numbered_steps("1. Stop the pump.\\n2. Replace the seal.") is None
        True
        >>> numbered_steps("Stop the pump and replace the seal.")
        "expected at least 2 numbered steps ('1. ...', '2. ...'), found 0"
    """
    numbers = [int(m.group(1)) for line in answer.splitlines() if (m := _STEP.match(line))]
    if len(numbers) < 2:
        return f"expected at least 2 numbered steps ('1. ...', '2. ...'), found {len(numbers)}"
    if numbers != list(range(1, len(numbers) + 1)):
        return f"steps are numbered {numbers}, expected 1 to {len(numbers)} in order"
    return None


# ---------------------------------------------------------------------------------------------- parsing

_FENCE = re.compile(r"```[a-zA-Z]*\s*\n?(.*?)```", re.DOTALL)
_QA_BLOCK = re.compile(
    r"^\s*(?:Q|Question)\s*\d*\s*[:.]\s*(?P<q>.*?)\n\s*(?:A|Answer)\s*\d*\s*[:.]\s*(?P<a>.*?)"
    r"(?=\n\s*(?:Q|Question)\s*\d*\s*[:.]|\Z)",
    re.DOTALL | re.IGNORECASE | re.MULTILINE,
)
_QUESTION_KEYS = ("question", "q", "prompt", "instruction")
_ANSWER_KEYS = ("answer", "a", "response", "output")


def json_list(text: str) -> list[Any] | None:
    """The first JSON array in ``text`` (see :func:`json_values`), or None.

    Examples:
        >>> json_list('Here: ```json\\n["a", "b"]\\n```')
        ['a', 'b']
    """
    return next((v for v in json_values(text) if isinstance(v, list)), None)


def json_values(text: str) -> Iterable[Any]:
    """Every JSON object or array found in ``text`` (inside fenced code first, then anywhere), in order."""
    decoder = json.JSONDecoder()
    for chunk in [*(m.group(1) for m in _FENCE.finditer(text)), text]:
        chunk = chunk.strip()
        for start, char in enumerate(chunk):
            if char in "[{":
                try:
                    value, _ = decoder.raw_decode(chunk, start)
                except json.JSONDecodeError:
                    continue
                yield value


def _as_pair(item: Any) -> dict[str, Any] | None:
    if not isinstance(item, Mapping):
        return None
    lowered = {str(k).lower(): v for k, v in item.items()}
    question = next((lowered[k] for k in _QUESTION_KEYS if k in lowered), None)
    answer = next((lowered[k] for k in _ANSWER_KEYS if k in lowered), None)
    if question is None and answer is None:
        return None
    if isinstance(answer, list):  # steps given as a JSON list
        answer = "\n".join(str(a) for a in answer)
    question, answer = (
        str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v for v in (question, answer)
    )
    return {"question": question, "answer": answer}


def _pairs_from(value: Any) -> list[Any] | None:
    if isinstance(value, list):
        return value
    if isinstance(value, Mapping):
        if _as_pair(value) is not None:
            return [value]
        lists = [v for v in value.values() if isinstance(v, list)]
        if len(lists) == 1:  # {"pairs": [...]} and the like
            return lists[0]
    return None


def parse_qa_pairs(text: str) -> list[dict[str, Any]]:
    """The question/answer pairs in a teacher's reply, in order; raises ``ValueError`` if none.

    Accepts a JSON array of objects (also inside fenced code or after some prose), one object, an
    object holding one array (``{"pairs": [...]}``), and ``Q: ... A: ...`` lines. Items that are not
    pairs come back as ``{"question": None, "answer": None, "invalid": item}``.

    Examples:
        >>> parse_qa_pairs('Sure!\\n```json\\n[{"question": "Why?", "answer": "Because."}]\\n```')
        [{'question': 'Why?', 'answer': 'Because.'}]
        >>> parse_qa_pairs("Q: Oil interval?\\nA: Every 500 h.")
        [{'question': 'Oil interval?', 'answer': 'Every 500 h.'}]
    """
    for value in json_values(text):
        items = _pairs_from(value) or []
        pairs = [_as_pair(item) for item in items]
        if any(p is not None for p in pairs):  # the first JSON value holding a pair, e.g. not "[1]"
            return [
                p if p is not None else {"question": None, "answer": None, "invalid": item}
                for p, item in zip(pairs, items, strict=True)
            ]
    blocks = [{"question": m["q"].strip(), "answer": m["a"].strip()} for m in _QA_BLOCK.finditer(text)]
    if blocks:
        return blocks
    raise ValueError('no JSON array of {"question", "answer"} objects and no "Q: ... A: ..." lines found')


_LABEL = re.compile(r"^\s*(?:question|answer|q|a)\s*:\s*", re.IGNORECASE)


def clean_reply(text: str) -> str:
    """A single-text reply without surrounding whitespace, quotes or a ``Question:``/``Answer:`` label.

    Examples:
        >>> clean_reply('  Question: "Why does the belt slip?" ')
        'Why does the belt slip?'
    """
    text = _LABEL.sub("", text.strip(), count=1).strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return text


# ---------------------------------------------------------------------------------------------- templates


def _is_blank(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, str) and not value.strip())
        or (isinstance(value, float) and math.isnan(value))
    )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------------- config


@dataclass
class SyntheticConfig(ConfigBase):
    """What the teacher is asked, how replies are checked, and where they are cached.

    Examples:
        >>> cfg = SyntheticConfig(mode="documents", questions_per_passage=3,
        ...                       answer_validator="numbered_steps")
        >>> cfg.teacher, cfg.text_column
        ('template', 'text')
    """

    mode: Literal["records", "documents"] = config_field(
        "records", help="records: one pair per record; documents: questions_per_passage pairs per passage."
    )
    teacher: str = config_field("template", help="Registered teacher: openai, transformers, template...")
    teacher_options: dict[str, Any] = config_field(
        {}, help="Options of the teacher (e.g. base_url, model, api_key_env for openai)."
    )
    system_prompt: str | None = config_field(
        DEFAULT_SYSTEM_PROMPT, help="System message of every teacher call (null for none)."
    )
    # records
    instruction_template: str | None = config_field(
        None, help="Records: one prompt over the record fields asking for a question and its answer."
    )
    question_template: str | None = config_field(
        None, help="Records, two-step: format string over the record for the question (see question_source)."
    )
    answer_template: str | None = config_field(
        None, help="Records, two-step: format string over the record and {question} for the answer."
    )
    question_source: Literal["teacher", "template"] = config_field(
        "teacher", help="teacher: question_template is sent to the teacher; template: it is the question."
    )
    answer_source: Literal["teacher", "template"] = config_field(
        "teacher", help="teacher: answer_template is sent to the teacher; template: it is the answer."
    )
    id_column: str | None = config_field(
        None, help="Column with unique ids of records/passages (default: id when present, else generated)."
    )
    # documents
    text_column: str = config_field("text", help="Documents: the column holding the passage text.")
    source_column: str | None = config_field(
        "source", help="Documents: the column naming the passage's document (copied to the output)."
    )
    document_template: str = config_field(
        DEFAULT_DOCUMENT_TEMPLATE,
        help="Documents: the user prompt; {passage}, {source}, {n} and row columns.",
    )
    few_shot: list[dict[str, str]] = config_field(
        [], help="Documents: examples {passage, question, answer} shown as earlier chat turns."
    )
    questions_per_passage: int = config_field(1, help="Documents: pairs asked for per passage.")
    # replies
    format_instruction: str = config_field(
        DEFAULT_FORMAT_INSTRUCTION, help="Appended to pair requests; {n} is the number of pairs."
    )
    answer_validator: str | None = config_field(
        None, help="Registered answer check (e.g. numbered_steps); failing answers are rejected."
    )
    answer_pattern: str | None = config_field(
        None, help="Regex every answer must contain (re.search, multiline); failing answers are rejected."
    )
    # running
    cache_dir: str | None = config_field(
        None, help="Folder of the reply cache (responses.jsonl); a rerun makes no new calls."
    )
    progress: bool = config_field(True, help="Show a progress bar.")

    def validate(self) -> None:
        self.require_positive("questions_per_passage")
        templates = {
            "instruction_template": self.instruction_template,
            "question_template": self.question_template,
            "answer_template": self.answer_template,
            "document_template": self.document_template,
            "format_instruction": self.format_instruction,
        }
        for name, template in templates.items():
            if template is None:
                continue
            if not template.strip():
                raise ConfigError(f"SyntheticConfig.{name} must not be empty")
            try:
                template_fields(template)
            except ValueError as exc:
                raise ConfigError(
                    f"SyntheticConfig.{name}: not a valid format string ({exc}); "
                    "write literal braces as {{ }}"
                ) from None
        if self.answer_validator is not None:
            get_validator(self.answer_validator)  # raises listing the known names
        if self.answer_pattern is not None:
            try:
                re.compile(self.answer_pattern)
            except re.error as exc:
                raise ConfigError(f"SyntheticConfig.answer_pattern: invalid regex: {exc}") from None
        for i, example in enumerate(self.few_shot):
            missing = [k for k in ("passage", "question", "answer") if not str(example.get(k, "")).strip()]
            if missing:
                raise ConfigError(
                    f"SyntheticConfig.few_shot[{i}]: missing {', '.join(missing)}; "
                    "each example needs passage, question and answer"
                )
        unknown = [f for f in template_fields(self.format_instruction) if f != "n"]
        if unknown:
            raise ConfigError(f"SyntheticConfig.format_instruction may only use {{n}}, not {{{unknown[0]}}}")
        if self.mode == "records":
            self._validate_records()
            return
        if "passage" not in template_fields(self.document_template):
            raise ConfigError("SyntheticConfig.document_template must contain {passage}")
        for name in ("instruction_template", "question_template", "answer_template"):
            if getattr(self, name) is not None:
                raise ConfigError(f"SyntheticConfig.{name} applies to records mode only (mode='documents')")

    def _validate_records(self) -> None:
        two_step = self.question_template is not None or self.answer_template is not None
        if self.instruction_template is not None and two_step:
            raise ConfigError(
                "SyntheticConfig: give either instruction_template (one call per record) or "
                "question_template + answer_template (two steps), not both"
            )
        if self.instruction_template is None:
            if self.question_template is None or self.answer_template is None:
                raise ConfigError(
                    "SyntheticConfig: records mode needs instruction_template, or both question_template "
                    "and answer_template"
                )
            if self.question_source == "template" and self.answer_source == "template":
                raise ConfigError(
                    "SyntheticConfig: question_source and answer_source are both 'template', so no teacher "
                    "would be called; map the columns with DatasetBuilder.with_columns instead"
                )
            if "question" in template_fields(self.question_template):
                raise ConfigError("SyntheticConfig.question_template cannot use {question}; it produces it")
        if self.few_shot:
            raise ConfigError("SyntheticConfig.few_shot applies to documents mode only")


# ---------------------------------------------------------------------------------------------- cache


class ResponseCache:
    """Append-only JSONL file of teacher replies keyed by a hash; safe against a crash mid-write.

    Each reply is one line, written and flushed to disk as soon as it arrives. A line cut short by a
    crash is skipped (and counted in ``skipped_lines``) when the cache is read back.

    Examples:
        >>> import tempfile
        >>> cache = ResponseCache(tempfile.mkdtemp())
        >>> cache.put("k1", "a reply", teacher="template")
        >>> ResponseCache(cache.directory).get("k1")
        'a reply'
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / CACHE_FILE
        self.skipped_lines = 0
        self._entries: dict[str, str] = {}
        self._lock = threading.Lock()
        self._needs_newline = False
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            self._load()

    def _load(self) -> None:
        data = self.path.read_bytes()
        first_bad = None
        for lineno, line in enumerate(data.split(b"\n"), 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                key, output = entry["key"], entry["output"]
                if not isinstance(key, str) or not isinstance(output, str):
                    raise TypeError
            except (ValueError, KeyError, TypeError):
                self.skipped_lines += 1
                first_bad = first_bad or lineno
                continue
            self._entries[key] = output
        self._needs_newline = bool(data) and not data.endswith(b"\n")
        if self.skipped_lines:
            logger.warning(
                "%s: skipped %d unreadable line(s), first at line %d (a run stopped while writing?); "
                "those calls will be made again",
                self.path,
                self.skipped_lines,
                first_bad,
            )

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def get(self, key: str) -> str | None:
        return self._entries.get(key)

    def put(self, key: str, output: str, **meta: Any) -> None:
        """Record a successful reply (``meta`` such as the teacher name is stored beside it)."""
        line = json.dumps({"key": key, "output": output, **meta, "time": time.time()}, ensure_ascii=False)
        with self._lock:
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(("\n" if self._needs_newline else "") + line + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            self._needs_newline = False
            self._entries[key] = output


def cached_completions(
    teacher: Teacher,
    conversations: list[list[dict[str, Any]]],
    *,
    cache_dir: str | Path | None = None,
    desc: str = "teacher",
    progress: bool = True,
    contexts: list[dict[str, Any]] | None = None,
) -> list[str | TeacherFailure]:
    """One reply (or :class:`TeacherFailure`) per conversation: from the :class:`ResponseCache` in
    ``cache_dir`` where it has one (a teacher that is not ``cacheable`` is always asked), else from
    ``teacher``; identical conversations are asked once and replies are cached as they arrive.

    Examples:
        >>> from domainft.data.teachers import get_teacher
        >>> echo = get_teacher("lookup", table={"hi": "hello"})
        >>> cached_completions(echo, [[{"role": "user", "content": "hi"}]] * 2, progress=False)
        ['hello', 'hello']
    """
    from tqdm.auto import tqdm

    cache = ResponseCache(cache_dir) if cache_dir is not None and teacher.cacheable else None
    fingerprint = teacher.fingerprint()
    ctx = contexts if contexts is not None else [{} for _ in conversations]
    keys = [
        _sha256(
            canonical_json(
                {"teacher": fingerprint, "messages": m, "context": c if teacher.needs_context else None}
            )
        )
        for m, c in zip(conversations, ctx, strict=True)
    ]
    first = {k: i for i, k in reversed(list(enumerate(keys)))}
    results: dict[str, str | TeacherFailure] = {}
    if cache is not None:
        results = {k: hit for k in first if (hit := cache.get(k)) is not None}
    todo = [k for k in first if k not in results]
    if todo:
        bar = tqdm(total=len(todo), desc=desc, unit="call", disable=not progress)

        def on_result(index: int, output: str | TeacherFailure) -> None:
            results[todo[index]] = output
            if cache is not None and not isinstance(output, TeacherFailure):
                cache.put(todo[index], output, teacher=teacher.name, stage=desc)
            bar.update(1)

        try:
            teacher.complete(
                [conversations[first[k]] for k in todo],
                contexts=[ctx[first[k]] for k in todo],
                on_result=on_result,
            )
        finally:
            bar.close()
    return [results[k] for k in keys]


# ---------------------------------------------------------------------------------------------- stats


@dataclass
class SyntheticStats:
    """Counts of one generation run; ``rejected_by_reason`` says why pairs or items were rejected."""

    items: int = 0
    calls: int = 0
    cached: int = 0
    made: int = 0
    failed: int = 0
    accepted: int = 0
    rejected: int = 0
    rejected_by_reason: dict[str, int] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SyntheticStats:
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in fields})

    def summary(self) -> str:
        reasons = ", ".join(f"{k}: {v}" for k, v in sorted(self.rejected_by_reason.items())) or "none"
        return (
            f"synthetic: {self.items} items, {self.calls} teacher calls ({self.cached} cached, "
            f"{self.made} made, {self.failed} failed), {self.accepted} pairs accepted, "
            f"{self.rejected} rejected ({reasons})"
        )

    def __str__(self) -> str:
        return self.summary()


# ---------------------------------------------------------------------------------------------- generator


@dataclass
class _Call:
    key: str
    messages: list[dict[str, str]]
    context: dict[str, Any]


@dataclass
class _Item:
    index: int
    source_id: str
    row: dict[str, Any]
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)  # output columns of documents mode


class SyntheticQAGenerator:
    """Turns records or passages into a Q&A ``datasets.Dataset`` with a teacher (see the module doc).

    ``teacher`` (a :class:`~domainft.data.teachers.Teacher`) overrides ``config.teacher``; otherwise
    the teacher is built on first use from ``config.teacher`` and ``config.teacher_options``.
    Keyword ``overrides`` replace config fields.

    The output has string columns ``id`` (``<source_id>/q<k>``), ``prompt``, ``response``,
    ``source_id``, ``teacher`` and ``prompt_hash`` (sha256 of the teacher's fingerprint and the
    exact messages of the call(s) that made the row; it is also the cache key), plus ``context``
    (the passage) and ``source`` in documents mode.
    """

    def __init__(
        self, config: SyntheticConfig | None = None, *, teacher: Teacher | None = None, **overrides: Any
    ) -> None:
        if config is not None and not isinstance(config, SyntheticConfig):
            raise ConfigError(f"SyntheticQAGenerator expects a SyntheticConfig, got {type(config).__name__}")
        if teacher is not None and not isinstance(teacher, Teacher):
            raise ConfigError(
                "SyntheticQAGenerator(teacher=...) expects a Teacher (see get_teacher), "
                f"got {type(teacher).__name__}"
            )
        data = {**(config.to_dict() if config is not None else {}), **overrides}
        self.config = SyntheticConfig.from_dict(data, _where="SyntheticQAGenerator")
        self._teacher = teacher
        self.dataset: datasets.Dataset | None = None
        self.stats = SyntheticStats()
        self._rejected: list[dict[str, Any]] = []
        self._cache: ResponseCache | None = None
        self._fingerprint = ""
        self._saved_teacher: dict[str, Any] | None = None  # teacher.json of a loaded run

    @property
    def teacher(self) -> Teacher:
        if self._teacher is None:
            self._teacher = get_teacher(self.config.teacher, **self.config.teacher_options)
        return self._teacher

    def rejected(self, reason: str | None = None) -> list[dict[str, Any]]:
        """Rejected items of the last run (all, or those with ``reason``), each with the raw reply.

        Keys: ``source_id``, ``stage`` (question, answer or qa), ``reason``, ``detail``, ``raw``,
        ``question``, ``answer``, ``pair`` (1-based position in the reply), ``prompt_hash``, ``teacher``,
        and for a ``call_failed`` rejection ``error_kind`` (``http``, ``timeout``, ``connection``,
        ``truncated``, ``invalid_json``...) and ``attempts`` (tries made, retries included; else None).
        """
        return [dict(r) for r in self._rejected if reason is None or r["reason"] == reason]

    # ------------------------------------------------------------------------------------ running

    def generate(self, data: Any) -> datasets.Dataset:
        """Generate pairs from ``data``: a list of dicts, a ``datasets.Dataset`` or a pandas DataFrame."""
        rows = _as_rows(data)
        if not rows:
            raise DataError("SyntheticQAGenerator.generate: no records or passages given")
        self.stats = SyntheticStats(items=len(rows))
        self._rejected = []
        teacher = self.teacher
        cfg = self.config
        self._cache = ResponseCache(cfg.cache_dir) if cfg.cache_dir and teacher.cacheable else None
        self._fingerprint = teacher.fingerprint()
        columns = sorted({k for row in rows for k in row})
        if cfg.mode == "records":
            out = self._generate_records(rows, columns)
        else:
            out = self._generate_documents(rows, columns)
        self.stats.accepted = len(out)
        self.dataset = _to_dataset(out, cfg.mode)
        logger.info("%s", self.stats.summary())
        return self.dataset

    def _source_ids(self, rows: list[dict[str, Any]], columns: list[str]) -> list[str]:
        from domainft.data.builder import generated_id

        cfg = self.config
        column = cfg.id_column
        if column is not None and column not in columns:
            raise DataError(
                f"SyntheticConfig.id_column={column!r} is not a column of the data; "
                f"found: {', '.join(columns)}"
            )
        if column is None and "id" in columns:
            column = "id"
        ids: list[str] = []
        per_source: dict[str, int] = {}
        for i, row in enumerate(rows):
            value = row.get(column) if column is not None else None
            if not _is_blank(value):
                ids.append(str(int(value)) if isinstance(value, float) and value.is_integer() else str(value))
            elif cfg.mode == "documents" and cfg.source_column and not _is_blank(row.get(cfg.source_column)):
                source = str(row[cfg.source_column])
                per_source[source] = per_source.get(source, 0) + 1
                ids.append(f"{source}#{per_source[source]}")
            else:
                ids.append(generated_id(i))
        seen: dict[str, int] = {}
        for i, sid in enumerate(ids):
            if sid in seen:
                raise DataError(
                    f"duplicate id {sid!r} at rows {seen[sid]} and {i}; ids must be unique "
                    "(set SyntheticConfig.id_column to a column of unique ids)"
                )
            seen[sid] = i
        return ids

    def _messages(self, user: str, shots: list[dict[str, str]] | None = None) -> list[dict[str, str]]:
        messages = (
            [{"role": "system", "content": self.config.system_prompt}] if self.config.system_prompt else []
        )
        return [*messages, *(shots or []), {"role": "user", "content": user}]

    def _call(self, messages: list[dict[str, str]], context: dict[str, Any]) -> _Call:
        payload = {"teacher": self._fingerprint, "messages": messages}
        if self.teacher.needs_context:
            payload["context"] = context
        return _Call(_sha256(canonical_json(payload)), messages, context)

    def _pair_instructions(self, n: int) -> str:
        parts = []
        validator = self.config.answer_validator
        if validator is not None and get_validator(validator).instruction:
            parts.append(get_validator(validator).instruction)
        parts.append(RowFormatter().vformat(self.config.format_instruction, (), {"n": n}))
        return "\n".join(parts)

    def _answer_instruction(self) -> str:
        validator = self.config.answer_validator
        return get_validator(validator).instruction if validator is not None else ""

    def _run(self, stage: str, calls: list[_Call]) -> dict[str, str | TeacherFailure]:
        """Answer each distinct call from the cache or the teacher; replies are cached as they arrive."""
        from tqdm.auto import tqdm

        unique = list({c.key: c for c in calls}.values())
        results: dict[str, str | TeacherFailure] = {}
        cache = self._cache
        if cache is not None:
            for call in unique:
                hit = cache.get(call.key)
                if hit is not None:
                    results[call.key] = hit
        todo = [c for c in unique if c.key not in results]
        self.stats.calls += len(unique)
        self.stats.cached += len(unique) - len(todo)
        if not todo:
            return results
        teacher = self.teacher
        bar = tqdm(
            total=len(unique),
            initial=len(unique) - len(todo),
            desc=f"synthetic {stage}",
            unit="call",
            disable=not self.config.progress,
        )

        def on_result(index: int, output: str | TeacherFailure) -> None:
            call = todo[index]
            results[call.key] = output
            self.stats.made += 1
            if isinstance(output, TeacherFailure):
                self.stats.failed += 1
            elif cache is not None:
                cache.put(call.key, output, teacher=teacher.name, stage=stage)
            bar.update(1)

        try:
            teacher.complete(
                [c.messages for c in todo], contexts=[c.context for c in todo], on_result=on_result
            )
        finally:
            bar.close()
        return results

    def _reject_call(self, item: _Item, stage: str, failure: TeacherFailure, **info: Any) -> None:
        """Record a teacher call that failed for good, with its ``error_kind`` and ``attempts``."""
        self._reject(
            item,
            stage,
            "call_failed",
            failure.error,
            error_kind=failure.kind,
            attempts=failure.attempts,
            **info,
        )

    def _reject(self, item: _Item, stage: str, reason: str, detail: str = "", **info: Any) -> None:
        entry = {
            "source_id": item.source_id,
            "stage": stage,
            "reason": reason,
            "detail": detail,
            "raw": None,
            "question": None,
            "answer": None,
            "pair": None,
            "prompt_hash": None,
            "teacher": self.teacher.name,
            "error_kind": None,
            "attempts": None,
        }
        entry.update(info)
        self._rejected.append(entry)
        self.stats.rejected += 1
        self.stats.rejected_by_reason[reason] = self.stats.rejected_by_reason.get(reason, 0) + 1

    def _answer_problem(self, answer: str) -> tuple[str, str] | None:
        cfg = self.config
        if cfg.answer_validator is not None:
            why = get_validator(cfg.answer_validator).check(answer)
            if why is not None:
                return f"validator:{cfg.answer_validator}", why
        if cfg.answer_pattern is not None and re.search(cfg.answer_pattern, answer, re.MULTILINE) is None:
            return "pattern_mismatch", f"the answer does not match answer_pattern {cfg.answer_pattern!r}"
        return None

    def _accept(
        self,
        item: _Item,
        stage: str,
        question: Any,
        answer: Any,
        pair: int,
        prompt_hash: str,
        raw: str | None,
    ) -> dict[str, Any] | None:
        """The output row of one pair, or None after recording why it was rejected."""
        info = {"raw": raw, "pair": pair, "prompt_hash": prompt_hash}
        q = question.strip() if isinstance(question, str) else ""
        a = answer.strip() if isinstance(answer, str) else ""
        info.update(question=question if isinstance(question, str) else None, answer=a or None)
        if not q:
            self._reject(item, stage, "empty_question", "the pair has no question text", **info)
            return None
        if not a:
            self._reject(item, stage, "empty_answer", "the pair has no answer text", **info)
            return None
        problem = self._answer_problem(a)
        if problem is not None:
            self._reject(item, stage, problem[0], problem[1], **info)
            return None
        return {
            "id": f"{item.source_id}/q{pair}",
            "prompt": q,
            "response": a,
            "source_id": item.source_id,
            "teacher": self.teacher.name,
            "prompt_hash": prompt_hash,
            **item.extra,
        }

    def _pairs_from_reply(
        self, item: _Item, call: _Call, output: str | TeacherFailure, n: int
    ) -> list[dict[str, Any]]:
        """Parse a pairs reply: up to ``n`` accepted rows; every other outcome recorded as a rejection."""
        if isinstance(output, TeacherFailure):
            self._reject_call(item, "qa", output, prompt_hash=call.key)
            return []
        try:
            pairs = parse_qa_pairs(output)
        except ValueError as exc:
            self._reject(item, "qa", "parse_error", str(exc), raw=output, prompt_hash=call.key)
            return []
        rows = []
        for k, pair in enumerate(pairs, 1):
            info = {"raw": output, "pair": k, "prompt_hash": call.key}
            if k > n:
                self._reject(
                    item,
                    "qa",
                    "extra_pair",
                    f"asked for {n} pair(s), got {len(pairs)}",
                    question=pair["question"],
                    answer=pair["answer"],
                    **info,
                )
            elif "invalid" in pair:
                self._reject(item, "qa", "parse_error", f"item {k} is not a question/answer object", **info)
            else:
                row = self._accept(item, "qa", pair["question"], pair["answer"], k, call.key, output)
                if row is not None:
                    rows.append(row)
        if len(pairs) < n:
            self._reject(
                item,
                "qa",
                "too_few_pairs",
                f"asked for {n} pair(s), got {len(pairs)}",
                raw=output,
                prompt_hash=call.key,
            )
        return rows

    # ------------------------------------------------------------------------------------ records

    def _render_record(self, template: str, name: str, item: _Item, fields: Mapping[str, Any]) -> str:
        try:
            return RowFormatter().vformat(template, (), dict(fields)).strip()
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            raise DataError(
                f"SyntheticConfig.{name}: cannot format {template!r} for record {item.index} "
                f"(id={item.source_id!r}): {type(exc).__name__}: {exc}"
            ) from None

    def _generate_records(self, rows: list[dict[str, Any]], columns: list[str]) -> list[dict[str, Any]]:
        cfg = self.config
        templates = {
            name: getattr(cfg, name)
            for name in ("instruction_template", "question_template", "answer_template")
            if getattr(cfg, name) is not None
        }
        needed: list[str] = []
        for name, template in templates.items():
            fields = [
                f for f in template_fields(template) if not (name == "answer_template" and f == "question")
            ]
            missing = [f for f in fields if f not in columns]
            if missing:
                raise DataError(
                    f"SyntheticConfig.{name} uses {', '.join(map(repr, missing))}, not columns of the data; "
                    f"found: {', '.join(columns)}"
                )
            needed.extend(f for f in fields if f not in needed)
        items = []
        for i, (row, sid) in enumerate(zip(rows, self._source_ids(rows, columns), strict=True)):
            item = _Item(i, sid, row)
            blank = [f for f in needed if _is_blank(row.get(f))]
            if blank:
                self._reject(item, "input", "missing_field", f"empty field(s): {', '.join(blank)}")
            else:
                items.append(item)
        if cfg.instruction_template is not None:
            return self._records_in_one_call(items)
        return self._records_in_two_steps(items)

    def _records_in_one_call(self, items: list[_Item]) -> list[dict[str, Any]]:
        cfg = self.config
        assert cfg.instruction_template is not None
        calls = {}
        for item in items:
            prompt = self._render_record(cfg.instruction_template, "instruction_template", item, item.row)
            user = f"{prompt}\n\n{self._pair_instructions(1)}"
            context = {"task": "qa", "mode": "records", "n": 1, "fields": item.row}
            calls[item.index] = self._call(self._messages(user), context)
        outputs = self._run("qa", list(calls.values()))
        out = []
        for item in items:
            call = calls[item.index]
            out.extend(self._pairs_from_reply(item, call, outputs[call.key], 1))
        return out

    def _records_in_two_steps(self, items: list[_Item]) -> list[dict[str, Any]]:
        cfg = self.config
        assert cfg.question_template is not None and cfg.answer_template is not None
        questions: dict[int, tuple[str, str | None]] = {}  # index -> (question, key of its call)
        calls: dict[int, _Call] = {}
        for item in items:
            text = self._render_record(cfg.question_template, "question_template", item, item.row)
            if cfg.question_source == "template":
                questions[item.index] = (text, None)
            else:
                context = {"task": "question", "mode": "records", "fields": item.row}
                calls[item.index] = self._call(self._messages(text), context)
        outputs = self._run("question", list(calls.values()))
        for item in items:
            call = calls.get(item.index)
            if call is None:
                continue
            output = outputs[call.key]
            if isinstance(output, TeacherFailure):
                self._reject_call(item, "question", output, prompt_hash=call.key)
                continue
            question = clean_reply(output)
            if not question:
                self._reject(
                    item,
                    "question",
                    "empty_question",
                    "the teacher's question is empty",
                    raw=output,
                    prompt_hash=call.key,
                )
                continue
            questions[item.index] = (question, call.key)

        ready = [item for item in items if item.index in questions]
        answers: dict[int, tuple[str, str | None, str | None]] = {}  # index -> (answer, key, raw)
        calls = {}
        instruction = self._answer_instruction()
        for item in ready:
            question = questions[item.index][0]
            fields = {**item.row, "question": question}
            text = self._render_record(cfg.answer_template, "answer_template", item, fields)
            if cfg.answer_source == "template":
                answers[item.index] = (text, None, None)
            else:
                user = f"{text}\n\n{instruction}" if instruction else text
                context = {"task": "answer", "mode": "records", "fields": fields}
                calls[item.index] = self._call(self._messages(user), context)
        outputs = self._run("answer", list(calls.values()))
        out = []
        for item in ready:
            question, q_key = questions[item.index]
            call = calls.get(item.index)
            if call is not None:
                output = outputs[call.key]
                if isinstance(output, TeacherFailure):
                    self._reject_call(item, "answer", output, question=question, prompt_hash=call.key)
                    continue
                answers[item.index] = (clean_reply(output), call.key, output)
            answer, a_key, raw = answers[item.index]
            keys = [k for k in (q_key, a_key) if k is not None]
            prompt_hash = keys[0] if len(keys) == 1 else _sha256("".join(keys))
            stage = "answer" if a_key is not None else "question"
            row = self._accept(item, stage, question, answer, 1, prompt_hash, raw)
            if row is not None:
                out.append(row)
        return out

    # ------------------------------------------------------------------------------------ documents

    def _few_shot_turns(self) -> list[dict[str, str]]:
        cfg = self.config
        turns = []
        for example in cfg.few_shot:
            fields = {**example, "source": example.get("source", "example"), "n": 1}
            user = RowFormatter(lenient=True).vformat(cfg.document_template, (), fields).strip()
            reply = json.dumps(
                [{"question": example["question"], "answer": example["answer"]}], ensure_ascii=False
            )
            turns += [
                {"role": "user", "content": f"{user}\n\n{self._pair_instructions(1)}"},
                {"role": "assistant", "content": reply},
            ]
        return turns

    def _generate_documents(self, rows: list[dict[str, Any]], columns: list[str]) -> list[dict[str, Any]]:
        cfg = self.config
        if cfg.text_column not in columns:
            raise DataError(
                f"documents mode reads the passage from column {cfg.text_column!r}, which the data lacks; "
                f"found: {', '.join(columns)} (set SyntheticConfig.text_column)"
            )
        n = cfg.questions_per_passage
        shots = self._few_shot_turns()
        instructions = self._pair_instructions(n)
        items: list[_Item] = []
        calls: dict[int, _Call] = {}
        for i, (row, sid) in enumerate(zip(rows, self._source_ids(rows, columns), strict=True)):
            text = row.get(cfg.text_column)
            source = row.get(cfg.source_column) if cfg.source_column else None
            source = None if _is_blank(source) else str(source)
            item = _Item(i, sid, row, {"context": text if isinstance(text, str) else None, "source": source})
            if not isinstance(text, str) or not text.strip():
                self._reject(item, "input", "empty_passage", f"column {cfg.text_column!r} is empty")
                continue
            fields = {**row, "passage": text.strip(), "source": source or "", "n": n}
            try:
                user = RowFormatter(lenient=True).vformat(cfg.document_template, (), fields).strip()
            except (ValueError, TypeError, IndexError, AttributeError) as exc:
                raise DataError(
                    f"SyntheticConfig.document_template: cannot format passage {i} (id={sid!r}): "
                    f"{type(exc).__name__}: {exc}"
                ) from None
            context = {"task": "qa", "mode": "documents", "n": n, "fields": fields}
            calls[i] = self._call(self._messages(f"{user}\n\n{instructions}", shots), context)
            items.append(item)
        outputs = self._run("qa", list(calls.values()))
        out = []
        for item in items:
            call = calls[item.index]
            out.extend(self._pairs_from_reply(item, call, outputs[call.key], n))
        return out

    # ------------------------------------------------------------------------------------ results

    def to_builder(self) -> DatasetBuilder:
        """A :class:`~domainft.data.builder.DatasetBuilder` over the last result (clean, split, build)."""
        from domainft.data.builder import DatasetBuilder

        if self.dataset is None:
            raise DataError("to_builder: nothing generated yet; call generate(...) first")
        builder = DatasetBuilder(self.dataset)
        builder.source = f"synthetic:{self.teacher_name}"
        return builder

    @property
    def teacher_name(self) -> str:
        return self._teacher.name if self._teacher is not None else self.config.teacher

    def save(self, directory: str | Path) -> Path:
        """Write ``data.jsonl``, ``rejected.jsonl``, ``stats.json``, ``config.json`` and ``teacher.json``."""
        if self.dataset is None:
            raise DataError("save: nothing generated yet; call generate(...) first")
        directory = Path(directory)
        atomic_write_jsonl(directory / "data.jsonl", self.dataset.to_list())
        atomic_write_jsonl(directory / "rejected.jsonl", self._rejected)
        atomic_write_json(directory / "stats.json", self.stats.to_dict())
        atomic_write_json(directory / "teacher.json", self._teacher_info())
        self.config.to_json(directory / "config.json")
        return directory

    def _teacher_info(self) -> dict[str, Any]:
        if self._teacher is None:
            return self._saved_teacher or {"backend": self.config.teacher, "name": self.config.teacher}
        return {
            "backend": self._teacher.backend,
            "name": self._teacher.name,
            "fingerprint": self._teacher.fingerprint(),
        }

    @classmethod
    def load(cls, directory: str | Path) -> SyntheticQAGenerator:
        """A generator holding a saved run's config, dataset, rejections and stats (no teacher is built)."""
        directory = Path(directory)
        for name in ("config.json", "data.jsonl", "rejected.jsonl", "stats.json"):
            if not (directory / name).is_file():
                raise DataFileNotFoundError(
                    f"{directory / name} not found: is {directory} a saved synthetic run?"
                )
        generator = cls(SyntheticConfig.from_json(directory / "config.json"))
        mode = generator.config.mode
        generator.dataset = _to_dataset(read_jsonl(directory / "data.jsonl", DataError), mode)
        generator._rejected = read_jsonl(directory / "rejected.jsonl", DataError)
        generator.stats = SyntheticStats.from_dict(
            read_json(directory / "stats.json", DataError, mapping=True)
        )
        if (directory / "teacher.json").is_file():
            generator._saved_teacher = read_json(directory / "teacher.json", DataError)
        return generator


def _as_rows(data: Any) -> list[dict[str, Any]]:
    import datasets as hf

    if isinstance(data, hf.DatasetDict):
        raise DataError(
            f"generate: got a DatasetDict; pass one split, e.g. data['train'] ({', '.join(data)})"
        )
    if isinstance(data, hf.Dataset):
        return data.to_list()
    if type(data).__name__ == "DataFrame" and hasattr(data, "to_dict"):
        return data.to_dict(orient="records")
    if isinstance(data, (str, bytes, Mapping)) or not isinstance(data, Iterable):
        raise DataError(
            "generate: expected a list of dicts, a datasets.Dataset or a pandas DataFrame, "
            f"got {type(data).__name__}"
        )
    rows = []
    for i, row in enumerate(data):
        if not isinstance(row, Mapping):
            raise DataError(f"generate: item {i} is a {type(row).__name__}, expected a dict of fields")
        rows.append(dict(row))
    return rows


def _to_dataset(rows: list[dict[str, Any]], mode: str) -> datasets.Dataset:
    import datasets as hf

    names = list(OUTPUT_COLUMNS) + (list(DOCUMENT_COLUMNS) if mode == "documents" else [])
    features = hf.Features({name: hf.Value("string") for name in names})
    return hf.Dataset.from_dict({name: [r.get(name) for r in rows] for name in names}, features=features)
