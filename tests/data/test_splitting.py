from __future__ import annotations

import re
import statistics

import pytest
from datasets import Dataset

from domainft.data.splitting import split_dataset, split_sizes
from domainft.errors import ConfigError, DataError


def _ds(n: int) -> Dataset:
    return Dataset.from_dict(
        {"id": [f"r{i}" for i in range(n)], "prompt": ["p"] * n, "response": ["r" * i for i in range(n)]}
    )


@pytest.mark.parametrize(
    ("n", "val", "test", "expected"),
    [
        (100, 0.1, 0.1, (80, 10, 10)),
        (10, 0.15, 0.25, (5, 2, 3)),  # 1.5 and 2.5 both round half up
        (3, 0.01, 0.01, (1, 1, 1)),  # each non-zero split gets >= 1 row
        (5, 0.0, 0.2, (4, 0, 1)),
        (7, 0.0, 0.0, (7, 0, 0)),
    ],
)
def test_split_sizes(n, val, test, expected):
    assert split_sizes(n, val, test) == expected
    dsd = split_dataset(_ds(n), validation=val, test=test)
    assert tuple(dsd[s].num_rows for s in ("train", "validation", "test")) == expected


def test_deterministic_and_seed_dependent():
    ds = _ds(50)
    a = split_dataset(ds, seed=7)
    b = split_dataset(ds, seed=7)
    c = split_dataset(ds, seed=8)
    assert all(a[s]["id"] == b[s]["id"] for s in a)
    assert a["test"]["id"] != c["test"]["id"]


@pytest.mark.parametrize("stratify", [None, "length"])
def test_splits_are_disjoint_and_complete(stratify):
    ds = _ds(60)
    dsd = split_dataset(ds, validation=0.2, test=0.1, stratify=stratify)
    ids = [set(dsd[s]["id"]) for s in ("train", "validation", "test")]
    assert ids[0].isdisjoint(ids[1]) and ids[0].isdisjoint(ids[2]) and ids[1].isdisjoint(ids[2])
    assert set().union(*ids) == set(ds["id"])
    for s in dsd:  # original order kept inside each split
        assert dsd[s]["id"] == sorted(dsd[s]["id"], key=lambda x: int(x[1:]))


def test_zero_fraction_gives_empty_split_with_columns():
    dsd = split_dataset(_ds(10), validation=0.0, test=0.3)
    assert dsd["validation"].num_rows == 0
    assert dsd["validation"].column_names == ["id", "prompt", "response"]
    assert dsd["validation"].features == dsd["train"].features


def test_stratify_length_keeps_distributions_close(long_tail_records):
    ds = Dataset.from_list(long_tail_records)
    lengths = {
        s: [len(r) for r in split["response"]]
        for s, split in split_dataset(ds, validation=0.1, test=0.1, stratify="length", seed=3).items()
    }
    assert [len(v) for v in lengths.values()] == [160, 20, 20]
    med = {s: statistics.median(v) for s, v in lengths.items()}
    for s in ("validation", "test"):
        assert abs(med[s] - med["train"]) <= 0.25 * med["train"], med
        # every length decile of the whole set is represented in the small splits
        assert min(v for v in lengths[s]) <= sorted(lengths["train"])[16]
        assert max(v for v in lengths[s]) >= sorted(lengths["train"])[-17]


def test_stratify_beats_random_on_spread(long_tail_records):
    """Over several seeds, stratified splits track the train median more tightly than random ones."""
    ds = Dataset.from_list(long_tail_records)

    def spread(stratify):
        gaps = []
        for seed in range(8):
            dsd = split_dataset(ds, validation=0.1, test=0.1, stratify=stratify, seed=seed)
            train = statistics.median(len(r) for r in dsd["train"]["response"])
            gaps.append(abs(statistics.median(len(r) for r in dsd["test"]["response"]) - train))
        return statistics.mean(gaps)

    assert spread("length") < spread(None)


def test_stratify_falls_back_on_tiny_data():
    dsd = split_dataset(_ds(4), validation=0.25, test=0.25, stratify="length")
    assert [dsd[s].num_rows for s in ("train", "validation", "test")] == [2, 1, 1]


def test_stratify_needs_response():
    ds = Dataset.from_dict({"prompt": ["a"] * 10})
    with pytest.raises(DataError, match="stratify='length' needs a 'response' column; found columns: prompt"):
        split_dataset(ds, stratify="length")


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"validation": -0.1}, "validation"),
        ({"test": 1.0}, "test"),
        ({"validation": 1.5}, "validation"),
        ({"validation": 0.5, "test": 0.5}, "validation + test"),
        ({"test": "0.1"}, "test"),
        ({"stratify": "topic"}, "stratify"),
    ],
)
def test_invalid_arguments(kwargs, name):
    with pytest.raises(ConfigError, match=f"^{re.escape(name)}:"):
        split_dataset(_ds(10), **kwargs)


def test_too_small_and_empty():
    with pytest.raises(DataError, match=r"too small to split: 2 row.*at least 3 rows"):
        split_dataset(_ds(2), validation=0.1, test=0.1)
    with pytest.raises(DataError, match="empty"):
        split_dataset(_ds(0))
    assert split_dataset(_ds(1), validation=0, test=0)["train"].num_rows == 1


# ------------------------------------------------------------------------------------- sizes, groups, columns


def test_absolute_sizes_and_unused_rows():
    from domainft.data.splitting import split_indices

    ds = _ds(600)
    parts = split_indices(ds, validation=0, test=30, train=470, seed=1)
    assert [len(parts[s]) for s in ("train", "validation", "test", "unused")] == [470, 0, 30, 100]
    assert sorted(i for part in parts.values() for i in part) == list(range(600))
    dsd = split_dataset(ds, validation=10, test=0.05)
    assert [dsd[s].num_rows for s in ("train", "validation", "test")] == [560, 10, 30]


def test_sizes_are_validated():
    with pytest.raises(ConfigError, match=r"test: a float is a fraction in \[0, 1\).*give an int"):
        split_sizes(10, 0.1, 1.5)
    with pytest.raises(ConfigError, match="row count must be >= 0"):
        split_sizes(10, -1, 0)
    with pytest.raises(DataError, match="provide at least 61 rows"):
        split_sizes(50, 10, 1, train=50)


def test_group_split_never_spans_two_splits():
    from domainft.data.splitting import split_indices

    groups = [f"T{i // 3}" for i in range(90)] + [f"big{i // 20}" for i in range(40)]
    ds = Dataset.from_dict(
        {
            "id": [f"r{i}" for i in range(130)],
            "prompt": ["p"] * 130,
            "response": ["r"] * 130,
            "ticket": groups,
        }
    )
    parts = split_indices(ds, validation=0.1, test=0.2, group_by="ticket", seed=3)
    owner = {}
    for name in ("train", "validation", "test"):
        for i in parts[name]:
            assert owner.setdefault(groups[i], name) == name
    assert abs(len(parts["test"]) - 26) <= 3 and abs(len(parts["validation"]) - 13) <= 3
    assert sum(len(v) for v in parts.values()) == 130
    again = split_indices(ds, validation=0.1, test=0.2, group_by="ticket", seed=3)
    assert again == parts
    with pytest.raises(ConfigError, match="group_by and stratify"):
        split_indices(ds, group_by="ticket", stratify="length")


def test_split_from_a_column():
    ds = Dataset.from_dict(
        {
            "id": list("abcde"),
            "prompt": ["p"] * 5,
            "response": ["r"] * 5,
            "fold": ["train", "dev", "TEST", "train", "val"],
        }
    )
    dsd = split_dataset(ds, by_column="fold")
    assert dsd["validation"]["id"] == ["b", "e"] and dsd["test"]["id"] == ["c"]
    bad = ds.map(lambda r: {"fold": "holdout" if r["id"] == "d" else r["fold"]})
    with pytest.raises(DataError, match=r"'holdout' \(row 3\)"):
        split_dataset(bad, by_column="fold")
