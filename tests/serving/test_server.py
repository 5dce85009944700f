"""``domainft serve`` as a real process on 127.0.0.1, called with the openai client, raw HTTP, our
judge and teacher backends, and concurrent requests."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.serving.conftest import API_KEY, JUDGE_REPLY, start_server

openai = pytest.importorskip("openai")

MODEL = "tiny-tickets"
ON_TOPIC = "Machine: CNC lathe. Problem: the spindle overheats and the coolant pump leaks."


def _client(server, key=API_KEY):
    return openai.OpenAI(base_url=server.base_url, api_key=key, max_retries=0, timeout=60)


def _post(server, body: bytes | dict, key: str | None = API_KEY, path="/v1/chat/completions"):
    """Raw POST; returns (status, parsed JSON body)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(server.root + path, data=data, method="POST")
    request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _ask(prompt: str, **extra):
    return {"model": MODEL, "messages": [{"role": "user", "content": prompt}], **extra}


def test_plain_and_streamed_answers_agree(server, ticket_pairs):
    client = _client(server)
    assert [m.id for m in client.models.list().data] == [MODEL]
    question = ticket_pairs[3]["prompt"]
    plain = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": question}])
    answer = plain.choices[0].message.content
    assert answer and plain.choices[0].finish_reason in ("stop", "length")
    assert plain.usage.completion_tokens <= 24 and plain.usage.prompt_tokens > 5
    chunks = list(
        client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": question}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == answer and len([c for c in chunks if c.choices]) > 3
    assert chunks[-1].usage.total_tokens == plain.usage.total_tokens
    finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finish == [plain.choices[0].finish_reason]


def test_concurrent_requests_are_batched_and_all_answered(server, ticket_pairs):
    client = _client(server)
    questions = [p["prompt"] for p in ticket_pairs[10:22]]
    one_by_one = [
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": q}], max_tokens=12)
        .choices[0]
        .message.content
        for q in questions
    ]
    before = server.health()["engine"]

    def ask(q):
        reply = client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": q}], max_tokens=12
        )
        return reply.choices[0].message.content

    with ThreadPoolExecutor(max_workers=len(questions)) as pool:
        together = list(pool.map(ask, questions))
    after = server.health()["engine"]
    assert together == one_by_one  # batching does not change greedy answers
    assert after["requests"] - before["requests"] == len(questions)
    assert after["batches"] - before["batches"] < len(questions)  # some shared a batch
    assert after["max_batch"] > 1


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{not json", 400, "not valid JSON (line 1, column 2)"),
        (b"[1, 2]", 400, "must be a JSON object"),
        ({"model": MODEL}, 400, "messages: Field required"),
        ({"model": MODEL, "messages": []}, 400, "messages: List should have at least 1 item"),
        ({"model": MODEL, "messages": [{"role": "robot", "content": "hi"}]}, 400, "messages.0.role"),
        ({"model": MODEL, "messages": [{"role": "user"}]}, 400, "messages.0.content: Field required"),
        ({**_ask("hi"), "n": 2}, 400, "one choice per request"),
        ({**_ask("hi"), "temperature": 5}, 400, "temperature"),
        (_ask(ON_TOPIC * 60), 400, "context window of 1024"),
        (
            {"model": MODEL, "messages": [{"role": "assistant", "content": "hi"}]},
            400,
            "end with a user message",
        ),
        (_ask("hi", model="gpt-4"), 404, "serves 'tiny-tickets'"),
        (json.dumps(_ask("x" * 1_100_000)).encode(), 413, "limit"),
    ],
    ids=[
        "bad-json",
        "not-object",
        "no-messages",
        "empty-messages",
        "bad-role",
        "no-content",
        "n",
        "temperature",
        "long-prompt",
        "last-not-user",
        "unknown-model",
        "too-large",
    ],
)
def test_bad_requests_get_4xx_with_a_message(server, body, status, message):
    code, reply = _post(server, body)
    assert code == status
    assert message in reply["error"]["message"]


def test_max_tokens_beyond_the_context_window_is_cut_to_what_fits(server):
    code, reply = _post(server, {**_ask(ON_TOPIC * 30), "max_tokens": 100000})
    assert code == 200
    used, finish = reply["usage"], reply["choices"][0]["finish_reason"]
    assert used["prompt_tokens"] > 500
    # cut to the room left (not to the server's default of 24), unless the model ended the answer itself
    assert used["total_tokens"] == 1024 if finish == "length" else used["total_tokens"] < 1024


def test_api_key_is_required_on_the_api_but_not_on_health(server):
    code, reply = _post(server, _ask("hi"), key="wrong-key")
    assert code == 401 and reply["error"]["code"] == "invalid_api_key"
    assert _post(server, _ask("hi"), key=None)[0] == 401
    with pytest.raises(openai.AuthenticationError):
        _client(server, key="wrong-key").models.list()
    health = server.health()
    assert health["status"] == "ok" and health["auth_required"] and health["requests"]["rejected"] >= 2
    assert API_KEY not in json.dumps(health) and API_KEY not in server.log.read_text()


def test_off_topic_questions_get_the_refusal_plain_and_streamed(server):
    before = server.health()["engine"]["requests"]
    code, reply = _post(server, _ask("What is the capital of France?"))
    assert code == 200
    assert reply["choices"][0]["message"]["content"].startswith(
        "I'm sorry, I can only answer questions about"
    )
    assert "machine maintenance" in reply["choices"][0]["message"]["content"]
    assert reply["domainft"]["gated"] is True and reply["domainft"]["topic_score"] < 0.5
    chunks = list(
        _client(server).chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "Who painted the Mona Lisa?"}], stream=True
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == reply["choices"][0]["message"]["content"]
    assert server.health()["engine"]["requests"] == before  # the model never ran


def test_unknown_routes_and_methods_answer_in_the_api_error_format(server):
    request = urllib.request.Request(server.root + "/v1/embeddings", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=10)
    assert (
        info.value.code == 404 and "the API is under /v1" in json.loads(info.value.read())["error"]["message"]
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(server.root + "/v1/chat/completions", timeout=10)  # GET
    assert info.value.code == 405


@pytest.fixture(scope="module")
def judge_server(tiny_model_dir, judge_run_dir, tmp_path_factory):
    """The tiny model with the judge adapter, without an API key."""
    log = tmp_path_factory.mktemp("judge-serve") / "serve.log"
    # RAGAS prompts run past the tiny model's 1024 positions; rotary positions cope with a longer window
    running = start_server(
        tiny_model_dir,
        log,
        *("--adapter", str(judge_run_dir / "adapter"), "--max-new-tokens", "8", "--context-window", "2048"),
    )
    yield running
    running.stop()


def test_our_judge_backend_grades_through_a_served_fine_tuned_model(judge_server, ticket_pairs):
    from domainft.evaluation.judges.judge import LLMJudge

    health = judge_server.health()
    assert health["model"] == "judge-run" and not health["auth_required"]  # named after the run folder
    judge = LLMJudge(
        {
            "endpoint": {"base_url": judge_server.base_url, "model": "judge-run", "max_retries": 0},
            "progress": False,
        }
    )
    pairs = ticket_pairs[100:106]
    result = judge.grade(
        [p["prompt"] for p in pairs], ["Replace the seal."] * 6, [p["response"] for p in pairs]
    )
    assert result.failures == []
    assert result.scores == [8] * 6
    assert judge_server.health()["engine"]["requests"] == 6
    assert JUDGE_REPLY == "Score: 8"


def test_our_teacher_backend_gets_the_served_answer(judge_server, ticket_pairs):
    from domainft.data.teachers import get_teacher

    teacher = get_teacher("openai", base_url=judge_server.base_url, model="judge-run", max_retries=0)
    messages = [{"role": "user", "content": ticket_pairs[0]["prompt"]}]
    out = teacher.complete([messages])
    code, direct = _post(
        judge_server, {"model": "judge-run", "messages": messages, "temperature": 0}, key=None
    )
    assert code == 200
    assert out == [direct["choices"][0]["message"]["content"]]


def test_ragas_uses_the_served_model_as_its_judge(judge_server):
    pytest.importorskip("ragas")
    from domainft.evaluation.metrics import get_metric

    before = judge_server.health()["engine"]["requests"]
    endpoint = {"base_url": judge_server.base_url, "model": "judge-run", "max_retries": 0, "timeout_s": 60.0}
    metric = get_metric("ragas_faithfulness", llm=endpoint, contexts_column="contexts", parse_retries=0)
    out = metric.compute(
        ["Replace the seal."],
        ["Replace the worn seal."],
        prompts=["Pump leaks?"],
        contexts=[["The seal is worn."]],
    )
    # our judge adapter was trained to answer our grading prompts with "Score: 8"; on RAGAS' prompt (which
    # it never saw) it answers something that is not the JSON RAGAS asks for: the reply came back over
    # HTTP and is reported as an unparsable judge reply with its text, never as NaN
    assert judge_server.health()["engine"]["requests"] > before, out.failures
    assert out.per_sample["ragas_faithfulness"] == [None]
    assert "judge reply could not be parsed" in out.failures[0]["reason"]
    assert out.failures[0]["raw"] and not out.failures[0]["raw"].lstrip().startswith("{")


def test_a_client_that_leaves_mid_stream_frees_its_row(server):
    import http.client
    import time

    before = server.health()["engine"]
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    body = json.dumps({**_ask(ON_TOPIC), "stream": True, "max_tokens": 900})
    connection.request(
        "POST",
        "/v1/chat/completions",
        body,
        {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
    )
    reply = connection.getresponse()
    assert reply.status == 200
    while b'"delta": {"content": "' not in reply.readline():  # until the first generated text
        pass
    connection.close()  # then leave
    deadline = time.monotonic() + 60
    after = server.health()["engine"]
    while after["generated_tokens"] == before["generated_tokens"] and time.monotonic() < deadline:
        time.sleep(0.1)  # the counter moves when the batch ends
        after = server.health()["engine"]
    generated = after["generated_tokens"] - before["generated_tokens"]
    assert 0 < generated < 900  # generation stopped when the client went away
    assert after["cancelled"] == before["cancelled"] + 1
