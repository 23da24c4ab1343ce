"""Turn plain text, Markdown or HTML into blocks: headings and paragraphs, in order."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Literal

from bot.ingest.errors import Rejected

BlockKind = Literal["heading", "paragraph"]
Format = Literal["text", "markdown", "html"]


@dataclass(frozen=True)
class Block:
    """A heading or a paragraph of clean text (lines joined by newlines)."""

    kind: BlockKind
    text: str


MAX_SECTIONS = 5_000  # a round-up has tens; 2 MB of 400-byte sections is 5,000


def too_many_headings() -> Rejected:
    return Rejected(f"too many headings: over {MAX_SECTIONS:,} sections; a bulletin is a news "
                    "round-up, not an archive (split the file)")  # fmt: skip


class Blocks(list[Block]):
    """A document's blocks, read no further than a bulletin may have headings (500,000
    heading lines were read, then stored as sections, in 8 s)."""

    headings = 0

    def append(self, block: Block) -> None:
        if block.kind == "heading":
            self.headings += 1
            if self.headings > MAX_SECTIONS:
                raise too_many_headings()
        super().append(block)


_TERMINAL = tuple('.!?…:;,»”")')


def looks_like_heading(text: str) -> bool:
    """A short single line that does not end like a sentence."""
    return (
        "\n" not in text
        and 2 <= len(text) <= 160
        and not text.endswith(_TERMINAL)
        and len(text.split()) >= 2
        and not text.lstrip().startswith(("-", "•", "*"))
    )


def guess_format(name: str, text: str) -> Format:
    """Format from the file name, else from the content."""
    lower = name.lower()
    if lower.endswith((".html", ".htm", ".xhtml")):
        return "html"
    if lower.endswith((".md", ".markdown")):
        return "markdown"
    if lower.endswith(".txt"):
        return "text"
    if re.search(r"<(?:p|div|br|h[1-6]|html|body|article)\b", text[:4000], re.I):
        return "html"
    return "text"


def to_blocks(text: str, fmt: Format) -> list[Block]:
    """Split normalised text into heading and paragraph blocks."""
    if fmt == "html":
        return html_blocks(text)
    if fmt == "markdown":
        return markdown_blocks(text)
    return text_blocks(text)


def text_blocks(text: str) -> list[Block]:
    """Plain text: blank lines separate paragraphs; short unpunctuated lines are headings."""
    blocks = Blocks()
    for chunk in re.split(r"\n\s*\n", text):
        chunk = chunk.strip()
        if chunk:
            kind: BlockKind = "heading" if looks_like_heading(chunk) else "paragraph"
            blocks.append(Block(kind, chunk))
    return blocks


def _atx_heading(line: str) -> str | None:
    """The text of an ATX heading line (`## Title ##`), or None: read by a scan (a lazy
    regex before a trailing `#*` took 31 s on a line of 40,000 `#`)."""
    body = line.lstrip()
    if len(line) - len(body) > 3:
        return None
    hashes = len(body) - len(body.lstrip("#"))
    if not 1 <= hashes <= 6 or not body[hashes : hashes + 1].isspace():
        return None
    return body[hashes:].strip().rstrip("#").rstrip()


def _rule_line(line: str) -> bool:
    """A thematic break: three or more `-`, `*` or `_`, one kind, spaces allowed between
    (a scan; a back-referenced repeated group kept a frame per character: 420 MB)."""
    compact = "".join(line.split())
    return len(compact) >= 3 and compact[0] in "-*_" and compact.count(compact[0]) == len(compact)


_MD_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
# Linear on any input: no part can run past the next delimiter of its own kind, so a run
# of unclosed "[", "(", "*" or "<" is scanned once, not once per opening.
_MD_INLINE = [
    (re.compile(r"!\[([^\[\]]*)\]\([^()]*\)"), r"\1"),
    (re.compile(r"\[([^\[\]]+)\]\([^()]*\)"), r"\1"),
    (re.compile(r"\*\*([^*]+)\*\*"), r"\1"),
    (re.compile(r"__([^_]+)__"), r"\1"),
    (re.compile(r"(?<![\w*])\*(?![\s*])([^*]+)(?<!\s)\*(?![\w*])"), r"\1"),
    (re.compile(r"`([^`]+)`"), r"\1"),
    (re.compile(r"<[^<>]+>"), ""),
]


def _md_inline(line: str) -> str:
    for pattern, repl in _MD_INLINE:
        line = pattern.sub(repl, line)
    line = re.sub(r"^\s{0,3}>\s?", "", line)
    line = re.sub(r"^\s*[*+]\s+", "- ", line)
    return line.strip()


def markdown_blocks(text: str) -> list[Block]:
    """Markdown: ATX/setext headings, paragraphs, lists; inline markup removed."""
    blocks = Blocks()
    lines: list[str] = []

    def flush() -> None:
        body = "\n".join(_md_inline(x) for x in lines).strip()
        lines.clear()
        if body:
            blocks.append(Block("paragraph", body))

    for line in text.split("\n"):
        heading = _atx_heading(line)
        if heading is not None:
            flush()
            if title := _md_inline(heading):
                blocks.append(Block("heading", title))
        elif _MD_SETEXT.match(line) and len(lines) == 1:
            title = _md_inline(lines[0])
            lines.clear()
            if title:
                blocks.append(Block("heading", title))
        elif not line.strip() or _rule_line(line):
            flush()
        else:
            lines.append(line)
    flush()
    return blocks


_SKIP = {"script", "style", "noscript", "template", "svg", "iframe", "object", "head", "form"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_BLOCK = {
    "p", "div", "section", "article", "main", "header", "footer", "aside", "blockquote",
    "pre", "ul", "ol", "li", "table", "tr", "dl", "dt", "dd", "figure", "figcaption",
    "nav", "address", "hr", "body", "html",
}  # fmt: skip


_TAG_NAME = re.compile(r"(/?)([A-Za-z][A-Za-z0-9:-]{0,40})")
_END_TAGS = {tag: re.compile(rf"</{tag}\b", re.IGNORECASE) for tag in _SKIP}


def _scan_html(text: str, parser: _BlockParser) -> None:
    """Feed `parser` the tags and text of `text` in one pass (linear on any input, unlike
    the standard library's parser on unclosed tags and comments). Comments, doctypes and
    processing instructions are dropped, an unclosed tag or comment ends the document,
    and the content of a skipped element (script, style…) is never looked at."""
    n = len(text)
    i = 0
    while i < n:
        lt = text.find("<", i)
        if lt < 0:
            parser.handle_data(html.unescape(text[i:]))
            return
        if lt > i:
            parser.handle_data(html.unescape(text[i:lt]))
        if text.startswith("<!--", lt):
            end = text.find("-->", lt + 4)
            if end < 0:
                return
            i = end + 3
            continue
        name = _TAG_NAME.match(text, lt + 1)
        if name is None and not text.startswith(("<!", "<?"), lt):
            parser.handle_data("<")  # "a < b": a character, not a tag
            i = lt + 1
            continue
        gt = _tag_end(text, lt + 1)
        if gt < 0:
            return
        i = gt + 1
        if name is None:
            continue  # <!DOCTYPE …>, <?xml …?>
        tag = name.group(2).lower()
        if name.group(1):
            parser.handle_endtag(tag)
        elif text[gt - 1] == "/":
            parser.handle_startendtag(tag, [])
        else:
            parser.handle_starttag(tag, [])
            if tag in _SKIP and tag != "head":
                close = _END_TAGS[tag].search(text, i)
                if close is None:
                    return
                i = close.start()  # the end tag is read next, as a tag


def _tag_end(text: str, start: int) -> int:
    """The `>` that closes a tag begun before `start`, outside quoted values (or -1)."""
    quote = ""
    for k in range(start, len(text)):
        ch = text[k]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == ">":
            return k
    return -1


class _BlockParser:
    def __init__(self) -> None:
        self.blocks = Blocks()
        self.title = ""
        self._buffer: list[str] = []
        self._skip: list[str] = []
        self._in_title = False
        self._heading = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            if tag != "head":
                self._skip.append(tag)
            return
        if tag == "title":
            self._in_title = True
        elif tag == "br":
            self._buffer.append("\n")
        elif tag in _HEADINGS:
            self._flush()
            self._heading = True
        elif tag in _BLOCK:
            self._flush()
            if tag == "li":
                self._buffer.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if self._skip and tag == self._skip[-1]:
            self._skip.pop()
        elif tag == "title":
            self._in_title = False
        elif tag in _HEADINGS:
            self._flush()
            self._heading = False
        elif tag in _BLOCK:
            self._flush()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self._buffer.append("\n")
        elif tag in _BLOCK:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_title:
            self.title += data
            return
        self._buffer.append(data)

    def _flush(self) -> None:
        raw = "".join(self._buffer)
        self._buffer.clear()
        lines = [re.sub(r"\s+", " ", line).strip() for line in raw.split("\n")]
        body = "\n".join(line for line in lines if line and line != "-")
        if body:
            self.blocks.append(Block("heading" if self._heading else "paragraph", body))

    def close(self) -> None:
        self._flush()


def html_blocks(text: str) -> list[Block]:
    """HTML: text of visible elements; scripts, styles and forms dropped; h1–h6 are headings."""
    parser = _BlockParser()
    _scan_html(text, parser)
    parser.close()
    blocks = parser.blocks
    title = re.sub(r"\s+", " ", parser.title).strip()
    if title and not (blocks and blocks[0].kind == "heading"):
        blocks.insert(0, Block("heading", title))
    return blocks
