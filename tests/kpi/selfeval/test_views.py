"""The 绩效自评 pages: downloads for whoever may see the table, the unit page for its administrators and
reviewers, 404 for everyone else."""
import zipfile
from decimal import Decimal
from io import BytesIO
from urllib.parse import unquote

import pytest
from django.urls import get_resolver, reverse
from openpyxl import load_workbook

from kpi.models import SelfEvalReport
from kpi.reports.services import actual_record
from kpi.selfeval import services
from kpi.selfeval.tasks import selfeval_bundle_run
from tests.factories import (
    ActualFactory,
    ProjectFactory,
    SelfEvalReportFactory,
    approve_reports,
    rescore_stale,
    table_with_indicators,
)

from .conftest import JULY, OCTOBER, other_unit_users

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_bundle_enqueue(monkeypatch):
    monkeypatch.setattr(selfeval_bundle_run, "delay", lambda *args: None)


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize("fmt, magic", [("xlsx", b"PK\x03\x04"), ("pdf", b"%PDF-")])
def test_the_lead_downloads_the_project_table(client, world, fmt, magic):
    client.force_login(world.lead)
    for method in (client.get, client.post):  # GET downloads it; POST (存档) keeps it too
        response = method(reverse("selfeval:download", args=[world.table.pk]), {"format": fmt})
        assert response.status_code == 200
        assert body(response).startswith(magic)
        disposition = unquote(response["Content-Disposition"])
        assert "attachment" in disposition and f"2026-职业技能培训补贴项目-项目支出绩效自评表.{fmt}" in disposition
        assert SelfEvalReport.objects.count() == (0 if method == client.get else 1)
    report = SelfEvalReport.objects.get()
    assert (report.table_id, report.format, report.status, report.generated_by) == (world.table.pk, fmt, "done",
                                                                                    world.lead)
    assert report.snapshot["projects"][0]["project"] == "职业技能培训补贴项目"


def test_downloading_unchanged_data_twice_keeps_one_report(client, world):
    client.force_login(world.lead)
    url = reverse("selfeval:download", args=[world.table.pk])
    first = body(client.post(url, {"format": "xlsx"}))
    second = body(client.post(url, {"format": "xlsx"}))
    assert first == second and SelfEvalReport.objects.count() == 1
    book = load_workbook(BytesIO(second))
    assert book.worksheets[0]["B3"].value == "职业技能培训补贴项目"


def test_a_table_still_being_rescored_is_not_handed_out(client, world):
    actual_record(indicator=world.indicators[4], as_of=OCTOBER, value=Decimal("95"), user=world.lead)
    client.force_login(world.lead)
    for method in (client.get, client.post):
        response = method(reverse("selfeval:download", args=[world.table.pk]), {"format": "xlsx"})
        assert response.status_code == 409 and "评分更新中" in response.content.decode()
    assert SelfEvalReport.objects.count() == 0


def test_a_bad_format_is_refused(client, world):
    client.force_login(world.lead)
    response = client.get(reverse("selfeval:download", args=[world.table.pk]), {"format": "docx"})
    assert response.status_code == 400 and "xlsx 或 pdf" in response.content.decode()


@pytest.mark.parametrize("who", ["admin", "reviewer"])
def test_unit_page_for_administrators_and_reviewers(client, world, who):
    client.force_login(getattr(world, who))
    page = client.get(reverse("selfeval:unit", args=[world.unit.pk, 2026])).content.decode()
    assert "测试市就业服务中心 · 2026 年度绩效自评" in page
    assert "指标“参训人员满意度”：缺少实际完成值（未填报）" in page
    assert "生成全部自评材料" in page
    assert reverse("selfeval:download", args=[world.table.pk]) in page


def test_unit_page_query_count_does_not_grow_with_tables_or_kept_reports(client, world, django_assert_num_queries):
    SelfEvalReportFactory(table=world.table, format="xlsx", user=world.lead)
    client.force_login(world.admin)
    page = reverse("selfeval:unit", args=[world.unit.pk, 2026])
    # Session and user 2, the unit through the scoping 3, the head's counts 1, the page's tables 1, their
    # evaluation 7 (as in test_data.py, less the tables), the kept reports 1, navigation 3. (24 before the page
    # was paginated: the stale tables were read again through the scoping.)
    with django_assert_num_queries(18) as one:
        assert client.get(page).status_code == 200
    for i in range(3):
        table, indicators = table_with_indicators(ProjectFactory(unit=world.unit, name=f"更多项目{i}"))
        ActualFactory(indicator=indicators[0], as_of=JULY, value=Decimal("100"), user=world.lead)
        approve_reports(table)
        rescore_stale()
        SelfEvalReportFactory(table=table, format="xlsx", user=world.lead)
    SelfEvalReportFactory(table=None, unit=world.unit, year=2026, user=world.admin)  # a bundle still queued
    with django_assert_num_queries(len(one)):
        response = client.get(page)
    assert len(response.context["evaluation"].projects) == 4 and len(response.context["reports"]) == 5


def test_unit_page_without_tables(client, world):
    client.force_login(world.admin)
    page = client.get(reverse("selfeval:unit", args=[world.unit.pk, 2025])).content.decode()
    assert "2025 年度没有绩效目标表" in page and "生成全部自评材料" not in page


def test_bundle_from_the_page_progress_and_download(client, world, django_capture_on_commit_callbacks):
    client.force_login(world.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("selfeval:bundle", args=[world.unit.pk, 2026]))
    assert response.status_code == 302
    report = SelfEvalReport.objects.get(table__isnull=True)
    page = client.get(reverse("selfeval:unit", args=[world.unit.pk, 2026])).content.decode()
    assert reverse("selfeval:progress", args=[report.pk]) in page  # the progress bar polls it
    progress = client.get(reverse("selfeval:progress", args=[report.pk])).json()
    assert progress == {"status": "pending", "status_display": "排队中", "done": 0, "total": 0, "percent": 0,
                        "error": "", "file_url": None}

    selfeval_bundle_run(report.pk)
    progress = client.get(reverse("selfeval:progress", args=[report.pk])).json()
    assert (progress["status"], progress["percent"]) == ("done", 100)
    assert progress["file_url"] == reverse("selfeval:file", args=[report.pk])
    response = client.get(progress["file_url"])
    assert response.status_code == 200
    assert "2026-测试市就业服务中心-绩效自评.zip" in unquote(response["Content-Disposition"])
    with zipfile.ZipFile(BytesIO(body(response))) as archive:
        assert "项目支出绩效自评表/职业技能培训补贴项目.pdf" in archive.namelist()
    page = client.get(reverse("selfeval:unit", args=[world.unit.pk, 2026])).content.decode()
    assert "全部自评材料" in page and reverse("selfeval:file", args=[report.pk]) in page


def test_a_lead_gets_no_unit_page(client, world):
    client.force_login(world.lead)
    assert client.get(reverse("selfeval:unit", args=[world.unit.pk, 2026])).status_code == 404
    assert client.post(reverse("selfeval:bundle", args=[world.unit.pk, 2026])).status_code == 404


def test_project_page_links_to_the_downloads(client, world):
    client.force_login(world.admin)
    page = client.get(reverse("scorecards:project", args=[world.project.pk])).content.decode()
    url = reverse("selfeval:download", args=[world.table.pk])
    assert f"{url}?format=xlsx" in page and f"{url}?format=pdf" in page and "下载绩效自评表" in page
    assert reverse("selfeval:unit", args=[world.unit.pk, 2026]) in page


def selfeval_url_names():
    resolver = get_resolver().namespace_dict["selfeval"][1]
    return sorted(f"selfeval:{name}" for name in resolver.reverse_dict if isinstance(name, str))


@pytest.mark.parametrize("role", ["admin", "lead", "reviewer"])
def test_users_of_another_unit_get_404_everywhere(client, world, role):
    bundle = services.selfeval_bundle_start(unit=world.unit, year=2026)
    selfeval_bundle_run(bundle.pk)
    kept = services.table_report_keep(table=world.table, fmt="pdf", user=world.lead)
    args = {
        "selfeval:download": [world.table.pk],
        "selfeval:unit": [world.unit.pk, 2026],
        "selfeval:bundle": [world.unit.pk, 2026],
        "selfeval:progress": [bundle.pk],
        "selfeval:file": [bundle.pk],
    }
    assert selfeval_url_names() == sorted(args)
    client.force_login(other_unit_users()[role])
    for name, url_args in args.items():
        url = reverse(name, args=url_args)
        for method in (client.get, client.post):
            response = method(url, {"format": "pdf"} if method == client.get else {})
            assert response.status_code in (404, 405), (name, method.__name__, response.status_code)
            if response.status_code == 405:
                assert method == client.get, name
    for pk in (kept.pk, bundle.pk):
        assert client.get(reverse("selfeval:file", args=[pk])).status_code == 404


def test_a_lead_may_open_their_tables_report_but_not_the_bundle(client, world):
    bundle = services.selfeval_bundle_start(unit=world.unit, year=2026)
    selfeval_bundle_run(bundle.pk)
    kept = services.table_report_keep(table=world.table, fmt="xlsx", user=world.admin)
    client.force_login(world.lead)
    assert client.get(reverse("selfeval:file", args=[kept.pk])).status_code == 200
    assert client.get(reverse("selfeval:file", args=[bundle.pk])).status_code == 404
    assert client.get(reverse("selfeval:progress", args=[bundle.pk])).status_code == 404


def test_pages_require_login(client, world):
    response = client.get(reverse("selfeval:unit", args=[world.unit.pk, 2026]))
    assert response.status_code == 302 and reverse("login") in response.url


def test_the_service_renders_one_table(world):
    data, evaluation = services.table_report_render(table=world.table, fmt="xlsx")
    assert data.startswith(b"PK") and evaluation.project_name == "职业技能培训补贴项目"
    with pytest.raises(services.FormatRefused, match="xlsx 或 pdf"):
        services.table_report_render(table=world.table, fmt="json")
