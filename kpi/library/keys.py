"""How indicators of different tables are recognised as the same library entry (pure: no Django)."""
from __future__ import annotations

import re
import unicodedata

# Spaces, punctuation and brackets vary between units' spellings of one indicator ("（城乡）居民 参保率").
_NOISE = re.compile(r"[\s\u3000·•、，,。.:：;；（）()\[\]【】“”\"'‘’/\\-]+")


def normalise_name(text: str) -> str:
    """An indicator name folded for comparison: NFKC (full-width → half-width), no spaces or punctuation, lower."""
    return _NOISE.sub("", unicodedata.normalize("NFKC", text or "")).lower()


def library_key(level2: str, name: str) -> str:
    """The key of the library entry of a 二级/三级 indicator pair: "二级/三级", both normalised."""
    return f"{normalise_name(level2)}/{normalise_name(name)}"
