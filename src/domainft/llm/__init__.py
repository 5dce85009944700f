"""Clients for large language models served elsewhere (any OpenAI-compatible chat endpoint).

Generic building blocks: the synthetic-data teachers and the evaluator's LLM judges use them; they
hold no task logic.

Examples:
    >>> from domainft.llm import ChatEndpointConfig
    >>> ChatEndpointConfig(base_url="http://127.0.0.1:8000/v1", model="qwen").chat_url
    'http://127.0.0.1:8000/v1/chat/completions'
"""

from __future__ import annotations

from domainft.llm.openai_compat import (
    ChatClient,
    ChatEndpointConfig,
    ChatEndpointError,
    ChatFailure,
    ChatResponse,
)

__all__ = ["ChatClient", "ChatEndpointConfig", "ChatEndpointError", "ChatFailure", "ChatResponse"]
