"""domainft: adapt an open LLM to one domain and prove that it got better.

Heavy libraries (torch, transformers, peft) are imported only when a component is first used,
so ``import domainft`` stays cheap.

Examples:
    >>> import domainft
    >>> domainft.__version__ >= "0.1"
    True
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from domainft.utils.privacy import disable_telemetry as _disable_telemetry

__version__ = "0.1.0"

_disable_telemetry()  # before transformers, huggingface_hub or ragas read their switches (see docs)

_EXPORTS: dict[str, str] = {
    # data
    "DatasetBuilder": "domainft.data.builder",
    "DataConfig": "domainft.data.config",
    "CleaningReport": "domainft.data.cleaning",
    "register_format": "domainft.data.formats",
    "register_reader": "domainft.data.readers",
    "register_exporter": "domainft.data.export",
    "register_cleaning_step": "domainft.data.cleaning",
    "DatasetReport": "domainft.data.report",
    "DataReportConfig": "domainft.data.report",
    "dataset_report": "domainft.data.report",
    "sentiment_table": "domainft.data.sentiment",
    "register_sentiment_analyser": "domainft.data.sentiment",
    "SyntheticQAGenerator": "domainft.data.synthetic",
    "SyntheticConfig": "domainft.data.synthetic",
    "register_validator": "domainft.data.synthetic",
    "register_teacher": "domainft.data.teachers",
    "get_teacher": "domainft.data.teachers",
    "ChatClient": "domainft.llm.openai_compat",
    "ChatEndpointConfig": "domainft.llm.openai_compat",
    "DocumentConfig": "domainft.data.documents",
    "read_documents": "domainft.data.documents",
    "near_duplicate_pairs": "domainft.data.near_duplicates",
    "near_duplicate_groups": "domainft.data.near_duplicates",
    "TopicGate": "domainft.data.topic_gate",
    "TopicGateConfig": "domainft.data.topic_gate",
    "register_template": "domainft.data.templates",
    "PromptTemplate": "domainft.data.templates",
    "render_conversation": "domainft.data.templates",
    "encode_conversation": "domainft.data.templates",
    # models
    "QuantizedLoader": "domainft.models.loading",
    "ModelConfig": "domainft.models.loading",
    "LoraAdapterFactory": "domainft.models.adapters",
    "AdapterConfig": "domainft.models.adapters",
    "register_target_preset": "domainft.models.adapters",
    "build_tiny_model": "domainft.models.tiny",
    "plan_memory": "domainft.models.memory",
    "MemoryPlan": "domainft.models.memory",
    "MemoryPlanConfig": "domainft.models.memory",
    "TensorMemoryTracker": "domainft.models.memory",
    "merge_adapter": "domainft.models.merge",
    "merged_copy": "domainft.models.merge",
    "TinyModelConfig": "domainft.models.tiny",
    # training
    "run_sweep": "domainft.training.sweep",
    "Sweep": "domainft.training.sweep",
    "SweepResult": "domainft.training.sweep",
    "parse_grid": "domainft.training.sweep",
    "DomainTrainer": "domainft.training.trainer",
    "TrainingConfig": "domainft.training.config",
    "PaddingFreeCollator": "domainft.training.collator",
    "pack_dataset": "domainft.training.collator",
    # evaluation
    "Evaluator": "domainft.evaluation.evaluator",
    "EvaluationConfig": "domainft.evaluation.config",
    "DecodingConfig": "domainft.models.generation",
    "EvaluationReport": "domainft.evaluation.report",
    "register_metric": "domainft.evaluation.metrics",
    "get_metric": "domainft.evaluation.metrics",
    "Metric": "domainft.evaluation.metrics",
    "MetricOutput": "domainft.evaluation.metrics",
    "FactSet": "domainft.evaluation.knowledge",
    "KnowledgeConfig": "domainft.evaluation.knowledge",
    "KnowledgeReport": "domainft.evaluation.knowledge",
    "ProbeSet": "domainft.evaluation.knowledge",
    "build_probe_set": "domainft.evaluation.knowledge",
    "probe_knowledge": "domainft.evaluation.knowledge",
    # serving
    "ChatSession": "domainft.serving.chat",
    "ChatConfig": "domainft.serving.chat",
    "GenerationEngine": "domainft.serving.engine",
    "ServerConfig": "domainft.serving.server",
    "create_app": "domainft.serving.server",
    "serve": "domainft.serving.server",
    # diagnostics
    "layer_report": "domainft.diagnostics.layer_report",
    "LayerReport": "domainft.diagnostics.layer_report",
    "LayerReportConfig": "domainft.diagnostics.layer_report",
    # recipes
    "Recipe": "domainft.recipe",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'domainft' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # pragma: no cover
    from domainft.data.builder import DatasetBuilder
    from domainft.data.cleaning import CleaningReport, register_cleaning_step
    from domainft.data.config import DataConfig
    from domainft.data.documents import DocumentConfig, read_documents
    from domainft.data.export import register_exporter
    from domainft.data.formats import register_format
    from domainft.data.near_duplicates import near_duplicate_groups, near_duplicate_pairs
    from domainft.data.readers import register_reader
    from domainft.data.report import DataReportConfig, DatasetReport, dataset_report
    from domainft.data.sentiment import register_sentiment_analyser, sentiment_table
    from domainft.data.synthetic import SyntheticConfig, SyntheticQAGenerator, register_validator
    from domainft.data.teachers import get_teacher, register_teacher
    from domainft.data.templates import (
        PromptTemplate,
        encode_conversation,
        register_template,
        render_conversation,
    )
    from domainft.data.topic_gate import TopicGate, TopicGateConfig
    from domainft.diagnostics.layer_report import LayerReport, LayerReportConfig, layer_report
    from domainft.evaluation.config import EvaluationConfig
    from domainft.evaluation.evaluator import Evaluator
    from domainft.evaluation.knowledge import (
        FactSet,
        KnowledgeConfig,
        KnowledgeReport,
        ProbeSet,
        build_probe_set,
        probe_knowledge,
    )
    from domainft.evaluation.metrics import Metric, MetricOutput, get_metric, register_metric
    from domainft.evaluation.report import EvaluationReport
    from domainft.llm.openai_compat import ChatClient, ChatEndpointConfig
    from domainft.models.adapters import AdapterConfig, LoraAdapterFactory, register_target_preset
    from domainft.models.generation import DecodingConfig
    from domainft.models.loading import ModelConfig, QuantizedLoader
    from domainft.models.memory import MemoryPlan, MemoryPlanConfig, TensorMemoryTracker, plan_memory
    from domainft.models.merge import merge_adapter, merged_copy
    from domainft.models.tiny import TinyModelConfig, build_tiny_model
    from domainft.recipe import Recipe
    from domainft.serving.chat import ChatConfig, ChatSession
    from domainft.serving.engine import GenerationEngine
    from domainft.serving.server import ServerConfig, create_app, serve
    from domainft.training.collator import PaddingFreeCollator, pack_dataset
    from domainft.training.config import TrainingConfig
    from domainft.training.sweep import Sweep, SweepResult, parse_grid, run_sweep
    from domainft.training.trainer import DomainTrainer
