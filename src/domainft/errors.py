"""Exceptions raised by domainft.

Every error names what is wrong (file, line, column or field), what was expected and what to do.
They subclass the matching built-in so ``except ValueError`` keeps working.
"""

from __future__ import annotations


class DomainftError(Exception):
    """Base class of every error domainft raises on purpose."""


class ConfigError(DomainftError, ValueError):
    """A configuration field has an invalid value (the message names the field)."""


class DataError(DomainftError, ValueError):
    """Input data is malformed, empty or lacks required columns."""


class DataFileNotFoundError(DomainftError, FileNotFoundError):
    """A data, model or recipe file does not exist."""


class ModelError(DomainftError, ValueError):
    """A model, tokenizer or adapter cannot be loaded or used as asked."""


class TrainingError(DomainftError, RuntimeError):
    """Training cannot proceed (for example, no gradient reaches the adapter)."""


class ServingError(DomainftError, RuntimeError):
    """A chat or server request cannot be answered (prompt too long, queue full, generation failed)."""
