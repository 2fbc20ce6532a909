"""What an evidence file really is, judged by its content (pure: no Django).

The name a user gave a file only decides which Office kind a container must hold (a `.docx` must be a Word
document, not any zip); otherwise the content alone names the type, and the download's extension and
Content-Type come from it. Web pages, SVG and scripts are never accepted: opened from a download folder
they would run. Every read is bounded, so a crafted file cannot make detection slow.
"""
from __future__ import annotations

import struct
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

from kpi.spreadsheets import ZIP_READ_ERRORS

HEAD_BYTES = 8192  # what is read to recognise the plain formats


@dataclass(frozen=True)
class Kind:
    key: str
    mime: str
    label: str
    extensions: tuple[str, ...]  # the first is the one a download gets when the name has none of them

    @property
    def extension(self) -> str:
        return self.extensions[0]


def _kinds(*rows: tuple[str, str, str, tuple[str, ...]]) -> dict[str, Kind]:
    return {key: Kind(key, mime, label, extensions) for key, mime, label, extensions in rows}


KINDS = _kinds(
    ("pdf", "application/pdf", "PDF", (".pdf",)),
    ("png", "image/png", "PNG 图片", (".png",)),
    ("jpeg", "image/jpeg", "JPEG 图片", (".jpg", ".jpeg", ".jpe")),
    ("gif", "image/gif", "GIF 图片", (".gif",)),
    ("bmp", "image/bmp", "BMP 图片", (".bmp",)),
    ("tiff", "image/tiff", "TIFF 图片", (".tif", ".tiff")),
    ("webp", "image/webp", "WebP 图片", (".webp",)),
    ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word 文档", (".docx",)),
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel 表格", (".xlsx",)),
    ("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation", "PowerPoint 演示文稿",
     (".pptx",)),
    ("odt", "application/vnd.oasis.opendocument.text", "ODF 文档", (".odt",)),
    ("ods", "application/vnd.oasis.opendocument.spreadsheet", "ODF 表格", (".ods",)),
    ("odp", "application/vnd.oasis.opendocument.presentation", "ODF 演示文稿", (".odp",)),
    # WPS Office's .wps/.et/.dps are the same compound files as Word/Excel/PowerPoint 97-2003.
    ("doc", "application/msword", "Word 97-2003 文档", (".doc", ".wps")),
    ("xls", "application/vnd.ms-excel", "Excel 97-2003 表格", (".xls", ".et")),
    ("ppt", "application/vnd.ms-powerpoint", "PowerPoint 97-2003 演示文稿", (".ppt", ".dps")),
    ("csv", "text/csv", "CSV 文本", (".csv",)),
    ("txt", "text/plain", "纯文本", (".txt",)),
)
ACCEPTED_EXTENSIONS = frozenset(ext for kind in KINDS.values() for ext in kind.extensions)
# The Office kinds a name claims: a container under such a name must hold that kind of document.
CLAIMED = {ext: kind.key for kind in KINDS.values()
           if kind.key in ("docx", "xlsx", "pptx", "odt", "ods", "odp", "doc", "xls", "ppt")
           for ext in kind.extensions}
# Names a text file may not have: a browser, the shell or Windows would run it.
ACTIVE_EXTENSIONS = frozenset((
    ".html", ".htm", ".xhtml", ".shtml", ".mht", ".mhtml", ".svg", ".svgz", ".xml", ".xsl", ".xslt",
    ".js", ".mjs", ".cjs", ".jsx", ".ts", ".vbs", ".vbe", ".wsf", ".wsh", ".hta", ".bat", ".cmd", ".ps1",
    ".sh", ".php", ".py", ".pl", ".jsp", ".asp", ".aspx", ".url", ".reg", ".swf",
))
MARKUP = (b"<!doctype", b"<html", b"<head", b"<body", b"<script", b"<svg", b"<iframe", b"<object", b"<embed",
          b"<meta", b"<?xml", b"<xml", b"javascript:")
MARKUP_REFUSED = "不接受网页（HTML）、SVG 图片、XML 或脚本文件作为佐证资料：请转换为 PDF 后上传。"
UNSUPPORTED = ("不支持的文件类型：佐证资料只接受 PDF、图片（JPG/PNG/GIF/BMP/TIFF/WebP）、Word/Excel/PowerPoint、"
               "WPS、ODF 文档和纯文本/CSV（按文件内容判断，不看扩展名）。")

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# The stream each compound-file kind must hold (Excel 5/95 calls its stream "Book").
OLE2_STREAMS = {"doc": ("WordDocument",), "xls": ("Workbook", "Book"), "ppt": ("PowerPoint Document",)}
# The part each Office Open XML kind must hold, and the content type [Content_Types].xml gives it (a
# macro-enabled .docm/.xlsm/.pptm has another one, so it is not taken for a plain document).
OOXML_PARTS = {
    "docx": ("word/document.xml", b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"),
    "xlsx": ("xl/workbook.xml", b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
    "pptx": ("ppt/presentation.xml",
             b"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"),
}
ODF_MIMES = {KINDS[key].mime.encode(): key for key in ("odt", "ods", "odp")}
MAX_XML_BYTES = 1024 * 1024  # [Content_Types].xml or `mimetype` read at most this far (a zip bomb stops here)
MAX_OLE2_SECTORS = 1 << 16  # directory and DIFAT sectors followed at most (a 20 MB file has ~40,000 sectors)


class Refused(ValueError):
    """The file is not accepted as evidence; the message (Chinese) says why."""


def detect(file: BinaryIO, name: str) -> Kind:
    """The kind of an evidence file from its content (`file`: binary, seekable), or Refused."""
    extension = _extension(name)
    file.seek(0)
    head = file.read(HEAD_BYTES)
    if not head:
        raise Refused("文件是空的。")
    simple = _simple_kind(head)
    if simple is not None:
        return KINDS[simple]
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _container(_zip_kind(file), extension, what="压缩包")
    if head.startswith(OLE2):
        return _container(_ole2_kind(file, claimed=CLAIMED.get(extension)), extension, what="复合文档")
    text = _text_kind(head, extension)
    if text is not None:
        return KINDS[text]
    raise Refused(UNSUPPORTED)


def download_name(name: str, kind: Kind) -> str:
    """The stored name with the extension of the detected kind (`报告.html` holding a PDF → `报告.pdf`)."""
    if _extension(name) in kind.extensions:
        return name
    stem = name[:-len(_extension(name))] if _extension(name) else name
    return (stem or "文件") + kind.extension


def download_type(file: BinaryIO, name: str) -> tuple[str, str]:
    """(Content-Type, file name) to send a stored evidence file with, judged again from its content. A file
    kept before today's rules that they refuse goes as bytes with no type (and `.bin` unless its name has
    the extension of an accepted kind, which no browser runs)."""
    try:
        kind = detect(file, name)
    except Refused:
        extension = _extension(name)
        stem = name[:-len(extension)] if extension else name
        return "application/octet-stream", name if extension in ACCEPTED_EXTENSIONS else (stem or "文件") + ".bin"
    return kind.mime, download_name(name, kind)


def _extension(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    dot = base.rfind(".")
    return base[dot:].lower() if dot > 0 else ""


def _simple_kind(head: bytes) -> str | None:
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    # "BM" alone begins ordinary text too: the DIB header that follows must have one of its known sizes.
    if head.startswith(b"BM") and len(head) >= 18 and struct.unpack_from("<I", head, 14)[0] in (12, 40, 52, 56, 64, 108, 124):
        return "bmp"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    return None


def _container(found: str | None, extension: str, *, what: str) -> Kind:
    """A zip or compound file is accepted when it holds an Office document, of the kind its name claims."""
    claimed = CLAIMED.get(extension)
    if claimed is not None and found != claimed:
        inside = f"是“{KINDS[found].label}”" if found else f"不是“{KINDS[claimed].label}”"
        raise Refused(f"文件扩展名为 {extension}，但内容{inside}：请用正确的扩展名上传原始文档。")
    if found is None:
        raise Refused(f"该{what}不是受支持的 Office 文档：{UNSUPPORTED}")
    return KINDS[found]


def _zip_kind(file: BinaryIO) -> str | None:
    """docx/xlsx/pptx when the zip holds [Content_Types].xml naming the kind's main part and that part,
    odt/ods/odp when its `mimetype` member says so; None for any other zip."""
    try:
        file.seek(0)
        with zipfile.ZipFile(file) as archive:
            members = {info.filename.casefold(): info for info in archive.infolist()}
            types = members.get("[content_types].xml")
            if types is not None:
                declared = _member(archive, types)
                for key, (part, content_type) in OOXML_PARTS.items():
                    if part in members and content_type in declared:
                        return key
                return None
            mimetype = members.get("mimetype")
            if mimetype is not None:
                return ODF_MIMES.get(_member(archive, mimetype).strip())
    except ZIP_READ_ERRORS:
        return None  # damaged, encrypted or using a compression zipfile does not read: not a document
    return None


def _member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    with archive.open(info) as member:
        return member.read(MAX_XML_BYTES)


def _ole2_kind(file: BinaryIO, *, claimed: str | None) -> str | None:
    """The kind whose stream the compound file's directory holds (the claimed kind first), or None."""
    names = _ole2_stream_names(file)
    order = ([claimed] if claimed in OLE2_STREAMS else []) + [k for k in OLE2_STREAMS if k != claimed]
    for key in order:
        if any(stream in names for stream in OLE2_STREAMS[key]):
            return key
    return None


_FREE_OR_END = 0xFFFFFFFA  # sector numbers from here on are markers (free, end of chain, FAT, DIFAT)


def _ole2_stream_names(file: BinaryIO) -> set[str]:
    """The names of the streams in a compound file's directory ([MS-CFB] 2.2, 2.6), read sector by sector
    along its FAT chain; an empty set when the header or the chain is not sound."""
    file.seek(0, 2)
    size = file.tell()
    file.seek(0)
    header = file.read(512)
    if len(header) < 512 or not header.startswith(OLE2):
        return set()
    shift = struct.unpack_from("<H", header, 0x1E)[0]
    if shift not in (9, 12):
        return set()
    sector_size = 1 << shift
    per_sector = sector_size // 4
    fat_count, first_directory = struct.unpack_from("<I", header, 0x2C)[0], struct.unpack_from("<I", header, 0x30)[0]
    difat_next = struct.unpack_from("<I", header, 0x44)[0]
    sectors_in_file = max(0, size - sector_size) // sector_size + 1

    def read_sector(number: int) -> bytes | None:
        if number >= sectors_in_file:
            return None
        file.seek((number + 1) * sector_size)
        data = file.read(sector_size)
        return data if len(data) == sector_size else None

    fat_sectors = [s for s in struct.unpack_from("<109I", header, 0x4C) if s < _FREE_OR_END]
    steps = 0
    while difat_next < _FREE_OR_END and len(fat_sectors) < fat_count and steps < MAX_OLE2_SECTORS:
        data = read_sector(difat_next)
        if data is None:
            return set()
        entries = struct.unpack(f"<{per_sector}I", data)
        fat_sectors.extend(s for s in entries[:-1] if s < _FREE_OR_END)
        difat_next, steps = entries[-1], steps + 1
    fat_sectors = fat_sectors[:fat_count]

    def next_in_chain(number: int) -> int | None:
        index, offset = divmod(number, per_sector)
        if index >= len(fat_sectors) or fat_sectors[index] >= sectors_in_file:
            return None
        file.seek((fat_sectors[index] + 1) * sector_size + offset * 4)
        data = file.read(4)
        return struct.unpack("<I", data)[0] if len(data) == 4 else None

    names: set[str] = set()
    sector, seen = first_directory, set()
    while sector is not None and sector < _FREE_OR_END and sector not in seen and len(seen) < MAX_OLE2_SECTORS:
        seen.add(sector)
        data = read_sector(sector)
        if data is None:
            break
        for start in range(0, sector_size, 128):
            entry = data[start:start + 128]
            length, kind = struct.unpack_from("<HB", entry, 0x40)
            if kind == 2 and 2 <= length <= 64 and length % 2 == 0:  # a stream, its name's length with the NUL
                names.add(entry[:length - 2].decode("utf-16-le", errors="replace"))
        sector = next_in_chain(sector)
    return names


def _text_kind(head: bytes, extension: str) -> str | None:
    """csv or txt for plain text (UTF-8 or GB18030, no control characters); Refused for markup or a text
    whose name would run it; None when the bytes are not text."""
    body = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    if any(byte < 0x20 and byte not in b"\t\n\v\f\r" or byte == 0x7F for byte in body):
        return None
    cut = len(head) == HEAD_BYTES  # the file goes on: its last character may be cut
    if not (_decodes(body, "utf-8", cut=cut) or _decodes(body, "gb18030", cut=cut)):
        return None
    lowered = body.lstrip().lower()
    if lowered.startswith(b"<") or any(marker in lowered for marker in MARKUP) or extension in ACTIVE_EXTENSIONS:
        raise Refused(MARKUP_REFUSED)
    return "csv" if extension == ".csv" else "txt"


def _decodes(data: bytes, encoding: str, *, cut: bool) -> bool:
    """Whether the bytes are text in the encoding; when `cut`, the last few may be a character cut off."""
    for drop in range(4 if cut else 1):
        try:
            data[:len(data) - drop].decode(encoding)
        except UnicodeDecodeError:
            continue
        return True
    return False
