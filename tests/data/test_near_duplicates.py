from __future__ import annotations

import dataclasses
import doctest
import random
import time

import pytest

from domainft.data import near_duplicates
from domainft.data.near_duplicates import (
    NearDuplicate,
    cosine_pairs,
    known_near_duplicate_methods,
    near_duplicate_groups,
    near_duplicate_pairs,
    register_near_duplicate_method,
)
from domainft.errors import ConfigError

METHODS = ["tfidf", "minhash"]


def _corpus(n: int, seed: int = 0) -> list[str]:
    """``n`` distinct maintenance-ticket-like sentences built from a random vocabulary."""
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = ["".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(2000)]
    glue = ["the", "a", "of", "and", "on", "for", "with", "is", "how", "do", "i"]
    texts = set()
    while len(texts) < n:
        words = [
            rng.choice(glue) if rng.random() < 0.3 else rng.choice(vocab) for _ in range(rng.randint(10, 25))
        ]
        texts.add(" ".join(words).capitalize() + "?")
    return sorted(texts)


def _edit(text: str, rng: random.Random, n_chars: int = 2) -> str:
    """Change ``n_chars`` letters in the middle of words (a typo-level edit)."""
    chars = list(text)
    positions = [k for k in range(1, len(chars) - 1) if chars[k].isalpha() and chars[k - 1].isalpha()]
    for k in rng.sample(positions, n_chars):
        chars[k] = "z" if chars[k] != "z" else "y"
    return "".join(chars)


@pytest.fixture(scope="module")
def planted() -> tuple[list[str], set[tuple[int, int]]]:
    """300 distinct texts plus 30 lightly edited copies appended at the end (copy of row k at 300 + k)."""
    rng = random.Random(1)
    base = _corpus(300)
    sources = rng.sample(range(300), 30)
    copies = [_edit(base[k], rng) for k in sources]
    expected = {(k, 300 + m) for m, k in enumerate(sources)}
    return base + copies, expected


@pytest.mark.parametrize("method", METHODS)
def test_planted_near_duplicates_are_found_and_nothing_else(planted, method):
    texts, expected = planted
    pairs = near_duplicate_pairs(texts, threshold=0.6, method=method)
    assert {(p.i, p.j) for p in pairs} == expected
    assert all(0.6 <= p.similarity < 1.0 for p in pairs)
    assert pairs == sorted(pairs)
    assert all(p.i < p.j for p in pairs)


@pytest.mark.parametrize("method", METHODS)
def test_different_texts_are_not_matched(method):
    texts = _corpus(200, seed=5)
    assert near_duplicate_pairs(texts, threshold=0.6, method=method) == []


@pytest.mark.parametrize("method", METHODS)
def test_exact_duplicates_reach_similarity_one_even_at_threshold_one(method):
    texts = ["Check the oil level before start.", "Tighten the belt.", "check  the oil level before start. "]
    pairs = near_duplicate_pairs(texts, threshold=1.0, method=method)
    assert [(p.i, p.j) for p in pairs] == [(0, 2)]  # lower-cased, whitespace-normalised
    assert pairs[0].similarity == pytest.approx(1.0)
    # case-sensitive comparison no longer calls them identical
    assert near_duplicate_pairs(texts, threshold=1.0, method=method, lowercase=False) == []


@pytest.mark.parametrize("method", METHODS)
def test_threshold_changes_results(method):
    rng = random.Random(3)
    base = _corpus(50, seed=9)
    light = _edit(base[0], rng, 1)
    heavy = _edit(base[1], rng, 12)
    texts = [*base, light, heavy]
    loose = {(p.i, p.j) for p in near_duplicate_pairs(texts, threshold=0.3, method=method)}
    strict = {(p.i, p.j) for p in near_duplicate_pairs(texts, threshold=0.85, method=method)}
    assert {(0, 50), (1, 51)} <= loose
    assert strict == {(0, 50)}
    assert strict < loose


@pytest.mark.parametrize("method", METHODS)
def test_cross_set_pairs_index_each_set(planted, method):
    texts, expected = planted
    train, test = texts[:300], texts[300:]
    pairs = near_duplicate_pairs(train, test, threshold=0.6, method=method)
    assert {(p.i, p.j + 300) for p in pairs} == expected
    # cross-set pairs may have i >= j, and duplicates inside one set are not reported
    dup_train = [*train, train[0]]
    pairs = near_duplicate_pairs(dup_train, ["unrelated words entirely here"], threshold=0.6, method=method)
    assert pairs == []
    same = near_duplicate_pairs(
        ["zzz alpha beta gamma", "delta epsilon zeta"], ["delta epsilon zeta"], method=method
    )
    assert [(p.i, p.j) for p in same] == [(1, 0)]


@pytest.mark.parametrize("method", METHODS)
def test_empty_and_none_are_never_matched(method):
    texts = ["", None, "   ", "Replace the filter.", "", None, "Replace the filter.", "\n"]
    pairs = near_duplicate_pairs(texts, threshold=0.9, method=method)
    assert [(p.i, p.j) for p in pairs] == [(3, 6)]
    assert near_duplicate_groups(texts, 0.9, method) == [None, None, None, None, None, None, 3, None]
    assert near_duplicate_pairs(["", None], [None, ""], method=method) == []
    assert near_duplicate_pairs([], method=method) == []
    assert near_duplicate_pairs(["only one"], method=method) == []


def test_groups_keep_the_first_and_follow_chains():
    a = "The hydraulic press stops when the oil temperature rises above ninety degrees."
    b = a.replace("ninety", "ninety-five")
    c = b.replace("press stops", "press halts")
    other = "Grease the conveyor bearings every two hundred hours of operation."
    texts = [other, a, "", b, c, other.upper()]
    pairs = {(p.i, p.j) for p in near_duplicate_pairs(texts, threshold=0.8)}
    assert (1, 3) in pairs and (3, 4) in pairs
    groups = near_duplicate_groups(texts, threshold=0.8)
    assert groups == [None, None, None, 1, 1, 0]
    # a cleaning step keeps the rows whose value is None: the first of each group
    assert [t for t, g in zip(texts, groups, strict=True) if g is None and t] == [other, a]


def test_groups_root_is_the_smallest_index_whatever_the_pair_order():
    # rows 2 and 3 are linked first through row 4, then row 0 joins: every member points at row 0
    texts = [
        "alpha beta gamma delta one",
        "something else",
        "alpha beta gamma delta two",
        "alpha beta gamma delta two!",
    ]
    groups = near_duplicate_groups(texts, threshold=0.5, method="minhash", shingles="word", ngram=1)
    assert groups == [None, None, 0, 0]


def test_tfidf_is_exact_against_a_dense_reference():
    """The rare/common split never loses a pair: compare with the full dense cosine matrix."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    rng = random.Random(2)
    words = ["the", "a", "oil", "belt", "press", "reset", "pump", "valve", "check", "fault", "how", "do", "i"]
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 6))) for _ in range(300)]
    x = (
        TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
        .fit_transform(texts)
        .tocsr()
    )
    dense = (x @ x.T).toarray()
    for threshold in (0.3, 0.8, 1.0):
        upper = np.triu(dense >= threshold - 1e-9, k=1)
        want = set(zip(*np.nonzero(upper), strict=True))
        for common_cost in (None, 0, 5, 100, 1e12):  # everything common ... everything rare
            got = cosine_pairs(x, None, threshold, common_cost=common_cost, block_size=300)
            assert {(i, j) for i, j, _ in got} == want
        cross = cosine_pairs(x[:100], x[100:], threshold, common_cost=20, block_size=50)
        want_cross = set(zip(*np.nonzero(dense[:100, 100:] >= threshold - 1e-9), strict=True))
        assert {(i, j) for i, j, _ in cross} == want_cross
        for i, j, sim in cross:
            assert sim == pytest.approx(dense[i, 100 + j])


def test_tfidf_block_size_bounds_work_not_results(planted):
    texts, expected = planted
    small = near_duplicate_pairs(texts, threshold=0.6, block_size=1)
    big = near_duplicate_pairs(texts, threshold=0.6, block_size=10**9)
    assert small == big
    assert {(p.i, p.j) for p in small} == expected


def test_tfidf_options():
    texts = ["reset the press now", "press the reset now"]
    # same words in another order: word unigrams and char_wb n-grams (which stay inside words) see the
    # same text; plain character n-grams cross word boundaries and see the new order
    word = near_duplicate_pairs(texts, threshold=0.99, analyzer="word", ngram_range=(1, 1))
    char_wb = near_duplicate_pairs(texts, threshold=0.99)
    char = near_duplicate_pairs(texts, threshold=0.9, analyzer="char")
    assert [(p.i, p.j) for p in word] == [(0, 1)] == [(p.i, p.j) for p in char_wb]
    assert char == []
    no_idf = near_duplicate_pairs(
        ["Grease the bearing."], ["Grease the bearing!"], threshold=0.01, use_idf=False
    )
    assert no_idf[0].similarity > 0.8
    # texts without any n-gram of the requested length cannot match (and do not crash)
    assert near_duplicate_pairs(["a", "b"], analyzer="word", threshold=0.5) == []


def test_minhash_options_and_determinism(planted):
    texts, expected = planted
    first = near_duplicate_pairs(texts, threshold=0.6, method="minhash", seed=7, num_perm=64)
    again = near_duplicate_pairs(texts, threshold=0.6, method="minhash", seed=7, num_perm=64)
    assert first == again
    assert {(p.i, p.j) for p in first} == expected
    estimated = near_duplicate_pairs(texts, threshold=0.5, method="minhash", similarity="estimated")
    exact = {(p.i, p.j): p.similarity for p in near_duplicate_pairs(texts, threshold=0.5, method="minhash")}
    assert {(p.i, p.j) for p in estimated} <= set(exact) | expected
    for p in estimated:
        if (p.i, p.j) in exact:
            assert abs(p.similarity - exact[(p.i, p.j)]) < 0.2  # an estimate of the same Jaccard
    words = near_duplicate_pairs(texts, threshold=0.5, method="minhash", shingles="word", ngram=1)
    assert expected & {(p.i, p.j) for p in words}


def test_errors_are_config_errors_that_say_what_to_do():
    for bad in (0, -0.1, 1.01, float("nan"), "0.9", True, None):
        with pytest.raises(ConfigError, match=r"threshold must be a number in \(0, 1\]"):
            near_duplicate_pairs(["a", "b"], threshold=bad)
    with pytest.raises(ConfigError, match="unknown near-duplicate method 'simhash'; known: .*minhash.*tfidf"):
        near_duplicate_pairs(["a", "b"], method="simhash")
    with pytest.raises(ConfigError, match="unknown option.*'ngram'.*'tfidf'; accepted: analyzer, block_size"):
        near_duplicate_pairs(["a", "b"], ngram=3)
    with pytest.raises(ConfigError, match="analyzer"):
        near_duplicate_pairs(["a b", "a c"], analyzer="bytes")
    with pytest.raises(ConfigError, match="ngram_range"):
        near_duplicate_pairs(["a b", "a c"], ngram_range=(5, 3))
    with pytest.raises(ConfigError, match="shingles"):
        near_duplicate_pairs(["a b", "a c"], method="minhash", shingles="lines")
    with pytest.raises(ConfigError, match="single string"):
        near_duplicate_pairs("just one string")
    with pytest.raises(ConfigError, match="text 1: expected a string or None, got int"):
        near_duplicate_pairs(["a", 3])


def test_register_a_method():
    def exact_match(a, b, *, threshold, progress, casefold=True):
        b_list = a if b is None else b
        key = str.casefold if casefold else str
        return [
            (i, j, 1.0)
            for i, x in enumerate(a)
            for j, y in enumerate(b_list)
            if key(x) == key(y) and (b is not None or i < j)
        ]

    register_near_duplicate_method("test_exact_match", exact_match)
    assert "test_exact_match" in known_near_duplicate_methods()
    texts = ["Pump", "pump", None, "PUMP", "valve"]
    assert near_duplicate_groups(texts, 1.0, "test_exact_match") == [None, 0, None, 0, None]
    assert near_duplicate_pairs(texts, method="test_exact_match", casefold=False) == []
    with pytest.raises(ConfigError, match="already registered"):
        register_near_duplicate_method("test_exact_match", exact_match)


def test_near_duplicate_is_a_frozen_ordered_value():
    p = NearDuplicate(1, 2, 0.95)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.i = 3  # type: ignore[misc]
    assert NearDuplicate(0, 5, 0.9) < p
    assert dataclasses.asdict(p) == {"i": 1, "j": 2, "similarity": 0.95}


def test_docstring_examples_run():
    result = doctest.testmod(near_duplicates)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("method", METHODS)
def test_a_few_thousand_rows_stay_fast(method):
    rng = random.Random(4)
    texts = _corpus(3000, seed=11)
    texts += [_edit(texts[k], rng) for k in range(0, 3000, 100)]
    start = time.perf_counter()
    pairs = near_duplicate_pairs(texts, threshold=0.6, method=method)
    elapsed = time.perf_counter() - start
    assert {(p.i, p.j) for p in pairs} == {(k, 3000 + m) for m, k in enumerate(range(0, 3000, 100))}
    assert elapsed < 15  # generous on a shared 2-core machine; measured ~1 s


@pytest.mark.slow
@pytest.mark.parametrize("method", METHODS)
def test_twenty_thousand_rows(method):
    rng = random.Random(6)
    texts = _corpus(20_000, seed=12)
    planted_at = list(range(0, 20_000, 500))
    texts += [_edit(texts[k], rng) for k in planted_at]
    start = time.perf_counter()
    pairs = near_duplicate_pairs(texts, threshold=0.6, method=method)
    elapsed = time.perf_counter() - start
    assert {(p.i, p.j) for p in pairs} == {(k, 20_000 + m) for m, k in enumerate(planted_at)}
    assert elapsed < 120  # measured ~5-7 s on 2 cores
