"""Export canonical data as JSONL: chat format for hosted fine-tuning APIs, messages, alpaca, ShareGPT.

The ``openai-chat`` format writes one ``{"messages": [{"role": ..., "content": ...}, ...]}`` object
per line (system turn optional, then alternating user/assistant turns, ending with the assistant),
the layout hosted fine-tuning services accept, so a closed model can be tuned and benchmarked on the
very same split. ``register_exporter`` adds formats.

Examples:
    >>> import datasets, json, tempfile, pathlib
    >>> from domainft.data.export import export_jsonl
    >>> ds = datasets.Dataset.from_list([{"id": "t1", "prompt": "Belt slips?", "response": "Tighten it."}])
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "train.jsonl"
    >>> _ = export_jsonl(ds, path, format="openai-chat", system_prompt="You help technicians.")
    >>> [m["role"] for m in json.loads(path.read_text())["messages"]]
    ['system', 'user', 'assistant']
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domainft.data.templates import row_messages
from domainft.errors import DataError
from domainft.registry import Registry

if TYPE_CHECKING:  # pragma: no cover
    import datasets

Exporter = Callable[[dict[str, Any], list[dict[str, str]]], dict[str, Any]]
EXPORTERS: Registry[Exporter] = Registry("export format")


def register_exporter(name: str, *, overwrite: bool = False) -> Callable[[Exporter], Exporter]:
    """Decorator registering ``fn(row, messages) -> dict`` (one JSON object per row).

    ``messages`` is the row's conversation (system turn included when there is one).

    Examples:
        >>> @register_exporter("qa-demo")
        ... def qa(row, messages):
        ...     return {"q": messages[-2]["content"], "a": messages[-1]["content"]}
        >>> "qa-demo" in EXPORTERS.names()
        True
    """

    def _decorate(fn: Exporter) -> Exporter:
        EXPORTERS.register(name, fn, overwrite=overwrite)
        return fn

    return _decorate


def _check(messages: list[dict[str, str]], row_id: Any) -> None:
    turns = [m for m in messages if m["role"] != "system"]
    problem = None
    if not turns or turns[-1]["role"] != "assistant":
        problem = "does not end with an assistant turn"
    elif any(not isinstance(m["content"], str) or not m["content"].strip() for m in messages):
        problem = "has an empty turn"
    elif any(a["role"] == b["role"] for a, b in itertools.pairwise(turns)):
        problem = "has two consecutive turns of one role"
    elif turns[0]["role"] != "user":
        problem = "does not start with a user turn"
    if problem:
        raise DataError(
            f"row {row_id!r} {problem}; hosted chat fine-tuning rejects such examples. Clean it first"
        )


@register_exporter("openai-chat")
def _openai_chat(row: dict[str, Any], messages: list[dict[str, str]]) -> dict[str, Any]:
    _check(messages, row.get("id"))
    return {"messages": messages}


@register_exporter("messages")
def _messages(row: dict[str, Any], messages: list[dict[str, str]]) -> dict[str, Any]:
    return {"id": row.get("id"), "messages": messages}


@register_exporter("alpaca")
def _alpaca(row: dict[str, Any], messages: list[dict[str, str]]) -> dict[str, Any]:
    turns = [m for m in messages if m["role"] != "system"]
    if len(turns) != 2:
        raise DataError(
            f"row {row.get('id')!r} has {len(turns)} turns; alpaca holds one instruction and one output. "
            "Export multi-turn data as openai-chat, messages or sharegpt"
        )
    out = {"instruction": turns[0]["content"], "input": "", "output": turns[1]["content"]}
    if messages[0]["role"] == "system":
        out["system"] = messages[0]["content"]
    return out


@register_exporter("sharegpt")
def _sharegpt(row: dict[str, Any], messages: list[dict[str, str]]) -> dict[str, Any]:
    names = {"system": "system", "user": "human", "assistant": "gpt"}
    return {
        "id": row.get("id"),
        "conversations": [{"from": names[m["role"]], "value": m["content"]} for m in messages],
    }


def export_jsonl(
    data: datasets.Dataset | datasets.DatasetDict,
    path: str | Path,
    format: str = "openai-chat",
    system_prompt: str | None = None,
    include_empty: bool = False,
) -> list[Path]:
    """Write ``data`` as JSONL in ``format``; a ``DatasetDict`` becomes ``path/<split>.jsonl`` files.

    Empty splits are skipped unless ``include_empty``. Returns the written paths.
    """
    import datasets as hf

    from domainft.utils.io import atomic_write_jsonl

    fn = EXPORTERS.get(format)
    if isinstance(data, hf.DatasetDict):
        folder = Path(path)
        if folder.suffix in (".jsonl", ".json"):
            raise DataError(f"{path}: a DatasetDict is written to a folder (one file per split), not a file")
        splits = {name: split for name, split in data.items() if include_empty or split.num_rows}
        return [
            export_jsonl(split, folder / f"{name}.jsonl", format, system_prompt)[0]
            for name, split in splits.items()
        ]
    for column in ("prompt", "response"):
        if column not in data.column_names and "messages" not in data.column_names:
            raise DataError(
                f"export needs 'prompt'/'response' or 'messages'; found {', '.join(data.column_names)}"
            )
    rows = (fn(row, row_messages(row, system_prompt)) for row in data)
    return [atomic_write_jsonl(path, rows)]
