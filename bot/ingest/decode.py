"""Bytes to clean Unicode: BOMs, UTF-8/16/32, legacy code pages, and refusing binaries."""

from __future__ import annotations

import codecs
import re
import unicodedata

from charset_normalizer import from_bytes

from bot.ingest.errors import Rejected

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Legacy encodings worth considering, in order of preference for ties.
_LEGACY = ["cp1252", "cp1251", "latin_1", "iso8859_15", "koi8_u", "koi8_r", "mac_roman"]
# zero-width characters, and the bidirectional controls that can make a title display
# other than it reads (U+202E, U+2066…); private-use characters go too (below)
_ZERO_WIDTH = dict.fromkeys(
    map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u200f\u061c"
             "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"),
    None,
)  # fmt: skip
_PRIVATE_USE = re.compile("[\ue000-\uf8ff\U000f0000-\U0010ffff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def decode_bytes(data: bytes) -> str:
    """Decode `data` to NFC text or raise `Rejected` with the reason."""
    text = _decode(data)
    controls = len(_CONTROL.findall(text))
    if "\x00" in text or controls > max(3, len(text) // 100):
        raise Rejected("binary content: this does not look like a text file")
    return normalize_text(text)


def _decode(data: bytes) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError:
                raise Rejected(f"invalid {encoding.upper()} despite its byte-order mark") from None
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        return utf16
    if b"\x00" in data:
        raise Rejected("binary content: this does not look like a text file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # UTF-8 with its last character cut, or a stray bad byte in 10,000, is still UTF-8
    # (a legacy code page has an accented letter every few dozen characters)
    for cut in (1, 2, 3):
        try:
            return data[:-cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
    lenient = data.decode("utf-8", "replace")
    if lenient.count("\ufffd") <= len(lenient) // 10_000:
        return lenient.replace("\ufffd", "")
    best = from_bytes(data, cp_isolation=_LEGACY, explain=False).best()
    if best is None:
        raise Rejected("undecodable: the text encoding could not be recognised")
    return str(best)


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text without a BOM shows NULs on every other byte for Latin text."""
    if len(data) < 4 or len(data) % 2:
        return None
    even, odd = data[0::2], data[1::2]
    for zeros, encoding in ((odd, "utf-16-le"), (even, "utf-16-be")):
        if zeros.count(0) > 0.4 * len(zeros):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                return None
    return None


def normalize_text(text: str) -> str:
    """NFC, Unix line ends, no zero-width, bidirectional-control, private-use or control
    characters, no trailing blanks."""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_ZERO_WIDTH)
    text = _CONTROL.sub("", text.replace("\t", " ").replace("\f", "\n"))
    text = _PRIVATE_USE.sub("", text)
    lines = [line.strip(" ") for line in _SPACES.sub(" ", text).split("\n")]
    return "\n".join(lines).strip("\n")


_SPACES = re.compile(r" {2,}")  # once over the text, not once a line (0.5 M lines: 2.7 s)
