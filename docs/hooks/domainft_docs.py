"""MkDocs hooks of the domainft site (``hooks:`` in mkdocs.yml).

- ``<!-- include: PATH -->`` (PATH relative to the repository root) is replaced by that file, so the
  recipe pages show the examples' own READMEs and cannot drift from them.
- ``<!-- cli-reference -->`` is replaced by the ``--help`` of every ``domainft`` command, generated
  from the real argument parser.
- Relative links to files outside ``docs/`` (example configs, scripts) become the file's path in
  code style, since the site does not publish them; links between pages keep working.
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
_INCLUDE = re.compile(r"^<!-- include: (?P<path>\S+) -->$", re.MULTILINE)
_LINK = re.compile(r"(?P<bang>!?)\[(?P<text>[^\]\n]*)\]\((?P<target>[^)\s]+)\)")
_FENCE = re.compile(r"^(```|~~~)")


def _rewrite_links(markdown: str, source: Path, page: Path) -> str:
    """Re-point relative links written for ``source`` so they work from ``page`` (both absolute)."""
    out, fenced = [], False
    for line in markdown.splitlines(keepends=True):
        if _FENCE.match(line.lstrip()):
            fenced = not fenced
        if not fenced:
            line = _LINK.sub(lambda m: _fix(m, source, page), line)
        out.append(line)
    return "".join(out)


def _fix(match: re.Match[str], source: Path, page: Path) -> str:
    target = match["target"]
    if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith(("#", "/")):
        return match[0]
    path, _, anchor = target.partition("#")
    resolved = (source.parent / path).resolve()
    if resolved.is_relative_to(DOCS) and resolved.exists():
        relative = os.path.relpath(resolved, page.parent).replace(os.sep, "/")
        return f"{match['bang']}[{match['text']}]({relative}{'#' + anchor if anchor else ''})"
    shown = resolved.relative_to(ROOT).as_posix() if resolved.is_relative_to(ROOT) else path
    text = match["text"].strip("`")
    return f"`{shown}`" if text in (shown, Path(shown).name, path) else f"{match['text']} (`{shown}`)"


def _cli_reference() -> str:
    from domainft.cli import build_parser

    os.environ["COLUMNS"] = "100"
    sections: list[str] = []

    def walk(parser: argparse.ArgumentParser, words: list[str]) -> None:
        name = " ".join(words)
        level = "#" * min(len(words) + 1, 4)
        sections.append(f"{level} `{name}`\n\n```text\n{parser.format_help().rstrip()}\n```\n")
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub_name, sub in action.choices.items():
                    walk(sub, [*words, sub_name])

    walk(build_parser(), ["domainft"])
    return "\n".join(sections)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    page_path = (DOCS / page.file.src_uri).resolve()

    def include(match: re.Match[str]) -> str:
        source = (ROOT / match["path"]).resolve()
        text = source.read_text(encoding="utf-8")
        return _rewrite_links(text, source, page_path)

    markdown = _INCLUDE.sub(include, markdown)
    if "<!-- cli-reference -->" in markdown:
        markdown = markdown.replace("<!-- cli-reference -->", _cli_reference())
    return _rewrite_links(markdown, page_path, page_path)
