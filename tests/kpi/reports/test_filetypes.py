"""Evidence types judged by content (kpi.reports.filetypes, pure): crafted bytes of every accepted kind,
Office containers that must hold a document of the kind their name claims, and what is refused."""
import io
import struct
import zipfile

import pytest
from openpyxl import Workbook

from kpi.reports import filetypes
from kpi.reports.filetypes import HEAD_BYTES, Refused, detect, download_name, download_type

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
POLYGLOT = b"%PDF-1.4\n<html><body><script>alert(document.cookie)</script></body></html>\n%%EOF\n"
BMP = b"BM" + struct.pack("<IHHI", 70, 0, 0, 54) + struct.pack("<I", 40) + b"\x00" * 48


def kind(data: bytes, name: str) -> str:
    return detect(io.BytesIO(data), name).key


def refused(data: bytes, name: str) -> str:
    with pytest.raises(Refused) as error:
        detect(io.BytesIO(data), name)
    return str(error.value)


# --- builders -----------------------------------------------------------------------------------------

MAIN = {
    "docx": ("word/document.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"),
    "xlsx": ("xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
    "pptx": ("ppt/presentation.xml",
             "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"),
}


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def content_types(*overrides: tuple[str, str]) -> bytes:
    parts = "".join(f'<Override PartName="/{part}" ContentType="{ctype}"/>' for part, ctype in overrides)
    return ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            f'content-types"><Default Extension="xml" ContentType="application/xml"/>{parts}</Types>').encode()


def ooxml(key: str, *, main_type: str | None = None, drop_part=False, drop_types=False) -> bytes:
    part, ctype = MAIN[key]
    members = {"_rels/.rels": b"<Relationships/>"}
    if not drop_types:
        members["[Content_Types].xml"] = content_types((part, main_type or ctype))
    if not drop_part:
        members[part] = b"<document/>"
    return zip_of(members)


def odf(mime: str) -> bytes:
    return zip_of({"mimetype": mime.encode(), "content.xml": b"<office:document-content/>"})


FREE, END, FATSECT, DIFSECT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFC


def dir_entry(name: str, kind: int) -> bytes:
    encoded = name.encode("utf-16-le") + b"\x00\x00"
    return encoded.ljust(64, b"\x00") + struct.pack("<HB", len(encoded), kind) + b"\x00" * 61


def ole2(streams: list[str], *, difat=False, cyclic=False) -> bytes:
    """A compound file (512-byte sectors): one FAT sector, the directory over as many sectors as it needs
    (4 entries each; "Root Entry" first, then a stream per name). With `difat`, the FAT sector is found
    through a DIFAT sector rather than the header; with `cyclic`, the directory's chain loops on itself."""
    entries = [dir_entry("Root Entry", 5)] + [dir_entry(name, 2) for name in streams]
    while len(entries) % 4:
        entries.append(b"\x00" * 128)
    directory = [b"".join(entries[i:i + 4]) for i in range(0, len(entries), 4)]
    first = 2 if difat else 1  # sector 0 the DIFAT (when used), then the FAT, then the directory
    fat_at = first - 1
    fat = [FREE] * 128
    if difat:
        fat[0] = DIFSECT
    fat[fat_at] = FATSECT
    for i in range(len(directory)):
        fat[first + i] = first + i + 1 if i < len(directory) - 1 else END
    if cyclic:
        fat[first + len(directory) - 1] = first
    header = bytearray(512)
    header[:8] = filetypes.OLE2
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<III", header, 0x2C, 1, first, 0)
    struct.pack_into("<IIIII", header, 0x38, 4096, END, 0, 0 if difat else END, 1 if difat else 0)
    struct.pack_into("<109I", header, 0x4C, *([FREE] * 109 if difat else [fat_at] + [FREE] * 108))
    sectors = []
    if difat:
        sectors.append(struct.pack("<128I", fat_at, *([FREE] * 126), END))
    sectors.append(struct.pack("<128I", *fat))
    sectors.extend(directory)
    return bytes(header) + b"".join(sectors)


def real_xlsx() -> bytes:
    book = Workbook()
    book.active["A1"] = "签到人数"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- plain formats --------------------------------------------------------------------------------------

@pytest.mark.parametrize("data, expected", [
    (PDF, "pdf"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "png"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "jpeg"),
    (b"GIF89a\x01\x00\x01\x00", "gif"),
    (b"GIF87a\x01\x00\x01\x00", "gif"),
    (BMP, "bmp"),
    (b"II*\x00\x08\x00\x00\x00", "tiff"),
    (b"MM\x00*\x00\x00\x00\x08", "tiff"),
    (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "webp"),
])
def test_plain_formats_by_their_magic_bytes_whatever_the_name(data, expected):
    assert kind(data, "扫描件") == expected
    assert kind(data, "扫描件.docx") == expected  # a name claims nothing of a PDF or an image


def test_a_pdf_html_polyglot_named_html_is_a_pdf_and_downloads_as_one():
    found = detect(io.BytesIO(POLYGLOT), "报告.html")
    assert (found.key, found.mime) == ("pdf", "application/pdf")
    assert download_name("报告.html", found) == "报告.pdf"
    assert download_type(io.BytesIO(POLYGLOT), "报告.html") == ("application/pdf", "报告.pdf")


@pytest.mark.parametrize("name, expected", [
    ("签到表.pdf", "签到表.pdf"),
    ("签到表.PDF", "签到表.PDF"),  # the kind's own extension is kept as typed
    ("报告.html", "报告.pdf"),
    ("报告", "报告.pdf"),
    ("a.pdf.html", "a.pdf.pdf"),
    (".html", ".html.pdf"),  # a dot-file has no extension
])
def test_download_names_take_the_extension_of_the_content(name, expected):
    assert download_name(name, filetypes.KINDS["pdf"]) == expected


def test_a_jpeg_keeps_any_of_its_extensions_and_a_png_named_jpg_becomes_png():
    assert download_name("现场.jpeg", filetypes.KINDS["jpeg"]) == "现场.jpeg"
    assert download_name("现场.jpg", filetypes.KINDS["png"]) == "现场.png"


def test_bm_at_the_start_of_text_is_not_a_bitmap():
    assert kind("BMW 车辆维修记录\n".encode(), "记录.txt") == "txt"


# --- Office Open XML and ODF ----------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["docx", "xlsx", "pptx"])
def test_an_office_document_of_the_claimed_kind_is_accepted(key):
    assert kind(ooxml(key), f"材料.{key}") == key
    assert detect(io.BytesIO(ooxml(key)), f"材料.{key}").mime == filetypes.KINDS[key].mime


def test_a_real_workbook_is_an_xlsx():
    assert kind(real_xlsx(), "台账.xlsx") == "xlsx"


def test_a_plain_zip_renamed_docx_is_refused():
    message = refused(zip_of({"readme.txt": b"hello", "data.csv": b"a,b"}), "报告.docx")
    assert "扩展名为 .docx" in message and "不是“Word 文档”" in message


@pytest.mark.parametrize("options", [{"drop_part": True}, {"drop_types": True}])
def test_a_docx_without_its_document_part_or_its_content_types_is_refused(options):
    assert "不是“Word 文档”" in refused(ooxml("docx", **options), "报告.docx")


def test_a_document_of_another_kind_than_its_name_is_refused_saying_what_it_is():
    assert "内容是“Excel 表格”" in refused(ooxml("xlsx"), "报告.docx")
    assert "内容是“Word 文档”" in refused(ooxml("docx"), "台账.pptx")
    assert "内容是“Word 97-2003 文档”" in refused(ole2(["WordDocument"]), "报告.docx")


def test_a_macro_enabled_document_is_not_taken_for_a_plain_one():
    docm = ooxml("docx", main_type="application/vnd.ms-word.document.macroEnabled.main+xml")
    assert "不是“Word 文档”" in refused(docm, "报告.docx")


def test_a_document_under_a_name_that_claims_nothing_is_typed_by_what_it_holds():
    found = detect(io.BytesIO(ooxml("docx")), "报告.zip")
    assert found.key == "docx" and download_name("报告.zip", found) == "报告.docx"
    assert "不是受支持的 Office 文档" in refused(zip_of({"a.txt": b"a"}), "资料.zip")


def test_member_names_are_compared_ignoring_case():
    part, ctype = MAIN["xlsx"]
    data = zip_of({"[CONTENT_TYPES].XML": content_types((part, ctype)), "XL/Workbook.xml": b"<workbook/>"})
    assert kind(data, "表.xlsx") == "xlsx"


@pytest.mark.parametrize("key", ["odt", "ods", "odp"])
def test_odf_documents_by_their_mimetype_member(key):
    assert kind(odf(filetypes.KINDS[key].mime), f"文档.{key}") == key


def test_an_odf_of_another_kind_than_claimed_is_refused():
    assert "内容是“ODF 表格”" in refused(odf(filetypes.KINDS["ods"].mime), "文档.odt")


def test_a_damaged_zip_is_refused():
    data = ooxml("docx")
    assert "不是“Word 文档”" in refused(data[:len(data) // 2], "报告.docx")


def test_the_content_types_part_is_read_only_so_far():
    """A [Content_Types].xml inflating to many megabytes (a zip bomb) is read only to MAX_XML_BYTES."""
    part, ctype = MAIN["docx"]
    bomb = zip_of({"[Content_Types].xml": b" " * (filetypes.MAX_XML_BYTES + 10) + content_types((part, ctype)),
                   part: b"<document/>"})
    assert len(bomb) < 50_000
    assert "不是“Word 文档”" in refused(bomb, "报告.docx")


# --- OLE2 compound files (Office 97-2003, WPS) ----------------------------------------------------------

@pytest.mark.parametrize("streams, name, expected", [
    (["WordDocument", "1Table"], "通知.doc", "doc"),
    (["Workbook"], "台账.xls", "xls"),
    (["Book"], "台账.xls", "xls"),  # Excel 5/95
    (["PowerPoint Document", "Current User"], "汇报.ppt", "ppt"),
    (["WordDocument"], "通知.wps", "doc"),
    (["Workbook"], "台账.et", "xls"),
    (["PowerPoint Document"], "汇报.dps", "ppt"),
])
def test_a_compound_file_holding_the_stream_of_its_claimed_kind(streams, name, expected):
    found = detect(io.BytesIO(ole2(streams)), name)
    assert found.key == expected
    assert download_name(name, found) == name  # .wps/.et/.dps stay what WPS calls them


def test_a_compound_file_of_another_kind_or_of_none_is_refused():
    assert "内容是“Excel 97-2003 表格”" in refused(ole2(["Workbook"]), "通知.doc")
    assert "不是“Word 97-2003 文档”" in refused(ole2(["Contents", "\x05SummaryInformation"]), "通知.doc")
    assert "不是受支持的 Office 文档" in refused(ole2(["Contents"]), "文件.bin")


def test_a_compound_file_under_a_name_that_claims_nothing_is_typed_by_its_streams():
    found = detect(io.BytesIO(ole2(["Workbook"])), "导出文件")
    assert found.key == "xls" and download_name("导出文件", found) == "导出文件.xls"


def test_the_directory_is_followed_over_several_sectors_and_through_the_difat():
    streams = ["CompObj", "\x05SummaryInformation", "1Table", "Data", "ObjectPool", "WordDocument"]
    assert kind(ole2(streams), "通知.doc") == "doc"  # its entry is in the directory's second sector
    assert kind(ole2(streams, difat=True), "通知.doc") == "doc"


def test_a_directory_chain_that_loops_ends_and_a_truncated_file_is_refused():
    assert kind(ole2(["Contents", "a", "b", "WordDocument"], cyclic=True), "通知.doc") == "doc"
    assert "不是“Word 97-2003 文档”" in refused(ole2(["Contents"], cyclic=True), "通知.doc")
    assert "不是“Word 97-2003 文档”" in refused(ole2(["WordDocument"])[:600], "通知.doc")
    assert "不是“Word 97-2003 文档”" in refused(filetypes.OLE2 + b"\x00" * 100, "通知.doc")


# --- text, markup and scripts ---------------------------------------------------------------------------

@pytest.mark.parametrize("data, name, expected", [
    ("会议纪要：培训 95 人次。\n".encode(), "纪要.txt", "txt"),
    ("会议纪要：培训 95 人次。\n".encode("gb18030"), "纪要.txt", "txt"),
    ("\ufeff姓名,人数\n王芳,3\n".encode(), "名单.csv", "csv"),
    ("姓名,人数\n".encode(), "名单", "txt"),
])
def test_plain_text_and_csv(data, name, expected):
    found = detect(io.BytesIO(data), name)
    assert found.key == expected
    assert found.mime == ("text/csv" if expected == "csv" else "text/plain")


def test_text_whose_last_character_is_cut_by_the_head_is_still_text():
    data = "甲".encode() * (HEAD_BYTES // 3) + "乙乙".encode()  # 8192 is not a multiple of 3
    assert kind(data, "长文.txt") == "txt"


@pytest.mark.parametrize("data", [
    b"<!DOCTYPE html><html><body>hi</body></html>",
    b"\xef\xbb\xbf  \n<html><script>alert(1)</script></html>",
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
    "说明文字\n<script>alert(1)</script>\n".encode(),
    b"see javascript:alert(1)",
])
def test_web_pages_svg_and_markup_are_refused_whatever_the_name(data):
    for name in ("报告.html", "图.svg", "说明.txt", "报告"):
        assert refused(data, name) == filetypes.MARKUP_REFUSED


@pytest.mark.parametrize("name", ["app.js", "run.bat", "page.htm", "a.hta", "x.ps1", "logo.svg", "feed.xml"])
def test_text_under_a_name_that_would_run_it_is_refused(name):
    assert refused(b"alert(document.cookie)\n", name) == filetypes.MARKUP_REFUSED


@pytest.mark.parametrize("data", [
    b"MZ\x90\x00\x03\x00\x00\x00 this is an executable",
    b"\x7fELF\x02\x01\x01\x00",
    b"\x00\x01\x02\x03",
    b"PK\x05\x06" + b"\x00" * 18,  # an empty zip
    b"\x1f\x8b\x08\x00 gzip",
])
def test_binaries_that_are_no_document_are_refused(data):
    assert "不支持的文件类型" in refused(data, "报告.pdf") or "不是受支持的 Office 文档" in refused(data, "报告.pdf")


def test_an_empty_file_is_refused():
    assert refused(b"", "空.pdf") == "文件是空的。"


# --- stored files judged again on download -----------------------------------------------------------------

def test_a_stored_file_refused_today_downloads_as_bytes_with_no_runnable_name():
    assert download_type(io.BytesIO(b"<html><script>x</script></html>"), "报告.html") == (
        "application/octet-stream", "报告.bin")
    assert download_type(io.BytesIO(zip_of({"a.txt": b"a"})), "报告.docx") == (
        "application/octet-stream", "报告.docx")  # no browser runs a .docx
    assert download_type(io.BytesIO(b"\x00\x01"), "无名") == ("application/octet-stream", "无名.bin")
