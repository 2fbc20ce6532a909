"""POST /tables/{id}/reports/: the report page's rules (its very forms) with per-entry Chinese messages, the
year's and the report's state (409), a newer save (409, nothing overwritten), Idempotency-Key."""
import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from kpi.models import Actual, GoalTable, Report
from kpi.reports.services import actual_record, report_submit

from .conftest import JULY, close_year, entry, open_year

pytestmark = pytest.mark.django_db


def url(table):
    return reverse("api:table-reports", args=[table.pk])


def body(*entries, as_of="2026-07-31"):
    return {"as_of": as_of, "entries": list(entries)}


def test_the_lead_records_a_draft_of_every_kind_of_entry(world, api):
    response = api("lead").post(url(world.table), body(
        entry(world.named("培训人次"), value="80", forecast="140"),
        entry(world.named("完成时间"), met=True),
        entry(world.named("服务质量"), grade="达成年度指标", points="18"),
    ))
    assert response.status_code == 201, response.json()
    report = response.json()
    assert report["status"] == "draft" and report["as_of"] == "2026-07-31" and report["saved"] == 3
    assert report["created_by"] == "王芳" and report["table"] == world.table.pk
    by_indicator = {e["indicator"]: e for e in report["entries"]}
    assert by_indicator[world.named("培训人次").pk]["value"] == "80"
    assert by_indicator[world.named("培训人次").pk]["forecast"] == "140"
    assert by_indicator[world.named("完成时间").pk]["met"] is True
    assert by_indicator[world.named("服务质量").pk]["points"] == "18.00"
    assert Actual.objects.filter(report_id=report["id"], recorded_by=world.people["lead"]).count() == 3
    assert GoalTable.objects.get(pk=world.table.pk).is_stale  # to be rescored, as after the page's save


def test_a_number_typed_with_wan_is_read_in_the_indicators_unit_with_a_note(world, api):
    from tests.factories import IndicatorFactory

    people = IndicatorFactory(table=world.table, name="参保人数", target_raw=">=30000人", weight=Decimal("0"))
    response = api("lead").post(url(world.table), body(entry(people, value="3.1万")))
    assert response.status_code == 201
    assert response.json()["notes"] == {str(people.pk): {"value": "“3.1万”已按 31000人 读取。"}}
    assert Actual.objects.get(indicator=people).value == Decimal("31000")


# --- the page's rules, entry by entry -----------------------------------------------------------------

CASES = [
    # (indicator, what the API sends, what the report page's row posts)
    ("满意度", {"value": "101"}, {"value": "101"}),
    ("满意度", {"value": "-3"}, {"value": "-3"}),
    ("培训人次", {"value": "八十"}, {"value": "八十"}),
    ("培训人次", {"value": "12%"}, {"value": "12%"}),
    ("培训人次", {"forecast": "120"}, {"forecast": "120"}),
    ("培训人次", {"value": "20"}, {"value": "20"}),  # far behind plan: a deviation reason and its category
    ("培训人次", {"value": "80", "needs_rectification": True}, {"value": "80", "needs_rectification": "1"}),
    ("服务质量", {"grade": "达成年度指标", "points": "5"}, {"grade": "达成年度指标", "points": "5"}),
    ("服务质量", {"grade": "达成年度指标"}, {"grade": "达成年度指标"}),
    ("服务质量", {"grade": "很好", "points": "18"}, {"grade": "很好", "points": "18"}),
]


def page_errors(client, world, indicator, fields) -> set[str]:
    """The messages the report page shows in the indicator's row for the same values."""
    data = {"as_of": "2026-07-31", "action": "save", f"i{indicator.pk}-base": ""}
    data.update({f"i{indicator.pk}-{name}": value for name, value in fields.items()})
    page = client.post(f"{reverse('reports:table', args=[world.table.pk])}?as_of=2026-07-31", data).content.decode()
    start = page.index(f'<tr id="i{indicator.pk}"')
    row = page[start:page.index("</tr>", start)]
    return set(re.findall(r'<span class="error">([^<]*)</span>', row))


@pytest.mark.parametrize(("name", "sent", "posted"), CASES)
def test_an_entry_gets_the_same_messages_as_on_the_report_page(client, world, api, name, sent, posted):
    indicator = world.named(name)
    response = api("lead").post(url(world.table), body(entry(world.named("合格率"), value="96"),
                                                       entry(indicator, **sent)))
    assert response.status_code == 400
    errors = response.json()["errors"]["entries"]
    assert errors[0] == {}  # the right one is fine, and nothing of it is saved either
    messages = {m for field in errors[1].values() for m in field}
    client.force_login(world.people["lead"])
    from html import unescape

    assert messages == {unescape(m) for m in page_errors(client, world, indicator, posted)} != set()
    assert not Actual.objects.exists()


def test_a_choice_outside_the_lists_is_refused(world, api):
    """The page offers these as lists (a select can send no other value); the API says which are allowed."""
    response = api("lead").post(url(world.table), body(entry(world.named("培训人次"), value="80", likelihood="也许",
                                                             deviation_category="天气")))
    assert response.json()["errors"]["entries"] == [{
        "likelihood": ["选择一个有效的选项。 也许 不在可用的选项中。"],
        "deviation_category": ["选择一个有效的选项。 天气 不在可用的选项中。"],
    }]


def test_a_field_of_another_way_of_entering_is_refused(world, api):
    response = api("lead").post(url(world.table), body(entry(world.named("培训人次"), met=True),
                                                       entry(world.named("完成时间"), value="1")))
    errors = response.json()["errors"]["entries"]
    assert errors == [{"met": ["该指标的填报方式为 number，不填 met：请填写 value（及 forecast）。"]},
                      {"value": ["该指标的填报方式为 met，不填 value：请填写 met（true 或 false）。"]}]


def test_indicators_of_another_table_twice_or_not_applicable_are_refused(world, api):
    from kpi.goals.services import indicator_set_not_applicable

    not_applicable = indicator_set_not_applicable(indicator=world.named("满意度"), not_applicable=True,
                                                  reason="本年度不开展测评")
    other = world.other_table.indicators.first()
    response = api("lead").post(url(world.table), body(
        entry(world.named("培训人次"), value="80"), entry(world.named("培训人次"), value="81"),
        entry(other, value="1"), entry(not_applicable, value="95"), {"indicator": "x"}, "not an object",
        entry(world.named("合格率"), value="96", note="多余"),
    ))
    assert response.status_code == 400
    errors = response.json()["errors"]["entries"]
    assert errors[0] == {}
    assert errors[1] == {"indicator": ["同一指标在 entries 中只能出现一次。"]}
    assert errors[2] == {"indicator": ["该指标不属于此绩效目标表。"]}
    assert errors[3] == {"indicator": ["该指标已标记为不适用，不能填报实际完成值。"]}
    assert list(errors[4]) == ["indicator"]
    assert errors[5] == {"non_field_errors": ["每条填报应为 JSON 对象。"]}
    assert errors[6] == {"note": ["未知字段“note”。"]}


@pytest.mark.parametrize(("sent", "field", "message"), [
    ({"entries": []}, "as_of", "这个字段是必填项。"),
    ({"as_of": "2026-13-01", "entries": []}, "as_of", "日期格式错误"),
    ({"as_of": "2025-07-31", "entries": [{}]}, "as_of", "截至日期“2025-07-31”无效，应为 2026 年内的日期（如 2026-07-31）。"),
    ({"as_of": "2026-07-31", "entries": []}, "entries", "请以列表给出至少一个指标的填报"),
    ({"as_of": "2026-07-31", "entries": {}}, "entries", "请以列表给出至少一个指标的填报"),
    ({"as_of": "2026-07-31", "entries": [{}], "action": "submit"}, "action", "未知字段“action”。"),
])
def test_a_wrong_report_body_says_which_part(world, api, sent, field, message):
    response = api("lead").post(url(world.table), sent)
    assert response.status_code == 400
    assert any(message in m for m in response.json()["errors"][field]), response.json()


def test_a_body_that_is_not_json_is_400(world, api):
    client = api("lead")
    response = client.client.post(url(world.table), "{oops", content_type="application/json", headers=client.headers)
    assert response.status_code == 400 and response.json()["detail"].startswith("请求体不是有效的 JSON")


# --- state: closed years, submitted reports, newer saves ----------------------------------------------

def test_a_closed_year_refuses_with_409_and_a_chinese_message(world, api):
    close_year(world.unit)
    response = api("lead").post(url(world.table), body(entry(world.named("培训人次"), value="80")))
    assert response.status_code == 409
    assert response.json()["detail"] == "2026 年度已关账，数据只读；如需修改，请单位管理员先重新开放该年度并说明原因。"
    assert not Actual.objects.exists()


def test_a_submitted_report_takes_no_change_until_withdrawn(world, api):
    actual = actual_record(indicator=world.named("培训人次"), as_of=JULY, value=Decimal("80"), user=world.people["lead"])
    report_submit(report=actual.report, user=world.people["lead"])
    response = api("lead").post(url(world.table), body(entry(world.named("培训人次"), value="90")))
    assert response.status_code == 409 and "已提交，正在等待审核" in response.json()["detail"]
    assert Actual.objects.count() == 1


def test_a_newer_save_of_the_same_indicator_is_a_409_and_nothing_is_overwritten(world, api):
    lead, admin = api("lead"), api("admin")
    count = world.named("培训人次")
    first = lead.post(url(world.table), body(entry(count, value="80"))).json()["entries"][0]["id"]
    # the administrator corrects it, having seen the lead's value
    second = admin.post(url(world.table), body(entry(count, value="85", base=first))).json()["entries"][0]["id"]
    # the lead, still looking at their own value, changes it again
    response = lead.post(url(world.table), body(entry(world.named("合格率"), value="96"),
                                                entry(count, value="90", base=first)))
    assert response.status_code == 409
    assert response.json()["detail"] == "有指标在您提交之前已被他人更新，未保存任何内容。"
    assert response.json()["errors"]["entries"] == [
        {}, {"base": [f"保存期间 刘敏 已更新该指标（现值为第 {second} 号记录）：请核对后以 base={second} 再次提交。"]}]
    assert list(Actual.objects.order_by("id").values_list("value", flat=True)) == [Decimal("80"), Decimal("85")]
    # the same value as now is no conflict; with the new base the change goes through
    again = lead.post(url(world.table), body(entry(count, value="90", base=second)))
    assert again.status_code == 201 and again.json()["entries"][0]["replaces"] == second


def test_nothing_changed_is_200_with_the_report_of_the_date(world, api):
    lead = api("lead")
    created = lead.post(url(world.table), body(entry(world.named("培训人次"), value="80"))).json()
    response = lead.post(url(world.table), body(entry(world.named("培训人次"), value="80"),
                                                entry(world.named("合格率"))))
    assert response.status_code == 200
    assert response.json()["id"] == created["id"] and response.json()["saved"] == 0
    assert Actual.objects.count() == 1
    nothing = api("admin").post(url(world.unit_table), body(entry(world.unit_indicators[0])))
    assert nothing.status_code == 400 and nothing.json()["detail"] == "没有填写任何实际完成值，未保存。"


@pytest.mark.parametrize(("role", "table", "status"), [
    ("reviewer", "table", 403), ("outsider", "table", 404), ("lead", "unit_table", 404), ("lead", "other_table", 404),
    ("admin", "unit_table", 201), ("superuser", "other_table", 201), ("readonly", "table", 403),
])
def test_who_may_record(world, api, role, table, status):
    target = getattr(world, table)
    response = api(role).post(url(target), body(entry(target.indicators.order_by("order").first(), value="97")))
    assert response.status_code == status, response.json()
    if role == "reviewer":
        assert response.json()["detail"] == "只有项目负责人或单位管理员可以填报。"


# --- Idempotency-Key ---------------------------------------------------------------------------------

def test_a_retried_post_with_the_same_key_returns_the_first_result(world, api):
    lead = api("lead")
    sent = body(entry(world.named("培训人次"), value="80"))
    first = lead.post(url(world.table), sent, **{"Idempotency-Key": "sync-2026-07-31"})
    retry = lead.post(url(world.table), sent, **{"Idempotency-Key": "sync-2026-07-31"})
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json() and retry["Idempotent-Replayed"] == "true"
    assert Actual.objects.count() == 1
    # the same key for another request is refused; another key runs
    other = lead.post(url(world.table), body(entry(world.named("培训人次"), value="81")),
                      **{"Idempotency-Key": "sync-2026-07-31"})
    assert other.status_code == 422 and "已用于另一个请求" in other.json()["detail"]
    assert lead.post(url(world.table), body(entry(world.named("培训人次"), value="81")),
                     **{"Idempotency-Key": "sync-2"}).status_code == 201


def test_a_key_is_per_user(world, api):
    sent = body(entry(world.named("培训人次"), value="80"))
    assert api("lead").post(url(world.table), sent, **{"Idempotency-Key": "k"}).status_code == 201
    response = api("admin").post(url(world.table), sent, **{"Idempotency-Key": "k"})
    assert response.status_code == 200 and not response.has_header("Idempotent-Replayed")  # ran: nothing changed


def test_after_an_error_the_same_key_runs_again(world, api):
    close_year(world.unit)
    sent = body(entry(world.named("培训人次"), value="80"))
    assert api("lead").post(url(world.table), sent, **{"Idempotency-Key": "k"}).status_code == 409
    open_year(world.unit)
    response = api("lead").post(url(world.table), sent, **{"Idempotency-Key": "k"})
    assert response.status_code == 201 and not response.has_header("Idempotent-Replayed")


def test_a_key_too_long_is_400(world, api):
    response = api("lead").post(url(world.table), body(entry(world.named("培训人次"), value="80")),
                                **{"Idempotency-Key": "k" * 256})
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["errors"]


def test_a_report_after_the_year_is_over_reports_as_of_its_last_day(world, api):
    response = api("lead").post(url(world.table), body(entry(world.named("培训人次"), value="120"),
                                                       as_of="2026-12-31"))
    assert response.status_code == 201
    assert Report.objects.get(pk=response.json()["id"]).as_of == dt.date(2026, 12, 31)
