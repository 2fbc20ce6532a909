"""Importing goal tables: the import_disclosure command, re-import rules, the Excel round trip, the upload page."""
import datetime as dt
import json
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from budgets.models import Project, Unit, UnitBudget
from budgets.services import membership_grant
from kpi.importers import services as service
from kpi.importers.tasks import import_job_read, import_job_run
from kpi.importers.xlsx import read_workbook, write_workbook
from kpi.models import Actual, GoalTable, ImportJob, Indicator, IndicatorChange
from kpi.reports.services import actual_record
from kpi.rescoring.tasks import rescore_table
from tests.factories import ImportJobFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db
DEMO = Path(__file__).resolve().parents[3] / "kpi" / "demo" / "demo-disclosure-2026.txt"
SEED_2026 = "disclosure-2026-changji-social-insurance-center.txt"
SEED_2025 = "disclosure-2025-urumqi-social-insurance-center.txt"
SEED_2021 = "disclosure-2021-changji-social-insurance-bureau.txt"
JULY = dt.date(2026, 7, 31)


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    """Rescores are enqueued for real only in the worker tests; here we record which tables were sent."""
    sent = []
    monkeypatch.setattr(rescore_table, "delay", lambda table_id: sent.append(table_id))
    return sent


def run(*args) -> str:
    out = StringIO()
    call_command("import_disclosure", *map(str, args), stdout=out)
    return out.getvalue()


def counts():
    return (Unit.objects.count(), Project.objects.count(), GoalTable.objects.count(), Indicator.objects.count(),
            UnitBudget.objects.count())


# --- the seed documents ---------------------------------------------------------------------------

def test_2026_seed_imports_every_table_and_indicator(seeds_dir):
    output = run(seeds_dir / SEED_2026)
    unit = Unit.objects.get(name="昌吉回族自治州社会保险中心")
    assert GoalTable.objects.filter(unit=unit, year=2026, scope="project").count() == 8
    assert GoalTable.objects.filter(unit=unit, year=2026, scope="unit").count() == 1
    # 7 + 6 + 6 + 12 + 8 + 7 + 13 + 7 project indicators, 6 in the 部门整体 table
    assert Indicator.objects.filter(table__unit=unit, table__scope="project").count() == 66
    assert Indicator.objects.filter(table__unit=unit, table__scope="unit").count() == 6
    for table in GoalTable.objects.filter(unit=unit):
        assert sum(table.indicators.values_list("weight", flat=True)) == 90, table
    project = Project.objects.get(unit=unit, name="“金保工程”系统维护项目")
    assert (project.budget_initial, project.fiscal, project.other, project.lead_name) == (
        Decimal("42.00"), Decimal("42.00"), Decimal("0.00"), "郭钧")
    indicator = Indicator.objects.get(table__project=project, name="社会保险信息系统数据中心机房托管")
    assert (indicator.target_raw, indicator.target_kind, indicator.target_value, indicator.unit, indicator.weight,
            indicator.rule, indicator.evidence) == (
        "<=1.42万元/月", "reverse", Decimal("1.42"), "万元/月", Decimal("10"), "按照完成比例赋分", "原始凭证")
    # the row split over two lines (满意度指 / 标) and the unit table's default rules
    satisfaction = Indicator.objects.get(table__project=project, name="设备使用者满意率")
    assert (satisfaction.level1, satisfaction.level2, satisfaction.rule) == ("满意度指标", "满意度指标", "满意度赋分")
    budget = UnitBudget.objects.get(unit=unit, year=2026)
    assert (budget.fiscal_superior, budget.fiscal_local, budget.other) == (
        Decimal("8.77"), Decimal("1614.08"), Decimal("0.00"))
    unit_rules = set(Indicator.objects.filter(table__unit=unit, table__scope="unit").values_list("rule", flat=True))
    assert unit_rules == {"按照完成比例赋分"}
    assert output.count("\n") >= 10 and "新建" in output


def test_2025_seed_imports_nine_projects(seeds_dir):
    run(seeds_dir / SEED_2025)
    unit = Unit.objects.get(name="乌鲁木齐市社会保险中心")
    assert GoalTable.objects.filter(unit=unit, year=2025).count() == 9
    assert not GoalTable.objects.filter(unit=unit, scope="unit").exists()
    shifted = Indicator.objects.get(table__unit=unit, name="差额待遇发放时效")
    assert (shifted.level1, shifted.level2, shifted.target_kind, shifted.rule) == (
        "产出指标", "时效指标", "deadline", "直接赋分")


def test_2021_seed_gets_the_default_weight_split(seeds_dir):
    output = run(seeds_dir / SEED_2021)
    tables = GoalTable.objects.filter(year=2021)
    assert tables.count() == 15
    assert all(t.weights_defaulted for t in tables)
    table = tables.get(project__name="95年以前企业退休人员生活补贴资金")
    weights = {i.name: i.weight for i in table.indicators.all()}
    # 产出 (incl. 成本) 50 over 5 rows, 效益 30 over 2, 满意度 10 over 1
    assert weights["核定补助企业1995年以前退休（人次）"] == Decimal("10.00")
    assert weights["被补助人群生活质量改善情况"] == Decimal("15.00")
    assert weights["1995年前企业退休人员满意度"] == Decimal("10.00")
    assert "默认规则分配" in output


# --- dry run and JSON -----------------------------------------------------------------------------

def test_dry_run_json_has_the_documented_shape_and_writes_nothing(seeds_dir):
    before = counts()
    data = json.loads(run(seeds_dir / SEED_2026, "--dry-run", "--json"))
    assert counts() == before
    assert set(data) == {"unit", "year", "tables", "warnings", "errors"}
    assert (data["unit"], data["year"]) == ("昌吉回族自治州社会保险中心", 2026)
    assert [t["scope"] for t in data["tables"]].count("project") == 8
    for table in data["tables"]:
        assert set(table) == {"scope", "project", "lead", "funds", "indicators", "warnings", "errors"}
        assert set(table["funds"]) == {"total", "fiscal", "other"}
        for indicator in table["indicators"]:
            assert set(indicator) == {"level1", "level2", "name", "target", "kind", "value", "upper", "unit", "basis",
                                      "last_year", "weight", "rule", "evidence"}
    unit_table = next(t for t in data["tables"] if t["scope"] == "unit")
    assert unit_table["project"] is None and unit_table["funds"]["total"] == "1622.85"
    first = next(t for t in data["tables"] if t["project"] == "个人权益告知、经办业务通知通信等费用")
    assert first["lead"] == "郭钧"
    assert first["funds"] == {"total": "17.00", "fiscal": "17.00", "other": "0.00"}
    sms = first["indicators"][0]
    assert (sms["name"], sms["kind"], sms["value"], sms["upper"], sms["unit"], sms["weight"]) == (
        "全年发送经办业务通知短信条数", "positive", "485.71", None, "万条", "10.00")
    # a bare number without comparator is flagged, naming the table and the line
    assert any("0.035元/条" in w and "第" in w and "行" in w for w in first["warnings"])


@pytest.mark.parametrize("seed", [SEED_2021, SEED_2025, SEED_2026])
def test_every_seed_dry_runs_without_errors(seeds_dir, seed):
    data = json.loads(run(seeds_dir / seed, "--dry-run", "--json"))
    assert data["errors"] == []
    assert data["tables"] and all(table["errors"] == [] for table in data["tables"])


def test_dry_run_reports_what_the_import_would_skip(seeds_dir):
    run(seeds_dir / SEED_2026)
    GoalTable.objects.filter(project__name="机构运行补助经费").update(status=GoalTable.Status.APPROVED)
    data = json.loads(run(seeds_dir / SEED_2026, "--dry-run", "--json"))
    assert any("机构运行补助经费" in w and "已批复" in w for w in data["warnings"])


# --- re-import ------------------------------------------------------------------------------------

def test_reimport_is_idempotent(seeds_dir, no_enqueue):
    run(seeds_dir / SEED_2026)
    before = counts()
    ids = sorted(Indicator.objects.values_list("pk", flat=True))
    no_enqueue.clear()
    output = run(seeds_dir / SEED_2026)
    assert counts() == before
    assert sorted(Indicator.objects.values_list("pk", flat=True)) == ids
    assert output.count("无变化") == 9
    assert no_enqueue == []


@pytest.mark.django_db(transaction=True)
def test_corrected_document_versions_target_changes_and_keeps_actuals(tmp_path, no_enqueue):
    """Real commits here: the rescore of the changed table is enqueued once the import commits."""
    run(DEMO)
    indicator = Indicator.objects.get(name="待遇按时足额发放率")
    actual = actual_record(indicator=indicator, as_of=JULY, value=Decimal("98"))
    untouched = Indicator.objects.get(name="单人次认证服务成本")
    corrected = tmp_path / "corrected.txt"
    text = DEMO.read_text(encoding="utf-8")
    text = text.replace("待遇按时足额发放率\t=100%\t社会保险法\t/\t15", "待遇按时足额发放率\t>=98%\t社会保险法\t/\t15")
    text = text.replace("待遇领取人员满意度\t>=90%\t上年度满意度调查\t/\t10", "待遇领取人员满意度\t>=92%\t上年度满意度调查\t/\t10")
    corrected.write_text(text, encoding="utf-8")
    no_enqueue.clear()
    output = run(corrected)
    indicator.refresh_from_db()
    assert (indicator.target_raw, indicator.target_kind, indicator.target_value) == (">=98%", "positive", Decimal("98"))
    change = IndicatorChange.objects.get(indicator=indicator)
    assert (change.field, change.old_value, change.new_value, change.source) == ("target", "=100%", ">=98%", "corrected.txt")
    # the satisfaction indicator had no actuals: changed in place, nothing to version
    assert IndicatorChange.objects.count() == 1
    assert Actual.objects.get(pk=actual.pk).value == Decimal("98.0000")
    assert Indicator.objects.get(pk=untouched.pk).target_raw == "<=1.5元/人次"
    assert indicator.table_id in no_enqueue
    assert "调整 1 项" in output


def test_approved_table_is_not_changed(tmp_path):
    run(DEMO)
    table = GoalTable.objects.get(project__name="社会保障卡服务网点建设项目")
    GoalTable.objects.filter(pk=table.pk).update(status=GoalTable.Status.APPROVED)
    corrected = tmp_path / "corrected.txt"
    corrected.write_text(DEMO.read_text(encoding="utf-8").replace(">=12个", ">=15个"), encoding="utf-8")
    output = run(corrected)
    assert Indicator.objects.get(table=table, name="新建即时制卡网点数").target_raw == ">=12个"
    assert "社会保障卡服务网点建设项目" in output and "跳过" in output


def test_removed_indicators_are_kept_unless_pruned_and_never_with_actuals(tmp_path):
    run(DEMO)
    indicator = Indicator.objects.get(name="网点设备验收合格率")
    actual_record(indicator=indicator, as_of=JULY, value=Decimal("97"))
    gone = Indicator.objects.get(name="发放社会保障卡数量")
    lines = [line for line in DEMO.read_text(encoding="utf-8").splitlines()
             if "网点设备验收合格率" not in line and "发放社会保障卡数量" not in line]
    corrected = tmp_path / "corrected.txt"
    corrected.write_text("\n".join(lines), encoding="utf-8")
    output = run(corrected)
    assert Indicator.objects.filter(pk__in=[indicator.pk, gone.pk]).count() == 2
    assert "指标“发放社会保障卡数量”：文件中没有此指标，已保留" in output
    assert "指标“网点设备验收合格率”：文件中没有此指标，已保留（已有实际完成值，不会删除）" in output
    output = run(corrected, "--prune")
    assert Indicator.objects.filter(pk=indicator.pk).exists()  # actuals: never deleted
    assert not Indicator.objects.filter(pk=gone.pk).exists()
    assert "删除 1 个" in output


# --- bad files ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("content", "message"), [
    (b"", "空的"),
    (b"\x00\x01\x02\xff\xfe binary", "二进制"),
    ("今天天气很好，我们去公园散步，然后回家吃饭。\n".encode() * 20, "不是部门预算公开文件"),
    (b"PK\x03\x04 not really a zip", "Excel"),
])
def test_bad_files_are_refused_whole(tmp_path, content, message):
    before = counts()
    path = tmp_path / ("bad.xlsx" if content.startswith(b"PK") else "bad.txt")
    path.write_bytes(content)
    with pytest.raises(CommandError) as error:
        run(path)
    assert message in str(error.value)
    assert counts() == before


def test_an_unexpected_failure_rolls_back_the_whole_file(tmp_path, monkeypatch):
    """A bug (not a refused value) in the last table: the earlier ones are not kept either."""
    original = service._table_import
    calls = []

    def failing(unit, year, parsed, source, user, prune):
        calls.append(parsed.label)
        if len(calls) == 3:
            raise RuntimeError("boom")
        return original(unit, year, parsed, source, user, prune)

    monkeypatch.setattr(service, "_table_import", failing)
    before = counts()
    with pytest.raises(RuntimeError):
        run(DEMO)
    assert counts() == before


# --- Excel ----------------------------------------------------------------------------------------

def test_export_then_import_is_identity(seeds_dir):
    run(seeds_dir / SEED_2026)
    tables = list(GoalTable.objects.filter(year=2026).select_related("unit", "project").order_by("pk"))
    exported = service.document_from_tables(tables=tables)
    snapshot = list(Indicator.objects.order_by("pk").values())
    document = read_workbook(write_workbook(exported), source="export.xlsx")
    assert document.unit == exported.unit and document.year == 2026
    def rows(doc):
        return [[(i.level1, i.level2, i.name, i.target, i.basis, i.last_year, i.weight, i.rule, i.evidence)
                 for i in table.indicators] for table in doc.tables]

    assert rows(document) == rows(exported)
    outcome = service.goal_tables_import(document=service.checks.finalize(document))
    assert {t.action for t in outcome.tables} == {"无变化"}
    assert list(Indicator.objects.order_by("pk").values()) == snapshot


# --- the upload page ------------------------------------------------------------------------------

@pytest.fixture
def demo_unit():
    return UnitFactory(name="示范市社会保险服务中心", code="DEMO-SB")


def upload(client, path, **extra):
    with open(path, "rb") as handle:
        return client.post(reverse("importers:upload"), {"file": handle, **extra})


def test_only_unit_administrators_may_upload(client, demo_unit):
    lead = UserFactory()
    membership_grant(user=lead, unit=demo_unit, role="lead")
    client.force_login(lead)
    assert client.get(reverse("importers:upload")).status_code == 403
    assert upload(client, DEMO).status_code == 403
    assert not ImportJob.objects.exists()


def read_in_worker(job_id):
    """What the worker runs after an upload (import_job_read), then the job as it is stored."""
    service.import_job_read(job_id=job_id)
    return ImportJob.objects.get(pk=job_id)


def test_an_administrator_of_another_unit_is_refused(client, demo_unit):
    other_admin = UserFactory()
    membership_grant(user=other_admin, unit=UnitFactory(), role="admin")
    client.force_login(other_admin)
    response = upload(client, DEMO)
    job = read_in_worker(ImportJob.objects.get().pk)
    assert response.status_code == 302 and job.status == ImportJob.Status.FAILED
    assert job.error == "您不是“示范市社会保险服务中心”的单位管理员，不能导入该单位的绩效目标表。"
    page = client.get(reverse("importers:detail", args=[job.pk])).content.decode()
    assert job.error in page and "确认导入" not in page
    assert client.post(reverse("importers:confirm", args=[job.pk])).status_code == 409
    assert not GoalTable.objects.exists()


def test_upload_preview_confirm_and_progress(client, demo_unit, django_capture_on_commit_callbacks, monkeypatch):
    admin = UserFactory()
    membership_grant(user=admin, unit=demo_unit, role="admin")
    client.force_login(admin)
    queued = []
    monkeypatch.setattr(import_job_run, "delay", lambda job_id: queued.append(("run", job_id)))
    monkeypatch.setattr(import_job_read, "delay", lambda job_id: queued.append(("read", job_id)))
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, DEMO)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("importers:detail", args=[job.pk])
    # The request only stored the file: the worker reads it.
    assert job.status == ImportJob.Status.READING and queued == [("read", job.pk)]
    reading = client.get(response.url).content.decode()
    assert "正在读取文件并生成预览" in reading and "确认导入" not in reading
    assert client.get(reverse("importers:progress", args=[job.pk])).json()["status"] == "reading"
    read_in_worker(job.pk)
    read_in_worker(job.pk)  # a second delivery of the message changes nothing
    queued.clear()

    preview = client.get(response.url).content.decode()
    assert "城乡居民养老保险待遇发放服务项目" in preview and "待遇领取人员资格认证人数" in preview
    assert "确认导入" in preview
    assert not GoalTable.objects.exists()  # the preview wrote nothing

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("importers:confirm", args=[job.pk]))
    assert queued == [("run", job.pk)]
    assert client.get(reverse("importers:progress", args=[job.pk])).json()["status"] == "pending"

    import_job_run(job.pk)  # what the worker runs
    import_job_run(job.pk)  # and once more: nothing changes
    progress = client.get(reverse("importers:progress", args=[job.pk])).json()
    assert progress["status"] == "done" and progress["percent"] == 100
    assert len(progress["summary"]) == 3
    assert GoalTable.objects.filter(unit=demo_unit).count() == 3
    assert client.post(reverse("importers:confirm", args=[job.pk])).status_code == 409


def test_the_upload_page_query_count_does_not_grow_with_jobs(client, demo_unit, django_assert_num_queries):
    admin = UserFactory()
    membership_grant(user=admin, unit=demo_unit, role="admin")
    ImportJobFactory(user=admin)
    client.force_login(admin)
    # Session and user 2, may import 1, navigation 3, the latest jobs 1.
    with django_assert_num_queries(7) as one:
        assert client.get(reverse("importers:upload")).status_code == 200
    for _ in range(4):
        ImportJobFactory(user=admin)
    with django_assert_num_queries(len(one)):
        page = client.get(reverse("importers:upload")).content.decode()
    assert page.count(DEMO.name) == 5


def test_upload_of_a_bad_file_shows_the_error_and_keeps_nothing(client, demo_unit, tmp_path):
    admin = UserFactory()
    membership_grant(user=admin, unit=demo_unit, role="admin")
    client.force_login(admin)
    bad = tmp_path / "notes.txt"
    bad.write_text("会议纪要：下周一开会。\n", encoding="utf-8")
    assert upload(client, bad).status_code == 302
    job = read_in_worker(ImportJob.objects.get().pk)
    assert job.status == ImportJob.Status.FAILED and "不是部门预算公开文件" in job.error
    assert job.error in client.get(reverse("importers:detail", args=[job.pk])).content.decode()
    wrong_type = tmp_path / "photo.png"
    wrong_type.write_bytes(b"\x89PNG\r\n")
    assert "只接受" in upload(client, wrong_type).content.decode()  # refused before anything is stored
    assert ImportJob.objects.count() == 1 and not Unit.objects.exclude(pk=demo_unit.pk).exists()


def test_another_users_job_is_not_found(client, demo_unit):
    admin = UserFactory()
    membership_grant(user=admin, unit=demo_unit, role="admin")
    job = ImportJobFactory(user=admin, data=DEMO.read_bytes(), filename=DEMO.name)
    intruder = UserFactory()
    membership_grant(user=intruder, unit=demo_unit, role="admin")
    client.force_login(intruder)
    for name in ("importers:detail", "importers:progress"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404
    assert client.post(reverse("importers:confirm", args=[job.pk])).status_code == 404


def test_template_and_table_export_download(client, demo_unit):
    admin = UserFactory()
    membership_grant(user=admin, unit=demo_unit, role="admin")
    client.force_login(admin)
    run(DEMO)
    blank = client.get(reverse("importers:template"))
    assert blank.status_code == 200 and blank.content.startswith(b"PK")
    table = GoalTable.objects.get(project__name="社会保障卡服务网点建设项目")
    exported = client.get(reverse("importers:export", args=[table.pk]))
    document = read_workbook(exported.content)
    assert document.tables[0].project == "社会保障卡服务网点建设项目"
    stranger = UserFactory()
    client.force_login(stranger)
    assert client.get(reverse("importers:export", args=[table.pk])).status_code == 404


def test_an_edited_excel_export_updates_the_table(tmp_path):
    """Export a table, swap two weights and change a target in Excel, import the file: the same update rules apply."""
    import openpyxl

    run(DEMO)
    table = GoalTable.objects.get(project__name="社会保障卡服务网点建设项目")
    workbook = openpyxl.load_workbook(__import__("io").BytesIO(
        write_workbook(service.document_from_tables(tables=[table]))))
    sheet = workbook.worksheets[0]
    for row in sheet.iter_rows():
        for cell in row:
            if cell.value == "新建即时制卡网点数":
                sheet.cell(row=cell.row, column=4, value=">=14个")
                sheet.cell(row=cell.row, column=7, value=15)
            if cell.value == "发放社会保障卡数量":
                sheet.cell(row=cell.row, column=7, value=20)
    path = tmp_path / "edited.xlsx"
    workbook.save(path)
    output = run(path)
    indicator = Indicator.objects.get(table=table, name="新建即时制卡网点数")
    assert (indicator.target_raw, indicator.target_value, indicator.weight) == (">=14个", Decimal("14"), Decimal("15"))
    assert Indicator.objects.get(table=table, name="发放社会保障卡数量").weight == Decimal("20")
    assert sum(table.indicators.values_list("weight", flat=True)) == 90
    assert "更新 2 个" in output


def test_the_upload_page_takes_the_excel_template(client, demo_unit):
    admin = UserFactory()
    membership_grant(user=admin, unit=demo_unit, role="admin")
    run(DEMO)
    table = GoalTable.objects.get(project__name="城乡居民养老保险待遇发放服务项目")
    client.force_login(admin)
    data = write_workbook(service.document_from_tables(tables=[table]))
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(reverse("importers:upload"), {"file": SimpleUploadedFile("目标表.xlsx", data)})
    job = read_in_worker(ImportJob.objects.get().pk)
    assert response.status_code == 302
    preview = client.get(reverse("importers:detail", args=[job.pk])).content.decode()
    assert "城乡居民养老保险待遇发放服务项目" in preview and "无变化" in preview


def test_confirming_re_checks_that_the_user_still_administers_the_unit(client, demo_unit, monkeypatch):
    """An administrator uploads, loses the role before confirming: the confirmation is refused in Chinese,
    nothing is queued, the job stays to be confirmed."""
    from budgets.models import UnitMembership

    admin = UserFactory()
    membership_grant(user=admin, unit=demo_unit, role="admin")
    membership_grant(user=admin, unit=UnitFactory(), role="admin")  # still an administrator elsewhere
    queued = []
    monkeypatch.setattr(import_job_run, "delay", lambda job_id: queued.append(job_id))
    job = ImportJobFactory(user=admin, data=DEMO.read_bytes(), filename=DEMO.name)
    # The role is withdrawn (the admin site deletes the membership row; there is no service for it).
    UnitMembership.objects.filter(user=admin, unit=demo_unit).delete()
    client.force_login(admin)
    response = client.post(reverse("importers:confirm", args=[job.pk]))
    assert response.status_code == 403
    assert "您不是“示范市社会保险服务中心”的单位管理员，不能导入该单位的绩效目标表。" in response.content.decode()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PREVIEW and queued == []
    with pytest.raises(service.ImportRefused):
        service.import_job_confirm(job=job)  # by default, the uploader is checked
    assert not GoalTable.objects.exists()


def test_the_preview_shows_targets_as_a_person_writes_them(client, demo_unit):
    admin = UserFactory()
    membership_grant(user=admin, unit=demo_unit, role="admin")
    client.force_login(admin)
    job = ImportJobFactory(user=admin, data=DEMO.read_bytes(), filename=DEMO.name)
    page = client.get(reverse("importers:detail", args=[job.pk])).content.decode()
    # ≥ as people write it, the published text one click away
    assert '<details class="target"><summary>≥2.8万件</summary><small>原文：&gt;=2.8万件</small></details>' in page
    assert "<td>&gt;=2.8万件</td>" not in page
