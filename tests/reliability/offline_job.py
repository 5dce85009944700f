"""Work run by ``test_offline.py`` in a subprocess with the socket guard and no offline variables set.

    python tests/reliability/offline_job.py OUT_DIR JUDGE_URL

Builds a tiny model, loads it from its folder (a local path that must never be looked up on a hub),
reports on the data with the tokenizer, and evaluates two systems (the local model and a chat endpoint
on 127.0.0.1) with ROUGE, BLEU, semantic similarity (a local sentence-transformers model), an LLM
judge and a pairwise comparison, both on the same loopback endpoint. Prints one JSON line of results.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path

PROMPT = "Machine: {machine_type}. Problem: {problem}"
RESPONSE = "Cause: {cause} Solution: {solution} Expected time: {hours:g} h."
OFFLINE_VARIABLES = (
    "HF_HUB_OFFLINE",
    "TRANSFORMERS_OFFLINE",
    "HF_DATASETS_OFFLINE",
    "HF_HUB_DISABLE_TELEMETRY",
    "DO_NOT_TRACK",
    "RAGAS_DO_NOT_TRACK",
)


def main(out: Path, url: str) -> dict:
    guarded = getattr(socket.create_connection, "__module__", "") == "_domainft_socket_guard"
    env_before_import = {name: os.environ.get(name) for name in OFFLINE_VARIABLES}

    import datasets

    from domainft import (
        DataReportConfig,
        EvaluationConfig,
        Evaluator,
        QuantizedLoader,
        build_tiny_model,
        dataset_report,
        layer_report,
    )
    from domainft.data.samples import builtin_path

    rows = [json.loads(line) for line in builtin_path("machinery_tickets").read_text("utf-8").splitlines()]
    pairs = [
        {"id": r["id"], "prompt": PROMPT.format(**r), "response": RESPONSE.format(**r)}
        for r in rows
        if r["problem"].strip() and r["solution"].strip()
    ]
    model_dir = build_tiny_model([f"{p['prompt']}\n{p['response']}" for p in pairs], out / "tiny", seed=0)
    model, tokenizer = QuantizedLoader(str(model_dir), quantization=None).load()

    data = datasets.DatasetDict(
        train=datasets.Dataset.from_list(pairs[:40]), test=datasets.Dataset.from_list(pairs[40:46])
    )
    with_tone = DataReportConfig(sentiment="vader")  # the sentiment lexicon ships in its package
    data_report = dataset_report(data, tokenizer=str(model_dir), config=with_tone, source="machinery tickets")
    data_report.save(out / "data-report")
    layers = layer_report(model, progress=False)  # weightwatcher: spectra of the weights, locally

    config = EvaluationConfig(
        metrics=["rouge", "bleu", "semantic_similarity", "judge"],
        decoding={"max_new_tokens": 12},
        judge={
            "backend": "openai",
            "endpoint": {"base_url": url, "model": "judge", "max_retries": 1, "backoff_s": 0.01},
            "cache_dir": str(out / "judge-cache"),
            "progress": False,
        },
        pairwise=[["tiny", "served"]],
        cache_dir=str(out / "generation-cache"),
    )
    systems = {"tiny": model, "served": {"base_url": url, "model": "served", "max_retries": 1}}
    report = Evaluator(config=config, progress=False).compare(systems, data["test"], tokenizer=tokenizer)
    report.save(out / "eval")
    metrics = json.loads((out / "eval" / "metrics.json").read_text("utf-8"))
    return {
        "guarded": guarded,
        "env_before_import": env_before_import,
        "systems": {name: sorted(values) for name, values in metrics["systems"].items()},
        "judge_score": {name: values["judge_score"]["value"] for name, values in metrics["systems"].items()},
        "semantic": {
            name: values["semantic_similarity"]["value"] for name, values in metrics["systems"].items()
        },
        "pairwise": sorted(report.pairwise),
        "sentiment_scored": data_report.sentiment["n_scored"],
        "layer_rows": len(layers.rows),
    }


if __name__ == "__main__":
    result = main(Path(sys.argv[1]), sys.argv[2])
    print("RESULT " + json.dumps(result))
