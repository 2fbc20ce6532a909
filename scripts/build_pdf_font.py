"""Build kpi/fonts/NotoSansSC-GB2312.otf, the font embedded in Jixiao's PDF reports.

Noto Sans CJK SC (SIL Open Font License, see kpi/fonts/LICENSE-Noto-CJK.txt) subset to ASCII, CJK
punctuation, full-width forms, common symbols and every GB2312 character: 3.5 MB instead of 16 MB, so a
fresh clone prints Chinese PDFs without any system font. Source: Debian's fonts-noto-cjk package.

    apt-get install fonts-noto-cjk && pip install fonttools && python scripts/build_pdf_font.py
"""
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

SOURCE = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
SC_FACE = 2  # JP, KR, SC, TC, HK, then the Mono faces
TARGET = Path(__file__).resolve().parents[1] / "kpi" / "fonts" / "NotoSansSC-GB2312.otf"
SYMBOLS = {0x00B7, 0x00B1, 0x00D7, 0x2013, 0x2014, 0x2018, 0x2019, 0x201C, 0x201D, 0x2026, 0x2030, 0x2103, 0x2116,
           0x2192, 0x2212, 0x2264, 0x2265}


def gb2312() -> set[int]:
    found = set()
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                found.add(ord(bytes([high, low]).decode("gb2312")))
            except UnicodeDecodeError:
                pass
    return found


def main() -> None:
    chars = set(range(0x20, 0x7F)) | set(range(0x3000, 0x3040)) | set(range(0xFF00, 0xFFF0)) | SYMBOLS | gb2312()
    font = TTCollection(SOURCE).fonts[SC_FACE]
    options = subset.Options()
    options.name_IDs, options.name_languages, options.notdef_outline, options.layout_features = ["*"], ["*"], True, ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=chars)
    subsetter.subset(font)
    font.save(TARGET)
    print(f"{TARGET}: {len(chars)} characters, {TARGET.stat().st_size} bytes")


if __name__ == "__main__":
    main()
