"""`decode_text`: which encoding a disclosure text is in, and what a damaged file still gives (pure Python)."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi.importers.decoding import decode_text
from kpi.importers.disclosure import parse_disclosure
from kpi.importers.parsed import NotADisclosure

TEXT = "\n".join([
    "项目支出绩效目标表",
    "(2024 年)",
    "预算单位\t\t某某社会保险中心",
    "项目名称\t\t编码测试项目",
    "一级指标\t二级指标\t三级指标\t指标值",
    "产出指标\t数量指标\t培训人次\t≥100人次",
    "满意度指标\t满意度指标\t满意度\t≥95%",
])


@pytest.mark.parametrize("data", [
    TEXT.encode("utf-8"),
    b"\xef\xbb\xbf" + TEXT.encode("utf-8"),
    TEXT.encode("utf-16"),  # with its byte-order mark
    b"\xff\xfe" + TEXT.encode("utf-16-le"),
    b"\xfe\xff" + TEXT.encode("utf-16-be"),
    TEXT.encode("utf-16-le"),  # no mark: told by its zero bytes
    TEXT.encode("utf-16-be"),
    TEXT.encode("utf-32"),
    TEXT.encode("gb18030"),
    TEXT.replace("\n", "\r\n").encode("gb18030"),
], ids=["utf-8", "utf-8 bom", "utf-16", "utf-16-le bom", "utf-16-be bom", "utf-16-le", "utf-16-be", "utf-32",
        "gb18030", "gb18030 crlf"])
def test_every_encoding_reads_the_same_text(data):
    text, warnings = decode_text(data, "a.txt")
    assert text.replace("\r\n", "\n").lstrip("\ufeff") == TEXT
    assert warnings == []


def test_a_stray_byte_is_replaced_and_reported_with_its_line():
    data = TEXT.encode("utf-8").replace("培训人次".encode(), "培训".encode() + b"\xff" + "人次".encode())
    text, warnings = decode_text(data, "乱码.txt")
    assert "培训\ufffd人次" in text
    assert warnings == ["文件“乱码.txt”第 6 行有 1 处无法识别的字节（不是有效的 UTF-8 编码），已替换为“\ufffd”，请核对这些行。"]
    document = parse_disclosure(text)
    assert [i.name for i in document.tables[0].indicators] == ["培训\ufffd人次", "满意度"]  # the damage shows


def test_stray_bytes_on_several_lines_are_listed():
    lines = TEXT.encode("utf-8").split(b"\n")
    for index in (2, 3, 5):
        lines[index] = lines[index] + b"\x80"
    _, warnings = decode_text(b"\n".join(lines), "a.txt")
    assert warnings == ["文件“a.txt”第 3、4、6 行有 3 处无法识别的字节（不是有效的 UTF-8 编码），已替换为“\ufffd”，请核对这些行。"]


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030", "utf-16", "utf-16-le"])
def test_a_file_cut_in_the_middle_of_a_character_is_read_up_to_the_cut(encoding):
    data = TEXT.encode(encoding)
    cut = data[:-1]  # the last character (%) of UTF-16, or half of the last byte sequence
    if encoding in ("utf-8", "gb18030"):
        cut = (TEXT + "度").encode(encoding)[:-1]  # a Chinese character cut after its first byte
    text, warnings = decode_text(cut, "cut.txt")
    assert text.replace("\r\n", "\n").lstrip("\ufeff").startswith(TEXT[:-1])
    assert warnings == ["文件“cut.txt”在第 7 行末尾被截断（最后一个字符不完整），已读取到截断处为止，请确认文件是否完整。"]


def test_a_gb18030_file_with_a_stray_byte_stays_gb18030():
    data = TEXT.encode("gb18030").replace("培训".encode("gb18030"), "培训".encode("gb18030") + b"\xff")
    text, warnings = decode_text(data, "a.txt")
    assert "培训\ufffd人次" in text
    assert len(warnings) == 1 and "第 6 行" in warnings[0] and "GB18030" in warnings[0]


@pytest.mark.parametrize(("data", "message"), [
    (b"", "是空的"),
    (b"   \n\t ", "是空的"),
    (b"\x00\x01\x02\xff\xfe binary", "二进制"),
    (bytes(range(256)) * 20, "二进制"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3", "PDF"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "旧版 Office"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" * 10, "二进制"),
])
def test_what_is_not_text_is_refused(data, message):
    with pytest.raises(NotADisclosure, match=message):
        decode_text(data, "x.txt")


def test_mostly_undecodable_bytes_are_refused_not_read_as_garbage():
    data = "项目支出绩效目标表".encode() + bytes([0xC0, 0x20]) * 500  # invalid in UTF-8 and GB18030
    with pytest.raises(NotADisclosure, match="无法按 UTF-8、UTF-16 或 GB18030 编码读取"):
        decode_text(data, "x.txt")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "gb18030"])
def test_the_seeds_decode_identically_in_every_encoding(seeds_dir, encoding):
    for path in sorted(seeds_dir.glob("*.txt")):
        original = path.read_text(encoding="utf-8")
        text, warnings = decode_text(original.encode(encoding), path.name)
        assert (text, warnings) == (original, [])


_PLAIN = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cf", "Co", "Cn"), exclude_characters="\ufffd")
_LINES = st.lists(st.text(alphabet=_PLAIN, max_size=40), min_size=1, max_size=8).map("\n".join)


@settings(max_examples=300, deadline=None)
@given(_LINES.filter(lambda t: t.strip() and not t.startswith("%PDF")), st.sampled_from(["utf-8", "utf-16", "utf-32"]))
def test_any_unicode_text_decodes_back_to_itself(text, encoding):
    assert decode_text(text.encode(encoding), "a.txt") == (text, [])


_HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
_CHINESE = st.lists(st.text(alphabet=st.one_of(_HAN, st.sampled_from("\t 0123456789%≥<=年月")), min_size=30,
                            max_size=80), min_size=1, max_size=5).map("\n".join)


@settings(max_examples=300, deadline=None)
@given(_CHINESE.filter(lambda t: sum("\u4e00" <= ch <= "\u9fa5" for ch in t) >= 20))
def test_chinese_text_saved_as_gb18030_is_never_misread_as_utf8(text):
    assert decode_text(text.encode("gb18030"), "a.txt") == (text, [])
