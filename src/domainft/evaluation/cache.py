"""A disk cache of generated answers, so re-scoring a test set never generates twice.

An answer is keyed by the sha256 of what decides it: the system's fingerprint (model weights, adapter,
or endpoint), the tokenizer, the exact prompt (token ids or chat messages) and the decoding settings
(without ``batch_size``, which does not change greedy answers). Entries live in one SQLite file
(standard library), written in a transaction per batch, so an interrupted run keeps what it finished.

Examples:
    >>> import tempfile
    >>> cache = GenerationCache(tempfile.mkdtemp())
    >>> key = cache.key("model-sha", [1, 2, 3], {"max_new_tokens": 8})
    >>> cache.get_many([key])
    {}
    >>> cache.put_many({key: "an answer"})
    >>> list(cache.get_many([key]).values()), cache.hits, cache.misses
    (['an answer'], 1, 1)
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_IGNORED_DECODING_KEYS = ("batch_size", "max_batch_tokens")


class GenerationCache:
    """Answers by key in ``<directory>/generations.sqlite``; counts hits and misses."""

    FILE = "generations.sqlite"

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / self.FILE
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()
        self._ready = False

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection committed on success, rolled back on error, and always closed. The folder and
        the table are created at first use, so an Evaluator that never generates writes nothing."""
        if not self._ready:
            self.directory.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30)
        if not self._ready:
            db.execute("CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, answer TEXT NOT NULL)")
            self._ready = True
        try:
            with db:
                yield db
        finally:
            db.close()

    @staticmethod
    def key(fingerprint: str, prompt: Any, decoding: Mapping[str, Any], **extra: Any) -> str:
        """The cache key of one answer (``prompt``: token ids or a list of chat messages)."""
        settings = {k: v for k, v in decoding.items() if k not in _IGNORED_DECODING_KEYS}
        payload = json.dumps(
            {"system": fingerprint, "prompt": prompt, "decoding": settings, **extra},
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def get_many(self, keys: Sequence[str]) -> dict[str, str]:
        """The cached answers among ``keys`` (missing keys are absent); updates ``hits``/``misses``."""
        found: dict[str, str] = {}
        unique = list(dict.fromkeys(keys))
        with self._lock, self._connect() as db:
            for start in range(0, len(unique), 500):  # SQLite's limit on bound parameters
                chunk = unique[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = db.execute(f"SELECT key, answer FROM answers WHERE key IN ({marks})", chunk)
                found.update(dict(rows.fetchall()))
        hits = sum(1 for k in keys if k in found)
        self.hits += hits
        self.misses += len(keys) - hits
        return found

    def put_many(self, answers: Mapping[str, str]) -> None:
        """Store answers (an existing key is overwritten)."""
        with self._lock, self._connect() as db:
            db.executemany(
                "INSERT OR REPLACE INTO answers (key, answer) VALUES (?, ?)", list(answers.items())
            )

    def __len__(self) -> int:
        with self._connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM answers").fetchone()[0])

    def __repr__(self) -> str:
        return f"GenerationCache({str(self.directory)!r}, hits={self.hits}, misses={self.misses})"
