"""ChatClient against a real HTTP server on 127.0.0.1: retries, errors, timeouts, concurrency, the key."""

from __future__ import annotations

import logging
import time

import pytest

from domainft.errors import ConfigError, DataError
from domainft.llm.openai_compat import (
    ChatClient,
    ChatEndpointConfig,
    ChatEndpointError,
    ChatFailure,
    ChatResponse,
    parse_retry_after,
)
from tests.fake_openai import FakeReply, dropped, error, invalid_json, slow, truncated

USER = [{"role": "user", "content": "Hello"}]


def client_for(server, **kwargs) -> ChatClient:
    options = {"base_url": server.url, "model": "fake-model", "backoff_s": 0.01, "max_backoff_s": 0.05}
    options.update(kwargs)
    return ChatClient(**options)


def test_chat_sends_the_openai_body_and_returns_the_reply(fake_openai):
    client = client_for(fake_openai, temperature=0.3, max_tokens=64, seed=7, extra_body={"top_p": 0.9})
    reply = client.chat(USER, stop=["\n"])
    assert isinstance(reply, ChatResponse)
    assert reply.text == "echo: Hello"
    assert reply.finish_reason == "stop" and reply.attempts == 1
    assert reply.usage["total_tokens"] == 2
    (request,) = fake_openai.requests
    assert request.path == "/v1/chat/completions"
    assert request.body == {
        "model": "fake-model",
        "messages": USER,
        "temperature": 0.3,
        "max_tokens": 64,
        "seed": 7,
        "top_p": 0.9,
        "stop": ["\n"],
    }
    assert request.headers["Content-Type"] == "application/json"
    assert "Authorization" not in request.headers


def test_api_key_comes_from_the_named_environment_variable_and_is_never_shown(fake_openai, monkeypatch):
    monkeypatch.setenv("DOMAINFT_TEST_KEY", "sk-secret-123")
    client = client_for(fake_openai, api_key_env="DOMAINFT_TEST_KEY")
    client.chat(USER)
    assert fake_openai.requests[0].headers["Authorization"] == "Bearer sk-secret-123"
    assert "sk-secret" not in repr(client)
    assert "sk-secret" not in client.config.to_json()
    fake_openai.enqueue(error(401, "invalid api key"))
    with pytest.raises(ChatEndpointError) as info:
        client.chat(USER)
    assert info.value.status == 401
    assert "DOMAINFT_TEST_KEY" in str(info.value) and "sk-secret" not in str(info.value)


def test_missing_key_variable_is_a_config_error(monkeypatch):
    monkeypatch.delenv("DOMAINFT_TEST_MISSING", raising=False)
    with pytest.raises(ConfigError, match="DOMAINFT_TEST_MISSING.*not set"):
        ChatClient(base_url="http://127.0.0.1:1/v1", model="m", api_key_env="DOMAINFT_TEST_MISSING")


def test_retries_transient_failures_then_succeeds(fake_openai, caplog):
    fake_openai.enqueue(error(500), error(503, "overloaded"), dropped(), invalid_json(), "finally")
    with caplog.at_level(logging.WARNING, logger="domainft.llm.openai_compat"):
        reply = client_for(fake_openai, max_retries=4).chat(USER)
    assert reply.text == "finally"
    assert reply.attempts == 5
    assert fake_openai.count == 5
    assert "HTTP 503" in caplog.text and "retry 1/4" in caplog.text


def test_gives_up_after_max_retries_with_the_last_error(fake_openai):
    fake_openai.handler = lambda request: error(502, "bad gateway")
    with pytest.raises(ChatEndpointError) as info:
        client_for(fake_openai, max_retries=2).chat(USER)
    assert fake_openai.count == 3
    assert info.value.status == 502 and info.value.attempts == 3
    assert (
        "HTTP 502" in str(info.value) and "bad gateway" in str(info.value) and "3 attempts" in str(info.value)
    )


def test_no_retry_on_400_and_the_error_shows_the_server_message(fake_openai):
    fake_openai.enqueue(error(400, "max_tokens is too large: 99999"))
    with pytest.raises(ChatEndpointError) as info:
        client_for(fake_openai, max_retries=5).chat(USER)
    assert fake_openai.count == 1
    assert info.value.status == 400 and not info.value.retryable
    message = str(info.value)
    assert "HTTP 400" in message and "max_tokens is too large: 99999" in message
    assert fake_openai.url in message


def test_404_hints_at_the_base_url(fake_openai):
    client = ChatClient(base_url=fake_openai.url.removesuffix("/v1") + "/wrong", model="m", max_retries=3)
    with pytest.raises(ChatEndpointError, match=r"HTTP 404.*check base_url"):
        client.chat(USER)
    assert fake_openai.count == 1


def test_429_honours_retry_after(fake_openai):
    fake_openai.enqueue(error(429, "rate limited", retry_after="1"), "ok")
    client = client_for(fake_openai, backoff_s=0.01, max_backoff_s=5.0)
    start = time.monotonic()
    assert client.chat(USER).text == "ok"
    assert time.monotonic() - start >= 0.9  # the server's Retry-After, not the 10 ms backoff
    assert fake_openai.count == 2


def test_timeout_is_retried_then_reported(fake_openai):
    fake_openai.handler = lambda request: slow("late", delay_s=3.0)
    client = client_for(fake_openai, timeout_s=0.2, max_retries=1)
    start = time.monotonic()
    with pytest.raises(ChatEndpointError) as info:
        client.chat(USER)
    assert time.monotonic() - start < 2.0
    assert info.value.kind == "timeout" and "timeout_s=0.2" in str(info.value)
    assert fake_openai.count == 2


def test_connection_refused_is_a_clear_error():
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = ChatClient(base_url=f"http://127.0.0.1:{port}/v1", model="m", max_retries=1, backoff_s=0.01)
    with pytest.raises(ChatEndpointError, match="cannot connect.*is the server running") as info:
        client.chat(USER)
    assert info.value.kind == "connection" and info.value.attempts == 2


def test_chat_many_keeps_order_and_limits_concurrency(fake_openai):
    # later requests answer sooner, so completion order is the reverse of the input order
    fake_openai.handler = lambda request: slow(
        request.last_user.upper(), 0.05 * (8 - int(request.last_user[1:]))
    )
    batches = [[{"role": "user", "content": f"q{i}"}] for i in range(8)]
    seen: list[int] = []
    results = client_for(fake_openai).chat_many(batches, concurrency=3, on_result=lambda i, r: seen.append(i))
    assert [r.text for r in results] == [f"Q{i}" for i in range(8)]
    assert sorted(seen) == list(range(8)) and seen != list(range(8))
    assert fake_openai.max_in_flight == 3


def test_chat_many_reports_failures_per_item(fake_openai):
    def handler(request):
        if request.last_user == "bad":
            return error(400, "content policy")
        return request.last_user

    fake_openai.handler = handler
    batches = [[{"role": "user", "content": c}] for c in ("a", "bad", "c")]
    results = client_for(fake_openai, concurrency=2).chat_many(batches)
    assert [type(r) for r in results] == [ChatResponse, ChatFailure, ChatResponse]
    assert results[0].text == "a" and results[2].text == "c"
    assert results[1].status == 400 and "content policy" in results[1].error and results[1].kind == "http"


def test_chat_many_rejects_malformed_messages_before_sending(fake_openai):
    with pytest.raises(DataError, match=r"message_lists\[1\]\[0\].*role"):
        client_for(fake_openai).chat_many([USER, [{"content": "no role"}]])
    assert fake_openai.count == 0


def test_malformed_200_replies_are_retried_a_bounded_number_of_times(fake_openai):
    # a proxy's page or a half-started server: retried like a 5xx, then reported with the last error
    fake_openai.handler = lambda request: FakeReply(body={"choices": []})
    with pytest.raises(ChatEndpointError, match=r"no choices\[0\]\.message") as info:
        client_for(fake_openai, max_retries=3).chat(USER)
    assert info.value.kind == "invalid_response" and info.value.retryable
    assert fake_openai.count == 4 and info.value.attempts == 4
    fake_openai.handler = lambda request: "whole"
    fake_openai.enqueue(FakeReply(body={"error": {"message": "warming up"}}), truncated())
    assert client_for(fake_openai, max_retries=3).chat(USER).attempts == 3


def test_a_reply_that_ran_out_of_tokens_with_no_text_is_not_retried(fake_openai):
    choice = {"index": 0, "message": {"role": "assistant", "content": None}, "finish_reason": "length"}
    fake_openai.enqueue(FakeReply(body={"choices": [choice]}))
    with pytest.raises(ChatEndpointError, match="raise max_tokens") as info:
        client_for(fake_openai, max_retries=3).chat(USER)
    assert fake_openai.count == 1 and not info.value.retryable


def test_a_body_cut_short_is_retried_and_named(fake_openai):
    fake_openai.handler = lambda request: truncated(keep=10)
    with pytest.raises(
        ChatEndpointError, match=r"cut short \(10 bytes received of the \d+ promised\)"
    ) as info:
        client_for(fake_openai, max_retries=2).chat(USER)
    assert info.value.kind == "truncated" and fake_openai.count == 3


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    client = ChatClient(base_url="http://127.0.0.1:1/v1", model="m", backoff_s=1.0, max_backoff_s=6.0)
    for attempt, base in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 6.0), (9, 6.0)]:
        delays = [client.backoff_delay(attempt) for _ in range(50)]
        assert all(0.5 * base <= d < base for d in delays)
        assert len(set(delays)) > 1  # jittered
    assert client.backoff_delay(1, retry_after=30.0) == 6.0  # capped at max_backoff_s


def test_parse_retry_after_http_date():
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10.0)
    assert parse_retry_after(None) is None and parse_retry_after("-5") == 0.0


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"base_url": "localhost:8000"}, "http"),
        ({"base_url": "http://h/v1/chat/completions"}, "not the /chat/completions"),
        ({"model": " "}, "model"),
        ({"max_retries": -1}, "max_retries"),
        ({"concurrency": 0}, "concurrency"),
        ({"extra_body": {"messages": []}}, "extra_body"),
        ({"extra_headers": {"Authorization": "Bearer x"}}, "api_key_env"),
    ],
)
def test_config_validation_names_the_field(changes, match):
    with pytest.raises(ConfigError, match=match):
        ChatEndpointConfig.from_dict({"base_url": "http://127.0.0.1:8000/v1", "model": "m", **changes})


def test_config_round_trips_through_yaml(tmp_path):
    cfg = ChatEndpointConfig(
        base_url="http://127.0.0.1:8000/v1/", model="m", api_key_env="K", extra_body={"top_p": 0.5}
    )
    cfg.to_yaml(tmp_path / "endpoint.yaml")
    again = ChatEndpointConfig.from_yaml(tmp_path / "endpoint.yaml")
    assert again == cfg and again.base_url == "http://127.0.0.1:8000/v1"
