"""``KnowledgeConfig``: where the facts come from, how probes are written and how answers are scored.

It is the recipe's ``evaluation.knowledge`` section; when it names a fact source, ``domainft evaluate``
probes every system's closed-book knowledge of those facts (see ``docs/knowledge.md``).

Examples:
    >>> from domainft.evaluation.knowledge.config import KnowledgeConfig
    >>> cfg = KnowledgeConfig.from_dict({"facts": "data/facts.csv", "paraphrases": 4,
    ...                                  "templates": {"birth date": ["When was {subject} born?"]}})
    >>> cfg.source, cfg.paraphrases, cfg.near_duplicate_threshold
    ('table', 4, 0.9)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from domainft.configuration import ConfigBase, config_field
from domainft.errors import ConfigError, DataFileNotFoundError


@dataclass
class KnowledgeConfig(ConfigBase):
    """Knowledge probes: the fact set, its probe questions and the scoring of the answers."""

    facts: str | None = config_field(
        None,
        help="Fact source: a table file (source: table), a records file (source: records), a folder or file "
        "of documents (source: documents), or a facts.jsonl written by FactSet.save (source: table).",
    )
    source: Literal["table", "records", "documents"] = config_field(
        "table",
        help="How facts are read: a user table, fields of structured records, or a teacher on documents.",
    )
    columns: dict[str, str] = config_field(
        {},
        help="table: fact field -> column name, for id, subject, question, answer, attribute, kind, group, "
        "aliases (default: the same names).",
    )
    fields: dict[str, str] = config_field(
        {}, help="records: field -> attribute label of the fact it holds, e.g. {hours: repair time}."
    )
    subject: str = config_field(
        "{id}",
        help="records: format string naming what a record's facts are about, e.g. 'the {machine} ...'.",
    )
    question: str | None = config_field(
        None,
        help="records: format string of the training phrasing (how the training data asks about a record).",
    )
    answers: dict[str, str] = config_field(
        {}, help="records: field -> format string of the key span, e.g. {hours: '{hours:g} h'}."
    )
    kinds: dict[str, str] = config_field(
        {}, help="records: field -> span kind (auto, string, number, date or a registered kind)."
    )
    id_column: str = config_field("id", help="records: the column of unique record ids.")
    group: str | None = config_field(
        None, help="records: the column the report breaks results down by (tables use their group column)."
    )
    teacher: dict[str, Any] | None = config_field(
        None,
        help="Teacher backend for documents and paraphrases: {name: openai, base_url: ..., model: ...} "
        "(name is a registered teacher; the other keys are its options).",
    )
    facts_per_passage: int = config_field(3, help="documents: most facts the teacher extracts per passage.")
    paraphrases: int = config_field(3, help="Paraphrased probe questions per fact.")
    paraphrase_source: Literal["templates", "teacher"] = config_field(
        "templates", help="Who writes the paraphrases: question templates (offline) or the teacher."
    )
    templates: dict[str, list[str]] = config_field(
        {},
        help="Question templates per attribute ('*' for every attribute), format strings over {subject}, "
        "{attribute} and the fact's fields; default: a built-in generic set.",
    )
    unanswerable: list[str] = config_field(
        [], help="Questions about facts absent from the data, asked to measure abstention."
    )
    unanswerable_subjects: list[str] = config_field(
        [],
        help="Subjects absent from the data, each asked about with the template of an attribute.",
    )
    abstention_patterns: list[str] = config_field(
        [], help="Extra regular expressions that mark an answer as an abstention ('I don't know' ...)."
    )
    near_duplicate_threshold: float = config_field(
        0.9,
        help="A probe at least this similar to a training prompt (near-duplicate check) is dropped: it "
        "would test memorised phrasing, not knowledge.",
    )
    near_duplicate_method: str = config_field("tfidf", help="Near-duplicate method (tfidf or minhash).")
    known_threshold: float = config_field(
        0.5, help="A system knows a fact when it states it on at least this share of the paraphrases."
    )
    judge: bool = config_field(
        False,
        help="Ask evaluation.judge whether an answer states a free-form (string) span that the string "
        "match did not find.",
    )
    strip_accents: bool = config_field(True, help="Ignore diacritics when matching spans (Hồ = Ho).")
    max_facts: int | None = config_field(None, help="Probe only the first N facts (quick runs).")
    cache_dir: str | None = config_field(
        None,
        help="Folder of the teacher reply cache (extraction, paraphrases); recipes: <run>/knowledge_cache.",
    )

    def validate(self) -> None:
        self.require_positive("facts_per_passage", "paraphrases", "max_facts")
        self.require_range("near_duplicate_threshold", 0.0, 1.0, low_open=True, high_open=False)
        self.require_range("known_threshold", 0.0, 1.0, low_open=True, high_open=False)
        if self.source == "records" and not self.fields:
            raise ConfigError(
                "KnowledgeConfig.fields: source 'records' needs the record fields that hold facts, "
                "e.g. {cause: cause, hours: repair time}"
            )
        needs_teacher = self.source == "documents" or self.paraphrase_source == "teacher"
        if needs_teacher and not self.teacher:
            what = "source 'documents'" if self.source == "documents" else "paraphrase_source 'teacher'"
            raise ConfigError(
                f"KnowledgeConfig.teacher: {what} needs a teacher, e.g. "
                "{name: openai, base_url: http://127.0.0.1:8000/v1, model: NAME}"
            )
        if self.teacher is not None and not isinstance(self.teacher.get("name"), str):
            raise ConfigError("KnowledgeConfig.teacher needs a 'name' (a registered teacher backend)")
        for attribute, templates in self.templates.items():
            if not templates or not all(isinstance(t, str) and "{" in t for t in templates):
                raise ConfigError(
                    f"KnowledgeConfig.templates[{attribute!r}]: give a list of format strings using "
                    "{subject}, e.g. ['When was {subject} born?']"
                )
        import re

        for pattern in self.abstention_patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ConfigError(
                    f"KnowledgeConfig.abstention_patterns: {pattern!r} is not a regex: {exc}"
                ) from None

    def facts_path(self) -> Path:
        """The ``facts`` path, checked: ``ConfigError`` when empty, ``DataFileNotFoundError`` when missing."""
        if not self.facts:
            raise ConfigError("knowledge.facts is empty: name the fact table, records file or documents")
        path = Path(self.facts).expanduser()
        if not path.exists():
            raise DataFileNotFoundError(
                f"knowledge.facts: {self.facts} does not exist (in a recipe a relative path is read from the "
                "current folder, then from the recipe's folder); fix the path or create the file"
            )
        return path

    def build_teacher(self) -> Any:
        """The configured teacher (``teacher.name`` with the other keys as options), or None."""
        if not self.teacher:
            return None
        from domainft.data.teachers import get_teacher

        options = {k: v for k, v in self.teacher.items() if k != "name"}
        return get_teacher(self.teacher["name"], **options)
