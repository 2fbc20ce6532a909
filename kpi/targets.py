"""指标值 — parsing a published target text into a comparable form.

Pure Python: no Django imports. `parse_target` never raises.

What it reads (every form below was seen in published tables; tests/kpi/test_targets.py lists them):

- positive: ``>=95%``, ``≥3 件``, ``> =485.71万条``, ``$\\geq 98\\%$``, ``不低于95%``, ``95%以上``, ``>90%``
- reverse: ``<=4.33万元/月``, ``≤6万元/单位``, ``< =2.50 万元``, ``不超过5%``, ``控制在5%以内``, ``3个工作日内``
- equals: ``=100%``, ``=12个月``, ``=0%``; a bare number (``100%``, ``8小时``) is equals + flag ``no_comparator``
- range: ``=50-100元``, ``50～100元``, ``50至100元``, ``[50,100]``, ``>=95%且<=100%``
- deadline: ``每月25日前``, ``2021年12月31日``, ``2021.12``, ``2021年1月-12月``, ``12月底前``, ``年底前``, ``按月``;
  a period is a deadline at its end: ``2020年1月--2020年11月``, ``2023.07-2024.01``, ``2023年7月至2024年1月``
- qualitative: Chinese text without a number (``有效提升``, ``持续提高``, ``长期``, ``及时``, ``≥持续提升``)
- unknown: empty, control/binary characters, no Chinese text and nothing numeric to read, a masked or
  OCR-broken number (``≤****000元``, ``M.8万元``: never qualitative), or a cell longer than
  `MAX_TARGET_LENGTH` characters (flag ``too_long``; read in linear time anyway, but refused).

The unit is what is written after the number, multiplier kept (``485.71万条`` → 485.71 in ``万条``), with
OCR whitespace removed and full-width ASCII folded to ASCII (``元／人 /月`` → ``元/人/月``). A unit that goes
on after a dot or a middle dot stays whole, as written (``17元/人.每天`` → ``元/人.每天``). Look-alike
comparators are read as what they look like: box-drawing ``═`` and the other ``=``-like marks as ``=``,
``≈`` as 约.

Flags (review hints, never errors):
    no_comparator            bare number: read as equals, a person should confirm the direction
    strict                   ``>``/``<`` (scored like ``>=``/``<=``)
    approximate              ``约``/``左右``
    conflicting_comparators  e.g. ``>=5%以内``: the first comparator wins
    extra_text               text around the quantity was ignored
    range_swapped            a range written high-low, stored low-high
    period                   deadline read from a period (``2021年1月-12月``): the end is the deadline
    deadline_ambiguous       ``6月前``: month known, day not
    comparator_on_text       qualitative text that had a comparator in front (``≥持续提升``)
    has_number               qualitative text with digits that do not form a target (``较上年提高5%``)
    invalid_date             (with kind unknown) date-shaped but impossible: ``2021年2月30日``, ``每月32日前``
    masked                   (with kind unknown) digits hidden by ``*``/``×``/``#``… : ``≤****000元``
    ocr_broken               (with kind unknown) letters inside the number: ``M.8万元``, ``l0次``
    too_long                 (with kind unknown) more than `MAX_TARGET_LENGTH` characters: not a target cell

Deadlines carry their details in the extra fields: ``deadline_date`` (year known; a month without a
day means its last day), ``deadline_month``/``deadline_day`` (also set when the year is not written, e.g.
``12月底前`` → 12/31, ``年底前`` → 12/31) and ``recurrence`` (``"month"`` for ``每月25日前``/``按月``,
also ``"quarter"``, ``"half_year"``, ``"year"``, ``"week"``, ``"day"``).
"""
from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache

__all__ = ["MAX_TARGET_LENGTH", "Kind", "Target", "looks_like_unit", "parse_target", "target_text"]

# A 指标值 cell longer than this is not a target (a paragraph pasted in the wrong column): refused.
MAX_TARGET_LENGTH = 300


class Kind(StrEnum):
    POSITIVE = "positive"  # 正向: higher is better
    REVERSE = "reverse"  # 反向: lower is better
    EQUALS = "equals"  # hit the value
    RANGE = "range"  # inside [value, upper]
    DEADLINE = "deadline"  # done by then (yes/no)
    QUALITATIVE = "qualitative"  # 定性: judged in grades
    UNKNOWN = "unknown"  # could not be read; raw text kept


@dataclass(frozen=True, slots=True)
class Target:
    """A parsed 指标值. `value`/`upper` are Decimals in `unit` (multiplier kept: 485.71万条)."""

    kind: Kind
    value: Decimal | None = None
    upper: Decimal | None = None
    unit: str = ""
    raw: str = ""
    # Review flags, e.g. "no_comparator" for a bare number published without >=/<=/=.
    flags: tuple[str, ...] = ()
    # Deadline details (kind DEADLINE only); see the module docstring.
    deadline_date: date | None = None
    deadline_month: int | None = None
    deadline_day: int | None = None
    recurrence: str = ""


# --- normalisation -------------------------------------------------------------------------------

_TRANSLATE: dict[int, str] = {cp: chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F)}  # full-width ASCII
_TRANSLATE.update(
    {
        ord(k): v
        for k, v in {
            "\u3000": " ",
            "≥": ">=", "≧": ">=", "⩾": ">=", "≮": ">=", "﹥": ">", "›": ">",
            "≤": "<=", "≦": "<=", "⩽": "<=", "≯": "<=", "﹤": "<", "‹": "<",
            "﹦": "=", "꞊": "=", "═": "=", "⁼": "=", "₌": "=", "〓": "=", "゠": "=", "⹀": "=", "≡": "=",
            "≽": ">=", "≼": "<=", "≈": "约", "≒": "约",
            "﹪": "%", "٪": "%",
            "〜": "~", "∼": "~", "～": "~",
            "–": "-", "—": "-", "―": "-", "−": "-", "‐": "-", "‑": "-", "﹣": "-",
            "．": ".", "，": ",", "；": ";", "：": ":", "（": "(", "）": ")", "【": "[", "】": "]",
        }.items()
    }
)

_LATEX_CMD = re.compile(
    r"\\(geqslant|geq|ge|leqslant|leq|le|gt|lt|sim|left|right|text|mathrm|mathbf|rm|quad|qquad|%|,|;|:|!| )"
    r"(?![a-zA-Z])"
)
_LATEX_MAP = {
    "geqslant": ">=", "geq": ">=", "ge": ">=", "gt": ">",
    "leqslant": "<=", "leq": "<=", "le": "<=", "lt": "<",
    "sim": "~", "%": "%",
}
_WHITESPACE = re.compile(r"\s+")
_INCLUDED = re.compile(r"\(含\)")  # "95%(含)以上": 含 = inclusive, which >= already says
_PERCENTS = re.compile(r"%{2,}")
_DECIMAL_DOT = re.compile(r"(?<=[0-9])[。·・](?=[0-9])")
_THOUSANDS = re.compile(r"(?<=[0-9]),(?=[0-9]{3}(?![0-9]))")
_OPERATOR_RUN = re.compile(r"[<>=]+")
_BAD_CATEGORIES = frozenset({"Cc", "Co", "Cs", "Cn"})
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_DIGIT = re.compile(r"[0-9]")


def _canonical_operator(match: re.Match[str]) -> str:
    """Any run of < > = (``> =``, ``=>``, ``≥=``, ``==``) becomes one of >=, >, <=, <, =."""
    run = match.group(0)
    greater, less, equal = ">" in run, "<" in run, "=" in run
    if greater and less:
        return "≠"  # "<>": not a target comparator; left as text
    if greater:
        return ">=" if equal else ">"
    if less:
        return "<=" if equal else "<"
    return "="


def _normalize(text: str) -> str | None:
    """Compact form of a cell: ASCII operators and digits, no whitespace. None when it holds binary junk."""
    s = text.translate(_TRANSLATE)
    if "\\" in s or "$" in s:
        s = _LATEX_CMD.sub(lambda m: _LATEX_MAP.get(m.group(1), ""), s)
        s = s.replace("$", "").replace("{", "").replace("}", "")
    s = _WHITESPACE.sub("", s)
    if not s.isprintable():
        kept = []
        for ch in s:
            category = unicodedata.category(ch)
            if category in _BAD_CATEGORIES:
                return None
            if category != "Cf":  # zero-width spaces, BOMs, soft hyphens
                kept.append(ch)
        s = "".join(kept)
    if "\ufffd" in s:
        return None
    s = _INCLUDED.sub("", s)
    s = _PERCENTS.sub("%", s)
    s = _DECIMAL_DOT.sub(".", s)
    return _OPERATOR_RUN.sub(_canonical_operator, s)


# --- deadlines -----------------------------------------------------------------------------------

_Y = r"(?P<y>(?:19|20)[0-9]{2})"
_M = r"(?P<m>[0-9]{1,2})"
_D = r"(?P<d>[0-9]{1,2})"
_BEFORE = r"(?:之前|以前|前|为止|止)"
_VERB = r"(?:完成|发放|支付|拨付|报送|结算|执行|办理|足额发放|及时发放|按时发放|更新|开展|兑现|缴纳|到位|上报|完成发放)"

_MONTHLY_DAY = re.compile(rf"(?:每月|按月)(?:的)?{_D}[日号]")
_PERIOD = re.compile(
    rf"{_Y}年(?P<m1>[0-9]{{1,2}})月(?:(?P<d1>[0-9]{{1,2}})[日号])?(?:[-~]++|至|到)"
    rf"(?:(?P<y2>(?:19|20)[0-9]{{2}})年)?(?P<m2>[0-9]{{1,2}})月(?:(?P<d2>[0-9]{{1,2}})[日号])?(?:底|末)?"
)
_FULL_DATE = re.compile(rf"(?<![0-9]){_Y}年{_M}月{_D}[日号]?")
_FULL_DATE_SEP = re.compile(rf"(?<![0-9.]){_Y}(?P<sep>[./-]){_M}(?P=sep){_D}(?![0-9.])")
_YEAR_MONTH = re.compile(rf"(?<![0-9]){_Y}年{_M}月(?:份)?(?:底|末)?")
_MONTH_DAY = re.compile(rf"(?<![0-9.]){_M}月{_D}[日号]")
_MONTH_END = re.compile(rf"(?<![0-9.]){_M}月(?:份)?(?:底|末)")
_MONTH_BEFORE = re.compile(rf"(?<![0-9.]){_M}月(?:份)?(?={_BEFORE})")
# "2023.07-2024.01", "2023.7.1至2024.1.31": a period written with dots, both years written.
_DOTTED_PERIOD = re.compile(
    rf"{_Y}[./](?P<m1>[0-9]{{1,2}})(?:[./](?P<d1>[0-9]{{1,2}}))?(?:[-~]++|至|到)"
    rf"(?P<y2>(?:19|20)[0-9]{{2}})[./](?P<m2>[0-9]{{1,2}})(?:[./](?P<d2>[0-9]{{1,2}}))?(?:底|末)?{_BEFORE}?{_VERB}?"
)
# Only when the whole cell is the date (with a comparator, "=2021.12" is a number).
_DOTTED_YEAR_MONTH = re.compile(rf"{_Y}(?:[./-]){_M}(?:底|末)?{_BEFORE}?{_VERB}?")
_YEAR_ONLY = re.compile(rf"(?:于|在)?{_Y}年(?:度)?(?:底|末|内|终)?{_BEFORE}?{_VERB}?")
_YEAR_END_WORDS = re.compile(rf"(?:本|当)?(?:年底|年末|年内|年度内|年终|年度终了|年度结束)(?:之前|以前|前|内)?{_VERB}?")
_HALF_YEAR_WORDS = re.compile(rf"(?:上半年|年中)(?:之前|以前|前|内)?{_VERB}?")
_RECURRING_WORDS = re.compile(
    rf"(?:每|按)(?P<every>月|季度|季|半年|年|周|日|天)(?:度)?(?:底|末)?(?:之前|以前|前|内)?{_VERB}?"
)
_RECURRENCE = {"月": "month", "季度": "quarter", "季": "quarter", "半年": "half_year", "年": "year",
               "周": "week", "日": "day", "天": "day"}

_SEARCHED = (  # (regex, what it means), most specific first
    (_MONTHLY_DAY, "monthly"),
    (_PERIOD, "period"),
    (_FULL_DATE, "date"),
    (_FULL_DATE_SEP, "date"),
    (_YEAR_MONTH, "year_month"),
    (_MONTH_DAY, "month_day"),
    (_MONTH_END, "month_end"),
    (_MONTH_BEFORE, "month_before"),
)


def _month_end(month: int, year: int = 2001) -> int:
    return calendar.monthrange(year, month)[1]


def _deadline(s: str, raw: str) -> Target | None:
    if not _DIGIT.search(s):
        return _deadline_in_words(s, raw)
    if m := _DOTTED_PERIOD.fullmatch(s):
        return _deadline_from_match(m, "period", s, raw)
    if (m := _DOTTED_YEAR_MONTH.fullmatch(s)) or (m := _YEAR_ONLY.fullmatch(s)):
        year = int(m.group("y"))
        month = int(m.groupdict().get("m") or 12)
        if not 1 <= month <= 12:
            return None  # "2000.50" is a number, not a month
        day = _month_end(month, year)
        return Target(Kind.DEADLINE, raw=raw, deadline_date=date(year, month, day), deadline_month=month,
                      deadline_day=day)
    for regex, meaning in _SEARCHED:
        m = regex.search(s)
        if m is None:
            continue
        if _DIGIT.search(s[: m.start()] + s[m.end():]):
            return None  # other numbers around: not (only) a date
        return _deadline_from_match(m, meaning, s, raw)
    return None


def _invalid_date(raw: str) -> Target:
    """Date-shaped but impossible (2021年2月30日, 每月32日): a person has to read it."""
    return Target(Kind.UNKNOWN, raw=raw, flags=("invalid_date",))


def _deadline_from_match(m: re.Match[str], meaning: str, s: str, raw: str) -> Target | None:
    groups = m.groupdict()
    flags: tuple[str, ...] = ()
    recurrence = ""
    if meaning == "monthly":
        day = int(groups["d"])
        if not 1 <= day <= 31:
            return _invalid_date(raw)
        return Target(Kind.DEADLINE, raw=raw, deadline_day=day, recurrence="month")
    if meaning == "period":
        year = int(groups["y2"] or groups["y"])
        month = int(groups["m2"])
        day = int(groups["d2"]) if groups["d2"] else None
        if not 1 <= int(groups["m1"]) <= 12:
            return _invalid_date(raw)
        flags = ("period",)
    else:
        year = int(groups["y"]) if groups.get("y") else None
        month = int(groups["m"])
        day = int(groups["d"]) if groups.get("d") else None
        if meaning == "month_before":
            flags = ("deadline_ambiguous",)
    if not 1 <= month <= 12:
        return _invalid_date(raw)
    if meaning == "month_before":
        day = None
    elif day is None:
        day = _month_end(month, year or 2001)
    elif not 1 <= day <= _month_end(month, year or 2000):  # 2000: a leap year, so 2月29日 passes
        return _invalid_date(raw)
    if year is None and "每年" in s[: m.start()]:
        recurrence = "year"
    deadline = date(year, month, day) if year is not None and day is not None else None
    return Target(Kind.DEADLINE, raw=raw, flags=flags, deadline_date=deadline, deadline_month=month,
                  deadline_day=day, recurrence=recurrence)


def _deadline_in_words(s: str, raw: str) -> Target | None:
    if _YEAR_END_WORDS.fullmatch(s):
        return Target(Kind.DEADLINE, raw=raw, deadline_month=12, deadline_day=31)
    if _HALF_YEAR_WORDS.fullmatch(s):
        return Target(Kind.DEADLINE, raw=raw, deadline_month=6, deadline_day=30)
    if m := _RECURRING_WORDS.fullmatch(s):
        return Target(Kind.DEADLINE, raw=raw, recurrence=_RECURRENCE[m.group("every")])
    return None


# --- quantities ----------------------------------------------------------------------------------

_POSITIVE_WORDS = (
    "大于或等于", "大于等于", "不低于", "不少于", "不小于", "不短于", "不得低于", "不得少于", "不应低于",
    "高于", "大于", "多于", "超过", "至少", "最少", "最低", "达到", "达",
)
_REVERSE_WORDS = (
    "小于或等于", "小于等于", "不高于", "不超过", "不超出", "不多于", "不大于", "不长于", "不得高于",
    "不得超过", "不应高于", "不应超过", "低于", "小于", "少于", "最多", "至多", "最高", "控制在",
)
_EQUALS_WORDS = ("等于", "约为", "约", "为")
_WORD_KIND = dict.fromkeys(_POSITIVE_WORDS, Kind.POSITIVE)
_WORD_KIND.update(dict.fromkeys(_REVERSE_WORDS, Kind.REVERSE))
_WORD_KIND.update(dict.fromkeys(_EQUALS_WORDS, Kind.EQUALS))
_OPERATOR_KIND = {">=": Kind.POSITIVE, ">": Kind.POSITIVE, "<=": Kind.REVERSE, "<": Kind.REVERSE, "=": Kind.EQUALS}
_SUFFIX_KIND = {
    "及以上": Kind.POSITIVE, "以上": Kind.POSITIVE,
    "及以下": Kind.REVERSE, "以下": Kind.REVERSE, "以内": Kind.REVERSE, "之内": Kind.REVERSE,
    "内": Kind.REVERSE, "左右": Kind.EQUALS,
}


def _alternation(words) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_HEAD_OPERATOR = re.compile(r"(?:>=|<=|>|<|=)$")
_HEAD_WORD = re.compile(rf"(?:{_alternation(_WORD_KIND)})$")
# Numbers are matched possessively (++): a digit given back to a following unit pattern that also takes
# digits ("m2") would make the match quadratic in the length of a long run of digits.
_NUMBER = re.compile(r"[0-9]++(?:\.[0-9]++)?")
# A dot between words stays in the unit ("元/人.每天"); after a digit it is a decimal point.
_UNIT_CHAR = r"(?:[^0-9<>=,;:!?。、！？()\[\]{}\-~.+]|(?<=[/a-zA-Z0-9])[0-9]|(?<![0-9.])\.(?=[^\x00-\x7f]))"
_RANGE_TAIL = re.compile(rf"(?P<u1>{_UNIT_CHAR}*?)(?:-|~|至|到)(?P<n2>[0-9]++(?:\.[0-9]++)?)(?P<rest>.*)", re.S)
_UNIT_TAIL = re.compile(rf"(?P<unit>{_UNIT_CHAR}*)(?P<rest>.*)", re.S)
_SUFFIX = re.compile(rf"(?:{_alternation(_SUFFIX_KIND)})$")
_JOINER = re.compile(r"(?:并且|而且|且|和|与|或)$")
_SECOND_BOUND = re.compile(
    rf"(?:[,;、]|并且|而且|且|和|与)?(?P<op>>=|<=|>|<)(?P<n>[0-9]++(?:\.[0-9]++)?)(?P<unit>{_UNIT_CHAR}*)"
)
_BRACKET_RANGE = re.compile(
    rf"[\[(](?P<n1>[0-9]++(?:\.[0-9]++)?)[,;、~\-](?P<n2>[0-9]++(?:\.[0-9]++)?)[\])](?P<unit>{_UNIT_CHAR}*)"
)
_MAX_UNIT = 20


def _decimal(text: str, sign: str = "") -> Decimal | None:
    try:
        return Decimal(sign + text)
    except (InvalidOperation, ValueError):
        return None


def _range(low: Decimal, high: Decimal, unit: str, raw: str, flags: list[str]) -> Target:
    if low > high:
        low, high = high, low
        flags.append("range_swapped")
    return Target(Kind.RANGE, value=low, upper=high, unit=unit, raw=raw, flags=tuple(dict.fromkeys(flags)))


def _bracket_range(s: str, raw: str) -> Target | None:
    m = _BRACKET_RANGE.fullmatch(s)
    if m is None:
        return None
    low, high = _decimal(m.group("n1")), _decimal(m.group("n2"))
    if low is None or high is None:
        return None
    return _range(low, high, m.group("unit")[:_MAX_UNIT], raw, [])


def _read_head(head: str) -> tuple[list[tuple[str, Kind]], str, str]:
    """Split the text before the number into (comparators found, left to right), sign, label."""
    sign = ""
    if head.endswith(("-", "+")):
        sign, head = head[-1], head[:-1]
        if sign == "+":
            sign = ""
    found: list[tuple[str, Kind]] = []
    for _ in range(3):  # e.g. "达到>=" or ">=不低于": at most a few tokens
        if m := _HEAD_OPERATOR.search(head):
            found.append((m.group(0), _OPERATOR_KIND[m.group(0)]))
        elif m := _HEAD_WORD.search(head):
            found.append((m.group(0), _WORD_KIND[m.group(0)]))
        else:
            break
        head = head[: m.start()]
    found.reverse()
    return found, sign, head


def _resolve(tokens: list[tuple[str, Kind]], flags: list[str]) -> Kind:
    if not tokens:
        flags.append("no_comparator")
        return Kind.EQUALS
    words = {t for t, _ in tokens}
    if words & {">", "<"}:
        flags.append("strict")
    if words & {"约", "约为", "左右"}:
        flags.append("approximate")
    directed = [kind for _, kind in tokens if kind is not Kind.EQUALS]
    if not directed:
        return Kind.EQUALS
    if any(kind is not directed[0] for kind in directed):
        flags.append("conflicting_comparators")
    return directed[0]


def _quantity(s: str, raw: str) -> Target | None:
    s = _THOUSANDS.sub("", s)
    number = _NUMBER.search(s)
    if number is None:
        return None
    tokens, sign, label = _read_head(s[: number.start()])
    flags: list[str] = []
    if label:
        if not tokens:
            return None  # "提高5%", "第1季度": a number inside text, not a target
        flags.append("extra_text")
    value = _decimal(number.group(0), sign)
    if value is None:
        return None
    tail = s[number.end():]

    if m := _RANGE_TAIL.fullmatch(tail):
        upper = _decimal(m.group("n2"))
        if upper is not None:
            rest_unit = _UNIT_TAIL.fullmatch(m.group("rest"))
            unit = rest_unit.group("unit") or m.group("u1")
            if rest_unit.group("rest"):
                flags.append("extra_text")
            return _range(value, upper, unit[:_MAX_UNIT], raw, flags)

    m = _UNIT_TAIL.fullmatch(tail)
    unit, rest = m.group("unit"), m.group("rest")
    if rest[:1] in ("<", ">") and (joined := _JOINER.search(unit)):
        unit, rest = unit[: joined.start()], unit[joined.start():] + rest  # ">=95%且<=100%"
    if suffix := _SUFFIX.search(unit):
        tokens.append((suffix.group(0), _SUFFIX_KIND[suffix.group(0)]))
        unit = unit[: suffix.start()]
    if len(unit) > _MAX_UNIT:
        unit, rest = unit[:_MAX_UNIT], unit[_MAX_UNIT:] + rest
    kind = _resolve(tokens, flags)

    if rest:
        second = _SECOND_BOUND.fullmatch(rest)
        if second and kind in (Kind.POSITIVE, Kind.REVERSE):
            other = _OPERATOR_KIND[second.group("op")]
            bound = _decimal(second.group("n"))
            if other is not kind and bound is not None and second.group("unit") in ("", unit):
                flags = [f for f in flags if f != "strict"]
                low, high = (value, bound) if kind is Kind.POSITIVE else (bound, value)
                return _range(low, high, unit, raw, flags)
        flags.append("extra_text")
    return Target(kind, value=value, unit=unit, raw=raw, flags=tuple(dict.fromkeys(flags)))


# --- masked and broken numbers --------------------------------------------------------------------

# Marks that hide digits in published tables ("≤****000元", "≥1**万元"); "X" only as a run ("XX万元").
_MASKS = "*×#?□■●○"
_MASK_NEAR_DIGIT = re.compile(rf"[0-9.][{_MASKS}]|[{_MASKS}][0-9.]")
_MASK_START = re.compile(r"[*×#?□■]|[Xx]{2}")
_HEAD_COMPARATORS = re.compile(rf"(?:>=|<=|>|<|=|{_alternation(_WORD_KIND)})++")
_NUMBER_LIKE = re.compile(r"[A-Za-z0-9.]++")
_UNIT_WORD = (
    r"(?:%|‰|个工作日|工作日|个月|人次|人天|人日|户次|课时|学时|小时|分钟|季度|平方米|平米|立方米|公顷|公里|千米|"
    r"厘米|公斤|千克|m2|㎡|km|kg|人|户|次|元|个|项|件|天|日|月|年|季|周|时|秒|亩|米|吨|克|升|份|台|套|家|所|名|"
    r"条|本|册|场|批|期|班|张|辆|间|处|座|篇|类|种|组|岗|门|床|位|部|片|块|栋|幢|株|棵|头|只|趟|轮|节|页|字|卷|"
    r"盒|瓶|箱|包|袋|笔|宗|起|例|单|封|人员)"
)
_UNIT = re.compile(rf"(?:[万亿千百十]?{_UNIT_WORD})(?:[/.·・](?:每)?[万亿千百十]?{_UNIT_WORD})*")


def looks_like_unit(text: str) -> bool:
    """Whether a short text is a 计量单位 (``万人``, ``元/人/年``, ``%``, ``平方米``), as written in a name."""
    compact = _WHITESPACE.sub("", text.translate(_TRANSLATE)) if isinstance(text, str) else ""
    return 0 < len(compact) <= 12 and _UNIT.fullmatch(compact) is not None


def _masked(s: str, raw: str) -> Target | None:
    """Digits hidden by masks: unknown, never a number with a strange unit or a qualitative text."""
    rest = s[m.end():] if (m := _HEAD_COMPARATORS.match(s)) else s
    if _MASK_NEAR_DIGIT.search(s) or _MASK_START.match(rest):
        return Target(Kind.UNKNOWN, raw=raw, flags=("masked",))
    return None


def _broken_number(s: str, raw: str) -> Target | None:
    """A number with letters in it (``M.8万元``, ``l0次``: OCR read 0/1 as letters), alone or with a unit."""
    rest = s[m.end():] if (m := _HEAD_COMPARATORS.match(s)) else s
    number = _NUMBER_LIKE.match(rest)
    if number is None:
        return None
    digits = number.group(0)
    tail = rest[number.end():]
    has_letter = any(ch.isalpha() for ch in digits)
    if has_letter and any(ch.isdigit() or ch == "." for ch in digits) and (not tail or looks_like_unit(tail)):
        return Target(Kind.UNKNOWN, raw=raw, flags=("ocr_broken",))
    return None


# --- text ----------------------------------------------------------------------------------------

# "≥持续提升", "不低于上年": a comparator in front of words (single-character words like 为 are too common).
_LEADING_COMPARATOR = re.compile(rf"^(?:>=|<=|>|<|=|{_alternation(w for w in _WORD_KIND if w.endswith(('于', '过')))})")


def _qualitative(s: str, raw: str) -> Target | None:
    if not _CJK.search(s):
        return None
    flags = []
    if _DIGIT.search(s):
        flags.append("has_number")
    elif _LEADING_COMPARATOR.match(s):
        flags.append("comparator_on_text")
    return Target(Kind.QUALITATIVE, raw=raw, flags=tuple(flags))


# --- entry point ---------------------------------------------------------------------------------


@lru_cache(maxsize=8192)  # a disclosure repeats "=100%" and ">=95%" in every table
def _parse(text: str) -> Target:
    s = _normalize(text)
    if not s:
        return Target(Kind.UNKNOWN, raw=text)
    return (
        _masked(s, text)
        or _bracket_range(s, text)
        or _deadline(s, text)
        or _quantity(s, text)
        or _broken_number(s, text)
        or _qualitative(s, text)
        or Target(Kind.UNKNOWN, raw=text)
    )


_SHOWN_OPERATORS = (("≥", ">="), ("≤", "<="))


def target_text(raw: str) -> str:
    """A 指标值 as a person writes it: LaTeX, OCR spacing and full-width forms gone, ≥ and ≤ as the signs
    (``$\\geq 98\\%$`` → ``≥98%``, ``> =485.71万条`` → ``≥485.71万条``); the published text when there is
    nothing to tidy or it cannot be read. The raw text is kept beside it (`Indicator.target_raw`)."""
    if not isinstance(raw, str):
        return ""
    shown = _normalize(raw)
    if not shown:
        return raw.strip()
    for sign, operator in _SHOWN_OPERATORS:
        shown = shown.replace(operator, sign)
    return shown


def parse_target(text: str) -> Target:
    """Read one 指标值 cell. Never raises: what cannot be read is `Kind.UNKNOWN` with the raw text kept.

    Linear in the length of the text (numbers are matched possessively); a cell longer than
    `MAX_TARGET_LENGTH` is refused outright (flag ``too_long``).
    """
    if not isinstance(text, str):
        return Target(Kind.UNKNOWN, raw="")
    if len(text) > MAX_TARGET_LENGTH:
        return Target(Kind.UNKNOWN, raw=text, flags=("too_long",))
    try:
        return _parse(text)
    except Exception:
        return Target(Kind.UNKNOWN, raw=text, flags=("parse_error",))
