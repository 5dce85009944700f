from __future__ import annotations

import json
import math
import pickle
import re

import numpy as np
import pytest

from domainft.data.samples import builtin_path
from domainft.data.topic_gate import (
    COEF_FILE,
    IDF_FILE,
    META_FILE,
    VOCAB_FILE,
    GateReport,
    TopicGate,
    TopicGateConfig,
    read_questions,
)
from domainft.errors import ConfigError, DataError, DataFileNotFoundError, ModelError

# Unseen by the gate: maintenance questions in both question and ticket form, and everyday questions.
IN_DOMAIN = [
    "Why does the hydraulic press lose pressure during the stroke?",
    "How do I fix a conveyor belt that keeps slipping?",
    "What causes the spindle to overheat on a CNC lathe?",
    "The forklift mast drifts down when loaded, what should I check?",
    "Screw air compressor trips on high discharge temperature.",
    "The robotic welding cell keeps missing the seam.",
    "Diesel generator smokes heavily at start-up.",
    "The laser cutter leaves burrs on stainless sheet.",
]
OUT_OF_DOMAIN = [
    "How do I make a creamy mushroom risotto?",
    "What is the capital of Peru?",
    "How often should I take my beagle for a walk?",
    "Is it worth booking a holiday in Spain in October?",
    "Who won the football World Cup in 1998?",
    "How can I raise my credit score quickly?",
    "Can cats eat cheese?",
    "Which novel by Jane Austen should I read first?",
]


def _ticket_problems() -> list[str]:
    rows = [json.loads(line) for line in builtin_path("machinery_tickets").read_text("utf-8").splitlines()]
    return [f"{r['machine_type']}: {r['problem']}" for r in rows if r["problem"].strip()]


@pytest.fixture(scope="module")
def problems() -> list[str]:
    return _ticket_problems()


@pytest.fixture(scope="module")
def gate(problems) -> TopicGate:
    """Fitted on the tickets' problems against the built-in general questions."""
    return TopicGate().fit(problems)


@pytest.fixture(scope="module")
def saved(gate, tmp_path_factory):
    return gate.save(tmp_path_factory.mktemp("gate"))


def _copy_gate(saved, tmp_path):
    out = tmp_path / "gate"
    out.mkdir(parents=True)
    for f in saved.iterdir():
        (out / f.name).write_bytes(f.read_bytes())
    return out


# -- the shipped negatives ---------------------------------------------------------------------------


def test_general_questions_resource():
    rows = [json.loads(line) for line in builtin_path("general_questions").read_text("utf-8").splitlines()]
    assert len(rows) >= 300
    assert [r["id"] for r in rows] == [f"gq-{i:04d}" for i in range(1, len(rows) + 1)]
    assert all(set(r) == {"id", "question", "topic"} for r in rows)
    questions = [r["question"] for r in rows]
    assert len(set(questions)) == len(questions)
    topics = {r["topic"] for r in rows}
    assert len(topics) >= 12
    assert {"cooking", "travel", "sport", "history", "science", "personal_finance", "health"} <= topics
    text = " ".join(questions).lower()
    for banned in ("linux", "wordpress", "ho chi minh", "hydraulic", "compressor", "forklift"):
        assert banned not in text
    assert read_questions() == questions


def test_read_questions_from_user_files(tmp_path):
    txt = tmp_path / "neg.txt"
    txt.write_text("first question?\n\n  \nsecond question?\n", encoding="utf-8")
    assert read_questions(txt) == ["first question?", "second question?"]
    jsonl = tmp_path / "neg.jsonl"
    jsonl.write_text('{"text": "a"}\n\n{"text": "b"}\n', encoding="utf-8")
    assert read_questions(jsonl, field="text") == ["a", "b"]
    with pytest.raises(DataError, match=r"neg\.jsonl:1: expected an object with a string field 'question'"):
        read_questions(jsonl)
    jsonl.write_text('{"question": "a"}\n{"question": \n', encoding="utf-8")
    with pytest.raises(DataError, match=r"neg\.jsonl:2:\d+: invalid JSON"):
        read_questions(jsonl)
    with pytest.raises(DataFileNotFoundError, match="not found"):
        read_questions(tmp_path / "missing.txt")
    (tmp_path / "neg.csv").write_text("q\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"\.csv file; use one of \.jsonl, \.txt"):
        read_questions(tmp_path / "neg.csv")
    with pytest.raises(DataError, match="unknown built-in dataset"):
        read_questions("builtin:nope")


# -- fitting and the report --------------------------------------------------------------------------


def test_held_out_report_is_high_and_consistent(gate, problems):
    report = gate.report
    assert isinstance(report, GateReport)
    assert report.f1 >= 0.95 and report.precision >= 0.95 and report.recall >= 0.95
    assert report.roc_auc is not None and report.roc_auc >= 0.99
    assert report.per_class["out_of_domain"]["f1"] >= 0.97
    (tn, fp), (fn, tp) = report.confusion_matrix
    assert tp + fn == report.per_class["in_domain"]["support"]
    assert tn + fp == report.per_class["out_of_domain"]["support"]
    assert tn + fp + fn + tp == report.n_examples == len(report.misclassified) + tp + tn
    assert report.accuracy == pytest.approx((tp + tn) / report.n_examples)
    distinct = len(problems) - report.duplicates_removed + len(set(read_questions()))
    assert report.n_train + report.n_examples == distinct
    assert report.n_examples == math.ceil(0.2 * distinct)  # the configured held-out share
    # stratified: the in-domain share of the held-out part equals that of the data (within one text)
    share = (len(problems) - report.duplicates_removed) / distinct
    assert abs((tp + fn) - share * report.n_examples) <= 1
    text = str(report)
    assert "precision" in text and "in_domain" in text and "ROC-AUC" in text
    assert GateReport.from_dict(json.loads(json.dumps(report.to_dict()))) == report


def test_obvious_examples_are_separated(gate):
    inside, outside = gate.predict_proba(IN_DOMAIN), gate.predict_proba(OUT_OF_DOMAIN)
    assert gate.predict(IN_DOMAIN) == [True] * len(IN_DOMAIN)
    assert gate.predict(OUT_OF_DOMAIN) == [False] * len(OUT_OF_DOMAIN)
    assert min(inside) - max(outside) > 0.3
    assert gate(IN_DOMAIN[0]) is True and gate.is_in_domain(OUT_OF_DOMAIN[0]) is False
    assert gate([IN_DOMAIN[1], OUT_OF_DOMAIN[1]]) == [True, False]
    assert gate.score(IN_DOMAIN[2]) == pytest.approx(inside[2], abs=1e-15)


def test_scores_equal_plain_scikit_learn():
    """The gate wraps scikit-learn faithfully: same features, same model, same probabilities."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    pos = [f"{m} {p}" for m in ("press", "lathe", "pump") for p in ("leaks oil", "overheats", "is noisy")]
    neg = read_questions()[:60]
    cfg = TopicGateConfig(test_size=0.0, ngram_range=[1, 3], C=2.0, min_df=1)
    gate = TopicGate(cfg).fit(pos, neg)
    assert gate.report is None  # test_size=0: nothing held out
    vec = TfidfVectorizer(ngram_range=(1, 3), sublinear_tf=True, stop_words="english")
    clf = LogisticRegression(C=2.0, class_weight="balanced", max_iter=1000).fit(
        vec.fit_transform(pos + neg), [1] * len(pos) + [0] * len(neg)
    )
    probe = IN_DOMAIN + OUT_OF_DOMAIN + pos
    expected = clf.predict_proba(vec.transform(probe))[:, 1]
    np.testing.assert_allclose(gate.predict_proba(probe), expected, rtol=0, atol=1e-9)
    assert gate.vocabulary == list(vec.get_feature_names_out())


def test_threshold_changes_predictions(gate):
    texts = IN_DOMAIN + OUT_OF_DOMAIN
    scores = gate.predict_proba(texts)
    assert gate.predict(texts, threshold=0.0) == [True] * len(texts)
    assert gate.predict(texts, threshold=1.0) == [s >= 1.0 for s in scores] == [False] * len(texts)
    # a threshold just above the lowest in-domain score rejects exactly that text
    lowest = int(np.argmin(scores[: len(IN_DOMAIN)]))
    old = gate.threshold
    try:
        gate.threshold = scores[lowest] + 1e-9
        predicted = gate.predict(texts)
        assert predicted[lowest] is False
        assert sum(predicted) == len(IN_DOMAIN) - 1
    finally:
        gate.threshold = old
    with pytest.raises(ConfigError, match=r"TopicGate\.threshold"):
        gate.threshold = 1.5


def _brute_force(scores, labels, keep):
    """(threshold, precision, recall, f1) over a fine grid, keeping those where keep(p, r, f1) holds."""
    out = []
    for t in np.linspace(0, 1, 2001):
        pred = scores >= t
        tp = int((pred & labels).sum())
        fp = int((pred & ~labels).sum())
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / labels.sum()
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        if keep(p, r, f1):
            out.append((t, p, r, f1))
    return out


def test_tune_threshold_finds_the_best_threshold(gate):
    # labels with two deliberate mistakes so that no threshold is perfect
    texts = IN_DOMAIN + OUT_OF_DOMAIN
    labels = [True] * len(IN_DOMAIN) + [False] * len(OUT_OF_DOMAIN)
    labels[0], labels[-1] = False, True
    scores, truth = np.array(gate.predict_proba(texts)), np.array(labels)
    old = gate.threshold
    try:
        choice = gate.tune_threshold(texts, labels, target="f1")
        best_f1 = max(f for *_, f in _brute_force(scores, truth, lambda p, r, f: True))
        assert choice.f1 == pytest.approx(best_f1) and choice.value == choice.f1
        assert gate.threshold == choice.threshold  # applied
        predicted = np.array(gate.predict(texts))
        assert choice.precision == pytest.approx((predicted & truth).sum() / predicted.sum())

        strict = gate.tune_threshold(texts, labels, target="precision", min_value=1.0, apply=False)
        feasible = _brute_force(scores, truth, lambda p, r, f: p >= 1.0)
        assert strict.precision == 1.0
        assert strict.recall == pytest.approx(max(r for _, _, r, _ in feasible))
        assert gate.threshold == choice.threshold  # apply=False left it alone

        wide = gate.tune_threshold(texts, labels, target="recall", min_value=1.0, apply=False)
        assert wide.recall == 1.0 and wide.threshold <= scores[truth].min()
    finally:
        gate.threshold = old
    with pytest.raises(DataError, match="no threshold reaches precision >= 1 on these 2 texts"):
        # the highest score belongs to a text labelled off-topic: every threshold keeps it
        gate.tune_threshold(
            [IN_DOMAIN[0], OUT_OF_DOMAIN[0]], [False, True], target="precision", min_value=1.0
        )
    with pytest.raises(ConfigError, match="needs min_value"):
        gate.tune_threshold(texts, labels, target="recall")
    with pytest.raises(
        ConfigError, match="unknown threshold target 'auc'; known: accuracy, balanced_accuracy"
    ):
        gate.tune_threshold(texts, labels, target="auc")
    with pytest.raises(DataError, match="both classes"):
        gate.tune_threshold(texts[:3], [True] * 3)
    with pytest.raises(DataError, match="expected 16 labels"):
        gate.tune_threshold(texts, labels[:-1])
    with pytest.raises(DataError, match=r"labels\[2\]: expected True/False"):
        gate.tune_threshold(texts[:3], [True, False, "maybe"])


def test_explain_and_top_terms(gate):
    text = "How do I fix a conveyor belt that keeps zorblaxing?"
    explanation = gate.explain(text, top_k=1000)
    assert explanation.score == pytest.approx(gate.score(text), abs=1e-12)
    total = explanation.intercept + sum(t.contribution for t in explanation.terms)
    assert 1 / (1 + math.exp(-total)) == pytest.approx(explanation.score, abs=1e-12)
    sizes = [abs(t.contribution) for t in explanation.terms]
    assert sizes == sorted(sizes, reverse=True)
    assert {"conveyor", "belt"} <= {t.term for t in explanation.terms if t.contribution > 0}
    assert "zorblaxing" in explanation.unseen_terms
    assert len(gate.explain(text, top_k=2).terms) == 2
    assert "conveyor" in str(explanation)
    top = gate.top_terms(10)
    coefs_in = [c for _, c in top["in_domain"]]
    assert coefs_in == sorted(coefs_in, reverse=True) and coefs_in[-1] > 0
    assert top["out_of_domain"][0][1] < 0
    machine_words = {"pump", "forklift", "crane", "chiller", "machine", "press", "generator", "belt", "laser"}
    assert len(machine_words & {t for t, _ in top["in_domain"]}) >= 3


# -- filtering data ----------------------------------------------------------------------------------


def test_filter_dataset_and_records(gate, ticket_pairs):
    from datasets import Dataset

    general = [{"id": f"g{i}", "prompt": q, "response": "-"} for i, q in enumerate(OUT_OF_DOMAIN)]
    rows = [dict(r) for r in ticket_pairs[:10]] + general
    rows = rows[::2] + rows[1::2]  # interleave
    kept, rejected = gate.filter(Dataset.from_list(rows), column="prompt")
    assert sorted(kept["id"]) == sorted(r["id"] for r in ticket_pairs[:10])
    assert sorted(rejected["id"]) == sorted(r["id"] for r in general)
    assert [i for i in [r["id"] for r in rows] if i in set(kept["id"])] == list(kept["id"])  # order kept
    assert all(s >= gate.threshold for s in kept["topic_score"])
    assert all(s < gate.threshold for s in rejected["topic_score"])
    assert kept.column_names == [*Dataset.from_list(rows).column_names, "topic_score"]

    kept_rows, rejected_rows = gate.filter(rows, score_column="gate")
    assert [r["id"] for r in kept_rows] == list(kept["id"])
    assert [r["gate"] for r in rejected_rows] == pytest.approx(list(rejected["topic_score"]), abs=1e-12)
    assert "gate" not in rows[0]  # input rows untouched
    everything, nothing = gate.filter(rows, threshold=0.0)
    assert len(everything) == len(rows) and nothing == []

    with pytest.raises(DataError, match="no column 'question'; found columns: id, prompt, response"):
        gate.filter(Dataset.from_list(rows), column="question")
    with pytest.raises(DataError, match="'topic_score' already exists"):
        gate.filter(kept)
    with pytest.raises(DataError, match=r"row 1, column 'prompt': expected a string, got None"):
        gate.filter([{"prompt": "ok"}, {"prompt": None}])
    with pytest.raises(DataError, match="row 0 has no field 'prompt'"):
        gate.filter([{"text": "x"}])


# -- save / load -------------------------------------------------------------------------------------


def test_save_load_round_trip(gate, saved):
    assert sorted(p.name for p in saved.iterdir()) == sorted([META_FILE, VOCAB_FILE, IDF_FILE, COEF_FILE])
    loaded = TopicGate.load(saved)
    texts = IN_DOMAIN + OUT_OF_DOMAIN + read_questions()[:200] + _ticket_problems()[:50]
    np.testing.assert_allclose(loaded.predict_proba(texts), gate.predict_proba(texts), rtol=0, atol=1e-9)
    assert loaded.predict(texts) == gate.predict(texts)
    assert loaded.threshold == gate.threshold
    assert loaded.config == gate.config
    assert loaded.report == gate.report
    assert loaded.vocabulary == gate.vocabulary
    assert loaded.explain(IN_DOMAIN[1]) == gate.explain(IN_DOMAIN[1])
    meta = json.loads((saved / META_FILE).read_text("utf-8"))
    assert meta["format_version"] == 1 and meta["n_features"] == len(gate.vocabulary)
    assert set(meta["versions"]) == {"domainft", "scikit-learn", "numpy"}


def test_tuned_threshold_survives_save_load(problems, tmp_path):
    gate = TopicGate(TopicGateConfig(test_size=0.0)).fit(problems[:40], read_questions()[:80])
    gate.threshold = 0.7321
    loaded = TopicGate.load(gate.save(tmp_path / "g"))
    assert loaded.threshold == 0.7321 and loaded.config.threshold == 0.5
    assert loaded.report is None


class _Trap:
    """Unpickling this runs code that creates ``marker``: proof that a loader unpickled it."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').close()",))


def _tamper_meta(key, value):
    def edit(d):
        meta = json.loads((d / META_FILE).read_text("utf-8"))
        meta[key] = value
        (d / META_FILE).write_text(json.dumps(meta), encoding="utf-8")

    return edit


def _save_array(name, array):
    def edit(d):
        np.save(d / name, array, allow_pickle=True)  # np.save keeps the exact file name (it ends in .npy)

    return edit


def _write(name, text):
    def edit(d):
        (d / name).write_text(text, encoding="utf-8")

    return edit


@pytest.mark.parametrize(
    ("edit", "error", "message"),
    [
        (_tamper_meta("format_version", 2), ModelError, r"topic_gate\.json: field 'format_version' is 2"),
        (_tamper_meta("format", "other"), ModelError, r"topic_gate\.json: field 'format' is 'other'"),
        (_tamper_meta("n_features", 7), ModelError, r"vocabulary\.json: \d+ terms, but .*'n_features' is 7"),
        (_tamper_meta("intercept", "x"), ModelError, r"field 'intercept' must be float"),
        (_tamper_meta("threshold", 3), ModelError, r"field 'threshold' must be in \[0, 1\]"),
        (_tamper_meta("config", {"C": -1.0}), ModelError, r"field 'config':.*C must be positive"),
        (_tamper_meta("report", {"oops": 1}), ModelError, r"field 'report' is malformed"),
        (_save_array(COEF_FILE, np.zeros(3)), ModelError, r"coef\.npy: shape \(3,\), expected \(\d+,\)"),
        (_save_array(IDF_FILE, np.zeros((2, 2))), ModelError, r"idf\.npy: shape \(2, 2\)"),
        (_save_array(COEF_FILE, np.array(["a"])), ModelError, r"coef\.npy: expected a float array"),
        (_write(VOCAB_FILE, '{"a": 0}'), ModelError, r"vocabulary\.json: expected a JSON list of strings"),
        (_write(META_FILE, '{"format": '), ModelError, r"topic_gate\.json:1:\d+: invalid JSON"),
        (_write(META_FILE, "[1, 2]"), ModelError, r"topic_gate\.json: expected a JSON object"),
    ],
)
def test_load_refuses_tampered_files(saved, tmp_path, edit, error, message):
    copy = _copy_gate(saved, tmp_path)
    edit(copy)
    with pytest.raises(error, match=message):
        TopicGate.load(copy)


def test_load_refuses_nan_and_bad_idf(saved, tmp_path):
    copy = _copy_gate(saved, tmp_path)
    text = (copy / META_FILE).read_text("utf-8")
    (copy / META_FILE).write_text(re.sub(r'"intercept": [^,]+', '"intercept": NaN', text), encoding="utf-8")
    with pytest.raises(ModelError, match=r"topic_gate\.json: non-finite number NaN"):
        TopicGate.load(copy)
    copy = _copy_gate(saved, tmp_path / "b")
    idf = np.load(copy / IDF_FILE)
    idf[0] = -1.0
    np.save(copy / IDF_FILE, idf)
    with pytest.raises(ModelError, match=r"idf\.npy: idf values must be positive"):
        TopicGate.load(copy)


@pytest.mark.parametrize("target", [META_FILE, VOCAB_FILE, COEF_FILE, IDF_FILE, "object-array"])
def test_load_never_unpickles(saved, tmp_path, target):
    marker = tmp_path / "pwned"
    # the trap works: plain pickle.loads runs it
    probe = tmp_path / "probe"
    pickle.loads(pickle.dumps(_Trap(probe)))
    assert probe.exists()

    copy = _copy_gate(saved, tmp_path)
    if target == "object-array":
        np.save(copy / COEF_FILE, np.array([_Trap(marker)], dtype=object), allow_pickle=True)
    else:
        (copy / target).write_bytes(pickle.dumps(_Trap(marker)))
    with pytest.raises(ModelError, match=re.escape(COEF_FILE if target == "object-array" else target)):
        TopicGate.load(copy)
    assert not marker.exists()


def test_load_missing_files(saved, tmp_path):
    with pytest.raises(DataFileNotFoundError, match="topic gate directory not found"):
        TopicGate.load(tmp_path / "nope")
    copy = _copy_gate(saved, tmp_path)
    (copy / IDF_FILE).unlink()
    with pytest.raises(DataFileNotFoundError, match=r"idf\.npy: file missing"):
        TopicGate.load(copy)


# -- bad inputs and configs --------------------------------------------------------------------------


def test_bad_inputs(problems):
    neg = read_questions()[:20]
    with pytest.raises(DataError, match=r"in_domain\[2\]: empty text"):
        TopicGate().fit(["pump leaks", "press noisy", "  ", "lathe", "crane", "belt"], neg)
    with pytest.raises(DataError, match=r"out_of_domain\[1\]: expected a string, got int"):
        TopicGate().fit(problems, ["a question", 3])
    with pytest.raises(DataError, match="got a single string; wrap it in a list"):
        TopicGate().fit("pump leaks oil")
    with pytest.raises(DataError, match="in_domain: 4 distinct text.*at least 5 per class"):
        TopicGate().fit(["pump leaks", "press noisy", "lathe stalls", "crane sways", "pump  leaks"], neg)
    with pytest.raises(DataError, match=r"out_of_domain: 0 distinct text\(s\); .*out_of_domain=None"):
        TopicGate().fit(problems, [])
    with pytest.raises(DataError, match="1 text.* both in_domain and out_of_domain"):
        TopicGate().fit(problems, [*neg, problems[3]])
    with pytest.raises(DataError, match="cannot build TF-IDF features: empty vocabulary"):
        TopicGate(TopicGateConfig(test_size=0.0)).fit(list("abcde"), list("fghij"))
    with pytest.raises(
        DataError, match="test_size=0.9 holds out 9 of 10 texts; need at least 2 held out and 2 for training"
    ):
        TopicGate(TopicGateConfig(test_size=0.9)).fit([f"pump {i}" for i in "abcde"], neg[:5])
    fresh = TopicGate()
    assert "not fitted" in repr(fresh)
    with pytest.raises(ModelError, match="not fitted; call fit"):
        fresh.predict(["x"])
    with pytest.raises(ModelError, match="not fitted"):
        fresh.save("unused")


def test_bad_scoring_inputs(gate):
    with pytest.raises(DataError, match=r"texts\[1\]: expected a string, got NoneType"):
        gate.predict_proba(["ok", None])
    with pytest.raises(DataError, match="single string"):
        gate.predict_proba("a question")
    assert len(gate.predict_proba([""])) == 1  # an empty text scores from the intercept alone


def test_negatives_from_config(tmp_path, problems):
    neg = tmp_path / "neg.txt"
    neg.write_text("\n".join(read_questions()[:60]), encoding="utf-8")
    gate = TopicGate(TopicGateConfig(negatives=str(neg))).fit(problems)
    assert gate.report.per_class["out_of_domain"]["support"] == 12  # 20 % of 60, stratified
    with pytest.raises(DataFileNotFoundError):
        TopicGate(TopicGateConfig(negatives=str(tmp_path / "missing.txt"))).fit(problems)


def test_config_round_trip_and_validation(tmp_path):
    cfg = TopicGateConfig(ngram_range=[1, 3], stop_words=["how", "what"], min_df=0.01, threshold=0.8)
    assert TopicGateConfig.from_json(_write_json(tmp_path / "c.json", cfg.to_dict())) == cfg
    assert TopicGateConfig.from_yaml(_yaml(tmp_path / "c.yaml", cfg)) == cfg
    assert TopicGateConfig().vectorizer_params()["ngram_range"] == (1, 2)
    bad = [
        ({"ngram_range": [2, 1]}, r"ngram_range: expected \[min_n, max_n\]"),
        ({"ngram_range": [1]}, "ngram_range"),
        ({"min_df": 0}, r"min_df: a document count must be >= 1"),
        ({"min_df": 1.5}, r"min_df: a fraction must be in \(0, 1\]"),
        ({"threshold": 1.2}, r"threshold must be in \[0, 1\]"),
        ({"test_size": 1.0}, r"test_size must be in \[0, 1\)"),
        ({"C": 0.0}, "C must be positive"),
        ({"token_pattern": "("}, "token_pattern: invalid regular expression"),
        ({"analyzer": "words"}, "analyzer: expected one of 'word' | 'char' | 'char_wb'"),
        ({"negatives": " "}, "negatives: expected builtin:NAME or a file path"),
        ({"thresold": 0.3}, "Did you mean 'threshold'"),
    ]
    for fields, message in bad:
        with pytest.raises(ConfigError, match=message):
            TopicGateConfig.from_dict(fields)


def _write_json(path, data):
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _yaml(path, cfg):
    cfg.to_yaml(path)
    return path
