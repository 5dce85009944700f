from __future__ import annotations

import json

import pandas as pd
import pytest

from domainft.data import readers
from domainft.data.readers import READERS, read_records, reader_for_path, register_reader
from domainft.data.samples import available_builtins, builtin_path
from domainft.errors import ConfigError, DataError, DataFileNotFoundError

RECORDS = [
    {"id": "T1", "prompt": "Spindle noise?", "response": "Replace the bearing, then run in.", "hours": 2.5},
    {
        "id": "T2",
        "prompt": 'Chuck, "low pressure"',
        "response": "Reset the switch.\nTest clamping.",
        "hours": 1.0,
    },
    {"id": "T3", "prompt": "Größe der Düse?", "response": "NA", "hours": 0.5},
]


def _write(path, fmt):
    if fmt == "jsonl":
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in RECORDS), encoding="utf-8")
    elif fmt == "json":
        path.write_text(json.dumps(RECORDS, ensure_ascii=False), encoding="utf-8")
    elif fmt == "csv":
        pd.DataFrame(RECORDS).to_csv(path, index=False)
    elif fmt == "tsv":
        pd.DataFrame(RECORDS).to_csv(path, index=False, sep="\t")
    elif fmt == "parquet":
        pd.DataFrame(RECORDS).to_parquet(path, index=False)


@pytest.mark.parametrize("fmt", ["csv", "tsv", "json", "jsonl", "parquet"])
def test_round_trip_every_builtin_format(tmp_path, fmt):
    path = tmp_path / f"data.{fmt}"
    _write(path, fmt)
    ds = read_records(path)
    assert ds.column_names == ["id", "prompt", "response", "hours"]
    assert ds.to_list() == RECORDS  # "NA" stays text, newlines and quotes survive
    assert ds.features["prompt"].dtype == "string"


def test_explicit_format_overrides_suffix(tmp_path):
    path = tmp_path / "data.txt"
    _write(path, "jsonl")
    assert read_records(path, reader="jsonl").num_rows == 3
    assert read_records(path, reader="JSONL").num_rows == 3


def test_csv_empty_cell_is_none(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("prompt,response\nq1,\nq2,a2\n", encoding="utf-8")
    assert read_records(path)["response"] == [None, "a2"]


def test_missing_file_names_path(tmp_path):
    path = tmp_path / "nope.jsonl"
    with pytest.raises(DataFileNotFoundError, match=r"nope.jsonl"):
        read_records(path)
    with pytest.raises(FileNotFoundError):  # still the built-in kind
        read_records(tmp_path)


def test_malformed_jsonl_names_file_line_and_column(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"prompt": "a", "response": "b"}\n\n{"prompt": "c", "response": }\n', encoding="utf-8")
    with pytest.raises(DataError) as err:
        read_records(path)
    msg = str(err.value)
    assert "bad.jsonl:3:" in msg
    assert "line 3" in msg and "column 29" in msg  # the "}" after "response":
    assert "fix or delete" in msg


def test_jsonl_skips_blank_lines_and_unions_keys(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"prompt": "a", "response": "b"}\n\n   \n{"prompt": "c", "response": "d", "extra": 1}\n')
    ds = read_records(path)
    assert ds.num_rows == 2
    assert ds["extra"] == [None, 1]


def test_jsonl_line_that_is_not_an_object(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"prompt": "a", "response": "b"}\n[1, 2]\n')
    with pytest.raises(DataError, match=r"d\.jsonl:2: line 2 holds a JSON list"):
        read_records(path)


def test_jsonl_mixed_types_name_column_and_lines(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"prompt": "a", "hours": 2}\n{"prompt": "b", "hours": "two"}\n')
    with pytest.raises(DataError, match=r"column 'hours' mixes value types \(int at line 1, str at line 2\)"):
        read_records(path)


@pytest.mark.parametrize(
    ("content", "expected"),
    [('{"data": [{"prompt": "a"}]}', "got dict"), ("[1, 2]", "element 0"), ('"text"', "got str")],
)
def test_json_that_is_not_a_list_of_objects(tmp_path, content, expected):
    path = tmp_path / "d.json"
    path.write_text(content)
    with pytest.raises(DataError, match=expected):
        read_records(path)


def test_invalid_json_names_line(tmp_path):
    path = tmp_path / "d.json"
    path.write_text('[\n{"prompt": "a"},\n{"prompt" "b"}\n]')
    with pytest.raises(DataError, match=r"d\.json:3:\d+: invalid JSON"):
        read_records(path)


def test_unknown_suffix_lists_known_readers(tmp_path):
    path = tmp_path / "data.xml"
    path.write_text("x")
    with pytest.raises(DataError) as err:
        read_records(path)
    for name in ("csv", "tsv", "json", "jsonl", "parquet", "xlsx"):
        assert name in str(err.value)


def test_unknown_explicit_reader(tmp_path):
    path = tmp_path / "data.jsonl"
    _write(path, "jsonl")
    with pytest.raises(ConfigError, match="unknown file reader 'yaml'"):
        read_records(path, reader="yaml")


def test_empty_file_is_an_error(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("\n\n")
    with pytest.raises(DataError, match="no records found"):
        read_records(path)


def test_reader_for_path():
    assert reader_for_path("a/b.JSONL") == "jsonl"
    assert reader_for_path("x.ndjson") == "jsonl"
    assert reader_for_path("x.tab") == "tsv"


@pytest.fixture
def restore_registry():
    items, suffixes = dict(READERS._items), dict(readers._SUFFIXES)
    yield
    READERS._items.clear()
    READERS._items.update(items)
    readers._SUFFIXES.clear()
    readers._SUFFIXES.update(suffixes)


def test_register_reader_with_custom_reader(tmp_path, restore_registry):
    @register_reader("pipes", suffixes=["pipes"])
    def read_pipes(path):
        return [
            dict(zip(("prompt", "response"), line.split("|"), strict=True))
            for line in path.read_text().splitlines()
        ]

    path = tmp_path / "faq.pipes"
    path.write_text("Oil?|Every 500 h.\nBelt?|Tighten it.\n")
    ds = read_records(path)
    assert ds.to_list() == [
        {"prompt": "Oil?", "response": "Every 500 h."},
        {"prompt": "Belt?", "response": "Tighten it."},
    ]
    assert "pipes" in readers.known_readers()

    @register_reader("frame")
    def read_frame(path):
        return pd.DataFrame({"prompt": ["p"], "response": ["r"]})

    assert read_records(path, reader="frame").to_list() == [{"prompt": "p", "response": "r"}]

    with pytest.raises(ConfigError, match="already registered"):
        register_reader("pipes")(read_pipes)
    with pytest.raises(ConfigError, match=r"suffix '.csv' already belongs to reader 'csv'"):
        register_reader("mycsv", suffixes=[".csv"])


def test_custom_reader_errors_are_wrapped(tmp_path, restore_registry):
    @register_reader("broken", suffixes=[".broken"])
    def read_broken(path):
        raise RuntimeError("boom")

    path = tmp_path / "x.broken"
    path.write_text("x")
    with pytest.raises(DataError, match=r"x\.broken: cannot read as broken: RuntimeError: boom"):
        read_records(path)


def test_builtin_machinery_tickets_resolves_and_reads():
    path = builtin_path("builtin:machinery_tickets")
    assert path.name == "machinery_tickets.jsonl" and path.is_file()
    assert builtin_path("machinery_tickets") == path
    assert "machinery_tickets" in available_builtins()
    ds = read_records("builtin:machinery_tickets")
    assert ds.num_rows > 0
    assert {"id", "machine_type", "problem", "cause", "solution", "hours"} <= set(ds.column_names)


def test_unknown_builtin_lists_available():
    with pytest.raises(
        DataError, match=r"unknown built-in dataset 'builtin:nope'; available: .*machinery_tickets"
    ):
        builtin_path("builtin:nope")
    with pytest.raises(DataError):
        builtin_path("../formats")


# ------------------------------------------------------------------------------------- more sources


def test_xlsx_reads_first_or_named_sheet_and_dates(tmp_path):
    path = tmp_path / "tickets.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame({"note": ["x"]}).to_excel(writer, sheet_name="Readme", index=False)
        pd.DataFrame(
            {
                "problem": ["Spindle stalls", "NA"],
                "solution": ["Replace the belt", "Check the fuse"],
                "opened": pd.to_datetime(["2024-03-01 08:30", "2024-03-02 00:00"]),
                "hours": [1.5, 2.0],
            }
        ).to_excel(writer, sheet_name="Tickets", index=False)
    ds = read_records(path, sheet="Tickets")
    assert ds.column_names == ["problem", "solution", "opened", "hours"]
    assert ds["problem"] == ["Spindle stalls", "NA"]  # "NA" stays text
    assert ds["opened"][0].startswith("2024-03-01T08:30")
    assert read_records(path).column_names == ["note"]
    with pytest.raises(DataError, match=r"no sheet 'Nope'; the workbook has sheets \['Readme', 'Tickets'\]"):
        read_records(path, sheet="Nope")


def test_corrupt_xlsx_is_a_clear_error(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"not a zip")
    with pytest.raises(DataError, match=r"broken\.xlsx: not a readable \.xlsx workbook"):
        read_records(path)


@pytest.mark.parametrize("suffix", ["jsonl", "csv", "json"])
def test_non_utf8_bytes_name_line_and_column(tmp_path, suffix):
    path = tmp_path / f"latin.{suffix}"
    body = {
        "jsonl": b'{"prompt": "ok", "response": "ok"}\n{"prompt": "Caf\xe9", "response": "x"}\n',
        "csv": b"prompt,response\nok,ok\nCaf\xe9,x\n",
        "json": b'[\n{"prompt": "ok", "response": "ok"},\n{"prompt": "Caf\xe9", "response": "x"}\n]',
    }[suffix]
    path.write_bytes(body)
    line = 2 if suffix == "jsonl" else 3
    col = body.split(b"\n")[line - 1].index(b"\xe9") + 1
    with pytest.raises(DataError, match=rf"latin\.{suffix}:{line}:{col}: .*byte 0xe9 is not valid utf-8"):
        read_records(path)
    assert read_records(path, encoding="latin-1").num_rows == 2


def test_bom_is_accepted_and_error_columns_count_after_it(tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"prompt": "a", "response": "b"}\n')
    assert read_records(path)["prompt"] == ["a"]


def test_empty_and_whitespace_files(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match=r"empty\.csv: the file is empty \(0 bytes\)"):
        read_records(empty)
    blank = tmp_path / "blank.csv"
    blank.write_text("  \n")
    with pytest.raises(DataError, match="only whitespace"):
        read_records(blank)


def test_wrong_value_types_name_the_column_and_lines(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_text('{"prompt": "a", "response": "b"}\n\n{"prompt": ["a"], "response": "c"}\n')
    with pytest.raises(
        DataError, match=r"column 'prompt' mixes value types \(str at line 1, list at line 3\)"
    ):
        read_records(path)


def test_reader_options_are_checked(tmp_path):
    path = tmp_path / "d.jsonl"
    _write(path, "jsonl")
    with pytest.raises(ConfigError, match="does not take option"):
        read_records(path, sheet="x")


def test_saved_dataset_folders_round_trip(tmp_path):
    from datasets import Dataset, DatasetDict

    from domainft.data.builder import DatasetBuilder

    dsd = DatasetDict(
        train=Dataset.from_list([{"prompt": f"q{i}", "response": f"a{i}"} for i in range(6)]),
        dev=Dataset.from_list([{"prompt": "qv", "response": "av"}]),
        test=Dataset.from_list([{"prompt": "qt", "response": "at"}]),
    )
    dsd.save_to_disk(str(tmp_path / "saved"))
    out = DatasetBuilder.from_file(tmp_path / "saved").build()
    assert (out["train"].num_rows, out["validation"]["prompt"], out["test"]["prompt"]) == (6, ["qv"], ["qt"])
    assert "split" not in out["train"].column_names
    resplit = DatasetBuilder.from_file(tmp_path / "saved").split(validation=2, test=2).build()
    assert [resplit[s].num_rows for s in ("train", "validation", "test")] == [4, 2, 2]
    dsd["train"].save_to_disk(str(tmp_path / "one"))
    assert DatasetBuilder.from_file(tmp_path / "one").build()["train"].num_rows == 4
