"""Documents -> passages: a folder of .txt/.md/.html files becomes cleaned text passages with source ids.

Each file is decoded (UTF-8 by default), Unicode-normalised (NFKC) and cut into *blocks*: paragraphs,
headings, list items, table rows. HTML goes through BeautifulSoup (scripts, styles, navigation,
headers, footers and asides are dropped; entities are decoded); Markdown syntax is stripped (fenced
code is dropped unless ``keep_code_blocks=True``); plain text is split into paragraphs on blank lines.
Blocks are then split into sentences by a Punkt tokenizer trained on the corpus itself (no downloaded
nltk data), and whole sentences are packed into passages of a target size.

Examples:
    >>> import tempfile, pathlib
    >>> from domainft.data.documents import DocumentConfig, read_documents
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = pathlib.Path(tmp.name)
    >>> _ = (folder / "lan.md").write_text(
    ...     "# Dr. Lan\\n\\nDr. Lan was born in *Hanoi* in 1950. She studied medicine in [Hue](https://x.org).",
    ...     encoding="utf-8")
    >>> rows = read_documents(folder, DocumentConfig(min_chars=10, max_chars=50))
    >>> [r["text"] for r in rows]
    ['Dr. Lan\\n\\nDr. Lan was born in Hanoi in 1950.', 'She studied medicine in Hue.']
    >>> rows[1]["id"], rows[1]["source"], rows[1]["title"], rows[1]["passage_index"]
    ('lan.md#p0001', 'lan.md', 'Dr. Lan', 1)
    >>> tmp.cleanup()
"""

from __future__ import annotations

import codecs
import html
import itertools
import math
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from domainft.configuration import ConfigBase, config_field
from domainft.data.cleaning import normalize_text
from domainft.data.readers import read_text
from domainft.errors import ConfigError, DataError, DataFileNotFoundError
from domainft.registry import Registry

if TYPE_CHECKING:  # pragma: no cover
    from nltk.tokenize.punkt import PunktSentenceTokenizer

__all__ = [
    "LANGUAGE_ABBREVIATIONS",
    "Block",
    "DocumentConfig",
    "DocumentPassages",
    "ParsedDocument",
    "parse_document",
    "read_documents",
    "register_document_parser",
    "split_sentences",
    "train_sentence_splitter",
]

# Abbreviations that must not end a sentence, by language (lower case, without the final period). Punkt
# also learns abbreviations from the corpus; these hints cover the ones a small corpus cannot teach it.
LANGUAGE_ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "en": (
        "dr", "mr", "mrs", "ms", "prof", "st", "jr", "sr", "rev", "gen", "col", "capt", "lt", "sgt",
        "vs", "etc", "e.g", "i.e", "cf", "fig", "figs", "vol", "approx", "dept", "inc", "ltd", "corp",
        "jan", "feb", "apr", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "a.m", "p.m",
        "ph.d", "b.sc", "m.sc",
    ),
    "vi": ("tp", "gs", "pgs", "ts", "ths", "th.s", "bs", "ks", "nxb", "tr", "v.v"),
    "it": (
        "sig", "sigg", "sig.ra", "dott", "dott.ssa", "prof", "prof.ssa", "ing", "avv", "arch", "geom",
        "ecc", "pag", "pagg", "cfr", "vol", "s.p.a", "mons",
    ),
    "fr": ("mm", "mme", "mlle", "dr", "pr", "me", "st", "ste", "etc", "cf", "p.ex", "env", "av", "j.-c"),
    "de": (
        "dr", "prof", "z.b", "bzw", "usw", "ca", "nr", "str", "vgl", "d.h", "u.a", "ggf", "evtl", "inkl",
        "bspw", "hr", "jh",
    ),
    "es": ("sr", "sra", "srta", "dr", "dra", "ud", "uds", "etc", "pág", "p.ej", "av", "avda", "núm"),
}  # fmt: skip

_DEFAULT_DROP_TAGS = [
    "script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form", "svg",
    "iframe", "button", "select",
]  # fmt: skip


@dataclass
class DocumentConfig(ConfigBase):
    """How :func:`read_documents` finds files, extracts their text and cuts it into passages."""

    suffixes: list[str] = config_field(
        [".txt", ".md", ".markdown", ".html", ".htm"],
        help="File suffixes to read (case-insensitive); other suffixes are read as plain text.",
    )
    recursive: bool = config_field(True, help="Also read files in sub-folders.")
    include_hidden: bool = config_field(False, help="Also read files and folders whose name starts with '.'.")
    encoding: str = config_field("utf-8", help="Text encoding of the files (a leading BOM is removed).")
    unit: Literal["paragraph", "sentences"] = config_field(
        "sentences",
        help="'sentences': fill each passage with whole sentences up to max_chars; 'paragraph': end a "
        "passage at the first paragraph boundary after min_chars (long paragraphs are split at sentences). "
        "In both, a heading starts a new passage once the current one has min_chars.",
    )
    min_chars: int = config_field(
        300, help="Target minimum passage length in characters (short paragraphs and tails are merged)."
    )
    max_chars: int = config_field(
        1200, help="Maximum passage length in characters (a longer sentence is cut at word boundaries)."
    )
    overlap_sentences: int = config_field(
        0, help="Sentences repeated at the start of a passage from the end of the previous one."
    )
    min_passage_chars: int = config_field(
        20,
        help="Passages shorter than this are dropped (a file left without passages is reported as skipped).",
    )
    strip_markdown: bool = config_field(
        True, help="Remove Markdown syntax (headings, emphasis, links -> their text, list markers, tables)."
    )
    keep_code_blocks: bool = config_field(
        False, help="Keep fenced Markdown code and HTML <pre> blocks as passages' text (dropped by default)."
    )
    html_drop_tags: list[str] = config_field(
        _DEFAULT_DROP_TAGS, help="HTML elements removed with their content before extracting text."
    )
    html_parser: str = config_field(
        "html.parser", help="BeautifulSoup parser: 'html.parser' (standard library) or 'lxml' if installed."
    )
    unicode_normalization: Literal["NFKC", "NFC"] = config_field(
        "NFKC",
        help="Unicode normal form: NFKC also folds compatibility characters (ligatures, full-width forms, "
        "superscripts: 'm²' -> 'm2'); NFC keeps them.",
    )
    languages: list[str] = config_field(
        ["en"],
        help="Languages whose common abbreviations never end a sentence: "
        f"{', '.join(LANGUAGE_ABBREVIATIONS)}.",
    )
    abbreviations: list[str] = config_field(
        [], help="More abbreviations that never end a sentence, e.g. ['approx', 'dept.'] (case-insensitive)."
    )

    def validate(self) -> None:
        where = type(self).__name__
        if not self.suffixes:
            raise ConfigError(f"{where}.suffixes: expected at least one suffix such as '.txt'")
        suffixes = []
        for s in self.suffixes:
            s = s.strip().lower()
            if not s.strip("."):
                raise ConfigError(f"{where}.suffixes: expected suffixes such as '.txt', got {s!r}")
            suffixes.append(s if s.startswith(".") else f".{s}")
        self.suffixes = suffixes
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            raise ConfigError(
                f"{where}.encoding: unknown encoding {self.encoding!r}; e.g. 'utf-8', 'cp1252', 'latin-1'"
            ) from None
        self.require_positive("min_chars", "max_chars")
        if self.min_chars > self.max_chars:
            raise ConfigError(
                f"{where}.min_chars ({self.min_chars}) must not exceed max_chars ({self.max_chars})"
            )
        if self.overlap_sentences < 0:
            raise ConfigError(f"{where}.overlap_sentences must be >= 0, got {self.overlap_sentences}")
        if not 0 <= self.min_passage_chars <= self.max_chars:
            raise ConfigError(
                f"{where}.min_passage_chars must be in [0, max_chars={self.max_chars}], "
                f"got {self.min_passage_chars}"
            )
        unknown = [lang for lang in self.languages if lang not in LANGUAGE_ABBREVIATIONS]
        if unknown:
            raise ConfigError(
                f"{where}.languages: unknown language(s) {', '.join(map(repr, unknown))}; known: "
                f"{', '.join(LANGUAGE_ABBREVIATIONS)} (add others through 'abbreviations')"
            )
        self.html_drop_tags = [t.strip().lower() for t in self.html_drop_tags]


# ------------------------------------------------------------------------------------------- parsing


@dataclass(frozen=True)
class Block:
    """A run of text that never shares a sentence with its neighbours.

    ``kind`` is ``"text"`` (a paragraph), ``"heading"``, ``"item"`` (list item, table row) or
    ``"code"``. Headings and code are never split into sentences.
    """

    text: str
    kind: str = "text"


@dataclass
class ParsedDocument:
    """What a parser extracts from one file: its title (None when it has none) and its blocks."""

    title: str | None
    blocks: list[Block]


DocumentParser = Callable[[str, DocumentConfig], ParsedDocument]
PARSERS: Registry[DocumentParser] = Registry("document parser")


def register_document_parser(
    suffix: str, parser: DocumentParser | None = None, *, overwrite: bool = False
) -> Any:
    """Register ``parser(text, config) -> ParsedDocument`` for files ending in ``suffix`` (e.g. ``".rst"``).

    Add the suffix to ``DocumentConfig.suffixes`` too so the files are picked up. Usable as a decorator.
    """
    suffix = suffix.lower() if suffix.startswith(".") else f".{suffix.lower()}"
    return PARSERS.register(suffix, parser, overwrite=overwrite)


def parse_document(text: str, suffix: str, config: DocumentConfig | None = None) -> ParsedDocument:
    """Title and blocks of already decoded ``text`` from a file ending in ``suffix`` (unknown: plain text).

    Examples:
        >>> from domainft.data.documents import parse_document
        >>> doc = parse_document("<title>Pumps</title><nav>Home</nav><p>Check&nbsp;the seal.</p>", ".html")
        >>> doc.title, [b.text for b in doc.blocks]
        ('Pumps', ['Check the seal.'])
    """
    config = config or DocumentConfig()
    text = unicodedata.normalize(config.unicode_normalization, text.lstrip("\ufeff"))
    suffix = suffix.lower()
    parser = PARSERS.get(suffix) if suffix in PARSERS else PARSERS.get(".txt")
    doc = parser(text, config)
    blocks = []
    for block in doc.blocks:
        if block.kind == "code":
            content = "\n".join(line.rstrip() for line in block.text.strip("\n").split("\n"))
        else:
            content = " ".join(normalize_text(block.text, form=None).split())
        if content.strip():
            blocks.append(Block(content, block.kind))
    title = " ".join(normalize_text(doc.title, form=None).split()) if doc.title else None
    return ParsedDocument(title=title or None, blocks=blocks)


def _parse_text(text: str, config: DocumentConfig) -> ParsedDocument:
    """Plain text: paragraphs are separated by blank lines; no title."""
    paragraphs = re.split(r"\n[^\S\n]*\n", normalize_text(text, form=None))
    return ParsedDocument(title=None, blocks=[Block(p) for p in paragraphs if p.strip()])


register_document_parser(".txt", _parse_text)


_BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "dialog", "div", "dl",
    "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hgroup", "hr", "html", "legend", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table",
    "tbody", "thead", "tfoot", "tr", "ul",
})  # fmt: skip
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_ITEMS = frozenset({"li", "dt", "dd", "tr"})


def _parse_html(text: str, config: DocumentConfig) -> ParsedDocument:
    """HTML: visible text by block element; title from <title>, else the first <h1>."""
    from bs4 import BeautifulSoup, FeatureNotFound, NavigableString, Tag
    from bs4.element import PreformattedString

    try:
        soup = BeautifulSoup(text, config.html_parser)
    except FeatureNotFound:
        raise ConfigError(
            f"DocumentConfig.html_parser: BeautifulSoup has no parser {config.html_parser!r}; "
            "use 'html.parser' (standard library) or install lxml"
        ) from None
    title = None
    for candidate in (soup.title, soup.find("h1")):
        if candidate is not None and candidate.get_text(" ", strip=True):
            title = candidate.get_text(" ", strip=True)
            break
    drop = {*config.html_drop_tags, "head", "title", "meta", "link"}
    if not config.keep_code_blocks:
        drop.add("pre")
    for tag in soup.find_all([*drop]):
        tag.decompose()
    for tag in soup.find_all(attrs={"hidden": True}):
        tag.decompose()

    blocks: list[Block] = []
    parts: list[str] = []
    current: Any = None

    def flush() -> None:
        if current is not None and parts:
            name = current.name if isinstance(current, Tag) else ""
            kind = "heading" if name in _HEADINGS else "item" if name in _ITEMS else "text"
            if name == "pre":
                kind = "code"
            content = "".join(parts).strip(" |")
            blocks.append(Block(content, kind))
        parts.clear()

    for node in soup.descendants:
        if isinstance(node, Tag):
            if node.name == "br":
                flush()
            elif node.name in ("td", "th") and parts:
                parts.append(" | ")
            continue
        if not isinstance(node, NavigableString) or isinstance(node, PreformattedString):
            continue  # comments, doctype, CDATA, processing instructions
        owner = next((p for p in node.parents if p.name in _BLOCK_TAGS), None)
        if owner is not current:
            flush()
            current = owner
        in_pre = owner is not None and owner.name == "pre"
        parts.append(str(node) if in_pre else re.sub(r"\s+", " ", str(node)))
    flush()
    return ParsedDocument(title=title, blocks=blocks)


register_document_parser(".html", _parse_html)
register_document_parser(".htm", _parse_html)


_FENCE = re.compile(r"^(`{3,}|~{3,})")
_ATX = re.compile(r"^(#{1,6})(?:\s+(.*?))?(?:\s+#+)?\s*$")
_SETEXT = re.compile(r"^(=+|-+)$")
_RULE = re.compile(r"^([-*_])(\s*\1){2,}$")
_LIST_ITEM = re.compile(r"^(?:[-*+]|\d{1,9}[.)])\s+(?:\[[ xX]\]\s+)?(.*)$")
_REF_DEF = re.compile(r"^\[[^\]^]+\]:\s*\S+")
_FOOTNOTE_DEF = re.compile(r"^\[\^[^\]]+\]:\s*")
_TABLE_RULE = re.compile(r"^\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?$")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_INLINE_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # image -> alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # link -> text
    (re.compile(r"\[([^\]^]+)\]\[[^\]]*\]"), r"\1"),  # reference link -> text
    (re.compile(r"\[\^[^\]]+\]"), ""),  # footnote reference
    (re.compile(r"<((?:https?|ftp|mailto):[^>\s]+)>"), r"\1"),  # autolink
    (re.compile(r"</?[A-Za-z][^>]*>"), ""),  # inline HTML tag
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),  # strong
    (re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])"), r"\1"),  # emphasis *x*
    (re.compile(r"(?<!\w)_(?=[^\s_])(.+?)(?<=[^\s_])_(?!\w)"), r"\1"),  # emphasis _x_
    (re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"), r"\1"),  # strikethrough
    (re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])"), r"\1"),  # backslash escapes
)


def strip_markdown_inline(text: str) -> str:
    """Markdown inline syntax -> plain text (code spans keep their content verbatim).

    Examples:
        >>> from domainft.data.documents import strip_markdown_inline
        >>> strip_markdown_inline("See **the** [manual](http://x.org) and `snake_case_name`.")
        'See the manual and snake_case_name.'
    """
    out: list[str] = []
    last = 0
    for match in _CODE_SPAN.finditer(text):
        out.append(_strip_inline_plain(text[last : match.start()]))
        out.append(match.group(2).strip())
        last = match.end()
    out.append(_strip_inline_plain(text[last:]))
    return "".join(out)


def _strip_inline_plain(text: str) -> str:
    for pattern, repl in _INLINE_RULES:
        text = pattern.sub(repl, text)
    return html.unescape(text)


def _front_matter_title(front: str) -> str | None:
    import yaml

    try:
        data = yaml.safe_load(front)
    except yaml.YAMLError:
        return None
    if isinstance(data, dict) and data.get("title") not in (None, ""):
        return str(data["title"])
    return None


def _parse_markdown(text: str, config: DocumentConfig) -> ParsedDocument:
    """Markdown: syntax stripped; title from front matter ``title:`` or the first ``#`` heading."""
    text = re.sub(r"<!--.*?-->", "", text.replace("\r\n", "\n").replace("\r", "\n"), flags=re.S)
    lines = text.split("\n")
    title: str | None = None
    if lines and lines[0].strip() == "---":
        end = next((k for k in range(1, len(lines)) if lines[k].strip() in ("---", "...")), None)
        if end is not None:
            title = _front_matter_title("\n".join(lines[1:end]))
            lines = lines[end + 1 :]
    if not config.strip_markdown:
        if title is None:
            title = next((m.group(2) for m in map(_ATX.match, lines) if m and len(m.group(1)) == 1), None)
        return ParsedDocument(title=title, blocks=_parse_text("\n".join(lines), config).blocks)

    inline = strip_markdown_inline
    blocks: list[Block] = []
    para: list[str] = []
    para_kind = "text"
    fence: str | None = None
    code: list[str] = []

    def flush() -> None:
        nonlocal para_kind
        if para:
            blocks.append(Block(inline(" ".join(para)), para_kind))
        para.clear()
        para_kind = "text"

    for raw in lines:
        stripped = raw.strip()
        if fence is not None:
            if stripped.startswith(fence) and not stripped[len(fence) :].strip(fence[0]).strip():
                if config.keep_code_blocks and code:
                    blocks.append(Block("\n".join(code), "code"))
                fence, code = None, []
            else:
                code.append(raw.rstrip())
            continue
        fence_match = _FENCE.match(stripped)
        if fence_match:
            flush()
            fence = fence_match.group(1)
            continue
        stripped = re.sub(r"^(>\s?)+", "", stripped).strip()  # block quotes read as their text
        if not stripped:
            flush()
            continue
        if para and para_kind == "text" and _SETEXT.match(stripped):
            heading = inline(" ".join(para))
            para.clear()
            blocks.append(Block(heading, "heading"))
            if title is None and stripped[0] == "=":
                title = heading
            continue
        if _RULE.match(stripped.replace(" ", "")) and len(set(stripped.replace(" ", ""))) == 1:
            flush()
            continue
        atx = _ATX.match(stripped)
        if atx:
            flush()
            heading = inline(atx.group(2) or "")
            if heading:
                blocks.append(Block(heading, "heading"))
                if title is None and len(atx.group(1)) == 1:
                    title = heading
            continue
        if _REF_DEF.match(stripped) or (_TABLE_RULE.match(stripped) and "-" in stripped):
            continue
        if stripped.startswith("|"):
            flush()
            cells = [inline(c.strip()) for c in stripped.strip("|").split("|")]
            blocks.append(Block(" | ".join(c for c in cells if c), "item"))
            continue
        item = _LIST_ITEM.match(stripped)
        if item:
            flush()
            para.append(item.group(1))
            para_kind = "item"
            continue
        footnote = _FOOTNOTE_DEF.match(stripped)
        if footnote:
            flush()
            stripped = stripped[footnote.end() :]
        para.append(stripped)
    flush()
    if fence is not None and config.keep_code_blocks and code:  # unclosed fence runs to the end
        blocks.append(Block("\n".join(code), "code"))
    return ParsedDocument(title=title, blocks=blocks)


register_document_parser(".md", _parse_markdown)
register_document_parser(".markdown", _parse_markdown)


# ------------------------------------------------------------------------------------------ sentences

_PERIOD_WORD = re.compile(r"(?<![\w.])(\w(?:[\w.'’-]*\w)?)\.(?!\w)")
_PARAGRAPH_END = re.compile(r"(?<![\w.])(\w(?:[\w.'’-]*\w)?)\.[\"'”’)\]]*\s*(?:\n\s*\n|\Z)")


def train_sentence_splitter(
    texts: Iterable[str],
    *,
    languages: Sequence[str] = ("en",),
    abbreviations: Sequence[str] = (),
    min_abbreviation_count: int = 2,
    max_chars: int = 1_000_000,
) -> PunktSentenceTokenizer:
    """A Punkt sentence tokenizer trained on ``texts`` themselves (nltk, no downloaded data).

    Punkt learns the corpus's abbreviations ("Dr.", "e.g.") and which words start sentences. In a
    small or repetitive corpus it also mistakes sentence-final words for abbreviations, so a learned
    abbreviation is kept only if it contains a period or ends with one at least
    ``min_abbreviation_count`` times, and never ends a paragraph (text); learned "number + word"
    collocations are dropped (so "born in 1950. He" always splits). The common abbreviations of
    ``languages`` and ``abbreviations`` are always added. Training reads at most ``max_chars``
    characters.

    Examples:
        >>> from domainft.data.documents import split_sentences, train_sentence_splitter
        >>> tok = train_sentence_splitter(["Dr. Lan met Prof. Hoa in Hue. They talked."])
        >>> split_sentences("Dr. Lan met Prof. Hoa in Hue. They talked.", tok)
        ['Dr. Lan met Prof. Hoa in Hue.', 'They talked.']
    """
    from nltk.tokenize.punkt import PunktSentenceTokenizer, PunktTrainer

    hints: set[str] = set()
    for lang in languages:
        if lang not in LANGUAGE_ABBREVIATIONS:
            raise ConfigError(
                f"unknown language {lang!r} for sentence splitting; "
                f"known: {', '.join(LANGUAGE_ABBREVIATIONS)}"
            )
        hints.update(LANGUAGE_ABBREVIATIONS[lang])
    hints.update(a.strip().lower().rstrip(".") for a in abbreviations if a.strip(" ."))

    chunks: list[str] = []
    size = 0
    for text in texts:
        if size >= max_chars:
            break
        text = text[: max_chars - size]
        chunks.append(text)
        size += len(text)
    corpus = "\n\n".join(chunks)
    trainer = PunktTrainer()
    if corpus.strip():
        trainer.train(corpus, finalize=False)
    trainer.finalize_training()
    params = trainer.get_params()
    counts = Counter(m.group(1).lower() for m in _PERIOD_WORD.finditer(corpus))
    ends_paragraph = {m.group(1).lower() for m in _PARAGRAPH_END.finditer(corpus)}
    learned = {
        a
        for a in params.abbrev_types
        if ("." in a or counts[a] >= min_abbreviation_count) and a not in ends_paragraph
    }
    params.abbrev_types = learned | hints
    # "in 1950. He" must end a sentence even when years often precede the same word in this corpus
    params.collocations = {c for c in params.collocations if c[0] != "##number##"}
    return PunktSentenceTokenizer(params)


def split_sentences(text: str, tokenizer: PunktSentenceTokenizer | None = None) -> list[str]:
    """Sentences of ``text``; a blank line always ends a sentence, whitespace inside one is collapsed.

    Without ``tokenizer`` a splitter is trained on ``text`` itself (English abbreviation hints).

    Examples:
        >>> from domainft.data.documents import split_sentences
        >>> split_sentences("Dr. Lan was born in Hanoi, e.g. in the old quarter. She became a doctor.")
        ['Dr. Lan was born in Hanoi, e.g. in the old quarter.', 'She became a doctor.']
    """
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    paragraphs = [p for p in paragraphs if p]
    if not paragraphs:
        return []
    if tokenizer is None:
        tokenizer = train_sentence_splitter(paragraphs)
    return [s.strip() for p in paragraphs for s in tokenizer.tokenize(p) if s.strip()]


# ------------------------------------------------------------------------------------------- passages


@dataclass(frozen=True)
class _Unit:
    text: str
    block: int
    kind: str


def _cut_long(text: str, limit: int) -> list[str]:
    """Cut ``text`` into near-equal pieces of at most ``limit`` characters, at spaces where possible."""
    pieces: list[str] = []
    while len(text) > limit:
        target = math.ceil(len(text) / math.ceil(len(text) / limit))
        before = text.rfind(" ", 0, target + 1)
        after = text.find(" ", target, limit + 1)
        options = [c for c in (before, after) if c > 0]
        cut = min(options, key=lambda c: abs(c - target)) if options else target
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        pieces.append(text)
    return pieces


def _units(blocks: Sequence[Block], tokenizer: PunktSentenceTokenizer, max_chars: int) -> list[_Unit]:
    units: list[_Unit] = []
    for b, block in enumerate(blocks):
        if block.kind in ("heading", "code"):
            sentences = [block.text]
        else:
            sentences = [s.strip() for s in tokenizer.tokenize(block.text) if s.strip()]
        for sentence in sentences:
            units.extend(_Unit(piece, b, block.kind) for piece in _cut_long(sentence, max_chars))
    return units


def _joined_length(units: Sequence[_Unit]) -> int:
    if not units:
        return 0
    seps = sum(1 if a.block == b.block else 2 for a, b in itertools.pairwise(units))  # " " or "\n\n"
    return sum(len(u.text) for u in units) + seps


def _join(units: Sequence[_Unit]) -> str:
    out = [units[0].text]
    for prev, unit in itertools.pairwise(units):
        out.append(" " if prev.block == unit.block else "\n\n")
        out.append(unit.text)
    return "".join(out)


def _pack(units: list[_Unit], config: DocumentConfig) -> list[tuple[int, int]]:
    """Greedy packing of whole units into ``[start, stop)`` ranges (see ``DocumentConfig.unit``)."""
    low, high, overlap = config.min_chars, config.max_chars, config.overlap_sentences
    ranges: list[tuple[int, int]] = []
    n = len(units)
    start = 0
    while start < n:
        stop = start + 1
        length = len(units[start].text)
        while stop < n:
            nxt = units[stop]
            new_block = nxt.block != units[stop - 1].block
            if length >= low and (nxt.kind == "heading" or (config.unit == "paragraph" and new_block)):
                break
            added = len(nxt.text) + (2 if new_block else 1)
            if length + added > high:
                break
            length += added
            stop += 1
        while stop - start > 1 and units[stop - 1].kind == "heading" and stop < n:
            stop -= 1  # a heading belongs to the text after it
        ranges.append((start, stop))
        if stop >= n:
            break
        start = stop - _overlap(units, start, stop, overlap, high)
    if len(ranges) > 1:
        ranges[-2:] = _rebalance(units, ranges[-2], ranges[-1], config)
    return ranges


def _overlap(units: Sequence[_Unit], start: int, stop: int, overlap: int, high: int) -> int:
    """How many of the last units of ``[start, stop)`` to repeat so the next range still fits."""
    k = min(overlap, stop - start - 1)
    while k > 0 and _joined_length(units[stop - k : stop + 1]) > high:
        k -= 1
    return k


def _rebalance(
    units: Sequence[_Unit], first: tuple[int, int], last: tuple[int, int], config: DocumentConfig
) -> list[tuple[int, int]]:
    """Merge a too-short last passage into the previous one, or move the boundary to even them out."""
    if _joined_length(units[last[0] : last[1]]) >= max(config.min_chars, config.min_passage_chars):
        return [first, last]
    start, stop = first[0], last[1]
    if _joined_length(units[start:stop]) <= config.max_chars:
        return [(start, stop)]
    best, best_score = (
        [first, last],
        min(_joined_length(units[first[0] : first[1]]), _joined_length(units[last[0] : last[1]])),
    )
    for cut in range(start + 1, stop):
        head = units[start:cut]
        k = _overlap(units, start, cut, config.overlap_sentences, config.max_chars)
        tail = units[cut - k : stop]
        if _joined_length(head) > config.max_chars or _joined_length(tail) > config.max_chars:
            continue
        score = min(_joined_length(head), _joined_length(tail))
        if score > best_score:
            best, best_score = [(start, cut), (cut - k, stop)], score
    return best


# ---------------------------------------------------------------------------------------------- files


class DocumentPassages(list):  # type: ignore[type-arg]
    """The rows :func:`read_documents` returns (a plain list of dicts) plus what it read and skipped.

    ``files`` lists every file read (relative POSIX paths); ``skipped`` holds ``{"source", "reason"}``
    for each file that gave no passage; ``splitter`` is the sentence tokenizer that was used.
    """

    def __init__(
        self,
        rows: Iterable[dict[str, Any]] = (),
        *,
        files: Sequence[str] = (),
        skipped: Sequence[dict[str, Any]] = (),
        splitter: Any = None,
    ) -> None:
        super().__init__(rows)
        self.files = list(files)
        self.skipped = list(skipped)
        self.splitter = splitter

    @property
    def passages(self) -> list[dict[str, Any]]:
        """The passage rows as a plain list."""
        return list(self)

    def summary(self) -> str:
        """``"documents: 3 files, 12 passages, 1 skipped (empty.txt: no text)"``."""
        text = f"documents: {len(self.files)} files, {len(self)} passages"
        if self.skipped:
            reasons = "; ".join(f"{s['source']}: {s['reason']}" for s in self.skipped[:5])
            more = f"; +{len(self.skipped) - 5} more" if len(self.skipped) > 5 else ""
            text += f", {len(self.skipped)} skipped ({reasons}{more})"
        return text


def _hidden(name: str) -> bool:
    return name.startswith(".")


def _collect(
    source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]], config: DocumentConfig
) -> list[tuple[Path, str]]:
    """``(path, relative POSIX source id)`` of every file to read, sorted by source id."""
    looked_for = ", ".join(config.suffixes)
    if isinstance(source, (str, os.PathLike)):
        root = Path(source)
        if root.is_file():
            return [(root, root.name)]
        if not root.is_dir():
            raise DataFileNotFoundError(f"document folder or file not found: {root}")
        found: list[tuple[Path, str]] = []
        others = 0
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if config.include_hidden or not _hidden(d))
            if not config.recursive:
                dirnames[:] = []
            for name in filenames:
                if not config.include_hidden and _hidden(name):
                    continue
                path = Path(dirpath, name)
                if path.suffix.lower() in config.suffixes:
                    found.append((path, path.relative_to(root).as_posix()))
                else:
                    others += 1
        if not found:
            where = "or its sub-folders " if config.recursive else ""
            other = (
                f" ({others} file(s) with other suffixes were ignored)"
                if others
                else " (the folder is empty)"
            )
            raise DataError(
                f"{root}: no documents found in the folder {where}looking for {looked_for}{other}; "
                "add suffixes with DocumentConfig(suffixes=[...])"
            )
        return sorted(found, key=lambda item: item[1])
    paths = [Path(p) for p in source]
    if not paths:
        raise DataError(f"no document files given (looking for {looked_for})")
    for p in paths:
        if not p.is_file():
            raise DataFileNotFoundError(f"document file not found: {p}")
    base = Path(os.path.commonpath([str(p.resolve().parent) for p in paths]))
    return sorted(((p, p.resolve().relative_to(base).as_posix()) for p in paths), key=lambda item: item[1])


def read_documents(
    folder_or_files: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    config: DocumentConfig | None = None,
    *,
    splitter: PunktSentenceTokenizer | None = None,
    progress: bool = False,
) -> DocumentPassages:
    """Read a folder (or a file, or a list of files) into passage rows.

    Each row is ``{"id": "<source>#p0003", "source": "<source>", "title": ..., "passage_index": 3,
    "text": ...}`` where ``source`` is the file's path relative to the folder (POSIX separators; for a
    list of files, relative to their common parent). Files are read in sorted order, so ids are stable.
    ``title`` comes from the HTML ``<title>``/first ``<h1>``, the Markdown front matter or first ``#``
    heading, else the file name without its suffix. The sentence splitter is trained on all the files'
    text unless ``splitter`` is given. A file without text is not an error: it is listed in
    ``result.skipped``; no passage at all, an empty folder or undecodable bytes raise ``DataError``.
    """
    from tqdm.auto import tqdm

    config = config or DocumentConfig()
    files = _collect(folder_or_files, config)
    parsed: list[tuple[str, ParsedDocument]] = []
    skipped: list[dict[str, Any]] = []
    for path, source in tqdm(files, desc="reading documents", unit="file", disable=not progress):
        text = read_text(path, config.encoding, encoding_fix="DocumentConfig(encoding='{encoding}')")
        doc = parse_document(text, path.suffix, config)
        if not doc.blocks:
            skipped.append({"source": source, "reason": "no text"})
            continue
        parsed.append((source, doc))

    if splitter is None:
        splitter = train_sentence_splitter(
            (b.text for _, doc in parsed for b in doc.blocks if b.kind in ("text", "item")),
            languages=config.languages,
            abbreviations=config.abbreviations,
        )
    rows: list[dict[str, Any]] = []
    for source, doc in parsed:
        units = _units(doc.blocks, splitter, config.max_chars)
        texts = [_join(units[a:b]) for a, b in _pack(units, config)]
        texts = [t for t in texts if len(t) >= config.min_passage_chars]
        if not texts:
            skipped.append(
                {"source": source, "reason": f"no passage of at least {config.min_passage_chars} characters"}
            )
            continue
        title = doc.title or Path(source).stem
        rows.extend(
            {"id": f"{source}#p{k:04d}", "source": source, "title": title, "passage_index": k, "text": t}
            for k, t in enumerate(texts)
        )
    skipped.sort(key=lambda s: s["source"])
    if not rows:
        reasons = "; ".join(f"{s['source']}: {s['reason']}" for s in skipped[:10])
        raise DataError(f"no text found in {len(files)} document file(s) ({reasons})")
    return DocumentPassages(rows, files=[s for _, s in files], skipped=skipped, splitter=splitter)
