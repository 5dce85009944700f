"""An OpenAI-compatible HTTP server for a (fine-tuned) model, on Starlette and uvicorn.

Routes: ``POST /v1/chat/completions`` (plain, or streamed as server-sent events), ``GET /v1/models``,
``GET /health`` and a chat page at ``/``. Any OpenAI client, domainft's own judge and teacher
backends, and RAGAS can call it. Concurrent requests are queued and batched by the
:class:`~domainft.serving.engine.GenerationEngine`; the topic gate answers off-topic questions
with the configured refusal without running the model. When the environment variable named by
``api_key_env`` is set, ``/v1/*`` requires ``Authorization: Bearer <that key>``.

Examples:
    >>> from domainft.serving.server import ServerConfig
    >>> ServerConfig(port=8001).base_url
    'http://127.0.0.1:8001/v1'
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import html
import ipaddress
import json
import logging
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

from domainft.configuration import ConfigBase, config_field
from domainft.errors import ConfigError, DataError, ServingError
from domainft.models.generation import DecodingConfig
from domainft.serving.chat import ChatConfig, ChatRenderer
from domainft.serving.engine import Completion, GenerationEngine, GenerationRequest, QueueFullError
from domainft.serving.protocol import (
    APIError,
    ChatCompletionRequest,
    chunk_body,
    completion_body,
    new_id,
    parse_chat_request,
    sse,
    usage,
)
from domainft.utils.privacy import check_env_var_name

logger = logging.getLogger(__name__)


@dataclass
class ServerConfig(ConfigBase):
    """Where the server listens and how it queues, batches and limits requests."""

    host: str = config_field("127.0.0.1", help="Interface to listen on (127.0.0.1 = this machine only).")
    port: int = config_field(8000, help="TCP port.")
    model_name: str = config_field("domainft", help="Model id clients send and /v1/models lists.")
    api_key_env: str = config_field(
        "DOMAINFT_API_KEY",
        help="Environment variable whose value, when set, clients must send as Bearer token.",
    )
    max_batch_size: int = config_field(8, help="Requests generated together in one batch.")
    batch_wait_ms: float = config_field(5.0, help="How long a lone request waits for others to batch with.")
    max_queue: int = config_field(256, help="Requests waiting beyond this get HTTP 503 with Retry-After.")
    max_request_bytes: int = config_field(1_000_000, help="Larger request bodies get HTTP 413.")
    title: str = config_field("domainft assistant", help="Title of the chat page.")
    greeting: str = config_field("Hello! Ask me a question.", help="First message the chat page shows.")
    chat: ChatConfig = config_field(default_factory=ChatConfig, help="Prompt rendering and the topic gate.")
    decoding: DecodingConfig = config_field(
        default_factory=lambda: DecodingConfig(max_new_tokens=256),
        help="Default decoding; requests override temperature, top_p, top_k, max_tokens, seed.",
    )

    def validate(self) -> None:
        check_env_var_name(self.api_key_env, "ServerConfig.api_key_env")
        self.require_positive("max_batch_size", "max_queue", "max_request_bytes")
        self.require_range("port", 0, 65535)

    @property
    def root_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v1"


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _chat_page(config: ServerConfig, auth_required: bool) -> str:
    page = resources.files("domainft.serving").joinpath("static/chat.html").read_text(encoding="utf-8")
    settings = {
        "title": config.title,
        "greeting": config.greeting,
        "model": config.model_name,
        "authRequired": auth_required,
    }
    # "</" cannot end the script element early once escaped
    blob = json.dumps(settings, ensure_ascii=False).replace("</", "<\\/")
    return page.replace("__DOMAINFT_SETTINGS__", blob).replace(
        "__DOMAINFT_TITLE__", html.escape(config.title)
    )


class ChatService:
    """What the routes call: validation against the model, the gate, and the engine."""

    def __init__(self, engine: GenerationEngine, config: ServerConfig, topic_gate: Any | None = None) -> None:
        self.engine = engine
        self.config = config
        self.renderer = ChatRenderer(engine.tokenizer, config.chat, topic_gate, engine.context_window)
        self.api_key = os.environ.get(config.api_key_env) or None
        self.started = time.time()
        self.counts = {"completions": 0, "refused": 0, "rejected": 0}

    # -- request checks ---------------------------------------------------------------------------

    def authorize(self, header: str | None) -> None:
        if self.api_key is None:
            return
        scheme, _, token = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode(), self.api_key.encode()
        ):
            raise APIError(
                401,
                "missing or wrong API key: send it as the header 'Authorization: Bearer <key>'",
                type="authentication_error",
                code="invalid_api_key",
            )

    def decoding(self, req: ChatCompletionRequest, prompt_tokens: int) -> DecodingConfig:
        base = self.config.decoding.to_dict()
        room = self.engine.context_window - prompt_tokens
        if room < 1:
            raise APIError(
                400,
                f"the messages take {prompt_tokens} tokens, which fills the context window of "
                f"{self.engine.context_window} tokens; shorten the conversation",
                code="context_length_exceeded",
                param="messages",
            )
        # like llama.cpp (and unlike OpenAI), a max_tokens beyond the window is cut to what fits;
        # finish_reason "length" tells the client
        asked = req.requested_tokens()
        base["max_new_tokens"] = min(asked if asked is not None else base["max_new_tokens"], room)
        if req.temperature is not None:
            base["do_sample"] = req.temperature > 0
            if req.temperature > 0:
                base["temperature"] = req.temperature
        for name in ("top_p", "top_k", "repetition_penalty", "seed"):
            value = getattr(req, name)
            if value is not None:
                base[name] = value
        return DecodingConfig.from_dict(base, _where="request")

    def prepare(self, req: ChatCompletionRequest) -> tuple[Any, DecodingConfig | None]:
        """Gate and render the conversation (runs in a worker thread: tokenizing takes a moment)."""
        if req.model != self.config.model_name:
            raise APIError(
                404,
                f"model {req.model!r} is not served here; this server serves {self.config.model_name!r}",
                code="model_not_found",
                param="model",
            )
        messages = [m.as_dict() for m in req.messages]
        try:
            prepared = self.renderer.prepare(messages, 0, trim=False)
        except (ServingError, DataError, ConfigError) as exc:
            raise APIError(400, str(exc), param="messages") from None
        if prepared.refused:
            return prepared, None
        return prepared, self.decoding(req, len(prepared.prompt_ids))

    def gate_info(self, prepared: Any) -> dict[str, Any]:
        gate = prepared.gate
        return {
            "gated": prepared.refused,
            "topic_score": None if gate is None else round(gate.score, 6),
            "trimmed_turns": prepared.trimmed_turns,
        }

    def health(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "model": self.config.model_name,
            "context_window": self.engine.context_window,
            "queued": self.engine.queued,
            "uptime_s": round(time.time() - self.started, 1),
            "topic_gate": self.renderer.topic_gate is not None,
            "auth_required": self.api_key is not None,
            "engine": dict(self.engine.stats),
            "requests": dict(self.counts),
        }


def create_app(
    engine: GenerationEngine, config: ServerConfig | None = None, topic_gate: Any | None = None
) -> Any:
    """The Starlette application serving ``engine`` (uvicorn runs it; see :func:`serve`)."""
    from contextlib import asynccontextmanager

    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
    from starlette.routing import Route

    config = config or ServerConfig()
    service = ChatService(engine, config, topic_gate)

    def error_response(exc: APIError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    async def read_body(request: Request) -> bytes:
        limit = config.max_request_bytes
        body = bytearray()
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size <= limit:
                body += chunk
            elif size > 16 * limit:  # stop reading a flood; the connection closes with the 413
                break
        if size > limit:  # the body was read (not left unread) so the client sees this answer
            raise APIError(
                413,
                f"the request body has {size}{'+' if size > 16 * limit else ''} bytes; "
                f"the limit is {limit} (max_request_bytes)",
            )
        return bytes(body)

    async def completions(request: Request) -> Response:
        try:
            service.authorize(request.headers.get("authorization"))
            req = parse_chat_request(await read_body(request))
            prepared, decoding = await run_in_threadpool(service.prepare, req)
            stops = req.stop_strings()
        except APIError as exc:
            service.counts["rejected"] += 1
            return error_response(exc)
        rid = new_id()
        extra = service.gate_info(prepared)
        if decoding is None:  # off-topic: the refusal, without the model
            service.counts["refused"] += 1
            text = config.chat.refusal_text()
            done = Completion(text, "stop", 0, 0)
            if req.stream:
                return StreamingResponse(
                    refusal_events(rid, text, req, extra), media_type="text/event-stream"
                )
            return JSONResponse(body(rid, done, extra))
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

        def sink(event: tuple[str, Any]) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed during shutdown
                loop.call_soon_threadsafe(events.put_nowait, event)

        try:
            stream = engine.submit(GenerationRequest(prepared.prompt_ids, decoding, stop=stops), sink)
        except QueueFullError as exc:
            service.counts["rejected"] += 1
            return error_response(APIError(503, str(exc), type="server_error", headers={"Retry-After": "1"}))
        service.counts["completions"] += 1
        if req.stream:
            headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
            return StreamingResponse(
                stream_events(rid, req, events, stream, extra),
                media_type="text/event-stream",
                headers=headers,
            )
        try:
            while True:
                kind, value = await events.get()
                if kind == "done":
                    break
        finally:
            if not stream.done:
                stream.cancel()
        if value.finish_reason == "error":
            return error_response(APIError(500, f"generation failed: {value.error}", type="server_error"))
        return JSONResponse(body(rid, value, extra))

    def body(rid: str, done: Completion, extra: dict[str, Any]) -> dict[str, Any]:
        return completion_body(
            id=rid,
            model=config.model_name,
            text=done.text,
            finish_reason=done.finish_reason,
            usage=usage(done.prompt_tokens, done.completion_tokens),
            extra=extra,
        )

    async def refusal_events(
        rid: str, text: str, req: ChatCompletionRequest, extra: dict[str, Any]
    ) -> AsyncIterator[bytes]:
        model = config.model_name
        yield sse(chunk_body(id=rid, model=model, delta={"role": "assistant", "content": ""}))
        yield sse(chunk_body(id=rid, model=model, delta={"content": text}))
        yield sse(chunk_body(id=rid, model=model, delta={}, finish_reason="stop", extra=extra))
        if req.stream_options and req.stream_options.include_usage:
            yield sse(chunk_body(id=rid, model=model, delta={}, usage=usage(0, 0)))
        yield sse("[DONE]")

    async def stream_events(
        rid: str, req: ChatCompletionRequest, events: asyncio.Queue, stream: Any, extra: dict[str, Any]
    ) -> AsyncIterator[bytes]:
        model = config.model_name
        try:
            yield sse(chunk_body(id=rid, model=model, delta={"role": "assistant", "content": ""}))
            while True:
                kind, value = await events.get()
                if kind == "delta":
                    yield sse(chunk_body(id=rid, model=model, delta={"content": value}))
                    continue
                if value.finish_reason == "error":
                    failure = APIError(500, f"generation failed: {value.error}", type="server_error")
                    yield sse(failure.body())
                else:
                    yield sse(
                        chunk_body(
                            id=rid, model=model, delta={}, finish_reason=value.finish_reason, extra=extra
                        )
                    )
                    if req.stream_options and req.stream_options.include_usage:
                        counts = usage(value.prompt_tokens, value.completion_tokens)
                        yield sse(chunk_body(id=rid, model=model, delta={}, usage=counts))
                yield sse("[DONE]")
                return
        finally:
            if not stream.done:  # the client disconnected: free the batch row
                stream.cancel()

    async def models(request: Request) -> Response:
        try:
            service.authorize(request.headers.get("authorization"))
        except APIError as exc:
            return error_response(exc)
        entry = {
            "id": config.model_name,
            "object": "model",
            "created": int(service.started),
            "owned_by": "domainft",
        }
        return JSONResponse({"object": "list", "data": [entry]})

    async def health(request: Request) -> Response:
        return JSONResponse(service.health())

    page = _chat_page(config, service.api_key is not None)

    async def index(request: Request) -> Response:
        return HTMLResponse(page)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        hint = {404: f"no route {request.url.path}; the API is under /v1", 405: "method not allowed"}
        message = hint.get(exc.status_code, str(exc.detail))
        return error_response(APIError(exc.status_code, message, code=str(exc.status_code)))

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        engine.start()
        try:
            yield
        finally:
            engine.close()

    routes = [
        Route("/", index, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
        Route("/v1/models", models, methods=["GET"]),
        Route("/v1/chat/completions", completions, methods=["POST"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={HTTPException: http_error})
    app.state.service = service
    return app


def serve(
    model: Any,
    tokenizer: Any,
    config: ServerConfig | None = None,
    *,
    topic_gate: Any | None = None,
    log_level: str = "warning",
) -> None:
    """Serve ``model`` until interrupted (Ctrl-C). Prints the address once it listens."""
    import uvicorn

    config = config or ServerConfig()
    if not is_loopback(config.host) and not os.environ.get(config.api_key_env):
        logger.warning(
            "listening on %s without an API key: anyone who reaches this address can use the model "
            "(set %s to require one)",
            config.host,
            config.api_key_env,
        )
    engine = GenerationEngine(
        model,
        tokenizer,
        max_batch_size=config.max_batch_size,
        batch_wait_ms=config.batch_wait_ms,
        max_queue=config.max_queue,
        context_window=config.chat.context_window,
    )
    app = create_app(engine, config, topic_gate)

    class _Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            if self.started:
                print(
                    f"serving {config.model_name!r}: OpenAI API at {config.base_url}, chat page at "
                    f"{config.root_url}/  (Ctrl-C stops)",
                    flush=True,
                )

    uvicorn_config = uvicorn.Config(
        app, host=config.host, port=config.port, log_level=log_level, access_log=False
    )
    _Server(uvicorn_config).run()
