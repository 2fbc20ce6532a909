"""The bytes of an uploaded disclosure text, as text: which encoding, and what was damaged. Pure Python.

`decode_text(data, name)` returns the text and the warnings (Chinese, naming the file and the line):

- a byte-order mark says the encoding: UTF-8, UTF-16 (LE/BE) or UTF-32; UTF-16 without a mark is
  recognised by its zero bytes;
- otherwise UTF-8, then GB18030 (what Chinese Windows saves as "ANSI"); a UTF-8 file with a few stray
  bytes stays UTF-8 (GB18030 would read any byte soup as Chinese, so it is only chosen when the bytes
  are not mostly UTF-8);
- a stray invalid byte is replaced by U+FFFD and reported with its line, not the whole file refused;
- a file cut in the middle of a character is read up to the cut, with a warning;
- what is not text at all (binary, PDF, a Word file, mostly undecodable bytes) raises `NotADisclosure`.
"""
from __future__ import annotations

import codecs
import re
import threading

from .parsed import NotADisclosure

__all__ = ["decode_text"]

_BOMS = (  # longest first: the UTF-32 LE mark begins with the UTF-16 LE one
    (b"\xff\xfe\x00\x00", "utf-32-le", "UTF-32"),
    (b"\x00\x00\xfe\xff", "utf-32-be", "UTF-32"),
    (b"\xef\xbb\xbf", "utf-8", "UTF-8"),
    (b"\xff\xfe", "utf-16-le", "UTF-16"),
    (b"\xfe\xff", "utf-16-be", "UTF-16"),
)
_MAGIC = (
    (b"%PDF", "是 PDF 文件，请先把其中的文字另存为文本（.txt）再上传"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "是旧版 Office 文件（.doc/.xls），请另存为文本（.txt）或 Excel 模板（.xlsx）再上传"),
    (b"PK\x03\x04", "是压缩包（如 .docx/.zip），不是文本文件"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_MAX_REPLACED = 20  # more damaged places than this and than 1 in 200 characters: not a text in this encoding
_SHOWN_LINES = 5


def decode_text(data: bytes, name: str) -> tuple[str, list[str]]:
    """The text of `data` and the warnings about it. Raises `NotADisclosure` when it is not text."""
    if not data.strip():
        raise NotADisclosure(f"文件“{name}”是空的。")
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise NotADisclosure(f"文件“{name}”{what}。")
    encoding, label, body = _encoding(data, name)
    text, replaced, cut = _decode(body, encoding)
    if label is None:  # no mark: UTF-8 unless the bytes are not mostly UTF-8
        if replaced and not _mostly(text, replaced):
            text, replaced, cut = _decode(body, "gb18030")
            label = "GB18030"
        else:
            label = "UTF-8"
    _refuse_non_text(text, replaced, name, label)
    return text, _warnings(text, replaced, cut, name, label)


def _encoding(data: bytes, name: str) -> tuple[str, str | None, bytes]:
    """(codec, how the warnings name it or None when it is still a guess, the bytes after the mark)."""
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            return codec, label, data[len(bom):]
    if b"\x00" in data:
        codec = _utf16_without_bom(data)
        if codec is None:
            raise NotADisclosure(f"文件“{name}”是二进制文件，不是部门预算公开文本（.txt/.md）或 Excel 模板（.xlsx）。")
        return codec, "UTF-16", data
    return "utf-8", None, data


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 LE or BE when the bytes read as text that way (zero bytes are the high halves of ASCII)."""
    best, best_share = None, 0.0
    for codec in ("utf-16-le", "utf-16-be"):
        sample = data[: 20000 - 20000 % 2].decode(codec, errors="replace")
        if not sample:
            continue
        readable = sum(1 for ch in sample if ch in "\t\n\r" or (ch.isprintable() and ch != "\ufffd"))
        share = readable / len(sample)
        if share > best_share:
            best, best_share = codec, share
    return best if best_share >= 0.95 else None


def _decode(data: bytes, codec: str) -> tuple[str, list[int], int | None]:
    """(text, offsets in the text of the replaced bytes, offset where a cut character was dropped or None).

    Each invalid sequence becomes one U+FFFD; an incomplete character at the very end is dropped. A U+FFFD
    already in the file is damage from an earlier conversion and is reported the same way.
    """
    _state.errors = 0
    _state.cut = False
    try:
        text = data.decode(codec, errors=_HANDLER)
    finally:
        cut = _state.cut
    replaced = [match.start() for match in _REPLACEMENT.finditer(text)]
    return text, replaced, len(text) if cut else None


_state = threading.local()
_HANDLER = "jixiao.importers.decoding"
_REPLACEMENT = re.compile("\ufffd")


def _record(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    if error.end >= len(error.object) and _cut_short(error):
        _state.cut = True
        return "", error.end
    _state.errors += 1
    return "\ufffd", error.end


codecs.register_error(_HANDLER, _record)


def _cut_short(error: UnicodeDecodeError) -> bool:
    reason = error.reason
    return "end of data" in reason or "truncated" in reason or "incomplete" in reason


def _mostly(text: str, replaced: list[int]) -> bool:
    """Whether text decoded as UTF-8 is really UTF-8 with a few stray bytes (not GB18030 read as UTF-8)."""
    # GB18030 text read as UTF-8 gives about one valid character for four errors; UTF-8 with stray bytes
    # gives hundreds.
    multibyte = sum(1 for ch in text if ord(ch) > 0x7F) - len(replaced)
    return multibyte >= 3 * len(replaced)


def _refuse_non_text(text: str, replaced: list[int], name: str, label: str) -> None:
    if "\x00" in text or len(_CONTROL.findall(text)) > max(2, len(text) // 100):
        raise NotADisclosure(f"文件“{name}”是二进制文件，不是部门预算公开文本（.txt/.md）或 Excel 模板（.xlsx）。")
    if len(replaced) > _MAX_REPLACED and len(replaced) * 200 > len(text):
        raise NotADisclosure(
            f"文件“{name}”无法按 UTF-8、UTF-16 或 GB18030 编码读取（按 {label} 读取时有 {len(replaced)} 处无法识别的字节），"
            f"请另存为 UTF-8 编码的文本后再上传。"
        )


def _line_of(text: str, offset: int) -> int:
    return len(_LINE_BREAK.findall(text, 0, offset)) + 1


def _warnings(text: str, replaced: list[int], cut: int | None, name: str, label: str) -> list[str]:
    warnings = []
    if replaced:
        lines = sorted({_line_of(text, offset) for offset in replaced})
        shown = "、".join(map(str, lines[:_SHOWN_LINES])) + ("等" if len(lines) > _SHOWN_LINES else "")
        warnings.append(
            f"文件“{name}”第 {shown} 行有 {len(replaced)} 处无法识别的字节（不是有效的 {label} 编码），"
            f"已替换为“\ufffd”，请核对这些行。"
        )
    if cut is not None:
        warnings.append(
            f"文件“{name}”在第 {_line_of(text, cut)} 行末尾被截断（最后一个字符不完整），已读取到截断处为止，请确认文件是否完整。"
        )
    return warnings
