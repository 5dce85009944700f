"""Near-duplicate detection: pairs of texts that are almost the same, inside one set or across two.

Two built-in methods (``register_near_duplicate_method`` adds more):

=========== =================================================================================================
``tfidf``   cosine similarity of TF-IDF vectors of character n-grams (scikit-learn ``TfidfVectorizer``,
            ``char_wb`` 3-5-grams of the lower-cased, whitespace-normalised text by default). Exact: every
            pair whose cosine is at least the threshold is returned, computed block by block on sparse
            matrices (never a dense n x n matrix).
``minhash`` Jaccard similarity of the sets of character (or word) shingles. Candidate pairs come from
            datasketch ``MinHashLSH`` (seeded, so the result is deterministic); by default each candidate's
            similarity is the *exact* Jaccard of the two shingle sets (``similarity="estimated"`` reports
            the MinHash estimate instead). LSH may miss a pair, rarely, so this method trades a little
            recall for speed on very large sets.
=========== =================================================================================================

A similarity is in [0, 1]; 1 means the same text after normalisation. TF-IDF weights n-grams shared by
many texts down, so in a small or very repetitive set the same edit gives a lower similarity than in
a large, varied one (``use_idf=False`` compares plain n-gram profiles). Empty strings, whitespace-only
strings and None are ignored: they are never part of a pair.

Examples:
    >>> from domainft.data.near_duplicates import near_duplicate_groups, near_duplicate_pairs
    >>> texts = ["How do I reset the press?", "How do I reset the  press ?", "Grease the bearing.", None]
    >>> [(p.i, p.j, round(p.similarity, 2)) for p in near_duplicate_pairs(texts, threshold=0.75)]
    [(0, 1, 0.8)]
    >>> near_duplicate_groups(texts, threshold=0.75)
    [None, 0, None, None]
    >>> [(p.i, p.j) for p in near_duplicate_pairs(["Grease the bearing!"], texts, threshold=0.75)]
    [(0, 2)]
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from domainft.errors import ConfigError
from domainft.registry import Registry

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import scipy.sparse

__all__ = [
    "NearDuplicate",
    "known_near_duplicate_methods",
    "near_duplicate_groups",
    "near_duplicate_pairs",
    "register_near_duplicate_method",
]

# Float rounding in sparse dot products must not hide a pair that sits exactly on the threshold
# (for example identical texts at threshold=1.0).
_EPS = 1e-9
_WORD = re.compile(r"\w+")


@dataclasses.dataclass(frozen=True, order=True)
class NearDuplicate:
    """One near-duplicate pair: row ``i`` of the first set, row ``j`` of the second (or of the same set,
    then ``i < j``), and their ``similarity`` in [0, 1] (its meaning depends on the method)."""

    i: int
    j: int
    similarity: float


# A method takes the non-empty texts of the first set, those of the second set (None: find pairs inside
# the first set, and only report i < j), the threshold, whether to show a progress bar, and its own
# keyword options; it yields (i, j, similarity) for every pair with similarity >= threshold.
NearDuplicateMethod = Callable[..., Iterable[tuple[int, int, float]]]

METHODS: Registry[NearDuplicateMethod] = Registry("near-duplicate method")


def register_near_duplicate_method(
    name: str, method: NearDuplicateMethod | None = None, *, overwrite: bool = False
) -> Any:
    """Register ``method(texts_a, texts_b, *, threshold, progress, **options)`` under ``name``.

    ``texts_a``/``texts_b`` hold only non-empty strings (``texts_b`` is None for pairs inside
    ``texts_a``, where only ``i < j`` may be yielded); the method yields ``(i, j, similarity)`` for
    every pair with ``similarity >= threshold``. Order and duplicates do not matter: the caller sorts
    and de-duplicates. Usable as a decorator.

    Examples:
        >>> from domainft.data.near_duplicates import near_duplicate_pairs, register_near_duplicate_method
        >>> @register_near_duplicate_method("same_length", overwrite=True)
        ... def same_length(a, b, *, threshold, progress):
        ...     b = a if b is None else b
        ...     return [(i, j, 1.0) for i, x in enumerate(a) for j, y in enumerate(b)
        ...             if len(x) == len(y) and (b is not a or i < j)]
        >>> near_duplicate_pairs(["abc", "xyz", "ab"], method="same_length")
        [NearDuplicate(i=0, j=1, similarity=1.0)]
    """
    return METHODS.register(name, method, overwrite=overwrite)


def known_near_duplicate_methods() -> list[str]:
    """Names of the registered methods, sorted."""
    return METHODS.names()


def near_duplicate_pairs(
    texts_a: Sequence[str | None],
    texts_b: Sequence[str | None] | None = None,
    *,
    threshold: float = 0.9,
    method: str = "tfidf",
    progress: bool = False,
    **options: Any,
) -> list[NearDuplicate]:
    """Every pair of near-duplicate texts, sorted by ``(i, j)``.

    With ``texts_b=None`` the pairs are inside ``texts_a`` with ``i < j``; otherwise ``i`` indexes
    ``texts_a`` and ``j`` indexes ``texts_b`` (a train/test leakage check). A pair is reported when its
    similarity is at least ``threshold`` (in (0, 1]). ``options`` go to the method:

    * ``tfidf``: ``analyzer`` (``"char_wb"``, ``"char"`` or ``"word"``), ``ngram_range`` (default
      ``(3, 5)``), ``lowercase`` (True), ``use_idf`` (True), ``block_size`` (most similarity entries
      computed at once, default 2,000,000: bounds memory).
    * ``minhash``: ``shingles`` (``"char"`` or ``"word"``), ``ngram`` (shingle length, default 5
      characters or 3 words), ``num_perm`` (128), ``seed`` (1), ``lowercase`` (True), ``lsh_threshold``
      (candidate threshold of the LSH index, default ``threshold - 0.1``), ``similarity``
      (``"exact"`` Jaccard of the shingle sets, the default, or ``"estimated"`` from MinHash).

    Raises ``ConfigError`` for a threshold outside (0, 1], an unknown method or an unknown option.
    """
    threshold = _check_threshold(threshold)
    find = METHODS.get(method)
    _check_options(method, find, options)
    keep_a, clean_a = _non_empty(texts_a)
    if texts_b is None:
        keep_b, clean_b = keep_a, None
    else:
        keep_b, clean_b = _non_empty(texts_b)
    if not clean_a or (clean_b is not None and not clean_b) or (clean_b is None and len(clean_a) < 2):
        return []
    found: dict[tuple[int, int], float] = {}
    for i, j, sim in find(clean_a, clean_b, threshold=threshold, progress=progress, **options):
        i, j = int(i), int(j)
        if clean_b is None:
            if i == j:
                continue
            i, j = min(i, j), max(i, j)
        if sim >= threshold - _EPS:
            found[(keep_a[i], keep_b[j])] = min(1.0, max(0.0, float(sim)))
    return [NearDuplicate(i, j, sim) for (i, j), sim in sorted(found.items())]


def near_duplicate_groups(
    texts: Sequence[str | None],
    threshold: float = 0.9,
    method: str = "tfidf",
    *,
    progress: bool = False,
    **options: Any,
) -> list[int | None]:
    """For each row, the index of the row it duplicates, or None.

    Rows linked by near-duplicate pairs form groups (connected components, so A~B and B~C put A, B
    and C in one group even when A and C are less similar than ``threshold``). The earliest row of a
    group gets None and every other member gets the earliest row's index, so keeping the rows whose
    value is None keeps the first of each group. Empty and None texts always get None.

    Examples:
        >>> from domainft.data.near_duplicates import near_duplicate_groups
        >>> near_duplicate_groups(["Check the oil level.", "Belt slips.", "check the oil level!"], 0.7)
        [None, None, 0]
    """
    pairs = near_duplicate_pairs(texts, threshold=threshold, method=method, progress=progress, **options)
    parent = list(range(len(texts)))

    def root(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for pair in pairs:
        ri, rj = root(pair.i), root(pair.j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)  # the root is always the group's smallest index
    out: list[int | None] = []
    for k in range(len(texts)):
        r = root(k)
        out.append(None if r == k else r)
    return out


def _check_threshold(threshold: Any) -> float:
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, (int, float))
        or math.isnan(threshold)
        or not 0 < threshold <= 1
    ):
        raise ConfigError(
            f"near-duplicate threshold must be a number in (0, 1], got {threshold!r}; "
            "0.9 finds light edits, 0.7-0.8 also finds rewordings"
        )
    return float(threshold)


def _check_options(name: str, find: NearDuplicateMethod, options: dict[str, Any]) -> None:
    params = inspect.signature(find).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    accepted = sorted(
        n
        for n, p in params.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY and n not in ("threshold", "progress")
    )
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ConfigError(
            f"unknown option(s) {', '.join(map(repr, unknown))} for near-duplicate method {name!r}; "
            f"accepted: {', '.join(accepted) or '(none)'}"
        )


def _non_empty(texts: Sequence[str | None]) -> tuple[list[int], list[str]]:
    """Positions and values of the texts that are strings with some non-space character."""
    if isinstance(texts, str):
        raise ConfigError("expected a sequence of texts, got a single string; wrap it in a list")
    keep: list[int] = []
    values: list[str] = []
    for k, text in enumerate(texts):
        if text is None:
            continue
        if not isinstance(text, str):
            raise ConfigError(f"text {k}: expected a string or None, got {type(text).__name__}")
        if text.strip():
            keep.append(k)
            values.append(text)
    return keep, values


def _prepare(text: str, lowercase: bool) -> str:
    """Whitespace-normalise (and lower-case) a text before comparison."""
    text = " ".join(text.split())
    return text.lower() if lowercase else text


# ----------------------------------------------------------------------------------------------- tfidf


@register_near_duplicate_method("tfidf")
def tfidf_pairs(
    texts_a: Sequence[str],
    texts_b: Sequence[str] | None,
    *,
    threshold: float,
    progress: bool = False,
    analyzer: str = "char_wb",
    ngram_range: Sequence[int] = (3, 5),
    lowercase: bool = True,
    use_idf: bool = True,
    block_size: int = 2_000_000,
) -> list[tuple[int, int, float]]:
    """Pairs whose TF-IDF cosine similarity is at least ``threshold`` (exact, sparse, block-wise).

    The vectoriser is fitted on both sets together (``sublinear_tf``, L2-normalised rows), so the
    similarity is the cosine of the angle between the two texts' n-gram profiles, with n-grams that
    occur in many texts weighted down.
    """
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    if analyzer not in ("char_wb", "char", "word"):
        raise ConfigError(f"tfidf option analyzer: expected 'char_wb', 'char' or 'word', got {analyzer!r}")
    if (
        len(ngram_range) != 2
        or not all(isinstance(n, int) and not isinstance(n, bool) for n in ngram_range)
        or not 1 <= ngram_range[0] <= ngram_range[1]
    ):
        raise ConfigError(
            f"tfidf option ngram_range: expected (low, high) with 1 <= low <= high, got {ngram_range!r}"
        )
    if not isinstance(block_size, int) or block_size < 1:
        raise ConfigError(f"tfidf option block_size: expected a positive integer, got {block_size!r}")
    docs = [_prepare(t, lowercase) for t in texts_a]
    if texts_b is not None:
        docs += [_prepare(t, lowercase) for t in texts_b]
    vectorizer = TfidfVectorizer(
        analyzer=analyzer,
        ngram_range=(ngram_range[0], ngram_range[1]),
        lowercase=False,
        sublinear_tf=True,
        use_idf=use_idf,
        dtype=np.float64,
    )
    try:
        matrix = vectorizer.fit_transform(docs).tocsr()
    except ValueError:  # empty vocabulary: no text has a usable n-gram, so nothing can match
        return []
    n_a = len(texts_a)
    a = matrix[:n_a]
    b = None if texts_b is None else matrix[n_a:]
    return cosine_pairs(a, b, threshold, block_size=block_size, progress=progress)


def cosine_pairs(
    a: scipy.sparse.csr_matrix,
    b: scipy.sparse.csr_matrix | None,
    threshold: float,
    *,
    block_size: int = 2_000_000,
    progress: bool = False,
    common_cost: float | None = None,
) -> list[tuple[int, int, float]]:
    """All ``(i, j, cosine)`` with cosine >= ``threshold`` between rows of ``a`` and ``b`` (or inside ``a``).

    Rows must be L2-normalised with non-negative entries (TF-IDF). Multiplying the full matrices would
    cost a product entry for almost every pair, because frequent n-grams are shared by nearly all
    texts. Instead the features are split into *rare* and *common* ones: a pair can only reach the
    threshold if it shares a rare feature (found with a sparse product over rare features, in row
    blocks of at most ``block_size`` entries) or if both rows put almost all of their weight on
    common features (few rows; compared directly). Cauchy-Schwarz bounds the common part, so
    candidates that cannot reach the threshold are dropped, and every remaining candidate's exact
    cosine is computed. The split minimises the estimated work; ``common_cost`` forces it (tests).
    """
    import numpy as np

    self_join = b is None
    b = a if b is None else b
    df_a = np.bincount(a.indices, minlength=a.shape[1]).astype(np.float64)
    df_b = df_a if self_join else np.bincount(b.indices, minlength=b.shape[1]).astype(np.float64)
    pair_cost = df_a * df_b  # product entries a feature contributes to a full product
    sq_a = a.multiply(a).tocsr()
    sq_b = sq_a if self_join else b.multiply(b).tocsr()

    def split(cap: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
        common = pair_cost > cap
        norm_a = np.sqrt(np.asarray(sq_a @ common.astype(np.float64)).ravel())
        norm_b = norm_a if self_join else np.sqrt(np.asarray(sq_b @ common.astype(np.float64)).ravel())
        heavy_a = np.flatnonzero(norm_a >= threshold - _EPS)
        heavy_b = heavy_a if self_join else np.flatnonzero(norm_b >= threshold - _EPS)
        hd_a = np.bincount(a[heavy_a].indices, minlength=a.shape[1]).astype(np.float64)
        hd_b = hd_a if self_join else np.bincount(b[heavy_b].indices, minlength=b.shape[1]).astype(np.float64)
        cost = float(pair_cost[~common].sum() + (hd_a * hd_b).sum())
        return common, norm_a, norm_b, heavy_a, heavy_b, cost

    if common_cost is None:
        top = float(pair_cost.max(initial=0.0))
        caps = [0.0] + [4.0**k for k in range(int(math.log(max(top, 1.0), 4)) + 2)]
        best = min((split(cap) for cap in caps), key=lambda s: s[-1])
    else:
        best = split(float(common_cost))
    common, norm_a, norm_b, heavy_a, heavy_b, _ = best

    candidates = [
        *_rare_candidates(a, b, self_join, ~common, norm_a, norm_b, threshold, block_size, progress),
        *_heavy_candidates(a, b, self_join, heavy_a, heavy_b, threshold, block_size),
    ]
    if not candidates:
        return []
    keys = np.unique(np.concatenate(candidates))
    rows, cols = np.divmod(keys, np.int64(b.shape[0]))
    out: list[tuple[int, int, float]] = []
    step = 100_000
    for s in range(0, len(rows), step):
        r, c = rows[s : s + step], cols[s : s + step]
        sims = np.asarray(a[r].multiply(b[c]).sum(axis=1)).ravel()
        hit = sims >= threshold - _EPS
        out.extend(zip(r[hit].tolist(), c[hit].tolist(), sims[hit].tolist(), strict=True))
    return out


def _blocks(weights: np.ndarray, budget: int) -> list[tuple[int, int]]:
    """Consecutive row ranges whose summed ``weights`` stay within ``budget`` (at least one row each)."""
    import numpy as np

    bounds: list[tuple[int, int]] = []
    start, n = 0, len(weights)
    cumulative = np.cumsum(weights)
    while start < n:
        base = cumulative[start - 1] if start else 0.0
        stop = int(np.searchsorted(cumulative, base + budget, side="right"))
        stop = min(max(stop, start + 1), n)
        bounds.append((start, stop))
        start = stop
    return bounds


def _rare_candidates(
    a: Any,
    b: Any,
    self_join: bool,
    rare: np.ndarray,
    norm_a: np.ndarray,
    norm_b: np.ndarray,
    threshold: float,
    block_size: int,
    progress: bool,
) -> Iterable[np.ndarray]:
    import numpy as np
    from tqdm.auto import tqdm

    columns = np.flatnonzero(rare)
    if not len(columns):
        return
    a_r = a[:, columns].tocsr()
    b_r = a_r if self_join else b[:, columns].tocsr()
    b_t = b_r.T.tocsr()
    df_b = np.diff(b_r.tocsc().indptr).astype(np.float64)
    # upper bound on the product entries each row of a produces: the summed document frequency in b
    # of its rare features
    row_work = np.asarray(a_r.astype(bool).astype(np.float64) @ df_b).ravel()
    blocks = _blocks(row_work, block_size)
    for start, stop in tqdm(
        blocks, desc="near-duplicates", unit="block", disable=not progress or len(blocks) < 2
    ):
        product = (a_r[start:stop] @ b_t).tocoo()
        rows = product.row.astype(np.int64) + start
        cols = product.col.astype(np.int64)
        keep = product.data + norm_a[rows] * norm_b[cols] >= threshold - _EPS
        if self_join:
            keep &= cols > rows
        if keep.any():
            yield rows[keep] * np.int64(b.shape[0]) + cols[keep]


def _heavy_candidates(
    a: Any,
    b: Any,
    self_join: bool,
    heavy_a: np.ndarray,
    heavy_b: np.ndarray,
    threshold: float,
    block_size: int,
) -> Iterable[np.ndarray]:
    """Pairs of rows carrying almost all their weight on common features (need not share a rare one)."""
    import numpy as np

    if not len(heavy_a) or not len(heavy_b):
        return
    sub_b_t = b[heavy_b].T.tocsr()
    per_row = max(1, block_size // max(1, len(heavy_b)))
    for s in range(0, len(heavy_a), per_row):
        rows_idx = heavy_a[s : s + per_row]
        product = (a[rows_idx] @ sub_b_t).tocoo()
        rows = rows_idx[product.row].astype(np.int64)
        cols = heavy_b[product.col].astype(np.int64)
        keep = product.data >= threshold - _EPS
        if self_join:
            keep &= cols > rows
        if keep.any():
            yield rows[keep] * np.int64(b.shape[0]) + cols[keep]


# --------------------------------------------------------------------------------------------- minhash


def _shingles(text: str, kind: str, n: int) -> set[str]:
    if kind == "word":
        words = _WORD.findall(text)
        if len(words) <= n:
            return {" ".join(words)} if words else {text}
        return {" ".join(words[k : k + n]) for k in range(len(words) - n + 1)}
    if len(text) <= n:
        return {text}
    return {text[k : k + n] for k in range(len(text) - n + 1)}


@register_near_duplicate_method("minhash")
def minhash_pairs(
    texts_a: Sequence[str],
    texts_b: Sequence[str] | None,
    *,
    threshold: float,
    progress: bool = False,
    shingles: str = "char",
    ngram: int | None = None,
    num_perm: int = 128,
    seed: int = 1,
    lowercase: bool = True,
    lsh_threshold: float | None = None,
    similarity: str = "exact",
) -> list[tuple[int, int, float]]:
    """Pairs whose Jaccard similarity of shingle sets is at least ``threshold`` (MinHash LSH candidates).

    Shingles are character n-grams (default 5) or word n-grams (default 3) of the whitespace-normalised,
    lower-cased text; a text shorter than one shingle is a single shingle. Jaccard = |A ∩ B| / |A ∪ B|.
    """
    from datasketch import MinHash, MinHashLSH
    from tqdm.auto import tqdm

    if shingles not in ("char", "word"):
        raise ConfigError(f"minhash option shingles: expected 'char' or 'word', got {shingles!r}")
    if similarity not in ("exact", "estimated"):
        raise ConfigError(f"minhash option similarity: expected 'exact' or 'estimated', got {similarity!r}")
    n = (5 if shingles == "char" else 3) if ngram is None else ngram
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"minhash option ngram: expected a positive integer, got {ngram!r}")
    if isinstance(num_perm, bool) or not isinstance(num_perm, int) or num_perm < 2:
        raise ConfigError(f"minhash option num_perm: expected an integer >= 2, got {num_perm!r}")
    if lsh_threshold is None:
        lsh_threshold = max(0.05, threshold - 0.1)
    elif not 0 < lsh_threshold <= 1:
        raise ConfigError(f"minhash option lsh_threshold: expected a number in (0, 1], got {lsh_threshold!r}")

    def sketch(texts: Sequence[str]) -> tuple[list[set[str]], list[Any]]:
        sets = [_shingles(_prepare(t, lowercase), shingles, n) for t in texts]
        data = [[s.encode("utf-8") for s in shingle_set] for shingle_set in sets]
        return sets, MinHash.bulk(data, num_perm=num_perm, seed=seed)

    sets_a, sigs_a = sketch(texts_a)
    sets_b, sigs_b = (sets_a, sigs_a) if texts_b is None else sketch(texts_b)
    lsh = MinHashLSH(threshold=lsh_threshold, num_perm=num_perm)
    with lsh.insertion_session() as session:
        for j, sig in enumerate(sigs_b):
            session.insert(j, sig, check_duplication=False)
    out: list[tuple[int, int, float]] = []
    rows = tqdm(range(len(sigs_a)), desc="near-duplicates", unit="text", disable=not progress)
    for i in rows:
        for j in sorted(lsh.query(sigs_a[i])):
            if texts_b is None and j <= i:
                continue
            if similarity == "exact":
                sa, sb = sets_a[i], sets_b[j]
                sim = len(sa & sb) / len(sa | sb)
            else:
                sim = float(sigs_a[i].jaccard(sigs_b[j]))
            if sim >= threshold - _EPS:
                out.append((i, j, sim))
    return out
