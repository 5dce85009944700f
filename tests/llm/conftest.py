"""Fixtures of the LLM-client tests: a fake OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import pytest

from tests.fake_openai import FakeOpenAIServer


@pytest.fixture
def fake_openai():
    """A running :class:`~tests.fake_openai.FakeOpenAIServer` (echo handler), stopped after the test."""
    with FakeOpenAIServer() as server:
        yield server
