"""Small fixture records shared by the data-layer tests (no network, no model)."""

from __future__ import annotations

import pytest


@pytest.fixture
def qa_records() -> list[dict]:
    """Ten clean question/answer records with a numeric column."""
    return [
        {
            "question": f"How do I fix fault {i} on the press?",
            "answer": f"Replace part {i} and restart." + " Check it." * i,
            "machine": "press" if i % 2 else "lathe",
            "hours": i / 2,
        }
        for i in range(10)
    ]


@pytest.fixture
def dirty_records() -> list[dict]:
    """Records with whitespace noise, empty fields and duplicates (known outcome: 3 kept)."""
    return [
        {"prompt": "Oil  interval?", "response": "Every 500 h."},  # 0 kept
        {"prompt": "  Oil interval?\t", "response": "Every   500 h. "},  # 1 duplicate of 0 after normalising
        {"prompt": "", "response": "Orphan answer."},  # 2 empty prompt
        {"prompt": None, "response": "Another orphan."},  # 3 empty prompt (None)
        {"prompt": "Belt slips?", "response": "   "},  # 4 empty response (whitespace only)
        {"prompt": "Belt slips?", "response": "Tighten the belt."},  # 5 kept
        {"prompt": "Belt slips?", "response": None},  # 6 empty response
        {"prompt": "Belt slips?", "response": "Tighten  the belt."},  # 7 duplicate of 5
        {"prompt": "Noise?", "response": "Grease the\n\n\n\nbearing."},  # 8 kept
        {"prompt": "Oil interval?", "response": "Every 500 h."},  # 9 duplicate of 0
    ]


@pytest.fixture
def long_tail_records() -> list[dict]:
    """200 records whose response lengths range from 1 to ~2000 characters (long-tailed)."""
    import random

    rng = random.Random(0)
    return [
        {"prompt": f"question {i}", "response": "x" * max(1, int(rng.paretovariate(1.2) * 20))}
        for i in range(200)
    ]
