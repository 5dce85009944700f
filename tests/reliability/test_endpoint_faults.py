"""Endpoint faults, injected by a real HTTP server on 127.0.0.1, for each client of a chat endpoint.

Table-driven over (client x fault). The clients are the LLM judge (``LLMJudge.grade``), the teacher
of synthetic data (``SyntheticQAGenerator`` with the ``openai`` teacher) and a served endpoint
evaluated as a system (``Evaluator.compare``). The faults are: connection refused, HTTP 429 with
Retry-After, HTTP 500/502/503, a timeout, a body cut short, a body that is not JSON and a dropped
connection (all retried), and HTTP 400 (not retried). For each pair we check that a persisting fault
is retried exactly ``max_retries`` times and then gives a per-sample failure record (which sample,
which error, how many tries) while the other samples succeed; that a fault that clears in time ends
in success; and that a rerun after the fault clears asks only for the failed samples (successes were
cached, failures were not). A killed process keeps the answers it had received. The RAGAS metrics
reach their judge through the OpenAI client instead: its retries are checked on the faults it sees.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.fake_openai import FakeOpenAIServer, FakeReply, dropped, error, invalid_json, slow, truncated

MAX_RETRIES = 2
TIMEOUT_S = 0.6
RETRY_AFTER_S = 0.2
N = 3  # samples per run; sample 1 is the faulty one
TAG = re.compile(r"\bsample-(\d+)\b")
ROOT = Path(__file__).resolve().parents[2]


def endpoint(url: str, **overrides: Any) -> dict[str, Any]:
    """Endpoint settings with tiny backoffs, so that every retry schedule runs in milliseconds."""
    return {
        "base_url": url,
        "model": "fake-model",
        "max_retries": MAX_RETRIES,
        "backoff_s": 0.01,
        "max_backoff_s": 1.0,
        "timeout_s": TIMEOUT_S,
        **overrides,
    }


def free_port() -> int:
    """A port on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------------------------------------- faults


@dataclass(frozen=True)
class Fault:
    """One fault: the reply that injects it, the failure kind it must give, whether it is retried."""

    name: str
    reply: Callable[[], FakeReply] | None  # None: nobody listens (connection refused)
    kind: str
    retried: bool = True
    min_wait_s: float = 0.0  # least time a client must wait between tries (a Retry-After)


FAULTS = [
    Fault("refused", None, "connection"),
    Fault(
        "http_429_retry_after",
        lambda: error(429, "rate limited", retry_after=str(RETRY_AFTER_S)),
        "http",
        min_wait_s=RETRY_AFTER_S,
    ),
    Fault("http_500", lambda: error(500, "internal error"), "http"),
    Fault("http_502", lambda: error(502, "bad gateway"), "http"),
    Fault("http_503", lambda: error(503, "model is loading"), "http"),
    Fault("timeout", lambda: slow("too late", delay_s=3 * TIMEOUT_S), "timeout"),
    Fault("truncated_body", lambda: truncated("a reply cut short", keep=25), "truncated"),
    Fault("non_json_body", invalid_json, "invalid_json"),
    Fault("dropped_connection", dropped, "connection"),
    Fault("http_400", lambda: error(400, "prompt rejected"), "http", retried=False),
]
SERVED_FAULTS = [f for f in FAULTS if f.reply is not None]
TRANSIENT = [f for f in SERVED_FAULTS if f.retried]


class Injector:
    """A server handler: the normal reply of the client under test, except for the faulty samples,
    which get the fault for their first ``budget`` requests (None: for ever)."""

    def __init__(self, reply: Callable[[int], str], fault: Fault | None = None, faulty: int = 1) -> None:
        self.reply = reply
        self.fault = fault
        self.faulty = faulty
        self.budget: int | None = None
        self.lock = threading.Lock()

    def clear(self) -> None:
        self.fault = None

    def __call__(self, request: Any) -> str | FakeReply:
        k = sample_of(request)
        with self.lock:
            hit = self.fault is not None and k == self.faulty and (self.budget is None or self.budget > 0)
            if hit and self.budget is not None:
                self.budget -= 1
        if hit:
            assert self.fault is not None and self.fault.reply is not None
            return self.fault.reply()
        return self.reply(k)


def sample_of(request: Any) -> int:
    found = {int(m) for m in TAG.findall(request.last_user)}
    assert len(found) == 1, f"a request must be about one sample, got {found}: {request.last_user[:200]!r}"
    return found.pop()


def requests_per_sample(server: FakeOpenAIServer) -> dict[int, int]:
    counts: dict[int, int] = {}
    for request in list(server.requests):
        k = sample_of(request)
        counts[k] = counts.get(k, 0) + 1
    return counts


# ---------------------------------------------------------------------------------------------- clients


@dataclass
class Outcome:
    """What a client run gave: one value per sample (None where it failed) and the failure records."""

    values: list[Any]
    failures: dict[int, dict[str, Any]] = field(default_factory=dict)


class JudgeClient:
    """The LLM judge grading answers (openai backend, reply cache)."""

    name = "judge"

    @staticmethod
    def reply(k: int) -> str:
        return json.dumps({"score": k + 3, "rationale": f"checked sample {k}"})

    @staticmethod
    def expected(k: int) -> Any:
        return k + 3

    def run(self, url: str, cache_dir: Path, n: int = N, concurrency: int = 2) -> Outcome:
        from domainft.evaluation.judges import get_judge

        judge = get_judge(
            "openai",
            endpoint=endpoint(url, concurrency=concurrency),
            max_workers=concurrency,
            cache_dir=str(cache_dir),
            progress=False,
        )
        prompts = [f"Why does pump sample-{k} leak?" for k in range(n)]
        answers = [f"The seal of pump {k} is worn." for k in range(n)]
        result = judge.grade(prompts, answers)
        failures = {}
        for f in result.failures:
            assert f["kind"] == "call", f  # a fault is a failed call, never a parse failure
            failures[f["index"]] = {"error": f["reason"], "kind": f["error_kind"], "attempts": f["attempts"]}
        return Outcome(list(result.scores), failures)


class TeacherClient:
    """The synthetic-data generator asking an OpenAI-compatible teacher for Q&A pairs (reply cache)."""

    name = "teacher"

    @staticmethod
    def reply(k: int) -> str:
        return json.dumps([{"question": f"How is fault {k} fixed?", "answer": f"Replace part {k}."}])

    @staticmethod
    def expected(k: int) -> Any:
        return f"Replace part {k}."

    def run(self, url: str, cache_dir: Path, n: int = N, concurrency: int = 2) -> Outcome:
        from domainft.data.synthetic import SyntheticConfig, SyntheticQAGenerator
        from domainft.data.teachers import get_teacher

        config = SyntheticConfig(
            mode="records",
            instruction_template="TICKET {id}\nProblem: {problem}",
            cache_dir=str(cache_dir),
            progress=False,
        )
        teacher = get_teacher("openai", **endpoint(url, concurrency=concurrency))
        generator = SyntheticQAGenerator(config, teacher=teacher)
        records = [{"id": f"sample-{k}", "problem": f"the machine stops ({k})"} for k in range(n)]
        dataset = generator.generate(records)
        values: list[Any] = [None] * n
        for row in dataset.to_list():
            values[int(row["source_id"].split("-")[1])] = row["response"]
        failures = {}
        for rejected in generator.rejected():
            assert rejected["reason"] == "call_failed", rejected
            k = int(rejected["source_id"].split("-")[1])
            failures[k] = {
                "error": rejected["detail"],
                "kind": rejected["error_kind"],
                "attempts": rejected["attempts"],
            }
        assert generator.stats.failed == len(failures)
        return Outcome(values, failures)


class ServedClient:
    """A served model evaluated as a system by the Evaluator (generation cache)."""

    name = "served"

    @staticmethod
    def reply(k: int) -> str:
        return f"answer {k}"

    @staticmethod
    def expected(k: int) -> Any:
        return f"answer {k}"

    def run(self, url: str, cache_dir: Path, n: int = N, concurrency: int = 2) -> Outcome:
        import math

        from domainft.evaluation.evaluator import Evaluator

        rows = [
            {"id": f"q{k}", "prompt": f"Question sample-{k}", "response": f"answer {k}"} for k in range(n)
        ]
        evaluator = Evaluator(metrics=["rouge"], progress=False, cache_dir=cache_dir)
        report = evaluator.compare({"srv": endpoint(url, concurrency=concurrency)}, rows, tokenizer=None)
        failures = {}
        for f in report.meta["generation_failures"].get("srv", []):
            assert f["id"] == f"q{f['index']}"
            failures[f["index"]] = {"error": f["reason"], "kind": f["kind"], "attempts": f["attempts"]}
        values: list[Any] = []
        for k, sample in enumerate(report.samples):
            score = sample.scores["srv"]["rougeL"]
            assert math.isfinite(score)  # a failed sample scores 0 on its empty answer, never NaN
            values.append(None if k in failures else sample.predictions["srv"])
            if k in failures:
                assert sample.predictions["srv"] == "" and score == 0.0
        assert math.isfinite(report.systems["srv"]["rougeL"].value)
        return Outcome(values, failures)


CLIENTS = {c.name: c for c in (JudgeClient(), TeacherClient(), ServedClient())}


def check_success(client: Any, outcome: Outcome, n: int = N) -> None:
    assert outcome.failures == {}
    assert outcome.values == [client.expected(k) for k in range(n)]


# ---------------------------------------------------------------------------------------------- tests


@pytest.mark.parametrize("fault", SERVED_FAULTS, ids=lambda f: f.name)
@pytest.mark.parametrize("client_name", list(CLIENTS))
def test_a_persisting_fault_fails_that_sample_only_and_a_rerun_asks_only_for_it(client_name, fault, tmp_path):
    client = CLIENTS[client_name]
    injector = Injector(client.reply, fault)
    with FakeOpenAIServer(injector) as server:
        start = time.monotonic()
        outcome = client.run(server.url, tmp_path)
        elapsed = time.monotonic() - start
        tries = 1 + MAX_RETRIES if fault.retried else 1
        assert requests_per_sample(server) == {0: 1, 1: tries, 2: 1}
        # the other samples succeed; the faulty one has a failure record, no value
        assert [v for k, v in enumerate(outcome.values) if k != 1] == [client.expected(0), client.expected(2)]
        assert outcome.values[1] is None
        assert list(outcome.failures) == [1]
        failure = outcome.failures[1]
        assert failure["kind"] == fault.kind and failure["attempts"] == tries
        assert server.url in failure["error"]
        if fault.retried and tries > 1:
            assert f"after {tries} attempts" in failure["error"]
        assert elapsed >= MAX_RETRIES * fault.min_wait_s  # a Retry-After is honoured between the tries
        assert elapsed < 30  # bounded: never hangs

        injector.clear()
        before = requests_per_sample(server)
        again = client.run(server.url, tmp_path)
        after = requests_per_sample(server)
        # the successes came from the cache; only the failed sample is asked again
        assert {k: after[k] - before.get(k, 0) for k in after} == {0: 0, 1: 1, 2: 0}
    check_success(client, again)


@pytest.mark.parametrize("fault", TRANSIENT, ids=lambda f: f.name)
@pytest.mark.parametrize("client_name", list(CLIENTS))
def test_a_fault_that_clears_within_the_retries_ends_in_success(client_name, fault, tmp_path):
    client = CLIENTS[client_name]
    injector = Injector(client.reply, fault)
    injector.budget = MAX_RETRIES  # the last allowed try succeeds
    with FakeOpenAIServer(injector) as server:
        outcome = client.run(server.url, tmp_path)
        assert requests_per_sample(server) == {0: 1, 1: 1 + MAX_RETRIES, 2: 1}
    check_success(client, outcome)


@pytest.mark.parametrize("client_name", list(CLIENTS))
def test_connection_refused_fails_every_sample_then_a_rerun_succeeds(client_name, tmp_path):
    client = CLIENTS[client_name]
    port = free_port()
    start = time.monotonic()
    outcome = client.run(f"http://127.0.0.1:{port}/v1", tmp_path)
    assert time.monotonic() - start < 30
    assert outcome.values == [None] * N
    assert sorted(outcome.failures) == list(range(N))
    for failure in outcome.failures.values():
        assert failure["kind"] == "connection" and failure["attempts"] == 1 + MAX_RETRIES
        assert "cannot connect" in failure["error"] and str(port) in failure["error"]
    # the server comes up on that port: nothing was cached, so every sample is asked once
    with FakeOpenAIServer(Injector(client.reply), port=port) as server:
        again = client.run(server.url, tmp_path)
        assert requests_per_sample(server) == dict.fromkeys(range(N), 1)
    check_success(client, again)


def test_fault_table_covers_every_fault_of_the_issue():
    names = {f.name for f in FAULTS}
    assert {
        "refused",
        "http_429_retry_after",
        "http_500",
        "timeout",
        "truncated_body",
        "non_json_body",
    } <= names
    assert {"dropped_connection", "http_502", "http_503"} <= names
    assert len(CLIENTS) == 3 and len(SERVED_FAULTS) == 9 and len(TRANSIENT) == 8


# ---------------------------------------------------------------------------------------------- killed mid-run

_CHILD = """
import sys
from pathlib import Path
from tests.reliability.test_endpoint_faults import CLIENTS
CLIENTS[sys.argv[1]].run(sys.argv[2], Path(sys.argv[3]), n=int(sys.argv[4]), concurrency=1)
print("finished")
"""

KILLED = ["judge", "teacher", "served"]


@pytest.mark.parametrize("client_name", KILLED)
def test_a_process_killed_mid_run_keeps_the_answers_it_received(client_name, tmp_path):
    """SIGKILL the client process while the server answers sample 2 of 4; a rerun asks for 2 and 3 only."""
    client = CLIENTS[client_name]
    n, kill_at = 4, 2
    child: dict[str, subprocess.Popen] = {}
    killed = threading.Event()

    def written() -> bool:  # the client's cache holds the earlier answers
        from domainft.evaluation.cache import GenerationCache

        replies = tmp_path / "responses.jsonl"  # the judge's and the teacher's reply cache
        if replies.exists():
            return len(replies.read_text(encoding="utf-8").splitlines()) >= kill_at
        answers = tmp_path / GenerationCache.FILE  # the Evaluator's generation cache
        return answers.exists() and len(GenerationCache(tmp_path)) >= kill_at

    def handler(request: Any) -> str | FakeReply:
        k = sample_of(request)
        if k == kill_at and "proc" in child and child["proc"].poll() is None:
            # the client stores an answer in its calling thread while the next request is already
            # out: give it a moment, as a kill -9 loses only what is still in flight
            deadline = time.monotonic() + 2.0
            while not written() and time.monotonic() < deadline:
                time.sleep(0.02)
            killed.set()
            os.kill(child["proc"].pid, signal.SIGKILL)
            return dropped()
        return client.reply(k)

    with FakeOpenAIServer(handler) as server:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
            "HF_HUB_OFFLINE": "1",
            "HF_DATASETS_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
        }
        args = [client_name, server.url, str(tmp_path), str(n)]
        proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD, *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        child["proc"] = proc
        out, err = proc.communicate(timeout=120)
        assert killed.is_set() and proc.returncode == -signal.SIGKILL, err[-2000:]
        assert "finished" not in out
        assert requests_per_sample(server) == {0: 1, 1: 1, 2: 1}

        again = client.run(server.url, tmp_path, n=n, concurrency=1)
        assert requests_per_sample(server) == {0: 1, 1: 1, 2: 2, 3: 1}
    check_success(client, again, n=n)


# ---------------------------------------------------------------------------------------------- ragas

RAGAS_FAULTS = [
    f
    for f in SERVED_FAULTS
    if f.name in ("http_500", "truncated_body", "non_json_body", "dropped_connection")
]


@pytest.mark.parametrize("fault", RAGAS_FAULTS, ids=lambda f: f.name)
def test_ragas_judge_retries_each_fault_then_lists_the_example_as_a_failure(fault):
    """The RAGAS path calls the endpoint through the OpenAI client (its own retries and backoff)."""
    from domainft.evaluation.metrics import get_metric
    from tests.evaluation.test_ragas import (
        CONTEXT_RECALL,
        CONTEXTS,
        PREDICTIONS,
        QUESTIONS,
        REFERENCES,
        scripted_judge,
    )

    def judge(request: Any) -> str | FakeReply:
        if "turret" in request.last_user:  # every judge call about example 1
            assert fault.reply is not None
            return fault.reply()
        return scripted_judge(request.last_user)

    with FakeOpenAIServer(judge) as server:
        metric = get_metric(
            "ragas_context_recall",
            llm={"base_url": server.url, "model": "judge", "max_retries": 1, "timeout_s": 5.0},
            contexts_column="contexts",
        )
        out = metric.compute(PREDICTIONS, REFERENCES, prompts=QUESTIONS, contexts=CONTEXTS)
        assert sum("turret" in r.last_user for r in server.requests) == 2  # one try + one retry
    assert out.per_sample["ragas_context_recall"] == pytest.approx(
        [CONTEXT_RECALL[0], None, CONTEXT_RECALL[2]]
    )
    (failure,) = out.failures
    assert failure["index"] == 1 and "after 1 retries" in failure["reason"]
    if fault.name == "non_json_body":
        assert "not JSON" in failure["reason"] and "Bad gateway" in failure["reason"]
