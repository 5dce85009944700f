"""The chat page of ``domainft serve`` in a real headless Chromium against a real server.

The page streams answers over server-sent events; these tests check that what it shows is what the
model answers (compared with a plain HTTP request to the same server), that off-topic questions get
the refusal, that API-key errors appear in the conversation, that Stop aborts a streaming answer,
and that "New conversation" forgets the history. A screenshot is saved to ``$DOMAINFT_TEST_ARTIFACTS`` (default ``test-artifacts/``).
"""

from __future__ import annotations

import json
import os
import re
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from domainft.serving.chat import ChatConfig
from domainft.serving.server import ServerConfig
from tests.serving.browser import ChromiumUnavailable, ensure_chromium, launch
from tests.serving.conftest import API_KEY, ServerProcess, start_server

REPO_ROOT = Path(__file__).resolve().parents[2]
IN_DOMAIN = "Machine: CNC lathe. Problem: spindle overheats after an hour"
OFF_TOPIC = "What is the capital of France?"
REFUSAL = ChatConfig(domain="machine maintenance").refusal_text()
REPLY = ".msg.assistant:not(.greeting)"
OPEN_TITLE = 'Press <shop> & "co" </script>'
OPEN_GREETING = "Hi!\nDescribe the machine and its problem."
IDLE = "body[data-busy='false']"  # a selector: the page's CSP forbids the eval of wait_for_function


def artifacts_dir() -> Path:
    folder = Path(os.environ.get("DOMAINFT_TEST_ARTIFACTS") or REPO_ROOT / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def complete(server: Any, messages: list[dict[str, str]], key: str | None = API_KEY) -> dict[str, Any]:
    """The server's plain (non-streamed) answer to ``messages``."""
    body = json.dumps({"model": "tiny-tickets", "messages": messages}).encode()
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(f"{server.base_url}/chat/completions", body, headers)
    with urllib.request.urlopen(request, timeout=60) as reply:
        return json.loads(reply.read())


@pytest.fixture(scope="session")
def chromium() -> str:
    """Chromium's path, installed with apt-get on a fresh (root) machine; skips with the reason otherwise."""
    pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install 'domainft[dev]')"
    )
    try:
        return ensure_chromium()
    except ChromiumUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def browser(chromium, tmp_path_factory) -> Iterator[Any]:
    """A headless Chromium (fresh profile) shared by the tests of this module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = launch(
            playwright,
            chromium,
            tmp_path_factory.mktemp("chromium-profile"),
            viewport={"width": 1024, "height": 760},
        )
        context.set_default_timeout(30_000)
        yield context
        context.close()


@dataclass
class ChatPage:
    """An open chat page and what it did: requests, chat-completion bodies, console errors."""

    page: Any
    requests: list[str] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)
    auth_headers: list[str | None] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def record(self, request: Any) -> None:
        self.requests.append(request.url)
        if request.method == "POST" and request.url.endswith("/v1/chat/completions"):
            self.posts.append(request.post_data_json)
            self.auth_headers.append(request.headers.get("authorization"))

    def ask(self, question: str) -> Any:
        """Type ``question``, press Enter, wait until the page is idle; the newest bubble."""
        self.page.fill("#input", question)
        self.page.press("#input", "Enter")
        self.page.wait_for_selector(IDLE, state="attached")
        return self.page.locator("#messages .msg").last

    def texts(self, selector: str) -> list[str]:
        return self.page.locator(f"{selector} .text").all_text_contents()


def open_chat_page(browser: Any, root: str) -> Iterator[ChatPage]:
    """The chat page at ``root``, freshly loaded in a new tab (so sessionStorage is empty)."""
    page = browser.new_page()
    opened = ChatPage(page)
    page.on("request", opened.record)
    page.on("console", lambda msg: msg.type == "error" and opened.console_errors.append(msg.text))
    page.on("pageerror", lambda exc: opened.page_errors.append(str(exc)))
    page.goto(f"{root}/", wait_until="load")
    page.wait_for_selector(IDLE, state="attached")
    yield opened
    page.close()
    assert opened.page_errors == [], f"uncaught errors in the page: {opened.page_errors}"
    foreign = [
        u for u in opened.requests if urlparse(u).scheme != "data" and urlparse(u).hostname != "127.0.0.1"
    ]
    assert foreign == [], f"the page requested something besides the server: {foreign}"


@pytest.fixture
def chat(browser, server) -> Iterator[ChatPage]:
    """The chat page of the module's server (API key, topic gate, 24-token answers)."""
    yield from open_chat_page(browser, server.root)


@pytest.fixture(scope="module")
def open_server(tiny_model_dir, tmp_path_factory) -> Iterator[ServerProcess]:
    """A second server: no API key, no gate, long answers (400 tokens: several seconds to stream)."""
    log = tmp_path_factory.mktemp("serve-open") / "serve.log"
    running = start_server(
        tiny_model_dir,
        log,
        "--served-model-name",
        "tiny-tickets",
        "--max-new-tokens",
        "400",
        "--title",
        OPEN_TITLE,
        "--greeting",
        OPEN_GREETING,
    )
    yield running
    running.stop()


@pytest.fixture
def open_chat(browser, open_server) -> Iterator[ChatPage]:
    yield from open_chat_page(browser, open_server.root)


def test_page_loads_offline_with_title_and_greeting(chat):
    page = chat.page
    assert page.title() == "Workshop assistant"
    assert page.inner_text("h1") == "Workshop assistant"
    assert "tiny-tickets" in page.inner_text("#model")
    bubbles = page.locator("#messages .msg")
    assert bubbles.count() == 1
    assert bubbles.first.get_attribute("class") == "msg assistant greeting"
    assert chat.texts("#messages .msg") == [ServerConfig().greeting]
    # the server requires a key, so the page offers the field; the composer is ready
    assert page.is_visible("#api-key")
    assert page.is_enabled("#send") and page.is_enabled("#input")
    assert page.is_hidden("#stop")
    assert chat.console_errors == []
    assert chat.requests == [f"{chat.page.url}"], chat.requests  # the page alone: no script, font or icon


def test_page_shows_the_models_streamed_answer(chat, server):
    page = chat.page
    page.fill("#api-key", API_KEY)
    bubble = chat.ask(IN_DOMAIN)
    page.wait_for_selector(REPLY)
    assert bubble.get_attribute("class") == "msg assistant"
    assert bubble.get_attribute("data-gated") is None
    shown = bubble.locator(".text").text_content()

    messages = [{"role": "user", "content": IN_DOMAIN}]
    assert chat.posts == [{"model": "tiny-tickets", "messages": messages, "stream": True}]
    assert chat.auth_headers == [f"Bearer {API_KEY}"]
    expected = complete(server, messages)
    assert expected["domainft"]["gated"] is False
    assert shown == expected["choices"][0]["message"]["content"]
    assert shown.strip(), "the tiny model answered nothing: the comparison would prove little"
    assert chat.texts(".msg.user") == [IN_DOMAIN]
    assert page.input_value("#input") == ""
    assert page.is_enabled("#send") and page.is_hidden("#stop")
    assert page.evaluate("sessionStorage.getItem('domainft-api-key')") == API_KEY

    folder = artifacts_dir()
    shot = page.screenshot(path=str(folder / "chat_page.png"), animations="disabled")
    assert (folder / "chat_page.png").stat().st_size == len(shot) > 10_000
    page.set_viewport_size({"width": 390, "height": 740})  # a phone: nothing may overflow sideways
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(folder / "chat_page_narrow.png"), animations="disabled")


def test_off_topic_question_shows_the_refusal(chat):
    chat.page.fill("#api-key", API_KEY)
    bubble = chat.ask(OFF_TOPIC)
    assert bubble.get_attribute("data-gated") == "true"
    assert bubble.locator(".text").text_content() == REFUSAL
    assert bubble.locator(".note").is_visible()
    assert chat.posts[0]["messages"] == [{"role": "user", "content": OFF_TOPIC}]


def test_wrong_api_key_shows_the_servers_401_message(chat, server):
    page = chat.page
    page.fill("#api-key", "not-the-key")
    question = "<img src=x onerror=\"document.title='owned'\"> Spindle noise?"
    bubble = chat.ask(question)
    assert bubble.get_attribute("class") == "msg error"
    assert "missing or wrong API key" in bubble.locator(".text").text_content()
    assert chat.auth_headers == ["Bearer not-the-key"]
    assert page.locator(REPLY).count() == 0
    # the question is shown as text, never as markup, and comes back in the box to send again
    assert chat.texts(".msg.user") == [question]
    assert page.locator("#messages img").count() == 0 and page.title() == "Workshop assistant"
    assert page.input_value("#input") == question
    assert page.is_enabled("#input") and page.is_enabled("#send")
    assert "invalid" in page.get_attribute("#api-key", "class")
    # with the right key the same question goes through, without the failed turn in the history
    page.fill("#api-key", API_KEY)
    page.press("#input", "Enter")
    page.wait_for_selector(IDLE, state="attached")
    assert chat.posts[-1]["messages"] == [{"role": "user", "content": question}]
    assert page.locator(".msg").last.get_attribute("class") == "msg assistant"


def test_new_conversation_forgets_the_history(chat):
    page = chat.page
    page.fill("#api-key", API_KEY)
    first = chat.ask(IN_DOMAIN).locator(".text").text_content()
    chat.ask("Machine: press brake. Problem: hydraulic pressure drops")
    assert [len(body["messages"]) for body in chat.posts] == [1, 3]
    assert chat.posts[1]["messages"][1] == {"role": "assistant", "content": first}

    page.click("#reset")
    assert page.locator("#messages .msg").count() == 1
    assert page.locator("#messages .msg.greeting").count() == 1
    assert page.locator(".msg.user, .msg.error, " + REPLY).count() == 0
    chat.ask(IN_DOMAIN)
    assert chat.posts[2]["messages"] == [{"role": "user", "content": IN_DOMAIN}]
    assert page.input_value("#api-key") == API_KEY  # the key survives a new conversation


def test_open_server_page_has_no_key_field_and_stop_aborts_the_answer(open_chat):
    from playwright.sync_api import expect

    page = open_chat.page
    # title and greeting with markup characters arrive as text, through both placeholders
    assert page.title() == OPEN_TITLE
    assert page.inner_text("h1") == OPEN_TITLE
    assert open_chat.texts(".msg.greeting") == [OPEN_GREETING]
    assert page.locator("#api-key").count() == 0

    page.fill("#input", IN_DOMAIN)
    page.press("#input", "Enter")
    assert page.get_attribute("body", "data-busy") == "true"
    assert page.is_disabled("#input") and page.is_hidden("#send") and page.is_visible("#stop")
    expect(page.locator(f"{REPLY} .text")).to_have_text(re.compile(r"\S"))  # the first pieces arrived
    page.click("#stop")
    page.wait_for_selector(IDLE, state="attached")
    reply = page.locator(REPLY)
    assert reply.locator(".note").all_text_contents() == ["Stopped"]
    partial = reply.locator(".text").text_content()
    assert partial.strip()
    assert open_chat.auth_headers == [None]

    # the stopped answer stays in the conversation the next question sends
    page.fill("#input", "What should I check first?")
    with page.expect_request("**/v1/chat/completions"):
        page.press("#input", "Enter")
    page.click("#stop")
    page.wait_for_selector(IDLE, state="attached")
    assert open_chat.posts[1]["messages"] == [
        {"role": "user", "content": IN_DOMAIN},
        {"role": "assistant", "content": partial},
        {"role": "user", "content": "What should I check first?"},
    ]
