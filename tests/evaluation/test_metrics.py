"""Metric registry, the Metric contract, and equality of ROUGE/BLEU with rouge_score/sacrebleu."""

from __future__ import annotations

import math
import subprocess
import sys
import unicodedata

import numpy as np
import pytest
import sacrebleu
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
from rouge_score import rouge_scorer, tokenizers

from domainft.errors import ConfigError
from domainft.evaluation.metrics import METRICS as METRIC_REGISTRY
from domainft.evaluation.metrics import (
    EvaluateModuleMetric,
    Metric,
    MetricOutput,
    available_metrics,
    get_metric,
    register_metric,
)
from domainft.evaluation.metrics.lexical import (
    ROUGE_TYPES,
    BleuMetric,
    ChrfMetric,
    ExactMatchMetric,
    RougeMetric,
    SentenceBleuMetric,
    UnicodeTokenizer,
)

ASCII_PAIRS = [
    ("The quick brown fox jumps over the lazy dog.", "A quick brown dog jumped over the lazy foxes!"),
    ("It's 3:45pm; the U.S.A. won 2-1 in 2022.", "At 3:45 PM the USA won 2 - 1 (2022)."),
    ("Running runners ran; they're RUNNING again...", "the runner runs and they are running"),
    ("don't stop believing", "Don't Stop Believin'"),
    ("generously giving agreed skies, dying lying", "generous gifts agree sky die lie"),
    ("snake_case and kebab-case and CamelCase", "snake case, kebab case, camelcase"),
    ("Price: $1,299.99 (incl. VAT) #deal @home", "price 1299.99 incl vat deal home"),
    ("First line here.\nSecond line there.", "First line there.\nSecond line here.\nThird."),
    ("", "an empty prediction scores zero"),
    ("   ", "whitespace only"),
    ("ab cd ef", "ab cd ef"),
]
ASCII_TEXTS = [t for pair in ASCII_PAIRS for t in pair]


@pytest.fixture
def isolated_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let a test register metrics without leaking them into other tests."""
    monkeypatch.setattr(METRIC_REGISTRY, "_items", dict(METRIC_REGISTRY._items))


# ---------------------------------------------------------------- tokenizer
@pytest.mark.parametrize("text", ASCII_TEXTS)
def test_unicode_tokenizer_equals_rouge_default_tokenizer_on_ascii(text: str) -> None:
    assert UnicodeTokenizer().tokenize(text) == tokenizers.DefaultTokenizer(use_stemmer=True).tokenize(text)
    assert UnicodeTokenizer(use_stemmer=False).tokenize(text) == tokenizers.DefaultTokenizer().tokenize(text)


def test_unicode_tokenizer_keeps_accents_and_stems_only_ascii() -> None:
    tok = UnicodeTokenizer()
    assert tok.tokenize("Thành phố Hồ Chí Minh") == ["thành", "phố", "hồ", "chí", "minh"]
    assert tok.tokenize("Perché la città è bella? Università!") == [
        "perché",
        "la",
        "città",
        "è",
        "bella",
        "università",
    ]
    # ASCII words are stemmed as rouge_score does; non-ASCII words are left alone.
    assert tok.tokenize("running città running") == ["run", "città", "run"]
    assert tok.tokenize("Größenordnungen") == ["größenordnungen"]


def test_unicode_tokenizer_normalises_and_keeps_combining_marks() -> None:
    tok = UnicodeTokenizer()
    nfc = "Thành phố Hồ Chí Minh"
    assert tok.tokenize(unicodedata.normalize("NFD", nfc)) == tok.tokenize(nfc)
    # Devanagari vowel signs are combining marks (Mc/Mn): the words must not break apart.
    assert tok.tokenize("हिन्दी भाषा") == ["हिन्दी", "भाषा"]
    assert tok.tokenize("Москва — столица России.") == ["москва", "столица", "россии"]


# ---------------------------------------------------------------- rouge
def _direct_rouge(
    scorer: rouge_scorer.RougeScorer, preds: list[str], refs: list[str]
) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {t: [] for t in ROUGE_TYPES}
    for p, r in zip(preds, refs, strict=True):
        scores = scorer.score(r, p)
        for t in ROUGE_TYPES:
            out[t].append(scores[t].fmeasure)
    return out


def test_rouge_equals_rouge_score_with_stemmer_on_ascii() -> None:
    preds, refs = [p for p, _ in ASCII_PAIRS], [r for _, r in ASCII_PAIRS]
    out = RougeMetric().compute(preds, refs)
    direct = _direct_rouge(rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True), preds, refs)
    assert list(out.values) == list(ROUGE_TYPES)
    for t in ROUGE_TYPES:
        assert out.per_sample[t] == direct[t]
        assert out.values[t] == pytest.approx(float(np.mean(direct[t])), abs=1e-12)
        assert 0.0 < out.values[t] < 1.0
    # rougeLsum differs from rougeL on multi-line text (index 7), as in rouge_score.
    assert out.per_sample["rougeLsum"][7] != out.per_sample["rougeL"][7]
    assert out.per_sample["rouge1"][-1] == 1.0
    assert out.per_sample["rouge1"][8] == 0.0


def test_rouge_on_vietnamese_where_default_tokenizer_fails() -> None:
    default = rouge_scorer.RougeScorer(["rouge1"], use_stemmer=True)
    pred, ref = "tôi ở đây", "bạn ở đó"  # shared word "ở" is entirely non-ASCII
    assert default.score(ref, pred)["rouge1"].fmeasure == 0.0
    ours = RougeMetric().compute([pred], [ref])
    assert ours.values["rouge1"] == pytest.approx(1 / 3)
    # ... and the default tokenizer invents matches: "Hà Nội" vs "Hồ Chí" share the ASCII fragment "h".
    assert default.score("Hà Nội", "Hồ Chí")["rouge1"].fmeasure > 0.0
    assert RougeMetric().compute(["Hồ Chí"], ["Hà Nội"]).values["rouge1"] == 0.0


def test_rouge_on_unicode_equals_rouge_score_with_our_tokenizer() -> None:
    preds = [
        "Thành phố Hồ Chí Minh là thành phố lớn nhất Việt Nam.",
        "La città di Firenze è famosa per il Rinascimento.\nÈ bella.",
        "Die Größe der Stadt überrascht",
    ]
    refs = [
        "Hồ Chí Minh là thành phố đông dân nhất Việt Nam.",
        "Firenze è la città del Rinascimento.\nÈ molto bella.",
        "Die Stadt ist überraschend groß",
    ]
    out = RougeMetric().compute(preds, refs)
    direct = _direct_rouge(
        rouge_scorer.RougeScorer(list(ROUGE_TYPES), tokenizer=UnicodeTokenizer()), preds, refs
    )
    for t in ROUGE_TYPES:
        assert out.per_sample[t] == direct[t]
        assert out.values[t] == pytest.approx(float(np.mean(direct[t])), abs=1e-12)
    assert all(x > 0.3 for x in out.per_sample["rouge1"])


def test_rouge_options() -> None:
    out = RougeMetric(rouge_types=["rouge1", "rougeL"], use_stemmer=False).compute(
        ["cats running"], ["cat run"]
    )
    assert list(out.values) == ["rouge1", "rougeL"]
    assert out.values["rouge1"] == 0.0  # no stemming: "cats" != "cat"
    assert RougeMetric().compute(["cats running"], ["cat run"]).values["rouge1"] == 1.0
    with pytest.raises(ValueError, match="rouge_types"):
        RougeMetric(rouge_types="rouge1")


def test_unicode_tokenizer_stem_memo_is_exact_and_bounded() -> None:
    tok = UnicodeTokenizer()
    tok.STEM_MEMO_SIZE = 5  # small, so the memo fills and starts over many times below
    default = tokenizers.DefaultTokenizer(use_stemmer=True)
    for _ in range(3):  # repeated texts are served from the memo
        for text in ASCII_TEXTS:
            assert tok.tokenize(text) == default.tokenize(text)
            assert len(tok._stems) <= 5
    assert tok.tokenize("Größere Städte wachsen, running") == ["größere", "städte", "wachsen", "run"]


@pytest.mark.parametrize("rouge_types", [["rougeLsum"], ["rouge1", "rougeLsum"], list(ROUGE_TYPES)])
def test_rougelsum_equals_rouge_score_on_single_and_multi_line_text(rouge_types: list[str]) -> None:
    # Single-line pairs take the shortcut rougeLsum = rougeL; multi-line pairs (and a pair with one
    # multi-line side) take rouge_score's summary-level LCS. Both must equal rouge_score itself.
    pairs = [
        *ASCII_PAIRS,
        ("the cat the cat sat", "the cat sat on the cat"),
        ("one line only", "two lines\nhere only"),
        ("one\ntwo\nthree", "one two three"),
    ]
    preds, refs = [p for p, _ in pairs], [r for _, r in pairs]
    measures = ("f", "p", "r")
    out = RougeMetric(rouge_types=rouge_types, measures=measures).compute(preds, refs)
    assert sorted(out.values) == sorted(t + s for t in rouge_types for s in ("", "_precision", "_recall"))
    scorer = rouge_scorer.RougeScorer(rouge_types, tokenizer=UnicodeTokenizer())
    direct = [scorer.score(r, p) for p, r in zip(preds, refs, strict=True)]
    for t in rouge_types:
        assert out.per_sample[t] == [s[t].fmeasure for s in direct]
        assert out.per_sample[t + "_precision"] == [s[t].precision for s in direct]
        assert out.per_sample[t + "_recall"] == [s[t].recall for s in direct]


# ---------------------------------------------------------------- bleu
def test_bleu_equals_sacrebleu() -> None:
    preds = [p for p, _ in ASCII_PAIRS] + ["Thành phố Hồ Chí Minh là thành phố lớn nhất."]
    refs = [r for _, r in ASCII_PAIRS] + ["Hồ Chí Minh là thành phố lớn nhất Việt Nam."]
    out = BleuMetric().compute(preds, refs)
    corpus = sacrebleu.corpus_bleu(preds, [refs])
    assert out.values == {"bleu": corpus.score}
    assert 0.0 < out.values["bleu"] < 100.0
    assert out.per_sample["bleu"] == [
        sacrebleu.sentence_bleu(p, [r]).score for p, r in zip(preds, refs, strict=True)
    ]
    assert out.details["precisions"] == list(corpus.precisions)
    assert out.details["bp"] == corpus.bp
    assert (out.details["sys_len"], out.details["ref_len"]) == (corpus.sys_len, corpus.ref_len)
    assert "tok:13a" in out.details["signature"]


def test_bleu_options_match_sacrebleu() -> None:
    preds, refs = ["The Cat, sat!", "Hello World"], ["the cat sat", "hello world"]
    out = BleuMetric(tokenize="intl", lowercase=True).compute(preds, refs)
    assert out.values["bleu"] == sacrebleu.corpus_bleu(preds, [refs], tokenize="intl", lowercase=True).score
    assert out.per_sample["bleu"] == [
        sacrebleu.sentence_bleu(p, [r], tokenize="intl", lowercase=True).score
        for p, r in zip(preds, refs, strict=True)
    ]


def test_bleu_carries_its_sufficient_statistics() -> None:
    preds, refs = [p for p, _ in ASCII_PAIRS], [r for _, r in ASCII_PAIRS]
    out = BleuMetric().compute(preds, refs)
    stat = out.corpus_statistics["bleu"]
    assert stat.n == len(preds) and stat.full_score() == out.values["bleu"]
    corpus = sacrebleu.corpus_bleu(preds, [refs])
    totals = stat.stats.sum(axis=0)
    assert (totals[0], totals[1]) == (corpus.sys_len, corpus.ref_len)
    assert totals[2:6].tolist() == corpus.counts and totals[6:].tolist() == corpus.totals


# ---------------------------------------------------------------- rouge precision / recall
def test_rouge_precision_and_recall_equal_rouge_score() -> None:
    preds, refs = [p for p, _ in ASCII_PAIRS], [r for _, r in ASCII_PAIRS]
    out = RougeMetric(rouge_types=["rouge1", "rougeL"], measures=("r", "f", "p")).compute(preds, refs)
    assert list(out.values) == [
        "rouge1",
        "rougeL",
        "rouge1_precision",
        "rougeL_precision",
        "rouge1_recall",
        "rougeL_recall",
    ]
    scorer = rouge_scorer.RougeScorer(["rouge1", "rougeL"], use_stemmer=True)
    direct = [scorer.score(r, p) for p, r in zip(preds, refs, strict=True)]
    for t in ("rouge1", "rougeL"):
        assert out.per_sample[t] == [d[t].fmeasure for d in direct]
        assert out.per_sample[f"{t}_precision"] == [d[t].precision for d in direct]
        assert out.per_sample[f"{t}_recall"] == [d[t].recall for d in direct]
        assert out.values[f"{t}_recall"] == pytest.approx(
            float(np.mean([d[t].recall for d in direct])), abs=1e-12
        )
    only_recall = RougeMetric(rouge_types=["rouge1"], measures=["r"]).compute(["a b"], ["a b c d"])
    assert only_recall.values == {"rouge1_recall": 0.5}
    for bad in ("f", [], ["f", "x"]):
        with pytest.raises(ValueError, match="measures"):
            RougeMetric(measures=bad)


# ---------------------------------------------------------------- chrF
UNICODE_PAIRS = [
    (
        "Thành phố Hồ Chí Minh là thành phố lớn nhất Việt Nam.",
        "Hồ Chí Minh là thành phố đông dân nhất Việt Nam.",
    ),
    ("La città di Firenze è famosa per il Rinascimento.", "Firenze è la città del Rinascimento."),
    ("Die Größe der Stadt überrascht", "Die Stadt ist überraschend groß"),
    ("Москва — столица России.", "Столица России — Москва."),
]


def test_chrf_equals_sacrebleu() -> None:
    pairs = ASCII_PAIRS + UNICODE_PAIRS
    preds, refs = [p for p, _ in pairs], [r for _, r in pairs]
    out = ChrfMetric().compute(preds, refs)
    assert out.values == {"chrf": sacrebleu.corpus_chrf(preds, [refs]).score}
    assert out.per_sample["chrf"] == [sacrebleu.sentence_chrf(p, [r]).score for p, r in pairs]
    assert out.corpus_statistics["chrf"].full_score() == out.values["chrf"]
    assert out.details["signature"].startswith("nrefs:1|case:mixed|eff:yes|nc:6|nw:0")
    plus = ChrfMetric(word_order=2, lowercase=True).compute(preds, refs)
    direct = sacrebleu.metrics.CHRF(word_order=2, lowercase=True).corpus_score(preds, [refs])
    assert plus.values["chrf"] == direct.score
    # Vietnamese answers that share words score high; unrelated ones low
    vi = ChrfMetric().compute(["Hồ Chí Minh", "Hà Nội"], ["Hồ Chí Minh", "Hồ Chí Minh"]).per_sample["chrf"]
    assert vi[0] == 100.0 and vi[1] < 10.0


# ---------------------------------------------------------------- sentence BLEU (nltk)
def test_sentence_bleu_equals_nltk_with_method1() -> None:
    pairs = ASCII_PAIRS + UNICODE_PAIRS
    out = SentenceBleuMetric().compute([p for p, _ in pairs], [r for _, r in pairs])
    tok = UnicodeTokenizer(use_stemmer=False)
    smooth = SmoothingFunction().method1
    expected = [
        sentence_bleu([tok.tokenize(r)], tok.tokenize(p), smoothing_function=smooth) for p, r in pairs
    ]
    assert out.per_sample["sentence_bleu"] == expected
    assert out.values["sentence_bleu"] == pytest.approx(math.fsum(expected) / len(expected), abs=1e-15)
    # "ab cd ef" == "ab cd ef": no 4-gram in 3 tokens, method1 puts 0.1 in its place
    assert out.per_sample["sentence_bleu"][10] == pytest.approx(0.1**0.25)
    # non-ASCII words count: the Vietnamese pair shares most of its words
    assert out.per_sample["sentence_bleu"][len(ASCII_PAIRS)] > 0.3
    bigrams = SentenceBleuMetric(weights=(0.5, 0.5)).compute(["a b c"], ["a b c"])
    assert bigrams.values["sentence_bleu"] == 1.0
    with pytest.raises(ValueError, match="weights"):
        SentenceBleuMetric(weights=())


# ---------------------------------------------------------------- exact match
def test_exact_match_normalisation_options() -> None:
    preds = ["Ｐａｒｉｓ", "  hồ   chí MINH ", "Paris!", "Straße", "Lyon"]
    refs = ["Paris", "Hồ Chí Minh", "paris", "STRASSE", "Paris"]
    assert ExactMatchMetric().compute(preds, refs).per_sample["exact_match"] == [1.0, 1.0, 0.0, 1.0, 0.0]
    loose = ExactMatchMetric(ignore_punctuation=True).compute(preds, refs)
    assert loose.per_sample["exact_match"] == [1.0, 1.0, 1.0, 1.0, 0.0] and loose.values["exact_match"] == 0.8
    strict = ExactMatchMetric(normalization=None, casefold=False, strip_whitespace=False)
    assert strict.compute(preds, refs).values["exact_match"] == 0.0
    assert strict.compute(["Paris"], ["Paris"]).values["exact_match"] == 1.0
    decomposed = unicodedata.normalize("NFD", "Hồ Chí Minh")
    assert ExactMatchMetric().compute([decomposed], ["Hồ Chí Minh"]).values["exact_match"] == 1.0
    with pytest.raises(ValueError, match="normalization"):
        ExactMatchMetric(normalization="NFX")


# ---------------------------------------------------------------- metric contract
@pytest.mark.parametrize("name", ["rouge", "bleu", "chrf", "sentence_bleu", "exact_match"])
def test_length_mismatch_and_empty_inputs(name: str) -> None:
    metric = get_metric(name)
    with pytest.raises(ValueError, match=r"3 predictions but 2 references"):
        metric.compute(["a", "b", "c"], ["a", "b"])
    with pytest.raises(ValueError, match="empty"):
        metric.compute([], [])
    with pytest.raises(TypeError, match=r"predictions\[1\] must be a str"):
        metric.compute(["a", None], ["a", "b"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="list of strings"):
        metric.compute("abc", "abc")


def test_metric_output_coerces_and_rejects() -> None:
    out = MetricOutput({"x": np.float32(0.5)}, {"x": [np.float64(0.25), 1]})
    assert out.values == {"x": 0.5} and type(out.values["x"]) is float
    assert out.per_sample == {"x": [0.25, 1.0]}
    assert out.details == {}
    with pytest.raises(TypeError, match="expected a number"):
        MetricOutput({"x": "0.5"})  # type: ignore[dict-item]


# ---------------------------------------------------------------- registry
def test_builtins_registered_and_lookup_is_case_insensitive() -> None:
    assert {"rouge", "bleu", "chrf", "sentence_bleu", "exact_match"} <= set(available_metrics())
    assert isinstance(get_metric("chrf"), ChrfMetric) and isinstance(
        get_metric("exact_match"), ExactMatchMetric
    )
    assert isinstance(get_metric("sentence_bleu"), SentenceBleuMetric)
    assert isinstance(get_metric("ROUGE"), RougeMetric)
    assert isinstance(get_metric("bleu", tokenize="intl"), BleuMetric)
    assert get_metric("rouge").name == "rouge" and get_metric("bleu").name == "bleu"


def test_unknown_metric_lists_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown metric 'meteor'.*bleu.*rouge"):
        get_metric("meteor")


def test_bad_constructor_arguments_raise_config_error() -> None:
    with pytest.raises(ConfigError, match=r"rouge.*bogus"):
        get_metric("rouge", bogus=1)


def test_get_metric_accepts_instances_and_classes() -> None:
    metric = RougeMetric(rouge_types=["rouge1"])
    assert get_metric(metric) is metric
    with pytest.raises(ConfigError, match="already built"):
        get_metric(metric, use_stemmer=False)
    built = get_metric(BleuMetric, lowercase=True)
    assert isinstance(built, BleuMetric) and built.lowercase
    with pytest.raises(ConfigError, match="expected a metric name"):
        get_metric(42)


def test_register_metric(isolated_registry: None) -> None:
    @register_metric("Length_Ratio")
    class LengthRatio(Metric):
        def _compute(self, predictions: list[str], references: list[str]) -> MetricOutput:
            ratios = [len(p) / max(1, len(r)) for p, r in zip(predictions, references, strict=True)]
            return MetricOutput({"length_ratio": sum(ratios) / len(ratios)}, {"length_ratio": ratios})

    assert LengthRatio.name == "Length_Ratio"
    assert "length_ratio" in available_metrics()
    out = get_metric("length_ratio").compute(["ab", "abcd"], ["abcd", "abcd"])
    assert out.values == {"length_ratio": 0.75} and out.per_sample == {"length_ratio": [0.5, 1.0]}
    with pytest.raises(ConfigError, match="already registered"):
        register_metric("length_ratio")(LengthRatio)
    register_metric("length_ratio", overwrite=True)(LengthRatio)
    with pytest.raises(TypeError, match="Metric subclass"):
        register_metric("nope")(object)  # type: ignore[type-var]


def test_register_metric_keeps_an_explicit_name(isolated_registry: None) -> None:
    @register_metric("alias_name")
    class Named(Metric):
        name = "own_name"

        def _compute(self, predictions: list[str], references: list[str]) -> MetricOutput:
            return MetricOutput({"v": 1.0})

    assert get_metric("alias_name").name == "own_name"


# ---------------------------------------------------------------- evaluate modules
class FakeEvaluateModule:
    """Mimics a loaded ``evaluate`` module: ``.name`` and ``.compute(predictions=, references=)``."""

    name = "fake_bleu"

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def compute(self, *, predictions: list[str], references: list[str], **kwargs: object) -> dict:
        self.calls.append({"predictions": predictions, "references": references, **kwargs})
        hits = sum(p == r for p, r in zip(predictions, references, strict=True))
        return {
            "score": hits / len(predictions),
            "np_score": np.float64(0.25),
            "count": hits,
            "precisions": [1.0, 0.5],
            "signature": "fake",
        }


def test_evaluate_module_is_wrapped() -> None:
    module = FakeEvaluateModule()
    metric = get_metric(module, smooth=True)
    assert isinstance(metric, EvaluateModuleMetric) and metric.name == "fake_bleu"
    out = metric.compute(["a", "b"], ["a", "c"])
    assert out.values == {"score": 0.5, "np_score": 0.25, "count": 1.0}
    assert out.per_sample == {}
    assert out.details == {"precisions": [1.0, 0.5], "signature": "fake"}
    assert module.calls == [{"predictions": ["a", "b"], "references": ["a", "c"], "smooth": True}]
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        metric.compute(["a", "b"], ["a"])


def test_evaluate_module_without_numbers_or_dict_fails_clearly() -> None:
    class Words:
        name = "words"

        def compute(self, predictions: list[str], references: list[str]) -> object:
            return {"text": "no numbers"}

    with pytest.raises(ValueError, match="no numeric values"):
        get_metric(Words()).compute(["a"], ["a"])

    class NotADict:
        def compute(self, predictions: list[str], references: list[str]) -> object:
            return 0.5

    metric = get_metric(NotADict())
    assert metric.name == "NotADict"
    with pytest.raises(TypeError, match="expected a dict"):
        metric.compute(["a"], ["a"])


def test_importing_metrics_is_cheap() -> None:
    code = (
        "import sys, domainft.evaluation.metrics as m; m.available_metrics(); "
        "heavy = {'torch', 'transformers', 'rouge_score', 'sacrebleu', 'nltk', 'pandas', 'matplotlib'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_means_are_exact_fsum() -> None:
    preds, refs = ["a b c"] * 3 + ["x"], ["a b"] * 3 + ["y"]
    out = RougeMetric(rouge_types=["rouge1"]).compute(preds, refs)
    assert out.values["rouge1"] == math.fsum(out.per_sample["rouge1"]) / 4
