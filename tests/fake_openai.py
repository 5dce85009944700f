"""A scriptable OpenAI-compatible chat server on 127.0.0.1 for tests (a real HTTP server in a thread).

    with FakeOpenAIServer(handler=lambda request: "hello") as server:
        client = ChatClient(base_url=server.url, model="fake")
        ...
        assert server.count == 1

A reply is decided per request: first from the queue filled by ``enqueue`` (one-shot replies, in
order), else from ``handler(request)``. A reply is a string (the assistant's text) or a
:class:`FakeReply` (any status, headers, raw bytes, a delay, a dropped connection, a body cut short). Every request is
recorded in ``server.requests`` (path, headers, parsed JSON body) before it is answered.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class FakeReply:
    """What the server does for one request."""

    text: str | None = None  # assistant text in a chat-completions body (status 200)
    status: int = 200
    body: bytes | dict | None = None  # raw body instead of ``text`` (e.g. invalid JSON, an error object)
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # wait before answering (for timeouts)
    drop: bool = False  # close the connection without answering
    truncate_at: int | None = None  # send only this many body bytes (Content-Length promises all), then close


def error(status: int, message: str = "boom", retry_after: str | None = None) -> FakeReply:
    """An OpenAI-style error reply."""
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return FakeReply(status=status, body={"error": {"message": message, "type": "test"}}, headers=headers)


def invalid_json() -> FakeReply:
    return FakeReply(body=b"<html>Bad gateway</html>")


def slow(text: str, delay_s: float) -> FakeReply:
    return FakeReply(text=text, delay_s=delay_s)


def dropped() -> FakeReply:
    return FakeReply(drop=True)


def truncated(text: str = "a reply cut short", keep: int = 20) -> FakeReply:
    """A 200 whose Content-Length promises the whole chat-completions body but only ``keep`` bytes come."""
    return FakeReply(text=text, truncate_at=keep)


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.body.get("messages", []) if isinstance(self.body, dict) else []

    @property
    def last_user(self) -> str:
        users = [m["content"] for m in self.messages if m.get("role") == "user"]
        return users[-1] if users else ""


def echo(request: ReceivedRequest) -> str:
    """Default handler: the last user message back."""
    return f"echo: {request.last_user}"


def completion_body(text: str, model: str = "fake-model") -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default backlog of 5 stalls bursts of concurrent clients by 1 s
    daemon_threads = True


class FakeOpenAIServer:
    """Serves ``POST /v1/chat/completions`` on 127.0.0.1 at ``port`` (default: a free one; other paths: 404)."""

    def __init__(self, handler: Callable[[ReceivedRequest], str | FakeReply] = echo, port: int = 0) -> None:
        self.handler = handler
        self.requests: list[ReceivedRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._queue: deque[str | FakeReply] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = _Server(("127.0.0.1", port), self._make_handler())
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def enqueue(self, *replies: str | FakeReply) -> None:
        """One-shot replies used, in order, before the handler."""
        with self._lock:
            self._queue.extend(replies)

    def start(self) -> FakeOpenAIServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _next_reply(self, request: ReceivedRequest) -> str | FakeReply:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        return self.handler(request)

    def _make_handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body: Any = json.loads(raw)
                except ValueError:
                    body = raw
                request = ReceivedRequest("POST", self.path, dict(self.headers.items()), body)
                with server._lock:
                    server.requests.append(request)
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                self._counted = True
                try:
                    self._answer(request)
                finally:
                    self._done()

            def _done(self) -> None:
                """Leave the in-flight count once, before the reply is written: a client that reads the
                reply and sends its next request must not find this one still counted."""
                if getattr(self, "_counted", False):
                    self._counted = False
                    with server._lock:
                        server.in_flight -= 1

            def _answer(self, request: ReceivedRequest) -> None:
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send(404, {"error": {"message": f"no route {self.path}"}}, {})
                    return
                reply = server._next_reply(request)
                if isinstance(reply, str):
                    reply = FakeReply(text=reply)
                deadline = time.monotonic() + reply.delay_s
                while time.monotonic() < deadline and not server._stopping.is_set():
                    time.sleep(0.01)
                self._done()
                if reply.drop:
                    self.close_connection = True
                    self.connection.close()
                    return
                model = request.body.get("model", "fake-model") if isinstance(request.body, dict) else ""
                body = reply.body if reply.body is not None else completion_body(reply.text or "", model)
                self._send(reply.status, body, reply.headers, reply.truncate_at)

            def _send(
                self, status: int, body: bytes | dict, headers: dict[str, str], truncate_at: int | None = None
            ) -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    if truncate_at is None:
                        self.wfile.write(data)
                        return
                    self.wfile.write(data[: max(0, min(truncate_at, len(data) - 1))])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)  # the rest of the body never comes
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                    pass

        return Handler
