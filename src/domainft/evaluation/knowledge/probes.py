"""Probe questions: several ways to ask each fact, none of them a training prompt, plus unanswerable ones.

For every fact of a :class:`~domainft.evaluation.knowledge.facts.FactSet` a :class:`ProbeSet` holds

- a ``training`` probe: the fact's own question, the phrasing the training data uses (when the fact
  has one), which tells how much of the fact was memorised *with its wording*;
- ``paraphrase`` probes: questions written from templates over the fact's subject and attribute, or by a
  teacher, that do **not** occur in the training data. Every candidate is checked against the training
  prompts with the near-duplicate machinery of the data layer; one at least ``threshold`` similar to a
  training prompt is dropped, as is one that states the key answer itself or repeats another probe;
- ``unanswerable`` probes: questions about facts absent from the data (given, or templates over subjects
  that the training data never mentions), which measure abstention against hallucination.

Nothing is dropped silently: ``ProbeSet.dropped`` lists every rejected candidate with the reason (and the
training prompt it duplicates, with the similarity). A probe set saves to a folder and loads back.

Examples:
    >>> from domainft.evaluation.knowledge.facts import FactSet
    >>> from domainft.evaluation.knowledge.probes import build_probe_set
    >>> facts = FactSet.from_table([{"subject": "the P-20 press", "attribute": "oil change interval",
    ...     "question": "How often do I change the oil of the P-20 press?", "answer": "500 hours"}])
    >>> probes = build_probe_set(facts, paraphrases=2,
    ...     training_prompts=["How often do I change the oil of the P-20 press?"])
    >>> [(p.kind, p.question) for p in probes]  # doctest: +NORMALIZE_WHITESPACE
    [('training', 'How often do I change the oil of the P-20 press?'),
     ('paraphrase', 'What is the oil change interval of the P-20 press?'),
     ('paraphrase', 'Tell me the oil change interval of the P-20 press.')]
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from domainft.errors import ConfigError, DataError, DataFileNotFoundError
from domainft.evaluation.knowledge.facts import Fact, FactSet, fill_template
from domainft.utils.io import atomic_write_json, atomic_write_jsonl, read_json, read_jsonl

if TYPE_CHECKING:  # pragma: no cover
    from domainft.data.teachers import Teacher

ProbeKind = Literal["training", "paraphrase", "unanswerable"]
PROBE_KINDS: tuple[str, ...] = ("training", "paraphrase", "unanswerable")

#: Generic question templates, used for an attribute without templates of its own.
DEFAULT_TEMPLATES: tuple[str, ...] = (
    "What is the {attribute} of {subject}?",
    "Tell me the {attribute} of {subject}.",
    "Do you know the {attribute} of {subject}?",
    "About {subject}: what is the {attribute}?",
    "I need the {attribute} of {subject}. What is it?",
    "Which {attribute} does {subject} have?",
)
PARAPHRASE_PROMPT = (
    "Rewrite this question in {n} different ways a user might ask it. Keep its meaning and name the "
    "same subject; do not state or hint at the answer.\nQuestion: {question}\n"
    "Reply with only a JSON array of {n} strings."
)
FACTS_FILE = "facts.jsonl"
PROBES_FILE = "probes.jsonl"
DROPPED_FILE = "dropped.jsonl"
META_FILE = "probe_set.json"


@dataclass
class Probe:
    """One closed-book question: about ``fact_id`` (None for an unanswerable probe), of ``kind``.

    ``origin`` says who wrote it (``fact``: the training phrasing; ``template``; ``teacher``; ``user``);
    ``template`` is the format string it came from; ``in_training`` (training probes) whether the exact
    question is one of the training prompts.
    """

    id: str
    question: str
    kind: str
    fact_id: str | None = None
    origin: str = "template"
    template: str | None = None
    in_training: bool | None = None

    def __post_init__(self) -> None:
        if self.kind not in PROBE_KINDS:
            raise DataError(f"probe {self.id!r}: kind must be one of {PROBE_KINDS}, got {self.kind!r}")
        if not isinstance(self.question, str) or not self.question.strip():
            raise DataError(f"probe {self.id!r}: the question is empty")
        if (self.fact_id is None) != (self.kind == "unanswerable"):
            raise DataError(
                f"probe {self.id!r}: a {self.kind} probe {'has no' if self.fact_id else 'needs a'} fact"
            )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class ProbeSet(Sequence[Probe]):
    """The facts, their probes and every dropped candidate, with the settings that made them."""

    def __init__(
        self,
        facts: FactSet,
        probes: Sequence[Probe],
        *,
        dropped: Sequence[Mapping[str, Any]] = (),
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        self.facts = facts
        self.probes = list(probes)
        self.dropped = [dict(d) for d in dropped]
        self.meta = dict(meta or {})
        known = facts.by_id()
        ids: set[str] = set()
        for probe in self.probes:
            if probe.id in ids:
                raise DataError(f"probe id {probe.id!r} is used twice")
            ids.add(probe.id)
            if probe.fact_id is not None and probe.fact_id not in known:
                raise DataError(
                    f"probe {probe.id!r} is about fact {probe.fact_id!r}, which is not in the fact set"
                )

    def __len__(self) -> int:
        return len(self.probes)

    def __getitem__(self, index: Any) -> Any:
        return self.probes[index]

    def __iter__(self) -> Iterator[Probe]:
        return iter(self.probes)

    def of_kind(self, kind: str) -> list[Probe]:
        return [p for p in self.probes if p.kind == kind]

    def counts(self) -> dict[str, int]:
        """Probes per kind, dropped candidates, and facts left without any paraphrase."""
        with_paraphrase = {p.fact_id for p in self.probes if p.kind == "paraphrase"}
        return {
            "facts": len(self.facts),
            **{kind: len(self.of_kind(kind)) for kind in PROBE_KINDS},
            "dropped": len(self.dropped),
            "facts_without_paraphrase": sum(f.id not in with_paraphrase for f in self.facts),
        }

    def summary(self) -> str:
        c = self.counts()
        text = (
            f"probes: {c['facts']} facts, {c['training']} training-phrasing, {c['paraphrase']} paraphrase, "
            f"{c['unanswerable']} unanswerable probes; {c['dropped']} candidate(s) dropped"
        )
        if c["facts_without_paraphrase"]:
            text += f"; {c['facts_without_paraphrase']} fact(s) have no paraphrase"
        return text

    def __repr__(self) -> str:
        return f"ProbeSet({self.summary()})"

    def save(self, directory: str | Path) -> Path:
        """``facts.jsonl``, ``probes.jsonl``, ``dropped.jsonl`` and ``probe_set.json`` (settings, counts)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.facts.save(directory / FACTS_FILE)
        atomic_write_jsonl(directory / PROBES_FILE, [p.to_dict() for p in self.probes])
        atomic_write_jsonl(directory / DROPPED_FILE, self.dropped)
        atomic_write_json(directory / META_FILE, {**self.meta, "counts": self.counts()})
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> ProbeSet:
        directory = Path(directory)
        if not (directory / PROBES_FILE).is_file():
            raise DataFileNotFoundError(
                f"{directory / PROBES_FILE} does not exist; is {directory} a saved probe set?"
            )
        facts = FactSet.load(directory / FACTS_FILE)
        probes = []
        for lineno, row in enumerate(read_jsonl(directory / PROBES_FILE, DataError), 1):
            try:
                probes.append(Probe(**row))
            except (TypeError, DataError) as exc:
                raise DataError(f"{directory / PROBES_FILE}: line {lineno}: {exc}") from None
        dropped = (
            read_jsonl(directory / DROPPED_FILE, DataError) if (directory / DROPPED_FILE).is_file() else []
        )
        meta = read_json(directory / META_FILE, DataError) if (directory / META_FILE).is_file() else {}
        meta.pop("counts", None)
        return cls(facts, probes, dropped=dropped, meta=meta)


# ---------------------------------------------------------------------------------------------- building


def _render(template: str, fact: Fact | None, subject: str, attribute: str) -> str:
    fields = {**(fact.to_dict() if fact is not None else {}), "subject": subject, "attribute": attribute}
    return fill_template(
        template, fields, "probe template (it may use {subject}, {attribute}, the fact's fields)"
    )


def _templates_for(attribute: str | None, templates: Mapping[str, Sequence[str]]) -> Sequence[str]:
    if attribute is not None and attribute in templates:
        return templates[attribute]
    return templates.get("*", DEFAULT_TEMPLATES)


def _teacher_paraphrases(
    facts: Sequence[Fact], n: int, teacher: Teacher, cache_dir: str | Path | None, progress: bool
) -> dict[str, list[str] | str]:
    """Up to ``n + 2`` candidate rewrites per fact from the teacher (extra ones replace dropped ones), or
    why there are none (a failed call, a reply without a JSON array)."""
    from domainft.data.synthetic import cached_completions, json_list
    from domainft.data.teachers import TeacherFailure

    asked = [f.question or f"What is the {f.attribute or 'answer'} of {f.subject}?" for f in facts]
    messages = [[{"role": "user", "content": PARAPHRASE_PROMPT.format(n=n + 2, question=q)}] for q in asked]
    contexts = [
        {"task": "paraphrase", "n": n + 2, "fields": {**f.to_dict(), "question": q}}
        for f, q in zip(facts, asked, strict=True)
    ]
    replies = cached_completions(
        teacher,
        messages,
        cache_dir=cache_dir,
        desc="writing paraphrases",
        progress=progress,
        contexts=contexts,
    )
    out: dict[str, list[str] | str] = {}
    for fact, reply in zip(facts, replies, strict=True):
        if isinstance(reply, TeacherFailure):
            out[fact.id] = f"failed: {reply.error}"
            continue
        items = json_list(reply)
        texts = [] if items is None else [s.strip() for s in items if isinstance(s, str) and s.strip()]
        out[fact.id] = f"unparsable: {reply[:200]}" if items is None else texts
    return out


def build_probe_set(
    facts: FactSet,
    *,
    paraphrases: int = 3,
    training_prompts: Sequence[str] = (),
    training_texts: Sequence[str] = (),
    templates: Mapping[str, Sequence[str]] | None = None,
    teacher: Teacher | None = None,
    unanswerable: Sequence[str] = (),
    unanswerable_subjects: Sequence[str] = (),
    threshold: float = 0.9,
    method: str = "tfidf",
    strip_accents: bool = True,
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> ProbeSet:
    """Write the probes of ``facts``: its training phrasing, ``paraphrases`` new questions per fact and the
    unanswerable ones, checked against ``training_prompts`` (see the module docstring).

    Paraphrases come from ``templates`` (attribute -> format strings; ``"*"`` for all; default
    :data:`DEFAULT_TEMPLATES`) unless a ``teacher`` is given. ``unanswerable_subjects`` must not occur in
    ``training_prompts`` or ``training_texts`` (e.g. the training answers): one that does is dropped.
    """
    from domainft.data.near_duplicates import near_duplicate_pairs
    from domainft.evaluation.knowledge.matching import match_span, normalise_text

    if paraphrases < 1:
        raise ConfigError(f"build_probe_set: paraphrases must be >= 1, got {paraphrases}")
    templates = {k: list(v) for k, v in (templates or {}).items()}
    train = [p for p in training_prompts if isinstance(p, str)]
    train_keys = {normalise_text(p, strip_accents=strip_accents): p for p in train}
    dropped: list[dict[str, Any]] = []
    candidates: list[dict[str, Any]] = []  # question, kind, fact, origin, template, in order of preference

    written = (
        _teacher_paraphrases(facts.facts, paraphrases, teacher, cache_dir, progress)
        if teacher is not None
        else {}
    )
    for fact in facts:
        if fact.question:
            key = normalise_text(fact.question, strip_accents=strip_accents)
            candidates.append(
                {
                    "question": fact.question,
                    "kind": "training",
                    "fact": fact,
                    "origin": "fact",
                    "in_training": key in train_keys,
                }
            )
        if teacher is not None:
            texts = written.get(fact.id, [])
            if isinstance(texts, str):  # why the teacher wrote none
                dropped.append({"fact_id": fact.id, "question": None, "kind": "paraphrase", "reason": texts})
                texts = []
            candidates.extend(
                {"question": t, "kind": "paraphrase", "fact": fact, "origin": "teacher"} for t in texts
            )
        elif fact.attribute:
            for template in _templates_for(fact.attribute, templates):
                candidates.append(
                    {
                        "question": _render(template, fact, fact.subject, fact.attribute),
                        "kind": "paraphrase",
                        "fact": fact,
                        "origin": "template",
                        "template": template,
                    }
                )
        else:
            dropped.append(
                {
                    "fact_id": fact.id,
                    "question": None,
                    "kind": "paraphrase",
                    "reason": "the fact has no attribute, so no template can ask it; give one or a teacher",
                }
            )
    attributes = list(dict.fromkeys(f.attribute for f in facts if f.attribute))
    for question in unanswerable:
        candidates.append({"question": question, "kind": "unanswerable", "fact": None, "origin": "user"})
    corpus = (  # normalised training texts, needed only to check the unanswerable subjects
        [f" {normalise_text(t, strip_accents=strip_accents)} " for t in [*train, *training_texts]]
        if unanswerable_subjects
        else []
    )
    for k, subject in enumerate(unanswerable_subjects):
        needle = f" {normalise_text(subject, strip_accents=strip_accents)} "
        if any(needle in text for text in corpus):
            dropped.append(
                {
                    "fact_id": None,
                    "question": subject,
                    "kind": "unanswerable",
                    "reason": "the subject occurs in the training data, so the question may be answerable",
                }
            )
            continue
        if not attributes:
            raise ConfigError("unanswerable_subjects need facts with an attribute to ask about")
        attribute = attributes[k % len(attributes)]
        template = _templates_for(attribute, templates)[0]
        candidates.append(
            {
                "question": _render(template, None, subject, attribute),
                "kind": "unanswerable",
                "fact": None,
                "origin": "template",
                "template": template,
            }
        )

    # the near-duplicate check: no paraphrase or unanswerable probe may be (almost) a training prompt
    checked = [i for i, c in enumerate(candidates) if c["kind"] != "training"]
    near: dict[int, tuple[int, float]] = {}
    if train and checked:
        for pair in near_duplicate_pairs(
            [candidates[i]["question"] for i in checked], train, threshold=threshold, method=method
        ):
            i = checked[pair.i]
            if i not in near or pair.similarity > near[i][1]:
                near[i] = (pair.j, pair.similarity)

    probes: list[Probe] = []
    seen: set[str] = set()
    per_fact: dict[str, int] = {}
    n_unanswerable = 0
    for i, cand in enumerate(candidates):
        fact: Fact | None = cand["fact"]
        question = cand["question"]
        key = normalise_text(question, strip_accents=strip_accents)
        record = {
            "fact_id": fact.id if fact else None,
            "question": question,
            "kind": cand["kind"],
            "origin": cand["origin"],
        }
        reason = None
        if cand["kind"] == "paraphrase" and per_fact.get(fact.id, 0) >= paraphrases:  # type: ignore[union-attr]
            continue  # enough paraphrases already: spare candidates are not "dropped"
        if key in seen and cand["kind"] != "training":  # facts of one record share their training question
            reason = "repeats another probe"
        elif cand["kind"] != "training" and key in train_keys:
            reason = "is a training prompt (after normalisation)"
            record.update({"training_prompt": train_keys[key], "similarity": 1.0})
        elif i in near:
            j, similarity = near[i]
            reason = "near-duplicate of a training prompt"
            record.update({"training_prompt": train[j], "similarity": round(similarity, 4)})
        elif (
            fact is not None
            and cand["kind"] == "paraphrase"
            and match_span(question, fact.answer, fact.kind, strip_accents=strip_accents).matched
        ):
            reason = "states the answer"
        if reason is not None:
            dropped.append({**record, "reason": reason})
            continue
        seen.add(key)
        if fact is None:
            n_unanswerable += 1
            probe_id = f"unanswerable-{n_unanswerable:03d}"
        elif cand["kind"] == "training":
            probe_id = f"{fact.id}#t"
        else:
            per_fact[fact.id] = per_fact.get(fact.id, 0) + 1
            probe_id = f"{fact.id}#p{per_fact[fact.id]}"
        probes.append(
            Probe(
                id=probe_id,
                question=question,
                kind=cand["kind"],
                fact_id=fact.id if fact else None,
                origin=cand["origin"],
                template=cand.get("template"),
                in_training=cand.get("in_training"),
            )
        )
    meta = {
        "paraphrases": paraphrases,
        "paraphrase_source": "teacher" if teacher is not None else "templates",
        "teacher": teacher.name if teacher is not None else None,
        "near_duplicate": {"threshold": threshold, "method": method, "training_prompts": len(train)},
        "strip_accents": strip_accents,
    }
    return ProbeSet(facts, probes, dropped=dropped, meta=meta)


def probe_set_from_config(
    config: Any,
    *,
    training_prompts: Sequence[str] = (),
    training_texts: Sequence[str] = (),
    progress: bool = True,
) -> ProbeSet:
    """Read the facts a :class:`~domainft.evaluation.knowledge.config.KnowledgeConfig` names and build
    their probes (``config.facts`` may also be a folder saved by :meth:`ProbeSet.save`, used as it is)."""
    path = config.facts_path()
    if path.is_dir() and (path / PROBES_FILE).is_file():
        return ProbeSet.load(path)
    teacher = config.build_teacher()
    if config.source == "documents":
        from domainft.data.documents import read_documents

        facts = FactSet.from_documents(
            read_documents(path),
            teacher=teacher,
            facts_per_passage=config.facts_per_passage,
            cache_dir=config.cache_dir,
            progress=progress,
            strip_accents=config.strip_accents,
        )
    elif config.source == "records":
        facts = FactSet.from_records(
            path,
            fields=config.fields,
            subject=config.subject,
            question=config.question,
            answers=config.answers,
            kinds=config.kinds,
            id_column=config.id_column,
            group=config.group,
        )
    elif path.suffix == ".jsonl" and _looks_saved(path):
        facts = FactSet.load(path)
    else:
        facts = FactSet.from_table(path, columns=config.columns)
    if config.max_facts is not None:
        facts = FactSet(facts.facts[: config.max_facts], origin=facts.origin, rejected=facts.rejected)
    return build_probe_set(
        facts,
        paraphrases=config.paraphrases,
        training_prompts=training_prompts,
        training_texts=training_texts,
        templates=config.templates,
        teacher=teacher if config.paraphrase_source == "teacher" else None,
        unanswerable=config.unanswerable,
        unanswerable_subjects=config.unanswerable_subjects,
        threshold=config.near_duplicate_threshold,
        method=config.near_duplicate_method,
        strip_accents=config.strip_accents,
        cache_dir=config.cache_dir,
        progress=progress,
    )


def _looks_saved(path: Path) -> bool:
    """Whether a JSON Lines file was written by ``FactSet.save`` (its first object has every Fact field)."""
    with open(path, encoding="utf-8") as fh:
        first = fh.readline()
    try:
        row = json.loads(first)
    except ValueError:
        return False
    return isinstance(row, dict) and {f.name for f in dataclasses.fields(Fact)} <= set(row)
