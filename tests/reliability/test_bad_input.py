"""Bad input across the public API and the CLI: one table, one clear error per case, nothing left behind.

Each case writes a malformed input into a fresh folder and returns the action that must fail: a
callable (the public API) or an ``argv`` list (the ``domainft`` command). The test then checks

- the error class (API) or the exit code with a single-line message and no traceback (CLI);
- that the message says *where* (file and line, column, or the field) and *the fix*;
- that the folder holds exactly what it held before the call: no half-written run folder, report,
  adapter or manifest, and no ``*.tmp`` file.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from domainft.cli import main
from domainft.errors import ConfigError, DataError, ModelError

Action = Callable[[], Any] | list[str]

ROWS = [
    {"question": f"Spindle {i} stalls under load at shift start?", "answer": f"Check belt tension {i}."}
    for i in range(8)
]


@dataclass(frozen=True)
class Env:
    """What the cases share: a tiny model folder, its tokenizer and adapted model, adapters, splits."""

    model_dir: Path
    tokenizer: Any
    model: Any  # the tiny model with a fresh LoRA adapter (a PeftModel)
    adapter_dir: Path  # an adapter saved from that model
    other_adapter_dir: Path  # an adapter trained on another base (hidden size 32, its own vocabulary)
    dsd: Any


@dataclass(frozen=True)
class Case:
    id: str
    arrange: Callable[[Path, Env], Action]
    error: type[Exception] | int
    where: str  # regex; {tmp} stands for the case's folder
    fix: str  # regex, case-insensitive
    root_skips: bool = False  # permissions do not bind root


@pytest.fixture(scope="module")
def env(tmp_path_factory, tiny_model_dir, tiny_dsd) -> Env:
    from domainft.models.adapters import LoraAdapterFactory
    from domainft.models.loading import QuantizedLoader
    from domainft.models.tiny import TinyModelConfig, build_tiny_model

    root = tmp_path_factory.mktemp("bad-input-env")
    model, tokenizer = QuantizedLoader(str(tiny_model_dir), quantization=None).load()
    model = LoraAdapterFactory(r=4, alpha=8).apply(model)
    model.save_pretrained(str(root / "adapter"))
    texts = [f"{r['question']} {r['answer']}" for r in ROWS] * 4
    other = build_tiny_model(
        texts, root / "other-base", TinyModelConfig(hidden_size=32, vocab_size=400, seed=1)
    )
    other_model, _ = QuantizedLoader(str(other), quantization=None).load()
    LoraAdapterFactory(r=4, alpha=8).apply(other_model).save_pretrained(str(root / "other-adapter"))
    return Env(tiny_model_dir, tokenizer, model, root / "adapter", root / "other-adapter", tiny_dsd)


# ------------------------------------------------------------------------------------------ helpers


def _jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def _csv(rows: list[dict[str, Any]]) -> str:
    return "question,answer\n" + "".join(f'{r["question"]},"{r["answer"]}"\n' for r in rows)


def _write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _read(path: Path) -> Action:
    from domainft.data.builder import DatasetBuilder

    return lambda: DatasetBuilder.from_file(path).with_columns(prompt="question", response="answer").build()


def _recipe(tmp: Path, env: Env, **sections: dict[str, Any]) -> Path:
    """A small valid recipe (tiny model, 40 tickets, output under tmp/run) with ``sections`` merged in."""
    recipe: dict[str, Any] = {
        "data": {
            "path": "builtin:machinery_tickets",
            "max_samples": 40,
            "columns": {"prompt": "{machine_type}: {problem}", "response": "solution"},
        },
        "model": {"name_or_path": str(env.model_dir), "quantization": None},
        "adapter": {"r": 4, "alpha": 8},
        "training": {"output_dir": str(tmp / "run"), "num_train_epochs": 1, "disable_tqdm": True},
        "evaluation": {"metrics": ["rouge"], "max_samples": 2, "decoding": {"max_new_tokens": 4}},
    }
    for name, values in sections.items():
        recipe[name] = {**recipe.get(name, {}), **values}
    return _write(tmp / "recipe.yaml", yaml.safe_dump(recipe))


def _trainer(env: Env, tokenizer: Any = None, **config: Any) -> Action:
    from domainft import DomainTrainer, TrainingConfig

    def run() -> Any:
        return DomainTrainer(
            model=env.model,
            tokenizer=tokenizer if tokenizer is not None else env.tokenizer,
            datasets=env.dsd,
            config=TrainingConfig(disable_tqdm=True, **config),
        )

    return run


def _without_special_tokens(tmp: Path, env: Env) -> Path:
    """A copy of the tiny model whose tokenizer has no pad, unknown or EOS token."""
    folder = tmp / "model-no-specials"
    shutil.copytree(env.model_dir, folder)
    config_path = folder / "tokenizer_config.json"
    config = json.loads(config_path.read_text())
    for key in ("pad_token", "eos_token", "unk_token"):
        config.pop(key, None)
    config_path.write_text(json.dumps(config))
    return folder


# --------------------------------------------------------------------------------------------- arrange


def corrupt_jsonl(tmp: Path, env: Env) -> Action:
    lines = _jsonl(ROWS).splitlines()
    lines[2] = lines[2].replace('", "answer"', '" "answer"')  # a missing comma on line 3
    return _read(_write(tmp / "tickets.jsonl", "\n".join(lines) + "\n"))


def truncated_jsonl(tmp: Path, env: Env) -> Action:
    return _read(_write(tmp / "tickets.jsonl", _jsonl(ROWS)[:-20]))  # line 8 cut mid-object


def unbalanced_quote_csv(tmp: Path, env: Env) -> Action:
    text = _csv(ROWS).replace('"Check belt tension 3."', '"Check belt tension 3.')  # quote never closed
    return _read(_write(tmp / "tickets.csv", text))


def truncated_csv_in_quotes(tmp: Path, env: Env) -> Action:
    return _read(_write(tmp / "tickets.csv", _csv(ROWS)[:-8]))  # cut inside the last quoted answer


def truncated_csv_short_record(tmp: Path, env: Env) -> Action:
    text = _csv(ROWS) + "Spindle 9 stalls again"  # the export stopped before the last comma
    return _read(_write(tmp / "tickets.csv", text))


def utf16_csv(tmp: Path, env: Env) -> Action:
    return _read(_write(tmp / "tickets.csv", _csv(ROWS).encode("utf-16")))


def latin1_jsonl(tmp: Path, env: Env) -> Action:
    rows = [*ROWS[:4], {"question": "Caf\u00e9 machine leaks?", "answer": "Descale it."}]
    return _read(_write(tmp / "tickets.jsonl", _jsonl(rows).encode("latin-1")))


def binary_file(tmp: Path, env: Env) -> Action:
    data = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)) * 8  # a zip archive renamed
    return _read(_write(tmp / "tickets.jsonl", data))


def empty_file(tmp: Path, env: Env) -> Action:
    return _read(_write(tmp / "tickets.jsonl", b""))


def header_only_csv(tmp: Path, env: Env) -> Action:
    return _read(_write(tmp / "tickets.csv", "question,answer\n"))


def json_object_not_array(tmp: Path, env: Env) -> Action:
    return _read(_write(tmp / "tickets.json", json.dumps({"tickets": ROWS})))


def list_where_text_expected(tmp: Path, env: Env) -> Action:
    from domainft.data.builder import DatasetBuilder

    rows = [{"prompt": [r["question"]], "response": r["answer"]} for r in ROWS]
    path = _write(tmp / "tickets.jsonl", _jsonl(rows))
    return lambda: DatasetBuilder.from_file(path).build()


def mixed_types_in_a_column(tmp: Path, env: Env) -> Action:
    rows = [dict(r) for r in ROWS]
    rows[2]["answer"] = ["Check the belt.", "Then the motor."]  # a list on line 3, text elsewhere
    return _read(_write(tmp / "tickets.jsonl", _jsonl(rows)))


def missing_column_close_match(tmp: Path, env: Env) -> Action:
    from domainft.data.builder import DatasetBuilder

    rows = [{"promt": r["question"], "response": r["answer"]} for r in ROWS]
    path = _write(tmp / "tickets.jsonl", _jsonl(rows))
    return lambda: DatasetBuilder.from_file(path).build()


def column_mapping_typo(tmp: Path, env: Env) -> Action:
    from domainft.data.builder import DatasetBuilder

    path = _write(tmp / "tickets.jsonl", _jsonl(ROWS))
    return lambda: DatasetBuilder.from_file(path).with_columns(prompt="questoin", response="answer")


def empty_after_cleaning(tmp: Path, env: Env) -> Action:
    from domainft.data.builder import DatasetBuilder

    rows = [{"question": r["question"], "answer": "   "} for r in ROWS]
    path = _write(tmp / "tickets.jsonl", _jsonl(rows))
    return lambda: (
        DatasetBuilder.from_file(path).with_columns(prompt="question", response="answer").clean().build()
    )


def split_leaves_no_training_rows(tmp: Path, env: Env) -> Action:
    from domainft.data.builder import DatasetBuilder

    path = _write(tmp / "tickets.jsonl", _jsonl(ROWS))
    builder = DatasetBuilder.from_file(path).with_columns(prompt="question", response="answer")
    return lambda: builder.split(validation=0.5, test=0.5)


def unknown_record_format(tmp: Path, env: Env) -> Action:
    from domainft.data.builder import DatasetBuilder

    path = _write(tmp / "tickets.jsonl", _jsonl(ROWS))
    return lambda: DatasetBuilder.from_file(path, format="alpacca")


def tokenizer_without_pad_and_eos(tmp: Path, env: Env) -> Action:
    from domainft import QuantizedLoader

    folder = _without_special_tokens(tmp, env)
    return lambda: QuantizedLoader(str(folder), quantization=None).load()


def trainer_tokenizer_without_eos(tmp: Path, env: Env) -> Action:
    tokenizer = copy.deepcopy(env.tokenizer)
    tokenizer.eos_token = None
    return _trainer(env, tokenizer, output_dir=str(tmp / "run"), template="alpaca")


def trainer_no_chat_template(tmp: Path, env: Env) -> Action:
    tokenizer = copy.deepcopy(env.tokenizer)
    tokenizer.chat_template = None
    return _trainer(env, tokenizer, output_dir=str(tmp / "run"), template="chat")


def trainer_unknown_template(tmp: Path, env: Env) -> Action:
    return _trainer(env, output_dir=str(tmp / "run"), template="chatmll")


def trainer_every_example_too_long(tmp: Path, env: Env) -> Action:
    return _trainer(env, output_dir=str(tmp / "run"), max_length=8)


def unknown_target_preset(tmp: Path, env: Env) -> Action:
    from domainft import LoraAdapterFactory

    return lambda: LoraAdapterFactory(target_modules="atention")


def unknown_quantization(tmp: Path, env: Env) -> Action:
    from domainft import QuantizedLoader

    return lambda: QuantizedLoader(str(env.model_dir), quantization="nf5")


def missing_model_folder(tmp: Path, env: Env) -> Action:
    from domainft import QuantizedLoader

    return lambda: QuantizedLoader(str(tmp / "models" / "tiny"), quantization=None).load()


def _fresh_base(env: Env) -> Any:
    from domainft import QuantizedLoader

    return QuantizedLoader(str(env.model_dir), quantization=None).load()[0]


def adapter_from_another_base(tmp: Path, env: Env) -> Action:
    from domainft.models.adapters import load_adapter

    base = _fresh_base(env)
    return lambda: load_adapter(base, env.other_adapter_dir)


def adapter_folder_without_config(tmp: Path, env: Env) -> Action:
    from domainft.models.adapters import load_adapter

    shutil.copytree(env.adapter_dir, tmp / "run" / "adapter")
    base = _fresh_base(env)
    return lambda: load_adapter(base, tmp / "run")  # the run folder instead of run/adapter


def adapter_corrupt_config(tmp: Path, env: Env) -> Action:
    from domainft.models.adapters import load_adapter

    folder = tmp / "adapter"
    shutil.copytree(env.adapter_dir, folder)
    config = folder / "adapter_config.json"
    config.write_text(config.read_text()[:40])  # cut short by a full disk
    base = _fresh_base(env)
    return lambda: load_adapter(base, folder)


def _evaluator() -> Any:
    from domainft import Evaluator

    return Evaluator(metrics=["rouge"], decoding={"max_new_tokens": 4}, progress=False, perplexity=False)


def evaluation_without_reference(tmp: Path, env: Env) -> Action:
    rows = [{"id": f"t{i}", "prompt": r["question"], "answer": r["answer"]} for i, r in enumerate(ROWS)]
    return lambda: _evaluator().compare({"tuned": env.model}, rows, tokenizer=env.tokenizer)


def evaluation_prompt_longer_than_context(tmp: Path, env: Env) -> Action:
    rows = [{"id": f"t{i}", "prompt": r["question"], "response": r["answer"]} for i, r in enumerate(ROWS)]
    rows[5]["prompt"] = " ".join(f"belt{i} tension{i} reading" for i in range(600))
    return lambda: _evaluator().compare({"tuned": env.model}, rows, tokenizer=env.tokenizer)


def negative_max_new_tokens(tmp: Path, env: Env) -> Action:
    from domainft.models.generation import DecodingConfig

    return lambda: DecodingConfig(max_new_tokens=-5)


def judge_unknown_backend(tmp: Path, env: Env) -> Action:
    from domainft.evaluation.judges.config import JudgeConfig

    return lambda: JudgeConfig(backend="openaii")


def unknown_metric(tmp: Path, env: Env) -> Action:
    from domainft import Evaluator

    return lambda: Evaluator(metrics=["rouge", "bleu2"])


def api_eval_output_under_a_file(tmp: Path, env: Env) -> Action:
    from domainft.recipe import Recipe
    from domainft.workflows import evaluate_from_recipe

    _write(tmp / "reports", "not a folder")
    recipe = Recipe.from_yaml(_recipe(tmp, env, evaluation={"output_dir": str(tmp / "reports" / "eval")}))
    return lambda: evaluate_from_recipe(recipe, adapter_dir=env.adapter_dir, progress=False)


# ------------------------------------------------------------------------------------ arrange: CLI


def cli_recipe_invalid_yaml(tmp: Path, env: Env) -> Action:
    path = _write(tmp / "recipe.yaml", "model:\n  name_or_path: x\ntraining: [1, 2\n  output_dir: run\n")
    return ["train", str(path)]


def cli_recipe_unknown_key(tmp: Path, env: Env) -> Action:
    return ["train", str(_recipe(tmp, env, training={"learning_rat": 0.001}))]


def cli_recipe_wrong_type(tmp: Path, env: Env) -> Action:
    return ["train", str(_recipe(tmp, env, training={"learning_rate": "fast"}))]


def cli_recipe_exponent_as_text(tmp: Path, env: Env) -> Action:
    path = _recipe(tmp, env)
    path.write_text(
        path.read_text().replace("num_train_epochs: 1", "num_train_epochs: 1\n  learning_rate: 1e-4")
    )
    return ["train", str(path)]


def cli_recipe_missing_data_file(tmp: Path, env: Env) -> Action:
    return ["train", str(_recipe(tmp, env, data={"path": "data/tickets.jsonl"}))]


def cli_recipe_unknown_quantization(tmp: Path, env: Env) -> Action:
    return ["train", str(_recipe(tmp, env, model={"quantization": "int4"}))]


def cli_recipe_unknown_template(tmp: Path, env: Env) -> Action:
    return ["train", str(_recipe(tmp, env, training={"template": "alpacca"}))]


def cli_recipe_top_level_list(tmp: Path, env: Env) -> Action:
    return ["evaluate", str(_write(tmp / "recipe.yaml", "- data\n- model\n"))]


def cli_recipe_not_utf8(tmp: Path, env: Env) -> Action:
    text = _recipe(tmp, env).read_text() + "# r\u00e9glage de l'atelier\n"
    return ["train", str(_write(tmp / "recipe.yaml", text.encode("latin-1")))]


def cli_train_output_under_a_file(tmp: Path, env: Env) -> Action:
    _write(tmp / "runs", "a file where the runs folder should be")
    return ["train", str(_recipe(tmp, env, training={"output_dir": str(tmp / "runs" / "x")}))]


def cli_train_output_is_a_file(tmp: Path, env: Env) -> Action:
    _write(tmp / "run", "a file where the run folder should be")
    return ["train", str(_recipe(tmp, env))]


def cli_train_output_not_writable(tmp: Path, env: Env) -> Action:
    locked = tmp / "locked"
    locked.mkdir()
    path = _recipe(tmp, env, training={"output_dir": str(locked / "run")})
    locked.chmod(0o500)
    return ["train", str(path)]


def cli_train_every_example_too_long(tmp: Path, env: Env) -> Action:
    return ["train", str(_recipe(tmp, env, training={"max_length": 8}))]


def cli_train_model_folder_without_config(tmp: Path, env: Env) -> Action:
    (tmp / "model").mkdir()
    return ["train", str(_recipe(tmp, env, model={"name_or_path": str(tmp / "model")}))]


def cli_evaluate_missing_adapter(tmp: Path, env: Env) -> Action:
    return ["evaluate", str(_recipe(tmp, env)), "--adapter", str(tmp / "run" / "adaptr")]


def cli_evaluate_empty_test_split(tmp: Path, env: Env) -> Action:
    path = _recipe(tmp, env, data={"test": 0.0, "validation": 0.1})
    return ["evaluate", str(path), "--adapter", str(env.adapter_dir)]


def cli_evaluate_adapter_from_another_base(tmp: Path, env: Env) -> Action:
    return ["evaluate", str(_recipe(tmp, env)), "--adapter", str(env.other_adapter_dir)]


def _generate(tmp: Path, env: Env, prompts: Path, output: Path | None = None) -> list[str]:
    output = output or tmp / "answers.jsonl"
    return ["generate", "--model", str(env.model_dir), "--input", str(prompts), "--output", str(output)]


def cli_generate_bad_prompts_file(tmp: Path, env: Env) -> Action:
    text = '{"prompt": "Belt slips?"}\n{"prompt": "Motor hums?\n'
    return _generate(tmp, env, _write(tmp / "prompts.jsonl", text))


def cli_generate_latin1_prompts(tmp: Path, env: Env) -> Action:
    data = "Belt slips?\nCaf\u00e9 machine leaks?\n".encode("latin-1")
    return _generate(tmp, env, _write(tmp / "prompts.txt", data))


def cli_generate_output_is_a_folder(tmp: Path, env: Env) -> Action:
    (tmp / "answers").mkdir()
    prompts = _write(tmp / "prompts.txt", "Belt slips?\n")
    return _generate(tmp, env, prompts, tmp / "answers")


def cli_data_report_missing_file(tmp: Path, env: Env) -> Action:
    return ["data", "report", str(tmp / "tickets.jsonl"), "--out", str(tmp / "report")]


def cli_data_report_corrupt_csv(tmp: Path, env: Env) -> Action:
    path = _write(
        tmp / "tickets.csv", _csv(ROWS).replace('"Check belt tension 5."', '"Check belt "tension" 5."')
    )
    return ["data", "report", str(path), "--out", str(tmp / "report")]


def cli_data_report_out_under_a_file(tmp: Path, env: Env) -> Action:
    path = _write(tmp / "tickets.jsonl", _jsonl(ROWS))
    _write(tmp / "reports", "a file")
    return ["data", "report", str(path), "--out", str(tmp / "reports" / "tickets")]


def cli_tiny_model_missing_data(tmp: Path, env: Env) -> Action:
    return ["tiny-model", "--data", str(tmp / "corpus.jsonl"), "--output", str(tmp / "tiny")]


# ------------------------------------------------------------------------------------------- the table

FILE = r"{tmp}/"
CASES = [
    # data files
    Case(
        "jsonl-bad-json-line-3",
        corrupt_jsonl,
        DataError,
        FILE + r"tickets\.jsonl:3:\d+",
        "fix or delete that line",
    ),
    Case(
        "jsonl-truncated",
        truncated_jsonl,
        DataError,
        FILE + r"tickets\.jsonl:8:\d+",
        "fix or delete that line",
    ),
    Case(
        "csv-unbalanced-quote",
        unbalanced_quote_csv,
        DataError,
        FILE + r"tickets\.csv:5: malformed CSV",
        "close the quote",
    ),
    Case(
        "csv-truncated-in-quotes", truncated_csv_in_quotes, DataError, FILE + r"tickets\.csv:9:", "cut short"
    ),
    Case(
        "csv-truncated-record",
        truncated_csv_short_record,
        DataError,
        FILE + r"tickets\.csv:10:",
        "looks truncated.*export the file again",
    ),
    Case(
        "utf16-file",
        utf16_csv,
        DataError,
        FILE + r"tickets\.csv:1:1: .*UTF-16",
        r"re-save it as UTF-8.*'encoding': 'utf-16'",
    ),
    Case(
        "latin1-file",
        latin1_jsonl,
        DataError,
        FILE + r"tickets\.jsonl:5:18: line 5, column 18: byte 0xe9",
        r"re-save the file as UTF-8.*reader_options",
    ),
    Case(
        "binary-file",
        binary_file,
        DataError,
        FILE + r"tickets\.jsonl:1: .*binary file",
        "give the data file itself",
    ),
    Case(
        "empty-file",
        empty_file,
        DataError,
        FILE + r"tickets\.jsonl: the file is empty",
        "check that the path names the right file",
    ),
    Case(
        "csv-header-only",
        header_only_csv,
        DataError,
        FILE + r"tickets\.csv: no records",
        "check that the file is not empty",
    ),
    Case(
        "json-object-not-array",
        json_object_not_array,
        DataError,
        FILE + r"tickets\.json: expected a JSON array.*'tickets'",
        r"write the records as \[\{",
    ),
    Case(
        "list-where-text-expected",
        list_where_text_expected,
        DataError,
        r"column 'prompt', row 0 \(id 'row-000000'\) holds a list",
        "format string",
    ),
    Case(
        "mixed-types-in-column",
        mixed_types_in_a_column,
        DataError,
        FILE + r"tickets\.jsonl: column 'answer' mixes value types \(str at line 1, list at line 3\)",
        "make every value of a column the same type",
    ),
    Case(
        "missing-column-close-match",
        missing_column_close_match,
        DataError,
        r"missing column\(s\) 'prompt'; found columns: promt",
        r"did you mean \.with_columns\(prompt='promt'\)",
    ),
    Case(
        "column-mapping-typo",
        column_mapping_typo,
        DataError,
        r"prompt='questoin' refers to missing column\(s\) 'questoin'",
        "did you mean 'question'",
    ),
    Case(
        "empty-after-cleaning",
        empty_after_cleaning,
        DataError,
        r"empty after cleaning: 8 rows dropped \(.*empty_response",
        r"builder\.dropped\(\)",
    ),
    Case(
        "split-leaves-no-train",
        split_leaves_no_training_rows,
        ConfigError,
        r"validation \+ test",
        "must leave rows for training",
    ),
    Case(
        "unknown-record-format",
        unknown_record_format,
        ConfigError,
        "record format 'alpacca'",
        "known: alpaca",
    ),
    # models, tokenizers, templates, adapters
    Case(
        "tokenizer-without-pad-and-eos",
        tokenizer_without_pad_and_eos,
        ModelError,
        "neither a pad, an unknown nor an EOS token",
        r"set tokenizer\.eos_token",
    ),
    Case(
        "trainer-tokenizer-without-eos",
        trainer_tokenizer_without_eos,
        ModelError,
        "tokenizer has no EOS token",
        r"set tokenizer\.eos_token",
    ),
    Case(
        "trainer-no-chat-template",
        trainer_no_chat_template,
        ModelError,
        "template='chat'.*no chat template",
        r"set tokenizer\.chat_template or choose a named template",
    ),
    Case(
        "trainer-unknown-template",
        trainer_unknown_template,
        ConfigError,
        "prompt template 'chatmll'",
        "did you mean 'chatml'",
    ),
    Case(
        "trainer-every-example-too-long",
        trainer_every_example_too_long,
        DataError,
        r"max_length=8",
        r"raise TrainingConfig\.max_length",
    ),
    Case(
        "unknown-target-preset",
        unknown_target_preset,
        ConfigError,
        r"AdapterConfig\.target_modules='atention'",
        "did you mean 'attention'",
    ),
    Case(
        "unknown-quantization",
        unknown_quantization,
        ConfigError,
        r"quantization: expected one of",
        "did you mean 'nf4'",
    ),
    Case("missing-model-folder", missing_model_folder, ModelError, FILE + "models/tiny", "save_pretrained"),
    Case(
        "adapter-from-another-base",
        adapter_from_another_base,
        ModelError,
        r"other-adapter was trained on '.*other-base' but is being loaded onto '.*tiny-llama",
        "load the adapter onto the base model it was trained on",
    ),
    Case(
        "adapter-folder-without-config",
        adapter_folder_without_config,
        ModelError,
        FILE + r"run is not an adapter folder \(no adapter_config\.json\)",
        "did you mean '" + FILE + "run/adapter'",
    ),
    Case(
        "adapter-corrupt-config",
        adapter_corrupt_config,
        ModelError,
        FILE + r"adapter/adapter_config\.json:\d+:\d+: invalid JSON",
        "save the adapter again",
    ),
    # evaluation
    Case(
        "eval-without-reference-column",
        evaluation_without_reference,
        DataError,
        r"lacks column\(s\) \['response'\]",
        r"with_columns\(prompt=\.\.\., response=\.\.\.\)",
    ),
    Case(
        "eval-prompt-longer-than-context",
        evaluation_prompt_longer_than_context,
        DataError,
        r"example 5 \(id 't5'\): the rendered prompt is \d+ tokens but the model's context is 1024",
        r"filter_tokens\(tokenizer, max_tokens=",
    ),
    Case(
        "negative-max-new-tokens",
        negative_max_new_tokens,
        ConfigError,
        r"DecodingConfig\.max_new_tokens",
        "must be positive",
    ),
    Case(
        "judge-unknown-backend",
        judge_unknown_backend,
        ConfigError,
        r"JudgeConfig\.backend: unknown judge backend 'openaii'",
        "known: openai",
    ),
    Case("unknown-metric", unknown_metric, ConfigError, "unknown metric 'bleu2'", "known: bleu"),
    Case(
        "eval-output-under-a-file",
        api_eval_output_under_a_file,
        ConfigError,
        r"evaluation\.output_dir: cannot create " + FILE + "reports/eval: " + FILE + "reports is a file",
        r"set evaluation\.output_dir to a folder path you can write to",
    ),
    # the CLI
    Case(
        "cli-recipe-invalid-yaml",
        cli_recipe_invalid_yaml,
        2,
        FILE + r"recipe\.yaml:4:13: invalid YAML",
        "fix the syntax at that line",
    ),
    Case(
        "cli-recipe-unknown-key",
        cli_recipe_unknown_key,
        2,
        FILE + r"recipe\.yaml: training: unknown field 'learning_rat'",
        "did you mean 'learning_rate'",
    ),
    Case(
        "cli-recipe-wrong-type",
        cli_recipe_wrong_type,
        2,
        FILE + r"recipe\.yaml: training\.learning_rate: expected a number, got 'fast'",
        "expected a number",
    ),
    Case(
        "cli-recipe-exponent-as-text",
        cli_recipe_exponent_as_text,
        2,
        r"training\.learning_rate: expected a number, got '1e-4'",
        r"write it with a decimal point.*1\.0e-4",
    ),
    Case(
        "cli-recipe-missing-data-file",
        cli_recipe_missing_data_file,
        2,
        r"data\.path: data/tickets\.jsonl does not exist",
        r"fix data\.path",
    ),
    Case(
        "cli-recipe-unknown-quantization",
        cli_recipe_unknown_quantization,
        2,
        r"model\.quantization: expected one of",
        "did you mean 'int8'",
    ),
    Case(
        "cli-recipe-unknown-template",
        cli_recipe_unknown_template,
        2,
        r"training\.template: unknown prompt template 'alpacca'",
        "did you mean 'alpaca'",
    ),
    Case(
        "cli-recipe-top-level-list",
        cli_recipe_top_level_list,
        2,
        FILE + r"recipe\.yaml: expected a mapping of sections",
        "mapping of sections",
    ),
    Case(
        "cli-recipe-not-utf8",
        cli_recipe_not_utf8,
        2,
        FILE + r"recipe\.yaml:\d+: byte 0xe9",
        "re-save the file as UTF-8",
    ),
    Case(
        "cli-train-output-under-a-file",
        cli_train_output_under_a_file,
        2,
        r"training\.output_dir: cannot create " + FILE + "runs/x: " + FILE + "runs is a file",
        r"set training\.output_dir to a folder path",
    ),
    Case(
        "cli-train-output-is-a-file",
        cli_train_output_is_a_file,
        2,
        r"training\.output_dir: " + FILE + "run is an existing file",
        "or move the file",
    ),
    Case(
        "cli-train-output-not-writable",
        cli_train_output_not_writable,
        2,
        r"training\.output_dir: cannot create .*no write permission in " + FILE + "locked",
        r"set training\.output_dir",
        root_skips=True,
    ),
    Case(
        "cli-train-every-example-too-long",
        cli_train_every_example_too_long,
        2,
        r"max_length=8",
        r"raise TrainingConfig\.max_length",
    ),
    Case(
        "cli-train-model-without-config",
        cli_train_model_folder_without_config,
        2,
        r"model\.name_or_path: " + FILE + "model has no config.json",
        "saved with save_pretrained",
    ),
    Case(
        "cli-evaluate-missing-adapter",
        cli_evaluate_missing_adapter,
        2,
        "adapter folder " + FILE + "run/adaptr does not exist",
        "give the folder save_adapter wrote",
    ),
    Case(
        "cli-evaluate-empty-test-split",
        cli_evaluate_empty_test_split,
        2,
        r"evaluation\.split='test' is empty",
        r"data\.test \(e\.g\. 0\.1",
    ),
    Case(
        "cli-evaluate-adapter-other-base",
        cli_evaluate_adapter_from_another_base,
        2,
        "other-adapter was trained on",
        "load the adapter onto the base model it was trained on",
    ),
    Case(
        "cli-generate-bad-prompts-file",
        cli_generate_bad_prompts_file,
        2,
        FILE + r"prompts\.jsonl:2:\d+: invalid JSON on line 2",
        "fix or delete that line",
    ),
    Case(
        "cli-generate-latin1-prompts",
        cli_generate_latin1_prompts,
        2,
        FILE + r"prompts\.txt:2:4: ",
        "re-save the file as UTF-8",
    ),
    Case(
        "cli-generate-output-is-a-folder",
        cli_generate_output_is_a_folder,
        2,
        "--output: " + FILE + "answers is an existing folder",
        "a file name",
    ),
    Case(
        "cli-data-report-missing-file",
        cli_data_report_missing_file,
        2,
        FILE + r"tickets\.jsonl does not exist",
        "data file not found",
    ),
    Case(
        "cli-data-report-corrupt-csv",
        cli_data_report_corrupt_csv,
        2,
        FILE + r"tickets\.csv:7: malformed CSV",
        r'double a quote that is part of the text \(""\)',
    ),
    Case(
        "cli-data-report-out-under-a-file",
        cli_data_report_out_under_a_file,
        2,
        "--out: cannot create " + FILE + "reports/tickets",
        "set --out to a folder path you can write to",
    ),
    Case(
        "cli-tiny-model-missing-data",
        cli_tiny_model_missing_data,
        2,
        FILE + r"corpus\.jsonl does not exist",
        "data file not found",
    ),
]


def _snapshot(root: Path) -> dict[str, tuple[int, int] | str]:
    """Every file (size, mtime) and folder under ``root``."""
    out: dict[str, tuple[int, int] | str] = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_dir():
            out[key] = "dir"
        else:
            stat = path.stat()
            out[key] = (stat.st_size, stat.st_mtime_ns)
    return out


def test_the_table_covers_enough_cases():
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, env: Env, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if case.root_skips and os.geteuid() == 0:
        pytest.skip("running as root: file permissions do not stop root from writing")
    action = case.arrange(tmp_path, env)
    before = _snapshot(tmp_path)
    capsys.readouterr()
    try:
        if isinstance(action, list):
            code = main(action)
            err = capsys.readouterr().err
            assert code == case.error, f"exit code {code}, stderr: {err}"
            assert "Traceback" not in err
            # progress bars of model loading may come first; the error is one line, the last
            command = " ".join(action[:2]) if action[0] == "data" else action[0]
            lines = err.strip().splitlines()
            errors = [line for line in lines if line.startswith(f"domainft {command}: error: ")]
            assert len(errors) == 1 and lines[-1] == errors[0], f"expected a one-line error, got: {err}"
            message = errors[0]
        else:
            with pytest.raises(case.error) as info:  # type: ignore[arg-type]
                action()
            message = str(info.value)
    finally:
        for path in tmp_path.rglob("*"):  # let pytest clean a folder the case locked
            if path.is_dir():
                path.chmod(0o755)
    where = case.where.replace("{tmp}", re.escape(str(tmp_path)))
    fix = case.fix.replace("{tmp}", re.escape(str(tmp_path)))
    assert re.search(where, message), f"the message does not say where ({case.where}): {message}"
    assert re.search(fix, message, re.IGNORECASE), (
        f"the message does not give the fix ({case.fix}): {message}"
    )
    assert _snapshot(tmp_path) == before, "the failed call left files behind or changed them"
    assert not list(tmp_path.rglob("*.tmp"))


def test_cli_errors_reach_the_terminal_without_a_traceback(tmp_path: Path) -> None:
    """The real entry point (a subprocess): exit code 2, one line on stderr, no traceback."""
    import subprocess
    import sys

    bad = _write(tmp_path / "tickets.jsonl", '{"question": "a", "answer": "b"}\n{"question": \n')
    out = subprocess.run(
        [sys.executable, "-m", "domainft.cli", "data", "report", str(bad), "--out", str(tmp_path / "r")],
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONWARNINGS": "ignore"},
        timeout=300,
    )
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    errors = [line for line in out.stderr.splitlines() if line.startswith("domainft data report: error:")]
    assert len(errors) == 1 and f"{bad}:2:" in errors[0]
    assert not (tmp_path / "r").exists()
