from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
from datasets import Dataset, DatasetDict

from domainft.data.builder import DatasetBuilder
from domainft.data.config import DataConfig
from domainft.errors import ConfigError, DataError, DataFileNotFoundError


def _write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _ids(dsd: DatasetDict) -> list[set[str]]:
    return [set(dsd[s]["id"]) for s in ("train", "validation", "test")]


# ----------------------------------------------------------------------------------------- building


def test_chain_from_file(tmp_path, qa_records):
    path = _write_jsonl(tmp_path / "faq.jsonl", qa_records)
    dsd = (
        DatasetBuilder.from_file(path)
        .with_columns(prompt="question", response="answer")
        .clean()
        .split(validation=0.2, test=0.1, seed=1)
        .build()
    )
    assert isinstance(dsd, DatasetDict) and list(dsd) == ["train", "validation", "test"]
    assert [dsd[s].num_rows for s in dsd] == [7, 2, 1]
    for split in dsd.values():
        assert split.column_names == ["id", "prompt", "response", "machine", "hours"]  # renamed, others kept
        assert split.features["id"].dtype == "string"
    train, val, test = _ids(dsd)
    assert train.isdisjoint(val) and train.isdisjoint(test) and val.isdisjoint(test)
    assert train | val | test == {f"row-{i:06d}" for i in range(10)}
    row = next(r for s in dsd.values() for r in s if r["id"] == "row-000003")
    assert row["prompt"] == qa_records[3]["question"]


def test_default_split_when_split_not_called(qa_records):
    dsd = DatasetBuilder.from_records(qa_records).with_columns(prompt="question", response="answer").build()
    assert [dsd[s].num_rows for s in dsd] == [8, 1, 1]


def test_build_twice_gives_equal_results(dirty_records):
    builder = DatasetBuilder.from_records(dirty_records * 3).clean().split(validation=0.3, test=0.0, seed=5)
    first, second = builder.build(), builder.build()
    for s in first:
        assert first[s].to_list() == second[s].to_list()
    assert builder.cleaning_report.rows_out == 3


def test_generated_ids_come_from_original_index(dirty_records):
    dsd = DatasetBuilder.from_records(dirty_records).clean().split(validation=0, test=0).build()
    assert dsd["train"]["id"] == ["row-000000", "row-000005", "row-000008"]


def test_existing_ids_are_kept_as_strings():
    records = [{"id": 100 + i, "prompt": f"p{i}", "response": f"r{i}"} for i in range(5)]
    dsd = DatasetBuilder.from_records(records).split(validation=0, test=0.2).build()
    assert sorted([*dsd["train"]["id"], *dsd["test"]["id"]]) == [str(100 + i) for i in range(5)]
    assert dsd["train"].features["id"].dtype == "string"


def test_id_can_be_mapped_and_duplicates_rejected():
    records = [{"ticket": f"T{i}", "prompt": f"p{i}", "response": f"r{i}"} for i in range(5)]
    dsd = DatasetBuilder.from_records(records).with_columns(id="ticket").split(validation=0, test=0).build()
    assert dsd["train"]["id"] == [f"T{i}" for i in range(5)]
    dup = [{"id": "same", "prompt": f"p{i}", "response": f"r{i}"} for i in range(3)]
    with pytest.raises(DataError, match="duplicate value 'same' \\(rows 0 and 1\\)"):
        DatasetBuilder.from_records(dup).build()


def test_from_dataset_constructor():
    ds = Dataset.from_dict({"prompt": ["a", "b", "c"], "response": ["x", "y", "z"]})
    dsd = DatasetBuilder(ds).split(validation=0, test=0).build()
    assert dsd["train"].to_list()[0] == {"id": "row-000000", "prompt": "a", "response": "x"}
    with pytest.raises(DataError, match=r"expects a datasets.Dataset"):
        DatasetBuilder([{"prompt": "a"}])


def test_from_file_missing(tmp_path):
    with pytest.raises(DataFileNotFoundError, match=r"missing.csv"):
        DatasetBuilder.from_file(tmp_path / "missing.csv")


def test_from_file_csv_with_format(tmp_path, qa_records):
    path = tmp_path / "faq.data"
    pd.DataFrame(qa_records).to_csv(path, index=False)
    builder = DatasetBuilder.from_file(path, reader="csv").with_columns(prompt="question", response="answer")
    assert builder.dataset.num_rows == 10 and builder.source == str(path)


# ----------------------------------------------------------------------------------------- columns


def test_format_string_columns(qa_records):
    dsd = (
        DatasetBuilder.from_records(qa_records)
        .with_columns(
            prompt="Machine: {machine}. Problem: {question} ({hours} h, {hours:g} h)", response="answer"
        )
        .split(validation=0, test=0)
        .build()
    )
    row = dsd["train"][4]
    assert row["prompt"] == "Machine: lathe. Problem: How do I fix fault 4 on the press? (2.0 h, 2 h)"
    assert row["machine"] == "lathe"  # columns used in a format string are kept
    assert "question" in dsd["train"].column_names


def test_format_string_with_an_empty_field_is_missing_and_cleaned_away():
    records = [
        {"a": "x", "b": None, "r": "y"},
        {"a": "z", "b": "w", "r": "v"},
        {"a": "q", "b": "   ", "r": "u"},
    ]
    builder = DatasetBuilder.from_records(records).with_columns(prompt="{a}|{b}", response="r")
    assert builder.dataset["prompt"] == [None, "z|w", None]
    builder.clean()
    assert builder.dataset["prompt"] == ["z|w"]
    report = builder.cleaning_report
    assert sum(report.dropped_by_reason.values()) == 2
    assert sorted(r["a"] for r in report.dropped) == ["q", "x"]


def test_missing_plain_column_lists_found(qa_records):
    builder = DatasetBuilder.from_records(qa_records)
    with pytest.raises(DataError) as err:
        builder.with_columns(prompt="query", response="answer")
    msg = str(err.value)
    assert "'query'" in msg
    assert "found columns: question, answer, machine, hours, id" in msg


def test_missing_format_string_column_lists_found(qa_records):
    with pytest.raises(DataError, match=r"missing column\(s\) 'model'; found columns: question, answer"):
        DatasetBuilder.from_records(qa_records).with_columns(prompt="{machine} {model}", response="answer")


def test_bad_format_spec_names_row(qa_records):
    with pytest.raises(DataError, match=r"cannot format prompt='\{hours:d\}' for row 0 \(id='row-000000'\)"):
        DatasetBuilder.from_records(qa_records).with_columns(prompt="{hours:d}", response="answer")


def test_positional_field_rejected(qa_records):
    with pytest.raises(DataError, match="positional fields"):
        DatasetBuilder.from_records(qa_records).with_columns(prompt="{} {0}", response="answer")


def test_swap_and_extra_canonical_columns():
    records = [{"prompt": "A", "response": "Q", "manual": "page 3"}] * 2
    ds = (
        DatasetBuilder.from_records(records)
        .with_columns(prompt="response", response="prompt", context="manual")
        .dataset
    )
    assert ds[0]["prompt"] == "Q" and ds[0]["response"] == "A" and ds[0]["context"] == "page 3"
    assert "manual" not in ds.column_names


def test_numeric_response_becomes_text():
    records = [{"q": f"hours for job {i}?", "h": i + 0.5} for i in range(4)]
    dsd = DatasetBuilder.from_records(records).with_columns(prompt="q", response="h").split(0, 0).build()
    assert dsd["train"]["response"] == ["0.5", "1.5", "2.5", "3.5"]


def test_build_without_canonical_columns_lists_found(qa_records):
    with pytest.raises(
        DataError, match=r"missing column.*'prompt', 'response'.*found columns: question, answer"
    ):
        DatasetBuilder.from_records(qa_records).build()
    with pytest.raises(DataError, match="with_columns"):
        DatasetBuilder.from_records(qa_records).clean()


# ----------------------------------------------------------------------------------------- cleaning


def test_clean_report_on_builder(dirty_records):
    builder = DatasetBuilder.from_records(dirty_records)
    assert builder.cleaning_report is None
    builder.clean()
    report = builder.cleaning_report
    assert report.dropped_by_reason == {"empty_prompt": 2, "empty_response": 2, "duplicate": 3}
    assert sorted(r["id"] for r in report.dropped) == [f"row-{i:06d}" for i in (1, 2, 3, 4, 6, 7, 9)]


def test_empty_after_cleaning_explains_why():
    records = [
        {"prompt": "", "response": "a"},
        {"prompt": "b", "response": " "},
        {"prompt": None, "response": "c"},
    ]
    builder = DatasetBuilder.from_records(records).clean()
    with pytest.raises(
        DataError,
        match=r"dataset is empty after cleaning: 3 rows dropped \(empty_prompt: 2, empty_response: 1\)",
    ):
        builder.build()


def test_unclean_empty_values_fail_build(dirty_records):
    with pytest.raises(DataError, match=r"2 row\(s\) have an empty 'prompt' .*call .clean\(\)"):
        DatasetBuilder.from_records(dirty_records).build()


def test_take_and_empty_records(qa_records):
    assert len(DatasetBuilder.from_records(qa_records).take(3)) == 3
    with pytest.raises(DataError, match="no records"):
        DatasetBuilder.from_records([])
    with pytest.raises(ConfigError, match="positive integer"):
        DatasetBuilder.from_records(qa_records).take(0)


def test_split_arguments_validated_early(qa_records):
    builder = DatasetBuilder.from_records(qa_records)
    with pytest.raises(ConfigError, match=r"^test:"):
        builder.split(test=-0.1)
    with pytest.raises(ConfigError, match="stratify"):
        builder.split(stratify="topic")


def test_stratified_build(long_tail_records):
    dsd = DatasetBuilder.from_records(long_tail_records).clean().split(stratify="length", seed=0).build()
    assert [dsd[s].num_rows for s in dsd] == [160, 20, 20]


# ----------------------------------------------------------------------------------------- config


def test_from_config(tmp_path, qa_records):
    records = qa_records + [{"question": "dup", "answer": "x", "machine": "m", "hours": 1.0}] * 2
    path = _write_jsonl(tmp_path / "faq.jsonl", records)
    cfg = DataConfig(
        path=str(path),
        columns={"prompt": "[{machine}] {question}", "response": "answer"},
        validation=0.2,
        test=0.2,
        seed=3,
        stratify="length",
    )
    builder = DatasetBuilder.from_config(cfg)
    dsd = builder.build()
    assert builder.cleaning_report.dropped_by_reason == {"duplicate": 1}
    assert [dsd[s].num_rows for s in dsd] == [7, 2, 2]
    assert dsd["train"][0]["prompt"].startswith("[")

    limited = DatasetBuilder.from_config(
        DataConfig(path=str(path), columns=cfg.columns, max_samples=5, clean=False)
    )
    assert limited.cleaning_report is None
    assert sorted(limited.dataset["id"]) == [f"row-{i:06d}" for i in range(5)]

    with pytest.raises(ConfigError, match=r"DataConfig.path"):
        DatasetBuilder.from_config(DataConfig())


def test_from_config_builtin():
    cfg = DataConfig(
        path="builtin:machinery_tickets",
        columns={"prompt": "Machine: {machine_type}. Problem: {problem}", "response": "solution"},
    )
    dsd = DatasetBuilder.from_config(cfg).build()
    assert sum(s.num_rows for s in dsd.values()) > 0
    assert dsd["test"][0]["prompt"].startswith("Machine: ")


def test_data_config_yaml_round_trip(tmp_path):
    cfg = DataConfig(
        path="tickets.jsonl",
        reader="jsonl",
        columns={"prompt": "Machine: {machine_type}. Problem: {problem}", "response": "solution"},
        clean=False,
        validation=0.05,
        test=0.15,
        stratify="length",
        seed=7,
        max_samples=100,
    )
    cfg.to_yaml(tmp_path / "data.yaml")
    assert DataConfig.from_yaml(tmp_path / "data.yaml") == cfg
    cfg.to_json(tmp_path / "data.json")
    assert DataConfig.from_json(tmp_path / "data.json") == cfg
    assert DataConfig.from_dict({}) == DataConfig()
    assert set(DataConfig.field_help()) == set(cfg.to_dict())
    assert all(DataConfig.field_help().values())


def test_data_config_unknown_key(tmp_path):
    (tmp_path / "data.yaml").write_text("path: x.jsonl\nvalidaton: 0.2\n")
    with pytest.raises(ConfigError, match=r"unknown field 'validaton'. Did you mean 'validation'?"):
        DataConfig.from_yaml(tmp_path / "data.yaml")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"validation": 1.2}, "DataConfig.validation"),
        ({"test": -0.1}, "DataConfig.test"),
        ({"validation": 0.6, "test": 0.4}, "DataConfig.validation + DataConfig.test"),
        ({"stratify": "topic"}, "DataConfig.stratify"),
        ({"max_samples": 0}, "DataConfig.max_samples"),
        ({"format": "xlsx"}, "DataConfig.format"),
        ({"columns": {"prompt": ""}}, "DataConfig.columns.prompt"),
        ({"path": ""}, "DataConfig.path"),
        ({"seed": 1.5}, "DataConfig.seed"),
    ],
)
def test_data_config_validation_names_field(kwargs, field):
    with pytest.raises(ConfigError) as err:
        DataConfig(**kwargs)
    assert str(err.value).startswith(field + ":")


def test_data_config_from_dict_type_errors():
    with pytest.raises(ConfigError, match=r"DataConfig.stratify"):
        DataConfig.from_dict({"stratify": "random"})
    with pytest.raises(ConfigError, match=r"DataConfig.clean: expected true or false"):
        DataConfig.from_dict({"clean": "yes"})


def test_data_config_accepts_path_objects(tmp_path):
    assert DataConfig(path=tmp_path / "x.jsonl").path == str(tmp_path / "x.jsonl")


def test_data_modules_import_lazily():
    code = (
        "import sys, domainft\n"
        "from domainft.data import builder, cleaning, config, formats, samples, splitting\n"
        "heavy = [m for m in ('datasets', 'pandas', 'pyarrow', 'sklearn', 'torch') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------------------------------- issue 3: chains


def test_chained_steps_report_and_dropped(tmp_path):
    machines = ["pump", "lathe", "press", "conveyor", "boiler", "mixer", "crane", "drill", "fan", "saw"]
    faults = ["rattles &amp; leaks oil", "overheats after an hour"]
    rows = [
        {"ticket": f"T{i // 2}", "q": f"<p>The {machines[i // 2]} {faults[i % 2]}</p>", "a": f"Fix {i}."}
        for i in range(20)
    ]
    # a near-duplicate of row 2 ("The lathe rattles & leaks oil")
    rows += [{"ticket": "T99", "q": "<b>The lathe rattles &amp; leaks oil!</b>", "a": "Fix 2 again."}]
    rows += [{"ticket": "T98", "q": "Thanks", "a": "ok"}]
    builder = (
        DatasetBuilder.from_records(rows)
        .with_columns(prompt="q", response="a")
        .strip_html()
        .clean()
        .near_dedup(threshold=0.8)
        .drop_matching(r"^ok$")
        .map_text(lambda t: t.replace("The ", "The "), columns=["prompt"])
        .split(validation=2, test=4, train=12, group_by="ticket", seed=1)
    )
    report = builder.cleaning_report
    assert [s.step for s in report.steps] == [
        "strip_html",
        "normalize",
        "drop_missing",
        "dedup",
        "near_dedup",
        "drop_matching",
        "map_text",
    ]
    assert builder.dataset["prompt"][0] == "The pump rattles & leaks oil"
    dsd = builder.build()
    assert [r["id"] for r in builder.dropped("near_duplicate")] == ["row-000020"]
    assert builder.dropped("matched_response_pattern")[0]["prompt"] == "Thanks"
    unused = builder.dropped("unused_by_split")
    assert sum(dsd[s].num_rows for s in dsd) + len(unused) == 20
    tickets = [set(dsd[s]["ticket"]) for s in ("train", "validation", "test")]
    assert not (tickets[0] & tickets[1] or tickets[0] & tickets[2] or tickets[1] & tickets[2])


def test_from_config_runs_cleaning_steps_and_split_options(tmp_path):
    path = tmp_path / "d.jsonl"
    lines = [
        {"dialogue_id": f"d{i // 2}", "speaker": "u" if i % 2 == 0 else "h", "text": f"line {i} about disks"}
        for i in range(40)
    ]
    path.write_text("\n".join(json.dumps(r) for r in lines))
    cfg = DataConfig(
        path=str(path),
        cleaning=[{"step": "length_outliers", "column": "response", "k": 3.0}],
        validation=2,
        test=2,
        group_by="dialogue_id",
        leakage="report",
        leakage_threshold=0.95,
    )
    builder = DatasetBuilder.from_config(cfg)
    dsd = builder.build()
    assert sum(dsd[s].num_rows for s in dsd) == 20
    assert dsd["train"][0]["messages"][0]["role"] == "user"
    assert builder.leakage_report is not None
    assert [s.step for s in builder.cleaning_report.steps][-1] == "length_outliers"
    with pytest.raises(ConfigError, match=r"cleaning\[0\]\.step: unknown step 'scrub'"):
        DataConfig(path=str(path), cleaning=[{"step": "scrub"}])
    with pytest.raises(ConfigError, match="DataConfig.test: a float is a fraction"):
        DataConfig(test=1.5)


def test_wrong_column_type_names_the_row_and_column():
    builder = DatasetBuilder.from_records([{"q": ["a", "b"], "a": "x"}, {"q": ["c"], "a": "y"}], format=None)
    with pytest.raises(DataError, match=r"prompt='q': row 0 holds a list, expected text"):
        builder.with_columns(prompt="q", response="a")


def test_builder_report_includes_cleaning_and_source(tmp_path):
    builder = (
        DatasetBuilder.from_file("builtin:machinery_tickets")
        .with_columns(prompt="{machine_type}: {problem}", response="solution")
        .clean()
    )
    report = builder.report()
    data = report.to_dict()
    assert json.dumps(data)
    saved = report.save(tmp_path / "rep")
    assert (tmp_path / "rep" / "report.html").is_file() and (tmp_path / "rep" / "report.json").is_file()
    assert data["meta"]["source"] == "builtin:machinery_tickets" and saved is not None
    assert data["splits"] == {"train": 148, "validation": 18, "test": 18}
    assert data["cleaning"]["dropped_by_reason"] == {"empty_response": 3, "empty_prompt": 2, "duplicate": 3}


def test_from_documents_gives_passages_and_reports_empty_files(tmp_path):
    docs = tmp_path / "docs"
    (docs / "bio").mkdir(parents=True)
    (docs / "bio" / "early.html").write_text(
        "<html><head><title>Early years</title><script>track()</script></head><body><nav>Menu</nav>"
        "<h1>Early years</h1><p>Hồ Chí Minh was born in 1890 in Nghệ An province. He left Vietnam in 1911 "
        "aboard a French steamer. Dr. Smith is not part of this story.</p></body></html>",
        encoding="utf-8",
    )
    (docs / "plugin.md").write_text(
        "# Caching plugin\n\nTo purge the cache, open **Settings**. Then click Purge.\n"
    )
    (docs / "empty.txt").write_text("   \n")
    builder = DatasetBuilder.from_documents(docs, min_passage_chars=10)
    ds = builder.dataset
    assert set(ds["source"]) == {"bio/early.html", "plugin.md"}
    text = "\n".join(ds["text"])
    assert "Hồ Chí Minh" in text and "track()" not in text and "Menu" not in text and "**" not in text
    assert all(i.startswith(s + "#") for i, s in zip(ds["id"], ds["source"], strict=True))
    assert [r["source"] for r in builder.dropped()] == ["empty.txt"]
