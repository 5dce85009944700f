"""Evaluator: generate answers for a test set with one or more systems and score them.

Examples:
    >>> from domainft import Evaluator                                    # doctest: +SKIP
    >>> report = Evaluator(metrics=["rouge", "bleu"]).compare(  # doctest: +SKIP
    ...     {"base": base_model, "tuned": peft_model}, dsd["test"], tokenizer=tok)
    >>> report.save("runs/x/eval")  # doctest: +SKIP

When a system is the base model underneath a PeftModel that is also compared (``apply`` injects
LoRA layers into the base in place), it is evaluated through that PeftModel with its adapter
switched off, so the base is never loaded twice and never silently runs with the adapter. A system
can also be one named adapter of several on one base (``System(model, adapter="name")``) or an
OpenAI-compatible endpoint (``EndpointSystem`` or a dict with ``base_url`` and ``model``). With a
``cache_dir``, answers are kept on disk by system fingerprint, prompt and decoding, so re-scoring
never generates twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from domainft.data.templates import (
    conversation_prompt_ids,
    prompt_ids,
    resolve_template_name,
    row_messages,
    single_turn,
)
from domainft.errors import ConfigError, DataError
from domainft.evaluation.config import EvaluationConfig
from domainft.evaluation.metrics import MetricOutput, get_metric
from domainft.evaluation.report import EvaluationReport
from domainft.evaluation.stats import StatisticsConfig
from domainft.evaluation.systems import EndpointSystem, System, is_peft
from domainft.llm.openai_compat import ChatEndpointConfig
from domainft.models.generation import DecodingConfig, context_window, generate_texts

AnySystem = System | EndpointSystem

#: Most sequences per perplexity forward pass. It computes logits over the whole vocabulary at every
#: position, so it keeps the batch it had before generation batches grew (``decoding.batch_size``).
PERPLEXITY_BATCH_SIZE = 16


def resolve_systems(systems: Mapping[str, Any]) -> dict[str, AnySystem]:
    """Turn models into :class:`System` objects, routing a PeftModel's own base through the adapter switch;
    endpoint configs (or dicts with ``base_url``) become :class:`EndpointSystem`."""
    if not systems:
        raise ConfigError("compare() needs at least one system, e.g. {'base': model}")
    peft_models = [m for m in systems.values() if not isinstance(m, System) and is_peft(m)]
    resolved: dict[str, AnySystem] = {}
    for name, model in systems.items():
        if isinstance(model, (System, EndpointSystem)):
            resolved[name] = model
        elif isinstance(model, ChatEndpointConfig) or (isinstance(model, Mapping) and "base_url" in model):
            resolved[name] = EndpointSystem(model)
        else:
            owner = next((p for p in peft_models if p is not model and p.get_base_model() is model), None)
            resolved[name] = System(owner, disable_adapter=True) if owner is not None else System(model)
    return resolved


class Evaluator:
    """Scores generated answers against references with registered metrics."""

    def __init__(
        self,
        metrics: list[Any] | None = None,
        decoding: DecodingConfig | dict[str, Any] | None = None,
        *,
        config: EvaluationConfig | None = None,
        template: str | None = None,
        system_prompt: str | None = None,
        max_samples: int | None = None,
        progress: bool = True,
        statistics: StatisticsConfig | dict[str, Any] | None = None,
        cache_dir: str | Path | None = None,
        perplexity: bool | None = None,
    ) -> None:
        config = config or EvaluationConfig()
        if isinstance(decoding, dict):
            decoding = DecodingConfig.from_dict(decoding)
        if isinstance(statistics, dict):
            statistics = StatisticsConfig.from_dict(statistics)
        elif statistics is not None and not isinstance(statistics, StatisticsConfig):
            raise ConfigError(
                f"Evaluator(statistics=...) expects a StatisticsConfig or a dict of its fields, "
                f"got {type(statistics).__name__}"
            )
        self.statistics: StatisticsConfig = statistics or config.statistics
        self.config = config
        self.metrics = [self._build_metric(m) for m in (metrics if metrics is not None else config.metrics)]
        names = [m.name for m in self.metrics]
        clashes = sorted({n for n in names if names.count(n) > 1})
        if clashes:
            raise ConfigError(
                f"metrics {clashes} are given more than once; their results would overwrite each other. "
                "Give each metric instance a distinct name"
            )
        self.decoding = decoding or config.decoding
        self.template = template if template is not None else config.template
        self.system_prompt = system_prompt if system_prompt is not None else config.system_prompt
        self.max_samples = max_samples if max_samples is not None else config.max_samples
        self.progress = progress
        self.perplexity = config.perplexity if perplexity is None else perplexity
        cache_dir = cache_dir if cache_dir is not None else config.cache_dir
        self.cache = None
        if cache_dir is not None:
            from domainft.evaluation.cache import GenerationCache

            self.cache = GenerationCache(cache_dir)

    def _build_metric(self, spec: Any) -> Any:
        """A metric from a name (with ``metric_options[name]`` and the config's judge) or an object."""
        if not isinstance(spec, str):
            return get_metric(spec)
        options = dict(self.config.metric_options.get(spec, {}))
        if spec == "judge" and "judge" not in options and self.config.judge is not None:
            options["judge"] = self.config.judge
        return get_metric(spec, **options)

    @classmethod
    def from_config(cls, config: EvaluationConfig, **kwargs: Any) -> Evaluator:
        return cls(config=config, **kwargs)

    @staticmethod
    def base_of(peft_model: Any) -> System:
        """The base model of ``peft_model``, run with its adapter switched off."""
        if not is_peft(peft_model):
            raise ConfigError(
                "Evaluator.base_of expects a PeftModel (the result of LoraAdapterFactory.apply)"
            )
        return System(peft_model, disable_adapter=True)

    def _rows(self, dataset: Any) -> tuple[list[str], list[str], list[str], list[Any]]:
        rows = list(dataset) if not isinstance(dataset, list) else dataset
        if self.max_samples is not None:
            rows = rows[: self.max_samples]
        if not rows:
            raise DataError("the evaluation dataset is empty; check the split (e.g. test fraction > 0)")
        missing = [c for c in ("prompt", "response") if c not in rows[0]]
        if missing:
            raise DataError(
                f"the evaluation dataset lacks column(s) {missing}; found {sorted(rows[0])}. "
                "Map yours with DatasetBuilder.with_columns(prompt=..., response=...)"
            )
        ids = [str(r.get("id", i)) for i, r in enumerate(rows)]
        # a multi-turn row is answered with its whole history, as it was trained
        history = [row_messages(r)[:-1] if r.get("messages") else None for r in rows]
        return ids, [r["prompt"] for r in rows], [r["response"] for r in rows], history

    def _contexts(self, dataset: Any) -> list[list[str]] | None:
        """The ``contexts`` column (a list of passages per example, for RAGAS), or None without one."""
        rows = list(dataset) if not isinstance(dataset, list) else dataset
        if self.max_samples is not None:
            rows = rows[: self.max_samples]
        if not rows or "contexts" not in rows[0]:
            return None
        contexts = []
        for i, row in enumerate(rows):
            value = row.get("contexts")
            value = [] if value is None else ([value] if isinstance(value, str) else value)
            if not isinstance(value, (list, tuple)) or not all(isinstance(c, str) for c in value):
                raise DataError(
                    f"evaluation dataset row {i}: 'contexts' must be a list of strings (retrieved passages), "
                    f"got {type(value).__name__}"
                )
            contexts.append(list(value))
        return contexts

    def generate(
        self,
        system: Any,
        tokenizer: Any,
        prompts: list[str],
        *,
        conversations: list[list[dict[str, str]] | None] | None = None,
        desc: str = "generating",
    ) -> list[str]:
        """Answers of one system to raw prompts, rendered with the evaluator's template.

        ``conversations[i]``, when given and not None, replaces prompt ``i`` by a whole conversation
        ending with a user turn (earlier turns of a multi-turn row). Cached answers are reused; an
        endpoint request that fails for good gives an empty answer (``compare`` lists it in
        ``meta["generation_failures"]``).
        """
        return self._answers(system, tokenizer, prompts, conversations, desc)[0]

    def _requests(
        self, system: AnySystem, tokenizer: Any, prompts: list[str], conversations: list[Any]
    ) -> list[Any]:
        """What goes out per example: chat messages to an endpoint, prompt token ids to a model."""
        sp = self.system_prompt
        if isinstance(system, EndpointSystem):
            return [
                row_messages({"messages": c}, sp) if c else single_turn(p, system=sp)
                for p, c in zip(prompts, conversations, strict=True)
            ]
        template = resolve_template_name(tokenizer, self.template)
        return [
            conversation_prompt_ids(tokenizer, row_messages({"messages": c}, sp), template)
            if c
            else prompt_ids(tokenizer, p, template, sp)
            for p, c in zip(prompts, conversations, strict=True)
        ]

    def _answers(
        self,
        system: Any,
        tokenizer: Any,
        prompts: list[str],
        conversations: list[Any] | None,
        desc: str,
        ids: list[str] | None = None,
    ) -> tuple[list[str], list[dict[str, Any]]]:
        """Answers in input order (from the cache where possible) and the requests that failed for good."""
        if not isinstance(system, (System, EndpointSystem)):
            system = resolve_systems({"system": system})["system"]
        requests = self._requests(system, tokenizer, prompts, conversations or [None] * len(prompts))
        if isinstance(system, System):
            self._check_context(system, requests, ids)
        keys: list[str] = []
        cached: dict[int, str] = {}
        if self.cache is not None:
            fingerprint, decoding = system.fingerprint(), self.decoding.to_dict()
            keys = [self.cache.key(fingerprint, r, decoding) for r in requests]
            found = self.cache.get_many(keys)
            cached = {i: found[k] for i, k in enumerate(keys) if k in found}
        todo = [i for i in range(len(requests)) if i not in cached]
        streamed = self.cache is not None and isinstance(system, EndpointSystem)
        on_answer = None
        if streamed:
            cache = self.cache

            def on_answer(j: int, text: str) -> None:  # kept as it arrives: a killed run keeps it
                cache.put_many({keys[todo[j]]: text})

        texts, failed = self._generate(system, tokenizer, [requests[i] for i in todo], desc, on_answer)
        failures = [{**f, "index": todo[f["index"]]} for f in failed]
        answers = {**cached, **dict(zip(todo, texts, strict=True))}
        if self.cache is not None and not streamed:
            failed_at = {f["index"] for f in failures}
            self.cache.put_many({keys[i]: answers[i] for i in todo if i not in failed_at})
        return [answers[i] for i in range(len(requests))], failures

    def _check_context(self, system: System, requests: list[Any], ids: list[str] | None) -> None:
        """Raise ``DataError`` naming the first prompt that leaves the model no room to answer."""
        context = context_window(system.model)
        if context is None:
            return
        for i, request in enumerate(requests):
            if len(request) >= context:
                name = ids[i] if ids is not None else str(i)
                raise DataError(
                    f"evaluation example {i} (id {name!r}): the rendered prompt is {len(request)} tokens but "
                    f"the model's context is {context} tokens (max_position_embeddings), leaving no room "
                    "for an answer. Shorten or drop such prompts before evaluating, e.g. "
                    f"DatasetBuilder.filter_tokens(tokenizer, max_tokens={max(context // 2, 1)}), or "
                    "evaluate with a model of a longer context"
                )

    def _generate(
        self,
        system: AnySystem,
        tokenizer: Any,
        requests: list[Any],
        desc: str,
        on_answer: Callable[[int, str], None] | None = None,
    ) -> tuple[list[str], list[dict[str, Any]]]:
        if not requests:
            return [], []
        if isinstance(system, EndpointSystem):
            return system.answer(
                requests, self.decoding, progress=self.progress, desc=desc, on_answer=on_answer
            )
        with system.context():
            texts = generate_texts(
                system.model, tokenizer, requests, self.decoding, desc=desc, progress=self.progress
            )
        return texts, []

    def score(
        self,
        predictions: Mapping[str, list[str]],
        references: list[str],
        *,
        ids: list[str] | None = None,
        prompts: list[str] | None = None,
        contexts: list[list[str]] | None = None,
        meta: dict[str, Any] | None = None,
        extra_outputs: Mapping[str, Mapping[str, MetricOutput]] | None = None,
    ) -> EvaluationReport:
        """Score given predictions (no generation); useful for answers produced elsewhere.

        Every metric gets ``compute(predictions, references, prompts=prompts, contexts=contexts)``
        and reads the inputs it ``needs``; a metric that needs one that was not given raises. The
        report carries bootstrap CIs and paired tests as set by ``self.statistics``.
        ``extra_outputs[system][name]`` adds scores computed elsewhere (e.g. reference perplexity).
        """
        n = len(references)
        for name, preds in predictions.items():
            if len(preds) != n:
                raise DataError(f"system {name!r} has {len(preds)} predictions for {n} references")
        for label, extra in (("prompts", prompts), ("contexts", contexts)):
            if extra is not None and len(extra) != n:
                raise DataError(f"score: {len(extra)} {label} for {n} references; pass one per example")
        inputs = {
            "prompts": None if prompts is None else list(prompts),
            "contexts": None if contexts is None else [list(c) for c in contexts],
        }
        outputs = {
            name: {
                metric.name: metric.compute(list(preds), list(references), **inputs)
                for metric in self.metrics
            }
            for name, preds in predictions.items()
        }
        for name, extra in (extra_outputs or {}).items():
            outputs[name].update(extra)
        return EvaluationReport.from_outputs(
            outputs=outputs,
            ids=ids or [str(i) for i in range(n)],
            prompts=prompts,
            references=list(references),
            predictions={k: list(v) for k, v in predictions.items()},
            meta=meta,
            statistics=self.statistics,
        )

    def compare(self, systems: Mapping[str, Any], dataset: Any, *, tokenizer: Any) -> EvaluationReport:
        """Generate with every system on ``dataset`` (prompt/response columns) and score them side by side.

        Local models also get the perplexity of the references (``perplexity=True``); pairs listed in
        the config's ``pairwise`` are then compared by the config's judge.
        """
        resolved = resolve_systems(systems)
        ids, prompts, references, history = self._rows(dataset)
        predictions: dict[str, list[str]] = {}
        timings: dict[str, float] = {}
        extra: dict[str, dict[str, MetricOutput]] = {}
        generation_failures: dict[str, list[dict[str, Any]]] = {}
        hits_before = self.cache.hits if self.cache is not None else 0
        for name, system in resolved.items():
            start = time.time()
            predictions[name], failed = self._answers(
                system, tokenizer, prompts, history, desc=f"generating [{name}]", ids=ids
            )
            if failed:
                generation_failures[name] = [{**f, "id": ids[f["index"]]} for f in failed]
            timings[name] = round(time.time() - start, 3)
            if self.perplexity and isinstance(system, System) and not any(history):
                from domainft.evaluation.perplexity import perplexity_output

                with system.context():
                    extra[name] = {
                        "perplexity": perplexity_output(
                            system.model,
                            tokenizer,
                            prompts,
                            references,
                            template=resolve_template_name(tokenizer, self.template),
                            system_prompt=self.system_prompt,
                            batch_size=min(self.decoding.batch_size, PERPLEXITY_BATCH_SIZE),
                        )
                    }
        meta = {
            "n_examples": len(references),
            "metrics": [m.name for m in self.metrics],
            "decoding": self.decoding.to_dict(),
            "template": resolve_template_name(tokenizer, self.template),
            "system_prompt": self.system_prompt,
            "systems": {
                name: {
                    "kind": "endpoint" if isinstance(s, EndpointSystem) else "model",
                    "adapter_disabled": isinstance(s, System) and s.disable_adapter,
                    "adapter": s.adapter if isinstance(s, System) else None,
                    "generation_seconds": timings[name],
                }
                for name, s in resolved.items()
            },
            "generation_failures": generation_failures,
        }
        if self.cache is not None:
            meta["cache"] = {"dir": str(self.cache.directory), "hits": self.cache.hits - hits_before}
        contexts = self._contexts(dataset)
        report = self.score(
            predictions,
            references,
            ids=ids,
            prompts=prompts,
            contexts=contexts,
            meta=meta,
            extra_outputs=extra,
        )
        for a, b in self.config.pairwise:
            self.judge_pairwise(report, a, b)
        return report

    def judge_pairwise(self, report: EvaluationReport, a: str, b: str, judge: Any = None) -> Any:
        """Blind pairwise comparison of systems ``b`` against ``a`` on the report's examples, in both orders,
        by ``judge`` (default: the config's judge); stored in ``report.pairwise`` and returned."""
        from domainft.evaluation.judges import pairwise_compare

        missing = [name for name in (a, b) if name not in report.systems]
        if missing:
            raise ConfigError(
                f"judge_pairwise: no system {missing} in the report; systems: {report.system_names}"
            )
        judge = judge if judge is not None else self.config.judge
        if judge is None:
            raise ConfigError("judge_pairwise needs a judge: set EvaluationConfig.judge or pass judge=")
        samples = report.samples
        result = pairwise_compare(
            judge,  # pairwise_compare builds the judge from a config or a dict
            [x.prompt for x in samples],
            [x.predictions[a] for x in samples],
            [x.predictions[b] for x in samples],
            [x.reference for x in samples],
            names=(a, b),
        )
        report.add_pairwise(result)
        return result

    def evaluate(self, model: Any, tokenizer: Any, dataset: Any, name: str = "model") -> EvaluationReport:
        """Evaluate a single system."""
        return self.compare({name: model}, dataset, tokenizer=tokenizer)
