from __future__ import annotations

import doctest
import itertools
import unicodedata
from pathlib import Path

import pytest

from domainft.data import documents
from domainft.data.documents import (
    Block,
    DocumentConfig,
    ParsedDocument,
    parse_document,
    read_documents,
    register_document_parser,
    split_sentences,
    train_sentence_splitter,
)
from domainft.errors import ConfigError, DataError, DataFileNotFoundError

HTML_PAGE = """<!DOCTYPE html>
<html><head><title>Nguyễn Thị Lan &ndash; Biography</title>
<style>p { color: red }</style>
<script>var secret = "<p>script text</p>";</script></head>
<body>
<header><a href="/">Site name</a></header>
<nav><ul><li>Home</li><li>About us</li></ul></nav>
<main>
<h1>Nguyễn Thị Lan</h1>
<p>Dr. Lan was born in Hanoi in 1950. She studied medicine &amp; surgery in Hu&eacute;.</p>
<!-- an HTML comment -->
<h2>Career</h2>
<ul><li>Surgeon at <b>Bạch Mai</b> hospital</li><li>Professor from 1990</li></ul>
<p>Visited&nbsp;Paris &lt;twice&gt;.</p>
</main>
<aside>Related pages</aside>
<footer>Copyright 2024</footer>
</body></html>
"""

MARKDOWN_PAGE = """---
title: Pump plugin
---

Intro with **bold**, *italic* and a [link](https://example.org) and `snake_case_name`.

## Install

- run the **installer**
- restart the service

```bash
pip install pump-plugin
```

| Option | Default |
|--------|---------|
| speed  | 10      |
"""

DR_TEXT = """Dr. Tran was born in Hue. Dr. Tran studied law, e.g. civil law. Dr. Tran met Dr. Pham in 1975.

They worked together for years. Dr. Pham retired in 2001, i.e. after the reform.
"""


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    (tmp_path / "bios" / "vn").mkdir(parents=True)
    (tmp_path / "plugins").mkdir()
    (tmp_path / "bios" / "vn" / "lan.html").write_text(HTML_PAGE, encoding="utf-8")
    (tmp_path / "plugins" / "pump.md").write_text(MARKDOWN_PAGE, encoding="utf-8")
    (tmp_path / "bios" / "tran.txt").write_text(DR_TEXT, encoding="utf-8")
    (tmp_path / "bios" / "notes.pdf").write_bytes(b"%PDF-1.4 ignored")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.txt").write_text("Hidden text is not read.", encoding="utf-8")
    return tmp_path


def _small() -> DocumentConfig:
    return DocumentConfig(min_chars=1, max_chars=400, unit="paragraph", min_passage_chars=1)


def test_reads_nested_folders_with_posix_sources_and_stable_ids(corpus):
    rows = read_documents(corpus, _small())
    sources = sorted({r["source"] for r in rows})
    assert sources == ["bios/tran.txt", "bios/vn/lan.html", "plugins/pump.md"]
    assert rows.files == sources  # the .pdf and the hidden folder are not read
    for source in sources:
        mine = [r for r in rows if r["source"] == source]
        assert [r["passage_index"] for r in mine] == list(range(len(mine)))
        assert [r["id"] for r in mine] == [f"{source}#p{k:04d}" for k in range(len(mine))]
    assert set(rows[0]) == {"id", "source", "title", "passage_index", "text"}
    again = read_documents(corpus, _small())
    assert list(again) == list(rows)
    assert "3 files" in rows.summary()


def test_html_drops_scripts_and_navigation_and_decodes_entities(corpus):
    rows = [r for r in read_documents(corpus, _small()) if r["source"].endswith(".html")]
    texts = [r["text"] for r in rows]
    assert rows[0]["title"] == "Nguyễn Thị Lan – Biography"
    everything = "\n".join(texts)
    for dropped in (
        "script text",
        "secret",
        "color",
        "Site name",
        "Home",
        "About us",
        "Related",
        "Copyright",
    ):
        assert dropped not in everything
    assert "an HTML comment" not in everything
    assert "She studied medicine & surgery in Hué." in everything
    assert "Visited Paris <twice>." in everything  # &nbsp; becomes a plain space after NFKC
    # headings and list items are blocks of their own (min_chars=1, paragraph unit: one block each)
    assert texts == [
        "Nguyễn Thị Lan",
        "Dr. Lan was born in Hanoi in 1950. She studied medicine & surgery in Hué.",
        "Career",
        "Surgeon at Bạch Mai hospital",
        "Professor from 1990",
        "Visited Paris <twice>.",
    ]


def test_html_title_falls_back_to_first_h1_then_file_name(tmp_path):
    (tmp_path / "a.html").write_text("<body><h1>Main <i>Title</i></h1><p>Body text here.</p></body>", "utf-8")
    (tmp_path / "b.htm").write_text("<body><p>No title at all in this page.</p></body>", "utf-8")
    rows = read_documents(tmp_path, _small())
    assert {r["source"]: r["title"] for r in rows} == {"a.html": "Main Title", "b.htm": "b"}


def test_markdown_syntax_is_stripped_and_code_dropped_by_default(corpus):
    rows = [r for r in read_documents(corpus, _small()) if r["source"].endswith(".md")]
    assert {r["title"] for r in rows} == {"Pump plugin"}  # from the front matter
    assert [r["text"] for r in rows] == [
        "Intro with bold, italic and a link and snake_case_name.",
        "Install",
        "run the installer",
        "restart the service",
        "Option | Default",
        "speed | 10",
    ]
    kept = read_documents(corpus, DocumentConfig(**{**_small().to_dict(), "keep_code_blocks": True}))
    assert "pip install pump-plugin" in [r["text"] for r in kept if r["source"].endswith(".md")]


def test_markdown_title_from_first_hash_heading():
    doc = parse_document(
        "Some intro.\n\n## Not this\n\n# The Title #\n\nText with __strong__ words.\n", ".md"
    )
    assert doc.title == "The Title"
    assert [b.kind for b in doc.blocks] == ["text", "heading", "heading", "text"]
    assert doc.blocks[-1].text == "Text with strong words."
    assert parse_document("Plain\n=====\n\nBody.", ".markdown").title == "Plain"


def test_dr_abbreviations_do_not_split_sentences(corpus):
    rows = read_documents(corpus, DocumentConfig(min_chars=1, max_chars=60, min_passage_chars=1))
    texts = [r["text"] for r in rows if r["source"] == "bios/tran.txt"]
    assert texts == [
        "Dr. Tran was born in Hue.",
        "Dr. Tran studied law, e.g. civil law.",
        "Dr. Tran met Dr. Pham in 1975.",
        "They worked together for years.",
        "Dr. Pham retired in 2001, i.e. after the reform.",
    ]


def test_split_sentences_trained_on_the_corpus_itself():
    text = "Dr. Vu treats patients. Dr. Vu teaches, e.g. anatomy. Prof. Ha visits.\n\nA heading\n\nThe end."
    assert split_sentences(text) == [
        "Dr. Vu treats patients.",
        "Dr. Vu teaches, e.g. anatomy.",
        "Prof. Ha visits.",
        "A heading",
        "The end.",
    ]
    tok = train_sentence_splitter([text], languages=[])
    assert "Prof. Ha visits." not in split_sentences(
        text, tok
    )  # no hint: one occurrence cannot teach "Prof."
    tok = train_sentence_splitter([text], languages=[], abbreviations=["Prof."])
    assert "Prof. Ha visits." in split_sentences(text, tok)
    assert split_sentences("   \n\n ") == []


def test_rare_sentence_final_words_are_not_learned_as_abbreviations():
    text = "Mr. Smith wrote about it. The visit lasted two days. Hồ Chí Minh visited the city in 1946."
    tok = train_sentence_splitter([text])
    assert split_sentences("They liked it. Then they left.", tok) == ["They liked it.", "Then they left."]


def test_vietnamese_diacritics_survive_nfkc(tmp_path):
    composed = "Hồ Chí Minh sinh năm 1890 ở Nghệ An. Ông đi nhiều nơi."
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    (tmp_path / "nfc.txt").write_text(composed, encoding="utf-8")
    (tmp_path / "nfd.txt").write_text(decomposed, encoding="utf-8")
    (tmp_path / "page.html").write_text(f"<p>{decomposed}</p>", encoding="utf-8")
    rows = read_documents(tmp_path, DocumentConfig(min_chars=1, max_chars=200))
    assert [r["text"] for r in rows] == [composed] * 3
    assert "Hồ Chí Minh" in rows[0]["text"]
    assert all(unicodedata.is_normalized("NFC", r["text"]) for r in rows)


def test_nfkc_folds_compatibility_characters_unless_nfc_is_asked(tmp_path):
    (tmp_path / "a.txt").write_text("Area: 5 m² of ﬁne sand, bay Ｂ.", encoding="utf-8")
    nfkc = read_documents(tmp_path, DocumentConfig(min_passage_chars=1))[0]["text"]
    nfc = read_documents(tmp_path, DocumentConfig(min_passage_chars=1, unicode_normalization="NFC"))[0][
        "text"
    ]
    assert nfkc == "Area: 5 m2 of fine sand, bay B."
    assert nfc == "Area: 5 m² of ﬁne sand, bay Ｂ."


def _long_document(n_paragraphs: int = 12) -> str:
    paragraphs = []
    for p in range(n_paragraphs):
        sentences = [
            f"Paragraph {p} sentence {s} describes the maintenance of pump number {p * 10 + s} in detail."
            for s in range(1 + (p * 7) % 6)
        ]
        paragraphs.append(" ".join(sentences))
    return "\n\n".join(paragraphs)


@pytest.mark.parametrize("unit", ["sentences", "paragraph"])
def test_passage_sizes_stay_within_bounds(tmp_path, unit):
    (tmp_path / "long.txt").write_text(_long_document(), encoding="utf-8")
    (tmp_path / "one_long_sentence.txt").write_text("word " * 400, encoding="utf-8")
    cfg = DocumentConfig(unit=unit, min_chars=200, max_chars=450)
    rows = read_documents(tmp_path, cfg)
    by_source: dict[str, list[str]] = {}
    for r in rows:
        by_source.setdefault(r["source"], []).append(r["text"])
    for texts in by_source.values():
        assert all(len(t) <= 450 for t in texts)
        assert all(len(t) >= 200 for t in texts)
    # whole sentences only: every passage starts a sentence and ends with one (the long one is cut at words)
    for t in by_source["long.txt"]:
        assert t.startswith("Paragraph") and t.endswith(".")
    assert "".join(by_source["one_long_sentence.txt"]).replace(" ", "") == "word" * 400
    # nothing is lost: every sentence of the source is in some passage
    source_sentences = split_sentences(_long_document(), rows.splitter)
    joined = "\n".join(by_source["long.txt"])
    assert all(s in joined for s in source_sentences)


def test_paragraph_unit_ends_passages_at_paragraph_boundaries(tmp_path):
    (tmp_path / "long.txt").write_text(_long_document(), encoding="utf-8")
    rows = read_documents(tmp_path, DocumentConfig(unit="paragraph", min_chars=50, max_chars=2000))
    paragraphs = _long_document().split("\n\n")
    # min_chars=50 is below every paragraph's length, so each passage is exactly one paragraph
    assert [r["text"] for r in rows] == paragraphs


def test_overlap_repeats_the_last_sentences(tmp_path):
    text = " ".join(f"Sentence number {k} is about valve {k}." for k in range(30))
    (tmp_path / "a.txt").write_text(text, encoding="utf-8")
    plain = read_documents(tmp_path, DocumentConfig(min_chars=100, max_chars=200))
    overlapped = read_documents(tmp_path, DocumentConfig(min_chars=100, max_chars=200, overlap_sentences=2))
    assert len(overlapped) > len(plain)
    for prev, nxt in itertools.pairwise(overlapped):
        prev_sentences = split_sentences(prev["text"], overlapped.splitter)
        next_sentences = split_sentences(nxt["text"], overlapped.splitter)
        assert next_sentences[:2] == prev_sentences[-2:]
        assert len(nxt["text"]) <= 200
    # without overlap every sentence appears exactly once
    assert " ".join(r["text"] for r in plain) == text


def test_short_files_and_empty_files_are_skipped_not_ignored(tmp_path):
    (tmp_path / "good.txt").write_text("A real paragraph about the compressor and its oil filter.", "utf-8")
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    (tmp_path / "blank.md").write_text("\n\n   \n", encoding="utf-8")
    (tmp_path / "nav_only.html").write_text("<nav>Home</nav><script>x()</script>", encoding="utf-8")
    (tmp_path / "tiny.txt").write_text("Ok.", encoding="utf-8")
    rows = read_documents(tmp_path)
    assert [r["source"] for r in rows] == ["good.txt"]
    assert rows.skipped == [
        {"source": "blank.md", "reason": "no text"},
        {"source": "empty.txt", "reason": "no text"},
        {"source": "nav_only.html", "reason": "no text"},
        {"source": "tiny.txt", "reason": "no passage of at least 20 characters"},
    ]
    assert "4 skipped" in rows.summary()
    (tmp_path / "good.txt").unlink()
    with pytest.raises(DataError, match="no text found in 4 document file.*empty.txt: no text"):
        read_documents(tmp_path)


def test_empty_folder_and_wrong_suffixes_name_the_suffixes(tmp_path):
    with pytest.raises(DataError, match=r"no documents found.*\.txt, \.md, \.markdown, \.html, \.htm.*empty"):
        read_documents(tmp_path)
    (tmp_path / "report.pdf").write_bytes(b"%PDF")
    with pytest.raises(DataError, match=r"1 file\(s\) with other suffixes were ignored.*suffixes=") as info:
        read_documents(tmp_path)
    assert str(tmp_path) in str(info.value)
    with pytest.raises(DataFileNotFoundError, match="not found"):
        read_documents(tmp_path / "missing")


def test_non_utf8_bytes_name_file_line_and_column(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes(b"First line is fine.\nSecond line: caf\xe9 au lait.\n")
    with pytest.raises(DataError) as info:
        read_documents(tmp_path)
    message = str(info.value)
    assert f"{path}:2:17:" in message  # "Second line: caf" is 16 characters
    assert "0xe9" in message and "DocumentConfig(encoding=" in message
    rows = read_documents(tmp_path, DocumentConfig(encoding="latin-1", min_passage_chars=1))
    assert "Second line: café au lait." in rows[0]["text"]


def test_bom_is_removed_and_single_files_or_lists_can_be_read(corpus):
    bom = corpus / "bom.txt"
    bom.write_bytes("\ufeffText after a byte order mark, long enough.".encode())
    rows = read_documents(bom)
    assert rows[0]["source"] == "bom.txt" and rows[0]["text"].startswith("Text after")
    rows = read_documents([corpus / "bios" / "tran.txt", corpus / "bios" / "vn" / "lan.html"], _small())
    assert sorted({r["source"] for r in rows}) == ["tran.txt", "vn/lan.html"]
    with pytest.raises(DataFileNotFoundError):
        read_documents([corpus / "nope.txt"])


def test_non_recursive_and_custom_suffixes(corpus):
    rows = read_documents(corpus / "bios", DocumentConfig(recursive=False, min_passage_chars=1))
    assert {r["source"] for r in rows} == {"tran.txt"}
    rows = read_documents(corpus, DocumentConfig(suffixes=["MD"], min_passage_chars=1))
    assert {r["source"] for r in rows} == {"plugins/pump.md"}
    hidden = read_documents(
        corpus, DocumentConfig(suffixes=[".txt"], include_hidden=True, min_passage_chars=1)
    )
    assert ".hidden/x.txt" in hidden.files


def test_registered_parser_handles_a_new_suffix(tmp_path):
    def parse_rst(text: str, config: DocumentConfig) -> ParsedDocument:
        lines = text.splitlines()
        return ParsedDocument(title=lines[0], blocks=[Block(line) for line in lines[2:] if line.strip()])

    register_document_parser(".rst", parse_rst, overwrite=True)
    (tmp_path / "guide.rst").write_text("Guide\n=====\nFirst line of text.\nSecond line of text.\n", "utf-8")
    rows = read_documents(
        tmp_path, DocumentConfig(suffixes=[".rst"], min_chars=1, unit="paragraph", min_passage_chars=1)
    )
    assert [(r["title"], r["text"]) for r in rows] == [
        ("Guide", "First line of text."),
        ("Guide", "Second line of text."),
    ]


def test_config_round_trip_and_validation(tmp_path):
    cfg = DocumentConfig(
        suffixes=["TXT", ".Md"], unit="paragraph", overlap_sentences=1, languages=["en", "vi"]
    )
    assert cfg.suffixes == [".txt", ".md"]
    assert DocumentConfig.from_dict(cfg.to_dict()) == cfg
    cfg.to_yaml(tmp_path / "documents.yaml")
    assert DocumentConfig.from_yaml(tmp_path / "documents.yaml") == cfg
    with pytest.raises(ConfigError, match="min_chars .* must not exceed max_chars"):
        DocumentConfig(min_chars=500, max_chars=100)
    with pytest.raises(ConfigError, match="unknown language.*'xx'.*known: en, vi"):
        DocumentConfig(languages=["xx"])
    with pytest.raises(ConfigError, match="unknown encoding 'utf-99'"):
        DocumentConfig(encoding="utf-99")
    with pytest.raises(ConfigError, match="unit: expected one of 'paragraph' | 'sentences'"):
        DocumentConfig(unit="page")
    with pytest.raises(ConfigError, match="overlap_sentences must be >= 0"):
        DocumentConfig(overlap_sentences=-1)
    with pytest.raises(ConfigError, match="unknown field 'max_char'. Did you mean 'max_chars'"):
        DocumentConfig.from_dict({"max_char": 10})
    with pytest.raises(ConfigError, match="html_parser.*'nope'"):
        parse_document("<p>x</p>", ".html", DocumentConfig(html_parser="nope"))


def test_docstring_examples_run():
    result = doctest.testmod(documents)
    assert result.attempted > 0 and result.failed == 0
