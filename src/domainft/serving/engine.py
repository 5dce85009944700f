"""The generation engine behind chat sessions and the server: one worker thread owns the model,
queued requests are batched, and every request streams its text as it is generated.

Requests that arrive while the model is busy wait in a bounded queue; the worker takes everything
queued (waiting ``batch_wait_ms`` for company when a request comes alone), groups the requests whose
decoding settings can share one ``generate`` call, left-pads each group and runs it. Each row stops
on its own (EOS, a stop string, its own ``max_new_tokens``, or a cancel) and the call ends when every
row has. Greedy answers do not depend on what else shares the batch.

Examples:
    >>> from domainft.serving.engine import GenerationEngine, GenerationRequest
    >>> engine = GenerationEngine(model, tokenizer, max_batch_size=8)      # doctest: +SKIP
    >>> stream = engine.submit(GenerationRequest(prompt_ids=[1, 42, 7]))    # doctest: +SKIP
    >>> "".join(stream), stream.result().finish_reason                    # doctest: +SKIP
    ('Check the seal.', 'stop')
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from domainft.errors import ServingError
from domainft.models.generation import DecodingConfig, context_window, left_pad, pad_token_id

logger = logging.getLogger(__name__)

FinishReason = Literal["stop", "length", "cancelled", "error"]
Event = tuple[Literal["delta", "done"], Any]


@dataclass
class GenerationRequest:
    """One prompt to answer: its token ids, decoding settings and optional stop strings."""

    prompt_ids: Sequence[int]
    decoding: DecodingConfig = field(default_factory=DecodingConfig)
    stop: Sequence[str] = ()

    def batch_key(self) -> tuple[Any, ...]:
        """Requests with equal keys can share one ``generate`` call (max_new_tokens may differ)."""
        kwargs = self.decoding.generate_kwargs()
        kwargs.pop("max_new_tokens")
        seed = self.decoding.seed if self.decoding.do_sample else None
        return (*sorted(kwargs.items()), ("seed", seed))


@dataclass
class Completion:
    """How a request ended: the whole answer, why it stopped, and token counts."""

    text: str
    finish_reason: FinishReason
    prompt_tokens: int
    completion_tokens: int
    error: str | None = None


class QueueFullError(ServingError):
    """Every place in the request queue is taken; the request may be retried shortly."""


class Stream:
    """The handle of a submitted request: iterate for text pieces, ``result()`` for the :class:`Completion`.

    With a ``sink``, events (``("delta", text)`` then ``("done", completion)``) go to that callable
    instead (the server passes one that hands them to its event loop).
    """

    def __init__(self, request: GenerationRequest, sink: Callable[[Event], None] | None = None) -> None:
        self.request = request
        self._events: queue.Queue[Event] | None = None if sink is not None else queue.Queue()
        self._sink = sink
        self._done = threading.Event()
        self._completion: Completion | None = None
        self.cancelled = False

    def _emit(self, event: Event) -> None:
        if event[0] == "done":
            self._completion = event[1]
            self._done.set()
        if self._sink is not None:
            self._sink(event)
        else:
            assert self._events is not None
            self._events.put(event)

    def cancel(self) -> None:
        """Stop generating this answer (the client went away); its row ends at the next token."""
        self.cancelled = True

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def __iter__(self) -> Iterator[str]:
        if self._events is None:
            raise ServingError("this stream delivers its events to a sink; it cannot be iterated")
        while True:
            kind, value = self._events.get()
            if kind == "done":
                if value.finish_reason == "error":
                    raise ServingError(f"generation failed: {value.error}")
                return
            yield value

    def result(self, timeout: float | None = None) -> Completion:
        """Wait for the end of the answer and return it (raises ``ServingError`` on a timeout)."""
        if not self._done.wait(timeout):
            raise ServingError(f"no answer within {timeout} s")
        assert self._completion is not None
        return self._completion


def _held_back(text: str, stops: Sequence[str]) -> int:
    """Length of the longest end of ``text`` that could be the start of a stop string."""
    longest = 0
    for stop in stops:
        for size in range(min(len(stop) - 1, len(text)), longest, -1):
            if text.endswith(stop[:size]):
                longest = size
                break
    return longest


class _Row:
    """Incremental decoding of one answer: emits only text that can no longer change."""

    def __init__(self, stream: Stream, tokenizer: Any, eos_ids: set[int]) -> None:
        self.stream = stream
        self.tokenizer = tokenizer
        self.eos_ids = eos_ids
        self.limit = stream.request.decoding.max_new_tokens
        self.stops = [s for s in stream.request.stop if s]
        self.ids: list[int] = []
        self.emitted = ""
        self.text = ""
        self.finish: FinishReason | None = None

    def add(self, token: int) -> None:
        if self.finish is not None:
            return
        if self.stream.cancelled:
            self.finish = "cancelled"
            return
        if token in self.eos_ids:
            self.finish = "stop"
            return
        self.ids.append(token)
        text = self.tokenizer.decode(self.ids, skip_special_tokens=True).lstrip()
        cut = min((i for i in (text.find(s) for s in self.stops) if i >= 0), default=-1)
        if cut >= 0:
            text, self.finish = text[:cut], "stop"
        elif len(self.ids) >= self.limit:
            self.finish = "length"
        self.text = text
        if self.finish is None:
            visible = text.rstrip()
            if visible.endswith("\ufffd"):  # half of a multi-byte character
                return
            visible = visible[: len(visible) - _held_back(visible, self.stops)]
        else:
            visible = text.rstrip()
        self._emit_up_to(visible)

    def _emit_up_to(self, visible: str) -> None:
        if len(visible) > len(self.emitted) and visible.startswith(self.emitted):
            self.stream._emit(("delta", visible[len(self.emitted) :]))
            self.emitted = visible

    def close(self, error: str | None = None) -> Completion:
        """End the row: flush the held-back text and send its Completion (``error``: the batch failed)."""
        if error is not None:
            self.finish = "error"
        elif self.finish is None:
            self.finish = "cancelled" if self.stream.cancelled else "length"
        final = self.text.rstrip()
        if error is None:
            self._emit_up_to(final)
        completion = Completion(final, self.finish, len(self.stream.request.prompt_ids), len(self.ids), error)
        self.stream._emit(("done", completion))
        return completion


class GenerationEngine:
    """Owns ``model`` on one worker thread; batches the requests of concurrent callers.

    ``context_window`` (default: the model's ``max_position_embeddings``) bounds prompt plus answer;
    a request that does not fit is refused at :meth:`submit` with a ``ServingError``.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        max_batch_size: int = 8,
        batch_wait_ms: float = 5.0,
        max_queue: int = 256,
        context_window: int | None = None,
    ) -> None:
        if max_batch_size < 1 or max_queue < 1:
            raise ServingError("max_batch_size and max_queue must be at least 1")
        self.model = model
        self.tokenizer = tokenizer
        self.max_batch_size = max_batch_size
        self.batch_wait_s = max(0.0, batch_wait_ms) / 1000.0
        trained = model_context_window(model, tokenizer)
        if context_window and context_window > trained:
            logger.warning(
                "context_window=%d is longer than the model's %d positions: fine for rotary position "
                "embeddings (Llama, Mistral, Qwen...) up to where quality drops, an error for learned ones",
                context_window,
                trained,
            )
        self.context_window = context_window or trained
        self._queue: queue.Queue[Stream] = queue.Queue(maxsize=max_queue)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.stats: dict[str, int] = {
            "requests": 0,
            "batches": 0,
            "max_batch": 0,
            "generated_tokens": 0,
            "cancelled": 0,
        }
        eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
        eos_list = eos if isinstance(eos, list) else [eos]
        self.eos_ids = {i for i in [*eos_list, tokenizer.eos_token_id] if i is not None}
        self.pad_id = pad_token_id(tokenizer)

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> GenerationEngine:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, name="domainft-generation", daemon=True)
                self._thread.start()
        return self

    def close(self) -> None:
        """Stop the worker after the batch in progress; queued requests end with ``cancelled``."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
        while True:
            try:
                stream = self._queue.get_nowait()
            except queue.Empty:
                break
            stream.cancel()
            _Row(stream, self.tokenizer, self.eos_ids).close()

    def __enter__(self) -> GenerationEngine:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    # -- requests ---------------------------------------------------------------------------------

    def check(self, request: GenerationRequest) -> None:
        """Raise ``ServingError`` when prompt plus answer do not fit the context window."""
        n = len(request.prompt_ids)
        if n == 0:
            raise ServingError("the prompt is empty")
        if n + request.decoding.max_new_tokens > self.context_window:
            raise ServingError(
                f"the prompt has {n} tokens and max_new_tokens is {request.decoding.max_new_tokens}, "
                f"together more than the context window of {self.context_window} tokens; shorten the "
                "conversation or ask for fewer tokens"
            )

    def submit(self, request: GenerationRequest, sink: Callable[[Event], None] | None = None) -> Stream:
        """Queue ``request``; returns its :class:`Stream` at once (the answer arrives on it)."""
        self.check(request)
        stream = Stream(request, sink)
        self.start()
        try:
            self._queue.put_nowait(stream)
        except queue.Full:
            raise QueueFullError(
                f"the request queue is full ({self._queue.maxsize} waiting); retry shortly"
            ) from None
        return stream

    def generate(self, request: GenerationRequest, timeout: float | None = None) -> Completion:
        """Submit and wait: the whole answer."""
        return self.submit(request).result(timeout)

    # -- worker -----------------------------------------------------------------------------------

    def _take_batch(self) -> list[Stream]:
        try:
            first = self._queue.get(timeout=0.1)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self.batch_wait_s
        while len(batch) < self.max_batch_size:
            try:
                batch.append(self._queue.get_nowait())
                continue
            except queue.Empty:
                pass
            remaining = deadline - time.monotonic()
            if remaining <= 0 or len(batch) > 1:
                break
            try:
                batch.append(self._queue.get(timeout=remaining))
            except queue.Empty:
                break
        return batch

    def _run(self) -> None:
        while not self._stop.is_set():
            batch = self._take_batch()
            groups: dict[tuple[Any, ...], list[Stream]] = {}
            for stream in batch:
                groups.setdefault(stream.request.batch_key(), []).append(stream)
            for streams in groups.values():
                for chunk in self._fit_window(streams):
                    self._generate(chunk)

    def _fit_window(self, streams: list[Stream]) -> list[list[Stream]]:
        """Split a group so each batch's longest prompt plus largest answer fits the context window
        (left padding runs every row to that length)."""
        chunks: list[list[Stream]] = []
        width = limit = 0
        for stream in sorted(streams, key=lambda s: len(s.request.prompt_ids)):
            n, new = len(stream.request.prompt_ids), stream.request.decoding.max_new_tokens
            if chunks and max(width, n) + max(limit, new) <= self.context_window:
                chunks[-1].append(stream)
                width, limit = max(width, n), max(limit, new)
            else:
                chunks.append([stream])
                width, limit = n, new
        return chunks

    def _generate(self, streams: list[Stream]) -> None:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList

        rows = []
        for stream in streams:
            row = _Row(stream, self.tokenizer, self.eos_ids)
            if stream.cancelled:  # the client left while the request waited
                row.close()
                self.stats["cancelled"] += 1
            else:
                rows.append(row)
        if not rows:
            return
        input_ids, attention = left_pad([r.stream.request.prompt_ids for r in rows], self.pad_id)

        class _Feed(StoppingCriteria):
            def __call__(self, ids: Any, scores: Any, **kwargs: Any) -> Any:
                for row, token in zip(rows, ids[:, -1].tolist(), strict=True):
                    row.add(token)
                return torch.tensor([r.finish is not None for r in rows], device=ids.device)

        decoding = rows[0].stream.request.decoding
        kwargs = decoding.generate_kwargs()
        kwargs["max_new_tokens"] = max(r.limit for r in rows)
        device = next(self.model.parameters()).device
        self.stats["requests"] += len(rows)
        self.stats["batches"] += 1
        self.stats["max_batch"] = max(self.stats["max_batch"], len(rows))
        error: str | None = None
        was_training = self.model.training
        self.model.eval()
        try:
            if decoding.do_sample:
                torch.manual_seed(decoding.seed)
            with torch.no_grad():
                self.model.generate(
                    input_ids=input_ids.to(device),
                    attention_mask=attention.to(device),
                    pad_token_id=self.pad_id,
                    eos_token_id=sorted(self.eos_ids) or None,
                    stopping_criteria=StoppingCriteriaList([_Feed()]),
                    use_cache=True,
                    **kwargs,
                )
        except Exception as exc:  # the worker must survive: report the failure on every row
            logger.exception("generation failed")
            error = f"{type(exc).__name__}: {exc}"
        finally:
            if was_training:
                self.model.train()
        for row in rows:
            completion = row.close(error)
            self.stats["generated_tokens"] += completion.completion_tokens
            self.stats["cancelled"] += completion.finish_reason == "cancelled"


def model_context_window(model: Any, tokenizer: Any | None = None) -> int:
    """Longest sequence the model handles (see :func:`~domainft.models.generation.context_window`)."""
    window = context_window(model, tokenizer)
    if window is None:
        raise ServingError("cannot tell the model's context window; pass context_window=")
    return window
