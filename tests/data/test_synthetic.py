"""SyntheticQAGenerator end to end: each teacher backend, parsing and validation, the cache and resume."""

from __future__ import annotations

import json
import logging
import re

import pytest

from domainft.data.samples import builtin_path
from domainft.data.synthetic import (
    ResponseCache,
    SyntheticConfig,
    SyntheticQAGenerator,
    get_validator,
    numbered_steps,
    parse_qa_pairs,
    register_validator,
)
from domainft.data.teachers import Teacher, TemplateTeacher, TransformersTeacher, get_teacher
from domainft.errors import ConfigError, DataError
from tests.fake_openai import FakeOpenAIServer, error

TWO_STEP = {
    "mode": "records",
    "question_template": "QUESTION for a {machine_type}: {problem}",
    "answer_template": "ANSWER to: {question}\nCause: {cause}\nSolution: {solution}\nTime: {hours:g} h",
    "progress": False,
}
INSTRUCTION = {
    "mode": "records",
    "instruction_template": "TICKET {id}\nMachine: {machine_type}\nProblem: {problem}\nSolution: {solution}",
    "progress": False,
}

PASSAGES = [
    {
        "id": "pump.md#p0001",
        "source": "pump.md",
        "text": "PUMP seal. Stop the pump. Close the valves. Fit the seal.",
    },
    {"id": "belt.md#p0001", "source": "belt.md", "text": "BELT tension. Loosen the motor and move it."},
    {"id": "valve.md#p0001", "source": "valve.md", "text": "VALVE noise. Check the seat."},
    {"id": "oil.md#p0001", "source": "oil.md", "text": "OIL change. Drain the sump. Refill to the mark."},
]
FEW_SHOT = [
    {
        "passage": "To reset the drive, switch it off. Wait 10 s. Switch it on.",
        "question": "How do I reset the drive?",
        "answer": "1. Switch the drive off.\n2. Wait 10 s.\n3. Switch it on.",
    }
]


@pytest.fixture(scope="module")
def tickets() -> list[dict]:
    lines = builtin_path("machinery_tickets").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines[:6]]


@pytest.fixture
def server():
    with FakeOpenAIServer() as fake:
        yield fake


def openai_teacher(server, **options):
    return get_teacher(
        "openai", base_url=server.url, model="fake-model", backoff_s=0.01, max_backoff_s=0.02, **options
    )


def two_step_handler(request):
    text = request.last_user
    if text.startswith("QUESTION"):
        machine, problem = re.match(r"QUESTION for a (.*?): (.*)", text).groups()
        return f'Question: "My {machine} has a fault: {problem} What should I do?"'
    return "Answer: " + re.search(r"Solution: (.*)", text).group(1)


def ticket_pair_handler(request):
    ticket = re.search(r"TICKET (\S+)", request.last_user).group(1)
    solution = re.search(r"Solution: (.*)", request.last_user).group(1)
    pair = {"question": f"What fixes ticket {ticket}?", "answer": solution}
    return f"Here you go:\n```json\n{json.dumps([pair])}\n```"


# ---------------------------------------------------------------------------------------------- records


def test_records_two_steps_against_an_openai_compatible_server(server, tickets):
    server.handler = two_step_handler
    generator = SyntheticQAGenerator(SyntheticConfig(**TWO_STEP), teacher=openai_teacher(server))
    ds = generator.generate(tickets)

    assert ds.column_names == ["id", "prompt", "response", "source_id", "teacher", "prompt_hash"]
    assert ds.num_rows == 6 and server.count == 12
    first, t1 = ds[0], tickets[0]
    assert first["prompt"] == f"My {t1['machine_type']} has a fault: {t1['problem']} What should I do?"
    assert first["response"] == t1["solution"]
    assert (first["id"], first["source_id"], first["teacher"]) == ("T0001/q1", "T0001", "openai:fake-model")
    assert (
        all(re.fullmatch(r"[0-9a-f]{64}", h) for h in ds["prompt_hash"]) and len(set(ds["prompt_hash"])) == 6
    )
    # the answer request carries the teacher's question, the record's fields and the system prompt
    answer_requests = [r for r in server.requests if r.last_user.startswith("ANSWER")]
    assert len(answer_requests) == 6
    assert any(first["prompt"] in r.last_user and "Time: 9 h" in r.last_user for r in answer_requests)
    assert all(r.messages[0]["role"] == "system" for r in server.requests)
    assert generator.stats.to_dict() == {
        "items": 6, "calls": 12, "cached": 0, "made": 12, "failed": 0,
        "accepted": 6, "rejected": 0, "rejected_by_reason": {},
    }  # fmt: skip
    assert generator.rejected() == []


def test_records_with_a_filled_in_answer_call_the_teacher_for_questions_only(server, tickets):
    server.handler = two_step_handler
    config = SyntheticConfig(
        **{**TWO_STEP, "answer_template": "{solution} ({hours:g} h)"}, answer_source="template"
    )
    ds = SyntheticQAGenerator(config, teacher=openai_teacher(server)).generate(tickets)
    assert server.count == 6
    assert ds["response"][1] == f"{tickets[1]['solution']} (1 h)"


def test_records_in_one_call_parse_json_and_reject_bad_replies(server, tickets):
    def handler(request):
        if "TICKET T0002" in request.last_user:
            return "Sorry, I cannot help with that."
        if "TICKET T0003" in request.last_user:
            pairs = [{"question": "One?", "answer": "First."}, {"question": "Two?", "answer": "Second."}]
            return json.dumps({"pairs": pairs})
        if "TICKET T0004" in request.last_user:
            return error(400, "prompt rejected by the content filter")
        return ticket_pair_handler(request)

    server.handler = handler
    generator = SyntheticQAGenerator(SyntheticConfig(**INSTRUCTION), teacher=openai_teacher(server))
    ds = generator.generate(tickets)

    assert ds["source_id"] == ["T0001", "T0003", "T0005", "T0006"]
    assert ds[0]["prompt"] == "What fixes ticket T0001?" and ds[0]["response"] == tickets[0]["solution"]
    assert 'JSON array of 1 object(s) with the keys "question" and "answer"' in server.requests[0].last_user
    stats = generator.stats
    assert stats.rejected_by_reason == {"parse_error": 1, "extra_pair": 1, "call_failed": 1}
    assert (stats.accepted, stats.failed, stats.made) == (4, 1, 6)
    (parse,) = generator.rejected("parse_error")
    assert parse["source_id"] == "T0002" and parse["raw"] == "Sorry, I cannot help with that."
    (extra,) = generator.rejected("extra_pair")
    assert (extra["source_id"], extra["pair"], extra["question"]) == ("T0003", 2, "Two?")
    (failed,) = generator.rejected("call_failed")
    assert "HTTP 400" in failed["detail"] and "content filter" in failed["detail"] and failed["raw"] is None


def test_a_record_with_an_empty_field_is_rejected_without_a_call(server, tickets):
    server.handler = two_step_handler
    records = [dict(t) for t in tickets[:3]]
    records[1]["solution"] = "  "
    generator = SyntheticQAGenerator(SyntheticConfig(**TWO_STEP), teacher=openai_teacher(server))
    ds = generator.generate(records)
    assert ds["source_id"] == ["T0001", "T0003"] and server.count == 4
    (missing,) = generator.rejected()
    assert missing["reason"] == "missing_field" and "solution" in missing["detail"]


def test_template_columns_missing_from_the_data_are_named(tickets):
    config = SyntheticConfig(**{**TWO_STEP, "question_template": "About {machine}: {problem}"})
    with pytest.raises(DataError, match=r"question_template uses 'machine'.*found: cause, hours, id"):
        SyntheticQAGenerator(config, teacher=TemplateTeacher("q", "a")).generate(tickets)


def test_duplicate_ids_are_an_error(tickets):
    records = [tickets[0], dict(tickets[1], id="T0001")]
    with pytest.raises(DataError, match=r"duplicate id 'T0001' at rows 0 and 1"):
        SyntheticQAGenerator(SyntheticConfig(**INSTRUCTION), teacher=TemplateTeacher("q", "a")).generate(
            records
        )


# ---------------------------------------------------------------------------------------------- documents


def steps_handler(request):
    """Good numbered steps for PUMP; prose for BELT; garbage for VALVE; one pair of two for OIL."""
    text = request.last_user
    if "PUMP seal" in text:
        return json.dumps(
            [
                {"question": "How do I fit a pump seal?", "answer": "1. Stop the pump.\n2. Fit the seal."},
                {"Question": "What comes first?", "Answer": ["1. Stop the pump.", "2. Close the valves."]},
            ]
        )
    if "BELT tension" in text:
        pairs = [{"question": "Belt?", "answer": "Loosen the motor and move it."}] * 2
        return json.dumps(pairs)
    if "VALVE noise" in text:
        return "The valve seat should be checked."
    return "Q: How do I change the oil?\nA: 1. Drain the sump.\n2. Refill to the mark."


def test_documents_with_few_shot_and_a_numbered_steps_validator(server):
    server.handler = steps_handler
    config = SyntheticConfig(
        mode="documents",
        few_shot=FEW_SHOT,
        questions_per_passage=2,
        answer_validator="numbered_steps",
        system_prompt="You write maintenance Q&A.",
        progress=False,
    )
    generator = SyntheticQAGenerator(config, teacher=openai_teacher(server))
    ds = generator.generate(PASSAGES)

    assert ds.column_names == [
        "id",
        "prompt",
        "response",
        "source_id",
        "teacher",
        "prompt_hash",
        "context",
        "source",
    ]
    assert ds["id"] == ["pump.md#p0001/q1", "pump.md#p0001/q2", "oil.md#p0001/q1"]
    assert ds[1]["response"] == "1. Stop the pump.\n2. Close the valves."
    assert ds[0]["context"] == PASSAGES[0]["text"] and ds[0]["source"] == "pump.md"
    assert ds[2]["prompt"] == "How do I change the oil?"

    request = server.requests[0]
    roles = [m["role"] for m in request.messages]
    assert roles == ["system", "user", "assistant", "user"]
    assert request.messages[0]["content"] == "You write maintenance Q&A."
    assert FEW_SHOT[0]["passage"] in request.messages[1]["content"]
    assert json.loads(request.messages[2]["content"]) == [
        {"question": FEW_SHOT[0]["question"], "answer": FEW_SHOT[0]["answer"]}
    ]
    last = request.messages[3]["content"]
    assert "numbered steps" in last and "JSON array of 2 object(s)" in last and "Source: " in last

    stats = generator.stats
    assert stats.rejected_by_reason == {"validator:numbered_steps": 2, "parse_error": 1, "too_few_pairs": 1}
    assert stats.accepted == 3 and stats.rejected == 4
    belt = generator.rejected("validator:numbered_steps")
    assert {r["source_id"] for r in belt} == {"belt.md#p0001"} and [r["pair"] for r in belt] == [1, 2]
    assert "found 0" in belt[0]["detail"] and belt[0]["raw"].startswith("[")
    (valve,) = generator.rejected("parse_error")
    assert valve["raw"] == "The valve seat should be checked."
    (short,) = generator.rejected("too_few_pairs")
    assert short["source_id"] == "oil.md#p0001" and "asked for 2 pair(s), got 1" in short["detail"]
    # nothing is lost: every passage gave rows or rejections
    assert {*ds["source_id"], *(r["source_id"] for r in generator.rejected())} == {p["id"] for p in PASSAGES}


def test_documents_without_ids_get_source_based_ids_and_empty_passages_are_rejected():
    rows = [
        {"source": "a.md", "body": "Stop the pump. Fit the seal."},
        {"source": "a.md", "body": "Refill the oil."},
        {"source": "b.md", "body": "   "},
    ]
    config = SyntheticConfig(mode="documents", text_column="body", progress=False)
    generator = SyntheticQAGenerator(config, teacher=TemplateTeacher())
    ds = generator.generate(rows)
    assert ds["source_id"] == ["a.md#1", "a.md#2"]
    assert ds["prompt"] == ['What does the documentation say about "Stop the pump"?', 'What does the documentation say about "Refill the oil"?']  # fmt: skip
    assert [r["reason"] for r in generator.rejected()] == ["empty_passage"]
    with pytest.raises(DataError, match=r"column 'text'.*found: body, source"):
        SyntheticQAGenerator(mode="documents", progress=False).generate(rows)


def test_answer_pattern_rejects_answers_without_it():
    config = SyntheticConfig(mode="documents", answer_pattern=r"^Step \d", progress=False)
    teacher = TemplateTeacher(answer="Step 1: {sentence}")
    ok = SyntheticQAGenerator(config, teacher=teacher).generate(PASSAGES[:2])
    assert ok.num_rows == 2
    generator = SyntheticQAGenerator(config, teacher=TemplateTeacher())
    assert generator.generate(PASSAGES[:2]).num_rows == 0
    assert generator.stats.rejected_by_reason == {"pattern_mismatch": 2}


# ---------------------------------------------------------------------------------------------- template teacher


def test_template_teacher_is_deterministic_and_offline(tickets):
    teacher = get_teacher(
        "template",
        question="My {machine_type} has a problem: {problem}",
        answer="{solution} Time: {hours:g} h.",
    )
    first = SyntheticQAGenerator(SyntheticConfig(**INSTRUCTION), teacher=teacher).generate(tickets)
    second = SyntheticQAGenerator(SyntheticConfig(**INSTRUCTION), teacher=teacher).generate(tickets)
    assert first.to_list() == second.to_list()
    assert first[0]["prompt"] == f"My CNC lathe has a problem: {tickets[0]['problem']}"
    assert first[0]["response"].endswith("Time: 9 h.") and first[0]["teacher"] == "template"


def test_template_teacher_numbered_steps_from_documents():
    config = SyntheticConfig(
        mode="documents", questions_per_passage=2, answer_validator="numbered_steps", progress=False
    )
    teacher = TemplateTeacher(question="How do I do step {index} of {source}?", answer="{steps}")
    generator = SyntheticQAGenerator(config, teacher=teacher)
    ds = generator.generate(PASSAGES)
    assert ds[0]["prompt"] == "How do I do step 1 of pump.md?"
    assert ds[0]["response"] == "1. PUMP seal.\n2. Stop the pump.\n3. Close the valves.\n4. Fit the seal."
    # the valve passage has two sentences (two steps); the belt passage has two as well
    assert ds.num_rows == 8 and generator.stats.rejected == 0


def test_template_teacher_needs_its_templates_in_records_mode(tickets):
    with pytest.raises(ConfigError, match="needs the question= format string"):
        SyntheticQAGenerator(SyntheticConfig(**INSTRUCTION), teacher=TemplateTeacher()).generate(tickets)


# ---------------------------------------------------------------------------------------------- cache


def test_a_second_run_answers_from_the_cache_with_zero_calls(server, tickets, tmp_path):
    server.handler = two_step_handler
    config = SyntheticConfig(**TWO_STEP, cache_dir=str(tmp_path / "cache"))
    first = SyntheticQAGenerator(config, teacher=openai_teacher(server)).generate(tickets)
    assert server.count == 12

    again = SyntheticQAGenerator(config, teacher=openai_teacher(server))
    assert again.generate(tickets).to_list() == first.to_list()
    assert server.count == 12
    assert (again.stats.cached, again.stats.made) == (12, 0)
    # a different sampling setting is a different teacher: new calls
    hotter = SyntheticQAGenerator(config, teacher=openai_teacher(server, temperature=0.9))
    hotter.generate(tickets[:1])
    assert server.count == 14 and hotter.stats.made == 2


def test_crash_resume_after_the_server_fails_for_good(server, tickets, tmp_path):
    calls = {"n": 0}

    def failing_after_three(request):
        calls["n"] += 1
        return ticket_pair_handler(request) if calls["n"] <= 3 else error(500, "disk full")

    server.handler = failing_after_three
    config = SyntheticConfig(**INSTRUCTION, cache_dir=str(tmp_path))
    broken = SyntheticQAGenerator(config, teacher=openai_teacher(server, max_retries=0, concurrency=2))
    ds = broken.generate(tickets)
    assert ds.num_rows == 3 and broken.stats.failed == 3
    assert len(broken.rejected("call_failed")) == 3 and "disk full" in broken.rejected()[0]["detail"]
    assert len((tmp_path / "responses.jsonl").read_text().splitlines()) == 3  # failures are not cached

    server.handler = ticket_pair_handler
    before = server.count
    healed = SyntheticQAGenerator(config, teacher=openai_teacher(server))
    ds = healed.generate(tickets)
    assert server.count - before == 3  # only the missing calls
    assert ds["source_id"] == [t["id"] for t in tickets] and healed.rejected() == []
    assert (healed.stats.cached, healed.stats.made) == (3, 3)


class FlakyTeacher(Teacher):
    """A teacher whose process dies (an exception) after ``crash_after`` replies."""

    backend = "flaky"

    def __init__(self, crash_after: int | None = None):
        self.crash_after = crash_after
        self.calls = 0

    def settings(self):
        return {"version": 1}

    def _complete(self, batch, contexts, emit):
        for i, messages in enumerate(batch):
            if self.crash_after is not None and self.calls >= self.crash_after:
                raise KeyboardInterrupt
            self.calls += 1
            ticket = re.search(r"TICKET (\S+)", messages[-1]["content"]).group(1)
            emit(i, json.dumps({"question": f"Q {ticket}?", "answer": f"A {ticket}."}))


def test_a_crashed_run_resumes_where_it_stopped(tickets, tmp_path):
    config = SyntheticConfig(**INSTRUCTION, cache_dir=str(tmp_path))
    with pytest.raises(KeyboardInterrupt):
        SyntheticQAGenerator(config, teacher=FlakyTeacher(crash_after=4)).generate(tickets)
    teacher = FlakyTeacher()
    ds = SyntheticQAGenerator(config, teacher=teacher).generate(tickets)
    assert teacher.calls == 2 and ds.num_rows == 6
    assert ds["prompt"][5] == "Q T0006?"


def test_cache_skips_a_line_cut_short_by_a_crash(tmp_path, caplog):
    cache = ResponseCache(tmp_path)
    cache.put("a", "reply a", teacher="t")
    with open(cache.path, "a", encoding="utf-8") as fh:
        fh.write('{"key": "b", "outp')  # the process died mid-write
    with caplog.at_level(logging.WARNING, logger="domainft.data.synthetic"):
        reopened = ResponseCache(tmp_path)
    assert reopened.skipped_lines == 1 and "line 2" in caplog.text
    assert reopened.get("a") == "reply a" and "b" not in reopened
    reopened.put("c", "reply c")
    assert ResponseCache(tmp_path).get("c") == "reply c"


# ---------------------------------------------------------------------------------------------- transformers


def test_transformers_teacher_with_a_tiny_model(tiny_model_dir, tickets, tmp_path):
    config = SyntheticConfig(
        **{**TWO_STEP, "question_template": "{machine_type}: {problem}"},
        question_source="template",
        cache_dir=str(tmp_path),
    )
    teacher = TransformersTeacher(tiny_model_dir, max_new_tokens=6, batch_size=2)
    generator = SyntheticQAGenerator(config, teacher=teacher)
    ds = generator.generate(tickets[:4])
    stats = generator.stats
    assert stats.made == 4 and stats.failed == 0
    assert ds.num_rows + stats.rejected == 4  # random weights may well say nothing: counted, not lost
    assert set(ds["teacher"]) <= {f"transformers:{tiny_model_dir.name}"}
    questions = {t["id"]: f"{t['machine_type']}: {t['problem']}" for t in tickets}
    assert all(row["prompt"] == questions[row["source_id"]] and row["response"] for row in ds)
    assert set(stats.rejected_by_reason) <= {"empty_answer"}
    rendered = teacher._tokenizer.decode(teacher.render([{"role": "user", "content": "Hi"}]))
    assert "<|user|>" in rendered and rendered.rstrip().endswith("<|assistant|>")

    fresh = TransformersTeacher(tiny_model_dir, max_new_tokens=6, batch_size=4)  # batching is not in the key
    rerun = SyntheticQAGenerator(config, teacher=fresh)
    assert rerun.generate(tickets[:4]).to_list() == ds.to_list()
    assert rerun.stats.made == 0 and fresh._model is None  # answered from the cache: the model never loaded


def test_transformers_teacher_with_a_loaded_pair_reports_too_long_prompts(tiny_model_dir):
    from domainft.models.loading import QuantizedLoader

    model, tokenizer = QuantizedLoader(tiny_model_dir, quantization=None, device_map=None).load()
    teacher = TransformersTeacher(model, tokenizer, max_new_tokens=4)
    long_prompt = [{"role": "user", "content": "pump " * 2000}]
    short, too_long = teacher.complete([[{"role": "user", "content": "Spindle noise?"}], long_prompt])
    assert isinstance(short, str)
    assert too_long.kind == "too_long" and "exceeds the model's" in too_long.error
    before = teacher.fingerprint()
    assert json.loads(before)["model"].startswith(f"{tiny_model_dir}@")
    model.model.embed_tokens.weight.data[0, 0] += 1.0  # weights changed in place: a new fingerprint
    assert teacher.fingerprint() != before
    assert TransformersTeacher(model, tokenizer, model_id="tiny-v2").fingerprint() != before


# ---------------------------------------------------------------------------------------------- parts


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ('[{"question": "A?", "answer": "a"}]', [("A?", "a")]),
        ('{"question": "A?", "answer": "a"}', [("A?", "a")]),
        (
            'Sure:\n```json\n{"qa": [{"Q": "A?", "A": "a"}, {"q": "B?", "a": "b"}]}\n```',
            [("A?", "a"), ("B?", "b")],
        ),
        (
            "Question 1: A?\nAnswer 1: line one\nline two\nQuestion 2: B?\nAnswer 2: b",
            [("A?", "line one\nline two"), ("B?", "b")],
        ),
        ('[{"question": "A?", "answer": ["1. x", "2. y"]}]', [("A?", "1. x\n2. y")]),
    ],
)
def test_parse_qa_pairs_accepts_common_reply_shapes(reply, expected):
    assert [(p["question"], p["answer"]) for p in parse_qa_pairs(reply)] == expected


def test_parse_qa_pairs_rejects_prose_and_marks_odd_items():
    with pytest.raises(ValueError, match="no JSON array"):
        parse_qa_pairs("I think the answer is 42.")
    assert parse_qa_pairs('[{"question": "A?", "answer": "a"}, 7]')[1]["invalid"] == 7
    # a bracket in the prose before the JSON is skipped; numbers become text
    assert parse_qa_pairs('See [1]. [{"question": "Max rpm?", "answer": 2000}]') == [
        {"question": "Max rpm?", "answer": "2000"}
    ]


def test_numbered_steps_validator_and_custom_validators():
    assert numbered_steps("Do this:\n1. Stop.\n2) Drain.\n   3. Refill.") is None
    assert "numbered [1, 3]" in numbered_steps("1. Stop.\n3. Refill.")
    assert "found 1" in numbered_steps("1. Only one step.")

    @register_validator("ends_with_period", instruction="End with a period.", overwrite=True)
    def ends_with_period(answer):
        return None if answer.endswith(".") else "does not end with a period"

    assert get_validator("ends_with_period").instruction == "End with a period."
    config = SyntheticConfig(mode="documents", answer_validator="ends_with_period", progress=False)
    generator = SyntheticQAGenerator(config, teacher=TemplateTeacher(answer="{topic}"))
    assert generator.generate(PASSAGES[:1]).num_rows == 0
    assert generator.stats.rejected_by_reason == {"validator:ends_with_period": 1}
    with pytest.raises(ConfigError, match=r"unknown answer validator 'nope'; known: .*numbered_steps"):
        SyntheticConfig(answer_validator="nope", mode="documents")


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"mode": "records"}, "needs instruction_template"),
        ({**INSTRUCTION, "question_template": "q"}, "either instruction_template"),
        ({**TWO_STEP, "question_source": "template", "answer_source": "template"}, "DatasetBuilder"),
        ({**TWO_STEP, "question_template": "{question}?"}, "cannot use {question}"),
        ({**INSTRUCTION, "few_shot": FEW_SHOT}, "documents mode only"),
        ({"mode": "documents", "document_template": "Write about {source}"}, "must contain {passage}"),
        (
            {"mode": "documents", "few_shot": [{"passage": "p", "question": "q"}]},
            r"few_shot\[0\]: missing answer",
        ),
        ({"mode": "documents", "answer_pattern": "("}, "invalid regex"),
        ({"mode": "documents", "format_instruction": "JSON like {"}, "literal braces"),
        ({"mode": "documents", "questions_per_passage": 0}, "questions_per_passage"),
        ({"mode": "documents", "format_instruction": "Give {count} pairs"}, r"only use \{n\}"),
        ({"mode": "documents", "question_template": "{x}"}, "records mode only"),
    ],
)
def test_config_errors_name_the_field(fields, match):
    with pytest.raises(ConfigError, match=match):
        SyntheticConfig.from_dict(fields)


def test_get_teacher_errors():
    with pytest.raises(ConfigError, match=r"unknown teacher 'gpt'; known: .*openai.*template.*transformers"):
        get_teacher("gpt")
    with pytest.raises(ConfigError, match=r"teacher 'template'.*unexpected keyword argument 'questoin'"):
        get_teacher("template", questoin="x")
    with pytest.raises(ConfigError, match="unknown field 'modle'"):
        get_teacher("openai", base_url="http://127.0.0.1:1/v1", modle="m")
    with pytest.raises(ConfigError, match="base_url is required"):
        get_teacher("openai")


def test_teacher_built_from_the_config(server, tickets):
    server.handler = two_step_handler
    config = SyntheticConfig(
        **TWO_STEP, teacher="openai", teacher_options={"base_url": server.url, "model": "from-config"}
    )
    generator = SyntheticQAGenerator(config)
    assert generator.generate(tickets[:2])["teacher"] == ["openai:from-config"] * 2
    assert server.requests[0].body["model"] == "from-config"


def test_save_load_round_trip_and_builder(tmp_path, tickets):
    config = SyntheticConfig(
        **INSTRUCTION, teacher="template", teacher_options={"question": "Q {id}?", "answer": "{solution}"}
    )
    records = [dict(t) for t in tickets] + [dict(tickets[0], id="T9999", solution="")]
    generator = SyntheticQAGenerator(config)
    ds = generator.generate(records)
    generator.save(tmp_path / "run")
    loaded = SyntheticQAGenerator.load(tmp_path / "run")
    assert loaded.config == generator.config
    assert loaded.dataset.to_list() == ds.to_list() and loaded.dataset.features == ds.features
    assert loaded.rejected() == generator.rejected() and loaded.rejected()[0]["reason"] == "missing_field"
    assert loaded.stats == generator.stats
    assert json.loads((tmp_path / "run" / "teacher.json").read_text())["name"] == "template"

    dsd = loaded.to_builder().clean().split(validation=0.0, test=0.34, seed=0).build()
    assert dsd["train"].num_rows + dsd["test"].num_rows == 6
    assert {"source_id", "teacher", "prompt_hash"} <= set(dsd["train"].column_names)
    with pytest.raises(DataError, match="nothing generated yet"):
        SyntheticQAGenerator(config).to_builder()


def test_config_round_trips_through_yaml(tmp_path):
    config = SyntheticConfig(
        mode="documents", few_shot=FEW_SHOT, questions_per_passage=3, answer_validator="numbered_steps",
        teacher="openai", teacher_options={"base_url": "http://127.0.0.1:8000/v1", "model": "m", "api_key_env": "K"},
    )  # fmt: skip
    config.to_yaml(tmp_path / "synthetic.yaml")
    assert SyntheticConfig.from_yaml(tmp_path / "synthetic.yaml") == config
