"""指标值 parser: cases from published tables, property tests, and every target cell of the seeds.

No Django here: `kpi.targets` is pure Python.

Target forms found in the published documents ../shared/seeds/*.txt (指标值 column, 266 cells, 125 distinct):

  2021 Changji bureau (one cell a line, only 一级/二级/三级/指标值):
    ≥95%  ≥95  ≥80.9  ≥200  ≥168次  ≥2次            positive, full-width-style ≥ with and without unit
    ≤40  ≤15  ≤10万元  ≤3万元                         reverse
    =13440  =100%  =1440  =162                       equals
    100%  0%  1  12  560  8小时  2年  8年  15万元/年    bare number (equals, flagged no_comparator)
    2021年12月31日  2021年2月28日  2021.12  2021年1月-12月 (a period)   deadline
    提高  提升  长期                                   qualitative
  2025 Urumqi centre (tab rows, OCR spaces):
    ≥14 万人 次  ≥12 次  >=5000 人次  > =175 万人  > =576 人次  >=95% %  >=2%     positive
    < =4632 元                                        reverse
    =100%  =120 元/人 /月  =7 个月  =12次  =515平方米  =38组  =12个月               equals
    每月 25 日 前  每月 25 日前  每月 20日前  每月25日前                              deadline (monthly)
    持续 提高  持续提高  有效 提升  持续 提升                                         qualitative
  2026 Changji centre (tab rows, HTML <b> headers, LaTeX):
    >=95%  > =99%  $\\geq 98\\%$  > =485.71万条  >=18173.63平方米  >=2 个            positive
    <=4.33万元/月  <=3.25万元/季度  <=109元/人/月  <=1100元/人/年  <=8小时  ≤6万元/单位  reverse
    =1 次  =12月  =99%  =3个                           equals
    0.035元/条                                        bare number (equals, no_comparator)
    有效提高  有效提升  有效保障                       qualitative
  No cell in the seeds is unreadable (TRULY_UNREADABLE is empty).
"""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from kpi.targets import Kind, Target, parse_target

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO.parent / "shared" / "seeds"

P, R, E, G, DL, Q, U = Kind.POSITIVE, Kind.REVERSE, Kind.EQUALS, Kind.RANGE, Kind.DEADLINE, Kind.QUALITATIVE, Kind.UNKNOWN
D = Decimal

# --- table-driven: (text, kind, value, upper, unit) -------------------------------------------------

QUANTITY_CASES = [
    # published (seeds), as written, OCR noise included
    (">=95%", P, D("95"), None, "%"),
    ("≥95%", P, D("95"), None, "%"),
    ("≥3 件", P, D("3"), None, "件"),
    ("> =485.71万条", P, D("485.71"), None, "万条"),
    ("$\\geq 98\\%$", P, D("98"), None, "%"),
    ("$\\geq 92\\%$", P, D("92"), None, "%"),
    (">=6 万人次", P, D("6"), None, "万人次"),
    ("≥14 万人 次", P, D("14"), None, "万人次"),
    ("≥10 万人次", P, D("10"), None, "万人次"),
    (">=5000 人次", P, D("5000"), None, "人次"),
    ("> =175 万人", P, D("175"), None, "万人"),
    ("> =576 人次", P, D("576"), None, "人次"),
    (">=95% %", P, D("95"), None, "%"),
    ("> =99%", P, D("99"), None, "%"),
    (">=18173.63平方米", P, D("18173.63"), None, "平方米"),
    (">=2 个", P, D("2"), None, "个"),
    ("≥80.9", P, D("80.9"), None, ""),
    ("≥168次", P, D("168"), None, "次"),
    ("≥20000", P, D("20000"), None, ""),
    ("<=4.33万元/月", R, D("4.33"), None, "万元/月"),
    ("≤6万元/单位", R, D("6"), None, "万元/单位"),
    ("< =2.50 万元", R, D("2.50"), None, "万元"),
    ("<=5%", R, D("5"), None, "%"),
    ("< =4632 元", R, D("4632"), None, "元"),
    ("<=9 万元", R, D("9"), None, "万元"),
    ("<=1100元/人/年", R, D("1100"), None, "元/人/年"),
    ("<=3.25万元/季度", R, D("3.25"), None, "万元/季度"),
    ("<=8小时", R, D("8"), None, "小时"),
    ("≤10万元", R, D("10"), None, "万元"),
    ("≤300", R, D("300"), None, ""),
    ("=100%", E, D("100"), None, "%"),
    ("=12个月", E, D("12"), None, "个月"),
    ("=120元/人/月", E, D("120"), None, "元/人/月"),
    ("=120 元/人 /月", E, D("120"), None, "元/人/月"),
    ("=0%", E, D("0"), None, "%"),
    ("=0", E, D("0"), None, ""),
    ("=7 个月", E, D("7"), None, "个月"),
    ("=515平方米", E, D("515"), None, "平方米"),
    ("=12月", E, D("12"), None, "月"),  # 12 months of service, not December
    ("=1 次", E, D("1"), None, "次"),
    ("=13440", E, D("13440"), None, ""),
    # comparators written other ways
    ("=>90%", P, D("90"), None, "%"),
    ("=<5%", R, D("5"), None, "%"),
    (">90%", P, D("90"), None, "%"),
    ("<3次", R, D("3"), None, "次"),
    ("＞＝９５％", P, D("95"), None, "%"),
    ("＜＝５％", R, D("5"), None, "%"),
    ("≧80%", P, D("80"), None, "%"),
    ("≦20天", R, D("20"), None, "天"),
    ("＞90%", P, D("90"), None, "%"),
    ("＝100％", E, D("100"), None, "%"),
    ("$\\leq 5\\%$", R, D("5"), None, "%"),
    ("\\ge 90", P, D("90"), None, ""),
    ("\\le 3 天", R, D("3"), None, "天"),
    ("$\\geqslant 98\\%$", P, D("98"), None, "%"),
    ("$\\leqslant 2$万元", R, D("2"), None, "万元"),
    ("≥=95%", P, D("95"), None, "%"),
    # OCR inside numbers, separators, full-width digits
    ("=4000 0", E, D("40000"), None, ""),
    (">=16.6 9万元", P, D("16.69"), None, "万元"),
    (">=1,614.08万元", P, D("1614.08"), None, "万元"),
    ("≥１２次", P, D("12"), None, "次"),
    ("≥９５．５％", P, D("95.5"), None, "%"),
    ("≥95%%", P, D("95"), None, "%"),
    # Chinese comparator words
    ("不低于95%", P, D("95"), None, "%"),
    ("不少于12次", P, D("12"), None, "次"),
    ("大于等于90%", P, D("90"), None, "%"),
    ("大于80%", P, D("80"), None, "%"),
    ("满意度高于90%", P, D("90"), None, "%"),  # a label in front: flagged extra_text
    ("至少3次", P, D("3"), None, "次"),
    ("达到100%", P, D("100"), None, "%"),
    ("95%以上", P, D("95"), None, "%"),
    ("95%及以上", P, D("95"), None, "%"),
    ("95%(含)以上", P, D("95"), None, "%"),
    ("不高于5%", R, D("5"), None, "%"),
    ("不超过 6万元", R, D("6"), None, "万元"),
    ("小于等于3%", R, D("3"), None, "%"),
    ("小于1%", R, D("1"), None, "%"),
    ("低于2%", R, D("2"), None, "%"),
    ("控制在5%以内", R, D("5"), None, "%"),
    ("控制在4.33万元/月", R, D("4.33"), None, "万元/月"),
    ("5%以内", R, D("5"), None, "%"),
    ("1%以下", R, D("1"), None, "%"),
    ("3个工作日内", R, D("3"), None, "个工作日"),
    ("≥-5%", P, D("-5"), None, "%"),
    # ranges
    ("=50-100元", G, D("50"), D("100"), "元"),
    ("50～100元", G, D("50"), D("100"), "元"),
    ("50-100", G, D("50"), D("100"), ""),
    ("50至100元", G, D("50"), D("100"), "元"),
    ("50元-100元", G, D("50"), D("100"), "元"),
    ("[50,100]", G, D("50"), D("100"), ""),
    ("［50，100］元", G, D("50"), D("100"), "元"),
    ("90%—100%", G, D("90"), D("100"), "%"),
    (">=95%且<=100%", G, D("95"), D("100"), "%"),
    ("100-50元", G, D("50"), D("100"), "元"),  # written high-low: flagged range_swapped
    # a bare number: equals, flagged
    ("95%", E, D("95"), None, "%"),
    ("12个月", E, D("12"), None, "个月"),
    ("485.71万条", E, D("485.71"), None, "万条"),
    ("100%", E, D("100"), None, "%"),
    ("0%", E, D("0"), None, "%"),
    ("8小时", E, D("8"), None, "小时"),
    ("15万元/年", E, D("15"), None, "万元/年"),
    ("0.035元/条", E, D("0.035"), None, "元/条"),
    ("560", E, D("560"), None, ""),
]


@pytest.mark.parametrize(("text", "kind", "value", "upper", "unit"), QUANTITY_CASES, ids=[c[0] for c in QUANTITY_CASES])
def test_quantity(text, kind, value, upper, unit):
    target = parse_target(text)
    assert (target.kind, target.value, target.upper, target.unit) == (kind, value, upper, unit)
    assert target.raw == text
    assert isinstance(target.value, Decimal)


def test_cases_are_distinct_and_many():
    assert len({c[0] for c in QUANTITY_CASES}) == len(QUANTITY_CASES) >= 60


@pytest.mark.parametrize(
    ("text", "flags"),
    [
        ("95%", ("no_comparator",)),
        ("560", ("no_comparator",)),
        (">=95%", ()),
        ("=0%", ()),
        ("95%以上", ()),  # 以上 is a comparator
        (">90%", ("strict",)),
        ("< 3次", ("strict",)),
        ("约95%", ("approximate",)),
        ("100人左右", ("approximate",)),
        ("满意度≥95%", ("extra_text",)),
        (">=95%(2021年)", ("extra_text",)),
        (">=5%以内", ("conflicting_comparators",)),
        ("100-50元", ("range_swapped",)),
        ("=50-100元", ()),
    ],
)
def test_flags(text, flags):
    assert parse_target(text).flags == flags


def test_equals_word_and_suffix_direction():
    # "=" says nothing about direction: a word after the number does.
    assert parse_target("=5%以内").kind is R
    assert parse_target("=95%以上").kind is P
    assert parse_target("为100%").kind is E


# --- deadlines: (text, date, month, day, recurrence) ------------------------------------------------

DEADLINE_CASES = [
    ("每月25日前", None, None, 25, "month"),
    ("每月 25 日 前", None, None, 25, "month"),
    ("每月 20日前", None, None, 20, "month"),
    ("按月", None, None, None, "month"),
    ("按月发放", None, None, None, "month"),
    ("按季度", None, None, None, "quarter"),
    ("2021年12月31日", date(2021, 12, 31), 12, 31, ""),
    ("2021年12月31日前", date(2021, 12, 31), 12, 31, ""),
    ("2021年2月28日", date(2021, 2, 28), 2, 28, ""),
    ("于2021年6月30日前完成", date(2021, 6, 30), 6, 30, ""),
    ("2021.12", date(2021, 12, 31), 12, 31, ""),
    ("2021.6", date(2021, 6, 30), 6, 30, ""),
    ("2021-12-31", date(2021, 12, 31), 12, 31, ""),
    ("2021年12月", date(2021, 12, 31), 12, 31, ""),
    ("2021年12月底前", date(2021, 12, 31), 12, 31, ""),
    ("2021年1月-12月", date(2021, 12, 31), 12, 31, ""),  # a period: its end
    ("2021年1月至2021年6月", date(2021, 6, 30), 6, 30, ""),
    ("2021年", date(2021, 12, 31), 12, 31, ""),
    ("2021年底前", date(2021, 12, 31), 12, 31, ""),
    ("12月底前", None, 12, 31, ""),
    ("6月底", None, 6, 30, ""),
    ("12月31日前", None, 12, 31, ""),
    ("每年3月31日前", None, 3, 31, "year"),
    ("年底前", None, 12, 31, ""),
    ("年内完成", None, 12, 31, ""),
    ("上半年", None, 6, 30, ""),
]


@pytest.mark.parametrize(("text", "when", "month", "day", "recurrence"), DEADLINE_CASES, ids=[c[0] for c in DEADLINE_CASES])
def test_deadline(text, when, month, day, recurrence):
    target = parse_target(text)
    assert target.kind is DL
    assert (target.deadline_date, target.deadline_month, target.deadline_day, target.recurrence) == (
        when, month, day, recurrence)
    assert target.value is None and target.raw == text


def test_period_and_ambiguous_month_are_flagged():
    assert parse_target("2021年1月-12月").flags == ("period",)
    ambiguous = parse_target("6月前")
    assert (ambiguous.kind, ambiguous.deadline_month, ambiguous.deadline_day) == (DL, 6, None)
    assert ambiguous.flags == ("deadline_ambiguous",)


@pytest.mark.parametrize("text", ["2021年2月30日", "每月32日前", "2021年13月"])
def test_impossible_date_is_unknown(text):
    target = parse_target(text)
    assert (target.kind, target.flags) == (U, ("invalid_date",))


def test_number_that_looks_like_a_year_month_is_a_number():
    assert parse_target("=2021.12").kind is E  # with a comparator it is a value
    assert parse_target("2000.50").value == D("2000.50")  # no month 50
    assert parse_target("=2021年").kind is E


# --- qualitative and unknown --------------------------------------------------------------------------

QUALITATIVE = ["有效提升", "持续提高", "持续 提高", "保障", "长期", "逐步改善", "显著提高", "良好", "按时", "及时",
               "持续发挥", "有效保障", "提高", "提升", "≥持续提升", "不低于上年", "较上年提高5%"]


@pytest.mark.parametrize("text", QUALITATIVE)
def test_qualitative(text):
    target = parse_target(text)
    assert (target.kind, target.value, target.unit, target.raw) == (Q, None, "", text)


def test_qualitative_flags():
    assert parse_target("≥持续提升").flags == ("comparator_on_text",)
    assert parse_target("较上年提高5%").flags == ("has_number",)
    assert parse_target("及时").flags == ()


@pytest.mark.parametrize(
    "text",
    ["", "   ", "/", "-", "——", "abc", "N/A", "\x00\x01\x02", "\ufffd\ufffd", "≥", ">=%", "\x89PNG\r\n\x1a\n",
     "ÿØÿà\x00\x10JFIF", "满意\x00度"],
)
def test_unknown(text):
    target = parse_target(text)
    assert target.kind is U
    assert target.raw == text


@pytest.mark.parametrize("value", [None, 95, 9.5, D("95"), b">=95%", [">=95%"], object()])
def test_not_a_string_is_unknown(value):
    assert parse_target(value) == Target(kind=U, raw="")


def test_target_contract():
    """Other modules build Targets positionally (kind, value, upper, unit, raw, flags)."""
    target = Target(P, D("95"), None, "%", ">=95%", ())
    assert target == parse_target(">=95%")
    assert list(Target.__dataclass_fields__)[:6] == ["kind", "value", "upper", "unit", "raw", "flags"]
    with pytest.raises(AttributeError):
        target.kind = R  # frozen


# --- properties -----------------------------------------------------------------------------------------

NO_DB = settings(database=None, deadline=None)
binary_text = st.binary(max_size=200).map(lambda b: b.decode("latin-1"))


@settings(NO_DB, max_examples=400)
@given(st.one_of(st.text(), binary_text, st.text(alphabet="<>=≥≤＞＜＝%％.．0123456789０１万元次人月年日前-～至[],，以上内下 "
                                                      "\\$geqlslant{}每底按不低于超过控制在")))
@example("\ud800")  # a lone surrogate
@example("9" * 5000 + "万元")
def test_never_raises_and_keeps_raw(text):
    target = parse_target(text)
    assert isinstance(target, Target) and isinstance(target.kind, Kind)
    assert target.raw == text
    if target.kind in (P, R, E):
        assert isinstance(target.value, Decimal) and target.upper is None
    if target.kind is G:
        assert target.value <= target.upper
    if target.kind in (Q, U, DL):
        assert target.value is None and target.upper is None
    assert len(target.unit) <= 20


UNITS = ["", "%", "万元", "元", "元/人/月", "万元/月", "次", "人次", "万人次", "个月", "月", "年", "平方米", "万条", "件",
         "小时", "个工作日", "‰", "m2"]
TEMPLATES = [
    (">={v}{u}", P), ("≥{v}{u}", P), ("＞＝{v}{u}", P), ("≧{v}{u}", P), ("=>{v}{u}", P), (">{v}{u}", P),
    ("＞{v}{u}", P), ("不低于{v}{u}", P), ("不少于{v}{u}", P), ("大于等于{v}{u}", P), ("大于{v}{u}", P),
    ("高于{v}{u}", P), ("至少{v}{u}", P), ("达到{v}{u}", P), ("{v}{u}以上", P), ("$\\geq {v}{lu}$", P),
    ("\\geqslant {v}{u}", P), ("\\ge{v}{u}", P),
    ("<={v}{u}", R), ("≤{v}{u}", R), ("＜＝{v}{u}", R), ("≦{v}{u}", R), ("=<{v}{u}", R), ("<{v}{u}", R),
    ("不高于{v}{u}", R), ("不超过{v}{u}", R), ("小于等于{v}{u}", R), ("小于{v}{u}", R), ("低于{v}{u}", R),
    ("控制在{v}{u}以内", R), ("{v}{u}以内", R), ("{v}{u}以下", R), ("$\\leq {v}{lu}$", R),
    ("={v}{u}", E), ("＝{v}{u}", E),
]
# Templates whose comparator is plain text in front of the number: spaces may fall anywhere in it.
SPACEABLE = [(t, k) for t, k in TEMPLATES if t.endswith("{v}{u}") and "\\" not in t]

values = st.builds(lambda n, places: D(n).scaleb(-places), st.integers(0, 10**9), st.integers(0, 3))


def _number(value: Decimal, thousands: bool) -> str:
    return format(value, ",f" if thousands else "f")


@NO_DB
@given(st.sampled_from(TEMPLATES), values, st.sampled_from(UNITS), st.booleans())
def test_round_trip(template, value, unit, thousands):
    pattern, kind = template
    text = pattern.format(v=_number(value, thousands), u=unit, lu=unit.replace("%", "\\%"))
    target = parse_target(text)
    assert (target.kind, target.value, target.upper, target.unit) == (kind, value, None, unit), text


def _sprinkle(text: str, gaps: list[bool]) -> str:
    """Put a space (or two) into the gaps of `text` where `gaps` says so."""
    out = [text[0]] if text else []
    for ch, gap in zip(text[1:], gaps + [False] * len(text)):
        out.append((" " if gap else "") + ch)
    return "".join(out)


@NO_DB
@given(st.sampled_from(SPACEABLE), values, st.sampled_from(UNITS), st.lists(st.booleans(), max_size=8))
def test_spaces_inside_the_operator_change_nothing(template, value, unit, gaps):
    pattern, _ = template
    operator = pattern.split("{v}")[0]
    plain = pattern.format(v=_number(value, False), u=unit)
    spaced = _sprinkle(operator, gaps) + " " + plain[len(operator):]
    a, b = parse_target(plain), parse_target(spaced)
    assert (a.kind, a.value, a.upper, a.unit, a.flags) == (b.kind, b.value, b.upper, b.unit, b.flags), spaced


@NO_DB
@given(st.sampled_from(TEMPLATES[:3] + TEMPLATES[18:21]), values, st.sampled_from(UNITS), st.lists(st.booleans()))
def test_spaces_inside_the_number_and_unit_change_nothing(template, value, unit, gaps):
    pattern, kind = template
    body = _sprinkle(_number(value, False) + unit, gaps)
    target = parse_target(pattern.format(v=body, u="", lu=""))
    assert (target.kind, target.value, target.unit) == (kind, value, unit)


FULL_WIDTH = str.maketrans("0123456789.%=<>", "０１２３４５６７８９．％＝＜＞")


@NO_DB
@given(st.sampled_from([t for t in TEMPLATES if "\\" not in t[0]]), values, st.sampled_from(UNITS))
def test_full_width_changes_nothing(template, value, unit):
    pattern, kind = template
    text = pattern.format(v=_number(value, False), u=unit)
    a, b = parse_target(text), parse_target(text.translate(FULL_WIDTH))
    assert (a.kind, a.value, a.unit) == (b.kind, b.value, b.unit)


# --- every 指标值 cell of the published seeds --------------------------------------------------------------

# Every distinct cell of the seeds, by the kind it must parse to.
SEED_KINDS: dict[Kind, tuple[str, ...]] = {
    Kind.POSITIVE: (
        "≥95%", "≥200", "≥95", "≥80.9", "≥168次", "≥6", "≥500", "≥2次", "≥10", "≥20000", "≥70%", "≥90%", "≥80%",
        "≥14 万人 次", "≥12 次", "≥10 万人次", ">=5000 人次", ">=12 次", ">=2%", ">=95%", "> =175 万人", ">=4 次",
        ">=95% %", ">=83人", ">=24人", ">=12次", "> =576 人次", ">=90%", "> =456 人次", ">=20个", ">=99%",
        "$\\geq 98\\%$", "$\\geq 92\\%$", "$\\geq 99\\%$", ">=2 个", "> =99%", "> =485.71万条", ">=18173.63平方米",
        ">=2个", ">=1次", ">=3次", ">=80%", ">=98%",
    ),
    Kind.REVERSE: (
        "≤40", "≤15", "≤95", "≤20", "≤62", "≤10万元", "≤35", "≤3万元", "≤30", "≤300", "< =4632 元", "<=9 万元",
        "<=2 万元", "<=109元/人/月", "<=1100元/人/年", "<=120元/人/月", "<=560元/人/年", "<=8小时", "<=3.25万元/季度",
        "<=1.42万元/月", "<=1万元/月", "<=4.33万元/月", "<=4.3万元", "<=5%", "<=13万元/年", "<=12万元/年", "<=6万元",
        "<=9.5万元", "≤6万元/单位",
    ),
    Kind.EQUALS: (
        "=13440", "=100%", "=1440", "=162", "=1485", "=84", "=120 元/人 /月", "=120 元/人/月", "=7 个月", "=12次",
        "=8人", "=12人", "=515平方米", "=38组", "=12个月", "=1 次", "=4次", "=12月", "=99%", "=3个",
        # bare numbers (flag no_comparator)
        "1", "100%", "560", "4", "53", "0%", "8小时", "1小时", "2年", "15万元/年", "12", "15", "20", "8年", "0.035元/条",
    ),
    Kind.DEADLINE: (
        "2021年1月-12月", "2021年12月31日", "2021.12", "2021年2月28日", "每月 25 日 前", "每月 25 日前", "每月 20日前",
        "每月25日前",
    ),
    Kind.QUALITATIVE: (
        "提高", "长期", "提升", "持续 提高", "持续提高", "有效 提升", "持续 提升", "有效 提高", "有效提高", "有效提升",
        "有效保障",
    ),
}
SEED_KIND = {text: kind for kind, texts in SEED_KINDS.items() for text in texts}
TRULY_UNREADABLE: frozenset[str] = frozenset()  # none in the seeds


@pytest.mark.parametrize(("text", "kind"), SEED_KIND.items(), ids=list(SEED_KIND))
def test_seed_form(text, kind):
    target = parse_target(text)
    assert target.kind is kind
    assert ("no_comparator" in target.flags) == (kind is E and text[0] != "=")


_TAG = re.compile(r"</?b>")


def tab_table_targets(text: str) -> list[str]:
    """指标值 cells of tab-separated goal tables (2025/2026 files): the column is found from the header row."""
    cells_found, column, in_goal_table = [], None, False
    for line in text.splitlines():
        if "\t" not in line:
            heading = line.strip().lstrip("#").strip()
            if heading.endswith("绩效目标表"):
                in_goal_table, column = True, None
            elif heading and not re.fullmatch(r"[(（]\s*\d{4}\s*年\s*[)）]", heading):
                in_goal_table, column = False, None  # a paragraph: the table is over
            continue
        if not in_goal_table:
            continue
        cells = [_TAG.sub("", c).strip() for c in line.split("\t")]
        if "指标值" in cells:
            column = cells.index("指标值")
        elif column is not None and len(cells) > column + 1 and cells[column] and set(cells[column]) != {"-"}:
            cells_found.append(cells[column])
    return cells_found


def one_cell_a_line_targets(text: str) -> list[str]:
    """指标值 cells of the 2021 layout: after the header, each row is a group of 4 tab-indented lines
    (一级, 二级, 三级, 指标值; blank cells kept as a lone tab), groups separated by an empty line."""
    lines, cells_found, i = text.splitlines(), [], 0
    while i < len(lines):
        if not lines[i].strip().startswith("指标值（"):
            i += 1
            continue
        i += 1
        while True:
            while i < len(lines) and lines[i] == "":
                i += 1
            group = []
            while i < len(lines) and lines[i] != "":
                group.append(lines[i])
                i += 1
            if len(group) != 4 or not all(g.startswith("\t") for g in group):
                break
            cells_found.append(group[3].strip())
    return cells_found


def seed_cells() -> dict[str, list[str]]:
    if not SEEDS.is_dir():
        pytest.skip(f"../shared/seeds not found: {SEEDS} (the published disclosures live beside the repository)")
    found = {}
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        found[path.name] = tab_table_targets(text) if "\t指标值\t" in _TAG.sub("", text) else one_cell_a_line_targets(text)
    if not found:
        pytest.skip(f"../shared/seeds not found: no *.txt in {SEEDS}")
    return found


def test_every_seed_target_is_read():
    cells = seed_cells()
    for name, targets in cells.items():
        assert len(targets) >= 30, f"{name}: only {len(targets)} 指标值 cells found, the extractor lost the tables"
    unreadable, wrong = [], []
    for name, targets in cells.items():
        for text in targets:
            kind = parse_target(text).kind
            if kind is U and text not in TRULY_UNREADABLE:
                unreadable.append((name, text))
            if text in SEED_KIND and kind is not SEED_KIND[text]:
                wrong.append((name, text, kind.value, SEED_KIND[text].value))
    assert not unreadable, f"unreadable 指标值 cells: {unreadable}"
    assert not wrong, f"wrong kind (file, text, got, expected): {wrong}"


def test_seed_kinds_list_covers_the_seeds():
    """SEED_KINDS is the reviewed list of the seeds' forms: a new form in the seeds must be added to it."""
    missing = sorted({text for targets in seed_cells().values() for text in targets} - set(SEED_KIND))
    assert not missing, f"add these seed cells to SEED_KINDS with their expected kind: {missing}"


@pytest.mark.parametrize(("raw", "shown"), [
    (r"$\geq 98\%$", "≥98%"),
    ("> =485.71万条", "≥485.71万条"),
    ("< =2.50 万元", "≤2.50万元"),
    (">= 95 %%", "≥95%"),
    ("=100%", "=100%"),
    ("每月25日前", "每月25日前"),
    ("有效提升", "有效提升"),
    ("", ""),
])
def test_target_text_shows_a_target_as_a_person_writes_it(raw, shown):
    from kpi.targets import target_text

    assert target_text(raw) == shown


def test_the_template_tag_keeps_the_raw_text_one_click_away():
    from kpi.templatetags.kpi_format import target_shown

    assert target_shown("=100%") == '<span class="target">=100%</span>'
    html = target_shown(r"$\geq 98\%$")
    assert "<summary>≥98%</summary>" in html and r"原文：$\geq 98\%$" in html


# --- target grammar seen in other regions' tables (issue 11) -------------------------------------------------

@pytest.mark.parametrize(("text", "kind", "value", "unit"), [
    ("═100%", E, D("100"), "%"),  # box-drawing U+2550
    (">═95%", P, D("95"), "%"),
    ("＞═ 95%", P, D("95"), "%"),
    ("<═5%", R, D("5"), "%"),
    ("〓12个月", E, D("12"), "个月"),
    ("⁼3次", E, D("3"), "次"),
    ("≽90%", P, D("90"), "%"),
    ("≼2万元", R, D("2"), "万元"),
])
def test_look_alike_comparators(text, kind, value, unit):
    target = parse_target(text)
    assert (target.kind, target.value, target.unit) == (kind, value, unit)


def test_approximately_equal_sign_reads_as_yue():
    target = parse_target("≈95%")
    assert (target.kind, target.value, target.unit, target.flags) == (E, D("95"), "%", ("approximate",))


@pytest.mark.parametrize(("text", "when"), [
    ("2020年1月--2020年11月", date(2020, 11, 30)),
    ("2020年1月——2020年11月", date(2020, 11, 30)),
    ("2023.07-2024.01", date(2024, 1, 31)),
    ("2023.7.1-2024.1.15", date(2024, 1, 15)),
    ("2023/07-2024/06", date(2024, 6, 30)),
    ("2023年7月至2024年1月", date(2024, 1, 31)),
    ("2023年7月到2024年1月底", date(2024, 1, 31)),
])
def test_periods_are_deadlines_at_their_end(text, when):
    target = parse_target(text)
    assert (target.kind, target.deadline_date, target.flags) == (DL, when, ("period",))
    assert target.value is None


def test_a_dotted_period_with_an_impossible_month_is_unknown():
    assert parse_target("2023.13-2024.01").kind is not DL


@pytest.mark.parametrize(("text", "value", "unit"), [
    ("17元/人.每天", D("17"), "元/人.每天"),
    ("=17元/人·每天", D("17"), "元/人·每天"),
    ("≤30元/人・次", D("30"), "元/人・次"),
    ("≥1.5万元", D("1.5"), "万元"),  # a decimal point stays a decimal point
])
def test_units_after_a_dot_stay_whole(text, value, unit):
    target = parse_target(text)
    assert (target.value, target.unit) == (value, unit)


@pytest.mark.parametrize(("text", "flag"), [
    ("≤****000元", "masked"),
    ("≥**%", "masked"),
    ("≥1**万元", "masked"),
    ("不低于****人次", "masked"),
    ("XX万元", "masked"),
    ("M.8万元", "ocr_broken"),
    ("≥l0次", "ocr_broken"),
    ("≤O.5万元", "ocr_broken"),
])
def test_masked_or_broken_numbers_are_unknown_never_qualitative(text, flag):
    target = parse_target(text)
    assert (target.kind, target.flags) == (U, (flag,))


@pytest.mark.parametrize("text", ["-", "—", "——", "－", "/", "--"])
def test_a_lone_dash_is_unknown(text):
    assert parse_target(text).kind is U


@pytest.mark.parametrize("text", ["较上年提高5%", "A级", "有效提升", "≥持续提升"])
def test_text_with_a_number_or_a_letter_is_still_qualitative(text):
    assert parse_target(text).kind is Q


def test_a_cell_longer_than_300_characters_is_refused():
    from kpi.targets import MAX_TARGET_LENGTH

    assert MAX_TARGET_LENGTH == 300
    assert parse_target("提" * 300).kind is Q
    long = ">=95%" + "，说明" * 100
    target = parse_target(long)
    assert (target.kind, target.flags, target.raw) == (U, ("too_long",), long)


@pytest.mark.parametrize(("text", "expected"), [
    ("万人", True), ("%", True), ("元/人/年", True), ("万元/年", True), ("平方米", True), ("次/年", True),
    ("个", True), ("人次", True), ("小时", True), ("元/人.每天", True),
    ("退职", False), ("含丧葬费", False), ("2021年", False), ("", False), ("人员生活补贴资金", False),
])
def test_looks_like_unit(text, expected):
    from kpi.targets import looks_like_unit

    assert looks_like_unit(text) is expected


# --- linear time ---------------------------------------------------------------------------------------------

PATHOLOGICAL = {  # shapes that make a backtracking pattern slow, 100,000 characters each
    "digits after a reverse bound": lambda n: ">=5<" + "1" * (n - 5) + "!",
    "one long number": lambda n: "1" * n,
    "dots": lambda n: "1." * (n // 2),
    "dashes": lambda n: "=" + "1-" * (n // 2),
    "operators": lambda n: ">=" * (n // 2),
    "dates": lambda n: "2021年1月-" * (n // 8),
    "unit slashes": lambda n: ">=1" + "元/" * (n // 2),
    "m2 units": lambda n: ">=1" + "m2" * (n // 2),
    "bounds": lambda n: ">=1%且" * (n // 5),
    "masks": lambda n: "≤" + "*" * n + "000元",
    "spaces": lambda n: "> =" + " 1" * (n // 2),
    "latex": lambda n: "$\\geq" * (n // 5),
    "chinese": lambda n: "提" * n,
    "brackets": lambda n: "[1," + "1" * n,
}


def test_parse_target_is_linear_on_pathological_cells(capsys):
    """Every shape of 100,000 characters is read by the grammar itself (below the 300-character refusal)
    in a few milliseconds; the timings are printed, not asserted (CI machines differ)."""
    import time

    from kpi.targets import _parse

    grammar = _parse.__wrapped__  # the parser without the cache and without the length refusal
    timings = []
    for name, make in PATHOLOGICAL.items():
        text = make(100_000)
        start = time.perf_counter()
        target = grammar(text)
        timings.append((name, len(text), time.perf_counter() - start))
        assert isinstance(target, Target) and target.raw == text
        assert parse_target(text).flags == ("too_long",)
    with capsys.disabled():
        print()
        for name, length, seconds in timings:
            print(f"  parse_target grammar, {name:<28} {length:>7} chars: {seconds * 1000:8.1f} ms")
