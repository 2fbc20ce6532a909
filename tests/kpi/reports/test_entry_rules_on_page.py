"""Values that cannot be true are refused beside their field with the reason; a number typed with 万 is read
in the field's unit and says so beside the field (and after saving, in the message)."""
from decimal import Decimal

import pytest

from kpi.models import Actual

from .conftest import entry_data, errors_in, page_url, row_html

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("name", "typed", "reason"), [
    ("满意度", "101", "不能超过 100%"),
    ("满意度", "-3", "不能为负数"),
    ("参保人数", "-5", "不能为负数"),
    ("培训人次", "-1", "不能为负数"),
])
def test_an_impossible_value_is_refused_beside_its_field_with_the_reason(client, setup, name, typed, reason):
    indicator = setup.named(name)
    client.force_login(setup["lead"])
    response = client.post(page_url(setup["table"]), entry_data({indicator: {"value": typed}}))
    page = response.content.decode()
    assert response.status_code == 200 and "有填写错误" in page
    row = row_html(page, indicator)
    assert f'name="i{indicator.pk}-value" value="{typed}"' in row  # kept as typed
    assert any(reason in error for error in errors_in(row)), errors_in(row)
    assert not Actual.objects.exists()


def test_a_rate_above_100_says_it_is_a_percentage(client, setup):
    indicator = setup.named("满意度")
    client.force_login(setup["lead"])
    row = row_html(client.post(page_url(setup["table"]), entry_data({indicator: {"value": "101"}})).content.decode(),
                   indicator)
    assert "是百分比，不能超过 100%（填写的是 101%）" in row


@pytest.mark.parametrize(("name", "unit", "stored", "note"), [
    ("认证人数", "万人", Decimal("3.1"), "“3.1万”已按 3.1万人 读取。"),
    ("参保人数", "人", Decimal("31000"), "“3.1万”已按 31000人 读取。"),
])
def test_a_number_typed_with_wan_is_read_in_the_fields_unit_with_a_note(client, setup, name, unit, stored, note):
    indicator, satisfaction = setup.named(name), setup.named("满意度")
    client.force_login(setup["lead"])
    # shown beside the field when the page comes back for another field's error …
    page = client.post(page_url(setup["table"]), entry_data({
        indicator: {"value": "3.1万"}, satisfaction: {"value": "101"},
    })).content.decode()
    row = row_html(page, indicator)
    assert note in row and 'class="note"' in row and 'value="3.1万"' in row
    assert errors_in(row) == []
    # … and said when it is saved
    response = client.post(page_url(setup["table"]), entry_data({
        indicator: {"value": "3.1万"}, satisfaction: {"value": "95"},
    }), follow=True)
    page = response.content.decode()
    assert f"“{indicator.name}”：{note}" in page
    assert Actual.objects.get(indicator=indicator).value == stored
    assert f'name="i{indicator.pk}-value" value="{stored.normalize():f}"' in page
