"""Knowledge probes: did the fine-tune learn the facts, or only the style?

A fact set (:mod:`.facts`) lists atomic facts with key answer spans; a probe set (:mod:`.probes`) asks
each fact with its training phrasing and with paraphrases that are not in the training data, plus
questions no fact answers; :func:`probe_knowledge` (:mod:`.scoring`) asks every system closed-book and
scores the answers by span matching (:mod:`.matching`); :class:`KnowledgeReport` (:mod:`.report`) holds
recall and consistency with bootstrap CIs, paired comparisons, facts learned and forgotten, and the
breakdown per group. See ``docs/knowledge.md``.
"""

from __future__ import annotations

from domainft.evaluation.knowledge.config import KnowledgeConfig
from domainft.evaluation.knowledge.facts import Fact, FactSet
from domainft.evaluation.knowledge.probes import Probe, ProbeSet, build_probe_set, probe_set_from_config
from domainft.evaluation.knowledge.report import KnowledgeReport
from domainft.evaluation.knowledge.scoring import probe_knowledge, score_answers

__all__ = [
    "Fact",
    "FactSet",
    "KnowledgeConfig",
    "KnowledgeReport",
    "Probe",
    "ProbeSet",
    "build_probe_set",
    "probe_knowledge",
    "probe_set_from_config",
    "score_answers",
]
