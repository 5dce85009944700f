"""Fact sets: the atomic facts a fine-tune should have learned, each with a key answer span.

A :class:`Fact` says one thing about one subject (``attribute`` of ``subject`` is ``answer``); its
``answer`` is the short span an answer must state to count as knowing it: a date, a name, a number
with its unit, a part, a duration. Three sources build a :class:`FactSet`:

- :meth:`FactSet.from_table`: a table written by the user (CSV, JSON Lines, ...), one fact per row with
  at least a subject, a question and a key answer;
- :meth:`FactSet.from_records`: structured records (tickets, catalogue rows): each chosen field of a
  record is a fact about that record, its subject rendered from the record;
- :meth:`FactSet.from_documents`: passages of documents, from which a teacher backend (the registry that
  writes synthetic data) extracts facts; a fact whose key answer is not stated in its passage is
  rejected, not kept.

Rows that cannot become facts are never dropped silently: they are in ``FactSet.rejected`` with the
reason (and file line for tables). A fact set saves to JSON Lines and loads back exactly.

Examples:
    >>> from domainft.evaluation.knowledge.facts import FactSet
    >>> tickets = [{"id": "WO-1", "machine": "press", "problem": "no pressure", "hours": 2.5}]
    >>> facts = FactSet.from_records(tickets, fields={"hours": "repair time"},
    ...     subject="the {machine} with {problem}", answers={"hours": "{hours:g} h"})
    >>> f = facts[0]
    >>> f.id, f.subject, f.attribute, f.answer
    ('WO-1:hours', 'the press with no pressure', 'repair time', '2.5 h')
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domainft.errors import ConfigError, DataError
from domainft.utils.io import atomic_write_jsonl, read_jsonl

if TYPE_CHECKING:  # pragma: no cover
    from domainft.data.teachers import Teacher

logger = logging.getLogger(__name__)

TABLE_COLUMNS = ("id", "subject", "question", "answer", "attribute", "kind", "group", "aliases")

EXTRACTION_SYSTEM_PROMPT = (
    "You read reference documents and list the atomic facts they state, for a test of what a model "
    "remembers. Each fact has one short key answer copied from the passage."
)
EXTRACTION_TEMPLATE = (
    'Source: {source}\nPassage:\n"""\n{passage}\n"""\n\n'
    "List up to {n} atomic facts stated in this passage. For each give: subject (who or what the fact is "
    "about, named in full), attribute (what about the subject, e.g. 'birth date', 'cause', 'duration'), "
    "question (a question asking for it, naming the subject), answer (the key answer only: a date, name, "
    "number with its unit, part or place, copied from the passage, at most eight words).\n"
    'Reply with only a JSON array of objects with the keys "subject", "attribute", "question", "answer".'
)


@dataclass
class Fact:
    """One atomic fact: ``attribute`` of ``subject`` is ``answer`` (the key span an answer must state).

    ``question`` is how the training data asks it (the *training phrasing*), when known; ``kind`` says
    how the span is matched (``auto``, ``string``, ``number``, ``date`` or a registered kind);
    ``aliases`` are other spans that count as the same answer; ``group`` is the source document or
    record group used in the report's breakdown; ``source`` says where the fact was read; ``evidence``
    is the text that states it.
    """

    id: str
    subject: str
    answer: str
    question: str | None = None
    attribute: str | None = None
    kind: str = "auto"
    aliases: list[str] = field(default_factory=list)
    group: str | None = None
    source: str | None = None
    evidence: str | None = None

    def __post_init__(self) -> None:
        for name in ("id", "subject", "answer"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise DataError(f"fact {self.id!r}: {name} must be a non-empty string, got {value!r}")
            setattr(self, name, value.strip())
        for name in ("question", "attribute", "group", "source", "evidence"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise DataError(f"fact {self.id!r}: {name} must be a string or null, got {value!r}")
            if isinstance(value, str):
                setattr(self, name, value.strip() or None)
        if isinstance(self.aliases, str):
            self.aliases = self.aliases.split("|")
        self.aliases = [str(a).strip() for a in self.aliases if str(a).strip()]
        self.kind = (self.kind or "auto").strip().lower()

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Fact:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise DataError(f"fact {data.get('id')!r}: unknown field(s) {unknown}; fields: {sorted(known)}")
        return cls(**dict(data))


class FactSet(Sequence[Fact]):
    """An ordered set of :class:`Fact` with unique ids, plus the rows that could not become facts."""

    def __init__(
        self,
        facts: Iterable[Fact],
        *,
        origin: str = "facts",
        rejected: Iterable[Mapping[str, Any]] = (),
    ) -> None:
        self.facts = list(facts)
        self.origin = origin
        self.rejected = [dict(r) for r in rejected]
        seen: dict[str, int] = {}
        for i, fact in enumerate(self.facts):
            if fact.id in seen:
                raise DataError(
                    f"fact id {fact.id!r} is used twice (facts {seen[fact.id]} and {i}); ids must be unique"
                )
            seen[fact.id] = i
        if not self.facts:
            reasons = "; ".join(f"{r.get('where', '?')}: {r.get('reason')}" for r in self.rejected[:5])
            raise DataError(
                f"the {origin} fact set is empty"
                + (f" (rejected: {reasons})" if reasons else "")
                + "; give at least one fact with a subject and a key answer"
            )

    def __len__(self) -> int:
        return len(self.facts)

    def __getitem__(self, index: Any) -> Any:
        return self.facts[index]

    def __iter__(self) -> Iterator[Fact]:
        return iter(self.facts)

    def __repr__(self) -> str:
        return f"FactSet({len(self.facts)} facts from {self.origin}, {len(self.rejected)} rejected)"

    def by_id(self) -> dict[str, Fact]:
        return {f.id: f for f in self.facts}

    def groups(self) -> list[str]:
        """The distinct groups, in order of first appearance (facts without one are not counted)."""
        return list(dict.fromkeys(f.group for f in self.facts if f.group))

    # ------------------------------------------------------------------ sources
    @classmethod
    def from_table(
        cls,
        table: str | Path | Iterable[Mapping[str, Any]],
        *,
        columns: Mapping[str, str] | None = None,
        kind: str | None = None,
    ) -> FactSet:
        """Facts from a table: a file any data reader reads (CSV, JSON Lines, xlsx ...) or a list of dicts.

        ``columns`` maps the fact fields (``id``, ``subject``, ``question``, ``answer``, ``attribute``,
        ``kind``, ``group``, ``aliases``; aliases separated by ``|``) to the table's column names when they
        differ. ``subject`` and ``answer`` are required; ``id`` defaults to ``fact-<row>``. A row with an
        empty subject or answer is rejected with its line number.

        Examples:
            >>> facts = FactSet.from_table([{"subject": "Hồ Chí Minh", "question": "When was he born?",
            ...                              "answer": "19 May 1890", "attribute": "birth date"}])
            >>> facts[0].id, facts[0].answer
            ('fact-0001', '19 May 1890')
        """
        mapping = {name: name for name in TABLE_COLUMNS}
        for name, column in dict(columns or {}).items():
            if name not in mapping:
                raise ConfigError(
                    f"fact table columns: unknown fact field {name!r}; fields: {', '.join(TABLE_COLUMNS)}"
                )
            mapping[name] = column
        where_of, rows = _table_rows(table)
        available = set().union(*(r.keys() for r in rows)) if rows else set()
        for name in ("subject", "answer"):
            if mapping[name] not in available:
                raise DataError(
                    f"{where_of(None)}: the fact table has no column {mapping[name]!r} (for the fact's "
                    f"{name}); columns: {', '.join(sorted(available))}. Map it with columns={{{name!r}: ...}}"
                )
        if kind is not None:
            _check_kind(kind, "from_table(kind=...)")
        facts, rejected = [], []
        for i, row in enumerate(rows):
            values = {name: _cell(row.get(column)) for name, column in mapping.items()}
            where = where_of(i)
            missing = [n for n in ("subject", "answer") if not values[n]]
            if missing:
                rejected.append(
                    {"where": where, "reason": f"empty {' and '.join(missing)}", "row": dict(row)}
                )
                continue
            values["id"] = values["id"] or f"fact-{i + 1:04d}"
            values["kind"] = values["kind"] or kind or "auto"
            values["aliases"] = (values["aliases"] or "").split("|")
            values["source"] = where
            facts.append(Fact(**values))
        return cls(facts, origin="table", rejected=rejected)

    @classmethod
    def from_records(
        cls,
        records: str | Path | Iterable[Mapping[str, Any]],
        *,
        fields: Sequence[str] | Mapping[str, str],
        subject: str = "{id}",
        question: str | Mapping[str, str] | None = None,
        answers: Mapping[str, str] | None = None,
        kinds: Mapping[str, str] | None = None,
        id_column: str = "id",
        group: str | None = None,
    ) -> FactSet:
        """Facts from structured records: each field in ``fields`` of each record is a fact about it.

        ``fields`` lists the fields, or maps each to its attribute label (``{"hours": "repair time"}``;
        default label: the field name with ``_`` as spaces). ``subject`` is a format string over the
        record naming what the fact is about; ``question`` (one format string, or one per field) is how
        the training data asks it; ``answers`` formats the key span per field (``{"hours": "{hours:g} h"}``,
        default: the value as text); ``kinds`` sets the span kind per field; ``group`` names the column
        the report breaks results down by. A record whose field is empty gives no fact for that field
        (listed in ``rejected``).
        """
        labels = (
            {str(k): str(v) for k, v in fields.items()}
            if isinstance(fields, Mapping)
            else {str(f): str(f).replace("_", " ") for f in fields}
        )
        if not labels:
            raise ConfigError("from_records: fields is empty; name the record fields that hold facts")
        for name, kind in dict(kinds or {}).items():
            _check_kind(kind, f"from_records(kinds[{name!r}])")
        where_of, rows = _table_rows(records)
        facts, rejected = [], []
        for i, row in enumerate(rows):
            where = where_of(i)
            record_id = _cell(row.get(id_column)) or f"record-{i + 1:04d}"
            about = fill_template(subject, row, f"from_records: the subject template at {where}")
            for name, label in labels.items():
                if name not in row:
                    raise DataError(
                        f"{where}: the record has no field {name!r}; fields: {', '.join(sorted(row))}"
                    )
                value = _cell(row.get(name))
                if not value or not about:
                    reason = f"empty {name!r}" if not value else "empty subject"
                    rejected.append({"where": where, "reason": reason, "id": f"{record_id}:{name}"})
                    continue
                template = (answers or {}).get(name)
                answer = (
                    fill_template(template, row, f"from_records: the answers[{name!r}] template at {where}")
                    if template
                    else value
                )
                asked = question.get(name) if isinstance(question, Mapping) else question
                facts.append(
                    Fact(
                        id=f"{record_id}:{name}",
                        subject=about,
                        answer=answer,
                        question=(
                            fill_template(asked, row, f"from_records: the question template at {where}")
                            if asked
                            else None
                        ),
                        attribute=label,
                        kind=(kinds or {}).get(name, "auto"),
                        group=_cell(row.get(group)) if group else None,
                        source=f"{where}, field {name!r}",
                        evidence=value,
                    )
                )
        return cls(facts, origin="records", rejected=rejected)

    @classmethod
    def from_documents(
        cls,
        passages: Iterable[Mapping[str, Any]],
        *,
        teacher: Teacher,
        facts_per_passage: int = 3,
        text_column: str = "text",
        cache_dir: str | Path | None = None,
        progress: bool = True,
        strip_accents: bool = True,
    ) -> FactSet:
        """Facts a teacher extracts from document passages (rows of :func:`~domainft.data.read_documents`).

        One call per passage asks for up to ``facts_per_passage`` facts as JSON. A fact is kept only when
        its key answer is stated in the passage (the same span matching that scores the probes), so a
        teacher cannot invent the reference. The passage's ``source`` becomes the fact's group. Failed
        calls, unparsable replies and rejected facts are listed in ``rejected`` with the raw reply.
        """
        from domainft.data.synthetic import cached_completions, json_list
        from domainft.data.teachers import TeacherFailure
        from domainft.evaluation.knowledge.matching import match_span

        rows = [dict(p) for p in passages]
        if facts_per_passage < 1:
            raise ConfigError(f"from_documents: facts_per_passage must be >= 1, got {facts_per_passage}")
        for i, row in enumerate(rows):
            if not isinstance(row.get(text_column), str):
                raise DataError(f"passage {i}: no text column {text_column!r}; columns: {sorted(row)}")
        messages = [
            [
                {"role": "system", "content": EXTRACTION_SYSTEM_PROMPT},
                {
                    "role": "user",
                    "content": EXTRACTION_TEMPLATE.format(
                        source=row.get("source") or row.get("title") or f"passage {i}",
                        passage=row[text_column],
                        n=facts_per_passage,
                    ),
                },
            ]
            for i, row in enumerate(rows)
        ]
        contexts = [
            {"task": "facts", "n": facts_per_passage, "fields": {**row, "passage": row[text_column]}}
            for row in rows
        ]
        replies = cached_completions(
            teacher,
            messages,
            cache_dir=cache_dir,
            desc="extracting facts",
            progress=progress,
            contexts=contexts,
        )
        facts: list[Fact] = []
        rejected: list[dict[str, Any]] = []
        for i, (row, reply) in enumerate(zip(rows, replies, strict=True)):
            passage_id = str(row.get("id") or f"passage-{i:04d}")
            where = f"passage {passage_id}"
            if isinstance(reply, TeacherFailure):
                rejected.append(
                    {"where": where, "reason": f"teacher call failed: {reply.error}", "raw": None}
                )
                continue
            items = json_list(reply)
            if items is None:
                rejected.append(
                    {"where": where, "reason": "no JSON array of facts in the reply", "raw": reply}
                )
                continue
            for k, item in enumerate(items[:facts_per_passage]):
                fact_where = f"{where}, fact {k + 1}"
                if not isinstance(item, Mapping):
                    rejected.append({"where": fact_where, "reason": "not an object", "raw": item})
                    continue
                values = {key: _cell(item.get(key)) for key in ("subject", "attribute", "question", "answer")}
                if not values["subject"] or not values["answer"]:
                    rejected.append({"where": fact_where, "reason": "no subject or answer", "raw": item})
                    continue
                if not match_span(row[text_column], values["answer"], strip_accents=strip_accents).matched:
                    rejected.append(
                        {
                            "where": fact_where,
                            "reason": "the answer is not stated in the passage",
                            "raw": item,
                        }
                    )
                    continue
                facts.append(
                    Fact(
                        id=f"{passage_id}:f{k + 1}",
                        group=str(row.get("source") or passage_id),
                        source=where,
                        evidence=row[text_column],
                        **values,
                    )
                )
        if rejected:
            logger.info("fact extraction: %d fact(s) kept, %d rejected", len(facts), len(rejected))
        return cls(facts, origin="documents", rejected=rejected)

    # ------------------------------------------------------------------ files
    def save(self, path: str | Path) -> Path:
        """Write the facts as JSON Lines (one :class:`Fact` per line); ``load`` reads them back."""
        return atomic_write_jsonl(path, [f.to_dict() for f in self.facts])

    @classmethod
    def load(cls, path: str | Path) -> FactSet:
        """Read facts written by :meth:`save`; a bad line raises ``DataError`` naming it."""
        facts = []
        for lineno, row in enumerate(read_jsonl(path, DataError), 1):
            if not isinstance(row, Mapping):
                raise DataError(f"{path}: line {lineno}: expected a JSON object (a fact)")
            try:
                facts.append(Fact.from_dict(row))
            except DataError as exc:
                raise DataError(f"{path}: line {lineno}: {exc}") from None
        return cls(facts, origin=str(path))

    def to_records(self) -> list[dict[str, Any]]:
        return [f.to_dict() for f in self.facts]


def fill_template(template: str, fields: Mapping[str, Any], where: str) -> str:
    """``template`` formatted over ``fields`` (None renders empty); a field it lacks or a bad format raises
    ``ConfigError`` starting with ``where`` and listing the fields there are.

    Examples:
        >>> fill_template("the {machine} with {problem}", {"machine": "press", "problem": "no oil"}, "here")
        'the press with no oil'
    """
    from domainft.data.builder import RowFormatter

    try:
        return RowFormatter().vformat(template, (), dict(fields)).strip()
    except KeyError as exc:
        raise ConfigError(
            f"{where}: {template!r} uses the field {exc.args[0]!r}, which is not there; "
            f"fields: {', '.join(sorted(fields))}"
        ) from None
    except (ValueError, TypeError, IndexError, AttributeError) as exc:
        raise ConfigError(f"{where}: {template!r}: {type(exc).__name__}: {exc}") from None


def _check_kind(kind: Any, where: str) -> None:
    from domainft.evaluation.knowledge.matching import known_span_kinds

    kinds = ["auto", *known_span_kinds()]
    if kind not in kinds:
        raise ConfigError(f"{where}: unknown span kind {kind!r}; known: {', '.join(kinds)}")


def _cell(value: Any) -> str | None:
    """A table cell as stripped text (numbers without a spurious ``.0``), None when empty."""
    if value is None:
        return None
    if isinstance(value, float):
        if value != value:  # NaN from a CSV reader
            return None
        value = f"{value:g}" if value.is_integer() or abs(value) < 1e15 else str(value)
    text = str(value).strip()
    return text or None


def _table_rows(table: str | Path | Iterable[Mapping[str, Any]]) -> tuple[Any, list[dict[str, Any]]]:
    """The rows of a file (with ``file:line`` locations) or of an iterable of mappings (``row N``)."""
    if isinstance(table, (str, Path)):
        from domainft.data.readers import read_records, reader_for_path

        path = Path(table)
        rows = read_records(path).to_list()
        header = 1 if reader_for_path(path) in ("csv", "tsv") else 0

        def where(i: int | None) -> str:
            return str(path) if i is None else f"{path}:{i + 1 + header}"

        return where, rows
    rows = []
    for i, row in enumerate(table):
        if not isinstance(row, Mapping):
            raise DataError(f"row {i}: expected a mapping (a dict of fields), got {type(row).__name__}")
        rows.append(dict(row))

    def where_row(i: int | None) -> str:
        return "the table" if i is None else f"row {i}"

    return where_row, rows
