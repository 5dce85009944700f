"""Record formats: how the rows of a source map onto domainft's canonical columns.

Canonical rows have ``prompt`` and ``response`` text, optionally ``system`` and, for multi-turn data,
``messages``: a list of ``{"role": "system"|"user"|"assistant", "content": str}`` ending with an
assistant turn (then ``prompt`` is the last user turn and ``response`` the last assistant turn).

Built-in formats (``register_format`` adds more):

============== =========================================================================================
``prompt_response`` ``prompt``/``response`` columns, kept as they are (map other names with ``with_columns``)
``alpaca``      ``instruction``, optional ``input``, ``output`` (optional ``system``)
``sharegpt``    ``conversations``: ``[{"from": "human"|"gpt"|"system", "value": ...}, ...]``
``messages``    OpenAI-style ``messages``: ``[{"role": ..., "content": ...}, ...]``, optional system turn
``dialogue``    one row per utterance (dialogue id, turn, speaker, text, optional timestamp), assembled
                into one conversation per dialogue
============== =========================================================================================

A conversion never drops a row silently: a row it cannot use (e.g. a conversation without an
assistant turn) is returned in ``rejected`` with a reason, and the builder adds it to its cleaning
report.

Examples:
    >>> from domainft.data.formats import apply_format
    >>> import datasets
    >>> ds = datasets.Dataset.from_list([{"conversations": [
    ...     {"from": "human", "value": "Fan is loud"}, {"from": "gpt", "value": "Check the bearing."}]}])
    >>> out, rejected = apply_format(ds, "sharegpt")
    >>> out[0]["prompt"], out[0]["response"], out[0]["messages"][0]["role"]
    ('Fan is loud', 'Check the bearing.', 'user')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from domainft.data.templates import ROLES
from domainft.errors import ConfigError, DataError
from domainft.registry import Registry

if TYPE_CHECKING:  # pragma: no cover
    import datasets

SHAREGPT_ROLES = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "model": "assistant",
    "chatgpt": "assistant",
    "bard": "assistant",
    "bing": "assistant",
    "system": "system",
}
Rejected = list[dict[str, Any]]
Converter = Callable[..., tuple[list[dict[str, Any]], Rejected]]


@dataclass(frozen=True)
class RecordFormat:
    """A named conversion ``convert(rows, **options) -> (canonical_rows, rejected)``.

    ``detect(columns)`` says whether a set of column names looks like this format (used by
    ``format="auto"``); ``consumes`` lists the source columns the conversion replaces.
    """

    name: str
    convert: Converter
    detect: Callable[[set[str]], bool] | None = None
    consumes: tuple[str, ...] = ()
    description: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)


FORMATS: Registry[RecordFormat] = Registry("record format")


def register_format(
    name: str,
    *,
    detect: Callable[[set[str]], bool] | None = None,
    consumes: Sequence[str] = (),
    description: str = "",
    overwrite: bool = False,
) -> Callable[[Converter], Converter]:
    """Decorator registering a record format; the function maps a list of row dicts to
    ``(canonical_rows, rejected)`` where each rejected item is ``{"row_index": i, "reason": ..., ...}``.

    Examples:
        >>> from domainft.data.formats import register_format, known_formats
        >>> @register_format("faq-demo", detect=lambda cols: {"q", "a"} <= cols, consumes=("q", "a"))
        ... def faq(rows):
        ...     return [{**r, "prompt": r["q"], "response": r["a"]} for r in rows], []
        >>> "faq-demo" in known_formats()
        True
    """

    def _decorate(fn: Converter) -> Converter:
        FORMATS.register(
            name,
            RecordFormat(name, fn, detect, tuple(consumes), description or (fn.__doc__ or "").strip()),
            overwrite=overwrite,
        )
        return fn

    return _decorate


def known_formats() -> list[str]:
    """Names of all registered record formats."""
    return FORMATS.names()


def detect_format(columns: Sequence[str]) -> str | None:
    """The first registered format whose ``detect`` accepts ``columns``; None when none does.

    Examples:
        >>> detect_format(["instruction", "input", "output"])
        'alpaca'
        >>> detect_format(["question", "answer"]) is None
        True
    """
    found = set(columns)
    for name in FORMATS.names():
        fmt = FORMATS.get(name)
        if fmt.detect is not None and fmt.detect(found):
            return name
    return None


def apply_format(
    ds: datasets.Dataset, format: str | None = "auto", **options: Any
) -> tuple[datasets.Dataset, Rejected]:
    """Convert ``ds`` to canonical columns with the record format ``format``.

    ``"auto"`` detects the format from the column names and leaves unrecognised data unchanged (map it
    with ``DatasetBuilder.with_columns``); None leaves the data unchanged. Columns the format consumes
    are removed; other columns are kept. Returns ``(dataset, rejected_rows)``.
    """
    from domainft.data.readers import records_to_dataset

    if format is None:
        return ds, []
    name = detect_format(ds.column_names) if format == "auto" else format
    if name is None:
        if options:
            raise ConfigError(f"format options {sorted(options)} given but no record format was detected")
        return ds, []
    fmt = FORMATS.get(name)
    rows = ds.to_list()
    try:
        converted, rejected = fmt.convert(rows, **options)
    except TypeError as exc:
        if "unexpected keyword" in str(exc):
            raise ConfigError(f"record format {name!r} does not take option(s) {sorted(options)}") from None
        raise
    if not converted:
        reasons = sorted({r["reason"] for r in rejected})
        raise DataError(
            f"record format {name!r}: no usable rows "
            f"({len(rejected)} rejected: {', '.join(reasons) or 'none'})"
        )
    consumed = set(fmt.consumes)
    converted = [{k: v for k, v in row.items() if k not in consumed} for row in converted]
    return records_to_dataset(converted, source=f"format {name}"), [
        {**r, "reason": r["reason"], "format": name} for r in rejected
    ]


# --------------------------------------------------------------------------------------------- helpers


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def conversation_fields(messages: list[dict[str, str]]) -> dict[str, Any]:
    """``prompt``, ``response`` and ``system`` of a conversation ending with an assistant turn.

    Examples:
        >>> conversation_fields([{"role": "system", "content": "Be brief."},
        ...                      {"role": "user", "content": "Hi"},
        ...                      {"role": "assistant", "content": "Hello"}])
        {'prompt': 'Hi', 'response': 'Hello', 'system': 'Be brief.'}
    """
    system = messages[0]["content"] if messages and messages[0]["role"] == "system" else None
    prompt = next((m["content"] for m in reversed(messages[:-1]) if m["role"] == "user"), None)
    return {"prompt": prompt, "response": messages[-1]["content"], "system": system}


def check_conversation(messages: list[dict[str, str]]) -> str | None:
    """The reason a conversation cannot be trained on, or None when it can.

    Roles must be system/user/assistant, a system turn may only come first, and the conversation must
    hold a user turn and end with a non-empty assistant turn.
    """
    if not messages:
        return "empty_conversation"
    for i, m in enumerate(messages):
        if m["role"] not in ROLES:
            return "unknown_role"
        if m["role"] == "system" and i > 0:
            return "system_turn_not_first"
    if messages[-1]["role"] != "assistant":
        return "no_final_assistant_turn"
    if not any(m["role"] == "user" for m in messages):
        return "no_user_turn"
    if not messages[-1]["content"].strip():
        return "empty_response"
    return None


def _finish(
    row: dict[str, Any], index: int, messages: list[dict[str, str]], out: list, rejected: Rejected, **extra
) -> None:
    reason = check_conversation(messages)
    if reason is not None:
        rejected.append({"row_index": index, "reason": reason, "row": row, **extra})
        return
    fields = conversation_fields(messages)
    if row.get("system") and not fields["system"]:
        messages = [{"role": "system", "content": row["system"]}, *messages]
        fields["system"] = row["system"]
    out.append({**row, **fields, "messages": messages})


def _turns(
    row: dict[str, Any], index: int, key: str, role_key: str, content_key: str, roles: Mapping[str, str]
) -> list[dict[str, str]] | str:
    """The turns of ``row[key]`` as role/content dicts, or a rejection reason."""
    turns = row.get(key)
    if not isinstance(turns, list):
        return f"{key}_not_a_list"
    messages: list[dict[str, str]] = []
    for turn in turns:
        if not isinstance(turn, dict):
            return f"{key}_item_not_an_object"
        speaker = turn.get(role_key)
        role = roles.get(str(speaker).lower()) if speaker is not None else None
        content = _text(turn.get(content_key))
        if role is None:
            return "unknown_role"
        if content is None:
            return "missing_content"
        messages.append({"role": role, "content": content})
    return messages


# --------------------------------------------------------------------------------------------- formats


@register_format(
    "prompt_response",
    detect=lambda cols: {"prompt", "response"} <= cols,
    description="prompt/response columns, unchanged",
)
def _prompt_response(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], Rejected]:
    return rows, []


@register_format(
    "alpaca",
    detect=lambda cols: {"instruction", "output"} <= cols,
    consumes=("instruction", "input", "output"),
    description="instruction, optional input, output; the input follows the instruction after a blank line",
)
def _alpaca(
    rows: list[dict[str, Any]], input_separator: str = "\n\n"
) -> tuple[list[dict[str, Any]], Rejected]:
    out = []
    for row in rows:
        instruction = _text(row.get("instruction")) or ""
        extra = _text(row.get("input")) or ""
        prompt = instruction + (input_separator + extra if instruction and extra.strip() else extra)
        out.append({**row, "prompt": prompt or None, "response": _text(row.get("output"))})
    return out, []


@register_format(
    "sharegpt",
    detect=lambda cols: "conversations" in cols,
    consumes=("conversations",),
    description="conversations: [{from, value}] with human/gpt/system speakers",
)
def _sharegpt(
    rows: list[dict[str, Any]],
    roles: Mapping[str, str] | None = None,
    role_key: str = "from",
    content_key: str = "value",
) -> tuple[list[dict[str, Any]], Rejected]:
    mapping = {**SHAREGPT_ROLES, **{k.lower(): v for k, v in (roles or {}).items()}}
    out: list[dict[str, Any]] = []
    rejected: Rejected = []
    for i, row in enumerate(rows):
        messages = _turns(row, i, "conversations", role_key, content_key, mapping)
        if isinstance(messages, str):
            rejected.append({"row_index": i, "reason": messages, "row": row})
            continue
        _finish(row, i, messages, out, rejected)
    return out, rejected


@register_format(
    "messages",
    detect=lambda cols: "messages" in cols,
    consumes=(),
    description="OpenAI-style messages: [{role, content}], optional system turn first",
)
def _messages(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], Rejected]:
    identity = {r: r for r in ROLES}
    out: list[dict[str, Any]] = []
    rejected: Rejected = []
    for i, row in enumerate(rows):
        if row.get("messages") is None and row.get("prompt") is not None:
            out.append(row)  # a single-turn row among conversations
            continue
        messages = _turns(row, i, "messages", "role", "content", identity)
        if isinstance(messages, str):
            rejected.append({"row_index": i, "reason": messages, "row": row})
            continue
        _finish(row, i, messages, out, rejected)
    return out, rejected


_DIALOGUE_IDS = ("dialogue_id", "dialog_id", "conversation_id", "thread_id")


@register_format(
    "dialogue",
    detect=lambda cols: bool(cols & set(_DIALOGUE_IDS)) and {"speaker", "text"} <= cols,
    consumes=("turn", "speaker", "text"),
    description="one row per utterance, grouped by dialogue id and ordered by turn (or timestamp)",
)
def _dialogue(
    rows: list[dict[str, Any]],
    dialogue_column: str | None = None,
    turn_column: str | None = "turn",
    speaker_column: str = "speaker",
    text_column: str = "text",
    timestamp_column: str | None = "timestamp",
    assistant_speakers: Sequence[str] | None = None,
    merge_consecutive: bool = True,
) -> tuple[list[dict[str, Any]], Rejected]:
    """Assemble utterances into conversations.

    Roles: speakers in ``assistant_speakers`` answer; when None, the first speaker of each dialogue is
    the user and every other speaker the assistant (a help channel: the asker and the helpers).
    Consecutive utterances of one role are joined with a newline (``merge_consecutive``). Utterances
    are ordered by ``turn_column``, else by ``timestamp_column``, else kept in file order; the dialogue
    keeps the first timestamp as ``timestamp``.
    """
    if not rows:
        return [], []
    columns = set(rows[0])
    dialogue_column = dialogue_column or next((c for c in _DIALOGUE_IDS if c in columns), None)
    for role, column in (
        ("dialogue id", dialogue_column),
        ("speaker", speaker_column),
        ("text", text_column),
    ):
        if column is None or column not in columns:
            raise DataError(
                f"dialogue format: no {role} column {column!r}; found columns: {', '.join(sorted(columns))}. "
                "Pass format_options such as dialogue_column=..., speaker_column=..., text_column=..."
            )
    order_column = next((c for c in (turn_column, timestamp_column) if c and c in columns), None)
    groups: dict[Any, list[int]] = {}
    for i, row in enumerate(rows):
        groups.setdefault(row.get(dialogue_column), []).append(i)
    assistants = {str(s) for s in assistant_speakers} if assistant_speakers is not None else None
    out: list[dict[str, Any]] = []
    rejected: Rejected = []
    for key, indices in groups.items():
        if key is None:
            rejected.extend(
                {"row_index": i, "reason": "missing_dialogue_id", "row": rows[i]} for i in indices
            )
            continue
        if order_column is not None:
            if any(rows[i].get(order_column) is None for i in indices):
                rejected.append(
                    {"row_index": indices[0], "reason": f"missing_{order_column}", "dialogue": str(key)}
                )
                continue
            indices = sorted(indices, key=lambda i: (rows[i][order_column], i))
        messages: list[dict[str, str]] = []
        first_speaker = rows[indices[0]].get(speaker_column)
        for i in indices:
            speaker = rows[i].get(speaker_column)
            text = _text(rows[i].get(text_column))
            if text is None or not text.strip():
                continue  # an empty utterance carries nothing; the turn order stays as it is
            if assistants is not None:
                role = "assistant" if str(speaker) in assistants else "user"
            else:
                role = "user" if speaker == first_speaker else "assistant"
            if merge_consecutive and messages and messages[-1]["role"] == role:
                messages[-1]["content"] += "\n" + text
            else:
                messages.append({"role": role, "content": text})
        head = {
            k: v for k, v in rows[indices[0]].items() if k not in (turn_column, speaker_column, text_column)
        }
        head["id"] = str(key)
        head.pop(dialogue_column, None)
        head["dialogue_id"] = str(key)
        head["turns"] = len(messages)
        unanswered = 0
        while messages and messages[-1]["role"] != "assistant":
            messages.pop()  # a closing question nobody answered cannot be learned from: count it
            unanswered += 1
        head["unanswered_turns"] = unanswered
        _finish(head, indices[0], messages, out, rejected, dialogue=str(key))
    return out, rejected
