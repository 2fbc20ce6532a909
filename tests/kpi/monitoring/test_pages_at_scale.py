"""The 绩效运行监控 page and its xlsx at the size of a large unit (issue 12): one page of projects at a time
with the whole unit's counts at the cut, the same figures as the full report, and the 监控表 xlsx of a large
unit built by a task with a progress bar — the same file as the direct download."""
import datetime as dt
import random
from decimal import Decimal
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from budgets.services import membership_grant
from kpi import spreadsheets
from kpi.lights import Light
from kpi.monitoring import views, xlsx
from kpi.monitoring.selectors import monitoring_page, monitoring_report
from kpi.monitoring.tasks import monitoring_xlsx_run
from kpi.reports.services import actual_record, execution_report
from kpi.rescoring.tasks import rescore_table
from tests.factories import ProjectFactory, UnitFactory, UserFactory, approve_reports, table_with_indicators

pytestmark = pytest.mark.django_db
D = Decimal
YEAR = 2026
JUNE, JULY = dt.date(YEAR, 6, 30), dt.date(YEAR, 7, 31)
ROWS = [
    ("产出指标", "数量指标", "培训人次", ">=120人次", D("40")),
    ("产出指标", "质量指标", "合格率", ">=95%", D("20")),
    ("满意度指标", "服务对象满意度指标", "满意度", ">=90%", D("10"), "满意度赋分"),
]


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)


def populate(unit, projects: int, *, seed: int = 1):
    """`projects` projects with a goal table each (every fifth without one), figures at June and July drawn
    at random (some missing), some reports approved; and the unit's own 部门整体 table."""
    rng = random.Random(seed)
    for n in range(projects):
        project = ProjectFactory(unit=unit, name=f"项目{n:03d}", code=f"P{n:03d}", budget_initial=D("100"))
        if n % 5 == 4:
            continue
        table, indicators = table_with_indicators(project, rows=ROWS)
        for as_of in (JUNE, JULY):
            if rng.random() < 0.8:
                execution_report(project=project, as_of=as_of, executed=D(rng.randint(10, 90)))
            for indicator in indicators:
                if rng.random() < 0.8:
                    actual_record(indicator=indicator, as_of=as_of, value=D(rng.randint(30, 130)))
            if as_of == JUNE and rng.random() < 0.5:
                approve_reports(table)
    _, (checks,) = table_with_indicators(unit=unit, year=YEAR, rows=[("产出指标", "数量指标", "检查次数", ">=12次", D("20"))])
    actual_record(indicator=checks, as_of=JULY, value=D("3"))


def admin_of(unit):
    user = UserFactory()
    membership_grant(user=user, unit=unit, role="admin")
    return user


def page_url(unit, query=""):
    return reverse("monitoring:unit", args=[unit.pk, YEAR]) + query


# --- the page: one page of projects, the unit's counts -----------------------------------------------

def test_a_60_project_unit_shows_page_1_of_3_with_the_whole_units_counts(client, django_assert_num_queries):
    small, large = UnitFactory(), UnitFactory()
    populate(small, 25)
    populate(large, 60, seed=2)
    client.force_login(UserFactory(is_superuser=True))
    # Session and user 2, the unit 1; the page 13: the projects, the tables, the projects' history (their
    # budgets at the cut), the lights of every table at the cut from plain rows (indicators, actuals, 执行数),
    # the page's projects and tables, then `_table_statuses` of the page's tables (indicators, actuals,
    # 执行数, the unit budget's history, reports); the navigation 2 (a superuser's).
    with django_assert_num_queries(18):
        response = client.get(page_url(large))
    with django_assert_num_queries(18):  # the same for 25 projects
        assert client.get(page_url(small)).status_code == 200
    page = response.content.decode()
    assert "共 60 个项目，第 1 / 3 页" in page and "下一页" in page and "上一页" not in page
    blocks = response.context["report"].blocks
    assert blocks[0].is_unit and [b.title for b in blocks[1:]] == [f"项目{n:03d}" for n in range(20)]
    full = monitoring_report(unit=large, year=YEAR, cut=JULY)
    found = response.context["found"]
    assert found.counts == full.counts and found.indicator_counts == full.indicator_counts
    assert sum(found.counts.values()) == 61  # the 60 projects and the 部门整体 table, not the page's 21
    for light, count in full.counts.items():
        assert f'data-light="{light}">{count}<' in page and f"light={light.value}" in page

    last = client.get(page_url(large, "?cut=2026-07-31&page=3"))
    assert [b.title for b in last.context["report"].blocks[1:]] == [f"项目{n:03d}" for n in range(40, 60)]
    assert last.context["report"].blocks[0].is_unit  # the 部门整体 table on every page
    assert "第 3 / 3 页" in last.content.decode()
    beyond = client.get(page_url(large, "?page=99"))  # out of range: the last page, not an error
    assert beyond.status_code == 200 and beyond.context["page"].number == 3


def test_the_page_and_its_counts_are_the_full_reports_at_every_cut():
    unit = UnitFactory()
    populate(unit, 30, seed=7)
    for cut in (JUNE, dt.date(YEAR, 7, 15), JULY):
        full = monitoring_report(unit=unit, year=YEAR, cut=cut)
        by_title = {b.title: b for b in full.blocks}
        found = monitoring_page(unit=unit, year=YEAR, cut=cut, page=2, per_page=8)
        assert (found.counts, found.indicator_counts) == (full.counts, full.indicator_counts), cut
        for block in found.report.blocks:
            expected = by_title[block.title]
            assert (block.light, block.budget, block.executed, block.execution_rate, block.budget_light) == (
                expected.light, expected.budget, expected.executed, expected.execution_rate, expected.budget_light)
            assert [(line.indicator.pk, line.light, line.forecast) for line in block.lines] == [
                (line.indicator.pk, line.light, line.forecast) for line in expected.lines]
        for light in Light:
            only = monitoring_page(unit=unit, year=YEAR, cut=cut, light=light, per_page=100)
            assert {b.title for b in only.project_blocks} == {
                b.title for b in full.blocks if not b.is_unit and b.light == light}


def test_the_filter_by_light_and_its_links(client):
    unit = UnitFactory()
    populate(unit, 12, seed=3)
    client.force_login(admin_of(unit))
    full = monitoring_report(unit=unit, year=YEAR, cut=JULY)
    red = [b.title for b in full.blocks if not b.is_unit and b.light == Light.RED]
    response = client.get(page_url(unit, "?cut=2026-07-31&light=red"))
    assert [b.title for b in response.context["found"].project_blocks] == red
    assert '<option value="red" selected>' in response.content.decode()
    wrong = client.get(page_url(unit, "?light=purple"))
    assert wrong.status_code == 200 and "监控灯“purple”无效，已显示全部项目。" in wrong.content.decode()
    assert len(wrong.context["found"].project_blocks) == 12


# --- the xlsx: the same form, faster ------------------------------------------------------------------

def _old_put(ws, row, col, value, *, font=xlsx._FONT, align=spreadsheets.WRAP, fill=None, fmt=None, border=True):
    """xlsx._put as it was: every style applied through openpyxl."""
    fmt = fmt or (spreadsheets.TEXT_FORMAT if value is None or isinstance(value, str) else spreadsheets.GENERAL_FORMAT)
    return spreadsheets.put(ws, row, col, value, font=font, align=align, fill=fill,
                            border=spreadsheets.BORDER if border else None, number_format=fmt)


def cells(ws):
    return [(c.coordinate, c.value, c.number_format, repr(c.font), repr(c.fill), repr(c.border), repr(c.alignment),
             c.quotePrefix if hasattr(c, "quotePrefix") else None, c.comment.text if c.comment else None)
            for row in ws.iter_rows() for c in row]


def test_the_xlsx_is_the_same_form_as_before(monkeypatch):
    unit = UnitFactory(name="市第二中学")
    populate(unit, 6, seed=5)
    report = monitoring_report(unit=unit, year=YEAR, cut=JULY)
    new = load_workbook(BytesIO(xlsx.monitoring_workbook(report))).active
    with monkeypatch.context() as m:  # the code as it was: openpyxl's merge_cells and style setters
        m.setattr(xlsx, "merge", spreadsheets.merge)
        m.setattr(xlsx, "_put", _old_put)
        old = load_workbook(BytesIO(xlsx.monitoring_workbook(report))).active
    assert cells(new) == cells(old)
    assert sorted(map(str, new.merged_cells.ranges)) == sorted(map(str, old.merged_cells.ranges))
    assert new["A1"].value == "市第二中学 2026年 绩效运行监控表（1–7月）"
    assert [new.row_dimensions[r].height for r in range(1, new.max_row + 1)] == [
        old.row_dimensions[r].height for r in range(1, old.max_row + 1)]


def test_the_xlsx_merged_ranges_never_overlap():
    unit = UnitFactory()
    populate(unit, 8, seed=9)
    ws = load_workbook(BytesIO(xlsx.monitoring_workbook(monitoring_report(unit=unit, year=YEAR, cut=JULY)))).active
    seen = set()
    for cell_range in ws.merged_cells.ranges:
        for coordinate in cell_range.cells:
            assert coordinate not in seen
            seen.add(coordinate)
    assert len(ws.merged_cells.ranges) > 20


# --- a large unit's xlsx: a task with a progress bar --------------------------------------------------

@pytest.fixture
def eager_export(monkeypatch, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(views, "EXPORT_IN_TASK_OVER", 3)  # a "large" unit of 4 projects
    monkeypatch.setattr(monitoring_xlsx_run, "delay", lambda token: monitoring_xlsx_run(token))


def test_a_large_units_xlsx_is_built_by_a_task_with_progress(client, eager_export,
                                                            django_capture_on_commit_callbacks):
    unit = UnitFactory(name="市第三中学")
    populate(unit, 4, seed=11)
    admin = admin_of(unit)
    client.force_login(admin)
    page = client.get(page_url(unit)).content.decode()
    export_url = reverse("monitoring:unit-export", args=[unit.pk, YEAR])
    assert f'action="{export_url}?cut=2026-07-31"' in page and "在后台生成" in page
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(f"{export_url}?cut=2026-06-30")
    assert len(callbacks) == 1 and response.status_code == 302
    token = response["Location"].split("export=")[1].split("#")[0]
    shown = client.get(response["Location"]).content.decode()
    progress_url = reverse("monitoring:export-progress", args=[token])
    assert f'data-progress-url="{progress_url}"' in shown and "monitoring_export.js" in shown
    progress = client.get(progress_url).json()
    file_url = reverse("monitoring:export-file", args=[token])
    assert progress == {"status": "done", "status_display": "已完成", "done": 5, "total": 5, "percent": 100,
                        "error": "", "file_url": file_url}
    built = client.get(file_url)
    assert built.status_code == 200 and "attachment" in built["Content-Disposition"]
    direct = client.get(reverse("monitoring:unit-xlsx", args=[unit.pk, YEAR]) + "?cut=2026-06-30")
    built_sheet = load_workbook(BytesIO(b"".join(built.streaming_content))).active
    direct_sheet = load_workbook(BytesIO(direct.content)).active
    assert built_sheet["A1"].value == "市第三中学 2026年 绩效运行监控表（1–6月）"
    assert cells(built_sheet) == cells(direct_sheet)


def test_the_progress_is_recorded_while_the_blocks_are_written(monkeypatch):
    unit = UnitFactory()
    populate(unit, 4, seed=13)
    seen = []
    monkeypatch.setattr(xlsx, "PROGRESS_EVERY", 2)
    xlsx.monitoring_workbook(monitoring_report(unit=unit, year=YEAR, cut=JULY),
                             progress=lambda done, total: seen.append((done, total)))
    assert seen == [(2, 5), (4, 5), (5, 5)]


def test_a_failed_export_says_why(client, settings, tmp_path, monkeypatch):
    from kpi.monitoring.tasks import EXPORT_FAILED

    settings.MEDIA_ROOT = tmp_path
    unit = UnitFactory()
    admin = admin_of(unit)
    job = xlsx.export_start(unit=unit, year=YEAR, cut=JULY, user=admin)
    monkeypatch.setattr(xlsx, "monitoring_workbook", lambda *a, **k: (_ for _ in ()).throw(OSError("磁盘已满")))
    with pytest.raises(OSError):
        monitoring_xlsx_run(job.token)
    client.force_login(admin)
    progress = client.get(reverse("monitoring:export-progress", args=[job.token])).json()
    # A fixed message; the exception's own text goes to the log only.
    assert progress["status"] == "failed" and progress["error"] == EXPORT_FAILED and progress["file_url"] == ""
    assert client.get(reverse("monitoring:export-file", args=[job.token])).status_code == 404


def test_only_who_started_an_export_sees_it(client, eager_export, django_capture_on_commit_callbacks):
    unit, other = UnitFactory(), UnitFactory()
    populate(unit, 4, seed=17)
    admin, stranger, colleague = admin_of(unit), admin_of(other), admin_of(unit)
    client.force_login(stranger)
    assert client.post(reverse("monitoring:unit-export", args=[unit.pk, YEAR])).status_code == 404
    assert client.get(reverse("monitoring:unit-export", args=[unit.pk, YEAR])).status_code == 405
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        token = client.post(reverse("monitoring:unit-export", args=[unit.pk, YEAR]))["Location"].split(
            "export=")[1].split("#")[0]
    assert client.get(reverse("monitoring:export-file", args=[token])).status_code == 200
    for user in (stranger, colleague):
        client.force_login(user)
        assert client.get(reverse("monitoring:export-progress", args=[token])).status_code == 404
        assert client.get(reverse("monitoring:export-file", args=[token])).status_code == 404
    client.force_login(colleague)  # a token of someone else's export on the page is ignored
    assert client.get(page_url(unit, f"?export={token}")).context["job"] is None
    client.force_login(admin)
    assert client.get(reverse("monitoring:export-progress", args=["no-such-token"])).status_code == 404


def test_an_export_whose_message_cannot_be_sent_says_so(client, settings, tmp_path, monkeypatch,
                                                       django_capture_on_commit_callbacks):
    from kombu.exceptions import OperationalError

    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(views, "EXPORT_IN_TASK_OVER", 3)

    def broker_down(token):
        raise OperationalError("Error 111 connecting to localhost:6379. Connection refused.")

    monkeypatch.setattr(monitoring_xlsx_run, "delay", broker_down)
    unit = UnitFactory()
    populate(unit, 4, seed=19)
    client.force_login(admin_of(unit))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("monitoring:unit-export", args=[unit.pk, YEAR]))
    assert response.status_code == 302
    token = response["Location"].split("export=")[1].split("#")[0]
    progress = client.get(reverse("monitoring:export-progress", args=[token])).json()
    assert progress["status"] == "failed" and "任务队列暂时无法连接" in progress["error"]
    assert "Connection refused" not in progress["error"]


def test_expired_export_files_are_deleted(settings, tmp_path):
    import datetime as dt
    import os

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.utils import timezone

    settings.MEDIA_ROOT = tmp_path
    old = default_storage.save(f"{xlsx.EXPORT_FOLDER}/monitoring-old.xlsx", ContentFile(b"x"))
    new = default_storage.save(f"{xlsx.EXPORT_FOLDER}/monitoring-new.xlsx", ContentFile(b"x"))
    past = (timezone.now() - dt.timedelta(seconds=xlsx.EXPORT_KEPT_SECONDS + 60)).timestamp()
    os.utime(default_storage.path(old), (past, past))
    assert xlsx.exports_prune() == 1
    assert not default_storage.exists(old) and default_storage.exists(new)
    assert xlsx.exports_prune() == 0
