"""Privacy defaults: third-party usage telemetry off, secrets kept out of text that is shown or saved.

``disable_telemetry()`` runs when ``domainft`` is imported. It sets the opt-out switches of the
libraries domainft drives, before they are imported (they read the switches at import time), and
patches the already-imported ones. A switch the user set explicitly is kept, except ragas', which is
always forced off. It imports nothing heavy.

``redact(text, secrets)`` replaces every occurrence of a secret (and of its base64 form) with
``***``, for error messages and logs that might echo an API key; ``scrub(obj)`` does the same through
a JSON-like structure, by default for the values of the environment variables whose names say they
hold a secret (``*_API_KEY``, ``*_TOKEN``, ``*_SECRET``...). ``check_env_var_name`` rejects an
``api_key_env`` that holds a key instead of a variable name, without repeating it.

Examples:
    >>> import os
    >>> from domainft.utils.privacy import disable_telemetry, redact
    >>> _ = disable_telemetry()
    >>> os.environ["RAGAS_DO_NOT_TRACK"]
    'true'
    >>> redact("HTTP 401: invalid key sk-abc123", ["sk-abc123"])
    'HTTP 401: invalid key ***'
"""

from __future__ import annotations

import base64
import os
import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "TELEMETRY_DEFAULTS",
    "check_env_var_name",
    "disable_ragas_telemetry",
    "disable_telemetry",
    "redact",
    "scrub",
    "secret_env_values",
]

#: Switches set with ``os.environ.setdefault`` (an explicit user setting wins), with the reason.
TELEMETRY_DEFAULTS: dict[str, str] = {
    # huggingface_hub's usage pings (send_telemetry), which trl's trainers call on every run, and the
    # usage details transformers appends to the user agent of hub requests. Read once, at import.
    "HF_HUB_DISABLE_TELEMETRY": "1",
    # The cross-tool convention (huggingface_hub reads it too). It is inherited by the servers a user
    # starts from this process, e.g. vLLM's usage statistics for a judge or teacher endpoint.
    "DO_NOT_TRACK": "1",
}

#: ragas POSTs usage events unless this is exactly "true"; forced, as domainft never wants them.
_RAGAS_SWITCH = ("RAGAS_DO_NOT_TRACK", "true")
_TRUE = ("1", "true", "yes", "on")


def _is_true(value: str | None) -> bool:
    return (value or "").strip().lower() in _TRUE


def disable_telemetry() -> dict[str, str]:
    """Turn usage telemetry of huggingface_hub, transformers, trl and ragas off; cheap and idempotent.

    Returns the environment variables it set (empty when every switch was already set).
    ``HF_HUB_DISABLE_IMPLICIT_TOKEN`` is deliberately not set: it would stop the user's saved hub
    token from reaching the hub and break downloads of gated models they may load.
    """
    changed: dict[str, str] = {}
    for name, value in TELEMETRY_DEFAULTS.items():
        if name not in os.environ:
            os.environ[name] = value
            changed[name] = value
    name, value = _RAGAS_SWITCH
    if os.environ.get(name) != value:
        changed[name] = value
    disable_ragas_telemetry()

    # huggingface_hub, if imported before domainft, has read its switch already: update it in place.
    hub = sys.modules.get("huggingface_hub.constants")
    if hub is not None and any(
        _is_true(os.environ.get(n)) for n in ("HF_HUB_DISABLE_TELEMETRY", "DISABLE_TELEMETRY", "DO_NOT_TRACK")
    ):
        hub.HF_HUB_DISABLE_TELEMETRY = True
    return changed


def disable_ragas_telemetry() -> None:
    """Turn ragas' usage tracking off: ``RAGAS_DO_NOT_TRACK=true`` (over an explicit ``false``), and
    reset ragas' cached switch if ragas is imported. Also called before every ragas import and use.

    Examples:
        >>> disable_ragas_telemetry(); os.environ["RAGAS_DO_NOT_TRACK"]
        'true'
    """
    name, value = _RAGAS_SWITCH
    os.environ[name] = value
    analytics = sys.modules.get("ragas._analytics")
    if analytics is not None and hasattr(getattr(analytics, "do_not_track", None), "cache_clear"):
        analytics.do_not_track.cache_clear()  # ragas caches the switch on first use (functools.lru_cache)


def redact(text: str, secrets: Iterable[str | None], replacement: str = "***") -> str:
    """``text`` with every secret in ``secrets`` (and its base64 form) replaced by ``replacement``.

    Secrets shorter than 4 characters are ignored (they would mask ordinary words).

    Examples:
        >>> redact("Bearer sk-test-123 and c2stdGVzdC0xMjM=", ["sk-test-123", None])
        'Bearer *** and ***'
    """
    for secret in secrets:
        if not secret or len(secret) < 4:
            continue
        encoded = base64.b64encode(secret.encode("utf-8")).decode("ascii")
        for form in (secret, encoded, encoded.rstrip("=")):
            text = text.replace(form, replacement)
    return text


#: Name parts (split at "_") of environment variables that hold secrets.
_SECRET_NAME_PARTS = frozenset(
    {"KEY", "APIKEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "CREDENTIALS", "AUTH"}
)
_MIN_SECRET_LENGTH = 8
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def secret_env_values(environ: Mapping[str, str] | None = None) -> list[str]:
    """Values (8+ characters) of the environment variables whose names mark them as secrets.

    A name is a secret's when one of its ``_``-separated parts is KEY, APIKEY, TOKEN, SECRET,
    PASSWORD, PASSWD, CREDENTIAL(S) or AUTH (``OPENAI_API_KEY``, ``HF_TOKEN``; not ``TOKENIZERS_...``).

    Examples:
        >>> secret_env_values({"JUDGE_API_KEY": "sk-0123456789", "TOKENIZERS_PARALLELISM": "false-ish"})
        ['sk-0123456789']
    """
    env = os.environ if environ is None else environ
    values = []
    for name, value in env.items():
        parts = set(name.upper().split("_"))
        if parts & _SECRET_NAME_PARTS and len(value.strip()) >= _MIN_SECRET_LENGTH:
            values.append(value.strip())
    return sorted(set(values), key=len, reverse=True)  # longest first: a key inside another is masked whole


def scrub(obj: Any, secrets: Iterable[str | None] | None = None, replacement: str = "***") -> Any:
    """A copy of a JSON-like ``obj`` (dicts, lists, strings...) with every secret redacted.

    ``secrets`` defaults to :func:`secret_env_values`; keys of dicts are scrubbed too.

    Examples:
        >>> scrub({"note": "sent Bearer sk-0123456789", "n": 3}, ["sk-0123456789"])
        {'note': 'sent Bearer ***', 'n': 3}
    """
    found = [s for s in (secret_env_values() if secrets is None else secrets) if s]
    if not found:
        return obj

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return redact(value, found, replacement)
        if isinstance(value, Mapping):
            return {walk(k): walk(v) for k, v in value.items()}
        if type(value) in (list, tuple):  # exactly: a named tuple is left as it is
            return type(value)(walk(v) for v in value)
        return value

    return walk(obj)


def check_env_var_name(name: str | None, where: str) -> str | None:
    """``name`` if it can name an environment variable, else a ``ConfigError`` that does not repeat it.

    Catches the common slip of writing the key itself where its variable's name belongs
    (``api_key_env: sk-...``): the error must not copy the key into logs and terminals.

    Examples:
        >>> check_env_var_name("OPENAI_API_KEY", "ChatEndpointConfig.api_key_env")
        'OPENAI_API_KEY'
        >>> try:
        ...     check_env_var_name("sk-proj-abc123", "ChatEndpointConfig.api_key_env")
        ... except ValueError as exc:
        ...     print("sk-proj" in str(exc), str(exc)[:74])
        False ChatEndpointConfig.api_key_env must be the NAME of an environment variable
    """
    if name is None or _ENV_NAME.match(name):
        return name
    from domainft.errors import ConfigError

    raise ConfigError(
        f"{where} must be the NAME of an environment variable (letters, digits and _, e.g. "
        f"OPENAI_API_KEY), not the key itself; the value given ({len(name)} characters) is not shown. "
        "Export the key, e.g. export OPENAI_API_KEY=..., and give that name"
    )
