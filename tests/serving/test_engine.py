"""GenerationEngine: batching that does not change greedy answers, per-row stops, streaming, failures."""

from __future__ import annotations

import threading

import pytest

from domainft.data.templates import prompt_ids
from domainft.errors import ServingError
from domainft.models.generation import DecodingConfig, generate_texts
from domainft.models.loading import QuantizedLoader
from domainft.serving.engine import GenerationEngine, GenerationRequest, _held_back


@pytest.fixture(scope="module")
def loaded(tiny_model_dir):
    return QuantizedLoader(tiny_model_dir, quantization=None).load()


@pytest.fixture(scope="module")
def prompts(loaded, ticket_pairs):
    _, tok = loaded
    return [prompt_ids(tok, p["prompt"]) for p in ticket_pairs[:10]]


def test_batched_answers_equal_one_by_one_generation(loaded, prompts):
    model, tok = loaded
    decoding = DecodingConfig(max_new_tokens=20)
    alone = generate_texts(
        model, tok, prompts, decoding.__class__(max_new_tokens=20, batch_size=1), progress=False
    )
    with GenerationEngine(model, tok, max_batch_size=8, batch_wait_ms=50) as engine:
        streams = [engine.submit(GenerationRequest(p, decoding)) for p in prompts]
        results = [s.result(60) for s in streams]
        assert engine.stats["max_batch"] > 1  # they really were batched
        assert engine.stats["requests"] == len(prompts)
    assert [r.text for r in results] == alone
    assert all(r.prompt_tokens == len(p) for r, p in zip(results, prompts, strict=True))


def test_stream_pieces_join_to_the_answer_and_each_row_keeps_its_own_limit(loaded, prompts):
    model, tok = loaded
    with GenerationEngine(model, tok, max_batch_size=4, batch_wait_ms=50) as engine:
        short = engine.submit(GenerationRequest(prompts[0], DecodingConfig(max_new_tokens=3)))
        long = engine.submit(GenerationRequest(prompts[1], DecodingConfig(max_new_tokens=15)))
        pieces = list(long)
        assert len(pieces) > 1
        assert "".join(pieces) == long.result().text
        assert short.result().completion_tokens == 3 and short.result().finish_reason == "length"
        assert long.result().completion_tokens == 15


def test_stop_strings_cut_the_answer_and_are_never_streamed(loaded, prompts):
    model, tok = loaded
    decoding = DecodingConfig(max_new_tokens=30)
    with GenerationEngine(model, tok) as engine:
        full = engine.generate(GenerationRequest(prompts[2], decoding)).text
        words = full.split()
        assert len(words) > 3
        stop = words[2]
        stream = engine.submit(GenerationRequest(prompts[2], decoding, stop=[stop]))
        pieces = list(stream)
        done = stream.result()
    assert done.finish_reason == "stop"
    assert stop not in done.text and done.text == full[: full.index(stop)].rstrip()
    assert "".join(pieces) == done.text


def test_held_back_keeps_a_possible_stop_prefix():
    assert _held_back("answer ###", ["####"]) == 3
    assert _held_back("answer #", ["##", "END"]) == 1
    assert _held_back("answer", ["END"]) == 0


def test_cancel_ends_the_row_early(loaded, prompts):
    model, tok = loaded
    with GenerationEngine(model, tok) as engine:
        stream = engine.submit(GenerationRequest(prompts[0], DecodingConfig(max_new_tokens=400)))
        first = next(iter(stream))
        assert first
        stream.cancel()
        done = stream.result(60)
    assert done.finish_reason == "cancelled"
    assert done.completion_tokens < 400


def test_rows_that_would_overflow_the_window_together_run_in_separate_batches(loaded, prompts):
    model, tok = loaded
    long_prompt, short_prompt = prompts[0], prompts[0][:5]
    window = len(long_prompt) + 20
    with GenerationEngine(model, tok, context_window=window, batch_wait_ms=100) as engine:
        a = engine.submit(GenerationRequest(long_prompt, DecodingConfig(max_new_tokens=20)))
        b = engine.submit(GenerationRequest(short_prompt, DecodingConfig(max_new_tokens=window - 5)))
        c = engine.submit(GenerationRequest(long_prompt, DecodingConfig(max_new_tokens=10)))
        assert all(s.result(60).finish_reason in ("length", "stop") for s in (a, b, c))
        assert engine.stats["batches"] == 2 and engine.stats["max_batch"] == 2  # a and c together, b alone


def test_requests_that_do_not_fit_are_refused(loaded, prompts):
    model, tok = loaded
    engine = GenerationEngine(model, tok, context_window=40)
    with pytest.raises(ServingError, match="context window of 40"):
        engine.submit(GenerationRequest(prompts[0], DecodingConfig(max_new_tokens=39)))
    with pytest.raises(ServingError, match="empty"):
        engine.submit(GenerationRequest([], DecodingConfig()))
    engine.close()


def test_a_full_queue_is_refused_not_lost(loaded, prompts):
    model, tok = loaded
    engine = GenerationEngine(model, tok, max_queue=1, max_batch_size=1)
    hold = threading.Lock()
    hold.acquire()
    original = engine._generate

    def blocked(streams):  # keep the worker busy so the queue fills
        with hold:
            original(streams)

    engine._generate = blocked
    first = engine.submit(GenerationRequest(prompts[0], DecodingConfig(max_new_tokens=2)))
    deadline = threading.Event()
    while engine.queued:  # wait for the worker to take the first request
        deadline.wait(0.01)
    second = engine.submit(GenerationRequest(prompts[1], DecodingConfig(max_new_tokens=2)))
    with pytest.raises(ServingError, match="queue is full"):
        engine.submit(GenerationRequest(prompts[2], DecodingConfig(max_new_tokens=2)))
    hold.release()
    assert first.result(60).completion_tokens == 2
    assert second.result(60).completion_tokens == 2
    engine.close()


def test_a_generation_failure_is_reported_and_the_worker_survives(loaded, prompts):
    model, tok = loaded
    vocab = model.config.vocab_size
    with GenerationEngine(model, tok) as engine:
        bad = engine.submit(GenerationRequest([vocab + 5, vocab + 6], DecodingConfig(max_new_tokens=4)))
        done = bad.result(60)
        assert done.finish_reason == "error" and "IndexError" in done.error
        with pytest.raises(ServingError, match="generation failed"):
            list(bad)
        good = engine.generate(GenerationRequest(prompts[0], DecodingConfig(max_new_tokens=4)), timeout=60)
    assert good.finish_reason == "length" and good.completion_tokens == 4


def test_close_cancels_what_is_still_queued(loaded, prompts):
    model, tok = loaded
    engine = GenerationEngine(model, tok)
    engine._stop.set()  # a worker that never starts: requests stay queued
    engine.start = lambda: engine  # type: ignore[method-assign]
    stream = engine.submit(GenerationRequest(prompts[0], DecodingConfig(max_new_tokens=4)))
    engine.close()
    assert stream.result(5).finish_reason == "cancelled"
