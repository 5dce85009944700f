"""``KnowledgeReport``: what each system knows of the fact set, with honest uncertainty.

From the per-probe outcomes (:mod:`~domainft.evaluation.knowledge.scoring`) it derives, per system:

- per fact: the share of its paraphrases answered with the key span (``recall``), the training-phrasing
  probe's outcome and a status: ``consistent`` (every paraphrase right), ``partial``, ``not learned``
  (none right) or ``not probed`` (no paraphrase could be scored);
- headline values with percentile bootstrap CIs over **facts** (the probes of one fact are not
  independent, so facts are resampled, not probes): ``fact_recall`` (mean per-fact paraphrase recall),
  ``fact_consistency`` (share of facts right on every paraphrase), ``training_recall`` (share right on
  the training phrasing), ``false_abstention_rate`` (share of a fact's probes the system declined);
  over unanswerable probes: ``abstention_rate`` and ``hallucination_rate``;
- paired comparisons of each system against the first (the base), with the same resamples and the
  report's paired test (Holm-corrected across keys);
- transitions from the first system to each other: facts ``learned`` (unknown before, known after),
  ``forgotten`` (known by the base, lost), ``kept`` and ``still unknown``, where *known* means a recall
  of at least ``known_threshold``; and ``phrasing only``: facts a system states when asked with the
  training phrasing but on less than ``known_threshold`` of the paraphrases (wording learned, not the fact);
- the same figures per group (source document, record group).

``to_dict`` holds everything (``knowledge.json`` of a saved evaluation report); ``summary_dict`` the
compact part kept in ``metrics.json``. ``from_dict`` recomputes the analysis from the probe outcomes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from domainft.errors import DataError, DataFileNotFoundError
from domainft.evaluation.knowledge.facts import Fact, FactSet
from domainft.evaluation.knowledge.probes import Probe, ProbeSet
from domainft.evaluation.report import KNOWLEDGE_FILE
from domainft.utils.io import atomic_write_json, read_json

FACT_KEYS = ("fact_recall", "fact_consistency", "training_recall", "false_abstention_rate")
UNANSWERABLE_KEYS = ("abstention_rate", "hallucination_rate")
STATUSES = ("consistent", "partial", "not learned", "not probed")
TRANSITIONS = ("learned", "forgotten", "kept", "still unknown")
#: The keys of :meth:`KnowledgeReport.summary_dict`, the part of the report kept in ``metrics.json``.
SUMMARY_KEYS = (
    "systems",
    "comparisons",
    "transitions",
    "phrasing_only",
    "unanswerable",
    "status",
    "groups",
    "counts",
    "known_threshold",
    "statistics",
    "meta",
)


def _status(recall: float | None) -> str:
    if recall is None:
        return "not probed"
    return "consistent" if recall >= 1.0 else ("partial" if recall > 0.0 else "not learned")


def _mean(values: Sequence[float | None]) -> float | None:
    scored = [v for v in values if v is not None]
    return sum(scored) / len(scored) if scored else None


class KnowledgeReport:
    """Closed-book knowledge of a fact set by several systems (see the module docstring).

    Args:
        probe_set: the facts and probes that were asked.
        results: ``results[system][probe_id]`` = ``{"answer", "correct", "abstained", "method", "found",
            "error"}`` (``correct`` None for unanswerable probes and for probes that could not be scored).
        known_threshold: the paraphrase recall from which a fact counts as known.
        statistics: a :class:`~domainft.evaluation.stats.StatisticsConfig` or a dict of its fields.
        meta: free-form information (judge, decoding, timings ...).
    """

    def __init__(
        self,
        probe_set: ProbeSet,
        results: Mapping[str, Mapping[str, Mapping[str, Any]]],
        *,
        known_threshold: float = 0.5,
        statistics: Any = None,
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        from domainft.evaluation.stats import StatisticsConfig

        if not results:
            raise DataError("KnowledgeReport needs the results of at least one system")
        self.probe_set = probe_set
        self.results = {str(s): {str(k): dict(v) for k, v in r.items()} for s, r in results.items()}
        for system, outcomes in self.results.items():
            missing = [p.id for p in probe_set if p.id not in outcomes]
            if missing:
                raise DataError(f"system {system!r} has no outcome for probe(s) {missing[:5]}")
        self.known_threshold = float(known_threshold)
        if isinstance(statistics, Mapping):
            statistics = StatisticsConfig.from_dict(dict(statistics))
        self.statistics = statistics or StatisticsConfig()
        self.meta = dict(meta or {})
        self._analyse()

    # ------------------------------------------------------------------ analysis
    @property
    def system_names(self) -> list[str]:
        return list(self.results)

    @property
    def facts(self) -> FactSet:
        return self.probe_set.facts

    def _analyse(self) -> None:
        from domainft.evaluation.report import MetricValue, paired_comparisons
        from domainft.evaluation.stats import KeyScores, StatisticsEngine

        facts = self.facts.facts
        by_fact: dict[str, dict[str, list[Probe]]] = {f.id: {"training": [], "paraphrase": []} for f in facts}
        for probe in self.probe_set:
            if probe.fact_id is not None:
                by_fact[probe.fact_id][probe.kind].append(probe)
        unanswerable = self.probe_set.of_kind("unanswerable")

        self.fact_table: dict[str, list[dict[str, Any]]] = {}
        self.systems: dict[str, dict[str, Any]] = {}
        keys: dict[str, dict[str, Any]] = {}
        unanswerable_keys: dict[str, dict[str, Any]] = {}
        self.unanswerable: dict[str, dict[str, int]] = {}
        fact_engine = StatisticsEngine(len(facts), self.statistics)
        probe_engine = StatisticsEngine(max(len(unanswerable), 1), self.statistics)
        for system, outcomes in self.results.items():
            rows = []
            for fact in facts:
                para = [outcomes[p.id] for p in by_fact[fact.id]["paraphrase"]]
                scored = [o["correct"] for o in para if o.get("correct") is not None]
                recall = sum(scored) / len(scored) if scored else None
                training = [outcomes[p.id].get("correct") for p in by_fact[fact.id]["training"]]
                asked = [
                    outcomes[p.id] for kind in ("training", "paraphrase") for p in by_fact[fact.id][kind]
                ]
                answered = [o for o in asked if o.get("error") is None]
                rows.append(
                    {
                        "fact_id": fact.id,
                        "recall": recall,
                        "paraphrases_right": sum(bool(s) for s in scored),
                        "paraphrases_scored": len(scored),
                        "training": training[0] if training else None,
                        "abstained": sum(bool(o.get("abstained")) for o in answered),
                        "answered": len(answered),
                        "status": _status(recall),
                    }
                )
            self.fact_table[system] = rows
            per_key: dict[str, list[float | None]] = {
                "fact_recall": [r["recall"] for r in rows],
                "fact_consistency": [
                    None if r["recall"] is None else float(r["recall"] >= 1.0) for r in rows
                ],
                "training_recall": [None if r["training"] is None else float(r["training"]) for r in rows],
                "false_abstention_rate": [
                    r["abstained"] / r["answered"] if r["answered"] else None for r in rows
                ],
            }
            abstained: list[float | None] = [
                None
                if outcomes[p.id].get("error") is not None
                else float(bool(outcomes[p.id].get("abstained")))
                for p in unanswerable
            ]
            per_key["abstention_rate"] = abstained
            per_key["hallucination_rate"] = [None if a is None else 1.0 - a for a in abstained]
            self.systems[system], keys[system], unanswerable_keys[system] = {}, {}, {}
            for key, values in per_key.items():
                value = _mean(values)
                if value is None:  # nothing scored (no unanswerable probe, every request failed ...)
                    continue
                fact_level = key in FACT_KEYS
                scored_key = KeyScores.build(value, values)
                interval = (fact_engine if fact_level else probe_engine).interval(scored_key)
                self.systems[system][key] = MetricValue(
                    value, *(interval or (None, None)), n=scored_key.n_scored or 0
                )
                (keys if fact_level else unanswerable_keys)[system][key] = scored_key
            self.unanswerable[system] = {
                "probes": len(unanswerable),
                "abstained": sum(a == 1.0 for a in abstained),
                "hallucinated": sum(a == 0.0 for a in abstained),
                "failed": sum(a is None for a in abstained),
            }

        def subset(names: Sequence[str]) -> dict[str, dict[str, Any]]:
            return {s: {k: v for k, v in self.systems[s].items() if k in names} for s in self.systems}

        self.comparisons = paired_comparisons(subset(FACT_KEYS), keys, fact_engine)[0]
        if unanswerable:
            self.comparisons += paired_comparisons(
                subset(UNANSWERABLE_KEYS), unanswerable_keys, probe_engine
            )[0]
        self.transitions = self._transitions(self.fact_table)
        self.phrasing_only = {
            s: [
                r["fact_id"]
                for r in rows
                if r["training"] and r["recall"] is not None and r["recall"] < self.known_threshold
            ]
            for s, rows in self.fact_table.items()
        }
        self.groups = self._groups()

    def known(self, row: Mapping[str, Any]) -> bool | None:
        """Whether a fact row counts as known (None when it has no scored paraphrase)."""
        return None if row["recall"] is None else row["recall"] >= self.known_threshold

    def _transitions(self, table: Mapping[str, list[dict[str, Any]]]) -> dict[str, dict[str, list[str]]]:
        names = list(table)
        out: dict[str, dict[str, list[str]]] = {}
        if len(names) < 2:
            return out
        base = names[0]
        for other in names[1:]:
            moves: dict[str, list[str]] = {t: [] for t in (*TRANSITIONS, "not probed")}
            for a, b in zip(table[base], table[other], strict=True):
                before, after = self.known(a), self.known(b)
                if before is None or after is None:
                    moves["not probed"].append(a["fact_id"])
                elif before and after:
                    moves["kept"].append(a["fact_id"])
                elif before:
                    moves["forgotten"].append(a["fact_id"])
                elif after:
                    moves["learned"].append(a["fact_id"])
                else:
                    moves["still unknown"].append(a["fact_id"])
            out[f"{other} vs {base}"] = moves
        return out

    def _groups(self) -> dict[str, dict[str, Any]]:
        facts = self.facts.facts
        names = self.facts.groups()
        out: dict[str, dict[str, Any]] = {}
        for group in names:
            index = [i for i, f in enumerate(facts) if f.group == group]
            ids = {facts[i].id for i in index}
            entry: dict[str, Any] = {"facts": len(index), "systems": {}, "transitions": {}}
            for system, rows in self.fact_table.items():
                part = [rows[i] for i in index]
                recalls = [r["recall"] for r in part]
                entry["systems"][system] = {
                    "fact_recall": _mean(recalls),
                    "fact_consistency": _mean([None if r is None else float(r >= 1.0) for r in recalls]),
                    "training_recall": _mean(
                        [None if r["training"] is None else float(r["training"]) for r in part]
                    ),
                    "known": sum(bool(self.known(r)) for r in part),
                }
            for pair, moves in self.transitions.items():
                entry["transitions"][pair] = {t: sum(f in ids for f in moves[t]) for t in moves}
            out[group] = entry
        return out

    # ------------------------------------------------------------------ views
    def worst_facts(self, system: str | None = None, limit: int | None = 20) -> list[dict[str, Any]]:
        """The facts ``system`` (default: the last) knows least: forgotten first, then by recall, with
        each probe's question and answer, for reading."""
        system = self.system_names[-1] if system is None else system
        if system not in self.fact_table:
            raise DataError(f"worst_facts: no system {system!r}; systems: {self.system_names}")
        forgotten = set()
        for pair, moves in self.transitions.items():
            if pair.startswith(f"{system} vs "):
                forgotten = set(moves["forgotten"])
        facts = self.facts.by_id()
        probes: dict[str, list[Probe]] = {}
        for probe in self.probe_set:
            if probe.fact_id is not None:
                probes.setdefault(probe.fact_id, []).append(probe)
        rows = [r for r in self.fact_table[system] if r["recall"] is not None or r["training"] is not None]
        rows.sort(
            key=lambda r: (r["fact_id"] not in forgotten, r["recall"] if r["recall"] is not None else 2.0)
        )
        out = []
        for row in rows[: limit if limit is not None else len(rows)]:
            fact = facts[row["fact_id"]]
            out.append(
                {
                    **row,
                    "forgotten": row["fact_id"] in forgotten,
                    "fact": fact.to_dict(),
                    "probes": [
                        {
                            "id": p.id,
                            "kind": p.kind,
                            "question": p.question,
                            **{
                                s: {
                                    k: self.results[s][p.id].get(k)
                                    for k in ("answer", "correct", "abstained")
                                }
                                for s in self.system_names
                            },
                        }
                        for p in probes.get(fact.id, [])
                    ],
                }
            )
        return out

    def summary(self) -> str:
        """The headline values, transitions and abstention counts as plain text."""
        counts = self.probe_set.counts()
        lines = [
            f"knowledge probes: {counts['facts']} facts, {counts['paraphrase']} paraphrase, "
            f"{counts['training']} training-phrasing and {counts['unanswerable']} unanswerable probes "
            f"({counts['dropped']} dropped)"
        ]
        for system, metrics in self.systems.items():
            parts = []
            for key, v in metrics.items():
                ci = (
                    f" [{v.ci_low:.2f}, {v.ci_high:.2f}]"
                    if v.ci_low is not None and v.ci_high is not None
                    else ""
                )
                parts.append(f"{key} {v.value:.3f}{ci}")
            lines.append(f"  {system}: " + "; ".join(parts))
        for c in self.comparisons:
            ci = (
                f" [{c.ci_low:+.3f}, {c.ci_high:+.3f}]"
                if c.ci_low is not None and c.ci_high is not None
                else ""
            )
            p = f" p={c.p_value:.3g}" if c.p_value is not None else ""
            lines.append(f"  {c.b} - {c.a} {c.metric}: {c.delta:+.3f}{ci}{p}")
        for pair, moves in self.transitions.items():
            lines.append("  " + pair + ": " + ", ".join(f"{len(v)} {k}" for k, v in moves.items() if v))
        for system, ids in self.phrasing_only.items():
            if ids:
                lines.append(f"  {system}: {len(ids)} fact(s) right on the training phrasing only")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    # ------------------------------------------------------------------ serialisation
    def summary_dict(self) -> dict[str, Any]:
        """The compact part kept in ``metrics.json``: values, comparisons, transition counts, groups ..."""
        return {
            "systems": {s: {k: v.to_dict() for k, v in m.items()} for s, m in self.systems.items()},
            "comparisons": [c.to_dict() for c in self.comparisons],
            "transitions": {
                pair: {k: len(v) for k, v in moves.items()} for pair, moves in self.transitions.items()
            },
            "phrasing_only": {s: len(ids) for s, ids in self.phrasing_only.items()},
            "unanswerable": self.unanswerable,
            "status": {
                s: {status: sum(r["status"] == status for r in rows) for status in STATUSES}
                for s, rows in self.fact_table.items()
            },
            "groups": self.groups,
            "counts": self.probe_set.counts(),
            "known_threshold": self.known_threshold,
            "statistics": self.statistics.to_dict(),
            "meta": self.meta,
        }

    def to_dict(self) -> dict[str, Any]:
        """Everything: the summary plus facts, probes, dropped candidates, outcomes and per-fact rows."""
        return {
            **self.summary_dict(),
            "transitions_facts": self.transitions,
            "facts": self.facts.to_records(),
            "probes": [p.to_dict() for p in self.probe_set],
            "dropped": self.probe_set.dropped,
            "probe_set_meta": self.probe_set.meta,
            "results": self.results,
            "fact_table": self.fact_table,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> KnowledgeReport:
        """Rebuild from :meth:`to_dict` (the analysis is recomputed from the outcomes)."""
        try:
            facts = FactSet([Fact.from_dict(f) for f in data["facts"]], origin="report")
            probe_set = ProbeSet(
                facts,
                [Probe(**p) for p in data["probes"]],
                dropped=data.get("dropped", []),
                meta=data.get("probe_set_meta", {}),
            )
            return cls(
                probe_set,
                data["results"],
                known_threshold=data.get("known_threshold", 0.5),
                statistics=data.get("statistics"),
                meta=data.get("meta"),
            )
        except (KeyError, TypeError) as exc:
            raise DataError(f"not a knowledge report: {type(exc).__name__}: {exc}") from None

    def save(self, path: str | Path) -> Path:
        """Write :meth:`to_dict` as JSON (a folder gets ``knowledge.json``)."""
        path = Path(path)
        if path.suffix != ".json":
            path = path / KNOWLEDGE_FILE
        return atomic_write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> KnowledgeReport:
        path = Path(path)
        if path.is_dir():
            path = path / KNOWLEDGE_FILE
        if not path.is_file():
            raise DataFileNotFoundError(f"{path} does not exist; is it a saved knowledge report?")
        return cls.from_dict(read_json(path, DataError))
