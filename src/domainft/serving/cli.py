"""``domainft chat``, ``domainft generate`` and ``domainft serve``: talk to a trained assistant.

``chat`` is a terminal REPL (line editing and history where ``readline`` exists; ``/reset``,
``/exit``, ``/help``); ``generate`` answers a file of prompts into JSON Lines; ``serve`` starts the
OpenAI-compatible server with its chat page.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import Any, TextIO

from domainft.errors import DataError, DataFileNotFoundError

REPL_HELP = """commands:
  /reset   forget the conversation
  /history show the conversation so far
  /help    this help
  /exit    leave (Ctrl-D too)"""


def _add_model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", required=True, help="base model folder (or hub id) the adapter was trained on"
    )
    parser.add_argument(
        "--adapter", help="LoRA adapter folder (e.g. runs/x/adapter); omit for the base model"
    )
    parser.add_argument("--topic-gate", help="TopicGate folder: off-topic questions get a polite refusal")
    parser.add_argument(
        "--quantization",
        choices=["nf4", "fp4", "int8", "none"],
        default="none",
        help="load the base in 4/8-bit with bitsandbytes (default: none, full precision)",
    )
    parser.add_argument(
        "--template", help="prompt template (default: the adapter's training template, else chat)"
    )
    parser.add_argument("--system-prompt", help="system message (default: the adapter's training one)")
    parser.add_argument("--domain", help="what the assistant is about, used in the refusal text")
    parser.add_argument("--refusal", help="answer to off-topic questions ({domain} is filled in)")
    parser.add_argument("--gate-threshold", type=float, help="in-domain probability a question needs")
    parser.add_argument(
        "--max-new-tokens", type=int, default=256, help="longest answer in tokens (default 256)"
    )
    parser.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default); > 0 samples")
    parser.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling mass (with --temperature)")
    parser.add_argument("--top-k", type=int, default=50, help="top-k sampling (with --temperature)")
    parser.add_argument("--repetition-penalty", type=float, default=1.0, help="> 1 discourages repeats")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed")
    parser.add_argument(
        "--context-window", type=int, help="tokens of prompt plus answer (default: the model's)"
    )


def _load(args: argparse.Namespace, name: str | None = None) -> tuple[Any, Any, Any]:
    """``(assistant, ChatConfig, DecodingConfig)`` from the shared model arguments."""
    from domainft.models.generation import DecodingConfig
    from domainft.serving.chat import ChatConfig
    from domainft.serving.loading import load_assistant

    quantization = None if args.quantization == "none" else args.quantization
    assistant = load_assistant(
        args.model, args.adapter, topic_gate=args.topic_gate, quantization=quantization, name=name
    )
    chat = dict(assistant.prompt_settings)
    for key in ("template", "system_prompt", "domain", "refusal", "gate_threshold", "context_window"):
        value = getattr(args, key)
        if value is not None:
            chat[key] = value
    decoding = DecodingConfig(
        max_new_tokens=args.max_new_tokens,
        do_sample=args.temperature > 0,
        temperature=args.temperature if args.temperature > 0 else 1.0,
        top_p=args.top_p,
        top_k=args.top_k,
        repetition_penalty=args.repetition_penalty,
        seed=args.seed,
    )
    return assistant, ChatConfig.from_dict(chat, _where="chat options"), decoding


# -- chat -------------------------------------------------------------------------------------------


def run_repl(session: Any, stdin: TextIO, stdout: TextIO, *, interactive: bool) -> int:
    """Read questions from ``stdin`` until ``/exit`` or end of input, streaming each answer."""
    if interactive:
        with contextlib.suppress(ImportError):  # not on Windows
            import readline  # noqa: F401  (line editing and up-arrow history for input())
        stdout.write("Ask a question; /help lists the commands, /exit leaves.\n")
    prompt = "you> " if interactive else ""
    while True:
        try:
            if interactive:
                line = input(prompt)
            else:
                line = stdin.readline()
                if not line:
                    break
        except EOFError:
            break
        except KeyboardInterrupt:
            stdout.write("\n")
            break
        question = line.strip()
        if not question:
            continue
        if question.startswith("/"):
            command = question.split()[0].lower()
            if command in ("/exit", "/quit"):
                break
            if command == "/reset":
                session.reset()
                stdout.write("(conversation reset)\n")
            elif command == "/history":
                for turn in session.history:
                    stdout.write(f"{turn['role']}: {turn['content']}\n")
                if not session.history:
                    stdout.write("(no history)\n")
            elif command == "/help":
                stdout.write(REPL_HELP + "\n")
            else:
                stdout.write(f"unknown command {command}; /help lists the commands\n")
            stdout.flush()
            continue
        stdout.write("assistant> ")
        stdout.flush()
        try:
            for piece in session.stream(question):
                stdout.write(piece)
                stdout.flush()
        except KeyboardInterrupt:
            stdout.write(" [stopped]")
        reply = session.last_reply
        note = ""
        if reply is not None and reply.gated:
            note = f" [off-topic: score {reply.topic_score:.2f}]"
        elif reply is not None and reply.finish_reason == "length":
            note = " [cut at max-new-tokens]"
        stdout.write(note + "\n")
        stdout.flush()
    if interactive:
        stdout.write("bye\n")
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from domainft.serving.chat import ChatSession

    assistant, chat, decoding = _load(args)
    with ChatSession(
        assistant.model,
        assistant.tokenizer,
        topic_gate=assistant.topic_gate,
        generation=decoding,
        config=chat,
    ) as session:
        interactive = sys.stdin.isatty() and not args.plain
        return run_repl(session, sys.stdin, sys.stdout, interactive=interactive)


# -- generate ---------------------------------------------------------------------------------------


def read_prompts(path: str | Path, field: str = "prompt") -> list[dict[str, Any]]:
    """Prompts of a ``.txt`` file (one per line) or a JSON Lines file (``field``, plus optional ``id``
    and ``messages``); each becomes ``{"id", "prompt" | "messages"}``."""
    from domainft.data.readers import jsonl_objects, read_text

    file = Path(path)
    if not file.is_file():
        raise DataFileNotFoundError(f"prompt file not found: {file}")
    if file.stat().st_size == 0:
        raise DataError(f"{file}: the file is empty (0 bytes); write one prompt per line")
    rows: list[dict[str, Any]] = []
    if file.suffix.lower() in (".jsonl", ".json"):
        for number, record in jsonl_objects(file, example=f'{{"{field}": "your question"}}'):
            if "messages" in record:
                rows.append({"id": record.get("id", number), "messages": record["messages"]})
            elif isinstance(record.get(field), str) and record[field].strip():
                rows.append({"id": record.get("id", number), "prompt": record[field]})
            else:
                raise DataError(
                    f"{file}:{number}: no {field!r} text (or 'messages'); "
                    "use --field to name the prompt column"
                )
    else:  # UTF-8, with errors naming the line, column and encoding fix
        rows = [
            {"id": n, "prompt": line.strip()}
            for n, line in enumerate(read_text(file).splitlines(), start=1)
            if line.strip()
        ]
    if not rows:
        raise DataError(f"{file} holds no prompts")
    return rows


def cmd_generate(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from domainft.configuration import check_output_path
    from domainft.serving.chat import ChatRenderer
    from domainft.serving.engine import GenerationEngine, GenerationRequest
    from domainft.utils.io import atomic_write_jsonl

    rows = read_prompts(args.input, args.field)
    check_output_path(args.output, "--output", kind="file")  # before loading the model
    assistant, chat, decoding = _load(args)
    engine = GenerationEngine(
        assistant.model,
        assistant.tokenizer,
        max_batch_size=args.batch_size,
        context_window=chat.context_window,
    )
    renderer = ChatRenderer(assistant.tokenizer, chat, assistant.topic_gate, engine.context_window)
    out: list[dict[str, Any]] = [{} for _ in rows]
    pending = []
    with engine:
        for i, row in enumerate(rows):
            messages = row.get("messages") or [{"role": "user", "content": row["prompt"]}]
            prepared = renderer.prepare(messages, decoding.max_new_tokens, trim=True)
            record = {"id": row["id"], "prompt": messages[-1]["content"]}
            if prepared.gate is not None:
                record["topic_score"] = round(prepared.gate.score, 6)
            if prepared.refused:
                out[i] = {**record, "response": chat.refusal_text(), "finish_reason": "gated", "gated": True}
                continue
            pending.append((i, record, engine.submit(GenerationRequest(prepared.prompt_ids, decoding))))
        for i, record, stream in tqdm(pending, desc="generating", unit="prompt", disable=args.quiet):
            done = stream.result()
            out[i] = {
                **record,
                "response": done.text,
                "finish_reason": done.finish_reason,
                "completion_tokens": done.completion_tokens,
            }
    atomic_write_jsonl(args.output, out)
    gated = sum(1 for r in out if r.get("gated"))
    print(
        f"{len(out)} answers written to {args.output}" + (f" ({gated} refused as off-topic)" if gated else "")
    )
    return 0


# -- serve ------------------------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    from domainft.serving.server import ServerConfig, serve

    assistant, chat, decoding = _load(args, name=args.served_model_name)
    config = ServerConfig(
        host=args.host,
        port=args.port,
        model_name=assistant.name,
        api_key_env=args.api_key_env,
        max_batch_size=args.batch_size,
        batch_wait_ms=args.batch_wait_ms,
        max_queue=args.max_queue,
        title=args.title or f"{assistant.name} assistant",
        greeting=args.greeting or ServerConfig().greeting,
        chat=chat,
        decoding=decoding,
    )
    serve(
        assistant.model,
        assistant.tokenizer,
        config,
        topic_gate=assistant.topic_gate,
        log_level=args.log_level,
    )
    return 0


def add_serving_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add ``chat``, ``generate`` and ``serve`` to the ``domainft`` subcommands."""
    chat = subparsers.add_parser("chat", help="talk to a model (and adapter) in the terminal")
    _add_model_arguments(chat)
    chat.add_argument("--plain", action="store_true", help="no prompt or banner, even in a terminal")
    chat.set_defaults(func=cmd_chat, command="chat")

    generate = subparsers.add_parser("generate", help="answer a file of prompts (.txt or .jsonl) into JSONL")
    _add_model_arguments(generate)
    generate.add_argument("--input", required=True, help=".txt (one prompt a line) or .jsonl file")
    generate.add_argument("--output", required=True, help="JSON Lines file of answers to write")
    generate.add_argument(
        "--field", default="prompt", help="prompt field of a .jsonl input (default: prompt)"
    )
    generate.add_argument(
        "--batch-size", type=int, default=16, help="prompts generated together (default 16)"
    )
    generate.add_argument("--quiet", action="store_true", help="no progress bar")
    generate.set_defaults(func=cmd_generate, command="generate")

    serve = subparsers.add_parser(
        "serve", help="serve a model over an OpenAI-compatible HTTP API with a chat page at /"
    )
    _add_model_arguments(serve)
    serve.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    serve.add_argument("--served-model-name", help="model id clients send (default: the run folder's name)")
    serve.add_argument(
        "--api-key-env",
        default="DOMAINFT_API_KEY",
        help="environment variable holding the API key clients must send (default DOMAINFT_API_KEY; "
        "no key is required while it is unset)",
    )
    serve.add_argument("--batch-size", type=int, default=8, help="requests generated together (default 8)")
    serve.add_argument("--batch-wait-ms", type=float, default=5.0, help="wait for company of a lone request")
    serve.add_argument("--max-queue", type=int, default=256, help="queued requests before HTTP 503")
    serve.add_argument("--title", help="title of the chat page")
    serve.add_argument("--greeting", help="first message of the chat page")
    serve.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    serve.set_defaults(func=cmd_serve, command="serve")
