"""``domainft chat`` driven through stdin and through a pseudo-terminal; ``domainft generate``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from domainft.models.loading import QuantizedLoader
from domainft.serving import ChatSession

OFF_TOPIC = "What is the capital of France?"


def _domainft(*args: str, stdin: str | None = None, timeout: int = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "domainft.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def expected(tiny_model_dir, ticket_pairs):
    """What a ChatSession in this process answers to two turns and to one fresh question (greedy)."""
    model, tok = QuantizedLoader(tiny_model_dir, quantization=None).load()
    with ChatSession(model, tok, generation={"max_new_tokens": 8}) as chat:
        first = chat.ask(ticket_pairs[0]["prompt"]).text
        second = chat.ask(ticket_pairs[1]["prompt"]).text
        chat.reset()
        fresh = chat.ask(ticket_pairs[1]["prompt"]).text
    return first, second, fresh


def test_chat_reads_questions_from_stdin_with_history_and_commands(tiny_model_dir, ticket_pairs, expected):
    q1, q2 = ticket_pairs[0]["prompt"], ticket_pairs[1]["prompt"]
    script = f"{q1}\n{q2}\n/history\n/reset\n/history\n{q2}\n/bogus\n/exit\nnever asked\n"
    out = _domainft("chat", "--model", str(tiny_model_dir), "--max-new-tokens", "8", stdin=script)
    assert out.returncode == 0, out.stderr
    answers = [
        line.removeprefix("assistant> ") for line in out.stdout.splitlines() if line.startswith("assistant> ")
    ]
    first, second, fresh = expected
    # the second answer saw the first exchange; after /reset the same question is answered afresh
    assert [a.removesuffix(" [cut at max-new-tokens]") for a in answers] == [first, second, fresh]
    assert f"user: {q1}" in out.stdout and f"assistant: {first}" in out.stdout
    assert "(conversation reset)" in out.stdout and "(no history)" in out.stdout
    assert "unknown command /bogus" in out.stdout
    assert "never asked" not in out.stdout and "Ask a question" not in out.stdout  # no banner off a terminal


def test_chat_in_a_terminal_streams_refuses_off_topic_and_exits(
    tiny_model_dir, ticket_gate_dir, ticket_pairs
):
    pexpect = pytest.importorskip("pexpect")
    child = pexpect.spawn(
        sys.executable,
        [
            "-m",
            "domainft.cli",
            "chat",
            "--model",
            str(tiny_model_dir),
            "--topic-gate",
            str(ticket_gate_dir),
            "--max-new-tokens",
            "8",
            "--domain",
            "machine maintenance",
        ],
        encoding="utf-8",
        timeout=120,
        dimensions=(40, 200),
    )
    try:
        child.expect("Ask a question; /help lists the commands")
        child.expect_exact("you> ")
        child.sendline(ticket_pairs[0]["prompt"])
        child.expect_exact("assistant> ")
        child.expect_exact("you> ")
        assert "off-topic" not in child.before
        child.sendline(OFF_TOPIC)
        child.expect_exact("I'm sorry, I can only answer questions about machine maintenance.")
        child.expect(r"\[off-topic: score 0\.\d\d\]")
        child.expect_exact("you> ")
        child.sendline("/help")
        child.expect_exact("/reset   forget the conversation")
        child.expect_exact("you> ")
        child.sendline("/exit")
        child.expect_exact("bye")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0


def test_generate_answers_a_file_of_prompts(
    tiny_model_dir, ticket_gate_dir, ticket_pairs, expected, tmp_path
):
    prompts = tmp_path / "prompts.jsonl"
    rows = [{"id": "a", "question": ticket_pairs[1]["prompt"]}, {"id": "b", "question": OFF_TOPIC}]
    prompts.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out_file = tmp_path / "out" / "answers.jsonl"
    out = _domainft(
        "generate",
        "--model",
        str(tiny_model_dir),
        "--topic-gate",
        str(ticket_gate_dir),
        "--input",
        str(prompts),
        "--output",
        str(out_file),
        "--field",
        "question",
        "--max-new-tokens",
        "8",
        "--quiet",
    )
    assert out.returncode == 0, out.stderr
    assert "2 answers written" in out.stdout and "1 refused as off-topic" in out.stdout
    answers = [json.loads(line) for line in out_file.read_text().splitlines()]
    assert [a["id"] for a in answers] == ["a", "b"]
    assert answers[0]["response"] == expected[2] and not answers[0].get("gated")
    assert answers[0]["completion_tokens"] <= 8 and answers[0]["topic_score"] >= 0.5
    assert answers[1]["gated"] and answers[1]["finish_reason"] == "gated"


def test_generate_reads_text_files_and_names_bad_lines(tiny_model_dir, ticket_pairs, tmp_path):
    text = tmp_path / "prompts.txt"
    text.write_text(f"{ticket_pairs[0]['prompt']}\n\n{ticket_pairs[1]['prompt']}\n")
    out = _domainft(
        "generate",
        "--model",
        str(tiny_model_dir),
        "--input",
        str(text),
        "--output",
        str(tmp_path / "a.jsonl"),
        "--max-new-tokens",
        "4",
        "--quiet",
    )
    assert out.returncode == 0, out.stderr
    assert [json.loads(x)["id"] for x in (tmp_path / "a.jsonl").read_text().splitlines()] == [1, 3]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "ok"}\n{"text": "no prompt field"}\n')
    out = _domainft(
        "generate", "--model", str(tiny_model_dir), "--input", str(bad), "--output", str(tmp_path / "b.jsonl")
    )
    assert out.returncode == 2
    assert f"{bad}:2: no 'prompt' text" in out.stderr and "--field" in out.stderr
    assert not (tmp_path / "b.jsonl").exists()
    missing = _domainft(
        "generate",
        "--model",
        str(tiny_model_dir),
        "--input",
        str(tmp_path / "nope.txt"),
        "--output",
        str(tmp_path / "c.jsonl"),
    )
    assert missing.returncode == 2 and "prompt file not found" in missing.stderr
