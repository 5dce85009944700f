"""Using the assistant: chat sessions, the batching generation engine, and an OpenAI-compatible server.

Examples:
    >>> from domainft.serving import ChatSession
    >>> chat = ChatSession(model, tokenizer, system_prompt="You help technicians.")  # doctest: +SKIP
    >>> chat.ask("The spindle overheats.").text                                     # doctest: +SKIP
    'Check the coolant flow.'
"""

from __future__ import annotations

from domainft.serving.chat import ChatConfig, ChatReply, ChatSession
from domainft.serving.engine import Completion, GenerationEngine, GenerationRequest

__all__ = ["ChatConfig", "ChatReply", "ChatSession", "Completion", "GenerationEngine", "GenerationRequest"]
