"""Where a target stands among other units' targets (kpi/library/peers.py, pure)."""
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpi.library import peers

D = Decimal
values = st.decimals(min_value=0, max_value=1000, places=2, allow_nan=False, allow_infinity=False)


@pytest.mark.parametrize(("own", "others", "reverse", "text"), [
    # 9 of 10 others set a higher rate: a positive target below them is the loose one
    (D("90"), [D("95")] * 9 + [D("80")], False, "低于同类单位 90% 的目标值（中位数 95%，目标偏宽松）"),
    (D("99"), [D("95"), D("96"), D("97"), D("100")], False, "高于同类单位 75% 的目标值（中位数 96.5%，目标较严）"),
    (D("95"), [D("95"), D("95"), D("90"), D("98")], False, "与多数同类单位相同（中位数 95%）"),
    # a reverse indicator (a cost): a low target is the strict one
    (D("40"), [D("50"), D("60"), D("55")], True, "低于同类单位 100% 的目标值（中位数 55%，目标较严）"),
    (D("70"), [D("50"), D("60"), D("55")], True, "高于同类单位 100% 的目标值（中位数 55%，目标偏宽松）"),
    (D("55"), [D("50"), D("60"), D("55"), D("58")], False, "处于同类单位中间水平（中位数 56.5%）"),
])
def test_notes(own, others, reverse, text):
    result = peers.standing(own, others, reverse=reverse)
    assert peers.standing_text(result, "%") == text


def test_fewer_than_three_others_say_nothing():
    assert peers.standing(D("1"), [D("2"), D("3")]) is None


@given(own=values, others=st.lists(values, min_size=3, max_size=30), reverse=st.booleans())
def test_percent_is_a_share_of_the_others(own, others, reverse):
    result = peers.standing(own, others, reverse=reverse)
    assert 0 <= result.percent <= 100 and result.peers == len(others)
    if result.position == peers.BELOW:
        assert sum(v > own for v in others) * 2 > len(others)
    if result.position == peers.ABOVE:
        assert sum(v < own for v in others) * 2 > len(others)
    assert min(others) <= result.median <= max(others)


@given(own=values, others=st.lists(values, min_size=3, max_size=30))
def test_direction_flips_the_judgement_never_the_position(own, others):
    positive, reverse = peers.standing(own, others), peers.standing(own, others, reverse=True)
    assert positive.position == reverse.position and positive.percent == reverse.percent
    if positive.ambitious is None:
        assert reverse.ambitious is None
    else:
        assert positive.ambitious is not reverse.ambitious


@given(own=values, bump=st.decimals(min_value=D("0.01"), max_value=100, places=2), others=st.lists(values, min_size=3, max_size=30))
def test_a_higher_target_is_never_below_more_others(own, bump, others):
    # raising one's target never increases the share of others above it
    def above(value):
        return sum(v > value for v in others)
    assert above(own + bump) <= above(own)
    low, high = peers.standing(own, others), peers.standing(own + bump, others)
    if low.position == peers.ABOVE:
        assert high.position == peers.ABOVE
    if high.position == peers.BELOW:
        assert low.position == peers.BELOW


@given(own=values, n=st.integers(min_value=3, max_value=20))
def test_all_the_same_is_the_same(own, n):
    result = peers.standing(own, [own] * n)
    assert result.position == peers.SAME and result.percent == 100 and result.ambitious is None
