"""A small client for any OpenAI-compatible chat endpoint (vLLM, llama.cpp, TGI, Ollama, OpenAI...).

``ChatClient.chat(messages)`` POSTs ``{base_url}/chat/completions`` and returns the reply; transient
failures (connection refused or dropped, timeouts, HTTP 408/409/429/5xx, a body cut short, a body that
is not JSON or has no ``choices[0].message``) are retried ``max_retries`` times with exponential
backoff and jitter, honouring ``Retry-After``; other HTTP errors (400, 401, 403, 404, 422...) fail at
once with the status and the server's message. Every request has a socket timeout (``timeout_s``).
``chat_many`` runs many conversations on a thread pool, keeps their order and reports each failure
in its slot instead of failing the batch. Only the standard library is used. The API key is read
from the environment variable named by ``api_key_env``; it is never written to a file, a log or an
error message.

Examples:
    >>> from domainft.llm.openai_compat import ChatClient, ChatEndpointConfig
    >>> config = ChatEndpointConfig(base_url="http://127.0.0.1:8000/v1", model="qwen2.5-7b-instruct")
    >>> client = ChatClient(config)
    >>> client.build_body([{"role": "user", "content": "Hi"}])["model"]
    'qwen2.5-7b-instruct'
    >>> client.backoff_delay(attempt=3, retry_after=2.0)  # a server's Retry-After wins
    2.0
"""

from __future__ import annotations

import email.utils
import http.client
import json
import logging
import os
import random
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any, Literal

from domainft.configuration import ConfigBase, config_field
from domainft.errors import ConfigError, DataError, DomainftError
from domainft.utils.privacy import check_env_var_name, redact

logger = logging.getLogger(__name__)

Messages = Sequence[Mapping[str, Any]]
FailureKind = Literal["http", "timeout", "connection", "truncated", "invalid_json", "invalid_response"]

_RESERVED_BODY_KEYS = ("model", "messages")
_LOOPBACK = ("localhost", "127.0.0.1", "::1")
_MAX_SERVER_MESSAGE = 500
_RETRYABLE_STATUS = (408, 409, 429)  # timeout, conflict, rate limit; and every 5xx


@dataclass
class ChatEndpointConfig(ConfigBase):
    """Where the chat endpoint is and how to call it.

    Examples:
        >>> cfg = ChatEndpointConfig.from_dict({"base_url": "http://localhost:8080/v1/", "model": "m"})
        >>> cfg.base_url, cfg.max_retries
        ('http://localhost:8080/v1', 4)
    """

    base_url: str = config_field(
        "", help="Base URL of the server, usually ending in /v1 (e.g. http://127.0.0.1:8000/v1); required."
    )
    model: str = config_field(
        "", help="Model name sent in every request (servers of one model accept any); required."
    )
    api_key_env: str | None = config_field(
        None,
        help="Name of the environment variable holding the API key (sent as a Bearer token); "
        "null for a server without a key. The key itself is never stored.",
    )
    timeout_s: float = config_field(120.0, help="Socket timeout of one request (connect and each read).")
    max_retries: int = config_field(4, help="Retries after a transient failure (0 = try once).")
    backoff_s: float = config_field(1.0, help="First retry delay; doubles each retry, with jitter.")
    max_backoff_s: float = config_field(60.0, help="Longest wait between two tries (Retry-After included).")
    concurrency: int = config_field(4, help="Requests in flight at once in chat_many.")
    temperature: float | None = config_field(0.0, help="Sampling temperature; null = the server's default.")
    max_tokens: int | None = config_field(1024, help="Longest reply in tokens; null = the server's default.")
    seed: int | None = config_field(None, help="Sampling seed, for servers that support one.")
    extra_body: dict[str, Any] = config_field(
        {}, help="More JSON fields for every request body (e.g. top_p, stop, response_format)."
    )
    extra_headers: dict[str, str] = config_field(
        {}, help="More HTTP headers for every request (never put a key here: use api_key_env)."
    )

    def validate(self) -> None:
        check_env_var_name(self.api_key_env, "ChatEndpointConfig.api_key_env")
        if not self.base_url.strip():
            raise ConfigError(
                "ChatEndpointConfig.base_url is required: the server's base URL, e.g. http://127.0.0.1:8000/v1"
            )
        url = self.base_url.strip().rstrip("/")
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ConfigError(
                f"ChatEndpointConfig.base_url must be an http(s) URL such as http://127.0.0.1:8000/v1, "
                f"got {self.base_url!r}"
            )
        if url.endswith("/chat/completions"):
            raise ConfigError(
                "ChatEndpointConfig.base_url: give the base URL (ending in /v1), not the "
                f"/chat/completions endpoint itself; got {self.base_url!r}"
            )
        self.base_url = url
        if not self.model.strip():
            raise ConfigError(
                "ChatEndpointConfig.model must name the served model (servers of one model accept any name)"
            )
        self.require_positive("timeout_s", "concurrency", "max_tokens", "backoff_s", "max_backoff_s")
        if self.max_retries < 0:
            raise ConfigError(f"ChatEndpointConfig.max_retries must be >= 0, got {self.max_retries}")
        if self.temperature is not None and self.temperature < 0:
            raise ConfigError(f"ChatEndpointConfig.temperature must be >= 0, got {self.temperature}")
        reserved = [k for k in _RESERVED_BODY_KEYS if k in self.extra_body]
        if reserved:
            raise ConfigError(
                f"ChatEndpointConfig.extra_body must not set {reserved[0]!r}; it is set by the client"
            )
        if any(k.lower() == "authorization" for k in self.extra_headers):
            raise ConfigError(
                "ChatEndpointConfig.extra_headers must not hold Authorization: name the environment "
                "variable holding the key in api_key_env instead"
            )

    @property
    def chat_url(self) -> str:
        return f"{self.base_url}/chat/completions"


@dataclass
class ChatResponse:
    """One successful reply: its text plus what the server said about it."""

    text: str
    finish_reason: str | None = None
    model: str | None = None
    usage: dict[str, Any] = dc_field(default_factory=dict)
    attempts: int = 1
    latency_s: float = 0.0
    raw: dict[str, Any] = dc_field(default_factory=dict, repr=False)


@dataclass
class ChatFailure:
    """A request that failed for good (after its retries), as reported by ``chat_many``."""

    error: str
    kind: FailureKind
    status: int | None = None
    attempts: int = 1
    retryable: bool = False

    def __str__(self) -> str:
        return self.error


class ChatEndpointError(DomainftError, RuntimeError):
    """A chat request failed: the message names the URL, the HTTP status and the server's message."""

    def __init__(
        self,
        message: str,
        *,
        kind: FailureKind,
        status: int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after
        self.attempts = attempts

    def __str__(self) -> str:
        tries = f" (after {self.attempts} attempts)" if self.attempts > 1 else ""
        return f"{self.message}{tries}"

    def failure(self) -> ChatFailure:
        return ChatFailure(
            error=str(self),
            kind=self.kind,
            status=self.status,
            attempts=self.attempts,
            retryable=self.retryable,
        )


def check_messages(messages: Any, where: str = "messages") -> list[dict[str, Any]]:
    """Check a chat conversation (a non-empty list of ``{"role", "content"}`` dicts); returns a copy.

    Examples:
        >>> check_messages([{"role": "user", "content": "Hi"}])
        [{'role': 'user', 'content': 'Hi'}]
    """
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence) or not messages:
        raise DataError(
            f"{where}: expected a non-empty list of {{'role': ..., 'content': ...}} dicts, "
            f"got {messages!r:.80}"
        )
    out: list[dict[str, Any]] = []
    for i, message in enumerate(messages):
        if not isinstance(message, Mapping) or not isinstance(message.get("role"), str):
            raise DataError(f"{where}[{i}]: expected a dict with a string 'role', got {message!r:.80}")
        if not isinstance(message.get("content"), (str, list)):
            raise DataError(f"{where}[{i}]: 'content' must be a string (or a list of parts)")
        out.append(dict(message))
    return out


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date); None if absent or bad.

    Examples:
        >>> parse_retry_after("3"), parse_retry_after("soon")
        (3.0, None)
    """
    if value is None or not value.strip():
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    return max(0.0, seconds) if seconds == seconds else None  # NaN -> None


def _server_message(body: bytes) -> str:
    """The ``error.message`` of an OpenAI-style error body, else the body's start."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        payload = json.loads(text)
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        error = payload.get("error", payload.get("detail", payload.get("message")))
        if isinstance(error, dict):
            error = error.get("message", error)
        if error is not None:
            text = error if isinstance(error, str) else json.dumps(error, ensure_ascii=False)
    if len(text) > _MAX_SERVER_MESSAGE:
        text = text[:_MAX_SERVER_MESSAGE] + "..."
    return text or "(empty body)"


def _content_text(content: Any) -> str | None:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # a list of content parts
        parts = [p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"]
        return "".join(parts)
    return None


class ChatClient:
    """Calls an OpenAI-compatible ``/chat/completions`` endpoint with retries; thread-safe.

    ``overrides`` replace fields of ``config`` (or build the whole config without one).

    Examples:
        >>> client = ChatClient(base_url="http://127.0.0.1:8000/v1", model="m", temperature=0.7)
        >>> client.build_body([{"role": "user", "content": "Hi"}], top_p=0.9)["top_p"]
        0.9
    """

    def __init__(self, config: ChatEndpointConfig | None = None, **overrides: Any) -> None:
        if config is not None and not isinstance(config, ChatEndpointConfig):
            raise ConfigError(f"ChatClient expects a ChatEndpointConfig, got {type(config).__name__}")
        data = {**(config.to_dict() if config is not None else {}), **overrides}
        self.config = ChatEndpointConfig.from_dict(data, _where="ChatClient")
        self._api_key = self._read_api_key()
        host = urllib.parse.urlparse(self.config.base_url).hostname or ""
        # A server on this machine is never reached through a proxy from http_proxy/https_proxy.
        handlers = [urllib.request.ProxyHandler({})] if host in _LOOPBACK else []
        self._opener = urllib.request.build_opener(*handlers)
        self._rng = random.Random()
        self._rng_lock = threading.Lock()
        self._sleep: Callable[[float], None] = time.sleep

    def __repr__(self) -> str:
        cfg = self.config
        return f"ChatClient(base_url={cfg.base_url!r}, model={cfg.model!r}, api_key_env={cfg.api_key_env!r})"

    def _read_api_key(self) -> str | None:
        name = self.config.api_key_env
        if name is None:
            return None
        value = os.environ.get(name, "").strip()
        if not value:
            raise ConfigError(
                f"ChatEndpointConfig.api_key_env: the environment variable {name!r} is not set or empty; "
                f"export {name}=<your key>, or set api_key_env to null for a server without a key"
            )
        return value

    # ------------------------------------------------------------------------------------ requests

    def build_body(self, messages: Messages, **params: Any) -> dict[str, Any]:
        """The JSON body sent for ``messages``: config settings, ``extra_body``, then ``params``."""
        cfg = self.config
        body: dict[str, Any] = {"model": cfg.model, "messages": [dict(m) for m in messages]}
        for key in ("temperature", "max_tokens", "seed"):
            value = getattr(cfg, key)
            if value is not None:
                body[key] = value
        body.update(cfg.extra_body)
        body.update(params)
        return body

    def _headers(self) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": "domainft",
            **self.config.extra_headers,
        }
        if self._api_key is not None:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def backoff_delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based).

        A server's ``Retry-After`` is honoured (up to ``max_backoff_s``); otherwise the delay is
        ``backoff_s * 2**(attempt-1)``, capped at ``max_backoff_s``, times a random factor in [0.5, 1).
        """
        cfg = self.config
        if retry_after is not None:
            return min(retry_after, cfg.max_backoff_s)
        base = min(cfg.max_backoff_s, cfg.backoff_s * 2 ** (attempt - 1))
        with self._rng_lock:
            jitter = 0.5 + 0.5 * self._rng.random()
        return base * jitter

    def chat(self, messages: Messages, **params: Any) -> ChatResponse:
        """Send one conversation and return the reply; raises ``ChatEndpointError`` when it fails for good.

        ``params`` are extra body fields for this request only (e.g. ``temperature=0.7``).
        """
        checked = check_messages(messages)
        data = json.dumps(self.build_body(checked, **params), ensure_ascii=False).encode("utf-8")
        attempt = 0
        while True:
            attempt += 1
            start = time.monotonic()
            try:
                response = self._parse(self._post(data))
            except ChatEndpointError as exc:
                exc.attempts = attempt
                if not exc.retryable or attempt > self.config.max_retries:
                    raise
                delay = self.backoff_delay(attempt, exc.retry_after)
                logger.warning(
                    "%s; retry %d/%d in %.2f s", exc.message, attempt, self.config.max_retries, delay
                )
                self._sleep(delay)
                continue
            response.attempts = attempt
            response.latency_s = time.monotonic() - start
            return response

    def chat_many(
        self,
        message_lists: Sequence[Messages],
        *,
        concurrency: int | None = None,
        on_result: Callable[[int, ChatResponse | ChatFailure], None] | None = None,
        progress: bool = False,
        desc: str = "chat",
        **params: Any,
    ) -> list[ChatResponse | ChatFailure]:
        """Send many conversations, ``concurrency`` at a time; results come back in the input order.

        A conversation that fails for good gives a :class:`ChatFailure` in its slot; the others go on.
        ``on_result(index, result)`` is called in the calling thread as each one finishes (e.g. to
        save it at once). Invalid conversations raise ``DataError`` before anything is sent.
        """
        from tqdm.auto import tqdm

        lists = [check_messages(m, where=f"message_lists[{i}]") for i, m in enumerate(message_lists)]
        workers = self.config.concurrency if concurrency is None else concurrency
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ConfigError(f"chat_many: concurrency must be a positive integer, got {workers!r}")
        results: list[ChatResponse | ChatFailure | None] = [None] * len(lists)
        if not lists:
            return []
        bar = tqdm(total=len(lists), desc=desc, disable=not progress, unit="request")
        pool = ThreadPoolExecutor(max_workers=min(workers, len(lists)), thread_name_prefix="domainft-chat")
        try:
            futures = {pool.submit(self._chat_or_failure, m, params): i for i, m in enumerate(lists)}
            for future in as_completed(futures):
                index = futures[future]
                result = results[index] = future.result()
                if on_result is not None:
                    on_result(index, result)
                bar.update(1)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        finally:
            pool.shutdown(wait=True)
            bar.close()
        return [r for r in results if r is not None]

    def _chat_or_failure(
        self, messages: list[dict[str, Any]], params: dict[str, Any]
    ) -> ChatResponse | ChatFailure:
        try:
            return self.chat(messages, **params)
        except ChatEndpointError as exc:
            return exc.failure()

    # ------------------------------------------------------------------------------------ transport

    def _error(self, message: str, **kwargs: Any) -> ChatEndpointError:
        """An error whose text (which may quote the server) never shows the API key."""
        return ChatEndpointError(redact(message, [self._api_key]), **kwargs)

    def _post(self, data: bytes) -> Any:
        url = self.config.chat_url
        request = urllib.request.Request(url, data=data, headers=self._headers(), method="POST")
        try:
            with self._opener.open(request, timeout=self.config.timeout_s) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            raise self._http_error(exc) from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError):
                raise self._timeout_error() from None
            if isinstance(reason, ssl.SSLCertVerificationError):
                raise self._error(
                    f"POST {url}: the server's TLS certificate is not trusted ({reason.verify_message}); "
                    "fix the certificate or point SSL_CERT_FILE at your CA bundle",
                    kind="connection",
                ) from None
            raise self._error(
                f"POST {url}: cannot connect ({reason}); is the server running and is base_url right?",
                kind="connection",
                retryable=True,
            ) from None
        except TimeoutError:
            raise self._timeout_error() from None
        except http.client.IncompleteRead as exc:
            expected = len(exc.partial) + exc.expected if exc.expected is not None else None
            promised = f" of the {expected} promised" if expected is not None else ""
            raise self._error(
                f"POST {url}: the reply was cut short ({len(exc.partial)} bytes received{promised}); "
                "the connection closed before the whole body arrived",
                kind="truncated",
                retryable=True,
            ) from None
        except (OSError, http.client.HTTPException) as exc:
            raise self._error(
                f"POST {url}: connection broken ({type(exc).__name__}: {exc})",
                kind="connection",
                retryable=True,
            ) from None
        try:
            return json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise self._error(
                f"POST {url}: the server answered HTTP 200 with a body that is not JSON: "
                f"{body[:200].decode('utf-8', errors='replace')!r}",
                kind="invalid_json",
                retryable=True,
            ) from None

    def _timeout_error(self) -> ChatEndpointError:
        return self._error(
            f"POST {self.config.chat_url}: no response within timeout_s={self.config.timeout_s:g} s",
            kind="timeout",
            retryable=True,
        )

    def _http_error(self, exc: urllib.error.HTTPError) -> ChatEndpointError:
        status = exc.code
        try:
            body = exc.read()
        except (OSError, http.client.HTTPException):
            body = b""
        finally:
            exc.close()
        message = _server_message(body)
        retryable = status in _RETRYABLE_STATUS or status >= 500
        hint = ""
        if status in (401, 403):
            env = self.config.api_key_env
            hint = (
                f"; check the API key in the environment variable {env!r}"
                if env
                else "; the server wants an API key: set api_key_env to the variable that holds it"
            )
        elif status == 404:
            hint = "; check base_url (OpenAI-compatible servers serve <base_url>/chat/completions) and model"
        elif not retryable:
            hint = "; the server rejected the request (check model, max_tokens and extra_body)"
        return self._error(
            f"POST {self.config.chat_url}: HTTP {status} {exc.reason}: {message}{hint}",
            kind="http",
            status=status,
            retryable=retryable,
            retry_after=parse_retry_after(exc.headers.get("Retry-After")) if exc.headers else None,
        )

    def _parse(self, payload: Any) -> ChatResponse:
        url = self.config.chat_url
        if isinstance(payload, dict) and "choices" not in payload and "error" in payload:
            raise self._error(
                f"POST {url}: the server returned an error: {_server_message(json.dumps(payload).encode())}",
                kind="invalid_response",
                retryable=True,
            )
        try:
            choice = payload["choices"][0]
            message = choice["message"]
        except (KeyError, IndexError, TypeError):
            raise self._error(
                f"POST {url}: the reply has no choices[0].message; got {json.dumps(payload)[:200]}",
                kind="invalid_response",
                retryable=True,  # a proxy's or a half-started server's reply; a later try may be whole
            ) from None
        text = _content_text(message.get("content") if isinstance(message, dict) else None)
        if text is None:
            finish = choice.get("finish_reason") if isinstance(choice, dict) else None
            raise self._error(
                f"POST {url}: the reply has no text content (finish_reason="
                f"{finish!r}); raise max_tokens if the model ran out of tokens",
                kind="invalid_response",
                retryable=finish != "length",  # running out of tokens happens again on a retry
            )
        return ChatResponse(
            text=text,
            finish_reason=choice.get("finish_reason"),
            model=payload.get("model"),
            usage=dict(payload.get("usage") or {}),
            raw=payload,
        )
